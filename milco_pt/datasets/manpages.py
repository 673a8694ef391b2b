"""Debian's translated man pages as an out-of-domain cross-lingual dev collection.

A query is a page's NAME-section description translated into language X (German ``ls.1``:
"Verzeichnisinhalte auflisten"); documents are English pages' DESCRIPTION text (the NAME line left
out, so matching is retrieval, not translation lookup); the relevant documents of a query are the
English pages with the same English NAME description as its page (usually just that page).
Built by :mod:`.manpages_build`; this module reads man (groff) source without ``groff`` and loads
the shipped collection.
"""
from __future__ import annotations

import gzip
import re
from pathlib import Path

from .ddtp import ascii_words, join_lines

SHIPPED = Path(__file__).parent / "data" / "manpages"
SPLITS = ("dev",)

# -- groff (man(7) and mdoc(7)) to text --------------------------------------------------------------

GLYPHS = {"aq": "'", "dq": '"', "lq": '"', "rq": '"', "oq": "'", "cq": "'", "em": "—", "en": "–", "hy": "-",
          "bu": "•", "co": "©", "rg": "®", "tm": "™", "mu": "×", "di": "÷", "de": "°", "ga": "`", "ti": "~",
          "ha": "^", "rs": "\\", "ul": "_", "ru": "_", "bv": "|", "ba": "|", "->": "→", "<-": "←", "<=": "≤",
          ">=": "≥", "!=": "≠", "+-": "±", "pl": "+", "mi": "-", "eq": "=", "sl": "/", "lB": "[", "rB": "]",
          "lC": "{", "rC": "}", "Fo": "«", "Fc": "»", "fo": "‹", "fc": "›", "sc": "§", "ps": "¶", "at": "@",
          "sh": "#", "Do": "$", "Eu": "€", "ct": "¢", "Po": "£", "ss": "ß", "lh": "☜", "rh": "☞", "**": "*",
          "aa": "´", "oe": "œ", "OE": "Œ", "ae": "æ", "AE": "Æ", ":a": "ä", ":o": "ö", ":u": "ü", ":A": "Ä",
          ":O": "Ö", ":U": "Ü", "'e": "é", "`e": "è", "^e": "ê", "'a": "á", "`a": "à", "~n": "ñ", ",c": "ç",
          "12": "½", "14": "¼", "34": "¾", "if": "∞", "sq": "□", "dg": "†", "fm": "′", "pc": "·"}
STRINGS = {"lq": '"', "rq": '"', "R": "®", "Tm": "™", "Aq": "'", "Lq": '"', "Rq": '"', "q": '"'}
SIMPLE = {"-": "-", "e": "\\", "E": "\\", "\\": "\\", " ": " ", "~": " ", "0": " ", "t": " ", "'": "´",
          "`": "`", ".": ".", "_": "_"}
ESCAPE = re.compile(r"\\(?:\((..)|\[([^\]]*)\]|\*(?:\((..)|\[([^\]]*)\]|(.))|[fFgkmMnVYs](?:\(..|\[[^\]]*\]"
                    r"|[-+]?\d\d?|.)|N'(\d+)'|[hvwlLoXDZbRAC]'[^']*'|(.))", re.S)
FONT_MACROS = {"B", "I", "SM", "SB"}
ALTERNATING = {"BR", "RB", "BI", "IB", "IR", "RI"}
KEEP_ARGS = {"IP", "TQ", "Nm", "Nd", "It", "D1", "Dl", "An", "Lk", "Ar", "Pa", "Em", "Sy", "Cm",
             "Ic", "Va", "Ev", "Li", "Ql", "Fn", "Fa", "Ft", "Fo", "Fd", "Dv", "Er", "Vt", "Ad", "Ms", "Tn",
             "Cd", "In", "Lb", "St", "Ux", "Bx", "At", "Ox", "Nx", "Fx", "Dx", "Bsx", "Ta", "%A", "%T", "%B",
             "%J", "%N", "%V", "%D", "%O", "%P", "%R", "%Q", "%I", "%C", "%U", "Mt", "Ap", "No", "Ns"}
MDOC_WORDS = KEEP_ARGS | {"Fl", "Xr", "Op", "Oo", "Oc", "Dq", "Do", "Dc", "Qq", "Qo", "Qc", "Sq", "So", "Sc",
                          "Pq", "Po", "Pc", "Bq", "Bo", "Bc", "Brq", "Bro", "Brc", "Aq", "Ao", "Ac", "Ec", "Eo",
                          "Sx", "Pf", "Sm"}
HEADINGS = {"SH", "Sh"}
SUBHEADINGS = {"SS", "Ss"}
BREAKS = {"PP", "P", "LP", "sp", "br", "Pp", "Lp", "TP", "HP", "IP", "TQ", "It", "nf", "fi", "EX", "EE",
          "Bd", "Ed", "Bl", "El", "RS", "RE", "D1", "Dl", "Ss", "SS"}


def unescape(text: str) -> str:
    """Inline groff escapes to text: glyphs (``\\(aq``, ``\\[u00E9]``), ``\\-``, ``\\e``; font,
    size, motion and register escapes dropped; ``\\"`` comments removed."""
    def sub(m: re.Match) -> str:
        glyph = m.group(1) or m.group(2)
        if glyph is not None:
            if glyph.startswith("u") and re.fullmatch(r"u[0-9A-Fa-f]{4,6}", glyph):
                return chr(int(glyph[1:], 16))
            if glyph.startswith("char") and glyph[4:].isdigit():
                return chr(int(glyph[4:]))
            return GLYPHS.get(glyph, "")
        string = m.group(3) or m.group(4) or m.group(5)
        if string is not None:
            return STRINGS.get(string, "")
        if m.group(6):
            return chr(int(m.group(6)))
        return SIMPLE.get(m.group(7) or "", "")
    text = re.sub(r'\\".*', "", text.replace("\\\\", "\\e"))
    return ESCAPE.sub(sub, text)


def macro_args(rest: str) -> list[str]:
    """The arguments of a macro line: blank-separated, ``"quoted strings"`` kept whole (``""`` is a quote)."""
    args, cur, quoted, i = [], "", False, 0
    while i < len(rest):
        ch = rest[i]
        if quoted and ch == '"' and rest[i + 1:i + 2] == '"':
            cur, i = cur + '"', i + 2
            continue
        if ch == '"' and (quoted or not cur):
            quoted = not quoted
            if not quoted:
                args.append(cur)
                cur = None
        elif ch in " \t" and not quoted:
            if cur:
                args.append(cur)
            cur = ""
        else:
            cur = (cur or "") + ch
        i += 1
    if cur:
        args.append(cur)
    return [a for a in args if a is not None]


def _mdoc(args: list[str]) -> str:
    """The words of an mdoc macro line, callable macros replaced (``Fl a`` -> ``-a``, ``Xr ls 1`` -> ``ls(1)``)."""
    out, i = [], 0
    while i < len(args):
        a = args[i]
        if a == "Fl":
            nxt = args[i + 1] if i + 1 < len(args) and args[i + 1] not in MDOC_WORDS else ""
            out.append("-" + nxt)
            i += 2 if nxt else 1
            continue
        if a == "Xr" and i + 1 < len(args):
            sec = args[i + 2] if i + 2 < len(args) and args[i + 2].isdigit() else ""
            out.append(args[i + 1] + (f"({sec})" if sec else ""))
            i += 3 if sec else 2
            continue
        if a not in MDOC_WORDS:
            out.append(a)
        i += 1
    return " ".join(out)


def parse_man(source: str) -> list[tuple[str, list[str]]]:
    """``[(heading, paragraphs)]``, one per ``.SH``/``.Sh`` section of a man (man(7) or mdoc(7))
    page, in order; text before the first heading is dropped. Macros are stripped, font macros
    keep their words, tables keep their cells, definitions (``.de``/``.ig``) and conditionals go."""
    sections: list[tuple[str, list[str]]] = []
    para: list[str] = []
    heading_next = skip_until = None
    in_table = table_format = False
    cond_depth = 0
    page_name = ""  # mdoc: the first .Nm argument, which a bare .Nm repeats

    def flush():
        if para and sections:
            text = join_lines(para)
            if text:
                sections[-1][1].append(text)
        para.clear()

    for raw in source.replace("\r\n", "\n").split("\n"):
        if skip_until is not None:
            if raw.strip().startswith(skip_until):
                skip_until = None
            continue
        if cond_depth:
            cond_depth += raw.count("\\{") - raw.count("\\}")
            cond_depth = max(cond_depth, 0)
            continue
        if in_table:
            line = raw.strip()
            if line.startswith(".TE"):
                in_table = False
                flush()
            elif table_format:
                table_format = not line.endswith(".")
            elif line and not line.startswith((".", "'")) and line not in ("_", "=", "T{", "T}"):
                para.append(unescape(re.sub(r"T[{}]|\t", " ", line)))
            continue
        if raw[:1] in (".", "'"):
            body = raw[1:].lstrip()
            name, _, rest = body.partition(" ")
            if "\t" in name:
                name, _, tail = name.partition("\t")
                rest = tail + " " + rest
            if name.startswith('\\"') or not name:
                continue
            if name in ("de", "de1", "am", "ig"):
                flush()
                skip_until = ".."
                continue
            if name in ("if", "ie", "el", "while"):
                cond_depth = max(raw.count("\\{") - raw.count("\\}"), 0)
                continue
            if name == "TS":
                flush()
                in_table = table_format = True
                continue
            if name in HEADINGS:
                flush()
                heading = _mdoc(macro_args(unescape(rest))) if name == "Sh" else " ".join(macro_args(unescape(rest)))
                if heading:
                    sections.append((heading.strip(), []))
                else:
                    heading_next = True
                continue
            if name in BREAKS:
                flush()
            args = macro_args(unescape(rest))
            if name == "Nm":
                page_name = page_name or (args[0] if args else "")
                args = args or [page_name]
            if name in SUBHEADINGS:
                para.append(" ".join(args))
                flush()
            elif name in FONT_MACROS:
                para.append(" ".join(args))
            elif name in ALTERNATING:
                para.append("".join(args))
            elif name == "Nd":
                para.append("- " + _mdoc(args))
            elif name in ("IP", "TQ"):
                para.append(" ".join(args[:1]))
            elif name in MDOC_WORDS:
                para.append(_mdoc([name] + args))
            continue
        line = unescape(raw)
        if heading_next:
            sections.append((line.strip(), []))
            heading_next = None
        elif line.strip():
            para.append(line)
    flush()
    return [(h, [re.sub(r"\s+", " ", p).strip() for p in ps if p.strip()]) for h, ps in sections]


def read_page(path: Path) -> str | None:
    """A page's source (``.gz`` or plain; UTF-8, else Latin-1), or ``None`` for a ``.so`` link."""
    path = Path(path)
    data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip(".'").lstrip().startswith('\\"')]
    if lines and len(lines) <= 2 and lines[0].startswith(".so "):
        return None
    return text


NAME_DASH = re.compile(r"\s+(?:-+|–|—|－)\s*|\s*(?:–|—|－)\s+")


def name_description(sections: list[tuple[str, list[str]]]) -> str | None:
    """The description of the NAME section (the first section: its heading is translated), i.e.
    the text after ``name(s) \\-``; ``None`` when there is no dash."""
    if not sections or not sections[0][1]:
        return None
    line = " ".join(sections[0][1])
    parts = NAME_DASH.split(line, maxsplit=1)
    if len(parts) != 2 or not parts[1].strip():
        return None
    return parts[1].strip()


# -- the collection ---------------------------------------------------------------------------------

def _read(folder: str) -> tuple:
    """``(docs, queries)`` frames of a built collection (read once, by DDTP's cached reader)."""
    from .ddtp import _read as read_frames
    if not (Path(folder) / "docs.jsonl.xz").exists():
        raise FileNotFoundError(f"no man-page collection in {folder}: build one with "
                                "`python -m milco_pt.datasets.manpages_build --out DIR`")
    return read_frames(str(folder))


def languages(folder=None) -> list[str]:
    """The query languages of a built collection (the shipped one by default), ``en`` included."""
    return sorted(_read(str(folder or SHIPPED))[1]["lang"].unique())


def task(query_lang: str, doc_lang: str = "en", split: str = "dev", folder=None):
    """A man-page task as a :class:`~milco_pt.datasets.collection.Collection`: NAME descriptions
    in ``query_lang`` (``en``: the English ones) against the English DESCRIPTION texts (the whole
    English corpus). Topics carry ``lang``, ``page``, ``group`` and
    ``shares_latin_word``; the ``hard`` variant keeps the queries without such a shared word."""
    import pandas as pd
    from .collection import Collection
    if split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}, not {split!r}")
    if doc_lang != "en":
        raise ValueError(f"man-page documents are English: use manpages/{query_lang}-en/{split}, not {doc_lang!r}")
    docs, queries = _read(str(folder or SHIPPED))
    have = set(queries["lang"])
    if query_lang not in have:
        raise ValueError(f"the man-page collection has no language {query_lang!r}; it has {sorted(have)}")
    q = queries[(queries["lang"] == query_lang) & (queries["split"] == split)]
    by_group = docs.groupby("group")
    members = {g: list(ds) for g, ds in by_group["docno"]}
    words = {g: set().union(*(ascii_words(t) for t in texts)) for g, texts in by_group["text"]}
    topics = pd.DataFrame({"qid": q["qid"].values, "query": q["text"].values, "lang": query_lang,
                           "page": q["page"].values, "group": q["group"].values,
                           "shares_latin_word": [bool(ascii_words(t) & words[g]) for t, g in zip(q["text"], q["group"])]})
    qrels = pd.DataFrame([(qid, d, 1) for qid, g in zip(topics["qid"], topics["group"]) for d in members[g]],
                         columns=["qid", "docno", "label"])
    records = docs[["docno", "text"]].to_dict("records")
    name = f"milco_pt.datasets.get('manpages/{query_lang}-{doc_lang}/{split}')"
    return Collection(name, topics, qrels, lambda: iter(records), query_lang.split("_")[0], "en",
                      variants={"hard": lambda t: t[~t["shares_latin_word"]]})
