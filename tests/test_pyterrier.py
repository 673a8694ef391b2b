import math

import pandas as pd
import pyterrier as pt
import pytest

from milco_pt import Milco, dot, split_combined

from conftest import TEXTS


def docs_frame(texts=TEXTS):
    return pd.DataFrame({"docno": [f"d{i}" for i in range(len(texts))], "text": texts})


def test_columns_of_each_encoder(milco):
    assert pt.inspect.transformer_outputs(milco.query_encoder(), ["qid", "query"]) == \
        ["qid", "query", "query_toks", "query_src_toks"]
    assert pt.inspect.transformer_outputs(milco.doc_encoder(), ["docno", "text"]) == \
        ["docno", "text", "toks", "src_toks"]
    assert pt.inspect.transformer_outputs(milco.doc_encoder(combined=True), ["docno", "text"]) == \
        ["docno", "text", "toks"]
    assert pt.inspect.transformer_outputs(milco.query_encoder(views="pivot"), ["qid", "query"]) == \
        ["qid", "query", "query_toks"]
    assert pt.inspect.transformer_outputs(milco.scorer(), ["qid", "query", "docno", "text"]) == \
        ["qid", "query", "docno", "text", "score", "rank"]


def test_empty_and_one_row_frames(milco):
    empty_q = pd.DataFrame({"qid": pd.Series(dtype=str), "query": pd.Series(dtype=str)})
    assert len(milco.query_encoder()(empty_q)) == 0
    assert len(milco.doc_encoder()(pd.DataFrame({"docno": [], "text": []}))) == 0
    one = milco.query_encoder()(pd.DataFrame({"qid": ["q1"], "query": ["fox"]}))
    assert len(one) == 1 and one["query_toks"][0] and one["query_src_toks"][0]


def test_dispatch_matches_factories(milco):
    q = pd.DataFrame({"qid": ["1"], "query": ["brown fox"]})
    assert milco(q)["query_toks"][0] == milco.query_encoder()(q)["query_toks"][0]
    d = docs_frame()
    assert milco(d)["src_toks"].tolist() == milco.doc_encoder()(d)["src_toks"].tolist()


def test_combined_column_uses_authors_names(milco):
    d = docs_frame()
    views = milco.doc_encoder()(d)
    comb = milco.doc_encoder(combined=True)(d)
    for i in range(len(d)):
        pivot, source = split_combined(comb["toks"][i])
        assert pivot == views["toks"][i] and source == views["src_toks"][i]
        assert all(t[:2] in ("e_", "m_") for t in comb["toks"][i])
    assert comb["toks"].tolist() == milco.encode_docs(TEXTS)


def test_duplicate_queries_encoded_once_and_equal(milco):
    q = pd.DataFrame({"qid": ["1", "2", "3"], "query": ["fox", "dog", "fox"]})
    out = milco.query_encoder()(q)
    assert out["query_toks"][0] == out["query_toks"][2]
    assert out["query_toks"][0] != out["query_toks"][1]


def test_empty_text_is_empty_vector(milco):
    out = milco.doc_encoder()(docs_frame(["", "   ", "fox"]))
    assert out["toks"][0] == {} and out["src_toks"][1] == {} and out["toks"][2]


@pytest.mark.parametrize("bad,err,match", [
    (None, ValueError, r"row 1 \('d1'\) has no 'text'"),
    (math.nan, ValueError, r"row 1 \('d1'\) has no 'text'.*dropna"),
    (42, TypeError, r"row 1 \('d1'\): 'text' must be a string, got int"),
])
def test_bad_texts_name_the_row(milco, bad, err, match):
    frame = pd.DataFrame({"docno": ["d0", "d1"], "text": ["fox", bad]})
    with pytest.raises(err, match=match):
        milco.doc_encoder()(frame)


def test_missing_column_is_a_validation_error(milco):
    with pytest.raises(pt.validate.InputValidationError, match="text"):
        milco.doc_encoder()(pd.DataFrame({"docno": ["d0"], "body": ["fox"]}))
    with pytest.raises(pt.validate.InputValidationError, match="query"):
        milco.query_encoder()(pd.DataFrame({"qid": ["1"]}))


def test_scorer_is_dual_view_dot_and_explain_adds_up(milco):
    res = pd.DataFrame({"qid": ["q"] * len(TEXTS), "query": ["brown fox"] * len(TEXTS),
                        "docno": [f"d{i}" for i in range(len(TEXTS))], "text": TEXTS})
    scored = milco.scorer()(res)
    q = milco.encode_queries(["brown fox"])[0]
    docs = milco.encode_docs(TEXTS)
    for _, row in scored.iterrows():
        assert row["score"] == pytest.approx(dot(q, docs[int(row["docno"][1:])]), rel=1e-9)
    assert sorted(scored["rank"]) == list(range(len(TEXTS)))
    best = scored.sort_values("rank").iloc[0]
    assert best["score"] == scored["score"].max()
    exp = milco.explain("brown fox", TEXTS[0])
    assert list(exp.columns) == ["view", "term", "query_weight", "doc_weight", "contribution"]
    assert exp["contribution"].sum() == pytest.approx(milco.score("brown fox", TEXTS[0]), rel=1e-9)
    assert exp["contribution"].is_monotonic_decreasing and set(exp["view"]) == {"pivot", "source"}


def test_repr_reads_like_code(milco, tiny_path):
    assert repr(milco) == f"Milco.from_pretrained({str(tiny_path)!r}, batch_size=2, lowercase=False)"
    assert repr(milco.doc_encoder(combined=True)) == repr(milco) + ".doc_encoder(combined=True)"
    assert repr(Milco(milco.model, milco.encoder.m_tokenizer, list(milco.encoder.pivot_names))) == \
        "Milco(model, m_tokenizer, en_vocab)"


def test_lowercase_default_follows_authors_evaluator(milco, tiny_path):
    lower = Milco.from_pretrained(str(tiny_path))
    assert lower.encode_docs(["Der Hund"]) == lower.encode_docs(["der hund"])
    assert milco.encode_docs(["Der Hund"]) != milco.encode_docs(["der hund"])


def test_pipeline_with_exact_index_in_experiment(milco):
    from milco_pt import ExactIndex
    docs = docs_frame()
    index = ExactIndex(["toks", "src_toks"]).index(milco.doc_encoder()(docs))
    topics = pd.DataFrame({"qid": ["1", "2"], "query": ["fox jumps", "Hund"]})
    qrels = pd.DataFrame({"qid": ["1", "2"], "docno": ["d0", "d1"], "label": [1, 1]})
    pipe = milco.query_encoder() >> index.retriever(num_results=3)
    res = pipe(topics)
    assert set(res.groupby("qid").size()) == {3}
    from pyterrier.measures import nDCG
    table = pt.Experiment([pipe], topics, qrels, [nDCG @ 10], names=["milco"])
    found = res.merge(qrels, on=["qid", "docno"])  # one relevant document per query; unretrieved ones gain 0
    assert len(found) >= 1
    expected = sum(1 / math.log2(r + 2) for r in found["rank"]) / len(qrels)
    assert table["nDCG@10"][0] == pytest.approx(expected)
