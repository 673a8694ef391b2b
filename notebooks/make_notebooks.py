"""Write the notebooks (outputs stripped) from the cells below: `python notebooks/make_notebooks.py`.

Each runs top to bottom on milco-mini (shipped) and the shipped DDTP collection; CI runs them on a
sample of each task (MILCO_PT_NOTEBOOK_SAMPLE, tests/test_notebooks.py). Set MILCO_MODEL to another
checkpoint (e.g. omai-research/milco-650m) to run them with it.
"""
from pathlib import Path

import nbformat as nbf

SETUP = """import os, pandas as pd, pyterrier as pt
from pyterrier.measures import nDCG, R, RR
import milco_pt
from milco_pt import datasets
MODEL = os.environ.get("MILCO_MODEL", "milco-mini")     # shipped, offline; or e.g. omai-research/milco-650m
SAMPLE = os.environ.get("MILCO_PT_NOTEBOOK_SAMPLE")     # "queries,docs" to cut every task down (CI: 60,300)

def task(name):
    ds = datasets.get(name)
    return ds.sample(*map(int, SAMPLE.split(","))) if SAMPLE else ds

milco = milco_pt.Milco.from_pretrained(MODEL, batch_size=32)
milco"""

NOTEBOOKS = {
    "01_quickstart.ipynb": [
        ("md", "# Quick start: milco-mini, BM25 and e5-small in one `pt.Experiment`\n"
               "Cross-lingual retrieval on the shipped DDTP collection (Debian's translated package "
               "descriptions): Japanese queries, English documents. milco-mini is the small MILCO shipped "
               "with milco-pt (multilingual-e5-small's encoder, trained here on DDTP's train split and gettext bitext); "
               "e5-small is the same encoder as a dense retriever. The full test task (485 queries, "
               "2,708 documents) takes about 10 minutes on 2 CPU cores."),
        ("code", SETUP),
        ("code", 'ds = task("ddtp/ja-en/test")\n'
                 'topics, qrels, docs = ds.get_topics(), ds.get_qrels(), ds.get_corpus_frame()\n'
                 'print(len(topics), "queries,", len(docs), "documents")\ntopics[["qid", "query"]].head(3)'),
        ("code", "import tempfile\nfrom milco_pt.baselines import BM25Index, E5\nfrom milco_pt.index import FlatIndex\n"
                 "scratch = tempfile.TemporaryDirectory()  # removed when the kernel stops\nwork = scratch.name\n"
                 "milco_index = milco_pt.ImpactIndex(f'{work}/milco', column='combined', verbose=False)\n"
                 "milco_index.index(milco.doc_encoder(outputs='combined')(docs))\n"
                 "bm25 = BM25Index(f'{work}/bm25', language='en', verbose=False).index(docs)\n"
                 "e5 = E5.from_pretrained('e5-small-q4', batch_size=32)\n"
                 "dense = FlatIndex().index(e5.doc_encoder()(docs))\n"
                 "systems = {'milco-mini': milco.query_encoder(outputs='combined') >> milco_index.retriever(num_results=100),\n"
                 "           'BM25': bm25.bm25(num_results=100),\n"
                 "           'e5-small (dense)': e5.query_encoder() >> dense.retriever(num_results=100)}"),
        ("code", "measures = [nDCG @ 10, R @ 100, RR @ 10]\n"
                 "pt.Experiment(list(systems.values()), topics[['qid', 'query']], qrels, measures,\n"
                 "              names=list(systems), baseline=1, round=3)"),
        ("md", "The hard subset: queries that share no ASCII word (such as a package name) with their "
               "documents, where BM25 has nothing to match."),
        ("code", "hard = ds.get_topics('hard')\nprint(len(hard), 'hard queries')\n"
                 "pt.Experiment(list(systems.values()), hard[['qid', 'query']], ds.get_qrels('hard'), measures,\n"
                 "              names=list(systems), baseline=1, round=3)"),
    ],
    "02_transparency.ipynb": [
        ("md", "# Transparency and error tracing\nA MILCO score is a sum over shared terms, in the English "
               "pivot view and in the source view (LexEcho): every ranking can be read term by term "
               "(paper Figure 3). German queries, English documents."),
        ("code", SETUP),
        ("code", 'ds = task("ddtp/de-en/test")\n'
                 'topics, qrels, docs = ds.get_topics(), ds.get_qrels(), ds.get_corpus_frame()\n'
                 'texts = docs.set_index("docno").text\n'
                 'index = milco_pt.ExactIndex("combined").index(milco.doc_encoder(outputs="combined")(docs))\n'
                 'top = (milco.query_encoder(outputs="combined") >> index.retriever(num_results=1))(topics[["qid", "query"]])\n'
                 'relevant = qrels[qrels.label > 0][["qid", "docno"]]\n'
                 'wins = top.merge(relevant, on=["qid", "docno"])\n'
                 'print(f"the relevant document ranks first for {len(wins)} of {len(topics)} queries")'),
        ("md", "A query whose relevant document wins, and the terms that made it win (largest first):"),
        ("code", 'def pivot_share(query, docno):\n'
                 '    ex = milco.explain(query, texts[docno])\n'
                 '    return ex[ex.view == "pivot"].contribution.sum() / ex.contribution.sum()\n'
                 'wins = wins.head(40).assign(pivot=[pivot_share(q, d) for q, d in zip(wins.head(40)["query"], wins.head(40).docno)])\n'
                 'win = wins.sort_values("pivot", ascending=False).iloc[0]\n'
                 'print(win["query"], "->", texts[win.docno][:200])\n'
                 'milco.explain(win["query"], texts[win.docno]).head(12)'),
        ("md", "Error tracing: a query whose relevant document does not rank first; the winner's terms "
               "against the relevant document's."),
        ("code", 'miss = top[~top.qid.isin(wins.qid)].merge(relevant, on="qid", suffixes=("", "_relevant")).iloc[0]\n'
                 'print(miss["query"])\n'
                 'explained = {"ranked first": milco.explain(miss["query"], texts[miss.docno]),\n'
                 '             "relevant": milco.explain(miss["query"], texts[miss.docno_relevant])}\n'
                 'from milco_pt.run.plots import term_contributions\n'
                 'term_contributions(explained, "figures/transparency", query=miss["query"])\n'
                 'from IPython.display import Image\nImage("figures/transparency.png")'),
        ("md", "The pivot view of a query in any language is a set of English wordpieces (CJK text in the "
               "plots needs a CJK font, e.g. `apt-get install fonts-wqy-microhei`):"),
        ("code", 'views = milco.encode_queries(["Partitionseditor", "パーティションエディタ"], combined=False)\n'
                 '[sorted(v, key=v.get, reverse=True)[:8] for v in views["pivot"]]'),
    ],
    "03_pruning_efficiency.ipynb": [
        ("md", "# Pruning and efficiency\nTop-k and mass pruning of milco-mini's document vectors: terms per "
               "document against nDCG@10 (French queries, English documents), then index size, latency "
               "and effectiveness under Anserini, PISA and Seismic."),
        ("code", SETUP),
        ("code", 'ds = task("ddtp/fr-en/test")\ntopics, qrels = ds.get_topics(), ds.get_qrels()\n'
                 'docs = milco.doc_encoder(combined=True)(ds.get_corpus_frame())\n'
                 'queries = milco.query_encoder(combined=True)(topics[["qid", "query"]])'),
        ("code", "from milco_pt.pruning import top_k, mass_prune\n"
                 "def evaluate(pruned):\n"
                 "    index = milco_pt.ExactIndex('toks').index(pruned[['docno', 'toks']])\n"
                 "    return pt.Experiment([index.retriever(num_results=100)], queries, qrels, [nDCG @ 10])['nDCG@10'][0]\n"
                 "rows = [{'method': 'none', 'level': 0, 'value': evaluate(docs), 'terms_per_doc': docs.toks.map(len).mean()}]\n"
                 "for method, levels, fn in [('top-k', [16, 64, 128, 300], top_k), ('mass', [30, 50, 70, 90], mass_prune)]:\n"
                 "    for level in levels:\n"
                 "        pruned = docs.assign(toks=[fn(v, level) for v in docs.toks])\n"
                 "        rows.append({'method': method, 'level': level, 'value': evaluate(pruned),\n"
                 "                     'terms_per_doc': pruned.toks.map(len).mean()})\n"
                 "curve = pd.DataFrame(rows)\ncurve.round(3)"),
        ("code", "from milco_pt.run.plots import sparsity_curve\n"
                 "sparsity_curve(curve[curve.method != 'none'], 'figures/sparsity', title='milco-mini, DDTP fr->en')\n"
                 "from IPython.display import Image\nImage('figures/sparsity.png')"),
        ("md", "The same vectors under the three backends (one argument): Anserini and PISA score the "
               "same quantized dot product, Seismic approximates the float one."),
        ("code", "import tempfile, time\nscratch = tempfile.TemporaryDirectory()  # removed when the kernel stops\nwork = scratch.name\nrows = []\n"
                 "for backend in ['anserini', 'pisa', 'seismic']:\n"
                 "    index = milco_pt.sparse_index(f'{work}/{backend}', backend=backend, verbose=False).index(docs)\n"
                 "    retriever = index.retriever(num_results=100)\n"
                 "    started = time.perf_counter(); retriever(queries)\n"
                 "    ms = 1000 * (time.perf_counter() - started) / len(queries)\n"
                 "    res = pt.Experiment([retriever], queries, qrels, [nDCG @ 10])\n"
                 "    rows.append({'backend': backend, 'index_mb': index.meta()['index_bytes'] / 2**20,\n"
                 "                 'ms_per_query': ms, 'nDCG@10': res['nDCG@10'][0]})\n"
                 "pd.DataFrame(rows).round(3)"),
    ],
    "04_training.ipynb": [
        ("md", "# Training a small MILCO\nmilco-mini's recipe in miniature: the untrained model (pretrained "
               "encoder and English head, random connector and LexEcho), Sparse Alignment Pretraining on DDTP "
               "bitext, then Sparse Contrastive Training, with the Trainer-based runner; retrieval on held-out "
               "DDTP dev queries before and after. `experiments/train_milco_mini.py` is the full recipe "
               "(the shipped v15k adds a vocab stage between them and runs SCT seven times on new pairs, the "
               "last two for a 12-term query budget: SAP 74 minutes on 2 shared CPU cores, the vocab stage "
               "about 3 and each SCT round 16 to 45 minutes)."),
        ("code", SETUP),
        ("code", "from milco_pt.mini import base\n"
                 "model, tok, vocab = base(seed=0)\n"
                 "student = milco_pt.Milco(model, tok, vocab, lowercase=False, doc_max_length=128, batch_size=32)\n"
                 "held_out = task('ddtp/de-en/dev')\n"
                 "topics, qrels, docs = held_out.get_topics(), held_out.get_qrels(), held_out.get_corpus_frame()\n"
                 "def ndcg():\n"
                 "    index = milco_pt.ExactIndex(['toks', 'src_toks']).index(student.doc_encoder()(docs))\n"
                 "    return pt.Experiment([student.query_encoder() >> index.retriever(num_results=100)],\n"
                 "                         topics[['qid', 'query']], qrels, [nDCG @ 10])['nDCG@10'][0]\n"
                 "before = ndcg()\nbefore"),
        ("code", "import tempfile\nfrom milco_pt.training import data\nfrom milco_pt.training.cli import make_teacher\n"
                 "from milco_pt.training.objectives import SAPObjective, SAPCollator, SCTObjective, SCTCollator\n"
                 "from milco_pt.training.trainer import train\n"
                 "STEPS = int(os.environ.get('MILCO_PT_NOTEBOOK_STEPS', 60))\n"
                 "scratch = tempfile.TemporaryDirectory()  # removed when the kernel stops\nwork = scratch.name\nmodel.train()\n"
                 "bitext = data.ddtp_bitext('train', languages=['de'])\n"
                 "teacher = make_teacher('lexical', vocab, model, [e for _, e in bitext])\n"
                 "sap, sct = SAPObjective(model), SCTObjective(model)\n"
                 "train(sap, bitext[:STEPS * 16], SAPCollator(tok, teacher, max_length=64),\n"
                 "            f'{work}/sap', max_steps=STEPS, per_device_train_batch_size=16, learning_rate=2e-3,\n"
                 "            logging_steps=5, disable_tqdm=True)\n"
                 "pairs = data.ddtp_pairs('train', languages=['de'])\n"
                 "train(sct, pairs[:STEPS * 16], SCTCollator(tok, query_max_length=32, doc_max_length=128),\n"
                 "            f'{work}/sct', max_steps=STEPS, per_device_train_batch_size=16, learning_rate=2e-4,\n"
                 "            logging_steps=5, disable_tqdm=True)\nmodel.eval()"),
        ("code", "losses = pd.DataFrame([{'stage': stage, 'step': h['step'], 'loss': h['loss']}\n"
                 "                       for stage, run in (('SAP', sap), ('SCT', sct))\n"
                 "                       for h in run.trainer.log_history if 'loss' in h])\n"
                 "ax = losses.pivot(index='step', columns='stage', values='loss').plot(subplots=True, figsize=(8, 3), layout=(1, 2))\n"
                 "after = ndcg()\n"
                 "print(f'nDCG@10 on held-out DDTP dev (de->en): {before:.3f} before, {after:.3f} after {2 * STEPS} steps')"),
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
