"""Paper Tables 2/6: MLDR test, nDCG@10 over 13 languages with MaxP (documents split into
512-token passages, a document scored by its best passage), next to the paper's MILCO ① row.

    python experiments/tables/table06_mldr.py --model omai-research/milco-650m [--mldr-folder DIR]
        (full: 13 corpora, ~200k long documents; GPU encoding, several hours)
    python experiments/tables/table06_mldr.py --smoke
"""
from common import load_milco, paper_values, parser, report, run_named, smoke_model, smoke_root

SMOKE = {"de": ("de", "de"), "ja": ("ja", "ja")}


def main():
    p = parser(__doc__)
    p.add_argument("--mldr-folder", default=None, help="a local copy of Shitao/MLDR (default: the hub)")
    args = p.parse_args()
    if args.smoke:
        root = smoke_root()
        from milco_pt.testing.fixtures import ddtp_sample, write_mldr
        for lang, (q, d) in SMOKE.items():
            write_mldr(root / "mldr", lang, *ddtp_sample(q, d))
        args.model, args.mldr_folder = smoke_model(root), str(root / "mldr")
    from milco_pt.datasets.standard import MLDR_LANGS
    langs = args.languages.split(",") if args.languages else (list(SMOKE) if args.smoke else list(MLDR_LANGS))
    milco = load_milco(args.model, args.batch_size)
    ours = {}
    for lang in langs:
        kwargs = {"folder": args.mldr_folder} if args.mldr_folder else {}
        res = run_named(args, ["milco-maxp"], f"mldr/{lang}/test", milco, measure_names=["nDCG@10"], dataset_kwargs=kwargs)
        ours[lang] = 100 * float(res["nDCG@10"][0])
    report("table06_mldr", ours, paper_values("table06_mldr_ndcg10.csv", {"config": "1"}, langs), args.out)


if __name__ == "__main__":
    main()
