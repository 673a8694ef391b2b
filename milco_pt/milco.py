"""PyTerrier API: :class:`Milco` is a factory of encoders and scorers, and a transformer
(the shared base is :mod:`milco_pt.encoding`).

Frame columns: pivot view ``query_toks`` / ``toks``; source view ``query_src_toks`` /
``src_toks``; the combined vector, both views under the authors' ``e_`` / ``m_`` names for one
index scored by a plain dot product, in ``query_combined`` / ``combined`` (``outputs=``), or in
``query_toks`` / ``toks`` alone (``combined=True``). A query column is ``"query_" +`` its
document column, as the indexes expect.
"""
from __future__ import annotations

import numbers
from typing import Optional, Sequence

import pandas as pd

from .encoding import Encoder, EncoderPart, check_texts, describe
from .pruning import top_k
from .views import COMBINED, PIVOT, SOURCE, VIEWS, ViewEncoder, check_views, combine, combine_all, dot

DOC_COLUMNS = {PIVOT: "toks", SOURCE: "src_toks", COMBINED: "combined"}  # queries: "query_" + column
OUTPUTS = (*VIEWS, COMBINED)
QUERY_CACHE_SIZE = 500_000  # vectors kept by Milco.query_cache before it is emptied


def check_budget(k):
    """``k`` as a query budget: ``None`` (every term) or a whole number of terms >= 1."""
    if k is None:
        return None
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1:
        raise ValueError(f"query_top_k={k!r}: give a whole number of pivot terms >= 1 to keep per query, "
                         "or None to keep every term")
    return int(k)


class MilcoQueryEncoder(EncoderPart):
    """Adds MILCO's query columns (:meth:`Milco.query_encoder`)."""


class MilcoDocEncoder(EncoderPart):
    """Adds MILCO's document columns (:meth:`Milco.doc_encoder`)."""


class MilcoScorer(EncoderPart):
    """Re-ranks by MILCO's exact dual-view score (:meth:`Milco.scorer`)."""


class Milco(Encoder):
    """A MILCO model for PyTerrier.

    As a transformer it dispatches on its input: queries -> query encoder, documents ->
    document encoder, (query, text) pairs -> exact dual-view scorer.
    """

    positional = ("model", "m_tokenizer", "en_vocab")
    parts = {"query_encoder": MilcoQueryEncoder, "doc_encoder": MilcoDocEncoder, "scorer": MilcoScorer}

    def __init__(self, model, m_tokenizer, en_vocab: Sequence[str], *, batch_size: int = 32,
                 query_max_length: int = 64, doc_max_length: int = 512, lowercase: bool = True,
                 drop_special: bool = False, views=VIEWS, text_field: str = "text",
                 device: Optional[str] = None, precision: str = "auto", verbose: bool = False,
                 token_budget: Optional[int] = None, query_top_k: Optional[int] = None,
                 name: Optional[str] = None):
        """
        Args:
            model: a :class:`~milco_pt.model.MilcoModel`.
            m_tokenizer: its multilingual (XLM-R) tokenizer; en_vocab: its English wordpieces.
            query_max_length / doc_max_length: truncation in tokens (authors: 64 / 512).
            lowercase: lowercase texts first, as the authors' evaluator does.
            drop_special: remove ``<s>`` / ``</s>`` from the source view (authors keep them).
            views: the views the encoders produce by default (``pivot``, ``source``).
            precision: ``auto`` (bf16 autocast on GPU, fp32 on CPU), ``fp32``, ``bf16``, ``fp16``.
            token_budget: batch by padded tokens instead of ``batch_size`` texts (less padding on GPUs).
            query_top_k: a query budget: keep each query's ``k`` highest-weighted pivot terms (the
                source view and documents are not cut); milco-mini was trained for 12 and keeps 12
                by default. ``None`` keeps every term.
        """
        super().__init__(dict(batch_size=batch_size, query_max_length=query_max_length,
                              doc_max_length=doc_max_length, lowercase=lowercase,
                              drop_special=drop_special, views=check_views(views), text_field=text_field,
                              device=device, precision=precision, verbose=verbose, token_budget=token_budget,
                              query_top_k=query_top_k))
        self.query_top_k = check_budget(query_top_k)
        self.model = model
        self.views = check_views(views)
        if not model.config.echo:
            if self.views == (SOURCE,):
                raise ValueError("this checkpoint has no LexEcho head (config.echo is false), so no "
                                 "source view: use views=('pivot',)")
            self.views = (PIVOT,)
        self.name = name
        self.encoder = ViewEncoder(model, m_tokenizer, en_vocab, device=device, lowercase=lowercase,
                                   drop_special=drop_special, precision=precision)
        self.encoder.token_budget = token_budget

    @classmethod
    def from_pretrained(cls, name_or_path: str, *, revision: Optional[str] = None,
                        local_files_only: bool = False, m_tokenizer=None, en_vocab=None,
                        **kwargs) -> "Milco":
        """Load a checkpoint: a local folder or a hub id such as ``omai-research/milco-650m``.

        ``"milco-mini"`` names the small MILCO shipped with this package (a milco-mini delta file's
        path loads too), with no download. Needs no remote code. Tokenizers come from the folder,
        else from the ids in its config (or ``m_tokenizer`` / ``en_vocab`` paths); offline with
        nothing cached, one error lists exactly what to download. Encoding options saved with the
        model (:meth:`save_pretrained`) are restored; ``kwargs`` override them, with a warning.
        """
        from . import mini
        from .hub import load_model, load_tokenizers, read_options, with_saved_options
        if name_or_path == mini.NAME or mini.is_delta(name_or_path):
            delta = None if name_or_path == mini.NAME else name_or_path
            return mini.load(delta, **with_saved_options(name_or_path, mini.options(delta), kwargs))
        model = load_model(name_or_path, revision=revision, local_files_only=local_files_only)
        tok, vocab = load_tokenizers(model.folder, model.config, m_tokenizer, en_vocab, local_files_only)
        saved = read_options(model.folder)
        out = cls(model, tok, vocab, **with_saved_options(name_or_path, saved, kwargs))
        out.saved_options = saved
        return out._loaded(name_or_path, revision=revision, local_files_only=local_files_only)

    def save_pretrained(self, folder, safe_serialization: bool = True):
        """Save weights, config, both tokenizers and the encoding options (case, lengths, special
        tokens, views), so that the folder loads offline and encodes exactly as this model does."""
        from .hub import save_tokenizers, write_options
        self.model.save_pretrained(folder, safe_serialization=safe_serialization)
        save_tokenizers(folder, self.encoder.m_tokenizer, self.encoder.pivot_names.tolist())
        write_options(folder, {**self._kwargs, "views": self.views})
        return folder

    def _repr_defaults(self) -> dict:
        return {**super()._repr_defaults(), **self.saved_options}

    # -- plain Python API ---------------------------------------------------------------

    def encode_queries(self, texts: Sequence[str], views=None, combined: bool = True) -> list:
        """Query vectors: ``{e_term|m_term: weight}`` dicts (``combined``) or ``{view: [dict]}``."""
        return self._encode_texts(texts, True, views, combined)

    def encode_docs(self, texts: Sequence[str], views=None, combined: bool = True) -> list:
        """Document vectors, as :meth:`encode_queries` but with the document length limit."""
        return self._encode_texts(texts, False, views, combined)

    def _encode_texts(self, texts, is_query, views, combined):
        if isinstance(texts, str):
            texts = [texts]
        texts = check_texts(list(texts), "text")
        out = self.encoder.encode(texts, self._max_length(is_query), views or self.views,
                                  self.batch_size, self.verbose, describe(is_query))
        if is_query and self.query_top_k is not None and PIVOT in out:
            out[PIVOT] = [top_k(v, self.query_top_k) for v in out[PIVOT]]
        return combine_all(out) if combined else out

    def _max_length(self, is_query: bool) -> int:
        return self.query_max_length if is_query else self.doc_max_length

    def score(self, query: str, text: str) -> float:
        """The authors' score: pivot dot product + source dot product."""
        q, = self.encode_queries([query])
        d, = self.encode_docs([text])
        return dot(q, d)

    def explain(self, query: str, text: str, top: Optional[int] = None) -> pd.DataFrame:
        """Each shared term's contribution to the score (paper Figure 3), largest first.

        Columns: ``view``, ``term``, ``query_weight``, ``doc_weight``, ``contribution``; the
        contributions sum to :meth:`score`.
        """
        q = self.encode_queries([query], combined=False)
        d = self.encode_docs([text], combined=False)
        rows = []
        for view in q:
            qv, dv = q[view][0], d[view][0]
            rows += [(view, t, w, dv[t], w * dv[t]) for t, w in qv.items() if t in dv]
        df = pd.DataFrame(rows, columns=["view", "term", "query_weight", "doc_weight", "contribution"])
        df = df.sort_values(["contribution", "view", "term"], ascending=[False, True, True], kind="stable")
        return df.head(top).reset_index(drop=True) if top else df.reset_index(drop=True)

    # -- transformer factory ------------------------------------------------------------

    def query_encoder(self, views=None, combined: bool = False, verbose=None, batch_size=None,
                      outputs=None):
        """Adds ``query_toks`` (pivot) / ``query_src_toks`` (source); see :meth:`doc_encoder`."""
        return self._part("query_encoder", views=views, combined=combined, verbose=verbose,
                          batch_size=batch_size, outputs=outputs)

    def doc_encoder(self, views=None, combined: bool = False, verbose=None, batch_size=None,
                    text_field=None, outputs=None):
        """Adds ``toks`` (pivot) / ``src_toks`` (source) for the encoded ``views``.

        ``combined=True``: one ``toks`` column holding both views instead. ``outputs``: the
        columns to write, any of ``pivot``, ``source`` and ``combined`` (the combined vector in its
        own ``combined`` column); e.g. ``outputs=("pivot", "source", "combined")`` writes ``toks``,
        ``src_toks`` and ``combined``, as one pass.
        """
        return self._part("doc_encoder", views=views, combined=combined, verbose=verbose,
                          batch_size=batch_size, text_field=text_field, outputs=outputs)

    def scorer(self, verbose=None, batch_size=None, text_field=None):
        """Re-ranks (query, text) pairs by the exact dual-view score."""
        return self._part("scorer", verbose=verbose, batch_size=batch_size, text_field=text_field)

    def _part_options(self, kind: str, views=None, combined: bool = False, outputs=None) -> dict:
        """``views``: what is encoded; ``columns``: output -> document column written."""
        if combined and outputs is not None:
            raise ValueError("combined=True writes both views into the one toks column; outputs= names "
                             "separate columns (e.g. outputs=('pivot', 'source', 'combined')): pass one of them")
        views = check_views(views) if views is not None else None
        if outputs is None:
            views = views or self.views
            return {"views": views, "columns": {COMBINED: DOC_COLUMNS[PIVOT]} if combined
                    else {v: DOC_COLUMNS[v] for v in views}}
        outputs = (outputs,) if isinstance(outputs, str) else tuple(outputs)
        if not outputs or set(outputs) - set(OUTPUTS):
            raise ValueError(f"outputs must be a non-empty subset of {OUTPUTS}, got {outputs!r}")
        if views is None:
            views = self.views if COMBINED in outputs else check_views([o for o in outputs if o != COMBINED])
        missing = [o for o in outputs if o != COMBINED and o not in views]
        if missing:
            raise ValueError(f"outputs {missing} are views that are not encoded (views={views!r}): "
                             f"add them to views or leave views out")
        return {"views": views, "columns": {o: DOC_COLUMNS[o] for o in OUTPUTS if o in outputs}}

    #: ``None`` (default), or a dict in which query vectors are kept by (length limit, view, text), so
    #: that the query encoders of one model (both views, pivot only, combined) encode a query once
    #: in a process (the run layer turns it on); emptied when it holds :data:`QUERY_CACHE_SIZE` vectors
    query_cache: Optional[dict] = None

    def _encode(self, texts, is_query, part) -> list:
        if is_query and self.query_cache is not None:
            return self._budget(self._cached_queries(texts, part))
        rows = self.encoder.encode_rows(texts, self._max_length(is_query), part.options["views"],
                                        part.batch_size, part.verbose, describe(is_query))
        return self._budget(rows) if is_query else rows

    def _budget(self, items: list) -> list:
        """Query items with their pivot view cut to :attr:`query_top_k` terms (when set)."""
        if self.query_top_k is None:
            return items
        return [{**r, PIVOT: top_k(r[PIVOT], self.query_top_k)} if PIVOT in r else r for r in items]

    def _cached_queries(self, texts, part) -> list:
        """Query items from :attr:`query_cache`, encoding (with the part's views, in one call) the
        texts it lacks a requested view of; the items are copies, so a caller may change them."""
        cache, views, length = self.query_cache, part.options["views"], self.query_max_length
        missing = list(dict.fromkeys(t for t in texts if any((length, v, t) not in cache for v in views)))
        if missing and len(cache) + len(missing) * len(views) > QUERY_CACHE_SIZE:
            cache.clear()
            missing = list(dict.fromkeys(texts))
        if missing:
            rows = self.encoder.encode_rows(missing, length, views, part.batch_size, part.verbose, describe(True))
            cache.update(((length, v, t), r[v]) for t, r in zip(missing, rows) for v in views)
        return [{v: dict(cache[(length, v, t)]) for v in views} for t in texts]

    def _columns(self, items, is_query, part) -> dict:
        prefix = "query_" if is_query else ""
        return {prefix + column: [combine(r.get(PIVOT), r.get(SOURCE)) for r in items] if output == COMBINED
                else [r[output] for r in items] for output, column in part.options["columns"].items()}

    def _score(self, query, doc, part) -> float:
        return sum(dot(query[v], doc[v]) for v in part.options["views"])
