"""Writing Anserini's impact-index layout with Lucene directly, a term's weight as its frequency.

Anserini's ``IndexCollection -impact -pretokenized`` turns a vector into text that repeats each term
as many times as its integer weight, so its build time grows with the sum of the weights. Here each
term is written once as ``term<DELIM>weight`` and Lucene's ``DelimitedTermFrequencyTokenFilter``
sets the frequency: the postings (and so every score ``SimpleImpactSearcher`` computes) are the
same, at a cost that grows with the number of terms. Fields as Anserini writes them: ``id``
(stored string + binary doc values) and ``contents`` (docs and freqs, not stored).
"""
from __future__ import annotations

from pathlib import Path

from . import java

DELIM = "\u241e"  # SYMBOL FOR RECORD SEPARATOR: never part of a term (checked)
_FIELD_SIGNATURE = "(Ljava/lang/String;Ljava/lang/CharSequence;Lorg/apache/lucene/index/IndexableFieldType;)V"


class DirectImpactWriter:
    """``add(docno, {term: int weight})`` for each document, then ``close()`` (merges to one segment)."""

    def __init__(self, path: Path, ram_buffer_mb: float = 256.0):
        J = java.autoclass
        HashMap = J("java.util.HashMap")
        tok_params, filt_params = HashMap(), HashMap()
        filt_params.put("delimiter", DELIM)
        analyzer = (J("org.apache.lucene.analysis.custom.CustomAnalyzer").builder()
                    .withTokenizer("whitespace", tok_params)
                    .addTokenFilter("delimitedTermFrequency", filt_params).build())
        config = J("org.apache.lucene.index.IndexWriterConfig")(analyzer)
        config.setOpenMode(J("org.apache.lucene.index.IndexWriterConfig$OpenMode").CREATE)
        config.setRAMBufferSizeMB(float(ram_buffer_mb))
        directory = J("org.apache.lucene.store.FSDirectory").open(J("java.io.File")(str(path)).toPath())
        self.writer = J("org.apache.lucene.index.IndexWriter")(directory, config)
        ftype = J("org.apache.lucene.document.FieldType")()
        ftype.setIndexOptions(J("org.apache.lucene.index.IndexOptions").DOCS_AND_FREQS)
        ftype.setTokenized(True)
        ftype.setStored(False)
        ftype.freeze()
        self.ftype = ftype
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
