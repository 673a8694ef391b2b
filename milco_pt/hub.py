"""Loading MILCO checkpoints and their tokenizers without remote code.

A checkpoint is a folder (or a hub id resolved to one) with ``config.json`` and the
weights (``model.safetensors`` or the authors' ``pytorch_model.bin``, possibly sharded).
Released checkpoints do not carry the configs of their sub-models nor, always, the
tokenizers: the encoder config is read from the Hugging Face cache when present, else
inferred from the weights (XLM-RoBERTa, as every released MILCO uses); tokenizers come from
the folder when present, else from the ids its config names. Anything that cannot be found
offline is reported in one error that lists exactly what to download.
"""
from __future__ import annotations

import json
import logging
import warnings
from pathlib import Path
from typing import Optional

import torch

from .model import MilcoConfig, MilcoModel

log = logging.getLogger(__name__)

WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json",
                "pytorch_model.bin", "pytorch_model.bin.index.json")
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                   "sentencepiece.bpe.model")
EN_VOCAB_FILES = ("en_tokenizer/vocab.txt", "en_tokenizer/tokenizer.json", "en_vocab.txt")


class MissingFilesError(OSError):
    """Files a checkpoint needs are neither local nor downloadable (offline, gated, absent)."""


def is_offline(local_files_only: bool = False) -> bool:
    """``local_files_only``, or the hub's own offline mode (``HF_HUB_OFFLINE`` / ``TRANSFORMERS_OFFLINE``
    read as huggingface_hub reads them, so ``=0`` means online)."""
    from huggingface_hub import is_offline_mode
    return local_files_only or is_offline_mode()


def resolve_checkpoint(name_or_path: str, revision: Optional[str] = None,
                       local_files_only: bool = False, extra_files: tuple = (),
                       kind: str = "MILCO checkpoint") -> Path:
    """A local folder holding the checkpoint: the path itself, or the hub snapshot.

    ``extra_files``: further file patterns to fetch (e.g. BGE-M3's ``sparse_linear.pt``).
    """
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        if not (path / "config.json").exists():
            raise FileNotFoundError(f"{path} has no config.json: not a {kind} folder")
        return path
    if path.exists() or str(name_or_path).startswith((".", "/", "~")) or name_or_path.count("/") != 1:
        raise FileNotFoundError(f"no checkpoint folder at {name_or_path!r} (and it is not a hub id "
                                "of the form owner/name)")
    from huggingface_hub import snapshot_download
    patterns = ["config.json", *WEIGHT_FILES, "*.safetensors", *TOKENIZER_FILES, "en_tokenizer/*",
                *extra_files]
    if not is_offline(local_files_only):
        try:
            from huggingface_hub import list_repo_files
            files = set(list_repo_files(name_or_path, revision=revision))
            # fetch one weights format only: safetensors when the repo has it
            if any(f.endswith(".safetensors") for f in files):
                patterns = [p for p in patterns if "pytorch_model" not in p]
            else:
                patterns = [p for p in patterns if "safetensors" not in p]
        except Exception as e:  # network down: fall back to the cache below
            log.info("could not list %s on the hub (%s); trying the local cache", name_or_path, e)
            local_files_only = True
    try:
        folder = Path(snapshot_download(name_or_path, revision=revision, allow_patterns=patterns,
                                        local_files_only=is_offline(local_files_only)))
    except Exception as e:
        raise MissingFilesError(
            f"{kind} {name_or_path!r}{f' @ {revision}' if revision else ''} is neither in "
            f"the local Hugging Face cache nor downloadable here ({type(e).__name__}: {e}).\n"
            f"On a machine with internet run:\n  hf download {name_or_path}"
            f"{f' --revision {revision}' if revision else ''} --include config.json "
            "'*.safetensors' pytorch_model.bin 'tokenizer*' sentencepiece.bpe.model "
            f"{' '.join(extra_files)}\n"
            "then copy the Hugging Face cache over, or pass the downloaded folder's path.") from e
    if not (folder / "config.json").exists():
        raise MissingFilesError(f"{name_or_path!r} has no config.json on the hub")
    return folder


def load_state(folder: Path) -> dict[str, torch.Tensor]:
    """All tensors of a checkpoint folder (single file or sharded, safetensors or .bin)."""
    folder = Path(folder)
    for name in WEIGHT_FILES:
        f = folder / name
        if not f.exists():
            continue
        if name.endswith(".index.json"):
            with open(f, encoding="utf-8") as fh:
                shards = sorted(set(json.load(fh)["weight_map"].values()))
            state = {}
            for shard in shards:
                state.update(_load_file(folder / shard))
            return state
        return _load_file(f)
    raise FileNotFoundError(f"{folder} holds none of the weight files {', '.join(WEIGHT_FILES)}")


def _load_file(f: Path) -> dict[str, torch.Tensor]:
    try:
        if f.suffix == ".safetensors":
            from safetensors.torch import load_file
            return load_file(str(f))
        return torch.load(f, map_location="cpu", weights_only=True)
    except Exception as e:
        raise ValueError(f"the weights file {f} cannot be read ({str(e).splitlines()[0] if str(e) else type(e).__name__}): "
                         "it is truncated or damaged; download or save the checkpoint again") from e


def read_config(folder: Path) -> MilcoConfig:
    """``config.json`` of a checkpoint folder; a malformed file is an error naming it."""
    path = Path(folder) / "config.json"
    try:
        return MilcoConfig.from_json_file(path)
    except (json.JSONDecodeError, UnicodeDecodeError, OSError) as e:
        if isinstance(e, FileNotFoundError):
            raise
        raise ValueError(f"{path} is not a valid JSON config ({e}); download or save the checkpoint again") from e


def _cached_config(name: Optional[str]):
    """The transformers config of a sub-model, only when already local (never downloads)."""
    if not name:
        return None
    try:
        from transformers import AutoConfig
        return AutoConfig.from_pretrained(name, local_files_only=True)
    except Exception:
        return None


def infer_encoder_config(state: dict[str, torch.Tensor], config: MilcoConfig) -> dict:
    """An XLM-RoBERTa config read off the encoder's tensor shapes.

    Heads are hidden/64 and LayerNorm eps 1e-5, as in every XLM-R (and BGE-M3) model.
    """
    name = (config.multilingual_encoder_checkpoint or "").lower()
    words = state["m_model.embeddings.word_embeddings.weight"]
    if words.shape[0] != 250002 and not any(k in name for k in ("xlm", "bge-m3", "roberta")):
        raise ValueError(
            f"cannot tell the architecture of the multilingual encoder {config.multilingual_encoder_checkpoint!r} "
            "from its weights; add its transformers config to config.json as 'm_model_config' "
            "or make it available in the Hugging Face cache")
    layers = {int(k.split(".")[3]) for k in state if k.startswith("m_model.encoder.layer.")}
    hidden = words.shape[1]
    return {
        "model_type": "xlm-roberta",
        "vocab_size": words.shape[0],
        "hidden_size": hidden,
        "num_hidden_layers": max(layers) + 1,
        "num_attention_heads": max(1, hidden // 64),
        "intermediate_size": state["m_model.encoder.layer.0.intermediate.dense.weight"].shape[0],
        "max_position_embeddings": state["m_model.embeddings.position_embeddings.weight"].shape[0],
        "type_vocab_size": state["m_model.embeddings.token_type_embeddings.weight"].shape[0],
        "layer_norm_eps": 1e-5, "hidden_act": "gelu", "pad_token_id": 1,
        "bos_token_id": 0, "eos_token_id": 2,
    }


def resolve_sub_configs(config: MilcoConfig, state: dict[str, torch.Tensor]) -> MilcoConfig:
    """Fill ``m_model_config`` and ``en_head_config`` when the checkpoint lacks them."""
    if config.m_model_config is None:
        cached = _cached_config(config.multilingual_encoder_checkpoint)
        config.m_model_config = cached.to_dict() if cached is not None else infer_encoder_config(state, config)
    if config.en_head_config is None:
        cached = _cached_config(config.lsr_encoder_checkpoint)
        dec = state["mlm_head.predictions.decoder.weight"]
        config.en_head_config = {
            "hidden_size": dec.shape[1], "vocab_size": dec.shape[0],
            "layer_norm_eps": getattr(cached, "layer_norm_eps", 1e-12),
            "hidden_act": getattr(cached, "hidden_act", "gelu"),
        }
    for key in ("transformers_version", "_name_or_path", "architectures", "dtype", "torch_dtype"):
        config.m_model_config.pop(key, None)
    config.echo = bool(config.echo) or "echo.weight" in state
    return config


def load_model(name_or_path: str, revision: Optional[str] = None, local_files_only: bool = False,
               device: Optional[str] = None) -> MilcoModel:
    """Load a MILCO checkpoint (folder or hub id) into :class:`MilcoModel`, in eval mode."""
    folder = resolve_checkpoint(name_or_path, revision, local_files_only)
    config = read_config(folder)
    state = load_state(folder)
    resolve_sub_configs(config, state)
    model = MilcoModel(config)
    ignored = model.load_checkpoint_state(state)
    if ignored:
        log.info("ignored %d checkpoint tensors not used at inference (e.g. %s)", len(ignored), ignored[0])
    model.folder = folder
    return model.to(device or "cpu").eval()


# -- encoding options saved with a model ------------------------------------------------

OPTIONS_FILE = "milco_pt.json"
SAVED_OPTIONS = ("query_max_length", "doc_max_length", "lowercase", "drop_special", "views", "query_top_k")


def read_options(folder: Path) -> dict:
    """The encoding options saved with a model (``{}`` for a checkpoint saved without them)."""
    path = Path(folder) / OPTIONS_FILE
    if not path.exists():
        return {}
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise ValueError(f"{path} is not valid JSON ({e}); save the model again") from e
    return {k: tuple(v) if k == "views" else v for k, v in saved.get("options", {}).items() if k in SAVED_OPTIONS}


def write_options(folder: Path, options: dict) -> None:
    saved = {k: list(v) if k == "views" else v for k, v in options.items() if k in SAVED_OPTIONS}
    (Path(folder) / OPTIONS_FILE).write_text(json.dumps({"options": saved}, indent=1) + "\n", encoding="utf-8")


def with_saved_options(name: str, saved: dict, kwargs: dict) -> dict:
    """``kwargs`` over the saved options; a warning for each saved option the caller changes, since
    the vectors then differ from the saved model's."""
    for k, v in kwargs.items():
        if k in saved and _canonical(k, v) != _canonical(k, saved[k]):
            warnings.warn(f"{name} was saved with {k}={saved[k]!r}; encoding with {k}={v!r} as asked gives "
                          "other vectors than the saved model's", UserWarning, stacklevel=3)
    return {**saved, **kwargs}


def _canonical(key: str, value):
    return tuple([value] if isinstance(value, str) else value) if key == "views" else value


# -- tokenizers -----------------------------------------------------------------------

def read_vocab(path: Path) -> list[str]:
    """An id-ordered token list from a ``vocab.txt`` or a WordPiece ``tokenizer.json``."""
    path = Path(path)
    if path.is_dir():
        for name in ("vocab.txt", "tokenizer.json"):
            if (path / name).exists():
                return read_vocab(path / name)
        raise FileNotFoundError(f"{path} has neither vocab.txt nor tokenizer.json")
    if path.suffix == ".json":
        with open(path, encoding="utf-8") as f:
            vocab = json.load(f)["model"]["vocab"]
        out = [""] * len(vocab)
        for tok, i in vocab.items():
            out[i] = tok
        return out
    with open(path, encoding="utf-8") as f:
        return [line.rstrip("\n") for line in f]


def load_tokenizers(folder: Path, config: MilcoConfig, m_tokenizer=None, en_vocab=None,
                    local_files_only: bool = False):
    """``(multilingual tokenizer, English vocabulary list)`` for a checkpoint.

    Looked for in order: the arguments, the checkpoint folder, then the ids in its config
    (``multilingual_encoder_checkpoint``, ``lsr_encoder_checkpoint``) locally or on the hub.
    """
    folder = Path(folder)
    missing = []
    tok = m_tokenizer
    if tok is None or isinstance(tok, (str, Path)):
        src = tok or (folder if any((folder / f).exists() for f in TOKENIZER_FILES)
                      else config.multilingual_encoder_checkpoint)
        try:
            tok = load_tokenizer(str(src), is_offline(local_files_only))
        except Exception as e:
            missing.append(f"multilingual tokenizer {str(src)!r} ({type(e).__name__}): "
                           f"hf download {src} tokenizer.json tokenizer_config.json "
                           "special_tokens_map.json sentencepiece.bpe.model")
    vocab = en_vocab
    if vocab is None or isinstance(vocab, (str, Path)):
        local = [folder / f for f in EN_VOCAB_FILES if (folder / f).exists()]
        src = vocab or (local[0] if local else None)
        try:
            if src is None:
                src = config.lsr_encoder_checkpoint
                src = src if Path(src).is_dir() else _hub_file(src, "vocab.txt", local_files_only)
            vocab = read_vocab(src)
        except Exception as e:
            missing.append(f"English vocabulary {str(src)!r} ({type(e).__name__}): hf download "
                           f"{config.lsr_encoder_checkpoint} vocab.txt (naver/splade-v3 is gated: "
                           "accept its licence on the hub and log in first)")
    if missing:
        raise MissingFilesError(
            "MILCO needs files that are not available here:\n  - " + "\n  - ".join(missing) +
            "\nDownload them where there is internet and copy the Hugging Face cache over, or pass "
            "local paths: Milco.from_pretrained(..., m_tokenizer=PATH, en_vocab=PATH_TO_vocab.txt).")
    if config.en_vocab_size is not None and len(vocab) != config.en_vocab_size:
        raise ValueError(f"English vocabulary has {len(vocab)} entries but the MLM head has "
                         f"{config.en_vocab_size}: wrong vocab file")
    if config.m_vocab_size is not None and len(tok) > config.m_vocab_size:
        raise ValueError(f"multilingual tokenizer has {len(tok)} pieces but the encoder embeds only "
                         f"{config.m_vocab_size}: wrong tokenizer")
    return tok, list(vocab)


def load_tokenizer(src: str, local_files_only: bool):
    """The tokenizer class named in ``tokenizer_config.json`` (avoids reading MILCO's config.json)."""
    import transformers
    cfg = Path(src) / "tokenizer_config.json"
    if cfg.exists():
        with open(cfg, encoding="utf-8") as f:
            name = json.load(f).get("tokenizer_class")
        cls = getattr(transformers, name or "", None)
        if cls is not None:
            return cls.from_pretrained(src, local_files_only=local_files_only)
    elif (Path(src) / "tokenizer.json").exists():  # a bare tokenizer.json: XLM-R's special tokens
        return transformers.XLMRobertaTokenizerFast(tokenizer_file=str(Path(src) / "tokenizer.json"))
    return transformers.AutoTokenizer.from_pretrained(src, local_files_only=local_files_only)


def _hub_file(repo: str, filename: str, local_files_only: bool) -> str:
    from huggingface_hub import hf_hub_download
    return hf_hub_download(repo, filename, local_files_only=is_offline(local_files_only))


def save_tokenizers(folder: Path, m_tokenizer, en_vocab: list[str]) -> None:
    """Store both tokenizers beside the weights so the folder loads with no download."""
    folder = Path(folder)
    m_tokenizer.save_pretrained(str(folder))
    (folder / "en_tokenizer").mkdir(exist_ok=True)
    with open(folder / "en_tokenizer" / "vocab.txt", "w", encoding="utf-8") as f:
        f.writelines(t + "\n" for t in en_vocab)
