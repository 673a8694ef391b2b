"""Dual-view fusion over two impact indexes: ``alpha * pivot + (1 - alpha) * source``.

The authors' score is the plain sum of both views (one combined index does it). With one
index per view, each retrieves its own candidates; a candidate found by one view only is
scored in the other view **exactly from its stored vector** (not as 0), so the fused score
of every candidate equals the exact weighted dual-view score on the quantized vectors.
``alpha=0.5`` ranks as the authors' plain sum (paper Table 19 sweeps alpha).

Each missing candidate's stored vector is read once per call however many queries need it, and
the fusions of one :meth:`DualViewFusion.sweep` share their per-view scores, so a sweep over
alphas retrieves and fills in once.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
import pyterrier as pt

from .index.anserini import ImpactIndex, quantize
from .views import dot


class DualViewFusion(pt.Transformer):
    """Retrieves from a pivot-view and a source-view :class:`ImpactIndex` and fuses the scores."""

    def __init__(self, pivot: ImpactIndex, source: ImpactIndex, alpha: float = 0.5,
                 num_results: int = 1000, candidates: int = 1000, threads: int = 1, _shared=None):
        """
        Args:
            pivot / source: impact indexes of ``toks`` and ``src_toks`` (same scale).
            alpha: weight of the pivot view; the source view gets ``1 - alpha``.
            num_results: results kept per query after fusion.
            candidates: results retrieved from each view before fusion.
        """
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"alpha must be in [0, 1], got {alpha}")
        if pivot.scale != source.scale:
            raise ValueError(f"the two indexes have different scales ({pivot.scale} vs {source.scale}); "
                             "rebuild one so that the views' scores are comparable")
        self.pivot, self.source = pivot, source
        self.alpha = alpha
        self.num_results = num_results
        self.candidates = candidates
        self.threads = threads
        self._shared = _shared

    def __repr__(self):
        return (f"DualViewFusion({self.pivot!r}, {self.source!r}, alpha={self.alpha!r}, "
                f"num_results={self.num_results})")

    def fuse_rank_cutoff(self, k):
        if k < self.num_results:
            return DualViewFusion(self.pivot, self.source, self.alpha, k, self.candidates, self.threads,
                                  self._shared)

    def sweep(self, alphas: Sequence[float]) -> list["DualViewFusion"]:
        """One fusion per alpha, e.g. for ``pt.Experiment`` (paper Table 19); they share the
        per-view scores of the queries they see, so only the first one searches. The shared
        scores live as long as the fusions (up to 2 x ``candidates`` per query): make a new
        sweep for another topic set."""
        shared: dict = {}
        return [DualViewFusion(self.pivot, self.source, a, self.num_results, self.candidates, self.threads, shared)
                for a in alphas]

    def _view_scores(self, rows: list[dict], qcols: list[str]) -> list[tuple[list, list, list]]:
        """Per row: its candidates (union of both views' results) and their exact pivot and
        source scores (quantized dot products; a view's missing candidates from stored vectors)."""
        views = [(self.pivot, qcols[0]), (self.source, qcols[1])]
        frame = pd.DataFrame({c: [r[c] for r in rows] for c in ["qid", *qcols]})
        got = []
        for index, col in views:
            res = index.retriever(self.candidates, self.threads)(frame[["qid", col]])
            found = {qid: dict(zip(g["docno"], g["score"])) for qid, g in res.groupby("qid", sort=False)}
            got.append([dict(found.get(r["qid"], {})) for r in rows])
        cands = [list(dict.fromkeys([*p, *s])) for p, s in zip(*got)]
        for (index, col), per_row in zip(views, got):
            need: dict[str, list[int]] = {}
            for i, (cs, have) in enumerate(zip(cands, per_row)):
                for d in cs:
                    if d not in have:
                        need.setdefault(d, []).append(i)
            queries: dict[int, dict] = {}
            for d, vec in index.iter_vectors(need):
                for i in need[d]:
                    if i not in queries:
                        queries[i] = quantize(rows[i][col], index.scale)
                    per_row[i][d] = float(dot(queries[i], vec))
        scale2 = float(self.pivot.scale) ** 2
        return [(cs, [p[d] / scale2 for d in cs], [s[d] / scale2 for d in cs])
                for cs, p, s in zip(cands, *got)]

    def transform(self, inp: pd.DataFrame) -> pd.DataFrame:
        qcols = ["query_" + self.pivot.column, "query_" + self.source.column]
        pt.validate.query_frame(inp, extra_columns=qcols)
        keep = list(inp.columns)
        empty = pd.DataFrame(columns=keep + ["docno", "score", "rank", "pivot_score", "source_score"])
        if len(inp) == 0:
            return empty
        rows = inp.to_dict("records")
        memo = self._shared if self._shared is not None else {}
        keys = [(r["qid"], *(tuple(sorted(r[c].items())) for c in qcols)) for r in rows]
        todo = {k: r for k, r in zip(keys, rows) if k not in memo}
        if todo:
            memo.update(zip(todo, self._view_scores(list(todo.values()), qcols)))
        take, docnos, pivot, source = [], [], [], []
        for i, key in enumerate(keys):
            cs, p, s = (np.asarray(x) for x in memo[key])
            if len(cs) == 0:
                continue
            top = np.lexsort((cs, -(self.alpha * p + (1 - self.alpha) * s)))[: self.num_results]
            take.append(np.full(len(top), i))
            docnos.append(cs[top])
            pivot.append(p[top])
            source.append(s[top])
        if not take:
            return empty
        res = inp.iloc[np.concatenate(take)].reset_index(drop=True)
        res["docno"] = np.concatenate(docnos).astype(object)
        res["pivot_score"], res["source_score"] = np.concatenate(pivot), np.concatenate(source)
        res["score"] = self.alpha * res["pivot_score"] + (1 - self.alpha) * res["source_score"]
        res = res.sort_values(["qid", "score", "docno"], ascending=[True, False, True], kind="stable")
        res["rank"] = res.groupby("qid").cumcount()
        return res[res["rank"] < self.num_results].reset_index(drop=True)
