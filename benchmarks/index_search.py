"""Impact indexing and search: quantization scale vs effectiveness and cost, our ImpactIndex build
vs pyserini's own CLI on the same JsonVectorCollection, and search latency vs pyserini's
LuceneImpactSearcher. Synthetic MILCO-like vectors with a known relevant document per query
(benchmarks/synthetic.py). Prints ratios against baselines measured in the same run.

  python benchmarks/index_search.py --docs 20000 --queries 500
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from synthetic import make_collection  # noqa: E402

from milco_pt import ExactIndex  # noqa: E402
from milco_pt.index.anserini import ImpactIndex, quantize  # noqa: E402

JVM_FIX = "import milco_pt.index.java as j; j.start(); "


def evaluate(run: pd.DataFrame, qrels: pd.DataFrame) -> dict:
    import ir_measures
    from ir_measures import R, RR, nDCG
    q = qrels.assign(query_id=qrels["qid"], doc_id=qrels["docno"], relevance=qrels["label"])
    r = run.assign(query_id=run["qid"], doc_id=run["docno"])
    agg = ir_measures.calc_aggregate([nDCG @ 10, R @ 100, RR @ 10], q, r)
    return {str(k): round(float(v), 4) for k, v in agg.items()}


def top10_overlap(a: pd.DataFrame, b: pd.DataFrame) -> float:
    ta = a[a["rank"] < 10].groupby("qid")["docno"].apply(set)
    tb = b[b["rank"] < 10].groupby("qid")["docno"].apply(set)
    return round(float(np.mean([len(ta[q] & tb.get(q, set())) / max(1, len(ta[q])) for q in ta.index])), 4)


def timed_subprocess(code: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
    return time.perf_counter() - started


def quantization_sweep(docs, queries, qrels, scales, work: Path) -> list[dict]:
    exact = ExactIndex("toks").index(docs).retriever(num_results=100)(queries)
    rows = [{"scale": "exact (float)", **evaluate(exact, qrels)}]
    for scale in scales:
        started = time.perf_counter()
        index = ImpactIndex(work / f"scale{scale}", scale=scale, verbose=False).index(docs)
        build = time.perf_counter() - started
        run = index.retriever(num_results=100)(queries)
        meta = index.meta()
        rows.append({"scale": scale, **evaluate(run, qrels), "top10_overlap_with_exact": top10_overlap(exact, run),
                     "build_s": round(build, 2), "sum_of_weights": meta["sum_of_weights"],
                     "index_mb": round(meta["index_bytes"] / 2 ** 20, 1)})
    return rows


def build_vs_pyserini(docs, scale, work: Path, threads: int) -> dict:
    coll = work / "collection"
    coll.mkdir()
    with open(coll / "part-0.jsonl", "w", encoding="utf-8") as f:
        for d, v in zip(docs["docno"], docs["toks"]):
            f.write(json.dumps({"id": d, "contents": "", "vector": quantize(v, scale)}, ensure_ascii=False) + "\n")
    vectors = work / "vectors.jsonl"
    shutil.copy(coll / "part-0.jsonl", vectors)
    pyserini_cli = (JVM_FIX + "import runpy, sys; sys.argv = ['pyserini.index.lucene', '--collection', "
                    f"'JsonVectorCollection', '--input', {str(coll)!r}, '--index', {str(work / 'pyserini')!r}, "
                    f"'--generator', 'DefaultLuceneDocumentGenerator', '--threads', '{threads}', '--impact', "
                    "'--pretokenized', '--optimize']; runpy.run_module('pyserini.index.lucene', run_name='__main__')")
    ours = (JVM_FIX + "from milco_pt.index.anserini import ImpactIndex; from milco_pt.cli import read_vectors; "
            f"ImpactIndex({str(work / 'ours')!r}, scale=1, verbose=False).indexer(threads={threads})"
            f".index(read_vectors({str(vectors)!r}))")
    t_pyserini, t_ours = timed_subprocess(pyserini_cli), timed_subprocess(ours)
    return {"pyserini_cli_s": round(t_pyserini, 2), "ours_s": round(t_ours, 2),
            "speedup_vs_pyserini": round(t_pyserini / t_ours, 3)}


# pyserini's figures include reading each hit's docid and score into Python, as any run writer must.
class _Table:
    """pyserini query encoder returning pre-quantized vectors."""

    def __init__(self, table):
        self.table = table

    def encode(self, q):
        return self.table[q]


def latency(fn, items) -> dict:
    times = []
    for it in items:
        started = time.perf_counter()
        fn(it)
        times.append((time.perf_counter() - started) * 1000)
    t = np.array(times)
    return {"mean_ms": round(float(t.mean()), 3), "p50_ms": round(float(np.percentile(t, 50)), 3),
            "p95_ms": round(float(np.percentile(t, 95)), 3), "p99_ms": round(float(np.percentile(t, 99)), 3)}


def search_vs_pyserini(queries, index: ImpactIndex, k: int = 1000) -> dict:
    from pyserini.search.lucene import LuceneImpactSearcher
    table = {q: quantize(v, index.scale) for q, v in zip(queries["qid"], queries["query_toks"])}
    theirs = LuceneImpactSearcher(str(index.path), query_encoder=_Table(table))
    qids = queries["qid"].tolist()
    out = {}
    for threads in (1, os.cpu_count() or 1):
        ours = index.retriever(num_results=k, threads=threads)
        ours(queries.head(5))
        started = time.perf_counter()
        ours(queries)
        t_ours = time.perf_counter() - started
        started = time.perf_counter()
        found = theirs.batch_search(qids, qids, k=k, threads=threads)
        [(h.docid, h.score) for q in qids for h in found[q]]
        t_theirs = time.perf_counter() - started
        out[f"batch_threads{threads}"] = {"ours_qps": round(len(qids) / t_ours, 1),
                                          "pyserini_qps": round(len(qids) / t_theirs, 1),
                                          "ratio": round(t_theirs / t_ours, 3)}
    ours1 = index.retriever(num_results=k)
    rows = [queries.iloc[[i]] for i in range(len(queries))]
    out["single_query_ours"] = latency(ours1, rows)
    out["single_query_pyserini"] = latency(lambda q: [(h.docid, h.score) for h in theirs.search(q, k=k)], qids)
    out["single_query_ratio_mean"] = round(out["single_query_pyserini"]["mean_ms"] / out["single_query_ours"]["mean_ms"], 3)
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--docs", type=int, default=20000)
    p.add_argument("--queries", type=int, default=500)
    p.add_argument("--scales", default="10,30,100,300")
    p.add_argument("--default-scale", type=float, default=100.0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", default=None, help="write the figures as JSON here")
    args = p.parse_args()
    docs, queries, qrels = make_collection(args.docs, args.queries)
    report = {"docs": args.docs, "queries": args.queries, "cpus": os.cpu_count()}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        report["quantization"] = quantization_sweep(docs, queries, qrels, [float(s) for s in args.scales.split(",")], work)
        print(pd.DataFrame(report["quantization"]).to_string(index=False))
        report["build"] = build_vs_pyserini(docs, args.default_scale, work, args.threads)
        print("build:", report["build"])
        index = ImpactIndex(work / f"scale{args.default_scale}")
        report["search"] = search_vs_pyserini(queries, index)
        print("search:", json.dumps(report["search"], indent=1))
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
