"""Test collections: the shipped DDTP collection, local files, and standard benchmarks.

    milco_pt.datasets.get("ddtp/ja-en/test")       # cross-lingual: Japanese queries, English docs
    milco_pt.datasets.get("ddtp/de-de/test")       # monolingual German
    milco_pt.datasets.get("manpages/de-en/dev")   # out of domain: German man-page NAME lines, English pages
    milco_pt.datasets.get("miracl/ja/dev")        # via ir_datasets; also mrtydi/, neuclir/, beir/
    milco_pt.datasets.get("mldr/ja/test")         # hub or folder=; also mkqa/<lang> (folder=), limit
    milco_pt.datasets.local(corpus=..., topics=..., qrels=...)
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

from .. import lazy_exports

if TYPE_CHECKING:
    from .collection import Collection, local

# lazy: training reads DDTP through .formats and .ddtp without PyTerrier (a GPU box may lack it)
__all__ = ["get", "local", "Collection"]
__getattr__ = lazy_exports(__name__, {"Collection": "collection", "local": "collection"})

DDTP_NAME = re.compile(r"^ddtp/([A-Za-z_]+)-([A-Za-z_]+)/(train|dev|test)$")
MANPAGES_NAME = re.compile(r"^manpages/([A-Za-z_]+)-([A-Za-z_]+)/(\w+)$")


def get(name: str, **kwargs) -> "Collection":
    """A collection by name (see the module docstring); ``kwargs`` go to the loader (e.g.
    ``folder=`` for a local copy, ``lowercase=`` for MIRACL)."""
    from . import standard as b
    m = DDTP_NAME.match(name)
    if m:
        from .ddtp import task
        return task(m.group(1), m.group(2), m.group(3), **kwargs)
    m = MANPAGES_NAME.match(name)
    if m:
        from .manpages import task as manpages_task
        return manpages_task(m.group(1), m.group(2), m.group(3), **kwargs)
    parts = name.split("/")
    kind = parts[0]
    if kind == "ddtp":
        raise ValueError(f"DDTP names look like 'ddtp/ja-en/test' or 'ddtp/de-de/dev', not {name!r}")
    if kind == "manpages":
        raise ValueError(f"man-page names look like 'manpages/de-en/dev', not {name!r}")
    if name.startswith("irds:"):
        return b.irds(name[5:], **kwargs)
    if kind == "miracl" and len(parts) == 3:
        return b.miracl(parts[1], parts[2], **kwargs)
    if kind == "mrtydi" and len(parts) == 3:
        return b.irds(f"mr-tydi/{parts[1]}/{parts[2]}", **kwargs)
    if kind == "neuclir" and len(parts) == 3:
        return b.irds(f"neuclir/1/{parts[1]}/{parts[2]}", **kwargs)
    if kind == "beir" and len(parts) in (2, 3):
        return b.irds(name, **kwargs)
    if kind == "mldr" and len(parts) == 3:
        return b.mldr(parts[1], parts[2], **kwargs)
    if kind == "mkqa" and len(parts) == 2:
        if "folder" not in kwargs:
            raise ValueError("MKQA needs folder= (BGE-M3's qa_data/<lang>.jsonl and the NQ passages)")
        return b.mkqa(parts[1], **kwargs)
    if name == "limit":
        return b.limit(**kwargs)
    raise ValueError(f"unknown collection {name!r}: use ddtp/<q>-<d>/<split>, manpages/<q>-en/dev, miracl/<lang>/<split>, "
                     "mrtydi/<lang>/<split>, neuclir/<lang>/<topics>, beir/<name>[/<split>], mldr/<lang>/<split>, "
                     "mkqa/<lang>, limit, an irds: name, or milco_pt.datasets.local(...)")
