"""Logistic regression on two 2-D classes, trained with ``jit(grad(...))``.

The loss is the mean logistic loss ``log(1 + exp(-y * (X @ w + b)))`` for labels
``y`` in {-1, +1}, written with ``np.logaddexp`` so it never overflows.
``xform.jit(xform.grad(loss))`` traces the gradient once and afterwards runs
generated NumPy code, so the training loop is plain Python around a fast
function. The plot shows the learned decision boundary and the predicted
probability.

Run: ``python examples/logistic_regression.py [--fast] [--out DIR]``
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import numpy as onp

import xform
import xform.numpy as np

try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:  # matplotlib is optional: pip install "xform[examples]"
    plt = None  # type: ignore[assignment]

Params = dict[str, Any]


def make_data(n: int, rng: onp.random.Generator) -> tuple[onp.ndarray, onp.ndarray]:
    """Two overlapping Gaussian clouds; labels -1 and +1."""
    half = n // 2
    neg = rng.multivariate_normal([-1.0, -0.5], [[1.0, 0.4], [0.4, 0.8]], half)
    pos = rng.multivariate_normal([1.2, 1.0], [[0.8, -0.3], [-0.3, 1.0]], n - half)
    X = onp.concatenate([neg, pos])
    y = onp.concatenate([-onp.ones(half), onp.ones(n - half)])
    return X, y


def logits(params: Params, X: Any) -> Any:
    return X @ params["w"] + params["b"]


def loss(params: Params, X: Any, y: Any) -> Any:
    return np.mean(np.logaddexp(0.0, -y * logits(params, X))) + 1e-3 * np.sum(params["w"] ** 2)


def probability(params: Params, X: Any) -> onp.ndarray:
    """P(y = +1 | x) = sigmoid(logit)."""
    return onp.asarray(0.5 * (1.0 + np.tanh(0.5 * logits(params, X))))


def train(X: onp.ndarray, y: onp.ndarray, steps: int, step_size: float) -> tuple[Params, float]:
    grad_loss = xform.jit(xform.grad(loss))
    params: Params = {"w": onp.zeros(2), "b": 0.0}
    start = time.perf_counter()
    for _ in range(steps):
        g = grad_loss(params, X, y)
        params = {k: params[k] - step_size * g[k] for k in params}
    return params, time.perf_counter() - start


def plot(X: onp.ndarray, y: onp.ndarray, params: Params, out_dir: Path) -> Path | None:
    if plt is None:
        print("matplotlib is not installed: skipping the plot (pip install matplotlib)")
        return None
    lo, hi = X.min(axis=0) - 0.5, X.max(axis=0) + 0.5
    gx, gy = onp.meshgrid(onp.linspace(lo[0], hi[0], 200), onp.linspace(lo[1], hi[1], 200))
    prob = probability(params, onp.stack([gx.ravel(), gy.ravel()], axis=1)).reshape(gx.shape)
    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    shading = ax.contourf(gx, gy, prob, levels=20, cmap="RdBu_r", alpha=0.6)
    ax.contour(gx, gy, prob, levels=[0.5], colors="k", linewidths=2)
    ax.scatter(X[y < 0, 0], X[y < 0, 1], s=14, c="tab:blue", edgecolors="k", linewidths=0.3, label="class -1")
    ax.scatter(X[y > 0, 0], X[y > 0, 1], s=14, c="tab:red", edgecolors="k", linewidths=0.3, label="class +1")
    fig.colorbar(shading, ax=ax, label="P(class +1)")
    ax.set_title("logistic regression: decision boundary (black)")
    ax.legend(loc="upper left")
    fig.tight_layout()
    path = out_dir / "logistic_regression.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main(fast: bool = False, out: str | None = None) -> dict[str, float]:
    rng = onp.random.default_rng(0)
    X, y = make_data(200 if fast else 1000, rng)
    initial = float(loss({"w": onp.zeros(2), "b": 0.0}, X, y))
    steps = 200 if fast else 1000
    params, seconds = train(X, y, steps=steps, step_size=0.5)
    final = float(loss(params, X, y))
    accuracy = float(onp.mean(onp.sign(onp.asarray(logits(params, X))) == y))
    print(f"loss {initial:.4f} -> {final:.4f} in {steps} steps of jit(grad) "
          f"({1e6 * seconds / steps:.0f} us per step, including the first trace)")
    print(f"w = {onp.array2string(onp.asarray(params['w']), precision=3)}, "
          f"b = {float(params['b']):.3f}, training accuracy {100 * accuracy:.1f}%")

    out_dir = Path(out) if out else Path(__file__).resolve().parent
    out_dir.mkdir(parents=True, exist_ok=True)
    path = plot(X, y, params, out_dir)
    if path:
        print(f"wrote {path}")
    return {"initial_loss": initial, "final_loss": final, "accuracy": accuracy}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="fewer points and steps")
    parser.add_argument("--out", default=None, help="directory for the PNG (default: next to this script)")
    args = parser.parse_args()
    main(fast=args.fast, out=args.out)
