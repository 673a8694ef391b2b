"""Sharded document encoding for large corpora: the corpus is cut into fixed shards of
``shard_size`` documents (in corpus order); process ``rank`` of ``world_size`` encodes the shards
``s`` with ``s % world_size == rank``, each written to a temporary file and renamed when complete,
so a rerun skips finished shards (resumable). No inter-process communication: launch with
``torchrun`` / ``accelerate launch`` (``RANK``/``WORLD_SIZE``, one GPU per ``LOCAL_RANK``), SLURM
(``SLURM_PROCID``/``SLURM_NTASKS``) or explicit ranks. The index builders read the shards directly:

    torchrun --nproc_per_node 4 -m milco_pt.cli encode-shards --model M --input corpus.jsonl --output vecs/
    milco-pt index --vectors vecs/ --index idx            # or ImpactIndex(...).index(read_shards("vecs/"))
"""
from __future__ import annotations

import gzip
import json
import os
from pathlib import Path
from typing import Callable, Iterable, Iterator, Optional, Sequence

MANIFEST = "manifest.json"


def shard_name(i: int) -> str:
    return f"shard-{i:05d}.jsonl.gz"


def process_rank() -> tuple[int, int]:
    """``(rank, world_size)`` from torchrun/accelerate or SLURM variables, else ``(0, 1)``."""
    for rank, world in (("RANK", "WORLD_SIZE"), ("SLURM_PROCID", "SLURM_NTASKS")):
        if rank in os.environ and world in os.environ:
            return int(os.environ[rank]), int(os.environ[world])
    return 0, 1


def local_device() -> Optional[str]:
    """This process's GPU (``LOCAL_RANK``) when there are GPUs; ``None`` lets the model choose."""
    import torch
    if torch.cuda.is_available() and "LOCAL_RANK" in os.environ:
        return f"cuda:{int(os.environ['LOCAL_RANK']) % torch.cuda.device_count()}"
    return None


def _write_atomic(path: Path, data: bytes):
    tmp = path.with_name(f".{path.name}.{os.getpid()}.partial")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _remove_stale_partials(out: Path):
    """Temporary files of processes that died mid-write (kill -9): never read, removed."""
    for tmp in out.glob(".*.partial"):
        pid = tmp.name.rsplit(".", 2)[-2]
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            tmp.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def release_memory():
    """Hand freed memory back to the system: glibc keeps the heap of each forward pass (tensors of
    ever new shapes), so without a trim the process grew by ~70 MB per 1,000 documents encoded; with
    one after each chunk memory stays flat (benchmarks/scale.py). No-op where there is no glibc."""
    import ctypes
    import gc
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def encode_shards(encode: Callable[[list[str]], list[dict]], pairs: Iterable[tuple[str, str]], out,
                  shard_size: int = 10000, rank: Optional[int] = None, world_size: Optional[int] = None,
                  info: Optional[dict] = None, columns: Optional[Sequence[str]] = None,
                  chunk_size: int = 1024) -> list[int]:
    """Encode this process's unfinished shards of ``pairs`` (``(docno, text)``, the same order in
    every process) with ``encode(texts) -> vectors``; returns the shard numbers it wrote.

    ``columns``: ``encode`` returns one record per text holding these columns (e.g. ``toks``,
    ``src_toks``, ``combined``, or a dense ``doc_vec`` as a list), all stored and read back by
    :func:`read_shards`; without it, one vector per text (read back as ``toks``).

    ``info`` (model, views, pruning, ...) is recorded in the manifest; a rerun into the same folder
    with other settings is refused, so shards of two encodings never mix.

    Memory is bounded by ``chunk_size``: ``encode`` is called on at most that many texts, whose
    records are compressed into the shard's temporary file before the next chunk is read (a whole
    10,000-document shard of Python term dicts held ~1 GB and fragmented the heap, so peak memory
    grew with every shard; benchmarks/scale.py)."""
    if shard_size < 1 or chunk_size < 1:
        raise ValueError("shard_size and chunk_size must be at least 1")
    own_rank, own_world = process_rank()
    rank = own_rank if rank is None else rank
    world_size = own_world if world_size is None else world_size
    if not 0 <= rank < world_size:
        raise ValueError(f"rank {rank} is not in [0, {world_size})")
    if columns is not None:
        info = {**(info or {}), "columns": list(columns)}
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    manifest = out / MANIFEST
    if manifest.exists():
        old = json.loads(manifest.read_text())
        if old["shard_size"] != shard_size:
            raise ValueError(f"{out} holds shards of {old['shard_size']} documents, not {shard_size}: "
                             "use the same --shard-size, or a new output folder")
        changed = {k: (old.get(k), v) for k, v in (info or {}).items() if old.get(k) != v}
        if changed:
            raise ValueError(f"{out} holds shards encoded with other settings "
                             f"({', '.join(f'{k}: {a!r} there, {b!r} now' for k, (a, b) in changed.items())}): "
                             "use a new output folder, or the same settings to resume")
    _remove_stale_partials(out)
    written, n = [], 0
    writer: Optional[_ShardWriter] = None
    try:
        for n, (docno, text) in enumerate(pairs, 1):
            shard = (n - 1) // shard_size
            if (n - 1) % shard_size == 0:  # a new shard: is it this process's, and not yet written?
                if writer is not None:
                    written.append(writer.close())
                todo = shard % world_size == rank and not (out / shard_name(shard)).exists()
                writer = _ShardWriter(out, shard, encode, columns, chunk_size) if todo else None
            if writer is not None:
                writer.add(str(docno), text)
        if writer is not None:
            written.append(writer.close())
            writer = None
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    shards = -(-n // shard_size)
    _write_atomic(manifest, json.dumps({"documents": n, "shard_size": shard_size, "shards": shards,
                                        **(info or {})}, indent=1).encode())
    return written


class _ShardWriter:
    """One shard being written: texts are encoded ``chunk_size`` at a time and their records
    appended to a gzip temporary file, renamed into place by :meth:`close` (a killed process leaves
    only the temporary file, removed by the next run)."""

    def __init__(self, out: Path, shard: int, encode, columns, chunk_size: int):
        self.path, self.shard, self.encode, self.columns, self.chunk_size = out / shard_name(shard), shard, encode, columns, chunk_size
        self.tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.partial")
        self.raw = open(self.tmp, "wb")
        self.file = gzip.GzipFile(filename="", mode="wb", fileobj=self.raw, mtime=0)  # no name: same bytes on every run
        self.chunk: list[tuple[str, str]] = []

    def add(self, docno: str, text: str):
        self.chunk.append((docno, text))
        if len(self.chunk) >= self.chunk_size:
            self._flush()

    def _flush(self):
        if not self.chunk:
            return
        vecs = self.encode([t for _, t in self.chunk])
        cols = self.columns
        rows = ({"id": d, "vector": v} if cols is None else {"id": d, **{c: v[c] for c in cols}}
                for (d, _), v in zip(self.chunk, vecs))
        self.file.write("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("utf-8"))
        self.chunk = vecs = []
        release_memory()

    def abort(self):
        self.file.close()
        self.raw.close()
        self.tmp.unlink(missing_ok=True)

    def close(self) -> int:
        self._flush()
        self.file.close()
        self.raw.close()
        os.replace(self.tmp, self.path)
        return self.shard


def missing_shards(out) -> list[int]:
    out = Path(out)
    if not (out / MANIFEST).exists():
        raise FileNotFoundError(f"{out} has no {MANIFEST}: encode the corpus with `milco-pt encode-shards` first")
    m = json.loads((out / MANIFEST).read_text())
    return [i for i in range(m["shards"]) if not (out / shard_name(i)).exists()]


def read_manifest(out) -> dict:
    """The folder's manifest (documents, shard size, shards, settings); an error when there is none."""
    missing_shards(out)
    return json.loads((Path(out) / MANIFEST).read_text())


def read_shards(out, wait: Optional[float] = None, poll: float = 2.0) -> Iterator[dict]:
    """``{docno, toks}`` records (``{docno, <columns>}`` for an encoding with ``columns``) of every
    shard in corpus order, one shard in memory at a time; refuses an incomplete folder.

    ``wait``: seconds to wait for each shard (and for the manifest) still being written by other
    processes, so an index is built from the shards as they finish while other GPUs encode the rest;
    an error names the missing shard and the rank that owns it when one does not come in time."""
    out = Path(out)
    if wait is None:
        missing = missing_shards(out)
        if missing:
            raise FileNotFoundError(f"{out} lacks {len(missing)} shards (first: {shard_name(missing[0])}): run the "
                                    "same encode-shards command again, it encodes only what is missing")
    else:
        _wait_for(out / MANIFEST, wait, poll, "its manifest (written when a process has read the whole corpus)")
    m = json.loads((out / MANIFEST).read_text())
    columns = m.get("columns")
    for i in range(m["shards"]):
        if wait is not None:
            _wait_for(out / shard_name(i), wait, poll, f"shard {i}")
        with gzip.open(out / shard_name(i), "rt", encoding="utf-8") as f:
            for line in f:
                rec = json.loads(line)
                yield ({"docno": rec["id"], "toks": rec["vector"]} if columns is None
                       else {"docno": rec["id"], **{c: rec[c] for c in columns}})


def _wait_for(path: Path, wait: float, poll: float, what: str):
    import time
    deadline = time.monotonic() + wait
    while not path.exists():
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{path.parent} still lacks {what} after waiting {wait:.0f} s: are the encoding "
                               "processes running (shard s belongs to rank s % world size)? Rerun them with the "
                               "same command; finished shards are kept")
        time.sleep(poll)
