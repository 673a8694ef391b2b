"""Shared by the table scripts: arguments, the run layer they all go through (encodings, indexes and
run files cached in ``--work``, so tasks and scripts that search the same documents encode and index
them once; the smoke runs take the same path with a scratch work folder), the smoke setup (a tiny
random MILCO and small collections in the upstream formats, built from real DDTP text), and printing
our numbers next to the paper's (``experiments/paper/*.csv``)."""
from __future__ import annotations

import argparse
import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pandas as pd

PAPER = Path(__file__).parent.parent / "paper"
DEFAULT_MODEL = "omai-research/milco-650m"


def parser(doc: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default=DEFAULT_MODEL, help="MILCO hub id or local checkpoint folder")
    p.add_argument("--languages", default=None, help="comma-separated subset")
    p.add_argument("--dataset", default=None, help="collection name with {lang}, e.g. ddtp/{lang}-en/test "
                   "(default: the paper's benchmark)")
    p.add_argument("--smoke", action="store_true", help="tiny random model on tiny fixtures (CI)")
    p.add_argument("--out", default="results/tables")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--work", default=None, help="cache of encodings, indexes and run files shared by every script "
                   "(default: $MILCO_PT_CACHE/work, else ~/.cache/milco-pt/work; --smoke: a scratch folder)")
    return p


def smoke_root() -> Path:
    """A scratch folder for smoke runs; IR_DATASETS_HOME points into it (before ir_datasets loads)."""
    global SMOKE_WORK
    root = Path(tempfile.mkdtemp(prefix="milco-smoke-"))
    atexit.register(shutil.rmtree, root, True)
    SMOKE_WORK = root / "work"
    os.environ["IR_DATASETS_HOME"] = str(root / "irds")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    return root


def smoke_model(root: Path) -> str:
    from milco_pt.testing.tiny import build_tiny
    build_tiny(root / "milco-tiny", seed=1)
    return str(root / "milco-tiny")


def load_milco(model: str, batch_size: int):
    """A checkpoint (hub id or folder), ``milco-mini`` (the shipped one) or a milco-mini delta file."""
    if model == "milco-mini" or str(model).endswith(".safetensors"):
        from milco_pt.mini import SHIPPED_DELTA
        from milco_pt.mini import load
        return load(SHIPPED_DELTA if model == "milco-mini" else model, batch_size=batch_size)
    from milco_pt import Milco
    return Milco.from_pretrained(model, batch_size=batch_size)


SMOKE_WORK = None  # the scratch work folder of a smoke run


def runner(args, milco, num_results: int = 100, **options):
    """The run layer for a table script: ``--model`` (``milco``, loaded from it) as the MILCO model, keyed
    by ``--model`` as ``milco-pt experiment --model`` keys it (so ``--encode-only`` runs feed the script),
    ``--work`` as cache."""
    from milco_pt.run.experiment import runner as make
    return make(args.model, args.work or SMOKE_WORK, batch_size=args.batch_size, num_results=num_results,
                loaded=milco, **options)


def corpus(ds, name=None):
    """The run layer's corpus of a collection (``name``: its dataset name, to remember its fingerprint)."""
    from milco_pt.run.experiment import corpus_of
    return corpus_of(ds, name)


def run_named(args, systems, name, milco, **kwargs):
    """``milco_pt.run.experiment.run`` of named systems on dataset ``name``, in the script's work folder."""
    from milco_pt.run.experiment import run
    return run(systems, name, model=args.model, loaded=milco, work=args.work or SMOKE_WORK,
               batch_size=args.batch_size, **kwargs)


def paper_values(table: str, select: dict, columns=None) -> dict:
    """``{column: value}`` of the paper's row matching ``select`` (e.g. ``{"config": "1"}``)."""
    df = pd.read_csv(PAPER / table, dtype=str)
    for k, v in select.items():
        df = df[df[k] == v]
    if len(df) != 1:
        raise ValueError(f"{table}: {select} matches {len(df)} rows")
    row = df.iloc[0]
    cols = columns or [c for c in df.columns if c not in select]
    return {c: float(row[c]) if isinstance(row[c], str) and row[c].strip() else None for c in cols}


def report(name: str, ours: dict, paper: dict, out: str, label: str = "nDCG@10 (x100)") -> pd.DataFrame:
    """Print and save ours beside the paper's, one row per key (e.g. language) plus the average."""
    keys = list(ours)
    table = pd.DataFrame({"key": keys, "ours": [round(ours[k], 2) for k in keys],
                          "paper": [paper.get(k) for k in keys]})
    avg = {"key": "avg", "ours": round(float(table["ours"].mean()), 2),
           "paper": round(float(pd.Series([paper.get(k) for k in keys], dtype=float).mean()), 2)
           if all(paper.get(k) is not None for k in keys) else None}
    table = pd.concat([table, pd.DataFrame([avg])], ignore_index=True)
    table["delta"] = (table["ours"] - table["paper"]).round(2)
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    table.to_csv(out_dir / f"{name}.csv", index=False)
    (out_dir / f"{name}.md").write_text(f"# {name}: {label}\n\n" + table.to_markdown(index=False) + "\n",
                                        encoding="utf-8")
    print(f"{name}: {label}")
    print(table.to_string(index=False))
    return table


def smoke_miracl(langs, sources=("de", "fr", "ja", "ru")) -> str:
    """Smoke setup for the MIRACL-based tables: DDTP samples (monolingual tasks in ``sources``)
    written as MIRACL ``langs`` in ir_datasets' cache; returns the tiny model's path."""
    root = smoke_root()
    from milco_pt.testing.fixtures import ddtp_sample, write_miracl
    for lang, src in zip(langs, sources):
        write_miracl(root / "irds", lang, *ddtp_sample(src, src))
    return smoke_model(root)


def encoded(queries: pd.DataFrame):
    """A transformer adding already computed query vectors (every ``query_*toks`` column) by qid:
    encode once, search many times."""
    import pyterrier as pt
    cols = [c for c in queries.columns if c.startswith("query_") and c.endswith("toks")]
    table = queries.set_index("qid")[cols]
    return pt.apply.generic(lambda df: df.assign(**{c: [table.at[q, c] for q in df["qid"]] for c in cols}))
