"""Screening benchmark: plain-torch reference vs the fused Triton kernel (issue 7, part 4).

Scores ``N`` candidates with a conditioned Matern-5/2 GP of ``n`` observations in ``d``
dimensions (log EI by default) and reports, per backend: wall time (median of repeats, after a
warm-up that also compiles the Triton kernel), peak extra GPU memory, and the largest difference
from the reference. The target of issue 7: at N = 1e6, n = 2,000, d = 20 the fused kernel is at
least 3x faster and uses at least 5x less peak GPU memory. On CUDA both float64 and float32 are
timed (each against the reference in the same dtype); "top-32" is the share of the float64
reference's 32 best candidates that a row also ranks in its top 32 (screening only chooses the
starts of the local refinement, so the ranking is what a lower precision must preserve).

    python benchmarks/kernel_screening.py                  # full run on CUDA, writes the results table
    python benchmarks/kernel_screening.py --quick          # small CPU-sized run (CI smoke test)
    python benchmarks/kernel_screening.py --sweep          # also the N x n grid behind FUSED_MIN_WORK

Without a GPU the fused rows print "no GPU: not measured" (the Triton interpreter is far too
slow to time) and only the reference is timed on the CPU.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass

import torch

import gpu_bo.kernels as K
from gpu_bo.kernels import reference as R

NOT_MEASURED = "no GPU: not measured"


@dataclass(frozen=True)
class Problem:
    """Sizes of one screening problem."""

    N: int
    n: int
    d: int
    n_cat: int = 0
    kind: str = "ei"


def make_problem(p: Problem, device: torch.device, dtype: torch.dtype, seed: int = 0) -> tuple:
    """Random training data, a conditioned GP (alpha, K^-1) and N candidates on ``device``."""
    g = torch.Generator(device="cpu").manual_seed(seed)
    cpu = dict(dtype=torch.float64, device="cpu")  # drawn on the CPU (seeded), then moved
    X = torch.rand(p.n, p.d, generator=g, **cpu)
    cat = tuple(range(p.n_cat))
    for c in cat:
        X[:, c] = torch.randint(0, 5, (p.n,), generator=g, device="cpu").to(torch.float64) / 4
    X = X.to(device)
    inv_ls = torch.full((p.d,), 1.0 / (0.5 * p.d ** 0.5), dtype=torch.float64, device=device)
    os_ = torch.tensor(1.0, dtype=torch.float64, device=device)
    c0 = torch.tensor(0.0, dtype=torch.float64, device=device)
    Kx = R.kernel_matrix(X, X, inv_ls, os_, cat) + 1e-4 * torch.eye(p.n, dtype=torch.float64, device=device)
    L = torch.linalg.cholesky(Kx)
    y = torch.randn(p.n, generator=g, **cpu).to(device)
    alpha = torch.cholesky_solve(y.unsqueeze(-1), L).squeeze(-1)
    Kinv = torch.cholesky_inverse(L)
    Xc = torch.rand(p.N, p.d, generator=g, **cpu).to(device)
    for c in cat:
        Xc[:, c] = torch.randint(0, 5, (p.N,), generator=g, device="cpu").to(device=device, dtype=torch.float64) / 4
    tensors = [t.to(dtype) for t in (Xc, X, alpha, Kinv, inv_ls, os_, c0)]
    return (*tensors, cat), float(y.max())


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_call(fn, device: torch.device, repeats: int) -> tuple[float, float, int, torch.Tensor]:
    """(first-call seconds, median seconds, peak extra bytes on CUDA, result)."""
    _sync(device)
    t0 = time.perf_counter()
    out = fn()
    _sync(device)
    first = time.perf_counter() - t0
    times = []
    peak = 0
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats(device)
            base = torch.cuda.memory_allocated(device)
        _sync(device)
        t0 = time.perf_counter()
        out = fn()
        _sync(device)
        times.append(time.perf_counter() - t0)
        if device.type == "cuda":
            peak = max(peak, torch.cuda.max_memory_allocated(device) - base)
    return first, statistics.median(times), peak, out


TOP_K = 32  # the number of screened candidates maximize() refines (its n_starts on a GPU)


def top_overlap(vals: torch.Tensor, ref: torch.Tensor, k: int = TOP_K) -> float:
    """Share of the reference's top-k candidates that ``vals`` also ranks in its top-k.

    Screening only picks the starts of the local refinement, so the ranking is what counts.
    """
    k = min(k, ref.numel())
    a = set(torch.topk(torch.nan_to_num(vals.double(), nan=-float("inf")), k).indices.tolist())
    b = set(torch.topk(ref, k).indices.tolist())
    return len(a & b) / max(k, 1)


def run_problem(p: Problem, device: torch.device, dtypes: list[torch.dtype], repeats: int) -> list[dict]:
    """Time the reference and (on CUDA with triton) the fused kernel on one problem per dtype."""
    args64, best_f = make_problem(p, device, torch.float64)
    with torch.no_grad():
        ref64 = R.screen(*args64, p.kind, best_f)
    fused_ok = device.type == "cuda" and K._triton_importable()
    rows = []
    for dtype in dtypes:
        args = tuple(t.to(dtype) for t in args64[:-1]) + (args64[-1],)
        chunk = K.chunk_size(p.n, device, dtype)
        row = {"N": p.N, "n": p.n, "d": p.d, "n_cat": p.n_cat, "kind": p.kind,
               "dtype": str(dtype).replace("torch.", ""), "device": device.type, "chunk": chunk}
        with torch.no_grad():
            _, t_ref, m_ref, ref = time_call(lambda a=args, c=chunk: R.screen(*a, p.kind, best_f, chunk=c),
                                             device, repeats)
        row.update(ref_s=t_ref, ref_peak=m_ref, ref_top=top_overlap(ref, ref64))
        rows.append(row)
        if not fused_ok:
            row.update(fused_s=None, fused_first_s=None, fused_peak=None, max_diff=None, fused_top=None)
            continue
        from gpu_bo.kernels.triton_screen import screen_fused

        with torch.no_grad():
            first, t_fused, m_fused, got = time_call(lambda a=args: screen_fused(*a, p.kind, best_f), device, repeats)
            # the Cholesky factor of K^-1 is computed once per fitted GP (cached across the repeats
            # timed above, as across the screens of one suggestion): its cost is reported apart
            _sync(device)
            t0 = time.perf_counter()
            torch.linalg.cholesky(args[3])
            _sync(device)
            t_factor = time.perf_counter() - t0
        finite = torch.isfinite(ref) & torch.isfinite(got)
        row.update(fused_s=t_fused, fused_first_s=first, fused_peak=m_fused, factor_s=t_factor,
                   max_diff=float((got - ref)[finite].abs().max()) if finite.any() else float("nan"),
                   fused_top=top_overlap(got, ref64),
                   speedup=t_ref / t_fused, mem_ratio=(m_ref / m_fused) if m_fused else float("inf"))
    return rows


def suggest_min_work(rows: list[dict]) -> int | None:
    """Smallest ``N * n`` from which the fused kernel was faster on every larger measured problem."""
    timed = sorted((r["N"] * r["n"], r["speedup"]) for r in rows if r.get("speedup") and r["dtype"] == "float64")
    if not timed:
        return None
    best = None
    for work, _ in reversed(timed):
        if all(sp > 1.0 for w, sp in timed if w >= work):
            best = work
    return best


def _fmt_s(x: float | None) -> str:
    return NOT_MEASURED if x is None else f"{x * 1e3:.1f} ms"


def _fmt_top(x: float | None) -> str:
    return NOT_MEASURED if x is None else f"{x:.0%}"


def _fmt_b(x: int | None, device: str) -> str:
    if device != "cuda":
        return "n/a (CPU)"
    return NOT_MEASURED if x is None else f"{x / 2**20:.0f} MiB"


def table(rows: list[dict]) -> str:
    head = ("| N | n | d | cat | kind | dtype | device | reference | fused | speedup | ref peak | fused peak "
            "| mem ratio | max diff | factor (once per GP) | top-32 ref | top-32 fused |\n"
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
    lines = []
    for r in rows:
        sp = f"{r['speedup']:.2f}x" if r.get("speedup") else NOT_MEASURED
        mr = f"{r['mem_ratio']:.1f}x" if r.get("mem_ratio") else NOT_MEASURED
        md = f"{r['max_diff']:.1e}" if r.get("max_diff") is not None else NOT_MEASURED
        lines.append(f"| {r['N']:,} | {r['n']:,} | {r['d']} | {r['n_cat']} | {r['kind']} | {r['dtype']} "
                     f"| {r['device']} "
                     f"| {_fmt_s(r['ref_s'])} | {_fmt_s(r['fused_s'])} | {sp} | {_fmt_b(r['ref_peak'], r['device'])} "
                     f"| {_fmt_b(r['fused_peak'], r['device'])} | {mr} | {md} | {_fmt_s(r.get('factor_s'))} "
                     f"| {_fmt_top(r.get('ref_top'))} | {_fmt_top(r.get('fused_top'))} |")
    return head + "\n".join(lines) + "\n"


def environment() -> str:
    dev = torch.cuda.get_device_name() if torch.cuda.is_available() else "no GPU"
    try:
        import triton
        tv = triton.__version__
    except Exception:  # noqa: BLE001
        tv = "not installed"
    return (f"torch {torch.__version__}, triton {tv}, Python {platform.python_version()}, {dev}, "
            f"{os.cpu_count()} CPU cores, torch threads {torch.get_num_threads()}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--N", type=int, default=1_000_000)
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--d", type=int, default=20)
    ap.add_argument("--cat", type=int, default=0, help="number of categorical columns")
    ap.add_argument("--kind", default="ei", choices=["ei", "pi", "ucb"])
    ap.add_argument("--dtype", default=None, choices=["float64", "float32", "both"],
                    help="default: both on CUDA, float64 on the CPU")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="small sizes for a CPU smoke test")
    ap.add_argument("--sweep", action="store_true", help="also time an N x n grid (the FUSED_MIN_WORK crossover)")
    ap.add_argument("--out", default=None, help="write a markdown results file here")
    a = ap.parse_args(argv)
    torch.set_num_threads(1 if not torch.cuda.is_available() else torch.get_num_threads())
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    choice = a.dtype or ("both" if device.type == "cuda" else "float64")
    dtypes = [torch.float64, torch.float32] if choice == "both" else [getattr(torch, choice)]
    if a.quick:
        a.N, a.n, a.d, a.repeats = 10_000, 200, 20, 2
    problems = [Problem(a.N, a.n, a.d, a.cat, a.kind)]
    if a.cat == 0 and not a.quick:
        problems.append(Problem(a.N, a.n, a.d, max(1, a.d // 4), a.kind))
    if a.sweep:  # on the CPU (no fused kernel to compare) the grid is scaled down 100x in N
        scale = 1 if device.type == "cuda" else 100
        problems += [Problem(N // scale, n, a.d, 0, a.kind) for N in (10_000, 100_000, 1_000_000)
                     for n in (100, 500, 2000) if (N // scale, n) != (a.N, a.n)]
    print(environment())
    if device.type != "cuda":
        print(f"fused kernel: {NOT_MEASURED} (CUDA is not available here); timing the reference on the CPU")
    rows = []
    for p in problems:
        new = run_problem(p, device, dtypes if p is problems[0] else dtypes[:1], a.repeats)
        rows += new
        for line in table(new).splitlines()[2:]:
            print(line, flush=True)
    md = table(rows)
    if a.sweep:
        sug = suggest_min_work(rows)
        if not any(r.get("speedup") for r in rows):
            verdict = NOT_MEASURED
        else:
            verdict = f"{sug:,}" if sug else "none: the fused kernel was not faster at the largest size"
        md += f"\nSuggested `gpu_bo.kernels.FUSED_MIN_WORK` (float64, from these rows): {verdict}\n"
    print(md)
    if a.out:
        with open(a.out, "w") as f:
            f.write("# Screening kernel benchmark (issue 7, part 4)\n\n")
            cmd = " ".join(argv if argv is not None else sys.argv[1:])
            f.write(f"Command: `python benchmarks/kernel_screening.py {cmd}`\n\n")
            f.write(f"Environment: {environment()}\n\n")
            f.write(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
