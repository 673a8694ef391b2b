"""Every paper-table script runs end to end in --smoke mode (tiny model, upstream-format fixtures)."""
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

TABLES = Path(__file__).parent.parent / "experiments" / "tables"
SCRIPTS = {"table01_miracl.py": "table01_miracl.csv", "table05_latency.py": "table05_latency.csv",
           "table06_mldr.py": "table06_mldr.csv", "table09_mkqa.py": "table09_mkqa.csv",
           "table10_beir.py": "table10_beir.csv", "table11_limit.py": "table11_limit.csv",
           "table12_13_pruning.py": "table12_13_pruning.csv", "table19_alpha.py": "table19_alpha.csv"}


@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_table_script_smoke(script, tmp_path):
    extra = []
    if script == "table12_13_pruning.py":  # the dense reference line, read from a demo-style CSV
        pd.DataFrame({"task": ["sw", "yo"], "system": "e5", "measure": "nDCG@10", "value": [0.4, 0.6]}).to_csv(
            tmp_path / "dense.csv", index=False)
        extra = ["--dense-from", str(tmp_path / "dense.csv"), "--dense-system", "e5"]
    r = subprocess.run([sys.executable, str(TABLES / script), "--smoke", "--out", str(tmp_path), *extra],
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    table = pd.read_csv(tmp_path / SCRIPTS[script])
    assert len(table) > 0 and table.notna().any().all()


def test_every_table_script_is_covered():
    assert {p.name for p in TABLES.glob("table*.py")} == set(SCRIPTS)


def test_dense_reference_averages_the_tasks_and_names_what_is_missing(tmp_path):
    import importlib.util
    spec = importlib.util.spec_from_file_location("pruning", TABLES / "table12_13_pruning.py")
    sys.path.insert(0, str(TABLES))
    try:
        pruning = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(pruning)
    finally:
        sys.path.remove(str(TABLES))
    pd.DataFrame({"task": ["de-en", "ja-en", "de-en"], "system": ["e5", "e5", "BM25"], "measure": "nDCG@10",
                  "value": [0.5, 0.7, 0.1]}).to_csv(tmp_path / "r.csv", index=False)
    assert pruning.dense_reference(tmp_path / "r.csv", "e5", ["de-en", "ja-en"]) == pytest.approx(60.0)
    with pytest.raises(SystemExit, match="ko-en.*BM25"):
        pruning.dense_reference(tmp_path / "r.csv", "e5", ["de-en", "ko-en"])
