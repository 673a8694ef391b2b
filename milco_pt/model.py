"""The MILCO network, as the authors implemented it.

multilingual encoder ``m_model`` -> connector ``projector`` (Linear + GELU) -> the English
LSR model's MLM head ``mlm_head`` -> pivot view ``log1p(relu(max_t logits))`` over the
English (BERT wordpiece) vocabulary; and the LexEcho head ``echo`` on the encoder states
*before* the connector -> source view ``relu(echo(H_t)) * mask_t * scale`` per input token.
Parameter names equal the authors' so their released state dicts load as they are.
"""
from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import AutoConfig, AutoModel, PretrainedConfig

# Keys a released checkpoint may hold that inference does not use.
IGNORED_PREFIXES = ("en_lsr.", "m_model.pooler.", "loss_fn.")
IGNORED_SUFFIXES = ("position_ids", "token_type_ids")

# Largest number of MLM-head logits held at once (tokens x vocabulary); bounds memory.
LOGIT_BUDGET = 2 ** 26


@dataclasses.dataclass
class MilcoConfig:
    """The checkpoint's ``config.json``: the authors' keys plus the sub-model configs.

    ``m_model_config`` (the multilingual encoder's transformers config) and ``en_head_config``
    (hidden size, vocabulary, LayerNorm eps and activation of the English MLM head) are written
    by :meth:`MilcoModel.save_pretrained` so that a saved model loads with no download; released
    checkpoints lack them and they are resolved at load time (see :mod:`milco_pt.hub`).
    """
    multilingual_encoder_checkpoint: str = "BAAI/bge-m3-unsupervised"
    lsr_encoder_checkpoint: str = "naver/splade-v3"
    en_vocab_size: Optional[int] = None
    en_hidden_size: Optional[int] = None
    m_vocab_size: Optional[int] = None
    m_hidden_size: Optional[int] = None
    echo: bool = False
    m_model_config: Optional[dict] = None
    en_head_config: Optional[dict] = None
    extra: dict = dataclasses.field(default_factory=dict)

    @classmethod
    def from_dict(cls, d: dict) -> "MilcoConfig":
        names = {f.name for f in dataclasses.fields(cls)} - {"extra"}
        known = {k: v for k, v in d.items() if k in names}
        extra = {k: v for k, v in d.items() if k not in names}
        return cls(**known, extra=extra)

    @classmethod
    def from_json_file(cls, path) -> "MilcoConfig":
        with open(path, encoding="utf-8") as f:
            return cls.from_dict(json.load(f))

    def to_dict(self) -> dict:
        d = {**self.extra, "model_type": "milco", "architectures": ["MILCOModel"]}
        d.update({f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "extra"})
        return d

    def encoder_config(self) -> PretrainedConfig:
        if self.m_model_config is None:
            raise ValueError("m_model_config is not set; resolve it with milco_pt.hub first")
        d = dict(self.m_model_config)
        return AutoConfig.for_model(d.pop("model_type"), **d)


class MlmHead(nn.Module):
    """BERT's MLM head (``cls.predictions``): dense, activation, LayerNorm, decoder + bias."""

    def __init__(self, hidden_size: int, vocab_size: int, layer_norm_eps: float = 1e-12,
                 hidden_act: str = "gelu"):
        super().__init__()
        self.predictions = nn.Module()
        self.predictions.transform = nn.Module()
        self.predictions.transform.dense = nn.Linear(hidden_size, hidden_size)
        self.predictions.transform.LayerNorm = nn.LayerNorm(hidden_size, eps=layer_norm_eps)
        self.predictions.decoder = nn.Linear(hidden_size, vocab_size, bias=False)
        self.predictions.bias = nn.Parameter(torch.zeros(vocab_size))
        self.hidden_act = hidden_act

    def transform(self, z: torch.Tensor) -> torch.Tensor:
        t = self.predictions.transform
        return t.LayerNorm(_activation(self.hidden_act)(t.dense(z)))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.predictions.decoder(self.transform(z)) + self.predictions.bias


class MaxPooledDecoder(torch.autograd.Function):
    """``max_t(h_t @ W.T + b)`` per segment of packed token states, in chunks of at most
    :data:`LOGIT_BUDGET` logits. The backward pass routes each pooled coordinate's gradient to its
    argmax token only (what autograd through ``max`` does) without storing any logits, so training
    costs one decoder pass instead of three."""

    @staticmethod
    def forward(ctx, h, weight, bias, lengths: tuple, budget: int):
        vocab = weight.shape[0]
        step = max(1, budget // vocab)
        pooled = h.new_zeros(len(lengths), vocab)
        arg = torch.full((len(lengths), vocab), -1, dtype=torch.long, device=h.device)
        offsets = [0]
        for n in lengths:
            offsets.append(offsets[-1] + n)
        start = 0
        while start < len(lengths):
            stop, tokens = start, 0
            while stop < len(lengths) and (stop == start or tokens + lengths[stop] <= step):
                tokens += lengths[stop]
                stop += 1
            logits = h[offsets[start]:offsets[stop]] @ weight.T + bias
            for row in range(start, stop):
                if lengths[row]:
                    seg = logits[offsets[row] - offsets[start]:offsets[row + 1] - offsets[start]]
                    values, idx = seg.max(0)
                    pooled[row] = values
                    arg[row] = idx + offsets[row]
            start = stop
        ctx.save_for_backward(h, weight, arg)
        return pooled

    @staticmethod
    def backward(ctx, grad):
        h, weight, arg = ctx.saved_tensors
        rows, cols = torch.nonzero((grad != 0) & (arg >= 0), as_tuple=True)
        vals, toks = grad[rows, cols], arg[rows, cols]
        grad_h = grad_w = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_h = torch.zeros_like(h).index_add_(0, toks, vals[:, None].to(h.dtype) * weight[cols].to(h.dtype))
        if ctx.needs_input_grad[1]:
            grad_w = torch.zeros_like(weight).index_add_(0, cols, vals[:, None].to(weight.dtype) * h[toks].to(weight.dtype))
        if ctx.needs_input_grad[2]:
            grad_b = torch.zeros(weight.shape[0], dtype=grad.dtype, device=grad.device).index_add_(0, cols, vals)
        return grad_h, grad_w, grad_b, None, None


def _activation(name: str):
    if name in ("gelu", "gelu_python"):
        return F.gelu
    if name in ("gelu_new", "gelu_pytorch_tanh", "gelu_fast"):
        return lambda x: F.gelu(x, approximate="tanh")
    if name == "relu":
        return F.relu
    raise ValueError(f"unsupported MLM head activation {name!r}")


class MilcoModel(nn.Module):
    """The MILCO encoder: produces the pivot view and (with LexEcho) the source view."""

    def __init__(self, config: MilcoConfig):
        super().__init__()
        self.config = config
        enc_cfg = config.encoder_config()
        head = config.en_head_config or {}
        m_hidden = enc_cfg.hidden_size
        en_hidden = head.get("hidden_size", config.en_hidden_size)
        en_vocab = head.get("vocab_size", config.en_vocab_size)
        config.m_hidden_size, config.m_vocab_size = m_hidden, enc_cfg.vocab_size
        config.en_hidden_size, config.en_vocab_size = en_hidden, en_vocab
        self.m_model = AutoModel.from_config(enc_cfg, add_pooling_layer=False)
        self.projector = nn.Linear(m_hidden, en_hidden)
        self.mlm_head = MlmHead(en_hidden, en_vocab, head.get("layer_norm_eps", 1e-12),
                                head.get("hidden_act", "gelu"))
        if config.echo:
            self.echo = nn.Linear(m_hidden, 1)
            self.scale = nn.Parameter(torch.tensor([1.0]))

    # -- forward pieces --------------------------------------------------------------

    def hidden_states(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """``H``: the multilingual encoder's last hidden states (batch x tokens x m_hidden)."""
        return self.m_model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    def pooled_logits(self, hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """``max_t(head(GELU(projector(H_t))) * mask_t)``: the raw max-pooled logits.

        Equal to the authors' masked max (a padded position contributes 0), but the head
        runs on real tokens only, in chunks of at most :data:`LOGIT_BUDGET` logits.
        """
        mask = attention_mask.bool()
        lengths = mask.sum(1).tolist()
        z = self.mlm_head.transform(F.gelu(self.projector(hidden[mask])))
        pred = self.mlm_head.predictions
        pooled = MaxPooledDecoder.apply(z, pred.decoder.weight, pred.bias, tuple(lengths), LOGIT_BUDGET)
        padded = torch.tensor([n < mask.shape[1] for n in lengths], device=pooled.device)
        return torch.where(padded[:, None], pooled.clamp_min(0), pooled)

    def pivot(self, hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Pivot view: ``log1p(relu(max-pooled logits))`` over the English vocabulary."""
        return torch.log1p(torch.relu(self.pooled_logits(hidden, attention_mask)))

    def source_weights(self, hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """LexEcho: ``relu(echo(H_t)) * mask_t * scale``, one weight per input position."""
        if not self.config.echo:
            raise ValueError("this checkpoint has no LexEcho head (config.echo is false)")
        w = torch.relu(self.echo(hidden).squeeze(-1))
        return w * attention_mask.to(w.dtype) * self.scale

    def encode(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, pivot: bool = True,
               source: bool = True):
        """Both views of a batch: ``(pivot or None, source weights or None)``.

        The source view is returned per position; :func:`milco_pt.views` sum-pools it per
        XLM-R token id, as the authors' sparse coalescing does.
        """
        hidden = self.hidden_states(input_ids, attention_mask)
        p = self.pivot(hidden, attention_mask) if pivot else None
        s = self.source_weights(hidden, attention_mask) if source and self.config.echo else None
        return p, s

    # -- construction ----------------------------------------------------------------

    @classmethod
    def random(cls, config: MilcoConfig, seed: int = 0) -> "MilcoModel":
        """A randomly initialised model of the given shapes: no download (tests, tools)."""
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            model = cls(config)
            for name, p in model.named_parameters():
                if name.endswith("LayerNorm.weight") or name == "scale":
                    nn.init.ones_(p)
                elif name.endswith("LayerNorm.bias"):
                    nn.init.zeros_(p)
                else:
                    nn.init.normal_(p, std=0.02)
            if config.echo:
                nn.init.normal_(model.echo.weight, std=1.0 / math.sqrt(config.m_hidden_size))
            model.mlm_head.predictions.bias.data.normal_(0.0, 1.0 / math.sqrt(config.en_hidden_size))
        return model.eval()

    def load_checkpoint_state(self, state: dict[str, torch.Tensor]) -> list[str]:
        """Load a checkpoint's tensors strictly; returns the ignored (unused) keys."""
        state = dict(state)
        if "mlm_head.predictions.bias" not in state and "mlm_head.predictions.decoder.bias" in state:
            state["mlm_head.predictions.bias"] = state["mlm_head.predictions.decoder.bias"]
        state.pop("mlm_head.predictions.decoder.bias", None)
        ignored = [k for k in state if k.startswith(IGNORED_PREFIXES) or k.endswith(IGNORED_SUFFIXES)]
        for k in ignored:
            state.pop(k)
        own = self.state_dict()
        missing = sorted(set(own) - set(state))
        unexpected = sorted(set(state) - set(own))
        if missing or unexpected:
            raise ValueError(
                "checkpoint does not match the MILCO architecture: "
                f"missing {missing[:8]}{'...' if len(missing) > 8 else ''}, "
                f"unexpected {unexpected[:8]}{'...' if len(unexpected) > 8 else ''}. "
                "Check config.json (echo, sizes) against the weights file.")
        for k, v in state.items():
            if own[k].shape != v.shape:
                raise ValueError(f"checkpoint tensor {k} has shape {tuple(v.shape)}, "
                                 f"the config implies {tuple(own[k].shape)}")
        self.load_state_dict({k: v.to(own[k].dtype) for k, v in state.items()})
        return ignored

    def checkpoint_state(self) -> dict[str, torch.Tensor]:
        """State dict in the authors' layout (decoder bias stored under both tied names)."""
        state = {k: v.detach().contiguous() for k, v in self.state_dict().items()}
        state["mlm_head.predictions.decoder.bias"] = state["mlm_head.predictions.bias"].clone()
        return state

    def save_pretrained(self, folder, safe_serialization: bool = True) -> Path:
        """Write ``config.json`` and the weights (safetensors, or the authors' ``.bin``)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / "config.json", "w", encoding="utf-8") as f:
            json.dump(self.config.to_dict(), f, indent=2, ensure_ascii=False)
        state = self.checkpoint_state()
        if safe_serialization:
            from safetensors.torch import save_file
            save_file(state, str(folder / "model.safetensors"), metadata={"format": "pt"})
        else:
            torch.save(state, folder / "pytorch_model.bin")
        return folder

    @classmethod
    def from_pretrained(cls, name_or_path: str, revision: Optional[str] = None,
                        local_files_only: bool = False, **kw: Any) -> "MilcoModel":
        """Load a checkpoint folder or hub id (no remote code); see :func:`milco_pt.hub.load_model`."""
        from .hub import load_model
        return load_model(name_or_path, revision=revision, local_files_only=local_files_only, **kw)
