"""Encoding texts into MILCO's two views as ``{term: weight}`` dicts.

Pivot view: English wordpieces (``e_`` terms in the authors' naming); source view (LexEcho):
the input's own XLM-R pieces, sum-pooled per token id (``m_`` terms). ``combine`` merges
both into one dict with the prefixes, which scores by a plain dot product as the authors do.
"""
from __future__ import annotations

from typing import Iterable, Optional, Sequence

import numpy as np
import torch

from .encoding import BatchEncoder

PIVOT, SOURCE = "pivot", "source"
VIEWS = (PIVOT, SOURCE)
COMBINED = "combined"  # both views in one vector, under the prefixes below
PIVOT_PREFIX, SOURCE_PREFIX = "e_", "m_"


def combine(pivot: Optional[dict], source: Optional[dict]) -> dict:
    """One vector with the authors' names: ``e_<wordpiece>`` and ``m_<sentencepiece>``."""
    out = {PIVOT_PREFIX + t: w for t, w in (pivot or {}).items()}
    out.update({SOURCE_PREFIX + t: w for t, w in (source or {}).items()})
    return out


def combine_all(vectors: dict[str, list[dict]]) -> list[dict]:
    """Per-text combined vectors from ``{view: [vector per text]}`` (either view may be absent)."""
    n = len(next(iter(vectors.values()), []))
    return [combine(p, s) for p, s in zip(vectors.get(PIVOT, [None] * n), vectors.get(SOURCE, [None] * n))]


def split_combined(combined: dict) -> tuple[dict, dict]:
    """Inverse of :func:`combine`."""
    pivot, source = {}, {}
    for t, w in combined.items():
        if t.startswith(PIVOT_PREFIX):
            pivot[t[2:]] = w
        elif t.startswith(SOURCE_PREFIX):
            source[t[2:]] = w
        else:
            raise ValueError(f"term {t!r} has neither the e_ nor the m_ prefix of a combined vector")
    return pivot, source


def split(combined: dict) -> tuple[dict, dict]:
    """Deprecated name of :func:`split_combined` (it read as a train/test split)."""
    import warnings
    warnings.warn("milco_pt.split is now milco_pt.split_combined; the old name will be removed in the next "
                  "release", DeprecationWarning, stacklevel=2)
    return split_combined(combined)


def dot(a: dict, b: dict) -> float:
    """Sparse dot product of two term-weight dicts."""
    if len(a) > len(b):
        a, b = b, a
    return float(sum(w * b[t] for t, w in a.items() if t in b))


def check_views(views) -> tuple[str, ...]:
    views = (views,) if isinstance(views, str) else tuple(views)
    bad = [v for v in views if v not in VIEWS]
    if bad or not views:
        raise ValueError(f"views must be a non-empty subset of {VIEWS}, got {views!r}")
    return tuple(v for v in VIEWS if v in views)


class ViewEncoder(BatchEncoder):
    """Runs a :class:`~milco_pt.model.MilcoModel` over texts and returns per-view dicts, batched
    as every encoder is (:class:`~milco_pt.encoding.BatchEncoder`)."""

    def __init__(self, model, m_tokenizer, en_vocab: Sequence[str], *, device=None,
                 lowercase: bool = True, drop_special: bool = False, precision: str = "auto"):
        super().__init__(model, m_tokenizer, device=device, precision=precision)
        self.lowercase = lowercase
        self.drop_special = drop_special
        self.pivot_names = np.array(en_vocab, dtype=object)
        pieces = m_tokenizer.convert_ids_to_tokens(list(range(len(m_tokenizer))))
        self.source_names = np.array(pieces, dtype=object)
        self.special_ids = np.array(sorted(m_tokenizer.all_special_ids), dtype=np.int64)

    @property
    def m_tokenizer(self):
        """The multilingual (XLM-R) tokenizer."""
        return self.tokenizer

    def encode(self, texts: Iterable[str], max_length: int, views=VIEWS, batch_size: int = 32,
               verbose: bool = False, desc: str = "Encoding") -> dict[str, list[dict]]:
        """``{view: [vector per text]}`` for the requested views."""
        views = check_views(views)
        rows = self.encode_rows(texts, max_length, views, batch_size, verbose, desc)
        return {v: [r[v] for r in rows] for v in views}

    def encode_rows(self, texts: Iterable[str], max_length: int, views=VIEWS, batch_size: int = 32,
                    verbose: bool = False, desc: str = "Encoding") -> list[dict[str, dict]]:
        """``[{view: vector} per text]`` for the requested views."""
        views = check_views(views)
        if SOURCE in views and not self.model.config.echo:
            raise ValueError("the source view needs a LexEcho head, and this checkpoint has none "
                             "(config.echo is false): use views=('pivot',)")
        return self.encode_batches(list(texts), max_length, batch_size, verbose, desc, views=views)

    def prepare(self, text: str, views) -> str:
        return text.lower() if self.lowercase else text

    def empty(self, views) -> dict:
        return {v: {} for v in views}

    def encode_batch(self, enc: dict, views) -> list[dict]:
        ids = enc["input_ids"]
        pivot, source = self.model.encode(ids, enc["attention_mask"], pivot=PIVOT in views,
                                          source=SOURCE in views)
        out = {}
        if pivot is not None:
            out[PIVOT] = self._pivot_dicts(pivot)
        if source is not None:
            out[SOURCE] = self._source_dicts(ids, source)
        return [dict(zip(out, vecs)) for vecs in zip(*out.values())]

    def _pivot_dicts(self, pivot: torch.Tensor) -> list[dict]:
        pivot = pivot.float().cpu().numpy()
        res = []
        for row in pivot:
            idx = np.flatnonzero(row > 0)
            res.append(dict(zip(self.pivot_names[idx].tolist(), row[idx].tolist())))
        return res

    def _source_dicts(self, ids: torch.Tensor, weights: torch.Tensor) -> list[dict]:
        ids = ids.cpu().numpy()
        weights = weights.float().cpu().numpy()
        res = []
        for row_ids, row_w in zip(ids, weights):
            keep = row_w > 0
            if self.drop_special:
                keep &= ~np.isin(row_ids, self.special_ids)
            uniq, inv = np.unique(row_ids[keep], return_inverse=True)
            sums = np.bincount(inv, weights=row_w[keep].astype(np.float64), minlength=len(uniq))
            res.append(dict(zip(self.source_names[uniq].tolist(), sums.astype(np.float32).tolist())))
        return res
