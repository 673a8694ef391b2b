"""Prebuilt document vectors of the shipped DDTP English test corpus (2,708 documents, the corpus of
every X->en task of ``milco-pt demo``) by the two shipped models, milco-mini and e5-small-q4, as
pyserini ships prebuilt indexes: encoding those documents twice was most of the demo's first run on
CPU. They are the vectors :class:`milco_pt.run.models.Model` computes (CPU, fp32), stored exactly
(float32 weights, as the encoders return them).

They are used only where everything that fixes the vectors matches, checked by digest when the
model is loaded (:func:`attach`): the model's weights (a digest of the loaded tensors), its
tokenizer (and milco-mini's English wordpieces), its encoding settings (lengths, case, views,
precision), the device type (CPU) and, per document, the text (a digest of it). Anything else is
encoded as before, and so is any text missing from the file. ``tests/test_demo_speed.py``
re-encodes a sample of the documents and compares (the batching of the original encoding changes
weights by float rounding only). ``milco-pt demo`` uses them unless told not to
(``run(prebuilt=False)``); rebuild the files with ``python -m milco_pt.run.prebuilt --work DIR``
after a change to a shipped model or to the encoders.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Optional

import numpy as np

DATA = Path(__file__).parent.parent / "mini" / "data"  # package data, beside milco-mini's delta
CORPUS = "ddtp/en-en/test"


def path(kind: str) -> Path:
    return DATA / f"prebuilt-{kind}-ddtp-en-test.npz"


def text_key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:20]


def _tokenizer_digest(tok) -> str:
    """A digest of a fast tokenizer's definition (normalizer, pre-tokenizer, model and vocabulary),
    leaving out the truncation and padding state that calls change."""
    spec = json.loads(tok.backend_tokenizer.to_str())
    spec.pop("truncation", None)
    spec.pop("padding", None)
    return hashlib.sha1(json.dumps(spec, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()[:16]


def identity(model) -> dict:
    """What fixes the document vectors of a run-layer :class:`~milco_pt.run.models.Model` (loads it):
    kind, device type, the loaded weights' and tokenizer's digests, the encoding settings."""
    from .models import NEUTRAL, _device
    from .work import tensors_digest
    m = model.load()
    out = {"kind": model.kind, "device": _device(), "weights": tensors_digest(m.model),
           "settings": json.loads(json.dumps({k: v for k, v in m._kwargs.items() if k not in NEUTRAL}, default=str)),
           "columns": model.doc_columns()}
    if model.kind.startswith("milco"):
        out["tokenizer"] = _tokenizer_digest(m.encoder.m_tokenizer)
        out["en_vocab"] = hashlib.sha1("\n".join(m.encoder.pivot_names.tolist()).encode("utf-8")).hexdigest()[:16]
    else:
        out["tokenizer"] = _tokenizer_digest(m.tokenizer)
    return out


# -- the file: per text, the vectors of each stored column -------------------------------------------

def save(model, texts: list[str], records: list[dict], out: Optional[Path] = None) -> Path:
    """Write ``records`` (``Model.encode_fn`` output, one per text) of ``model`` to its prebuilt file."""
    keys = [text_key(t) for t in texts]
    meta = {"identity": identity(model), "keys": keys, "corpus": CORPUS}
    arrays = {}
    if model.kind.startswith("milco"):
        from ..milco import DOC_COLUMNS
        m = model.load()
        views = [DOC_COLUMNS[v] for v in m.views]
        vocab = {"toks": m.encoder.pivot_names.tolist(), "src_toks": m.encoder.source_names.tolist()}
        for col in views:
            rank: dict[str, int] = {}
            for i, name in enumerate(vocab[col]):
                rank.setdefault(name, i)
            used = sorted({t for rec in records for t in rec[col]}, key=lambda t: (rank.get(t, len(rank)), t))
            position = {t: i for i, t in enumerate(used)}
            lengths, ids, weights = [], [], []
            for rec in records:
                vec = rec[col]
                lengths.append(len(vec))
                row = [position[t] for t in vec]  # ascending where the dict is in vocabulary order
                ids += [a - b for a, b in zip(row, [0] + row[:-1])]
                weights += list(vec.values())
            arrays[f"{col}.indptr"] = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
            arrays[f"{col}.ids"] = np.asarray(ids, dtype=np.int32)  # differences within a document
            w = np.asarray(weights, dtype=np.float32)
            assert np.array_equal(w.astype(np.float64), np.asarray(weights)), \
                "weights must be float32 values (as the encoders return them)"
            arrays[f"{col}.weights"] = _planes(w)
            arrays[f"{col}.names"] = _strings(used)
        meta["views"] = views
    else:
        column = model.load().doc_column
        vecs = np.asarray([rec[column] for rec in records], dtype=np.float32)
        assert np.array_equal(vecs.astype(np.float64), np.asarray([rec[column] for rec in records])), \
            "vectors must be float32 values"
        arrays["vectors"] = _planes(vecs.reshape(-1))
        meta["column"], meta["dim"] = column, int(vecs.shape[1])
    arrays["meta"] = _strings(meta)
    out = Path(out or path(model.kind))
    np.savez_compressed(out, **arrays)
    return out


def _planes(w: np.ndarray) -> np.ndarray:
    """float32 values as their four byte planes (the exponent bytes then compress well)."""
    return np.ascontiguousarray(w.astype("<f4").view(np.uint8).reshape(-1, 4).T)


def _unplanes(planes: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(planes.T).view("<f4").reshape(-1)


def _strings(names: list[str]) -> np.ndarray:
    return np.frombuffer(json.dumps(names, ensure_ascii=False).encode("utf-8"), dtype=np.uint8)


def _unstrings(raw: np.ndarray) -> list[str]:
    return json.loads(raw.tobytes().decode("utf-8"))


def load(kind: str, file: Optional[Path] = None) -> Optional[tuple[dict, dict]]:
    """``(identity, {text key: record})`` of ``kind``'s prebuilt file, or ``None`` where there is none."""
    file = Path(file or path(kind))
    if not file.exists():
        return None
    from ..views import combine
    with np.load(file) as data:
        meta = _unstrings(data["meta"])
        records = [{} for _ in meta["keys"]]
        if "views" in meta:
            for col in meta["views"]:
                names = np.array(_unstrings(data[f"{col}.names"]), dtype=object)
                indptr, deltas = data[f"{col}.indptr"], data[f"{col}.ids"].astype(np.int64)
                weights = _unplanes(data[f"{col}.weights"]).tolist()
                for i, rec in enumerate(records):
                    a, b = int(indptr[i]), int(indptr[i + 1])
                    rec[col] = dict(zip(names[np.cumsum(deltas[a:b])].tolist(), weights[a:b]))
            if "combined" in meta["identity"]["columns"]:
                for rec in records:
                    rec["combined"] = combine(rec.get("toks"), rec.get("src_toks"))
        else:
            for rec, vec in zip(records, _unplanes(data["vectors"]).reshape(-1, meta["dim"])):
                rec[meta["column"]] = vec.tolist()
    return meta["identity"], dict(zip(meta["keys"], records))


def attach(model, file: Optional[Path] = None) -> bool:
    """Give ``model`` (a run-layer :class:`~milco_pt.run.models.Model`) the prebuilt vectors of its
    kind if its identity (weights, tokenizer, settings, device) is the one they were made with;
    then its ``encode_fn`` takes a text's vectors from them instead of encoding it. Loads the model."""
    stored = load(model.kind, file)
    if stored is None:
        return False
    ident, records = stored
    if identity(model) != ident:
        return False
    model.prebuilt = records
    return True


def main(argv=None):
    """Rebuild the prebuilt files from the run layer's encodings of the corpus (encoding it where
    the work folder has no encoding yet)."""
    import argparse
    from ..datasets import get
    from .demo import demo_models
    from .pipeline import Corpus, Encoding
    from .work import Work
    p = argparse.ArgumentParser(description=main.__doc__)
    p.add_argument("--work", default=None, help="the work folder holding (or to hold) the encodings")
    p.add_argument("--kinds", default="milco-mini,e5")
    p.add_argument("--out", default=None, help="folder for the files (default: the package's data folder)")
    args = p.parse_args(argv)
    work = Work(args.work)
    ds = get(CORPUS)
    corpus = Corpus(ds, CORPUS, "en")
    texts = [d.get("text", "") for d in ds.get_corpus_iter()]
    models = demo_models()
    for kind in args.kinds.split(","):
        enc = Encoding(models[kind], corpus)
        records = list(enc.records(work))
        if len(records) != len(texts):
            raise RuntimeError(f"{len(records)} records for {len(texts)} documents")
        out = Path(args.out) / path(kind).name if args.out else None
        print(f"{kind}: wrote {save(models[kind], texts, records, out)}")


if __name__ == "__main__":
    main()
