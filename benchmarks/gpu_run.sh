#!/usr/bin/env bash
# The one prepared run for a GPU machine (a short lease: every step has its own time limit and
# the whole run a deadline of BUDGET_S = 450 s, so it ends within 8 minutes on an H100/H200;
# results are packed after each step so a cut-off run still returns what it finished).
#
#   OUT=/some/dir bash benchmarks/gpu_run.sh
#   OUT=/some/dir ONLY="cuda_tests kernel_screening" bash benchmarks/gpu_run.sh   # some steps only
#   OUT=/some/dir ONLY="scaling_gpu" SCALING_SWEEPS="n q_at_target_n" bash benchmarks/gpu_run.sh
#   DRY_RUN=1 OUT=/tmp/dry bash benchmarks/gpu_run.sh   # no GPU: check every step's command
#
# Steps, in this order (the deadline skips the last ones first): the core test suite on CUDA
# (tests/test_cuda.py), the GPU scaling grid of gpu_bo (issues 5, 7, 22), the mixed-space
# suggestion on CUDA with 65,536 and 1,000,000 candidates, the fused-kernel screening benchmark,
# float32 vs float64 suggestion time at n = 5,000 and 10,000 (issue 22), the multi-objective
# suggestion timing, then, if time is left, the CUDA rows of the latency grid and the BoTorch
# loop and gpu_bo's global GP on CUDA. The peers that need optuna/skopt/bayes_opt are not on the
# GPU image: carry them as wheels (see /work/.library/device/README.md) to add them.
#
# Dry run (DRY_RUN=1, or no usable CUDA device): every CUDA step is skipped with a message and
# its command is checked instead (the benchmark scripts with --help, the CUDA tests collected
# only), so the control flow and every command line are exercised on a CPU (tests/
# test_gpu_run_dry.py runs it in CI); the run then exits 1 if any check failed.
# Results: $OUT/gpu_results.tgz (one folder per step, each with its log) and $OUT/log.txt.
set -u
OUT=${OUT:-/tmp/gpu_bo_gpu_out}
BUDGET_S=${BUDGET_S:-450}
W=$(mktemp -d)/gpu_results
mkdir -p "$OUT" "$W"
cd "$(dirname "$0")/.."
# the wheel maps the top-level kernels/ to gpu_bo.kernels; run from the checkout without installing
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
PY=${PYTHON:-python3}
if [ ! -e gpu_bo/kernels ] && ! $PY -c "import gpu_bo.kernels" 2>/dev/null; then
  ln -s ../kernels gpu_bo/kernels && trap 'rm -f gpu_bo/kernels' EXIT  # a link this run made goes again
fi
DEADLINE=$((SECONDS + BUDGET_S))
DRY=${DRY_RUN:-0}
if [ "$DRY" != 1 ] && ! $PY -c "import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)" 2>/dev/null; then
  DRY=1
  echo "== no usable CUDA device: dry run (every CUDA step is skipped; its command is checked)"
fi
FAILED=""

pack() { tar czf "$OUT/gpu_results.tgz" -C "$(dirname "$W")" gpu_results 2>/dev/null; }

step() {  # step NAME MAX_SECONDS COMMAND...  (ONLY="a b": run only the steps named there)
  local name=$1 max=$2; shift 2
  if [ -n "${ONLY:-}" ] && [[ " $ONLY " != *" $name "* ]]; then return; fi
  mkdir -p "$W/$name"
  if [ "$DRY" = 1 ]; then  # queue the check of the command (run at the end, in one process)
    local check=tests/test_cuda.py
    if [ "$1" = "$PY" ] && [[ "${2:-}" == benchmarks/*.py ]]; then check=$2; fi
    echo "== $name: CUDA step skipped (dry run); checking $check (would run: $*)" | tee -a "$OUT/log.txt"
    echo "$name $check" >>"$W/dry_checks.txt"
    return
  fi
  local left=$((DEADLINE - SECONDS - 10))
  local t=$((max < left ? max : left))
  if [ "$t" -lt 20 ]; then echo "== $name: skipped (deadline)" | tee -a "$OUT/log.txt"; return; fi
  echo "== $name (limit ${t}s) at ${SECONDS}s" | tee -a "$OUT/log.txt"
  local t0=$SECONDS
  timeout -k 5 "$t" "$@" >"$W/$name/log.txt" 2>&1
  local rc=$?
  echo "== $name: rc=$rc in $((SECONDS - t0))s" | tee -a "$OUT/log.txt"
  [ "$rc" = 0 ] || FAILED="$FAILED $name"
  tail -n 25 "$W/$name/log.txt" >>"$OUT/log.txt"
  pack
}

{
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv || echo "no nvidia-smi"
  $PY -c "import torch, botorch, gpytorch, triton, sklearn; print('torch', torch.__version__, 'cuda', torch.version.cuda, torch.cuda.get_device_name(0)); print('botorch', botorch.__version__, 'gpytorch', gpytorch.__version__, 'triton', triton.__version__, 'sklearn', sklearn.__version__)"
  $PY -c "import gpu_bo, gpu_bo.kernels as K; print('gpu_bo from', gpu_bo.__file__, 'triton importable', K._triton_importable())"
  nproc
} >"$OUT/log.txt" 2>&1
[ "$DRY" = 1 ] && echo "== dry run (DRY_RUN=1 or no usable CUDA device): CUDA steps are skipped, their commands checked" >>"$OUT/log.txt"

# the core suite on CUDA as tests/test_cuda.py runs it, but in this process so a cut-off run keeps its log
CORE=$(cd tests && $PY -c "import test_cuda; print(' '.join('tests/' + f for f in test_cuda.CORE))")
step cuda_tests 120 bash -c "GPU_BO_TEST_DEVICE=cuda GPU_BO_DEFAULT_DEVICE=cuda $PY -m pytest -q -rs -p no:cacheprovider $CORE; \
  $PY -m pytest -q -rs -p no:cacheprovider tests/test_cuda.py -k 'not core_suite'"
# SCALING_SWEEPS="n q_at_target_n": only the sweeps behind the GPU targets (a shorter rerun)
step scaling_gpu 150 $PY benchmarks/scaling.py --gpu --methods "gpu_bo cuda" ${SCALING_SWEEPS:+--sweeps $SCALING_SWEEPS} \
  --out "$W/scaling_gpu" --name scaling_gpu --note "GPU machine run (benchmarks/gpu_run.sh)"
step mixed_cuda 50 $PY benchmarks/mixed_space.py --methods gpu_bo random --seeds 2 --out "$W/mixed_cuda" --no-plots \
  --note "GPU machine run: CUDA suggestion times and peak memory (1M candidates); regrets from 2 seeds only"
step kernel_screening 60 $PY benchmarks/kernel_screening.py --sweep --out "$W/kernel_screening/kernel_screening.md"
step float32_cuda 45 $PY benchmarks/float32.py --timing-only --device cuda --timing-n 5000 10000 \
  --out "$W/float32_cuda" --note "GPU machine run (benchmarks/gpu_run.sh)"
step mo_timing 40 $PY benchmarks/multi_objective.py --timing-only --device cuda --no-plots --out "$W/mo_timing" \
  --note "GPU machine run (benchmarks/gpu_run.sh)"
# only with time left (the deadline skips them first)
step latency_cuda 60 $PY benchmarks/suggest_latency.py --quick --cap 5 --methods "gpu_bo cuda" "botorch cuda" \
  --out "$W/latency_cuda" --note "GPU machine run, CUDA rows only"
step scaling_gpu_peers 60 $PY benchmarks/scaling.py --gpu --methods "gpu_bo global cuda" "botorch cuda" \
  --sweeps n q_at_target_n --out "$W/scaling_gpu_peers" --name scaling_gpu_peers --note "GPU machine run"
if [ "$DRY" = 1 ] && [ -s "$W/dry_checks.txt" ]; then
  # one Python process (one torch import) for every check: each script's --help, pytest collecting
  # the CUDA tests
  $PY - "$W/dry_checks.txt" >>"$OUT/log.txt" 2>&1 <<'PYEOF'
import contextlib, io, runpy, sys
failed = []
for line in open(sys.argv[1]):
    name, target = line.split()
    buf = io.StringIO()
    try:
        with contextlib.redirect_stdout(buf):
            if target.startswith("tests/"):
                import pytest
                rc = int(pytest.main(["-q", "--collect-only", "-p", "no:cacheprovider", target]))
            else:
                sys.argv = [target, "--help"]
                try:
                    runpy.run_path(target, run_name="__main__")
                    rc = 0
                except SystemExit as e:
                    rc = 0 if e.code in (0, None) else 1
    except Exception as e:  # noqa: BLE001 - an import or syntax error of a step's script
        rc = 1
        print(f"{name}: {type(e).__name__}: {e}")
    print(f"== {name}: check of {target}: rc={rc}")
    if rc:
        failed.append(name)
        print(buf.getvalue()[-2000:])
sys.exit(1 if failed else 0)
PYEOF
  [ $? = 0 ] || FAILED="$FAILED dry_checks"
fi
echo "== done at ${SECONDS}s; failed:${FAILED:- none}" | tee -a "$OUT/log.txt"
pack
if [ "$DRY" = 1 ] && [ -n "$FAILED" ]; then exit 1; fi
exit 0
