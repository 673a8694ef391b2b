import math

import numpy as np
import pandas as pd
import pyterrier as pt
import pytest

from milco_pt.index.bm25 import BM25Index, analyze, lucene_language
from milco_pt.index.java import JavaError

EN_DOCS = pd.DataFrame({
    "docno": ["d0", "d1", "d2", "d3", "d4", "d5"],
    "text": ["the quick brown fox jumps", "a lazy dog sleeps all day long in the sun",
             "foxes and dogs are running", "brown bread for breakfast", "quick quick quick fox",
             "nothing relevant here at all"],
})


def lucene_bm25(query_terms, docs_terms, k1=0.9, b=0.4):
    """Lucene's BM25Similarity in float64 (lengths this short are stored exactly); Anserini
    rounds scores to 4 decimals."""
    n = len(docs_terms)
    avgdl = sum(len(d) for d in docs_terms) / n
    scores = np.zeros(n)
    for t in set(query_terms):
        df = sum(t in d for d in docs_terms)
        if df == 0:
            continue
        idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
        for i, d in enumerate(docs_terms):
            tf = d.count(t)
            if tf:
                scores[i] += query_terms.count(t) * idf * tf / (tf + k1 * (1 - b + b * len(d) / avgdl))
    return scores


@pytest.fixture(scope="module")
def en_index(tmp_path_factory):
    return BM25Index(tmp_path_factory.mktemp("bm25") / "en", language="en", verbose=False).index(EN_DOCS)


@pytest.mark.parametrize("k1,b", [(0.9, 0.4), (1.2, 0.75)])
def test_scores_equal_lucene_bm25_formula(en_index, k1, b):
    queries = pd.DataFrame({"qid": ["q1", "q2"], "query": ["quick brown fox", "dogs running in the sun"]})
    res = en_index.bm25(num_results=10, k1=k1, b=b)(queries)
    docs_terms = [analyze(t, "en") for t in EN_DOCS["text"]]
    for qid, query in zip(queries["qid"], queries["query"]):
        expected = lucene_bm25(analyze(query, "en"), docs_terms, k1, b)
        got = res[res["qid"] == qid]
        assert len(got) == int((expected > 0).sum())
        for docno, score in zip(got["docno"], got["score"]):
            assert score == pytest.approx(expected[int(docno[1:])], abs=6e-5)
        assert list(got["score"]) == sorted(got["score"], reverse=True)


def test_language_analyzers_match_at_query_time(tmp_path):
    ja = pd.DataFrame({"docno": ["a", "b", "c"], "text": ["東京大学で勉強する", "大阪の天気", "京都の寺"]})
    res = BM25Index(tmp_path / "ja", language="ja", verbose=False).index(ja).bm25()(
        pd.DataFrame({"qid": ["1"], "query": ["東京の大学"]}))
    assert res["docno"].tolist() == ["a"]
    assert analyze("東京の大学", "ja") == ["東京", "大学"]
    assert analyze("东京大学", "zh_CN") == ["东京", "京大", "大学"]
    ru = pd.DataFrame({"docno": ["a", "b"], "text": ["программирование на языке", "книга о кошках"]})
    res = BM25Index(tmp_path / "ru", language="ru", verbose=False).index(ru).bm25()(
        pd.DataFrame({"qid": ["1"], "query": ["программированию"]}))
    assert res["docno"].tolist() == ["a"], "the Russian stemmer should conflate the inflections"


def test_language_codes():
    assert lucene_language("pt_BR") == "pt" and lucene_language("zh-CN") == "zh"
    assert lucene_language("cs") == "generic" and lucene_language(None) == "generic"
    assert analyze("The Running Dogs", "generic") == ["the", "running", "dogs"]
    try:
        assert lucene_language("th") == "th"
    except JavaError as e:
        assert "JAVA_HOME" in str(e) and "generic" in str(e)


def test_artifact_metadata_and_safety(en_index, tmp_path):
    meta = en_index.meta()
    assert meta["doc_count"] == 6 and meta["analyzer"] == "en" and meta["index_bytes"] > 0
    loaded = pt.Artifact.load(str(en_index.path))
    assert isinstance(loaded, BM25Index) and loaded.language == "en"
    assert repr(en_index.bm25(num_results=5)) == f"BM25Index({str(en_index.path)!r}, language='en').bm25(num_results=5)"
    with pytest.raises(FileExistsError, match="overwrite"):
        BM25Index(en_index.path, verbose=False).index(EN_DOCS)

    def exploding():
        yield {"docno": "a", "text": "x"}
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        BM25Index(tmp_path / "half", verbose=False).index(exploding())
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(TypeError, match="docno 'n'"):
        BM25Index(tmp_path / "bad", verbose=False).index([{"docno": "n", "text": None}])


def test_empty_frame_and_inspect(en_index):
    empty = pd.DataFrame(columns=["qid", "query"])
    assert len(en_index.bm25()(empty)) == 0
    assert {"docno", "score", "rank"} <= set(pt.inspect.transformer_outputs(en_index.bm25(), ["qid", "query"]))
