"""Anserini (Lucene) impact indexes of MILCO vectors, through pyserini's Java classes.

Anserini scores an impact query as ``sum_t q_t * d_t`` over **integer** weights, so vectors
are quantized as ``round(weight * scale)`` on both sides (terms that round to 0 are dropped).
Any toks column can be indexed: the pivot view (``toks``), the source view (``src_toks``),
or the combined e_/m_ column. An index is built in a temporary folder beside its final path
and moved into place only when complete.
"""
from __future__ import annotations

import json
import re
import shutil
import time
from itertools import compress
from pathlib import Path
from typing import Iterable, Iterator, Optional, Union

import numpy as np
import pandas as pd
import pyterrier as pt

from . import java
from .base import IndexingMode, StagedIndex, check_record, folder_bytes, staged, write_meta

DEFAULT_SCALE = 100
FORWARD, OFFSETS, DOCNOS = "forward.jsonl", "forward.offsets.npy", "docnos.json"


_BAD_TERM = re.compile(r"[\s\u241e]|^$|\x00\x00|^\x00|\x00$")


def quantize(vec: dict, scale: float) -> dict:
    """``{term: round(weight * scale)}`` without the terms that round to 0 (Python's rounding, half
    to even, in float64; vectorised)."""
    if not vec:
        return {}
    q = np.rint(np.fromiter(vec.values(), dtype=np.float64, count=len(vec)) * float(scale))
    keep = q > 0
    return dict(zip(compress(vec, keep.tolist()), q[keep].astype(np.int64).tolist()))


def check_term(term: str) -> str:
    if not term or _BAD_TERM.search(term):
        raise ValueError(f"term {term!r} is empty or contains whitespace (or U+241E); Anserini's "
                         "pretokenized impact indexes split terms on whitespace")
    return term


def check_terms(vec: dict) -> dict:
    """``vec`` when no term is empty or holds whitespace / U+241E (one regex pass per document)."""
    if vec and _BAD_TERM.search("\x00".join(vec)):
        for term in vec:
            check_term(term)
    return vec


class ImpactIndex(StagedIndex):
    """A Lucene impact index of one toks column, searched with ``LuceneImpactSearcher``'s engine."""

    ARTIFACT_TYPE = "sparse_index"
    ARTIFACT_FORMAT = "anserini-impact"

    def __init__(self, path: Union[str, Path], *, column: str = "toks", scale: float = DEFAULT_SCALE,
                 meta: Optional[dict] = None, verbose: bool = True):
        """
        Args:
            path: the index folder.
            column: the document toks column to index (queries use ``query_`` + column).
            scale: quantization factor, ``int(round(weight * scale))``, for documents and queries.
            meta: extra metadata to record (e.g. model, view, pruning).
            verbose: progress bars.
        """
        super().__init__(path)
        self.path = Path(path)
        self.column = column
        self.scale = scale
        self.extra_meta = dict(meta or {})
        self.verbose = verbose
        if self.built():
            m = self.meta()
            self.column, self.scale = m["column"], m["scale"]

    def __repr__(self):
        return f"ImpactIndex({str(self.path)!r}, column={self.column!r}, scale={self.scale!r})"

    def vectors(self, docnos: Iterable[str]) -> list[dict]:
        """The stored quantized vectors of the given documents (for exact re-scoring)."""
        docnos = list(docnos)
        found = dict(self.iter_vectors(docnos))
        return [found[d] for d in docnos]

    def iter_vectors(self, docnos: Iterable[str]) -> Iterator[tuple[str, dict]]:
        """``(docno, vector)`` of each distinct given document, read once each in file order, so
        that scoring many queries' missing candidates holds one vector at a time."""
        if not hasattr(self, "_lookup"):
            self.meta()
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

    def indexer(self, mode: Union[str, IndexingMode] = IndexingMode.create, threads: int = 1,
                method: str = "direct") -> "ImpactIndexer":
        """``method``: ``direct`` writes each term once with its weight as term frequency
        (:mod:`milco_pt.index.lucene_direct`); ``anserini`` runs Anserini's ``IndexCollection`` on a
        JsonVectorCollection. Both give the same postings and scores."""
        return ImpactIndexer(self, IndexingMode(mode), threads, method)

    def retriever(self, num_results: int = 1000, threads: int = 1) -> "ImpactRetriever":
        return ImpactRetriever(self, num_results, threads)


class ImpactIndexer(pt.Indexer):
    """Builds an :class:`ImpactIndex` from records with ``docno`` and the toks column."""

    def __init__(self, index: ImpactIndex, mode: IndexingMode, threads: int = 1, method: str = "direct"):
        if method not in ("direct", "anserini"):
            raise ValueError(f"method must be 'direct' or 'anserini', not {method!r}")
        self.index_ref = index
        self.mode = mode
        self.threads = threads
        self.method = method

    def __repr__(self):
        extra = "" if self.method == "direct" else f", method={self.method!r}"
        return f"{self.index_ref!r}.indexer(mode={self.mode.value!r}{extra})"

    def index(self, it: Iterable[dict]) -> ImpactIndex:
        idx = self.index_ref
        with staged(idx.path, self.mode) as work:
            started = time.time()
            lucene_dir = work / "index"
            if self.method == "direct":
                lucene_dir.mkdir()
                from .lucene_direct import DirectImpactWriter
                writer = DirectImpactWriter(lucene_dir)
                try:
                    count, total = self._write_vectors(it, work, idx, writer.add)
                except BaseException:
                    writer.abort()
                    raise
                writer.close()
            else:
                docs_dir = work / "docs"
                docs_dir.mkdir()
                with open(docs_dir / "part-0.jsonl", "w", encoding="utf-8") as f:
                    def to_json(docno, vec):
                        f.write(json.dumps({"id": docno, "contents": "", "vector": vec}, ensure_ascii=False) + "\n")
                    count, total = self._write_vectors(it, work, idx, to_json)
                if count:
                    self._run_anserini(docs_dir, lucene_dir)
                shutil.rmtree(docs_dir)
            if count == 0:
                raise ValueError("nothing to index: the input has no records")
            meta = {
                "type": ImpactIndex.ARTIFACT_TYPE, "format": ImpactIndex.ARTIFACT_FORMAT,
                "package_hint": "milco-pt", "column": idx.column, "scale": idx.scale,
                "quantization": "round(weight * scale), zeros dropped", "doc_count": count,
                "sum_of_weights": total, "build_seconds": round(time.time() - started, 3),
                "index_bytes": folder_bytes(lucene_dir),
                "anserini_jar": Path(java.anserini_jar()).name, "method": self.method, **idx.extra_meta,
            }
            for f in lucene_dir.iterdir():
                f.rename(work / f.name)
            lucene_dir.rmdir()
            write_meta(work, meta)
        return idx

    def _write_vectors(self, it, work: Path, idx: ImpactIndex, sink) -> tuple[int, int]:
        """Quantize each record's vector, hand it to ``sink(docno, vec)`` and to the forward store."""
        records = it.to_dict("records") if isinstance(it, pd.DataFrame) else it
        if idx.verbose:
            records = pt.tqdm(records, desc="Indexing vectors", unit="doc")
        count = total = 0
        offsets, docnos = [], []
        with open(work / FORWARD, "wb") as fwd:
            for n, rec in enumerate(records):
                check_record(n, rec, idx.column)
                vec = check_terms(quantize(rec[idx.column], idx.scale))
                total += sum(vec.values())
                sink(str(rec["docno"]), vec)
                offsets.append(fwd.tell())
                docnos.append(str(rec["docno"]))
                fwd.write(json.dumps(vec, ensure_ascii=False).encode("utf-8") + b"\n")
                count += 1
        np.save(work / OFFSETS, np.array(offsets, dtype=np.int64))
        with open(work / DOCNOS, "w", encoding="utf-8") as f:
            json.dump(docnos, f, ensure_ascii=False)
        return count, total

    def _run_anserini(self, docs_dir: Path, lucene_dir: Path):
        collection = java.autoclass("io.anserini.index.IndexCollection")
        args = ["-collection", "JsonVectorCollection", "-input", str(docs_dir), "-index", str(lucene_dir),
                "-generator", "DefaultLuceneDocumentGenerator", "-threads", str(self.threads),
                "-impact", "-pretokenized", "-optimize"]
        if not self.index_ref.verbose:
            args += ["-quiet"]
        collection.main(args)
        if not list(lucene_dir.glob("segments_*")):
            raise RuntimeError(f"Anserini did not produce an index in {lucene_dir}")


class ImpactRetriever(pt.Transformer):
    """Batch impact search over an :class:`ImpactIndex` with queries' quantized toks."""

    def __init__(self, index: ImpactIndex, num_results: int = 1000, threads: int = 1):
        self.index = index
        self.num_results = num_results
        self.threads = threads
        self._searcher = None

    def __repr__(self):
        return f"{self.index!r}.retriever(num_results={self.num_results})"

    def fuse_rank_cutoff(self, k):
        if k < self.num_results:
            return ImpactRetriever(self.index, k, self.threads)

    @property
    def query_column(self) -> str:
        return "query_" + self.index.column

    def searcher(self):
        if self._searcher is None:
            self.index.meta()
            self._searcher = java.autoclass("io.anserini.search.SimpleImpactSearcher")(str(self.index.path))
        return self._searcher

    def transform(self, inp: pd.DataFrame) -> pd.DataFrame:
        pt.validate.query_frame(inp, extra_columns=[self.query_column])
        keep = list(inp.columns)
        if len(inp) == 0:
            return pd.DataFrame(columns=keep + ["docno", "score", "rank"])
        JArrayList = java.autoclass("java.util.ArrayList")
        JHashMap = java.autoclass("java.util.HashMap")
        JInt = java.autoclass("java.lang.Integer")
        queries, qids = JArrayList(), JArrayList()
        keys = [str(i) for i in range(len(inp))]
        for key, vec in zip(keys, inp[self.query_column]):
            jq = JHashMap()
            for term, w in quantize(vec, self.index.scale).items():
                jq.put(term, JInt(w))
            queries.add(jq)
            qids.add(key)
        hits = self.searcher().batch_search(queries, qids, int(self.num_results), int(self.threads))
        return results_frame(inp, hits, keys)


def results_frame(inp: pd.DataFrame, hits, keys: list[str]) -> pd.DataFrame:
    """Anserini's ``{key: ScoredDoc[]}`` as a result frame: each input row repeated per hit."""
    docnos, scores, counts = [], [], []
    for key in keys:
        found = hits.get(key) or []
        counts.append(len(found))
        for h in found:
            docnos.append(h.docid)
            scores.append(h.score)
    if not docnos:
        return pd.DataFrame(columns=list(inp.columns) + ["docno", "score", "rank"])
    out = inp.iloc[np.repeat(np.arange(len(inp)), counts)].reset_index(drop=True)
    return out.assign(docno=docnos, score=np.asarray(scores, dtype=np.float64),
                      rank=np.concatenate([np.arange(c) for c in counts]))
