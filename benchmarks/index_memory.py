"""Memory of an Anserini impact index build against the number of documents indexed: the process's
anonymous memory (heaps: Python's and the JVM's) and the JVM's committed heap after every ``--every``
documents, then after the final merge. It shows where the index stage's memory stops growing: the
JVM touches its heap gradually, up to the cap (``$MILCO_PT_JAVA_HEAP``), Lucene flushes its
buffer (``--buffer``, ``$MILCO_PT_INDEX_BUFFER_MB``), and the Python side adds 16 bytes a document
(the docno check).

    python benchmarks/index_memory.py --shards WORK/encodings/<model>-<digest> --heap 384m --buffer 32

``--shards``: the encoding folder of a run-layer work folder (``benchmarks/scale.py --work``).
"""
from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from scale import jvm_heap_mb, memory_mb  # benchmarks/scale.py, beside this script


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--shards", required=True)
    p.add_argument("--heap", default=None, help="the JVM's heap cap (default: $MILCO_PT_JAVA_HEAP, else 1g)")
    p.add_argument("--buffer", type=float, default=None, help="Lucene's indexing buffer in MB (default 256)")
    p.add_argument("--every", type=int, default=100000)
    p.add_argument("--jvm-option", action="append", default=[], help="an extra JVM option (e.g. -XX:+UseSerialGC)")
    p.add_argument("--out", default=None, help="write the figures as JSON")
    args = p.parse_args()
    if args.heap:
        os.environ["MILCO_PT_JAVA_HEAP"] = args.heap
    if args.jvm_option:
        import jnius_config
        jnius_config.add_options(*args.jvm_option)
    from milco_pt.index import java
    from milco_pt.index.anserini import DirectImpactWriter, check_terms
    from milco_pt.index.base import UniqueDocnos
    from milco_pt.index.forward import quantize
    from milco_pt.sharding import read_shards
    java.start()
    rows, started = [], time.time()

    def point(docs, stage):
        rows.append({"docs": docs, "stage": stage, "anon_mb": round(memory_mb()["anon"]),
                     "seconds": round(time.time() - started, 1), **jvm_heap_mb()})
        print(json.dumps(rows[-1]), flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        point(0, "start")
        writer, docnos, n = DirectImpactWriter(Path(tmp), args.buffer), UniqueDocnos(), 0
        for rec in read_shards(Path(args.shards)):
            docnos.add(n, rec["docno"])
            writer.add(rec["docno"], check_terms(quantize(rec["toks"], 100)))
            n += 1
            if n % args.every == 0:
                point(n, "indexing")
        docnos.finish()
        writer.close()
        point(n, "merged")
    if args.out:
        Path(args.out).write_text(json.dumps({"heap": args.heap, "jvm_options": args.jvm_option, "buffer_mb": writer.ram_buffer_mb, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
