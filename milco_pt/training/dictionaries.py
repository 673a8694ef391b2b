"""Word-level bitext from FreeDict's X->English dictionaries in Debian (``dict-freedict-<xxx>-eng``,
dictd format): each headword with its first English translations, and the dictionary's example
sentences with theirs. General vocabulary (``Hund`` -> ``dog``) that neither DDTP's package
descriptions nor the gettext catalogs cover, for Sparse Alignment Pretraining of the connector.

    python -m milco_pt.training.dictionaries --out dict.tsv --sample 8000   # fetch with apt, write tsv

Fetching uses a private apt configuration (the system's apt setup is untouched) and extracts the
packages into ``$MILCO_PT_CACHE/freedict`` (built in a temporary folder, then moved into place).
"""
from __future__ import annotations

import gzip
import random
import re
import shutil
import tempfile
from pathlib import Path
from typing import Iterable, Iterator, Optional

#: DDTP language -> FreeDict's code; Debian has no FreeDict X->English dictionary for ko, ru, uk, zh_CN
FREEDICT = {"de": "deu", "fr": "fra", "es": "spa", "it": "ita", "pt_BR": "por", "pl": "pol", "cs": "ces",
            "fi": "fin", "ja": "jpn", "da": "dan", "sk": "slk", "nl": "nld", "sv": "swe", "hu": "hun"}
_B64 = {c: i for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")}
_EXAMPLE = re.compile(r'^"(.+?)"\s+-\s+(.+)$')
_LABEL = re.compile(r"^[A-Za-z][\w ]{0,15}:")
_NOISE = re.compile(r"\[[^\]]*\]|<[^>]*>|\([^)]*\)|\{[^}]*\}|/[^/]*/|\b\d+\.")
_ENGLISH = re.compile(r"^[A-Za-z][A-Za-z '\-.]*$")


def _number(text: str) -> int:
    """A dictd index number (base 64, most significant digit first)."""
    n = 0
    for c in text:
        if c not in _B64:
            raise ValueError(f"{text!r} is not a dictd base-64 number")
        n = n * 64 + _B64[c]
    return n


def translations(line: str, limit: int = 3) -> list[str]:
    """The English translations on a dictionary line: domain labels (``[zool.]``), grammar tags
    (``<n>``), parentheses, cross references and numbering removed; empty unless plain English."""
    out = []
    for part in re.split(r"[,;]", _NOISE.sub(" ", line)):
        part = " ".join(part.split()).strip(" .-'")
        if part and _ENGLISH.match(part) and len(part) <= 40 and part not in out:
            out.append(part)
    return out[:limit]


def parse_entry(headword: str, entry: str) -> Iterator[tuple[str, str]]:
    """``(source, English)`` pairs of one entry: its headword (as the entry's first line writes it,
    cased; else the index's) with its first line of English translations (comma-joined), and every
    example (``"einen Hund abrichten" - train a dog``)."""
    lines = entry.split("\n")
    headword = " ".join(_NOISE.sub(" ", lines[0]).split(",")[0].split()) or headword
    found = False
    for line in lines[1:]:
        s = line.strip()
        example = _EXAMPLE.match(s)
        if example:
            yield example.group(1).strip(), example.group(2).strip()
        elif s and not found and not _LABEL.match(s):
            words = translations(s)
            if words:
                found = True
                if ", ".join(words).lower() != headword.lower():
                    yield headword, ", ".join(words)


def read_dictd(index_path, dict_path) -> Iterator[tuple[str, str]]:
    """Every ``(source, English)`` pair of a dictd dictionary (``.index`` + ``.dict`` or ``.dict.dz``),
    in index order, deduplicated; the database's own ``00-database-*`` entries skipped."""
    data = Path(dict_path).read_bytes()
    if str(dict_path).endswith(".dz"):
        data = gzip.decompress(data)
    seen = set()
    with open(index_path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 3:
                raise ValueError(f"{index_path}:{n}: a dictd index line is headword<TAB>offset<TAB>length")
            head = parts[0]
            if head.startswith(("00-database", "00database")):
                continue
            start, length = _number(parts[1]), _number(parts[2])
            entry = data[start:start + length].decode("utf-8", errors="replace")
            for pair in parse_entry(head, entry):
                if pair not in seen:
                    seen.add(pair)
                    yield pair


def files(tree, language: str) -> tuple[Path, Path]:
    """The ``(.index, .dict.dz)`` of ``language``'s dictionary in an extracted tree."""
    code = FREEDICT[language]
    folder = Path(tree) / f"dict-freedict-{code}-eng" / "usr" / "share" / "dictd"
    index, data = folder / f"freedict-{code}-eng.index", folder / f"freedict-{code}-eng.dict.dz"
    if not index.exists() or not data.exists():
        raise FileNotFoundError(f"{index} is missing: fetch the dictionaries first "
                                "(python -m milco_pt.training.dictionaries --out FILE)")
    return index, data


def default_tree() -> Path:
    from ..mini.parts import cache_dir
    return cache_dir() / "freedict"


def fetch(tree=None, languages: Iterable[str] = tuple(FREEDICT)) -> Path:
    """Download and extract ``dict-freedict-<xxx>-eng`` for ``languages`` with a private apt
    configuration; the tree is built in a temporary folder and moved into place."""
    from ..datasets.manpages_build import _apt, _download, private_apt
    tree = Path(tree or default_tree())
    unknown = sorted(set(languages) - set(FREEDICT))
    if unknown:
        raise ValueError(f"no FreeDict X->English dictionary for {unknown}; known: {sorted(FREEDICT)}")
    if all((tree / f"dict-freedict-{FREEDICT[x]}-eng").exists() for x in languages):
        return tree
    tree.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=tree.parent) as tmp:
        work, new = Path(tmp) / "apt", Path(tmp) / "tree"
        new.mkdir()
        private_apt(work, "freedict")
        _apt(work, ["update"])
        _download(work, new, [f"dict-freedict-{FREEDICT[x]}-eng" for x in languages])
        if tree.exists():
            for part in new.iterdir():
                if not (tree / part.name).exists():
                    part.rename(tree / part.name)
        else:
            new.rename(tree)
    return tree


def bitext(languages: Optional[Iterable[str]] = None, sample: Optional[int] = None, seed: int = 42,
           tree=None) -> list[tuple[str, str]]:
    """``[(source, English)]`` from the dictionaries of ``languages`` (default: every DDTP language
    FreeDict covers), fetched on first use; with ``sample``, ``min(sample, all pairs)`` seeded pairs,
    an equal share from each language (what a small dictionary lacks is shared by the others)."""
    languages = [x for x in (languages or FREEDICT) if x != "en"]
    tree = fetch(tree, languages)  # checks the languages
    by_language = {x: [p for p in read_dictd(*files(tree, x)) if "\t" not in p[0] + p[1]] for x in languages}
    if sample is None:
        return [p for x in languages for p in by_language[x]]
    quota, left = dict.fromkeys(languages, 0), sample
    while left > 0:
        open_ = [x for x in languages if quota[x] < len(by_language[x])]
        if not open_:
            break
        shares = [left // len(open_) + (i < left % len(open_)) for i in range(len(open_))]
        for x, n in zip(open_, shares):
            take = min(n, len(by_language[x]) - quota[x])
            quota[x] += take
            left -= take
    return [p for x in languages for p in random.Random(f"{seed}-{x}").sample(by_language[x], quota[x])]


def main(argv=None):
    """Write the dictionaries' bitext as tsv (``english<TAB>translation``, as read_bitext reads)."""
    import argparse
    p = argparse.ArgumentParser(description=main.__doc__)
    p.add_argument("--out", required=True)
    p.add_argument("--languages", default=None, help=f"comma-separated (default: {','.join(FREEDICT)})")
    p.add_argument("--sample", type=int, default=None, help="keep this many pairs (seeded, equal per language)")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--tree", default=None, help="extracted packages (default: $MILCO_PT_CACHE/freedict)")
    args = p.parse_args(argv)
    pairs = bitext(args.languages.split(",") if args.languages else None, args.sample, args.seed, args.tree)
    tmp = Path(args.out).with_name(Path(args.out).name + ".part")
    with open(tmp, "w", encoding="utf-8") as f:
        f.writelines(f"{en}\t{src}\n" for src, en in pairs)
    shutil.move(tmp, args.out)
    print(f"wrote {len(pairs)} pairs to {args.out}")


if __name__ == "__main__":
    main()
