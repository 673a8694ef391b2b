"""experiments/probe_pivot_vocabulary.py: ranks of raw pooled logits, unspoilt by padding."""
import importlib.util
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).parent.parent


def probe():
    spec = importlib.util.spec_from_file_location("probe_pivot_vocabulary",
                                                  ROOT / "experiments" / "probe_pivot_vocabulary.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_states_equal_one_text_at_a_time(milco):
    """Texts of different lengths in one call give each text's own logits and mean state; a padded
    batch would not (the authors' masked max turns every negative logit of a padded text into 0)."""
    p = probe()
    model, tok = milco.model, milco.encoder.tokenizer
    texts = ["fox", "the quick brown fox", "Быстрая лиса", "dog", "敏捷的棕色狐狸"]
    h, logits = p.states(model, tok, texts, batch=2)
    for i, text in enumerate(texts):
        x = torch.tensor([tok(text)["input_ids"]])
        with torch.no_grad():
            hidden = model.hidden_states(x, torch.ones_like(x))
            assert torch.allclose(logits[i], model.pooled_logits(hidden, torch.ones_like(x))[0], atol=1e-5)
            assert torch.allclose(h[i], hidden[0, 1:-1].mean(0), atol=1e-5)
    enc = tok(texts, padding=True, return_tensors="pt")
    with torch.no_grad():
        padded = model.pooled_logits(model.hidden_states(enc["input_ids"], enc["attention_mask"]), enc["attention_mask"])
    assert (padded[0] == 0).sum() > (logits[0] == 0).sum()


def test_ranks_count_strictly_higher_logits():
    p = probe()
    scores = torch.tensor([[0.5, 0.1, 0.9, 0.5], [0.0, 0.0, 0.0, 0.0]])
    assert p.ranks(scores, [0, 3]).tolist() == [1, 0]
    assert p.row(torch.tensor([0, 3, 12]), torch.tensor([True, False, False])) == pytest.approx(
        {"top-1": 1 / 3, "top-10": 2 / 3, "in sparse vector": 1 / 3})
