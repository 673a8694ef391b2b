"""Ad-hoc comparisons: named systems (:mod:`.systems`) on a named collection, each searched into a
TREC run file through the run layer (encodings, indexes and run files cached in the work folder),
evaluated from the run files with ir_measures and a paired t-test against a chosen baseline, as
``pt.Experiment`` reports them (what ``milco-pt experiment`` runs). A system may also be a ready
pipeline (searched the same way, not cached).
"""
from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Optional, Sequence

import pandas as pd

from .models import Models
from .pipeline import Corpus
from .runfile import compare, evaluate, search
from .runner import Runner, print_plan

DEFAULT_MEASURES = ("nDCG@10", "R@100", "RR@10")


def measures(names: Sequence):
    """ir_measures objects from names such as ``nDCG@10``, ``R@100``, ``RR@10``, ``AP`` (objects pass through)."""
    import ir_measures
    return [ir_measures.parse_measure(n) if isinstance(n, str) else n for n in names]


def corpus_of(dataset, name: Optional[str] = None) -> Corpus:
    """A collection's corpus for the run layer, remembered under its dataset ``name``."""
    return Corpus(dataset, name, dataset.get_corpus_lang() if hasattr(dataset, "get_corpus_lang") else None)


def named_dataset(dataset, dataset_kwargs: Optional[dict] = None):
    """``(collection, name its corpus is remembered by)`` of a :func:`milco_pt.datasets.get` name (or a
    collection object, unnamed)."""
    if not isinstance(dataset, str):
        return dataset, None
    from ..datasets import get
    kwargs = json.dumps(dataset_kwargs, sort_keys=True, default=str) if dataset_kwargs else ""
    return get(dataset, **(dataset_kwargs or {})), dataset + kwargs


def runner(model=None, work=None, alpha: float = 0.5, m3: str = "BAAI/bge-m3", splade: str = "naver/splade-v3",
           e5: str = "intfloat/multilingual-e5-small", batch_size: int = 32, num_results: int = 1000,
           threads: int = 1, chunk: int = 1000, shard_size: int = 10000, verbose: bool = False, loaded=None,
           **options) -> Runner:
    """A :class:`~.runner.Runner` with the models named as ``milco-pt experiment`` names them; ``loaded``:
    ``model`` (a hub id or folder) already loaded, used without changing the cache keys."""
    models = Models(milco=model, m3=m3, splade=splade, e5=e5, batch_size=batch_size, milco_loaded=loaded)
    return Runner(work, models, num_results=num_results, threads=threads, chunk=chunk, shard_size=shard_size,
                  alpha=alpha, verbose=verbose, **options)


def run(systems: Sequence, dataset, *, model=None, baseline: Optional[str] = None,
        measure_names: Sequence = DEFAULT_MEASURES, variant: Optional[str] = None, out: Optional[str] = None,
        dataset_kwargs: Optional[dict] = None, work=None, dry_run: bool = False, **runner_kwargs) -> pd.DataFrame:
    """The table of ``systems`` (names, or ready pipelines) on ``dataset`` (a :func:`milco_pt.datasets.get`
    name or a collection object): one row per system, the mean of each measure and, with ``baseline``,
    paired t-tests against it. ``model`` is a MILCO hub id / folder, or a loaded :class:`~milco_pt.Milco`;
    measures are names (``nDCG@10``) or ir_measures objects (e.g. MKQA's answer recall); ``work`` is
    the cache folder (default: :func:`~.work.default_work`). ``dry_run``: print and return the plan."""
    ds, name = named_dataset(dataset, dataset_kwargs)
    if baseline is not None and baseline not in list(systems):
        raise ValueError(f"the baseline {baseline!r} is not among the systems {list(systems)} (--baseline)")
    r = runner(model, work, **runner_kwargs)
    corpus = corpus_of(ds, name)
    topics = ds.get_topics(variant)[["qid", "query"]]
    named = [s for s in systems if isinstance(s, str)]
    if dry_run:
        plan = r.plan(named, corpus, topics)
        print_plan(plan, corpus)
        return plan
    for s in named:
        r.system(s, corpus)  # unknown names fail before anything is built
    qrels = ds.get_qrels(variant)
    per_query = {}
    with tempfile.TemporaryDirectory() as tmp:
        for i, s in enumerate(systems):
            label = s if isinstance(s, str) else f"system {i}"
            path = r.run(s, corpus, topics) if isinstance(s, str) else search(
                s, topics, Path(tmp) / f"system-{i}.run", r.chunk, verbose=False)
            per_query[label] = evaluate(path, qrels, measure_names, topics["qid"])
    res = compare(per_query, baseline)
    if out:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        res.to_csv(out, index=False)
    return res
