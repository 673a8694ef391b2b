#!/bin/bash
# milco-mini training ablations on a GPU machine with torch + transformers only (bf16):
# the full recipe, LexEcho off, SAP only, SCT only. The frozen base travels as a pack:
#   python experiments/mini_base_pack.py pack .pack/mini-base.safetensors
# Deltas land in $OUT (default runs/gpu-ablations); evaluate them with experiments/ablations.py.
set -eo pipefail
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
export MILCO_PT_CACHE=${MILCO_PT_CACHE:-/tmp/milco-pt-cache} PYTHONPATH=.:${PYTHONPATH:-}
OUT=${OUT:-runs/gpu-ablations}
mkdir -p "$OUT"
nvidia-smi --query-gpu=name --format=csv,noheader || true
python3 -c "import torch, transformers; print('torch', torch.__version__, 'transformers', transformers.__version__)"
python3 experiments/mini_base_pack.py unpack .pack/mini-base.safetensors
# RECIPE: arguments of every run; the default is recipe v1, the one results/ablations.md varies
# (RECIPE= for the recipe's defaults, the shipped v6, which also needs the e5-small teacher's parts)
RECIPE=${RECIPE---stages sap,sct --extra-bitext none --teacher none --pivot-weight 0 --ground-weight 0}
# CONFIGS: name:recipe-arguments, ';'-separated (the pack must be made with the same arguments)
IFS=';' read -ra CFGS <<< "${CONFIGS:-full:;no-echo:--no-echo;sap-only:--stages sap;sct-only:--stages sct}"
for cfg in "${CFGS[@]}"; do
  name=${cfg%%:*}
  start=$(date +%s)
  python3 experiments/train_milco_mini.py --out "/tmp/runs/$name" $RECIPE ${cfg#*:} > "/tmp/$name.out" 2>&1 \
    || { tr '\r' '\n' < "/tmp/$name.out" | tail -25; exit 1; }
  tr '\r' '\n' < "/tmp/$name.out" | grep -E "^\{" > "$OUT/$name.log" || true
  tail -2 "$OUT/$name.log"
  cp "/tmp/runs/$name/milco-mini-delta.safetensors" "$OUT/$name.safetensors"
  echo "$name: $(( $(date +%s) - start )) s"
done
