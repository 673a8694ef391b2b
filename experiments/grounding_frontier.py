"""How grounded the shipped milco-mini's pivot view can be made by keeping fewer query terms, and
what retrieval that costs: each query's pivot vector cut to its top-k terms (documents unpruned),
nDCG@10 X->en on the man-page dev collection (both views, pivot only; exact scoring) and the
grounded weight of DDTP test queries (share of pivot weight on the English translation's
wordpieces, as in ``results/milco_mini_selection.md``).

    python experiments/grounding_frontier.py                    # k = all, 32, 16, 8 (45 min here, beside a test run)
    python experiments/grounding_frontier.py --smoke            # 20 queries, two languages

Writes ``results/grounding_frontier.{csv,md}``.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from milco_pt.mini import SHIPPED_DELTA, load
from milco_pt.mini.evaluate import by_view, view_indexes

RESULTS = Path(__file__).resolve().parents[1] / "results"


def frontier(mini, ks, man_langs, ddtp_langs, max_queries=None) -> pd.DataFrame:
    rows, indexes = [], view_indexes(mini, "manpages", "dev", man_langs[0])
    for k in ks:
        r, _ = by_view(mini, "manpages", "dev", man_langs, max_queries=max_queries, query_top_k=k, indexes=indexes)
        ndcg = pd.DataFrame(r).groupby("view")["nDCG@10"].mean()
        ground = grounded(mini, ddtp_langs, k, max_queries)
        rows.append({"query pivot terms (top-k)": "all" if k is None else k,
                     "man pages (dev) both views": ndcg["dual view"], "man pages (dev) pivot only": ndcg["pivot only"],
                     "DDTP test grounded weight": ground["weight_share"],
                     "DDTP test pivot terms per query": ground["terms_per_text"]})
        print(rows[-1], flush=True)
    return pd.DataFrame(rows)


def grounded(mini, langs, k, max_queries=None) -> dict:
    """The grounding of DDTP test queries' pivot vectors, cut to top-k (no documents encoded)."""
    from milco_pt import datasets
    from milco_pt.measures import grounding
    from milco_pt.mini.evaluate import prune_queries
    en = datasets.get("ddtp/en-en/test").get_topics().set_index("group")["query"]
    vectors, translations = [], []
    for x in langs:
        topics = datasets.get(f"ddtp/{x}-en/test").get_topics()
        if max_queries:
            topics = topics.head(max_queries)
        topics = topics[topics["group"].isin(en.index)]
        q = mini.query_encoder()(topics[["qid", "query"]])
        if k is not None:
            q = prune_queries(q, k)
        vectors += q["query_toks"].tolist()
        translations += en[topics["group"]].tolist()
    return grounding(vectors, translations, mini.encoder.pivot_names.tolist())


def shown(delta: str) -> str:
    """The delta as the table names it: relative to the repository when inside it, (shipped) if it is."""
    path = Path(delta).resolve()
    name = str(path.relative_to(RESULTS.parent)) if path.is_relative_to(RESULTS.parent) else delta
    return name + (" (shipped)" if path == SHIPPED_DELTA.resolve() else "")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--delta", default=str(SHIPPED_DELTA), help="a milco-mini delta (default: the shipped one)")
    p.add_argument("--k", default="all,32,16,8", help="comma-separated query top-k values ('all': unpruned)")
    p.add_argument("--out", default=str(RESULTS / "grounding_frontier"))
    p.add_argument("--smoke", action="store_true")
    args = p.parse_args()
    try:
        ks = [None if k == "all" else int(k) for k in args.k.split(",")]
    except ValueError:
        p.error(f"--k {args.k}: give comma-separated whole numbers or 'all'")
    if any(k is not None and k < 1 for k in ks):
        p.error(f"--k {args.k}: each k must be 1 or more")
    from milco_pt.datasets import ddtp, manpages
    man_langs = [x for x in manpages.languages() if x != "en"]
    ddtp_langs = [x for x in ddtp.languages() if x != "en"]
    max_queries = None
    if args.smoke:
        man_langs, ddtp_langs, max_queries = man_langs[:2], ddtp_langs[:2], 20
    table = frontier(load(args.delta, verbose=False, batch_size=32), ks, man_langs, ddtp_langs, max_queries)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(f"{out}.csv", index=False)
    Path(f"{out}.md").write_text(
        "# milco-mini: grounded weight against retrieval, queries cut to their top-k pivot terms\n\n"
        f"Model: `{shown(args.delta)}`; documents unpruned; nDCG@10 X->en averages over {len(man_langs)} man-page "
        f"languages (exact scoring); grounding over DDTP test queries in {len(ddtp_langs)} languages. "
        "Made by `python experiments/grounding_frontier.py`.\n\n" + table.round(3).to_markdown(index=False) + "\n")
    print(table.round(3).to_string(index=False))


if __name__ == "__main__":
    main()
