"""Indexes are written in a temporary folder beside their final path and moved into place only
when complete, so an interrupted build leaves nothing that loads as an index; ``overwrite`` replaces
only an index milco-pt built; builds of one path hold a lock file beside it (one at a time), and a
build cleans the work folders a killed build left behind."""
from __future__ import annotations

import fcntl
import json
import logging
import os
import re
import secrets
import shutil
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Iterator, Union

PACKAGE_HINT = "milco-pt"
META = "pt_meta.json"
_log = logging.getLogger(__name__)


class IndexingMode(Enum):
    create = "create"
    overwrite = "overwrite"


def is_ours(path: Path) -> bool:
    """Whether ``path`` is a built index of this package (``pt_meta.json`` names milco-pt; a damaged,
    truncated one still does when it names milco-pt before its cut)."""
    try:
        text = (Path(path) / META).read_text(encoding="utf-8")
    except (OSError, ValueError):
        return False
    try:
        return json.loads(text).get("package_hint") == PACKAGE_HINT
    except (ValueError, AttributeError):
        return f'"package_hint": "{PACKAGE_HINT}"' in text


def clean_stale(final: Path) -> list[Path]:
    """Remove the ``.<name>.*.building`` and ``.<name>.<pid>.old`` folders of ``final``: called under
    :func:`build_lock`, so they are a killed build's (a live build of ``final`` holds the lock). An
    overwrite killed between its two moves left the previous index only as ``.old``: it is moved
    back to ``final`` instead."""
    pattern = re.compile(rf"\.{re.escape(final.name)}\.(?:[a-z0-9_]{{8}}\.building|\d+\.old)")
    removed = []
    for p in sorted(final.parent.iterdir()) if final.parent.is_dir() else ():
        if not (pattern.fullmatch(p.name) and p.is_dir() and not p.is_symlink()):
            continue
        if p.name.endswith(".old") and not final.exists() and is_ours(p):
            p.rename(final)
            continue
        shutil.rmtree(p)
        removed.append(p)
    return removed


@contextmanager
def build_lock(final: Path) -> Iterator[None]:
    """Hold ``.<name>.lock`` beside ``final`` (``flock``): one build of a path at a time, the next
    one waits. The kernel releases the lock of a killed process; the file is removed on release."""
    lock = final.with_name(f".{final.name}.lock")
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            if _locked(fd, lock, final):
                break
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)  # the holder removed the file this one locked: lock the new one
    try:
        yield
    finally:
        os.unlink(lock)
        os.close(fd)


def _locked(fd: int, lock: Path, final: Path) -> bool:
    """Lock ``fd`` (waiting for another holder); whether it is still the file at ``lock``."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        _log.warning("%s is being built by another process: waiting for it to finish", final)
        fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        return os.path.samestat(os.fstat(fd), os.stat(lock))
    except FileNotFoundError:
        return False


def work_folder(final: Path) -> Path:
    """A new empty ``.<name>.<8 characters>.building`` folder beside ``final``, made like any
    folder (its mode follows the umask, unlike ``tempfile.mkdtemp``'s 0700)."""
    while True:
        work = final.with_name(f".{final.name}.{secrets.token_hex(4)}.building")
        try:
            work.mkdir()
            return work
        except FileExistsError:
            continue


@contextmanager
def staged(final: Union[str, Path], mode: Union[str, IndexingMode]) -> Iterator[Path]:
    """Yield an empty work folder; when the block succeeds it becomes ``final``."""
    final = Path(final)
    _check_target(final, mode)
    final.parent.mkdir(parents=True, exist_ok=True)
    with build_lock(final):
        clean_stale(final)
        _check_target(final, mode)  # another process may have built it while this one waited
        work = work_folder(final)
        try:
            yield work
            _replace(work, final)
        finally:
            shutil.rmtree(work, ignore_errors=True)


def _check_target(final: Path, mode: Union[str, IndexingMode]):
    if final.exists():
        if IndexingMode(mode) == IndexingMode.create:
            raise FileExistsError(f"{final} exists; use .indexer(mode='overwrite') to replace it")
        if not is_ours(final):
            raise FileExistsError(f"{final} is not an index built by milco-pt (no {META} with package_hint "
                                  f"{PACKAGE_HINT!r}), so overwrite will not replace it: remove it yourself "
                                  "or index to another path")


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
