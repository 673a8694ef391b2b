"""What every index of this package shares, so that each engine module holds only its own part.

:class:`StagedIndex` is an on-disk index (a PyTerrier artifact) whose settings are reloaded from its
``pt_meta.json`` once built; :class:`StagedIndexer` builds one in a staged folder (:mod:`.staging`)
and writes that file last; :class:`Retriever` is the shared retriever (query column, rank cutoff,
``__repr__``, empty inputs); :func:`read_records` and :func:`results_frame` are the two ends of
indexing and searching.
"""
from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator, Optional, Sequence, Union

import numpy as np
import pandas as pd
import pyterrier as pt

from .checks import check_num_results, docno_of
from .integrity import DamagedIndexError, digest, verify
from .staging import META, PACKAGE_HINT, IndexingMode, staged

__all__ = ["IndexingMode", "staged", "native_output", "check_record", "read_records", "write_meta", "folder_bytes",
           "empty_results", "results_frame", "ranked_lists_frame", "StagedIndex", "StagedIndexer", "Retriever"]


@contextmanager
def native_output(shown: bool) -> Iterator[None]:
    """Silence what native engines (PISA, Seismic) print to the process's stdout/stderr."""
    if shown:
        yield
        return
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


def check_record(n: int, rec: dict, columns: Union[str, Sequence[str]], source: str = "a doc encoder's output"):
    """Raise when record ``n`` lacks ``docno`` or one of ``columns``."""
    columns = [columns] if isinstance(columns, str) else list(columns)
    missing = [c for c in ["docno", *columns] if c not in rec]
    if missing:
        raise KeyError(f"record {n} lacks {missing}; index {source} with 'docno' and {columns}")


class UniqueDocnos:
    """Checks that docnos are unique in about 16 bytes a document: the first ``exact`` docnos in a
    set (an error names the duplicate as soon as it comes), every docno's 16-byte digest in a
    flat buffer, sorted once by :meth:`finish` (corpora of 10M-100M documents; a set of the
    strings took ~85 bytes a document)."""

    def __init__(self, exact: int = 100_000):
        self.exact, self.count = exact, 0
        self.seen: Optional[set] = set()
        self.chunks, self.buf = [], bytearray()

    def add(self, n: int, docno: str):
        if self.seen is not None:
            if docno in self.seen:
                raise ValueError(f"record {n}: docno {docno!r} is a duplicate (an earlier record has it); docnos "
                                 "must be unique: drop or rename the duplicate")
            self.seen.add(docno)
            if len(self.seen) >= self.exact:
                self.seen = None
        self.buf += hashlib.blake2b(docno.encode("utf-8"), digest_size=16).digest()
        self.count += 1
        if len(self.buf) >= 1 << 22:
            self.chunks.append(bytes(self.buf))
            self.buf.clear()

    def finish(self):
        """Raise if two docnos were equal (the records' positions named)."""
        if self.seen is not None:
            return
        digests = np.frombuffer(b"".join([*self.chunks, bytes(self.buf)]), dtype="<u8").reshape(-1, 2)
        order = np.lexsort((digests[:, 1], digests[:, 0]))
        ranked = digests[order]
        same = np.nonzero((ranked[1:] == ranked[:-1]).all(1))[0]
        if len(same):
            a, b = sorted((int(order[same[0]]), int(order[same[0] + 1])))
            raise ValueError(f"records {a} and {b} have the same docno (a duplicate); docnos must be unique: "
                             "drop or rename the duplicate")


def read_records(it, columns: Union[str, Sequence[str]], verbose: bool, desc: str = "Indexing",
                 source: str = "a doc encoder's output") -> Iterator[dict]:
    """The records of a frame or iterable, each checked for ``docno`` and ``columns``, with a
    progress bar when ``verbose``; their docnos are strings, checked and unique
    (:func:`~.checks.docno_of`, :class:`UniqueDocnos`)."""
    records = it.to_dict("records") if isinstance(it, pd.DataFrame) else it
    if verbose:
        records = pt.tqdm(records, desc=desc, unit="doc")
    unique = UniqueDocnos()
    for n, rec in enumerate(records):
        check_record(n, rec, columns, source)
        docno = docno_of(rec, n)
        unique.add(n, docno)
        yield rec if rec["docno"] is docno else {**rec, "docno": docno}
    unique.finish()


def write_meta(folder: Path, meta: dict):
    """Write ``pt_meta.json``, the file that marks an index complete (so: last)."""
    with open(Path(folder) / META, "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=2, ensure_ascii=False)


def folder_bytes(path: Path, exclude: Iterable[str] = ()) -> int:
    """Bytes of the files below ``path``, less the top-level files named in ``exclude``."""
    skip = {Path(path) / name for name in exclude}
    return sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file() and f not in skip)


def empty_results(inp: pd.DataFrame) -> pd.DataFrame:
    """A result frame without rows: the input's columns, then ``docno``, ``score``, ``rank``."""
    return pd.DataFrame(columns=list(inp.columns) + ["docno", "score", "rank"])


def results_frame(inp: pd.DataFrame, rows, docnos, scores) -> pd.DataFrame:
    """The result frame of hits given as the input row (position) of each hit, its docno and score;
    the hits of one row are consecutive and best first (they rank 0, 1, ... in that order)."""
    rows = np.asarray(rows, dtype=np.int64)
    if len(rows) == 0:
        return empty_results(inp)
    starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
    rank = np.arange(len(rows)) - np.repeat(starts, np.diff(np.r_[starts, len(rows)]))
    out = inp.iloc[rows].reset_index(drop=True)
    return out.assign(docno=np.asarray(docnos, dtype=object), score=np.asarray(scores, dtype=np.float64), rank=rank)


def ranked_lists_frame(inp: pd.DataFrame, ranked: Sequence[Sequence[tuple]]) -> pd.DataFrame:
    """The result frame of one ranked list of ``(docno, score)`` per input row (best first)."""
    rows = np.repeat(np.arange(len(ranked)), [len(r) for r in ranked])
    return results_frame(inp, rows, [d for r in ranked for d, _ in r], [s for r in ranked for _, s in r])


class StagedIndex(pt.Artifact, pt.Indexer):
    """An index folder that counts as built once its ``pt_meta.json`` exists (written last).

    Subclasses name their ``ARTIFACT_FORMAT``, their ``INDEXER`` class, the ``SETTINGS`` recorded in
    ``pt_meta.json`` (and reloaded from it when the index is built) and those of them ``SHOWN`` in
    ``repr``."""

    ARTIFACT_TYPE = "sparse_index"
    ARTIFACT_FORMAT: str
    INDEXER: type
    SETTINGS: tuple = ("column",)
    SHOWN: tuple = ("column",)
    CACHES: tuple = ()

    def __init__(self, path: Union[str, Path], *, meta: Optional[dict] = None, verbose: bool = True, **settings):
        super().__init__(path)
        self.path = Path(path)
        self.extra_meta, self.verbose = dict(meta or {}), verbose
        for name in self.SETTINGS:
            setattr(self, name, settings[name])
        if self.built():
            try:
                m = self.meta()
            except DamagedIndexError:
                return  # kept as given: overwriting it is allowed, reading it is the error
            for name in self.SETTINGS:
                setattr(self, name, m[name])

    def __repr__(self):
        shown = "".join(f", {name}={getattr(self, name)!r}" for name in self.SHOWN)
        return f"{type(self).__name__}({str(self.path)!r}{shown})"

    @property
    def query_column(self) -> str:
        """The query column a retriever reads by default: ``query_`` + the indexed column."""
        return "query_" + self.column

    def built(self) -> bool:
        return (Path(self.path) / META).exists()

    def meta(self) -> dict:
        """The index's ``pt_meta.json``."""
        if not self.built():
            raise FileNotFoundError(f"no complete {type(self).__name__} at {self.path}")
        path = Path(self.path) / META
        try:
            with open(path, encoding="utf-8") as f:
                return json.load(f)
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise DamagedIndexError(f"index at {self.path} is damaged ({path.name} is not valid JSON: {e}): "
                                    f"rebuild it with {type(self).__name__}({str(self.path)!r}, ...)"
                                    ".indexer(mode='overwrite').index(...), or remove the folder and build it "
                                    "again where overwrite cannot tell it is an index") from e

    def opened(self) -> dict:
        """:meth:`meta`, once the index's files are checked against the digest recorded at build time
        (:mod:`.integrity`): what an engine calls before loading them."""
        m = self.meta()
        verify(self.path, m.get("files", {}), f"rebuild it with {type(self).__name__}({str(self.path)!r}, ...)"
               ".indexer(mode='overwrite').index(...) (milco-pt index ... --overwrite)")
        return m

    def build_meta(self, fields: dict) -> dict:
        """``pt_meta.json`` of a build: artifact type and format, settings, ``fields``, extra meta."""
        return {"type": self.ARTIFACT_TYPE, "format": self.ARTIFACT_FORMAT, "package_hint": PACKAGE_HINT,
                **{name: getattr(self, name) for name in self.SETTINGS}, **fields, **self.extra_meta}

    def forget(self):
        """Drop what was read from a previous build of this folder (after a rebuild)."""
        for name in self.CACHES:
            self.__dict__.pop(name, None)

    def __len__(self):
        return self.meta()["doc_count"]

    def indexer(self, mode: Union[str, IndexingMode] = IndexingMode.create, **options) -> "StagedIndexer":
        """The indexer of this folder; ``mode='overwrite'`` replaces an index milco-pt built there."""
        return self.INDEXER(self, IndexingMode(mode), **options)

    def index(self, it) -> "StagedIndex":
        return self.indexer().index(it)

    def transform(self, inp):
        return self.retriever()(inp)


class StagedIndexer(pt.Indexer):
    """Builds a :class:`StagedIndex`: subclasses write the engine's files with :meth:`build`, which
    returns the build's fields for ``pt_meta.json`` (at least ``doc_count``)."""

    def __init__(self, index: StagedIndex, mode: IndexingMode, threads: int = 1):
        self.index_ref, self.mode, self.threads = index, IndexingMode(mode), threads

    def __repr__(self):
        return f"{self.index_ref!r}.indexer(mode={self.mode.value!r})"

    def build(self, it, work: Path) -> dict:
        raise NotImplementedError

    def index_bytes(self, work: Path) -> int:
        return folder_bytes(work)

    def index(self, it: Iterable[dict]) -> StagedIndex:
        idx = self.index_ref
        with staged(idx.path, self.mode) as work:
            started = time.time()
            fields = self.build(it, work)
            if not fields.get("doc_count"):
                raise ValueError("nothing to index: the input has no records")
            fields.update(build_seconds=round(time.time() - started, 3), index_bytes=self.index_bytes(work),
                          files=digest(work))
            write_meta(work, idx.build_meta(fields))
        idx.forget()
        return idx


class Retriever(pt.Transformer):
    """Top-``num_results`` search of an index for each row of a query frame.

    ``query_column`` is the column holding the queries (default: the index's, e.g. ``query_toks``
    for an index of ``toks``), so a pipeline can feed ``query_combined`` to an index of
    ``combined``. Subclasses list their engine settings and defaults in ``DEFAULTS`` (attributes
    of the same names; ``repr`` shows those that differ) and implement :meth:`search`."""

    FACTORY = "retriever"
    DEFAULTS: dict = {}

    def __init__(self, index, num_results: int = 1000, *, query_column: Union[str, Sequence[str], None] = None,
                 **settings):
        unknown = sorted(set(settings) - set(self.DEFAULTS))
        if unknown:
            raise TypeError(f"{type(self).__name__} has no setting {unknown}; it takes {sorted(self.DEFAULTS)}")
        self.index, self.num_results = index, check_num_results(num_results)
        self.query_column = query_column or index.query_column
        for name, value in {**self.DEFAULTS, **settings}.items():
            setattr(self, name, value)

    def settings(self) -> dict:
        return {name: getattr(self, name) for name in self.DEFAULTS}

    @property
    def query_columns(self) -> list[str]:
        return [self.query_column] if isinstance(self.query_column, str) else list(self.query_column)

    def __repr__(self):
        args = [f"num_results={self.num_results}"]
        args += [f"{k}={v!r}" for k, v in self.settings().items() if v != self.DEFAULTS[k]]
        if self.query_column != self.index.query_column:
            args.append(f"query_column={self.query_column!r}")
        return f"{self.index!r}.{self.FACTORY}({', '.join(args)})"

    def fuse_rank_cutoff(self, k):
        if k < self.num_results:
            return type(self)(self.index, k, query_column=self.query_column, **self.settings())

    def transform(self, inp: pd.DataFrame) -> pd.DataFrame:
        pt.validate.query_frame(inp, extra_columns=self.query_columns)
        if len(inp) == 0:
            return empty_results(inp)
        return self.search(inp, list(inp[self.query_column]) if isinstance(self.query_column, str) else None)

    def search(self, inp: pd.DataFrame, queries: Optional[list]) -> pd.DataFrame:
        """The result frame of a non-empty ``inp``; ``queries``: its query column's values."""
        raise NotImplementedError
