"""What redirecting NumPy's floating-point warnings to the user's line
(``xform.core.frames.FPWarningsAtUserLine``, entered once per transform call) costs:
eager ``grad`` per operation on a scalar chain, and per call of a one-operation
function, where a per-call cost would show. The same process measures with the
redirect on and switched off, in alternating rounds (best of each), so that the load
of a shared machine hits both alike.

Run: ``python benchmarks/bench_warnings.py``.
"""
from __future__ import annotations

import argparse
import os
import timeit
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import xform  # noqa: E402
import xform.numpy as np  # noqa: E402
from xform.core import frames  # noqa: E402

CHAIN = 999


def chain(x: Any) -> Any:
    for _ in range(CHAIN // 3):
        x = np.sin(x) * 0.5 + x
    return x


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args()
    workloads = {
        f"grad, scalar chain of {CHAIN} ops (per op)": (xform.grad(chain), 5, CHAIN),
        "grad of sin, one op (per call)": (xform.grad(np.sin), 2000, 1),
        "jvp of sin, one op (per call)": (lambda x: xform.jvp(np.sin, (x,), (1.0,)), 2000, 1),
    }
    enter = frames.FPWarningsAtUserLine.__enter__
    best: dict[tuple[str, str], float] = {}
    for _ in range(args.rounds):
        for mode in ("on", "off"):
            frames.FPWarningsAtUserLine.__enter__ = (  # type: ignore[method-assign]
                enter if mode == "on" else (lambda self: None))
            for name, (fn, number, ops) in workloads.items():
                t = min(timeit.repeat(lambda: fn(0.3), number=number, repeat=3)) / number / ops
                best[name, mode] = min(best.get((name, mode), t), t)
    frames.FPWarningsAtUserLine.__enter__ = enter  # type: ignore[method-assign]
    for name in workloads:
        on, off = best[name, "on"], best[name, "off"]
        print(f"{name}: redirect on {on * 1e6:.3f} us, off {off * 1e6:.3f} us "
              f"({(on / off - 1) * 100:+.1f}%)")


if __name__ == "__main__":
    main()
