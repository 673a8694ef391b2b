"""The losses of MILCO's two training stages, as the authors implement them."""
from __future__ import annotations

import torch
import torch.nn.functional as F


def smse(student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
    """Sparse MSE (paper eq. 8): the mean squared difference over the coordinates where either
    side is positive, over the whole batch flattened (raw max-pooled logits on both sides)."""
    s, t = student.reshape(-1), teacher.reshape(-1)
    return _masked_mse(s, t, (s > 0) | (t > 0))


def target_mse(student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
    """SMSE restricted to the teacher's positive coordinates (the English text's own terms): pulls
    those logits to the teacher's weights and leaves expansion terms to the ranking loss."""
    s, t = student.reshape(-1), teacher.reshape(-1)
    return _masked_mse(s, t, t > 0)


def _masked_mse(s: torch.Tensor, t: torch.Tensor, active: torch.Tensor) -> torch.Tensor:
    """Mean squared difference over ``active`` coordinates (0, with a gradient path, when none)."""
    if not active.any():
        return (s * 0).sum()
    return ((s - t)[active] ** 2).mean()


def kl_distillation(student_scores: torch.Tensor, teacher_scores: torch.Tensor) -> torch.Tensor:
    """``KL(softmax(teacher) || softmax(student))`` per query over its group, batch mean, no temperature."""
    return F.kl_div(F.log_softmax(student_scores, dim=-1), F.softmax(teacher_scores, dim=-1), reduction="batchmean")


def info_nce(scores: torch.Tensor) -> torch.Tensor:
    """InfoNCE with in-batch negatives (paper configuration ③) from a ``[queries, queries * group]``
    score matrix: query i's positive is the first document of its group, every other document in
    the batch is a negative."""
    group = scores.shape[1] // scores.shape[0]
    return F.cross_entropy(scores, torch.arange(len(scores), device=scores.device) * group)


def l1(rep: torch.Tensor) -> torch.Tensor:
    """``|rep|_1`` averaged over the batch."""
    return rep.abs().sum(1).mean()


def flops(rep: torch.Tensor) -> torch.Tensor:
    """FLOPS regulariser: ``sum_j (mean_i |rep_ij|)^2``."""
    return (rep.abs().mean(0) ** 2).sum()
