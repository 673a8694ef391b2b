"""The milco-mini recipe (experiments/train_milco_mini.py) is deterministic on CPU: two runs with
the same seed, in processes with different hash seeds, train the same tensors."""
import os
import subprocess
import sys
from pathlib import Path

import torch
from safetensors.torch import load_file

ROOT = Path(__file__).parent.parent


def train(out: Path, hash_seed: str, *extra) -> dict:
    subprocess.run([sys.executable, str(ROOT / "experiments" / "train_milco_mini.py"), "--smoke", "--out", str(out),
                    *extra], check=True, capture_output=True, env={**os.environ, "PYTHONHASHSEED": hash_seed})
    return load_file(str(out / "milco-mini-delta.safetensors"))


def test_recipe_is_deterministic(tmp_path):
    a, b = train(tmp_path / "a", "1"), train(tmp_path / "b", "2")
    assert a.keys() == b.keys() and "echo.weight" in a
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_recipe_ablation_without_lexecho(tmp_path):
    delta = train(tmp_path / "no-echo", "1", "--no-echo", "--stages", "sct")
    assert not any(k.startswith("echo.") for k in delta)
