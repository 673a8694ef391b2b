"""The README's Python blocks run as written, in order, in one namespace (as a reader pastes them),
except those whose first line says they need the hub or downloads."""
import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def offline(block: str) -> bool:
    first = block.lstrip().splitlines()[0]
    return not re.match(r"#\s*needs (the hub|downloads)", first)


def test_readme_blocks_run_offline(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    runnable = [b for b in blocks() if offline(b)]
    assert len(runnable) >= 3, "the quick start, the baselines and the collections run offline"
    namespace: dict = {}
    for n, block in enumerate(runnable):
        exec(compile(block, f"README.md python block {n}", "exec"), namespace)
    out = capsys.readouterr().out
    assert "milco-mini" in out and "BM25" in out and "e5-small" in out
    shown = [m for b in runnable for m in re.findall(r"^print\(.*#\s*(\[.*\])\s*$", b, re.M)]
    assert shown, "the quick start shows the pivot view's top terms in a comment"
    for listed in shown:  # the output a comment promises is what the block prints
        assert listed in out, f"README says {listed}; the block printed:\n{out[-2000:]}"
