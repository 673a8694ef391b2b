"""Training MILCO: Sparse Alignment Pretraining (SAP) and Sparse Contrastive Training (SCT).

A companion module: inference (``milco_pt.Milco``) never imports it.
"""
from .. import lazy_exports

_EXPORTS = {
    "smse": "losses", "kl_distillation": "losses", "info_nce": "losses", "l1": "losses", "flops": "losses",
    "LexicalTeacher": "teachers", "SpladeTeacher": "teachers",
    "read_bitext": "data", "read_distillation": "data", "ddtp_bitext": "data", "ddtp_pairs": "data",
    "SAPObjective": "objectives", "SCTObjective": "objectives", "train": "trainer",
}
__all__ = list(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)
