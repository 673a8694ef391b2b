"""What the baseline encoders (SPLADE, BGE-M3, e5) add to the shared base of
:mod:`milco_pt.encoding`: a Hugging Face model and tokenizer, ``from_pretrained``, inputs cut to
the model's position table, and one vector per text. A subclass says how a batch becomes vectors
(:meth:`~milco_pt.encoding.BatchEncoder.encode_batch`), how to load its checkpoint and which
columns it writes."""
from __future__ import annotations

from typing import Optional, Sequence

from ..encoding import BatchEncoder, Encoder, check_texts, describe


class TextEncoder(BatchEncoder, Encoder):
    """Base of the baseline encoders; subclasses set the columns, :meth:`load` and :meth:`encode_batch`."""

    positional = ("model", "tokenizer")
    query_column = "query_toks"
    doc_column = "toks"
    default_name = ""

    def __init__(self, model, tokenizer, *, batch_size: int = 32, query_max_length: int = 64,
                 doc_max_length: int = 512, text_field: str = "text", device: Optional[str] = None,
                 precision: str = "auto", verbose: bool = False, token_budget: Optional[int] = None):
        BatchEncoder.__init__(self, model, tokenizer, device=device, precision=precision)
        Encoder.__init__(self, dict(batch_size=batch_size, query_max_length=query_max_length,
                                    doc_max_length=doc_max_length, text_field=text_field, device=device,
                                    precision=precision, verbose=verbose, token_budget=token_budget))
        self.token_budget = token_budget
        self.max_positions = self._max_positions(model)

    @classmethod
    def from_pretrained(cls, name_or_path: Optional[str] = None, *, revision: Optional[str] = None,
                        local_files_only: bool = False, **kwargs):
        """Load a hub id (default: the class's ``default_name``) or a folder; ``kwargs`` go to the constructor."""
        name_or_path = name_or_path or cls.default_name
        model, tokenizer = cls.load(name_or_path, revision=revision, local_files_only=local_files_only)
        return cls(model, tokenizer, **kwargs)._loaded(name_or_path, revision=revision,
                                                       local_files_only=local_files_only)

    @classmethod
    def load(cls, name_or_path: str, *, revision: Optional[str] = None, local_files_only: bool = False):
        """``(model, tokenizer)`` of a checkpoint."""
        raise NotImplementedError

    @staticmethod
    def _max_positions(model) -> int:
        """Longest input the position embeddings allow (RoBERTa-style models reserve 2 slots)."""
        config = getattr(model, "config", None) or model.encoder.config
        n = getattr(config, "max_position_embeddings", None) or 10 ** 9
        return n - 2 if config.model_type in ("xlm-roberta", "roberta", "camembert") else n

    def prepare(self, text: str, is_query: bool) -> str:
        """The text as the model expects it (e.g. e5's ``query: `` prefix)."""
        return text

    def empty(self, is_query: bool):
        """The vector of an empty text."""
        return {}

    @staticmethod
    def similarity(q, d) -> float:
        return sum(w * d[t] for t, w in q.items() if t in d)

    # -- plain Python API ---------------------------------------------------------------------

    def encode(self, texts: Sequence[str], is_query: bool, desc: str = "Encoding",
               batch_size: Optional[int] = None, verbose: Optional[bool] = None) -> list:
        """Vectors of ``texts``, encoded longest first in batches (results in input order)."""
        max_length = min(self.query_max_length if is_query else self.doc_max_length, self.max_positions)
        return self.encode_batches(texts, max_length, batch_size or self.batch_size,
                                   self.verbose if verbose is None else verbose, desc, is_query=is_query)

    def encode_queries(self, texts: Sequence[str]) -> list:
        return self.encode(check_texts(list(texts), "query"), True, describe(True))

    def encode_docs(self, texts: Sequence[str]) -> list:
        return self.encode(check_texts(list(texts), "text"), False, describe(False))

    def score(self, query: str, text: str) -> float:
        return float(self.similarity(self.encode_queries([query])[0], self.encode_docs([text])[0]))

    # -- the shared transformers' hooks ---------------------------------------------------------

    def _encode(self, texts, is_query, part) -> list:
        return self.encode(texts, is_query, describe(is_query), part.batch_size, part.verbose)

    def _columns(self, items, is_query, part) -> dict:
        return {self.query_column if is_query else self.doc_column: items}

    def _score(self, query, doc, part) -> float:
        return float(self.similarity(query, doc))
