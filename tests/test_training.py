import json
import math
import os
import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F

from milco_pt.training import data
from milco_pt.training.losses import flops, info_nce, kl_distillation, l1, smse, target_mse
from milco_pt.training.objectives import SAPCollator, SAPObjective, SCTCollator, SCTObjective
from milco_pt.training.trainer import train

PAIRS = [("der schnelle braune Fuchs", "the quick brown fox"), ("der faule Hund", "the lazy dog"),
         ("le renard brun rapide", "the quick brown fox"), ("el perro perezoso", "the lazy dog"),
         ("Быстрая коричневая лиса", "quick brown fox"), ("敏捷的棕色狐狸", "quick brown fox jumps"),
         ("Der Hund springt", "the dog jumps"), ("le chien paresseux", "the lazy dog")]


def test_losses_against_hand_computation():
    a, b = torch.tensor([[1.0, -1.0, 0.0], [2.0, -3.0, -1.0]]), torch.tensor([[0.0, -2.0, 0.5], [2.0, 1.0, -4.0]])
    assert smse(a, b).item() == pytest.approx((1.0 + 0.25 + 0.0 + 16.0) / 4)
    assert target_mse(a, b).item() == pytest.approx((0.25 + 0.0 + 16.0) / 3)
    assert target_mse(a, -b.abs()).item() == 0.0
    s, t = torch.tensor([[1.0, 2.0, 0.5]]), torch.tensor([[0.2, 3.0, -1.0]])
    p, q = F.softmax(t, -1), F.softmax(s, -1)
    assert kl_distillation(s, t).item() == pytest.approx(float((p * (p.log() - q.log())).sum()), rel=1e-5)
    qv, dv = torch.tensor([[1.0, 0.0], [0.0, 2.0]]), torch.tensor([[3.0, 0.0], [1.0, 1.0]])
    expect = -0.5 * (math.log(math.exp(3) / (math.exp(3) + math.exp(1))) + math.log(math.exp(2) / (1 + math.exp(2))))
    assert info_nce(qv @ dv.T).item() == pytest.approx(expect, rel=1e-5)
    grouped = torch.tensor([[3.0, 0.0, 1.0, 1.0], [0.0, 0.0, 2.0, 0.0]])  # 2 queries x (positive, negative)
    expect = -0.5 * (math.log(math.exp(3) / (math.exp(3) + 1 + 2 * math.exp(1))) + math.log(math.exp(2) / (3 + math.exp(2))))
    assert info_nce(grouped).item() == pytest.approx(expect, rel=1e-5)
    r = torch.tensor([[1.0, -2.0], [3.0, 0.0]])
    assert l1(r).item() == pytest.approx(3.0) and flops(r).item() == pytest.approx(2.0 ** 2 + 1.0 ** 2)


@pytest.fixture(scope="module")
def parts(tiny_path):
    from milco_pt.hub import load_model, load_tokenizers
    from milco_pt.training.cli import make_teacher
    model = load_model(str(tiny_path))
    tok, vocab = load_tokenizers(model.folder, model.config, None, None, True)
    return model, tok, vocab, make_teacher("lexical", vocab, model, [e for _, e in PAIRS])


def test_lexical_teacher_targets_present_terms(parts):
    _, _, vocab, teacher = parts
    t = teacher(["the quick fox", ""])
    present = {vocab[i] for i in torch.nonzero(t[0] > 0).flatten().tolist()}
    assert present == {"the", "quick", "fox"} and (t[1] == -1.0).all()
    assert t[0, vocab.index("fox")] > t[0, vocab.index("the")], "rarer terms weigh more (idf)"


def losses_of(result_trainer):
    return [h["loss"] for h in result_trainer.log_history if "loss" in h]


def test_sap_steps_reduce_the_loss(tiny_path, parts, tmp_path):
    from milco_pt.hub import load_model
    model = load_model(str(tiny_path)).train()
    _, tok, _, teacher = parts
    objective = SAPObjective(model)
    collator = SAPCollator(tok, teacher)
    before = objective(**collator(PAIRS))["loss"].item()
    train(objective, PAIRS, collator, tmp_path / "sap", max_steps=40, per_device_train_batch_size=8,
          learning_rate=3e-3, logging_steps=5, save_steps=1000, disable_tqdm=True, warmup_steps=0)
    after = objective(**collator(PAIRS))["loss"].item()
    assert after < 0.8 * before


def test_checkpoints_hold_the_trained_tensors_and_resume_exactly(tiny_path, parts, tmp_path):
    from safetensors.torch import load_file
    from transformers import TrainerCallback
    from milco_pt.hub import load_model
    _, tok, _, teacher = parts

    class StopAt2(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            control.should_training_stop = state.global_step == 2

    def run(out, callbacks=None):
        torch.manual_seed(0)
        model = load_model(str(tiny_path)).train()
        for p in model.m_model.embeddings.parameters():
            p.requires_grad_(False)
        objective = SAPObjective(model)
        train(objective, PAIRS * 2, SAPCollator(tok, teacher), out, callbacks=callbacks, max_steps=4,
              per_device_train_batch_size=4, learning_rate=1e-3, save_steps=2, disable_tqdm=True, warmup_steps=0)
        return objective
    straight = run(tmp_path / "straight")
    run(tmp_path / "killed", callbacks=[StopAt2()])
    saved = load_file(str(tmp_path / "killed" / "checkpoint-2" / "model.safetensors"))
    trained = {n for n, p in straight.named_parameters() if p.requires_grad}
    assert trained <= set(saved) and not any(k.startswith("model.m_model.embeddings.") for k in saved)
    resumed = run(tmp_path / "killed")
    assert (tmp_path / "killed" / "checkpoint-4").is_dir()
    after, before = resumed.state_dict(), straight.state_dict()
    assert after.keys() == before.keys() and all(torch.equal(after[k], before[k]) for k in after)
    untrained = SAPObjective(load_model(str(tiny_path))).state_dict()
    assert not all(torch.equal(after[k], untrained[k]) for k in trained), "the steps changed the trained tensors"


def test_sct_infonce_and_kl_reduce_the_loss(tiny_path, parts, tmp_path):
    from milco_pt.hub import load_model
    _, tok, _, _ = parts
    model = load_model(str(tiny_path)).train()
    objective, collator = SCTObjective(model, lambda_q=1e-4, lambda_d=1e-5), SCTCollator(tok, group=2)
    pairs = [(q, d) for q, d in PAIRS[:4]]
    before = objective(**collator(pairs))["rank_loss"].item()
    train(objective, pairs, collator, tmp_path / "sct", max_steps=30, per_device_train_batch_size=4,
          learning_rate=3e-3, logging_steps=5, save_steps=1000, disable_tqdm=True, warmup_steps=0)
    assert objective(**collator(pairs))["rank_loss"].item() < before
    records = [{"query": q, "pos": [d], "neg": [PAIRS[(i + 1) % 8][1]], "pos_scores": [5.0], "neg_scores": [1.0]}
               for i, (q, d) in enumerate(PAIRS[:4])]
    batch = collator(records)
    assert batch["teacher_scores"].shape == (4, 2) and batch["d_ids"].shape[0] == 8
    kl_before = objective(**batch)["rank_loss"].item()
    train(objective, records, collator, tmp_path / "kl", max_steps=20, per_device_train_batch_size=4,
          learning_rate=3e-3, logging_steps=5, save_steps=1000, disable_tqdm=True, warmup_steps=0)
    assert objective(**batch)["rank_loss"].item() < kl_before


def test_data_readers(tmp_path):
    (tmp_path / "b.tsv").write_text("the dog\tder Hund\tle chien\n", encoding="utf-8")
    assert data.read_bitext(tmp_path / "b.tsv") == [("der Hund", "the dog"), ("le chien", "the dog")]
    (tmp_path / "b.jsonl").write_text(json.dumps({"en": "cat", "translation": "Katze"}) + "\n", encoding="utf-8")
    assert data.read_bitext(tmp_path / "b.jsonl") == [("Katze", "cat")]
    (tmp_path / "d.jsonl").write_text(json.dumps({"query": "q", "pos": ["p"], "neg": ["n"], "pos_scores": [1]}) + "\n")
    with pytest.raises(ValueError, match="both pos_scores and neg_scores"):
        data.read_distillation(tmp_path / "d.jsonl")
    bitext = data.ddtp_bitext("train", languages=["ja"])
    assert len(bitext) > 1000 and all(s and e for s, e in bitext[:50])
    pairs = data.ddtp_pairs("dev", languages=["de"])
    assert len(pairs) > 100
    with pytest.raises(ValueError, match="evaluation only"):
        data.ddtp_bitext("test")


def test_two_process_gloo_run_and_resume(tiny_path, tmp_path):
    bitext = tmp_path / "bitext.tsv"
    bitext.write_text("".join(f"{e}\t{s}\n" for s, e in PAIRS * 4), encoding="utf-8")
    out = tmp_path / "dist"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--master_port=29533",
           "-m", "milco_pt.training.cli", "sap", "--model", str(tiny_path), "--bitext", str(bitext),
           "--output", str(out), "--max-steps", "4", "--batch-size", "4", "--save-steps", "2", "--lr", "1e-3"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    state = json.loads((out / "checkpoint-4" / "trainer_state.json").read_text())
    assert state["global_step"] == 4 and (out / "final" / "model.safetensors").exists()
    from milco_pt import Milco
    trained = Milco.from_pretrained(str(out / "final"))
    assert trained.encode_queries(["der Hund"])[0]
    cmd[cmd.index("4")] = "6"
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    assert json.loads((out / "checkpoint-6" / "trainer_state.json").read_text())["global_step"] == 6


def test_max_pooled_decoder_gradients_equal_autograd_through_max():
    from milco_pt.model import MaxPooledDecoder
    torch.manual_seed(0)
    lengths = (3, 1, 4)
    h = torch.randn(sum(lengths), 5, dtype=torch.float64, requires_grad=True)
    w = torch.randn(7, 5, dtype=torch.float64, requires_grad=True)
    b = torch.randn(7, dtype=torch.float64, requires_grad=True)
    g = torch.randn(3, 7, dtype=torch.float64)
    ours = MaxPooledDecoder.apply(h, w, b, lengths, 14)
    (ours * g).sum().backward()
    mine = [t.grad.clone() for t in (h, w, b)]
    for t in (h, w, b):
        t.grad = None
    naive = torch.stack([(seg @ w.T + b).max(0).values for seg in h.split(list(lengths))])
    (naive * g).sum().backward()
    assert torch.allclose(ours, naive)
    for a, t in zip(mine, (h, w, b)):
        assert torch.allclose(a, t.grad)


def test_ddtp_training_data_is_deterministic_and_needs_no_pyterrier():
    """Same examples in the same order whatever the hash seed (sets of languages once reordered
    them between processes), read with torch + transformers only (a GPU box without PyTerrier)."""
    import os
    import subprocess
    import sys
    code = ("import hashlib, sys; from milco_pt.training.data import ddtp_bitext, ddtp_pairs; "
            "import milco_pt.mini.assemble; "
            "print(hashlib.md5(repr((ddtp_pairs('dev'), ddtp_bitext('dev'))).encode()).hexdigest(), "
            "'pyterrier' in sys.modules)")
    outs = [subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONHASHSEED": seed},
                           capture_output=True, text=True, check=True).stdout.split() for seed in ("1", "2", "3")]
    assert outs[0] == outs[1] == outs[2]
    assert outs[0][1] == "False"


def write_ddtp(folder, groups):
    """A built DDTP collection (train split): ``groups`` maps a group to {lang: (short, long)}."""
    import json
    import lzma
    folder.mkdir(exist_ok=True)
    for name, rows in (("docs", [{"lang": lang, "docno": g, "group": g, "split": "train", "text": long}
                                 for g, by in groups.items() for lang, (_, long) in by.items()]),
                       ("queries", [{"lang": lang, "qid": f"{lang}-{g}", "group": g, "split": "train", "text": short}
                                    for g, by in groups.items() for lang, (short, _) in by.items()])):
        with lzma.open(folder / f"{name}.jsonl.xz", "wt", encoding="utf-8") as f:
            f.writelines(json.dumps(r) + "\n" for r in rows)


def test_ddtp_training_data_is_read_once_until_the_collection_changes(tmp_path):
    """ddtp_bitext / ddtp_pairs cache per process (the recipe reads train once per SCT round), hand
    out fresh lists, and read again when the collection is rebuilt."""
    from milco_pt.training.data import _pairs
    folder = tmp_path / "ddtp"
    write_ddtp(folder, {"vim": {"en": ("text editor", "Vim is a text editor."),
                                "de": ("Texteditor", "Vim ist ein Texteditor.")}})
    quads = data.ddtp_pairs("train", folder=folder, english=True)
    assert quads == [("text editor", "Vim is a text editor.", "text editor", "Vim is a text editor."),
                     ("Texteditor", "Vim is a text editor.", "text editor", "Vim is a text editor."),
                     ("Texteditor", "Vim ist ein Texteditor.", "text editor", "Vim is a text editor.")]
    assert data.ddtp_bitext("train", folder=folder) == [("Texteditor", "text editor"),
                                                         ("Vim ist ein Texteditor.", "Vim is a text editor.")]
    misses = _pairs.cache_info().misses
    quads.clear()
    assert len(data.ddtp_pairs("train", folder=folder, english=True)) == 3
    de = data.ddtp_pairs("train", ["de"], folder=folder)
    assert de == data.ddtp_pairs("train", ("de",), folder=folder) == data.ddtp_pairs("train", "de", folder=folder)
    assert de == [("Texteditor", "Vim is a text editor."), ("Texteditor", "Vim ist ein Texteditor.")]
    assert _pairs.cache_info().misses == misses + 1
    write_ddtp(folder, {"vim": {"en": ("text editor", "Vim is a text editor."), "de": ("Editor", "Ein Editor.")}})
    os.utime(folder / "queries.jsonl.xz", ns=(1, 1))
    assert data.ddtp_bitext("train", folder=folder) == [("Editor", "text editor"), ("Ein Editor.", "Vim is a text editor.")]


def test_catalog_letters_count_as_str_isalpha_does():
    from milco_pt.training.catalogs import _letters
    for text in ["Print the --help text", "Save file_2 as %s (1/2)", "Datei öffnen", "Ünïcödé words ½ Ⅻ", "", "   "]:
        assert _letters(text) == sum(c.isalpha() or c == " " for c in text)


def write_mo(path, entries, charset="UTF-8"):
    """A compiled gettext catalog (the format msgfmt writes)."""
    import struct
    entries = {"": f"Content-Type: text/plain; charset={charset}\n", **entries}
    keys = sorted(entries)
    ids = [k.encode(charset) for k in keys]
    strs = [entries[k].encode(charset) for k in keys]
    start = 28 + 16 * len(keys)
    blob, o_tab, t_tab = b"", [], []
    for table, items in ((o_tab, ids), (t_tab, strs)):
        for s in items:
            table.append((len(s), start + len(blob)))
            blob += s + b"\0"
    head = struct.pack("<7I", 0x950412DE, 0, len(keys), 28, 28 + 8 * len(keys), 0, 0)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(head + b"".join(struct.pack("<2I", *e) for e in o_tab + t_tab) + blob)


def test_gettext_bitext_from_catalogs(tmp_path):
    from milco_pt.training.catalogs import gettext_bitext, read_mo
    write_mo(tmp_path / "de" / "LC_MESSAGES" / "app.mo", {
        "Cannot open file %s for reading": "Datei %s kann nicht zum Lesen geöffnet werden",
        "menu\x04_Open recent documents": "Zuletzt geöffnete _Dokumente",
        "%d file was deleted successfully\x00%d files were deleted successfully": "%d Datei wurde gelöscht\x00%d Dateien",
        "--verbose": "--verbose", "/usr/share/doc/x": "/usr/share/doc/x", "Same text here": "Same text here"})
    write_mo(tmp_path / "fr" / "LC_MESSAGES" / "old.mo", {"The operation failed badly": "L'opération a échoué gravement"},
             charset="ISO-8859-1")
    assert ("_Open recent documents", "Zuletzt geöffnete _Dokumente") in list(read_mo(tmp_path / "de/LC_MESSAGES/app.mo"))
    pairs = gettext_bitext(roots=[tmp_path])
    assert pairs == [("Datei wurde gelöscht", "file was deleted successfully"),
                     ("Datei kann nicht zum Lesen geöffnet werden", "Cannot open file for reading"),
                     ("Zuletzt geöffnete Dokumente", "Open recent documents"),
                     ("L'opération a échoué gravement", "The operation failed badly")]
    assert gettext_bitext(["fr"], roots=[tmp_path]) == pairs[-1:]


def test_catalog_bitext_is_read_once_until_a_catalog_changes(tmp_path):
    """bitext() caches the cleaned catalogs per process (a recipe samples it once per SCT round),
    and reads them again when a catalog file changes."""
    from milco_pt.training.catalogs import _clean_bitext, bitext
    app = tmp_path / "de" / "LC_MESSAGES" / "app.mo"
    write_mo(app, {f"Message number {i} here": f"Nachricht Nummer {i} hier" for i in range(20)})
    first = bitext(["de"], roots=[tmp_path], exclude_selection=False)
    misses = _clean_bitext.cache_info().misses
    assert bitext(["de"], roots=[tmp_path], exclude_selection=False) == first and len(first) == 20
    assert bitext(["de"], sample=5, seed=1, roots=[tmp_path], exclude_selection=False) == \
        bitext(["de"], sample=5, seed=1, roots=[tmp_path], exclude_selection=False)
    assert _clean_bitext.cache_info().misses == misses
    write_mo(app, {"A different message entirely": "Eine ganz andere Nachricht"})
    assert bitext(["de"], roots=[tmp_path], exclude_selection=False) == [
        ("Eine ganz andere Nachricht", "A different message entirely")]


def test_sct_v2_terms_match_their_formulas(tiny_path, parts):
    """The dense-teacher KL, the pivot-only ranking loss and the grounding SMSE (both sides, or
    queries alone) add up as documented."""
    from milco_pt.hub import load_model
    _, tok, _, lexical = parts
    model = load_model(str(tiny_path)).eval()
    quads = [(q, d, d, d) for q, d in PAIRS[:4]]
    teacher = torch.tensor([[4.0, 1.0, 0.0, 2.0], [0.5, 3.0, 1.0, 0.0], [1.0, 1.0, 5.0, 0.0], [0.0, 2.0, 1.0, 3.0]])
    batch = {**SCTCollator(tok, grounding=lexical)(quads), "inbatch_teacher": teacher}
    obj = SCTObjective(model, lambda_q=1e-3, lambda_d=1e-5, distill_weight=0.7, pivot_weight=0.5, ground_weight=0.2)
    out = obj(**batch)
    with torch.no_grad():
        q_piv, q_src, q_logits = obj.reps(batch["q_ids"], batch["q_mask"])
        d_piv, d_src, d_logits = obj.reps(batch["d_ids"], batch["d_mask"])
        piv = q_piv @ d_piv.T
        both = piv + q_src @ d_src.T

        def rank(s):
            return info_nce(s) + 0.7 * kl_distillation(s, teacher)
        expect = (rank(both) + 0.5 * rank(piv) + 0.2 * (smse(q_logits, batch["q_ground"]) + smse(d_logits, batch["d_ground"]))
                  + 1e-3 * l1(q_piv) + 1e-5 * l1(d_piv))
    assert out["loss"].item() == pytest.approx(expect.item(), rel=1e-5)
    assert out["pivot_loss"].item() == pytest.approx(rank(piv).item(), rel=1e-5)
    assert torch.equal(batch["q_ground"], lexical([d for _, d in PAIRS[:4]]))
    assert torch.allclose(q_piv, model.pivot(model.hidden_states(batch["q_ids"], batch["q_mask"]), batch["q_mask"]))
    targets = SCTObjective(model, lambda_q=1e-3, lambda_d=1e-5, distill_weight=0.7, pivot_weight=0.5,
                           ground_weight=0.2, ground_loss="targets")(**batch)
    only = target_mse(q_logits, batch["q_ground"]) + target_mse(d_logits, batch["d_ground"])
    assert targets["ground_loss"].item() == pytest.approx(only.item(), rel=1e-5)
    assert targets["ground_loss"].item() != pytest.approx(out["ground_loss"].item(), rel=1e-3)
    assert targets["loss"].item() == pytest.approx((expect + 0.2 * (only - out["ground_loss"])).item(), rel=1e-5)
    queries = SCTObjective(model, lambda_q=1e-3, lambda_d=1e-5, distill_weight=0.7, pivot_weight=0.5,
                           ground_weight=0.2, ground_sides="queries")(**batch)
    q_only = smse(q_logits, batch["q_ground"])
    assert queries["ground_loss"].item() == pytest.approx(q_only.item(), rel=1e-5)
    assert queries["loss"].item() == pytest.approx((expect - 0.2 * smse(d_logits, batch["d_ground"])).item(), rel=1e-5)
    plain = SCTObjective(model, lambda_q=1e-3, lambda_d=1e-5)(**{k: batch[k] for k in ("q_ids", "q_mask", "d_ids", "d_mask")})
    assert plain["loss"].item() == pytest.approx((info_nce(both) + 1e-3 * l1(q_piv) + 1e-5 * l1(d_piv)).item(), rel=1e-5)


def test_sct_query_budget_ranks_with_each_querys_top_k_pivot_terms(tiny_path, parts):
    """query_top_k: both ranking losses score queries' pivot views cut to their k largest terms
    (as pruning.top_k cuts them at search time); sparsity sees the whole vector; the ranking
    gradient reaches only the kept terms."""
    from milco_pt.hub import load_model
    from milco_pt.pruning import top_k
    from milco_pt.training.objectives import keep_top_k
    _, tok, _, _ = parts
    model = load_model(str(tiny_path)).eval()
    batch = SCTCollator(tok)(PAIRS[:4])
    obj = SCTObjective(model, lambda_q=1e-3, lambda_d=1e-5, pivot_weight=0.5, query_top_k=3)
    out = obj(**batch)
    with torch.no_grad():
        q_piv, q_src, _ = obj.reps(batch["q_ids"], batch["q_mask"])
        d_piv, d_src, _ = obj.reps(batch["d_ids"], batch["d_mask"])
        cut = torch.zeros_like(q_piv)
        for i, row in enumerate(q_piv):
            kept = top_k({j: w for j, w in enumerate(row.tolist()) if w > 0}, 3)
            assert 0 < len(kept) <= 3
            cut[i, list(kept)] = torch.tensor(list(kept.values()))
        assert torch.equal(keep_top_k(q_piv, 3), cut)
        piv = cut @ d_piv.T
        expect = info_nce(piv + q_src @ d_src.T) + 0.5 * info_nce(piv) + 1e-3 * l1(q_piv) + 1e-5 * l1(d_piv)
        whole = info_nce(q_piv @ d_piv.T + q_src @ d_src.T)
    assert out["loss"].item() == pytest.approx(expect.item(), rel=1e-5)
    assert out["rank_loss"].item() != pytest.approx(whole.item(), rel=1e-4)
    rep = torch.tensor([[0.5, 2.0, 0.0, 1.0], [3.0, 0.1, 0.2, 0.3]], requires_grad=True)
    keep_top_k(rep, 2).sum().backward()
    assert rep.grad.tolist() == [[0.0, 1.0, 0.0, 1.0], [1.0, 0.0, 0.0, 1.0]]
    assert keep_top_k(rep, None) is rep and keep_top_k(rep, 4) is rep
    for bad in (0, -2, 2.5, True):
        with pytest.raises(ValueError, match="query_top_k is a number of query terms"):
            SCTObjective(model, query_top_k=bad)


def test_sct_v2_inputs_are_checked(tiny_path, parts):
    from milco_pt.hub import load_model
    _, tok, _, lexical = parts
    with pytest.raises(ValueError, match="query_en, doc_en"):
        SCTCollator(tok, grounding=lexical)(PAIRS[:2])
    with pytest.raises(ValueError, match="tuples of"):
        SCTCollator(tok)([PAIRS[0], PAIRS[1] + ("x", "y")])
    batch = SCTCollator(tok)(PAIRS[:2])
    with pytest.raises(ValueError, match="grounding teacher"):
        SCTObjective(load_model(str(tiny_path)), ground_weight=0.1)(**batch)
    with pytest.raises(ValueError, match="ground_loss must be one of"):
        SCTObjective(load_model(str(tiny_path)), ground_weight=0.1, ground_loss="target")
    with pytest.raises(ValueError, match="ground_sides must be one of"):
        SCTObjective(load_model(str(tiny_path)), ground_weight=0.1, ground_sides="docs")


def test_dense_teacher_is_cosine_over_temperature(tiny_path, parts):
    from milco_pt.hub import load_model
    from milco_pt.training.teachers import DenseTeacher
    _, tok, _, _ = parts
    encoder = load_model(str(tiny_path)).m_model
    teacher = DenseTeacher(encoder, tok, temperature=0.05)
    queries, docs = ["der Hund", "le renard"], ["the dog", "the fox", "a cat"]
    scores = teacher(queries, docs)
    assert scores.shape == (2, 3)

    def embed(text):
        enc = tok([text], return_tensors="pt")
        with torch.no_grad():
            return encoder(**enc).last_hidden_state[0].mean(0)
    expect = F.cosine_similarity(embed("query: le renard"), embed("passage: a cat"), dim=0) / 0.05
    assert scores[1, 2].item() == pytest.approx(expect.item(), rel=1e-4)
    assert not any(p.requires_grad for p in encoder.parameters())
    with pytest.raises(ValueError, match="temperature"):
        DenseTeacher(encoder, tok, temperature=0)


def test_ddtp_quadruples_carry_the_english_of_both_sides():
    docs, queries = data._ddtp("dev")
    en_q = dict(zip(queries[queries["lang"] == "en"]["group"], queries[queries["lang"] == "en"]["text"]))
    quads = data.ddtp_pairs("dev", english=True)
    pairs = data.ddtp_pairs("dev")
    assert quads and all(len(x) == 4 for x in quads) and len(quads) <= len(pairs)
    assert {x[:2] for x in quads} <= set(pairs)
    group = dict(zip(queries["text"], queries["group"]))
    assert all(q_en == en_q[group[q]] for q, _, q_en, _ in quads[:200])
    assert data.bitext_pairs([("der Hund", "the dog")]) == [("der Hund", "the dog", "the dog", "the dog")]


def test_bitext_overlapping_the_selection_set_is_dropped():
    from milco_pt.training.catalogs import decontaminate, selection_texts
    texts = ["List directory contents.", "The ls utility lists information about the files given as its arguments and sorts them"]
    pairs = [("Verzeichnisinhalte auflisten", "list directory contents"),  # equal to a text, case and dot aside
             ("x", "lists information about the files given as its arguments, sorted"),  # 8 shared words
             ("Datei öffnen", "Open the file"), ("Datei speichern", "lists information about the")]
    kept, dropped = decontaminate(pairs, texts)
    assert kept == pairs[2:] and dropped == 2
    shipped = selection_texts()
    assert len(shipped) > 3414 and decontaminate([(shipped[0], "unrelated english words")], shipped)[1] == 1
