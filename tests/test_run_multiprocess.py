"""Several processes through the run layer: each encodes its own shards (rank / world size from the
launcher's variables, as under torchrun or a SLURM array), and the process that builds the index
reads the shards as they are finished; the run file is the same bytes as a single process's."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = """
import sys
sys.path.insert(0, {tests!r})
from test_run_layer import collection
from milco_pt.run.models import Models
from milco_pt.run.pipeline import Corpus
from milco_pt.run.runner import Runner
ds = collection()
runner = Runner({work!r}, Models(milco={model!r}, batch_size=4), num_results=20, chunk=4, shard_size=25,
                verbose=False, wait_for_shards={wait!r})
corpus = Corpus(ds, None, "en")
if {encode_only!r}:
    print(runner.encode(["milco"], corpus)[0])
else:
    print(runner.run("milco", corpus, ds.get_topics()))
"""


def launch(tiny_path, work, encode_only=False, wait=None, rank=None, world=None):
    code = SCRIPT.format(tests=str(Path(__file__).parent), work=str(work), model=str(tiny_path),
                         encode_only=encode_only, wait=wait)
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK")}
    if rank is not None:
        env.update(RANK=str(rank), WORLD_SIZE=str(world), LOCAL_RANK=str(rank))
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)


def finish(proc) -> str:
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err[-3000:]
    return out.strip().splitlines()[-1]


def test_ranks_encode_their_shards_and_the_index_waits_for_them(tiny_path, tmp_path):
    from milco_pt.run.models import Models
    from milco_pt.run.pipeline import Corpus
    from milco_pt.run.runner import Runner
    from test_run_layer import collection
    ds = collection()
    single = Runner(tmp_path / "single", Models(milco=str(tiny_path), batch_size=4), num_results=20, chunk=4,
                    shard_size=25, verbose=False).run("milco", Corpus(ds, None, "en"), ds.get_topics())
    work = tmp_path / "multi"
    folder = Path(finish(launch(tiny_path, work, encode_only=True, rank=1, world=2)))
    shards = sorted(p.name for p in folder.glob("shard-*"))
    assert shards == ["shard-00001.jsonl.gz", "shard-00003.jsonl.gz", "shard-00005.jsonl.gz",
                      "shard-00007.jsonl.gz"], "rank 1 of 2 writes the odd shards of 200 documents in 25s"
    waiting = launch(tiny_path, work, wait=300)  # builds the index from the shards as they come
    finish(launch(tiny_path, work, encode_only=True, rank=0, world=2))
    multi = Path(finish(waiting))
    assert len(list(folder.glob("shard-*"))) == 8
    assert multi.read_bytes() == single.read_bytes()


def test_waiting_for_a_shard_that_never_comes_names_it(tmp_path):
    import json

    from milco_pt.sharding import MANIFEST, read_shards
    (tmp_path / MANIFEST).write_text(json.dumps({"documents": 3, "shard_size": 2, "shards": 2}))
    with pytest.raises(TimeoutError, match=r"shard 0.*rank s % world size"):
        list(read_shards(tmp_path, wait=0.2, poll=0.05))
    with pytest.raises(FileNotFoundError, match="lacks 2 shards"):
        list(read_shards(tmp_path))
