"""Dual-view fusion over two sparse indexes: ``alpha * pivot + (1 - alpha) * source``.

The authors' score is the plain sum of both views (one combined index does it). With one
index per view, each retrieves its own candidates; a candidate found by one view only is
scored in the other view **exactly from its stored vector** (not as 0), so the fused score
of every candidate equals the exact weighted dual-view score on the indexed vectors (quantized
for Anserini and PISA; float for Seismic, whose approximate scores are all recomputed so). Any
two indexes with a forward store (:class:`~milco_pt.index.forward.ForwardIndex`) whose weights
are in the same space pair up.
``alpha=0.5`` ranks as the authors' plain sum (paper Table 19 sweeps alpha).

Each missing candidate's stored vector is read once per call however many queries need it, and
the fusions of one :meth:`DualViewFusion.sweep` share their per-view scores, so a sweep over
alphas retrieves and fills in once.
"""
from __future__ import annotations

from typing import Mapping, Optional, Sequence

import numpy as np
import pandas as pd
import pyterrier as pt

from .index.base import empty_results, results_frame
from .index.checks import check_num_results
from .index.forward import ForwardIndex
from .views import dot


def weight_space(index) -> str:
    """How ``index`` stores weights, in words (for the error on views that do not compare)."""
    return "float weights" if index.scale is None else f"integer weights round(w * {index.scale})"


class DualViewFusion(pt.Transformer):
    """Retrieves from a pivot-view and a source-view index and fuses the scores."""

    def __init__(self, pivot: ForwardIndex, source: ForwardIndex, alpha: float = 0.5,
                 num_results: int = 1000, candidates: int = 1000, threads: int = 1,
                 search: Optional[Mapping] = None, _shared=None):
        """
        Args:
            pivot / source: indexes of ``toks`` and ``src_toks`` with a forward store (Anserini,
                PISA or Seismic), their weights in the same space (the same ``scale``).
            alpha: weight of the pivot view; the source view gets ``1 - alpha``.
            num_results: results kept per query after fusion.
            candidates: results retrieved from each view before fusion.
            search: more arguments of both indexes' ``retriever()`` (e.g. Seismic's ``heap_factor``).
        """
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"alpha must be in [0, 1], got {alpha}")
        for name, index in (("pivot", pivot), ("source", source)):
            if not isinstance(index, ForwardIndex):
                raise TypeError(f"the {name} view {index!r} keeps no stored vectors: use an Anserini, PISA or "
                                "Seismic index (milco_pt.sparse_index)")
        if pivot.scale != source.scale:
            raise ValueError(f"the views' scores are not comparable: the pivot index {pivot!r} stores "
                             f"{weight_space(pivot)}, the source index {source!r} {weight_space(source)}; "
                             "rebuild one with the other's scale (or both with seismic)")
        self.pivot, self.source = pivot, source
        self.alpha = alpha
        self.num_results = check_num_results(num_results)
        self.candidates = check_num_results(candidates, "candidates")
        self.threads = threads
        self.search = dict(search or {})
        self._shared = _shared

    def __repr__(self):
        search = f", search={self.search!r}" if self.search else ""
        return (f"DualViewFusion({self.pivot!r}, {self.source!r}, alpha={self.alpha!r}, "
                f"num_results={self.num_results}{search})")

    def _with(self, alpha: float, num_results: int, shared) -> "DualViewFusion":
        return DualViewFusion(self.pivot, self.source, alpha, num_results, self.candidates, self.threads,
                              self.search, shared)

    def fuse_rank_cutoff(self, k):
        if k < self.num_results:
            return self._with(self.alpha, k, self._shared)

    def sweep(self, alphas: Sequence[float]) -> list["DualViewFusion"]:
        """One fusion per alpha, e.g. for ``pt.Experiment`` (paper Table 19); they share the
        per-view scores of the queries they see, so only the first one searches. The shared
        scores live as long as the fusions (up to 2 x ``candidates`` per query): make a new
        sweep for another topic set."""
        shared: dict = {}
        return [self._with(a, self.num_results, shared) for a in alphas]

    def _view_scores(self, rows: list[dict], qcols: list[str]) -> list[tuple[list, list, list]]:
        """Per row: its candidates (union of both views' results) and their exact pivot and
        source scores (dot products of the indexed vectors; a view's missing candidates from stored
        vectors). Rows are searched under their position, so rows sharing a qid stay apart."""
        views = [(self.pivot, qcols[0]), (self.source, qcols[1])]
        frame = pd.DataFrame({"qid": [str(i) for i in range(len(rows))], **{c: [r[c] for r in rows] for c in qcols}})
        got = []
        for index, col in views:
            res = index.retriever(num_results=self.candidates, threads=self.threads, **self.search)(frame[["qid", col]])
            found = {qid: dict(zip(g["docno"], g["score"])) for qid, g in res.groupby("qid", sort=False)}
            got.append([dict(found.get(str(i), {})) for i in range(len(rows))])
        cands = [list(dict.fromkeys([*p, *s])) for p, s in zip(*got)]
        for (index, col), per_row in zip(views, got):
            need: dict[str, list[int]] = {}
            for i, (cs, have) in enumerate(zip(cands, per_row)):
                for d in cs:
                    if d not in have or not index.exact_scores:
                        need.setdefault(d, []).append(i)
            queries: dict[int, dict] = {}
            for d, vec in index.iter_vectors(need):
                for i in need[d]:
                    if i not in queries:
                        queries[i] = index.query_vector(rows[i][col], f"query {rows[i]['qid']!r}")
                    per_row[i][d] = float(dot(queries[i], vec))
        unit = self.pivot.score_unit
        return [(cs, [p[d] / unit for d in cs], [s[d] / unit for d in cs])
                for cs, p, s in zip(cands, *got)]

    def transform(self, inp: pd.DataFrame) -> pd.DataFrame:
        qcols = [self.pivot.query_column, self.source.query_column]
        pt.validate.query_frame(inp, extra_columns=qcols)
        empty = empty_results(inp).assign(pivot_score=[], source_score=[])
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
        pivot, source = np.concatenate(pivot), np.concatenate(source)
        fused = self.alpha * pivot + (1 - self.alpha) * source
        res = results_frame(inp, np.concatenate(take), np.concatenate(docnos), fused)
        res = res.assign(pivot_score=pivot, source_score=source)
        # each row's hits are ranked already (score, then docno); rows sharing a qid keep their own ranks
        return res.sort_values("qid", kind="stable").reset_index(drop=True)
