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

from .base import Retriever, read_records, results_frame
from .checks import query_where, weights


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
        indptr, indices, data = [0], [], []
        for rec in read_records(it, self.columns, self.verbose):
            docno = rec["docno"]
            self.docnos.append(docno)
            for ci, col in enumerate(self.columns):
                vec = rec[col]
                for term, w in zip(vec, weights(vec, f"document {docno!r}").tolist()):
                    if w:
                        indices.append(self.vocab.setdefault((ci, term), len(self.vocab)))
                        data.append(w * self.weights[col])
            indptr.append(len(indices))
        self.matrix = sp.csr_matrix((np.array(data, dtype=np.float64), np.array(indices, dtype=np.int64),
                                     np.array(indptr, dtype=np.int64)), shape=(len(self.docnos), len(self.vocab)))
        self.matrix.sum_duplicates()
        return self

    @property
    def query_column(self) -> list[str]:
        """The query columns a retriever reads by default, one per indexed column."""
        return [query_column(c) for c in self.columns]

    def query_matrix(self, queries: pd.DataFrame, columns: Optional[Sequence[str]] = None,
                     offset: int = 0) -> sp.csr_matrix:
        """Queries' toks columns (default :attr:`query_column`) as a CSR matrix over this index's
        terms (unknown terms dropped); weights checked by :mod:`.checks`' rule (errors count rows
        from ``offset``)."""
        indptr, indices, data = [0], [], []
        for n, row in enumerate(zip(*(queries[c] for c in columns or self.query_column))):
            for ci, vec in enumerate(row):
                for term, w in zip(vec, weights(vec, query_where(queries, n, offset)).tolist()):
                    j = self.vocab.get((ci, term))
                    if j is not None and w:
                        indices.append(j)
                        data.append(w)
            indptr.append(len(indices))
        return sp.csr_matrix((np.array(data, dtype=np.float64), np.array(indices, dtype=np.int64),
                              np.array(indptr, dtype=np.int64)), shape=(len(queries), len(self.vocab)))

    def retriever(self, num_results: int = 1000, batch_size: int = 256, *,
                  query_column: Optional[Sequence[str]] = None) -> "ExactRetriever":
        """Top-``num_results`` exact retrieval for frames carrying the ``query_*`` columns (or the
        given ``query_column`` list, one per indexed column)."""
        if isinstance(query_column, str):
            query_column = [query_column]
        if query_column is not None and len(query_column) != len(self.columns):
            raise ValueError(f"query_column={query_column!r} must name one query column per indexed column "
                             f"{self.columns}")
        return ExactRetriever(self, num_results, batch_size=batch_size, query_column=query_column)


class ExactRetriever(Retriever):
    """Scores every indexed document against each query; keeps the top ``num_results``."""

    DEFAULTS = {"batch_size": 256}

    def search(self, inp, queries):
        if self.index.matrix is None:
            raise RuntimeError("the ExactIndex is empty: call .index(...) first")
        rows, docnos, scores = [], [], []
        names = np.array(self.index.docnos, dtype=object)
        dt = self.index.matrix.T.tocsr()
        for start in range(0, len(inp), self.batch_size):
            batch = inp.iloc[start:start + self.batch_size]
            matrix = (self.index.query_matrix(batch, self.query_columns, start) @ dt).tocsr()
            for r in range(len(batch)):
                lo, hi = matrix.indptr[r], matrix.indptr[r + 1]
                idx, val = matrix.indices[lo:hi], matrix.data[lo:hi]
                order = np.lexsort((idx, -val))[:self.num_results]
                rows.append(np.full(len(order), start + r))
                docnos.append(names[idx[order]])
                scores.append(val[order])
        return results_frame(inp, np.concatenate(rows), np.concatenate(docnos), np.concatenate(scores))
