"""Bitext from translated gettext catalogs (``.mo``) installed on the machine: every Debian package
with messages ships ``/usr/share/locale/<lang>/LC_MESSAGES/<domain>.mo``, each entry an English
``msgid`` and its translation — real parallel text available offline, for Sparse Alignment
Pretraining next to DDTP."""
from __future__ import annotations

import functools
import re
import struct
from pathlib import Path
from typing import Iterable, Iterator, Optional, Sequence

ROOTS = ("/usr/share/locale", "/usr/share/locale-langpack")
_CHARSET = re.compile(r"charset=([\w.:-]+)", re.I)
_MARKUP = re.compile(r"%[-+ #0-9.*]*[a-zA-Z]|\{[^{}]*\}|<[^<>]*>|&\w+;|\\[nt]|_(?=\w)")


def read_mo(path) -> Iterator[tuple[str, str]]:
    """``(msgid, translation)`` pairs of a compiled catalog (singular forms, contexts stripped),
    decoded with the catalog's own charset."""
    data = Path(path).read_bytes()
    if len(data) < 28:
        raise ValueError(f"{path} is not a gettext .mo file")
    magic = struct.unpack("<I", data[:4])[0]
    endian = "<" if magic == 0x950412DE else ">" if magic == 0xDE120495 else None
    if endian is None:
        raise ValueError(f"{path} is not a gettext .mo file (magic {magic:#x})")
    _, count, originals, translations = struct.unpack(endian + "4I", data[4:20])

    def entry(table, i) -> bytes:
        length, offset = struct.unpack_from(endian + "2I", data, table + 8 * i)
        return data[offset:offset + length]
    raw = [(entry(originals, i), entry(translations, i)) for i in range(count)]
    header = next((t for o, t in raw if o == b""), b"").decode("ascii", "replace")
    m = _CHARSET.search(header)
    charset = m.group(1) if m and m.group(1).upper() != "CHARSET" else "utf-8"
    for o, t in raw:
        if not o or not t:
            continue
        try:
            msgid, msgstr = o.decode(charset), t.decode(charset)
        except (LookupError, UnicodeDecodeError):
            continue
        yield msgid.split("\x04")[-1].split("\x00")[0], msgstr.split("\x00")[0]


def clean(text: str) -> str:
    """The message without format directives, markup and accelerators, on one line."""
    return " ".join(_MARKUP.sub(" ", text).split())


def catalogs(languages: Optional[Iterable[str]] = None, roots: Sequence = ROOTS) -> Iterator[tuple[str, Path]]:
    """``(language, .mo path)`` for every installed catalog, sorted (deterministic)."""
    wanted = set(languages) if languages else None
    for root in roots:
        for path in sorted(Path(root).glob("*/LC_MESSAGES/*.mo")):
            lang = path.parent.parent.name
            if wanted is None or lang in wanted:
                yield lang, path


_ASCII_OTHER = re.compile(r"[^A-Za-z ]")


def _letters(text: str) -> int:
    """How many characters of ``text`` are letters (``str.isalpha``) or spaces; a regex for ASCII
    text (most English messages: ~3x faster, the same count)."""
    if text.isascii():
        return len(text) - len(_ASCII_OTHER.findall(text))
    return sum(c.isalpha() or c == " " for c in text)


def gettext_bitext(languages: Optional[Iterable[str]] = None, roots: Sequence = ROOTS, min_chars: int = 12,
                   min_letters: float = 0.6) -> list[tuple[str, str]]:
    """``[(translation, English)]`` from installed catalogs, cleaned, deduplicated per language,
    keeping messages of at least ``min_chars`` characters that are mostly letters (not paths,
    options or format strings) and whose translation differs from the English."""
    seen, pairs = set(), []
    for lang, path in catalogs(languages, roots):
        try:
            entries = list(read_mo(path))
        except (ValueError, struct.error):
            continue
        for msgid, msgstr in entries:
            en, tr = clean(msgid), clean(msgstr)
            if len(en) < min_chars or len(tr) < min_chars / 2 or tr == en:
                continue
            if _letters(en) < min_letters * len(en):
                continue
            if (lang, en, tr) not in seen:
                seen.add((lang, en, tr))
                pairs.append((tr, en))
    return pairs


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def selection_texts(folder=None) -> list[str]:
    """Every text of the man-page dev collection (the selection set): queries in all languages and
    the English documents. Training data must not contain them."""
    from ..datasets.manpages import SHIPPED, _read
    docs, queries = _read(str(folder or SHIPPED))
    return list(docs["text"]) + list(queries["text"])


def decontaminate(pairs: Sequence[tuple[str, str]], texts: Iterable[str], n: int = 8) -> tuple[list, int]:
    """``pairs`` without those that overlap ``texts``: either side equal (case and punctuation
    aside) to one of ``texts``, or sharing a run of ``n`` words with one. Returns ``(kept, dropped)``.

    Why: catalogs of tools carry their ``--help`` texts, from which many man pages are generated;
    training on them would tune the model to the collection it is selected on."""
    whole, grams = set(), set()
    for t in texts:
        w = _words(t)
        whole.add(" ".join(w))
        grams.update(hash(" ".join(w[i:i + n])) for i in range(len(w) - n + 1))
    kept = []
    for tr, en in pairs:
        sides = [_words(tr), _words(en)]
        if any(" ".join(w) in whole for w in sides) or any(
                hash(" ".join(w[i:i + n])) in grams for w in sides for i in range(len(w) - n + 1)):
            continue
        kept.append((tr, en))
    return kept, len(pairs) - len(kept)


def _installed(languages: tuple, roots: tuple) -> tuple:
    """What the catalogs' bitext depends on (``formats.files_stamp`` of every catalog file)."""
    from ..datasets.formats import files_stamp
    return files_stamp(p for _, p in catalogs(languages, roots))


@functools.lru_cache(maxsize=4)
def _clean_bitext(languages: tuple, roots: tuple, exclude_selection: bool, installed: tuple) -> tuple:
    """Read and decontaminate once per process while the catalogs are unchanged (a recipe samples
    SAP and every SCT round from it; reading takes ~15 s)."""
    pairs = gettext_bitext(languages, roots)
    if exclude_selection:
        pairs, _ = decontaminate(pairs, selection_texts())
    return tuple(pairs)


def bitext(languages: Optional[Iterable[str]] = None, sample: Optional[int] = None, seed: int = 42,
           exclude_selection: bool = True, roots: Sequence = ROOTS) -> list[tuple[str, str]]:
    """The installed catalogs' ``[(translation, English)]`` in DDTP's languages (or ``languages``),
    without the pairs overlapping the man-page dev collection, optionally a seeded sample."""
    import random
    if languages is None:
        from ..datasets.ddtp import languages as ddtp_languages
        languages = [x for x in ddtp_languages() if x != "en"]
    languages, roots = tuple(languages), tuple(str(r) for r in roots)
    pairs = _clean_bitext(languages, roots, exclude_selection, _installed(languages, roots))
    if sample is not None and sample < len(pairs):
        pairs = random.Random(seed).sample(pairs, sample)
    return [(tr, en) for tr, en in pairs if "\t" not in en + tr]


def main(argv=None):
    """Write the installed catalogs' bitext as tsv (``english<TAB>translation``, as read_bitext reads)."""
    import argparse
    p = argparse.ArgumentParser(description=main.__doc__)
    p.add_argument("--out", required=True)
    p.add_argument("--languages", default=None, help="comma-separated (default: DDTP's)")
    p.add_argument("--sample", type=int, default=None, help="keep this many pairs (seeded sample)")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--keep-selection-overlap", action="store_true",
                   help="keep pairs that overlap the man-page dev collection (dropped by default)")
    args = p.parse_args(argv)
    pairs = bitext(args.languages.split(",") if args.languages else None, args.sample, args.seed,
                   exclude_selection=not args.keep_selection_overlap)
    with open(args.out, "w", encoding="utf-8") as f:
        f.writelines(f"{en}\t{tr}\n" for tr, en in pairs)
    print(f"wrote {len(pairs)} pairs to {args.out}")


if __name__ == "__main__":
    main()
