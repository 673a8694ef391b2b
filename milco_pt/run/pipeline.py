"""The build stages of the run layer, each a folder of the work folder found by what it depends on:
a corpus's :class:`Encoding` (vector shards, :mod:`milco_pt.sharding`, written while the corpus
streams by), a :class:`SparseIndex` built from the shards as they are read (any backend, optional
pruning), a :class:`TextIndex` (BM25, from the corpus stream) and a :class:`MemoryIndex` (ExactIndex
/ FlatIndex: held in memory, so bounded by the corpus, the documented exception). Memory of the
other stages is bounded by the batch and shard sizes. A stage killed at any point is finished by
the next run: finished shards are kept, an index is built in a staging folder and moved into place.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Iterator, Optional

from .models import Model
from .work import Work


@dataclass
class Corpus:
    """A corpus: a collection (its ``get_corpus_iter``), the name its fingerprint is remembered by
    (a dataset name; ``None`` for an unnamed collection) and its language (for BM25)."""

    dataset: object
    name: Optional[str] = None
    lang: Optional[str] = None

    def docs(self) -> Iterator[dict]:
        return iter(self.dataset.get_corpus_iter())

    _info: Optional[dict] = field(default=None, init=False, repr=False, compare=False)

    def info(self, work: Work, cached_only: bool = False) -> Optional[dict]:
        """``{fingerprint, documents}`` (one streaming pass the first time; see :meth:`Work.corpus`);
        kept for the process's later calls, so an unnamed corpus is not read again to find its stages."""
        if self._info is None:
            self._info = work.corpus(self.name, self.docs() if not cached_only else (), cached_only)
        return self._info


def _passages(docs, tokenizer, max_tokens: int):
    from ..maxp import SEP, split_passages
    for doc in docs:
        for i, passage in enumerate(split_passages(doc["text"], tokenizer, max_tokens)):
            yield f"{doc['docno']}{SEP}{i}", passage


@dataclass
class Encoding:
    """``model``'s document vectors of ``corpus`` (``passages``: of its passages of that many
    tokens, for MaxP), in shards of ``shard_size`` documents."""

    model: Model
    corpus: Corpus
    passages: Optional[int] = None
    shard_size: int = 10000
    #: seconds to wait for shards other processes are writing (None: encode what is missing here)
    wait: Optional[float] = field(default=None, compare=False)

    def settings(self, work: Work, cached_only: bool = False) -> Optional[dict]:
        info = self.corpus.info(work, cached_only)
        if info is None:
            return None
        return {"model": self.model.key(), "corpus": info["fingerprint"], "passages": self.passages,
                "stored": "views"}  # shards hold the views, not their combination (see stored_columns)

    def stored_columns(self) -> list[str]:
        """The columns written to the shards: MILCO's views, not their ``combined`` union, which
        :meth:`records` rebuilds (it would double the shards, ~8 KB a document for milco-mini)."""
        return [c for c in self.model.doc_columns() if c != "combined"]

    def folder(self, work: Work, create: bool = True):
        settings = self.settings(work, cached_only=not create)
        return None if settings is None else work.folder("encodings", f"{self.model.label}", settings, create)

    def done(self, work: Work) -> bool:
        from ..sharding import MANIFEST, missing_shards
        folder = self.folder(work, create=False)
        return folder is not None and (folder / MANIFEST).exists() and not missing_shards(folder)

    def build(self, work: Work, verbose: bool = True, rank: int = 0, world_size: int = 1):
        """Encode the shards not yet written (all of them the first time); ``rank`` of ``world_size``
        processes encodes only its own shards (``s % world_size == rank``, see :mod:`milco_pt.sharding`)."""
        from ..sharding import encode_shards, read_manifest
        if self.done(work):
            return self
        folder, started = self.folder(work), time.time()
        m = self.model.load()
        docs = self.corpus.docs()
        pairs = (_passages(docs, m.encoder.m_tokenizer, self.passages) if self.passages
                 else ((d["docno"], d.get("text", "")) for d in docs))
        if verbose:
            import pyterrier as pt
            pairs = pt.tqdm(pairs, desc=f"Reading documents for {self.model.label}", unit="doc")
        written = encode_shards(self.model.encode_fn(verbose), pairs, folder, self.shard_size, rank=rank,
                                world_size=world_size, info={"settings": self.settings(work)},
                                columns=self.stored_columns())
        manifest = read_manifest(folder)
        if written and manifest["shards"]:
            done = min(manifest["documents"], len(written) * self.shard_size)
            work.record_speed(self.model.label, done / max(time.time() - started, 1e-6))
        return self

    def records(self, work: Work) -> Iterator[dict]:
        """The encoded records, streamed from the shards: encoding what is missing first, or, with
        ``wait``, reading each shard as the encoding processes finish it."""
        from ..sharding import read_shards
        if self.wait is None:
            self.build(work)
        records = read_shards(self.folder(work), wait=self.wait)
        return _with_combined(records) if "combined" in self.model.doc_columns() else records


def _with_combined(records):
    from ..views import combine
    for rec in records:
        yield {**rec, "combined": combine(rec.get("toks"), rec.get("src_toks"))}


def _pruned(records, column: str, prune: Optional[tuple]):
    if not prune:
        yield from records
        return
    from ..pruning import mass_prune, top_k
    fn = {"mass": mass_prune, "top-k": top_k}[prune[0]]
    for rec in records:
        yield {**rec, column: fn(rec[column], prune[1])}


@dataclass
class SparseIndex:
    """An on-disk index of ``column`` of an encoding: ``backend`` (anserini, pisa, seismic) with its
    constructor ``options`` (e.g. ``scale``), documents optionally pruned (``("mass", 30)``,
    ``("top-k", 64)``); ``forward``: keep the forward store (only dual-view fusion reads it, and it
    is several times the engine's own files)."""

    encoding: Encoding
    column: str
    backend: str = "anserini"
    options: dict = field(default_factory=dict)
    prune: Optional[tuple] = None
    forward: bool = False

    def settings(self, work: Work, cached_only: bool = False) -> Optional[dict]:
        enc = self.encoding.settings(work, cached_only)
        return None if enc is None else {"encoding": enc, "column": self.column, "backend": self.backend,
                                         "options": self.options, "prune": list(self.prune or ()),
                                         "forward": self.forward}

    def path(self, work: Work, create: bool = True):
        settings = self.settings(work, cached_only=not create)
        if settings is None:
            return None
        label = f"{self.encoding.model.label}-{self.column}-{self.backend}"
        return work.folder("indexes", label, settings, create) / "index"

    def _index(self, path, verbose: bool = False):
        from ..index import sparse_index
        meta = {"model": self.encoding.model.label, "prune": list(self.prune or ())}
        return sparse_index(path, backend=self.backend, column=self.column, verbose=verbose, meta=meta, **self.options)

    def done(self, work: Work) -> bool:
        path = self.path(work, create=False)
        return path is not None and self._index(path).built()

    def build(self, work: Work, verbose: bool = True):
        idx = self._index(self.path(work), verbose)
        if not idx.built():
            idx.indexer(forward=self.forward).index(_pruned(self.encoding.records(work), self.column, self.prune))
        return idx


@dataclass
class TextIndex:
    """A BM25 index of the corpus text, in its language."""

    corpus: Corpus
    language: str = "en"

    def settings(self, work: Work, cached_only: bool = False) -> Optional[dict]:
        info = self.corpus.info(work, cached_only)
        return None if info is None else {"corpus": info["fingerprint"], "bm25": self.language}

    def path(self, work: Work, create: bool = True):
        settings = self.settings(work, cached_only=not create)
        return None if settings is None else work.folder("indexes", f"bm25-{self.language}", settings, create) / "index"

    def done(self, work: Work) -> bool:
        from ..index import BM25Index
        path = self.path(work, create=False)
        return path is not None and BM25Index(path, language=self.language, verbose=False).built()

    def build(self, work: Work, verbose: bool = True):
        from ..index import BM25Index
        idx = BM25Index(self.path(work), language=self.language, verbose=verbose)
        return idx if idx.built() else idx.index(self.corpus.docs())


@dataclass
class MemoryIndex:
    """An in-memory index of an encoding: ``exact`` (float64 sparse, ``columns``) or ``flat`` (dense);
    built from the shards each time it is needed (memory grows with the corpus)."""

    encoding: Encoding
    kind: str = "exact"
    columns: tuple = ("toks",)

    def settings(self, work: Work, cached_only: bool = False) -> Optional[dict]:
        enc = self.encoding.settings(work, cached_only)
        return None if enc is None else {"encoding": enc, "memory": self.kind, "columns": list(self.columns)}

    def done(self, work: Work) -> bool:
        return self.encoding.done(work)

    def build(self, work: Work, verbose: bool = True):
        from ..index import ExactIndex, FlatIndex
        idx = ExactIndex(list(self.columns), verbose=verbose) if self.kind == "exact" else FlatIndex(verbose=verbose)
        return idx.index(self.encoding.records(work))
