"""The shared encoder base (milco_pt.encoding): one batching loop for MILCO and the baselines, one
part transformer, and MILCO's combined e_/m_ column as an output of its own."""
import pandas as pd
import pyterrier as pt
import pytest

from milco_pt.baselines import Splade
from milco_pt.encoding import BatchEncoder, EncoderPart
from milco_pt.testing.tiny import build_tiny_splade
from milco_pt.views import combine_all

from conftest import TEXTS

MIXED = ["fox", "", "the quick brown fox jumps over the lazy dog", "   ", "Der schnelle Hund", "dog"]


@pytest.fixture(scope="module")
def splade(tmp_path_factory):
    return Splade.from_pretrained(str(build_tiny_splade(tmp_path_factory.mktemp("s") / "splade")), batch_size=2)


def same_vector(got: dict, ref: dict) -> bool:
    """Equal up to float32 noise: batching with padding reorders sums, so a weight may move by ~1e-8
    (and one that small may drop out); padding leaking into the weights moves them far more."""
    return all(got.get(t, 0.0) == pytest.approx(ref.get(t, 0.0), rel=1e-5, abs=1e-6) for t in set(got) | set(ref))


def record_batches(encoder, monkeypatch) -> list:
    """Patch ``encoder.tokenizer`` to log the texts of each batch it tokenizes."""
    seen, tokenizer = [], encoder.tokenizer

    def logged(texts, **kwargs):
        seen.append(list(texts))
        return tokenizer(texts, **kwargs)
    monkeypatch.setattr(encoder, "tokenizer", logged)
    return seen


@pytest.mark.parametrize("which", ["milco", "splade"])
def test_same_batching_for_milco_and_a_baseline(which, milco, splade, monkeypatch):
    encoder = milco.encoder if which == "milco" else splade
    assert isinstance(encoder, BatchEncoder) and type(encoder).encode_batches is BatchEncoder.encode_batches
    alone = [milco.encode_docs([t]) if which == "milco" else splade.encode_docs([t]) for t in MIXED]
    seen = record_batches(encoder, monkeypatch)
    together = milco.encode_docs(MIXED) if which == "milco" else splade.encode_docs(MIXED)
    assert seen == [[MIXED[2], MIXED[4]], [MIXED[0], MIXED[5]]], "longest first, empty texts skip the model"
    assert together[1] == {} and together[3] == {}
    for got, ref in zip(together, alone):
        assert same_vector(got, ref[0])


@pytest.mark.parametrize("which", ["milco", "splade"])
def test_same_progress_bar_for_milco_and_a_baseline(which, milco, splade, monkeypatch):
    bars = []

    def tqdm(batches, desc, unit):
        bars.append((len(batches), desc, unit))
        return batches
    monkeypatch.setattr(pt, "tqdm", tqdm)
    factory = milco if which == "milco" else splade
    frame = pd.DataFrame({"docno": [f"d{i}" for i in range(len(TEXTS))], "text": TEXTS})
    factory.doc_encoder(verbose=True)(frame)
    factory.doc_encoder()(frame)
    assert bars == [(3, "Encoding documents", "batch")]


def test_parts_are_one_class_with_reprs_that_read_as_code(milco, splade):
    for part in (milco.query_encoder(), milco.doc_encoder(), milco.scorer(), splade.query_encoder(),
                 splade.doc_encoder(), splade.scorer()):
        assert isinstance(part, EncoderPart)
    assert repr(splade.doc_encoder(batch_size=4)) == repr(splade) + ".doc_encoder(batch_size=4)"
    assert repr(milco.query_encoder(outputs="combined")) == repr(milco) + ".query_encoder(outputs='combined')"
    assert repr(milco.scorer()) == repr(milco) + ".scorer()"


def test_baseline_query_encoder_encodes_each_distinct_query_once(splade, monkeypatch):
    seen = record_batches(splade, monkeypatch)
    out = splade.query_encoder()(pd.DataFrame({"qid": ["1", "2", "3"], "query": ["fox", "dog", "fox"]}))
    assert sorted(t for b in seen for t in b) == ["dog", "fox"]
    assert out["query_toks"][0] == out["query_toks"][2] != out["query_toks"][1]


def test_combined_output_equals_combine_all_of_the_views(milco):
    docs = pd.DataFrame({"docno": [f"d{i}" for i in range(len(TEXTS))], "text": TEXTS})
    out = milco.doc_encoder(outputs=("pivot", "source", "combined"))(docs)
    assert list(out.columns) == ["docno", "text", "toks", "src_toks", "combined"]
    views = milco.doc_encoder()(docs)
    assert out["toks"].tolist() == views["toks"].tolist() and out["src_toks"].tolist() == views["src_toks"].tolist()
    assert out["combined"].tolist() == combine_all({"pivot": views["toks"].tolist(),
                                                    "source": views["src_toks"].tolist()})
    assert out["combined"].tolist() == milco.doc_encoder(combined=True)(docs)["toks"].tolist()
    only = milco.doc_encoder(outputs="combined")(docs)
    assert list(only.columns) == ["docno", "text", "combined"] and only["combined"].tolist() == out["combined"].tolist()


def test_query_combined_column_and_pivot_only_combination(milco):
    topics = pd.DataFrame({"qid": ["1", "2"], "query": ["brown fox", "Hund"]})
    out = milco.query_encoder(outputs=("pivot", "source", "combined"))(topics)
    assert list(out.columns) == ["qid", "query", "query_toks", "query_src_toks", "query_combined"]
    assert out["query_combined"].tolist() == combine_all({"pivot": out["query_toks"].tolist(),
                                                          "source": out["query_src_toks"].tolist()})
    pivot = milco.query_encoder(views="pivot", outputs=("pivot", "combined"))(topics)
    assert pivot["query_combined"].tolist() == combine_all({"pivot": out["query_toks"].tolist()})
    assert pt.inspect.transformer_outputs(milco.query_encoder(outputs="combined"), ["qid", "query"]) == \
        ["qid", "query", "query_combined"]


def test_combined_column_retrieves_as_the_two_views_do(milco):
    from milco_pt import ExactIndex
    docs = pd.DataFrame({"docno": [f"d{i}" for i in range(len(TEXTS))], "text": TEXTS})
    topics = pd.DataFrame({"qid": ["1", "2"], "query": ["brown fox", "Hund"]})
    combined = ExactIndex("combined").index(milco.doc_encoder(outputs="combined")(docs))
    views = ExactIndex(["toks", "src_toks"]).index(milco.doc_encoder()(docs))
    a = (milco.query_encoder(outputs="combined") >> combined.retriever(num_results=3))(topics)
    b = (milco.query_encoder() >> views.retriever(num_results=3))(topics)
    assert a["docno"].tolist() == b["docno"].tolist()
    assert a["score"].tolist() == pytest.approx(b["score"].tolist(), rel=1e-6)


@pytest.mark.parametrize("kwargs,match", [
    (dict(combined=True, outputs=("combined",)), "pass one of them"),
    (dict(outputs=("pivot", "both")), "non-empty subset"),
    (dict(outputs=()), "non-empty subset"),
    (dict(views="pivot", outputs=("source",)), r"outputs \['source'\] are views that are not encoded"),
])
def test_bad_outputs_name_the_fix(milco, kwargs, match):
    with pytest.raises(ValueError, match=match):
        milco.doc_encoder(**kwargs)


def test_token_budget_batches_give_the_same_vectors_with_less_padding(tiny_path):
    """GPU throughput: batches filled up to a token budget (short texts in big batches) instead of a
    fixed count; same vectors, fewer padded positions (checked on CPU)."""
    from milco_pt import Milco
    texts = [("word " * n).strip() for n in (60, 3, 40, 2, 1, 25, 5, 4, 30, 2, 0, 7)] + ["Hund " * 9]
    plain = Milco.from_pretrained(str(tiny_path), batch_size=4)
    budget = Milco.from_pretrained(str(tiny_path), batch_size=4, token_budget=48)
    assert "token_budget=48" in repr(budget)
    shapes = {}
    for name, m in (("plain", plain), ("budget", budget)):
        seen = []
        original = m.encoder.encode_batch
        m.encoder.encode_batch = lambda enc, **o: seen.append(tuple(enc["input_ids"].shape)) or original(enc, **o)
        shapes[name] = seen
        m.vectors = m.encode_docs(texts, combined=False)
    for view in plain.vectors:
        for a, b in zip(plain.vectors[view], budget.vectors[view]):
            assert a.keys() == b.keys() and all(abs(a[t] - b[t]) < 1e-5 for t in a)
    assert all(rows * length <= 48 or rows == 1 for rows, length in shapes["budget"])
    padded = {k: sum(r * n for r, n in v) for k, v in shapes.items()}
    assert padded["budget"] < padded["plain"]
