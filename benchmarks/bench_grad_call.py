"""The fixed cost of one eager ``grad`` call: functions of one or two operations, where
argument handling, tape setup and the sweep's setup are most of the time, and the
Taylor series of sin (about 80 operations) against its hand-written NumPy derivative.

Run: ``python benchmarks/bench_grad_call.py`` (``--wall`` for wall time; the default
is this process's CPU time, which a loaded shared machine disturbs far less).
Prints microseconds per call: the median of ``--repeat`` samples.
"""
from __future__ import annotations

import argparse
import os
import time
from typing import Any, Callable

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as onp  # noqa: E402

import xform  # noqa: E402
import xform.numpy as np  # noqa: E402
import bench_core  # noqa: E402
from bench_core import TAYLOR_X, median_time, taylor_numpy, taylor_sin  # noqa: E402


def cases() -> dict[str, Callable[[], Any]]:
    a3 = onp.array([1.0, 2.0, 3.0])
    tree = {"a": 1.0, "b": onp.array([1.0, 2.0])}
    g_scalar = xform.grad(lambda x: x * 2.0)
    g_array = xform.grad(lambda x: np.sum(x * 2.0))
    g_two = xform.grad(lambda x, y: x * y, argnums=(0, 1))
    g_dict = xform.grad(lambda p: p["a"] * np.sum(p["b"]))
    vg = xform.value_and_grad(lambda x: x * 2.0)
    g_taylor = xform.grad(taylor_sin)

    def vjp_scalar() -> Any:
        return xform.vjp(lambda x: x * 2.0, 1.5)[1](1.0)

    return {
        "grad(lambda x: x*2.0)(1.5)": lambda: g_scalar(1.5),
        "grad(sum(x*2.0))(3-element array)": lambda: g_array(a3),
        "grad(x*y, argnums=(0,1))(1.5, 2.5)": lambda: g_two(1.5, 2.5),
        "grad(f)(dict pytree)": lambda: g_dict(tree),
        "value_and_grad(x*2.0)(1.5)": lambda: vg(1.5),
        "vjp(x*2.0, 1.5) and vjp_fn(1.0)": vjp_scalar,
        "Taylor sin, break at |term|<1e-12: grad": lambda: g_taylor(TAYLOR_X),
        "Taylor sin: hand-written NumPy derivative": lambda: taylor_numpy(TAYLOR_X, 1),
    }


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--wall", action="store_true", help="time wall clock, not CPU time")
    args = parser.parse_args(argv)
    bench_core.CLOCK = time.perf_counter if args.wall else time.process_time
    results: dict[str, float] = {}
    for name, fn in cases().items():
        number = max(1, int(0.005 / max(median_time(fn, 3, 20), 1e-9)))  # ~5 ms samples
        results[name] = 1e6 * median_time(fn, args.repeat, number)
        print(f"{name:<46} {results[name]:>9.2f} us")
    # the ratio from paired samples, xform and NumPy timed back to back: a load that
    # comes and goes moves both sides of a pair alike
    names = ("Taylor sin, break at |term|<1e-12: grad",
             "Taylor sin: hand-written NumPy derivative")
    fns = [cases()[n] for n in names]
    numbers = [max(1, int(0.005 / (1e-6 * results[n]))) for n in names]
    ratios = sorted(median_time(fns[0], 1, numbers[0]) / median_time(fns[1], 1, numbers[1])
                    for _ in range(args.repeat))
    results["taylor_ratio"] = ratios[len(ratios) // 2]
    print(f"{'Taylor grad / NumPy (median of paired samples)':<46} "
          f"{results['taylor_ratio']:>9.1f}x")
    return results


if __name__ == "__main__":
    main()
