"""Paper Table 5 (shape): efficiency per mass-pruning level and backend (Anserini, PISA, Seismic)
— index size, mean / P95 query latency (one thread, one query at a time through the retriever),
QPS (all threads) and nDCG@10 — on MIRACL dev of one language (the paper: MIRACL-en, 32M passages,
Seismic), or any collection with --dataset. Also the latency-vs-nDCG plot.

    python experiments/tables/table05_latency.py --model omai-research/milco-650m --languages en
    python experiments/tables/table05_latency.py --model milco-mini --dataset "ddtp/{lang}-en/test" \
        --languages ja --out results/ddtp
    python experiments/tables/table05_latency.py --smoke
"""
from common import PAPER, corpus, encoded, load_milco, parser, runner, smoke_model, smoke_root

LEVELS = (0, 10, 30, 50, 60)


def main():
    p = parser(__doc__)
    p.add_argument("--backends", default="anserini,pisa,seismic")
    args = p.parse_args()
    lang = args.languages or "en"
    backends = args.backends.split(",")
    if args.smoke:
        root = smoke_root()
        from milco_pt.testing.fixtures import ddtp_sample, write_miracl
        write_miracl(root / "irds", lang, *ddtp_sample("en", "en", n_queries=20, n_docs=200))
        args.model = smoke_model(root)
    import os
    import time
    from pathlib import Path

    import numpy as np
    import pandas as pd
    from milco_pt.datasets import get
    from milco_pt.pruning import mass_prune
    from milco_pt.run.experiment import run
    from milco_pt.run.pipeline import SparseIndex
    from milco_pt.run.plots import latency_curve, setting
    milco = load_milco(args.model, args.batch_size)
    name = (args.dataset or "miracl/{lang}/dev").format(lang=lang)
    ds = get(name)
    layer = runner(args, milco)
    enc = layer.context(corpus(ds, name)).encoding("milco")  # encoded once; every index is built from its shards
    queries = milco.query_encoder(combined=True)(ds.get_topics()[["qid", "query"]])
    rows = []
    for p in LEVELS:
        terms = [0, 0]
        for rec in enc.records(layer.work):
            terms[0] += len(mass_prune(rec["combined"], p))
            terms[1] += 1
        for backend in backends:
            index = SparseIndex(enc, "combined", backend, prune=("mass", p) if p else None).build(layer.work, False)
            one = index.retriever(num_results=1000, query_column="query_toks")
            one(queries.head(3))
            times = []
            for i in range(len(queries)):
                started = time.perf_counter()
                one(queries.iloc[[i]])
                times.append(1000 * (time.perf_counter() - started))
            started = time.perf_counter()
            index.retriever(num_results=1000, threads=os.cpu_count() or 1, query_column="query_toks")(queries)
            qps = len(queries) / (time.perf_counter() - started)
            res = run([encoded(queries) >> index.retriever(num_results=100, query_column="query_toks")], ds,
                      measure_names=["nDCG@10"])
            rows.append({"backend": backend, "label": f"{backend} p={p}", "mass_pruning": p,
                         "terms_per_doc": terms[0] / max(terms[1], 1),
                         "index_mb": round(index.meta()["index_bytes"] / 2 ** 20, 2),
                         "latency_ms": float(np.mean(times)), "p95_ms": float(np.percentile(times, 95)),
                         "qps": qps, "value": 100 * float(res["nDCG@10"][0])})
    table = pd.DataFrame(rows)
    paper = pd.read_csv(PAPER / "table05_latency.csv")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "table05_latency.csv", index=False)
    (out / "table05_latency.md").write_text(table.drop(columns=["label"]).round(3).to_markdown(index=False) + "\n")
    latency_curve(table, out / "table05_latency", measure="nDCG@10 (x100)",
                  subtitle=setting(args.dataset or "MIRACL dev", [lang], threads=1))
    print(table.round(2).to_string(index=False))
    print("paper (MIRACL-en, 32M passages, Seismic):")
    print(paper.to_string(index=False))


if __name__ == "__main__":
    main()
