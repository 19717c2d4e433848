#!/usr/bin/env bash
# PatchCast pretraining on one GPU in one bounded command (the device runs of the model card).
#
#   bash scripts/pretrain_gpu.sh OUT_DIR MINUTES INIT RECIPE [RECIPE ...]
#
# The recipes train side by side on the one GPU, each with its own sampler processes (the small
# model steps faster than one CPU core draws windows), each continuing the weights in INIT:
# - recipe v3 (shipped): "cont_s" (v1's shape plus seasonal inputs, peak lr 5e-4), "cont" (the
#   same without them) and "ctx512_s" (512-step context, d_model 192, 4 layers, seasonal inputs,
#   lr 3e-4); run as `... 6.5 out/weights_v1 cont_s cont` and `... 6.5 out/gpu_ctx512_q2
#   ctx512_s` (the model card's run had all three in one command, two inits);
# - recipe v4 (measured, not shipped: see the model card), all in the ctx512_s shape: "anneal"
#   (v3's corpus, a fresh warm-up and a full decay at lr 1e-4); "fest" (the same with
#   unannounced yearly festivals in 35% of the synthetic demand series), "fest_hi" (at 3e-4);
#   "yearly" ("fest" plus a yearly profile of any shape in half the weekly and monthly
#   series), "yearly_hi" (at 2e-4); run as `... 6 src/trendcast/models/pretrained/weights
#   anneal fest fest_hi`, then `... 5.5 OUT_DIR/fest fest yearly yearly_hi`;
# - recipe v5 (trained on 2 CPU threads: see the model card): "flags" ("fest" with M5's event
#   flags left out of half its windows, as a shop's data rarely flags its holidays).
# Each stops, checkpointed and fully annealed (--fit-to-time), after MINUTES of training;
# building the corpus and the validation sets comes first (well under a minute when each
# process gets its share of the cores), so allow the command MINUTES + 1.
# The product path (benchmarks/accuracy.py --rerun-candidates patchtst_pretrained) then decides
# which (if any) ships; benchmarks/pretrained.py gives the model-level figures.
# Needs python3 with torch (CUDA), numpy, pandas, safetensors and statsmodels;
# set TRENDCAST_SHARED to a folder holding data/m5_level1 for the M5 training portion.
set -euo pipefail
usage="usage: pretrain_gpu.sh OUT_DIR MINUTES INIT RECIPE [RECIPE ...]"
out=${1:?$usage}
minutes=${2:?$usage}
init=${3:?$usage}
shift 3
[ $# -gt 0 ] || { echo "$usage" >&2; exit 2; }
cores=$(nproc)
workers=$(( cores > 2 * $# ? (cores - 1) / $# : 1 ))
mkdir -p "$out"
export PYTHONPATH=${PYTHONPATH:+$PYTHONPATH:}src PYTHONUNBUFFERED=1
# corpus builds at once, each letting BLAS use every core, took 284 s instead of ~10 s
# (the KernelSynth Cholesky factorisations): give each process its share of the cores
threads=$(( cores > $# ? cores / $# : 1 ))
export OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads
common=(--batch-size 256 --workers "$workers" --steps 20000 --log-every 500
        --max-minutes "$minutes" --fit-to-time --init "$init")
ctx512=(--seasonal-inputs --context 512 --d-model 192 --layers 4)
pids=()
for name in "$@"; do
    case $name in
        cont_s) args=(--seasonal-inputs --lr 5e-4) ;;
        cont) args=(--lr 5e-4) ;;
        ctx512_s) args=("${ctx512[@]}" --lr 3e-4) ;;
        anneal) args=("${ctx512[@]}" --lr 1e-4) ;;
        fest) args=("${ctx512[@]}" --lr 1e-4 --festival-share 0.35) ;;
        fest_hi) args=("${ctx512[@]}" --lr 3e-4 --festival-share 0.35) ;;
        yearly) args=("${ctx512[@]}" --lr 1e-4 --festival-share 0.35 --yearly-share 0.5) ;;
        yearly_hi) args=("${ctx512[@]}" --lr 2e-4 --festival-share 0.35 --yearly-share 0.5) ;;
        flags) args=("${ctx512[@]}" --lr 1e-4 --festival-share 0.35 --flag-drop 0.5) ;;
        *) echo "unknown recipe: $name" >&2; exit 2 ;;
    esac
    python3 -m trendcast.models.pretrained.pretrain --out "$out/$name" "${common[@]}" "${args[@]}" \
        > "$out/$name.log" 2>&1 &
    pids+=($!)
done
status=0
for pid in "${pids[@]}"; do
    wait "$pid" || status=$?
done
tail -n 2 "$out"/*.log
exit $status
