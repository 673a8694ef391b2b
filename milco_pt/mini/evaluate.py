"""Exact-scoring evaluation of a milco-mini model by view: nDCG per X->en task for both views and for
the pivot view alone, and the grounding of its queries' pivot vectors (how far they are the words
of the query's English translation). Shared by the recipe selection (``experiments/
select_milco_mini.py``) and the ablations (``experiments/ablations.py``)."""
from __future__ import annotations

from typing import Optional, Sequence

VIEWS = {"dual view": "combined", "pivot only": "toks"}


def by_view(mini, collection: str, split: str, langs: Sequence[str], *, max_queries: Optional[int] = None,
            measures: Sequence = (), hard: bool = False, ground: bool = False,
            query_top_k: Optional[int] = None, indexes: Optional[dict] = None) -> tuple[list[dict], dict]:
    """Rows ``{task, subset, view, queries, <measure>...}`` of ``collection/<x>-en/split`` for each
    ``x`` in ``langs`` (both views, then the pivot view alone, over the collection's one English
    corpus), also for the ``hard`` subset (queries sharing no ASCII word with their relevant
    document) when asked; with ``ground``, :func:`milco_pt.measures.grounding` of the queries'
    pivot vectors against the ``en-en`` topics of the same group (else ``{}``). ``query_top_k``
    keeps each query's ``k`` highest-weighted pivot terms (both views' runs and the grounding;
    documents unpruned). ``indexes``: :func:`view_indexes` of the same collection and split, to
    score several settings over one encoding of the documents."""
    import pyterrier as pt
    from pyterrier.measures import nDCG

    from .. import datasets
    from ..measures import grounding
    measures = list(measures) or [nDCG @ 10]
    outputs = (*mini.views, "combined")  # with LexEcho off, "combined" is the pivot view
    indexes = indexes or view_indexes(mini, collection, split, langs[0])
    en_text = datasets.get(f"{collection}/en-en/{split}").get_topics().set_index("group")["query"] if ground else None
    rows, vectors, translations = [], [], []
    for x in langs:
        ds = datasets.get(f"{collection}/{x}-en/{split}")
        topics, qrels = ds.get_topics(), ds.get_qrels()
        if max_queries:
            topics = topics.head(max_queries)
        q = mini.query_encoder(outputs=outputs)(topics[["qid", "query"]])
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
        if ground:
            paired = topics["group"].isin(en_text.index).values
            vectors += q["query_toks"][paired].tolist()
            translations += en_text[topics["group"][paired]].tolist()
    return rows, (grounding(vectors, translations, mini.encoder.pivot_names.tolist()) if ground else {})


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
