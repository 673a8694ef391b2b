"""``milco-pt demo``: milco-mini against BM25 and e5-small on the DDTP test split.

Systems: milco-mini with both views (one combined Anserini impact index), milco-mini pivot view
only, BM25 (Anserini, the documents' analyzer) and multilingual-e5-small (dense, exact). By default
the headline: cross-lingual X->en for four languages of four scripts (de, ja, ru, zh_CN) with their
hard subsets (no ASCII word shared with the relevant document), a few minutes on 2 CPU cores;
``full=True`` (``--full``): every language, cross-lingual and monolingual X->X. Everything goes
through the run layer, so encodings, indexes and run files are cached in the work folder and a
second run is near-instant. Writes ``demo.csv`` (task, system, measure, value), prints the table,
and plots sparsity vs nDCG@10 (top-k and mass pruning of milco-mini's document vectors,
cross-lingual average, e5-small as the reference line) and per-language bars.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence

import pandas as pd

MEASURES = ["nDCG@10", "R@100", "RR@10"]
MASS_LEVELS = (30, 50, 70, 80, 90)
TOPK_LEVELS = (8, 16, 32, 64, 128)
HEADLINE = ("de", "ja", "ru", "zh_CN")
SYSTEMS = {"milco-mini": "milco-mini (dual view)", "milco-mini-pivot": "milco-mini (pivot only)", "bm25": "BM25",
           "e5": "e5-small (dense)"}


def _evaluate(runs: dict, topics: pd.DataFrame, qrels: pd.DataFrame, task: str) -> list[dict]:
    """Rows of each system's measures on ``topics`` (a subset of the run files' queries)."""
    from .runfile import evaluate
    rows = []
    for name, path in runs.items():
        values = evaluate(path, qrels, MEASURES, topics["qid"]).mean()
        rows += [{"task": task, "system": SYSTEMS[name], "measure": m, "value": round(float(values[m]), 4)}
                 for m in MEASURES]
    return rows


def qrels_digest(qrels: pd.DataFrame) -> str:
    """A short digest of qrels (order does not matter)."""
    import hashlib
    lines = sorted(f"{q}\t{d}\t{int(r)}" for q, d, r in zip(qrels["qid"], qrels["docno"], qrels["label"]))
    return hashlib.sha1("\n".join(lines).encode("utf-8")).hexdigest()[:16]


def pruning_curve(encoding, work, tasks: list, mini=None) -> pd.DataFrame:
    """Mean cross-lingual nDCG@10 of milco-mini (exact scoring) when documents are pruned (top-k and
    mass, :data:`MASS_LEVELS` / :data:`TOPK_LEVELS`), averaged over ``tasks`` (``(name, (topics,
    qrels))``). Cached in the work folder (``curves/``) as the other stages are, keyed by the
    encoding, the query model, the levels and the tasks' topics and qrels, so a rerun reads it
    back; ``mini``: the loaded model (default: the encoding's)."""
    from .runner import topics_digest
    from .work import read_json, write_json
    settings = {"encoding": encoding.settings(work), "queries": {"model": encoding.model.key(), "combined": True},
                "levels": {"mass": list(MASS_LEVELS), "top-k": list(TOPK_LEVELS)}, "index": "exact",
                "num_results": 100, "measure": "nDCG@10",
                "tasks": [[t, topics_digest(topics), qrels_digest(qrels)] for t, (topics, qrels) in tasks]}
    path = work.folder("curves", f"{encoding.model.label}-pruning", settings) / "curve.json"
    cached = read_json(path)
    if cached is None:
        cached = _pruning_curve(encoding, work, tasks, mini or encoding.model.load()).to_dict("records")
        write_json(path, cached)
    return pd.DataFrame(cached, columns=["method", "level", "value", "terms_per_doc"])


def _pruning_curve(encoding, work, tasks: list, mini) -> pd.DataFrame:
    import pyterrier as pt
    from pyterrier.measures import nDCG

    from ..index.exact import ExactIndex
    from ..pruning import mass_prune, top_k
    queries = {t: mini.query_encoder(combined=True)(topics[["qid", "query"]]) for t, (topics, _) in tasks}
    docs = [(rec["docno"], rec["combined"]) for rec in encoding.records(work)]  # read once, pruned 10 times
    rows = []
    for method, levels, fn in (("mass", MASS_LEVELS, mass_prune), ("top-k", TOPK_LEVELS, top_k)):
        for level in levels:
            pruned = [{"docno": docno, "toks": fn(vec, level)} for docno, vec in docs]
            terms = [len(rec["toks"]) for rec in pruned]
            index = ExactIndex("toks").index(pruned)
            values = [pt.Experiment([index.retriever(num_results=100)], queries[t], qrels, [nDCG @ 10])
                      ["nDCG@10"][0] for t, (_, qrels) in tasks]
            rows.append({"method": method, "level": level, "value": sum(values) / len(values),
                         "terms_per_doc": sum(terms) / max(len(terms), 1)})
    return pd.DataFrame(rows)


MONOLINGUAL = ("en", "de", "fr", "ja", "ru", "zh_CN")


def plot_languages(table: pd.DataFrame, out) -> list:
    """Per-language bars of cross-lingual (X->en) nDCG@10 for every system, from ``demo.csv``'s rows."""
    from .plots import language_bars
    parts = table["task"].str.extract(r"^(\w+)-en$")[0]
    sel = parts.notna() & (parts != "en") & (table["measure"] == "nDCG@10")
    df = table[sel].assign(language=parts[sel], value=100 * table[sel]["value"])[["language", "system", "value"]]
    return language_bars(df, out, measure="nDCG@10 (x100)", subtitle="DDTP test, X->en") if len(df) else []


#: padded tokens per batch on CPU: batches of texts of about the same token count, instead of
#: ``batch_size`` texts sorted by characters (a quarter of the DDTP documents' positions were padding)
CPU_TOKEN_BUDGET = 2048


def cpu_batching() -> dict:
    """``{"token_budget": CPU_TOKEN_BUDGET}`` on CPU, else nothing (the same vectors up to float
    rounding; a setting that does not key the encodings, as the batch size does not)."""
    import torch
    return {} if torch.cuda.is_available() else {"token_budget": CPU_TOKEN_BUDGET}


def demo_models(delta=None, batch_size: int = 32, prebuilt: bool = True):
    """The demo's encoders: milco-mini (``delta``, default the shipped one) and e5-small-q4, documents
    cut at 256 tokens; on CPU batched by tokens; ``prebuilt``: documents whose vectors ship with the
    package (:mod:`milco_pt.run.prebuilt`) are not encoded again, where the digests match."""
    from ..mini import SHIPPED_DELTA, e5_folder
    from .models import Models
    budget = cpu_batching()
    models = Models(mini=Path(delta or SHIPPED_DELTA), e5=str(e5_folder()), batch_size=batch_size,
                    options={"milco-mini": {"doc_max_length": 256, "query_max_length": 64, **budget},
                             "e5": {"doc_max_length": 256, **budget}})
    if prebuilt:
        for kind in ("milco-mini", "e5"):
            models[kind].prebuilt = True
    return models


def _task(name: str, max_queries: Optional[int], max_docs: Optional[int]):
    from ..datasets import get
    ds = get(name)
    return ds.sample(max_queries, max_docs) if max_queries or max_docs else ds


def _averages(table: pd.DataFrame) -> list[dict]:
    parts = table["task"].str.extract(r"^(\w+)-(\w+)( \(hard\))?$")
    kinds = {"X->en": (parts[1] == "en") & (parts[0] != "en") & parts[2].isna(),
             "X->en (hard)": parts[2].notna(), "X->X": (parts[0] == parts[1]) & parts[2].isna()}
    rows = []
    for kind, selected in kinds.items():
        if selected.any():
            avg = table[selected].groupby(["system", "measure"], as_index=False)["value"].mean()
            rows += [{"task": f"avg {kind}", **r} for r in avg.to_dict("records")]
    return rows


def run(out: str = "results", delta: Optional[str] = None, languages: Optional[Sequence[str]] = None,
        monolingual: Optional[Sequence[str]] = None, plot: bool = True, batch_size: int = 32,
        max_queries: Optional[int] = None, max_docs: Optional[int] = None, full: bool = False,
        work=None, prebuilt: bool = True) -> pd.DataFrame:
    """Run the demo: cross-lingual tasks for ``languages`` (default: the headline four; ``full``:
    every language), monolingual ones for ``monolingual`` (default: none; ``full``: six languages of
    five scripts; ``"all"``). ``max_queries`` / ``max_docs`` cut every task down (smoke runs);
    ``work``: the cache folder (default: the user's cache). ``prebuilt``: the English documents'
    vectors shipped for the shipped models are used instead of encoding them, where their digests
    (weights, tokenizer, settings, device, text) match (:mod:`milco_pt.run.prebuilt`); ``False``
    encodes everything."""
    from ..datasets.ddtp import languages as ddtp_languages
    from ..mini import SHIPPED_DELTA
    from .pipeline import Corpus
    from .runner import Runner
    delta = Path(delta or SHIPPED_DELTA)
    if not delta.exists():
        raise FileNotFoundError(f"no milco-mini at {delta}: train it with experiments/train_milco_mini.py --out DIR")
    models = demo_models(delta, batch_size, prebuilt)
    runner = Runner(work, models, num_results=100, verbose=False)
    langs = list(languages or (ddtp_languages() if full else HEADLINE))
    monolingual = monolingual if monolingual is not None else (MONOLINGUAL if full else ())
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    cross = {f"{x}-en": _task(f"ddtp/{x}-en/test", max_queries, max_docs) for x in langs if x != "en"}
    en = _task("ddtp/en-en/test", None, None)
    if max_docs:  # every sampled task's documents, as one English corpus
        from ..datasets.collection import Collection
        keep = set().union(*({d["docno"] for d in ds.get_corpus_iter()} for ds in cross.values()))
        full_en = en
        en = Collection("ddtp/en-en/test (sampled)", en.get_topics(), en.get_qrels(),
                        lambda: (d for d in full_en.get_corpus_iter() if d["docno"] in keep), corpus_lang="en")
    en_corpus = Corpus(en, None if max_docs else "ddtp/en-en/test", "en")
    rows = []
    for task, ds in cross.items():
        topics, qrels = ds.get_topics(), ds.get_qrels()
        runs = {s: runner.run(s, en_corpus, topics) for s in SYSTEMS}
        rows += _evaluate(runs, topics, qrels, task)
        hard = topics[~topics["shares_latin_word"]]
        if len(hard):
            rows += _evaluate(runs, hard, qrels, f"{task} (hard)")
        print(f"{task}: done", flush=True)
    mono = langs if monolingual == "all" else [x for x in monolingual if x in langs]
    for x in mono:
        ds = _task(f"ddtp/{x}-{x}/test", max_queries, max_docs)
        corpus = Corpus(ds, None if max_docs else f"ddtp/{x}-{x}/test", x)
        topics = ds.get_topics()
        rows += _evaluate({s: runner.run(s, corpus, topics) for s in SYSTEMS}, topics, ds.get_qrels(), f"{x}-{x}")
        print(f"{x}-{x}: done", flush=True)
    table = pd.DataFrame(rows)
    table = pd.DataFrame(rows + _averages(table))
    table["value"] = table["value"].round(4)
    table.to_csv(out_dir / "demo.csv", index=False)
    if plot and cross:
        from .plots import setting, sparsity_curve
        encoding = runner.context(en_corpus).encoding("milco-mini")
        tasks = [(t, (ds.get_topics(), ds.get_qrels())) for t, ds in cross.items()]
        curve = pruning_curve(encoding, runner.work, tasks)
        cross_langs = [t.split("-")[0] for t in cross]
        curve.to_csv(out_dir / "demo_pruning.csv", index=False)
        dense = table[(table["task"] == "avg X->en") & (table["system"] == "e5-small (dense)")
                      & (table["measure"] == "nDCG@10")]["value"]
        sparsity_curve(curve.assign(value=100 * curve["value"]), out_dir / "demo_sparsity",
                       dense=100 * float(dense.iloc[0]) if len(dense) else None, measure="nDCG@10 (x100)",
                       dense_label="e5-small (dense, 384 dims)", title="milco-mini: pruning documents",
                       subtitle=setting(f"DDTP test, X->en ({', '.join(cross_langs)})", hardware=False))
    if plot:
        plot_languages(table, out_dir / "demo_languages")
    wide = table[table["measure"] == "nDCG@10"].pivot_table(index="task", columns="system", values="value")
    print(wide.round(3).to_string())
    return table
