"""Indexes are written in a temporary folder beside their final path and moved into place only
when complete, so an interrupted build leaves nothing that loads as an index."""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Iterator

import pyterrier as pt


class IndexingMode(Enum):
    create = "create"
    overwrite = "overwrite"


@contextmanager
def staged(final: Path, mode: IndexingMode) -> Iterator[Path]:
    """Yield an empty work folder; when the block succeeds it becomes ``final``."""
    final = Path(final)
    if final.exists() and IndexingMode(mode) == IndexingMode.create:
        raise FileExistsError(f"{final} exists; use .indexer(mode='overwrite') to replace it")
    final.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".building", dir=final.parent))
    try:
        yield work
        old = None
        if final.exists():
            old = final.with_name(f".{final.name}.{os.getpid()}.old")
            final.rename(old)
        work.rename(final)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


@contextmanager
def native_output(shown: bool) -> Iterator[None]:
    """Silence what native engines (PISA, Seismic) print to the process's stdout/stderr."""
    if shown:
        yield
        return
    import sys
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, devnull):
            os.close(fd)


def check_record(n: int, rec: dict, column: str):
    if "docno" not in rec or column not in rec:
        raise KeyError(f"record {n} lacks 'docno' or {column!r}; index the output of "
                       f"a doc encoder that produces {column!r}")


def write_meta(folder: Path, meta: dict):
    """Write ``pt_meta.json``, the file that marks an index complete (so: last)."""
    with open(Path(folder) / "pt_meta.json", "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=2, ensure_ascii=False)


def folder_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file())


class StagedIndex(pt.Artifact, pt.Indexer):
    """An index folder that counts as built once its ``pt_meta.json`` exists (written last)."""

    def built(self) -> bool:
        return (Path(self.path) / "pt_meta.json").exists()

    def meta(self) -> dict:
        """The index's ``pt_meta.json``."""
        if not self.built():
            raise FileNotFoundError(f"no complete {type(self).__name__} at {self.path}")
        with open(Path(self.path) / "pt_meta.json", encoding="utf-8") as f:
            return json.load(f)

    def __len__(self):
        return self.meta()["doc_count"]

    def index(self, it) -> "StagedIndex":
        return self.indexer().index(it)

    def transform(self, inp):
        return self.retriever()(inp)
