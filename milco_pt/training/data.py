"""Training data readers: bitext (tsv / jsonl / Hugging Face datasets), BGE-style distillation
files, and the DDTP train split as bitext and as (query, positive) pairs."""
from __future__ import annotations

import functools
from typing import Optional

from ..datasets.formats import open_text, read_jsonl

SRC_KEYS = ("src", "source", "translation", "text", "non_english", "x")
EN_KEYS = ("en", "english", "tgt", "target")


def read_bitext(source, en_field: Optional[str] = None, src_field: Optional[str] = None) -> list[tuple[str, str]]:
    """``[(non-English text, English text)]`` from a tsv (``english<TAB>translation``, the
    sentence-transformers convention), a jsonl file, or a Hugging Face ``datasets.Dataset``."""
    if hasattr(source, "column_names"):
        rows = iter(source)
    elif str(source).endswith((".tsv", ".tsv.gz", ".txt", ".txt.gz")):
        pairs = []
        with open_text(source) as f:
            for n, line in enumerate(f, 1):
                parts = line.rstrip("\n").split("\t")
                if len(parts) < 2:
                    raise ValueError(f"{source}:{n}: a bitext line is english<TAB>translation")
                pairs.extend((t, parts[0]) for t in parts[1:] if t.strip() and parts[0].strip())
        return pairs
    else:
        rows = read_jsonl(source)
    pairs = []
    for n, r in enumerate(rows, 1):
        ek = en_field or next((k for k in EN_KEYS if k in r), None)
        sk = src_field or next((k for k in SRC_KEYS if k in r), None)
        if ek is None or sk is None:
            raise ValueError(f"{source} record {n}: needs an English field ({'/'.join(EN_KEYS)}) and a "
                             f"translation field ({'/'.join(SRC_KEYS)}); name them with en_field/src_field")
        pairs.append((r[sk], r[ek]))
    return pairs


def read_distillation(path) -> list[dict]:
    """BGE-style records ``{query, pos, pos_scores, neg, neg_scores}`` (scores from a cross-encoder)."""
    out = []
    for n, r in enumerate(read_jsonl(path), 1):
        missing = [k for k in ("query", "pos", "neg") if k not in r]
        if missing:
            raise ValueError(f"{path} record {n} lacks {missing}")
        if ("pos_scores" in r) != ("neg_scores" in r):
            raise ValueError(f"{path} record {n}: give both pos_scores and neg_scores, or neither")
        out.append(r)
    return out


def _ddtp(split: str, folder=None):
    from ..datasets.ddtp import SHIPPED, _read
    docs, queries = _read(str(folder or SHIPPED))
    return docs[docs["split"] == split], queries[queries["split"] == split]


def _collection(split: str, folder) -> tuple[str, tuple]:
    """The DDTP folder and what a reader's result depends on (ddtp.stamp): the readers below are
    cached per process on it (the recipe reads the same split for SAP, its
    teacher and every SCT round, ~2 s a read)."""
    from ..datasets.ddtp import SHIPPED, stamp
    if split == "test":
        raise ValueError("the DDTP test split is for evaluation only; train on 'train' (or 'dev')")
    folder = str(folder or SHIPPED)
    return folder, stamp(folder)


def _languages(languages) -> Optional[tuple]:
    """A cache key for ``languages``: one code (``"de"``) or several, None for all."""
    if not languages:
        return None
    return (languages,) if isinstance(languages, str) else tuple(languages)


def ddtp_bitext(split: str = "train", languages=None, folder=None) -> list[tuple[str, str]]:
    """Translation pairs from DDTP: short descriptions (by group) and long ones (by package)."""
    folder, stamp = _collection(split, folder)
    return list(_bitext(split, _languages(languages), folder, stamp))


@functools.lru_cache(maxsize=8)
def _bitext(split: str, languages, folder: str, stamp: tuple) -> tuple:
    docs, queries = _ddtp(split, folder)
    en_q = dict(zip(queries[queries["lang"] == "en"]["group"], queries[queries["lang"] == "en"]["text"]))
    en_d = dict(zip(docs[docs["lang"] == "en"]["docno"], docs[docs["lang"] == "en"]["text"]))
    pairs = []
    for lang in sorted(set(queries["lang"]) - {"en"}):
        if languages and lang not in languages:
            continue
        q = queries[queries["lang"] == lang]
        pairs += [(t, en_q[g]) for t, g in zip(q["text"], q["group"]) if g in en_q]
        d = docs[docs["lang"] == lang]
        pairs += [(t, en_d[p]) for t, p in zip(d["text"], d["docno"]) if p in en_d]
    return tuple(pairs)


def ddtp_pairs(split: str = "train", languages=None, monolingual: bool = True, folder=None,
               english: bool = False) -> list[tuple]:
    """``(query, positive document)`` pairs: X short description -> its group's English long
    description (and, with ``monolingual``, the X long description). With ``english``, quadruples
    ``(query, document, query's English, document's English)`` (the group's English short and
    long descriptions; groups without both are left out), for SCT's grounding term."""
    folder, stamp = _collection(split, folder)
    return list(_pairs(split, _languages(languages), monolingual, folder, english, stamp))


@functools.lru_cache(maxsize=8)
def _pairs(split: str, languages, monolingual: bool, folder: str, english: bool, stamp: tuple) -> tuple:
    docs, queries = _ddtp(split, folder)
    first = docs.drop_duplicates(["lang", "group"])
    first_doc = dict(zip(zip(first["lang"], first["group"]), first["text"]))  # dicts: 25x faster than index lookups
    en = queries[queries["lang"] == "en"].drop_duplicates("group")
    en_query = dict(zip(en["group"], en["text"]))
    pairs = []
    for lang, g, text in zip(queries["lang"], queries["group"], queries["text"]):
        if languages and lang not in languages:
            continue
        if english and (g not in en_query or ("en", g) not in first_doc):
            continue
        for doc_lang in (("en", lang) if monolingual and lang != "en" else ("en",)):
            if (doc_lang, g) in first_doc:
                pair = (text, first_doc[(doc_lang, g)])
                pairs.append(pair + (en_query[g], first_doc[("en", g)]) if english else pair)
    return tuple(pairs)


def bitext_pairs(bitext) -> list[tuple[str, str, str, str]]:
    """Translation pairs as SCT quadruples: the translation is the query, its English the document
    (and the English of both)."""
    return [(src, en, en, en) for src, en in bitext]


def english_vocabulary(m_tokenizer, en_vocab, multi_piece: bool = False) -> tuple[list[str], list[str]]:
    """``(train, held out)`` English words for teaching the connector the English head's vocabulary:
    alphabetic wordpieces (3+ letters) of ``en_vocab`` that ``m_tokenizer`` (XLM-R) also reads as
    one piece (``multi_piece``: also those it splits, as long as no piece is unknown). One word in
    ten (by CRC-32, so fixed across runs and the same rule for both lists) is held out for probing."""
    import zlib
    unk = m_tokenizer.unk_token_id
    words = [w for w in en_vocab if w.isascii() and w.isalpha() and len(w) >= 3]
    if multi_piece:
        ids = m_tokenizer(words, add_special_tokens=False)["input_ids"]
        words = [w for w, row in zip(words, ids) if row and unk not in row]
    else:
        words = [w for w in words if m_tokenizer.convert_tokens_to_ids("\u2581" + w) != unk]
    held_out = [w for w in words if zlib.crc32(w.encode()) % 10 == 0]
    return [w for w in words if zlib.crc32(w.encode()) % 10], held_out
