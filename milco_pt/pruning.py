"""Post-hoc pruning of sparse vectors (paper section 6): top-k, mass-based and threshold.

Every function orders terms by weight, descending, ties broken by the term itself, so
the result never depends on dict order. The transformers prune any toks column (pivot,
source, combined; queries and documents).
"""
from __future__ import annotations

import math
import numbers
from typing import Sequence, Union

import pandas as pd
import pyterrier as pt


def _ordered(vec: dict) -> list[tuple[str, float]]:
    """Terms by decreasing weight (ties by term); a NaN, infinite or negative weight is an error,
    since no pruning rule can rank it."""
    items = sorted(vec.items(), key=lambda tw: (-tw[1], tw[0]))
    for term, w in items:
        if not 0 <= w < math.inf:
            raise ValueError(f"term {term!r} has weight {w}: pruning needs finite weights >= 0")
    return items


def top_k(vec: dict, k: int) -> dict:
    """Keep the ``k`` highest-weighted terms."""
    if isinstance(k, bool) or not isinstance(k, numbers.Integral):
        raise TypeError(f"k is a number of terms, a whole number, not {k!r}")
    if k < 0:
        raise ValueError(f"k must be >= 0, got {k}")
    return dict(_ordered(vec)[:k])


def mass_prune(vec: dict, p: float) -> dict:
    """Drop the lowest-weighted terms whose cumulative weight is at most ``p`` % of the total.

    ``p=0`` keeps everything; the number of terms kept varies per vector.
    """
    if not 0 <= p < 100:
        raise ValueError(f"p is a percentage in [0, 100), got {p}")
    items = _ordered(vec)
    budget = sum(w for _, w in items) * p / 100.0
    dropped, keep = 0.0, len(items)
    while keep > 0 and dropped + items[keep - 1][1] <= budget * (1 + 1e-12):
        dropped += items[keep - 1][1]
        keep -= 1
    return dict(items[:keep])


def threshold(vec: dict, t: float) -> dict:
    """Keep the terms whose weight is at least ``t``."""
    return {term: w for term, w in _ordered(vec) if w >= t}


class _Pruner(pt.Transformer):
    def __init__(self, value, columns: Union[str, Sequence[str]] = "toks"):
        self.value = value
        self.columns = [columns] if isinstance(columns, str) else list(columns)
        self._fn(self.value)  # validate early

    def _fn(self, value):
        raise NotImplementedError

    def transform(self, inp: pd.DataFrame) -> pd.DataFrame:
        pt.validate.columns(inp, includes=self.columns)
        fn = self._fn(self.value)
        out = inp.copy()
        for col in self.columns:
            bad = [i for i, v in enumerate(out[col]) if not isinstance(v, dict)]
            if bad:
                raise TypeError(f"column {col!r} row {bad[0]} is {type(out[col].iloc[bad[0]]).__name__}, "
                                "not a {term: weight} dict")
            out[col] = [self._apply(fn, v, n, col, out) for n, v in enumerate(out[col])]
        return out

    @staticmethod
    def _apply(fn, vec: dict, n: int, col: str, frame: pd.DataFrame) -> dict:
        try:
            return fn(vec)
        except ValueError as e:
            where = f"row {n}" + (f" (docno {frame['docno'].iloc[n]!r})" if "docno" in frame else "")
            raise ValueError(f"{where}, column {col!r}: {e}") from None

    def __repr__(self):
        cols = self.columns[0] if len(self.columns) == 1 else self.columns
        return f"{type(self).__name__}({self.value!r}, columns={cols!r})"


class TopK(_Pruner):
    """Keep the k highest-weighted terms of each vector in ``columns``."""

    def _fn(self, k):
        top_k({}, k)
        return lambda v: top_k(v, k)


class MassPrune(_Pruner):
    """Mass-based pruning at percentile p (drops the lightest p % of each vector's weight)."""

    def _fn(self, p):
        mass_prune({}, p)
        return lambda v: mass_prune(v, p)


class Threshold(_Pruner):
    """Keep terms weighing at least t."""

    def _fn(self, t):
        return lambda v: threshold(v, t)
