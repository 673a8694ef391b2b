import pandas as pd
import pytest

from milco_pt.cli import main


def test_experiment_cli_with_significance(tiny_path, tmp_path, capsys):
    out = tmp_path / "exp.csv"
    main(["experiment", "--systems", "milco,milco-fused,milco-exact,milco-pivot,bm25", "--dataset", "ddtp/zh_CN-en/test",
          "--model", str(tiny_path), "--baseline", "bm25", "--measures", "nDCG@10,R@100", "--out", str(out), "--work", str(tmp_path / "work")])
    res = pd.read_csv(out)
    assert res["name"].tolist() == ["milco", "milco-fused", "milco-exact", "milco-pivot", "bm25"]
    assert {"nDCG@10 p-value", "R@100 p-value"} <= set(res.columns), "significance against the baseline"
    by = res.set_index("name")
    assert by.loc["milco", "nDCG@10"] == pytest.approx(by.loc["milco-fused", "nDCG@10"], abs=1e-9)
    assert by.loc["bm25", "nDCG@10"] > 0.2
    assert "milco-exact" in capsys.readouterr().out
    runs = sorted((tmp_path / "work" / "runs").glob("*.run"))
    assert len(runs) == 5, "one cached run file per system"
    stamps = [p.stat().st_mtime_ns for p in runs]
    main(["experiment", "--systems", "milco,bm25,milco-pivot", "--dataset", "ddtp/zh_CN-en/test", "--model", str(tiny_path),
          "--work", str(tmp_path / "work"), "--dry-run"])
    plan = capsys.readouterr().out
    assert "to build" not in plan and "to run" not in plan and plan.count("exists") >= 5, plan
    main(["experiment", "--systems", "milco,milco-fused,milco-exact,milco-pivot,bm25", "--dataset", "ddtp/zh_CN-en/test",
          "--model", str(tiny_path), "--baseline", "bm25", "--measures", "nDCG@10,R@100", "--out", str(out),
          "--work", str(tmp_path / "work")])
    assert [p.stat().st_mtime_ns for p in runs] == stamps and pd.read_csv(out).equals(res), "reused, same table"


def test_dry_run_builds_nothing(tiny_path, tmp_path, capsys):
    main(["experiment", "--systems", "milco,bm25", "--dataset", "ddtp/zh_CN-en/test", "--model", str(tiny_path),
          "--work", str(tmp_path / "work"), "--dry-run"])
    plan = capsys.readouterr().out
    assert plan.count("to build") >= 2 and "to run" in plan and "corpus not read yet" in plan
    assert not (tmp_path / "work" / "encodings").exists() and not (tmp_path / "work" / "indexes").exists()


def test_experiment_cli_errors(tmp_path):
    with pytest.raises(SystemExit) as e:
        main(["experiment", "--systems", "milco", "--dataset", "ddtp/zh_CN-en/test"])
    assert e.value.code == 2
    with pytest.raises(SystemExit):
        main(["experiment", "--systems", "bm25,nope", "--dataset", "ddtp/zh_CN-en/test"])
