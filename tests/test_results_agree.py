"""The README's result tables are copies of the committed results (``results/``): a rerun that
changes a number there without the README (or the reverse) fails here."""
import re
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
SELECTION = "man pages (dev) both views"


def table_after(text: str, header: str) -> list[str]:
    """The markdown table whose header line holds ``header``."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("|") and header in line)
    end = start
    while end < len(lines) and lines[end].startswith("|"):
        end += 1
    return lines[start:end]


def test_readme_selection_table_is_the_committed_one():
    committed = (ROOT / "results" / "milco_mini_selection.md").read_text(encoding="utf-8")
    assert table_after(README, SELECTION) == table_after(committed, SELECTION)


def test_one_selection_row_is_marked_shipped_and_has_the_best_selection_score():
    """The shipped model is the best by the selection set (man pages), never by DDTP test; every
    row names its training command, the shipped row the one recorded in the shipped delta."""
    import sys
    sys.path.insert(0, str(ROOT / "experiments"))
    from select_milco_mini import SHIPPED_DELTA, training_command
    every = pd.read_csv(ROOT / "results" / "milco_mini_selection.csv")
    assert every["command"].str.startswith("python experiments/train_milco_mini.py ").all()
    t = every[(every["collection"] == "manpages") & (every["view"] == "dual view")]
    avg = t.groupby("model")["nDCG@10"].mean()
    shipped = [m for m in avg.index if "(shipped" in m]
    assert len(shipped) == 1, f"exactly one row marked shipped: {shipped}"
    assert avg.idxmax() == shipped[0], avg.sort_values().tail(3)
    assert set(every[every["model"] == shipped[0]]["command"]) == {training_command(SHIPPED_DELTA)}


def test_grounding_frontier_is_the_shipped_selection_row_when_unpruned():
    """results/grounding_frontier.csv's unpruned row of the shipped model is its selection row: the
    same man-page nDCG@10 (both views, pivot only) and DDTP test grounding."""
    every_frontier = pd.read_csv(ROOT / "results" / "grounding_frontier.csv")
    frontier = every_frontier[every_frontier["delta"].str.endswith("(shipped)")].set_index("query pivot terms (top-k)")
    every = pd.read_csv(ROOT / "results" / "milco_mini_selection.csv")
    shipped = next(m for m in every["model"].unique() if "(shipped" in m)
    t = every[(every["model"] == shipped) & (every["collection"] == "manpages") & (every["subset"] == "all")]
    views = t.groupby("view")["nDCG@10"].mean()
    ground = pd.read_csv(ROOT / "results" / "milco_mini_selection_grounding.csv").set_index("model").loc[shipped]
    unpruned = frontier.loc["all"]
    assert abs(unpruned["man pages (dev) both views"] - views["dual view"]) < 1e-4
    assert abs(unpruned["man pages (dev) pivot only"] - views["pivot only"]) < 1e-4
    assert abs(unpruned["DDTP test grounded weight"] - ground["weight_share"]) < 1e-6
    for _, model in every_frontier.groupby("model"):  # fewer terms, more grounded
        assert model["DDTP test grounded weight"].is_monotonic_increasing


def test_readme_quotes_the_grounding_frontier():
    """The README's frontier paragraph quotes results/grounding_frontier.csv: every model's nDCG@10
    (both views) and grounded weight at 12 and 10 query terms, and the shipped model's at 16 and 8."""
    frontier = pd.read_csv(ROOT / "results" / "grounding_frontier.csv")
    para = README[README.index("The shipped model's own"):README.index("Each variant changes")]
    quoted = set(re.findall(r"\b0\.\d{3}\b", para))
    for _, row in frontier.iterrows():
        k = row["query pivot terms (top-k)"]
        if k in ("12", "10") or (k in ("16", "8") and row["delta"].endswith("(shipped)")):
            for col in ("man pages (dev) both views", "DDTP test grounded weight"):
                assert f"{row[col]:.3f}" in quoted, (row["model"], k, col)


@pytest.mark.parametrize("label,task", [("avg X→en, 16 query languages", "avg X->en"),
                                        ("avg X→en, hard subset", "avg X->en (hard)"),
                                        ("avg X→X", "avg X->X")])
def test_readme_demo_table_is_results_demo_csv(label, task):
    t = pd.read_csv(ROOT / "results" / "demo.csv")
    t = t[(t["task"] == task) & (t["measure"] == "nDCG@10")].set_index("system")["value"]
    want = [t["milco-mini (dual view)"], t["milco-mini (pivot only)"], t["BM25"], t["e5-small (dense)"]]
    row = next(line for line in README.splitlines() if line.startswith(f"| {label}"))
    got = [float(re.sub(r"[*\s]", "", cell)) for cell in row.strip("|").split("|")[1:]]
    assert got == [round(v, 3) for v in want], row


def test_demo_and_the_ddtp_tables_are_the_same_model():
    """results/demo.csv (Anserini, quantised impacts) and the tables under results/ddtp (exact
    scoring) come from one shipped model: unpruned X->en nDCG@10 and alpha 0.5 (the plain sum)
    agree within the quantisation's effect, and the efficiency table's unpruned documents (the
    same English corpus) have the pruning table's terms per document."""
    demo = pd.read_csv(ROOT / "results" / "demo.csv")
    demo = demo[(demo["task"] == "avg X->en") & (demo["measure"] == "nDCG@10")].set_index("system")["value"]
    pruning = pd.read_csv(ROOT / "results" / "ddtp" / "table12_13_pruning.csv")
    unpruned = pruning[pruning["method"] == "none"].iloc[0]
    assert abs(unpruned["value"] / 100 - demo["milco-mini (dual view)"]) < 0.003
    alpha = pd.read_csv(ROOT / "results" / "ddtp" / "table19_alpha.csv").set_index("alpha")["value"]
    assert abs(alpha[0.5] / 100 - demo["milco-mini (dual view)"]) < 0.003
    assert abs(alpha[1.0] / 100 - demo["milco-mini (pivot only)"]) < 0.003
    latency = pd.read_csv(ROOT / "results" / "ddtp" / "table05_latency.csv")
    unpruned_ja = latency[latency["mass_pruning"] == 0]["terms_per_doc"]
    assert (abs(unpruned_ja - unpruned["terms_per_doc"]) < 0.5).all()  # the same English documents
