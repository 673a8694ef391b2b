"""Select milco-mini recipes on the out-of-domain dev collection, report them on DDTP test.

Each model (a delta from ``experiments/train_milco_mini.py``) is scored exactly (float dot
products) for X->en on the man-page dev collection (``manpages/<x>-en/dev``, the selection set)
and on DDTP test (report only, never used to choose), both views and the pivot view alone, with
the pivot view's grounding on DDTP test queries (share of pivot weight on wordpieces of the
query's English translation). e5-small and BM25 come from ``results/ood_dev.csv`` and
``results/demo.csv`` (the same collections, queries and measures).

    python experiments/select_milco_mini.py --model v2=runs/v2/milco-mini-delta.safetensors
    python experiments/select_milco_mini.py --append --model v2-no-ground=runs/v2-no-ground/milco-mini-delta.safetensors
    python experiments/select_milco_mini.py --smoke          # the shipped model, 20 queries, two languages
    python experiments/select_milco_mini.py --rename "v3=v3 (shipped)"   # relabel rows, no evaluation

Writes ``results/milco_mini_selection.{md,csv}``; each row names the training command that made it
(read from the delta's metadata).
"""
from __future__ import annotations

import argparse
import json
import shlex
from pathlib import Path

import pandas as pd

from milco_pt.mini import SHIPPED_DELTA, load
from milco_pt.mini.evaluate import by_view

RESULTS = Path(__file__).resolve().parents[1] / "results"
#: the values of later flags that give the recipe of a delta trained before they existed
UNRECORDED_FLAGS = {"extra_bitext": "none", "teacher": "none", "pivot_weight": 0.0, "ground_weight": 0.0, "sct_rounds": 1,
                    "query_top_k": 0}


def training_command(delta: Path) -> str:
    """The recipe command recorded in a delta (``train_milco_mini.py`` writes its arguments)."""
    from safetensors import safe_open
    with safe_open(str(delta), "pt") as f:
        meta = json.loads((f.metadata() or {}).get("milco_mini", "{}"))
    args = meta.get("args")
    if not args:
        return "(no recipe recorded)"
    args = {**UNRECORDED_FLAGS, **args}  # a delta trained before a flag existed did not record it
    args["query_top_k"] = args["query_top_k"] or 0  # recorded None: no budget
    flags = []
    for k, v in args.items():
        if k in ("out", "smoke") or v is None or v is False:
            continue
        flags += [f"--{k.replace('_', '-')}"] + ([] if v is True else [str(v)])
    return "python experiments/train_milco_mini.py " + shlex.join(flags) + f" --out {args.get('out', 'DIR')}"


#: flags whose default changed after rows were made, with the value those rows were trained with
LATER_DEFAULTS = {"--query-top-k": "0"}


def with_later_flags(command: str) -> str:
    """A stored row's training command with :data:`LATER_DEFAULTS` spelled out where it does not
    give them, so that it still trains that model under today's defaults."""
    missing = [f"{flag} {value}" for flag, value in LATER_DEFAULTS.items() if f" {flag} " not in f" {command} "]
    head, sep, out = command.rpartition(" --out ")
    return " ".join([head, *missing]) + sep + out if missing and sep else command


def references() -> dict:
    """e5-small and BM25 X->en nDCG@10 averages on both collections, from the committed results."""
    out = {}
    ood = RESULTS / "ood_dev.csv"
    if ood.exists():
        t = pd.read_csv(ood)
        t = t[(t["subset"] == "all") & (t["task"] != "en-en") & t["task"].str.endswith("-en")]
        out["manpages"] = t.groupby("system")["nDCG@10"].mean().to_dict()
    demo = RESULTS / "demo.csv"
    if demo.exists():
        t = pd.read_csv(demo)
        t = t[(t["measure"] == "nDCG@10") & (t["task"] != "en-en") & t["task"].str.endswith("-en")]
        out["ddtp"] = t.groupby("system")["value"].mean().to_dict()
    return out


def summary(table: pd.DataFrame, ground: pd.DataFrame) -> pd.DataFrame:
    avg = table.groupby(["model", "collection", "view"], sort=False)["nDCG@10"].mean().unstack(["collection", "view"])
    rows = []
    refs = references()
    for model, r in avg.iterrows():
        row = {"model": model}
        for coll, label in (("manpages", "man pages (dev)"), ("ddtp", "DDTP test")):
            if (coll, "dual view") not in r.index:
                continue
            both, piv = r[(coll, "dual view")], r[(coll, "pivot only")]
            ref = refs.get(coll, {})
            row[f"{label} both views"] = both
            row[f"{label} pivot only"] = piv
            row[f"{label} pivot/both"] = piv / both if both else float("nan")
            if "e5-small (dense)" in ref:
                row[f"{label} / e5-small"] = both / ref["e5-small (dense)"]
            if "BM25" in ref:
                row[f"{label} / BM25"] = both / ref["BM25"]
        g = ground[ground["model"] == model]
        if len(g):
            row["grounded weight"] = float(g["weight_share"].iloc[0])
            row["pivot terms per query"] = float(g["terms_per_text"].iloc[0])
        rows.append(row)
    return pd.DataFrame(rows).set_index("model")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", action="append", default=[], help="NAME=DELTA (repeatable)")
    p.add_argument("--out", default=str(RESULTS / "milco_mini_selection"))
    p.add_argument("--append", action="store_true", help="keep the other models already in --out")
    p.add_argument("--no-ddtp", action="store_true", help="the selection set only")
    p.add_argument("--rename", action="append", default=[],
                   help="OLD=NEW: relabel a model already in --out (implies --append; alone, nothing is evaluated)")
    p.add_argument("--smoke", action="store_true")
    args = p.parse_args()
    for spec in args.model + args.rename:
        if "=" not in spec:
            p.error(f"{spec!r}: write NAME=DELTA for --model, OLD=NEW for --rename")
    renames = dict(m.split("=", 1) for m in args.rename)
    args.append = args.append or bool(renames)
    models = dict(m.split("=", 1) for m in args.model) or (
        {} if renames else {"milco-mini (shipped)": str(SHIPPED_DELTA)})
    from milco_pt.datasets import ddtp, manpages
    man_langs = [x for x in manpages.languages() if x != "en"]
    ddtp_langs = [x for x in ddtp.languages() if x != "en"]
    max_queries = None
    if args.smoke:
        man_langs, ddtp_langs, max_queries = man_langs[:2], ddtp_langs[:2], 20
    rows, ground, commands = [], [], {}
    for name, delta in models.items():
        mini = load(delta, verbose=False, batch_size=32)
        r, _ = by_view(mini, "manpages", "dev", man_langs, max_queries=max_queries)
        rows += [{"model": name, "collection": "manpages", **x} for x in r]
        if not args.no_ddtp:
            r, g = by_view(mini, "ddtp", "test", ddtp_langs, max_queries=max_queries, ground=True)
            rows += [{"model": name, "collection": "ddtp", **x} for x in r]
            ground.append({"model": name, **g})
        commands[name] = training_command(Path(delta))
        print(f"{name}: done", flush=True)
    out = Path(args.out)
    table = pd.DataFrame(rows, columns=["model", "collection", "task", "queries", "view", "nDCG@10", "subset"]
                         ).assign(command=lambda t: t["model"].map(commands))
    ground = pd.DataFrame(ground, columns=["model", "texts", "term_share", "weight_share", "terms_per_text"])
    if args.append and Path(f"{out}.csv").exists():
        old = pd.read_csv(f"{out}.csv")
        old["command"] = old["command"].map(with_later_flags)
        table = pd.concat([old[~old["model"].isin(models)], table], ignore_index=True)
        old_g = pd.read_csv(f"{out}_grounding.csv")
        ground = pd.concat([old_g[~old_g["model"].isin(models)], ground], ignore_index=True)
    unknown = set(renames) - set(table["model"])
    if unknown:
        raise SystemExit(f"--rename: no model {sorted(unknown)} in {out}.csv (models: {sorted(set(table['model']))})")
    table["model"], ground["model"] = table["model"].replace(renames), ground["model"].replace(renames)
    table = table.round(4)
    best = summary(table, ground)
    out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(f"{out}.csv", index=False)
    ground.to_csv(f"{out}_grounding.csv", index=False)
    lines = ["# milco-mini recipes: selected on man pages (dev), reported on DDTP test", "",
             "nDCG@10, X->en averages (man pages: 10 languages; DDTP: every language but English); exact "
             "scoring; e5-small and BM25 from `results/ood_dev.csv` and `results/demo.csv`. "
             "Made by `python experiments/select_milco_mini.py` (see its docstring). Shipped: the best on man pages "
             "among the rows meeting the pivot-view goals (pivot view alone >= 0.85x both views on both collections, "
             "grounded weight >= 0.3). A model is scored as it loads: with the query budget its delta records.", "",
             best.round(3).to_markdown(), "", "Commands:", ""]
    lines += [f"- {name}: `{cmd}`" for name, cmd in table.drop_duplicates("model")[["model", "command"]].values]
    Path(f"{out}.md").write_text("\n".join(lines) + "\n")
    print(best.round(3).to_string())


if __name__ == "__main__":
    main()
