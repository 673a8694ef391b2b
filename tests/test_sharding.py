"""Sharded encoding: two processes under torchrun split the shards, the result equals one
process's encoding, a rerun encodes only missing shards, and the index builders read the folder."""
import json
import os
import subprocess
import sys

import pytest

from conftest import TEXTS
from milco_pt import Milco
from milco_pt.sharding import missing_shards, read_shards, shard_name


def corpus(tmp_path, n: int = 30):
    path = tmp_path / "docs.tsv"
    texts = [f"{TEXTS[i % len(TEXTS)]} {i}" for i in range(n)]
    path.write_text("".join(f"d{i}\t{t}\n" for i, t in enumerate(texts)), encoding="utf-8")
    return path, texts


def same_vectors(records, vectors):
    assert len(records) == len(vectors)
    for rec, vec in zip(records, vectors):
        assert rec["toks"].keys() == vec.keys()
        assert max(abs(rec["toks"][t] - w) for t, w in vec.items()) < 1e-5


def encode_shards(tiny_path, docs, out, *launcher):
    cmd = [*launcher, "-m", "milco_pt.cli", "encode-shards", "--model", str(tiny_path), "--input", str(docs),
           "--output", str(out), "--shard-size", "4", "--batch-size", "3"]
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK")}
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr[-3000:]
    return r.stderr


def test_two_processes_resume_and_index(tiny_path, tmp_path):
    docs, texts = corpus(tmp_path)
    out = tmp_path / "shards"
    log = encode_shards(tiny_path, docs, out, sys.executable, "-m", "torch.distributed.run", "--standalone",
                        "--nproc_per_node", "2")
    assert "rank 0/2: wrote 4 shards" in log and "rank 1/2: wrote 4 shards" in log
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["documents"] == 30 and manifest["shards"] == 8 and missing_shards(out) == []

    records = list(read_shards(out))
    assert [r["docno"] for r in records] == [f"d{i}" for i in range(30)]
    same_vectors(records, Milco.from_pretrained(str(tiny_path)).encode_docs(texts))

    stamps = {p.name: p.stat().st_mtime_ns for p in out.glob("shard-*")}
    (out / shard_name(3)).unlink()
    with pytest.raises(FileNotFoundError, match="encode-shards command again"):
        list(read_shards(out))
    log = encode_shards(tiny_path, docs, out, sys.executable)
    assert "rank 0/1: wrote 1 shards" in log
    assert all(p.stat().st_mtime_ns == stamps[p.name] for p in out.glob("shard-*") if p.name != shard_name(3))
    same_vectors(list(read_shards(out)), [r["toks"] for r in records])

    from milco_pt.cli import main
    main(["index", "--vectors", str(out), "--index", str(tmp_path / "idx"), "--backend", "pisa"])
    from milco_pt import sparse_index
    assert len(sparse_index(tmp_path / "idx", backend="pisa")) == 30


def test_shard_size_must_match(tiny_path, tmp_path):
    from milco_pt.sharding import encode_shards as run
    out = tmp_path / "s"
    run(lambda texts: [{"x": 1.0} for _ in texts], [("a", "t"), ("b", "u")], out, shard_size=1)
    with pytest.raises(ValueError, match="same --shard-size"):
        run(lambda texts: [{"x": 1.0} for _ in texts], [("a", "t")], out, shard_size=2)
    with pytest.raises(ValueError, match="rank 2"):
        run(lambda texts: [], [], tmp_path / "t", rank=2, world_size=2)


def test_resume_with_other_settings_is_refused(tmp_path):
    from milco_pt.sharding import encode_shards as run
    out = tmp_path / "s"
    run(lambda texts: [{"x": 1.0} for _ in texts], [("a", "t")], out, shard_size=1, info={"model": "A", "mass": None})
    with pytest.raises(ValueError, match=r"other settings \(model: 'A' there, 'B' now\)"):
        run(lambda texts: [{"x": 2.0} for _ in texts], [("a", "t")], out, shard_size=1, info={"model": "B", "mass": None})


def test_killed_encoding_resumes_to_identical_shards(tiny_path, tmp_path):
    """kill -9 mid-encoding, rerun: finished shards are kept (not recomputed), the temporary file of
    the killed write is removed, and every shard equals an uninterrupted run's, byte for byte."""
    import signal
    import time
    docs, _ = corpus(tmp_path, 240)  # 60 shards: the kill lands mid-run
    whole = tmp_path / "whole"
    encode_shards(tiny_path, docs, whole, sys.executable)
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "milco_pt.cli", "encode-shards", "--model", str(tiny_path), "--input", str(docs),
           "--output", str(out), "--shard-size", "4", "--batch-size", "3"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while len(list(out.glob("shard-*"))) < 2 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    kept = {p.name: p.stat().st_mtime_ns for p in out.glob("shard-*")}
    assert 2 <= len(kept) < 60, "the kill must land mid-run"
    (out / f".{shard_name(59)}.{proc.pid}.partial").write_bytes(b"half a shard")  # as a kill mid-write leaves
    encode_shards(tiny_path, docs, out, sys.executable)
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("shard-*") if p.name in kept} == kept
    assert not list(out.glob(".*.partial"))
    assert sorted(p.name for p in out.glob("shard-*")) == sorted(p.name for p in whole.glob("shard-*"))
    for p in whole.glob("shard-*"):
        assert (out / p.name).read_bytes() == p.read_bytes()


def test_shards_are_written_a_chunk_at_a_time(tmp_path):
    """``encode`` never sees more than ``chunk_size`` texts (memory bounded by the chunk, not the
    shard), and the shards are the same bytes whatever the chunk size."""
    from milco_pt.sharding import encode_shards as run, read_shards
    calls = []

    def encode(texts):
        calls.append(len(texts))
        return [{"w": len(t)} for t in texts]

    pairs = [(f"d{i}", "x" * i) for i in range(23)]
    run(encode, pairs, tmp_path / "a", shard_size=10, rank=0, world_size=1, chunk_size=3)
    assert max(calls) == 3 and sum(calls) == 23
    assert calls == [3, 3, 3, 1, 3, 3, 3, 1, 3]
    run(encode, pairs, tmp_path / "b", shard_size=10, rank=0, world_size=1, chunk_size=100)
    for p in sorted((tmp_path / "a").glob("shard-*")):
        assert (tmp_path / "b" / p.name).read_bytes() == p.read_bytes()
    assert [r["toks"]["w"] for r in read_shards(tmp_path / "a")] == list(range(23))
