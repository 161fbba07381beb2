"""Forward or reverse mode? Timing ``jacfwd`` against ``jacrev`` by shape.

For a small network ``f(x) = tanh(C @ tanh(B @ tanh(A @ x)))`` with ``A`` of
shape (hidden, inputs), ``B`` (hidden, hidden) and ``C`` (outputs, hidden), the
Jacobian has one row per output and one column per input. ``jacfwd`` pushes
one tangent per *input* through the function (batched with ``vmap``), while
``jacrev`` pulls one cotangent per *output* back through it. The identity basis
they start from is structured, so the first layer (forward) or the last
(reverse) costs only the hand-written product; the hidden layer costs
``hidden**2`` per tangent or cotangent. So forward mode wins for tall Jacobians
(many outputs, few inputs) and reverse mode for wide ones (few outputs, many
inputs), with the crossover near square. The script
keeps ``outputs * inputs`` fixed, times both modes eagerly and under
``xform.jit``, checks that they agree, and plots time against the aspect
ratio ``outputs / inputs``.

Run: ``python examples/jacobian_timing.py [--fast] [--out DIR]``
"""
from __future__ import annotations

import argparse
import contextlib
import time
from pathlib import Path
from typing import Any, Callable

import numpy as onp

import xform
import xform.numpy as np

try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:  # matplotlib is optional: pip install "xform[examples]"
    plt = None  # type: ignore[assignment]

try:  # time one BLAS thread: threads spinning on a busy machine swamp the comparison
    from threadpoolctl import threadpool_limits  # installed with scikit-learn ([examples])
except ImportError:
    threadpool_limits = None

MODES = ["jacfwd", "jacrev", "jit(jacfwd)", "jit(jacrev)"]


HIDDEN = 200


def f(layers: Any, x: Any) -> Any:
    A, B, C = layers
    return np.tanh(C @ np.tanh(B @ np.tanh(A @ x)))


def exact_jacobian(layers: Any, x: Any) -> onp.ndarray:
    """The chain rule written out: diag(s3) C diag(s2) B diag(s1) A."""
    A, B, C = layers
    h1 = onp.tanh(A @ x)
    h2 = onp.tanh(B @ h1)
    y = onp.tanh(C @ h2)
    return ((1.0 - y ** 2)[:, None] * C) @ ((1.0 - h2 ** 2)[:, None] * B) @ (
        (1.0 - h1 ** 2)[:, None] * A)


def best_time(fn: Callable[[], Any], repeat: int) -> float:
    """Fastest of ``repeat`` calls, after one warm-up call (which also compiles under jit),
    on one BLAS thread where threadpoolctl can say so."""
    limit = threadpool_limits(1) if threadpool_limits is not None else contextlib.nullcontext()
    with limit:
        fn()
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
    return min(times)


def crossover(ratios: list[float], fwd: list[float], rev: list[float]) -> float:
    """The aspect ratio at which the two timing curves cross (log-linear interpolation)."""
    diff = onp.log(onp.asarray(fwd)) - onp.log(onp.asarray(rev))
    for i in range(len(diff) - 1):
        if diff[i] > 0 >= diff[i + 1] or diff[i] < 0 <= diff[i + 1]:
            t = diff[i] / (diff[i] - diff[i + 1])
            return float(onp.exp((1 - t) * onp.log(ratios[i]) + t * onp.log(ratios[i + 1])))
    return float("nan")


def plot(ratios: list[float], timings: dict[str, list[float]], size: int,
         out_dir: Path) -> Path | None:
    if plt is None:
        print("matplotlib is not installed: skipping the plot (pip install matplotlib)")
        return None
    fig, ax = plt.subplots(figsize=(7, 4.5))
    styles = {"jacfwd": "C0o--", "jacrev": "C1o--", "jit(jacfwd)": "C0s-", "jit(jacrev)": "C1s-"}
    for mode in MODES:
        ax.loglog(ratios, [1e3 * t for t in timings[mode]], styles[mode], label=mode)
    ax.axvline(1.0, color="0.5", lw=1, ls=":")
    ax.set_xlabel(f"outputs / inputs  (outputs * inputs = {size})")
    ax.set_ylabel("time per Jacobian (ms)")
    ax.set_title(f"Jacobian of a tanh network (hidden width {HIDDEN}): forward vs reverse")
    ax.legend()
    ax.grid(alpha=0.3, which="both")
    fig.tight_layout()
    path = out_dir / "jacobian_timing.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main(fast: bool = False, out: str | None = None) -> dict[str, float]:
    size = 40_000  # outputs * inputs
    points, repeat = (5, 3) if fast else (11, 7)
    outputs_list = onp.unique(onp.round(onp.geomspace(20, 2000, points)).astype(int))
    rng = onp.random.default_rng(0)
    transforms = {"jacfwd": xform.jacfwd(f, argnums=1), "jacrev": xform.jacrev(f, argnums=1)}
    transforms.update({f"jit({k})": xform.jit(v) for k, v in list(transforms.items())})

    ratios: list[float] = []
    timings: dict[str, list[float]] = {mode: [] for mode in MODES}
    max_diff = 0.0
    print(f"{'outputs':>8} {'inputs':>7} " + " ".join(f"{m + ' ms':>15}" for m in MODES))
    for m in outputs_list:
        n = max(1, size // int(m))
        A = rng.standard_normal((HIDDEN, n)) / onp.sqrt(n)
        B = rng.standard_normal((HIDDEN, HIDDEN)) / onp.sqrt(HIDDEN)
        C = rng.standard_normal((m, HIDDEN)) / onp.sqrt(HIDDEN)
        layers = (A, B, C)
        x = rng.standard_normal(n)
        J_fwd, J_rev = transforms["jacfwd"](layers, x), transforms["jacrev"](layers, x)
        J_exact = exact_jacobian(layers, x)
        max_diff = max(max_diff, float(onp.max(onp.abs(J_fwd - J_exact))),
                       float(onp.max(onp.abs(J_rev - J_exact))))
        ratios.append(m / n)
        for mode in MODES:
            timings[mode].append(best_time(lambda: transforms[mode](layers, x), repeat))
        print(f"{m:>8} {n:>7} " + " ".join(f"{1e3 * timings[mode][-1]:>15.3f}" for mode in MODES))

    eager_cross = crossover(ratios, timings["jacfwd"], timings["jacrev"])
    jit_cross = crossover(ratios, timings["jit(jacfwd)"], timings["jit(jacrev)"])
    print(f"max |J - exact| = {max_diff:.1e}; forward mode is faster above "
          f"outputs/inputs ~ {eager_cross:.2f} (eager), {jit_cross:.2f} (jit)")

    out_dir = Path(out) if out else Path(__file__).resolve().parent
    out_dir.mkdir(parents=True, exist_ok=True)
    path = plot(ratios, timings, size, out_dir)
    if path:
        print(f"wrote {path}")
    return {"max_abs_error": max_diff, "crossover_eager": eager_cross, "crossover_jit": jit_cross,
            "fwd_over_rev_widest": timings["jacfwd"][0] / timings["jacrev"][0],
            "fwd_over_rev_tallest": timings["jacfwd"][-1] / timings["jacrev"][-1]}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="fewer shapes and repeats")
    parser.add_argument("--out", default=None, help="directory for the PNG (default: next to this script)")
    args = parser.parse_args()
    main(fast=args.fast, out=args.out)
