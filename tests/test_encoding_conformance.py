"""PyTerrier's conformance suite (``pyterrier.testing``) for MILCO's transformers and a baseline's."""
import functools
import tempfile
from pathlib import Path

import pyterrier as pt
import pytest
from pyterrier.testing import transformer_test_class

from milco_pt import Milco
from milco_pt.baselines import Splade
from milco_pt.testing.tiny import build_tiny, build_tiny_splade

_FOLDER = tempfile.TemporaryDirectory(prefix="milco-conformance-")


@pytest.fixture(autouse=True)
def offline_help_links(monkeypatch):
    """Schematics link each class to PyTerrier's online documentation index; these tests run offline."""
    monkeypatch.setattr(pt.documentation, "url_for_class", lambda cls: None)


@functools.lru_cache(maxsize=None)
def milco() -> Milco:
    return Milco(*build_tiny(seed=1), batch_size=2)


@functools.lru_cache(maxsize=None)
def splade() -> Splade:
    return Splade.from_pretrained(str(build_tiny_splade(Path(_FOLDER.name) / "splade")), batch_size=2)


TestMilco = transformer_test_class(milco)
TestMilcoQueryEncoder = transformer_test_class(lambda: milco().query_encoder(outputs=("pivot", "combined")))
TestMilcoDocEncoder = transformer_test_class(lambda: milco().doc_encoder(combined=True))
TestMilcoScorer = transformer_test_class(lambda: milco().scorer())
TestSplade = transformer_test_class(splade)
TestSpladeQueryEncoder = transformer_test_class(lambda: splade().query_encoder())
TestSpladeDocEncoder = transformer_test_class(lambda: splade().doc_encoder())
TestSpladeScorer = transformer_test_class(lambda: splade().scorer())
