"""milco_pt.mini.evaluate: per-view exact scores equal an independent pipeline's."""
import pyterrier as pt
import pytest
from pyterrier.measures import nDCG

from milco_pt import ExactIndex, Milco, datasets
from milco_pt.measures import grounding
from milco_pt.mini.evaluate import by_view, query_grounding


def test_by_view_equals_an_independent_pipeline(tiny_path):
    milco = Milco.from_pretrained(str(tiny_path), lowercase=False, batch_size=64, doc_max_length=64)
    rows, ground = by_view(milco, "ddtp", "test", ["de", "fr"], max_queries=12, hard=True, ground=True)
    assert {(r["task"], r["view"]) for r in rows} == {(t, v) for t in ("de-en", "fr-en")
                                                    for v in ("dual view", "pivot only")}
    ds = datasets.get("ddtp/fr-en/test")
    topics, qrels = ds.get_topics().head(12), ds.get_qrels()
    docs = milco.doc_encoder(outputs=("pivot", "combined"))(ds.get_corpus_frame())
    for view, out, col in (("pivot only", "pivot", "toks"), ("dual view", "combined", "combined")):
        pipe = (milco.query_encoder(outputs=(out,))
                >> ExactIndex(col).index(docs[["docno", col]]).retriever(num_results=100))
        expected = pt.Experiment([pipe], topics[["qid", "query"]], qrels, [nDCG @ 10])["nDCG@10"][0]
        got = [r for r in rows if r["task"] == "fr-en" and r["view"] == view and r["subset"] == "all"]
        assert len(got) == 1 and abs(got[0]["nDCG@10"] - expected) < 1e-12 and got[0]["queries"] == 12
    hard = [r for r in rows if r["subset"] == "hard"]
    assert hard and all(r["queries"] < 12 for r in hard)
    en = datasets.get("ddtp/en-en/test").get_topics().set_index("group")["query"]
    q = milco.query_encoder()(topics[["qid", "query"]])
    de = datasets.get("ddtp/de-en/test").get_topics().head(12)
    qd = milco.query_encoder()(de[["qid", "query"]])
    vectors = qd["query_toks"].tolist() + q["query_toks"].tolist()
    translations = en[de["group"]].tolist() + en[topics["group"]].tolist()
    assert ground == grounding(vectors, translations, milco.encoder.pivot_names.tolist())



def test_by_view_with_queries_cut_to_top_k_retrieves_with_the_cut_queries(tiny_path, monkeypatch):
    """query_top_k cuts each query's pivot view to its k best terms (the source view whole) before
    retrieval, over the indexes given (view_indexes, built once); the grounding counts the cut
    vectors."""
    import milco_pt.mini.evaluate as evaluate
    from milco_pt import TopK, combine
    from milco_pt.mini.evaluate import prune_queries, view_indexes
    milco = Milco.from_pretrained(str(tiny_path), lowercase=False, batch_size=64, doc_max_length=64)
    topics = datasets.get("ddtp/fr-en/test").get_topics().head(12)
    q = milco.query_encoder(outputs=("pivot", "source", "combined"))(topics[["qid", "query"]])
    cut = prune_queries(q, 3)
    assert cut["query_toks"].tolist() == TopK(3, "query_toks")(q)["query_toks"].tolist()
    assert cut["query_src_toks"].tolist() == q["query_src_toks"].tolist()
    assert cut["query_combined"].tolist() == [combine(p, s) for p, s in zip(cut["query_toks"], q["query_src_toks"])]
    assert all(len(v) == 3 for v in cut["query_toks"]) and q["query_toks"].map(len).min() > 3

    class Recording:
        """An index whose retriever records the query vectors it is given."""
        def __init__(self, index, column):
            self.index, self.column, self.seen = index, column, []

        def retriever(self, **kw):
            inner = self.index.retriever(**kw)
            return pt.apply.generic(lambda frame: (self.seen.extend(frame[self.column]), inner(frame))[1])

    indexes = {name: Recording(idx, f"query_{evaluate.VIEWS[name]}")
               for name, idx in view_indexes(milco, "ddtp", "test", "fr").items()}
    monkeypatch.setattr(evaluate, "view_indexes", lambda *a: pytest.fail("indexes were given"))
    rows, ground = by_view(milco, "ddtp", "test", ["fr"], max_queries=12, ground=True, query_top_k=3, indexes=indexes)
    assert {r["view"] for r in rows} == {"dual view", "pivot only"} and all(r["queries"] == 12 for r in rows)
    assert indexes["pivot only"].seen == cut["query_toks"].tolist()
    assert indexes["dual view"].seen == cut["query_combined"].tolist()
    en = datasets.get("ddtp/en-en/test").get_topics().set_index("group")["query"]
    assert ground == grounding(cut["query_toks"].tolist(), en[topics["group"]].tolist(),
                               milco.encoder.pivot_names.tolist())
    assert query_grounding(milco, "ddtp", "test", ["fr"], max_queries=12, query_top_k=3) == ground
    whole = query_grounding(milco, "ddtp", "test", ["fr"], max_queries=12)
    assert whole == grounding(q["query_toks"].tolist(), en[topics["group"]].tolist(), milco.encoder.pivot_names.tolist())
    assert whole != ground


def _frontier_script():
    import importlib.util
    from pathlib import Path
    script = Path(__file__).resolve().parents[1] / "experiments" / "grounding_frontier.py"
    spec = importlib.util.spec_from_file_location("grounding_frontier", script)
    frontier = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(frontier)
    return frontier


def test_grounding_frontier_cuts_one_encoding_per_k(tiny_path):
    """Each k's row is by_view / query_grounding of the queries cut to k (one encoding shared)."""
    from milco_pt.mini.evaluate import view_indexes
    milco = Milco.from_pretrained(str(tiny_path), lowercase=False, batch_size=64, doc_max_length=64)
    table = _frontier_script().frontier(milco, [None, 3], ["de"], ["fr"], max_queries=6)
    assert table["query pivot terms (top-k)"].tolist() == ["all", 3]
    indexes = view_indexes(milco, "manpages", "dev", "de")
    for k, row in zip([None, 3], table.to_dict("records")):
        rows, _ = by_view(milco, "manpages", "dev", ["de"], max_queries=6, query_top_k=k, indexes=indexes)
        views = {r["view"]: r["nDCG@10"] for r in rows}
        assert row["man pages (dev) both views"] == views["dual view"]
        assert row["man pages (dev) pivot only"] == views["pivot only"]
        ground = query_grounding(milco, "ddtp", "test", ["fr"], max_queries=6, query_top_k=k)
        assert row["DDTP test grounded weight"] == ground["weight_share"]
    assert table["DDTP test pivot terms per query"].tolist()[1] == 3


def test_grounding_frontier_names_its_models_and_refuses_a_missing_delta(tmp_path):
    from milco_pt.mini import SHIPPED_DELTA
    frontier = _frontier_script()
    assert frontier.models(None) == {"milco_pt/mini/data/milco-mini-delta.safetensors (shipped)": str(SHIPPED_DELTA)}
    assert frontier.models(["v13=shipped"]) == {"v13": str(SHIPPED_DELTA)}
    with pytest.raises(SystemExit, match="--model v9=.*no delta at .*NAME=PATH"):
        frontier.models([f"v9={tmp_path / 'none.safetensors'}"])


def test_grounding_frontier_append_adds_a_models_rows_and_its_command(tmp_path, monkeypatch):
    """--append keeps the other models' rows and the commands that made them, replaces rows of a
    model named again, and refuses a table that does not exist."""
    import sys

    import pandas as pd
    frontier = _frontier_script()
    delta = tmp_path / "d.safetensors"
    delta.write_bytes(b"")
    calls = []

    def fake(mini, ks, man_langs, ddtp_langs, max_queries=None):
        calls.append(mini)
        return pd.DataFrame({"query pivot terms (top-k)": ["all" if k is None else k for k in ks],
                             "man pages (dev) both views": [0.1 * len(calls)] * len(ks)})
    monkeypatch.setattr(frontier, "frontier", fake)
    monkeypatch.setattr(frontier, "load", lambda path, **kw: path)
    out = tmp_path / "front"

    def run(*flags):
        monkeypatch.setattr(sys, "argv", ["grounding_frontier.py", "--out", str(out), *flags])
        frontier.main()
        return pd.read_csv(f"{out}.csv", dtype={"query pivot terms (top-k)": str})

    with pytest.raises(SystemExit, match="--append: no table .*run without --append first"):
        run("--model", f"a={delta}", "--append")
    assert calls == [], "refused before any model was evaluated"
    run("--model", f"a={delta}", "--model", f"b={delta}", "--k", "all,8")
    t = run("--model", f"b={delta}", "--model", f"c={delta}", "--k", "12", "--append")
    assert t[["model", "query pivot terms (top-k)"]].values.tolist() == [["a", "all"], ["a", "8"], ["b", "12"], ["c", "12"]]
    assert t["man pages (dev) both views"].round(3).tolist() == [0.1, 0.1, 0.3, 0.4]
    md = (tmp_path / "front.md").read_text()
    assert md.count("python experiments/grounding_frontier.py --model") == 2 and "--k 12 --append`." in md
    assert str(out) not in md, "where the table was written is not part of its command"
