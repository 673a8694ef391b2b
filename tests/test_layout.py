"""The package's layering (ARCHITECTURE.md) and the deprecated aliases of the old module paths."""
import ast
import importlib
import sys
import warnings
from pathlib import Path

import pytest

from milco_pt._compat import MOVED

PACKAGE = Path(__file__).resolve().parent.parent / "milco_pt"
ABOVE = ("milco_pt.run", "milco_pt.cli")          # drivers: the library never imports them
HELPERS = ("milco_pt.testing",)                    # test helpers: the library never imports them


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    """Absolute names of the modules ``path`` imports (relative imports resolved)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            mod = ".".join(base + ([node.module] if node.module else []))
            out.add(mod)
            out.update(f"{mod}.{a.name}" for a in node.names)
    return out


def library_modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        name = module_name(path)
        if not name.startswith(ABOVE + HELPERS) and name != "milco_pt._compat":
            yield name, path


def test_library_never_imports_drivers_or_test_helpers():
    bad = {name: sorted(i for i in imports(path) if i.startswith(ABOVE + HELPERS))
           for name, path in library_modules()}
    assert {k: v for k, v in bad.items() if v} == {}


def test_inference_never_imports_training():
    bad = {name: sorted(i for i in imports(path) if i.startswith("milco_pt.training"))
           for name, path in library_modules() if not name.startswith("milco_pt.training")}
    assert {k: v for k, v in bad.items() if v} == {}


def test_modules_stay_small():
    sizes = {module_name(p): len(p.read_text(encoding="utf-8").splitlines()) for p in PACKAGE.rglob("*.py")}
    assert {k: n for k, n in sizes.items() if n > 420} == {}


@pytest.mark.parametrize("old", sorted(MOVED))
def test_old_module_paths_warn_and_give_the_new_module(old):
    new = importlib.import_module(MOVED[old])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sys.modules.pop(old, None)
        got = importlib.import_module(old)
    assert got is new and got.__spec__.name == MOVED[old]
    assert any(issubclass(w.category, DeprecationWarning) and MOVED[old] in str(w.message) for w in caught)


def test_readme_spelling_of_the_old_impact_module_still_works(monkeypatch):
    import milco_pt
    monkeypatch.delattr(milco_pt, "impact", raising=False)  # set by an earlier import of milco_pt.impact
    monkeypatch.delitem(sys.modules, "milco_pt.impact", raising=False)
    with pytest.warns(DeprecationWarning):
        assert milco_pt.impact.ImpactIndex is milco_pt.index.ImpactIndex
