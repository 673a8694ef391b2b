"""Indexes and their retrievers, one module per engine, all on the shared bases of :mod:`.base`
(settings in ``pt_meta.json``, staged builds, the ``query_column=`` of every retriever, result
frames) and, for the sparse engines, the forward store of :mod:`.forward` (each document's vector
as indexed, for :class:`milco_pt.fusion.DualViewFusion`).

Sparse (toks columns): :class:`ImpactIndex` (Anserini/Lucene), :class:`PisaImpactIndex`,
:class:`SeismicIndex`, :class:`ExactIndex` (in memory, float64: the reference). Text:
:class:`BM25Index`. Dense: :class:`FlatIndex`. :func:`sparse_index` is one entry point for the sparse
backends, so a pipeline switches engine with one argument:

    index = milco_pt.sparse_index("idx", backend="pisa")     # or "anserini" (default), "seismic"
    index.index(docs)                                          # docno + toks
    pipeline = milco.query_encoder() >> index.retriever(num_results=100)

``anserini`` and ``pisa`` score the same integer-quantized dot product (equal rankings);
``seismic`` is approximate over float weights (its recall is measured by benchmarks/backends.py).
"""
from __future__ import annotations

from .anserini import ImpactIndex, ImpactRetriever
from .base import IndexingMode, Retriever, StagedIndex
from .bm25 import BM25Index, BM25Retriever
from .dense import FlatIndex, FlatRetriever
from .exact import ExactIndex, ExactRetriever
from .forward import ForwardIndex, quantize
from .pisa import PisaImpactIndex, PisaImpactRetriever
from .seismic import SeismicIndex, SeismicRetriever

BACKENDS = {"anserini": ImpactIndex, "pisa": PisaImpactIndex, "seismic": SeismicIndex}

__all__ = ["sparse_index", "BACKENDS", "IndexingMode", "StagedIndex", "ForwardIndex", "Retriever", "quantize",
           "ImpactIndex", "ImpactRetriever", "PisaImpactIndex", "PisaImpactRetriever", "SeismicIndex",
           "SeismicRetriever", "ExactIndex", "ExactRetriever", "BM25Index", "BM25Retriever", "FlatIndex",
           "FlatRetriever"]


def sparse_index(path, backend: str = "anserini", **kwargs):
    """The index class of ``backend`` at ``path``; ``kwargs`` go to its constructor (e.g.
    ``column=``, ``scale=`` for anserini/pisa, Seismic's build parameters)."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}: use one of {sorted(BACKENDS)}")
    return BACKENDS[backend](path, **kwargs)
