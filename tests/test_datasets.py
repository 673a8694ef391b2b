import gzip
import json

import pandas as pd
import pyterrier as pt
import pytest

from milco_pt import datasets
from milco_pt.cli import main
from milco_pt.datasets.ddtp import ascii_words, join_lines, languages, parse_description
from milco_pt.datasets.ddtp_build import base_name, build, split_of


def stanza(pkg, md5, lang, short, *long_lines):
    body = "".join(f" {line}\n" for line in long_lines)
    return f"Package: {pkg}\nDescription-md5: {md5}\nDescription-{lang}: {short}\n{body}\n"


EN = [("foo", "m1", "fast file finder", "Foo finds files quickly.", " .", "It indexes the disk."),
      ("foo-doc", "m2", "documentation for foo", "This package has the manual of foo."),
      ("libbar2", "m3", "bar library", "Bar parses XML documents."),
      ("libbar-dev", "m4", "bar library - development files", "Headers for the bar XML library."),
      ("baz", "m5", "transitional package", "Transitional dummy package."),
      ("qux", "m6", "transitional package", "Transitional dummy package."),
      ("kanji", "m7", "Japanese input method", "An input method for Japanese.")]
DE = [("foo", "m1", "schneller Dateisucher", "Foo findet Dateien schnell."),
      ("libbar2", "m3", "Bibliothek bar", "Bar zerlegt XML-Dokumente."),
      ("kanji", "OLD", "Eingabemethode", "Veraltete Übersetzung."),
      ("baz", "m5", "Übergangspaket", "Leeres Übergangspaket."), ("qux", "m6", "Übergangspaket", "Leer.")]
JA = [("foo", "m1", "高速なファイル検索", "Foo はファイルを", "素早く見つけます。"),
      ("kanji", "m7", "日本語入力メソッド", "日本語の入力メソッドです。")]


@pytest.fixture(scope="module")
def lists(tmp_path_factory):
    d = tmp_path_factory.mktemp("lists")
    for lang, rows in (("en", EN), ("de", DE), ("ja", JA)):
        text = "".join(stanza(p, m, lang, s, *ls) for p, m, s, *ls in rows)
        (d / f"deb.debian.org_debian_dists_bookworm_main_i18n_Translation-{lang}.gz").write_bytes(
            gzip.compress(text.encode("utf-8"), mtime=0))
    (d / "deb.debian.org_debian_dists_bookworm_InRelease").write_text("Date: Sat, 11 Jul 2026 10:16:37 UTC\n")
    return d


def test_build_rules_and_determinism(lists, tmp_path):
    m1 = build(lists, tmp_path / "a", min_queries=1)
    build(lists, tmp_path / "b", min_queries=1)
    for f in ("docs.jsonl.xz", "queries.jsonl.xz", "manifest.json"):
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes()
    assert m1["archive_date"] == "Sat, 11 Jul 2026 10:16:37 UTC"
    docs = pd.read_json(tmp_path / "a" / "docs.jsonl.xz", lines=True, dtype=False)
    queries = pd.read_json(tmp_path / "a" / "queries.jsonl.xz", lines=True, dtype=False)
    en = docs[docs["lang"] == "en"].set_index("docno")
    assert en.loc["foo", "group"] == en.loc["foo-doc", "group"] == "foo"
    assert en.loc["libbar2", "group"] == en.loc["libbar-dev", "group"]
    assert en.loc["baz", "group"] != en.loc["qux", "group"], "short shared texts must not merge packages"
    assert en.loc["foo", "text"] == "Foo finds files quickly.\nIt indexes the disk."
    ja = docs[docs["lang"] == "ja"].set_index("docno")
    assert ja.loc["foo", "text"] == "Foo はファイルを素早く見つけます。", "no space between CJK lines"
    de_q = queries[queries["lang"] == "de"]
    assert "de-kanji" not in set(de_q["qid"]), "a translation of an old description (md5) is dropped"
    en_q = queries[queries["lang"] == "en"]
    assert not {"en-baz", "en-qux"} & set(en_q["qid"]), "a short text shared by two groups is ambiguous"
    assert set(queries["split"]) <= {"train", "dev", "test"}


def test_split_and_names_are_stable():
    # literal values: the split of a group must never change between versions (sha1 of the name)
    assert [split_of(g) for g in ("foo", "pkg0", "pkg11", "pkg16")] == ["train", "train", "dev", "test"]
    counts = pd.Series([split_of(f"pkg{i}") for i in range(5000)]).value_counts(normalize=True)
    assert abs(counts["train"] - 0.8) < 0.03 and abs(counts["test"] - 0.1) < 0.02
    assert base_name("libgtkmm-3.0-dev") == "libgtkmm" and base_name("libx11-6") == "libx11"
    assert base_name("bind9") == "bind9" and base_name("python3.11-dbg") == "python"


def test_parser_details():
    assert join_lines(["日本語の", "入力", "and", "more"]) == "日本語の入力 and more"
    assert parse_description("short\n a\n b\n .\n c") == ("short", "a b\nc")
    assert ascii_words("GNU の Emacs 2 x") == {"gnu", "emacs"}


def test_shipped_collection_tasks():
    langs = languages()
    assert len(langs) >= 14 and {"en", "de", "fr", "ja", "ko", "zh_CN", "uk", "pt_BR"} <= set(langs)
    ds = datasets.get("ddtp/ja-en/test")
    topics, qrels = ds.get_topics(), ds.get_qrels()
    docnos = {d["docno"] for d in ds.get_corpus_iter()}
    assert len(topics) > 300 and set(qrels["qid"]) == set(topics["qid"]) and set(qrels["docno"]) <= docnos
    hard = ds.get_topics("hard")
    assert 0 < len(hard) < len(topics) and not hard["shares_latin_word"].any()
    assert set(ds.get_qrels("hard")["qid"]) == set(hard["qid"])
    train = datasets.get("ddtp/ja-en/train")
    assert not set(train.get_topics()["group"]) & set(topics["group"]), "splits share no group"
    mono = datasets.get("ddtp/de-de/test")
    first = next(mono.get_corpus_iter())
    assert mono.get_corpus_lang() == "de" and first["docno"] and first["text"]
    assert repr(ds) == "milco_pt.datasets.get('ddtp/ja-en/test')"
    with pytest.raises(ValueError, match="has no language 'xx'"):
        datasets.get("ddtp/xx-en/test")
    with pytest.raises(ValueError, match="look like"):
        datasets.get("ddtp/ja-en")


def test_local_collection_in_an_experiment(tmp_path):
    corpus = tmp_path / "corpus.jsonl.gz"
    with gzip.open(corpus, "wt", encoding="utf-8") as f:
        for i, (title, text) in enumerate([("Hund", "ein Tier"), ("Katze", "auch ein Tier"), ("Auto", "fährt")]):
            f.write(json.dumps({"_id": f"d{i}", "title": title, "text": text}) + "\n")
    (tmp_path / "topics.tsv").write_text("q1\tHund\nq2\tAuto\n", encoding="utf-8")
    (tmp_path / "qrels.txt").write_text("q1 0 d0 1\nq2 0 d2 1\n", encoding="utf-8")
    ds = datasets.local(corpus=corpus, topics=tmp_path / "topics.tsv", qrels=tmp_path / "qrels.txt")
    assert next(ds.get_corpus_iter()) == {"docno": "d0", "text": "Hund ein Tier"}
    docs = ds.get_corpus_frame()
    scorer = pt.apply.doc_score(lambda r: float(r["query"].lower() in r["text"].lower()))
    run = pt.Transformer.from_df(ds.get_topics().merge(docs, how="cross"))
    res = pt.Experiment([run >> scorer], ds.get_topics(), ds.get_qrels(), ["P.1"], names=["substring"])
    assert res["P.1"][0] == 1.0
    with pytest.raises(FileNotFoundError, match="qrels file"):
        datasets.local(corpus=corpus, topics=tmp_path / "topics.tsv", qrels=tmp_path / "none")


def test_cli_build_and_info(lists, tmp_path, capsys):
    main(["datasets", "build-ddtp", "--lists", str(lists), "--out", str(tmp_path / "c"), "--min-queries", "1"])
    out = capsys.readouterr().out
    assert "ja" in out and (tmp_path / "c" / "manifest.json").exists()
    main(["datasets", "info", "ddtp/ko-en/test"])
    assert "queries" in capsys.readouterr().out


def test_malformed_qrels_name_the_file_and_line(tmp_path):
    from milco_pt.datasets.formats import read_qrels
    path = tmp_path / "qrels.txt"
    path.write_text("q1 0 d1 1\nq1 0 d2 0.5\n")
    with pytest.raises(ValueError, match=r"qrels.txt:2: the relevance label '0.5' is not an integer"):
        read_qrels(path)
    path.write_text("q1 0 d1 1\nq2 d2 1\n")
    with pytest.raises(ValueError, match=r"qrels.txt:2: a TREC qrels line"):
        read_qrels(path)
    path.write_text("q1 0 d1 2\n\nq2 Q0 d7 0\n")
    assert read_qrels(path).values.tolist() == [["q1", "d1", 2], ["q2", "d7", 0]]


def test_sample_keeps_the_relevant_documents_and_variants():
    ds = datasets.get("ddtp/ja-en/test")
    small = ds.sample(queries=20, docs=50)
    topics, qrels, docs = small.get_topics(), small.get_qrels(), small.get_corpus_frame()
    assert list(topics["qid"]) == list(ds.get_topics()["qid"].head(20))
    assert set(qrels["qid"]) <= set(topics["qid"]) and set(qrels["docno"]) <= set(docs["docno"])
    first = list(ds.get_corpus_frame()["docno"].head(50))
    assert set(first) <= set(docs["docno"]) and len(docs) == len(set(first) | set(qrels["docno"]))
    hard = small.get_topics("hard")
    assert set(hard["qid"]) == set(topics["qid"][~topics["shares_latin_word"]])
    assert repr(small) == "milco_pt.datasets.get('ddtp/ja-en/test').sample(queries=20, docs=50)"
