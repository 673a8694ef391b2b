"""MaxP for long documents (MLDR, paper Tables 2/6): split each document into passages of at most
``max_tokens`` tokens of the model's tokenizer, encode and index the passages, and score a
document by its best passage.

    split = PassageSplitter(milco.encoder.m_tokenizer, max_tokens=512)
    index.index((split >> milco.doc_encoder(combined=True))(docs))      # or the iterator form
    maxp = milco.query_encoder(combined=True) >> index.retriever(1000) >> MaxP(num_results=100)

Passage docnos are ``<docno>%p<i>`` (PyTerrier's convention); :class:`MaxP` maps them back.

Not ``pt.text.sliding`` / ``pt.text.max_passage``: they cut passages by whitespace-separated words,
which neither splits CJK text nor matches the encoder's budget; here windows are counted in the
model's own tokens (the paper's 512-token passages), so each passage is exactly what the encoder
reads, and passage texts are exact character spans of the document.
"""
from __future__ import annotations

from typing import Optional

import numpy as np
import pandas as pd
import pyterrier as pt

from .encoding import check_texts

SEP = "%p"


def split_passages(text: str, tokenizer, max_tokens: int = 512, stride: Optional[int] = None) -> list[str]:
    """Windows of at most ``max_tokens`` tokens (special tokens included), each ``stride`` tokens
    after the previous (default: no overlap), as character spans of ``text``."""
    size = max_tokens - tokenizer.num_special_tokens_to_add()
    if size < 1:
        raise ValueError(f"max_tokens={max_tokens} leaves no room beside the special tokens")
    stride = stride or size
    if not 0 < stride <= size:
        raise ValueError(f"stride must be in 1..{size} (the window), got {stride}")
    offsets = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
    offsets = [o for o in offsets if o[1] > o[0]]
    if len(offsets) <= size:
        return [text]
    out = []
    for start in range(0, len(offsets), stride):
        window = offsets[start:start + size]
        out.append(text[window[0][0]:window[-1][1]])
        if start + size >= len(offsets):
            break
    return out


class PassageSplitter(pt.Transformer):
    """Documents -> passages (``docno%p<i>``, ``text``) for MaxP."""

    def __init__(self, tokenizer, max_tokens: int = 512, stride: Optional[int] = None, text_field: str = "text"):
        self.tokenizer = tokenizer
        self.max_tokens = max_tokens
        self.stride = stride
        self.text_field = text_field

    def __repr__(self):
        stride = f", stride={self.stride}" if self.stride else ""
        return f"PassageSplitter(tokenizer, max_tokens={self.max_tokens}{stride})"

    def transform(self, inp: pd.DataFrame) -> pd.DataFrame:
        pt.validate.document_frame(inp, extra_columns=[self.text_field])
        texts = check_texts(inp[self.text_field].tolist(), self.text_field, inp["docno"].tolist())
        rows = []
        for docno, text in zip(inp["docno"], texts):
            for i, passage in enumerate(split_passages(text, self.tokenizer, self.max_tokens, self.stride)):
                rows.append({"docno": f"{docno}{SEP}{i}", self.text_field: passage})
        return pd.DataFrame(rows, columns=["docno", self.text_field])


class MaxP(pt.Transformer):
    """Passage results -> document results: a document's score is its best passage's."""

    def __init__(self, num_results: Optional[int] = None):
        self.num_results = num_results

    def __repr__(self):
        return f"MaxP(num_results={self.num_results})" if self.num_results else "MaxP()"

    def transform(self, inp: pd.DataFrame) -> pd.DataFrame:
        pt.validate.result_frame(inp)
        if len(inp) == 0:
            return inp
        parent = inp["docno"].astype(str).str.rsplit(SEP, n=1).str[0]
        out = inp.assign(docno=parent.values, passage=inp["docno"].values)
        out = out.sort_values(["qid", "score"], ascending=[True, False], kind="stable")
        out = out.drop_duplicates(["qid", "docno"], keep="first")
        out = out.sort_values(["qid", "score", "docno"], ascending=[True, False, True], kind="stable")
        out["rank"] = out.groupby("qid").cumcount().astype(np.int64)
        if self.num_results:
            out = out[out["rank"] < self.num_results]
        return out.reset_index(drop=True)
