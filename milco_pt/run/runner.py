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
                 backend_options: Optional[dict] = None, verbose: bool = True,
                 wait_for_shards: Optional[float] = None):
        self.work = work if isinstance(work, Work) else Work(work)
        self.models = models or Models()
        self.num_results, self.threads, self.chunk, self.shard_size = num_results, threads, chunk, shard_size
        self.alpha, self.backend, self.backend_options = alpha, backend, dict(backend_options or {})
        self.verbose, self.wait_for_shards = verbose, wait_for_shards
        self._built: dict = {}

    def __repr__(self):
        return f"Runner({str(self.work.root)!r}, num_results={self.num_results}, backend={self.backend!r})"

    def context(self, corpus: Corpus) -> Context:
        return Context(self.models, corpus, self.num_results, self.threads, self.alpha, self.backend,
                       self.backend_options, self.shard_size)

    def system(self, name: str, corpus: Corpus) -> System:
        return system(name, self.context(corpus))

    def build(self, sys: System) -> dict:
        """Each stage of ``sys`` built (or found in the work folder); in-memory ones kept for reuse.
        With ``wait_for_shards``, indexes are built from the shards as other processes write them."""
        built = {}
        for label, stage in sys.stages.items():
            for enc in _encodings(stage):
                enc.wait = self.wait_for_shards
            key = digest({"stage": type(stage).__name__, **stage.settings(self.work)})
            if key not in self._built:
                if self.verbose:
                    print(f"{sys.name}: {label} index {'found' if stage.done(self.work) else 'building'}", flush=True)
                self._built[key] = stage.build(self.work, self.verbose)
            built[label] = self._built[key]
        return built

    def encode(self, names: Sequence[str], corpus: Corpus, rank: Optional[int] = None,
               world_size: Optional[int] = None) -> list:
        """Encode (only) the document vectors that systems ``names`` need, this process's shards of
        them when several processes share the work: ``rank`` / ``world_size`` default to torchrun's,
        accelerate's or SLURM's variables (:func:`~milco_pt.sharding.process_rank`), each process on
        its own GPU (``LOCAL_RANK``). A later run (or one started with ``wait_for_shards``) in the
        same work folder builds the indexes from the shards."""
        from ..sharding import process_rank
        own = process_rank()
        rank, world_size = (own[0] if rank is None else rank), (own[1] if world_size is None else world_size)
        _bind_local_gpu()
        done, seen = [], set()
        for name in names:
            for stage in self.system(name, corpus).stages.values():
                for enc in _encodings(stage):
                    key = digest(enc.settings(self.work))
                    if key not in seen:
                        seen.add(key)
                        if self.verbose:
                            print(f"{name}: encoding {enc.model.label} (rank {rank} of {world_size})", flush=True)
                        done.append(enc.build(self.work, self.verbose, rank, world_size).folder(self.work))
        return done

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


def encode_only(systems: Sequence[str], dataset, *, model=None, work=None, dataset_kwargs: Optional[dict] = None,
                rank: Optional[int] = None, world_size: Optional[int] = None, **runner_kwargs) -> list:
    """``milco-pt experiment --encode-only``: this process's shards of the document encodings that
    ``systems`` need on ``dataset`` (named as :func:`.experiment.run` names it), into the work folder
    where a later ``experiment`` or table script finds them. Launch one process per GPU with
    ``torchrun --nproc_per_node N`` (or a SLURM array with ``RANK`` / ``WORLD_SIZE`` set per task)."""
    from .experiment import corpus_of, named_dataset, runner
    ds, name = named_dataset(dataset, dataset_kwargs)
    return runner(model, work, **runner_kwargs).encode(systems, corpus_of(ds, name), rank, world_size)


def _encodings(stage) -> list:
    """The encoding a stage is built from (itself, for an encoding)."""
    if isinstance(stage, Encoding):
        return [stage]
    enc = getattr(stage, "encoding", None)
    return [enc] if isinstance(enc, Encoding) else []


def _bind_local_gpu():
    """Under torchrun/accelerate, make this process's GPU (``LOCAL_RANK``) the default CUDA device."""
    import os

    import torch
    if "LOCAL_RANK" in os.environ and torch.cuda.is_available():
        torch.cuda.set_device(int(os.environ["LOCAL_RANK"]) % torch.cuda.device_count())


def print_plan(plan: pd.DataFrame, corpus: Corpus):
    """The plan as a table, with the total estimated time."""
    with pd.option_context("display.width", 220, "display.max_columns", 20, "display.max_colwidth", 90):
        print(f"plan for {corpus.name or corpus.dataset!r}:")
        print(plan.to_string(index=False))
    todo = plan["estimate_s"].dropna().sum()
    if todo:
        print(f"estimated encoding time: {todo:.0f} s (from measured docs/s)")
