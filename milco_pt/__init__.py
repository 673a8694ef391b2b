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
    "ImpactIndex": "impact", "DualViewFusion": "fusion",
}
__all__ = list(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'milco_pt' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
