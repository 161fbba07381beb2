"""Core benchmark: eager grad overhead per op, tape memory, and an MLP gradient,
each against a hand-written NumPy gradient in the same run.

Run: ``python benchmarks/bench_core.py`` (pin one thread for stable figures:
``OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/bench_core.py``).
"""
from __future__ import annotations

import argparse
import gc
import os
import time
import tracemalloc
from typing import Any, Callable

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as onp  # noqa: E402

import xform  # noqa: E402
import xform.numpy as np  # noqa: E402


def median_time(fn: Callable[[], Any], repeat: int, number: int = 1) -> float:
    """Median wall time of ``fn`` in seconds over ``repeat`` runs of ``number`` calls."""
    fn()  # warm up
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - t0) / number)
    times.sort()
    return times[len(times) // 2]


# ----------------------------------------------------------------------------- scalar chain
CHAIN = 1000


def chain(x: Any) -> Any:
    """1,000 scalar ops: sin, multiply, add in turn."""
    for _ in range(CHAIN // 3):
        x = np.sin(x)
        x = x * 1.001
        x = x + 0.1
    return np.sin(x)


def chain_grad_numpy(x: float, n: int = CHAIN) -> float:
    """The derivative of an ``n``-op chain by hand: forward values, then the chain
    rule backwards."""
    xs = []
    v = onp.float64(x)
    for _ in range(n // 3):
        xs.append(v)
        v = onp.sin(v) * 1.001 + 0.1
    g = onp.cos(v)
    for v0 in reversed(xs):
        g = g * 1.001 * onp.cos(v0)
    return float(g)


def bench_chain(repeat: int) -> dict[str, float]:
    n_ops = 3 * (CHAIN // 3) + 1
    g = xform.grad(chain)
    assert onp.isclose(g(0.3), chain_grad_numpy(0.3))
    t_xf = median_time(lambda: g(0.3), repeat)
    t_np = median_time(lambda: chain_grad_numpy(0.3), repeat)
    return {"xform_us_per_op": 1e6 * t_xf / n_ops, "numpy_us_per_op": 1e6 * t_np / n_ops,
            "ratio": t_xf / t_np}


def bench_tape_memory(n: int = 10_000) -> float:
    """Bytes per recorded op while the tape of an ``n``-op chain is alive."""
    from xform.core.trace import set_current
    from xform.interpreters.vjp import TapeTrace, TapeTracer

    gc.collect()
    tracemalloc.start()
    trace = TapeTrace(xform.core.trace.current_trace())
    x: Any = TapeTracer(onp.float64(0.3), trace)
    with set_current(trace):
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(n):
            x = np.sin(x)
        after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert len(trace.tape) == n
    return (after - before) / n


# ----------------------------------------------------------------------------- MLP
SIZES = (784, 512, 512, 10)
BATCH = 256


def init_mlp(rng: onp.random.Generator) -> list[tuple[onp.ndarray, onp.ndarray]]:
    return [(rng.standard_normal((m, n)) / onp.sqrt(m), onp.zeros(n))
            for m, n in zip(SIZES[:-1], SIZES[1:])]


def mlp_loss(params: Any, x: Any, y: Any) -> Any:
    h = x
    for W, b in params[:-1]:
        h = np.tanh(h @ W + b)
    W, b = params[-1]
    out = h @ W + b
    return np.mean((out - y) ** 2)


def mlp_grad_numpy(params: Any, x: onp.ndarray, y: onp.ndarray) -> list[tuple[Any, Any]]:
    """Hand-written backward pass of ``mlp_loss``."""
    hs = [x]
    for W, b in params[:-1]:
        hs.append(onp.tanh(hs[-1] @ W + b))
    W, b = params[-1]
    out = hs[-1] @ W + b
    g = 2.0 * (out - y) / out.size
    grads = []
    for i in range(len(params) - 1, -1, -1):
        W, b = params[i]
        h = hs[i]
        grads.append((h.T @ g, g.sum(0)))
        if i > 0:
            g = (g @ W.T) * (1.0 - h * h)
    return grads[::-1]


def bench_mlp(repeat: int) -> dict[str, float]:
    rng = onp.random.default_rng(0)
    params = init_mlp(rng)
    x = rng.standard_normal((BATCH, SIZES[0]))
    y = rng.standard_normal((BATCH, SIZES[-1]))
    g = xform.grad(mlp_loss)
    ours, ref = g(params, x, y), mlp_grad_numpy(params, x, y)
    for (gw, gb), (rw, rb) in zip(ours, ref):
        assert onp.allclose(gw, rw) and onp.allclose(gb, rb)
    t_xf = median_time(lambda: g(params, x, y), repeat)
    t_np = median_time(lambda: mlp_grad_numpy(params, x, y), repeat)
    t_fwd = median_time(lambda: mlp_loss(params, x, y), repeat)
    return {"xform_ms": 1e3 * t_xf, "numpy_ms": 1e3 * t_np, "ratio": t_xf / t_np,
            "grad_over_forward": t_xf / t_fwd}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    c = bench_chain(args.repeat)
    print(f"scalar chain ({CHAIN} ops), eager grad: {c['xform_us_per_op']:.2f} us/op "
          f"(hand-written NumPy {c['numpy_us_per_op']:.2f} us/op, ratio {c['ratio']:.2f}x)")
    print(f"tape memory: {bench_tape_memory() / 1024:.3f} KB per recorded op")
    m = bench_mlp(args.repeat)
    print(f"MLP 784-512-512-10, batch {BATCH}, grad: {m['xform_ms']:.2f} ms "
          f"(hand-written NumPy {m['numpy_ms']:.2f} ms, ratio {m['ratio']:.3f}x; "
          f"grad/forward {m['grad_over_forward']:.2f}x)")


if __name__ == "__main__":
    main()
