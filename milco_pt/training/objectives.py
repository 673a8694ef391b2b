"""The two training stages as modules whose ``forward`` returns ``{"loss": ...}`` (what HF's
Trainer expects), with the collators that turn raw examples into their inputs."""
from __future__ import annotations

from typing import Optional, Sequence

import torch
from torch import nn

from .losses import flops, info_nce, kl_distillation, l1, smse


def _tokenize(tokenizer, texts, max_length):
    enc = tokenizer(list(texts), padding=True, truncation=True, max_length=max_length, return_tensors="pt")
    return enc["input_ids"], enc["attention_mask"]


class SAPObjective(nn.Module):
    """Sparse Alignment Pretraining: SMSE between the student's raw max-pooled logits and the
    teacher's, for the non-English side and for the English side read by the multilingual encoder."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, src_ids, src_mask, en_ids, en_mask, teacher):
        m = self.model
        student_src = m.pooled_logits(m.hidden_states(src_ids, src_mask), src_mask)
        student_en = m.pooled_logits(m.hidden_states(en_ids, en_mask), en_mask)
        teacher = teacher.to(student_src.dtype)
        loss_src, loss_en = smse(student_src, teacher), smse(student_en, teacher)
        return {"loss": loss_src + loss_en, "loss_src": loss_src.detach(), "loss_en": loss_en.detach()}


class SAPCollator:
    """``[(non-English, English)]`` -> SAPObjective inputs; the teacher reads the English side."""

    def __init__(self, m_tokenizer, teacher, max_length: int = 256):
        self.m_tokenizer, self.teacher, self.max_length = m_tokenizer, teacher, max_length

    def __call__(self, pairs: Sequence[tuple[str, str]]) -> dict:
        src, en = zip(*pairs)
        src_ids, src_mask = _tokenize(self.m_tokenizer, src, self.max_length)
        en_ids, en_mask = _tokenize(self.m_tokenizer, en, self.max_length)
        return {"src_ids": src_ids, "src_mask": src_mask, "en_ids": en_ids, "en_mask": en_mask,
                "teacher": self.teacher(list(en))}


class SCTObjective(nn.Module):
    """Sparse Contrastive Training on dual-view scores (pivot dot + source dot).

    Without teacher scores: InfoNCE with in-batch negatives (paper ③). With them: KL distillation
    over each query's group (paper ①). Plus ``lambda_q * reg(q) + lambda_d * reg(d)`` on the pivot
    view, ``reg`` = L1 or FLOPS.
    """

    def __init__(self, model, lambda_q: float = 1e-3, lambda_d: float = 1e-5, reg: str = "l1",
                 use_source: bool = True):
        super().__init__()
        if reg not in ("l1", "flops"):
            raise ValueError(f"reg must be 'l1' or 'flops', not {reg!r}")
        self.model = model
        self.lambda_q, self.lambda_d, self.reg = lambda_q, lambda_d, reg
        self.use_source = use_source and model.config.echo

    def reps(self, ids, mask):
        m = self.model
        hidden = m.hidden_states(ids, mask)
        pivot = m.pivot(hidden, mask)
        if not self.use_source:
            return pivot, None
        weights = m.source_weights(hidden, mask)
        source = weights.new_zeros(len(ids), m.config.m_vocab_size).scatter_add(1, ids, weights)
        return pivot, source

    def forward(self, q_ids, q_mask, d_ids, d_mask, teacher_scores: Optional[torch.Tensor] = None):
        q_piv, q_src = self.reps(q_ids, q_mask)
        d_piv, d_src = self.reps(d_ids, d_mask)
        scores = q_piv @ d_piv.T
        if q_src is not None:
            scores = scores + q_src @ d_src.T
        if teacher_scores is None:
            rank_loss = info_nce(scores)
        else:
            group = teacher_scores.shape[1]
            idx = torch.arange(len(q_ids), device=scores.device)[:, None] * group + torch.arange(group, device=scores.device)
            rank_loss = kl_distillation(scores.gather(1, idx), teacher_scores.to(scores.dtype))
        reg = l1 if self.reg == "l1" else flops
        reg_loss = self.lambda_q * reg(q_piv) + self.lambda_d * reg(d_piv)
        return {"loss": rank_loss + reg_loss, "rank_loss": rank_loss.detach(), "reg_loss": reg_loss.detach()}


class SCTCollator:
    """Pairs ``(query, positive)`` (in-batch negatives) or BGE-style distillation records
    ``{query, pos, pos_scores, neg, neg_scores}`` (group = first positive + ``group - 1`` negatives)."""

    def __init__(self, m_tokenizer, query_max_length: int = 64, doc_max_length: int = 256, group: int = 8):
        self.tok, self.q_len, self.d_len, self.group = m_tokenizer, query_max_length, doc_max_length, group

    def __call__(self, examples) -> dict:
        if isinstance(examples[0], dict):
            queries, docs, scores = [], [], []
            for r in examples:
                negs = list(r["neg"])[: self.group - 1]
                if len(negs) < self.group - 1:
                    raise ValueError(f"a distillation record has {len(negs)} negatives; group={self.group} needs "
                                     f"{self.group - 1}")
                queries.append(r["query"])
                docs += [r["pos"][0], *negs]
                if "pos_scores" in r:
                    scores.append([r["pos_scores"][0], *list(r["neg_scores"])[: self.group - 1]])
            out_scores = torch.tensor(scores, dtype=torch.float) if scores else None
        else:
            queries, docs = zip(*examples)
            out_scores = None
        q_ids, q_mask = _tokenize(self.tok, queries, self.q_len)
        d_ids, d_mask = _tokenize(self.tok, docs, self.d_len)
        batch = {"q_ids": q_ids, "q_mask": q_mask, "d_ids": d_ids, "d_mask": d_mask}
        if out_scores is not None:
            batch["teacher_scores"] = out_scores
        return batch


__all__ = ["SAPObjective", "SAPCollator", "SCTObjective", "SCTCollator"]
