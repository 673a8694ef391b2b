"""Anserini, PISA and Seismic behind one interface: the same vectors give the same top-10 under
Anserini, PISA and exact scoring of the quantized vectors; Seismic's recall against exact float
scoring; the combined e_/m_ vocabulary beyond 65535 terms; artifacts and staged builds."""
import random

import pandas as pd
import pyterrier as pt
import pytest

from milco_pt import ExactIndex, sparse_index
from milco_pt.index.anserini import quantize

TERMS = ["e_dog", "e_##ing", "m_▁Hund", "m_世界", "m_▁Быстрая", "m_مرحبا", "e_x"] + [f"e_w{i}" for i in range(120)]


def docs_and_queries(seed=3, n_docs=300, n_queries=25):
    rng = random.Random(seed)
    docs = pd.DataFrame([{"docno": f"d{i}", "toks": {t: rng.random() * 3 for t in rng.sample(TERMS, 12)}}
                         for i in range(n_docs)])
    queries = pd.DataFrame([{"qid": f"q{i}", "query": "x", "query_toks": {t: rng.random() * 3 for t in rng.sample(TERMS, 5)}}
                            for i in range(n_queries)])
    return docs, queries


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    docs, queries = docs_and_queries()
    root = tmp_path_factory.mktemp("backends")
    kwargs = {"anserini": {"scale": 50}, "pisa": {"scale": 50},
              "seismic": {"n_postings": 400, "centroid_fraction": 0.5, "min_cluster_size": 1, "summary_energy": 1.0}}
    return docs, queries, {b: sparse_index(root / b, backend=b, verbose=False, **kw).index(docs) for b, kw in kwargs.items()}


def top(res):
    return res[["qid", "docno", "rank"]].values.tolist(), res["score"].round(3).tolist()


def test_anserini_pisa_and_exact_agree(built):
    docs, queries, idx = built
    exact = ExactIndex("toks").index(docs.assign(toks=[quantize(v, 50) for v in docs["toks"]])).retriever(num_results=10)(
        queries.assign(query_toks=[quantize(v, 50) for v in queries["query_toks"]]))
    anserini = idx["anserini"].retriever(num_results=10)(queries)
    pisa = idx["pisa"].retriever(num_results=10)(queries)
    assert top(pisa) == top(exact) == top(anserini)
    assert list(pisa.columns) == list(queries.columns) + ["docno", "score", "rank"]
    assert idx["pisa"].retriever().query_algorithm == "maxscore"
    for algorithm in ("ranked_or", "block_max_wand", "wand"):
        assert top(idx["pisa"].retriever(num_results=10, query_algorithm=algorithm)(queries)) == top(pisa)


def test_seismic_recall_against_exact_float_scoring(built):
    docs, queries, idx = built
    exact = ExactIndex("toks").index(docs).retriever(num_results=10)(queries)
    safe = idx["seismic"].retriever(num_results=10, query_cut=10, heap_factor=0.1)(queries)
    want, got = set(zip(exact["qid"], exact["docno"])), set(zip(safe["qid"], safe["docno"]))
    assert len(want & got) / len(want) >= 0.95
    same = exact.merge(safe, on=["qid", "docno"])
    assert (same["score_x"] - same["score_y"]).abs().max() < 0.02, "Seismic's scores are float dot products"


def test_backends_are_artifacts_and_switch_with_one_argument(built, tmp_path):
    docs, queries, idx = built
    for backend, index in idx.items():
        loaded = pt.Artifact.load(str(index.path))
        assert type(loaded) is type(index) and len(loaded) == len(docs), backend
        assert top(loaded.retriever(num_results=5)(queries)) == top(index.retriever(num_results=5)(queries)), backend
        pipe = pt.apply.query_toks(lambda r: r["query_toks"]) >> index.retriever(num_results=20) % 3
        assert pipe(queries).groupby("qid").size().max() == 3
        empty = index.retriever()(queries.head(0))
        assert len(empty) == 0 and "docno" in empty.columns
        with pytest.raises(FileExistsError):
            index.indexer().index(docs)
    with pytest.raises(ValueError, match="unknown backend"):
        sparse_index(tmp_path / "x", backend="faiss")


def test_seismic_large_vocabulary(tmp_path):
    """More than 65535 distinct terms (the combined e_/m_ vocabulary): the LV index is chosen."""
    docs = pd.DataFrame([{"docno": f"d{i}", "toks": {f"m_p{i * 100 + j}": 1.0 + j / 100 for j in range(100)} | {"e_all": 0.5}}
                         for i in range(700)])
    with pytest.raises(ValueError, match="large_vocabulary"):
        sparse_index(tmp_path / "small", backend="seismic", large_vocabulary=False, verbose=False).index(docs)
    assert not (tmp_path / "small").exists()
    index = sparse_index(tmp_path / "lv", backend="seismic", verbose=False, n_postings=100).index(docs)
    meta = index.meta()
    assert meta["large_vocabulary"] and meta["distinct_terms"] == 70001
    q = pd.DataFrame({"qid": ["1", "2"], "query": ["a", "b"],
                      "query_toks": [{"m_p69999": 1.0}, {"m_p12345": 2.0, "m_p150": 1.0}]})
    res = index.retriever(num_results=1, heap_factor=0.1)(q)
    assert res["docno"].tolist() == ["d699", "d123"]


def test_pisa_interrupted_build_leaves_nothing(tmp_path):
    def broken():
        yield {"docno": "a", "toks": {"x": 1.0}}
        yield {"docno": "b"}
    with pytest.raises(KeyError, match="lacks"):
        sparse_index(tmp_path / "p", backend="pisa", verbose=False).index(broken())
    assert list(tmp_path.iterdir()) == []
