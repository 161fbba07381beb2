"""What checking for NumPy's ``warnings.warn`` conditions (an empty slice, ``ddof`` past
the count, an all-NaN slice) costs the eager reductions that check them: per call of
``xform.numpy.mean``/``var``/``std``/``sum`` (a test on the static count) and of the
NaN-aware ones (a test on the values) on a 1000-element array, next to NumPy's own
function. Run it on two checkouts (``PYTHONPATH=...``) to compare before and after.

Run: ``python benchmarks/bench_numpy_warnings.py``.
"""
from __future__ import annotations

import argparse
import os
import timeit

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as onp  # noqa: E402

import xform.numpy as xnp  # noqa: E402

NAMES = ("mean", "var", "std", "sum", "nanmean", "nanvar", "nanmax", "nanmedian")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--number", type=int, default=2000)
    args = parser.parse_args()
    x = onp.random.default_rng(0).random(1000)
    best: dict[tuple[str, str], float] = {}
    for _ in range(args.rounds):  # alternating, best of each: a shared machine's load
        for name in NAMES:
            for who, module in (("xform", xnp), ("numpy", onp)):
                fn = getattr(module, name)
                t = min(timeit.repeat(lambda: fn(x), number=args.number, repeat=3))
                t /= args.number
                best[name, who] = min(best.get((name, who), t), t)
    for name in NAMES:
        ours, theirs = best[name, "xform"], best[name, "numpy"]
        print(f"{name}(x), 1000 elements: xform.numpy {ours * 1e6:.2f} us, "
              f"numpy {theirs * 1e6:.2f} us ({ours / theirs:.2f}x)")


if __name__ == "__main__":
    main()
