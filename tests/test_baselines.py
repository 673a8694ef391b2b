import numpy as np
import pandas as pd
import pytest
import torch

from milco_pt import ExactIndex
from milco_pt.baselines import E5, FlatIndex, M3Dense, M3Sparse, Splade
from milco_pt.hub import MissingFilesError
from milco_pt.index.anserini import ImpactIndex, quantize
from milco_pt.mini.parts import real_xlmr_tokenizer_path
from milco_pt.testing.tiny import build_tiny_m3, build_tiny_splade

from conftest import TEXTS


@pytest.fixture(scope="module")
def splade(tmp_path_factory):
    return Splade.from_pretrained(str(build_tiny_splade(tmp_path_factory.mktemp("s") / "splade")), batch_size=2)


@pytest.fixture(scope="module")
def m3_path(tmp_path_factory):
    return str(build_tiny_m3(tmp_path_factory.mktemp("m") / "m3", real_xlmr_tokenizer_path()))


def splade_reference(model, tok, text):
    enc = tok([text], return_tensors="pt", truncation=True, max_length=512)
    with torch.no_grad():
        logits = model(**enc).logits[0].double()
    rep = torch.log1p(torch.relu(logits)).max(0).values
    names = tok.convert_ids_to_tokens(list(range(len(rep))))
    return {names[i]: float(rep[i]) for i in torch.nonzero(rep > 0).flatten().tolist()}


def m3_reference(m3, text):
    tok, model = m3.tokenizer, m3.model
    enc = tok([text], return_tensors="pt", truncation=True, max_length=8192)
    with torch.no_grad():
        w = torch.relu(model.sparse_linear(model(enc["input_ids"], enc["attention_mask"]))).squeeze(-1)[0]
    out = {}
    specials = {tok.cls_token_id, tok.eos_token_id, tok.pad_token_id, tok.unk_token_id}
    for i, wi in zip(enc["input_ids"][0].tolist(), w.tolist()):
        if i not in specials and wi > 0:
            piece = tok.convert_ids_to_tokens(i)
            out[piece] = max(out.get(piece, 0.0), wi)
    return out


def assert_close(a, b, tol=1e-5):
    assert set(a) == set(b)
    for t in a:
        assert a[t] == pytest.approx(b[t], abs=tol)


def test_splade_matches_reference_in_padded_batches(splade):
    texts = ["the quick brown fox jumps over the lazy dog", "fox", "Der schnelle Hund", ""]
    got = splade.encode_docs(texts)
    for text, vec in zip(texts[:3], got):
        assert_close(vec, splade_reference(splade.model, splade.tokenizer, text))
    assert got[3] == {}
    assert None not in got[0] and all(isinstance(t, str) for t in got[0])


def test_m3_sparse_matches_flagembedding_formula(m3_path):
    m3 = M3Sparse.from_pretrained(m3_path, batch_size=2)
    got = m3.encode_docs(TEXTS)
    for text, vec in zip(TEXTS, got):
        assert_close(vec, m3_reference(m3, text))
        assert not {"<s>", "</s>", "<pad>", "<unk>"} & set(vec)
    assert m3.encode_docs(["fox " * 3000])[0], "inputs longer than the position table are truncated"
    q = m3.encode_queries(["brown fox"])[0]
    assert m3.score("brown fox", TEXTS[0]) == pytest.approx(sum(w * got[0].get(t, 0) for t, w in q.items()), rel=1e-6)


def test_m3_sparse_feeds_impact_index(m3_path, tmp_path):
    m3 = M3Sparse.from_pretrained(m3_path, batch_size=2)
    docs = m3.doc_encoder()(pd.DataFrame({"docno": [f"d{i}" for i in range(len(TEXTS))], "text": TEXTS}))
    queries = m3.query_encoder()(pd.DataFrame({"qid": ["1", "2"], "query": ["brown fox", "Hund"]}))
    lucene = ImpactIndex(tmp_path / "m3", verbose=False).index(docs).retriever(num_results=3)(queries)
    q = queries.assign(query_toks=[quantize(v, 100) for v in queries["query_toks"]])
    exact = ExactIndex("toks").index(docs.assign(toks=[quantize(v, 100) for v in docs["toks"]])).retriever(
        num_results=3)(q)
    assert lucene[["qid", "docno", "score"]].values.tolist() == exact[["qid", "docno", "score"]].values.tolist()


def test_dense_encoders_and_flat_index(m3_path):
    dense = M3Dense.from_pretrained(m3_path, batch_size=2)
    vecs = dense.encode_docs(TEXTS)
    assert all(abs(np.linalg.norm(v) - 1) < 1e-5 for v in vecs)
    single = dense.encode_docs([TEXTS[0]])[0]
    assert np.allclose(single, vecs[0], atol=1e-5), "padding must not change a vector"
    e5 = E5.from_pretrained(m3_path, batch_size=2)
    enc = e5.tokenizer(["query: fox"], return_tensors="pt")
    with torch.no_grad():
        h = e5.model(**enc).last_hidden_state[0].mean(0)
    assert np.allclose(e5.encode_queries(["fox"])[0], (h / h.norm()).numpy(), atol=1e-5)
    assert not np.allclose(e5.encode_queries(["fox"])[0], e5.encode_docs(["fox"])[0])
    docs = pd.DataFrame({"docno": [f"d{i}" for i in range(len(TEXTS))], "text": TEXTS})
    index = FlatIndex().index(dense.doc_encoder()(docs))
    queries = dense.query_encoder()(pd.DataFrame({"qid": ["1", "2"], "query": ["fox", "Hund"]}))
    res = index.retriever(num_results=3)(queries)
    for qid, qv in zip(queries["qid"], queries["query_vec"]):
        brute = sorted(range(len(TEXTS)), key=lambda i: (-float(np.dot(qv, vecs[i])), i))[:3]
        assert res[res["qid"] == qid]["docno"].tolist() == [f"d{i}" for i in brute]
    scored = dense.scorer()(pd.DataFrame({"qid": ["1"], "query": ["fox"], "docno": ["d0"], "text": [TEXTS[0]]}))
    assert scored["score"][0] == pytest.approx(float(np.dot(dense.encode_queries(["fox"])[0], vecs[0])), abs=1e-5)


def test_flat_index_ties_rank_by_index_order():
    index = FlatIndex().index([{"docno": f"d{i}", "doc_vec": np.ones(2, dtype=np.float32)} for i in range(5)])
    res = index.retriever(num_results=3)(pd.DataFrame({"qid": ["q"], "query_vec": [np.ones(2)]}))
    assert res["docno"].tolist() == ["d0", "d1", "d2"]


def test_loading_errors_name_the_fix(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="SPLADE checkpoint"):
        Splade.from_pretrained(str(tmp_path / "empty"))
    with pytest.raises(MissingFilesError, match="hf download BAAI/bge-m3.*sparse_linear.pt"):
        M3Sparse.from_pretrained("BAAI/bge-m3", local_files_only=True)


def test_dispatch_and_repr(splade):
    assert repr(splade) == f"Splade.from_pretrained({splade.name!r}, batch_size=2)"
    assert "query_toks" in splade(pd.DataFrame({"qid": ["1"], "query": ["fox"]})).columns
    assert "toks" in splade(pd.DataFrame({"docno": ["1"], "text": ["fox"]})).columns
    with pytest.raises(ValueError, match="row 0"):
        splade.encode_docs([None])
