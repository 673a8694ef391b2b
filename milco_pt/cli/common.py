"""What the subcommands share: model and encoding options, number checks, pruning from flags."""
from __future__ import annotations

import argparse

DEFAULT_MODEL = "omai-research/milco-650m"


def positive(value: str) -> float:
    """argparse type: a number above 0."""
    try:
        x = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
    if not x > 0 or x == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number above 0, got {value}")
    return x


def count(value: str) -> int:
    """argparse type: a whole number of at least 1 (results, threads, batch and shard sizes)."""
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {n}")
    return n


def pruner(args):
    from .. import pruning
    fns = []
    if args.mass is not None:
        fns.append(lambda v: pruning.mass_prune(v, args.mass))
    if args.topk is not None:
        fns.append(lambda v: pruning.top_k(v, args.topk))
    if args.threshold is not None:
        fns.append(lambda v: pruning.threshold(v, args.threshold))

    def apply(vec):
        for fn in fns:
            vec = fn(vec)
        return vec
    return apply


def load_milco(args):
    from ..milco import Milco
    options = {} if args.lowercase is None else {"lowercase": args.lowercase}
    return Milco.from_pretrained(args.model, revision=args.revision, local_files_only=args.offline,
                                 batch_size=args.batch_size, device=args.device,
                                 verbose=getattr(args, "verbose", False), **options)


def model_args(sp):
    sp.add_argument("--model", default=DEFAULT_MODEL, help="hub id, local checkpoint folder, or milco-mini "
                    "(the small MILCO shipped with milco-pt, offline)")
    sp.add_argument("--revision", default=None, help="pinned hub revision")
    sp.add_argument("--offline", action="store_true", help="use the local cache only")
    sp.add_argument("--device", default=None)
    sp.add_argument("--batch-size", type=count, default=32)
    sp.add_argument("--lowercase", action=argparse.BooleanOptionalAction, default=None,
                    help="lowercase texts first (default: as saved with the model; else yes, as the "
                    "authors' evaluator does)")


def encoding_args(sp):
    sp.add_argument("--views", default=None, help="pivot, source or pivot,source (e_/m_ names)")
    sp.add_argument("--topk", type=int, default=None)
    sp.add_argument("--mass", type=float, default=None, help="mass pruning percentile p")
    sp.add_argument("--threshold", type=float, default=None)
    sp.add_argument("--id-field", default=None)
    sp.add_argument("--text-field", default=None)
