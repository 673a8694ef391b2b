"""The registry of named systems: each name maps to a builder that says which stages (encodings and
indexes, :mod:`.pipeline`) the system needs and how its search pipeline is made from them.

  milco        MILCO, both views, one combined impact index (the authors' plain sum)
  milco-pivot  MILCO, pivot view only
  milco-fused  MILCO, one index per view fused with ``alpha``
  milco-exact  MILCO, both views scored exactly (float weights, in memory)
  milco-maxp   MILCO on 512-token passages, a document scored by its best passage (MLDR)
  milco-mini   milco-mini, both views;  milco-mini-pivot: its pivot view only
  bm25         BM25 with the documents' language analyzer
  m3-sparse, m3-dense, splade, e5   the baselines (hub ids or folders: Models(m3=, splade=, e5=))
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional

from .models import Models
from .pipeline import Corpus, Encoding, MemoryIndex, SparseIndex, TextIndex


@dataclass
class Context:
    """What every system is built from: the models, the corpus and the search settings."""

    models: Models
    corpus: Corpus
    num_results: int = 1000
    threads: int = 1
    alpha: float = 0.5
    backend: str = "anserini"
    backend_options: dict = field(default_factory=dict)
    shard_size: int = 10000

    def encoding(self, kind: str, passages: Optional[int] = None) -> Encoding:
        return Encoding(self.models[kind], self.corpus, passages, self.shard_size)

    def sparse(self, kind: str, column: str, passages: Optional[int] = None, forward: bool = False) -> SparseIndex:
        return SparseIndex(self.encoding(kind, passages), column, self.backend, dict(self.backend_options),
                           forward=forward)

    def retriever(self, index, **kwargs):
        """``index.retriever(num_results, threads)`` where the engine takes threads."""
        if self.threads > 1 and not hasattr(index, "matrix"):
            kwargs["threads"] = self.threads
        return index.retriever(self.num_results, **kwargs)


@dataclass
class System:
    """A named system: its stages (name -> stage) and ``make(built stages) -> pipeline``; ``settings``:
    what else changes its results (query side)."""

    name: str
    stages: dict
    make: Callable[[dict], object]
    settings: dict = field(default_factory=dict)


def _milco(kind: str, views: Optional[tuple] = None):
    """A MILCO model searched on one impact index: both views combined, or the pivot view."""
    column = "toks" if views == ("pivot",) else "combined"

    def build(ctx: Context, name: str) -> System:
        m = ctx.models[kind]

        def make(built):
            q = m.load().query_encoder(views=views) if views else m.load().query_encoder(outputs="combined")
            return q >> ctx.retriever(built["index"])
        return System(name, {"index": ctx.sparse(kind, column)}, make, {"model": m.key(), "views": views})
    return build


def _fused(ctx: Context, name: str) -> System:
    from ..fusion import DualViewFusion
    m = ctx.models["milco"]
    stages = {"pivot": ctx.sparse("milco", "toks", forward=True), "source": ctx.sparse("milco", "src_toks", forward=True)}

    def make(built):
        fusion = DualViewFusion(built["pivot"], built["source"], alpha=ctx.alpha, num_results=ctx.num_results,
                                threads=ctx.threads)
        return m.load().query_encoder() >> fusion
    return System(name, stages, make, {"model": m.key(), "alpha": ctx.alpha})


def _exact(ctx: Context, name: str) -> System:
    m = ctx.models["milco"]
    columns = ("toks", "src_toks") if len(m.load().views) == 2 else ("toks",)
    stage = MemoryIndex(ctx.encoding("milco"), "exact", columns)
    return System(name, {"index": stage}, lambda built: m.load().query_encoder() >> built["index"].retriever(
        ctx.num_results), {"model": m.key()})


def _maxp(ctx: Context, name: str) -> System:
    from ..maxp import MaxP
    m = ctx.models["milco"]
    tokens = m.load().doc_max_length
    stage = ctx.sparse("milco", "combined", passages=tokens)
    return System(name, {"index": stage}, lambda built: m.load().query_encoder(outputs="combined") >> ctx.retriever(
        built["index"]) >> MaxP(num_results=min(ctx.num_results, 100)), {"model": m.key(), "passages": tokens})


def _bm25(ctx: Context, name: str) -> System:
    lang = ctx.corpus.lang or "en"
    return System(name, {"index": TextIndex(ctx.corpus, lang)}, lambda built: ctx.retriever(built["index"]))


def _baseline(kind: str):
    """A baseline encoder on an impact index (sparse) or a flat in-memory index (dense)."""
    def build(ctx: Context, name: str) -> System:
        m = ctx.models[kind]
        stage = (MemoryIndex(ctx.encoding(kind), "flat") if kind in ("m3-dense", "e5")
                 else ctx.sparse(kind, "toks"))
        return System(name, {"index": stage}, lambda built: m.load().query_encoder() >> ctx.retriever(built["index"]),
                      {"model": m.key()})
    return build


SYSTEMS: dict[str, Callable[[Context, str], System]] = {
    "milco": _milco("milco"), "milco-pivot": _milco("milco", ("pivot",)), "milco-fused": _fused,
    "milco-exact": _exact, "milco-maxp": _maxp, "milco-mini": _milco("milco-mini"),
    "milco-mini-pivot": _milco("milco-mini", ("pivot",)), "bm25": _bm25, "m3-sparse": _baseline("m3-sparse"),
    "m3-dense": _baseline("m3-dense"), "splade": _baseline("splade"), "e5": _baseline("e5"),
}


def system(name: str, ctx: Context) -> System:
    """The system registered as ``name``, for the corpus and settings of ``ctx``."""
    if name not in SYSTEMS:
        raise ValueError(f"unknown system {name!r}: use one of {', '.join(SYSTEMS)} (--systems)")
    return SYSTEMS[name](ctx, name)
