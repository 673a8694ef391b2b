"""Paper Tables 4/9: MKQA cross-lingual answer Recall@100 (25 query languages against English NQ
passages; a passage counts when it contains a gold answer, as BGE-M3's evaluation), next to the
paper's MILCO column.

    python experiments/tables/table09_mkqa.py --model omai-research/milco-650m --mkqa-folder DIR
        (DIR: BGE-M3's qa_data/<lang>.jsonl and the NQ passages corpus.jsonl; 21M passages, GPU, ~a day)
    python experiments/tables/table09_mkqa.py --smoke
"""
import pandas as pd
from common import PAPER, corpus, load_milco, parser, report, runner, smoke_model, smoke_root

SMOKE = {"de": "de", "ja": "ja"}


def main():
    p = parser(__doc__)
    p.add_argument("--mkqa-folder", default=None)
    args = p.parse_args()
    if args.smoke:
        root = smoke_root()
        from milco_pt.testing.fixtures import ddtp_sample, write_mkqa
        for lang, q in SMOKE.items():
            docs, topics, qrels = ddtp_sample(q, "en", n_docs=300)
            first = docs.set_index("docno")["text"]
            answers = {qid: [max(first[d].split(), key=len)] for qid, d in zip(qrels["qid"], qrels["docno"])}
            write_mkqa(root / "mkqa", lang, topics, answers, docs)
        args.model, args.mkqa_folder = smoke_model(root), str(root / "mkqa")
    if not args.mkqa_folder:
        raise SystemExit("--mkqa-folder is required (BGE-M3's MKQA data is not on the hub in one place)")
    from milco_pt.datasets import get
    from milco_pt.datasets.standard import MKQA_LANGS
    from milco_pt.run.experiment import run
    from milco_pt.measures import AnswerRecall
    langs = args.languages.split(",") if args.languages else (list(SMOKE) if args.smoke else list(MKQA_LANGS))
    milco = load_milco(args.model, args.batch_size)
    system, ours = None, {}
    for lang in langs:
        ds = get(f"mkqa/{lang}", folder=args.mkqa_folder)
        if system is None:  # one corpus for every language: encoded and indexed once (cached in --work)
            system = runner(args, milco).pipeline("milco", corpus(ds, f"mkqa-passages:{args.mkqa_folder}"))
            passages = {d["docno"]: d["passage"] for d in ds.get_corpus_iter()}
        res = run([system], ds, measure_names=[AnswerRecall(ds.answers, passages) @ 100])
        ours[lang] = 100 * float(res["AnswerRecall@100"][0])
    paper = pd.read_csv(PAPER / "table09_mkqa_r100.csv", dtype=str).set_index("lang")["MILCO"]
    report("table09_mkqa", ours, {k: float(v) for k, v in paper.items() if k in ours}, args.out, "Recall@100 (x100)")


if __name__ == "__main__":
    main()
