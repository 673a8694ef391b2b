"""Search into TREC run files and evaluation from them, so that no stage holds a whole run in one frame.

:func:`search` runs a pipeline over the topics in chunks and appends each chunk's results to the
run file (``qid Q0 docno rank score tag``); a killed search restarts at the first unfinished chunk
(the file is cut back to the last finished one, recorded in ``<run>.progress``), and the run file
only takes its final name when complete. :func:`evaluate` streams a run file through ir_measures a
batch of queries at a time; :func:`compare` is ``pt.Experiment``'s table with paired t-tests.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator, Optional, Sequence

import pandas as pd
import pyterrier as pt

from .work import read_json, write_json


def _lines(res: pd.DataFrame, tag: str) -> str:
    if len(res) == 0:
        return ""
    res = res.sort_values(["qid", "rank"], kind="stable")
    return "".join(f"{q} Q0 {d} {int(r)} {float(s)!r} {tag}\n"
                   for q, d, r, s in zip(res["qid"], res["docno"], res["rank"], res["score"]))


def search(pipeline, topics: pd.DataFrame, path, chunk: int = 1000, tag: str = "milco-pt",
           verbose: bool = True) -> Path:
    """The run file of ``pipeline`` over ``topics`` (``qid``, ``query``, ...), ``chunk`` queries at
    a time; an existing complete file is returned as it is."""
    pt.validate.query_frame(topics, extra_columns=["query"])
    if chunk < 1:
        raise ValueError(f"chunk must be at least 1, not {chunk}")
    path = Path(path)
    if path.exists():
        return path
    partial, progress = path.with_name(path.name + ".partial"), path.with_name(path.name + ".progress")
    state = read_json(progress) if partial.exists() else None
    if not state or state.get("chunk") != chunk or state.get("queries") != len(topics):
        state = {"chunk": chunk, "queries": len(topics), "done": 0, "bytes": 0}
    chunks = range(state["done"], -(-len(topics) // chunk))
    with open(partial, "r+b" if partial.exists() else "wb") as f:
        f.truncate(state["bytes"])
        f.seek(state["bytes"])
        for i in (pt.tqdm(chunks, desc=f"Searching {path.stem}", unit="chunk") if verbose else chunks):
            f.write(_lines(pipeline(topics.iloc[i * chunk:(i + 1) * chunk]), tag).encode("utf-8"))
            f.flush()
            os.fsync(f.fileno())
            write_json(progress, {**state, "done": i + 1, "bytes": f.tell()})
    os.replace(partial, path)
    progress.unlink(missing_ok=True)
    return path


def read_run(path, qids: Optional[set] = None) -> pd.DataFrame:
    """A run file (or the queries ``qids`` of it) as a PyTerrier result frame."""
    rows = [line.split() for line in open(path, encoding="utf-8")]
    df = pd.DataFrame([(r[0], r[2], int(r[3]), float(r[4])) for r in rows if qids is None or r[0] in qids],
                      columns=["qid", "docno", "rank", "score"])
    return df


def _batches(path, qids: set, size: int) -> Iterator[list]:
    """The run file's lines of ``qids`` as ir_measures ScoredDocs, ``size`` queries per batch."""
    import ir_measures
    batch, seen = [], set()
    with open(path, encoding="utf-8") as f:
        for line in f:
            qid, _, docno, _, score, _ = line.split()
            if qid not in qids:
                continue
            if qid not in seen and len(seen) == size:
                yield batch
                batch, seen = [], set()
            seen.add(qid)
            batch.append(ir_measures.ScoredDoc(qid, docno, float(score)))
    if batch:
        yield batch


def measure_names(measures: Sequence) -> list[str]:
    return [m if isinstance(m, str) else str(m) for m in measures]


def evaluate(path, qrels: pd.DataFrame, measures: Sequence, qids: Optional[Sequence] = None,
             batch: int = 10000) -> pd.DataFrame:
    """Per-query values (rows: qid; columns: measure names) of a run file, over the queries ``qids``
    (default: all in ``qrels``) that have qrels; a query without results scores 0 (as trec_eval -c)."""
    import ir_measures
    from .experiment import measures as parse
    objects, names = parse(measures), measure_names(measures)
    by_name = {str(o): n for o, n in zip(objects, names)}
    judged = set(qrels["qid"].astype(str))
    wanted = judged if qids is None else judged & {str(q) for q in qids}
    q = qrels.assign(qid=qrels["qid"].astype(str), docno=qrels["docno"].astype(str))
    q = q.rename(columns={"qid": "query_id", "docno": "doc_id", "label": "relevance"})
    q = q[q["query_id"].isin(wanted)][["query_id", "doc_id", "relevance"]].astype({"relevance": int})
    values = {n: {} for n in names}
    for part in _batches(path, wanted, batch):
        ids = {d.query_id for d in part}
        for m in ir_measures.iter_calc(objects, q[q["query_id"].isin(ids)], part):
            values[by_name[str(m.measure)]][m.query_id] = m.value
    order = sorted(wanted)
    return pd.DataFrame({n: [values[n].get(qid, 0.0) for qid in order] for n in names},
                        index=pd.Index(order, name="qid"))


MIN_QUERIES_FOR_TESTS = 10


def compare(per_query: dict, baseline: Optional[str] = None) -> pd.DataFrame:
    """``pt.Experiment``'s table from per-query values of each system (:func:`evaluate`): the mean of
    each measure and, against ``baseline``, queries better (``+``) and worse (``-``) and the paired
    t-test's p-value; with fewer than :data:`MIN_QUERIES_FOR_TESTS` queries the p-values are left
    out with a warning (a t-test on a handful of queries says nothing)."""
    from scipy.stats import ttest_rel
    rows = []
    base = per_query[baseline] if baseline is not None else None
    if base is not None and len(base) < MIN_QUERIES_FOR_TESTS:
        import warnings
        warnings.warn(f"{len(base)} queries: fewer than {MIN_QUERIES_FOR_TESTS}, so no significance tests "
                      "(p-values left empty)", UserWarning, stacklevel=2)
    for name, df in per_query.items():
        row = {"name": name, **{m: float(df[m].mean()) if len(df) else 0.0 for m in df.columns}}
        if base is not None:
            for m in df.columns:
                a, b = df[m].align(base[m], join="inner")
                same = name == baseline or len(a) < MIN_QUERIES_FOR_TESTS or bool((a == b).all())
                row[f"{m} +"] = None if name == baseline else int((a > b).sum())
                row[f"{m} -"] = None if name == baseline else int((a < b).sum())
                row[f"{m} p-value"] = None if same else float(ttest_rel(a, b).pvalue)
        rows.append(row)
    return pd.DataFrame(rows)
