"""Digests of an index's files, recorded in ``pt_meta.json`` at build time and checked when the
index is opened, so that a truncated, missing or altered file is reported as a damaged index rather
than crashing a native engine (PISA segfaults, Seismic loads flipped bytes, Lucene throws Java
traces).

Cost: sizes are compared on every open (one ``stat`` per file); contents are hashed (BLAKE2b) the
first time a process opens the index, which reads every file once (about 1 s per GB).
"""
from __future__ import annotations

import hashlib
from pathlib import Path

from .staging import META

#: the files of an index opened by this process whose contents matched (path, pt_meta.json's mtime)
_HASHED: set[tuple[str, int]] = set()


class DamagedIndexError(RuntimeError):
    """An index file is missing or differs from the digest recorded when the index was built."""


def file_hash(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, lambda: hashlib.blake2b(digest_size=16)).hexdigest()


def digest(folder: Path) -> dict[str, list]:
    """``{relative path: [size, hash]}`` of every file below ``folder`` but ``pt_meta.json``."""
    folder = Path(folder)
    return {str(f.relative_to(folder)): [f.stat().st_size, file_hash(f)]
            for f in sorted(folder.rglob("*")) if f.is_file() and f != folder / META}


def verify(folder: Path, files: dict, rebuild: str):
    """Raise :class:`DamagedIndexError` when a file of ``files`` (a :func:`digest`) is missing or
    has another size, or, on the first call of this process for this build, other contents."""
    folder = Path(folder)
    for name, (size, _) in files.items():
        try:
            found = (folder / name).stat().st_size
        except OSError:
            raise DamagedIndexError(f"index at {folder} is damaged ({name} is missing): {rebuild}") from None
        if found != size:
            raise DamagedIndexError(f"index at {folder} is damaged ({name} has {found} bytes, {size} when built): "
                                    f"{rebuild}")
    key = (str(folder.resolve()), (folder / META).stat().st_mtime_ns)
    if key in _HASHED:
        return
    for name, (_, want) in files.items():
        if file_hash(folder / name) != want:
            raise DamagedIndexError(f"index at {folder} is damaged ({name} differs from the file built): {rebuild}")
    _HASHED.add(key)
