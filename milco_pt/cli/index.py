"""``index``, ``search``, ``bm25``: vectors to indexes, queries to TREC run files."""
from __future__ import annotations

import os
import sys
from pathlib import Path

from ..datasets.formats import read_jsonl, read_texts
from .common import count, positive


def read_vectors(path: str):
    """Records ``{docno, toks}`` from a JsonVectorCollection jsonl (as ``encode`` writes) or a
    folder of shards (as ``encode-shards`` writes)."""
    if Path(path).is_dir():
        from ..sharding import read_shards
        yield from read_shards(path)
        return
    for n, rec in enumerate(read_jsonl(path), 1):
        if not isinstance(rec, dict) or "id" not in rec or not isinstance(rec.get("vector"), dict):
            raise ValueError(f"{path}:{n}: not an encoded vector: expected JSON lines "
                             '{"id": ..., "vector": {term: weight}} as `milco-pt encode` writes them')
        yield {"docno": str(rec["id"]), "toks": rec["vector"]}


def cmd_index(args):
    from ..index import sparse_index
    kwargs = {"scale": args.scale} if args.backend != "seismic" else {}
    index = sparse_index(args.index, backend=args.backend, meta={"source": args.vectors}, verbose=args.verbose,
                         **kwargs)
    index.indexer(mode="overwrite" if args.overwrite else "create", threads=args.threads,
                  forward=not args.no_forward_store).index(
        read_vectors(args.vectors))
    print(f"indexed {len(index)} documents into {args.index} ({args.backend})", file=sys.stderr)


def cmd_search(args):
    import pandas as pd
    import pyterrier as pt
    queries = pd.DataFrame([{"qid": r["docno"], "query_toks": r["toks"]} for r in read_vectors(args.queries)])
    from ..index import SeismicIndex
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
    from ..index.bm25 import BM25Index
    index = BM25Index(args.index, language=args.language, verbose=args.verbose)
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


def add_parsers(sub, formatter):
    sp = sub.add_parser("index", formatter_class=formatter, help="build an impact index (Anserini, PISA or Seismic) from encoded vectors")
    sp.add_argument("--vectors", required=True, help="JsonVectorCollection jsonl(.gz) from `encode`, or a "
                    "folder from `encode-shards`")
    sp.add_argument("--index", required=True)
    sp.add_argument("--backend", choices=["anserini", "pisa", "seismic"], default="anserini")
    sp.add_argument("--scale", type=positive, default=100, help="quantization: round(weight * scale)")
    sp.add_argument("--threads", type=count, default=1)
    sp.add_argument("--overwrite", action="store_true")
    sp.add_argument("--no-forward-store", action="store_true", help="leave out the forward store (each document's "
                    "vector, read only by dual-view fusion; several times the engine's own files)")
    sp.add_argument("--verbose", action="store_true", help="the engines' own log lines (Anserini's INFO lines)")
    sp.set_defaults(fn=cmd_index)

    sp = sub.add_parser("search", formatter_class=formatter, help="search an impact index (any backend) with encoded queries; TREC run out")
    sp.add_argument("--index", required=True)
    sp.add_argument("--queries", required=True, help="jsonl from `encode --queries`")
    sp.add_argument("--output", required=True)
    sp.add_argument("--k", type=count, default=1000)
    sp.add_argument("--query-cut", type=int, default=10, help="Seismic: query terms searched")
    sp.add_argument("--heap-factor", type=float, default=0.7, help="Seismic: block skipping (lower = safer, slower)")
    sp.add_argument("--threads", type=count, default=1)
    sp.add_argument("--run-name", default="milco")
    sp.set_defaults(fn=cmd_search)

    sp = sub.add_parser("bm25", formatter_class=formatter, help="BM25 baseline: build a Lucene index with the language's "
                        "analyzer (if needed) and search it; TREC run out")
    sp.add_argument("--index", required=True)
    sp.add_argument("--corpus", default=None, help="jsonl(.gz) or tsv documents to index")
    sp.add_argument("--language", default="en", help="pyserini code (en, de, ja, zh, ...) or generic")
    sp.add_argument("--topics", default=None, help="tsv qid<TAB>query or jsonl")
    sp.add_argument("--output", default="run.bm25.trec")
    sp.add_argument("--k", type=count, default=1000)
    sp.add_argument("--k1", type=float, default=0.9)
    sp.add_argument("--b", type=float, default=0.4)
    sp.add_argument("--threads", type=count, default=1)
    sp.add_argument("--id-field", default=None)
    sp.add_argument("--text-field", default=None)
    sp.add_argument("--overwrite", action="store_true")
    sp.add_argument("--run-name", default="bm25")
    sp.add_argument("--verbose", action="store_true", help="Anserini's own log lines while indexing")
    sp.set_defaults(fn=cmd_bm25)
