"""milco-pt: MILCO multilingual and cross-lingual learned sparse retrieval for PyTerrier.

Names are imported lazily, so ``import milco_pt.model`` needs only torch and transformers
(e.g. on a GPU machine without PyTerrier).
"""
import importlib

__version__ = "0.1.0"

_EXPORTS = {
    "MilcoConfig": "model", "MilcoModel": "model",
    "Milco": "milco", "MilcoQueryEncoder": "milco", "MilcoDocEncoder": "milco", "MilcoScorer": "milco",
    "combine": "views", "split": "views", "dot": "views",
    "TopK": "pruning", "MassPrune": "pruning", "Threshold": "pruning", "top_k": "pruning",
    "mass_prune": "pruning", "threshold": "pruning",
    "ExactIndex": "exact", "ExactRetriever": "exact",
    "ImpactIndex": "impact", "DualViewFusion": "fusion", "sparse_index": "backends",
    "PisaImpactIndex": "pisa_index", "SeismicIndex": "seismic_index",
}
__all__ = list(_EXPORTS)


def lazy_exports(module: str, exports: dict):
    """A module ``__getattr__`` importing each exported name from its submodule on first use."""
    def __getattr__(name):
        if name in exports:
            mod = importlib.import_module(f".{exports[name]}", module)
            return getattr(mod, name)
        raise AttributeError(f"module {module!r} has no attribute {name!r}")
    return __getattr__


__getattr__ = lazy_exports(__name__, _EXPORTS)


def __dir__():
    return sorted(list(globals()) + __all__)
