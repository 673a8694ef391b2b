"""Quick start: MILCO (dual view and pivot only) on a small real cross-lingual sample.

    python experiments/quickstart.py [--model omai-research/milco-650m]

Queries are Debian package short descriptions in de/fr/es/ja/ru/zh_CN, documents the
English long descriptions (experiments/data/quickstart, 400 documents). The default model is
milco-mini, shipped with milco-pt (no download); about 2 minutes on 2 CPU cores.
"""
import argparse
from pathlib import Path

import pandas as pd
import pyterrier as pt
from pyterrier.measures import MRR, R, nDCG

import milco_pt

DATA = Path(__file__).parent / "data" / "quickstart"


def load():
    corpus = pd.read_json(DATA / "corpus.jsonl", lines=True, dtype={"docno": str})
    topics = pd.read_csv(DATA / "topics.tsv", sep="\t", names=["qid", "lang", "query"], dtype=str,
                         keep_default_na=False)
    qrels = pd.read_csv(DATA / "qrels.txt", sep=" ", names=["qid", "iter", "docno", "label"], dtype={"qid": str, "docno": str})
    return corpus, topics, qrels


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="milco-mini", help="milco-mini (shipped), a hub id or a checkpoint folder")
    ap.add_argument("--out", default="runs/quickstart.csv")
    args = ap.parse_args()
    corpus, topics, qrels = load()
    milco = milco_pt.Milco.from_pretrained(args.model, verbose=True)
    docs = milco.doc_encoder()(corpus)
    dual = milco_pt.ExactIndex(["toks", "src_toks"]).index(docs)
    pivot = milco_pt.ExactIndex(["toks"]).index(docs)
    systems = [milco.query_encoder() >> dual.retriever(num_results=100),
               milco.query_encoder(views="pivot") >> pivot.retriever(num_results=100)]
    names = ["milco (pivot + source)", "milco (pivot only)"]
    rows = []
    for lang, t in topics.groupby("lang"):
        res = pt.Experiment(systems, t[["qid", "query"]], qrels, [nDCG @ 10, R @ 100, MRR @ 10], names=names)
        rows.append(res.assign(task=f"{lang}->en", queries=len(t)))
    table = pd.concat(rows, ignore_index=True)
    pd.set_option("display.width", 160)
    print(table.to_string(index=False, float_format="%.4f"))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out, index=False)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
