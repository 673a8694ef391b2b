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


def test_damaged_checkpoint_files_are_named(tiny_path, tmp_path):
    import shutil
    from milco_pt.hub import load_model
    folder = tmp_path / "ckpt"
    shutil.copytree(tiny_path, folder)
    weights = folder / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:200])
    with pytest.raises(ValueError, match=r"model.safetensors cannot be read .*truncated or damaged"):
        load_model(str(folder))
    (folder / "config.json").write_text('{"echo": ')
    with pytest.raises(ValueError, match=r"config.json is not a valid JSON config"):
        load_model(str(folder))
