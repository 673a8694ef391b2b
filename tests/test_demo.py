"""The demo end to end, cut down: a milco-mini (the shipped one, else a few training steps), two
query languages, a handful of queries and documents."""
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from milco_pt.mini import SHIPPED_DELTA
from milco_pt.run.demo import run

ROOT = Path(__file__).parent.parent


@pytest.fixture(scope="module")
def delta(tmp_path_factory):
    if SHIPPED_DELTA.exists():
        return SHIPPED_DELTA
    out = tmp_path_factory.mktemp("mini")
    subprocess.run([sys.executable, str(ROOT / "experiments" / "train_milco_mini.py"), "--smoke", "--out", str(out)],
                   check=True, capture_output=True)
    return out / "milco-mini-delta.safetensors"


def test_demo_smoke(delta, tmp_path):
    table = run(str(tmp_path), str(delta), languages=["de", "ja"], monolingual=["de", "ja"], max_queries=6, max_docs=40,
                batch_size=16, work=tmp_path / "work")
    saved = pd.read_csv(tmp_path / "demo.csv")
    assert list(saved.columns) == ["task", "system", "measure", "value"]
    assert {"de-en", "ja-en", "de-de", "ja-ja", "avg X->en", "avg X->X"} <= set(saved["task"])
    assert set(saved["system"]) == {"milco-mini (dual view)", "milco-mini (pivot only)", "BM25", "e5-small (dense)"}
    assert saved["value"].between(0, 1).all() and len(table) == len(saved)
    assert (tmp_path / "demo_sparsity.png").exists() and (tmp_path / "demo_sparsity.svg").exists()
    assert (tmp_path / "demo_languages.png").exists() and (tmp_path / "demo_languages.svg").exists()
    curve = pd.read_csv(tmp_path / "demo_pruning.csv")
    mass = curve[curve["method"] == "mass"].sort_values("level")
    assert mass["terms_per_doc"].is_monotonic_decreasing, "more mass pruned, fewer terms"
    assert len(list((tmp_path / "work" / "runs").glob("*.run"))) == 4 * 4, "a cached run file per system and task"
    again = run(str(tmp_path / "again"), str(delta), languages=["de", "ja"], monolingual=["de", "ja"], max_queries=6,
                max_docs=40, batch_size=16, work=tmp_path / "work", plot=False)
    assert again.equals(table), "the second run reads the cached run files: the same table"
    assert len(list((tmp_path / "work" / "runs").glob("*.run"))) == 16
