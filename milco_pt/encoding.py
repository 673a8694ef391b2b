"""The encoder base that MILCO and the baselines (SPLADE, BGE-M3, e5) share.

:class:`BatchEncoder` runs a model over texts in batches; :class:`Encoder` is a factory of query
encoders, document encoders and scorers (:class:`EncoderPart`) and a transformer that dispatches
on its input columns, as pyterrier_dr's models are. A model says only how a batch becomes vectors
(:meth:`BatchEncoder.encode_batch`) and which columns it writes (:meth:`Encoder._columns`).
"""
from __future__ import annotations

import inspect
import math
from contextlib import nullcontext
from typing import Optional, Sequence

import pandas as pd
import pyterrier as pt
import torch


ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"), " ")


def blank(text: str) -> bool:
    """Whether a text holds nothing to encode: whitespace and zero-width characters only."""
    return not text.translate(ZERO_WIDTH).strip()


def check_texts(texts: Sequence, column: str, ids: Optional[Sequence] = None) -> list[str]:
    """Validate input texts: a None/NaN or non-string value, or one that is not valid Unicode (a
    lone surrogate), is an error naming its row."""
    out = []
    for i, t in enumerate(texts):
        where = f"row {i}" + (f" ({ids[i]!r})" if ids is not None else "")
        if t is None or (isinstance(t, float) and math.isnan(t)):
            raise ValueError(f"{where} has no {column!r} (None/NaN); drop or fill such rows first, "
                             f"e.g. df.dropna(subset=[{column!r}]) or df.fillna({{{column!r}: ''}})")
        if not isinstance(t, str):
            raise TypeError(f"{where}: {column!r} must be a string, got {type(t).__name__} {t!r}")
        if not t.isascii():
            try:
                t.encode("utf-8")
            except UnicodeEncodeError as e:
                raise ValueError(f"{where}: {column!r} holds {t[e.start:e.end]!r}, not valid Unicode text (a lone "
                                 "surrogate, e.g. from a broken decode); fix or drop that row") from None
        out.append(t)
    return out


def autocast(device: torch.device, precision: str = "auto"):
    """Mixed precision context: ``auto`` is bf16 autocast on GPU and plain fp32 on CPU."""
    if precision == "auto":
        precision = "bf16" if device.type == "cuda" else "fp32"
    if precision == "fp32":
        return nullcontext()
    if precision not in ("bf16", "fp16"):
        raise ValueError(f"precision must be auto, fp32, bf16 or fp16, not {precision!r}")
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}[precision]
    return torch.autocast(device_type=device.type, dtype=dtype)


def describe(is_query: bool) -> str:
    """The progress bar's label."""
    return "Encoding queries" if is_query else "Encoding documents"


class BatchEncoder:
    """Runs a model over texts in batches and returns one item (a vector) per text.

    Texts are encoded longest first so that batches carry little padding (the vectors do not
    depend on batching); empty texts, or texts of whitespace and zero-width characters only, get
    :meth:`empty` without a forward pass.
    The ``options`` of :meth:`encode_batches` reach every hook (e.g. ``is_query``, ``views``).

    ``token_budget`` (off by default): tokenize first, sort by token count and fill each batch up to
    that many padded tokens (batch size x its longest text) instead of a fixed number of texts, so
    short texts travel in large batches and padding waste is small (for GPUs; same vectors).
    """

    token_budget: Optional[int] = None

    def __init__(self, model, tokenizer, *, device: Optional[str] = None, precision: str = "auto"):
        self.model = model
        self.tokenizer = tokenizer
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.model.to(self.device).eval()
        self.precision = precision

    def prepare(self, text: str, **options) -> str:
        """The text as the model expects it (e.g. lowercased, or e5's ``query: `` prefix)."""
        return text

    def empty(self, **options):
        """The item of an empty text."""
        return {}

    def encode_batch(self, enc: dict, **options) -> list:
        """Items of one tokenized batch (``input_ids``, ``attention_mask`` on the device)."""
        raise NotImplementedError

    def encode_batches(self, texts: Sequence[str], max_length: int, batch_size: int = 32,
                       verbose: bool = False, desc: str = "Encoding", **options) -> list:
        """An item per text, in input order; ``verbose`` shows a progress bar of batches."""
        texts = [self.prepare(t, **options) for t in texts]
        out = [self.empty(**options) for _ in texts]
        todo = [i for i, t in enumerate(texts) if not blank(t)]
        batches = self._token_batches(texts, todo, max_length) if self.token_budget else \
            self._count_batches(texts, todo, max_length, batch_size)
        if verbose:
            batches = pt.tqdm(batches, desc=desc, unit="batch")
        for batch, enc in batches:
            enc = {k: enc[k].to(self.device) for k in ("input_ids", "attention_mask")}
            with torch.inference_mode(), autocast(self.device, self.precision):
                for i, item in zip(batch, self.encode_batch(enc, **options)):
                    out[i] = item
        return out

    def _count_batches(self, texts, todo, max_length, batch_size) -> "_Batches":
        """``batch_size`` texts a batch, longest (in characters) first, tokenized when reached."""
        todo = sorted(todo, key=lambda i: -len(texts[i]))
        batches = [todo[s:s + batch_size] for s in range(0, len(todo), batch_size)]
        return _Batches(batches, lambda b: self.tokenizer([texts[i] for i in b], padding=True, truncation=True,
                                                          max_length=max_length, return_tensors="pt"))

    def _token_batches(self, texts, todo, max_length) -> "_Batches":
        """Batches of at most ``token_budget`` padded tokens, by decreasing token count."""
        ids = self.tokenizer([texts[i] for i in todo], truncation=True, max_length=max_length)["input_ids"]
        order = sorted(range(len(todo)), key=lambda k: -len(ids[k]))
        batches, current = [], []
        for k in order:
            if current and len(ids[current[0]]) * (len(current) + 1) > self.token_budget:
                batches.append(current)
                current = []
            current.append(k)
        batches += [current] if current else []
        by_position = dict(zip(todo, ids))
        return _Batches([[todo[k] for k in b] for b in batches],
                        lambda b: self.tokenizer.pad({"input_ids": [by_position[i] for i in b]}, return_tensors="pt"))


class _Batches:
    """Batches of text positions, each tokenized when iterated: ``(positions, encoding)`` pairs."""

    def __init__(self, batches: list[list[int]], tokenize):
        self.batches, self.tokenize = batches, tokenize

    def __len__(self):
        return len(self.batches)

    def __iter__(self):
        for batch in self.batches:
            yield batch, self.tokenize(batch)


class Encoder(pt.Transformer):
    """A factory of :meth:`query_encoder`, :meth:`doc_encoder` and :meth:`scorer`, and a transformer
    dispatching on its input: queries -> query encoder, documents -> document encoder, (query,
    text) pairs -> scorer.

    A subclass implements :meth:`_encode` (an item per text), :meth:`_columns` (the columns
    written for items) and :meth:`_score` (of a query item and a document item).
    """

    positional: tuple = ()  # the constructor's positional arguments, as its repr names them
    parts: dict = {}  # factory method name -> EncoderPart subclass (default EncoderPart)

    def __init__(self, settings: dict):
        """``settings``: the constructor's keyword arguments (shown by the repr where not default);
        they include ``batch_size``, ``query_max_length``, ``doc_max_length``, ``text_field``, ``verbose``."""
        self._kwargs = dict(settings)
        self.batch_size = settings["batch_size"]
        self.query_max_length = settings["query_max_length"]
        self.doc_max_length = settings["doc_max_length"]
        self.text_field = settings["text_field"]
        self.verbose = settings["verbose"]
        self.name: Optional[str] = None
        self._load_kwargs: dict = {}
        self.saved_options: dict = {}  # options a loaded model restores by itself (not shown by the repr)

    def _loaded(self, name: str, **load_kwargs):
        """Mark as loaded by ``from_pretrained(name, **load_kwargs)`` (for the repr); returns self."""
        self.name = name
        self._load_kwargs = {k: v for k, v in load_kwargs.items() if v}
        return self

    def _repr_defaults(self) -> dict:
        """The keyword values the repr leaves out: the constructor's defaults."""
        defaults = {}
        for cls in reversed(type(self).__mro__):
            defaults.update(getattr(cls.__init__, "__kwdefaults__", None) or {})
        return defaults

    def __repr__(self):
        defaults = self._repr_defaults()
        cls = type(self).__name__
        args = [f"{k}={v!r}" for k, v in self._kwargs.items() if k not in defaults or v != defaults[k]]
        if self.name is None:
            return f"{cls}({', '.join([*self.positional, *args])})"
        load = [f"{k}={v!r}" for k, v in self._load_kwargs.items()]
        return f"{cls}.from_pretrained({', '.join([repr(self.name), *load, *args])})"

    # -- what a subclass provides ---------------------------------------------------------

    def _part_options(self, kind: str) -> dict:
        """The model-specific options of a part (checked once, when the part is made)."""
        return {}

    def _encode(self, texts: list[str], is_query: bool, part: "EncoderPart") -> list:
        """An item per text, encoded with the part's settings."""
        raise NotImplementedError

    def _columns(self, items: list, is_query: bool, part: "EncoderPart") -> dict[str, list]:
        """The columns the part writes for the items of its rows."""
        raise NotImplementedError

    def _score(self, query, doc, part: "EncoderPart") -> float:
        """Score of a query item and a document item."""
        raise NotImplementedError

    # -- transformers ---------------------------------------------------------------------

    def query_encoder(self, verbose=None, batch_size=None) -> "EncoderPart":
        """Adds the query vector column(s)."""
        return self._part("query_encoder", verbose=verbose, batch_size=batch_size)

    def doc_encoder(self, verbose=None, batch_size=None, text_field=None) -> "EncoderPart":
        """Adds the document vector column(s)."""
        return self._part("doc_encoder", verbose=verbose, batch_size=batch_size, text_field=text_field)

    def scorer(self, verbose=None, batch_size=None, text_field=None) -> "EncoderPart":
        """Re-ranks (query, text) pairs by the exact score."""
        return self._part("scorer", verbose=verbose, batch_size=batch_size, text_field=text_field)

    def _part(self, kind: str, **args) -> "EncoderPart":
        """The ``kind`` transformer, given the arguments that differ from the factory method's defaults."""
        defaults = {k: p.default for k, p in inspect.signature(getattr(self, kind)).parameters.items()}
        given = {k: v for k, v in args.items() if k not in defaults or v != defaults[k]}
        return self.parts.get(kind, EncoderPart)(self, kind, **given)

    def transform(self, inp: pd.DataFrame) -> pd.DataFrame:
        with pt.validate.any(inp) as v:
            v.result_frame(extra_columns=["query", self.text_field], mode="scorer")
            v.query_frame(extra_columns=["query"], mode="query_encoder")
            v.document_frame(extra_columns=[self.text_field], mode="doc_encoder")
        return getattr(self, v.mode)()(inp)


class EncoderPart(pt.Transformer):
    """A query encoder, document encoder or exact scorer made by an :class:`Encoder`.

    The query encoder and the scorer encode each distinct query once.
    """

    def __init__(self, factory: Encoder, kind: str, *, verbose=None, batch_size=None, text_field=None,
                 **options):
        self.factory = factory
        self.kind = kind
        given = dict(verbose=verbose, batch_size=batch_size, text_field=text_field, **options)
        self._args = {k: v for k, v in given.items() if v is not None}
        self.verbose = factory.verbose if verbose is None else verbose
        self.batch_size = batch_size or factory.batch_size
        self.text_field = text_field or factory.text_field
        self.options = factory._part_options(kind, **options)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self._args.items())
        return f"{self.factory!r}.{self.kind}({args})"

    def subtransformers(self):
        return {}

    def transform(self, inp: pd.DataFrame) -> pd.DataFrame:
        if self.kind == "query_encoder":
            with pt.validate.any(inp) as v:
                v.query_frame(extra_columns=["query"])
                v.columns(includes=["query"])
            return inp.assign(**self.factory._columns(self._queries(inp), True, self))
        if self.kind == "doc_encoder":
            pt.validate.columns(inp, includes=[self.text_field])
            docs = self.factory._encode(self._texts(inp, self.text_field, "docno"), False, self)
            return inp.assign(**self.factory._columns(docs, False, self))
        pt.validate.result_frame(inp, extra_columns=["query", self.text_field])
        if len(inp) == 0:
            return inp.assign(score=pd.Series(dtype=float), rank=pd.Series(dtype=int))
        queries = self._queries(inp)
        docs = self.factory._encode(self._texts(inp, self.text_field, "docno"), False, self)
        scores = [self.factory._score(q, d, self) for q, d in zip(queries, docs)]
        return pt.model.add_ranks(inp.assign(score=scores))

    @staticmethod
    def _texts(inp: pd.DataFrame, column: str, id_column: str) -> list[str]:
        return check_texts(inp[column].tolist(), column, inp[id_column].tolist() if id_column in inp else None)

    def _queries(self, inp: pd.DataFrame) -> list:
        """An item per row, each distinct query encoded once."""
        queries = self._texts(inp, "query", "qid")
        uniq = list(dict.fromkeys(queries))
        items = dict(zip(uniq, self.factory._encode(uniq, True, self)))
        return [items[q] for q in queries]
