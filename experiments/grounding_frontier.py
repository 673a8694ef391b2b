"""How grounded a milco-mini's pivot view can be made by keeping fewer query terms, and what
retrieval that costs: each query's pivot vector cut to its top-k terms (documents unpruned),
nDCG@10 X->en on the man-page dev collection (both views, pivot only; exact scoring) and the
grounded weight of DDTP test queries (share of pivot weight on the English translation's
wordpieces, as in ``results/milco_mini_selection.md``). Queries and documents are encoded once
per model, every query term kept (``query_top_k=None``, whatever budget the delta records); each k
cuts the same encodings.

    python experiments/grounding_frontier.py                    # the shipped model, k = all, 32, 16, 12, 10, 8
    python experiments/grounding_frontier.py --model shipped --model v14k=runs/v14k/milco-mini-delta.safetensors
    python experiments/grounding_frontier.py --smoke            # 20 queries, two languages

Writes ``results/grounding_frontier.{csv,md}``.
"""
from __future__ import annotations

import argparse
import re
import shlex
import sys
from pathlib import Path

import pandas as pd

from milco_pt.mini import SHIPPED_DELTA, load
from milco_pt.mini.evaluate import by_view, encoded_queries, query_grounding, view_indexes

RESULTS = Path(__file__).resolve().parents[1] / "results"


def frontier(mini, ks, man_langs, ddtp_langs, max_queries=None) -> pd.DataFrame:
    indexes = view_indexes(mini, "manpages", "dev", man_langs[0])
    man = encoded_queries(mini, "manpages", "dev", man_langs, max_queries=max_queries)
    ddtp = encoded_queries(mini, "ddtp", "test", ddtp_langs, max_queries=max_queries)
    rows = []
    for k in ks:
        r, _ = by_view(mini, "manpages", "dev", man_langs, query_top_k=k, indexes=indexes, queries=man)
        ndcg = pd.DataFrame(r).groupby("view")["nDCG@10"].mean()
        ground = query_grounding(mini, "ddtp", "test", ddtp_langs, query_top_k=k, queries=ddtp)
        rows.append({"query pivot terms (top-k)": "all" if k is None else k,
                     "man pages (dev) both views": ndcg["dual view"], "man pages (dev) pivot only": ndcg["pivot only"],
                     "DDTP test grounded weight": ground["weight_share"],
                     "DDTP test pivot terms per query": ground["terms_per_text"]})
        print(rows[-1], flush=True)
    return pd.DataFrame(rows)


def models(given) -> dict:
    """``--model`` values (``shipped``, a delta's path, or ``NAME=PATH``) as ``{name: path}``."""
    out = {}
    for m in given or ["shipped"]:
        name, _, path = m.rpartition("=")
        path = str(SHIPPED_DELTA) if path == "shipped" else path
        if not Path(path).is_file():
            raise SystemExit(f"--model {m}: no delta at {path}: give 'shipped', a milco-mini-delta.safetensors, "
                             "or NAME=PATH")
        out[name or shown(path)] = path
    return out


def shown(delta: str) -> str:
    """The delta as the table names it: relative to the repository when inside it, (shipped) if it is."""
    path = Path(delta).resolve()
    name = str(path.relative_to(RESULTS.parent)) if path.is_relative_to(RESULTS.parent) else delta
    return name + (" (shipped)" if path == SHIPPED_DELTA.resolve() else "")


def command(argv) -> str:
    """The arguments that made the table, without where it was written (``--out``)."""
    kept, skip = [], False
    for a in argv:
        if skip or a.startswith("--out="):
            skip = False
            continue
        skip = a == "--out"
        kept += [] if skip else [a]
    return shlex.join(kept)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", action="append", help="a milco-mini delta: 'shipped' (the default), a path, "
                   "or NAME=PATH (the table's name for it); repeat for several")
    p.add_argument("--k", default="all,32,16,12,10,8", help="comma-separated query top-k values ('all': unpruned)")
    p.add_argument("--out", default=str(RESULTS / "grounding_frontier"))
    p.add_argument("--append", action="store_true", help="add these models' rows to the table at --out "
                   "(replacing rows of the same model names) instead of writing a new one")
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
    chosen = models(args.model)
    out = Path(args.out)
    if args.append and not Path(f"{out}.csv").exists():
        raise SystemExit(f"--append: no table at {out}.csv to add to: run without --append first")
    table = pd.concat([frontier(load(path, verbose=False, batch_size=32, query_top_k=None), ks, man_langs, ddtp_langs, max_queries)
                       .assign(model=name, delta=shown(path)) for name, path in chosen.items()])
    table = table[["model", "delta", *table.columns[:-2]]]
    out.parent.mkdir(parents=True, exist_ok=True)
    commands = [f"`python experiments/grounding_frontier.py {command(sys.argv[1:])}`"]
    if args.append:
        old = pd.read_csv(f"{out}.csv", dtype={"query pivot terms (top-k)": str})
        table = pd.concat([old[~old["model"].isin(list(chosen))], table.astype({"query pivot terms (top-k)": str})])
        made = re.search(r"Made by (.*)\.\n", Path(f"{out}.md").read_text(encoding="utf-8"))
        commands = (made.group(1).split("; ") if made else []) + commands
    table.to_csv(f"{out}.csv", index=False)
    Path(f"{out}.md").write_text(
        "# milco-mini: grounded weight against retrieval, queries cut to their top-k pivot terms\n\n"
        f"Documents unpruned; nDCG@10 X->en averages over {len(man_langs)} man-page languages (exact scoring); "
        f"grounding over DDTP test queries in {len(ddtp_langs)} languages. Made by {'; '.join(commands)}.\n\n"
        + table.round(3).to_markdown(index=False) + "\n", encoding="utf-8")
    print(table.round(3).to_string(index=False))


if __name__ == "__main__":
    main()
