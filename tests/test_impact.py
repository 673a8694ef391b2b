import random

import pandas as pd
import pyterrier as pt
import pytest

from milco_pt import ExactIndex
from milco_pt.index.anserini import ImpactIndex, quantize

UNICODE_TERMS = ["▁hello", "▁Быстрая", "мир", "世界", "敏捷的", "مرحبا", "빠른", "##ing", "e_dog",
                 "m_▁Hund", "m_</s>", "Ω", "x"]


def random_docs(rng, n, terms):
    return pd.DataFrame([{"docno": f"d{i}", "toks": {t: rng.random() * 3 for t in rng.sample(terms, 6)}}
                         for i in range(n)])


def random_queries(rng, n, terms):
    return pd.DataFrame([{"qid": f"q{i}", "query_toks": {t: rng.random() * 3 for t in rng.sample(terms, 4)}}
                         for i in range(n)])


def quantized(frame, col, scale):
    return frame.assign(**{col: [quantize(v, scale) for v in frame[col]]})


@pytest.fixture(scope="module")
def collection(tmp_path_factory):
    rng = random.Random(7)
    terms = UNICODE_TERMS + [f"w{i}" for i in range(40)]
    docs = random_docs(rng, 80, terms)
    queries = random_queries(rng, 10, terms)
    path = tmp_path_factory.mktemp("impact") / "idx"
    return docs, queries, ImpactIndex(path, scale=50, verbose=False).index(docs)


def test_lucene_equals_exact_on_quantized_vectors(collection):
    docs, queries, index = collection
    lucene = index.retriever(num_results=10)(queries)
    exact = ExactIndex("toks").index(quantized(docs, "toks", 50)).retriever(num_results=10)(
        quantized(queries, "query_toks", 50))
    assert lucene[["qid", "docno", "rank"]].values.tolist() == exact[["qid", "docno", "rank"]].values.tolist()
    assert lucene["score"].tolist() == exact["score"].tolist()


def test_unicode_terms_round_trip(collection, tmp_path):
    docs = pd.DataFrame({"docno": [f"u{i}" for i in range(len(UNICODE_TERMS))],
                         "toks": [{t: 1.0} for t in UNICODE_TERMS]})
    index = ImpactIndex(tmp_path / "uni", scale=10, verbose=False).index(docs)
    queries = pd.DataFrame({"qid": [str(i) for i in range(len(UNICODE_TERMS))],
                            "query_toks": [{t: 2.0} for t in UNICODE_TERMS]})
    res = index.retriever(num_results=5)(queries)
    assert res["docno"].tolist() == [f"u{i}" for i in range(len(UNICODE_TERMS))]
    assert set(res["score"]) == {200.0}


def test_metadata_artifact_and_modes(collection, tmp_path):
    docs, queries, index = collection
    meta = index.meta()
    assert meta["doc_count"] == 80 and meta["scale"] == 50 and meta["column"] == "toks"
    assert meta["sum_of_weights"] == sum(sum(quantize(v, 50).values()) for v in docs["toks"])
    loaded = pt.Artifact.load(str(index.path))
    assert isinstance(loaded, ImpactIndex) and loaded.scale == 50
    with pytest.raises(FileExistsError, match="overwrite"):
        ImpactIndex(index.path, verbose=False).index(docs)
    path = tmp_path / "ow"
    ImpactIndex(path, verbose=False).index(docs.head(3))
    ImpactIndex(path, verbose=False).indexer(mode="overwrite").index(docs.head(5))
    assert len(ImpactIndex(path)) == 5
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_interrupted_build_leaves_nothing(tmp_path):
    def exploding():
        yield {"docno": "a", "toks": {"x": 1.0}}
        raise KeyboardInterrupt("killed")
    path = tmp_path / "half"
    with pytest.raises(KeyboardInterrupt):
        ImpactIndex(path, verbose=False).index(exploding())
    assert not path.exists() and list(tmp_path.iterdir()) == []
    with pytest.raises(FileNotFoundError):
        ImpactIndex(path).meta()


def test_rebuild_gives_identical_run_file(collection, tmp_path):
    docs, queries, _ = collection
    runs = []
    for name in ("a", "b"):
        index = ImpactIndex(tmp_path / name, scale=50, verbose=False).index(docs)
        run = tmp_path / f"{name}.run"
        pt.io.write_results(index.retriever(num_results=20)(queries), str(run), format="trec")
        runs.append(run.read_bytes())
    assert runs[0] == runs[1] and len(runs[0]) > 0


def test_bad_terms_and_records(tmp_path):
    with pytest.raises(ValueError, match="whitespace"):
        ImpactIndex(tmp_path / "ws", verbose=False).index([{"docno": "a", "toks": {"two words": 1.0}}])
    with pytest.raises(KeyError, match="toks"):
        ImpactIndex(tmp_path / "nk", verbose=False).index([{"docno": "a", "text": "x"}])
    assert not [p for p in tmp_path.iterdir()]


def test_milco_combined_pipeline_matches_exact(milco, tmp_path):
    from conftest import TEXTS
    docs = pd.DataFrame({"docno": [f"d{i}" for i in range(len(TEXTS))], "text": TEXTS})
    encoded = milco.doc_encoder(combined=True)(docs)
    index = ImpactIndex(tmp_path / "milco", verbose=False).index(encoded)
    topics = pd.DataFrame({"qid": ["1", "2"], "query": ["brown fox", "Hund"]})
    pipe = milco.query_encoder(combined=True) >> index.retriever(num_results=3)
    res = pipe(topics)
    q = milco.query_encoder(combined=True)(topics)
    exact = ExactIndex("toks").index(quantized(encoded, "toks", 100)).retriever(num_results=3)(
        quantized(q, "query_toks", 100))
    assert res[["qid", "docno", "score"]].values.tolist() == exact[["qid", "docno", "score"]].values.tolist()
    assert all(t.startswith(("e_", "m_")) for t in encoded["toks"][0])


def test_direct_writer_equals_anserini_indexcollection(collection, tmp_path):
    docs, queries, index = collection
    assert index.meta()["method"] == "direct"
    anserini = ImpactIndex(tmp_path / "anserini", scale=50, verbose=False).indexer(method="anserini").index(docs)
    a = anserini.retriever(num_results=20)(queries)
    b = index.retriever(num_results=20)(queries)
    assert a[["qid", "docno", "score", "rank"]].values.tolist() == b[["qid", "docno", "score", "rank"]].values.tolist()
    assert anserini.meta()["sum_of_weights"] == index.meta()["sum_of_weights"]
    with pytest.raises(ValueError, match="U\\+241E"):
        ImpactIndex(tmp_path / "bad", verbose=False).index([{"docno": "x", "toks": {"a\u241eb": 1.0}}])
    assert not (tmp_path / "bad").exists()


def test_ram_buffer_changes_memory_not_results(tmp_path, monkeypatch):
    """A 1 MB buffer (more than one flushed segment, merged at the end) gives the same postings and
    scores, with the direct writer and with Anserini's IndexCollection (``-memoryBuffer``); the
    setting is recorded, and a bad one is an error naming it before anything is written."""
    from milco_pt.index.anserini import BUFFER
    rng = random.Random(3)
    terms = UNICODE_TERMS + [f"w{i}" for i in range(2000)]
    docs = pd.DataFrame([{"docno": f"d{i}", "toks": {t: rng.random() * 3 for t in rng.sample(terms, 60)}}
                         for i in range(6000)])
    queries = random_queries(rng, 20, terms)
    small = ImpactIndex(tmp_path / "small", verbose=False).indexer(ram_buffer_mb=1).index(docs)
    monkeypatch.delenv(BUFFER, raising=False)
    default = ImpactIndex(tmp_path / "default", verbose=False).index(docs)
    assert small.meta()["ram_buffer_mb"] == 1 and default.meta()["ram_buffer_mb"] == 256
    anserini = ImpactIndex(tmp_path / "anserini", verbose=False).indexer(method="anserini", ram_buffer_mb=1).index(docs)
    assert anserini.meta()["ram_buffer_mb"] == 1
    a, b, c = (i.retriever(num_results=50)(queries) for i in (small, default, anserini))
    assert a[["qid", "docno", "score"]].values.tolist() == b[["qid", "docno", "score"]].values.tolist()
    assert c[["qid", "docno", "score"]].values.tolist() == b[["qid", "docno", "score"]].values.tolist()
    with pytest.raises(ValueError, match="between 1 and 2047 MB"):
        ImpactIndex(tmp_path / "x", verbose=False).indexer(ram_buffer_mb=0)
    monkeypatch.setenv(BUFFER, "lots")
    with pytest.raises(ValueError, match="MILCO_PT_INDEX_BUFFER_MB='lots'"):
        ImpactIndex(tmp_path / "bad", verbose=False).index(docs.head(3))
    assert not (tmp_path / "bad").exists()


def test_quantize_equals_pythons_rounding():
    """The vectorised quantizer keeps Python's ``int(round(w * scale))`` (half to even), its order and its zeros rule."""
    import numpy as np
    rng = random.Random(5)

    def loop(vec, scale):
        return {t: int(round(float(w) * scale)) for t, w in vec.items() if int(round(float(w) * scale)) > 0}
    for _ in range(500):
        vec = {f"t{j}": rng.choice([rng.random() * 3, 0.005, 0.015, 0.025, 0.0, np.float32(rng.random())])
               for j in range(rng.randint(0, 20))}
        for scale in (1, 50, 100, 0.5):
            assert list(quantize(vec, scale).items()) == list(loop(vec, scale).items())
