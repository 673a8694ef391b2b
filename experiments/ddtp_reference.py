"""Reference numbers on every DDTP task: BM25 (Anserini, the documents' language analyzer) and,
with --model, MILCO scored exactly (float dot products, both views) — all queries and the hard
subset (queries sharing no ASCII word with their relevant documents).

    python experiments/ddtp_reference.py                       # BM25, test split, all tasks
    python experiments/ddtp_reference.py --model PATH_OR_HUB   # + MILCO exact scoring
    python experiments/ddtp_reference.py --smoke               # two tasks, for CI
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import pandas as pd
import pyterrier as pt
from pyterrier.measures import RR, R, nDCG

from milco_pt import datasets
from milco_pt.baselines import BM25Index
from milco_pt.datasets.ddtp import languages

MEASURES = [nDCG @ 10, R @ 100, RR @ 10]


def tasks(smoke: bool) -> list[tuple[str, str]]:
    langs = languages()
    if smoke:
        return [("de", "en"), ("ja", "ja")]
    return [(q, "en") for q in langs if q != "en"] + [(q, q) for q in langs]


def evaluate(systems: dict, ds, variant):
    topics = ds.get_topics(variant)
    if len(topics) == 0:
        return None
    res = pt.Experiment(list(systems.values()), topics[["qid", "query"]], ds.get_qrels(variant), MEASURES,
                        names=list(systems))
    return res


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--split", default="test")
    p.add_argument("--model", default=None, help="a MILCO checkpoint (folder or hub id) to score exactly")
    p.add_argument("--smoke", action="store_true")
    p.add_argument("--out", default="results/ddtp_reference.csv")
    args = p.parse_args()
    milco = None
    if args.model:
        from milco_pt import Milco
        milco = Milco.from_pretrained(args.model, verbose=False)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        indexes = {}
        for q_lang, d_lang in tasks(args.smoke):
            name = f"ddtp/{q_lang}-{d_lang}/{args.split}"
            ds = datasets.get(name)
            docs = ds.get_corpus_frame()
            if d_lang not in indexes:
                indexes[d_lang] = BM25Index(Path(tmp) / d_lang, language=d_lang, verbose=False).index(docs)
            systems = {"BM25": indexes[d_lang].bm25(num_results=100)}
            if milco is not None:
                from milco_pt import ExactIndex
                exact = ExactIndex("toks").index(milco.doc_encoder(combined=True)(docs))
                systems["MILCO (exact)"] = milco.query_encoder(combined=True) >> exact.retriever(num_results=100)
            for subset, variant in (("all", None), ("hard", "hard")):
                res = evaluate(systems, ds, variant)
                if res is None:
                    continue
                n = len(ds.get_topics(variant))
                for _, r in res.iterrows():
                    for m in ("nDCG@10", "R@100", "RR@10"):
                        rows.append({"task": f"{q_lang}-{d_lang}", "subset": subset, "queries": n,
                                     "system": r["name"], "measure": m, "value": round(float(r[m]), 4)})
            print(f"{name}: {len(docs)} docs", flush=True)
    table = pd.DataFrame(rows)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(out, index=False)
    wide = table.pivot_table(index=["task", "subset", "queries"], columns=["system", "measure"], values="value")
    out.with_suffix(".md").write_text(wide.to_markdown() + "\n", encoding="utf-8")
    print(wide.to_string())


if __name__ == "__main__":
    main()
