"""Paper Table 19: the dual-view weight alpha (score = alpha * pivot + (1 - alpha) * source), one
Anserini index per view fused with exact fill-in, on MIRACL dev; next to the paper's averages.

    python experiments/tables/table19_alpha.py --model omai-research/milco-650m --languages sw,yo
    python experiments/tables/table19_alpha.py --model milco-mini --dataset "ddtp/{lang}-en/test" \
        --languages de,fr,es,it,pt_BR,pl,cs,uk,ru,fi,ja,ko,zh_CN,da,sk,nl --out results/ddtp
    python experiments/tables/table19_alpha.py --smoke
"""
from common import PAPER, corpus, encoded, load_milco, parser, runner, smoke_miracl

ALPHAS = (0.0, 0.2, 0.4, 0.5, 0.6, 0.8, 1.0)


def main():
    args = parser(__doc__).parse_args()
    langs = args.languages.split(",") if args.languages else ["sw", "yo"]
    if args.smoke:
        args.model = smoke_miracl(langs)
    from pathlib import Path

    import pandas as pd
    from milco_pt.datasets import get
    from milco_pt.run.experiment import run
    from milco_pt.fusion import DualViewFusion
    from milco_pt.run.plots import alpha_curve, setting
    milco = load_milco(args.model, args.batch_size)
    layer = runner(args, milco)
    rows = []
    for lang in langs:
        name = (args.dataset or "miracl/{lang}/dev").format(lang=lang)
        ds = get(name)
        views = layer.build(layer.system("milco-fused", corpus(ds, name)))  # found in --work when built before
        fusion = DualViewFusion(views["pivot"], views["source"], num_results=100)
        queries = encoded(milco.query_encoder()(ds.get_topics()[["qid", "query"]]))
        for f in fusion.sweep(ALPHAS):
            res = run([queries >> f], ds, measure_names=["nDCG@10"])
            rows.append({"language": lang, "alpha": f.alpha, "value": 100 * float(res["nDCG@10"][0])})
    table = pd.DataFrame(rows)
    mean = table.groupby("alpha", as_index=False)["value"].mean()
    paper = pd.read_csv(PAPER / "table19_alpha_ablation.csv", dtype={"alpha": float})
    mean["paper_avg"] = mean["alpha"].map(dict(zip(paper["alpha"], paper["avg"])))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "table19_alpha_by_language.csv", index=False)
    mean.to_csv(out / "table19_alpha.csv", index=False)
    alpha_curve(mean, out / "table19_alpha", measure="nDCG@10 (x100)", title="Dual-view fusion weight",
                subtitle=setting(args.dataset or "MIRACL dev", langs, hardware=False))
    print(mean.round(2).to_string(index=False))


if __name__ == "__main__":
    main()
