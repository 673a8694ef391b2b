"""Train milco-mini on a 2-core CPU (about 5.5 hours; minutes on a GPU). Fixed seeds; the trained
tensors go to --out.

- Sparse Alignment Pretraining (SMSE against a lexical teacher's English term weights) on DDTP
  train bitext, 30 % of it the machine's translated gettext catalogs (the pairs overlapping the
  man-page dev collection, the selection set, left out); with --dict-share, a share of
  FreeDict's X->English dictionary entries (general vocabulary, milco_pt.training.dictionaries);
- with --stages sap,dict,sct: SAP continued on FreeDict's word pairs alone (--dict-steps batches of
  --dict-batch-size short pairs: Hund -> dog), to teach the connector general vocabulary;
- the vocab stage (on by default): SAP continued on the English head's own words read by the
  multilingual encoder (dog -> dog; one word in ten held out for probing), --vocab-steps batches;
- Sparse Contrastive Training on dual-view scores: InfoNCE with in-batch negatives plus KL
  distillation of e5-small's in-batch scores, on DDTP train (query, document) pairs and gettext
  (translation, English) pairs (30 %); the same ranking loss on the pivot view alone (weight 0.5)
  and SAP's SMSE on the English side of each example (grounding, weight 0.5) keep the pivot view English.
  SCT runs in --sct-rounds rounds (7 by default), each on new pairs from the previous round's weights;
  --ground-weights sets each round's grounding weight. The last --budget-rounds rounds (2) train for a
  query budget: both ranking losses see each query's pivot view cut to its --query-top-k (12) strongest
  terms; the delta records the budget, and the named milco-mini encodes queries with it.

    python experiments/train_milco_mini.py --out milco_pt/mini/data          # the shipped model (v15k)
    python experiments/train_milco_mini.py --sct-rounds 5 --query-top-k 0 --out runs/v13  # the previous release
    python experiments/train_milco_mini.py --sct-rounds 4 --query-top-k 0 --out runs/v12  # v12
    python experiments/train_milco_mini.py --sct-rounds 3 --query-top-k 0 --out runs/v11  # v11
    python experiments/train_milco_mini.py --sct-rounds 1 --query-top-k 0 --out runs/v6   # v6
    python experiments/train_milco_mini.py --stages sap,sct --ground-weight 0.1 --sct-rounds 1 \
        --query-top-k 0 --out runs/v2                                        # v2
    python experiments/train_milco_mini.py --stages sap,sct --extra-bitext none --teacher none \
        --pivot-weight 0 --ground-weight 0 --sct-rounds 1 --query-top-k 0 --out runs/v1  # the first recipe (v1)
    python experiments/train_milco_mini.py --stages sap --out runs/sap-only  # ablations
    python experiments/train_milco_mini.py --no-echo --out runs/no-echo
    python experiments/train_milco_mini.py --smoke --out /tmp/mini           # a few steps (CI)
    python experiments/train_milco_mini.py --sct-rounds 5 --ground-weights 0.5,0.5,0.5,0.5,1.0 \
        --query-top-k 0 --out runs/v13g                                      # grounding raised in round 5
    python experiments/train_milco_mini.py --init runs/v12/milco-mini-delta.safetensors \
        --stages sct --sct-rounds 1 --seed 46 --ground-weight 2.0 --ground-sides queries --query-top-k 0 \
        --out runs/v13q
    python experiments/train_milco_mini.py --init runs/v13/milco-mini-delta.safetensors \
        --stages sct --sct-rounds 1 --seed 47 --out runs/v14k   # v13 + a round for 12 query terms
    python experiments/train_milco_mini.py --init runs/v14k/milco-mini-delta.safetensors \
        --stages sct --sct-rounds 1 --seed 48 --out runs/v15k   # and a second one: the shipped model

Round r of --sct-rounds is the same run as ``--init <round r-1's delta> --stages sct --sct-rounds 1
--seed <seed + r>`` with that round's grounding weight and budget (how the releases were trained).

Select recipes on the man pages with experiments/select_milco_mini.py (DDTP test: report only).
"""
from __future__ import annotations

import argparse
import functools
import json
import random
import time
from pathlib import Path

import torch

from milco_pt.datasets import ddtp
from milco_pt.training import data
from milco_pt.mini.assemble import base, save_delta
from milco_pt.training.objectives import GROUND_LOSSES, GROUND_SIDES, SAPCollator, SAPObjective, SCTCollator, SCTObjective
from milco_pt.training.teachers import DenseTeacher, LexicalTeacher
from milco_pt.training.trainer import train


def sample(items, n, seed):
    items = list(items)
    random.Random(seed).shuffle(items)
    return items[:n]


def extra_bitext(args) -> list:
    """The bitext beside DDTP's: none, the installed gettext catalogs (``gettext``: 8,000 pairs,
    those overlapping the man-page dev collection left out) or a file."""
    if args.extra_bitext in (None, "none"):
        return []
    if args.extra_bitext == "gettext":
        from milco_pt.training.catalogs import bitext
        return bitext(sample=8000, seed=args.seed)
    return data.read_bitext(args.extra_bitext)


def dictionary_bitext(args, n: int) -> list:
    """``n`` word-level pairs from FreeDict's X->English dictionaries (``--dict-bitext freedict``:
    fetched with apt on first use, an equal seeded share per language) or from a file."""
    if args.dict_bitext == "freedict":
        from milco_pt.training.dictionaries import bitext
        return bitext(sample=n, seed=args.seed)
    return sample(data.read_bitext(args.dict_bitext), n, args.seed)


def sap_examples(args, extra=None) -> list:
    """SAP's bitext pairs: DDTP train with --extra-share of ``extra`` (default: extra_bitext(args))
    and --dict-share of dictionary pairs, sampled with --seed."""
    if "sap" not in args.stages.split(","):
        return []
    extra = extra_bitext(args) if extra is None else extra
    n_sap = args.sap_steps * args.batch_size
    n_extra = round(args.extra_share * n_sap) if extra else 0
    n_dict = round(args.dict_share * n_sap)
    sap = sample(data.ddtp_bitext("train"), n_sap - n_extra - n_dict, args.seed)
    if sap and n_extra:
        sap = sample(sap + sample(extra, n_extra, args.seed), n_sap - n_dict, args.seed)
    if n_dict:
        sap = sample(sap + dictionary_bitext(args, n_dict), n_sap, args.seed)
    return sap


def sct_examples(args, extra=None) -> list:
    """SCT's examples: DDTP train (query, document) pairs with --sct-extra-share of ``extra``'s
    (translation, English) pairs, sampled with --seed + 1; quadruples (query, document and their
    English) when the grounding term is on."""
    if "sct" not in args.stages.split(","):
        return []
    extra = extra_bitext(args) if extra is None else extra
    grounded = args.ground_weight > 0
    n_sct = args.sct_steps * args.batch_size
    n_extra = round(args.sct_extra_share * n_sct) if extra else 0
    sct = sample(data.ddtp_pairs("train", english=grounded), n_sct - n_extra, args.seed + 1)
    if n_extra:
        more = data.bitext_pairs(sample(extra, n_extra, args.seed + 1))
        sct = sample(sct + (more if grounded else [m[:2] for m in more]), n_sct, args.seed + 1)
    return sct


def examples(args) -> tuple[list, list]:
    """The recipe's (SAP bitext pairs, SCT examples), reading the extra bitext once."""
    extra = extra_bitext(args)
    return sap_examples(args, extra), sct_examples(args, extra)


def dict_examples(args) -> list:
    """The dictionary stage's word pairs (``--dict-steps`` x ``--dict-batch-size``), seeded."""
    if "dict" not in args.stages.split(","):
        return []
    n = args.dict_steps * args.dict_batch_size
    pairs = dictionary_bitext(args, n)
    if len(pairs) < n:
        raise SystemExit(f"--dict-steps {args.dict_steps} x --dict-batch-size {args.dict_batch_size} needs {n} "
                         f"dictionary pairs; {args.dict_bitext} gives {len(pairs)}: lower --dict-steps")
    return sample(pairs, n, args.seed + 2)


def vocab_examples(args, tok, vocab) -> list:
    """The vocab stage's (word, word) pairs: ``--vocab-steps`` x ``--dict-batch-size``, seeded,
    cycling through the training words (data.english_vocabulary)."""
    if "vocab" not in args.stages.split(","):
        return []
    words, _ = data.english_vocabulary(tok, vocab, multi_piece=args.vocab_words == "all")
    n = args.vocab_steps * args.dict_batch_size
    rng, out = random.Random(args.seed + 3), []
    while len(out) < n:
        rng.shuffle(words)
        out += words[: n - len(out)]
    return [(w, w) for w in out]


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


def ground_schedule(args) -> list:
    """Each SCT round's grounding weight: ``--ground-weights`` (one per round), else ``--ground-weight``."""
    if args.ground_weights is None:
        return [args.ground_weight] * args.sct_rounds
    try:
        weights = [float(w) for w in str(args.ground_weights).split(",")]
    except ValueError:
        raise SystemExit(f"--ground-weights {args.ground_weights}: give comma-separated numbers, one per SCT round")
    if len(weights) != args.sct_rounds or min(weights) < 0:
        raise SystemExit(f"--ground-weights {args.ground_weights}: give {args.sct_rounds} weights >= 0, one per "
                         f"SCT round (--sct-rounds {args.sct_rounds})")
    return weights


def budget_schedule(args) -> list:
    """Each SCT round's query budget: ``--query-top-k`` in the last ``--budget-rounds`` rounds (every
    round when there are fewer), ``None`` (every query term) before them and without a budget."""
    k, n = args.query_top_k, args.budget_rounds
    if k is not None and k < 0:
        raise SystemExit(f"--query-top-k {k}: give 1 or more query terms (0: no budget)")
    if n is not None and n < 1:
        raise SystemExit(f"--budget-rounds {n}: give 1 or more rounds (the last rounds train for the budget)")
    first = 0 if n is None else max(args.sct_rounds - n, 0)
    return [k if k and r >= first else None for r in range(args.sct_rounds)]


def round_args(args, r: int) -> argparse.Namespace:
    """SCT round ``r`` (from 0) samples its pairs, and seeds its run, with ``--seed`` + r: round r
    of ``--sct-rounds`` is the same run as ``--init <round r-1's delta> --stages sct --seed <seed + r>
    --ground-weight <the round's weight> [--query-top-k <the round's budget>]``."""
    return argparse.Namespace(**{**vars(args), "seed": args.seed + r, "stages": "sct",
                                 "ground_weight": ground_schedule(args)[r], "ground_weights": None,
                                 "query_top_k": budget_schedule(args)[r], "budget_rounds": None})


def round_pairs(args) -> list:
    """Each SCT round's pairs: ``sct_examples(round_args(args, r))`` (sampled with --seed + r,
    quadruples when that round grounds)."""
    return [sct_examples(round_args(args, r)) for r in range(args.sct_rounds)]


@functools.lru_cache(maxsize=2)
def lexical_teacher(vocab: tuple, collection: tuple) -> LexicalTeacher:
    """SAP's (and grounding's) teacher: the English head's wordpieces weighted by their IDF on DDTP
    train's English side (fitted once per process and ``collection``, ddtp.stamp: ~20 s; read only)."""
    from transformers import BertTokenizer
    tokenizer = BertTokenizer(vocab={t: i for i, t in enumerate(vocab)}, do_lower_case=True)
    return LexicalTeacher(tokenizer, len(vocab)).fit_idf(e for _, e in data.ddtp_bitext("train"))


def init_from(model, path):
    """Continue training a milco-mini delta: it must hold exactly the tensors this recipe trains."""
    from safetensors import safe_open
    from milco_pt.mini.assemble import is_delta, load_delta
    if not is_delta(path):
        raise SystemExit(f"--init {path} is not a milco-mini delta: pass a milco-mini-delta.safetensors "
                         "written by this script (the shipped one is milco_pt/mini/data/milco-mini-delta.safetensors)")
    with safe_open(str(path), "pt") as f:
        held = set(f.keys())
    trained = {n for n, p in model.named_parameters() if p.requires_grad}
    if held != trained:
        raise SystemExit(f"--init {path} holds other tensors than this recipe trains ({len(held ^ trained)} differ): "
                         "pass the --train-layers and --no-echo it was trained with")
    load_delta(model, path)


def parser():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True)
    p.add_argument("--stages", default="sap,vocab,sct", help="comma-separated, from sap, dict (SAP "
                   "on dictionary word pairs alone), vocab (SAP on English words alone) and sct; they run in "
                   "that order")
    p.add_argument("--sap-steps", type=int, default=500)
    p.add_argument("--sct-steps", type=int, default=300)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--sap-lr", type=float, default=2e-3, help="connector, head and LexEcho")
    p.add_argument("--sct-lr", type=float, default=2e-4)
    p.add_argument("--encoder-lr", type=float, default=5e-5, help="the trained encoder layers")
    p.add_argument("--train-layers", type=int, default=2)
    p.add_argument("--no-echo", action="store_true", help="train the pivot view only (LexEcho off)")
    p.add_argument("--extra-bitext", default="gettext", help="bitext beside DDTP: 'gettext' (the installed "
                   "catalogs, as python -m milco_pt.training.catalogs --sample 8000 writes them), 'none', or a "
                   "file (tsv english<TAB>translation or jsonl)")
    p.add_argument("--extra-share", type=float, default=0.3, help="share of SAP pairs from --extra-bitext")
    p.add_argument("--dict-share", type=float, default=0.0,
                   help="share of SAP pairs from --dict-bitext (general vocabulary: Hund -> dog)")
    p.add_argument("--dict-bitext", default="freedict", help="'freedict' (Debian's dict-freedict-<xx>-eng, "
                   "as python -m milco_pt.training.dictionaries writes them) or a file like --extra-bitext")
    p.add_argument("--dict-steps", type=int, default=600, help="steps of the dict stage")
    p.add_argument("--dict-batch-size", type=int, default=64, help="word pairs per step of the dict and vocab stages")
    p.add_argument("--vocab-steps", type=int, default=450, help="steps of the vocab stage")
    p.add_argument("--vocab-words", choices=("single", "all"), default="single", help="the vocab stage's "
                   "words: those XLM-R reads as one piece, or all the head's alphabetic words")
    p.add_argument("--sct-rounds", type=int, default=7, help="SCT rounds: each trains --sct-steps more "
                   "steps, on new pairs (round r samples with --seed + r), from the previous round's weights")
    p.add_argument("--sct-extra-share", type=float, default=0.3,
                   help="share of SCT examples from --extra-bitext (translation -> its English)")
    p.add_argument("--teacher", choices=("e5-small", "none"), default="e5-small",
                   help="dense teacher of SCT's in-batch KL distillation")
    p.add_argument("--temperature", type=float, default=0.02, help="the teacher's score temperature")
    p.add_argument("--distill-weight", type=float, default=1.0)
    p.add_argument("--pivot-weight", type=float, default=0.5,
                   help="weight of the ranking loss on pivot-view scores alone")
    p.add_argument("--ground-weight", type=float, default=0.5,
                   help="weight of the SMSE grounding term (pivot logits vs the lexical teacher on the English side)")
    p.add_argument("--ground-weights", default=None, help="the grounding weight of each SCT round, "
                   "comma-separated (0.5,0.5,1.0: raised in the last round); default --ground-weight in every round")
    p.add_argument("--ground-loss", choices=sorted(GROUND_LOSSES), default="smse",
                   help="the grounding term: SMSE over every active coordinate, or over the English text's "
                        "terms only (expansion terms not pulled down)")
    p.add_argument("--ground-sides", choices=GROUND_SIDES, default="both",
                   help="what grounding holds to the English text: queries and documents, or queries alone "
                        "(documents keep their expansion terms)")
    p.add_argument("--query-top-k", type=int, default=12, help="train for a query budget: SCT's ranking "
                   "losses see each query's pivot view cut to its top-k terms; the delta records it and "
                   "milco_pt.mini.load encodes queries with the same cut (0: no budget)")
    p.add_argument("--budget-rounds", type=int, default=2, help="the query budget holds in the last N SCT "
                   "rounds, or in all when there are fewer (earlier rounds see every query term)")
    p.add_argument("--lambda-q", type=float, default=1e-3, help="weight of the queries' pivot sparsity term")
    p.add_argument("--lambda-d", type=float, default=1e-5, help="weight of the documents' pivot sparsity term")
    p.add_argument("--reg", choices=("l1", "flops"), default="l1", help="the sparsity term: L1 or FLOPS")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--init", default=None, help="start from this milco-mini delta instead of the untrained "
                   "base (continue training the shipped model: milco_pt/mini/data/milco-mini-delta.safetensors)")
    p.add_argument("--smoke", action="store_true")
    return p


def main():
    args = parser().parse_args()
    unknown = set(args.stages.split(",")) - {"sap", "dict", "vocab", "sct"}
    if unknown:
        raise SystemExit(f"unknown stage(s) {sorted(unknown)} in --stages: use sap, dict, vocab and sct")
    if args.sct_rounds < 1:
        raise SystemExit(f"--sct-rounds {args.sct_rounds}: give 1 or more")
    grounding, budgets = ground_schedule(args), budget_schedule(args)
    if args.smoke:
        args.sap_steps, args.sct_steps, args.batch_size = 2, 2, 4
        args.dict_steps, args.vocab_steps, args.dict_batch_size = 2, 2, 4
    torch.manual_seed(args.seed)
    out = Path(args.out)
    work = out / "work"
    model, tok, vocab = base(seed=args.seed, train_layers=args.train_layers, echo=not args.no_echo)
    if args.init:
        init_from(model, args.init)
    model.train()
    stages = args.stages.split(",")
    sap_pairs = sap_examples(args)
    dict_pairs = dict_examples(args)
    vocab_pairs = vocab_examples(args, tok, vocab)
    rounds = round_pairs(args) if "sct" in stages else []
    check_rows(tok, [t for pair in sap_pairs + dict_pairs + vocab_pairs + sum(rounds, []) for t in pair])
    log = {"args": vars(args), "stages": {}}
    common = dict(per_device_train_batch_size=args.batch_size, logging_steps=10, save_steps=100,
                  seed=args.seed, data_seed=args.seed, warmup_steps=0.05,
                  lr_by_prefix={"model.m_model.": args.encoder_lr})
    teacher = lexical_teacher(tuple(vocab), ddtp.stamp(ddtp.SHIPPED))
    if "sap" in stages:
        pairs = sap_pairs
        started = time.time()
        train(SAPObjective(model), pairs, SAPCollator(tok, teacher, max_length=64), work / "sap",
              max_steps=args.sap_steps, learning_rate=args.sap_lr, **common)
        log["stages"]["sap"] = {"pairs": len(pairs), "seconds": round(time.time() - started)}
    for stage, pairs, steps in (("dict", dict_pairs, args.dict_steps), ("vocab", vocab_pairs, args.vocab_steps)):
        if stage in stages:
            started = time.time()
            train(SAPObjective(model), pairs, SAPCollator(tok, teacher, max_length=16), work / stage,
                  max_steps=steps, learning_rate=args.sap_lr,
                  **{**common, "per_device_train_batch_size": args.dict_batch_size})
            log["stages"][stage] = {"pairs": len(pairs), "seconds": round(time.time() - started)}
    if "sct" in stages:
        dense = (DenseTeacher.e5_small(temperature=args.temperature, query_max_length=32, doc_max_length=128)
                 if args.teacher == "e5-small" else None)
        for r in range(args.sct_rounds):
            name = "sct" if r == 0 else f"sct{r + 1}"
            pairs = rounds[r]
            started = time.time()
            objective = SCTObjective(model, lambda_q=args.lambda_q, lambda_d=args.lambda_d, reg=args.reg,
                                     distill_weight=args.distill_weight,
                                     pivot_weight=args.pivot_weight, ground_weight=grounding[r],
                                     ground_loss=args.ground_loss, ground_sides=args.ground_sides,
                                     query_top_k=budgets[r])
            collator = SCTCollator(tok, query_max_length=32, doc_max_length=128, dense_teacher=dense,
                                   grounding=teacher if grounding[r] > 0 else None)
            train(objective, pairs, collator, work / name, max_steps=args.sct_steps, learning_rate=args.sct_lr,
                  **{**common, "seed": args.seed + r, "data_seed": args.seed + r})
            log["stages"][name] = {"pairs": len(pairs), "seconds": round(time.time() - started)}
    budget = budgets[-1] if "sct" in stages else None
    save_delta(model.eval(), out, info={"recipe": "experiments/train_milco_mini.py", **log, "query_top_k": budget})
    (out / "training_log.json").write_text(json.dumps(log, indent=1) + "\n")
    print(json.dumps(log["stages"]))


if __name__ == "__main__":
    main()
