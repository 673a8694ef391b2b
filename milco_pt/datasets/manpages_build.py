"""Build the man-page collection (see :mod:`.manpages`) from Debian's archive.

    python -m milco_pt.datasets.manpages_build --out DIR            # fetch with apt, then build
    python -m milco_pt.datasets.manpages_build --tree T --out DIR   # build from extracted packages

Fetching uses a private apt configuration (its own sources, lists and cache in a work folder; the
system's apt setup is untouched): ``apt-get update`` of the suite's Packages and Contents indexes,
``apt-get download`` of the translated man-page packages (``manpages-de`` ... ``manpages-zh``, with
their ``-dev`` parts) and of every package shipping the English original of at least
``MIN_PAGES`` translated pages (by the Contents index), each extracted with ``dpkg-deb -x`` into
``TREE/<package>``; ``TREE/packages.json`` records versions and the archive date.

Building reads only the tree, so the same tree gives byte-identical files: ``docs.jsonl.xz``
(docno = the English page's file name, e.g. ``ls.1``; package, group, text: its DESCRIPTION cut at
``MAX_WORDS`` words), ``queries.jsonl.xz`` (lang, qid, page, group, split, text) and ``info.json``.
A *group* is the English pages sharing one NAME description (the relevance unit). Per language a
group gives one query, the translated NAME description of its first page; dropped: descriptions
left in English, ones shared by several groups, and (for ja, zh, ru, uk) ones without a letter of
their script. Every query is in the dev split (a selection set; too few queries in es, pl and
zh_CN for a dev/test split of 300+ each).
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Optional

from .ddtp import MIRROR, SUITE, _decompress, archive_date
from .ddtp_build import _write_xz
from .manpages import name_description, parse_man, read_page

LANGUAGES = ("de", "fr", "es", "it", "pt_BR", "pl", "nl", "ru", "uk", "ja", "zh_CN")
TRANSLATED = ("manpages-de", "manpages-de-dev", "manpages-fr", "manpages-fr-dev", "manpages-es", "manpages-es-dev",
              "manpages-it", "manpages-it-dev", "manpages-pt-br", "manpages-pt-br-dev", "manpages-pl",
              "manpages-pl-dev", "manpages-nl", "manpages-nl-dev", "manpages-ru", "manpages-ru-dev", "manpages-uk",
              "manpages-uk-dev", "manpages-ja", "manpages-ja-dev", "manpages-zh")
ENGLISH = ("manpages", "manpages-dev")
MIN_PAGES = 3      # a package is fetched when it ships the English original of this many translated pages
MAX_WORDS = 300    # a document is its DESCRIPTION's first MAX_WORDS words
MIN_WORDS = 10     # shorter DESCRIPTIONs are no documents
MIN_QUERIES = 150  # a language with fewer queries is left out
SPLIT = "dev"      # every query (too few in es, pl, zh_CN for a dev/test split of 300+ each)
SCRIPT = {"ja": r"[\u3040-\u30ff\u4e00-\u9fff]", "zh_CN": r"[\u4e00-\u9fff]", "ru": r"[\u0400-\u04ff]",
          "uk": r"[\u0400-\u04ff]"}
CONTENTS = {"MetaKey": "$(COMPONENT)/Contents-$(ARCHITECTURE)", "ShortDescription": "Contents-$(ARCHITECTURE)",
            "Description": "$(RELEASE)/$(COMPONENT) $(ARCHITECTURE) Contents (deb)", "PDiffs": "false"}
PAGE_PATH = re.compile(r"^usr/share/man/man[0-9n]\w*/([^/]+?)(?:\.gz)?$")


# -- fetching ---------------------------------------------------------------------------------------

def _apt(work: Path, args: list[str], cwd: Optional[Path] = None, contents: bool = False) -> str:
    opts = ["-o", "Dir::Etc::SourceList=/dev/null", "-o", f"Dir::Etc::SourceParts={work / 'sourceparts'}",
            "-o", f"Dir::State::Lists={work / 'lists'}", "-o", f"Dir::Cache={work / 'cache'}",
            "-o", "Debug::NoLocking=1", "-o", "Acquire::Languages=none"]
    if contents:
        for k, v in CONTENTS.items():
            opts += ["-o", f"Acquire::IndexTargets::deb::Contents-deb::{k}={v}"]
    r = subprocess.run(["apt-get", "-q", *opts, *args], capture_output=True, text=True, cwd=cwd)
    if r.returncode != 0:
        raise RuntimeError(f"apt-get {args[0]} failed ({r.returncode}): {r.stderr.strip()[-800:]}")
    return r.stdout


def private_apt(work: Path, name: str, mirror: str = MIRROR, suite: str = SUITE):
    """Lay out a private apt configuration in ``work`` (its own sources, lists and cache), for ``_apt``."""
    for d in (work / "sourceparts", work / "lists" / "partial", work / "cache" / "archives" / "partial"):
        d.mkdir(parents=True, exist_ok=True)
    (work / "sourceparts" / f"{name}.sources").write_text(
        f"Types: deb\nURIs: {mirror}\nSuites: {suite}\nComponents: main\n"
        "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n", encoding="utf-8")


def english_pages(contents_files: list[Path]) -> dict[str, set[str]]:
    """``{page file name: packages}`` of the English pages (``usr/share/man/manN/``) in Contents files."""
    out = defaultdict(set)
    for f in contents_files:
        for line in _decompress(f).splitlines():
            if line.startswith("usr/share/man/man"):
                path, _, pkgs = line.rpartition(" ")
                m = PAGE_PATH.match(path.strip())
                if m:
                    out[m.group(1)].update(p.rsplit("/", 1)[-1] for p in pkgs.split(","))
    return out


def translated_names(tree: Path, languages=LANGUAGES) -> set[str]:
    """File names (``ls.1``) of the translated pages in an extracted tree."""
    return {p.name.removesuffix(".gz") for lang in languages for p in tree.glob(f"*/usr/share/man/{lang}/man*/*")}


def select_packages(english: dict[str, set[str]], names: set[str], min_pages: int = MIN_PAGES) -> list[str]:
    """The packages shipping the English original of at least ``min_pages`` of ``names``."""
    count = defaultdict(int)
    for name in names:
        for pkg in english.get(name, ()):
            count[pkg] += 1
    return sorted(set(ENGLISH) | {p for p, n in count.items() if n >= min_pages})


def _download(work: Path, tree: Path, packages: list[str]) -> dict[str, str]:
    debs = work / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    _apt(work, ["download", *packages], cwd=debs)
    versions = {}
    for deb in sorted(debs.glob("*.deb")):
        info = subprocess.run(["dpkg-deb", "-f", str(deb), "Package", "Version"], capture_output=True, text=True,
                              check=True).stdout
        fields = dict(line.split(": ", 1) for line in info.splitlines() if ": " in line)
        if fields["Package"] in packages and fields["Package"] not in versions:
            subprocess.run(["dpkg-deb", "-x", str(deb), str(tree / fields["Package"])], check=True)
            versions[fields["Package"]] = fields["Version"]
    return versions


def fetch(work: Path, tree: Path, mirror: str = MIRROR, suite: str = SUITE, min_pages: int = MIN_PAGES) -> dict:
    """Fetch and extract the packages into ``tree`` (see the module docstring); returns ``packages.json``."""
    work, tree = Path(work).resolve(), Path(tree).resolve()
    tree.mkdir(parents=True, exist_ok=True)
    private_apt(work, "manpages", mirror, suite)
    _apt(work, ["update"], contents=True)
    contents = sorted((work / "lists").glob("*_Contents-*"))
    if not contents:
        raise RuntimeError(f"apt fetched no Contents index into {work / 'lists'}")
    versions = _download(work, tree, list(TRANSLATED))
    english = select_packages(english_pages(contents), translated_names(tree), min_pages)
    versions.update(_download(work, tree, english))
    meta = {"archive_date": archive_date(work / "lists"), "mirror": mirror, "suite": suite, "min_pages": min_pages,
            "translated": sorted(TRANSLATED), "english": english, "versions": dict(sorted(versions.items()))}
    (tree / "packages.json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    return meta


# -- building ---------------------------------------------------------------------------------------

def _pages(tree: Path, lang: Optional[str], packages: list[str]) -> dict[str, tuple[str, Path]]:
    """``{file name: (package, path)}`` of one language's pages (``None``: English), the first
    package in sorted order winning a name shipped twice; ``.so`` links and symlinks left out."""
    out = {}
    where = "usr/share/man/man*/*" if lang is None else f"usr/share/man/{lang}/man*/*"
    for pkg in packages:
        for path in sorted((tree / pkg).glob(where)):
            name = path.name.removesuffix(".gz")
            if name not in out and path.is_file() and not path.is_symlink():
                out[name] = (pkg, path)
    return out


def _parse(path: Path):
    source = read_page(path)
    return None if source is None else parse_man(source)


def description_text(sections, max_words: int = MAX_WORDS) -> Optional[str]:
    """The DESCRIPTION section's paragraphs (else those after NAME and SYNOPSIS), followed by the
    next sections' while fewer than ``MIN_WORDS``, cut at ``max_words`` words; ``None`` when the
    page has fewer than ``MIN_WORDS`` words there."""
    headings = [h.strip().upper() for h, _ in sections]
    start = headings.index("DESCRIPTION") if "DESCRIPTION" in headings else next(
        (i for i, h in enumerate(headings) if i and h not in ("NAME", "SYNOPSIS")), len(sections))
    out, n = [], 0
    for _, paragraphs in sections[start:]:
        if n >= MIN_WORDS:
            break
        for p in paragraphs:
            words = p.split()
            out.append(" ".join(words[:max_words - n]))
            n += len(words)
            if n >= max_words:
                break
    text = "\n".join(out)
    return text if len(text.split()) >= MIN_WORDS else None


def _norm(text: str) -> str:
    return " ".join(text.casefold().split())


def build(tree: Path, out: Path, languages=LANGUAGES, max_words: int = MAX_WORDS, min_queries: int = MIN_QUERIES) -> dict:
    """Build the collection from an extracted ``tree`` into ``out``; returns ``info.json``'s content."""
    tree = Path(tree)
    meta_file = tree / "packages.json"
    meta = json.loads(meta_file.read_text(encoding="utf-8")) if meta_file.exists() else {}
    packages = sorted(p.name for p in tree.iterdir() if p.is_dir())
    english = [p for p in packages if p not in TRANSLATED]
    if not english:
        raise FileNotFoundError(f"no English man-page packages in {tree}: fetch them with --out (no --tree)")
    docs, en_desc = [], {}
    for name, (pkg, path) in sorted(_pages(tree, None, english).items()):
        sections = _parse(path)
        if not sections:
            continue
        desc, text = name_description(sections), description_text(sections, max_words)
        if desc and text:
            en_desc[name] = desc
            docs.append({"docno": name, "package": pkg, "group": None, "text": text})
    groups = defaultdict(list)
    for name in sorted(en_desc):
        groups[_norm(en_desc[name])].append(name)
    group_of = {name: names[0] for names in groups.values() for name in names}
    for d in docs:
        d["group"] = group_of[d["docno"]]
    queries, counts, dropped = [], {}, {}
    translated = [p for p in packages if p in TRANSLATED]
    for lang in ["en", *sorted(languages)]:
        if lang == "en":
            texts = {name: en_desc[name] for name in en_desc}
        else:
            texts = {}
            for name, (_pkg, path) in sorted(_pages(tree, lang, translated).items()):
                if name in group_of:
                    sections = _parse(path)
                    desc = name_description(sections) if sections else None
                    if desc and _norm(desc) != _norm(en_desc[name]) and (
                            lang not in SCRIPT or re.search(SCRIPT[lang], desc)):
                        texts[name] = desc
        by_group = {}
        for name in sorted(texts):
            by_group.setdefault(group_of[name], name)
        groups_of_text = defaultdict(set)
        for g, name in by_group.items():
            groups_of_text[_norm(texts[name])].add(g)
        rows = [{"lang": lang, "qid": f"{lang}-{name}", "page": name, "group": g, "split": SPLIT,
                 "text": texts[name]} for g, name in sorted(by_group.items()) if len(groups_of_text[_norm(texts[name])]) == 1]
        if len(rows) < min_queries:
            dropped[lang] = len(rows)
            continue
        queries += rows
        counts[lang] = len(rows)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    _write_xz(out / "docs.jsonl.xz", docs)
    _write_xz(out / "queries.jsonl.xz", queries)
    info = {"source": "Debian man pages (manpages-l10n, manpages-ja, manpages-zh; English originals)",
            "archive_date": meta.get("archive_date", "unknown"), "suite": meta.get("suite"),
            "min_pages": meta.get("min_pages"),
            "versions": meta.get("versions", {}), "max_words": max_words, "min_queries": min_queries,
            "split": SPLIT, "documents": len(docs), "groups": len(groups), "queries": counts,
            "dropped_languages": dropped}
    (out / "info.json").write_text(json.dumps(info, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return info


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True, help="folder for docs.jsonl.xz, queries.jsonl.xz, info.json")
    p.add_argument("--tree", help="build from this extracted tree (no network); without it, fetch first")
    p.add_argument("--work", help="apt's private folder and the extracted tree (default: a temporary folder)")
    p.add_argument("--languages", default=",".join(LANGUAGES))
    p.add_argument("--suite", default=SUITE)
    p.add_argument("--mirror", default=MIRROR)
    p.add_argument("--min-queries", type=int, default=MIN_QUERIES, help="drop languages with fewer queries")
    args = p.parse_args(argv)
    languages = [x for x in args.languages.split(",") if x]
    if args.tree:
        info = build(Path(args.tree), Path(args.out), languages, min_queries=args.min_queries)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(args.work or tmp)
            fetch(work, work / "tree", args.mirror, args.suite)
            info = build(work / "tree", Path(args.out), languages, min_queries=args.min_queries)
    print(json.dumps({k: info[k] for k in ("archive_date", "documents", "queries", "dropped_languages")}, indent=1))


if __name__ == "__main__":
    main()
