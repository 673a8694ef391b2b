"""The paper's benchmarks as :class:`~milco_pt.datasets.collection.Collection` objects.

Through ir_datasets (downloads on first use, cached under ``IR_DATASETS_HOME``): MIRACL,
Mr.TyDi, NeuCLIR, BEIR. From a local folder or the Hugging Face hub, in their upstream formats:
MLDR (``Shitao/MLDR``), MKQA in BGE-M3's evaluation format, and LIMIT (BEIR format).
Documents are ``title + " " + text`` and, for MIRACL, lowercased as the authors did.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import pandas as pd

from .collection import Collection
from .formats import read_jsonl

MIRACL_LANGS = ("ar", "bn", "de", "en", "es", "fa", "fi", "fr", "hi", "id", "ja", "ko", "ru", "sw", "te",
                "th", "yo", "zh")
MLDR_LANGS = ("ar", "de", "en", "es", "fr", "hi", "it", "ja", "ko", "pt", "ru", "th", "zh")
MKQA_LANGS = ("ar", "da", "de", "es", "fi", "fr", "he", "hu", "it", "ja", "km", "ko", "ms", "nl", "no", "pl",
              "pt", "ru", "sv", "th", "tr", "vi", "zh_cn", "zh_hk", "zh_tw")


def _doc_text(title: str, text: str, title_sep: Optional[str], lowercase: bool) -> str:
    out = f"{title}{title_sep}{text}" if title and title_sep is not None else text
    return out.lower() if lowercase else out


def _downloading(name: str, part: str, iterate):
    """``iterate()``'s items; a failed download (offline) becomes an error saying what to fetch and where
    to put it."""
    try:
        yield from iterate()
    except OSError as e:
        if isinstance(e, FileNotFoundError) and "ir_datasets export" in str(e):
            raise
        import ir_datasets.util
        home = ir_datasets.util.home_path()
        raise FileNotFoundError(
            f"ir_datasets cannot read the {part} of {name!r} here ({str(e).splitlines()[0][:160]}). On a machine "
            f"with internet run `ir_datasets export {name} {part} > /dev/null` (once per part: docs, queries, "
            f"qrels), then copy that machine's ir_datasets folder (~/.ir_datasets unless IR_DATASETS_HOME is "
            f"set) to {home} here, or point IR_DATASETS_HOME at the copy") from e


def irds(name: str, *, lowercase: bool = False, title_sep: Optional[str] = " ") -> Collection:
    """Any ir_datasets collection (``miracl/ja/dev``, ``beir/scifact/test``, ...): documents are
    ``title + title_sep + text`` (``title_sep=None`` drops titles), optionally lowercased."""
    import ir_datasets
    ds = ir_datasets.load(name)
    lang = ds.queries_lang() if hasattr(ds, "queries_lang") else None

    def topics():
        rows = [(q.query_id, q.default_text()) for q in _downloading(name, "queries", ds.queries_iter)]
        return pd.DataFrame(rows, columns=["qid", "query"])

    def qrels():
        rows = [(r.query_id, r.doc_id, int(r.relevance)) for r in _downloading(name, "qrels", ds.qrels_iter)]
        return pd.DataFrame(rows, columns=["qid", "docno", "label"])

    def corpus():
        for d in _downloading(name, "docs", ds.docs_iter):
            yield {"docno": d.doc_id, "text": _doc_text(getattr(d, "title", ""), d.text, title_sep, lowercase)}

    return Collection(f"milco_pt.datasets.get({('irds:' + name)!r})", topics, qrels, corpus, lang,
                      ds.docs_lang() if hasattr(ds, "docs_lang") else None)


def miracl(lang: str, split: str = "dev", lowercase: bool = True) -> Collection:
    """MIRACL ``lang`` / ``split`` (paper Table 1: dev, 18 languages), lowercased as the authors did."""
    if lang not in MIRACL_LANGS:
        raise ValueError(f"MIRACL has no language {lang!r}; it has {MIRACL_LANGS}")
    out = irds(f"miracl/{lang}/{split}", lowercase=lowercase)
    out.name = f"milco_pt.datasets.get('miracl/{lang}/{split}')"
    return out


def _hub_folder(repo: str, patterns: list[str], local_files_only: bool) -> Path:
    from huggingface_hub import snapshot_download
    from ..hub import is_offline
    try:
        return Path(snapshot_download(repo, repo_type="dataset", allow_patterns=patterns,
                                      local_files_only=is_offline(local_files_only)))
    except Exception as e:
        raise FileNotFoundError(
            f"dataset {repo!r} is not in the local Hugging Face cache and cannot be downloaded here ({e}). "
            f"On a machine with internet: hf download --repo-type dataset {repo} "
            f"{' '.join(repr(p) for p in patterns)}; or pass folder=") from e


def _first(folder: Path, *names: str) -> Path:
    for n in names:
        if (folder / n).exists():
            return folder / n
    raise FileNotFoundError(f"none of {names} in {folder}")


def mldr(lang: str, split: str = "test", folder=None, local_files_only: bool = False) -> Collection:
    """MLDR (``Shitao/MLDR``): ``mldr-v1.0-<lang>/{corpus,<split>}.jsonl.gz``; qrels from each
    query's ``positive_passages``. Documents are long: score them with MaxP (:mod:`milco_pt.maxp`)."""
    if lang not in MLDR_LANGS:
        raise ValueError(f"MLDR has no language {lang!r}; it has {MLDR_LANGS}")
    sub = f"mldr-v1.0-{lang}"
    if folder is None:
        folder = _hub_folder("Shitao/MLDR", [f"{sub}/corpus.jsonl.gz", f"{sub}/{split}.jsonl.gz"], local_files_only) / sub
    folder = Path(folder)
    folder = folder / sub if (folder / sub).is_dir() else folder
    rows = list(read_jsonl(_first(folder, f"{split}.jsonl.gz", f"{split}.jsonl")))
    topics = pd.DataFrame([(str(r["query_id"]), r["query"]) for r in rows], columns=["qid", "query"])
    qrels = pd.DataFrame([(str(r["query_id"]), str(p["docid"]), 1) for r in rows for p in r["positive_passages"]],
                         columns=["qid", "docno", "label"])
    corpus_file = _first(folder, "corpus.jsonl.gz", "corpus.jsonl")

    def corpus():
        for r in read_jsonl(corpus_file):
            yield {"docno": str(r["docid"]), "text": r["text"]}

    return Collection(f"milco_pt.datasets.get('mldr/{lang}/{split}')", topics, qrels, corpus, lang, lang)


def beir_folder(folder, split: str = "test", name: Optional[str] = None, title_sep: Optional[str] = " ") -> Collection:
    """A collection in BEIR's format: ``corpus.jsonl`` (``_id, title, text``), ``queries.jsonl``
    (``_id, text``), ``qrels/<split>.tsv`` (``query-id, corpus-id, score`` with a header)."""
    folder = Path(folder)
    qrels = pd.read_csv(_first(folder, f"qrels/{split}.tsv"), sep="\t", dtype={"query-id": str, "corpus-id": str})
    qrels = qrels.rename(columns={"query-id": "qid", "corpus-id": "docno", "score": "label"})[["qid", "docno", "label"]]
    wanted = set(qrels["qid"])
    queries = [(str(q["_id"]), q["text"]) for q in read_jsonl(_first(folder, "queries.jsonl", "queries.jsonl.gz"))]
    topics = pd.DataFrame([q for q in queries if q[0] in wanted], columns=["qid", "query"])
    corpus_file = _first(folder, "corpus.jsonl", "corpus.jsonl.gz")

    def corpus():
        for d in read_jsonl(corpus_file):
            yield {"docno": str(d["_id"]), "text": _doc_text(d.get("title", ""), d["text"], title_sep, False)}

    return Collection(name or f"milco_pt.datasets.beir_folder({str(folder)!r}, split={split!r})", topics,
                      qrels, corpus)


def limit(folder=None, local_files_only: bool = False, repo: str = "orionweller/LIMIT") -> Collection:
    """LIMIT (paper Table 11), in BEIR's format, from ``folder`` or the hub."""
    if folder is None:
        folder = _hub_folder(repo, ["corpus.jsonl", "queries.jsonl", "qrels/*"], local_files_only)
    return beir_folder(folder, "test", name="milco_pt.datasets.get('limit')")


def mkqa(lang: str, folder, corpus: Optional[str] = None) -> Collection:
    """MKQA as BGE-M3 evaluates it: ``<folder>/qa_data/<lang>.jsonl`` (``id, question, answers``)
    against English NQ passages (``corpus``, default ``<folder>/corpus.jsonl[.gz]`` with
    ``docid|id, title, text``). There are no relevance judgements: evaluate with
    :func:`milco_pt.measures.AnswerRecall` built from :meth:`answers`; ``get_qrels`` lists the
    queries only (label 0)."""
    if lang not in MKQA_LANGS and lang != "en":
        raise ValueError(f"MKQA has no language {lang!r}; it has {MKQA_LANGS} and en")
    folder = Path(folder)
    rows = list(read_jsonl(_first(folder, f"qa_data/{lang}.jsonl", f"{lang}.jsonl")))
    topics = pd.DataFrame([(str(r["id"]), r["question"]) for r in rows], columns=["qid", "query"])
    qrels = pd.DataFrame({"qid": topics["qid"], "docno": "-", "label": 0})
    corpus_file = Path(corpus) if corpus else _first(folder, "corpus.jsonl.gz", "corpus.jsonl")

    def corpus_iter():
        for d in read_jsonl(corpus_file):
            yield {"docno": str(d.get("docid", d.get("id"))), "text": _doc_text(d.get("title", ""), d["text"], " ", False),
                   "passage": d["text"]}

    out = Collection(f"milco_pt.datasets.get('mkqa/{lang}', folder={str(folder)!r})", topics, qrels, corpus_iter,
                     lang.split("_")[0], "en")
    out.answers = {str(r["id"]): list(r["answers"]) for r in rows}
    return out
