"""Seismic indexes of MILCO vectors (``pyseismic-lsr``): approximate retrieval over float weights,
with Seismic's parameters exposed. The combined e_/m_ vocabulary (30522 pivot wordpieces + up to
250002 source pieces) exceeds the 65535 components of Seismic's default index: the large-vocabulary
variant (``SeismicIndexLV``) is chosen when the documents use more terms than that. The float
vectors are also kept in a forward store.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional, Union

import numpy as np

from .base import Retriever, native_output, ranked_lists_frame
from .checks import FLOAT16_MAX, query_where
from .forward import ForwardIndex, ForwardIndexer

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


class SeismicIndexer(ForwardIndexer):
    """Builds a :class:`SeismicIndex` (``threads=0``: all cores)."""

    DESC = "Reading vectors (Seismic)"

    def __init__(self, index: "SeismicIndex", mode, threads: int = 0, forward: bool = True):
        super().__init__(index, mode, threads, forward)

    def build(self, it, work: Path) -> dict:
        idx, seismic, stats = self.index_ref, _seismic(), {}
        docs = list(self.documents(it, work, stats))
        terms = set().union(*(vec for _, vec in docs))
        large = idx.large_vocabulary
        if large is None:
            large = len(terms) > MAX_COMPONENTS
        elif not large and len(terms) > MAX_COMPONENTS:
            raise ValueError(f"{len(terms)} distinct terms exceed Seismic's {MAX_COMPONENTS}: "
                             "use large_vocabulary=True (or None)")
        if not docs:
            return stats
        dataset = seismic.SeismicDatasetLV() if large else seismic.SeismicDataset()
        dtype = seismic.get_seismic_string()
        for docno, vec in docs:
            dataset.add_document(docno, *_terms(vec, dtype, f"document {docno!r}"))
        cls = seismic.SeismicIndexLV if large else seismic.SeismicIndex
        with native_output(idx.verbose):
            engine = cls.build_from_dataset(dataset, **idx.params, num_threads=self.threads)
            engine.save(str(work / INDEX_NAME))
        idx.large_vocabulary = large
        return {**stats, "distinct_terms": len(terms)}


class SeismicIndex(ForwardIndex):
    """A Seismic index of one toks column (float weights, no quantization)."""

    ARTIFACT_FORMAT = "milco-seismic"
    INDEXER = SeismicIndexer
    SETTINGS = ("column", "large_vocabulary", *BUILD_PARAMS)
    CACHES = (*ForwardIndex.CACHES, "_index")
    max_weight = FLOAT16_MAX  # Seismic stores float16
    needs_a_term = True
    exact_scores = False  # Seismic's scores are approximate (about 1e-3 off): fusion rescores them

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
        super().__init__(path, meta=meta, verbose=verbose, column=column, large_vocabulary=large_vocabulary,
                         n_postings=n_postings, centroid_fraction=centroid_fraction, min_cluster_size=min_cluster_size,
                         summary_energy=summary_energy, max_fraction=max_fraction, doc_cut=doc_cut)

    def doc_vector(self, vec: dict, where: str = "a document") -> dict:
        """The float vector, when Seismic can pack it: at most 65535 terms (16-bit ranges)."""
        vec = super().doc_vector(vec, where)
        if len(vec) > MAX_COMPONENTS:
            raise ValueError(f"{where} has {len(vec)} terms, above Seismic's {MAX_COMPONENTS} per document (its "
                             "16-bit packing): prune it (milco_pt.pruning) or use the anserini or pisa backend")
        return vec

    @property
    def params(self) -> dict:
        """Seismic's build parameters."""
        return {name: getattr(self, name) for name in BUILD_PARAMS}

    def retriever(self, num_results: int = 1000, query_cut: int = 10, heap_factor: float = 0.7,
                  threads: int = 1, *, query_column: Optional[str] = None) -> "SeismicRetriever":
        """``query_cut``: the query's heaviest terms that are searched; ``heap_factor``: a block is
        skipped when its summary score is below ``heap_factor`` x the current k-th score (lower:
        safer and slower)."""
        return SeismicRetriever(self, num_results, query_cut=query_cut, heap_factor=heap_factor, threads=threads,
                                query_column=query_column)

    def engine(self):
        if getattr(self, "_index", None) is None:
            self.opened()
            cls = _seismic().SeismicIndexLV if self.large_vocabulary else _seismic().SeismicIndex
            with native_output(False):
                self._index = cls.load(str(self.path / f"{INDEX_NAME}.index.seismic"))
        return self._index


class SeismicRetriever(Retriever):
    """Seismic's batch search (float query weights) over a :class:`SeismicIndex`."""

    DEFAULTS = {"query_cut": 10, "heap_factor": 0.7, "threads": 1}

    def search(self, inp, queries):
        dtype = _seismic().get_seismic_string()
        comps, values = [], []
        for n, vec in enumerate(queries):
            where = query_where(inp, n)
            c, v = _terms(self.index.query_vector(vec, where), dtype, where)
            comps.append(c)
            values.append(v)
        keys = np.array([str(i) for i in range(len(inp))], dtype=dtype)
        hits = self.index.engine().batch_search(keys, comps, values, k=int(self.num_results),
                                                query_cut=int(self.query_cut), heap_factor=float(self.heap_factor),
                                                num_threads=int(self.threads))
        by_key = {h[0][0]: h for h in hits if h}  # batch_search may return queries out of order
        hits = [by_key.get(str(i), []) for i in range(len(inp))]
        return ranked_lists_frame(inp, [[(d, s) for _, s, d in h] for h in hits])
