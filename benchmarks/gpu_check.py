"""GPU check: full-size MILCO (XLM-R large encoder + BERT-base MLM head + LexEcho, random
weights) — encoding throughput in bf16 autocast vs fp32, and bf16's agreement with fp32.

    python benchmarks/gpu_check.py [--out results.json]

Needs only torch and transformers (``milco_pt.model``). Each throughput figure is measured in
two runs; ratios are against fp32 measured in the same run.
"""
import argparse
import json
import time

import torch

from milco_pt.model import MilcoConfig, MilcoModel

LARGE = {"model_type": "xlm-roberta", "vocab_size": 250002, "hidden_size": 1024, "num_hidden_layers": 24,
         "num_attention_heads": 16, "intermediate_size": 4096, "max_position_embeddings": 8194,
         "type_vocab_size": 1, "layer_norm_eps": 1e-5, "hidden_act": "gelu", "pad_token_id": 1,
         "bos_token_id": 0, "eos_token_id": 2}
DEVICE = "cuda"
HEAD = {"hidden_size": 768, "vocab_size": 30522, "layer_norm_eps": 1e-12, "hidden_act": "gelu"}


def batch(n, length, device, seed):
    g = torch.Generator().manual_seed(seed)
    lengths = torch.randint(length // 4, length + 1, (n,), generator=g)
    ids = torch.randint(5, 250000, (n, length), generator=g)
    mask = (torch.arange(length)[None, :] < lengths[:, None]).long()
    ids[:, 0] = 0
    ids[torch.arange(n), lengths - 1] = 2
    ids = ids * mask + (1 - mask)  # pad id 1
    return ids.to(device), mask.to(device)


def run(model, ids, mask, dtype, bare=False):
    ctx = (torch.autocast(DEVICE, dtype=dtype) if dtype is not None
           else torch.autocast(DEVICE, enabled=False))
    with torch.inference_mode(), ctx:
        if bare:
            return model.hidden_states(ids, mask), None
        return model.encode(ids, mask)


def throughput(model, n, length, dtype, bare=False, reps=5):
    ids, mask = batch(n, length, DEVICE, 1)
    run(model, ids, mask, dtype, bare)
    sync()
    if DEVICE == "cuda":
        torch.cuda.reset_peak_memory_stats()
    t = time.perf_counter()
    for _ in range(reps):
        run(model, ids, mask, dtype, bare)
    sync()
    secs = (time.perf_counter() - t) / reps
    return {"tokens_per_s": float(mask.sum()) / secs, "texts_per_s": n / secs,
            "peak_gib": torch.cuda.max_memory_allocated() / 2 ** 30 if DEVICE == "cuda" else None}


def sync():
    if DEVICE == "cuda":
        torch.cuda.synchronize()


def agreement(model, dtype):
    data = {"queries": batch(64, 64, DEVICE, 2), "docs": batch(64, 512, DEVICE, 3)}
    out, vecs = {}, {}
    for name, (ids, mask) in data.items():
        p32, s32 = run(model, ids, mask, None)
        plo, slo = run(model, ids, mask, dtype)
        plo, slo = plo.float(), slo.float()
        top32, toplo = p32.topk(50, dim=1).indices, plo.topk(50, dim=1).indices
        overlap = [len(set(a.tolist()) & set(b.tolist())) / 50 for a, b in zip(top32, toplo)]
        out[name] = {"pivot_max_abs_diff": float((p32 - plo).abs().max()),
                     "pivot_mean_abs_diff": float((p32 - plo).abs().mean()),
                     "pivot_max_value": float(p32.max()),
                     "pivot_top50_overlap": sum(overlap) / len(overlap),
                     "source_max_abs_diff": float((s32 - slo).abs().max()),
                     "source_max_value": float(s32.max())}
        vecs[name] = (p32, plo)
    sc32 = vecs["queries"][0] @ vecs["docs"][0].T
    sclo = vecs["queries"][1] @ vecs["docs"][1].T
    out["pivot_scores_max_rel_diff"] = float(((sc32 - sclo).abs() / sc32.abs().clamp_min(1e-6)).max())
    out["top1_doc_agreement"] = float((sc32.argmax(1) == sclo.argmax(1)).float().mean())
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=None)
    ap.add_argument("--smoke", action="store_true", help="a 2-layer, 128-wide model on the CPU")
    args = ap.parse_args()
    global DEVICE
    if args.smoke:
        DEVICE = "cpu"
        LARGE.update(hidden_size=128, num_hidden_layers=2, num_attention_heads=2, intermediate_size=256)
        HEAD.update(hidden_size=64)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    t = time.perf_counter()
    config = MilcoConfig(echo=True, m_model_config=dict(LARGE), en_head_config=dict(HEAD))
    model = MilcoModel.random(config, seed=0)
    # deep random encoders give near-constant states; centre the echo so about half the
    # positions get a positive source weight, as a trained LexEcho head does
    with torch.no_grad():
        ids, mask = batch(8, 64, "cpu", 4)
        raw = model.echo(model.hidden_states(ids, mask)).squeeze(-1)[mask.bool()]
        model.echo.bias -= raw.median()
    model = model.to(DEVICE).eval()
    params = sum(p.numel() for p in model.parameters())
    report = {"device": torch.cuda.get_device_name() if DEVICE == "cuda" else "cpu", "torch": torch.__version__,
              "parameters": params, "build_seconds": round(time.perf_counter() - t, 1)}
    report["bf16_vs_fp32"] = agreement(model, torch.bfloat16)
    if DEVICE == "cuda":
        report["fp16_vs_fp32"] = agreement(model, torch.float16)
    runs = []
    for rep in range(2):
        r = {}
        for n, length in ((32, 512), (128, 512), (256, 64)) if not args.smoke else ((4, 64),):
            key = f"b{n}_l{length}"
            r[key] = {"fp32": throughput(model, n, length, None),
                      "bf16": throughput(model, n, length, torch.bfloat16),
                      "bf16_encoder_only": throughput(model, n, length, torch.bfloat16, bare=True)}
            r[key]["bf16_speedup_vs_fp32"] = r[key]["bf16"]["tokens_per_s"] / r[key]["fp32"]["tokens_per_s"]
            r[key]["head_overhead_vs_encoder"] = (r[key]["bf16_encoder_only"]["tokens_per_s"] /
                                                  r[key]["bf16"]["tokens_per_s"] - 1)
        runs.append(r)
    report["runs"] = runs
    text = json.dumps(report, indent=1)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
