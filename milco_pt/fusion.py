"""Dual-view fusion over two impact indexes: ``alpha * pivot + (1 - alpha) * source``.

The authors' score is the plain sum of both views (one combined index does it). With one
index per view, each retrieves its own candidates; a candidate found by one view only is
scored in the other view **exactly from its stored vector** (not as 0), so the fused score
of every candidate equals the exact weighted dual-view score on the quantized vectors.
``alpha=0.5`` ranks as the authors' plain sum (paper Table 19 sweeps alpha).
"""
from __future__ import annotations

from typing import Sequence

import pandas as pd
import pyterrier as pt

from .impact import ImpactIndex, quantize
from .views import dot


class DualViewFusion(pt.Transformer):
    """Retrieves from a pivot-view and a source-view :class:`ImpactIndex` and fuses the scores."""

    def __init__(self, pivot: ImpactIndex, source: ImpactIndex, alpha: float = 0.5,
                 num_results: int = 1000, candidates: int = 1000, threads: int = 1):
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

    def __repr__(self):
        return (f"DualViewFusion({self.pivot!r}, {self.source!r}, alpha={self.alpha!r}, "
                f"num_results={self.num_results})")

    def fuse_rank_cutoff(self, k):
        if k < self.num_results:
            return DualViewFusion(self.pivot, self.source, self.alpha, k, self.candidates, self.threads)

    def sweep(self, alphas: Sequence[float]) -> list["DualViewFusion"]:
        """One fusion per alpha, e.g. for ``pt.Experiment`` (paper Table 19)."""
        return [DualViewFusion(self.pivot, self.source, a, self.num_results, self.candidates, self.threads)
                for a in alphas]

    def transform(self, inp: pd.DataFrame) -> pd.DataFrame:
        qcols = ["query_" + self.pivot.column, "query_" + self.source.column]
        pt.validate.query_frame(inp, extra_columns=qcols)
        keep = list(inp.columns)
        if len(inp) == 0:
            return pd.DataFrame(columns=keep + ["docno", "score", "rank", "pivot_score", "source_score"])
        scale2 = float(self.pivot.scale) ** 2
        views = [(self.pivot, qcols[0]), (self.source, qcols[1])]
        found = []
        for index, col in views:
            res = index.retriever(self.candidates, self.threads)(inp[["qid", col]])
            found.append({qid: dict(zip(g["docno"], g["score"])) for qid, g in res.groupby("qid", sort=False)})
        out = []
        for row in inp.to_dict("records"):
            per_view = [f.get(row["qid"], {}) for f in found]
            cands = list(dict.fromkeys([*per_view[0], *per_view[1]]))
            scores = []
            for (index, col), got in zip(views, per_view):
                missing = [d for d in cands if d not in got]
                if missing:
                    q = quantize(row[col], index.scale)
                    got = {**got, **{d: float(dot(q, v)) for d, v in zip(missing, index.vectors(missing))}}
                scores.append([got[d] / scale2 for d in cands])
            for d, p, s in zip(cands, *scores):
                out.append({**row, "docno": d, "pivot_score": p, "source_score": s,
                            "score": self.alpha * p + (1 - self.alpha) * s})
        if not out:
            return pd.DataFrame(columns=keep + ["docno", "score", "rank", "pivot_score", "source_score"])
        res = pd.DataFrame(out)
        res = res.sort_values(["qid", "score", "docno"], ascending=[True, False, True], kind="stable")
        res["rank"] = res.groupby("qid").cumcount()
        return res[res["rank"] < self.num_results].reset_index(drop=True)
