"""``eval``: measures of a TREC run file against qrels (a file, or a collection's by name)."""
from __future__ import annotations

import sys


def cmd_eval(args):
    import ir_measures
    import pandas as pd
    import pyterrier as pt
    if (args.qrels is None) == (args.dataset is None):
        raise ValueError("give the qrels as a file (QRELS) or by collection (--dataset NAME), one of them")
    if args.dataset:
        from ..datasets import get
        qrels = get(args.dataset).get_qrels(args.variant)
    else:
        from ..datasets.formats import read_qrels
        qrels = read_qrels(args.qrels)
    run = pt.io.read_results(args.run)
    if not len(run):
        raise ValueError(f"{args.run} holds no results")
    measures = [ir_measures.parse_measure(m) for m in args.measures.split(",")]
    qrels = qrels.rename(columns={"qid": "query_id", "docno": "doc_id", "label": "relevance"})
    run = run.rename(columns={"qid": "query_id", "docno": "doc_id"})
    judged = set(qrels["query_id"])
    unjudged = set(run["query_id"]) - judged
    if unjudged == set(run["query_id"]):
        raise ValueError(f"no query of {args.run} is in the qrels (e.g. {sorted(unjudged)[:3]}): "
                         "check that the run and the qrels belong to the same topics")
    if not args.all_judged:  # as trec_eval: the run's judged queries
        qrels = qrels[qrels["query_id"].isin(set(run["query_id"]))]
    if args.per_query:
        rows = [{"qid": m.query_id, "measure": str(m.measure), "value": m.value}
                for m in ir_measures.iter_calc(measures, qrels, run)]
        print(pd.DataFrame(rows).pivot(index="qid", columns="measure", values="value").round(4).to_string())
    for measure, value in ir_measures.calc_aggregate(measures, qrels, run).items():
        print(f"{measure}\t{value:.4f}")
    averaged = len(judged) if args.all_judged else run["query_id"].nunique() - len(unjudged)
    print(f"{run['query_id'].nunique()} queries in the run, {len(unjudged)} of them without qrels "
          f"(left out); averaged over {averaged} queries", file=sys.stderr)


def add_parsers(sub, formatter):
    sp = sub.add_parser("eval", formatter_class=formatter, help="measures of a TREC run file (ir_measures)")
    sp.add_argument("run", help="TREC run file (qid Q0 docno rank score name)")
    sp.add_argument("qrels", nargs="?", default=None, help="TREC qrels file (or --dataset)")
    sp.add_argument("--dataset", default=None, help="take the qrels of a collection, e.g. ddtp/ja-en/test")
    sp.add_argument("--variant", default=None, help="topics variant of --dataset, e.g. hard")
    sp.add_argument("--measures", default="nDCG@10,R@100,RR@10", help="ir_measures names, comma-separated")
    sp.add_argument("--per-query", action="store_true", help="also print each query's values")
    sp.add_argument("--all-judged", action="store_true", help="average over every judged query, those "
                    "missing from the run counting 0 (trec_eval -c); default: the run's judged queries")
    sp.set_defaults(fn=cmd_eval)
