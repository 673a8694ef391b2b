"""Bad input to the index engines is an error in Python naming the document or query and the term,
never a crash of Java, C++ or Rust, a lost term or a silently different score; a damaged index is
reported as such (one test per failure, on every backend where it applies)."""
import math
import re

import numpy as np
import pandas as pd
import pyterrier as pt
import pytest

from milco_pt import ExactIndex, sparse_index
from milco_pt.fusion import DualViewFusion
from milco_pt.index import BM25Index, FlatIndex
from milco_pt.index.forward import quantize
from milco_pt.index.integrity import DamagedIndexError

BACKENDS = ["anserini", "pisa", "seismic"]
SEISMIC = {"n_postings": 100, "centroid_fraction": 1.0, "min_cluster_size": 1, "summary_energy": 1.0}
DOCS = [{"docno": "d0", "toks": {"a": 1.0, "b": 0.5}}, {"docno": "d1", "toks": {"b": 2.0, "c": 1.0}},
        {"docno": "d2", "toks": {"a": 0.25, "c": 3.0}}]


def index_of(backend, path, **kw):
    return sparse_index(path, backend=backend, verbose=False, **(SEISMIC if backend == "seismic" else {}), **kw)


def queries(*vecs):
    return pd.DataFrame({"qid": [f"q{i}" for i in range(len(vecs))], "query_toks": list(vecs)})


def search(index, *vecs):
    return index.retriever(num_results=10)(queries(*vecs))


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("bad")
    return {b: index_of(b, root / b).index(DOCS) for b in BACKENDS}


def test_long_impact_queries_score_exactly(tmp_path):
    """Lucene's 1024-clause limit failed a whole batch of queries over 1024 terms."""
    rng = np.random.default_rng(1)
    vocab = [f"w{i}" for i in range(3000)]
    docs = [{"docno": f"d{i}", "toks": {t: float(rng.random() * 2) for t in rng.choice(vocab, 300, replace=False)}}
            for i in range(20)]
    query = {t: float(rng.random() * 2) for t in vocab}
    index = index_of("anserini", tmp_path / "a").index(docs)
    got = search(index, query, {"w1": 1.0})
    exact = ExactIndex("toks").index([{**d, "toks": quantize(d["toks"], 100)} for d in docs]).retriever(num_results=10)(
        queries(quantize(query, 100), {"w1": 100}))
    assert got[["qid", "docno"]].values.tolist() == exact[["qid", "docno"]].values.tolist()
    assert got["score"].tolist() == pytest.approx(exact["score"].tolist(), rel=1e-6)
    assert len(got[got["qid"] == "q0"]) == 10


def test_long_bm25_queries(tmp_path):
    """A BM25 query of 3000 terms scores as the query of the terms that match."""
    docs = pd.DataFrame({"docno": ["d0", "d1"], "text": ["apple banana", "cherry banana banana"]})
    index = BM25Index(tmp_path / "bm25", verbose=False).index(docs)
    long_query = " ".join([f"zz{i}" for i in range(3000)] + ["banana", "cherry"])
    res = index.bm25()(pd.DataFrame({"qid": ["1", "2"], "query": [long_query, "banana cherry"]}))
    long, short = res[res["qid"] == "1"], res[res["qid"] == "2"]
    assert long["docno"].tolist() == short["docno"].tolist() == ["d1", "d0"]
    assert long["score"].tolist() == pytest.approx(short["score"].tolist())


@pytest.mark.parametrize("backend", BACKENDS)
def test_all_empty_corpus_is_an_error_where_the_engine_crashes(tmp_path, backend):
    """PISA aborted (134), Seismic panicked at search; Anserini searches it (no hits)."""
    docs = [{"docno": "d0", "toks": {}}, {"docno": "d1", "toks": {"a": 0.0}}]
    if backend == "anserini":
        assert len(search(index_of(backend, tmp_path / "i").index(docs), {"a": 1.0})) == 0
        return
    with pytest.raises(ValueError, match="every document vector of the 2 records is empty"):
        index_of(backend, tmp_path / "i").index(docs)
    assert not (tmp_path / "i").exists()


@pytest.mark.parametrize("backend", BACKENDS)
def test_empty_input_is_an_error(tmp_path, backend):
    """PISA raised UnboundLocalError ('bidx')."""
    with pytest.raises(ValueError, match="nothing to index: the input has no records"):
        index_of(backend, tmp_path / "i").index([])
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("backend", [*BACKENDS, "exact"])
@pytest.mark.parametrize("docno", ["", "a\nb", None])
def test_bad_docnos_are_an_error(tmp_path, backend, docno):
    """PISA aborted on an empty docno and truncated one with a newline."""
    docs = [DOCS[0], {"docno": docno, "toks": {"a": 1.0}}]
    index = ExactIndex("toks") if backend == "exact" else index_of(backend, tmp_path / "i")
    told = "has no docno" if docno is None else f"has docno {re.escape(repr(docno))}.*rename the document"
    with pytest.raises(ValueError, match=f"record 1 {told}"):
        index.index(docs)


@pytest.mark.parametrize("backend", [*BACKENDS, "exact"])
@pytest.mark.parametrize("weight", [math.inf, math.nan, -1.0])
def test_non_finite_or_negative_document_weights_are_an_error(tmp_path, backend, weight):
    docs = [DOCS[0], {"docno": "bad", "toks": {"ok": 1.0, "x\u00e9": weight}}]
    index = ExactIndex("toks") if backend == "exact" else index_of(backend, tmp_path / "i")
    with pytest.raises(ValueError, match=r"document 'bad': term 'x\u00e9' has weight .*finite numbers >= 0"):
        index.index(docs)


@pytest.mark.parametrize("backend", [*BACKENDS, "exact"])
@pytest.mark.parametrize("weight", [math.inf, math.nan, -1.0])
def test_non_finite_or_negative_query_weights_are_an_error(built, backend, weight):
    index = ExactIndex("toks").index(DOCS) if backend == "exact" else built[backend]
    with pytest.raises(ValueError, match=r"query row 1 \(qid 'q1'\): term 'b' has weight .*finite numbers >= 0"):
        search(index, {"a": 1.0}, {"a": 1.0, "b": weight})


@pytest.mark.parametrize("backend", ["anserini", "pisa"])
def test_integer_weights_above_int32_are_an_error(tmp_path, built, backend):
    """Java's NumberFormatException, PISA's OverflowError (documents) and bad_alloc (queries)."""
    with pytest.raises(ValueError, match=r"document 'big': term 'a' .*exceeds 2\*\*31 - 1.*lower the weight or the scale"):
        index_of(backend, tmp_path / "i").index([DOCS[0], {"docno": "big", "toks": {"a": 3e7}}])
    with pytest.raises(ValueError, match=r"document 'long': .*sum to 3000000000"):
        index_of(backend, tmp_path / "i").index([{"docno": "long", "toks": {"a": 1.5e7, "b": 1.5e7}}])
    with pytest.raises(ValueError, match=r"query row 0 \(qid 'q0'\): term 'a' .*exceeds 2\*\*31 - 1"):
        search(built[backend], {"a": 1e9})


def test_pisa_query_size_is_limited(built):
    """PISA repeats a query term as many times as its integer weight (bad_alloc at 1e9)."""
    with pytest.raises(ValueError, match=r"query row 0 \(qid 'q0'\).*sum to 100000000, above 33554432"):
        search(built["pisa"], {"a": 1e6})
    assert search(built["pisa"], {"a": 1e3})["docno"].tolist() == ["d0", "d2"]


def test_seismic_weights_above_float16_are_an_error(tmp_path, built):
    """Seismic stored them as inf."""
    with pytest.raises(ValueError, match=r"document 'd9': term 'a' has weight 70000.0.*at most 65504"):
        index_of("seismic", tmp_path / "i").index([{"docno": "d9", "toks": {"a": 7e4}}])
    with pytest.raises(ValueError, match=r"query row 0 \(qid 'q0'\): term 'a' has weight 70000.0"):
        search(built["seismic"], {"a": 7e4})


def test_anserini_long_terms_score_exactly_or_are_an_error(tmp_path):
    """Lucene's 255-character tokens: a 252+ character term got the wrong weight, 256+ never matched."""
    terms = ["x" * 251, "y" * 252, "z" * 255]
    index = index_of("anserini", tmp_path / "a").index([{"docno": "d0", "toks": {t: 1.0 for t in terms}}])
    res = search(index, *[{t: 1.0} for t in terms])
    assert res["docno"].tolist() == ["d0"] * 3 and res["score"].tolist() == [10000.0] * 3
    with pytest.raises(ValueError, match=r"document 'd1': term 'wwwwwwwwww.*\(256 characters\) is longer than Lucene"):
        index_of("anserini", tmp_path / "b").index([{"docno": "d1", "toks": {"w" * 256: 1.0}}])


def test_seismic_documents_beyond_its_packing_limit_are_an_error(tmp_path):
    """Seismic panicked ('range length exceeds 16-bit packing limit') after minutes."""
    docs = [DOCS[0], {"docno": "huge", "toks": {f"t{i}": 1.0 for i in range(65536)}}]
    with pytest.raises(ValueError, match=r"document 'huge' has 65536 terms, above Seismic's 65535"):
        index_of("seismic", tmp_path / "s").index(docs)


@pytest.mark.parametrize("k", [0, -1, 2.5])
def test_num_results_below_one_is_an_error_for_every_retriever(built, tmp_path, k):
    """Seismic panicked on num_results=0."""
    bm25 = BM25Index(tmp_path / "bm25", verbose=False)
    factories = [built[b].retriever for b in BACKENDS] + [ExactIndex("toks").index(DOCS).retriever, bm25.bm25,
                                                          FlatIndex().index([{"docno": "x", "doc_vec": [1.0]}]).retriever]
    for factory in factories:
        with pytest.raises(ValueError, match=rf"num_results must be a whole number >= 1, not {k}"):
            factory(num_results=k)
    with pytest.raises(ValueError, match="num_results must be"):
        DualViewFusion(built["anserini"], built["anserini"], num_results=k)


@pytest.mark.parametrize("backend", BACKENDS)
def test_truncated_or_altered_index_files_are_reported(tmp_path, backend):
    """Lucene threw Java traces, PISA segfaulted, Seismic loaded flipped bytes."""
    big = {"anserini": "_0.cfs", "pisa": "pisa/inv.docs", "seismic": "index.index.seismic"}[backend]
    flipped = index_of(backend, tmp_path / "flip").index(DOCS)
    data = bytearray((flipped.path / big).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (flipped.path / big).write_bytes(bytes(data))
    with pytest.raises(DamagedIndexError, match=rf"index at .*flip is damaged \({big} differs.*rebuild it with"):
        search(pt.Artifact.load(str(flipped.path)), {"a": 1.0})
    cut = index_of(backend, tmp_path / "cut").index(DOCS)
    assert search(cut, {"a": 1.0})["docno"].tolist() == ["d0", "d2"]
    whole = (cut.path / big).read_bytes()
    with open(cut.path / big, "r+b") as f:
        f.truncate(10)
    with pytest.raises(DamagedIndexError, match=rf"damaged \({big} has 10 bytes, .*mode='overwrite'"):
        search(pt.Artifact.load(str(cut.path)), {"a": 1.0})
    (cut.path / big).write_bytes(whole)
    (cut.path / "docnos.json").unlink()
    with pytest.raises(DamagedIndexError, match=r"docnos.json is missing"):
        pt.Artifact.load(str(cut.path)).vectors(["d0"])


@pytest.mark.parametrize("backend", [*BACKENDS, "exact"])
def test_numeric_docnos_are_strings_on_every_backend(tmp_path, backend):
    """ExactIndex kept ints while the others converted, so pt.Experiment failed."""
    docs = [{"docno": 7, "toks": {"a": 1.0}}, {"docno": np.int64(8), "toks": {"a": 2.0}}]
    index = ExactIndex("toks").index(docs) if backend == "exact" else index_of(backend, tmp_path / "i").index(docs)
    res = index.retriever()(queries({"a": 1.0}))
    assert res["docno"].tolist() == ["8", "7"]
    qrels = pd.DataFrame({"qid": ["q0"], "docno": ["7"], "label": [1]})
    table = pt.Experiment([index.retriever()], queries({"a": 1.0}), qrels, ["P_1"])
    assert table["P_1"].tolist() == [0.0]


@pytest.mark.parametrize("backend", [*BACKENDS, "exact", "bm25", "flat"])
def test_duplicate_docnos_are_an_error(tmp_path, backend):
    docs = [{"docno": "d0", "toks": {"a": 1.0}, "text": "a", "doc_vec": [1.0]},
            {"docno": "d1", "toks": {"a": 1.0}, "text": "a", "doc_vec": [1.0]},
            {"docno": "d0", "toks": {"b": 1.0}, "text": "b", "doc_vec": [1.0]}]
    index = {"exact": lambda: ExactIndex("toks"), "bm25": lambda: BM25Index(tmp_path / "b", verbose=False),
             "flat": FlatIndex}.get(backend, lambda: index_of(backend, tmp_path / "i"))()
    with pytest.raises(ValueError, match="record 2: docno 'd0' is a duplicate.*drop or rename"):
        index.index(docs)
    assert not (tmp_path / "i").exists() and not (tmp_path / "b").exists()


def test_duplicate_docnos_beyond_the_exact_set_are_found_by_digest(monkeypatch):
    """Past the first docnos (kept as strings), uniqueness is checked on 16-byte digests at the
    end of the corpus; the error names both records."""
    from milco_pt.index import base
    unique = base.UniqueDocnos(exact=3)
    for n, d in enumerate(["a", "b", "c", "d", "e", "b", "f"]):
        unique.add(n, d)
    with pytest.raises(ValueError, match="records 1 and 5 have the same docno.*drop or rename"):
        unique.finish()
    fine = base.UniqueDocnos(exact=2)
    for n in range(50_000):
        fine.add(n, f"doc{n}")
    fine.finish()
    monkeypatch.setattr(base.UniqueDocnos.__init__, "__defaults__", (2,))
    docs = [{"docno": d, "toks": {"a": 1.0}} for d in ["x", "y", "z", "x"]]
    with pytest.raises(ValueError, match="records 0 and 3 have the same docno"):
        ExactIndex("toks").index(docs)


def test_fusion_fuses_rows_sharing_a_qid_apart(built):
    """Duplicate qids duplicated every fused row."""
    index = built["anserini"]
    inp = pd.DataFrame({"qid": ["q", "q", "r"], "query_toks": [{"a": 1.0}, {"c": 1.0}, {"a": 1.0}]})
    fusion = DualViewFusion(index, index, num_results=10)  # both views read query_toks
    res = fusion(inp)
    single = [fusion(inp.iloc[[i]]) for i in range(3)]
    assert len(res) == sum(len(s) for s in single) == 2 + 2 + 2
    want = pd.concat([single[0], single[1], single[2]], ignore_index=True)
    assert res[["qid", "docno", "rank"]].values.tolist() == want[["qid", "docno", "rank"]].values.tolist()
    assert res["score"].tolist() == pytest.approx(want["score"].tolist())
