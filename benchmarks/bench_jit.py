"""jit benchmark: jit(grad(...)) against eager xform and a hand-written NumPy
gradient in the same run, on array-bound and overhead-bound work.

Run: ``python benchmarks/bench_jit.py``.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as onp  # noqa: E402

import xform  # noqa: E402
import xform.numpy as np  # noqa: E402
from xform import lax  # noqa: E402
import bench_core  # noqa: E402
from bench_core import (BATCH, SIZES, chain, chain_grad_numpy, init_mlp,  # noqa: E402
                        median_time, mlp_grad_numpy, mlp_loss)


def row(name: str, t_jit: float, t_eager: float, t_np: float) -> None:
    print(f"{name:<38} {1e3 * t_np:>9.3f} {1e3 * t_eager:>9.3f} {1e3 * t_jit:>9.3f} "
          f"{t_jit / t_np:>8.2f}x {t_eager / t_jit:>8.1f}x")


def bench_mlp(repeat: int) -> None:
    rng = onp.random.default_rng(0)
    params = init_mlp(rng)
    x = rng.standard_normal((BATCH, SIZES[0]))
    y = rng.standard_normal((BATCH, SIZES[-1]))
    eager = xform.grad(mlp_loss)
    jitted = xform.jit(xform.grad(mlp_loss))
    jitted(params, x, y)
    row("MLP 784-512-512-10 grad (batch 256)",
        median_time(lambda: jitted(params, x, y), repeat),
        median_time(lambda: eager(params, x, y), repeat),
        median_time(lambda: mlp_grad_numpy(params, x, y), repeat))


def logreg_data(rng: onp.random.Generator) -> tuple[onp.ndarray, onp.ndarray]:
    X = rng.standard_normal((500, 3))
    y = (X @ onp.array([1.5, -2.0, 0.5]) + 0.3 * rng.standard_normal(500) > 0) * 2.0 - 1.0
    return X, y


def logreg_loss(w: Any, X: Any, y: Any) -> Any:
    return np.mean(np.logaddexp(0.0, -y * (X @ w)))


def logreg_train(step: Any, w: Any, X: Any, y: Any, steps: int = 100) -> Any:
    for _ in range(steps):
        w = w - 0.5 * step(w, X, y)
    return w


def logreg_grad_numpy(w: onp.ndarray, X: onp.ndarray, y: onp.ndarray) -> onp.ndarray:
    z = -y * (X @ w)
    s = 0.5 * (1.0 + onp.tanh(0.5 * z))  # sigmoid(z), stable
    return X.T @ (-y * s) / len(y)


def bench_logreg(repeat: int) -> None:
    X, y = logreg_data(onp.random.default_rng(1))
    w0 = onp.zeros(3)
    eager = xform.grad(logreg_loss)
    jitted = xform.jit(xform.grad(logreg_loss))
    assert onp.allclose(jitted(w0 + 0.1, X, y), logreg_grad_numpy(w0 + 0.1, X, y))
    row("100 logistic-regression steps (500x3)",
        median_time(lambda: logreg_train(jitted, w0, X, y), repeat),
        median_time(lambda: logreg_train(eager, w0, X, y), repeat),
        median_time(lambda: logreg_train(logreg_grad_numpy, w0, X, y), repeat))


def bench_chain(repeat: int) -> None:
    eager = xform.grad(chain)
    jitted = xform.jit(xform.grad(chain))
    assert onp.isclose(jitted(0.3), chain_grad_numpy(0.3))
    row("grad of a 1,000-op scalar chain",
        median_time(lambda: jitted(0.3), repeat),
        median_time(lambda: eager(0.3), repeat),
        median_time(lambda: chain_grad_numpy(0.3), repeat))


def first_call_time(n: int) -> float:
    """Seconds of the first call of ``jit(grad)`` of an ``n``-op chain (trace, passes,
    code generation and one run), on a fresh function so nothing is cached."""
    jitted = xform.jit(xform.grad(lambda x: chain(x, n)))
    clock = bench_core.CLOCK
    t0 = clock()
    jitted(0.3)
    return clock() - t0


def bench_first_call(n: int = 3000, runs: int = 3) -> None:
    times = sorted(first_call_time(n) for _ in range(runs))
    t_np = median_time(lambda: chain_grad_numpy(0.3, n), 5)
    print(f"jit(grad) first call, {n:,}-op chain: {times[len(times) // 2]:.3f} s "
          f"(runs {', '.join(f'{t:.3f}' for t in times)}; one hand-written NumPy gradient "
          f"{1e3 * t_np:.2f} ms)")


def compile_peak_bytes(n: int) -> int:
    """Growth of the peak resident memory (``resource.getrusage``) while ``jit(grad)``
    of an ``n``-op chain traces and compiles, measured in a fresh interpreter so that
    nothing before it raised the peak (tracemalloc would slow the compile ~10x)."""
    code = ("import resource, sys; sys.path.insert(0, %r); import bench_jit as b; "
            "import xform; j = xform.jit(xform.grad(lambda x: b.chain(x, %d))); "
            "r0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss; j(0.3); "
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - r0)"
            % (os.path.dirname(os.path.abspath(__file__)), n))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env=dict(os.environ))
    return 1024 * int(out.stdout.split()[-1])  # ru_maxrss is in KiB on Linux


def bench_compile_memory(n: int = 100_000) -> None:
    t0 = time.perf_counter()
    peak = compile_peak_bytes(n)
    print(f"jit(grad) of a {n:,}-op chain, peak memory growth while compiling: "
          f"{peak / 2**30:.3f} GiB ({peak / n / 1024:.2f} KiB per op; the hand-written "
          f"NumPy gradient keeps {8 * n / 2**20:.1f} MiB of values; "
          f"{time.perf_counter() - t0:.1f} s with start-up)")


# ----------------------------------------------------------------------------- fluid simulation
def fluid_project(vx: Any, vy: Any, iters: int = 10) -> tuple[Any, Any]:
    """Make the velocity field divergence-free (Jacobi iterations on a periodic grid)."""
    h = 1.0 / vx.shape[0]
    div = -0.5 * h * (np.roll(vx, -1, 0) - np.roll(vx, 1, 0)
                      + np.roll(vy, -1, 1) - np.roll(vy, 1, 1))
    p = np.zeros_like(vx)
    for _ in range(iters):
        p = (div + np.roll(p, 1, 0) + np.roll(p, -1, 0)
             + np.roll(p, 1, 1) + np.roll(p, -1, 1)) / 4.0
    vx = vx - 0.5 * (np.roll(p, -1, 0) - np.roll(p, 1, 0)) / h
    vy = vy - 0.5 * (np.roll(p, -1, 1) - np.roll(p, 1, 1)) / h
    return vx, vy


def fluid_advect(f: Any, vx: Any, vy: Any) -> Any:
    """Move field ``f`` along the velocity, by bilinear interpolation (fancy indexing)."""
    rows, cols = f.shape
    cell_ys, cell_xs = onp.meshgrid(onp.arange(rows), onp.arange(cols), indexing="ij")
    center_xs = np.ravel(cell_xs - vx)
    center_ys = np.ravel(cell_ys - vy)
    left = np.floor(center_xs)
    top = np.floor(center_ys)
    rw, bw = center_xs - left, center_ys - top
    left_ix = np.mod(left.astype(int), cols)
    top_ix = np.mod(top.astype(int), rows)
    right_ix, bot_ix = np.mod(left_ix + 1, cols), np.mod(top_ix + 1, rows)
    flat = ((1 - rw) * ((1 - bw) * f[top_ix, left_ix] + bw * f[bot_ix, left_ix])
            + rw * ((1 - bw) * f[top_ix, right_ix] + bw * f[bot_ix, right_ix]))
    return np.reshape(flat, (rows, cols))


def fluid_loss(vx: Any, vy: Any, smoke: Any, target: Any, steps: int = 20) -> Any:
    for _ in range(steps):
        vx, vy = fluid_advect(vx, vx, vy), fluid_advect(vy, vx, vy)
        vx, vy = fluid_project(vx, vy)
        smoke = fluid_advect(smoke, vx, vy)
    return np.sum((smoke - target) ** 2)


def fluid_loss_fori(vx: Any, vy: Any, smoke: Any, target: Any, steps: int = 20) -> Any:
    """``fluid_loss`` with the time steps as one ``xform.lax.fori_loop`` (a compiled
    loop under jit, whose reverse mode saves residuals) instead of a Python loop."""
    def step(_: Any, state: Any) -> Any:
        vx, vy, smoke = state
        vx, vy = fluid_advect(vx, vx, vy), fluid_advect(vy, vx, vy)
        vx, vy = fluid_project(vx, vy)
        return vx, vy, fluid_advect(smoke, vx, vy)
    _, _, smoke = lax.fori_loop(0, steps, step, (vx, vy, smoke))
    return np.sum((smoke - target) ** 2)


def bench_fluid(repeat: int) -> None:
    rng = onp.random.default_rng(2)
    n = 32
    vx, vy = 0.5 * rng.standard_normal((n, n)), 0.5 * rng.standard_normal((n, n))
    smoke, target = rng.random((n, n)), rng.random((n, n))
    eager = xform.grad(fluid_loss, (0, 1))
    jitted = xform.jit(xform.grad(fluid_loss, (0, 1)))
    for a, b in zip(jitted(vx, vy, smoke, target), eager(vx, vy, smoke, target)):
        assert onp.allclose(a, b)
    with onp.errstate(all="ignore"):
        t_fwd = median_time(lambda: fluid_loss(vx, vy, smoke, target), repeat)
    row("fluid 32x32, 20 steps: grad (np=fwd)",
        median_time(lambda: jitted(vx, vy, smoke, target), repeat),
        median_time(lambda: eager(vx, vy, smoke, target), max(3, repeat // 3)), t_fwd)
    # the same with the steps as lax.fori_loop: eager runs it as a Python loop
    eager = xform.grad(fluid_loss_fori, (0, 1))
    jitted = xform.jit(xform.grad(fluid_loss_fori, (0, 1)))
    for a, b in zip(jitted(vx, vy, smoke, target), eager(vx, vy, smoke, target)):
        assert onp.allclose(a, b)
    row("fluid, steps as fori_loop: grad (np=fwd)",
        median_time(lambda: jitted(vx, vy, smoke, target), repeat),
        median_time(lambda: eager(vx, vy, smoke, target), max(3, repeat // 3)), t_fwd)
    forward = xform.jit(fluid_loss_fori)
    assert onp.allclose(forward(vx, vy, smoke, target), fluid_loss(vx, vy, smoke, target))
    row("fluid, steps as fori_loop: forward",
        median_time(lambda: forward(vx, vy, smoke, target), repeat),
        median_time(lambda: fluid_loss_fori(vx, vy, smoke, target), max(3, repeat // 3)),
        t_fwd)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=11)
    parser.add_argument("--only", help="comma-separated, from mlp, logreg, chain, fluid")
    parser.add_argument("--cpu", action="store_true",
                        help="time with this process's CPU time instead of wall time")
    parser.add_argument("--compile-only", action="store_true",
                        help="only the first-call time and the compile memory")
    args = parser.parse_args()
    bench_core.use_cpu_clock(args.cpu)
    benches = {"mlp": bench_mlp, "logreg": bench_logreg, "chain": bench_chain,
               "fluid": bench_fluid}
    picked = args.only.split(",") if args.only else list(benches)
    if not args.only:
        bench_first_call()
        bench_compile_memory()
    if args.compile_only:
        return
    print(f"{'workload':<38} {'numpy ms':>9} {'eager ms':>9} {'jit ms':>9} "
          f"{'jit/np':>9} {'speedup':>9}")
    for name in picked:
        benches[name](args.repeat)


if __name__ == "__main__":
    main()
