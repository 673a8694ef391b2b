"""Encoding texts into MILCO's two views as ``{term: weight}`` dicts.

Pivot view: English wordpieces (``e_`` terms in the authors' naming); source view (LexEcho):
the input's own XLM-R pieces, sum-pooled per token id (``m_`` terms). ``combine`` merges
both into one dict with the prefixes, which scores by a plain dot product as the authors do.
"""
from __future__ import annotations

import math
from contextlib import nullcontext
from typing import Iterable, Optional, Sequence

import numpy as np
import pyterrier as pt
import torch

PIVOT, SOURCE = "pivot", "source"
VIEWS = (PIVOT, SOURCE)
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


def split(combined: dict) -> tuple[dict, dict]:
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


def check_texts(texts: Sequence, column: str, ids: Optional[Sequence] = None) -> list[str]:
    """Validate input texts: a None/NaN or non-string value is an error naming its row."""
    out = []
    for i, t in enumerate(texts):
        where = f"row {i}" + (f" ({ids[i]!r})" if ids is not None else "")
        if t is None or (isinstance(t, float) and math.isnan(t)):
            raise ValueError(f"{where} has no {column!r} (None/NaN); drop or fill such rows first, "
                             f"e.g. df.dropna(subset=[{column!r}]) or df.fillna({{{column!r}: ''}})")
        if not isinstance(t, str):
            raise TypeError(f"{where}: {column!r} must be a string, got {type(t).__name__} {t!r}")
        out.append(t)
    return out


def autocast(device: torch.device, precision: str = "auto"):
    """Mixed precision context: ``auto`` is bf16 autocast on GPU and plain fp32 on CPU."""
    if precision == "auto":
        precision = "bf16" if device.type == "cuda" else "fp32"
    if precision == "fp32":
        return nullcontext()
    if precision not in ("bf16", "fp16"):
        raise ValueError(f"precision must be auto, fp32, bf16 or fp16, not {precision!r}")
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}[precision]
    return torch.autocast(device_type=device.type, dtype=dtype)


class ViewEncoder:
    """Runs a :class:`~milco_pt.model.MilcoModel` over texts and returns per-view dicts.

    Texts are encoded longest first so that batches carry little padding (the vectors do not
    depend on batching). Empty or whitespace-only texts give empty vectors without a forward pass.
    """

    def __init__(self, model, m_tokenizer, en_vocab: Sequence[str], *, device=None,
                 lowercase: bool = True, drop_special: bool = False, precision: str = "auto"):
        self.model = model
        self.m_tokenizer = m_tokenizer
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.model.to(self.device).eval()
        self.lowercase = lowercase
        self.drop_special = drop_special
        self.precision = precision
        self.pivot_names = np.array(en_vocab, dtype=object)
        pieces = m_tokenizer.convert_ids_to_tokens(list(range(len(m_tokenizer))))
        self.source_names = np.array(pieces, dtype=object)
        self.special_ids = np.array(sorted(m_tokenizer.all_special_ids), dtype=np.int64)


    def encode(self, texts: Iterable[str], max_length: int, views=VIEWS, batch_size: int = 32,
               verbose: bool = False, desc: str = "Encoding") -> dict[str, list[dict]]:
        """``{view: [vector per text]}`` for the requested views."""
        views = check_views(views)
        if SOURCE in views and not self.model.config.echo:
            raise ValueError("the source view needs a LexEcho head, and this checkpoint has none "
                             "(config.echo is false): use views=('pivot',)")
        texts = [t.lower() if self.lowercase else t for t in texts]
        out = {v: [{} for _ in texts] for v in views}
        todo = [i for i, t in enumerate(texts) if t.strip()]
        todo.sort(key=lambda i: -len(texts[i]))
        batches = [todo[s:s + batch_size] for s in range(0, len(todo), batch_size)]
        if verbose:
            batches = pt.tqdm(batches, desc=desc, unit="batch")
        for batch in batches:
            enc = self.m_tokenizer([texts[i] for i in batch], padding=True, truncation=True,
                                   max_length=max_length, return_tensors="pt")
            ids = enc["input_ids"].to(self.device)
            mask = enc["attention_mask"].to(self.device)
            with torch.inference_mode(), autocast(self.device, self.precision):
                pivot, source = self.model.encode(ids, mask, pivot=PIVOT in views, source=SOURCE in views)
            if pivot is not None:
                for i, vec in zip(batch, self._pivot_dicts(pivot)):
                    out[PIVOT][i] = vec
            if source is not None:
                for i, vec in zip(batch, self._source_dicts(ids, source)):
                    out[SOURCE][i] = vec
        return out

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
