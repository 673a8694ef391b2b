"""Indexes are written in a temporary folder beside their final path and moved into place only
when complete, so an interrupted build leaves nothing that loads as an index; ``overwrite`` replaces
only an index milco-pt built, and a build cleans the work folders a killed build left behind."""
from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import time
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Iterator, Union

PACKAGE_HINT = "milco-pt"
META = "pt_meta.json"


class IndexingMode(Enum):
    create = "create"
    overwrite = "overwrite"


def process_started() -> float:
    """When this process started (epoch seconds; Linux ``/proc``, else when this module loaded)."""
    try:
        ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
        boot = next(int(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines()
                    if line.startswith("btime "))
        return boot + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return _LOADED


_LOADED = time.time()


def is_ours(path: Path) -> bool:
    """Whether ``path`` is a built index of this package (``pt_meta.json`` names milco-pt)."""
    try:
        with open(Path(path) / META, encoding="utf-8") as f:
            return json.load(f).get("package_hint") == PACKAGE_HINT
    except (OSError, ValueError, AttributeError):
        return False


def clean_stale(final: Path) -> list[Path]:
    """Remove the ``.<name>.*.building`` work folders of ``final`` that are older than this process
    (a killed build's) and the ``.<name>.<pid>.old`` folders of processes that no longer run."""
    pattern = re.compile(rf"\.{re.escape(final.name)}\.(?:[a-z0-9_]{{8}}\.building|(\d+)\.old)")
    started, removed = process_started(), []
    for p in final.parent.iterdir() if final.parent.is_dir() else ():
        m = pattern.fullmatch(p.name)
        if m is None or not p.is_dir():
            continue
        if (m.group(1) is None and p.stat().st_mtime < started) or (m.group(1) and not _alive(int(m.group(1)))):
            shutil.rmtree(p)
            removed.append(p)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextmanager
def staged(final: Union[str, Path], mode: Union[str, IndexingMode]) -> Iterator[Path]:
    """Yield an empty work folder; when the block succeeds it becomes ``final``."""
    final = Path(final)
    if final.exists():
        if IndexingMode(mode) == IndexingMode.create:
            raise FileExistsError(f"{final} exists; use .indexer(mode='overwrite') to replace it")
        if not is_ours(final):
            raise FileExistsError(f"{final} is not an index built by milco-pt (no {META} with package_hint "
                                  f"{PACKAGE_HINT!r}), so overwrite will not replace it: remove it yourself "
                                  "or index to another path")
    final.parent.mkdir(parents=True, exist_ok=True)
    clean_stale(final)
    work = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".building", dir=final.parent))
    try:
        yield work
        _replace(work, final)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _replace(work: Path, final: Path):
    """Move ``work`` to ``final``; an index already there is kept until the move succeeded."""
    if not final.exists():
        work.rename(final)
        return
    old = final.with_name(f".{final.name}.{os.getpid()}.old")
    if old.exists():
        shutil.rmtree(old)
    final.rename(old)
    try:
        work.rename(final)
    except BaseException:
        old.rename(final)
        raise
    shutil.rmtree(old)
