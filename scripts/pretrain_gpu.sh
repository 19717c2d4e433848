#!/usr/bin/env bash
# PatchCast pretraining on one GPU in one bounded command (the device runs of the model card).
#
#   bash scripts/pretrain_gpu.sh OUT_DIR MINUTES
#
# Two recipes train side by side on the one GPU, each with its own sampler processes (the
# small model steps faster than one CPU core draws windows): "cont" continues the shipped
# weights on today's corpus; "ctx512" is a larger model with a 512-step context (daily data
# sees a year back) trained from scratch. Each stops, checkpointed and fully annealed
# (--fit-to-time), after MINUTES; benchmarks/pretrained.py then decides which (if any) ships.
# The model card's runs of 2026-12-04 added --point-head, which measured worse on real data.
# Needs python3 with torch (CUDA), numpy, pandas, safetensors and statsmodels;
# set TRENDCAST_SHARED to a folder holding data/m5_level1 for the M5 training portion.
set -euo pipefail
out=${1:?usage: pretrain_gpu.sh OUT_DIR MINUTES}
minutes=${2:?usage: pretrain_gpu.sh OUT_DIR MINUTES}
cores=$(nproc)
workers=$(( cores > 4 ? (cores - 2) / 2 : 1 ))
mkdir -p "$out"
export PYTHONPATH=${PYTHONPATH:+$PYTHONPATH:}src PYTHONUNBUFFERED=1
common=(--batch-size 256 --workers "$workers" --steps 20000 --log-every 500
        --max-minutes "$minutes" --fit-to-time)
python3 -m trendcast.models.pretrained.pretrain --out "$out/cont" "${common[@]}" --lr 5e-4 \
    --init src/trendcast/models/pretrained/weights > "$out/cont.log" 2>&1 &
a=$!
python3 -m trendcast.models.pretrained.pretrain --out "$out/ctx512" "${common[@]}" --lr 1e-3 \
    --context 512 --d-model 192 --layers 4 > "$out/ctx512.log" 2>&1 &
b=$!
status=0
wait $a || status=$?
wait $b || status=$?
tail -n 3 "$out/cont.log" "$out/ctx512.log"
exit $status
