"""What the baseline encoders (SPLADE, BGE-M3, e5) share: like :class:`~milco_pt.Milco`, each is a
factory (``query_encoder()``, ``doc_encoder()``, ``scorer()``) and a transformer that dispatches on
its input columns. A subclass only says how a batch of texts becomes vectors."""
from __future__ import annotations

from typing import Optional, Sequence

import pandas as pd
import pyterrier as pt
import torch

from ..views import autocast, check_texts


class TextEncoder(pt.Transformer):
    """Base of the baseline encoders; subclasses set the columns and implement :meth:`encode_batch`."""

    query_column = "query_toks"
    doc_column = "toks"
    default_name = ""

    def __init__(self, model, tokenizer, *, batch_size: int = 32, query_max_length: int = 64,
                 doc_max_length: int = 512, text_field: str = "text", device: Optional[str] = None,
                 precision: str = "auto", verbose: bool = False):
        self.model = model
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        self.query_max_length = query_max_length
        self.doc_max_length = doc_max_length
        self.text_field = text_field
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.model.to(self.device).eval()
        self.precision = precision
        self.verbose = verbose
        self.max_positions = self._max_positions(model)
        self.name: Optional[str] = None
        self._kwargs = dict(batch_size=batch_size, query_max_length=query_max_length,
                            doc_max_length=doc_max_length, text_field=text_field, device=device,
                            precision=precision, verbose=verbose)

    def __repr__(self):
        defaults = {**TextEncoder.__init__.__kwdefaults__, **(type(self).__init__.__kwdefaults__ or {})}
        cls = type(self).__name__
        args = [f"{k}={v!r}" for k, v in self._kwargs.items() if v != defaults.get(k)]
        head = f"{cls}.from_pretrained({self.name!r}" if self.name else f"{cls}(model, tokenizer"
        return head + "".join(", " + a for a in args) + ")"

    @staticmethod
    def _max_positions(model) -> int:
        """Longest input the position embeddings allow (RoBERTa-style models reserve 2 slots)."""
        config = getattr(model, "config", None) or model.encoder.config
        n = getattr(config, "max_position_embeddings", None) or 10 ** 9
        return n - 2 if config.model_type in ("xlm-roberta", "roberta", "camembert") else n

    # -- what a subclass provides -------------------------------------------------------------

    def encode_batch(self, enc: dict, is_query: bool) -> list:
        """Vectors of one tokenized batch (``input_ids``, ``attention_mask`` on the device)."""
        raise NotImplementedError

    def prepare(self, text: str, is_query: bool) -> str:
        """The text as the model expects it (e.g. e5's ``query: `` prefix)."""
        return text

    def empty(self):
        """The vector of an empty text."""
        return {}

    @staticmethod
    def similarity(q, d) -> float:
        return sum(w * d[t] for t, w in q.items() if t in d)

    # -- plain Python API ---------------------------------------------------------------------

    def encode(self, texts: Sequence[str], is_query: bool, desc: str = "Encoding") -> list:
        """Vectors of ``texts``, encoded longest first in batches (results in input order)."""
        texts = [self.prepare(t, is_query) for t in texts]
        max_length = min(self.query_max_length if is_query else self.doc_max_length, self.max_positions)
        out = [self.empty() for _ in texts]
        todo = sorted((i for i, t in enumerate(texts) if t.strip()), key=lambda i: -len(texts[i]))
        batches = [todo[s:s + self.batch_size] for s in range(0, len(todo), self.batch_size)]
        if self.verbose:
            batches = pt.tqdm(batches, desc=desc, unit="batch")
        for batch in batches:
            enc = self.tokenizer([texts[i] for i in batch], padding=True, truncation=True,
                                 max_length=max_length, return_tensors="pt")
            enc = {k: v.to(self.device) for k, v in enc.items() if k in ("input_ids", "attention_mask")}
            with torch.inference_mode(), autocast(self.device, self.precision):
                for i, vec in zip(batch, self.encode_batch(enc, is_query)):
                    out[i] = vec
        return out

    def encode_queries(self, texts: Sequence[str]) -> list:
        return self.encode(check_texts(list(texts), "query"), True, "Encoding queries")

    def encode_docs(self, texts: Sequence[str]) -> list:
        return self.encode(check_texts(list(texts), "text"), False, "Encoding documents")

    def score(self, query: str, text: str) -> float:
        return float(self.similarity(self.encode_queries([query])[0], self.encode_docs([text])[0]))

    # -- transformers ---------------------------------------------------------------------------

    def query_encoder(self) -> "EncoderPart":
        return EncoderPart(self, "query_encoder")

    def doc_encoder(self) -> "EncoderPart":
        return EncoderPart(self, "doc_encoder")

    def scorer(self) -> "EncoderPart":
        return EncoderPart(self, "scorer")

    def transform(self, inp: pd.DataFrame) -> pd.DataFrame:
        with pt.validate.any(inp) as v:
            v.result_frame(extra_columns=["query", self.text_field], mode="scorer")
            v.query_frame(extra_columns=["query"], mode="query_encoder")
            v.document_frame(extra_columns=[self.text_field], mode="doc_encoder")
        return EncoderPart(self, v.mode)(inp)


class EncoderPart(pt.Transformer):
    """A query encoder, document encoder or exact scorer made by a :class:`TextEncoder`."""

    def __init__(self, encoder: TextEncoder, kind: str):
        self.encoder = encoder
        self.kind = kind

    def __repr__(self):
        return f"{self.encoder!r}.{self.kind}()"

    def subtransformers(self):
        return {}

    def transform(self, inp: pd.DataFrame) -> pd.DataFrame:
        enc, field = self.encoder, self.encoder.text_field
        if self.kind == "query_encoder":
            pt.validate.query_frame(inp, extra_columns=["query"])
            queries = check_texts(inp["query"].tolist(), "query", inp["qid"].tolist())
            uniq = list(dict.fromkeys(queries))
            vecs = enc.encode(uniq, True, "Encoding queries")
            pos = {q: i for i, q in enumerate(uniq)}
            return inp.assign(**{enc.query_column: [vecs[pos[q]] for q in queries]})
        if self.kind == "doc_encoder":
            pt.validate.columns(inp, includes=[field])
            ids = inp["docno"].tolist() if "docno" in inp else None
            texts = check_texts(inp[field].tolist(), field, ids)
            return inp.assign(**{enc.doc_column: enc.encode(texts, False, "Encoding documents")})
        pt.validate.result_frame(inp, extra_columns=["query", field])
        if len(inp) == 0:
            return inp.assign(score=pd.Series(dtype=float), rank=pd.Series(dtype=int))
        queries = check_texts(inp["query"].tolist(), "query", inp["qid"].tolist())
        uniq = list(dict.fromkeys(queries))
        q_vecs = dict(zip(uniq, enc.encode(uniq, True, "Encoding queries")))
        d_vecs = enc.encode(check_texts(inp[field].tolist(), field, inp["docno"].tolist()), False,
                            "Encoding documents")
        scores = [float(enc.similarity(q_vecs[q], d)) for q, d in zip(queries, d_vecs)]
        return pt.model.add_ranks(inp.assign(score=scores))
