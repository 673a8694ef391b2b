"""The notebooks run top to bottom (milco-mini on a sample of each shipped DDTP task) and are committed
without outputs."""
import json
import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).parent.parent / "notebooks"


@pytest.mark.parametrize("name", sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")))
def test_notebook_runs(name, tmp_path, monkeypatch):
    shutil.copy(NOTEBOOKS / name, tmp_path / name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    (tmp_path / "tmp").mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))  # the kernel's scratch goes where pytest removes it
    monkeypatch.setenv("MILCO_PT_NOTEBOOK_SAMPLE", "60,300")  # queries, other documents per task
    monkeypatch.setenv("MILCO_PT_NOTEBOOK_STEPS", "20")
    nb = nbformat.read(tmp_path / name, as_version=4)
    NotebookClient(nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors, errors[0]["traceback"][-3:] if errors else None
    text = "".join(o.get("text", "") + "".join(o.get("data", {}).get("text/plain", ""))
                   for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert "milco-mini" in text or name.startswith("04"), "a notebook shows milco-mini's results"


def test_notebooks_are_committed_stripped_and_generated():
    import importlib.util
    spec = importlib.util.spec_from_file_location("make_notebooks", NOTEBOOKS / "make_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert {p.name for p in NOTEBOOKS.glob("*.ipynb")} == set(module.NOTEBOOKS)
    for name, cells in module.NOTEBOOKS.items():
        nb = json.loads((NOTEBOOKS / name).read_text())
        assert [c["source"] if isinstance(c["source"], str) else "".join(c["source"]) for c in nb["cells"]] == \
            [src for _, src in cells], f"{name} differs from make_notebooks.py: regenerate it"
        assert all(not c.get("outputs") for c in nb["cells"] if c["cell_type"] == "code")
