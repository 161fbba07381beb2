"""Polynomial regression: a feature map of powers of x, fitted with Adam.

The features are ``[1, x, x**2, ..., x**degree]``; the model is a linear
combination of them, so the least-squares problem has an exact answer to
compare with. Monomials are badly conditioned (plain gradient descent crawls
along the flat directions), which is where ``xform.optimizers.adam`` and its
per-coordinate step sizes help. The loss gradient is ``jit``-compiled once and
reused at every step.

Run: ``python examples/polynomial_regression.py [--fast] [--out DIR]``
"""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as onp

import xform
import xform.numpy as np
from xform import optimizers

try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:  # matplotlib is optional: pip install "xform[examples]"
    plt = None  # type: ignore[assignment]

DEGREE = 5


def target_function(x: onp.ndarray) -> onp.ndarray:
    return onp.sin(3.0 * x) + 0.5 * x


def make_data(n: int, rng: onp.random.Generator) -> tuple[onp.ndarray, onp.ndarray]:
    x = onp.sort(rng.uniform(-1.0, 1.0, n))
    return x, target_function(x) + 0.1 * rng.standard_normal(n)


def features(x: Any, degree: int = DEGREE) -> Any:
    """The feature map ``x -> [1, x, x**2, ..., x**degree]`` (one row per point)."""
    return np.stack([x ** k for k in range(degree + 1)], axis=1)


def predict(coeffs: Any, x: Any) -> Any:
    return features(x) @ coeffs


def loss(coeffs: Any, x: Any, y: Any) -> Any:
    return np.mean((predict(coeffs, x) - y) ** 2)


def fit(x: onp.ndarray, y: onp.ndarray, steps: int) -> tuple[onp.ndarray, list[float]]:
    """Adam from zero coefficients; returns the coefficients and the loss history."""
    loss_and_grad = xform.jit(xform.value_and_grad(loss))
    history: list[float] = []

    def grad_fn(coeffs: Any, i: int) -> Any:
        value, g = loss_and_grad(coeffs, x, y)
        history.append(float(value))
        return g

    coeffs = optimizers.adam(grad_fn, onp.zeros(DEGREE + 1), num_iters=steps, step_size=0.05)
    history.append(float(loss(coeffs, x, y)))
    return onp.asarray(coeffs), history


def plot(x: onp.ndarray, y: onp.ndarray, coeffs: onp.ndarray, coeffs_ls: onp.ndarray,
         history: list[float], out_dir: Path) -> Path | None:
    if plt is None:
        print("matplotlib is not installed: skipping the plot (pip install matplotlib)")
        return None
    grid = onp.linspace(-1.0, 1.0, 200)
    fig, (ax_fit, ax_loss) = plt.subplots(1, 2, figsize=(10, 4))
    ax_fit.scatter(x, y, s=10, alpha=0.6, label="data")
    ax_fit.plot(grid, target_function(grid), "k--", lw=1, label="sin(3x) + x/2")
    ax_fit.plot(grid, onp.asarray(predict(coeffs, grid)), "r", lw=2, label="Adam fit")
    ax_fit.plot(grid, onp.asarray(predict(coeffs_ls, grid)), "g:", lw=2, label="least squares")
    ax_fit.set_title(f"degree-{DEGREE} polynomial regression")
    ax_fit.set_xlabel("x")
    ax_fit.legend()
    ax_loss.semilogy(history)
    ax_loss.set_xlabel("Adam step")
    ax_loss.set_ylabel("mean squared error")
    ax_loss.set_title("training loss")
    fig.tight_layout()
    path = out_dir / "polynomial_regression.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main(fast: bool = False, out: str | None = None) -> dict[str, float]:
    rng = onp.random.default_rng(1)
    x, y = make_data(60 if fast else 200, rng)
    coeffs, history = fit(x, y, steps=1500 if fast else 3000)

    coeffs_ls, *_ = onp.linalg.lstsq(onp.asarray(features(x)), y, rcond=None)
    loss_ls = float(loss(coeffs_ls, x, y))
    print(f"loss {history[0]:.4f} -> {history[-1]:.5f} in {len(history) - 1} Adam steps "
          f"(least squares: {loss_ls:.5f})")
    print("coefficients:", onp.array2string(coeffs, precision=3))
    print("least squares:", onp.array2string(coeffs_ls, precision=3))

    out_dir = Path(out) if out else Path(__file__).resolve().parent
    out_dir.mkdir(parents=True, exist_ok=True)
    path = plot(x, y, coeffs, coeffs_ls, history, out_dir)
    if path:
        print(f"wrote {path}")
    return {"initial_loss": history[0], "final_loss": history[-1], "lstsq_loss": loss_ls}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="fewer points and steps")
    parser.add_argument("--out", default=None, help="directory for the PNG (default: next to this script)")
    args = parser.parse_args()
    main(fast=args.fast, out=args.out)
