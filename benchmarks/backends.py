"""Backends on the same vectors: Anserini (Lucene, our direct writer), PISA and Seismic — build
time, index size, recall@10 against exact float scoring, single-thread latency (one query at a
time, at the engine: what each engine costs, without the PyTerrier frame around it) and batch QPS
through the retrievers; a Seismic sweep (query_cut x heap_factor) against Lucene's latency; and
PISA's query algorithms (the retriever's default is maxscore).
Synthetic MILCO-like vectors (benchmarks/synthetic.py; combined e_/m_ vocabulary), or with --real
milco-mini's vectors of the English DDTP descriptions (--real-splits; test: 2,708, all: 26,702) and
test queries in every language (encoded once, then cached under milco-pt's cache folder).

  python benchmarks/backends.py --docs 100000 --queries 500 --out benchmarks/results/backends_run1.json
  python benchmarks/backends.py --real --queries 1000 --out benchmarks/results/backends_real_run1.json
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).parent))
from index_search import latency  # noqa: E402
from synthetic import make_collection  # noqa: E402

from milco_pt import sparse_index  # noqa: E402
from milco_pt.index.anserini import quantize  # noqa: E402


def exact_top(docs, queries, k=10) -> list[set]:
    """Each query's top-k documents by float dot product (scipy)."""
    vocab = {}
    def matrix(vecs):
        rows, cols, vals = [], [], []
        for i, v in enumerate(vecs):
            for t, w in v.items():
                rows.append(i)
                cols.append(vocab.setdefault(t, len(vocab)))
                vals.append(w)
        return rows, cols, vals
    d = matrix(docs["toks"])
    q = matrix(queries["query_toks"])
    D = sp.csr_matrix((d[2], (d[0], d[1])), shape=(len(docs), len(vocab)))
    Q = sp.csr_matrix((q[2], (q[0], q[1])), shape=(len(queries), len(vocab)))
    scores = (Q @ D.T).toarray()
    top = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    names = docs["docno"].to_numpy()
    return [set(names[r]) for r in top]


def real_collection(n_queries: int, splits=("test",), seed: int = 0):
    """milco-mini's dual-view vectors (``toks`` / ``query_toks``, e_/m_ names) of the English DDTP
    descriptions of ``splits`` and of ``n_queries`` test queries sampled over all query languages."""
    from milco_pt import datasets
    from milco_pt.datasets.ddtp import languages
    from milco_pt.mini import SHIPPED_DELTA
    from milco_pt.mini import cache_dir, load
    path = cache_dir() / "benchmarks" / f"ddtp_milco_mini_{'_'.join(splits)}_{n_queries}_{seed}.pkl"
    if path.exists():
        return pd.read_pickle(path)
    corpus = pd.concat([pd.DataFrame(list(datasets.get(f"ddtp/en-en/{split}").get_corpus_iter()))
                        for split in splits]).drop_duplicates("docno")
    topics = pd.concat([datasets.get(f"ddtp/{lang}-en/test").get_topics().assign(qid=lambda t, lang=lang: lang + "/" + t["qid"])
                        for lang in languages()])
    topics = topics.sample(n=min(n_queries, len(topics)), random_state=seed)[["qid", "query"]]
    mini = load(SHIPPED_DELTA, verbose=True, batch_size=32, doc_max_length=256, query_max_length=64)
    docs = mini.doc_encoder(combined=True)(corpus)
    queries = mini.query_encoder(combined=True)(topics)
    out = (docs[["docno", "toks"]].reset_index(drop=True), queries[["qid", "query_toks"]].reset_index(drop=True))
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.to_pickle(out, path)
    return out


def recall(res: pd.DataFrame, queries, truth: list[set], k=10) -> float:
    got = res[res["rank"] < k].groupby("qid")["docno"].agg(list).to_dict()
    return float(np.mean([len(t & set(got.get(q, []))) / len(t) for q, t in zip(queries["qid"], truth)]))


def batch_qps(retriever, queries) -> float:
    retriever(queries.head(5))
    started = time.perf_counter()
    retriever(queries)
    return round(len(queries) / (time.perf_counter() - started), 1)


def engine_calls(index, backend: str, queries, k: int):
    """One query -> hits, at the engine (no DataFrame), per backend."""
    if backend == "anserini":
        from milco_pt import java
        searcher = index.retriever().searcher()
        JHashMap, JInt = java.autoclass("java.util.HashMap"), java.autoclass("java.lang.Integer")
        maps = []
        for v in queries["query_toks"]:
            m = JHashMap()
            for t, w in quantize(v, index.scale).items():
                m.put(t, JInt(w))
            maps.append(m)
        return lambda m: [(h.docid, h.score) for h in searcher.search(m, k)], maps
    if backend == "pisa":
        retr = index.retriever(num_results=k)
        frames = [queries.iloc[[i]] for i in range(len(queries))]
        return retr, frames
    return None, None


def seismic_engine(index, queries, k, query_cut, heap_factor):
    import seismic
    engine, dtype = index.engine(), seismic.get_seismic_string()
    items = []
    for i, v in enumerate(queries["query_toks"]):
        keys = list(v)
        items.append((str(i), np.array(keys, dtype=dtype), np.array([v[t] for t in keys], dtype=np.float32)))
    return (lambda it: engine.search(it[0], it[1], it[2], k, query_cut, heap_factor)), items


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--docs", type=int, default=100000)
    p.add_argument("--queries", type=int, default=500)
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--query-cuts", default="5,10,20")
    p.add_argument("--heap-factors", default="0.7,0.8,0.9,1.0")
    p.add_argument("--pisa-algorithms", default="maxscore,block_max_maxscore,block_max_wand,wand",
                   help="PISA query algorithms compared (through the retriever)")
    p.add_argument("--real", action="store_true", help="milco-mini vectors of DDTP instead of synthetic ones")
    p.add_argument("--real-splits", default="test", help="DDTP splits of the corpus with --real: test or train,dev,test")
    p.add_argument("--out", default=None)
    args = p.parse_args()
    started = time.time()
    if args.real:
        docs, queries = real_collection(args.queries, tuple(args.real_splits.split(",")))
        args.docs = len(docs)
    else:
        docs, queries, _ = make_collection(args.docs, args.queries)
    queries = queries.assign(query="x")
    report = {"vectors": f"milco-mini on DDTP ({args.real_splits})" if args.real else "synthetic",
              "docs": args.docs, "queries": args.queries, "cpus": os.cpu_count(), "k": args.k,
              "generate_s": round(time.time() - started, 1)}
    truth = exact_top(docs, queries, args.k)
    report["backends"] = {}
    with tempfile.TemporaryDirectory() as tmp:
        built = {}
        for backend in ("anserini", "pisa", "seismic"):
            t0 = time.perf_counter()
            built[backend] = sparse_index(Path(tmp) / backend, backend=backend, verbose=False).index(docs)
            build_s = time.perf_counter() - t0
            meta = built[backend].meta()
            row = {"build_s": round(build_s, 2), "index_mb": round(meta["index_bytes"] / 2**20, 1)}
            retr = built[backend].retriever(num_results=args.k)
            res = retr(queries)
            row["recall@10_vs_exact_float"] = round(recall(res, queries, truth, args.k), 4)
            row["batch_qps_1thread"] = batch_qps(retr, queries)
            fn, items = engine_calls(built[backend], backend, queries, args.k)
            if fn is None:
                fn, items = seismic_engine(built[backend], queries, args.k, 10, 0.7)
            fn(items[0])
            row["single_query"] = latency(fn, items)
            report["backends"][backend] = row
            print(backend, json.dumps(row), flush=True)
        lucene_ms = report["backends"]["anserini"]["single_query"]["mean_ms"]
        sweep = []
        for qc in (int(x) for x in args.query_cuts.split(",")):
            for hf in (float(x) for x in args.heap_factors.split(",")):
                res = built["seismic"].retriever(num_results=args.k, query_cut=qc, heap_factor=hf)(queries)
                fn, items = seismic_engine(built["seismic"], queries, args.k, qc, hf)
                lat = latency(fn, items)
                sweep.append({"query_cut": qc, "heap_factor": hf, "recall@10": round(recall(res, queries, truth, args.k), 4),
                              "mean_ms": lat["mean_ms"], "p95_ms": lat["p95_ms"],
                              "speedup_vs_lucene": round(lucene_ms / lat["mean_ms"], 2)})
        report["seismic_sweep"] = sweep
        print(pd.DataFrame(sweep).to_string(index=False))
        ok = [s for s in sweep if s["recall@10"] >= 0.95]
        if ok:
            best = max(ok, key=lambda s: s["speedup_vs_lucene"])
            print(f"fastest Seismic setting at recall@10 >= 0.95: {best}")
            report["seismic_best_at_0.95"] = best
        algorithms = []
        frames = [queries.iloc[[i]] for i in range(len(queries))]
        for algo in args.pisa_algorithms.split(","):
            retr = built["pisa"].retriever(num_results=args.k, query_algorithm=algo)
            res = retr(queries)
            lat = latency(retr, frames)
            algorithms.append({"query_algorithm": algo, "recall@10": round(recall(res, queries, truth, args.k), 4),
                               "batch_qps_1thread": batch_qps(retr, queries), "mean_ms": lat["mean_ms"],
                               "p95_ms": lat["p95_ms"], "speedup_vs_lucene": round(lucene_ms / lat["mean_ms"], 2)})
        report["pisa_algorithms"] = algorithms
        print(pd.DataFrame(algorithms).to_string(index=False))
        p_ms = report["backends"]["pisa"]["single_query"]["mean_ms"]
        print(f"single-query mean: Lucene {lucene_ms} ms, PISA {p_ms} ms (through its retriever)")
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
