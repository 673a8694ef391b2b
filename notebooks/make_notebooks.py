"""Write the notebooks (outputs stripped) from the cells below: `python notebooks/make_notebooks.py`.

Each runs top to bottom in CI on small models and the shipped data (tests/test_notebooks.py).
Set MILCO_MODEL to a real checkpoint (e.g. omai-research/milco-650m) to run them at full size.
"""
from pathlib import Path

import nbformat as nbf

SETUP = """import os, pandas as pd, pyterrier as pt
from pyterrier.measures import nDCG, R, RR
import milco_pt
from milco_pt import datasets
MODEL = os.environ.get("MILCO_MODEL")
if MODEL is None:                      # no hub here: a small random MILCO, built locally
    from milco_pt.testing.tiny import build_tiny
    MODEL = "milco-tiny"
    if not os.path.exists(MODEL):
        build_tiny(MODEL, seed=1)
milco = milco_pt.Milco.from_pretrained(MODEL, batch_size=32)
milco"""

NOTEBOOKS = {
    "01_quickstart.ipynb": [
        ("md", "# Quick start: MILCO, BM25 and BGE-M3 sparse in one `pt.Experiment`\n"
               "Cross-lingual retrieval on the shipped DDTP collection: German queries, English documents."),
        ("code", SETUP),
        ("code", 'ds = datasets.get("ddtp/de-en/test")\n'
                 'topics, qrels = ds.get_topics().head(100), ds.get_qrels()\n'
                 'docs = ds.get_corpus_frame()\nlen(topics), len(docs)'),
        ("code", "import tempfile\nfrom milco_pt.baselines import BM25Index, M3Sparse\n"
                 "from milco_pt.testing.tiny import build_tiny_m3\nwork = tempfile.mkdtemp()\n"
                 "index = milco_pt.ImpactIndex(f'{work}/milco').index(milco.doc_encoder(combined=True)(docs))\n"
                 "bm25 = BM25Index(f'{work}/bm25', language='en').index(docs)\n"
                 "m3_path = os.environ.get('M3_MODEL') or str(build_tiny_m3(f'{work}/m3'))\n"
                 "m3 = M3Sparse.from_pretrained(m3_path)\n"
                 "m3_index = milco_pt.ImpactIndex(f'{work}/m3-index').index(m3.doc_encoder()(docs))"),
        ("code", "systems = [milco.query_encoder(combined=True) >> index.retriever(),\n"
                 "           bm25.bm25(),\n           m3.query_encoder() >> m3_index.retriever()]\n"
                 "pt.Experiment(systems, topics[['qid', 'query']], qrels, [nDCG @ 10, R @ 100, RR @ 10],\n"
                 "              names=['MILCO', 'BM25', 'M3-Sparse'], baseline=1)"),
    ],
    "02_transparency.ipynb": [
        ("md", "# Transparency and error tracing\nEvery score is a sum of shared terms: see which terms "
               "matched, in which view (paper Figure 3)."),
        ("code", SETUP),
        ("code", 'ds = datasets.get("ddtp/ja-en/test")\ntopic = ds.get_topics().iloc[0]\n'
                 'qrels = ds.get_qrels()\ndocs = ds.get_corpus_frame().set_index("docno")\n'
                 'relevant = qrels[qrels.qid == topic.qid].docno.iloc[0]\ntopic["query"], relevant'),
        ("code", 'milco.encode_queries([topic["query"]], combined=False)'),
        ("code", 'explained = {"relevant": milco.explain(topic["query"], docs.loc[relevant, "text"]),\n'
                 '             "other": milco.explain(topic["query"], docs.text.iloc[1])}\n'
                 'explained["relevant"].head(10)'),
        ("code", "from milco_pt.run.plots import term_contributions\n"
                 "term_contributions(explained, 'figures/transparency', query=topic['query'])"),
    ],
    "03_pruning_efficiency.ipynb": [
        ("md", "# Pruning and efficiency\nTop-k and mass pruning of document vectors: terms per "
               "document against nDCG@10, and index size and latency per backend (Anserini, PISA, Seismic)."),
        ("code", SETUP),
        ("code", 'ds = datasets.get("ddtp/fr-en/test")\ntopics, qrels = ds.get_topics().head(100), ds.get_qrels()\n'
                 'docs = milco.doc_encoder(combined=True)(ds.get_corpus_frame())\n'
                 'queries = milco.query_encoder(combined=True)(topics[["qid", "query"]])'),
        ("code", "from milco_pt.pruning import top_k, mass_prune\nrows = []\n"
                 "for method, levels, fn in [('top-k', [8, 32, 128], top_k), ('mass', [30, 60, 90], mass_prune)]:\n"
                 "    for level in levels:\n"
                 "        pruned = docs.assign(toks=[fn(v, level) for v in docs.toks])\n"
                 "        index = milco_pt.ExactIndex('toks').index(pruned[['docno', 'toks']])\n"
                 "        res = pt.Experiment([index.retriever(num_results=100)], queries, qrels, [nDCG @ 10])\n"
                 "        rows.append({'method': method, 'level': level, 'value': res['nDCG@10'][0],\n"
                 "                     'terms_per_doc': pruned.toks.map(len).mean()})\n"
                 "curve = pd.DataFrame(rows)\ncurve"),
        ("code", "from milco_pt.run.plots import sparsity_curve\nsparsity_curve(curve, 'figures/sparsity')"),
        ("md", "The same vectors under the three backends (one argument): Anserini and PISA score the "
               "same quantized dot product, Seismic approximates the float one."),
        ("code", "import tempfile, time\nwork = tempfile.mkdtemp()\nrows = []\n"
                 "for backend in ['anserini', 'pisa', 'seismic']:\n"
                 "    index = milco_pt.sparse_index(f'{work}/{backend}', backend=backend).index(docs)\n"
                 "    retriever = index.retriever(num_results=100)\n"
                 "    started = time.perf_counter(); retriever(queries)\n"
                 "    ms = 1000 * (time.perf_counter() - started) / len(queries)\n"
                 "    res = pt.Experiment([retriever], queries, qrels, [nDCG @ 10])\n"
                 "    rows.append({'backend': backend, 'index_mb': index.meta()['index_bytes'] / 2**20,\n"
                 "                 'ms_per_query': ms, 'nDCG@10': res['nDCG@10'][0]})\n"
                 "pd.DataFrame(rows)"),
    ],
    "04_training.ipynb": [
        ("md", "# Training a small MILCO\nSparse Alignment Pretraining on DDTP bitext, then Sparse "
               "Contrastive Training, with the Trainer-based runner (a few steps on a tiny model here; "
               "`experiments/train_milco_mini.py` is the full recipe)."),
        ("code", SETUP),
        ("code", "from milco_pt.training import data\nfrom milco_pt.training.cli import make_teacher\n"
                 "from milco_pt.training.objectives import SAPObjective, SAPCollator, SCTObjective, SCTCollator\n"
                 "from milco_pt.training.trainer import train\n"
                 "model, tok, vocab = milco.model.train(), milco.encoder.m_tokenizer, list(milco.encoder.pivot_names)\n"
                 "bitext = data.ddtp_bitext('train', languages=['de'])[:256]\n"
                 "teacher = make_teacher('lexical', vocab, model, [e for _, e in bitext])"),
        ("code", "import tempfile\nwork = tempfile.mkdtemp()\n"
                 "sap = train(SAPObjective(model), bitext, SAPCollator(tok, teacher, max_length=64), f'{work}/sap',\n"
                 "            max_steps=20, per_device_train_batch_size=8, learning_rate=1e-3, logging_steps=5)\n"
                 "sct = train(SCTObjective(model), data.ddtp_pairs('train', languages=['de'])[:256], SCTCollator(tok),\n"
                 "            f'{work}/sct', max_steps=20, per_device_train_batch_size=8, learning_rate=1e-3, logging_steps=5)\n"
                 "sap.training_loss, sct.training_loss"),
        ("code", "model.eval()\nmilco.encode_queries(['Werkzeug zur Paketverwaltung'], combined=False)"),
    ],
}


def build(out: Path = Path(__file__).parent):
    for name, cells in NOTEBOOKS.items():
        nb = nbf.v4.new_notebook()
        nb.cells = [nbf.v4.new_markdown_cell(src) if kind == "md" else nbf.v4.new_code_cell(src) for kind, src in cells]
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nbf.write(nb, out / name)


if __name__ == "__main__":
    build()
