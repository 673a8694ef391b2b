"""Debian's translated package descriptions (DDTP) as a multilingual test collection.

``Translation-<lang>`` files are RFC 822 stanzas (``Package``, ``Description-md5``,
``Description-<lang>``); a translation is kept only when its ``Description-md5`` equals the
English description's, i.e. it translates the current text.
"""
from __future__ import annotations

import io
import subprocess
import unicodedata
from pathlib import Path
from typing import Iterator


def _is_cjk(ch: str) -> bool:
    if not ch:
        return False
    name = unicodedata.name(ch, "")
    return ord(ch) >= 0x2E80 and any(k in name for k in ("CJK", "HIRAGANA", "KATAKANA", "FULLWIDTH",
                                                          "IDEOGRAPHIC"))


def join_lines(lines: list[str]) -> str:
    """Join wrapped lines: a space between words, none between two CJK characters."""
    out = ""
    for line in (ln.strip() for ln in lines):
        if not line:
            continue
        if out and not (_is_cjk(out[-1]) and _is_cjk(line[0])):
            out += " "
        out += line
    return out


def parse_description(value: str) -> tuple[str, str]:
    """``(short, long)`` of a Description field; `` .`` lines separate paragraphs."""
    first, *rest = value.split("\n")
    paragraphs, cur = [], []
    for line in rest:
        if line.strip() == ".":
            paragraphs.append(join_lines(cur))
            cur = []
        else:
            cur.append(line)
    paragraphs.append(join_lines(cur))
    return first.strip(), "\n".join(p for p in paragraphs if p)


def read_stanzas(f: io.TextIOBase) -> Iterator[dict]:
    """RFC 822 stanzas of a Translation file as dicts (continuation lines kept)."""
    stanza, key = {}, None
    for raw in f:
        line = raw.rstrip("\n")
        if not line:
            if stanza:
                yield stanza
            stanza, key = {}, None
        elif line[0] in " \t" and key:
            stanza[key] += "\n" + line[1:]
        else:
            key, _, value = line.partition(":")
            stanza[key] = value.strip()
    if stanza:
        yield stanza


def read_translation(path: Path, lang: str) -> dict[tuple[str, str], tuple[str, str]]:
    """``{(package, md5): (short, long)}`` from a (lz4/gz/xz/plain) Translation file."""
    path = Path(path)
    data = _decompress(path)
    out = {}
    for st in read_stanzas(io.StringIO(data)):
        desc = st.get(f"Description-{lang}")
        if desc is not None and "Package" in st:
            out[(st["Package"], st.get("Description-md5", ""))] = parse_description(desc)
    return out


def _decompress(path: Path) -> str:
    if path.suffix == ".lz4":
        raw = subprocess.run(["lz4cat", str(path)], check=True, capture_output=True).stdout
    elif path.suffix == ".gz":
        import gzip
        raw = gzip.decompress(path.read_bytes())
    elif path.suffix == ".xz":
        import lzma
        raw = lzma.decompress(path.read_bytes())
    else:
        raw = path.read_bytes()
    return raw.decode("utf-8")

