"""An independent float64 re-computation of MILCO's formulas, one text at a time (no padding)."""
import math

import torch
import torch.nn.functional as F


def reference_vectors(model, tokenizer, en_vocab, text, max_length=512):
    enc = tokenizer([text], truncation=True, max_length=max_length, return_tensors="pt")
    ids = enc["input_ids"][0]
    with torch.no_grad():
        hidden = model.m_model(input_ids=enc["input_ids"],
                               attention_mask=enc["attention_mask"]).last_hidden_state[0].double()
        sd = {k: v.double() for k, v in model.state_dict().items()}
        z = hidden @ sd["projector.weight"].T + sd["projector.bias"]
        z = 0.5 * z * (1 + torch.erf(z / math.sqrt(2)))
        h = z @ sd["mlm_head.predictions.transform.dense.weight"].T + sd["mlm_head.predictions.transform.dense.bias"]
        h = 0.5 * h * (1 + torch.erf(h / math.sqrt(2)))
        h = F.layer_norm(h, h.shape[-1:], sd["mlm_head.predictions.transform.LayerNorm.weight"],
                         sd["mlm_head.predictions.transform.LayerNorm.bias"], eps=1e-12)
        logits = h @ sd["mlm_head.predictions.decoder.weight"].T + sd["mlm_head.predictions.bias"]
        pivot_vals = torch.log1p(torch.relu(logits.max(0).values))
        pivot = {en_vocab[i]: float(w) for i, w in enumerate(pivot_vals) if w > 0}
        source = {}
        if model.config.echo:
            w = torch.relu(hidden @ sd["echo.weight"][0] + sd["echo.bias"][0]) * sd["scale"][0]
            pieces = tokenizer.convert_ids_to_tokens(ids.tolist())
            for piece, wi in zip(pieces, w.tolist()):
                if wi > 0:
                    source[piece] = source.get(piece, 0.0) + wi
    return pivot, source


def assert_close(a: dict, b: dict, tol=1e-6):
    """Same terms and weights within ``tol`` (a term absent on one side must weigh < tol)."""
    assert len(a) > 0 and len(b) > 0
    for t in set(a) | set(b):
        wa, wb = a.get(t, 0.0), b.get(t, 0.0)
        assert abs(wa - wb) <= tol * max(1.0, abs(wb)), (t, wa, wb)
