"""Synthetic MILCO-like vectors with realistic statistics, and a retrieval task with known answers.

Documents: ~100-300 pivot terms (``e_`` + one of 30522 wordpieces) and ~20-80 source pieces
(``m_`` + one of 50000 pieces), terms drawn Zipf-like, weights log-normal like ``log1p(relu(.))``
outputs (mostly 0.1-2, capped at 4). Queries: 8-16 of a target document's heaviest terms plus
noise terms, the target being the one relevant document.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

PIVOT_VOCAB, SOURCE_VOCAB = 30522, 50000


def _zipf_terms(rng, n, vocab, prefix, a=1.1):
    ranks = np.arange(1, vocab + 1)
    p = ranks ** -a
    p /= p.sum()
    ids = np.unique(rng.choice(vocab, size=n, p=p))
    return [f"{prefix}{i}" for i in ids]


def _weights(rng, n):
    return np.minimum(rng.lognormal(mean=-0.7, sigma=0.7, size=n), 4.0)


def make_collection(n_docs: int, n_queries: int, seed: int = 0):
    """``(docs, queries, qrels)`` frames: docs ``docno, toks``; queries ``qid, query_toks``."""
    rng = np.random.default_rng(seed)
    docs = []
    for i in range(n_docs):
        terms = _zipf_terms(rng, int(rng.integers(100, 300)), PIVOT_VOCAB, "e_")
        terms += _zipf_terms(rng, int(rng.integers(20, 80)), SOURCE_VOCAB, "m_▁")
        docs.append({"docno": f"d{i}", "toks": dict(zip(terms, _weights(rng, len(terms)).round(4).tolist()))})
    queries, qrels = [], []
    for j in range(n_queries):
        target = int(rng.integers(n_docs))
        vec = docs[target]["toks"]
        top = sorted(vec, key=lambda t: -vec[t])[: int(rng.integers(8, 16))]
        noise = _zipf_terms(rng, 6, PIVOT_VOCAB, "e_")
        terms = list(dict.fromkeys(top + noise))
        queries.append({"qid": f"q{j}", "query_toks": dict(zip(terms, _weights(rng, len(terms)).round(4).tolist()))})
        qrels.append({"qid": f"q{j}", "docno": f"d{target}", "label": 1})
    return pd.DataFrame(docs), pd.DataFrame(queries), pd.DataFrame(qrels)
