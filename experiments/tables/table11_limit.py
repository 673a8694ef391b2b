"""Paper Table 11: LIMIT, Recall@2/10/100, next to the paper's MILCO ① row.

    python experiments/tables/table11_limit.py --model omai-research/milco-650m [--limit-folder DIR]
    python experiments/tables/table11_limit.py --smoke
"""
from common import load_milco, paper_values, parser, report, run_named, smoke_model, smoke_root


def main():
    p = parser(__doc__)
    p.add_argument("--limit-folder", default=None, help="a local copy (default: the hub, orionweller/LIMIT)")
    args = p.parse_args()
    if args.smoke:
        root = smoke_root()
        from milco_pt.testing.fixtures import ddtp_sample, write_beir
        write_beir(root / "limit", *ddtp_sample("en", "en", n_docs=200))
        args.model, args.limit_folder = smoke_model(root), str(root / "limit")
    milco = load_milco(args.model, args.batch_size)
    kwargs = {"folder": args.limit_folder} if args.limit_folder else {}
    res = run_named(args, ["milco"], "limit", milco, measure_names=["R@2", "R@10", "R@100"], dataset_kwargs=kwargs)
    ours = {f"recall_at_{k}": 100 * float(res[f"R@{k}"][0]) for k in (2, 10, 100)}
    report("table11_limit", ours, paper_values("table11_limit.csv", {"config": "1"}, list(ours)), args.out, "Recall (x100)")


if __name__ == "__main__":
    main()
