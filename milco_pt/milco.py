"""PyTerrier API: :class:`Milco` is a factory of encoders and scorers, and a transformer.

Frame columns: pivot view ``query_toks`` / ``toks``; source view ``query_src_toks`` /
``src_toks``; with ``combined=True`` a single ``query_toks`` / ``toks`` column holds both views
under the authors' ``e_`` / ``m_`` names, for one index scored by a plain dot product.
"""
from __future__ import annotations

from typing import Optional, Sequence

import pandas as pd
import pyterrier as pt

from .views import PIVOT, SOURCE, VIEWS, ViewEncoder, check_texts, check_views, combine_all, dot

QUERY_COLUMNS = {PIVOT: "query_toks", SOURCE: "query_src_toks"}
DOC_COLUMNS = {PIVOT: "toks", SOURCE: "src_toks"}


class Milco(pt.Transformer):
    """A MILCO model for PyTerrier.

    As a transformer it dispatches on its input: queries -> query encoder, documents ->
    document encoder, (query, text) pairs -> exact dual-view scorer.
    """

    def __init__(self, model, m_tokenizer, en_vocab: Sequence[str], *, batch_size: int = 32,
                 query_max_length: int = 64, doc_max_length: int = 512, lowercase: bool = True,
                 drop_special: bool = False, views=VIEWS, text_field: str = "text",
                 device: Optional[str] = None, precision: str = "auto", verbose: bool = False,
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
        """
        super().__init__()
        self.model = model
        self.batch_size = batch_size
        self.query_max_length = query_max_length
        self.doc_max_length = doc_max_length
        self.views = check_views(views)
        if not model.config.echo:
            if self.views == (SOURCE,):
                raise ValueError("this checkpoint has no LexEcho head (config.echo is false), so no "
                                 "source view: use views=('pivot',)")
            self.views = (PIVOT,)
        self.text_field = text_field
        self.verbose = verbose
        self.name = name
        self._kwargs = dict(batch_size=batch_size, query_max_length=query_max_length,
                            doc_max_length=doc_max_length, lowercase=lowercase,
                            drop_special=drop_special, views=tuple(views), text_field=text_field,
                            device=device, precision=precision, verbose=verbose)
        self.encoder = ViewEncoder(model, m_tokenizer, en_vocab, device=device, lowercase=lowercase,
                                   drop_special=drop_special, precision=precision)

    @classmethod
    def from_pretrained(cls, name_or_path: str, *, revision: Optional[str] = None,
                        local_files_only: bool = False, m_tokenizer=None, en_vocab=None,
                        **kwargs) -> "Milco":
        """Load a checkpoint: a local folder or a hub id such as ``omai-research/milco-650m``.

        Needs no remote code. Tokenizers come from the folder, else from the ids in its config
        (or ``m_tokenizer`` / ``en_vocab`` paths); offline with nothing cached, one error lists
        exactly what to download.
        """
        from .hub import load_model, load_tokenizers
        model = load_model(name_or_path, revision=revision, local_files_only=local_files_only)
        tok, vocab = load_tokenizers(model.folder, model.config, m_tokenizer, en_vocab, local_files_only)
        out = cls(model, tok, vocab, **kwargs)
        out.name = name_or_path
        out._load_kwargs = {k: v for k, v in dict(revision=revision, local_files_only=local_files_only).items() if v}
        return out

    def save_pretrained(self, folder, safe_serialization: bool = True):
        """Save weights, config and both tokenizers; the folder then loads offline."""
        from .hub import save_tokenizers
        self.model.save_pretrained(folder, safe_serialization=safe_serialization)
        save_tokenizers(folder, self.encoder.m_tokenizer, self.encoder.pivot_names.tolist())
        return folder

    def __repr__(self):
        defaults = Milco.__init__.__kwdefaults__
        head = ["model", "m_tokenizer", "en_vocab"] if self.name is None else [repr(self.name)]
        args = head + [f"{k}={v!r}" for k, v in getattr(self, "_load_kwargs", {}).items()]
        args += [f"{k}={v!r}" for k, v in self._kwargs.items()
                 if v != defaults[k] and not (k == "views" and tuple(v) == tuple(defaults[k]))]
        call = "Milco" if self.name is None else "Milco.from_pretrained"
        return f"{call}({', '.join(args)})"

    # -- plain Python API ---------------------------------------------------------------

    def encode_queries(self, texts: Sequence[str], views=None, combined: bool = True) -> list:
        """Query vectors: ``{e_term|m_term: weight}`` dicts (``combined``) or ``{view: [dict]}``."""
        return self._encode(texts, self.query_max_length, views, combined, "Encoding queries")

    def encode_docs(self, texts: Sequence[str], views=None, combined: bool = True) -> list:
        """Document vectors, as :meth:`encode_queries` but with the document length limit."""
        return self._encode(texts, self.doc_max_length, views, combined, "Encoding documents")

    def _encode(self, texts, max_length, views, combined, desc):
        if isinstance(texts, str):
            texts = [texts]
        texts = check_texts(list(texts), "text")
        out = self.encoder.encode(texts, max_length, views or self.views, self.batch_size,
                                  self.verbose, desc)
        return combine_all(out) if combined else out

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

    def query_encoder(self, views=None, combined: bool = False, verbose=None, batch_size=None):
        """Adds ``query_toks`` (pivot) / ``query_src_toks`` (source), or one combined ``query_toks``."""
        return MilcoQueryEncoder(self, views, combined, verbose, batch_size)

    def doc_encoder(self, views=None, combined: bool = False, verbose=None, batch_size=None,
                    text_field=None):
        """Adds ``toks`` (pivot) / ``src_toks`` (source), or one combined ``toks``."""
        return MilcoDocEncoder(self, views, combined, verbose, batch_size, text_field)

    def scorer(self, verbose=None, batch_size=None, text_field=None):
        """Re-ranks (query, text) pairs by the exact dual-view score."""
        return MilcoScorer(self, verbose, batch_size, text_field)

    def transform(self, inp: pd.DataFrame) -> pd.DataFrame:
        with pt.validate.any(inp) as v:
            v.result_frame(extra_columns=["query", self.text_field], mode="scorer")
            v.query_frame(extra_columns=["query"], mode="query_encoder")
            v.document_frame(extra_columns=[self.text_field], mode="doc_encoder")
        if v.mode == "scorer":
            return self.scorer()(inp)
        if v.mode == "query_encoder":
            return self.query_encoder()(inp)
        return self.doc_encoder()(inp)


class _Part(pt.Transformer):
    """Shared settings of the transformers a :class:`Milco` makes."""
    factory = ""

    def __init__(self, milco: Milco, views=None, combined=False, verbose=None, batch_size=None,
                 text_field=None):
        self.milco = milco
        self.views = check_views(views) if views is not None else milco.views
        self.combined = combined
        self.verbose = milco.verbose if verbose is None else verbose
        self.batch_size = batch_size or milco.batch_size
        self.text_field = text_field or milco.text_field

    def _encode(self, texts, max_length, desc, ids=None, column="text"):
        texts = check_texts(list(texts), column, ids)
        return self.milco.encoder.encode(texts, max_length, self.views, self.batch_size,
                                         self.verbose, desc)

    def _assign(self, frame, vectors, columns):
        if self.combined:
            return frame.assign(**{columns[PIVOT]: combine_all(vectors)})
        return frame.assign(**{columns[v]: vectors[v] for v in self.views})

    def __repr__(self):
        args = []
        if tuple(self.views) != tuple(self.milco.views):
            args.append(f"views={self.views!r}")
        if self.combined:
            args.append("combined=True")
        return f"{self.milco!r}.{self.factory}({', '.join(args)})"

    def subtransformers(self):
        return {}


class MilcoQueryEncoder(_Part):
    factory = "query_encoder"

    def transform(self, inp: pd.DataFrame) -> pd.DataFrame:
        with pt.validate.any(inp) as v:
            v.query_frame(extra_columns=["query"])
            v.columns(includes=["query"])
        queries = inp["query"].tolist()
        uniq = list(dict.fromkeys(q for q in queries if isinstance(q, str)))
        if len(uniq) == len(queries):
            vectors = self._encode(queries, self.milco.query_max_length, "Encoding queries",
                                   inp["qid"].tolist() if "qid" in inp else None, "query")
        else:
            check_texts(queries, "query", inp["qid"].tolist() if "qid" in inp else None)
            enc = self._encode(uniq, self.milco.query_max_length, "Encoding queries")
            pos = {q: i for i, q in enumerate(uniq)}
            vectors = {v: [vs[pos[q]] for q in queries] for v, vs in enc.items()}
        return self._assign(inp, vectors, QUERY_COLUMNS)


class MilcoDocEncoder(_Part):
    factory = "doc_encoder"

    def transform(self, inp: pd.DataFrame) -> pd.DataFrame:
        with pt.validate.any(inp) as v:
            v.columns(includes=[self.text_field])
        ids = inp["docno"].tolist() if "docno" in inp else None
        vectors = self._encode(inp[self.text_field].tolist(), self.milco.doc_max_length,
                               "Encoding documents", ids, self.text_field)
        return self._assign(inp, vectors, DOC_COLUMNS)


class MilcoScorer(_Part):
    factory = "scorer"

    def transform(self, inp: pd.DataFrame) -> pd.DataFrame:
        with pt.validate.any(inp) as v:
            v.result_frame(extra_columns=["query", self.text_field])
        if len(inp) == 0:
            return inp.assign(score=pd.Series(dtype=float), rank=pd.Series(dtype=int))
        queries = inp["query"].tolist()
        uniq = list(dict.fromkeys(check_texts(queries, "query", inp["qid"].tolist())))
        q_vecs = self._encode(uniq, self.milco.query_max_length, "Encoding queries")
        d_vecs = self._encode(inp[self.text_field].tolist(), self.milco.doc_max_length,
                              "Encoding documents", inp["docno"].tolist(), self.text_field)
        pos = {q: i for i, q in enumerate(uniq)}
        scores = [sum(dot(q_vecs[v][pos[q]], d_vecs[v][j]) for v in self.views)
                  for j, q in enumerate(queries)]
        out = inp.assign(score=scores)
        return pt.model.add_ranks(out)
