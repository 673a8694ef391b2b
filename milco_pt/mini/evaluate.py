"""Exact-scoring evaluation of a milco-mini model by view: nDCG per X->en task for both views and for
the pivot view alone, and the grounding of its queries' pivot vectors (how far they are the words
of the query's English translation). Shared by the recipe selection (``experiments/
select_milco_mini.py``) and the ablations (``experiments/ablations.py``)."""
from __future__ import annotations

from typing import Optional, Sequence

VIEWS = {"dual view": "combined", "pivot only": "toks"}


def by_view(mini, collection: str, split: str, langs: Sequence[str], *, max_queries: Optional[int] = None,
            measures: Sequence = (), hard: bool = False, ground: bool = False,
            query_top_k: Optional[int] = None, indexes: Optional[dict] = None,
            queries: Optional[dict] = None) -> tuple[list[dict], dict]:
    """Rows ``{task, subset, view, queries, <measure>...}`` of ``collection/<x>-en/split`` for each
    ``x`` in ``langs`` (both views, then the pivot view alone, over the collection's one English
    corpus), also for the ``hard`` subset (queries sharing no ASCII word with their relevant
    document) when asked; with ``ground``, :func:`milco_pt.measures.grounding` of the queries'
    pivot vectors against the ``en-en`` topics of the same group (else ``{}``). ``query_top_k``
    keeps each query's ``k`` highest-weighted pivot terms (both views' runs and the grounding;
    documents unpruned). ``indexes`` (:func:`view_indexes`) and ``queries`` (:func:`encoded_queries`)
    of the same model, collection and split score several settings over one encoding."""
    import pyterrier as pt
    from pyterrier.measures import nDCG

    from .. import datasets
    measures = list(measures) or [nDCG @ 10]
    indexes = indexes or view_indexes(mini, collection, split, langs[0])
    queries = _given(queries or encoded_queries(mini, collection, split, langs, max_queries=max_queries), langs)
    rows = []
    for x in langs:
        topics, q = queries[x]
        qrels = datasets.get(f"{collection}/{x}-en/{split}").get_qrels()
        if query_top_k is not None:
            q = prune_queries(q, query_top_k)
        runs = {name: idx.retriever(num_results=100)(q[["qid", "query", f"query_{VIEWS[name]}"]])
                for name, idx in indexes.items()}
        subsets = [("all", topics)]
        if hard:
            subsets.append(("hard", topics[~topics["shares_latin_word"]]))
        for subset, sel in subsets:
            if not len(sel):
                continue
            keep = set(sel["qid"])
            res = pt.Experiment([r[r["qid"].isin(keep)] for r in runs.values()], sel[["qid", "query"]],
                                qrels[qrels["qid"].isin(keep)], measures, names=list(runs))
            rows += [{"task": f"{x}-en", "subset": subset, "view": r["name"], "queries": len(sel),
                      **{str(m): r[str(m)] for m in measures}} for _, r in res.iterrows()]
    ground = query_grounding(mini, collection, split, langs, query_top_k=query_top_k, queries=queries) if ground else {}
    return rows, ground


def encoded_queries(mini, collection: str, split: str, langs: Sequence[str], *,
                    max_queries: Optional[int] = None) -> dict:
    """``{x: (topics, encoded queries)}`` of ``collection/<x>-en/split`` (the first ``max_queries``),
    with every view the evaluation scores."""
    from .. import datasets
    outputs = (*mini.views, "combined")  # with LexEcho off, "combined" is the pivot view
    out = {}
    for x in langs:
        topics = datasets.get(f"{collection}/{x}-en/{split}").get_topics()
        if max_queries:
            topics = topics.head(max_queries)
        out[x] = topics, mini.query_encoder(outputs=outputs)(topics[["qid", "query"]])
    return out


def query_grounding(mini, collection: str, split: str, langs: Sequence[str], *, max_queries: Optional[int] = None,
                    query_top_k: Optional[int] = None, queries: Optional[dict] = None) -> dict:
    """:func:`milco_pt.measures.grounding` of ``collection/<x>-en/split``'s queries' pivot vectors
    (cut to ``query_top_k`` when given), as :func:`by_view` measures it, without encoding documents."""
    from ..measures import grounding
    queries = _given(queries or encoded_queries(mini, collection, split, langs, max_queries=max_queries), langs)
    en_text, vectors, translations = _translations(collection, split), [], []
    for x in langs:
        topics, q = queries[x]
        if query_top_k is not None:
            q = prune_queries(q, query_top_k)
        paired = topics["group"].isin(en_text.index).values
        vectors += q["query_toks"][paired].tolist()
        translations += en_text[topics["group"][paired]].tolist()
    return grounding(vectors, translations, mini.encoder.pivot_names.tolist())


def _given(queries: dict, langs: Sequence[str]) -> dict:
    """``queries`` when it holds every language of ``langs``."""
    missing = [x for x in langs if x not in queries]
    if missing:
        raise ValueError(f"the encoded queries lack languages {missing}: pass encoded_queries(...) of every language in langs")
    return queries


def _translations(collection: str, split: str):
    """Each query group's English text (the ``en-en`` topics), by group."""
    from .. import datasets
    return datasets.get(f"{collection}/en-en/{split}").get_topics().set_index("group")["query"]


def view_indexes(mini, collection: str, split: str, lang: str) -> dict:
    """Exact indexes of both views and of the pivot view alone over ``collection/<lang>-en/split``'s
    English corpus (every X->en task of a collection shares it)."""
    from .. import datasets
    from ..index.exact import ExactIndex
    docs = mini.doc_encoder(outputs=(*mini.views, "combined"))(
        datasets.get(f"{collection}/{lang}-en/{split}").get_corpus_frame())
    return {name: ExactIndex(col).index(docs[["docno", col]]) for name, col in VIEWS.items()}


def prune_queries(q, k: int):
    """``q`` with each query's pivot vector (``query_toks``) cut to its ``k`` highest-weighted terms
    and ``query_combined`` rebuilt from it and the source view."""
    from ..pruning import top_k
    from ..views import combine
    q = q.assign(query_toks=[top_k(v, k) for v in q["query_toks"]])
    if "query_combined" in q.columns:
        source = q["query_src_toks"] if "query_src_toks" in q.columns else [None] * len(q)
        q = q.assign(query_combined=[combine(p, s) for p, s in zip(q["query_toks"], source)])
    return q
