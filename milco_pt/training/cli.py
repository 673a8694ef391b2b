"""``milco-pt train sap|sct``: the training stages from the command line (also under torchrun).

  milco-pt train sap --model FOLDER --bitext pairs.tsv|ddtp|gettext --output OUT [--teacher lexical|SPLADE]
  milco-pt train sct --model FOLDER --data ddtp|distill.jsonl --output OUT [--loss infonce|kl]
  torchrun --nproc_per_node 2 -m milco_pt.training.cli sap ...      # distributed (gloo on CPU)
"""
from __future__ import annotations

import argparse
import sys


def add_parsers(sub):
    for stage in ("sap", "sct"):
        sp = sub.add_parser(stage, help="Sparse Alignment Pretraining" if stage == "sap" else "Sparse Contrastive Training")
        sp.add_argument("--model", required=True, help="MILCO checkpoint folder or hub id to start from")
        sp.add_argument("--output", required=True)
        sp.add_argument("--max-steps", type=int, default=-1)
        sp.add_argument("--epochs", type=float, default=1.0)
        sp.add_argument("--batch-size", type=int, default=32)
        sp.add_argument("--lr", type=float, default=2e-5)
        sp.add_argument("--save-steps", type=int, default=500)
        sp.add_argument("--seed", type=int, default=42)
        sp.add_argument("--max-examples", type=int, default=None)
        if stage == "sap":
            sp.add_argument("--bitext", required=True, help="tsv/jsonl bitext, 'ddtp' (the train split) or "
                            "'gettext' (the machine's translated message catalogs)")
            sp.add_argument("--teacher", default="lexical", help="'lexical', or an English SPLADE (hub id/folder)")
            sp.add_argument("--max-length", type=int, default=256)
        else:
            sp.add_argument("--data", required=True, help="'ddtp' pairs, or BGE-style distillation jsonl")
            sp.add_argument("--loss", choices=["infonce", "kl"], default="infonce")
            sp.add_argument("--group", type=int, default=8)
            sp.add_argument("--lambda-q", type=float, default=1e-3)
            sp.add_argument("--lambda-d", type=float, default=1e-5)
            sp.add_argument("--reg", choices=["l1", "flops"], default="l1")
        sp.set_defaults(fn=run, stage=stage)


def run(args):
    from ..hub import load_model, load_tokenizers
    from . import data
    from .objectives import SAPCollator, SAPObjective, SCTCollator, SCTObjective
    from .trainer import is_main_process, train
    model = load_model(args.model)
    m_tok, en_vocab = load_tokenizers(model.folder, model.config, None, None, True)
    model.train()
    common = dict(max_steps=args.max_steps, num_train_epochs=args.epochs, per_device_train_batch_size=args.batch_size,
                  learning_rate=args.lr, save_steps=args.save_steps, seed=args.seed, data_seed=args.seed)
    if args.stage == "sap":
        if args.bitext == "gettext":
            from .catalogs import gettext_bitext
            examples = gettext_bitext()
        else:
            examples = data.ddtp_bitext("train") if args.bitext == "ddtp" else data.read_bitext(args.bitext)
        teacher = make_teacher(args.teacher, en_vocab, model, [e for _, e in examples])
        objective, collator = SAPObjective(model), SAPCollator(m_tok, teacher, args.max_length)
    else:
        if args.data == "ddtp":
            examples = data.ddtp_pairs("train")
        else:
            examples = data.read_distillation(args.data)
            if args.loss == "kl" and "pos_scores" not in examples[0]:
                raise ValueError("--loss kl needs teacher scores (pos_scores/neg_scores) in the data")
            if args.loss == "infonce":
                examples = [{k: v for k, v in r.items() if not k.endswith("_scores")} for r in examples]
        objective = SCTObjective(model, args.lambda_q, args.lambda_d, args.reg)
        collator = SCTCollator(m_tok, group=args.group)
    if args.max_examples:
        examples = examples[: args.max_examples]
    train(objective, examples, collator, args.output, **common)
    if is_main_process():
        from pathlib import Path
        from ..hub import save_tokenizers
        final = Path(args.output) / "final"
        model.save_pretrained(final)
        save_tokenizers(final, m_tok, en_vocab)
        print(f"saved the trained model to {final}", file=sys.stderr)


def make_teacher(spec: str, en_vocab, model, english_texts):
    from .teachers import LexicalTeacher, SpladeTeacher
    if spec == "lexical":
        from transformers import BertTokenizer
        tok = BertTokenizer(vocab={t: i for i, t in enumerate(en_vocab)}, do_lower_case=True)
        return LexicalTeacher(tok, model.config.en_vocab_size).fit_idf(english_texts)
    from transformers import AutoModelForMaskedLM, AutoTokenizer
    return SpladeTeacher(AutoModelForMaskedLM.from_pretrained(spec), AutoTokenizer.from_pretrained(spec))


def main(argv=None):
    p = argparse.ArgumentParser(prog="milco-pt train", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    add_parsers(p.add_subparsers(dest="stage", required=True))
    args = p.parse_args(argv)
    args.fn(args)


if __name__ == "__main__":
    main()
