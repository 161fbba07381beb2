"""tanh and its first four derivatives, by repeatedly differentiating.

``xform.elementwise_grad(f)`` turns an elementwise function of an array into
the elementwise function computing its derivative, so nesting it four times
gives the fourth derivative of ``tanh`` on a whole grid at once. The same
derivatives are computed a second way, as ``vmap(grad(grad(...)))`` of the
scalar function, and both are checked against the closed forms (with
``t = tanh(x)``: ``1 - t**2``, ``-2 t (1 - t**2)``, ...).

Run: ``python examples/tanh_derivatives.py [--fast] [--out DIR]``
"""
from __future__ import annotations

import argparse
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

ORDERS = 4


def tanh(x: Any) -> Any:
    """tanh written from exponentials, so every derivative comes from xform."""
    y = np.exp(-2.0 * x)
    return (1.0 - y) / (1.0 + y)


def derivatives_elementwise(f: Callable[[Any], Any], orders: int) -> list[Callable[[Any], Any]]:
    """``[f, f', f'', ...]``, each one an elementwise function of an array."""
    funs = [f]
    for _ in range(orders):
        funs.append(xform.elementwise_grad(funs[-1]))
    return funs


def derivatives_vmap(f: Callable[[Any], Any], orders: int) -> list[Callable[[Any], Any]]:
    """The same list built from the scalar ``grad`` and mapped over the grid with ``vmap``."""
    scalar_funs = [f]
    for _ in range(orders):
        scalar_funs.append(xform.grad(scalar_funs[-1]))
    return [f] + [xform.vmap(g) for g in scalar_funs[1:]]


def closed_forms(x: onp.ndarray) -> list[onp.ndarray]:
    """tanh and its derivatives written by hand in terms of ``t = tanh(x)``."""
    t = onp.tanh(x)
    s = 1.0 - t ** 2  # sech(x)**2
    return [t, s, -2.0 * t * s, s * (6.0 * t ** 2 - 2.0), 8.0 * t * s * (2.0 - 3.0 * t ** 2)]


def plot(x: onp.ndarray, curves: list[onp.ndarray], out_dir: Path) -> Path | None:
    if plt is None:
        print("matplotlib is not installed: skipping the plot (pip install matplotlib)")
        return None
    fig, ax = plt.subplots(figsize=(7, 4.5))
    labels = ["tanh(x)"] + [f"order {k}" for k in range(1, len(curves))]
    for y, label in zip(curves, labels):
        ax.plot(x, y, label=label)
    ax.set_xlabel("x")
    ax.set_title("tanh and its derivatives (nested elementwise_grad)")
    ax.legend()
    ax.grid(alpha=0.3)
    path = out_dir / "tanh_derivatives.png"
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main(fast: bool = False, out: str | None = None) -> dict[str, float]:
    x = onp.linspace(-7.0, 7.0, 101 if fast else 701)
    by_elementwise = [onp.asarray(f(x)) for f in derivatives_elementwise(tanh, ORDERS)]
    by_vmap = [onp.asarray(f(x)) for f in derivatives_vmap(tanh, ORDERS)]
    exact = closed_forms(x)

    err_elementwise = max(float(onp.max(onp.abs(a - b))) for a, b in zip(by_elementwise, exact))
    err_vmap = max(float(onp.max(onp.abs(a - b))) for a, b in zip(by_vmap, exact))
    print(f"{len(x)} grid points, derivatives of order 1..{ORDERS}")
    print(f"max |error| vs closed forms: elementwise_grad {err_elementwise:.2e}, "
          f"vmap(grad) {err_vmap:.2e}")
    for k, y in enumerate(by_elementwise):
        print(f"  order {k}: max |f^({k})| = {onp.max(onp.abs(y)):.4f}")

    out_dir = Path(out) if out else Path(__file__).resolve().parent
    out_dir.mkdir(parents=True, exist_ok=True)
    path = plot(x, by_elementwise, out_dir)
    if path:
        print(f"wrote {path}")
    return {"max_error_elementwise": err_elementwise, "max_error_vmap": err_vmap}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="smaller grid")
    parser.add_argument("--out", default=None, help="directory for the PNG (default: next to this script)")
    args = parser.parse_args()
    main(fast=args.fast, out=args.out)
