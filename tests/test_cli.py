import json

import pytest

from milco_pt import Milco, mass_prune
from milco_pt.cli import main

from conftest import run_cli


def test_encode_jsonl_matches_python_api(tiny_path, tmp_path):
    src = tmp_path / "docs.jsonl"
    src.write_text('{"docno": "a", "text": "the quick fox"}\n'
                   '{"docno": "b", "title": "Hund", "text": "der faule Hund"}\n', encoding="utf-8")
    out = tmp_path / "vecs" / "out.jsonl"
    main(["encode", "--input", str(src), "--output", str(out), "--model", str(tiny_path), "--mass", "30"])
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    milco = Milco.from_pretrained(str(tiny_path))
    expected = milco.encode_docs(["the quick fox", "Hund der faule Hund"])
    assert [r["id"] for r in rows] == ["a", "b"]
    assert rows[1]["contents"] == "Hund der faule Hund"
    for r, e in zip(rows, expected):
        assert r["vector"] == pytest.approx(mass_prune(e, 30))
    assert not list(out.parent.glob("*.partial"))


def test_encode_tsv_single_view_queries(tiny_path, tmp_path):
    src = tmp_path / "q.tsv"
    src.write_text("q1\tbrown fox\nq2\tлиса\n", encoding="utf-8")
    out = tmp_path / "q.jsonl"
    main(["encode", "--input", str(src), "--output", str(out), "--model", str(tiny_path),
          "--queries", "--views", "source", "--topk", "2"])
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [len(r["vector"]) for r in rows] == [2, 2]
    assert not any(t.startswith(("e_", "m_")) for r in rows for t in r["vector"])


def test_inspect_prints_both_views(tiny_path):
    res = run_cli("inspect", "Быстрая лиса", "--doc", "--model", str(tiny_path), "--top", "3")
    assert res.returncode == 0, res.stderr
    assert "pivot view:" in res.stdout and "source view:" in res.stdout
    out = Milco.from_pretrained(str(tiny_path)).encode_docs(["Быстрая лиса"], combined=False)
    for view, vecs in out.items():
        term, weight = max(vecs[0].items(), key=lambda tw: tw[1])
        assert f"{weight:8.4f}  {term}" in res.stdout
        assert f"{view} view: {len(vecs[0])} terms" in res.stdout


def test_missing_model_is_a_clear_error(tmp_path):
    res = run_cli("inspect", "x", "--query", "--model", "omai-research/milco-650m", "--offline")
    assert res.returncode == 2 and "hf download omai-research/milco-650m" in res.stderr
    assert "Traceback" not in res.stderr


def test_encode_index_search_round_trip(tiny_path, tmp_path):
    from milco_pt import ExactIndex
    from milco_pt.index.anserini import quantize
    from conftest import TEXTS
    docs = tmp_path / "docs.tsv"
    docs.write_text("".join(f"d{i}\t{t}\n" for i, t in enumerate(TEXTS)), encoding="utf-8")
    queries = tmp_path / "q.tsv"
    queries.write_text("1\tbrown fox\n2\tHund\n", encoding="utf-8")
    common = ["--model", str(tiny_path)]
    main(["encode", "--input", str(docs), "--output", str(tmp_path / "d.jsonl"), *common])
    main(["encode", "--input", str(queries), "--output", str(tmp_path / "q.jsonl"), "--queries", *common])
    main(["index", "--vectors", str(tmp_path / "d.jsonl"), "--index", str(tmp_path / "idx")])
    main(["search", "--index", str(tmp_path / "idx"), "--queries", str(tmp_path / "q.jsonl"),
          "--output", str(tmp_path / "run.trec"), "--k", "3"])
    lines = (tmp_path / "run.trec").read_text().splitlines()
    assert len(lines) == 6 and lines[0].split()[0] == "1" and lines[0].split()[-1] == "milco"
    res = run_cli("index", "--vectors", str(tmp_path / "d.jsonl"), "--index", str(tmp_path / "idx"))
    assert res.returncode == 2 and "overwrite" in res.stderr
    milco = Milco.from_pretrained(str(tiny_path))
    import pandas as pd
    d = pd.DataFrame({"docno": [f"d{i}" for i in range(len(TEXTS))],
                      "toks": [quantize(v, 100) for v in milco.encode_docs(TEXTS)]})
    q = pd.DataFrame({"qid": ["1"], "query_toks": [quantize(milco.encode_queries(["brown fox"])[0], 100)]})
    top = ExactIndex("toks").index(d).retriever(num_results=3)(q)
    assert [ln.split()[2] for ln in lines[:3]] == top["docno"].tolist()
    main(["index", "--vectors", str(tmp_path / "d.jsonl"), "--index", str(tmp_path / "pisa"), "--backend", "pisa"])
    main(["search", "--index", str(tmp_path / "pisa"), "--queries", str(tmp_path / "q.jsonl"),
          "--output", str(tmp_path / "pisa.trec"), "--k", "3"])
    assert (tmp_path / "pisa.trec").read_text().splitlines() == lines, "PISA and Anserini give the same run"


def test_bm25_builds_once_and_searches_like_the_python_api(tmp_path, capsys):
    import pandas as pd
    from milco_pt.baselines import BM25Index
    corpus = tmp_path / "docs.jsonl"
    corpus.write_text("".join(json.dumps({"docno": f"d{i}", "text": t}, ensure_ascii=False) + "\n" for i, t in
                              enumerate(["Der schnelle Hund läuft", "Hunde laufen schnell", "eine Katze schläft"])),
                      encoding="utf-8")
    topics = tmp_path / "q.tsv"
    topics.write_text("q1\tHund\nq2\tschlafende Katzen\n", encoding="utf-8")
    run, idx = tmp_path / "runs" / "bm25.trec", tmp_path / "idx"
    args = ["bm25", "--corpus", str(corpus), "--topics", str(topics), "--index", str(idx), "--language", "de",
            "--output", str(run)]
    main(args)
    first = run.read_text()
    main(args)
    assert "using the existing index" in capsys.readouterr().err
    assert run.read_text() == first
    expected = BM25Index(idx).bm25()(pd.DataFrame({"qid": ["q1", "q2"], "query": ["Hund", "schlafende Katzen"]}))
    lines = [line.split() for line in first.splitlines()]
    assert [(q, d) for q, _, d, *_ in lines] == list(zip(expected["qid"], expected["docno"]))
    assert {d for q, _, d, *_ in lines if q == "q1"} == {"d0", "d1"}, "German stemming: Hund ~ Hunde"
    r = run_cli("bm25", "--index", str(tmp_path / "none"), "--topics", str(topics))
    assert r.returncode == 2 and "pass --corpus" in r.stderr


def test_user_errors_are_one_line_and_bugs_keep_their_traceback(monkeypatch, capsys):
    import milco_pt.cli as cli
    from milco_pt.cli import encode

    def deliberate(args):
        from milco_pt.pruning import TopK
        TopK(-1)  # the package's own ValueError, raised with a message for the user

    def bug(args):
        return len(None)

    monkeypatch.setattr(encode, "cmd_inspect", deliberate)
    with pytest.raises(SystemExit) as stop:
        cli.main(["inspect", "x", "--doc"])
    assert stop.value.code == 2 and "error: k must be >= 0, got -1" in capsys.readouterr().err
    monkeypatch.setattr(encode, "cmd_inspect", bug)
    with pytest.raises(TypeError, match="NoneType"):
        cli.main(["inspect", "x", "--doc"])


def test_help_shows_defaults():
    from milco_pt.cli import build_parser
    text = build_parser()._subparsers._group_actions[0].choices["index"].format_help()
    assert "(default: 100)" in text and "(default: anserini)" in text and "(default: 1)" in text
    assert "--vectors VECTORS" in text and "(default: None)" not in text


def test_runs_go_to_a_fresh_folder_never_an_existing_one(tmp_path, monkeypatch):
    from pathlib import Path
    from milco_pt.cli.runs import fresh_folder
    monkeypatch.chdir(tmp_path)
    first = fresh_folder("demo")
    assert first.startswith("runs/demo-") and not Path(first).exists()
    Path(first).mkdir(parents=True)
    monkeypatch.setattr("time.strftime", lambda fmt: first.split("demo-")[1])
    assert fresh_folder("demo") == first + "-2"


def test_eval_equals_ir_measures_on_a_run_file(tmp_path):
    import ir_measures
    import pandas as pd
    import pyterrier as pt
    from milco_pt import datasets
    ds = datasets.get("ddtp/de-en/test")
    qrels = ds.get_qrels()
    qids = list(ds.get_topics()["qid"][:5])
    rows = []
    for n, qid in enumerate(qids):  # the relevant document at rank n, after n wrong ones
        wrong = [f"x{i}" for i in range(n)]
        docs = wrong + list(qrels[qrels.qid == qid].docno[:1])
        rows += [{"qid": qid, "docno": d, "rank": r, "score": 10.0 - r} for r, d in enumerate(docs)]
    rows.append({"qid": "not-judged", "docno": "x", "rank": 0, "score": 1.0})
    pt.io.write_results(pd.DataFrame(rows), str(tmp_path / "run.trec"))
    res = run_cli("eval", str(tmp_path / "run.trec"), "--dataset", "ddtp/de-en/test", "--measures", "RR@10,nDCG@10")
    assert res.returncode == 0, res.stderr
    got = dict(line.split("\t") for line in res.stdout.splitlines())
    run = pd.DataFrame(rows).rename(columns={"qid": "query_id", "docno": "doc_id"})
    judged = qrels[qrels.qid.isin(qids)].rename(columns={"qid": "query_id", "docno": "doc_id", "label": "relevance"})
    want = ir_measures.calc_aggregate([ir_measures.RR @ 10], judged, run)
    assert float(got["RR@10"]) == pytest.approx(list(want.values())[0], abs=1e-4)
    assert float(got["RR@10"]) == pytest.approx(sum(1 / (n + 1) for n in range(5)) / 5, abs=1e-4)
    assert "1 of them without qrels" in res.stderr and "averaged over 5 queries" in res.stderr
    res = run_cli("eval", str(tmp_path / "run.trec"), "--dataset", "ddtp/de-en/test", "--measures", "RR@10",
                  "--all-judged")
    n = ds.get_topics()["qid"].nunique()
    assert float(res.stdout.split("\t")[1]) == pytest.approx(sum(1 / (i + 1) for i in range(5)) / n, abs=1e-4)
    res = run_cli("eval", str(tmp_path / "run.trec"))
    assert res.returncode == 2 and "one of them" in res.stderr


def test_inspect_says_query_or_document():
    res = run_cli("inspect", "ein Hund", "--model", "milco-mini")
    assert res.returncode == 2 and "one of the arguments --query --doc is required" in res.stderr


def test_bm25_is_quiet_unless_verbose(tmp_path):
    (tmp_path / "c.jsonl").write_text('{"docno": "d1", "text": "the quick brown fox"}\n'
                                      '{"docno": "d2", "text": "der faule Hund"}\n', encoding="utf-8")
    (tmp_path / "t.tsv").write_text("q1\tfox\n", encoding="utf-8")
    args = ["bm25", "--corpus", str(tmp_path / "c.jsonl"), "--topics", str(tmp_path / "t.tsv"),
            "--output", str(tmp_path / "run.trec")]
    quiet = run_cli(*args, "--index", str(tmp_path / "a"))
    loud = run_cli(*args, "--index", str(tmp_path / "b"), "--verbose")
    assert quiet.returncode == 0 and loud.returncode == 0
    assert "INFO" not in quiet.stdout + quiet.stderr and "INFO" in loud.stdout + loud.stderr
    assert len((quiet.stdout + quiet.stderr).splitlines()) <= 3


def test_tiny_refuses_an_existing_folder(tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    res = run_cli("tiny", str(tmp_path / "mine"))
    assert res.returncode == 2 and "pass --overwrite" in res.stderr
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me" and len(list((tmp_path / "mine").iterdir())) == 1


def test_datasets_info_names_the_tasks_with_their_sizes():
    res = run_cli("datasets", "info")
    assert res.returncode == 0
    line = next(x for x in res.stdout.splitlines() if x.strip().startswith("ddtp/ja-en/test"))
    assert line.split()[:3] == ["ddtp/ja-en/test", "485", "2708"] and "ddtp/ja-ja/test" in line
