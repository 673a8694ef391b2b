"""Seismic indexes of MILCO vectors (``pyseismic-lsr``): approximate retrieval over float weights,
with Seismic's parameters exposed. The combined e_/m_ vocabulary (30522 pivot wordpieces + up to
250002 source pieces) exceeds the 65535 components of Seismic's default index: the large-vocabulary
variant (``SeismicIndexLV``) is chosen when the documents use more terms than that.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Iterable, Optional, Union

import numpy as np
import pandas as pd
import pyterrier as pt

from .base import IndexingMode, StagedIndex, check_record, folder_bytes, native_output, staged, write_meta

MAX_COMPONENTS = 65535
INDEX_NAME = "index"
BUILD_PARAMS = ("n_postings", "centroid_fraction", "min_cluster_size", "summary_energy", "max_fraction", "doc_cut")


def _seismic():
    try:
        import seismic
    except ImportError as e:
        raise ImportError("the Seismic backend needs pip install pyseismic-lsr==0.5.4") from e
    return seismic


def _terms(vec: dict, dtype, where: str) -> tuple[np.ndarray, np.ndarray]:
    keys = [str(t) for t, w in vec.items() if w > 0]
    width = np.dtype(dtype).itemsize // 4
    if any(len(t) > width for t in keys):
        raise ValueError(f"{where}: a term is longer than Seismic's {width} characters")
    return np.array(keys, dtype=dtype), np.array([vec[t] for t in keys], dtype=np.float32)


class SeismicIndex(StagedIndex):
    """A Seismic index of one toks column (float weights, no quantization)."""

    ARTIFACT_TYPE = "sparse_index"
    ARTIFACT_FORMAT = "milco-seismic"

    def __init__(self, path: Union[str, Path], *, column: str = "toks", n_postings: int = 3500,
                 centroid_fraction: float = 0.1, min_cluster_size: int = 2, summary_energy: float = 0.4,
                 max_fraction: float = 1.5, doc_cut: int = 15, large_vocabulary: Optional[bool] = None,
                 meta: Optional[dict] = None, verbose: bool = True):
        """
        Args:
            n_postings, centroid_fraction, min_cluster_size, summary_energy, max_fraction, doc_cut:
                Seismic's build parameters (posting list pruning, clustering into blocks, summaries).
            large_vocabulary: use ``SeismicIndexLV``; ``None`` chooses it when the documents use
                more than 65535 distinct terms.
        """
        super().__init__(path)
        self.path = Path(path)
        self.column = column
        self.params = dict(n_postings=n_postings, centroid_fraction=centroid_fraction, min_cluster_size=min_cluster_size,
                           summary_energy=summary_energy, max_fraction=max_fraction, doc_cut=doc_cut)
        self.large_vocabulary, self.extra_meta, self.verbose = large_vocabulary, dict(meta or {}), verbose
        self._index = None
        if self.built():
            m = self.meta()
            self.column, self.large_vocabulary = m["column"], m["large_vocabulary"]
            self.params = {k: m[k] for k in BUILD_PARAMS}

    def __repr__(self):
        return f"SeismicIndex({str(self.path)!r}, column={self.column!r})"

    def indexer(self, mode: Union[str, IndexingMode] = IndexingMode.create, threads: int = 0) -> "SeismicIndexer":
        return SeismicIndexer(self, IndexingMode(mode), threads)

    def retriever(self, num_results: int = 1000, query_cut: int = 10, heap_factor: float = 0.7,
                  threads: int = 1) -> "SeismicRetriever":
        """``query_cut``: the query's heaviest terms that are searched; ``heap_factor``: a block is
        skipped when its summary score is below ``heap_factor`` x the current k-th score (lower:
        safer and slower)."""
        return SeismicRetriever(self, num_results, query_cut, heap_factor, threads)

    def engine(self):
        if self._index is None:
            self.meta()
            cls = _seismic().SeismicIndexLV if self.large_vocabulary else _seismic().SeismicIndex
            with native_output(False):
                self._index = cls.load(str(self.path / f"{INDEX_NAME}.index.seismic"))
        return self._index


class SeismicIndexer(pt.Indexer):
    def __init__(self, index: SeismicIndex, mode: IndexingMode, threads: int = 0):
        self.index_ref, self.mode, self.threads = index, mode, threads

    def __repr__(self):
        return f"{self.index_ref!r}.indexer(mode={self.mode.value!r})"

    def index(self, it: Iterable[dict]) -> SeismicIndex:
        idx, seismic = self.index_ref, _seismic()
        records = it.to_dict("records") if isinstance(it, pd.DataFrame) else it
        if idx.verbose:
            records = pt.tqdm(records, desc="Reading vectors (Seismic)", unit="doc")
        docs, terms = [], set()
        for n, rec in enumerate(records):
            check_record(n, rec, idx.column)
            docs.append((str(rec["docno"]), rec[idx.column]))
            terms.update(rec[idx.column])
        if not docs:
            raise ValueError("nothing to index: the input has no records")
        large = idx.large_vocabulary
        if large is None:
            large = len(terms) > MAX_COMPONENTS
        elif not large and len(terms) > MAX_COMPONENTS:
            raise ValueError(f"{len(terms)} distinct terms exceed Seismic's {MAX_COMPONENTS}: "
                             "use large_vocabulary=True (or None)")
        dataset = seismic.SeismicDatasetLV() if large else seismic.SeismicDataset()
        dtype = seismic.get_seismic_string()
        for docno, vec in docs:
            dataset.add_document(docno, *_terms(vec, dtype, f"document {docno!r}"))
        with staged(idx.path, self.mode) as work:
            started = time.time()
            cls = seismic.SeismicIndexLV if large else seismic.SeismicIndex
            with native_output(idx.verbose):
                engine = cls.build_from_dataset(dataset, **idx.params, num_threads=self.threads)
                engine.save(str(work / INDEX_NAME))
            idx.large_vocabulary, idx._index = large, None
            write_meta(work, {
                "type": SeismicIndex.ARTIFACT_TYPE, "format": SeismicIndex.ARTIFACT_FORMAT,
                "package_hint": "milco-pt", "column": idx.column, "doc_count": len(docs),
                "distinct_terms": len(terms), "large_vocabulary": large, **idx.params,
                "build_seconds": round(time.time() - started, 3), "index_bytes": folder_bytes(work),
                **idx.extra_meta})
        return idx


class SeismicRetriever(pt.Transformer):
    """Seismic's batch search (float query weights) over a :class:`SeismicIndex`."""

    def __init__(self, index: SeismicIndex, num_results: int = 1000, query_cut: int = 10,
                 heap_factor: float = 0.7, threads: int = 1):
        self.index, self.num_results = index, num_results
        self.query_cut, self.heap_factor, self.threads = query_cut, heap_factor, threads

    def __repr__(self):
        return (f"{self.index!r}.retriever(num_results={self.num_results}, query_cut={self.query_cut}, "
                f"heap_factor={self.heap_factor})")

    def fuse_rank_cutoff(self, k):
        if k < self.num_results:
            return SeismicRetriever(self.index, k, self.query_cut, self.heap_factor, self.threads)

    @property
    def query_column(self) -> str:
        return "query_" + self.index.column

    def transform(self, inp: pd.DataFrame) -> pd.DataFrame:
        pt.validate.query_frame(inp, extra_columns=[self.query_column])
        empty = pd.DataFrame(columns=list(inp.columns) + ["docno", "score", "rank"])
        if len(inp) == 0:
            return empty
        dtype = _seismic().get_seismic_string()
        comps, values = zip(*(_terms(v, dtype, f"query {n}") for n, v in enumerate(inp[self.query_column])))
        keys = np.array([str(i) for i in range(len(inp))], dtype=dtype)
        hits = self.index.engine().batch_search(keys, list(comps), list(values), k=int(self.num_results),
                                                query_cut=int(self.query_cut), heap_factor=float(self.heap_factor),
                                                num_threads=int(self.threads))
        by_key = {h[0][0]: h for h in hits if h}  # batch_search may return queries out of order
        hits = [by_key.get(str(i), []) for i in range(len(inp))]
        counts = [len(h) for h in hits]
        if not sum(counts):
            return empty
        out = inp.iloc[np.repeat(np.arange(len(inp)), counts)].reset_index(drop=True)
        return out.assign(docno=[d for h in hits for _, _, d in h],
                          score=np.array([s for h in hits for _, s, _ in h], dtype=np.float64),
                          rank=np.concatenate([np.arange(c) for c in counts]))
