"""The issue's acceptance run: MILCO (combined index and two-index fusion), BM25 and M3-Sparse in one
``pt.Experiment`` on real text (the bundled DDTP sample: German and French queries, English docs)."""
import json
from pathlib import Path

import pandas as pd
import pyterrier as pt
import pytest
from pyterrier.measures import R, nDCG

from milco_pt import DualViewFusion, ImpactIndex
from milco_pt.baselines import BM25Index, M3Sparse
from milco_pt.testing.tiny import build_tiny_m3

DATA = Path(__file__).parent.parent / "experiments" / "data" / "quickstart"


@pytest.fixture(scope="module")
def collection():
    docs = pd.DataFrame([json.loads(line) for line in open(DATA / "corpus.jsonl", encoding="utf-8")])
    topics = pd.read_csv(DATA / "topics.tsv", sep="\t", names=["qid", "lang", "query"], dtype=str)
    topics = topics[topics["lang"].isin(["de", "fr"])][["qid", "query"]].reset_index(drop=True)
    qrels = pd.read_csv(DATA / "qrels.txt", sep=" ", names=["qid", "iter", "docno", "label"], dtype={"qid": str})
    return docs, topics, qrels[qrels["qid"].isin(topics["qid"])]


def test_experiment_milco_fused_bm25_m3(collection, milco, tmp_path):
    docs, topics, qrels = collection
    encoded = milco.doc_encoder()(docs)
    combined = ImpactIndex(tmp_path / "combined", verbose=False).index(milco.doc_encoder(combined=True)(docs))
    pivot = ImpactIndex(tmp_path / "pivot", column="toks", verbose=False).index(encoded)
    source = ImpactIndex(tmp_path / "source", column="src_toks", verbose=False).index(encoded)
    bm25 = BM25Index(tmp_path / "bm25", language="en", verbose=False).index(docs)
    m3 = M3Sparse.from_pretrained(str(build_tiny_m3(tmp_path / "m3")), batch_size=16)
    m3_index = ImpactIndex(tmp_path / "m3_index", verbose=False).index(m3.doc_encoder()(docs))

    milco_combined = milco.query_encoder(combined=True) >> combined.retriever()
    milco_fused = milco.query_encoder() >> DualViewFusion(pivot, source, alpha=0.5)
    systems = [milco_combined, milco_fused, bm25.bm25(), m3.query_encoder() >> m3_index.retriever()]
    res = pt.Experiment(systems, topics, qrels, [nDCG @ 10, R @ 100],
                        names=["milco_combined", "milco_fused", "bm25", "m3_sparse"])
    assert res["name"].tolist() == ["milco_combined", "milco_fused", "bm25", "m3_sparse"]
    assert res[["nDCG@10", "R@100"]].apply(lambda c: c.between(0, 1)).all().all()
    by = res.set_index("name")
    assert by.loc["bm25", "R@100"] > 0.3, "package names shared across languages give BM25 real matches"
    assert by.loc["milco_combined", "nDCG@10"] == pytest.approx(by.loc["milco_fused", "nDCG@10"], abs=1e-9), \
        "alpha = 0.5 fusion ranks as the authors' plain sum on one combined index"
