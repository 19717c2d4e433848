#!/usr/bin/env bash
# PatchCast pretraining on one GPU in one bounded command (the device runs of the model card).
#
#   bash scripts/pretrain_gpu.sh OUT_DIR MINUTES [CTX512_INIT]
#
# Three recipes train side by side on the one GPU, each with its own sampler processes (the
# small model steps faster than one CPU core draws windows), all on today's corpus:
# - "cont_s": the shipped weights continued with the seasonal inputs (--seasonal-inputs);
# - "cont": the same without them (what the seasonal inputs are measured against);
# - "ctx512_s": a larger model with a 512-step context (daily data sees a year back) and the
#   seasonal inputs, continued from CTX512_INIT when given (weights of that shape), else from
#   scratch.
# Each stops, checkpointed and fully annealed (--fit-to-time), after MINUTES of training;
# building the corpus comes first (about a minute), so allow the command MINUTES + 3.
# benchmarks/pretrained.py then decides which (if any) ships.
# Needs python3 with torch (CUDA), numpy, pandas, safetensors and statsmodels;
# set TRENDCAST_SHARED to a folder holding data/m5_level1 for the M5 training portion.
set -euo pipefail
out=${1:?usage: pretrain_gpu.sh OUT_DIR MINUTES [CTX512_INIT]}
minutes=${2:?usage: pretrain_gpu.sh OUT_DIR MINUTES [CTX512_INIT]}
ctx512_init=${3:-}
cores=$(nproc)
workers=$(( cores > 6 ? (cores - 1) / 3 : 1 ))
mkdir -p "$out"
export PYTHONPATH=${PYTHONPATH:+$PYTHONPATH:}src PYTHONUNBUFFERED=1
# three corpus builds at once, each letting BLAS use every core, took 284 s instead of ~50 s
# (the KernelSynth Cholesky factorisations): give each process its share of the cores
export OMP_NUM_THREADS=$(( cores > 3 ? cores / 3 : 1 )) OPENBLAS_NUM_THREADS=$(( cores > 3 ? cores / 3 : 1 ))
common=(--batch-size 256 --workers "$workers" --steps 20000 --log-every 500
        --max-minutes "$minutes" --fit-to-time)
shipped=src/trendcast/models/pretrained/weights
pids=()
train() {  # NAME ARGS...: one recipe in the background, its log beside its folder
    local name=$1
    shift
    python3 -m trendcast.models.pretrained.pretrain --out "$out/$name" "${common[@]}" "$@" \
        > "$out/$name.log" 2>&1 &
    pids+=($!)
}
train cont_s --seasonal-inputs --lr 5e-4 --init "$shipped"
train cont --lr 5e-4 --init "$shipped"
if [ -n "$ctx512_init" ]; then
    train ctx512_s --seasonal-inputs --context 512 --d-model 192 --layers 4 --lr 3e-4 --init "$ctx512_init"
else
    train ctx512_s --seasonal-inputs --context 512 --d-model 192 --layers 4 --lr 1e-3
fi
status=0
for pid in "${pids[@]}"; do
    wait "$pid" || status=$?
done
tail -n 2 "$out"/*.log
exit $status
