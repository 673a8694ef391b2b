"""FreeDict dictd reading (milco_pt.training.dictionaries), on dictionaries written here in the
packages' format: entry texts as dict-freedict-deu-eng and -jpn-eng write them, a dictzip body, an
index of base-64 offsets."""
import gzip

import pytest

from milco_pt.training import dictionaries as d

B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

DEU = {
    "00-database-info": "00-database-info\nGerman - English Ding/FreeDict dictionary\n",
    "hund": ("Hund /hˈʊnt/ <masc, n, sg>\n [zool.] dog <n>, dawg <n>\n         Note: used to represent American speech\n"
             '      "einen Hund abrichten"  - train a dog\n see: {Hunde}, {Haushund}\n'),
    "katze": "Katze /kˈatsə/ <fem, n, sg>\ncat <n>, feline <n>\n   Synonyms: {Mieze}\n",
    "berlin": "Berlin /bɛʁˈliːn/ <n>\nBerlin\n",
    "verzeichnis": "Verzeichnis /fɛɾtsˈaɪçnɪs/ <neut, n, sg>\n[comp.] file directory <n>; directory <n>\n",
}
JPN = {
    "おてんき": ("お天気 /ˈo̞ tˈe̞ŋki/, 御天気 /o̞tˈe̞ŋki/, おてんき /o̞tˈe̞ŋki/\n1. (noun (common) (futsuumeishi))\n"
             "{天気}\n         Note: polite (teineigo) languageweather\n2. temper, mood\n"),
}


def number(n: int) -> str:
    digits = ""
    while True:
        digits = B64[n % 64] + digits
        n //= 64
        if not n:
            return digits


def write(tree, code, entries):
    folder = tree / f"dict-freedict-{code}-eng" / "usr" / "share" / "dictd"
    folder.mkdir(parents=True)
    body, index = b"", []
    for head, text in entries.items():
        raw = text.encode("utf-8")
        index.append(f"{head}\t{number(len(body))}\t{number(len(raw))}\n")
        body += raw
    (folder / f"freedict-{code}-eng.dict.dz").write_bytes(gzip.compress(body))
    (folder / f"freedict-{code}-eng.index").write_text("".join(index), encoding="utf-8")


@pytest.fixture
def tree(tmp_path):
    write(tmp_path, "deu", DEU)
    write(tmp_path, "jpn", JPN)
    return tmp_path


def test_dictd_numbers_are_base64_most_significant_first():
    assert [d._number(number(n)) for n in (0, 63, 64, 4095, 123456789)] == [0, 63, 64, 4095, 123456789]
    with pytest.raises(ValueError, match="base-64"):
        d._number("a-b")


def test_entries_give_headword_translations_and_examples(tree):
    pairs = list(d.read_dictd(*d.files(tree, "de")))
    assert pairs == [("Hund", "dog, dawg"), ("einen Hund abrichten", "train a dog"), ("Katze", "cat, feline"),
                     ("Verzeichnis", "file directory, directory")]
    assert list(d.read_dictd(*d.files(tree, "ja"))) == [("お天気", "temper, mood")]


def test_translations_keep_plain_english_only():
    assert d.translations("[zool.] dog <n>, dawg <n>") == ["dog", "dawg"]
    assert d.translations("(geografia) miasto w Rosji; Moskwa") == ["miasto w Rosji", "Moskwa"]
    assert d.translations("bóg zmarłych") == []
    assert d.translations("a, b, c, d", limit=2) == ["a", "b"]


def test_bitext_samples_each_language_deterministically(tree):
    full = d.bitext(["de", "ja"], tree=tree)
    assert len(full) == 5 and ("お天気", "temper, mood") in full
    a, b = d.bitext(["de", "ja"], sample=3, seed=1, tree=tree), d.bitext(["de", "ja"], sample=3, seed=1, tree=tree)
    assert a == b and len(a) == 3 and sum(p[0] == "お天気" for p in a) == 1
    # ja has one pair: its unused share goes to de, so a sample gives what was asked while pairs last
    assert [len(d.bitext(["de", "ja"], sample=n, tree=tree)) for n in (2, 4, 5, 9)] == [2, 4, 5, 5]
    assert sorted(d.bitext(["de", "ja"], sample=5, tree=tree)) == sorted(full)


def test_missing_dictionary_or_language_names_the_fix(tree, tmp_path):
    with pytest.raises(FileNotFoundError, match="python -m milco_pt.training.dictionaries"):
        d.files(tree, "fr")
    with pytest.raises(ValueError, match="no FreeDict X->English dictionary for \\['ru'\\]"):
        d.bitext(["ru"], tree=tree)
    bad = tmp_path / "bad.index"
    bad.write_text("hund\tAAA\n", encoding="utf-8")
    with pytest.raises(ValueError, match="bad.index:1"):
        list(d.read_dictd(bad, d.files(tree, "de")[1]))


def test_main_writes_tsv_read_bitext_reads(tree, tmp_path):
    from milco_pt.training.data import read_bitext
    out = tmp_path / "dict.tsv"
    d.main(["--out", str(out), "--languages", "de", "--tree", str(tree)])
    assert read_bitext(out) == list(d.read_dictd(*d.files(tree, "de")))
