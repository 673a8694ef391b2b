"""``milco-pt demo``: milco-mini against BM25 and e5-small on the DDTP test split, every language.

Systems: milco-mini with both views (one combined Anserini impact index), milco-mini pivot view
only, BM25 (Anserini, the documents' analyzer) and multilingual-e5-small (dense, exact). Tasks:
cross-lingual X->en for every query language, and monolingual X->X. Writes ``results/demo.csv``
(task, system, measure, value), prints the table, and plots sparsity vs nDCG@10 (top-k and mass
pruning of milco-mini's document vectors, cross-lingual average, e5-small as the reference line).
"""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Optional, Sequence

import pandas as pd
import pyterrier as pt
from pyterrier.measures import RR, R, nDCG

MEASURES = [nDCG @ 10, R @ 100, RR @ 10]
MASS_LEVELS = (30, 50, 70, 80, 90)
TOPK_LEVELS = (8, 16, 32, 64, 128)
DUAL = ("pivot", "source", "combined")  # milco-mini's encoder outputs: each view and both combined


def _rows(res: pd.DataFrame, task: str) -> list[dict]:
    return [{"task": task, "system": r["name"], "measure": m, "value": round(float(r[m]), 4)}
            for _, r in res.iterrows() for m in ("nDCG@10", "R@100", "RR@10")]


class _Encoded:
    """A test corpus encoded once per model, with the indexes every system needs."""

    def __init__(self, docs: pd.DataFrame, lang: str, mini, e5, work: Path):
        from ..baselines import BM25Index, FlatIndex
        from ..index.anserini import ImpactIndex
        self.docs = mini.doc_encoder(outputs=DUAL)(docs)
        self.dual = ImpactIndex(work / f"{lang}-dual", column="combined", verbose=False,
                                meta={"model": "milco-mini", "view": "both"}).index(self.docs)
        self.pivot = ImpactIndex(work / f"{lang}-pivot", column="toks", verbose=False,
                                 meta={"model": "milco-mini", "view": "pivot"}).index(self.docs)
        self.bm25 = BM25Index(work / f"{lang}-bm25", language=lang, verbose=False).index(docs)
        self.dense = FlatIndex().index(e5.doc_encoder()(docs))

    def run(self, topics: pd.DataFrame, mini, e5) -> dict[str, pd.DataFrame]:
        """Each system's results for ``topics``; milco-mini encodes the queries once for both runs."""
        topics = topics[["qid", "query"]]
        q = mini.query_encoder(outputs=DUAL)(topics)
        pivot = q.drop(columns=["query_src_toks", "query_combined"])
        return {"milco-mini (dual view)": self.dual.retriever(num_results=100)(q),
                "milco-mini (pivot only)": self.pivot.retriever(num_results=100)(pivot),
                "BM25": self.bm25.bm25(num_results=100)(topics),
                "e5-small (dense)": self.dense.retriever(num_results=100)(e5.query_encoder()(topics))}


def _evaluate(results: dict[str, pd.DataFrame], topics: pd.DataFrame, qrels: pd.DataFrame, task: str) -> list[dict]:
    keep = set(topics["qid"])
    runs = [r[r["qid"].isin(keep)][["qid", "docno", "score", "rank"]] for r in results.values()]
    empty = pd.DataFrame({"qid": [topics["qid"].iloc[0]], "docno": ["-"], "score": [0.0], "rank": [0]})
    runs = [r if len(r) else empty for r in runs]  # retrieved nothing: every measure is 0
    res = pt.Experiment(runs, topics[["qid", "query"]], qrels[qrels["qid"].isin(keep)], MEASURES, names=list(results))
    return _rows(res, task)


def pruning_curve(encoded: _Encoded, tasks: list, mini) -> pd.DataFrame:
    """Mean cross-lingual nDCG@10 of milco-mini (exact scoring) when documents are pruned."""
    from ..index.exact import ExactIndex
    from ..pruning import mass_prune, top_k
    queries = {t: mini.query_encoder(combined=True)(topics[["qid", "query"]]) for t, (topics, _, _) in tasks}
    rows = []
    for method, levels, fn in (("mass", MASS_LEVELS, mass_prune), ("top-k", TOPK_LEVELS, top_k)):
        for level in levels:
            pruned = encoded.docs.assign(toks=[fn(v, level) for v in encoded.docs["combined"]])
            index = ExactIndex("toks").index(pruned[["docno", "toks"]])
            values = [pt.Experiment([index.retriever(num_results=100)], queries[t], qrels, [nDCG @ 10])
                      ["nDCG@10"][0] for t, (_, qrels, _) in tasks]
            rows.append({"method": method, "level": level, "value": sum(values) / len(values),
                         "terms_per_doc": pruned["toks"].map(len).mean()})
    return pd.DataFrame(rows)


def _limit(ds, max_queries: Optional[int], max_docs: Optional[int]):
    """A task cut down for smoke runs: the first queries, their relevant documents plus others."""
    topics, qrels, docs = ds.get_topics(), ds.get_qrels(), ds.get_corpus_frame()
    if max_queries:
        topics = topics.head(max_queries)
        qrels = qrels[qrels["qid"].isin(topics["qid"])]
    if max_docs:
        keep = set(qrels["docno"]) | set(docs["docno"].head(max_docs))
        docs = docs[docs["docno"].isin(keep)]
    return topics, qrels, docs


MONOLINGUAL = ("en", "de", "fr", "ja", "ru", "zh_CN")


def plot_languages(table: pd.DataFrame, out) -> list:
    """Per-language bars of cross-lingual (X->en) nDCG@10 for every system, from ``demo.csv``'s rows."""
    from .plots import language_bars
    parts = table["task"].str.extract(r"^(\w+)-en$")[0]
    sel = parts.notna() & (parts != "en") & (table["measure"] == "nDCG@10")
    df = table[sel].assign(language=parts[sel])[["language", "system", "value"]]
    return language_bars(df, out, measure="nDCG@10 (DDTP test, X->en)") if len(df) else []


def run(out: str = "results", delta: Optional[str] = None, languages: Optional[Sequence[str]] = None,
        monolingual: Optional[Sequence[str]] = MONOLINGUAL, plot: bool = True, batch_size: int = 32, max_queries: Optional[int] = None,
        max_docs: Optional[int] = None) -> pd.DataFrame:
    """Run the demo. Cross-lingual tasks for every language in ``languages`` (default: all);
    monolingual ones for ``monolingual`` (default: six languages of five scripts, which keeps the
    run near 15 minutes on 2 cores; ``"all"`` or ``None``). ``max_queries`` / ``max_docs`` cut
    every task down (smoke runs)."""
    from ..baselines import E5
    from ..datasets import get
    from ..datasets.ddtp import languages as ddtp_languages
    from ..mini import SHIPPED_DELTA, e5_folder, load
    delta = Path(delta or SHIPPED_DELTA)
    if not delta.exists():
        raise FileNotFoundError(f"no milco-mini at {delta}: train it with experiments/train_milco_mini.py --out DIR")
    mini = load(delta, batch_size=batch_size, doc_max_length=256, query_max_length=64)
    e5 = E5.from_pretrained(str(e5_folder()), batch_size=batch_size, doc_max_length=256)
    langs = list(languages or ddtp_languages())
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        cross = {f"{x}-en": _limit(get(f"ddtp/{x}-en/test"), max_queries, max_docs) for x in langs if x != "en"}
        en_docs = get("ddtp/en-en/test").get_corpus_frame()
        if max_docs:
            en_docs = en_docs[en_docs["docno"].isin(set().union(*(set(d["docno"]) for _, _, d in cross.values())))]
        en = _Encoded(en_docs, "en", mini, e5, work)
        for task, (topics, qrels, _) in cross.items():
            results = en.run(topics, mini, e5)
            rows += _evaluate(results, topics, qrels, task)
            hard = topics[~topics["shares_latin_word"]]
            if len(hard):
                rows += _evaluate(results, hard, qrels, f"{task} (hard)")
            print(f"{task}: done", flush=True)
        mono = langs if monolingual == "all" else [x for x in (monolingual or ()) if x in langs]
        for x in mono:
            topics, qrels, docs = _limit(get(f"ddtp/{x}-{x}/test"), max_queries, max_docs)
            enc = en if x == "en" and not max_docs else _Encoded(docs, x, mini, e5, work)
            rows += _evaluate(enc.run(topics, mini, e5), topics, qrels, f"{x}-{x}")
            print(f"{x}-{x}: done", flush=True)
        table = pd.DataFrame(rows)
        parts = table["task"].str.extract(r"^(\w+)-(\w+)( \(hard\))?$")
        kinds = {"X->en": (parts[1] == "en") & (parts[0] != "en") & parts[2].isna(),
                 "X->en (hard)": parts[2].notna(), "X->X": (parts[0] == parts[1]) & parts[2].isna()}
        for kind, selected in kinds.items():
            if selected.any():
                avg = table[selected].groupby(["system", "measure"], as_index=False)["value"].mean()
                rows += [{"task": f"avg {kind}", **r} for r in avg.to_dict("records")]
        table = pd.DataFrame(rows)
        table["value"] = table["value"].round(4)
        table.to_csv(out_dir / "demo.csv", index=False)
        if plot and cross:
            from .plots import sparsity_curve
            curve = pruning_curve(en, [(t, tq) for t, tq in cross.items()], mini)
            curve.to_csv(out_dir / "demo_pruning.csv", index=False)
            dense = table[(table["task"] == "avg X->en") & (table["system"] == "e5-small (dense)")
                          & (table["measure"] == "nDCG@10")]["value"]
            sparsity_curve(curve, out_dir / "demo_sparsity", dense=float(dense.iloc[0]) if len(dense) else None,
                           dense_label="e5-small (dense, 384 dims)",
                           title="milco-mini on DDTP X->en (test): pruning documents")
    if plot:
        plot_languages(table, out_dir / "demo_languages")
    wide = table[table["measure"] == "nDCG@10"].pivot_table(index="task", columns="system", values="value")
    print(wide.round(3).to_string())
    return table
