#!/usr/bin/env bash
# The GPU benchmarks in one go, for a machine lent for a few minutes (a CUDA
# image with torch, numpy, pandas, scipy; the geo and Dask stack for part 2
# comes as cp312 wheels in .whl). Results land in $OUT (default ./gpu_out),
# seven files, within the device tool's eight: log.txt (every step's output),
# regen.json, gpu.json, profile.json, profiler_float64.txt, trace.json.gz
# (chrome://tracing or Perfetto) and dist.jsonl; docs/PERFORMANCE.md is
# written from them with bench/bench_gpu.py --from-json and
# bench/bench_distributed.py --rebuild.
# Usage: OUT=dir bash bench/gpu_session.sh
set -uo pipefail
export PYTHONUNBUFFERED=1
OUT=${OUT:-gpu_out}
mkdir -p "$OUT"
L="$OUT/log.txt"
step() { echo "=== $(date +%T) $*" >> "$L"; }
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv >> "$L" 2>&1
# 0. a site regenerated alone is the batch's, stage by stage (fast; first so a short
#    lease still brings it back)
step regeneration
timeout 60 python3 bench/check_regeneration.py --device cuda --json "$OUT/regen.json" >> "$L" 2>&1
# 1. the cgm pipeline on the GPU, end to end and by stage; GPU vs CPU IMs and draws
step bench_gpu
timeout "${GPU_TIMEOUT:-150}" python3 bench/bench_gpu.py --sites ${SITES:-10000 100000 1000000} \
  --gl-sites 128 --json "$OUT/gpu.json" >> "$L" 2>&1
# 1b. where a batch's time goes: per step, torch.profiler's busiest operators, and the
#     engine loop's trace over two batches (which thread and stream waits)
step profile
timeout 90 python3 bench/profile_cgm_device.py --sites 32768 --loop-sites 65536 \
  --dtypes float64 --trace --out "$OUT" >> "$L" 2>&1
# 1c. the same end to end with an earlier commit's code, for an A/B in one call: export it
#     first (git archive REV gm_engine bench | tar -x -C .baseline) and carry .baseline;
#     its lines go to log.txt only (the device tool brings back eight files at most)
if [ -d .baseline/gm_engine ]; then
  step baseline
  (cd .baseline && timeout "${BASE_TIMEOUT:-60}" python3 bench/bench_gpu.py --sites ${BASE_SITES:-1000000} \
    --gl-sites 0 --check-records 0) >> "$L" 2>&1
fi
# 2. Dask with GPU workers (cgm engine), 1 and 2 workers sharing the card
if [ -d .whl ] && python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir \
     --upgrade --target /tmp/site .whl/*.whl; then
  export PYTHONPATH=/tmp/site:$PWD
  step dask
  timeout "${DIST_TIMEOUT:-75}" python3 bench/bench_distributed.py --engine cgm --device cuda \
    --cells ${CELLS:-2500} --workers 1 2 --realizations 1 --results "$OUT/dist.jsonl" \
    --note "GPU machine: the workers share one card" >> "$L" 2>&1
fi
step done
