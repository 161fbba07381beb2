"""Checkpointing benchmark: peak memory and time of the gradient of a deep
elementwise chain, plain vs ``xform.checkpoint`` on segments.

Run: ``python benchmarks/bench_checkpoint.py``.
"""
from __future__ import annotations

import time
import tracemalloc
from typing import Any, Callable

import numpy as onp

import xform
import xform.numpy as np

N_ELEMS = 100_000   # 0.8 MB per float64 array
DEPTH = 100         # layers
SEGMENT = 10        # layers per checkpointed segment


def layer(x: Any) -> Any:
    return np.sin(x) * 1.01 + 0.01


def segment(x: Any) -> Any:
    for _ in range(SEGMENT):
        x = layer(x)
    return x


def plain(x: Any) -> Any:
    for _ in range(DEPTH):
        x = layer(x)
    return np.sum(x)


def checkpointed(x: Any) -> Any:
    seg = xform.checkpoint(segment)
    for _ in range(DEPTH // SEGMENT):
        x = seg(x)
    return np.sum(x)


def measure(f: Callable[[Any], Any], x: onp.ndarray) -> tuple[float, float, onp.ndarray]:
    g = xform.grad(f)
    tracemalloc.start()
    t0 = time.perf_counter()
    out = g(x)
    elapsed = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20, elapsed, out


def main() -> None:
    x = onp.linspace(-1.0, 1.0, N_ELEMS)
    peak_p, t_p, g_p = measure(plain, x)
    peak_c, t_c, g_c = measure(checkpointed, x)
    assert onp.allclose(g_p, g_c)
    print(f"grad of a {DEPTH}-layer chain on {N_ELEMS} floats "
          f"({8 * N_ELEMS / 2**20:.2f} MB per array)")
    print(f"  plain:        peak {peak_p:7.1f} MB, {1e3 * t_p:7.1f} ms")
    print(f"  checkpointed: peak {peak_c:7.1f} MB, {1e3 * t_c:7.1f} ms "
          f"(segments of {SEGMENT}; memory {peak_p / peak_c:.1f}x lower, "
          f"time {t_c / t_p:.2f}x)")


if __name__ == "__main__":
    main()
