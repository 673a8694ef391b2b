"""PISA impact indexes of MILCO vectors (through ``pyterrier-pisa``), the same integer scoring as
the Anserini backend: ``sum_t round(q_t * scale) * round(d_t * scale)``, searched with PISA's
dynamic pruning (``maxscore`` by default, any PISA algorithm on request), so rankings equal
Anserini's and exact scoring's. The quantized vectors are also kept in a forward store.

PISA lowercases ASCII letters of query terms (not of indexed ones), which would lose cased source
pieces such as ``m_▁Hund``; terms are therefore indexed as ids ``t<n>`` (``terms.json`` maps them).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional, Union

import pandas as pd

from .base import Retriever, native_output, results_frame
from .checks import PISA_QUERY_TOTAL, query_where
from .forward import DEFAULT_SCALE, ForwardIndex, ForwardIndexer, quantize

PISA_DIR = "pisa"
TERMS = "terms.json"
DEFAULT_ALGORITHM = "maxscore"


def _pisa(path: Path, threads: int = 1):
    try:
        from pyterrier_pisa import PisaIndex
    except ImportError as e:
        raise ImportError("the PISA backend needs pip install pyterrier-pisa==0.4.9") from e
    return PisaIndex(str(path), stemmer="none", stops="none", threads=threads)


def _retrieve(path: Path, num_results: int, threads: int, algorithm: str):
    """PISA's ``quantized`` retriever of the index at ``path``; the first one of an index writes the
    scorer's files (``quantized.q0.bmw.*``) beside it."""
    from pyterrier_pisa import PisaRetrieve
    return PisaRetrieve(_pisa(path, threads), "quantized", num_results=num_results, threads=threads, stops="none",
                        query_algorithm=algorithm, query_weighted=True, toks_scale=1.0)


class PisaImpactIndexer(ForwardIndexer):
    """Builds a :class:`PisaImpactIndex`: quantized vectors with terms renamed to ids."""

    DESC = "Indexing vectors (PISA)"

    def build(self, it, work: Path) -> dict:
        stats: dict = {}
        ids: dict[str, str] = {}
        docs = ({"docno": docno, "toks": {ids.setdefault(t, f"t{len(ids)}"): w for t, w in vec.items()}}
                for docno, vec in self.documents(it, work, stats))
        with native_output(self.index_ref.verbose):
            _pisa(work / PISA_DIR, self.threads).toks_indexer("toks", scale=1.0, threads=self.threads).index(docs)
            _retrieve(work / PISA_DIR, 1, self.threads, DEFAULT_ALGORITHM)  # its files are part of the build
        with open(work / TERMS, "w", encoding="utf-8") as f:
            json.dump(list(ids), f, ensure_ascii=False)
        return {**stats, "distinct_terms": len(ids)}


class PisaImpactIndex(ForwardIndex):
    """A PISA index of one toks column; ``retriever()`` scores like :class:`~milco_pt.ImpactIndex`."""

    ARTIFACT_FORMAT = "milco-pisa"
    INDEXER = PisaImpactIndexer
    needs_a_term = True
    SETTINGS = SHOWN = ("column", "scale")

    def __init__(self, path: Union[str, Path], *, column: str = "toks", scale: float = DEFAULT_SCALE,
                 meta: Optional[dict] = None, verbose: bool = True):
        """Arguments as :class:`~milco_pt.index.anserini.ImpactIndex`'s."""
        super().__init__(path, meta=meta, verbose=verbose, column=column, scale=scale)

    def retriever(self, num_results: int = 1000, threads: int = 1, query_algorithm: str = DEFAULT_ALGORITHM, *,
                  query_column: Optional[str] = None) -> "PisaImpactRetriever":
        """``maxscore`` by default: on MILCO's long queries (~220 terms) it answered 4.7x faster than
        ``block_max_wand`` with the same results (``benchmarks/README.md``); any PISA algorithm works."""
        return PisaImpactRetriever(self, num_results, threads=threads, query_algorithm=query_algorithm,
                                   query_column=query_column)


class PisaImpactRetriever(Retriever):
    """PISA's ``quantized`` scorer over integer query weights (the same quantization as indexing)."""

    DEFAULTS = {"threads": 1, "query_algorithm": DEFAULT_ALGORITHM}

    def term_ids(self) -> dict[str, str]:
        if getattr(self, "_ids", None) is None:
            with open(self.index.path / TERMS, encoding="utf-8") as f:
                self._ids = {t: f"t{i}" for i, t in enumerate(json.load(f))}
        return self._ids

    def retrieve(self):
        if getattr(self, "_retr", None) is None:
            self.index.opened()
            with native_output(False):
                self._retr = _retrieve(self.index.path / PISA_DIR, self.num_results, self.threads, self.query_algorithm)
        return self._retr

    def search(self, inp, queries):
        retrieve, ids = self.retrieve(), self.term_ids()
        scale = self.index.scale
        frame = pd.DataFrame({"qid": [str(i) for i in range(len(inp))],
                              "query_toks": [{ids[t]: float(w) for t, w in
                                              quantize(v, scale, query_where(inp, n), PISA_QUERY_TOTAL).items()
                                              if t in ids} for n, v in enumerate(queries)]})
        res = retrieve(frame)
        return results_frame(inp, res["qid"].astype(int).to_numpy(), res["docno"].to_numpy(), res["score"].to_numpy())
