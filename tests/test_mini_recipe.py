"""The milco-mini recipe (experiments/train_milco_mini.py) is deterministic on CPU: two runs with
the same seed, in processes with different hash seeds, train the same tensors. The other smoke
trainings run in this process (sharing its cached catalogs, DDTP reads and teacher IDF: ~35 s a
run instead of ~2 min) and are shared between tests (``smoke``)."""
import functools
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

ROOT = Path(__file__).parent.parent


def train(out: Path, hash_seed: str, *extra) -> dict:
    subprocess.run([sys.executable, str(ROOT / "experiments" / "train_milco_mini.py"), "--smoke", "--out", str(out),
                    *extra], check=True, capture_output=True, env={**os.environ, "PYTHONHASHSEED": hash_seed})
    return load_file(str(out / "milco-mini-delta.safetensors"))


@functools.cache
def recipe():
    """The recipe as a module, loaded once (its per-process caches then last the session)."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("train_milco_mini", ROOT / "experiments" / "train_milco_mini.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    """``smoke(*flags)``: (the delta's tensors, its path) of ``train_milco_mini.py --smoke *flags``,
    run in this process once per set of flags."""
    runs = {}

    def run(*flags):
        if flags not in runs:
            out = tmp_path_factory.mktemp("smoke")
            argv = sys.argv
            sys.argv = ["train_milco_mini.py", "--smoke", "--out", str(out), *flags]
            try:
                recipe().main()
            finally:
                sys.argv = argv
            delta = out / "milco-mini-delta.safetensors"
            runs[flags] = load_file(str(delta)), delta
        return runs[flags]
    return run


def same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_recipe_is_deterministic(tmp_path, smoke):
    """... and a run in this process (as the other tests' ``smoke`` runs) trains the same tensors."""
    a, b = train(tmp_path / "a", "1"), train(tmp_path / "b", "2")
    assert a.keys() == b.keys() and "echo.weight" in a
    assert same(a, b) and same(a, smoke()[0])


def test_recipe_ablation_without_lexecho(smoke):
    delta, _ = smoke("--no-echo", "--stages", "sct")
    assert not any(k.startswith("echo.") for k in delta)


def test_sct_rounds_equal_continuing_the_previous_rounds_delta(smoke):
    """--sct-rounds 2 in one command trains the same tensors as round 1, then --init from its
    delta with --stages sct --seed 43 (the second round's pairs and seeds)."""
    two, _ = smoke("--stages", "sct", "--sct-rounds", "2")
    one, one_path = smoke("--stages", "sct", "--sct-rounds", "1")
    more, _ = smoke("--stages", "sct", "--sct-rounds", "1", "--seed", "43", "--init", str(one_path))
    assert same(two, more)
    assert two.keys() == one.keys() and not same(two, one), "the second round trained"


def test_ground_weights_set_each_rounds_grounding(smoke):
    """--ground-weights gives each SCT round its own grounding weight: round 2 of
    --ground-weights 0.5,2.0 is --init <round 1's delta> --seed 43 --ground-weight 2.0 (round 1 is
    --ground-weight 0.5, the default: the runs above)."""
    assert recipe().parser().parse_args(["--out", "x"]).ground_weight == 0.5
    two, _ = smoke("--stages", "sct", "--sct-rounds", "2", "--ground-weights", "0.5,2.0")
    _, one_path = smoke("--stages", "sct", "--sct-rounds", "1")
    more, _ = smoke("--stages", "sct", "--sct-rounds", "1", "--seed", "43", "--ground-weight", "2.0",
                    "--init", str(one_path))
    assert same(two, more)
    default = smoke("--stages", "sct", "--sct-rounds", "2")[0]
    assert two.keys() == default.keys() and not same(two, default), "the second round's weight was used"


@pytest.mark.parametrize("weights", ["0.5", "0.5,-1", "0.5,x"])
def test_ground_weights_refuse_a_schedule_that_does_not_fit(tmp_path, weights, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["train_milco_mini.py", "--smoke", "--stages", "sct", "--sct-rounds", "2",
                                      "--ground-weights", weights, "--out", str(tmp_path)])
    with pytest.raises(SystemExit, match="one per SCT round"):
        recipe().main()
    assert not (tmp_path / "milco-mini-delta.safetensors").exists()


def test_recipe_examples_mix_domains_and_carry_english(tmp_path):
    """SCT examples are quadruples (grounding on) drawn from DDTP and the extra bitext in the
    requested share; without grounding they are pairs; the same seed gives the same examples."""
    r = recipe()
    bitext = tmp_path / "bitext.tsv"
    bitext.write_text("".join(f"english message {i}\tmessage traduit {i}\n" for i in range(100)), encoding="utf-8")
    args = r.parser().parse_args(["--out", str(tmp_path), "--extra-bitext", str(bitext), "--sap-steps", "5",
                                  "--sct-steps", "5", "--batch-size", "8", "--sct-extra-share", "0.25"])
    sap, sct = r.examples(args)
    assert len(sap) == 40 and sum(en.startswith("english message") for _, en in sap) == 12
    assert len(sct) == 40 and all(len(x) == 4 for x in sct)
    extra = [x for x in sct if x[0].startswith("message traduit")]
    assert len(extra) == 10 and all(q_en == d == d_en for _, d, q_en, d_en in extra)
    assert r.examples(args) == (sap, sct) == (r.sap_examples(args), r.sct_examples(args))
    args.ground_weight = 0
    assert all(len(x) == 2 for x in r.examples(args)[1])


def test_every_sct_rounds_pairs_are_sampled_apart_and_checked_against_a_packed_base(tmp_path, monkeypatch):
    """Round r of --sct-rounds samples its own pairs with --seed + r, and main() checks every
    round's texts against a packed base's word embeddings (not round 0's alone)."""
    r = recipe()
    bitext = tmp_path / "bitext.tsv"
    bitext.write_text("".join(f"english message {i}\tmessage traduit {i}\n" for i in range(100)), encoding="utf-8")
    args = r.parser().parse_args(["--out", str(tmp_path), "--extra-bitext", str(bitext), "--sct-steps", "5",
                                  "--batch-size", "8", "--sct-rounds", "3"])
    first = r.examples(args)[1]
    rounds = r.round_pairs(args)
    assert len(rounds) == 3 and rounds[0] == first and rounds[1] != rounds[2] != first
    assert rounds[2] == r.examples(r.round_args(args, 2))[1]

    class Stop(Exception):
        pass

    checked = []

    def check_rows(tok, texts):
        checked.extend(texts)
        raise Stop

    monkeypatch.setattr(r, "check_rows", check_rows)
    monkeypatch.setattr(sys, "argv", ["train_milco_mini.py", "--smoke", "--stages", "sct", "--sct-rounds", "3",
                                      "--extra-bitext", str(bitext), "--out", str(tmp_path)])
    with pytest.raises(Stop):
        r.main()
    smoke = r.parser().parse_args(sys.argv[1:])
    smoke.sap_steps, smoke.sct_steps, smoke.batch_size = 2, 2, 4
    assert {t for pair in sum(r.round_pairs(smoke), []) for t in pair} <= set(checked)


def test_recipe_passes_sparsity_settings_to_sct(tmp_path, monkeypatch):
    """--lambda-q, --lambda-d, --reg, --ground-sides and --query-top-k reach SCT's objective (the
    defaults are the paper's L1 weights, grounding on both sides, no query budget in the first round)."""
    r = recipe()
    seen = []

    class Stop(Exception):
        pass

    def objective(model, **kwargs):
        seen.append(kwargs)
        raise Stop

    monkeypatch.setattr(r, "SCTObjective", objective)
    for flags, expected in [([], (1e-3, 1e-5, "l1", "both", None)),
                            (["--lambda-q", "0.02", "--lambda-d", "0.001", "--reg", "flops", "--ground-sides", "queries",
                              "--query-top-k", "10", "--budget-rounds", "7"], (0.02, 0.001, "flops", "queries", 10))]:
        monkeypatch.setattr(sys, "argv", ["train_milco_mini.py", "--smoke", "--stages", "sct", "--extra-bitext",
                                          "none", "--out", str(tmp_path), *flags])
        try:
            r.main()
        except Stop:
            pass
        assert tuple(seen[-1][k] for k in ("lambda_q", "lambda_d", "reg", "ground_sides", "query_top_k")) == expected


@pytest.mark.parametrize("flags", [("--query-top-k", "-3"), ("--budget-rounds", "0")])
def test_recipe_refuses_a_negative_query_budget(tmp_path, flags, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["train_milco_mini.py", "--smoke", "--stages", "sct", *flags, "--out", str(tmp_path)])
    with pytest.raises(SystemExit, match=f"{flags[0]} .*give 1 or more"):
        recipe().main()
    assert not (tmp_path / "milco-mini-delta.safetensors").exists()


def test_budget_rounds_set_each_rounds_query_budget(smoke):
    """--query-top-k K --budget-rounds N trains for the budget in the last N SCT rounds: round 2 of
    --sct-rounds 2 --budget-rounds 1 is --init <round 1's delta, trained with no budget> --seed 43
    --query-top-k 12; the delta records the last round's budget, which milco-mini encodes queries with."""
    from milco_pt.mini import info, options
    args = recipe().parser().parse_args(["--out", "x"])
    assert (args.sct_rounds, args.query_top_k, args.budget_rounds) == (7, 12, 2)
    assert recipe().budget_schedule(args) == [None] * 5 + [12, 12]
    assert recipe().budget_schedule(recipe().parser().parse_args(["--out", "x", "--query-top-k", "0"])) == [None] * 7
    late, late_path = smoke("--stages", "sct", "--sct-rounds", "2", "--budget-rounds", "1")
    _, free_path = smoke("--stages", "sct", "--sct-rounds", "1", "--query-top-k", "0")
    more, _ = smoke("--stages", "sct", "--sct-rounds", "1", "--seed", "43", "--init", str(free_path))
    assert same(late, more)
    every = smoke("--stages", "sct", "--sct-rounds", "2")[0]
    assert late.keys() == every.keys() and not same(late, every), "the first round trained without the budget"
    assert info(late_path)["query_top_k"] == 12 and options(late_path)["query_top_k"] == 12
    assert info(free_path)["query_top_k"] is None and "query_top_k" not in options(free_path)


def test_recipe_mixes_dictionary_pairs_into_sap(tmp_path):
    """--dict-share takes that share of SAP's pairs from the dictionary bitext; DDTP keeps the rest
    with the other bitext's share; 0 (the default) leaves SAP's pairs as before."""
    r = recipe()
    extra, words = tmp_path / "bitext.tsv", tmp_path / "dict.tsv"
    extra.write_text("".join(f"english message {i}\tmessage traduit {i}\n" for i in range(100)), encoding="utf-8")
    words.write_text("".join(f"word {i}\tWort {i}\n" for i in range(100)), encoding="utf-8")
    flags = ["--out", str(tmp_path), "--extra-bitext", str(extra), "--sap-steps", "5", "--sct-steps", "5",
             "--batch-size", "8", "--stages", "sap"]
    before, _ = r.examples(r.parser().parse_args(flags))
    sap, _ = r.examples(r.parser().parse_args(flags + ["--dict-bitext", str(words), "--dict-share", "0.25"]))
    assert len(sap) == 40 and sum(en.startswith("word ") for _, en in sap) == 10
    assert sum(en.startswith("english message") for _, en in sap) == 12
    assert before == r.examples(r.parser().parse_args(flags + ["--dict-bitext", str(words)]))[0]


def test_recipe_dict_stage_trains_on_dictionary_pairs_alone(tmp_path):
    """--stages sap,dict,sct adds a SAP stage on --dict-steps x --dict-batch-size dictionary pairs
    (seeded; SAP's and SCT's examples unchanged); too few pairs or an unknown stage is an error."""
    r = recipe()
    words = tmp_path / "dict.tsv"
    words.write_text("".join(f"word {i}\tWort {i}\n" for i in range(100)), encoding="utf-8")
    flags = ["--out", str(tmp_path), "--extra-bitext", "none", "--sap-steps", "5", "--sct-steps", "5",
             "--batch-size", "8", "--dict-bitext", str(words), "--dict-steps", "3", "--dict-batch-size", "16"]
    args = r.parser().parse_args(flags + ["--stages", "sap,dict,sct"])
    pairs = r.dict_examples(args)
    assert len(pairs) == 48 and len(set(pairs)) == 48 and all(en.startswith("word ") for _, en in pairs)
    assert pairs == r.dict_examples(args) and r.examples(args) == r.examples(r.parser().parse_args(flags))
    assert r.dict_examples(r.parser().parse_args(flags)) == []
    with pytest.raises(SystemExit, match="needs 160 dictionary pairs.*gives 100: lower --dict-steps"):
        r.dict_examples(r.parser().parse_args(flags + ["--stages", "dict", "--dict-steps", "10"]))


def test_recipe_refuses_unknown_stage(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["train_milco_mini.py", "--smoke", "--stages", "sap,sft", "--extra-bitext",
                                      "none", "--out", str(tmp_path)])
    with pytest.raises(SystemExit, match=r"unknown stage\(s\) \['sft'\].*use sap, dict, vocab and sct"):
        recipe().main()


def test_recipe_vocab_stage_teaches_english_words_but_holds_some_out(tmp_path):
    """The vocab stage's pairs are (word, word) over the training words only, --vocab-steps x
    --dict-batch-size of them, seeded; the held-out tenth is fixed and disjoint."""
    from transformers import AutoTokenizer
    from milco_pt.hub import read_vocab
    from milco_pt.mini.parts import e5_folder, minilm_folder
    from milco_pt.training.data import english_vocabulary
    r = recipe()
    tok, vocab = AutoTokenizer.from_pretrained(e5_folder()), read_vocab(minilm_folder() / "vocab.txt")
    train_words, held_out = english_vocabulary(tok, vocab)
    assert len(train_words) > 4000 and 0.05 < len(held_out) / len(train_words) < 0.2
    assert not set(train_words) & set(held_out) and "dog" in train_words + held_out
    flags = ["--out", str(tmp_path), "--stages", "vocab", "--vocab-steps", "3", "--dict-batch-size", "16"]
    pairs = r.vocab_examples(r.parser().parse_args(flags), tok, vocab)
    assert len(pairs) == 48 and all(a == b and a in set(train_words) for a, b in pairs)
    assert pairs == r.vocab_examples(r.parser().parse_args(flags), tok, vocab)
    assert r.vocab_examples(r.parser().parse_args(flags[:2] + ["--stages", "sap,sct"]), tok, vocab) == []
    every, every_held_out = english_vocabulary(tok, vocab, multi_piece=True)
    assert set(train_words) < set(every) and set(held_out) < set(every_held_out)
    assert not set(every) & set(every_held_out) and len(every) > 3 * len(train_words)
    assert len(tok.tokenize("disneyland")) > 1 and "disneyland" in every + every_held_out
    pairs = r.vocab_examples(r.parser().parse_args(flags + ["--vocab-words", "all"]), tok, vocab)
    assert len(pairs) == 48 and {a for a, _ in pairs} <= set(every) and not {a for a, _ in pairs} <= set(train_words)


def test_recipe_defaults_are_the_shipped_recipe(tmp_path):
    """train_milco_mini.py with no flags trains the shipped delta's recipe: every argument its
    metadata records equals the default (the extra bitext was the file --extra-bitext gettext builds)."""
    import json
    from safetensors import safe_open
    from milco_pt.mini import SHIPPED_DELTA
    if not SHIPPED_DELTA.exists():
        pytest.skip("no shipped delta in this checkout")
    with safe_open(str(SHIPPED_DELTA), "pt") as f:
        recorded = json.loads(f.metadata()["milco_mini"])["args"]
    defaults = vars(recipe().parser().parse_args(["--out", str(tmp_path)]))
    differ = {k: (v, defaults.get(k)) for k, v in recorded.items()
              if k not in ("out", "extra_bitext") and defaults.get(k) != v}
    assert not differ, f"recorded (shipped) vs default: {differ}"
    assert defaults["extra_bitext"] == "gettext"
    assert recorded["extra_bitext"] == "gettext" or recorded["extra_bitext"].endswith("gettext.tsv")


def test_recipe_init_continues_a_delta_and_refuses_a_mismatched_one(tmp_path):
    from milco_pt.mini.assemble import base, save_delta, trainable_state
    trained, _, _ = base(seed=1)
    with torch.no_grad():
        for p in trained.parameters():
            if p.requires_grad:
                p.add_(0.5)
    path = save_delta(trained, tmp_path / "trained")
    fresh, _, _ = base(seed=2)
    recipe().init_from(fresh, path)
    got, want = trainable_state(fresh), trainable_state(trained)
    assert got.keys() == want.keys() and all(torch.equal(got[k], want[k]) for k in got)
    with pytest.raises(SystemExit, match="--train-layers"):
        recipe().init_from(base(train_layers=3)[0], path)
    (tmp_path / "other.safetensors").write_bytes(b"not a delta")
    with pytest.raises(SystemExit, match="not a milco-mini delta"):
        recipe().init_from(fresh, tmp_path / "other.safetensors")
