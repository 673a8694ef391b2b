import random

import pandas as pd
import pytest

from milco_pt import ExactIndex
from milco_pt.fusion import DualViewFusion
from milco_pt.index.anserini import ImpactIndex, quantize

TERMS = [f"t{i}" for i in range(30)]
PIECES = ["▁Hund", "мир", "世界"] + [f"p{i}" for i in range(30)]


def dual_view_frames(seed):
    """60 documents and 8 queries with random pivot (``toks``) and source (``src_toks``) vectors."""
    rng = random.Random(seed)
    docs = pd.DataFrame([{"docno": f"d{i:02d}",
                          "toks": {t: rng.random() * 2 for t in rng.sample(TERMS, 5)},
                          "src_toks": {t: rng.random() * 2 for t in rng.sample(PIECES, 4)}} for i in range(60)])
    queries = pd.DataFrame([{"qid": f"q{i}",
                             "query_toks": {t: rng.random() * 2 for t in rng.sample(TERMS, 3)},
                             "query_src_toks": {t: rng.random() * 2 for t in rng.sample(PIECES, 3)}}
                            for i in range(8)])
    return docs, queries


@pytest.fixture(scope="module")
def views(tmp_path_factory):
    docs, queries = dual_view_frames(3)
    base = tmp_path_factory.mktemp("fusion")
    pivot = ImpactIndex(base / "pivot", column="toks", verbose=False).index(docs)
    source = ImpactIndex(base / "source", column="src_toks", verbose=False).index(docs)
    return docs, queries, pivot, source


def exact_weighted(docs, queries, alpha, k):
    q = lambda f, cols: f.assign(**{c: [{t: w / 100 for t, w in quantize(v, 100).items()} for v in f[c]]  # noqa: E731
                                    for c in cols})
    index = ExactIndex(["toks", "src_toks"], weights={"toks": alpha, "src_toks": 1 - alpha})
    return index.index(q(docs, ["toks", "src_toks"])).retriever(num_results=k)(
        q(queries, ["query_toks", "query_src_toks"]))


@pytest.mark.parametrize("alpha", [0.0, 0.3, 0.5, 1.0])
def test_fusion_equals_exact_weighted_dual_view(views, alpha):
    docs, queries, pivot, source = views
    fused = DualViewFusion(pivot, source, alpha=alpha, num_results=10, candidates=60)(queries)
    exact = exact_weighted(docs, queries, alpha, 10)
    for qid, g in fused.groupby("qid"):
        e = exact[exact["qid"] == qid]
        assert g["score"].tolist() == pytest.approx(e["score"].tolist(), abs=1e-9)
        assert set(g["docno"]) == set(e["docno"]) or len(set(g["score"])) < len(g)


def test_missing_candidates_scored_from_stored_vectors(views):
    docs, queries, pivot, source = views
    fused = DualViewFusion(pivot, source, alpha=0.5, num_results=100, candidates=3)(queries)
    by_doc = docs.set_index("docno")
    for _, r in fused.iterrows():
        q = queries[queries["qid"] == r["qid"]].iloc[0]
        for col, qcol, score in (("toks", "query_toks", r["pivot_score"]),
                                 ("src_toks", "query_src_toks", r["source_score"])):
            qv, dv = quantize(q[qcol], 100), quantize(by_doc.loc[r["docno"], col], 100)
            assert score == pytest.approx(sum(w * dv.get(t, 0) for t, w in qv.items()) / 1e4, abs=1e-9)
    assert (fused.groupby("qid").size() <= 6).all()


def test_sweep_and_errors(views):
    docs, queries, pivot, source = views
    pipes = DualViewFusion(pivot, source).sweep([0.0, 0.5, 1.0])
    assert [p.alpha for p in pipes] == [0.0, 0.5, 1.0]
    with pytest.raises(ValueError):
        DualViewFusion(pivot, source, alpha=1.5)
    assert len(pipes[1](queries.head(0))) == 0


def test_sweep_searches_once_and_equals_separate_fusions(views, monkeypatch):
    docs, queries, pivot, source = views
    calls = []
    real = ImpactIndex.retriever
    monkeypatch.setattr(ImpactIndex, "retriever", lambda self, *a, **k: calls.append(self.column) or real(self, *a, **k))
    pipes = DualViewFusion(pivot, source, num_results=10, candidates=3).sweep([0.0, 0.3, 1.0])
    swept = [p(queries) for p in pipes]
    assert sorted(calls) == ["src_toks", "toks"]
    for alpha, got in zip([0.0, 0.3, 1.0], swept):
        alone = DualViewFusion(pivot, source, alpha=alpha, num_results=10, candidates=3)(queries)
        pd.testing.assert_frame_equal(got, alone)
    changed = queries.assign(query_toks=[{t: w * 2 for t, w in v.items()} for v in queries["query_toks"]])
    assert pipes[1](changed)["pivot_score"].sum() == pytest.approx(2 * swept[1]["pivot_score"].sum(), rel=1e-2)


def test_iter_vectors_reads_each_document_once(views):
    docs, _, pivot, _ = views
    got = list(pivot.iter_vectors(["d05", "d01", "d05"]))
    assert sorted(d for d, _ in got) == ["d01", "d05"]
    assert pivot.vectors(["d05", "d01", "d05"])[0] == quantize(docs.set_index("docno").loc["d05", "toks"], 100)
    with pytest.raises(KeyError, match="nope"):
        pivot.vectors(["nope"])
