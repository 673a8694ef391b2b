"""Build the DDTP test collection from Debian ``Translation-*`` files (see :mod:`.ddtp`).

One *group* is one relevance unit: packages are merged when they share a base name (``-dev``,
``-doc``, ``-common``, ... and version suffixes stripped), an identical English long description,
or a short-description stem with related names (see :func:`group_packages`).
A group's documents are its distinct long descriptions; its query in language X is the short
description (in X) of its representative package. Groups fall into train / dev / test by a stable
hash of the representative's name, so the test split never changes when the archive grows.

Output (deterministic for the same input files): ``docs.jsonl.xz`` (lang, docno, group, split,
text), ``queries.jsonl.xz`` (lang, qid, group, split, text) and ``manifest.json`` (archive date,
source files and their sha256, per-language counts, dropped languages).
"""
from __future__ import annotations

import hashlib
import json
import lzma
import re
from collections import defaultdict
from pathlib import Path
from typing import Optional

from .ddtp import archive_date, read_translation, translation_files

SUFFIXES = ("dev", "doc", "docs", "dbg", "dbgsym", "common", "data", "bin", "utils", "tools", "examples",
            "l10n", "locale", "plugins", "runtime", "static")
SPLITS = (("train", 80), ("dev", 90), ("test", 100))
MIN_QUERIES = 200
MIN_SHARED_TEXT = 200  # shorter identical texts ("transitional package ...") do not merge packages


def base_name(package: str) -> str:
    """``libfoo-2.4-dev`` -> ``libfoo``, ``python3.11-dbg`` -> ``python``; digits that are part of
    a name (``libx11``, ``bind9``) stay, so distinct packages are not merged."""
    name = re.sub(r"^python3(?=[-.]|$)", "python", package)
    while True:
        new = re.sub(r"-(" + "|".join(SUFFIXES) + r")$", "", name)
        new = re.sub(r"(-\d[\w.]*|\d*\.\d[\d.]*)$", "", new)
        if new == name or not new:
            return name
        name = new


def split_of(group: str) -> str:
    h = int(hashlib.sha1(group.encode("utf-8")).hexdigest()[:8], 16) % 100
    return next(name for name, upper in SPLITS if h < upper)


class _UnionFind:
    def __init__(self):
        self.parent: dict[str, str] = {}

    def find(self, x: str) -> str:
        self.parent.setdefault(x, x)
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: str, b: str):
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def group_packages(en: dict) -> dict[str, str]:
    """``{package: group}``, the group named after its shortest member. Packages merge when they
    share a base name, an identical long description (of 200+ characters), or the stem of their
    short description (``foo library`` / ``foo library - development files``) while one base name
    is a prefix of the other (``libfoo1`` / ``libfoo-dev``)."""
    uf = _UnionFind()
    first_by_key: dict[tuple, str] = {}
    by_stem = defaultdict(set)
    for (pkg, _md5), (short, long) in sorted(en.items()):
        uf.find(pkg)
        text = " ".join(long.split())
        for key in (("base", base_name(pkg)), ("text", text) if len(text) >= MIN_SHARED_TEXT else None):
            if key is None:
                continue
            if key in first_by_key:
                uf.union(first_by_key[key], pkg)
            else:
                first_by_key[key] = pkg
        by_stem[short.split(" - ")[0].strip().casefold()].add(pkg)
    for pkgs in by_stem.values():
        if 1 < len(pkgs) <= 20:
            ordered = sorted(pkgs)
            for i, a in enumerate(ordered):
                for b in ordered[i + 1:]:
                    ba, bb = base_name(a), base_name(b)
                    if ba.startswith(bb) or bb.startswith(ba):
                        uf.union(a, b)
    members = defaultdict(list)
    for pkg in uf.parent:
        members[uf.find(pkg)].append(pkg)
    return {pkg: min(ms, key=lambda p: (len(p), p)) for ms in members.values() for pkg in ms}


def build(lists: Path, out: Path, languages: Optional[list[str]] = None, min_queries: int = MIN_QUERIES,
          min_translations: int = 1) -> dict:
    """Build the collection from the Translation files in ``lists`` into ``out``; returns the manifest.

    ``min_translations``: keep a group only when it has a translated short description in at least
    this many non-English languages (controls the size of the shipped collection).
    """
    files = translation_files(lists)
    if "en" not in files:
        raise FileNotFoundError(f"no Translation-en file in {lists}: fetch it with ddtp.fetch()")
    languages = sorted(set(languages or files) & set(files))
    en = read_translation(files["en"], "en")
    group = group_packages(en)
    trans = {"en": en}
    for lang in languages:
        if lang != "en":
            t = read_translation(files[lang], lang)
            trans[lang] = {k: v for k, v in t.items() if k in en}  # the md5 must match: current text
    langs_of_group = defaultdict(set)
    for lang, t in trans.items():
        if lang != "en":
            for pkg, _ in t:
                langs_of_group[group[pkg]].add(lang)
    keep = {g for g, ls in langs_of_group.items() if len(ls) >= min_translations}
    docs, queries, counts, dropped = [], [], {}, {}
    for lang in sorted(trans):
        by_group = defaultdict(list)
        for (pkg, _md5), (short, long) in trans[lang].items():
            if group[pkg] in keep:
                by_group[group[pkg]].append((pkg, short, long))
        lang_docs, lang_queries = [], []
        short_groups, used = defaultdict(set), set()
        for g, members in by_group.items():
            for _pkg, short, _ in members:
                short_groups[short.casefold()].add(g)
        for g in sorted(by_group):
            members = sorted(by_group[g], key=lambda m: (len(m[0]), m[0]))
            seen = set()
            for pkg, _short, long in members:
                if long and long not in seen and pkg not in used:
                    seen.add(long)
                    used.add(pkg)
                    lang_docs.append({"lang": lang, "docno": pkg, "group": g, "split": split_of(g), "text": long})
            rep, short, _ = members[0]
            if short and len(short_groups[short.casefold()]) == 1 and seen:
                lang_queries.append({"lang": lang, "qid": f"{lang}-{rep}", "group": g, "split": split_of(g),
                                     "text": short})
        if len(lang_queries) < min_queries:
            dropped[lang] = len(lang_queries)
            continue
        docs += lang_docs
        queries += lang_queries
        counts[lang] = {"queries": len(lang_queries), "docs": len(lang_docs),
                        **{f"test_{k}": sum(r["split"] == "test" for r in rs)
                           for k, rs in (("queries", lang_queries), ("docs", lang_docs))}}
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    _write_xz(out / "docs.jsonl.xz", docs)
    _write_xz(out / "queries.jsonl.xz", queries)
    manifest = {
        "archive_date": archive_date(lists), "source": "Debian DDTP Translation files (apt lists)",
        "files": {lang: {"name": files[lang].name, "sha256": hashlib.sha256(files[lang].read_bytes()).hexdigest()}
                  for lang in sorted(trans)},
        "min_translations": min_translations, "min_queries": min_queries, "splits": dict(SPLITS),
        "groups": len(keep), "languages": counts, "dropped_languages": dropped,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return manifest


def _write_xz(path: Path, rows: list[dict]):
    tmp = path.with_name(path.name + ".partial")
    with lzma.open(tmp, "wt", encoding="utf-8", preset=9) as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    tmp.replace(path)
