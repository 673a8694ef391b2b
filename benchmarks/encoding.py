"""Encoding throughput: our document encoder against a bare forward pass of the same model (goal:
at most 5 % overhead), by batch size and max length; what sorting texts by length saves (padding);
what deduplicating queries saves. Real model and text: milco-mini on DDTP's English test documents
(or --model a MILCO checkpoint). Each timing is the best of --repeat alternating runs.

  python benchmarks/encoding.py --docs 256 --out benchmarks/results/encoding_run1.json
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import time
from pathlib import Path

import pandas as pd
import torch

from milco_pt.encoding import autocast


def bare(milco, texts, batch_size, max_length, sort=True) -> int:
    """Tokenize + model.encode per batch (both views), nothing after; returns real tokens seen."""
    enc, tokens = milco.encoder, 0
    texts = [t.lower() for t in texts] if enc.lowercase else list(texts)  # the same input our encoder sees
    order = sorted(range(len(texts)), key=lambda i: -len(texts[i])) if sort else list(range(len(texts)))
    for s in range(0, len(order), batch_size):
        batch = enc.m_tokenizer([texts[i] for i in order[s:s + batch_size]], padding=True, truncation=True,
                                max_length=max_length, return_tensors="pt")
        ids, mask = batch["input_ids"].to(enc.device), batch["attention_mask"].to(enc.device)
        with torch.inference_mode(), autocast(enc.device, enc.precision):
            milco.model.encode(ids, mask, pivot=True, source=True)
        tokens += int(mask.sum())
    return tokens


def best(fn, repeat) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def peak_memory_mb(device) -> float:
    if device.type == "cuda":
        return round(torch.cuda.max_memory_allocated(device) / 2**20, 1)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default=None, help="MILCO checkpoint (default: milco-mini)")
    p.add_argument("--docs", type=int, default=256)
    p.add_argument("--batch-sizes", default="16,64")
    p.add_argument("--max-lengths", default="128,512")
    p.add_argument("--repeat", type=int, default=2)
    p.add_argument("--queries", type=int, default=300, help="distinct queries, each given twice")
    p.add_argument("--out", default=None)
    args = p.parse_args()
    from milco_pt import datasets
    if args.model:
        from milco_pt import Milco
        milco = Milco.from_pretrained(args.model)
    else:
        from milco_pt.mini import SHIPPED_DELTA
        from milco_pt.mini import load
        milco = load(SHIPPED_DELTA)
    ds = datasets.get("ddtp/en-en/test")
    texts = ds.get_corpus_frame()["text"].head(args.docs).tolist()
    device = milco.encoder.device
    report = {"model": args.model or "milco-mini", "docs": len(texts), "device": str(device),
              "threads": torch.get_num_threads(), "cpus": os.cpu_count(), "configs": []}
    for max_length in (int(x) for x in args.max_lengths.split(",")):
        for batch_size in (int(x) for x in args.batch_sizes.split(",")):
            milco.batch_size, milco.doc_max_length = batch_size, max_length
            frame = pd.DataFrame({"docno": [str(i) for i in range(len(texts))], "text": texts})
            tokens = bare(milco, texts[:batch_size], batch_size, max_length)  # warm-up
            tokens = bare(milco, texts, batch_size, max_length)
            t = {"bare": [], "ours": [], "transformer": [], "bare_unsorted": []}
            for _ in range(args.repeat):
                for name, fn in (("bare", lambda: bare(milco, texts, batch_size, max_length)),
                                 ("ours", lambda: milco.encode_docs(texts)),
                                 ("transformer", lambda: milco.doc_encoder()(frame)),
                                 ("bare_unsorted", lambda: bare(milco, texts, batch_size, max_length, sort=False))):
                    t[name].append(best(fn, 1))
            b = {k: min(v) for k, v in t.items()}
            row = {"max_length": max_length, "batch_size": batch_size, "real_tokens": tokens,
                   "bare_tokens_per_s": round(tokens / b["bare"]), "ours_tokens_per_s": round(tokens / b["ours"]),
                   "overhead_encode_docs": round(b["ours"] / b["bare"] - 1, 4),
                   "overhead_doc_encoder": round(b["transformer"] / b["bare"] - 1, 4),
                   "length_sorting_speedup": round(b["bare_unsorted"] / b["bare"], 3),
                   "peak_memory_mb": peak_memory_mb(device)}
            report["configs"].append(row)
            print(json.dumps(row), flush=True)
    queries = ds.get_topics()["query"].head(args.queries).tolist()
    dup = pd.DataFrame({"qid": [str(i) for i in range(2 * len(queries))], "query": queries + queries})
    qe = milco.query_encoder()
    t_dedup = best(lambda: qe(dup), args.repeat)
    t_each = best(lambda: milco.encode_queries(dup["query"].tolist()), args.repeat)
    report["queries"] = {"rows": len(dup), "distinct": len(set(queries)), "query_encoder_s": round(t_dedup, 3),
                         "every_row_s": round(t_each, 3), "dedup_speedup": round(t_each / t_dedup, 3)}
    print(json.dumps(report["queries"]))
    print(pd.DataFrame(report["configs"]).to_string(index=False))
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
