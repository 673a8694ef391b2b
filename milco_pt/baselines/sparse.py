"""Learned sparse baselines: SPLADE-v3 (English, BERT vocabulary) and BGE-M3's sparse head.

Their ``toks`` / ``query_toks`` columns feed :class:`~milco_pt.index.anserini.ImpactIndex` and
:class:`~milco_pt.index.exact.ExactIndex` exactly as MILCO's do.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np
import torch

from ..hub import resolve_checkpoint
from ..model import LOGIT_BUDGET
from .base import TextEncoder

M3_SPARSE_FILE = "sparse_linear.pt"


class Splade(TextEncoder):
    """SPLADE (e.g. ``naver/splade-v3``): ``max_t log(1 + relu(MLM logits))`` over real tokens."""

    default_name = "naver/splade-v3"

    def __init__(self, model, tokenizer, **kwargs):
        super().__init__(model, tokenizer, **kwargs)
        vocab = tokenizer.convert_ids_to_tokens(list(range(model.config.vocab_size)))
        self.names = np.array(vocab, dtype=object)

    @classmethod
    def load(cls, name_or_path: str, *, revision: Optional[str] = None, local_files_only: bool = False):
        from transformers import AutoModelForMaskedLM, AutoTokenizer
        folder = resolve_checkpoint(name_or_path, revision, local_files_only, ("vocab.txt",), "SPLADE checkpoint")
        return AutoModelForMaskedLM.from_pretrained(folder), AutoTokenizer.from_pretrained(folder)

    def encode_batch(self, enc: dict, is_query: bool) -> list:
        ids, mask = enc["input_ids"], enc["attention_mask"]
        step = max(1, LOGIT_BUDGET // (ids.shape[1] * len(self.names)))
        out = []
        for s in range(0, len(ids), step):
            logits = self.model(input_ids=ids[s:s + step], attention_mask=mask[s:s + step]).logits
            m = mask[s:s + step].unsqueeze(-1).to(logits.dtype)
            reps = torch.amax(torch.log1p(torch.relu(logits.float())) * m, dim=1)
            for row in reps.cpu().numpy():
                nz = np.flatnonzero(row > 0)
                out.append(dict(zip(self.names[nz].tolist(), row[nz].tolist())))
        return out


class M3Model(torch.nn.Module):
    """BGE-M3's XLM-R encoder with its sparse (lexical) head ``relu(Linear(hidden, 1))``."""

    def __init__(self, encoder, sparse_linear: Optional[torch.nn.Linear] = None):
        super().__init__()
        self.encoder = encoder
        self.sparse_linear = sparse_linear or torch.nn.Linear(encoder.config.hidden_size, 1)

    @classmethod
    def from_pretrained(cls, name_or_path: str = "BAAI/bge-m3", *, revision: Optional[str] = None,
                        local_files_only: bool = False):
        """``(model, tokenizer)`` from a hub id or a folder in the ``BAAI/bge-m3`` layout."""
        from transformers import AutoModel, AutoTokenizer
        folder = resolve_checkpoint(name_or_path, revision, local_files_only, (M3_SPARSE_FILE,),
                                    "BGE-M3 checkpoint")
        model = cls(AutoModel.from_pretrained(folder, add_pooling_layer=False))
        head = folder / M3_SPARSE_FILE
        if head.exists():
            model.sparse_linear.load_state_dict(torch.load(head, map_location="cpu", weights_only=True))
        else:
            model.sparse_linear = None
        return model, AutoTokenizer.from_pretrained(folder)

    def save_pretrained(self, folder, tokenizer=None):
        folder = Path(folder)
        self.encoder.save_pretrained(folder)
        torch.save(self.sparse_linear.state_dict(), folder / M3_SPARSE_FILE)
        if tokenizer is not None:
            tokenizer.save_pretrained(folder)
        return folder

    def forward(self, input_ids, attention_mask):
        return self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state


class M3Sparse(TextEncoder):
    """BGE-M3 sparse retrieval (M3-Sparse): a weight per token, its max over repeats; ``<s>``,
    ``</s>``, ``<pad>`` and ``<unk>`` are dropped, as in FlagEmbedding."""

    default_name = "BAAI/bge-m3"
    load = M3Model.from_pretrained

    def __init__(self, model: M3Model, tokenizer, *, query_max_length: int = 512,
                 doc_max_length: int = 8192, **kwargs):
        if model.sparse_linear is None:
            raise FileNotFoundError(f"this BGE-M3 checkpoint has no {M3_SPARSE_FILE} (the sparse head)")
        super().__init__(model, tokenizer, query_max_length=query_max_length,
                         doc_max_length=doc_max_length, **kwargs)
        self.names = np.array(tokenizer.convert_ids_to_tokens(list(range(len(tokenizer)))), dtype=object)
        self.unused = np.array(sorted({tokenizer.cls_token_id, tokenizer.eos_token_id,
                                       tokenizer.pad_token_id, tokenizer.unk_token_id}), dtype=np.int64)

    def encode_batch(self, enc: dict, is_query: bool) -> list:
        hidden = self.model(enc["input_ids"], enc["attention_mask"])
        weights = torch.relu(self.model.sparse_linear(hidden.float())).squeeze(-1)
        ids, weights = enc["input_ids"].cpu().numpy(), weights.cpu().numpy()
        out = []
        for row_ids, row_w in zip(ids, weights):
            keep = (row_w > 0) & ~np.isin(row_ids, self.unused)
            best: dict[int, float] = {}
            for i, w in zip(row_ids[keep].tolist(), row_w[keep].tolist()):
                if w > best.get(i, 0.0):
                    best[i] = w
            out.append({self.names[i]: w for i, w in best.items()})
        return out
