#!/usr/bin/env bash
# The one prepared run for a GPU machine (a short lease: every step has its own time limit and
# the whole run a deadline; results are packed after each step so a cut-off run still returns
# what it finished).
#
#   OUT=/some/dir BUDGET_S=450 bash benchmarks/gpu_run.sh
#   OUT=/some/dir ONLY="cuda_tests kernel_screening" bash benchmarks/gpu_run.sh   # some steps only
#   OUT=/some/dir ONLY="scaling_gpu" SCALING_SWEEPS="n q_at_target_n" bash benchmarks/gpu_run.sh
#
# Steps, most important first: the core test suite on CUDA, the GPU scaling grid of gpu_bo (issue 5 and 7 targets), the
# fused-kernel screening benchmark (issue 7), the CUDA rows of the
# latency grid, the mixed-space suggestion on CUDA with 65,536 and 1,000,000 candidates, the BoTorch
# loop and gpu_bo's global GP on CUDA. The peers that need optuna/skopt/bayes_opt are not on
# the GPU image: carry them as wheels (see /work/.library/device/README.md) to add them.
# Results: $OUT/gpu_results.tgz (one folder per step, each with its log) and $OUT/log.txt.
set -u
OUT=${OUT:-/tmp/gpu_bo_gpu_out}
BUDGET_S=${BUDGET_S:-450}
W=$(mktemp -d)/gpu_results
mkdir -p "$OUT" "$W"
cd "$(dirname "$0")/.."
# the wheel maps the top-level kernels/ to gpu_bo.kernels; run from the checkout without installing
[ -e gpu_bo/kernels ] || ln -s ../kernels gpu_bo/kernels
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
PY=${PYTHON:-python3}
DEADLINE=$((SECONDS + BUDGET_S))

pack() { tar czf "$OUT/gpu_results.tgz" -C "$(dirname "$W")" gpu_results 2>/dev/null; }

step() {  # step NAME MAX_SECONDS COMMAND...  (ONLY="a b": run only the steps named there)
  local name=$1 max=$2; shift 2
  if [ -n "${ONLY:-}" ] && [[ " $ONLY " != *" $name "* ]]; then return; fi
  local left=$((DEADLINE - SECONDS - 10))
  local t=$((max < left ? max : left))
  if [ "$t" -lt 20 ]; then echo "== $name: skipped (deadline)" | tee -a "$OUT/log.txt"; return; fi
  mkdir -p "$W/$name"
  echo "== $name (limit ${t}s) at ${SECONDS}s" | tee -a "$OUT/log.txt"
  local t0=$SECONDS
  timeout -k 5 "$t" "$@" >"$W/$name/log.txt" 2>&1
  local rc=$?
  echo "== $name: rc=$rc in $((SECONDS - t0))s" | tee -a "$OUT/log.txt"
  tail -n 25 "$W/$name/log.txt" >>"$OUT/log.txt"
  pack
}

{
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
  $PY -c "import torch, botorch, gpytorch, triton, sklearn; print('torch', torch.__version__, 'cuda', torch.version.cuda, torch.cuda.get_device_name(0)); print('botorch', botorch.__version__, 'gpytorch', gpytorch.__version__, 'triton', triton.__version__, 'sklearn', sklearn.__version__)"
  $PY -c "import gpu_bo, gpu_bo.kernels as K; print('gpu_bo from', gpu_bo.__file__, 'triton importable', K._triton_importable())"
  nproc
} >"$OUT/log.txt" 2>&1

# the core suite on CUDA as tests/test_cuda.py runs it, but in this process so a cut-off run keeps its log
CORE=$(cd tests && $PY -c "import test_cuda; print(' '.join('tests/' + f for f in test_cuda.CORE))")
step cuda_tests 120 bash -c "GPU_BO_TEST_DEVICE=cuda GPU_BO_DEFAULT_DEVICE=cuda $PY -m pytest -q -rs -p no:cacheprovider $CORE; \
  $PY -m pytest -q -rs -p no:cacheprovider tests/test_cuda.py -k 'not core_suite'"
# SCALING_SWEEPS="n q_at_target_n": only the sweeps behind the GPU targets (a shorter rerun)
step scaling_gpu 170 $PY benchmarks/scaling.py --gpu --methods "gpu_bo cuda" ${SCALING_SWEEPS:+--sweeps $SCALING_SWEEPS} \
  --out "$W/scaling_gpu" --name scaling_gpu --note "GPU machine run (benchmarks/gpu_run.sh)"
step kernel_screening 100 $PY benchmarks/kernel_screening.py --sweep --out "$W/kernel_screening/kernel_screening.md"
step latency_cuda 90 $PY benchmarks/suggest_latency.py --quick --cap 5 --methods "gpu_bo cuda" "botorch cuda" \
  --out "$W/latency_cuda" --note "GPU machine run, CUDA rows only"
step mixed_cuda 60 $PY benchmarks/mixed_space.py --methods gpu_bo random --seeds 2 --out "$W/mixed_cuda" --no-plots \
  --note "GPU machine run: CUDA suggestion times and peak memory (1M candidates); regrets from 2 seeds only"
step scaling_gpu_peers 120 $PY benchmarks/scaling.py --gpu --methods "gpu_bo global cuda" "botorch cuda" \
  --sweeps n q_at_target_n --out "$W/scaling_gpu_peers" --name scaling_gpu_peers --note "GPU machine run"
echo "== done at ${SECONDS}s" | tee -a "$OUT/log.txt"
pack
