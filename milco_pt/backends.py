"""One entry point for the sparse index backends, so a pipeline switches engine with one argument:

    index = milco_pt.sparse_index("idx", backend="pisa")     # or "anserini" (default), "seismic"
    index.index(docs)                                          # docno + toks
    pipeline = milco.query_encoder() >> index.retriever(num_results=100)

``anserini`` and ``pisa`` score the same integer-quantized dot product (equal rankings);
``seismic`` is approximate over float weights (its recall is measured by benchmarks/backends.py).
"""
from __future__ import annotations

import importlib

BACKENDS = {"anserini": ("impact", "ImpactIndex"), "pisa": ("pisa_index", "PisaImpactIndex"),
            "seismic": ("seismic_index", "SeismicIndex")}


def sparse_index(path, backend: str = "anserini", **kwargs):
    """The index class of ``backend`` at ``path``; ``kwargs`` go to its constructor (e.g.
    ``column=``, ``scale=`` for anserini/pisa, Seismic's build parameters)."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}: use one of {sorted(BACKENDS)}")
    module, name = BACKENDS[backend]
    return getattr(importlib.import_module(f".{module}", __package__), name)(path, **kwargs)
