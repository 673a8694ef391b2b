"""Does milco-mini's connector know general vocabulary? For single words from FreeDict's
X->English dictionaries (the pairs the recipe's dict stage trains on left out) and for English
words read by the multilingual encoder, the rank of the English word among the raw pooled pivot
logits (top-1, top-10) and the share where its pivot weight is positive (it is in the sparse
vector). The English words are those the recipe's vocab stage holds out. A ridge map from the
last model's encoder (last layer) to the frozen head's word embeddings, fitted on English words,
gives a reference point: what a linear read-out of the same states reaches.

    python experiments/probe_pivot_vocabulary.py --model "v2=milco_pt/mini/data/milco-mini-delta.safetensors" \
        --model "v2 after SAP=runs/v2/work/sap/checkpoint-500" --out results/pivot_vocabulary.md

A model is a milco-mini delta or a Trainer checkpoint folder of the recipe (``model.safetensors``).
"""
from __future__ import annotations

import argparse
import random
import shlex
from pathlib import Path

import pandas as pd
import torch


def load_model(path: str):
    from safetensors.torch import load_file
    from milco_pt.mini.assemble import base, load_delta
    model, tok, vocab = base()
    path = Path(path)
    if path.is_dir():
        state = {k.removeprefix("model."): v for k, v in load_file(str(path / "model.safetensors")).items()}
        missing = set(state) - set(dict(model.named_parameters()))
        if missing:
            raise SystemExit(f"{path} holds tensors milco-mini does not have: {sorted(missing)[:3]}")
        model.load_state_dict(state, strict=False)
    else:
        load_delta(model, path)
    return model.eval(), tok, vocab


def word_sets(tok, vocab, n: int, seed: int, dict_sample: int):
    """(English test words, English fit words, [(source word, English word)]): the vocab stage's
    held-out words (data.english_vocabulary), its training words (for the linear read-out), and
    dictionary pairs outside the dict stage's training sample."""
    from milco_pt.training.data import english_vocabulary
    from milco_pt.training.dictionaries import bitext
    index = {t: i for i, t in enumerate(vocab)}
    fit, english = english_vocabulary(tok, vocab)
    trained = set(bitext(sample=dict_sample, seed=seed))
    pairs = [(s, e.split(",")[0].strip().lower()) for s, e in bitext(sample=20 * n, seed=seed + 1000)
             if (s, e) not in trained and " " not in s]
    pairs = sorted({(s, e) for s, e in pairs if e in index and e.isalpha() and s.lower() != e})
    rng = random.Random(seed)
    rng.shuffle(english)
    rng.shuffle(fit)
    rng.shuffle(pairs)
    return english[:n], fit[:4000], pairs[:n]


@torch.no_grad()
def states(model, tok, texts, batch: int = 100):
    """Last-layer states averaged over each text's pieces, and the raw pooled pivot logits. Texts
    are batched by token count: the authors' masked max lets padding (0) hide negative logits."""
    ids = tok(list(texts))["input_ids"]
    order = sorted(range(len(texts)), key=lambda i: len(ids[i]))
    hs, logits = [None] * len(texts), [None] * len(texts)
    groups = {}
    for i in order:
        groups.setdefault(len(ids[i]), []).append(i)
    for members in groups.values():
        for j in range(0, len(members), batch):
            chunk = members[j:j + batch]
            x = torch.tensor([ids[i] for i in chunk])
            mask = torch.ones_like(x)
            h = model.hidden_states(x, mask)
            pooled = model.pooled_logits(h, mask)
            inner = h[:, 1:-1].mean(1)
            for k, i in enumerate(chunk):
                hs[i], logits[i] = inner[k], pooled[k]
    return torch.stack(hs), torch.stack(logits)


def ranks(scores: torch.Tensor, targets: list[int]) -> torch.Tensor:
    t = torch.tensor(targets)
    return (scores > scores.gather(1, t[:, None])).sum(1)


def row(r: torch.Tensor, positive: torch.Tensor) -> dict:
    return {"top-1": float((r < 1).float().mean()), "top-10": float((r < 10).float().mean()),
            "in sparse vector": float(positive.float().mean())}


def inputs(test, pairs):
    """The two kinds of probe input: ``(kind, texts, their English words)``."""
    return [("English word", test, test), ("X->en dictionary word", [s for s, _ in pairs], [e for _, e in pairs])]


def probe(name: str, model, tok, vocab, test, pairs) -> list[dict]:
    """The model's rows: rank of the English word among its raw pooled pivot logits."""
    index = {t: i for i, t in enumerate(vocab)}
    out = []
    for what, texts, words in inputs(test, pairs):
        _, logits = states(model, tok, texts)
        targets = [index[w] for w in words]
        picked = logits.gather(1, torch.tensor(targets)[:, None])[:, 0]
        out.append({"model": name, "input": what, "words": len(texts), **row(ranks(logits, targets), picked > 0)})
    return out


def linear_readout(name: str, model, tok, vocab, test, fit, pairs) -> list[dict]:
    """Ridge map from the model's encoder's last layer to the head's (frozen) word embeddings,
    fitted on English words (not the test ones); cosine ranks."""
    index = {t: i for i, t in enumerate(vocab)}
    emb = model.mlm_head.predictions.decoder.weight.detach()
    x, _ = states(model, tok, fit)
    x = torch.cat([x, torch.ones(len(x), 1)], 1)
    w = torch.linalg.solve(x.T @ x + torch.eye(x.shape[1]), x.T @ emb[[index[t] for t in fit]])
    unit = emb / emb.norm(dim=1, keepdim=True)
    out = []
    for what, texts, words in inputs(test, pairs):
        h, _ = states(model, tok, texts)
        p = torch.cat([h, torch.ones(len(h), 1)], 1) @ w
        r = ranks((p / p.norm(dim=1, keepdim=True)) @ unit.T, [index[t] for t in words])
        out.append({"model": f"linear read-out of {name}'s encoder (ridge, fitted on English words)", "input": what,
                    "words": len(texts), **row(r, torch.zeros(len(r), dtype=torch.bool)), "in sparse vector": float("nan")})
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", action="append", required=True, help="NAME=PATH (delta or checkpoint folder)")
    p.add_argument("--words", type=int, default=500, help="test words per input kind")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--dict-sample", type=int, default=38400,
                   help="the dict stage's pairs to leave out (its --dict-steps x --dict-batch-size, seed --seed)")
    p.add_argument("--out", default="results/pivot_vocabulary.md")
    args = p.parse_args(argv)
    specs = []
    for spec in args.model:
        if "=" not in spec:
            raise SystemExit(f"--model {spec!r}: use NAME=PATH")
        name, path = spec.split("=", 1)
        if not Path(path).exists():
            raise SystemExit(f"--model {name}: no delta or checkpoint folder at {path}")
        specs.append((name, path))
    rows, words = [], None
    for name, path in specs:
        model, tok, vocab = load_model(path)
        words = words or word_sets(tok, vocab, args.words, args.seed, args.dict_sample)  # same base for all
        test, fit, pairs = words
        rows += probe(name, model, tok, vocab, test, pairs)
    rows += linear_readout(name, model, tok, vocab, test, fit, pairs)  # the last model's encoder
    table = pd.DataFrame(rows).round(3)
    print(table.to_string(index=False))
    text = ("# Pivot vocabulary: is the English word the connector's top pivot logit?\n\n"
            "Made by `python experiments/probe_pivot_vocabulary.py "
            + " ".join(f"--model {shlex.quote(m)}" for m in args.model)
            + f" --words {args.words} --seed {args.seed}` (runs/: the recipe's --out folders).\n\n" + table.to_markdown(index=False) + "\n")
    Path(args.out).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
