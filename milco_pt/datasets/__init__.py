"""Test collections: the shipped DDTP collection, local files, and standard benchmarks.

    milco_pt.datasets.get("ddtp/ja-en/test")       # cross-lingual: Japanese queries, English docs
    milco_pt.datasets.get("ddtp/de-de/test")       # monolingual German
    milco_pt.datasets.local(corpus=..., topics=..., qrels=...)
"""
from __future__ import annotations

import re

from .collection import Collection, local

__all__ = ["get", "local", "Collection"]

DDTP_NAME = re.compile(r"^ddtp/([A-Za-z_]+)-([A-Za-z_]+)/(train|dev|test)$")


def get(name: str, **kwargs) -> Collection:
    """A collection by name: ``ddtp/<query lang>-<doc lang>/<split>`` (``folder=`` for a DDTP
    collection built elsewhere), or any ``irds:`` name PyTerrier knows."""
    m = DDTP_NAME.match(name)
    if m:
        from .ddtp import task
        return task(m.group(1), m.group(2), m.group(3), **kwargs)
    if name.startswith("ddtp"):
        raise ValueError(f"DDTP names look like 'ddtp/ja-en/test' or 'ddtp/de-de/dev', not {name!r}")
    if name.startswith("irds:"):
        import pyterrier as pt
        return pt.get_dataset(name)
    raise ValueError(f"unknown collection {name!r}: use 'ddtp/<q>-<d>/<split>', an 'irds:' name, "
                     "or milco_pt.datasets.local(...)")
