"""Anserini (Lucene) impact indexes of MILCO vectors, through pyserini's Java classes.

Anserini scores an impact query as ``sum_t q_t * d_t`` over **integer** weights, so vectors
are quantized as ``round(weight * scale)`` on both sides (terms that round to 0 are dropped).
Any toks column can be indexed: the pivot view (``toks``), the source view (``src_toks``),
or the combined e_/m_ column. The quantized vectors are also kept in a forward store
(:mod:`.forward`).

Anserini's ``IndexCollection -impact -pretokenized`` turns a vector into text that repeats each
term as many times as its integer weight, so its build time grows with the sum of the weights.
:class:`DirectImpactWriter` (the default) writes each term once as ``term<DELIM>weight`` and
Lucene's ``DelimitedTermFrequencyTokenFilter`` sets the frequency: the same postings (so the same
scores), at a cost that grows with the number of terms. Fields as Anserini writes them: ``id``
(stored string + binary doc values) and ``contents`` (docs and freqs, not stored).
"""
from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from typing import Optional, Union

import pandas as pd

from . import java
from .base import IndexingMode, Retriever, ranked_lists_frame
from .checks import query_where, short
from .forward import DEFAULT_SCALE, ForwardIndex, ForwardIndexer, quantize

__all__ = ["ImpactIndex", "ImpactIndexer", "ImpactRetriever", "DirectImpactWriter", "quantize",
           "DEFAULT_SCALE", "check_term", "check_terms", "run_index_collection", "hits_frame"]

DELIM = "\u241e"  # SYMBOL FOR RECORD SEPARATOR: never part of a term (checked)
#: Lucene's whitespace tokenizer splits longer tokens (UTF-16 units): Anserini's own indexing would
#: cut such a term, so it is an error for both methods (the direct writer allows a longer token,
#: for the ``DELIM`` and the weight that follow the term)
MAX_TERM_CHARS = 255
MAX_CLAUSES = 2**31 - 1
_BAD_TERM = re.compile(r"[\s\u241e]|^$|\x00\x00|^\x00|\x00$")
_FIELD_SIGNATURE = "(Ljava/lang/String;Ljava/lang/CharSequence;Lorg/apache/lucene/index/IndexableFieldType;)V"


def check_term(term: str, where: str = "a document") -> str:
    if not term or _BAD_TERM.search(term):
        raise ValueError(f"{where}: term {short(term)} is empty or contains whitespace (or U+241E); Anserini's "
                         "pretokenized impact indexes split terms on whitespace")
    if len(term) > MAX_TERM_CHARS // 2 and len(term.encode("utf-16-le")) // 2 > MAX_TERM_CHARS:
        raise ValueError(f"{where}: term {short(term)} is longer than Lucene's {MAX_TERM_CHARS} characters per "
                         "token, so Anserini would split it: shorten or drop the term (or use the pisa backend)")
    return term


def check_terms(vec: dict, where: str = "a document") -> dict:
    """``vec`` when no term is empty, holds whitespace / U+241E or is longer than Lucene's token limit
    (one regex pass per document)."""
    if vec and (_BAD_TERM.search("\x00".join(vec)) or max(map(len, vec)) > MAX_TERM_CHARS // 2):
        for term in vec:
            check_term(term, where)
    return vec


def search_long_queries():
    """Let Lucene search queries of any number of terms (its default stops at 1024 clauses, failing
    a whole batch); the limit is process-wide and only ever raised."""
    searcher = java.autoclass("org.apache.lucene.search.IndexSearcher")
    if searcher.getMaxClauseCount() < MAX_CLAUSES:
        searcher.setMaxClauseCount(MAX_CLAUSES)



class ImpactIndex(ForwardIndex):
    """A Lucene impact index of one toks column, searched with ``LuceneImpactSearcher``'s engine."""

    ARTIFACT_FORMAT = "anserini-impact"
    SETTINGS = SHOWN = ("column", "scale")

    def __init__(self, path: Union[str, Path], *, column: str = "toks", scale: float = DEFAULT_SCALE,
                 meta: Optional[dict] = None, verbose: bool = True):
        """
        Args:
            path: the index folder.
            column: the document toks column to index (queries use ``query_`` + column).
            scale: quantization factor, ``int(round(weight * scale))``, for documents and queries.
            meta: extra metadata to record (e.g. model, view, pruning).
            verbose: progress bars.
        """
        super().__init__(path, meta=meta, verbose=verbose, column=column, scale=scale)

    def doc_vector(self, vec: dict, where: str = "a document") -> dict:
        return check_terms(quantize(vec, self.scale, where), where)

    def indexer(self, mode: Union[str, IndexingMode] = IndexingMode.create, threads: int = 1,
                method: str = "direct", forward: bool = True,
                ram_buffer_mb: Optional[float] = None) -> "ImpactIndexer":
        """``method``: ``direct`` writes each term once with its weight as term frequency
        (:class:`DirectImpactWriter`); ``anserini`` runs Anserini's ``IndexCollection`` on a
        JsonVectorCollection. Both give the same postings and scores. ``forward``: keep the forward
        store that dual-view fusion reads (:class:`~.forward.ForwardIndexer`). ``ram_buffer_mb``:
        the direct writer's postings buffer (default ``$MILCO_PT_INDEX_BUFFER_MB`` or 256), which
        with the JVM's heap bounds the build's memory whatever the corpus size."""
        return ImpactIndexer(self, IndexingMode(mode), threads, method, forward, ram_buffer_mb)

    def retriever(self, num_results: int = 1000, threads: int = 1, *,
                  query_column: Optional[str] = None) -> "ImpactRetriever":
        return ImpactRetriever(self, num_results, threads=threads, query_column=query_column)


class ImpactIndexer(ForwardIndexer):
    """Builds an :class:`ImpactIndex` from records with ``docno`` and the toks column."""

    def __init__(self, index: ImpactIndex, mode: IndexingMode, threads: int = 1, method: str = "direct",
                 forward: bool = True, ram_buffer_mb: Optional[float] = None):
        if method not in ("direct", "anserini"):
            raise ValueError(f"method must be 'direct' or 'anserini', not {method!r}")
        super().__init__(index, mode, threads, forward)
        self.method = method
        self.ram_buffer_mb = None if ram_buffer_mb is None else ram_buffer(ram_buffer_mb)

    def __repr__(self):
        extra = "" if self.method == "direct" else f", method={self.method!r}"
        if self.ram_buffer_mb is not None:
            extra += f", ram_buffer_mb={self.ram_buffer_mb:g}"
        return f"{self.index_ref!r}.indexer(mode={self.mode.value!r}{extra})"

    def build(self, it, work: Path) -> dict:
        buffer = ram_buffer(self.ram_buffer_mb)
        stats = {"anserini_jar": Path(java.anserini_jar()).name, "method": self.method, "ram_buffer_mb": buffer}
        lucene_dir = work / "index"
        lucene_dir.mkdir()
        if self.method == "direct":
            writer = DirectImpactWriter(lucene_dir, buffer)
            try:
                for docno, vec in self.documents(it, work, stats):
                    writer.add(docno, vec)
            except BaseException:
                writer.abort()
                raise
            writer.close()
        else:
            docs_dir = work / "docs"
            docs_dir.mkdir()
            with open(docs_dir / "part-0.jsonl", "w", encoding="utf-8") as f:
                for docno, vec in self.documents(it, work, stats):
                    f.write(json.dumps({"id": docno, "contents": "", "vector": vec}, ensure_ascii=False) + "\n")
            if stats["doc_count"]:
                run_index_collection(["-collection", "JsonVectorCollection", "-impact", "-pretokenized"],
                                     docs_dir, lucene_dir, self.threads, self.index_ref.verbose, buffer)
            shutil.rmtree(docs_dir)
        for f in lucene_dir.iterdir():
            f.rename(work / f.name)
        lucene_dir.rmdir()
        return stats


def run_index_collection(args: list, docs_dir: Path, lucene_dir: Path, threads: int, verbose: bool,
                         ram_buffer_mb: Optional[float] = None):
    """Anserini's ``IndexCollection`` over the JSON files of ``docs_dir`` into ``lucene_dir``, with
    the indexing buffer of :func:`ram_buffer` (Anserini's own default, 4 GB, is past the JVM's heap
    cap: a large corpus would run out of heap before its first flush)."""
    args = [*args, "-input", str(docs_dir), "-index", str(lucene_dir), "-generator", "DefaultLuceneDocumentGenerator",
            "-threads", str(threads), "-memoryBuffer", str(max(1, round(ram_buffer(ram_buffer_mb)))), "-optimize",
            *([] if verbose else ["-quiet"])]
    java.autoclass("io.anserini.index.IndexCollection").main(args)
    if not list(lucene_dir.glob("segments_*")):
        raise RuntimeError(f"Anserini did not produce an index in {lucene_dir}")


BUFFER = "MILCO_PT_INDEX_BUFFER_MB"


def ram_buffer(mb: Optional[float] = None) -> float:
    """Lucene's indexing buffer in MB (the direct writer's and ``IndexCollection``'s): ``mb``, else
    ``$MILCO_PT_INDEX_BUFFER_MB``, else 256; an error naming the setting when out of range."""
    value = os.environ.get(BUFFER, "256") if mb is None else mb
    try:
        mb = float(value)
    except ValueError:
        mb = float("nan")
    if not 1 <= mb <= 2047:
        source = f"${BUFFER}={value!r}" if isinstance(value, str) else f"ram_buffer_mb={value!r}"
        raise ValueError(f"{source}: Lucene's indexing buffer must be between 1 and 2047 MB (e.g. 64)")
    return mb


class DirectImpactWriter:
    """``add(docno, {term: int weight})`` for each document, then ``close()`` (merges to one segment).
    Lucene holds postings in ``ram_buffer_mb`` (:func:`ram_buffer`) and flushes a segment when it is
    full, so memory is bounded by it and the JVM's heap (:mod:`.java`), not by the corpus."""

    def __init__(self, path: Path, ram_buffer_mb: Optional[float] = None):
        self.ram_buffer_mb = ram_buffer(ram_buffer_mb)
        J = java.autoclass
        HashMap = J("java.util.HashMap")
        tok_params, filt_params = HashMap(), HashMap()
        tok_params.put("maxTokenLen", str(2 * MAX_TERM_CHARS))
        filt_params.put("delimiter", DELIM)
        analyzer = (J("org.apache.lucene.analysis.custom.CustomAnalyzer").builder()
                    .withTokenizer("whitespace", tok_params)
                    .addTokenFilter("delimitedTermFrequency", filt_params).build())
        config = J("org.apache.lucene.index.IndexWriterConfig")(analyzer)
        config.setOpenMode(J("org.apache.lucene.index.IndexWriterConfig$OpenMode").CREATE)
        config.setRAMBufferSizeMB(self.ram_buffer_mb)
        directory = J("org.apache.lucene.store.FSDirectory").open(J("java.io.File")(str(path)).toPath())
        self.writer = J("org.apache.lucene.index.IndexWriter")(directory, config)
        ftype = J("org.apache.lucene.document.FieldType")()
        ftype.setIndexOptions(J("org.apache.lucene.index.IndexOptions").DOCS_AND_FREQS)
        ftype.setTokenized(True)
        ftype.setStored(False)
        ftype.freeze()
        # one Document whose fields get new values per document (Lucene's field reuse): far fewer
        # Java calls per document than building new objects
        self.doc = J("org.apache.lucene.document.Document")()
        self.id_field = J("org.apache.lucene.document.StringField")("id", "", J("org.apache.lucene.document.Field$Store").YES)
        self.id_values = J("org.apache.lucene.document.BinaryDocValuesField")("id", J("org.apache.lucene.util.BytesRef")())
        self.contents = J("org.apache.lucene.document.Field")("contents", "", ftype, signature=_FIELD_SIGNATURE)
        for field in (self.id_field, self.id_values, self.contents):
            self.doc.add(field)

    def add(self, docno: str, vec: dict):
        self.id_field.setStringValue(docno)
        self.id_values.setBytesValue(docno.encode("utf-8"))
        self.contents.setStringValue(" ".join([f"{t}{DELIM}{w}" for t, w in vec.items()]))
        self.writer.addDocument(self.doc)

    def close(self):
        self.writer.forceMerge(1)
        self.writer.commit()
        self.writer.close()

    def abort(self):
        """Drop everything written (the build failed or was interrupted)."""
        self.writer.rollback()


class ImpactRetriever(Retriever):
    """Batch impact search over an :class:`ImpactIndex` with queries' quantized toks."""

    DEFAULTS = {"threads": 1}

    def searcher(self):
        if getattr(self, "_searcher", None) is None:
            self.index.opened()
            self._searcher = java.autoclass("io.anserini.search.SimpleImpactSearcher")(str(self.index.path))
        return self._searcher

    def search(self, inp, queries):
        JHashMap, JInt = java.autoclass("java.util.HashMap"), java.autoclass("java.lang.Integer")
        jqueries = []
        for n, vec in enumerate(queries):
            jq = JHashMap()
            for term, w in quantize(vec, self.index.scale, query_where(inp, n)).items():
                jq.put(term, JInt(w))
            jqueries.append(jq)
        return hits_frame(self.searcher(), inp, jqueries, self.num_results, self.threads)


def hits_frame(searcher, inp: pd.DataFrame, queries: list, num_results: int, threads: int) -> pd.DataFrame:
    """An Anserini searcher's ``batch_search`` of ``queries`` (one per row of ``inp``) as a result frame."""
    JArrayList = java.autoclass("java.util.ArrayList")
    search_long_queries()
    jqueries, keys = JArrayList(), JArrayList()
    for n, q in enumerate(queries):
        jqueries.add(q)
        keys.add(str(n))
    hits = searcher.batch_search(jqueries, keys, int(num_results), int(threads))
    return ranked_lists_frame(inp, [[(h.docid, h.score) for h in hits.get(str(n)) or []] for n in range(len(queries))])
