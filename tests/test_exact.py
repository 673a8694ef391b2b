import random

import pandas as pd
import pytest

from milco_pt import ExactIndex, dot


def random_frame(rng, n, prefix, vocab=50, cols=("toks", "src_toks")):
    rows = []
    for i in range(n):
        row = {prefix[0]: f"{prefix[1]}{i}"}
        for c in cols:
            terms = rng.sample(range(vocab), rng.randint(0, 12))
            row[c] = {f"w{t}": rng.choice([0.5, 1.0, rng.random() * 3]) for t in terms}
        rows.append(row)
    return pd.DataFrame(rows)


@pytest.mark.parametrize("seed", range(5))
def test_exact_equals_brute_force(seed):
    rng = random.Random(seed)
    docs = random_frame(rng, 60, ("docno", "d"))
    queries = random_frame(rng, 8, ("qid", "q"), cols=("query_toks", "query_src_toks"))
    weights = {"toks": 0.7, "src_toks": 0.3} if seed % 2 else None
    index = ExactIndex(["toks", "src_toks"], weights=weights).index(docs)
    res = index.retriever(num_results=10, batch_size=3)(queries)
    w = weights or {"toks": 1.0, "src_toks": 1.0}
    for _, q in queries.iterrows():
        brute = [(-(w["toks"] * dot(q["query_toks"], d["toks"]) +
                    w["src_toks"] * dot(q["query_src_toks"], d["src_toks"])), i, d["docno"])
                 for i, d in docs.iterrows()]
        overlap = [b for b, (_, d) in zip(brute, docs.iterrows())
                   if set(q["query_toks"]) & set(d["toks"]) or set(q["query_src_toks"]) & set(d["src_toks"])]
        expected = sorted(overlap)[:10]
        got = res[res["qid"] == q["qid"]]
        assert got["docno"].tolist() == [e[2] for e in expected]
        assert got["score"].tolist() == pytest.approx([-e[0] for e in expected], rel=1e-12)
        assert got["rank"].tolist() == list(range(len(expected)))


def test_ties_rank_by_index_order_and_cutoff():
    docs = pd.DataFrame({"docno": ["b", "a", "c"], "toks": [{"x": 1.0}, {"x": 1.0}, {"y": 1.0}]})
    index = ExactIndex("toks").index(docs)
    q = pd.DataFrame({"qid": ["1"], "query": ["x"], "query_toks": [{"x": 2.0, "zz": 1.0}]})
    res = index.retriever()(q)
    assert res["docno"].tolist() == ["b", "a"] and res["query"].tolist() == ["x", "x"]
    assert index.retriever(num_results=1)(q)["docno"].tolist() == ["b"]
    assert (index.retriever() % 1)(q)["docno"].tolist() == ["b"]


def test_errors_and_empty():
    with pytest.raises(ValueError, match="not indexed"):
        ExactIndex("toks", weights={"src_toks": 0.5})
    with pytest.raises(KeyError, match="lacks"):
        ExactIndex(["toks", "src_toks"]).index([{"docno": "d", "toks": {}}])
    index = ExactIndex("toks").index([{"docno": "d", "toks": {"x": 1.0}}])
    with pytest.raises(RuntimeError):
        index.index([])
    empty = index.retriever()(pd.DataFrame({"qid": pd.Series(dtype=str), "query_toks": pd.Series(dtype=object)}))
    assert list(empty.columns) == ["qid", "query_toks", "docno", "score", "rank"] and len(empty) == 0
