"""Dense baselines: BGE-M3 dense (normalised ``<s>`` state), multilingual e5 (normalised mean of
the token states, ``query: `` / ``passage: `` prefixes), and an exact flat inner-product index.

Columns follow pyterrier_dr: ``query_vec`` and ``doc_vec``.
"""
from __future__ import annotations

from typing import Iterable, Optional, Union

import numpy as np
import pandas as pd
import pyterrier as pt
import torch

from ..hub import resolve_checkpoint
from .base import TextEncoder
from .sparse import M3Model


class _Dense(TextEncoder):
    query_column = "query_vec"
    doc_column = "doc_vec"

    def empty(self):
        return np.zeros(self.dim, dtype=np.float32)

    @staticmethod
    def similarity(q, d) -> float:
        return float(np.dot(q, d))

    @staticmethod
    def _rows(vectors: torch.Tensor) -> list:
        return list(torch.nn.functional.normalize(vectors.float(), dim=-1).cpu().numpy())


class M3Dense(_Dense):
    """BGE-M3 dense retrieval: the normalised final state of ``<s>``."""

    def __init__(self, model: M3Model, tokenizer, *, query_max_length: int = 512,
                 doc_max_length: int = 8192, **kwargs):
        super().__init__(model, tokenizer, query_max_length=query_max_length,
                         doc_max_length=doc_max_length, **kwargs)
        self.dim = model.encoder.config.hidden_size

    @classmethod
    def from_pretrained(cls, name_or_path: str = "BAAI/bge-m3", *, revision: Optional[str] = None,
                        local_files_only: bool = False, **kwargs) -> "M3Dense":
        out = cls(*M3Model.from_pretrained(name_or_path, revision=revision,
                                           local_files_only=local_files_only), **kwargs)
        out.name = name_or_path
        return out

    def encode_batch(self, enc: dict, is_query: bool) -> list:
        return self._rows(self.model(enc["input_ids"], enc["attention_mask"])[:, 0])


class E5(_Dense):
    """Multilingual e5 (e.g. ``intfloat/multilingual-e5-small``): normalised mean pooling."""

    def __init__(self, model, tokenizer, *, doc_max_length: int = 512, **kwargs):
        super().__init__(model, tokenizer, doc_max_length=doc_max_length, **kwargs)
        self.dim = model.config.hidden_size

    @classmethod
    def from_pretrained(cls, name_or_path: str = "intfloat/multilingual-e5-small", *,
                        revision: Optional[str] = None, local_files_only: bool = False, **kwargs) -> "E5":
        from transformers import AutoModel, AutoTokenizer
        folder = resolve_checkpoint(name_or_path, revision, local_files_only, kind="e5 checkpoint")
        out = cls(AutoModel.from_pretrained(folder, add_pooling_layer=False),
                  AutoTokenizer.from_pretrained(folder), **kwargs)
        out.name = name_or_path
        return out

    def prepare(self, text: str, is_query: bool) -> str:
        return ("query: " if is_query else "passage: ") + text

    def encode_batch(self, enc: dict, is_query: bool) -> list:
        hidden = self.model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]).last_hidden_state
        mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        return self._rows((hidden * mask).sum(1) / mask.sum(1))


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
