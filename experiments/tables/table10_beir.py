"""Paper Table 10: BEIR (English), nDCG@10 per dataset, next to the paper's MILCO column.

    python experiments/tables/table10_beir.py --model omai-research/milco-650m --datasets scifact,nfcorpus
    python experiments/tables/table10_beir.py --smoke
"""
import pandas as pd
from common import PAPER, load_milco, parser, report, run_named, smoke_model, smoke_root

IRDS = {"ArguAna": "arguana", "FiQA2018": "fiqa/test", "NFCorpus": "nfcorpus/test", "SciFact": "scifact/test",
        "SCIDOCS": "scidocs", "TRECCOVID": "trec-covid", "Touche2020": "webis-touche2020/v2", "NQ": "nq",
        "HotpotQA": "hotpotqa/test", "DBPedia": "dbpedia-entity/test", "FEVER": "fever/test",
        "ClimateFEVER": "climate-fever", "QuoraRetrieval": "quora/test", "MSMARCO": "msmarco/dev"}


def main():
    p = parser(__doc__)
    p.add_argument("--datasets", default=None, help="comma-separated names from the paper's table")
    args = p.parse_args()
    names = args.datasets.split(",") if args.datasets else list(IRDS)
    if args.smoke:
        root = smoke_root()
        from milco_pt.testing.fixtures import ddtp_sample, write_beir_irds
        names = ["SciFact", "FiQA2018"]
        for name in names:
            write_beir_irds(root / "irds", IRDS[name].split("/")[0], *ddtp_sample("en", "en"))
        args.model = smoke_model(root)
    milco = load_milco(args.model, args.batch_size)
    ours = {n: 100 * float(run_named(args, ["milco"], f"beir/{IRDS[n]}", milco, measure_names=["nDCG@10"],
                                     num_results=100)["nDCG@10"][0]) for n in names}
    paper = pd.read_csv(PAPER / "table10_beir_ndcg10.csv", dtype=str).set_index("dataset")["MILCO"]
    report("table10_beir", ours, {n: float(paper[n]) for n in names if n in paper.index}, args.out)


if __name__ == "__main__":
    main()
