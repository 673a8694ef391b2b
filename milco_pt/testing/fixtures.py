"""Small collections written in the benchmarks' upstream formats, from real DDTP text: what the
experiment scripts' ``--smoke`` mode runs on (and what a user can copy to check a loader offline).

Each writer takes ``(docs, topics, qrels)`` frames (``docno, text[, title]`` / ``qid, query`` /
``qid, docno, label``) and lays them out exactly as the upstream distribution does.
"""
from __future__ import annotations

import gzip
import json
from pathlib import Path

import pandas as pd


def _jsonl(path: Path, rows, gz: bool = False):
    path.parent.mkdir(parents=True, exist_ok=True)
    data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("utf-8")
    path.write_bytes(gzip.compress(data, mtime=0) if gz else data)


def irds_cache_path(dataset: str, key: str) -> str:
    """Where ir_datasets keeps a downloaded file (its ``downloads.json``), relative to the dataset's home."""
    import importlib.util
    spec = importlib.util.find_spec("ir_datasets")
    with open(Path(spec.submodule_search_locations[0]) / "etc" / "downloads.json", encoding="utf-8") as f:
        entries = json.load(f)[dataset]
    if key not in entries:
        raise KeyError(f"ir_datasets has no download {dataset}/{key}")
    return entries[key]["cache_path"]


def write_miracl(irds_home, lang: str, docs, topics, qrels, split: str = "dev"):
    """MIRACL v1.0 as ir_datasets caches it (``IR_DATASETS_HOME/miracl/v1.0/<lang>/...``)."""
    home = Path(irds_home) / "miracl"
    base = home / "v1.0" / lang
    part = 1
    while True:  # the corpus comes in parts (66 for English): the documents go in the first, the rest are empty
        try:
            _jsonl(home / irds_cache_path("miracl", f"v1.0/{lang}/corpus/{part}"), [], gz=True)
        except KeyError:
            break
        part += 1
    _jsonl(home / irds_cache_path("miracl", f"v1.0/{lang}/corpus/0"), [{"docid": d, "title": r.get("title", ""), "text": r["text"]}
                                               for d, r in zip(docs["docno"], docs.to_dict("records"))], gz=True)
    (base / split).mkdir(parents=True, exist_ok=True)
    (base / split / "topics.tsv").write_text("".join(f"{q}\t{t}\n" for q, t in zip(topics["qid"], topics["query"])),
                                             encoding="utf-8")
    (base / split / "qrels.tsv").write_text("".join(f"{q}\tQ0\t{d}\t{lab}\n" for q, d, lab in
                                                    zip(qrels["qid"], qrels["docno"], qrels["label"])), encoding="utf-8")


def write_mldr(folder, lang: str, docs, topics, qrels, split: str = "test"):
    """MLDR (``Shitao/MLDR``): ``mldr-v1.0-<lang>/corpus.jsonl.gz`` and ``<split>.jsonl.gz``."""
    sub = Path(folder) / f"mldr-v1.0-{lang}"
    _jsonl(sub / "corpus.jsonl.gz", [{"docid": d, "text": t} for d, t in zip(docs["docno"], docs["text"])], gz=True)
    text = dict(zip(docs["docno"], docs["text"]))
    rows = [{"query_id": q, "query": t,
             "positive_passages": [{"docid": d, "title": "", "text": text[d]} for d in qrels[qrels["qid"] == q]["docno"]],
             "negative_passages": []} for q, t in zip(topics["qid"], topics["query"])]
    _jsonl(sub / f"{split}.jsonl.gz", rows, gz=True)


def write_beir(folder, docs, topics, qrels, split: str = "test"):
    """BEIR's layout (also LIMIT's): ``corpus.jsonl``, ``queries.jsonl``, ``qrels/<split>.tsv``."""
    folder = Path(folder)
    _jsonl(folder / "corpus.jsonl", [{"_id": d, "title": r.get("title", ""), "text": r["text"], "metadata": {}}
                                     for d, r in zip(docs["docno"], docs.to_dict("records"))])
    _jsonl(folder / "queries.jsonl", [{"_id": q, "text": t, "metadata": {}} for q, t in zip(topics["qid"], topics["query"])])
    (folder / "qrels").mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"query-id": qrels["qid"], "corpus-id": qrels["docno"], "score": qrels["label"]}).to_csv(
        folder / "qrels" / f"{split}.tsv", sep="\t", index=False)


def write_beir_irds(irds_home, name: str, docs, topics, qrels, split: str = "test"):
    """A BEIR dataset as ir_datasets caches it: the upstream zip (``<name>/corpus.jsonl`` ...)."""
    import io
    import zipfile
    tmp = Path(irds_home) / ".beir-fixture" / name
    write_beir(tmp, docs, topics, qrels, split)
    target = Path(irds_home) / "beir" / irds_cache_path("beir", name)
    target.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for f in sorted(tmp.rglob("*")):
            if f.is_file():
                z.writestr(f"{name}/{f.relative_to(tmp).as_posix()}", f.read_bytes())
    target.write_bytes(buf.getvalue())


def write_mkqa(folder, lang: str, topics, answers: dict, docs):
    """BGE-M3's MKQA evaluation data: ``qa_data/<lang>.jsonl`` and the passages ``corpus.jsonl``."""
    folder = Path(folder)
    _jsonl(folder / "qa_data" / f"{lang}.jsonl", [{"id": q, "question": t, "answers": answers[q]}
                                                  for q, t in zip(topics["qid"], topics["query"])])
    if not (folder / "corpus.jsonl").exists():
        _jsonl(folder / "corpus.jsonl", [{"docid": d, "title": "", "text": t} for d, t in zip(docs["docno"], docs["text"])])


def ddtp_sample(query_lang: str, doc_lang: str, n_queries: int = 12, n_docs: int = 80, split: str = "dev"):
    """``(docs, topics, qrels)``: a small real sample of a DDTP task (relevant documents included)."""
    from ..datasets import get
    ds = get(f"ddtp/{query_lang}-{doc_lang}/{split}")
    topics = ds.get_topics().head(n_queries)[["qid", "query"]]
    qrels = ds.get_qrels()
    qrels = qrels[qrels["qid"].isin(topics["qid"])]
    docs = ds.get_corpus_frame()
    docs = docs[docs["docno"].isin(set(qrels["docno"]) | set(docs["docno"].head(n_docs)))].reset_index(drop=True)
    return docs, topics.reset_index(drop=True), qrels.reset_index(drop=True)
