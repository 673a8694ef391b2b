"""Bad input gets a clear error naming the input and the fix (or the right answer), never a silent
misread. One test per failure the reliability probe found; index engines have their own files."""
import pytest

from milco_pt.datasets.formats import read_texts

from conftest import run_cli


def test_dpr_style_tsv_with_a_header_reads_text_and_title(tmp_path):
    path = tmp_path / "psgs.tsv"
    path.write_text("id\ttext\ttitle\n1\tAberdeen is a city.\tAberdeen\n2\tNo title here.\t\n", encoding="utf-8")
    assert list(read_texts(path)) == [("1", "Aberdeen Aberdeen is a city."), ("2", "No title here.")]
    assert list(read_texts(path, title=False))[0] == ("1", "Aberdeen is a city.")


def test_tsv_without_header_must_have_two_columns(tmp_path):
    path = tmp_path / "docs.tsv"
    path.write_text("d1\tfirst text\nd2\tsecond text\tstray title\n", encoding="utf-8")
    it = read_texts(path)
    assert next(it) == ("d1", "first text")
    with pytest.raises(ValueError, match=r"docs.tsv:2: a tsv line must be id<TAB>text, this one has 3 columns"):
        next(it)


def test_header_without_text_column_is_an_error(tmp_path):
    path = tmp_path / "docs.tsv"
    path.write_text("id\tdocno\n1\t2\n", encoding="utf-8")
    with pytest.raises(ValueError, match="names no id or no text column"):
        list(read_texts(path))


@pytest.mark.parametrize("line,what", [('{"id": "d1", "text": null}', "NoneType, not a string"),
                                       ('{"id": "d1", "text": 12}', "int, not a string"),
                                       ('{"id": "d1", "text": "bad \\ud800 text"}', "lone surrogate")])
def test_jsonl_texts_that_cannot_be_encoded_name_their_line(tmp_path, line, what):
    path = tmp_path / "docs.jsonl"
    path.write_text('{"id": "d0", "text": "fine"}\n' + line + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match=rf"docs.jsonl:2: .*{what}"):
        list(read_texts(path))


def test_index_of_a_text_file_or_of_records_without_vectors_names_the_format(tmp_path):
    texts = tmp_path / "docs.jsonl"
    texts.write_text('{"docno": "a", "text": "not encoded"}\n', encoding="utf-8")
    res = run_cli("index", "--vectors", str(texts), "--index", str(tmp_path / "idx"))
    assert res.returncode == 2 and "docs.jsonl:1: not an encoded vector" in res.stderr, res.stderr
    assert "Traceback" not in res.stderr and not (tmp_path / "idx").exists()
    plain = tmp_path / "notes.txt"
    plain.write_text("hello\n", encoding="utf-8")
    res = run_cli("index", "--vectors", str(plain), "--index", str(tmp_path / "idx"))
    assert res.returncode == 2 and "notes.txt:1: not valid JSON" in res.stderr, res.stderr


@pytest.mark.parametrize("scale", ["0", "-5", "nan", "inf"])
def test_index_scale_must_be_positive(tmp_path, scale):
    res = run_cli("index", "--vectors", str(tmp_path / "v.jsonl"), "--index", str(tmp_path / "idx"), "--scale", scale)
    assert res.returncode == 2 and "--scale" in res.stderr and "must be a finite number above 0" in res.stderr


def test_pruning_rejects_fractional_k_and_unrankable_weights():
    import numpy as np
    import pandas as pd
    from milco_pt.pruning import MassPrune, TopK, mass_prune, top_k
    with pytest.raises(TypeError, match="whole number, not 2.5"):
        TopK(2.5)
    assert top_k({"a": 1.0, "b": 2.0}, np.int64(1)) == {"b": 2.0}
    for bad in (float("nan"), float("inf"), -1.0):
        with pytest.raises(ValueError, match=r"term 'x' has weight .*finite weights >= 0"):
            mass_prune({"x": bad, "y": 1.0}, 50)
    frame = pd.DataFrame({"docno": ["d0", "d1"], "toks": [{"a": 1.0}, {"a": 0.5, "x": float("nan")}]})
    with pytest.raises(ValueError, match=r"row 1 \(docno 'd1'\), column 'toks': term 'x'"):
        MassPrune(50)(frame)


@pytest.mark.parametrize("flag,value", [("--k", "0"), ("--threads", "-1"), ("--k", "2.5")])
def test_cli_counts_must_be_whole_and_positive(tmp_path, flag, value):
    res = run_cli("search", "--index", str(tmp_path), "--queries", "q.jsonl", "--output", "r.trec", flag, value)
    assert res.returncode == 2 and f"argument {flag}:" in res.stderr and "Traceback" not in res.stderr


def test_offline_ir_datasets_load_says_what_to_download_and_where():
    import requests
    from milco_pt.datasets.standard import _downloading

    def offline():
        yield from ()
        raise requests.exceptions.ConnectionError("Failed to resolve 'huggingface.co'")

    with pytest.raises(FileNotFoundError, match=r"ir_datasets export miracl/sw/dev queries > /dev/null.*IR_DATASETS_HOME"):
        list(_downloading("miracl/sw/dev", "queries", offline))


def test_encoders_treat_zero_width_only_text_as_blank_and_name_lone_surrogates(milco):
    vecs = milco.encode_docs(["\u200b\u200d\ufeff", " \u2060 ", "fox"], combined=False)
    assert [bool(v) for v in vecs["pivot"]] == [False, False, True]
    with pytest.raises(ValueError, match=r"row 1: 'text' holds '\\ud800', not valid Unicode text"):
        milco.encode_docs(["fine", "bad \ud800 text"])  # (pandas' arrow strings refuse such text already)


def test_truncated_index_metadata_names_the_file(tmp_path):
    from milco_pt.index import ImpactIndex
    from milco_pt.index.integrity import DamagedIndexError
    path = tmp_path / "idx"
    ImpactIndex(path, verbose=False).index([{"docno": "d1", "toks": {"a": 1.0}}])
    meta = path / "pt_meta.json"
    text = meta.read_text()
    meta.write_text(text[:text.index('"column"')])  # cut after it names milco-pt
    with pytest.raises(DamagedIndexError, match=r"idx is damaged \(pt_meta.json is not valid JSON.*mode='overwrite'"):
        ImpactIndex(path).meta()
    rebuilt = ImpactIndex(path, verbose=False).indexer(mode="overwrite").index([{"docno": "d2", "toks": {"b": 2.0}}])
    assert len(rebuilt) == 1 and rebuilt.meta()["doc_count"] == 1
