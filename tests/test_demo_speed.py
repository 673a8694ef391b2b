"""What makes ``make demo`` fast changes none of its results: the query cache of a run-layer MILCO
(both views, pivot only and the pruning curve's combined queries encoded once) gives the vectors an
uncached model gives; the pruning curve, computed in one read of the encoding, equals the old
per-level computation and is cached in the work folder, so a second run neither recomputes it nor
loads a model; token-budget batching gives e5 the same vectors as count batching."""
import numpy as np
import pandas as pd
import pytest

from milco_pt import Milco
from milco_pt.testing.fixtures import ddtp_sample

QUERIES = pd.DataFrame({"qid": ["q1", "q2", "q3", "q4", "q5"],
                        "query": ["the quick fox", "Hund", "the quick fox", "敏捷的棕色狐狸", ""]})


def count_texts(milco) -> list:
    """Texts through ``milco``'s forward passes, appended to the returned list."""
    seen, original = [], milco.encoder.encode_batch

    def encode_batch(enc, **options):
        seen.extend([None] * len(enc["input_ids"]))
        return original(enc, **options)
    milco.encoder.encode_batch = encode_batch
    return seen


@pytest.fixture()
def pair(tiny_path):
    plain = Milco.from_pretrained(str(tiny_path), batch_size=2)
    cached = Milco.from_pretrained(str(tiny_path), batch_size=2)
    cached.query_cache = {}
    return plain, cached


def test_query_cache_encodes_each_query_once_with_the_same_vectors(pair):
    plain, cached = pair
    seen = count_texts(cached)
    for kwargs in (dict(outputs="combined"), dict(views=("pivot",)), dict(combined=True), dict(),
                   dict(outputs=("pivot", "source", "combined"))):
        pd.testing.assert_frame_equal(cached.query_encoder(**kwargs)(QUERIES), plain.query_encoder(**kwargs)(QUERIES))
    assert len(seen) == 3, "three distinct non-empty queries, each through the model once"
    out = cached.query_encoder(views=("pivot",))(QUERIES)
    out["query_toks"][0]["injected"] = 1.0  # an item is a copy: changing it leaves the cache alone
    again = cached.query_encoder(views=("pivot",))(QUERIES)
    assert "injected" not in again["query_toks"][0]
    assert cached.encode_queries(["Hund"]) == plain.encode_queries(["Hund"]), "the plain API is not cached"


def test_query_cache_is_emptied_when_full_and_stays_right(pair, monkeypatch):
    import milco_pt.milco as module
    plain, cached = pair
    monkeypatch.setattr(module, "QUERY_CACHE_SIZE", 4)
    for kwargs in (dict(views=("pivot",)), dict(), dict(views=("source",)), dict()):
        pd.testing.assert_frame_equal(cached.query_encoder(**kwargs)(QUERIES), plain.query_encoder(**kwargs)(QUERIES))
    assert len(cached.query_cache) <= 4 * 2, "emptied before it would pass the limit, then the missing texts added"


def test_query_cache_keys_the_length_limit(pair):
    plain, cached = pair
    cached.query_encoder()(QUERIES)
    cached.query_max_length = plain.query_max_length = 3
    pd.testing.assert_frame_equal(cached.query_encoder()(QUERIES), plain.query_encoder()(QUERIES))


def test_run_layer_milco_has_a_query_cache(tiny_path):
    from milco_pt.run.models import Model
    assert Model("milco", str(tiny_path)).load().query_cache == {}


def _old_pruning_curve(encoding, work, tasks, mini) -> pd.DataFrame:
    """The demo's pruning curve before it read the encoding once (a level: a read of the shards)."""
    import pyterrier as pt
    from pyterrier.measures import nDCG
    from milco_pt.index.exact import ExactIndex
    from milco_pt.pruning import mass_prune, top_k
    from milco_pt.run.demo import MASS_LEVELS, TOPK_LEVELS
    queries = {t: mini.query_encoder(combined=True)(topics[["qid", "query"]]) for t, (topics, _) in tasks}
    rows = []
    for method, levels, fn in (("mass", MASS_LEVELS, mass_prune), ("top-k", TOPK_LEVELS, top_k)):
        for level in levels:
            terms = []

            def pruned(fn=fn, level=level, terms=terms):
                for rec in encoding.records(work):
                    terms.append(len(fn(rec["combined"], level)))
                    yield {"docno": rec["docno"], "toks": fn(rec["combined"], level)}
            index = ExactIndex("toks").index(pruned())
            values = [pt.Experiment([index.retriever(num_results=100)], queries[t], qrels, [nDCG @ 10])
                      ["nDCG@10"][0] for t, (_, qrels) in tasks]
            rows.append({"method": method, "level": level, "value": sum(values) / len(values),
                         "terms_per_doc": sum(terms) / max(len(terms), 1)})
    return pd.DataFrame(rows)


def test_pruning_curve_equals_the_old_one_and_is_cached(tiny_path, tmp_path, monkeypatch):
    from milco_pt.datasets.collection import Collection
    from milco_pt.run import demo
    from milco_pt.run.models import Model
    from milco_pt.run.pipeline import Corpus, Encoding
    from milco_pt.run.work import Work
    docs, _, _ = ddtp_sample("de", "en", 8, 60)
    tasks = []
    for lang in ("de", "ja"):
        _, topics, qrels = ddtp_sample(lang, "en", 8, 60)
        tasks.append((f"{lang}-en", (topics, qrels)))
    corpus = Corpus(Collection("en sample", tasks[0][1][0], tasks[0][1][1], lambda: iter(docs.to_dict("records")),
                               corpus_lang="en"), None, "en")
    work = Work(tmp_path / "work")
    model = Model("milco", str(tiny_path), batch_size=4)
    curve = demo.pruning_curve(Encoding(model, corpus, shard_size=25), work, tasks)
    reference = _old_pruning_curve(Encoding(model, corpus, shard_size=25), work, tasks,
                                   Milco.from_pretrained(str(tiny_path), batch_size=4))
    pd.testing.assert_frame_equal(curve, reference)
    assert len(list((work.root / "curves").glob("*/curve.json"))) == 1

    def recompute(*args, **kwargs):
        raise AssertionError("the cached curve was recomputed")
    monkeypatch.setattr(demo, "_pruning_curve", recompute)
    fresh = Model("milco", str(tiny_path), batch_size=4)
    again = demo.pruning_curve(Encoding(fresh, corpus, shard_size=25), work, tasks)
    pd.testing.assert_frame_equal(again, curve)
    assert fresh._loaded is None, "a cached curve loads no model"
    other = [(t, (topics.head(4), qrels)) for t, (topics, qrels) in tasks]  # other topics: another curve
    monkeypatch.setattr(demo, "_pruning_curve", lambda *a: reference.assign(value=0.0))
    assert (demo.pruning_curve(Encoding(fresh, corpus, shard_size=25), work, other)["value"] == 0).all()


def test_e5_token_budget_gives_the_same_vectors(tmp_path):
    from milco_pt.baselines import E5
    from milco_pt.mini.parts import real_xlmr_tokenizer_path
    from milco_pt.testing.tiny import build_tiny_m3
    path = str(build_tiny_m3(tmp_path / "m3", real_xlmr_tokenizer_path()))
    texts = [("word " * n).strip() for n in (60, 3, 40, 2, 1, 25, 5, 4, 30, 2, 0, 7)] + ["Hund " * 9]
    plain = E5.from_pretrained(path, batch_size=4).encode_docs(texts)
    budget = E5.from_pretrained(path, batch_size=4, token_budget=48).encode_docs(texts)
    assert np.allclose(np.stack(plain), np.stack(budget), atol=1e-5)


def test_second_demo_run_loads_no_model_and_gives_the_same_table(tmp_path, monkeypatch):
    from milco_pt.mini import SHIPPED_DELTA
    from milco_pt.run import demo, models
    if not SHIPPED_DELTA.exists():
        pytest.skip("no shipped milco-mini")
    kwargs = dict(languages=["de"], monolingual=[], max_queries=5, max_docs=20, batch_size=8, work=tmp_path / "work")
    table = demo.run(str(tmp_path / "one"), **kwargs)
    curve = pd.read_csv(tmp_path / "one" / "demo_pruning.csv")

    def load(self):
        raise AssertionError(f"the second run loaded {self.kind}")
    monkeypatch.setattr(models.Model, "load", load)
    again = demo.run(str(tmp_path / "two"), **kwargs)
    assert again.equals(table)
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "two" / "demo_pruning.csv"), curve)


@pytest.fixture(scope="module")
def shipped_models():
    import torch
    from milco_pt.mini import SHIPPED_DELTA
    from milco_pt.run import prebuilt
    from milco_pt.run.demo import demo_models
    if torch.cuda.is_available():
        pytest.skip("the prebuilt vectors are CPU (fp32) vectors; on a GPU the demo encodes")
    if not SHIPPED_DELTA.exists() or not all(prebuilt.path(k).exists() for k in ("milco-mini", "e5")):
        pytest.skip("no shipped milco-mini or prebuilt vectors")
    return demo_models(prebuilt=False)


def test_prebuilt_vectors_are_what_the_shipped_models_encode(shipped_models):
    """The shipped prebuilt vectors carry the shipped models' digests, and a sample of the documents
    re-encoded here gives them (up to float rounding: the original batches differed)."""
    from milco_pt.datasets import get
    from milco_pt.run import prebuilt
    docs = sorted(get(prebuilt.CORPUS).get_corpus_iter(), key=lambda d: len(d["text"]))
    sample = [d["text"] for d in docs[::180]] + [docs[-1]["text"]]  # short to longest (truncated)
    for kind, model in shipped_models.models.items():
        if kind not in ("milco-mini", "e5"):
            continue
        ident, records = prebuilt.load(kind)
        assert len(records) == len({d["text"] for d in docs}), "a record per distinct document text"
        assert prebuilt.identity(model) == ident, f"{kind}: the shipped model is the one the vectors were made with"
        for text, fresh in zip(sample, model.encode_fn()(sample)):
            stored = records[prebuilt.text_key(text)]
            assert stored.keys() == fresh.keys()
            for column, vec in fresh.items():
                if isinstance(vec, dict):
                    small = {t for t in set(vec) ^ set(stored[column]) if max(vec.get(t, 0), stored[column].get(t, 0)) > 1e-3}
                    assert not small, f"{kind} {column}: terms differ {sorted(small)[:5]}"
                    assert all(abs(w - stored[column].get(t, 0)) < 1e-4 for t, w in vec.items())
                else:
                    assert np.allclose(vec, stored[column], atol=1e-5)


def test_prebuilt_vectors_only_for_their_model(shipped_models, monkeypatch):
    """A model with other settings gets none; texts the file lacks are encoded."""
    from milco_pt.run import prebuilt
    from milco_pt.run.models import Model
    e5 = shipped_models["e5"]
    other = Model("e5", e5.source, options={"doc_max_length": 128})
    assert not prebuilt.attach(other) and other.prebuilt is None
    same = Model("e5", e5.source, options=dict(e5.options))
    same.prebuilt = True
    from milco_pt.datasets import get
    texts = ["a text no document has", next(iter(get(prebuilt.CORPUS).get_corpus_iter()))["text"]]
    got = same.encode_fn()(texts)
    assert isinstance(same.prebuilt, dict), "attached: the digests match"
    want = e5.encode_fn()(texts)
    assert np.allclose(got[0]["doc_vec"], want[0]["doc_vec"], atol=1e-5), "a text missing from the file is encoded"
    assert np.allclose(got[1]["doc_vec"], want[1]["doc_vec"], atol=1e-5)


def test_prebuilt_file_round_trip_is_exact(tiny_path, tmp_path):
    """The prebuilt format gives back the very records (keys, order, float32 weights, combined), and
    a model that has them encodes only the texts they lack."""
    from milco_pt.run import prebuilt
    from milco_pt.run.models import Model
    texts = ["the quick brown fox", "Hund und Katze", "敏捷的棕色狐狸", "", "fox fox fox"]
    model = Model("milco", str(tiny_path), batch_size=2)
    records = model.encode_fn()(texts)
    file = prebuilt.save(model, texts, records, tmp_path / "milco.npz")
    ident, stored = prebuilt.load("milco", file)
    assert ident == prebuilt.identity(model)
    for text, rec in zip(texts, records):
        got = stored[prebuilt.text_key(text)]
        assert got == rec and all(list(got[c]) == list(rec[c]) for c in rec), "same terms, order and weights"
    fresh = Model("milco", str(tiny_path), batch_size=2)
    fresh.prebuilt = True
    encode = fresh.encode_fn()
    prebuilt_file = prebuilt.path
    try:
        prebuilt.path = lambda kind: file
        seen = count_texts(fresh.load())
        assert encode(texts + ["a new text"]) == records + model.encode_fn()(["a new text"])
    finally:
        prebuilt.path = prebuilt_file
    assert len(seen) == 1, "only the text the file lacks went through the model"


def test_prebuilt_dense_round_trip_is_exact(tmp_path):
    from milco_pt.run import prebuilt
    from milco_pt.mini.parts import real_xlmr_tokenizer_path
    from milco_pt.run.models import Model
    from milco_pt.testing.tiny import build_tiny_m3
    path = str(build_tiny_m3(tmp_path / "m3", real_xlmr_tokenizer_path()))
    texts = ["the quick brown fox", "Hund und Katze", "", "fox fox fox"]
    model = Model("e5", path, batch_size=2)
    records = model.encode_fn()(texts)
    ident, stored = prebuilt.load("e5", prebuilt.save(model, texts, records, tmp_path / "e5.npz"))
    assert ident == prebuilt.identity(model)
    assert [stored[prebuilt.text_key(t)] for t in texts] == records
