import os
import subprocess
import sys

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from milco_pt.testing.tiny import build_tiny  # noqa: E402

def run_cli(*args, **kwargs):
    """``milco-pt ARGS`` in a fresh process (as a user runs it), output captured."""
    return subprocess.run([sys.executable, "-m", "milco_pt.cli", *args], capture_output=True, text=True, **kwargs)


TEXTS = [
    "the quick brown fox jumps over the lazy dog",
    "Der schnelle braune Fuchs springt über den faulen Hund",
    "Быстрая коричневая лиса the the the",
    "敏捷的棕色狐狸跳过了懒狗",
    "fox",
]


@pytest.fixture(scope="session")
def tiny_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("tiny") / "milco-tiny"
    build_tiny(path, seed=1)
    return path


@pytest.fixture(scope="session")
def milco(tiny_path):
    from milco_pt import Milco
    return Milco.from_pretrained(str(tiny_path), lowercase=False, batch_size=2)
