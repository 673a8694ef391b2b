import os
import subprocess
import sys

import pytest


@pytest.mark.parametrize("value,offline", [("0", False), ("false", False), ("1", True), ("true", True)])
def test_offline_mode_reads_the_variable_as_huggingface_hub_does(value, offline):
    """``HF_HUB_OFFLINE=0`` means online (it once counted as offline here)."""
    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    env["HF_HUB_OFFLINE"] = value
    code = "from milco_pt.hub import is_offline; print(is_offline(), is_offline(local_files_only=True))"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout.split()
    assert out == [str(offline), "True"]
