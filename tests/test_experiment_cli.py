import pandas as pd
import pytest

from milco_pt.cli import main


def test_experiment_cli_with_significance(tiny_path, tmp_path, capsys):
    out = tmp_path / "exp.csv"
    main(["experiment", "--systems", "milco,milco-fused,milco-exact,milco-pivot,bm25", "--dataset", "ddtp/zh_CN-en/test",
          "--model", str(tiny_path), "--baseline", "bm25", "--measures", "nDCG@10,R@100", "--out", str(out)])
    res = pd.read_csv(out)
    assert res["name"].tolist() == ["milco", "milco-fused", "milco-exact", "milco-pivot", "bm25"]
    assert {"nDCG@10 p-value", "R@100 p-value"} <= set(res.columns), "significance against the baseline"
    by = res.set_index("name")
    assert by.loc["milco", "nDCG@10"] == pytest.approx(by.loc["milco-fused", "nDCG@10"], abs=1e-9)
    assert by.loc["bm25", "nDCG@10"] > 0.2
    assert "milco-exact" in capsys.readouterr().out


def test_experiment_cli_errors(tmp_path):
    with pytest.raises(SystemExit) as e:
        main(["experiment", "--systems", "milco", "--dataset", "ddtp/zh_CN-en/test"])
    assert e.value.code == 2
    with pytest.raises(SystemExit):
        main(["experiment", "--systems", "bm25,nope", "--dataset", "ddtp/zh_CN-en/test"])
