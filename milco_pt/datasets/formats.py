"""Readers for the common collection formats: corpus jsonl(.gz/.xz), topics tsv/jsonl, TREC qrels."""
from __future__ import annotations

import gzip
import json
import lzma
import os
from typing import Iterator, Optional

import pandas as pd

ID_KEYS = ("docno", "id", "_id", "qid", "query_id", "doc_id")
TEXT_KEYS = ("text", "contents", "query", "body")


def files_stamp(paths) -> tuple:
    """What files' contents are known by, for per-process caches: each path, inode, size, mtime
    and ctime (a rebuilt, replaced or touched file changes it)."""
    return tuple((str(p), st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
                 for p in paths for st in [os.stat(p)])


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
    """``(id, text)`` pairs from a jsonl(.gz/.xz) file or a tsv.

    In jsonl, the id and text fields are found among common names unless given; a ``title`` is
    prefixed to the text (``title + " " + text``) unless ``title=False``. A tsv is ``id<TAB>text``,
    or has a header line naming its columns (e.g. DPR's ``id<TAB>text<TAB>title``). A text that is
    not a string, or that cannot be written as UTF-8 (a lone surrogate), is an error naming its line.
    """
    path = str(path)
    if ".jsonl" in path or path.endswith((".json", ".json.gz")):
        for n, rec in enumerate(read_jsonl(path), 1):
            ik = id_field or next((k for k in ID_KEYS if k in rec), None)
            tk = text_field or next((k for k in TEXT_KEYS if k in rec), None)
            if ik not in rec or tk not in rec:
                raise ValueError(f"{path}:{n}: needs an id ({'/'.join(ID_KEYS)}) and a text "
                                 f"({'/'.join(TEXT_KEYS)}) field; name them with id_field/text_field")
            yield str(rec[ik]), _text(rec[tk], rec.get("title") if title else None, path, n, tk)
        return
    yield from _read_tsv(path, id_field, text_field, title)


def _text(text, title, path, n: int, field: str) -> str:
    if not isinstance(text, str):
        raise ValueError(f"{path}:{n}: {field!r} is {type(text).__name__}, not a string; "
                         "fix or drop that line")
    if title:
        text = f"{title} {text}"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as e:
        raise ValueError(f"{path}:{n}: {field!r} holds {text[e.start:e.end]!r}, which is not valid "
                         "Unicode text (a lone surrogate); fix or drop that line") from None
    return text


def _read_tsv(path: str, id_field: Optional[str], text_field: Optional[str], title: bool):
    with open_text(path) as f:
        header = None
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            parts = line.rstrip("\n").split("\t")
            if header is None and n == 1 and ({id_field, text_field} | set(ID_KEYS + TEXT_KEYS)) >= set(parts[:2]):
                header = {c: i for i, c in enumerate(parts)}
                ik = header.get(id_field) if id_field else next((header[k] for k in ID_KEYS if k in header), None)
                tk = header.get(text_field) if text_field else next((header[k] for k in TEXT_KEYS if k in header), None)
                if ik is None or tk is None:
                    raise ValueError(f"{path}:1: the header {parts} names no id or no text column; "
                                     "name them with id_field/text_field")
                tt = header.get("title") if title else None
                continue
            if header is None:
                if len(parts) != 2:
                    raise ValueError(f"{path}:{n}: a tsv line must be id<TAB>text, this one has {len(parts)} "
                                     "columns; for more columns start the file with a header line naming them "
                                     "(e.g. id<TAB>text<TAB>title)")
                yield parts[0], _text(parts[1], None, path, n, "text")
                continue
            if len(parts) != len(header):
                raise ValueError(f"{path}:{n}: {len(parts)} columns where the header names {len(header)}")
            yield parts[ik], _text(parts[tk], parts[tt] if tt is not None else None, path, n, "text")


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

