"""The forward store of every sparse backend, and dual-view fusion over any pair of them: PISA
fuses exactly as Anserini (the same quantized vectors), Seismic over float vectors equals exact
float scoring when it searches safely."""
import json

import pandas as pd
import pyterrier as pt
import pytest

from milco_pt import ExactIndex, sparse_index
from milco_pt.fusion import DualViewFusion
from milco_pt.index.forward import FORWARD, quantize

from test_fusion import dual_view_frames

SAFE_SEISMIC = {"n_postings": 1000, "centroid_fraction": 1.0, "min_cluster_size": 1, "summary_energy": 1.0}


@pytest.fixture(scope="module")
def views(tmp_path_factory):
    docs, queries = dual_view_frames(11)
    root = tmp_path_factory.mktemp("forward")
    kwargs = {"anserini": {}, "pisa": {}, "seismic": SAFE_SEISMIC}
    built = {b: tuple(sparse_index(root / f"{b}-{col}", backend=b, column=col, verbose=False, **kw).index(docs)
                      for col in ("toks", "src_toks")) for b, kw in kwargs.items()}
    return docs, queries, built


def test_every_backend_stores_its_indexed_vectors(views):
    docs, _, built = views
    want = docs.set_index("docno")
    for backend in ("anserini", "pisa"):
        pivot, source = built[backend]
        assert pivot.vectors(["d07", "d03"]) == [quantize(want.loc[d, "toks"], 100) for d in ("d07", "d03")]
        assert source.vectors(["d59"]) == [quantize(want.loc["d59", "src_toks"], 100)]
    pivot, _ = built["seismic"]
    assert pivot.vectors(["d07"]) == [want.loc["d07", "toks"]], "Seismic stores the float weights"
    assert pivot.meta()["doc_count"] == 60 and pivot.meta()["index_bytes"] > 0
    with pytest.raises(KeyError, match="nope"):
        pivot.vectors(["nope"])


@pytest.mark.parametrize("alpha", [0.0, 0.3, 1.0])
def test_fusion_over_pisa_equals_fusion_over_anserini(views, alpha):
    _, queries, built = views
    over = {b: DualViewFusion(*built[b], alpha=alpha, num_results=10, candidates=4)(queries)
            for b in ("anserini", "pisa")}
    assert len(over["pisa"]) >= 40 and over["pisa"]["pivot_score"].gt(0).any()
    pd.testing.assert_frame_equal(over["pisa"], over["anserini"])


@pytest.mark.parametrize("alpha", [0.0, 0.4, 1.0])
def test_fusion_over_seismic_equals_exact_float_scoring(views, alpha):
    docs, queries, built = views
    fused = DualViewFusion(*built["seismic"], alpha=alpha, num_results=10, candidates=60,
                           search={"heap_factor": 0.1, "query_cut": 10})(queries)
    exact = ExactIndex(["toks", "src_toks"], weights={"toks": alpha, "src_toks": 1 - alpha}).index(docs) \
        .retriever(num_results=10)(queries)
    assert len(fused) == len(exact) == 80
    for qid, got in fused.groupby("qid"):
        want = exact[exact["qid"] == qid]
        assert got["score"].tolist() == pytest.approx(want["score"].tolist(), abs=1e-12)
        assert got["docno"].tolist() == want["docno"].tolist()


def test_seismic_fusion_scores_missing_candidates_from_float_vectors(views):
    docs, queries, built = views
    fused = DualViewFusion(*built["seismic"], num_results=100, candidates=3, search={"heap_factor": 0.1})(queries)
    by_doc, by_qid = docs.set_index("docno"), queries.set_index("qid")
    assert (fused.groupby("qid").size() <= 6).all()
    for _, r in fused.iterrows():
        for col, score in (("toks", r["pivot_score"]), ("src_toks", r["source_score"])):
            q, d = by_qid.loc[r["qid"], "query_" + col], by_doc.loc[r["docno"], col]
            assert score == pytest.approx(sum(w * d.get(t, 0.0) for t, w in q.items()), abs=1e-12)


def test_views_that_do_not_compare_are_refused(views, tmp_path):
    docs, _, built = views
    with pytest.raises(ValueError, match=r"not comparable.*float weights.*round\(w \* 100\)"):
        DualViewFusion(built["seismic"][0], built["anserini"][1])
    coarse = sparse_index(tmp_path / "coarse", backend="pisa", column="src_toks", scale=10, verbose=False)
    with pytest.raises(ValueError, match=r"round\(w \* 10\)"):
        DualViewFusion(built["anserini"][0], coarse)
    with pytest.raises(TypeError, match="no stored vectors"):
        DualViewFusion(built["anserini"][0], ExactIndex("src_toks"))
    fusion = DualViewFusion(built["anserini"][0], built["pisa"][1], alpha=0.5, num_results=5)
    assert repr(fusion).endswith("alpha=0.5, num_results=5)")


def test_rebuild_and_indexes_without_a_forward_store(views, tmp_path):
    docs, queries, _ = views
    index = sparse_index(tmp_path / "p", backend="pisa", verbose=False).index(docs.head(3))
    assert index.vectors(["d00"]) == [quantize(docs["toks"][0], 100)]
    index.indexer(mode="overwrite").index(docs.tail(2))
    assert index.vectors(["d59"]) == [quantize(docs["toks"][59], 100)], "a rebuild drops the old lookups"
    (index.path / FORWARD).unlink()
    with pytest.raises(RuntimeError, match=r"damaged \(forward.jsonl is missing\): rebuild"):
        pt.Artifact.load(str(index.path)).retriever(num_results=5)(queries)
    meta = index.meta()
    del meta["files"]  # as an older milco-pt built it: no forward store, no digest
    (index.path / "pt_meta.json").write_text(json.dumps(meta))
    old = pt.Artifact.load(str(index.path))
    assert len(old.retriever(num_results=5)(queries)) > 0
    with pytest.raises(FileNotFoundError, match="rebuild"):
        old.vectors(["d59"])


@pytest.mark.parametrize("backend", ["anserini", "pisa", "seismic"])
def test_an_index_without_forward_store_searches_the_same_and_fusion_names_the_fix(views, tmp_path, backend):
    """``forward=False`` (what the run layer builds for a system searched alone): the same results,
    no forward files, and dual-view fusion over it says how to rebuild."""
    docs, queries, built = views
    kw = SAFE_SEISMIC if backend == "seismic" else {}
    bare = sparse_index(tmp_path / "bare", backend=backend, column="toks", verbose=False, **kw)
    bare.indexer(forward=False).index(docs)
    assert not (tmp_path / "bare" / FORWARD).exists() and bare.meta()["forward_store"] is False
    assert built[backend][0].meta()["forward_store"] is True
    q = queries[["qid", "query_toks"]]
    got = bare.retriever(num_results=10)(q)
    want = built[backend][0].retriever(num_results=10)(q)
    pd.testing.assert_frame_equal(got[["qid", "docno", "score", "rank"]], want[["qid", "docno", "score", "rank"]])
    with pytest.raises(FileNotFoundError, match=r"forward=False.*forward=True"):
        bare.vectors(["d07"])
