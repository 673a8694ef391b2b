"""The forward store of a sparse index: each document's vector as indexed, for exact re-scoring
(:class:`milco_pt.fusion.DualViewFusion` scores a candidate one view missed from it).

Three files beside the engine's own: ``forward.jsonl`` (one JSON vector a line, in indexing order),
``forward.offsets.npy`` (each line's byte offset) and ``docnos.json``. Vectors are stored in the
index's weight space: integers ``round(weight * scale)`` for the quantized engines (Anserini, PISA),
floats for Seismic; :meth:`ForwardIndex.query_vector` maps a query into the same space.
"""
from __future__ import annotations

import json
import shutil
from itertools import compress
from pathlib import Path
from typing import Iterable, Iterator, Optional

import numpy as np

from .base import StagedIndex, StagedIndexer, folder_bytes, read_records
from .checks import INT_MAX, check_integer_weights, weights

FORWARD, OFFSETS, DOCNOS = "forward.jsonl", "forward.offsets.npy", "docnos.json"
DEFAULT_SCALE = 100


def quantize(vec: dict, scale: float, where: str = "a vector", max_total: int = INT_MAX) -> dict:
    """``{term: round(weight * scale)}`` without the terms that round to 0 (Python's rounding, half
    to even, in float64; vectorised). The weights must obey :mod:`.checks`' rule (finite, ``>= 0``,
    integers up to ``2**31 - 1``, summing to at most ``max_total``): else an error naming ``where``."""
    if not vec:
        return {}
    q = np.rint(weights(vec, where) * float(scale))
    check_integer_weights(vec, q, scale, where, max_total)
    keep = q > 0
    return dict(zip(compress(vec, keep.tolist()), q[keep].astype(np.int64).tolist()))


def positive(vec: dict, where: str = "a vector", max_weight: Optional[float] = None) -> dict:
    """``vec`` without its terms of weight 0 (what a float index stores and searches); weights
    checked by :mod:`.checks`' rule (finite, ``>= 0``, at most ``max_weight``)."""
    w = weights(vec, where, max_weight)
    return {t: x for t, x in zip(vec, w.tolist()) if x > 0}


class ForwardWriter:
    """``add(docno, vec)`` per document in indexing order, inside ``with ForwardWriter(folder):``.
    Streams all three files (offsets as raw int64 until the end, when the ``.npy`` header is put
    in front), so its memory does not grow with the corpus; the docno list is written as
    ``json.dump`` would write it."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.count = 0

    def __enter__(self) -> "ForwardWriter":
        self.file = open(self.folder / FORWARD, "wb")
        self.raw_offsets = open(self.folder / (OFFSETS + ".raw"), "wb")
        self.docnos = open(self.folder / DOCNOS, "w", encoding="utf-8")
        self.docnos.write("[")
        return self

    def add(self, docno: str, vec: dict):
        self.raw_offsets.write(np.int64(self.file.tell()).tobytes())
        self.docnos.write((", " if self.count else "") + json.dumps(docno, ensure_ascii=False))
        self.count += 1
        self.file.write(json.dumps(vec, ensure_ascii=False).encode("utf-8") + b"\n")

    def __exit__(self, *exc):
        self.docnos.write("]")
        for f in (self.file, self.raw_offsets, self.docnos):
            f.close()
        raw = self.folder / (OFFSETS + ".raw")
        if exc[0] is None:
            header = np.lib.format.header_data_from_array_1_0(np.zeros(0, dtype="<i8"))
            header["shape"] = (self.count,)
            with open(self.folder / OFFSETS, "wb") as out, open(raw, "rb") as src:
                np.lib.format.write_array_header_1_0(out, header)
                shutil.copyfileobj(src, out, 1 << 20)
        raw.unlink()


class _NoStore:
    """The forward store of an index built without one."""

    def __enter__(self):
        return self

    def add(self, docno: str, vec: dict):
        pass

    def __exit__(self, *exc):
        pass


class ForwardIndex(StagedIndex):
    """A staged index of one toks column that keeps a forward store; ``scale`` is ``None`` for
    float weights, else the quantization factor of both documents and queries."""

    scale: Optional[float] = None
    #: the largest float weight the engine stores (float indexes only)
    max_weight: Optional[float] = None
    CACHES = ("_lookup", "_offsets")
    #: whether the engine's scores are the exact dot products of the stored vectors (else a fusion
    #: rescores every candidate from the store)
    exact_scores = True
    #: whether the engine needs a non-empty vector in the corpus (PISA aborts, Seismic panics)
    needs_a_term = False

    def query_vector(self, vec: dict, where: str = "a query") -> dict:
        """A query vector in the weight space of the stored vectors (``where`` names it in errors)."""
        if self.scale is None:
            return positive(vec, where, self.max_weight)
        return quantize(vec, self.scale, where)

    def doc_vector(self, vec: dict, where: str = "a document") -> dict:
        """A document vector as indexed and stored."""
        return self.query_vector(vec, where)

    @property
    def score_unit(self) -> float:
        """What a stored-space dot product is divided by to be a float dot product (``scale ** 2``)."""
        return 1.0 if self.scale is None else float(self.scale) ** 2

    def vectors(self, docnos: Iterable[str]) -> list[dict]:
        """The stored vectors of the given documents (for exact re-scoring)."""
        docnos = list(docnos)
        found = dict(self.iter_vectors(docnos))
        return [found[d] for d in docnos]

    def iter_vectors(self, docnos: Iterable[str]) -> Iterator[tuple[str, dict]]:
        """``(docno, vector)`` of each distinct given document, read once each in file order, so
        that scoring many queries' missing candidates holds one vector at a time."""
        if not hasattr(self, "_lookup"):
            self.opened()
            if not (self.path / FORWARD).exists():
                why = ("was built with forward=False" if self.meta().get("forward_store") is False
                       else "was built by an older milco-pt")
                raise FileNotFoundError(f"{self.path} has no forward store ({FORWARD}), which dual-view fusion "
                                        f"reads; it {why}: rebuild it with .indexer(mode='overwrite', forward=True)")
            with open(self.path / DOCNOS, encoding="utf-8") as f:
                self._lookup = {d: i for i, d in enumerate(json.load(f))}
            self._offsets = np.load(self.path / OFFSETS)
        wanted = {}
        for d in docnos:
            i = self._lookup.get(d)
            if i is None:
                raise KeyError(f"document {d!r} is not in {self.path}")
            wanted[d] = int(self._offsets[i])
        with open(self.path / FORWARD, "rb") as f:
            for d, offset in sorted(wanted.items(), key=lambda x: x[1]):
                f.seek(offset)
                yield d, json.loads(f.readline())


class ForwardIndexer(StagedIndexer):
    """Builds a :class:`ForwardIndex`: :meth:`documents` feeds the engine and, with ``forward``
    (default), the forward store. Only dual-view fusion reads the store, and it is ~9x the engine's
    own files (JSON vectors of every document): ``forward=False`` for an index searched alone at scale."""

    DESC = "Indexing vectors"

    def __init__(self, index: "ForwardIndex", mode, threads: int = 1, forward: bool = True):
        super().__init__(index, mode, threads)
        self.forward = bool(forward)

    def documents(self, it, work: Path, stats: dict) -> Iterator[tuple[str, dict]]:
        """``(docno, vector as indexed)`` of each record, each also written to the forward store;
        ``stats`` gets ``doc_count`` and, for integer weights, ``sum_of_weights``. Nothing is
        yielded before a non-empty vector is seen: an empty input, or (for the engines that crash
        on it, ``needs_a_term``) one whose vectors are all empty, is an error before the engine starts."""
        idx = self.index_ref
        stats["doc_count"] = 0
        if idx.scale is not None:
            stats.update(quantization="round(weight * scale), zeros dropped", sum_of_weights=0)
        stats["forward_store"] = self.forward
        held: Optional[list] = []
        with (ForwardWriter(work) if self.forward else _NoStore()) as store:
            for rec in read_records(it, idx.column, idx.verbose, self.DESC):
                docno = rec["docno"]
                vec = idx.doc_vector(rec[idx.column], f"document {docno!r}")
                store.add(docno, vec)
                stats["doc_count"] += 1
                if idx.scale is not None:
                    stats["sum_of_weights"] += sum(vec.values())
                if held is None:
                    yield docno, vec
                    continue
                held.append((docno, vec))
                if vec:
                    yield from held
                    held = None
        if held == []:
            raise ValueError("nothing to index: the input has no records")
        if held and not idx.needs_a_term:
            yield from held
        elif held:
            zeros = f" (weights below {0.5 / idx.scale:g} round to 0 at scale={idx.scale:g})" if idx.scale else ""
            raise ValueError(f"every document vector of the {len(held)} records is empty{zeros}, so no query could "
                             "match: check the encoder's output (or lower the pruning, raise the scale)")

    def index_bytes(self, work: Path) -> int:
        """The engine's files: the forward store is not counted."""
        return folder_bytes(work, exclude=(FORWARD, OFFSETS, DOCNOS))
