"""Train milco-mini on a 2-core CPU (about 70 minutes): Sparse Alignment Pretraining on DDTP train
bitext with a lexical teacher, then Sparse Contrastive Training (InfoNCE, in-batch negatives, both
views) on DDTP train (query, positive) pairs. Fixed seeds; the trained tensors go to --out.

    python experiments/train_milco_mini.py --out milco_pt/mini/data          # the shipped model
    python experiments/train_milco_mini.py --stages sap --out runs/sap-only         # ablations
    python experiments/train_milco_mini.py --stages sct --out runs/sct-only
    python -m milco_pt.training.catalogs --out gettext.tsv --sample 8000         # + gettext bitext:
    python experiments/train_milco_mini.py --extra-bitext gettext.tsv --out runs/gettext
    python experiments/train_milco_mini.py --smoke --out /tmp/mini                  # a few steps (CI)
"""
from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

import torch

from milco_pt.training import data
from milco_pt.mini.assemble import base, save_delta
from milco_pt.training.objectives import SAPCollator, SAPObjective, SCTCollator, SCTObjective
from milco_pt.training.teachers import LexicalTeacher
from milco_pt.training.trainer import train


def sample(items, n, seed):
    items = list(items)
    random.Random(seed).shuffle(items)
    return items[:n]


def examples(args) -> tuple[list, list]:
    """The recipe's (SAP bitext pairs, SCT query/document pairs), sampled with fixed seeds."""
    stages = args.stages.split(",")
    n_sap = args.sap_steps * args.batch_size
    n_extra = round(args.extra_share * n_sap) if args.extra_bitext else 0
    sap = sample(data.ddtp_bitext("train"), n_sap - n_extra, args.seed) if "sap" in stages else []
    if sap and n_extra:
        sap = sample(sap + sample(data.read_bitext(args.extra_bitext), n_extra, args.seed), n_sap, args.seed)
    sct = sample(data.ddtp_pairs("train"), args.sct_steps * args.batch_size, args.seed + 1) if "sct" in stages else []
    return sap, sct


def check_rows(tok, texts):
    """A base unpacked by experiments/mini_base_pack.py holds only some word embeddings: refuse
    inputs that would read a missing one."""
    rows_file = Path(tok.name_or_path) / "rows.json"
    if rows_file.exists():
        rows = set(json.loads(rows_file.read_text()))
        missing = {i for row in tok(texts, truncation=True, max_length=128)["input_ids"] for i in row} - rows
        if missing:
            raise SystemExit(f"the packed base lacks {len(missing)} word embeddings these inputs use: "
                             "pack it again with this recipe's arguments")


def parser():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True)
    p.add_argument("--stages", default="sap,sct", help="sap, sct or sap,sct")
    p.add_argument("--sap-steps", type=int, default=500)
    p.add_argument("--sct-steps", type=int, default=300)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--sap-lr", type=float, default=2e-3, help="connector, head and LexEcho")
    p.add_argument("--sct-lr", type=float, default=2e-4)
    p.add_argument("--encoder-lr", type=float, default=5e-5, help="the trained encoder layers")
    p.add_argument("--train-layers", type=int, default=2)
    p.add_argument("--no-echo", action="store_true", help="train the pivot view only (LexEcho off)")
    p.add_argument("--extra-bitext", default=None, help="more SAP bitext (tsv english<TAB>translation or "
                   "jsonl), e.g. from python -m milco_pt.training.catalogs")
    p.add_argument("--extra-share", type=float, default=0.5, help="share of SAP pairs from --extra-bitext")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--smoke", action="store_true")
    return p


def main():
    args = parser().parse_args()
    if args.smoke:
        args.sap_steps, args.sct_steps, args.batch_size = 2, 2, 4
    torch.manual_seed(args.seed)
    out = Path(args.out)
    work = out / "work"
    model, tok, vocab = base(seed=args.seed, train_layers=args.train_layers, echo=not args.no_echo)
    model.train()
    stages = args.stages.split(",")
    sap_pairs, sct_pairs = examples(args)
    check_rows(tok, [t for pair in sap_pairs + sct_pairs for t in pair])
    log = {"args": vars(args), "stages": {}}
    common = dict(per_device_train_batch_size=args.batch_size, logging_steps=10, save_steps=100,
                  seed=args.seed, data_seed=args.seed, warmup_steps=0.05,
                  lr_by_prefix={"model.m_model.": args.encoder_lr})
    if "sap" in stages:
        from transformers import BertTokenizer
        pairs = sap_pairs
        teacher = LexicalTeacher(BertTokenizer(vocab={t: i for i, t in enumerate(vocab)}, do_lower_case=True),
                                 len(vocab)).fit_idf(e for _, e in data.ddtp_bitext("train"))
        started = time.time()
        train(SAPObjective(model), pairs, SAPCollator(tok, teacher, max_length=64), work / "sap",
              max_steps=args.sap_steps, learning_rate=args.sap_lr, **common)
        log["stages"]["sap"] = {"pairs": len(pairs), "seconds": round(time.time() - started)}
    if "sct" in stages:
        pairs = sct_pairs
        started = time.time()
        objective = SCTObjective(model, lambda_q=1e-3, lambda_d=1e-5)
        train(objective, pairs, SCTCollator(tok, query_max_length=32, doc_max_length=128), work / "sct",
              max_steps=args.sct_steps, learning_rate=args.sct_lr, **common)
        log["stages"]["sct"] = {"pairs": len(pairs), "seconds": round(time.time() - started)}
    save_delta(model.eval(), out, info={"recipe": "experiments/train_milco_mini.py", **log})
    (out / "training_log.json").write_text(json.dumps(log, indent=1) + "\n")
    print(json.dumps(log["stages"]))


if __name__ == "__main__":
    main()
