"""A test collection as PyTerrier expects it (``get_topics``, ``get_qrels``, ``get_corpus_iter``),
built from frames and a corpus iterator; :func:`local` makes one from files in common formats."""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterator, Optional, Union

import pandas as pd
import pyterrier as pt

from .formats import read_qrels, read_texts, read_topics

Frame = Union[pd.DataFrame, Callable[[], pd.DataFrame]]


class Collection(pt.datasets.Dataset):
    """Topics, qrels and a corpus; frames may be given lazily (as functions) and are cached."""

    def __init__(self, name: str, topics: Frame, qrels: Frame, corpus: Callable[[], Iterator[dict]],
                 topics_lang: Optional[str] = None, corpus_lang: Optional[str] = None,
                 variants: Optional[dict[str, Callable[[pd.DataFrame], pd.DataFrame]]] = None):
        """
        Args:
            name: how the collection was obtained (shown by ``repr``).
            topics / qrels: frames ``qid, query[, ...]`` / ``qid, docno, label``, or functions making them.
            corpus: a function returning a fresh iterator of ``{docno, text, ...}`` dicts.
            variants: named topic subsets, e.g. ``{"hard": lambda t: t[~t.shares_latin_word]}``.
        """
        self.name = name
        self._topics, self._qrels, self._corpus = topics, qrels, corpus
        self.topics_lang, self.corpus_lang = topics_lang, corpus_lang
        self.variants = dict(variants or {})

    def __repr__(self):
        return self.name

    def _frame(self, attr: str) -> pd.DataFrame:
        value = getattr(self, attr)
        if callable(value):
            value = value()
            setattr(self, attr, value)
        return value

    def get_topics(self, variant: Optional[str] = None) -> pd.DataFrame:
        topics = self._frame("_topics")
        if variant is None:
            return topics.copy()
        if variant not in self.variants:
            raise KeyError(f"{self.name} has no topics variant {variant!r}; it has {sorted(self.variants)}")
        return self.variants[variant](topics).reset_index(drop=True)

    def get_qrels(self, variant: Optional[str] = None) -> pd.DataFrame:
        qrels = self._frame("_qrels")
        if variant is None:
            return qrels.copy()
        return qrels[qrels["qid"].isin(self.get_topics(variant)["qid"])].reset_index(drop=True)

    def get_corpus_iter(self, *, verbose: bool = False) -> Iterator[dict]:
        it = self._corpus()
        return pt.tqdm(it, desc=f"{self.name} corpus", unit="doc") if verbose else it

    def get_corpus_frame(self) -> pd.DataFrame:
        """The whole corpus as a frame (small collections)."""
        return pd.DataFrame(list(self.get_corpus_iter()))

    def sample(self, queries: Optional[int] = None, docs: Optional[int] = None) -> "Collection":
        """The same task cut down (for smoke runs, notebooks on a laptop): the first ``queries``
        topics (every variant keeps its own subset of them), their relevant documents plus the
        first ``docs`` others of the corpus, read lazily as the original is."""
        topics = self.get_topics() if queries is None else self.get_topics().head(queries)
        keep_q = set(topics["qid"])
        qrels = self.get_qrels()
        qrels = qrels[qrels["qid"].isin(keep_q)].reset_index(drop=True)
        relevant = set(qrels["docno"])

        def corpus():
            for n, doc in enumerate(self.get_corpus_iter()):
                if docs is None or n < docs or doc["docno"] in relevant:
                    yield doc

        def within(variant):
            return lambda t: (lambda v: v[v["qid"].isin(keep_q)])(variant(t))

        variants = {k: within(f) for k, f in self.variants.items()}
        return Collection(f"{self.name}.sample(queries={queries!r}, docs={docs!r})", topics.reset_index(drop=True),
                          qrels, corpus, self.topics_lang, self.corpus_lang, variants)

    def get_topics_lang(self) -> Optional[str]:
        return self.topics_lang

    def get_corpus_lang(self) -> Optional[str]:
        return self.corpus_lang


def local(corpus: Union[str, Path], topics: Union[str, Path], qrels: Union[str, Path], *,
          title: bool = True, topics_lang: Optional[str] = None, corpus_lang: Optional[str] = None) -> Collection:
    """A collection from local files: corpus jsonl(.gz/.xz) with an id and a text field (``title``
    prefixed unless ``title=False``), topics tsv ``qid<TAB>query`` or jsonl, TREC qrels."""
    for what, path in (("corpus", corpus), ("topics", topics), ("qrels", qrels)):
        if not Path(path).exists():
            raise FileNotFoundError(f"{what} file {path} does not exist")

    def corpus_iter():
        for docno, text in read_texts(corpus, title=title):
            yield {"docno": docno, "text": text}

    def qrels_frame():
        q = read_qrels(qrels)
        unknown = set(q["qid"]) - set(t["qid"])
        if unknown and not set(q["qid"]) & set(t["qid"]):
            raise ValueError(f"no qrels qid matches a topic qid (e.g. {sorted(unknown)[:3]}); "
                             "check that the qrels belong to these topics")
        return q

    t = read_topics(topics)
    name = f"milco_pt.datasets.local(corpus={str(corpus)!r}, topics={str(topics)!r}, qrels={str(qrels)!r})"
    return Collection(name, t, qrels_frame, corpus_iter, topics_lang, corpus_lang)
