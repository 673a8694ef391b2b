"""milco-mini ablations on DDTP (test): LexEcho on/off, SAP only, SCT only, SAP + SCT, scored
exactly (float dot products) for X->en over every query language, all queries and the hard subset
(no ASCII word shared with the relevant document), with the pivot view's grounding (share of pivot
terms that are wordpieces of the query's English translation).

    python experiments/ablations.py                                    # the shipped model + runs/gpu-ablations/*
    python experiments/ablations.py --model cpu=milco_pt/mini/data/milco-mini-delta.safetensors
    python experiments/ablations.py --smoke                            # two languages, 20 queries

The deltas in runs/gpu-ablations come from experiments/gpu_ablations.sh (one GPU, bf16, about 6
minutes for all four); each is the recipe of experiments/train_milco_mini.py with one change.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd
from pyterrier.measures import R, nDCG

from milco_pt.datasets.ddtp import languages
from milco_pt.mini import SHIPPED_DELTA, load
from milco_pt.mini.evaluate import by_view

GPU_RUNS = {"SAP+SCT (GPU)": "full", "SAP+SCT, LexEcho off (GPU)": "no-echo", "SAP only (GPU)": "sap-only",
            "SCT only (GPU)": "sct-only", "SAP on DDTP + gettext, SCT (GPU)": "gettext"}


def evaluate(name: str, delta: Path, langs: list[str], max_queries: int | None) -> tuple[list[dict], dict]:
    mini = load(delta, verbose=False, batch_size=32, doc_max_length=256, query_max_length=64)
    rows, g = by_view(mini, "ddtp", "test", langs, max_queries=max_queries, measures=[nDCG @ 10, R @ 100],
                      hard=True, ground=True)
    return [{"model": name, **r} for r in rows], {"model": name, **g}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", action="append", default=[], help="NAME=DELTA (repeatable)")
    p.add_argument("--runs", default="runs/gpu-ablations", help="folder of experiments/gpu_ablations.sh deltas")
    p.add_argument("--out", default="results/ablations")
    p.add_argument("--smoke", action="store_true")
    p.add_argument("--append", action="store_true", help="add these models to the tables already in --out")
    args = p.parse_args()
    models = dict(m.split("=", 1) for m in args.model)
    if not models:
        models = {"SAP+SCT (shipped, CPU)": str(SHIPPED_DELTA)}
        models.update({k: str(Path(args.runs) / f"{v}.safetensors") for k, v in GPU_RUNS.items()
                       if (Path(args.runs) / f"{v}.safetensors").exists()})
    langs = [x for x in languages() if x != "en"]
    if args.smoke:
        langs, models = langs[:2], dict(list(models.items())[:1])
    rows, ground = [], []
    for name, delta in models.items():
        r, g = evaluate(name, Path(delta), langs, 20 if args.smoke else None)
        rows += r
        ground.append(g)
        print(f"{name}: done", flush=True)
    out = Path(args.out)
    table, ground = pd.DataFrame(rows), pd.DataFrame(ground)
    if args.append and Path(f"{out}.csv").exists():
        old = pd.read_csv(f"{out}.csv")
        table = pd.concat([old[~old["model"].isin(models)], table], ignore_index=True)
        old_g = (pd.read_csv(f"{out}_grounding.csv") if Path(f"{out}_grounding.csv").exists() else
                 pd.read_csv(f"{out}_summary.csv").rename(columns={"grounded terms": "term_share", "grounded weight":
                                                                   "weight_share", "pivot terms per query": "terms_per_text"}))
        ground = pd.concat([old_g[~old_g["model"].isin(models)], ground], ignore_index=True)
    avg = table.groupby(["model", "subset", "view"], sort=False, as_index=False)[["nDCG@10", "R@100"]].mean()
    wide = avg.pivot_table(index="model", columns=["subset", "view"], values="nDCG@10", sort=False)
    wide.columns = [f"nDCG@10 {s} ({v})" for s, v in wide.columns]
    summary = wide.join(ground.set_index("model")[["term_share", "weight_share", "terms_per_text"]])
    summary = summary.rename(columns={"term_share": "grounded terms", "weight_share": "grounded weight",
                                      "terms_per_text": "pivot terms per query"}).round(3)
    out.parent.mkdir(parents=True, exist_ok=True)
    table.round(4).to_csv(f"{out}.csv", index=False)
    ground.to_csv(f"{out}_grounding.csv", index=False)
    summary.to_csv(f"{out}_summary.csv")
    Path(f"{out}.md").write_text(summary.to_markdown() + "\n")
    print(summary.to_string())


if __name__ == "__main__":
    main()
