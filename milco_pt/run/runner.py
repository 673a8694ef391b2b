"""The run layer's driver: named systems (:mod:`.systems`) on a corpus, through their stages
(:mod:`.pipeline`) into run files (:mod:`.runfile`), everything cached in a work folder (:mod:`.work`),
and the plan of a run without building anything (``--dry-run``).

    runner = Runner(work="~/work", models=Models(milco="omai-research/milco-650m"))
    corpus = Corpus(get("miracl/ja/dev"), "miracl/ja/dev", "ja")
    path = runner.run("milco", corpus, topics)           # a TREC run file, resumable
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Optional, Sequence

import pandas as pd

from .models import Models
from .pipeline import Corpus, Encoding, MemoryIndex
from .runfile import search
from .systems import Context, System, system
from .work import Work, digest


def topics_digest(topics: pd.DataFrame) -> str:
    h = hashlib.sha1()
    for qid, query in zip(topics["qid"], topics["query"]):
        h.update(f"{qid}\t{query}\n".encode("utf-8"))
    return h.hexdigest()[:16]


class Runner:
    """Builds what named systems need and searches with them, caching every stage under ``work``.

    ``num_results`` per query, ``threads`` per search, ``chunk`` queries per appended piece of a run
    file, ``shard_size`` documents per vector shard; ``backend`` and ``backend_options`` for the
    sparse indexes; ``alpha`` of milco-fused."""

    def __init__(self, work=None, models: Optional[Models] = None, num_results: int = 1000, threads: int = 1,
                 chunk: int = 1000, shard_size: int = 10000, alpha: float = 0.5, backend: str = "anserini",
                 backend_options: Optional[dict] = None, verbose: bool = True):
        self.work = work if isinstance(work, Work) else Work(work)
        self.models = models or Models()
        self.num_results, self.threads, self.chunk, self.shard_size = num_results, threads, chunk, shard_size
        self.alpha, self.backend, self.backend_options = alpha, backend, dict(backend_options or {})
        self.verbose = verbose
        self._built: dict = {}

    def __repr__(self):
        return f"Runner({str(self.work.root)!r}, num_results={self.num_results}, backend={self.backend!r})"

    def context(self, corpus: Corpus) -> Context:
        return Context(self.models, corpus, self.num_results, self.threads, self.alpha, self.backend,
                       self.backend_options, self.shard_size)

    def system(self, name: str, corpus: Corpus) -> System:
        return system(name, self.context(corpus))

    def build(self, sys: System) -> dict:
        """Each stage of ``sys`` built (or found in the work folder); in-memory ones kept for reuse."""
        built = {}
        for label, stage in sys.stages.items():
            key = digest({"stage": type(stage).__name__, **stage.settings(self.work)})
            if key not in self._built:
                if self.verbose:
                    print(f"{sys.name}: {label} index {'found' if stage.done(self.work) else 'building'}", flush=True)
                self._built[key] = stage.build(self.work, self.verbose)
            built[label] = self._built[key]
        return built

    def pipeline(self, name: str, corpus: Corpus):
        """The search pipeline of system ``name`` on ``corpus``, its stages built."""
        sys = self.system(name, corpus)
        return sys.make(self.build(sys))

    def run_settings(self, sys: System, topics: pd.DataFrame, cached_only: bool = False) -> Optional[dict]:
        stages = {label: stage.settings(self.work, cached_only) for label, stage in sys.stages.items()}
        if any(s is None for s in stages.values()):
            return None
        return {"system": sys.name, "stages": stages, "query": sys.settings, "num_results": self.num_results,
                "topics": topics_digest(topics)}

    def run(self, name: str, corpus: Corpus, topics: pd.DataFrame) -> Path:
        """The TREC run file of system ``name`` on ``corpus`` for ``topics``: found in the work folder,
        or searched (resuming a killed search at its first unfinished chunk)."""
        sys = self.system(name, corpus)
        path = self.work.run_file(name, self.run_settings(sys, topics))
        if not path.exists():
            search(sys.make(self.build(sys)), topics[["qid", "query"]], path, self.chunk, tag=name,
                   verbose=self.verbose)
        return path

    def plan(self, names: Sequence[str], corpus: Corpus, topics: pd.DataFrame) -> pd.DataFrame:
        """What a run of ``names`` would find and build, with corpus sizes and estimated encoding
        times where known; builds nothing and reads no corpus."""
        info = corpus.info(self.work, cached_only=True)
        docs = info["documents"] if info else None
        rows = []
        for name in names:
            sys = self.system(name, corpus)
            for label, stage in sys.stages.items():
                enc = getattr(stage, "encoding", None)
                if isinstance(enc, Encoding):
                    rows.append(self._encoding_row(name, enc, docs))
                done = stage.done(self.work)
                where = stage.path(self.work, create=False) if hasattr(stage, "path") else None
                rows.append({"system": name, "stage": f"index ({label})", "what": type(stage).__name__,
                             "status": ("in memory, from the encoding" if isinstance(stage, MemoryIndex)
                                        else "exists" if done else "to build"),
                             "documents": docs, "estimate_s": None, "path": str(where or "")})
            settings = self.run_settings(sys, topics, cached_only=True)
            path = self.work.root / "runs" / f"{name}-{digest(settings)}.run" if settings else None
            rows.append({"system": name, "stage": "search", "what": f"{len(topics)} queries",
                         "status": "exists" if path and path.exists() else "to run", "documents": docs,
                         "estimate_s": None, "path": str(path or "")})
        return pd.DataFrame(rows).drop_duplicates(subset=["system", "stage", "what", "path"])

    def _encoding_row(self, name: str, enc: Encoding, docs: Optional[int]) -> dict:
        done = enc.done(self.work)
        speed = self.work.speed(enc.model.label)
        return {"system": name, "stage": "encoding", "what": enc.model.label + (" passages" if enc.passages else ""),
                "status": "exists" if done else "to build", "documents": docs,
                "estimate_s": None if done or not (docs and speed) else round(docs / speed, 1),
                "path": str(enc.folder(self.work, create=False) or "corpus not read yet")}


def print_plan(plan: pd.DataFrame, corpus: Corpus):
    """The plan as a table, with the total estimated time."""
    with pd.option_context("display.width", 220, "display.max_columns", 20, "display.max_colwidth", 90):
        print(f"plan for {corpus.name or corpus.dataset!r}:")
        print(plan.to_string(index=False))
    todo = plan["estimate_s"].dropna().sum()
    if todo:
        print(f"estimated encoding time: {todo:.0f} s (from measured docs/s)")
