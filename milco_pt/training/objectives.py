"""The two training stages as modules whose ``forward`` returns ``{"loss": ...}`` (what HF's
Trainer expects), with the collators that turn raw examples into their inputs."""
from __future__ import annotations

from typing import Optional, Sequence

import torch
from torch import nn

from .losses import flops, info_nce, kl_distillation, l1, smse, target_mse

GROUND_LOSSES = {"smse": smse, "targets": target_mse}
GROUND_SIDES = ("both", "queries")


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

    Ranking loss: InfoNCE with in-batch negatives (paper ③) or, given a query's group scores, KL
    distillation over the group (paper ①); given a dense teacher's in-batch score matrix, plus
    ``distill_weight`` times KL distillation over each query's row. Sparsity: ``lambda_q * reg(q) +
    lambda_d * reg(d)`` on the pivot view, ``reg`` = L1 or FLOPS. Two optional terms keep the pivot
    view meaningful on its own:

    - ``pivot_weight``: the same ranking loss on pivot-view scores alone (the pivot view must rank
      without LexEcho's help, as it does in the paper's Table 19);
    - ``ground_weight``: SAP's SMSE between the raw max-pooled logits of queries and documents and
      the lexical teacher's targets of their English text (the pivot view keeps the English words);
      ``ground_loss="targets"`` counts only the English text's terms (``losses.target_mse``), so
      grounding no longer pulls expansion terms down; ``ground_sides="queries"`` grounds queries
      alone (documents keep their expansion terms).

    ``query_top_k`` trains for a query budget: the ranking losses see each query's pivot view cut
    to its ``k`` highest-weighted terms (the cut the query encoder then applies, ``top_k`` pruning),
    so the retrieval signal is learned in the terms that are kept; the sparsity and grounding
    terms see the whole vector.
    """

    def __init__(self, model, lambda_q: float = 1e-3, lambda_d: float = 1e-5, reg: str = "l1",
                 use_source: bool = True, distill_weight: float = 1.0, pivot_weight: float = 0.0,
                 ground_weight: float = 0.0, ground_loss: str = "smse", ground_sides: str = "both",
                 query_top_k: Optional[int] = None):
        super().__init__()
        if query_top_k is not None and (isinstance(query_top_k, bool) or not isinstance(query_top_k, int)
                                        or query_top_k < 1):
            raise ValueError(f"query_top_k is a number of query terms, 1 or more (None: no cut), not {query_top_k!r}")
        if reg not in ("l1", "flops"):
            raise ValueError(f"reg must be 'l1' or 'flops', not {reg!r}")
        if ground_loss not in GROUND_LOSSES:
            raise ValueError(f"ground_loss must be one of {sorted(GROUND_LOSSES)}, not {ground_loss!r}")
        if ground_sides not in GROUND_SIDES:
            raise ValueError(f"ground_sides must be one of {list(GROUND_SIDES)}, not {ground_sides!r}")
        self.ground_loss, self.ground_docs = GROUND_LOSSES[ground_loss], ground_sides == "both"
        self.model = model
        self.lambda_q, self.lambda_d, self.reg = lambda_q, lambda_d, reg
        self.use_source = use_source and model.config.echo
        self.distill_weight, self.pivot_weight, self.ground_weight = distill_weight, pivot_weight, ground_weight
        self.query_top_k = query_top_k

    def reps(self, ids, mask):
        """``(pivot, source, raw pooled logits)`` of a batch (``source`` None without LexEcho)."""
        m = self.model
        hidden = m.hidden_states(ids, mask)
        logits = m.pooled_logits(hidden, mask)
        pivot = torch.log1p(torch.relu(logits))
        if not self.use_source:
            return pivot, None, logits
        weights = m.source_weights(hidden, mask)
        source = weights.new_zeros(len(ids), m.config.m_vocab_size).scatter_add(1, ids, weights)
        return pivot, source, logits

    def ranking(self, scores, teacher_scores=None, inbatch_teacher=None):
        if teacher_scores is not None:
            group = teacher_scores.shape[1]
            idx = (torch.arange(len(scores), device=scores.device)[:, None] * group
                   + torch.arange(group, device=scores.device))
            return kl_distillation(scores.gather(1, idx), teacher_scores.to(scores.dtype))
        loss = info_nce(scores)
        if inbatch_teacher is not None:
            loss = loss + self.distill_weight * kl_distillation(scores, inbatch_teacher.to(scores.dtype))
        return loss

    def forward(self, q_ids, q_mask, d_ids, d_mask, teacher_scores: Optional[torch.Tensor] = None,
                inbatch_teacher: Optional[torch.Tensor] = None, q_ground: Optional[torch.Tensor] = None,
                d_ground: Optional[torch.Tensor] = None):
        q_piv, q_src, q_logits = self.reps(q_ids, q_mask)
        d_piv, d_src, d_logits = self.reps(d_ids, d_mask)
        pivot_scores = keep_top_k(q_piv, self.query_top_k) @ d_piv.T
        scores = pivot_scores + q_src @ d_src.T if q_src is not None else pivot_scores
        rank_loss = self.ranking(scores, teacher_scores, inbatch_teacher)
        loss = rank_loss
        out = {"rank_loss": rank_loss.detach()}
        if self.pivot_weight:
            pivot_loss = self.ranking(pivot_scores, teacher_scores, inbatch_teacher)
            loss = loss + self.pivot_weight * pivot_loss
            out["pivot_loss"] = pivot_loss.detach()
        if self.ground_weight:
            if q_ground is None or d_ground is None:
                raise ValueError("ground_weight needs the lexical teacher's targets of each example's English "
                                 "text: give SCTCollator a grounding teacher and (query, doc, query_en, doc_en) examples")
            ground = self.ground_loss
            ground_loss = ground(q_logits, q_ground.to(q_logits.dtype))
            if self.ground_docs:
                ground_loss = ground_loss + ground(d_logits, d_ground.to(d_logits.dtype))
            loss = loss + self.ground_weight * ground_loss
            out["ground_loss"] = ground_loss.detach()
        reg = l1 if self.reg == "l1" else flops
        reg_loss = self.lambda_q * reg(q_piv) + self.lambda_d * reg(d_piv)
        out["reg_loss"] = reg_loss.detach()
        return {"loss": loss + reg_loss, **out}


def keep_top_k(rep: torch.Tensor, k: Optional[int]) -> torch.Tensor:
    """Each row of ``rep`` with all but its ``k`` largest values zeroed (gradients reach the kept
    ones); ``rep`` itself when ``k`` is None or covers the row."""
    if k is None or k >= rep.shape[1]:
        return rep
    values, idx = rep.topk(k, dim=1)
    return torch.zeros_like(rep).scatter(1, idx, values)


class SCTCollator:
    """SCT examples -> SCTObjective inputs. Examples are pairs ``(query, positive)`` (in-batch
    negatives), quadruples ``(query, positive, query's English, positive's English)`` (for the
    grounding term), or BGE-style distillation records ``{query, pos, pos_scores, neg, neg_scores}``
    (group = first positive + ``group - 1`` negatives).

    ``dense_teacher`` (a :class:`~milco_pt.training.teachers.DenseTeacher`) adds its in-batch score
    matrix; ``grounding`` (a lexical teacher) adds the targets of the English sides."""

    def __init__(self, m_tokenizer, query_max_length: int = 64, doc_max_length: int = 256, group: int = 8,
                 dense_teacher=None, grounding=None):
        self.tok, self.q_len, self.d_len, self.group = m_tokenizer, query_max_length, doc_max_length, group
        self.dense_teacher, self.grounding = dense_teacher, grounding

    def __call__(self, examples) -> dict:
        english = None
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
            sizes = {len(e) for e in examples}
            if sizes - {2, 4} or len(sizes) > 1:
                raise ValueError(f"SCT examples are all (query, doc) or all (query, doc, query_en, doc_en); got "
                                 f"tuples of {sorted(sizes)} items")
            columns = list(zip(*examples))
            queries, docs = columns[:2]
            english = columns[2:] or None
            out_scores = None
        q_ids, q_mask = _tokenize(self.tok, queries, self.q_len)
        d_ids, d_mask = _tokenize(self.tok, docs, self.d_len)
        batch = {"q_ids": q_ids, "q_mask": q_mask, "d_ids": d_ids, "d_mask": d_mask}
        if out_scores is not None:
            batch["teacher_scores"] = out_scores
        if self.dense_teacher is not None:
            batch["inbatch_teacher"] = self.dense_teacher(list(queries), list(docs))
        if self.grounding is not None:
            if english is None:
                raise ValueError("a grounding teacher needs (query, doc, query_en, doc_en) examples: the English "
                                 "text of each query and document (e.g. data.ddtp_pairs(..., english=True))")
            batch["q_ground"], batch["d_ground"] = self.grounding(list(english[0])), self.grounding(list(english[1]))
        return batch


__all__ = ["SAPObjective", "SAPCollator", "SCTObjective", "SCTCollator"]
