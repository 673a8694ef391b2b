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


GOALS = {"pivot/both": 0.85, "grounded weight": 0.3}  # issue #17's pivot-view goals


def test_one_selection_row_is_marked_shipped_and_has_the_best_selection_score():
    """The shipped model is the best by the selection set (man pages), never by DDTP test, among
    the variants meeting the pivot-view goals (pivot view alone >= 0.85x both views, grounded weight
    >= 0.3); every row names its training command, the shipped row the one recorded in the shipped delta."""
    import sys
    sys.path.insert(0, str(ROOT / "experiments"))
    from select_milco_mini import SHIPPED_DELTA, training_command
    every = pd.read_csv(ROOT / "results" / "milco_mini_selection.csv")
    assert every["command"].str.startswith("python experiments/train_milco_mini.py ").all()
    assert every["command"].str.contains(" --query-top-k ").all(), "a row trained before the budget says --query-top-k 0"
    views = every[every["subset"] == "all"].groupby(["model", "collection", "view"])["nDCG@10"].mean().unstack()
    ratio = (views["pivot only"] / views["dual view"]).unstack()
    ground = pd.read_csv(ROOT / "results" / "milco_mini_selection_grounding.csv").set_index("model")["weight_share"]
    meets = ratio.index[(ratio["manpages"] >= GOALS["pivot/both"]) & (ratio["ddtp"] >= GOALS["pivot/both"])
                        & (ground.reindex(ratio.index) >= GOALS["grounded weight"])]
    avg = views["dual view"].unstack()["manpages"]
    shipped = [m for m in avg.index if "(shipped" in m]
    assert len(shipped) == 1, f"exactly one row marked shipped: {shipped}"
    assert shipped[0] in meets, list(meets)
    assert avg[meets].idxmax() == shipped[0], avg[meets].sort_values().tail(3)
    assert set(every[every["model"] == shipped[0]]["command"]) == {training_command(SHIPPED_DELTA)}


def test_grounding_frontier_at_the_shipped_budget_is_the_shipped_selection_row():
    """results/grounding_frontier.csv's row of the shipped model at the query budget it ships with
    (milco_pt.mini.options) is its selection row: the same man-page nDCG@10 (both views, pivot only)
    and DDTP test grounding."""
    from milco_pt.mini import options
    every_frontier = pd.read_csv(ROOT / "results" / "grounding_frontier.csv", dtype={"query pivot terms (top-k)": str})
    frontier = every_frontier[every_frontier["delta"].str.endswith("(shipped)")].set_index("query pivot terms (top-k)")
    every = pd.read_csv(ROOT / "results" / "milco_mini_selection.csv")
    shipped = next(m for m in every["model"].unique() if "(shipped" in m)
    t = every[(every["model"] == shipped) & (every["collection"] == "manpages") & (every["subset"] == "all")]
    views = t.groupby("view")["nDCG@10"].mean()
    ground = pd.read_csv(ROOT / "results" / "milco_mini_selection_grounding.csv").set_index("model").loc[shipped]
    budget = frontier.loc[str(options().get("query_top_k", "all"))]
    assert abs(budget["man pages (dev) both views"] - views["dual view"]) < 1e-4
    assert abs(budget["man pages (dev) pivot only"] - views["pivot only"]) < 1e-4
    assert abs(budget["DDTP test grounded weight"] - ground["weight_share"]) < 1e-6
    for _, model in every_frontier.groupby("model"):  # fewer terms, more grounded
        assert model["DDTP test grounded weight"].is_monotonic_increasing


def test_readme_quotes_the_grounding_frontier():
    """The README's frontier paragraph quotes results/grounding_frontier.csv: every model's nDCG@10
    (both views) and grounded weight at 12 and 10 query terms, and the shipped model's at 16 and 8."""
    frontier = pd.read_csv(ROOT / "results" / "grounding_frontier.csv")
    para = README[README.index("The frontier (`results/grounding_frontier.md`"):README.index("Each variant changes")]
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


def test_stored_selection_commands_spell_out_defaults_changed_since():
    """A row made before the query budget keeps training the same model under today's defaults:
    --append writes --query-top-k 0 into its command, and the command parses as the recipe reads it."""
    import importlib.util
    import shlex
    import sys
    sys.path.insert(0, str(ROOT / "experiments"))
    from select_milco_mini import with_later_flags
    old = "python experiments/train_milco_mini.py --sct-rounds 5 --seed 42 --out /work/runs/v13"
    assert with_later_flags(old) == "python experiments/train_milco_mini.py --sct-rounds 5 --seed 42 --query-top-k 0 --out /work/runs/v13"
    assert with_later_flags(with_later_flags(old)) == with_later_flags(old)
    spec = importlib.util.spec_from_file_location("train_milco_mini", ROOT / "experiments" / "train_milco_mini.py")
    recipe = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(recipe)
    args = recipe.parser().parse_args(shlex.split(with_later_flags(old))[2:])
    assert recipe.budget_schedule(args) == [None] * 5
