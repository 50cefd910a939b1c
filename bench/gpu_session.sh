#!/usr/bin/env bash
# The GPU benchmarks in one go, for a machine lent for a few minutes (a CUDA
# image with torch, numpy, pandas, scipy; the geo and Dask stack for part 2
# comes as cp312 wheels in .whl). Results land in $OUT (default ./gpu_out):
# regen.json, gpu.json, profile.json, profiler_float64.txt, dist.jsonl and
# logs; docs/PERFORMANCE.md is written from them with bench/bench_gpu.py
# --from-json and bench/bench_distributed.py --rebuild.
# Usage: OUT=dir bash bench/gpu_session.sh
set -uo pipefail
export PYTHONUNBUFFERED=1
OUT=${OUT:-gpu_out}
mkdir -p "$OUT"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$OUT/gpu.txt"
# 0. a site regenerated alone is the batch's, stage by stage (fast; first so a short
#    lease still brings it back)
timeout 60 python3 bench/check_regeneration.py --device cuda --json "$OUT/regen.json" \
  > "$OUT/regen.log" 2>&1
# 1. the cgm pipeline on the GPU, end to end and by stage; GPU vs CPU IMs and draws
timeout "${GPU_TIMEOUT:-150}" python3 bench/bench_gpu.py --sites ${SITES:-10000 100000} \
  --gl-sites 128 --json "$OUT/gpu.json" 2>&1 | tee "$OUT/gpu.log"
# 1b. where a batch's time goes (per step, and torch.profiler's busiest operators)
timeout 90 python3 bench/profile_cgm_device.py --sites 32768 --dtypes float64 --out "$OUT" \
  > "$OUT/profile.log" 2>&1
# 2. Dask with GPU workers (cgm engine), 1 and 2 workers sharing the card
if [ -d .whl ] && python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir \
     --upgrade --target /tmp/site .whl/*.whl; then
  export PYTHONPATH=/tmp/site:$PWD
  timeout "${DIST_TIMEOUT:-75}" python3 bench/bench_distributed.py --engine cgm --device cuda \
    --cells ${CELLS:-2500} --workers 1 2 --realizations 1 --results "$OUT/dist.jsonl" \
    --note "GPU machine: the workers share one card" 2>&1 | tail -n 30 | tee "$OUT/dist.log"
fi
