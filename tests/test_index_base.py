"""The shared bases of the indexes: ``query_column=``, ``repr`` as the code that built a retriever,
rank cutoff fusion keeping every setting, settings reloaded from ``pt_meta.json``, result frames,
and Anserini's Java configuration for PyTerrier's JVM."""
import pandas as pd
import pyterrier as pt
import pytest

import milco_pt.index.pisa
from milco_pt import ExactIndex, sparse_index
from milco_pt.index import java
from milco_pt.index.anserini import ImpactIndex
from milco_pt.index.base import results_frame
from milco_pt.index.dense import FlatIndex

DOCS = pd.DataFrame({"docno": ["a", "b", "c"],
                     "combined": [{"e_dog": 1.0, "m_▁Hund": 0.5}, {"e_cat": 2.0}, {"e_dog": 0.2, "e_cat": 0.1}]})
QUERIES = pd.DataFrame({"qid": ["1", "2"], "query_combined": [{"e_dog": 1.0}, {"e_cat": 1.0, "m_▁Hund": 3.0}]})


@pytest.fixture(scope="module")
def pisa(tmp_path_factory):
    return sparse_index(tmp_path_factory.mktemp("base") / "pisa", backend="pisa", column="combined",
                        verbose=False).index(DOCS)


def ranking(res):
    return res[["qid", "docno", "score", "rank"]].values.tolist()


def test_query_column_follows_the_index_column_or_is_given(pisa, tmp_path):
    want = [["1", "a", 10000.0, 0], ["1", "c", 2000.0, 1], ["2", "b", 20000.0, 0], ["2", "a", 15000.0, 1],
            ["2", "c", 1000.0, 2]]
    got = pisa.retriever()(QUERIES)
    assert ranking(got) == want
    renamed = QUERIES.rename(columns={"query_combined": "q_vec"})
    assert ranking(pisa.retriever(query_column="q_vec")(renamed)) == ranking(got)
    with pytest.raises(pt.validate.InputValidationError, match="query_combined"):
        pisa.retriever()(renamed)
    exact = ExactIndex("combined").index(DOCS).retriever(query_column="q_vec")(renamed)
    assert [[q, d, round(s * 1e4, 6), r] for q, d, s, r in ranking(exact)] == want
    with pytest.raises(ValueError, match="one query column per indexed column"):
        ExactIndex(["combined", "src"]).retriever(query_column="q_vec")


def test_repr_reads_as_the_code_and_cutoff_keeps_settings(pisa):
    base = f"PisaImpactIndex({str(pisa.path)!r}, column='combined', scale=100)"
    assert repr(pisa.retriever(num_results=10)) == f"{base}.retriever(num_results=10)"
    custom = pisa.retriever(num_results=10, query_algorithm="wand", query_column="q_vec")
    assert repr(custom) == f"{base}.retriever(num_results=10, query_algorithm='wand', query_column='q_vec')"
    cut = custom.fuse_rank_cutoff(3)
    assert type(cut) is type(custom) and repr(cut) == repr(custom).replace("num_results=10", "num_results=3")
    assert custom.fuse_rank_cutoff(20) is None
    assert "maxscore" in milco_pt.index.pisa.__doc__ and "block-max WAND by default" not in milco_pt.index.pisa.__doc__
    flat = FlatIndex().index([{"docno": "a", "doc_vec": [1.0, 0.0]}])
    assert repr((flat.retriever(num_results=5) % 2).compile()) == "FlatIndex().retriever(num_results=2)"
    with pytest.raises(TypeError, match="no setting.*query_cut"):
        type(custom)(pisa, 10, query_cut=3)


def test_settings_are_reloaded_from_the_built_index(pisa, tmp_path):
    again = sparse_index(pisa.path, backend="pisa", column="other", scale=7)
    assert (again.column, again.scale) == ("combined", 100)
    meta = again.meta()
    assert meta["package_hint"] == "milco-pt" and meta["format"] == "milco-pisa" and meta["doc_count"] == 3
    assert meta["sum_of_weights"] == 100 + 50 + 200 + 20 + 10 and meta["distinct_terms"] == 3
    fresh = ImpactIndex(tmp_path / "none", column="combined", scale=7)
    assert (fresh.column, fresh.scale, fresh.built()) == ("combined", 7, False)


def test_results_frame_repeats_rows_and_ranks_per_row():
    inp = pd.DataFrame({"qid": ["x", "y", "z"], "n": [1, 2, 3]}, index=[10, 11, 12])
    res = results_frame(inp, [0, 0, 2], ["d1", "d2", "d3"], [3, 2.5, 1])
    assert res.values.tolist() == [["x", 1, "d1", 3.0, 0], ["x", 1, "d2", 2.5, 1], ["z", 3, "d3", 1.0, 0]]
    assert res["n"].dtype == inp["n"].dtype and res["score"].dtype == "float64"
    empty = results_frame(inp, [], [], [])
    assert list(empty.columns) == ["qid", "n", "docno", "score", "rank"] and len(empty) == 0


def test_anserini_java_configuration_for_pyterrier(monkeypatch):
    class FakeConfig:
        def __init__(self):
            self.classpath, self.options = [], ["-Xmx2g", "--add-modules=jdk.incubator.vector"]

        def add_classpath(self, path):
            self.classpath.append(path)

        def get_options(self):
            return list(self.options)

        def set_options(self, *options):
            self.options = list(options)
    config = FakeConfig()
    init = java.AnseriniJavaInit()
    init.pre_init(config)
    assert config.classpath == [java.anserini_jar()] and config.options == ["-Xmx2g"]
    assert init.priority() < 0 and init.message().startswith("anserini-")
    bare = FakeConfig()
    bare.options = ["--add-modules=jdk.incubator.vector"]
    monkeypatch.delenv(java.HEAP, raising=False)
    java.configure(bare)
    assert bare.options == ["-Xmx1g"], "a bounded heap by default"
    monkeypatch.setenv(java.HEAP, "6g")
    bare.options = []
    java.configure(bare)
    assert bare.options == ["-Xmx6g"]
