"""milco-pt: MILCO multilingual and cross-lingual learned sparse retrieval for PyTerrier."""
from .model import MilcoConfig, MilcoModel
from .milco import Milco, MilcoQueryEncoder, MilcoDocEncoder, MilcoScorer
from .views import combine, split, dot
from .pruning import TopK, MassPrune, Threshold, top_k, mass_prune, threshold
from .exact import ExactIndex, ExactRetriever

__version__ = "0.1.0"
__all__ = ["MilcoConfig", "MilcoModel", "Milco", "MilcoQueryEncoder", "MilcoDocEncoder",
           "MilcoScorer", "combine", "split", "dot", "TopK", "MassPrune", "Threshold", "top_k",
           "mass_prune", "threshold", "ExactIndex", "ExactRetriever"]
