"""The run layer: a corpus streams through encoding (shards), indexing (from the shards) and a chunked
search into a run file, all cached in a work folder; a run killed (kill -9) while encoding or while
indexing ends, when rerun, in the same run file, byte for byte, without re-encoding finished shards."""
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pyterrier as pt
import pytest

from milco_pt.run.runfile import compare, evaluate, read_run, search

SCRIPT = """
import sys
sys.path.insert(0, {tests!r})
from test_run_layer import collection
from milco_pt.run.models import Models
from milco_pt.run.pipeline import Corpus
from milco_pt.run.runner import Runner
ds = collection()
runner = Runner({work!r}, Models(milco={model!r}, batch_size=2), num_results=20, chunk=4, shard_size=4, verbose=False)
print(runner.run("milco", Corpus(ds, None, "en"), ds.get_topics()))
"""


def collection(n_queries: int = 12, n_docs: int = 200):
    from milco_pt.datasets.collection import Collection
    from milco_pt.testing.fixtures import ddtp_sample
    docs, topics, qrels = ddtp_sample("de", "en", n_queries, n_docs)
    return Collection("de-en sample", topics, qrels, lambda: iter(docs.to_dict("records")), corpus_lang="en")


def launch(tiny_path, work):
    code = SCRIPT.format(tests=str(Path(__file__).parent), work=str(work), model=str(tiny_path))
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(proc) -> str:
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err[-3000:]
    return out.strip().splitlines()[-1]


def kill_when(proc, ready, timeout=300):
    deadline = time.time() + timeout
    while not ready() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.02)
    assert proc.poll() is None, "the run ended before the kill: " + proc.stderr.read()[-2000:]
    proc.send_signal(signal.SIGKILL)
    proc.wait()


@pytest.fixture(scope="module")
def reference(tiny_path, tmp_path_factory):
    """An uninterrupted run: its run file's bytes."""
    tmp = tmp_path_factory.mktemp("whole")
    path = finish(launch(tiny_path, tmp / "work"))
    return open(path, "rb").read()


def test_killed_while_encoding_resumes_to_the_same_run(tiny_path, tmp_path, reference):
    work = tmp_path / "work"
    proc = launch(tiny_path, work)
    kill_when(proc, lambda: len(list(work.glob("encodings/*/shard-*"))) >= 3)
    kept = {p.name: p.stat().st_mtime_ns for p in work.glob("encodings/*/shard-*")}
    assert 3 <= len(kept) < 50 and not list(work.glob("encodings/*/manifest.json")), "killed mid-encoding"
    path = finish(launch(tiny_path, work))
    assert open(path, "rb").read() == reference
    now = {p.name: p.stat().st_mtime_ns for p in work.glob("encodings/*/shard-*")}
    assert len(now) == 50 and all(now[name] == stamp for name, stamp in kept.items()), "finished shards kept"


def test_killed_while_indexing_resumes_to_the_same_run(tiny_path, tmp_path, reference):
    work = tmp_path / "work"
    proc = launch(tiny_path, work)
    kill_when(proc, lambda: bool(list(work.glob("indexes/*/.index.*.building"))))
    assert list(work.glob("encodings/*/manifest.json")) and not list(work.glob("indexes/*/index/pt_meta.json"))
    shards = {p.name: p.stat().st_mtime_ns for p in work.glob("encodings/*/shard-*")}
    path = finish(launch(tiny_path, work))
    assert open(path, "rb").read() == reference
    assert {p.name: p.stat().st_mtime_ns for p in work.glob("encodings/*/shard-*")} == shards, "nothing re-encoded"
    assert not list(work.glob("indexes/*/.index.*.building")), "the killed build's folder is cleaned"


class Flaky(pt.Transformer):
    """A retriever that fails once, after ``fail_after`` calls, as a killed process would stop."""

    def __init__(self, fail_after=None):
        self.fail_after, self.calls = fail_after, []

    def transform(self, topics):
        if self.fail_after is not None and len(self.calls) == self.fail_after:
            self.fail_after = None
            raise KeyboardInterrupt
        self.calls.append(list(topics["qid"]))
        return pd.DataFrame([{"qid": q, "query": t, "docno": f"d{j}", "score": 1.0 / (j + 1), "rank": j}
                             for q, t in zip(topics["qid"], topics["query"]) for j in range(3)])


def test_search_resumes_at_the_first_unfinished_chunk(tmp_path):
    topics = pd.DataFrame({"qid": [f"q{i}" for i in range(10)], "query": ["a b"] * 10})
    whole = search(Flaky(), topics, tmp_path / "whole.run", chunk=3, verbose=False)
    flaky = Flaky(fail_after=2)
    with pytest.raises(KeyboardInterrupt):
        search(flaky, topics, tmp_path / "r.run", chunk=3, verbose=False)
    assert not (tmp_path / "r.run").exists() and (tmp_path / "r.run.partial").exists()
    with open(tmp_path / "r.run.partial", "ab") as f:
        f.write(b"q6 Q0 half-written")  # a kill mid-write leaves a torn line: cut off on resume
    search(flaky, topics, tmp_path / "r.run", chunk=3, verbose=False)
    assert flaky.calls == [["q0", "q1", "q2"], ["q3", "q4", "q5"], ["q6", "q7", "q8"], ["q9"]]
    assert (tmp_path / "r.run").read_bytes() == whole.read_bytes()
    assert not (tmp_path / "r.run.progress").exists()
    assert len(read_run(whole)) == 30 and read_run(whole, {"q1"})["docno"].tolist() == ["d0", "d1", "d2"]


def test_evaluation_from_run_files_matches_pt_experiment(tmp_path):
    topics = pd.DataFrame({"qid": ["1", "2", "3"], "query": ["x", "y", "z"]})
    qrels = pd.DataFrame({"qid": ["1", "2", "3", "3"], "docno": ["a", "b", "c", "a"], "label": [1, 1, 1, 0]})
    runs = {"A": pd.DataFrame({"qid": ["1", "1", "2", "2"], "docno": ["a", "b", "c", "b"], "score": [2.0, 1, 2, 1]}),
            "B": pd.DataFrame({"qid": ["1", "1", "2", "3"], "docno": ["b", "a", "b", "c"], "score": [2.0, 1, 2, 1]})}
    runs = {k: pt.model.add_ranks(v.assign(query="q")) for k, v in runs.items()}
    per_query = {}
    for name, res in runs.items():
        path = search(pt.Transformer.from_df(res), topics, tmp_path / f"{name}.run", chunk=2, verbose=False)
        per_query[name] = evaluate(path, qrels, ["nDCG@10", "RR@10"], topics["qid"])
    assert per_query["A"].loc["3", "RR@10"] == 0.0, "a query without results scores 0"
    with pytest.warns(UserWarning, match="3 queries: fewer than 10, so no significance tests"):
        ours = compare(per_query, baseline="A").set_index("name")
    assert ours.loc["A", "RR@10"] == pytest.approx((1 + 0.5 + 0) / 3)
    assert ours.loc["B", "RR@10"] == pytest.approx((0.5 + 1 + 1) / 3)
    assert ours.loc["B", "RR@10 +"] == 2 and ours.loc["B", "RR@10 -"] == 1
    assert pd.isna(ours.loc["B", "RR@10 p-value"])
    from scipy.stats import ttest_rel
    a = pd.DataFrame({"RR@10": [1, 0.5, 0, 1, 0.2, 0.3, 1, 0, 0.5, 0.25, 1, 0]}, index=[str(i) for i in range(12)])
    b = a.assign(**{"RR@10": [1, 1, 0.5, 1, 0.5, 0.3, 0.5, 0.2, 1, 0.5, 1, 0.1]})
    table = compare({"A": a, "B": b}, baseline="A").set_index("name")
    assert table.loc["B", "RR@10 p-value"] == pytest.approx(ttest_rel(b["RR@10"], a["RR@10"]).pvalue)
    from pyterrier.measures import RR, nDCG
    theirs = pt.Experiment([pt.Transformer.from_df(runs["B"])], topics, qrels, [nDCG @ 10, RR @ 10], names=["B"])
    assert ours.loc["B", "nDCG@10"] == pytest.approx(theirs["nDCG@10"][0]), "every query answered: pt's mean"
