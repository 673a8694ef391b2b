"""Scale benchmark of the run layer: a synthetic multilingual corpus (deterministic, generated on the
fly from words of the shipped DDTP texts) of N documents through encode -> shards -> Anserini index
-> chunked search -> evaluation with a tiny random MILCO on CPU; time per stage and peak RSS of the
process (the JVM of Anserini runs inside it) and of its children.

    python benchmarks/scale.py --docs 100000,1000000 --out benchmarks/results/scale.json

Each size runs in a fresh process (peak RSS is per process); the memory goal is peak RSS at 1M
<= 1.2x peak RSS at 100k. Timings are printed, never asserted.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LANGS = ("de", "fr", "ja", "ru", "zh_CN", "en")


def vocabulary() -> dict:
    """Words of each language's DDTP test documents (a few thousand per language)."""
    from milco_pt.datasets import get
    words = {}
    for lang in LANGS:
        seen = {}
        for doc in get(f"ddtp/{lang}-{lang}/test").get_corpus_iter():
            for w in doc["text"].split()[:40]:
                seen.setdefault(w, None)
            if len(seen) > 5000:
                break
        words[lang] = list(seen)
    return words


def collection(n: int, queries: int = 200):
    """A corpus of ``n`` documents of 20-60 words of one language each, and queries whose relevant
    document is the one they were drawn from."""
    import pandas as pd
    from milco_pt.datasets.collection import Collection
    words = vocabulary()

    def doc(i: int) -> dict:
        rng = random.Random(i)
        vocab = words[LANGS[i % len(LANGS)]]
        return {"docno": f"d{i}", "text": " ".join(rng.choice(vocab) for _ in range(rng.randint(20, 60)))}

    picks = [random.Random(-q).randrange(n) for q in range(queries)]
    topics = pd.DataFrame({"qid": [f"q{q}" for q in range(queries)],
                           "query": [" ".join(doc(i)["text"].split()[:6]) for i in picks]})
    qrels = pd.DataFrame({"qid": topics["qid"], "docno": [f"d{i}" for i in picks], "label": 1})
    return Collection(f"synthetic-{n}", topics, qrels, lambda: (doc(i) for i in range(n)), corpus_lang="en")


def peak_mb() -> dict:
    return {"self": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "children": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}


def memory_mb() -> dict:
    """This process's resident memory now (MB): in all (``rss``) and its anonymous part (``anon``)."""
    with open("/proc/self/status") as f:
        kb = {k: int(v.split()[0]) for k, v in (line.split(":", 1) for line in f) if k in ("VmRSS", "RssAnon")}
    return {"rss": kb["VmRSS"] / 1024, "anon": kb["RssAnon"] / 1024}


class StagePeak:
    """The highest resident memory (MB) while a stage runs, sampled every 0.1 s from /proc (the
    process's ``ru_maxrss`` only says the highest so far, whatever stage reached it): in all
    (``high``), and its anonymous part (``anon``: heaps, the JVM's included) apart from pages of
    mapped files (Lucene maps the index's files; those pages are the page cache's)."""

    def __init__(self):
        import threading
        self.high, self.anon, self.stop = 0.0, 0.0, threading.Event()
        self.thread = threading.Thread(target=self.sample, daemon=True)

    def sample(self):
        while not self.stop.is_set():
            now = memory_mb()
            self.high = max(self.high, now["rss"])
            self.anon = max(self.anon, now["anon"])
            self.stop.wait(0.1)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()


def jvm_heap_mb() -> dict:
    """The JVM's heap after a stage (committed to the process, and its cap), if the JVM runs."""
    import jnius_config
    if not jnius_config.vm_running:
        return {}
    from milco_pt.index import java
    rt = java.autoclass("java.lang.Runtime").getRuntime()
    return {"jvm_heap_committed_mb": round(rt.totalMemory() / 2**20), "jvm_heap_max_mb": round(rt.maxMemory() / 2**20)}


def one(n: int, work: Path, model: Path, doc_max_length: int = None) -> dict:
    """Every stage for a corpus of ``n`` documents; seconds and peak RSS (MB) after each."""
    from milco_pt.run.models import Models
    from milco_pt.run.pipeline import Corpus
    from milco_pt.run.runfile import evaluate
    from milco_pt.run.runner import Runner
    from milco_pt.sharding import read_manifest
    ds = collection(n)
    options = {"milco": {"doc_max_length": doc_max_length}} if doc_max_length else None
    runner = Runner(work, Models(milco=str(model), batch_size=64, options=options), num_results=100, chunk=50,
                    shard_size=10000, verbose=False)
    corpus = Corpus(ds, None, "en")
    sys_ = runner.system("milco", corpus)
    stage, out = sys_.stages["index"], {"docs": n, "stages": {}}

    def timed(name, fn):
        started = time.time()
        with StagePeak() as peak:
            result = fn()
        out["stages"][name] = {"seconds": round(time.time() - started, 1), "peak_rss_mb": peak_mb(),
                               "stage_peak_mb": round(peak.high), "stage_peak_anon_mb": round(peak.anon),
                               **jvm_heap_mb()}
        print(f"{n} docs, {name}: {json.dumps(out['stages'][name])}", file=sys.stderr, flush=True)
        return result

    timed("fingerprint", lambda: corpus.info(runner.work))
    timed("encode", lambda: stage.encoding.build(runner.work, verbose=False))
    index = timed("index", lambda: stage.build(runner.work, verbose=False))
    path = timed("search", lambda: runner.run("milco", corpus, ds.get_topics()))
    per_query = timed("evaluate", lambda: evaluate(path, ds.get_qrels(), ["nDCG@10", "R@100"]))
    enc = stage.encoding.folder(runner.work)
    out.update(shard_bytes=sum(p.stat().st_size for p in enc.glob("shard-*")),
               index_bytes=index.meta()["index_bytes"], ram_buffer_mb=index.meta().get("ram_buffer_mb"),
               documents=read_manifest(enc)["documents"],
               nDCG10=round(float(per_query["nDCG@10"].mean()), 4), peak_rss_mb=peak_mb())
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--docs", default="100000,1000000", help="comma-separated corpus sizes")
    p.add_argument("--out", default=None, help="write the figures as JSON")
    p.add_argument("--work", default=None, help="work folder (default: a scratch folder per size)")
    p.add_argument("--one", type=int, default=None, help=argparse.SUPPRESS)
    p.add_argument("--model", default=None, help=argparse.SUPPRESS)
    p.add_argument("--doc-max-length", type=int, default=None, help="truncate documents to this many tokens "
                   "(cheaper encoding, the same run layer; default: the model's)")
    p.add_argument("--index-buffer-mb", type=float, default=None, help="Lucene's indexing buffer "
                   "($MILCO_PT_INDEX_BUFFER_MB; default 256): the index stage's memory is bounded by it")
    args = p.parse_args()
    if args.index_buffer_mb is not None:
        os.environ["MILCO_PT_INDEX_BUFFER_MB"] = str(args.index_buffer_mb)  # read in the --one processes
    if args.one:
        print(json.dumps(one(args.one, Path(args.work), Path(args.model), args.doc_max_length)))
        return
    from milco_pt.testing.tiny import build_tiny
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        # under --work the model has a fixed path, so that a rerun finds its encodings (they are
        # keyed by the model's source) and resumes where a stopped run ended
        model = Path(args.work) / "model" / "tiny" if args.work else Path(tmp) / "tiny"
        if not model.exists():
            partial = model.with_name("tiny.partial")
            build_tiny(partial, seed=1)
            partial.rename(model)
        for n in (int(x) for x in args.docs.split(",")):
            work = Path(args.work) / str(n) if args.work else Path(tmp) / f"work-{n}"
            extra = ["--doc-max-length", str(args.doc_max_length)] if args.doc_max_length else []
            r = subprocess.run([sys.executable, __file__, "--one", str(n), "--work", str(work), "--model", str(model),
                                *extra], stdout=subprocess.PIPE, text=True)  # stderr: each stage as it ends
            if r.returncode:
                raise SystemExit(f"the {n}-document run failed (its error is above)")
            results.append(json.loads(r.stdout.strip().splitlines()[-1]))
            res = results[-1]
            print(f"{n} docs: " + ", ".join(f"{k} {v['seconds']}s ({v['stage_peak_mb']} MB, anon {v['stage_peak_anon_mb']} MB)"
                                            for k, v in res["stages"].items())
                  + f"; peak RSS {res['peak_rss_mb']['self']:.0f} MB (children {res['peak_rss_mb']['children']:.0f} MB); "
                  f"index {res['index_bytes'] / n:.0f} B/doc, shards {res['shard_bytes'] / n:.0f} B/doc", flush=True)
    if len(results) > 1:
        print(f"peak RSS ratio {results[-1]['docs']} / {results[0]['docs']}: "
              f"{results[-1]['peak_rss_mb']['self'] / results[0]['peak_rss_mb']['self']:.2f}")
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
