"""milco_pt.mini.evaluate: per-view exact scores equal an independent pipeline's."""
import pyterrier as pt
from pyterrier.measures import nDCG

from milco_pt import ExactIndex, Milco, datasets
from milco_pt.measures import grounding
from milco_pt.mini.evaluate import by_view


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
