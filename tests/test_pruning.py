import random

import pandas as pd
import pytest

from milco_pt import MassPrune, Threshold, TopK, mass_prune, threshold, top_k


def random_vec(rng, n):
    return {f"t{i}": round(rng.random(), 2) for i in range(n)}  # rounding makes ties


@pytest.mark.parametrize("seed", range(20))
def test_top_k_properties(seed):
    rng = random.Random(seed)
    vec = random_vec(rng, rng.randint(0, 40))
    k = rng.randint(0, 30)
    kept = top_k(vec, k)
    assert len(kept) == min(k, len(vec))
    dropped = set(vec) - set(kept)
    assert all(vec[a] >= vec[b] for a in kept for b in dropped)
    shuffled = dict(rng.sample(list(vec.items()), len(vec)))
    assert top_k(shuffled, k) == kept  # ties broken by term, not dict order


@pytest.mark.parametrize("seed", range(20))
def test_mass_prune_properties(seed):
    rng = random.Random(seed)
    vec = random_vec(rng, rng.randint(1, 60))
    p = rng.choice([0, 10, 30, 50, 86, 95, 99.5])
    kept = mass_prune(vec, p)
    total = sum(vec.values())
    dropped = total - sum(kept.values())
    assert dropped <= total * p / 100 + 1e-9
    if len(kept) < len(vec) or p == 0:
        assert all(vec[a] >= vec[b] for a in kept for b in set(vec) - set(kept))
    if kept:  # dropping the lightest kept term as well would exceed the budget
        lightest = min(kept.values())
        assert dropped + lightest > total * p / 100 - 1e-12
    assert mass_prune(vec, 0) == vec or any(w == 0 for w in vec.values())
    assert len(mass_prune(vec, min(p + 20, 99.9))) <= len(kept)
    shuffled = dict(rng.sample(list(vec.items()), len(vec)))
    assert mass_prune(shuffled, p) == kept


def test_mass_prune_worked_example():
    vec = {"a": 5.0, "b": 3.0, "c": 1.0, "d": 1.0}
    assert mass_prune(vec, 20) == {"a": 5.0, "b": 3.0}   # drops c, d: 2 of 10 = 20 %
    assert mass_prune(vec, 19) == {"a": 5.0, "b": 3.0, "c": 1.0}  # "d" sorts after "c"
    assert mass_prune(vec, 50) == {"a": 5.0}
    with pytest.raises(ValueError):
        mass_prune(vec, 100)


def test_threshold():
    assert threshold({"a": 0.5, "b": 0.1, "c": 0.3}, 0.3) == {"a": 0.5, "c": 0.3}


def test_transformers_on_any_column():
    df = pd.DataFrame({"docno": ["d"], "toks": [{"a": 3.0, "b": 2.0, "c": 1.0}],
                       "src_toks": [{"x": 1.0, "y": 4.0}]})
    out = TopK(1, columns=["toks", "src_toks"])(df)
    assert out["toks"][0] == {"a": 3.0} and out["src_toks"][0] == {"y": 4.0}
    assert df["toks"][0] == {"a": 3.0, "b": 2.0, "c": 1.0}  # input untouched
    assert MassPrune(50, "query_toks")(df.rename(columns={"toks": "query_toks"}))["query_toks"][0] == {"a": 3.0}
    assert Threshold(2.0)(df)["toks"][0] == {"a": 3.0, "b": 2.0}
    assert repr(TopK(5)) == "TopK(5, columns='toks')"
    with pytest.raises(ValueError):
        TopK(-1)
    with pytest.raises(TypeError, match="row 0"):
        TopK(1)(pd.DataFrame({"toks": ["not a dict"]}))
