"""Baselines as PyTerrier components: BM25 (per-language Lucene analyzers), SPLADE, BGE-M3 sparse
and dense, multilingual e5, and an exact flat dense index."""
from .. import lazy_exports

_EXPORTS = {
    "BM25Index": "bm25", "Splade": "sparse", "M3Sparse": "sparse", "M3Model": "sparse",
    "M3Dense": "dense", "E5": "dense", "FlatIndex": "dense",
}
__all__ = list(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)
