"""kill -9 of a process building an index (Anserini, PISA, Seismic), while it reads the documents or
once the engine writes: nothing half-written is ever at the final path, an overwritten index
survives a killed overwrite and searches as before, and a rerun cleans up and succeeds."""
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pyterrier as pt
import pytest

from milco_pt import sparse_index

SEISMIC = {"n_postings": 100, "centroid_fraction": 1.0, "min_cluster_size": 1, "summary_energy": 1.0}
BUILDER = textwrap.dedent("""
    import pathlib, sys, time
    from milco_pt import sparse_index
    backend, path, mode, marker, when = sys.argv[1:]
    def docs():
        for i in range(40):
            yield {"docno": f"n{i}", "toks": {"a": 1.0 + i, f"t{i}": 1.0}}
            if i == 20 and when == "reading":
                pathlib.Path(marker).touch()
                time.sleep(600)
        pathlib.Path(marker).touch()
    kw = %r if backend == "seismic" else {}
    sparse_index(path, backend=backend, verbose=False, **kw).indexer(mode=mode).index(docs())
""" % SEISMIC)
OLD = [{"docno": f"o{i}", "toks": {"a": 1.0 + i, "b": 0.5}} for i in range(5)]
QUERY = pd.DataFrame({"qid": ["q"], "query_toks": [{"a": 1.0}]})


def index_of(backend, path):
    return sparse_index(path, backend=backend, verbose=False, **(SEISMIC if backend == "seismic" else {}))


def kill_while_building(tmp_path, backend, path, mode, when):
    """Start a build of ``path`` in another process; kill -9 it once it wrote into its work folder
    (when the engine is fast, the build may end first: then it must have succeeded)."""
    marker = tmp_path / "started"
    script = tmp_path / "build.py"
    script.write_text(BUILDER)
    proc = subprocess.Popen([sys.executable, str(script), backend, str(path), mode, str(marker), when],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not (marker.exists() and list(path.parent.glob(f".{path.name}.*.building"))):
        if proc.poll() is not None:
            assert proc.returncode == 0 and when == "engine", "the build failed before it was killed"
            return
        assert time.monotonic() < deadline, "the build never started writing"
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()


def leftovers(folder: Path):
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


@pytest.mark.parametrize("when", ["reading", "engine"])
@pytest.mark.parametrize("backend", ["anserini", "pisa", "seismic"])
def test_killed_build_leaves_nothing_and_a_rerun_succeeds(tmp_path, backend, when):
    path = tmp_path / "out" / "idx"
    path.parent.mkdir()
    kill_while_building(tmp_path, backend, path, "create", when)
    if path.exists():  # killed after the move into place: then it is complete
        assert when == "engine" and len(pt.Artifact.load(str(path))) == 40
    else:
        assert leftovers(path.parent) != [], "the killed build's work folder is left"
        index = index_of(backend, path).index(OLD)
        assert index.retriever(num_results=3)(QUERY)["docno"].tolist() == ["o4", "o3", "o2"]
    assert leftovers(path.parent) == []


@pytest.mark.parametrize("when", ["reading", "engine"])
@pytest.mark.parametrize("backend", ["anserini", "pisa", "seismic"])
def test_killed_overwrite_keeps_the_previous_index(tmp_path, backend, when):
    path = tmp_path / "out" / "idx"
    before = index_of(backend, path).index(OLD).retriever(num_results=3)(QUERY)
    assert before["docno"].tolist() == ["o4", "o3", "o2"]
    kill_while_building(tmp_path, backend, path, "overwrite", when)
    loaded = pt.Artifact.load(str(path))
    if len(loaded) == 5:
        pd.testing.assert_frame_equal(loaded.retriever(num_results=3)(QUERY), before)
    else:  # killed after the move into place: the new index is complete
        assert when == "engine" and len(loaded) == 40
    rebuilt = index_of(backend, path).indexer(mode="overwrite").index(OLD[:2])
    assert rebuilt.retriever(num_results=3)(QUERY)["docno"].tolist() == ["o1", "o0"]
    assert leftovers(path.parent) == []
