"""Readers for the common collection formats: corpus jsonl(.gz/.xz), topics tsv/jsonl, TREC qrels."""
from __future__ import annotations

import gzip
import json
import lzma
from typing import Iterator, Optional

import pandas as pd

ID_KEYS = ("docno", "id", "_id", "qid", "query_id", "doc_id")
TEXT_KEYS = ("text", "contents", "query", "body")


def open_text(path):
    path = str(path)
    if path.endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8")
    if path.endswith(".xz"):
        return lzma.open(path, "rt", encoding="utf-8")
    return open(path, encoding="utf-8")


def read_jsonl(path) -> Iterator[dict]:
    with open_text(path) as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as e:
                    raise ValueError(f"{path}:{n}: not valid JSON ({e})") from e


def read_texts(path, id_field: Optional[str] = None, text_field: Optional[str] = None,
               title: bool = True) -> Iterator[tuple[str, str]]:
    """``(id, text)`` pairs from a jsonl(.gz/.xz) file or a tsv (id<TAB>...<TAB>text).

    In jsonl, the id and text fields are found among common names unless given; a ``title`` is
    prefixed to the text (``title + " " + text``) unless ``title=False``.
    """
    path = str(path)
    if ".jsonl" in path or path.endswith((".json", ".json.gz")):
        for n, rec in enumerate(read_jsonl(path), 1):
            ik = id_field or next((k for k in ID_KEYS if k in rec), None)
            tk = text_field or next((k for k in TEXT_KEYS if k in rec), None)
            if ik not in rec or tk not in rec:
                raise ValueError(f"{path}:{n}: needs an id ({'/'.join(ID_KEYS)}) and a text "
                                 f"({'/'.join(TEXT_KEYS)}) field; name them with id_field/text_field")
            text = rec[tk]
            if title and rec.get("title"):
                text = f"{rec['title']} {text}"
            yield str(rec[ik]), text
        return
    with open_text(path) as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 2:
                raise ValueError(f"{path}:{n}: a tsv line must be id<TAB>text")
            yield parts[0], parts[-1]


def read_topics(path) -> pd.DataFrame:
    """Topics as a ``qid, query`` frame (tsv ``qid<TAB>query`` or jsonl)."""
    return pd.DataFrame(list(read_texts(path)), columns=["qid", "query"])


def read_qrels(path) -> pd.DataFrame:
    """TREC qrels (``qid iter docno label``) as a ``qid, docno, label`` frame. Our reader rather than
    ``pt.io.read_qrels`` / ``ir_measures.read_trec_qrels`` so that a malformed line is an error
    naming the file and line."""
    rows = []
    with open_text(path) as f:
        for n, line in enumerate(f, 1):
            parts = line.split()
            if not parts:
                continue
            if len(parts) != 4:
                raise ValueError(f"{path}:{n}: a TREC qrels line is 'qid iter docno label'")
            try:
                label = int(parts[3])
            except ValueError:
                raise ValueError(f"{path}:{n}: the relevance label {parts[3]!r} is not an integer; "
                                 "TREC qrels grade relevance with integers (0, 1, 2, ...)") from None
            rows.append((parts[0], parts[2], label))
    return pd.DataFrame(rows, columns=["qid", "docno", "label"])

