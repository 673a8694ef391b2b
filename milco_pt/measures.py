"""Evaluation measures beyond ir_measures' own: MKQA answer recall as BGE-M3 (after DPR) computes it.

A retrieved passage counts when it contains a gold answer: both are NFD-normalised, split into
tokens (runs of letters/digits/marks, or single other non-space characters) and lowercased, and
the answer's tokens must occur contiguously in the passage's.
"""
from __future__ import annotations

import unicodedata
from typing import Mapping, Sequence

import regex

_TOKEN = regex.compile(r"([\p{L}\p{N}\p{M}]+)|([^\p{Z}\p{C}])", flags=regex.IGNORECASE | regex.UNICODE | regex.MULTILINE)


def answer_tokens(text: str) -> list[str]:
    return [m.group().lower() for m in _TOKEN.finditer(unicodedata.normalize("NFD", text))]


def has_answer(passage: str, answers: Sequence[str]) -> bool:
    """Whether ``passage`` contains one of ``answers`` (token sequence match, case-insensitive)."""
    toks = answer_tokens(passage)
    for answer in answers:
        a = answer_tokens(answer)
        if a and any(toks[i:i + len(a)] == a for i in range(len(toks) - len(a) + 1)):
            return True
    return False


def AnswerRecall(answers: Mapping[str, Sequence[str]], passages: Mapping[str, str], name: str = "AnswerRecall"):
    """An ir_measures measure for ``pt.Experiment``: 1 when one of a query's top-k passages holds a
    gold answer, else 0 (``AnswerRecall(ds.answers, texts) @ 100`` is the paper's MKQA R@100).

    ``answers``: ``{qid: [answer, ...]}``; ``passages``: ``{docno: passage text}`` (any mapping).
    """
    import ir_measures

    def impl(qrels, run) -> float:
        qid = str(run["query_id"].iloc[0])
        if qid not in answers:
            raise KeyError(f"no answers for query {qid!r}: AnswerRecall needs the collection's answers")
        return float(any(has_answer(passages[d], answers[qid]) for d in run["doc_id"]))

    return ir_measures.define_byquery(impl, name=name, pretty_name="Answer recall",
                                      short_desc="a top-k passage contains a gold answer (MKQA, BGE-M3)")


def grounding(vectors: Sequence[Mapping[str, float]], translations: Sequence[str], en_vocab: Sequence[str]) -> dict:
    """How far pivot vectors of non-English texts are the English translation's own words: the
    share of pivot terms, and of pivot weight, that are wordpieces of the translation (uncased
    WordPiece over the English head's vocabulary). Averaged over texts; the rest is expansion.
    """
    from transformers import BertTokenizer
    if len(vectors) != len(translations):
        raise ValueError(f"{len(vectors)} vectors but {len(translations)} translations")
    tok = BertTokenizer(vocab={t: i for i, t in enumerate(en_vocab)}, do_lower_case=True)
    terms, weight, sizes = [], [], []
    for vec, text in zip(vectors, translations):
        if not vec:
            continue
        words = set(tok.tokenize(text))
        total = sum(vec.values())
        terms.append(sum(t in words for t in vec) / len(vec))
        weight.append(sum(w for t, w in vec.items() if t in words) / total if total else 0.0)
        sizes.append(len(vec))
    n = max(1, len(terms))
    return {"texts": len(terms), "term_share": sum(terms) / n, "weight_share": sum(weight) / n,
            "terms_per_text": sum(sizes) / n}
