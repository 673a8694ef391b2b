"""Each benchmark loader on a tiny fixture written in its upstream format (no network)."""
import gzip
import json
import subprocess
import sys
import textwrap

import pandas as pd
import pyterrier as pt
import pytest

from milco_pt import datasets
from milco_pt.measures import AnswerRecall, has_answer


def write_jsonl(path, rows, gz=False):
    path.parent.mkdir(parents=True, exist_ok=True)
    data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("utf-8")
    path.write_bytes(gzip.compress(data) if gz else data)


def test_miracl_through_ir_datasets_cache_layout(tmp_path):
    home = tmp_path / "irds"
    base = home / "miracl" / "v1.0" / "sw"
    write_jsonl(base / "docs" / "docs-0.jsonl.gz", [{"docid": "1#0", "title": "Nairobi", "text": "Mji Mkuu wa Kenya."},
                                                    {"docid": "2#0", "title": "Mombasa", "text": "Mji wa Pwani."}], gz=True)
    (base / "dev").mkdir(parents=True)
    (base / "dev" / "topics.tsv").write_text("7\tMji mkuu wa Kenya ni upi?\n", encoding="utf-8")
    (base / "dev" / "qrels.tsv").write_text("7\tQ0\t1#0\t1\n7\tQ0\t2#0\t0\n", encoding="utf-8")
    code = textwrap.dedent("""
        import json
        from milco_pt import datasets
        ds = datasets.get("miracl/sw/dev")
        print(json.dumps({"topics": ds.get_topics().values.tolist(), "qrels": ds.get_qrels().values.tolist(),
                          "docs": list(ds.get_corpus_iter()), "repr": repr(ds)}))
    """)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env={**__import__("os").environ, "IR_DATASETS_HOME": str(home)})
    assert r.returncode == 0, r.stderr[-2000:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["topics"] == [["7", "Mji mkuu wa Kenya ni upi?"]]
    assert out["qrels"] == [["7", "1#0", 1], ["7", "2#0", 0]]
    assert out["docs"][0] == {"docno": "1#0", "text": "nairobi mji mkuu wa kenya."}, "title + text, lowercased"
    assert out["repr"] == "milco_pt.datasets.get('miracl/sw/dev')"


def test_mldr_folder(tmp_path):
    sub = tmp_path / "mldr-v1.0-ja"
    write_jsonl(sub / "corpus.jsonl.gz", [{"docid": "doc-ja-1", "text": "長い文書" * 50}, {"docid": "doc-ja-2", "text": "別"}], gz=True)
    write_jsonl(sub / "test.jsonl.gz", [{"query_id": "q-ja-1", "query": "文書", "positive_passages": [
        {"docid": "doc-ja-1", "title": "", "text": "長い文書"}], "negative_passages": []}], gz=True)
    ds = datasets.get("mldr/ja/test", folder=tmp_path)
    assert ds.get_topics().values.tolist() == [["q-ja-1", "文書"]]
    assert ds.get_qrels().values.tolist() == [["q-ja-1", "doc-ja-1", 1]]
    assert [d["docno"] for d in ds.get_corpus_iter()] == ["doc-ja-1", "doc-ja-2"]
    with pytest.raises(ValueError, match="no language"):
        datasets.get("mldr/xx/test", folder=tmp_path)


def test_limit_and_beir_format(tmp_path):
    write_jsonl(tmp_path / "corpus.jsonl", [{"_id": "Ada Lovelace", "title": "", "text": "Ada likes quokkas and apples."},
                                            {"_id": "Bob", "title": "T", "text": "Bob likes pears."}])
    write_jsonl(tmp_path / "queries.jsonl", [{"_id": "0", "text": "Who likes quokkas?"}, {"_id": "9", "text": "unjudged"}])
    (tmp_path / "qrels").mkdir()
    (tmp_path / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\n0\tAda Lovelace\t1\n", encoding="utf-8")
    ds = datasets.get("limit", folder=tmp_path)
    assert ds.get_topics().values.tolist() == [["0", "Who likes quokkas?"]]
    assert ds.get_qrels().values.tolist() == [["0", "Ada Lovelace", 1]]
    assert list(ds.get_corpus_iter())[1] == {"docno": "Bob", "text": "T Bob likes pears."}


def test_mkqa_answer_recall_in_an_experiment(tmp_path):
    write_jsonl(tmp_path / "qa_data" / "ja.jsonl", [{"id": 11, "question": "フランスの首都は?", "answers": ["Paris"]},
                                                    {"id": 12, "question": "ドイツの首都は?", "answers": ["Berlin", "Berlín"]}])
    write_jsonl(tmp_path / "corpus.jsonl", [{"docid": str(i), "title": f"T{i}", "text": t} for i, t in enumerate(
        ["Paris is the capital of France.", "Nothing.", "Berlin, Germany", "Parisian food"])])
    ds = datasets.get("mkqa/ja", folder=tmp_path)
    assert ds.answers == {"11": ["Paris"], "12": ["Berlin", "Berlín"]}
    passages = {d["docno"]: d["passage"] for d in ds.get_corpus_iter()}
    run = pd.DataFrame({"qid": ["11", "11", "12", "12"], "docno": ["3", "0", "1", "2"], "score": [2.0, 1.0, 2.0, 1.0]})
    m = AnswerRecall(ds.answers, passages)
    res = pt.Experiment([pt.Transformer.from_df(run)], ds.get_topics(), ds.get_qrels(), [m @ 1, m @ 2], names=["r"])
    assert res["AnswerRecall@1"][0] == 0.0 and res["AnswerRecall@2"][0] == 1.0
    assert has_answer("Paris is", ["paris"]) and not has_answer("Parisian food", ["Paris"])


def test_unknown_names_explain_the_choices():
    with pytest.raises(ValueError, match="miracl/<lang>/<split>"):
        datasets.get("nope")
    with pytest.raises(ValueError, match="folder="):
        datasets.get("mkqa/ja")


def run_in_irds_home(home, code):
    r = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                       env={**__import__("os").environ, "IR_DATASETS_HOME": str(home)})
    assert r.returncode == 0, r.stderr[-2000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


READ = """
    import json
    from milco_pt import datasets
    ds = datasets.get({name!r})
    print(json.dumps({{"topics": ds.get_topics().values.tolist(), "qrels": ds.get_qrels().values.tolist(),
                      "docs": list(ds.get_corpus_iter())}}))
"""


def test_beir_through_ir_datasets_zip(tmp_path):
    import zipfile
    home = tmp_path / "irds"
    (home / "beir" / "scifact").mkdir(parents=True)
    with zipfile.ZipFile(home / "beir" / "scifact" / "source.zip", "w") as z:
        z.writestr("scifact/corpus.jsonl", json.dumps({"_id": "4983", "title": "Microstructural", "text": "Alterations.",
                                                       "metadata": {}}) + "\n")
        z.writestr("scifact/queries.jsonl", json.dumps({"_id": "1", "text": "0-dimensional biomaterials", "metadata": {}}) + "\n")
        z.writestr("scifact/qrels/test.tsv", "query-id\tcorpus-id\tscore\n1\t4983\t1\n")
    out = run_in_irds_home(home, READ.format(name="beir/scifact/test"))
    assert out["topics"] == [["1", "0-dimensional biomaterials"]]
    assert out["qrels"] == [["1", "4983", 1]]
    assert out["docs"] == [{"docno": "4983", "text": "Microstructural Alterations."}]


def test_mrtydi_through_ir_datasets_extracted_tarball(tmp_path):
    home = tmp_path / "irds"
    root = home / "mr-tydi" / "sw.data" / "mrtydi-v1.0-swahili"  # where ir_datasets extracts the upstream tarball
    (root / "collection").mkdir(parents=True)
    (home / "mr-tydi" / "irds_version.txt").write_text("v2")
    (root / "collection" / "docs.jsonl.gz").write_bytes(gzip.compress(
        (json.dumps({"id": "7#0", "title": "Nairobi", "contents": "Mji mkuu."}) + "\n").encode()))
    (root / "topic.test.tsv").write_text("3\tMji mkuu ni upi?\n", encoding="utf-8")
    (root / "qrels.test.txt").write_text("3 Q0 7#0 1\n", encoding="utf-8")
    out = run_in_irds_home(home, READ.format(name="mrtydi/sw/test"))
    assert out["topics"] == [["3", "Mji mkuu ni upi?"]]
    assert out["qrels"] == [["3", "7#0", 1]]
    assert out["docs"][0]["docno"] == "7#0" and "Mji mkuu." in out["docs"][0]["text"]


def test_neuclir_through_ir_datasets_cache_layout(tmp_path):
    home = tmp_path / "irds"
    base = home / "neuclir"
    (base / "1" / "fas").mkdir(parents=True)
    (base / "trec-2022").mkdir(parents=True)
    doc = {"id": "d-1", "title": "تهران", "text": "پایتخت ایران", "url": "u", "time": "t", "cc_file": "c"}
    (base / "1" / "fas" / "docs.jsonl.gz").write_bytes(gzip.compress((json.dumps(doc) + "\n").encode()))
    topic = lambda lang, source, title: {"lang": lang, "source": source, "topic_title": title,  # noqa: E731
                                         "topic_description": f"{title}?", "topic_narrative": "n"}
    line = {"topic_id": "12", "languages_with_qrels": ["fas"], "narratives": {"fas": {}},
            "topics": [topic("eng", "original", "capital of Iran"), topic("fas", "human translation", "پایتخت"),
                       topic("fas", "machine translation", "پایتخت ایران")]}
    (base / "trec-2022" / "topics.jsonl").write_text(json.dumps(line, ensure_ascii=False) + "\n", encoding="utf-8")
    (base / "trec-2022" / "qrels").write_text("12 fas d-1 3\n12 zho z-9 1\n", encoding="utf-8")
    out = run_in_irds_home(home, READ.format(name="neuclir/fa/trec-2022"))
    assert out["topics"] == [["12", "capital of Iran"]], "English topic titles (cross-language retrieval)"
    assert out["qrels"] == [["12", "d-1", 3]], "only the Persian judgements"
    assert out["docs"] == [{"docno": "d-1", "text": "تهران پایتخت ایران"}]
