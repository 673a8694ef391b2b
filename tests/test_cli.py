import json
import subprocess
import sys

import pytest

from milco_pt import Milco, mass_prune
from milco_pt.cli import main


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "milco_pt.cli", *args], capture_output=True, text=True)


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
    res = run_cli("inspect", "Быстрая лиса", "--model", str(tiny_path), "--top", "3")
    assert res.returncode == 0, res.stderr
    assert "pivot view:" in res.stdout and "source view:" in res.stdout
    out = Milco.from_pretrained(str(tiny_path)).encode_docs(["Быстрая лиса"], combined=False)
    for view, vecs in out.items():
        term, weight = max(vecs[0].items(), key=lambda tw: tw[1])
        assert f"{weight:8.4f}  {term}" in res.stdout
        assert f"{view} view: {len(vecs[0])} terms" in res.stdout


def test_missing_model_is_a_clear_error(tmp_path):
    res = run_cli("inspect", "x", "--model", "omai-research/milco-650m", "--offline")
    assert res.returncode == 2 and "hf download omai-research/milco-650m" in res.stderr
    assert "Traceback" not in res.stderr
