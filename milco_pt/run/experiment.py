"""Ad-hoc comparisons: named systems on a named collection, through ``pt.Experiment`` with
significance tests against a chosen baseline (what ``milco-pt experiment`` runs).

Systems (``--systems``, comma-separated):
  milco        MILCO, both views, one combined Anserini impact index (the authors' plain sum)
  milco-pivot  MILCO, pivot view only
  milco-fused  MILCO, one index per view fused with ``alpha`` (``--alpha``)
  milco-exact  MILCO, both views scored exactly (float weights, in memory)
  milco-maxp   MILCO on 512-token passages, a document scored by its best passage (MLDR)
  milco-mini   the shipped milco-mini, both views
  bm25         BM25 with the documents' language analyzer
  m3-sparse, m3-dense, splade, e5   the baselines (hub ids or folders via --m3 / --splade / --e5)
"""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Optional, Sequence

import pandas as pd
import pyterrier as pt

DEFAULT_MEASURES = ("nDCG@10", "R@100", "RR@10")


def measures(names: Sequence):
    """ir_measures objects from names such as ``nDCG@10``, ``R@100``, ``RR@10``, ``AP`` (objects pass through)."""
    import ir_measures
    return [ir_measures.parse_measure(n) if isinstance(n, str) else n for n in names]


class Builder:
    """Builds each named system for one collection, encoding its corpus once per model."""

    def __init__(self, dataset, work: Path, model: Optional[str] = None, alpha: float = 0.5,
                 m3: str = "BAAI/bge-m3", splade: str = "naver/splade-v3", e5: str = "intfloat/multilingual-e5-small",
                 batch_size: int = 32, num_results: int = 1000):
        self.dataset, self.work = dataset, Path(work)
        self.model_name, self.alpha = model, alpha
        self.model_label = model if isinstance(model, str) or model is None else (getattr(model, "name", None) or "milco")
        self.hub = {"m3": m3, "splade": splade, "e5": e5}
        self.batch_size, self.k = batch_size, num_results
        self._docs = None
        self._cache: dict = {}

    @property
    def docs(self) -> pd.DataFrame:
        if self._docs is None:
            self._docs = pd.DataFrame(list(self.dataset.get_corpus_iter()))
        return self._docs

    def _milco(self, name="milco"):
        if name == "milco" and self.model_name is not None and not isinstance(self.model_name, str):
            return self.model_name  # an already loaded Milco
        if name not in self._cache:
            if name == "milco-mini":
                from ..mini import SHIPPED_DELTA, load
                self._cache[name] = load(SHIPPED_DELTA, batch_size=self.batch_size)
            else:
                if not self.model_name:
                    raise ValueError("MILCO systems need --model (a hub id or a checkpoint folder)")
                from ..milco import Milco
                self._cache[name] = Milco.from_pretrained(self.model_name, batch_size=self.batch_size)
        return self._cache[name]

    def _encoded(self, name="milco"):
        key = f"{name}:docs"
        if key not in self._cache:
            m = self._milco(name)
            self._cache[key] = m.doc_encoder(outputs=(*m.views, "combined"))(self.docs)
        return self._cache[key]

    def _impact(self, name, column):
        from ..index.anserini import ImpactIndex
        key = f"{name}:{column}:index"
        if key not in self._cache:
            self._cache[key] = ImpactIndex(self.work / f"{name}-{column}", column=column, verbose=False,
                                           meta={"model": self.model_label or name}).index(self._encoded(name))
        return self._cache[key]

    def view_indexes(self, name: str = "milco"):
        """``(pivot, source)`` impact indexes of the corpus (built once), e.g. for an alpha sweep."""
        return self._impact(name, "toks"), self._impact(name, "src_toks")

    def build(self, system: str):
        if system in ("milco", "milco-mini"):
            return self._milco(system).query_encoder(outputs="combined") >> self._impact(system, "combined").retriever(self.k)
        if system == "milco-maxp":
            from ..index.anserini import ImpactIndex
            from ..maxp import MaxP, PassageSplitter
            m = self._milco()
            passages = PassageSplitter(m.encoder.m_tokenizer, max_tokens=m.doc_max_length)(self.docs)
            enc = m.doc_encoder(outputs="combined")(passages)
            index = ImpactIndex(self.work / "milco-maxp", column="combined", verbose=False).index(enc)
            return m.query_encoder(outputs="combined") >> index.retriever(self.k) >> MaxP(num_results=min(self.k, 100))
        if system == "milco-pivot":
            return self._milco().query_encoder(views=("pivot",)) >> self._impact("milco", "toks").retriever(self.k)
        if system == "milco-fused":
            from ..fusion import DualViewFusion
            fusion = DualViewFusion(*self.view_indexes(), alpha=self.alpha, num_results=self.k)
            return self._milco().query_encoder() >> fusion
        if system == "milco-exact":
            from ..index.exact import ExactIndex
            index = ExactIndex(["toks", "src_toks"] if "src_toks" in self._encoded() else ["toks"])
            return self._milco().query_encoder() >> index.index(self._encoded()).retriever(self.k)
        if system == "bm25":
            from ..baselines import BM25Index
            lang = self.dataset.get_corpus_lang() or "en"
            return BM25Index(self.work / "bm25", language=lang, verbose=False).index(self.docs).bm25(self.k)
        if system in ("m3-sparse", "splade"):
            from ..baselines import M3Sparse, Splade
            from ..index.anserini import ImpactIndex
            cls, hub = (M3Sparse, self.hub["m3"]) if system == "m3-sparse" else (Splade, self.hub["splade"])
            enc = cls.from_pretrained(hub, batch_size=self.batch_size)
            index = ImpactIndex(self.work / system, verbose=False, meta={"model": hub}).index(enc.doc_encoder()(self.docs))
            return enc.query_encoder() >> index.retriever(self.k)
        if system in ("m3-dense", "e5"):
            from ..baselines import E5, FlatIndex, M3Dense
            cls, hub = (M3Dense, self.hub["m3"]) if system == "m3-dense" else (E5, self.hub["e5"])
            enc = cls.from_pretrained(hub, batch_size=self.batch_size)
            return enc.query_encoder() >> FlatIndex().index(enc.doc_encoder()(self.docs)).retriever(self.k)
        raise ValueError(f"unknown system {system!r}; see milco_pt.run.experiment's docstring for the names")


def run(systems: Sequence[str], dataset, *, model=None, baseline: Optional[str] = None,
        measure_names: Sequence = DEFAULT_MEASURES, variant: Optional[str] = None, out: Optional[str] = None,
        dataset_kwargs: Optional[dict] = None, **builder_kwargs) -> pd.DataFrame:
    """``pt.Experiment`` of ``systems`` (names, or ready pipelines) on ``dataset`` (a :func:`milco_pt.datasets.get` name or a
    collection object); ``model`` is a MILCO hub id / folder, or a loaded :class:`~milco_pt.Milco`;
    measures are names (``nDCG@10``) or ir_measures objects (e.g. MKQA's answer recall)."""
    from ..datasets import get
    ds = get(dataset, **(dataset_kwargs or {})) if isinstance(dataset, str) else dataset
    if baseline is not None and baseline not in list(systems):
        raise ValueError(f"the baseline {baseline!r} is not among the systems {list(systems)}")
    names = [s if isinstance(s, str) else f"system {i}" for i, s in enumerate(systems)]
    with tempfile.TemporaryDirectory() as tmp:
        builder = Builder(ds, Path(tmp), model=model, **builder_kwargs)
        pipes = [builder.build(s) if isinstance(s, str) else s for s in systems]
        topics = ds.get_topics(variant)
        res = pt.Experiment(pipes, topics[["qid", "query"]], ds.get_qrels(variant), measures(measure_names),
                            names=names, baseline=names.index(baseline) if baseline else None)
    if out:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        res.to_csv(out, index=False)
    return res
