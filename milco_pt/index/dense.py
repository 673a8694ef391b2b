"""An exact flat inner-product index of dense vectors (``doc_vec`` / ``query_vec``, as pyterrier_dr
names them), held in memory: the dense baselines' reference retrieval."""
from __future__ import annotations

from typing import Iterable, Optional, Union

import numpy as np
import pandas as pd
import pyterrier as pt


class FlatIndex(pt.Indexer):
    """Exact inner-product search over ``doc_vec`` rows held in memory; ties rank by indexing order."""

    def __init__(self, verbose: bool = False):
        self.verbose = verbose
        self.docnos: list[str] = []
        self.matrix: Optional[np.ndarray] = None

    def __repr__(self):
        return "FlatIndex()"

    def __len__(self):
        return len(self.docnos)

    def index(self, it: Union[pd.DataFrame, Iterable[dict]]) -> "FlatIndex":
        if self.matrix is not None:
            raise RuntimeError("this FlatIndex is already built; make a new one")
        records = it.to_dict("records") if isinstance(it, pd.DataFrame) else it
        if self.verbose:
            records = pt.tqdm(records, desc="Indexing", unit="doc")
        rows = []
        for n, rec in enumerate(records):
            if "docno" not in rec or "doc_vec" not in rec:
                raise KeyError(f"record {n} lacks 'docno' or 'doc_vec'; index a dense doc encoder's output")
            self.docnos.append(rec["docno"])
            rows.append(np.asarray(rec["doc_vec"], dtype=np.float32))
        if not rows:
            raise ValueError("nothing to index: the input has no records")
        self.matrix = np.stack(rows)
        return self

    def retriever(self, num_results: int = 1000) -> "FlatRetriever":
        if self.matrix is None:
            raise RuntimeError("index documents first: FlatIndex().index(doc_encoder(docs))")
        return FlatRetriever(self, num_results)

    def transform(self, inp: pd.DataFrame) -> pd.DataFrame:
        return self.retriever()(inp)


class FlatRetriever(pt.Transformer):
    def __init__(self, index: FlatIndex, num_results: int = 1000):
        self.index = index
        self.num_results = num_results

    def __repr__(self):
        return f"{self.index!r}.retriever(num_results={self.num_results})"

    def fuse_rank_cutoff(self, k):
        if k < self.num_results:
            return FlatRetriever(self.index, k)

    def transform(self, inp: pd.DataFrame) -> pd.DataFrame:
        pt.validate.query_frame(inp, extra_columns=["query_vec"])
        keep = list(inp.columns)
        if len(inp) == 0:
            return pd.DataFrame(columns=keep + ["docno", "score", "rank"])
        scores = np.stack([np.asarray(v, dtype=np.float32) for v in inp["query_vec"]]) @ self.index.matrix.T
        k = min(self.num_results, scores.shape[1])
        docnos = np.array(self.index.docnos, dtype=object)
        out = []
        for row, s in zip(inp.to_dict("records"), scores):
            kth = -np.partition(-s, k - 1)[k - 1]
            top = np.flatnonzero(s >= kth)
            top = top[np.lexsort((top, -s[top]))][:k]
            out += [{**row, "docno": docnos[j], "score": float(s[j]), "rank": r} for r, j in enumerate(top)]
        return pd.DataFrame(out)
