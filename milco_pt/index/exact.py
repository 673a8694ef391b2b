"""Exact in-memory sparse retrieval (scipy): the reference every other backend is tested against.

Documents' toks columns (e.g. ``toks`` and ``src_toks``) are stacked into one CSR matrix, each
column in its own term namespace, so a query's score is the sum over views of the float dot
products, optionally weighted per view. Ties rank by indexing order.
"""
from __future__ import annotations

from typing import Iterable, Mapping, Optional, Sequence, Union

import numpy as np
import pandas as pd
import pyterrier as pt
import scipy.sparse as sp


def query_column(doc_column: str) -> str:
    """The query-side column of a document toks column: ``toks`` -> ``query_toks``."""
    return "query_" + doc_column


class ExactIndex(pt.Indexer):
    """An in-memory index of sparse vectors, searched exactly with float weights."""

    def __init__(self, columns: Union[str, Sequence[str]] = ("toks",),
                 weights: Optional[Mapping[str, float]] = None, verbose: bool = False):
        """
        Args:
            columns: the document toks columns to index (e.g. ``("toks", "src_toks")``).
            weights: per-column weight in the score (default 1 each: the authors' plain sum).
            verbose: show a progress bar while indexing.
        """
        self.columns = [columns] if isinstance(columns, str) else list(columns)
        self.weights = {c: 1.0 for c in self.columns}
        self.weights.update(weights or {})
        unknown = set(self.weights) - set(self.columns)
        if unknown:
            raise ValueError(f"weights name columns that are not indexed: {sorted(unknown)}")
        self.verbose = verbose
        self.vocab: dict[tuple[int, str], int] = {}
        self.docnos: list[str] = []
        self.matrix: Optional[sp.csr_matrix] = None

    def __len__(self):
        return len(self.docnos)

    def __repr__(self):
        w = {c: v for c, v in self.weights.items() if v != 1.0}
        return f"ExactIndex(columns={self.columns!r}{f', weights={w!r}' if w else ''})"

    def index(self, it: Union[pd.DataFrame, Iterable[dict]]) -> "ExactIndex":
        """Index records holding ``docno`` and every indexed column; returns ``self``."""
        if self.matrix is not None:
            raise RuntimeError("this ExactIndex is already built; make a new one")
        records = it.to_dict("records") if isinstance(it, pd.DataFrame) else it
        if self.verbose:
            records = pt.tqdm(records, desc="Indexing", unit="doc")
        indptr, indices, data = [0], [], []
        for n, rec in enumerate(records):
            missing = [c for c in ["docno", *self.columns] if c not in rec]
            if missing:
                raise KeyError(f"record {n} lacks {missing}; index the output of a doc encoder "
                               f"that produces {self.columns}")
            self.docnos.append(rec["docno"])
            for ci, col in enumerate(self.columns):
                for term, w in rec[col].items():
                    if w:
                        indices.append(self.vocab.setdefault((ci, term), len(self.vocab)))
                        data.append(float(w) * self.weights[col])
            indptr.append(len(indices))
        self.matrix = sp.csr_matrix((np.array(data, dtype=np.float64), np.array(indices, dtype=np.int64),
                                     np.array(indptr, dtype=np.int64)), shape=(len(self.docnos), len(self.vocab)))
        self.matrix.sum_duplicates()
        return self

    def query_matrix(self, queries: pd.DataFrame) -> sp.csr_matrix:
        """Queries' toks columns as a CSR matrix over this index's terms (unknown terms dropped)."""
        indptr, indices, data = [0], [], []
        cols = [query_column(c) for c in self.columns]
        for row in zip(*(queries[c] for c in cols)):
            for ci, vec in enumerate(row):
                for term, w in vec.items():
                    j = self.vocab.get((ci, term))
                    if j is not None and w:
                        indices.append(j)
                        data.append(float(w))
            indptr.append(len(indices))
        return sp.csr_matrix((np.array(data, dtype=np.float64), np.array(indices, dtype=np.int64),
                              np.array(indptr, dtype=np.int64)), shape=(len(queries), len(self.vocab)))

    def retriever(self, num_results: int = 1000, batch_size: int = 256) -> "ExactRetriever":
        """Top-``num_results`` exact retrieval for frames carrying the ``query_*`` columns."""
        return ExactRetriever(self, num_results, batch_size)


class ExactRetriever(pt.Transformer):
    """Scores every indexed document against each query; keeps the top ``num_results``."""

    def __init__(self, index: ExactIndex, num_results: int = 1000, batch_size: int = 256):
        self.index = index
        self.num_results = num_results
        self.batch_size = batch_size

    def __repr__(self):
        return f"{self.index!r}.retriever(num_results={self.num_results})"

    def fuse_rank_cutoff(self, k):
        if k < self.num_results:
            return ExactRetriever(self.index, k, self.batch_size)

    def transform(self, inp: pd.DataFrame) -> pd.DataFrame:
        cols = [query_column(c) for c in self.index.columns]
        pt.validate.query_frame(inp, extra_columns=cols)
        if self.index.matrix is None:
            raise RuntimeError("the ExactIndex is empty: call .index(...) first")
        keep = [c for c in inp.columns]
        parts = []
        docnos = np.array(self.index.docnos, dtype=object)
        dt = self.index.matrix.T.tocsr()
        for start in range(0, len(inp), self.batch_size):
            batch = inp.iloc[start:start + self.batch_size]
            scores = (self.index.query_matrix(batch) @ dt).tocsr()
            for r in range(len(batch)):
                lo, hi = scores.indptr[r], scores.indptr[r + 1]
                idx, val = scores.indices[lo:hi], scores.data[lo:hi]
                order = np.lexsort((idx, -val))[:self.num_results]
                frame = pd.DataFrame({"docno": docnos[idx[order]], "score": val[order],
                                      "rank": np.arange(len(order))})
                for c in reversed(keep):
                    frame.insert(0, c, [batch[c].iloc[r]] * len(order))
                parts.append(frame)
        if not parts:
            return pd.DataFrame(columns=keep + ["docno", "score", "rank"])
        return pd.concat(parts, ignore_index=True)
