"""Small random MILCO models built locally, with no download: for tests, tools and demos.

The multilingual tokenizer is a real SentencePiece-style Unigram tokenizer (``<s>``, ``</s>``,
``▁``-prefixed pieces) over a vocabulary drawn from sample text, or any XLM-R tokenizer passed
in (e.g. the real 250002-piece one); the English vocabulary is a BERT-style wordpiece list.
"""
from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Iterable

from ..hub import load_tokenizer, read_vocab, save_tokenizers
from ..model import MilcoConfig, MilcoModel

SAMPLE_TEXT = (
    "the quick brown fox jumps over the lazy dog . information retrieval with sparse vectors "
    "Der schnelle braune Fuchs springt über den faulen Hund . "
    "Le renard brun rapide saute par-dessus le chien paresseux . "
    "El rápido zorro marrón salta sobre el perro perezoso . "
    "Быстрая коричневая лиса прыгает через ленивую собаку . "
    "敏捷的棕色狐狸跳过了懒狗 。 速い茶色の狐がのろまな犬を飛び越える 。 빠른 갈색 여우가 게으른 개를 뛰어넘는다 . "
    "الثعلب البني السريع يقفز فوق الكلب الكسول ."
)
M_SPECIALS = ["<s>", "<pad>", "</s>", "<unk>"]
EN_SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def build_m_tokenizer(texts: Iterable[str] = (SAMPLE_TEXT,), max_words: int = 400):
    """An XLM-R-like Unigram tokenizer whose pieces are the words and characters of ``texts``."""
    from tokenizers import Tokenizer, normalizers, pre_tokenizers, decoders, processors
    from tokenizers.models import Unigram
    from transformers import XLMRobertaTokenizerFast
    words, chars = Counter(), Counter()
    for text in texts:
        text = unicodedata.normalize("NFKC", text)
        for w in text.split():
            words["▁" + w] += 1
            chars.update(w)
    pieces = {}
    for w, n in words.most_common(max_words):
        pieces[w] = math.log(n + 1) - len(w)
    for c, n in sorted(chars.items()):
        pieces.setdefault(c, -10.0 - 1.0 / (n + 1))
        pieces.setdefault("▁" + c, -11.0 - 1.0 / (n + 1))
    pieces.setdefault("▁", -12.0)
    vocab = [(s, 0.0) for s in M_SPECIALS] + sorted(pieces.items(), key=lambda kv: (-kv[1], kv[0]))
    tok = Tokenizer(Unigram(vocab, unk_id=3, byte_fallback=False))
    tok.normalizer = normalizers.NFKC()
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", 0), ("</s>", 2)])
    return XLMRobertaTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>",
                                   sep_token="</s>", cls_token="<s>", unk_token="<unk>",
                                   pad_token="<pad>", mask_token="<unk>", model_max_length=512)


def build_en_vocab(texts: Iterable[str] = (SAMPLE_TEXT,), max_words: int = 300) -> list[str]:
    """A BERT-uncased-style wordpiece list: specials, words, then characters and ``##`` pieces."""
    words, chars = Counter(), Counter()
    for text in texts:
        for w in re.findall(r"\w+", text.lower()):
            words[w] += 1
            chars.update(w)
    vocab = list(EN_SPECIALS)
    vocab += [w for w, _ in words.most_common(max_words) if w not in vocab]
    for c in sorted(chars):
        for piece in (c, "##" + c):
            if piece not in vocab:
                vocab.append(piece)
    return vocab


def tiny_config(m_vocab_size: int, en_vocab_size: int, hidden: int = 32, en_hidden: int = 24,
                layers: int = 2, heads: int = 2, max_positions: int = 514, echo: bool = True) -> MilcoConfig:
    """Shapes of a small MILCO: an XLM-R encoder and a BERT-style English MLM head."""
    return MilcoConfig(
        multilingual_encoder_checkpoint="tiny-xlm-roberta", lsr_encoder_checkpoint="tiny-bert",
        echo=echo,
        m_model_config={
            "model_type": "xlm-roberta", "vocab_size": m_vocab_size, "hidden_size": hidden,
            "num_hidden_layers": layers, "num_attention_heads": heads, "intermediate_size": 2 * hidden,
            "max_position_embeddings": max_positions, "type_vocab_size": 1, "layer_norm_eps": 1e-5,
            "hidden_act": "gelu", "pad_token_id": 1, "bos_token_id": 0, "eos_token_id": 2,
            "hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0,
        },
        en_head_config={"hidden_size": en_hidden, "vocab_size": en_vocab_size,
                        "layer_norm_eps": 1e-12, "hidden_act": "gelu"},
    )


def build_tiny(path=None, *, texts: Iterable[str] = (SAMPLE_TEXT,), m_tokenizer=None,
               en_vocab=None, echo: bool = True, seed: int = 0, safe_serialization: bool = True,
               **shape) -> tuple[MilcoModel, object, list[str]]:
    """A random tiny MILCO ``(model, m_tokenizer, en_vocab)``; saved as a checkpoint at ``path``.

    ``m_tokenizer`` may be a tokenizer or a path (e.g. a real XLM-R ``tokenizer.json`` folder);
    ``en_vocab`` a token list or a ``vocab.txt`` path (e.g. BERT's 30522 wordpieces).
    """
    texts = list(texts)
    if m_tokenizer is None:
        m_tokenizer = build_m_tokenizer(texts)
    elif isinstance(m_tokenizer, (str, Path)):
        m_tokenizer = load_tokenizer(str(m_tokenizer), local_files_only=True)
    if en_vocab is None:
        en_vocab = build_en_vocab(texts)
    elif isinstance(en_vocab, (str, Path)):
        en_vocab = read_vocab(Path(en_vocab))
    config = tiny_config(len(m_tokenizer), len(en_vocab), echo=echo, **shape)
    model = MilcoModel.random(config, seed=seed)
    if path is not None:
        model.save_pretrained(path, safe_serialization=safe_serialization)
        save_tokenizers(Path(path), m_tokenizer, en_vocab)
        model.folder = Path(path)
    return model, m_tokenizer, en_vocab


def build_tiny_splade(path, en_vocab=None, seed: int = 0, hidden: int = 24):
    """A random BERT masked-LM in the layout of ``naver/splade-v3`` (weights, config, vocab)."""
    import torch
    from transformers import BertConfig, BertForMaskedLM, BertTokenizer
    en_vocab = en_vocab if en_vocab is not None else build_en_vocab()
    if isinstance(en_vocab, (str, Path)):
        en_vocab = read_vocab(Path(en_vocab))
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    (path / "vocab.txt").write_text("\n".join(en_vocab) + "\n", encoding="utf-8")
    torch.manual_seed(seed)
    model = BertForMaskedLM(BertConfig(vocab_size=len(en_vocab), hidden_size=hidden, num_hidden_layers=2,
                                       num_attention_heads=2, intermediate_size=2 * hidden))
    model.save_pretrained(path)
    BertTokenizer(vocab={t: i for i, t in enumerate(en_vocab)}, do_lower_case=True).save_pretrained(path)
    return path


def build_tiny_m3(path, m_tokenizer=None, seed: int = 0, hidden: int = 32):
    """A random XLM-R encoder with a sparse head, in the layout of ``BAAI/bge-m3``."""
    import torch
    from transformers import XLMRobertaConfig, XLMRobertaModel
    from ..baselines.sparse import M3Model
    m_tokenizer = m_tokenizer if m_tokenizer is not None else build_m_tokenizer()
    if isinstance(m_tokenizer, (str, Path)):
        m_tokenizer = load_tokenizer(str(m_tokenizer), local_files_only=True)
    torch.manual_seed(seed)
    encoder = XLMRobertaModel(XLMRobertaConfig(
        vocab_size=len(m_tokenizer), hidden_size=hidden, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=2 * hidden, max_position_embeddings=514, type_vocab_size=1, pad_token_id=1,
        bos_token_id=0, eos_token_id=2), add_pooling_layer=False)
    model = M3Model(encoder)
    torch.nn.init.normal_(model.sparse_linear.weight, std=0.5)
    return model.save_pretrained(path, m_tokenizer)
