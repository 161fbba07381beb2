"""Core benchmark: eager grad overhead per op (a 3,000-op scalar chain), tape memory,
the Taylor series of sin with a data-dependent break, and an MLP gradient, each against
a hand-written NumPy gradient in the same run.

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


#: the clock of ``median_time``: wall time, or with ``--cpu`` this process's CPU time
#: (one thread), which a loaded machine disturbs far less
CLOCK: Callable[[], float] = time.perf_counter


def median_time(fn: Callable[[], Any], repeat: int, number: int = 1) -> float:
    """Median time (``CLOCK``) of ``fn`` in seconds over ``repeat`` runs of ``number``
    calls."""
    fn()  # warm up
    times = []
    clock = CLOCK
    for _ in range(repeat):
        t0 = clock()
        for _ in range(number):
            fn()
        times.append((clock() - t0) / number)
    times.sort()
    return times[len(times) // 2]


# ----------------------------------------------------------------------------- scalar chain
CHAIN = 3000


def chain(x: Any, n: int = CHAIN) -> Any:
    """``n`` (3,000) scalar ops: sin, multiply, add in turn, then a last sin."""
    for _ in range(n // 3):
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


# ----------------------------------------------------------------------------- Taylor
TAYLOR_X = 2.5
TAYLOR_TOL = 1e-12
TAYLOR_MAX_TERMS = 200


def taylor_sin(x: Any) -> Any:
    """sin(x) by its Taylor series, adding terms until |term| < 1e-12 (a data-dependent
    ``break``); works unchanged on xform, autograd, JAX (eager) and torch values."""
    term = x
    total = x
    for k in range(1, TAYLOR_MAX_TERMS):
        term = -term * x * x / ((2 * k) * (2 * k + 1))
        total = total + term
        if abs(term) < TAYLOR_TOL:
            break
    return total


def taylor_numpy(x: float, order: int) -> tuple[float, int]:
    """Hand-written derivative (``order`` 1 or 2) of the truncated series, carrying the
    term and its derivatives forward by the product rule; also the number of terms."""
    term, d1, d2 = x, 1.0, 0.0
    t1, t2 = d1, d2
    n = 1
    for k in range(1, TAYLOR_MAX_TERMS):
        c = -1.0 / ((2 * k) * (2 * k + 1))
        if order == 2:
            d2 = c * (d2 * x * x + 4.0 * x * d1 + 2.0 * term)
            t2 += d2
        d1 = c * (d1 * x * x + 2.0 * x * term)
        t1 += d1
        term = c * term * x * x
        n += 1
        if abs(term) < TAYLOR_TOL:
            break
    return (t1 if order == 1 else t2), n


def bench_taylor(repeat: int) -> dict[str, float]:
    g = xform.grad(taylor_sin)
    want = taylor_numpy(TAYLOR_X, 1)[0]
    assert onp.isclose(g(TAYLOR_X), want)
    t_xf = median_time(lambda: g(TAYLOR_X), repeat, number=20)
    t_np = median_time(lambda: taylor_numpy(TAYLOR_X, 1), repeat, number=200)
    return {"xform_us": 1e6 * t_xf, "numpy_us": 1e6 * t_np, "ratio": t_xf / t_np}


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


def use_cpu_clock(cpu: bool) -> None:
    global CLOCK
    CLOCK = time.process_time if cpu else time.perf_counter
    print(f"times: median of {'CPU time (time.process_time)' if cpu else 'wall time'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--cpu", action="store_true",
                        help="time with this process's CPU time instead of wall time")
    args = parser.parse_args()
    use_cpu_clock(args.cpu)
    c = bench_chain(args.repeat)
    print(f"scalar chain ({CHAIN} ops), eager grad: {c['xform_us_per_op']:.2f} us/op "
          f"(hand-written NumPy {c['numpy_us_per_op']:.2f} us/op, ratio {c['ratio']:.2f}x)")
    t = bench_taylor(args.repeat)
    print(f"Taylor sin with a break, eager grad at x={TAYLOR_X}: {t['xform_us']:.1f} us "
          f"(hand-written NumPy {t['numpy_us']:.2f} us, ratio {t['ratio']:.1f}x)")
    print(f"tape memory: {bench_tape_memory() / 1024:.3f} KB per recorded op")
    m = bench_mlp(args.repeat)
    print(f"MLP 784-512-512-10, batch {BATCH}, grad: {m['xform_ms']:.2f} ms "
          f"(hand-written NumPy {m['numpy_ms']:.2f} ms, ratio {m['ratio']:.3f}x; "
          f"grad/forward {m['grad_over_forward']:.2f}x)")


if __name__ == "__main__":
    main()
