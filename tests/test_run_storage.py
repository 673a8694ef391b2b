"""What the run layer keeps on disk at scale: vector shards hold MILCO's two views (their combined
union is rebuilt on read, equal to the encoder's), and only the indexes that dual-view fusion reads
keep a forward store."""
import gzip
import json

import pandas as pd

from milco_pt.index.forward import FORWARD


def test_shards_hold_the_views_and_records_rebuild_the_combined_vector(milco, tmp_path):
    from milco_pt.run.models import Model
    from milco_pt.run.pipeline import Corpus, Encoding
    from milco_pt.run.work import Work
    from test_run_layer import collection
    ds = collection(n_docs=30)
    enc = Encoding(Model("milco", milco), Corpus(ds, None, "en"), shard_size=7)
    work = Work(tmp_path)
    records = list(enc.records(work))
    first = json.loads(gzip.open(next(enc.folder(work).glob("shard-*")), "rt").readline())
    assert sorted(first) == ["id", "src_toks", "toks"], "no combined column in the shards"
    docs = pd.DataFrame(list(ds.get_corpus_iter()))
    want = milco.doc_encoder(outputs=("pivot", "source", "combined"))(docs)
    assert [r["docno"] for r in records] == list(want["docno"])
    for rec, (_, row) in zip(records, want.iterrows()):
        assert rec["combined"].keys() == row["combined"].keys()
        assert all(abs(rec["combined"][t] - w) <= 1e-6 * max(1.0, abs(w)) for t, w in row["combined"].items())


def test_only_the_fused_system_keeps_forward_stores(tiny_path, tmp_path):
    from milco_pt.run.models import Models
    from milco_pt.run.pipeline import Corpus
    from milco_pt.run.runner import Runner
    from test_run_layer import collection
    ds = collection(n_queries=4, n_docs=40)
    runner = Runner(tmp_path, Models(milco=str(tiny_path), batch_size=8), num_results=10, verbose=False)
    corpus = Corpus(ds, None, "en")
    plain = runner.build(runner.system("milco", corpus))["index"]
    fused = runner.build(runner.system("milco-fused", corpus))
    assert not (plain.path / FORWARD).exists() and plain.meta()["forward_store"] is False
    assert all((idx.path / FORWARD).exists() for idx in fused.values())
    assert len(pd.read_csv(runner.run("milco-fused", corpus, ds.get_topics()), sep=" ", header=None)) > 0


def test_cli_index_without_forward_store(tmp_path):
    from conftest import run_cli
    vectors = tmp_path / "vecs.jsonl"
    vectors.write_text("".join(json.dumps({"id": f"d{i}", "vector": {"fox": 1.0 + i, f"w{i}": 0.5}}) + "\n"
                               for i in range(5)))
    r = run_cli("index", "--vectors", str(vectors), "--index", str(tmp_path / "idx"), "--no-forward-store")
    assert r.returncode == 0, r.stderr
    meta = json.loads((tmp_path / "idx" / "pt_meta.json").read_text())
    assert meta["forward_store"] is False and meta["doc_count"] == 5
    assert not (tmp_path / "idx" / FORWARD).exists()


def test_a_model_is_keyed_by_its_source_loaded_or_not(tiny_path, milco):
    """The same encodings whether the run layer loads the model or a table script hands it the copy it
    loaded from the same source (so ``experiment --encode-only --model M`` feeds ``table*.py --model M``)."""
    from milco_pt.run.models import Model
    before = Model("milco", str(tiny_path)).key()
    loaded_here = Model("milco", str(tiny_path))
    loaded_here.load()
    handed = Model("milco", str(tiny_path), loaded=milco)
    assert loaded_here.key() == before == handed.key() and handed.load() is milco
    assert "weights" in Model("milco", milco).key(), "a bare model object is keyed by its weights"


def test_demo_cli_can_skip_the_prebuilt_vectors(monkeypatch, tmp_path):
    import milco_pt.run.demo as demo
    from milco_pt.cli import main
    seen = []
    monkeypatch.setattr(demo, "run", lambda *a, **kw: seen.append(kw["prebuilt"]))
    main(["demo", "--out", str(tmp_path / "a"), "--no-prebuilt"])
    main(["demo", "--out", str(tmp_path / "b")])
    assert seen == [False, True]
