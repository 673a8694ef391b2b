"""Build the small real sample the quick start runs on, from Debian's Translation files.

    python experiments/make_quickstart_sample.py LISTS_DIR experiments/data/quickstart

LISTS_DIR holds ``*_i18n_Translation-<lang>.lz4`` files as fetched by
``apt-get update`` with a private config whose ``Acquire::Languages`` lists the languages.
Queries: a package's short description in language X; documents: English long descriptions;
one relevant document per query. Packages are picked by a stable hash of their name.
"""
import hashlib
import json
import sys
from pathlib import Path

from milco_pt.datasets.ddtp import read_translation

LANGS = ["de", "fr", "es", "ja", "ru", "zh_CN"]
N_DOCS = 400
N_QUERIES = 60


def main(lists: str, out: str):
    lists, out = Path(lists), Path(out)
    files = {f.name.split("Translation-")[1].split(".")[0].replace("%5f", "_"): f
             for f in lists.glob("*_i18n_Translation-*")}
    en = read_translation(files["en"], "en")
    trans = {lang: read_translation(files[lang], lang) for lang in LANGS}
    key = lambda k: hashlib.sha1(k[0].encode()).hexdigest()  # noqa: E731
    docs = sorted((k for k, (short, long) in en.items() if long), key=key)[:N_DOCS]
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "corpus.jsonl", "w", encoding="utf-8") as f:
        for k in sorted(docs):
            f.write(json.dumps({"docno": k[0], "text": en[k][1]}, ensure_ascii=False) + "\n")
    with open(out / "topics.tsv", "w", encoding="utf-8") as ft, open(out / "qrels.txt", "w") as fq:
        for lang in LANGS:
            have = [k for k in sorted(docs) if k in trans[lang]][:N_QUERIES]
            for k in have:
                qid = f"{lang}-{k[0]}"
                ft.write(f"{qid}\t{lang}\t{trans[lang][k][0]}\n")
                fq.write(f"{qid} 0 {k[0]} 1\n")
    (out / "SOURCE").write_text(
        "Debian bookworm main, Translation-{en," + ",".join(LANGS) + "} (DDTP), fetched "
        "2026-11-26; built by experiments/make_quickstart_sample.py\n", encoding="utf-8")


if __name__ == "__main__":
    main(*sys.argv[1:3])
