"""Baseline encoders as PyTerrier components: SPLADE and BGE-M3 sparse (:mod:`.sparse`), BGE-M3 dense
and multilingual e5 (:mod:`.dense`); BM25 and the flat dense index live in :mod:`milco_pt.index`
and are re-exported here, so that every baseline comes from one place."""
from ..index.bm25 import BM25Index
from ..index.dense import FlatIndex
from .dense import E5, M3Dense
from .sparse import M3Model, M3Sparse, Splade

__all__ = ["BM25Index", "Splade", "M3Sparse", "M3Model", "M3Dense", "E5", "FlatIndex"]
