"""An exact flat inner-product index of dense vectors (``doc_vec`` / ``query_vec``, as pyterrier_dr
names them), held in memory: the dense baselines' reference retrieval."""
from __future__ import annotations

from typing import Iterable, Optional, Union

import numpy as np
import pandas as pd
import pyterrier as pt

from .base import Retriever, ranked_lists_frame, read_records


class FlatIndex(pt.Indexer):
    """Exact inner-product search over ``doc_vec`` rows held in memory; ties rank by indexing order."""

    query_column = "query_vec"

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
        rows = []
        for rec in read_records(it, "doc_vec", self.verbose, source="a dense doc encoder's output"):
            self.docnos.append(rec["docno"])
            rows.append(np.asarray(rec["doc_vec"], dtype=np.float32))
        if not rows:
            raise ValueError("nothing to index: the input has no records")
        self.matrix = np.stack(rows)
        return self

    def retriever(self, num_results: int = 1000, *, query_column: str = "query_vec") -> "FlatRetriever":
        if self.matrix is None:
            raise RuntimeError("index documents first: FlatIndex().index(doc_encoder(docs))")
        return FlatRetriever(self, num_results, query_column=query_column)

    def transform(self, inp: pd.DataFrame) -> pd.DataFrame:
        return self.retriever()(inp)


class FlatRetriever(Retriever):
    """The top ``num_results`` inner products of each query vector with every document vector."""

    def search(self, inp, queries):
        scores = np.stack([np.asarray(v, dtype=np.float32) for v in queries]) @ self.index.matrix.T
        k = min(self.num_results, scores.shape[1])
        docnos = np.array(self.index.docnos, dtype=object)
        ranked = []
        for s in scores:
            kth = -np.partition(-s, k - 1)[k - 1]
            top = np.flatnonzero(s >= kth)
            top = top[np.lexsort((top, -s[top]))][:k]
            ranked.append([(docnos[j], float(s[j])) for j in top])
        return ranked_lists_frame(inp, ranked)
