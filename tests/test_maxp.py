import pandas as pd
import pytest

from milco_pt import ImpactIndex
from milco_pt.maxp import MaxP, PassageSplitter, split_passages

WORDS = "the quick brown fox jumps over the lazy dog".split()


def long_text(n_words, last=None):
    words = [WORDS[i % len(WORDS)] for i in range(n_words)]
    if last:
        words[-1] = last
    return " ".join(words)


def test_windows_respect_the_token_limit_and_cover_the_text(milco):
    tok = milco.encoder.m_tokenizer
    text = long_text(700)
    passages = split_passages(text, tok, max_tokens=64)
    assert len(passages) > 1
    assert all(len(tok(p)["input_ids"]) <= 64 for p in passages)
    assert " ".join(passages).split() == text.split(), "non-overlapping windows partition the text"
    overlapping = split_passages(text, tok, max_tokens=64, stride=31)
    assert len(overlapping) > len(passages) and overlapping[1] in text
    assert split_passages("short text", tok, 64) == ["short text"]
    with pytest.raises(ValueError, match="stride"):
        split_passages(text, tok, 64, stride=100)


def test_maxp_scores_a_document_by_its_best_passage():
    res = pd.DataFrame({"qid": ["q"] * 4, "docno": ["a%p0", "b%p0", "a%p1", "b%p1"], "score": [1.0, 3.0, 5.0, 2.0],
                        "rank": [3, 1, 0, 2]})
    out = MaxP()(res)
    assert out[["docno", "score", "rank", "passage"]].values.tolist() == [["a", 5.0, 0, "a%p1"], ["b", 3.0, 1, "b%p0"]]
    assert MaxP(num_results=1)(res)["docno"].tolist() == ["a"]


def test_maxp_finds_a_term_beyond_the_truncation_limit(milco, tmp_path):
    docs = pd.DataFrame({"docno": ["long", "short"], "text": [long_text(400, last="Hund"), "the lazy dog"]})
    split = PassageSplitter(milco.encoder.m_tokenizer, max_tokens=64)
    index = ImpactIndex(tmp_path / "maxp", verbose=False).index((split >> milco.doc_encoder(combined=True))(docs))
    query = pd.DataFrame({"qid": ["1"], "query": ["Hund"]})
    maxp = milco.query_encoder(combined=True) >> index.retriever() >> MaxP()
    res = maxp(query)
    assert set(res["docno"]) <= {"long", "short"} and res["docno"].is_unique
    best = res.iloc[0]
    assert best["passage"].startswith("long%p") and best["passage"] != "long%p0"
    assert repr(split) == "PassageSplitter(tokenizer, max_tokens=64)"
