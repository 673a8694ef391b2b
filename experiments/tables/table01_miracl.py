"""Paper Table 1: MIRACL dev, nDCG@10 over 18 languages, MILCO's dual-view score (one combined
Anserini impact index), next to the paper's MILCO ① row.

    python experiments/tables/table01_miracl.py --model omai-research/milco-650m
        (full: 18 MIRACL corpora, ~106M passages in all; plan GPU encoding and about a day)
    python experiments/tables/table01_miracl.py --smoke       # tiny model, DDTP text in MIRACL's format
"""
from common import load_milco, paper_values, parser, report, run_named, smoke_miracl

SMOKE = ("sw", "yo")


def main():
    args = parser(__doc__).parse_args()
    if args.smoke:
        args.model, langs = smoke_miracl(list(SMOKE)), list(SMOKE)
    from milco_pt.datasets.standard import MIRACL_LANGS
    langs = args.languages.split(",") if args.languages else (langs if args.smoke else list(MIRACL_LANGS))
    milco = load_milco(args.model, args.batch_size)
    ours = {}
    for lang in langs:
        res = run_named(args, ["milco"], f"miracl/{lang}/dev", milco, measure_names=["nDCG@10"], num_results=100)
        ours[lang] = 100 * float(res["nDCG@10"][0])
    report("table01_miracl", ours, paper_values("table01_miracl_ndcg10.csv", {"config": "1"}, langs), args.out)


if __name__ == "__main__":
    main()
