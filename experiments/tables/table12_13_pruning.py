"""Paper Tables 12/13 and Figure 5: post-hoc pruning of MILCO's document vectors, top-k (keep the
k heaviest terms) and mass-based (drop the lightest terms holding p% of the weight), nDCG@10 on
MIRACL dev with exact scoring, next to the paper's averages; plus the sparsity-vs-nDCG plot.

    python experiments/tables/table12_13_pruning.py --model omai-research/milco-650m --languages sw,yo,te
    python experiments/tables/table12_13_pruning.py --model milco-mini --dataset "ddtp/{lang}-en/test" \
        --languages de,fr,es,it,pt_BR,pl,cs,uk,ru,fi,ja,ko,zh_CN,da,sk,nl --out results/ddtp \
        --dense-from results/demo.csv --dense-system "e5-small (dense)"
    python experiments/tables/table12_13_pruning.py --smoke

--dense-from draws a dense baseline's average nDCG@10 over the same tasks (``task`` named
``{lang}-en`` etc. in a ``task, system, measure, value`` file such as ``milco-pt demo``'s) as a
reference line.
"""
from common import PAPER, corpus, encoded, load_milco, parser, runner, smoke_miracl


def dense_reference(path, system: str, tasks: list[str]) -> float:
    """Mean nDCG@10 (x100) of ``system`` over ``tasks`` in a ``task, system, measure, value`` CSV."""
    import pandas as pd
    df = pd.read_csv(path)
    got = df[(df["system"] == system) & (df["measure"] == "nDCG@10") & df["task"].isin(tasks)]
    missing = sorted(set(tasks) - set(got["task"]))
    if missing:
        raise SystemExit(f"{path} has no nDCG@10 of {system!r} for {missing}; systems there: "
                         f"{sorted(df['system'].unique())}")
    return 100 * float(got["value"].mean())


def main():
    p = parser(__doc__)
    p.add_argument("--dense-from", default=None, help="CSV (task, system, measure, value) with a dense baseline")
    p.add_argument("--dense-system", default="e5-small (dense)")
    args = p.parse_args()
    langs = args.languages.split(",") if args.languages else ["sw", "yo"]
    if args.smoke:
        args.model = smoke_miracl(langs)
    from pathlib import Path

    import pandas as pd
    from milco_pt.datasets import get
    from milco_pt.index.exact import ExactIndex
    from milco_pt.run.experiment import run
    from milco_pt.run.plots import setting, sparsity_curve
    from milco_pt.pruning import mass_prune, top_k
    milco = load_milco(args.model, args.batch_size)
    topk = pd.read_csv(PAPER / "table12_topk_pruning.csv")
    mass = pd.read_csv(PAPER / "table13_mass_pruning.csv")
    dense = None
    if args.dense_from:  # read before the runs, so that a wrong file or system fails at once
        template = (args.dataset or "miracl/{lang}/dev").split("/")[1]
        dense = dense_reference(args.dense_from, args.dense_system, [template.format(lang=lang) for lang in langs])
    layer = runner(args, milco)
    rows = []
    for lang in langs:
        name = (args.dataset or "miracl/{lang}/dev").format(lang=lang)
        ds = get(name)
        enc = layer.context(corpus(ds, name)).encoding("milco")  # encoded once, found in --work by later runs
        queries = encoded(milco.query_encoder(combined=True)(ds.get_topics()[["qid", "query"]]))
        levels = [("top-k", k, lambda v, k=k: top_k(v, k)) for k in topk["topk_tokens"]]
        levels += [("mass", p, lambda v, p=p: mass_prune(v, p)) for p in mass["p"]] + [("none", 0, lambda v: v)]
        for method, level, fn in levels:
            terms = []

            def pruned(fn=fn, terms=terms):  # streamed from the shards; ExactIndex holds them in memory
                for rec in enc.records(layer.work):
                    vec = fn(rec["combined"])
                    terms.append(len(vec))
                    yield {"docno": rec["docno"], "toks": vec}
            index = ExactIndex("toks").index(pruned())
            res = run([queries >> index.retriever(num_results=100)], ds, measure_names=["nDCG@10"])
            rows.append({"language": lang, "method": method, "level": level, "value": 100 * float(res["nDCG@10"][0]),
                         "terms_per_doc": sum(terms) / max(len(terms), 1)})
    table = pd.DataFrame(rows)
    mean = table.groupby(["method", "level"], as_index=False)[["value", "terms_per_doc"]].mean()
    paper = {("top-k", k): v for k, v in zip(topk["topk_tokens"], topk["avg"])}
    paper.update({("mass", p): v for p, v in zip(mass["p"], mass["avg"])})
    mean["paper_avg"] = [paper.get((m, lv)) for m, lv in zip(mean["method"], mean["level"])]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "table12_13_pruning_by_language.csv", index=False)
    mean.to_csv(out / "table12_13_pruning.csv", index=False)
    sparsity_curve(mean, out / "figure5_sparsity", measure="nDCG@10 (x100)", dense=dense,
                   dense_label=args.dense_system, title="Pruning document vectors",
                   subtitle=setting(args.dataset or "MIRACL dev", langs, hardware=False))
    print(mean.round(2).to_string(index=False))


if __name__ == "__main__":
    main()
