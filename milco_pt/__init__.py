"""milco-pt: MILCO multilingual and cross-lingual learned sparse retrieval for PyTerrier.

Layout (see ARCHITECTURE.md): the model (:mod:`.model`, :mod:`.hub`), its views and encoders
(:mod:`.views`, :mod:`.encoding`, :mod:`.milco`), :mod:`.pruning`, indexes and retrievers
(:mod:`.index`), :mod:`.fusion`, :mod:`.maxp`, :mod:`.measures`, :mod:`.datasets`,
:mod:`.baselines`, :mod:`.training`, milco-mini (:mod:`.mini`), test helpers (:mod:`.testing`)
and the drivers above the library (:mod:`.run`, :mod:`.cli`).

The names below are imported on first use rather than here, so that ``import milco_pt.model``
or ``milco_pt.training`` needs only torch and transformers (a GPU machine without PyTerrier);
type checkers and IDEs see them through the ``TYPE_CHECKING`` imports.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from . import _compat

__version__ = "0.1.0"

_compat.install()

_EXPORTS = {
    "MilcoConfig": "model", "MilcoModel": "model",
    "Milco": "milco", "MilcoQueryEncoder": "milco", "MilcoDocEncoder": "milco", "MilcoScorer": "milco",
    "combine": "views", "split_combined": "views", "split": "views", "dot": "views",
    "TopK": "pruning", "MassPrune": "pruning", "Threshold": "pruning", "top_k": "pruning",
    "mass_prune": "pruning", "threshold": "pruning",
    "ExactIndex": "index", "ExactRetriever": "index", "ImpactIndex": "index", "PisaImpactIndex": "index",
    "SeismicIndex": "index", "BM25Index": "index", "FlatIndex": "index", "sparse_index": "index",
    "DualViewFusion": "fusion", "MaxP": "maxp", "PassageSplitter": "maxp",
}
_SUBMODULES = {"model", "hub", "views", "encoding", "milco", "pruning", "index", "fusion", "maxp", "measures",
               "sharding", "datasets", "baselines", "training", "mini", "testing", "run", "cli"}
__all__ = list(_EXPORTS)

if TYPE_CHECKING:
    from .fusion import DualViewFusion
    from .index import (BM25Index, ExactIndex, ExactRetriever, FlatIndex, ImpactIndex, PisaImpactIndex,
                        SeismicIndex, sparse_index)
    from .maxp import MaxP, PassageSplitter
    from .milco import Milco, MilcoDocEncoder, MilcoQueryEncoder, MilcoScorer
    from .model import MilcoConfig, MilcoModel
    from .pruning import MassPrune, Threshold, TopK, mass_prune, threshold, top_k
    from .views import combine, dot, split, split_combined


def lazy_exports(module: str, exports: dict):
    """A module ``__getattr__`` importing each exported name from its submodule on first use."""
    def __getattr__(name):
        if name in exports:
            mod = importlib.import_module(f".{exports[name]}", module)
            return getattr(mod, name)
        raise AttributeError(f"module {module!r} has no attribute {name!r}")
    return __getattr__


_exported = lazy_exports(__name__, _EXPORTS)


def __getattr__(name):
    """Exported names, subpackages (``milco_pt.index`` without importing it first) and the
    old module names of :mod:`._compat` (``milco_pt.impact``)."""
    if name in _SUBMODULES or f"{__name__}.{name}" in _compat.MOVED:
        return importlib.import_module(f".{name}", __name__)
    return _exported(name)


def __dir__():
    return sorted(list(globals()) + __all__)
