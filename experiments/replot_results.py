"""Redraw the committed plots of results/ from their CSVs (no encoding): the figures and the numbers
beside them then always agree. Settings in the subtitles are those the CSVs were made with
(results/README.md).

    python experiments/replot_results.py [--results results]
"""
import argparse
from pathlib import Path

import pandas as pd

from milco_pt.run.demo import plot_languages
from milco_pt.run.plots import alpha_curve, latency_curve, setting, sparsity_curve

LANGS = "de,fr,es,it,pt_BR,pl,cs,uk,ru,fi,ja,ko,zh_CN,da,sk,nl".split(",")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--results", default="results")
    out = Path(p.parse_args().results)
    demo = pd.read_csv(out / "demo.csv")
    e5 = demo[(demo.task == "avg X->en") & (demo.system == "e5-small (dense)") & (demo.measure == "nDCG@10")]["value"]
    curve = pd.read_csv(out / "demo_pruning.csv")
    sparsity_curve(curve.assign(value=100 * curve["value"]), out / "demo_sparsity", dense=100 * float(e5.iloc[0]),
                   measure="nDCG@10 (x100)", dense_label="e5-small (dense, 384 dims)",
                   title="milco-mini: pruning documents", subtitle="DDTP test, X->en, 16 languages; documents 256 tokens")
    plot_languages(demo, out / "demo_languages")
    ddtp = out / "ddtp"
    sparsity_curve(pd.read_csv(ddtp / "table12_13_pruning.csv"), ddtp / "figure5_sparsity", measure="nDCG@10 (x100)",
                   dense=100 * float(e5.iloc[0]), dense_label="e5-small (dense, 384 dims)",
                   title="Pruning document vectors (milco-mini)",
                   subtitle=setting("ddtp/{lang}-en/test", LANGS, hardware=False) + "; documents 512 tokens")
    alpha_curve(pd.read_csv(ddtp / "table19_alpha.csv"), ddtp / "table19_alpha", measure="nDCG@10 (x100)",
                title="Dual-view fusion weight (milco-mini)",
                subtitle=setting("ddtp/{lang}-en/test", LANGS, hardware=False) + "; documents 512 tokens")
    latency_curve(pd.read_csv(ddtp / "table05_latency.csv"), ddtp / "table05_latency", measure="nDCG@10 (x100)",
                  subtitle="ddtp/ja-en/test, milco-mini; 2 CPU cores, 1 search thread; PISA block_max_wand")
    print(f"redrew the plots under {out}")


if __name__ == "__main__":
    main()
