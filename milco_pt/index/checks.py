"""What every index accepts, checked in Python before an engine (Java, C++, Rust) sees it, so that
bad input is an error naming the document or query and the term, never a crash, a lost term or a
silently different score.

Docnos: every backend stores docnos as strings (``str(docno)``: ``7`` and ``"7"`` are the same
document); a docno must be non-empty, hold no line break (engines store one docno a line) and be
unique in the corpus.

Weights (one rule, applied at indexing and at search time): a weight must be a finite number
``>= 0`` (terms of weight 0 are dropped). Engines that store integers (Anserini, PISA) keep
``round(weight * scale)``, which must be at most ``2**31 - 1``, as must a document's sum of them
(Lucene's and PISA's document length are 32-bit); PISA expands a query term into as many copies as
its integer weight, so a query's integer weights must sum to at most :data:`PISA_QUERY_TOTAL`.
Seismic stores float16, so its weights must be at most 65504. Pruning
(:mod:`milco_pt.pruning`) already rejects such weights upstream.
"""
from __future__ import annotations

import math
from numbers import Integral
from typing import Optional

import numpy as np

INT_MAX = 2**31 - 1
FLOAT16_MAX = 65504.0
PISA_QUERY_TOTAL = 2**25
_LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"


def short(term: str, width: int = 40) -> str:
    """``repr`` of ``term``, its first ``width`` characters when longer."""
    return repr(term) if len(term) <= width else f"{term[:width]!r}... ({len(term)} characters)"


def docno_of(rec: dict, n: int) -> str:
    """Record ``n``'s docno as a string (the one docno policy of every backend)."""
    docno = rec["docno"]
    if docno is None or (isinstance(docno, float) and math.isnan(docno)):
        raise ValueError(f"record {n} has no docno ({docno!r}): give every document a docno")
    docno = str(docno)
    if not docno or any(c in docno for c in _LINE_BREAKS):
        raise ValueError(f"record {n} has docno {docno!r}: a docno must be non-empty and hold no line break "
                         "(engines store one docno a line); rename the document")
    return docno


def query_where(inp, n: int, offset: int = 0) -> str:
    """How an error names row ``n`` of the query frame ``inp`` (a batch from row ``offset`` on)."""
    return f"query row {offset + n} (qid {inp['qid'].iloc[n]!r})"


def weights(vec: dict, where: str, max_weight: Optional[float] = None) -> np.ndarray:
    """The weights of ``vec`` as float64 once each is checked: a finite number ``>= 0`` and at most
    ``max_weight``; else a ``ValueError`` naming ``where`` (a document or query) and the term."""
    if not isinstance(vec, dict):
        raise TypeError(f"{where}: the vector is {type(vec).__name__}, not a dict {{term: weight}}")
    try:
        w = np.fromiter(vec.values(), dtype=np.float64, count=len(vec))
    except (TypeError, ValueError):
        term, value = next((t, v) for t, v in vec.items() if not _is_number(v))
        raise TypeError(f"{where}: term {short(str(term))} has weight {value!r}, not a number") from None
    bad = ~np.isfinite(w) | (w < 0)
    if max_weight is not None:
        bad |= w > max_weight
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        term = list(vec)[i]
        limit = "" if max_weight is None else f" and at most {max_weight:g} (this engine's largest weight)"
        raise ValueError(f"{where}: term {short(str(term))} has weight {float(w[i])!r}; weights must be finite numbers "
                         f">= 0{limit}: fix the encoder's output or drop the term")
    return w


def _is_number(v) -> bool:
    try:
        float(v)
        return True
    except (TypeError, ValueError):
        return False


def check_integer_weights(vec: dict, q: np.ndarray, scale: float, where: str, max_total: int = INT_MAX):
    """Raise when an integer weight ``q = round(w * scale)`` of ``vec`` exceeds ``2**31 - 1`` or
    their sum exceeds ``max_total``."""
    if len(q) == 0:
        return
    if q.max() > INT_MAX:
        i = int(np.argmax(q))
        raise ValueError(f"{where}: term {short(str(list(vec)[i]))} has weight {list(vec.values())[i]!r}, and "
                         f"round(weight * scale={scale:g}) = {q[i]:.0f} exceeds 2**31 - 1, the largest integer "
                         "weight Anserini and PISA store: lower the weight or the scale")
    total = float(q.sum())
    if total > max_total:
        raise ValueError(f"{where}: the integer weights round(weight * scale={scale:g}) sum to {total:.0f}, above "
                         f"{max_total} (the engine's limit on a document's length / a query's size): lower the "
                         "weights or the scale")


def check_num_results(num_results, name: str = "num_results") -> int:
    """``num_results`` when it is a whole number ``>= 1`` (a retriever's cutoff, ``--k`` on the CLI)."""
    if isinstance(num_results, bool) or not isinstance(num_results, Integral) or num_results < 1:
        raise ValueError(f"{name} must be a whole number >= 1, not {num_results!r}")
    return int(num_results)
