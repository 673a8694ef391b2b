"""``inspect``, ``encode``, ``encode-shards``: texts to vectors."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from ..datasets.formats import read_texts
from .common import count, encoding_args, load_milco, model_args, pruner


def cmd_inspect(args):
    milco = load_milco(args)
    enc = milco.encode_queries if args.query else milco.encode_docs
    out = enc([args.text], combined=False)
    for view, vecs in out.items():
        vec = sorted(vecs[0].items(), key=lambda tw: (-tw[1], tw[0]))
        print(f"{view} view: {len(vec)} terms")
        for term, w in vec[:args.top]:
            print(f"  {w:8.4f}  {term}")


def cmd_encode(args):
    milco = load_milco(args)
    views = tuple(args.views.split(",")) if args.views else milco.views
    prune = pruner(args)
    import pyterrier as pt
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    enc = milco.encode_queries if args.queries else milco.encode_docs
    n = 0
    with pt.io.finalized_open(str(out), "t") as f:  # written beside, moved into place when complete
        chunk = []
        for pair in read_texts(args.input, args.id_field, args.text_field):
            chunk.append(pair)
            if len(chunk) >= args.chunk:
                n += _write(f, chunk, enc, views, prune)
                chunk = []
        if chunk:
            n += _write(f, chunk, enc, views, prune)
    print(f"wrote {n} vectors to {out}", file=sys.stderr)


def _write(f, chunk, enc, views, prune):
    """One view keeps its plain term names; both views are written with e_/m_ names."""
    ids, texts = zip(*chunk)
    vecs = enc(list(texts), views=views, combined=len(views) > 1)
    if len(views) == 1:
        vecs = vecs[views[0]]
    for doc_id, text, vec in zip(ids, texts, vecs):
        f.write(json.dumps({"id": doc_id, "contents": text, "vector": prune(vec)},
                           ensure_ascii=False) + "\n")
    return len(ids)


def cmd_encode_shards(args):
    from ..sharding import encode_shards, local_device, process_rank
    if args.device is None:
        args.device = local_device()
    milco = load_milco(args)
    views = tuple(args.views.split(",")) if args.views else milco.views
    prune = pruner(args)

    def encode(texts):
        vecs = milco.encode_docs(texts, views=views, combined=len(views) > 1)
        return [prune(v) for v in (vecs[views[0]] if len(views) == 1 else vecs)]
    rank, world = process_rank()
    done = encode_shards(encode, read_texts(args.input, args.id_field, args.text_field), args.output,
                         shard_size=args.shard_size, info={"model": args.model, "revision": args.revision, "views": list(views),
                                                   "lowercase": milco.encoder.lowercase, "topk": args.topk,
                                                   "mass": args.mass, "threshold": args.threshold})
    print(f"rank {rank}/{world}: wrote {len(done)} shards to {args.output}", file=sys.stderr)


def add_parsers(sub, formatter):
    sp = sub.add_parser("inspect", formatter_class=formatter, help="print the top terms of each view")
    sp.add_argument("text")
    sp.add_argument("--top", type=count, default=20)
    as_what = sp.add_mutually_exclusive_group(required=True)
    as_what.add_argument("--query", action="store_true", help="encode as a query (the model's query length)")
    as_what.add_argument("--doc", action="store_true", help="encode as a document (the model's document length)")
    model_args(sp)
    sp.set_defaults(fn=cmd_inspect)

    sp = sub.add_parser("encode", formatter_class=formatter, help="encode a jsonl/tsv of texts into JsonVectorCollection jsonl")
    sp.add_argument("--input", required=True, help="jsonl(.gz) with id + text fields, or tsv id<TAB>text")
    sp.add_argument("--output", required=True)
    sp.add_argument("--queries", action="store_true", help="encode as queries")
    encoding_args(sp)
    sp.add_argument("--chunk", type=count, default=1024, help="texts read per encoding step")
    sp.add_argument("--quiet", dest="verbose", action="store_false", help="no progress bars")
    model_args(sp)
    sp.set_defaults(fn=cmd_encode)

    sp = sub.add_parser("encode-shards", formatter_class=formatter, help="encode a large corpus into resumable shards, one process "
                        "per GPU (torchrun --nproc_per_node N -m milco_pt.cli encode-shards ...)")
    sp.add_argument("--input", required=True, help="jsonl(.gz) with id + text fields, or tsv id<TAB>text")
    sp.add_argument("--output", required=True, help="folder of shards (what exists is skipped)")
    sp.add_argument("--shard-size", type=count, default=10000)
    encoding_args(sp)
    sp.add_argument("--quiet", dest="verbose", action="store_false", help="no progress bars")
    model_args(sp)
    sp.set_defaults(fn=cmd_encode_shards)
