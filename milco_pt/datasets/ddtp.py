"""Debian's translated package descriptions (DDTP) as a multilingual test collection.

``Translation-<lang>`` files are RFC 822 stanzas (``Package``, ``Description-md5``,
``Description-<lang>``); a translation is kept only when its ``Description-md5`` equals the
English description's, i.e. it translates the current text.
"""
from __future__ import annotations

import io
import re
import subprocess
import unicodedata
from functools import lru_cache
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
    """RFC 822 stanzas of a Translation file as dicts (continuation lines kept, their leading space
    removed). Not ``debian.deb822``: that is an extra dependency for one format and 9x slower on
    Translation files (50k stanzas: 0.93 s against 0.10 s), which hold no comments or repeated fields."""
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



DEFAULT_LANGUAGES = ("en", "de", "fr", "es", "it", "pt_BR", "pl", "cs", "uk", "ru", "fi", "ja", "ko", "zh_CN",
                     "da", "sk", "nl", "sv", "hu")
MIRROR, SUITE = "http://deb.debian.org/debian", "bookworm"


def fetch(folder: Path, languages=DEFAULT_LANGUAGES, mirror: str = MIRROR, suite: str = SUITE) -> Path:
    """Fetch ``Translation-*`` files with apt into ``folder/lists``, using a private apt config
    (``Acquire::Languages`` lists the languages); the system's apt setup is never touched."""
    folder = Path(folder).resolve()
    parts, lists, cache = folder / "sourceparts", folder / "lists", folder / "cache"
    for d in (parts, lists / "partial", cache / "archives" / "partial"):
        d.mkdir(parents=True, exist_ok=True)
    (parts / "ddtp.sources").write_text(
        f"Types: deb\nURIs: {mirror}\nSuites: {suite}\nComponents: main\n"
        "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n", encoding="utf-8")
    cmd = ["apt-get", "-q", "-o", "Dir::Etc::SourceList=/dev/null", "-o", f"Dir::Etc::SourceParts={parts}",
           "-o", f"Dir::State::Lists={lists}", "-o", f"Dir::Cache={cache}",
           "-o", "Debug::NoLocking=1", "-o", f"Acquire::Languages={','.join(languages)}", "update"]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"apt-get update failed ({r.returncode}): {r.stderr.strip()[-500:]}")
    return lists


def translation_files(lists: Path) -> dict[str, Path]:
    """``{language: Translation file}`` in an apt lists folder."""
    out = {}
    for f in sorted(Path(lists).glob("*_i18n_Translation-*")):
        lang = f.name.split("Translation-")[1].split(".")[0].replace("%5f", "_")
        out[lang] = f
    return out


def archive_date(lists: Path) -> str:
    """The ``Date`` of the suite's InRelease file (the archive state the collection reflects)."""
    for f in sorted(Path(lists).glob("*InRelease")):
        for line in f.read_text(errors="replace").splitlines():
            if line.startswith("Date:"):
                return line.split(":", 1)[1].strip()
    return "unknown"


SHIPPED = Path(__file__).parent / "data" / "ddtp"
ASCII_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9+]*")


def stamp(folder) -> tuple:
    """What a built collection's contents are known by (``formats.files_stamp`` of its files):
    readers cache on it, so a rebuilt or replaced collection is read again."""
    from .formats import files_stamp
    return files_stamp(sorted(Path(folder).glob("*")))


def _read(folder: str) -> tuple:
    folder = Path(folder)
    if not (folder / "docs.jsonl.xz").exists():
        raise FileNotFoundError(f"no DDTP collection in {folder}: build one with "
                                "`milco-pt datasets build-ddtp --out DIR`")
    return _read_files(folder, stamp(folder))


@lru_cache(maxsize=4)
def _read_files(folder: Path, _stamp: tuple) -> tuple:
    import pandas as pd
    from .formats import read_jsonl
    docs = pd.DataFrame(list(read_jsonl(folder / "docs.jsonl.xz")))
    queries = pd.DataFrame(list(read_jsonl(folder / "queries.jsonl.xz")))
    return docs, queries


def ascii_words(text: str) -> set[str]:
    """Lowercased ASCII words of 2+ characters with a letter (package names, acronyms, code)."""
    return {w.lower() for w in ASCII_WORD.findall(text) if len(w) >= 2 and not w.isdigit()}


def languages(folder=None) -> list[str]:
    """The languages of a built collection (the shipped one by default)."""
    return sorted(_read(str(folder or SHIPPED))[1]["lang"].unique())


def task(query_lang: str, doc_lang: str, split: str = "test", folder=None):
    """A DDTP task as a :class:`~milco_pt.datasets.collection.Collection`: queries are short
    descriptions in ``query_lang``, documents long descriptions in ``doc_lang`` (``en`` for
    cross-lingual X->en, ``query_lang`` for monolingual X->X) of the same split; the relevant
    documents of a query are its group's. Topics carry ``lang``, ``group`` and
    ``shares_latin_word``; the ``hard`` variant keeps the queries without such a shared word."""
    import pandas as pd
    from .collection import Collection
    if split not in ("train", "dev", "test"):
        raise ValueError(f"split must be train, dev or test, not {split!r}")
    docs, queries = _read(str(folder or SHIPPED))
    have = set(queries["lang"])
    for lang in (query_lang, doc_lang):
        if lang not in have:
            raise ValueError(f"DDTP has no language {lang!r}; it has {sorted(have)}")
    d = docs[(docs["lang"] == doc_lang) & (docs["split"] == split)]
    q = queries[(queries["lang"] == query_lang) & (queries["split"] == split) & queries["group"].isin(set(d["group"]))]
    by_group = d.groupby("group")
    words = {g: set().union(*(ascii_words(t) for t in texts)) for g, texts in by_group["text"]}
    topics = pd.DataFrame({"qid": q["qid"].values, "query": q["text"].values, "lang": query_lang,
                           "group": q["group"].values,
                           "shares_latin_word": [bool(ascii_words(t) & words[g]) for t, g in zip(q["text"], q["group"])]})
    members = {g: list(ds) for g, ds in by_group["docno"]}
    qrels = pd.DataFrame([(qid, docno, 1) for qid, g in zip(topics["qid"], topics["group"]) for docno in members[g]],
                         columns=["qid", "docno", "label"])
    records = d[["docno", "text"]].to_dict("records")
    name = f"milco_pt.datasets.get('ddtp/{query_lang}-{doc_lang}/{split}')"
    return Collection(name, topics, qrels, lambda: iter(records), query_lang.split("_")[0], doc_lang.split("_")[0],
                      variants={"hard": lambda t: t[~t["shares_latin_word"]]})
