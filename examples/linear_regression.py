"""Linear regression by gradient descent, with the parameters in a dict.

The model ``y = w * x + b`` keeps its parameters in ``{"w": ..., "b": ...}``;
``xform.grad`` of the mean squared error returns a dict with the same keys, so
a gradient-descent step is one ``tree_map``. The result is compared with the
closed-form least-squares fit.

Run: ``python examples/linear_regression.py [--fast] [--out DIR]``
"""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as onp

import xform
import xform.numpy as np
from xform.tree_util import tree_map

try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:  # matplotlib is optional: pip install "xform[examples]"
    plt = None  # type: ignore[assignment]

Params = dict[str, Any]
TRUE_W, TRUE_B, NOISE = 2.5, -1.0, 0.4


def make_data(n: int, rng: onp.random.Generator) -> tuple[onp.ndarray, onp.ndarray]:
    x = rng.uniform(-2.0, 3.0, n)
    y = TRUE_W * x + TRUE_B + NOISE * rng.standard_normal(n)
    return x, y


def predict(params: Params, x: Any) -> Any:
    return params["w"] * x + params["b"]


def loss(params: Params, x: Any, y: Any) -> Any:
    return np.mean((predict(params, x) - y) ** 2)


def fit(x: onp.ndarray, y: onp.ndarray, steps: int, step_size: float) -> tuple[Params, list[float]]:
    """Plain gradient descent; returns the parameters and the loss at every step."""
    loss_and_grad = xform.value_and_grad(loss)
    params: Params = {"w": 0.0, "b": 0.0}
    history = []
    for _ in range(steps):
        value, g = loss_and_grad(params, x, y)
        history.append(float(value))
        params = tree_map(lambda p, dp: p - step_size * dp, params, g)
    history.append(float(loss(params, x, y)))
    return params, history


def plot(x: onp.ndarray, y: onp.ndarray, params: Params, history: list[float],
         out_dir: Path) -> Path | None:
    if plt is None:
        print("matplotlib is not installed: skipping the plot (pip install matplotlib)")
        return None
    fig, (ax_fit, ax_loss) = plt.subplots(1, 2, figsize=(10, 4))
    ax_fit.scatter(x, y, s=10, alpha=0.6, label="data")
    grid = onp.linspace(x.min(), x.max(), 2)
    ax_fit.plot(grid, TRUE_W * grid + TRUE_B, "k--", lw=1, label="true line")
    ax_fit.plot(grid, onp.asarray(predict(params, grid)), "r", lw=2,
                label=f"fit: w={float(params['w']):.2f}, b={float(params['b']):.2f}")
    ax_fit.set_xlabel("x")
    ax_fit.set_ylabel("y")
    ax_fit.legend()
    ax_fit.set_title("linear regression")
    ax_loss.semilogy(history)
    ax_loss.set_xlabel("gradient-descent step")
    ax_loss.set_ylabel("mean squared error")
    ax_loss.set_title("training loss")
    fig.tight_layout()
    path = out_dir / "linear_regression.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main(fast: bool = False, out: str | None = None) -> dict[str, float]:
    rng = onp.random.default_rng(0)
    x, y = make_data(100 if fast else 500, rng)
    params, history = fit(x, y, steps=100 if fast else 300, step_size=0.1)

    # the exact least-squares solution, for comparison
    design = onp.stack([x, onp.ones_like(x)], axis=1)
    (w_ls, b_ls), *_ = onp.linalg.lstsq(design, y, rcond=None)
    loss_ls = float(loss({"w": w_ls, "b": b_ls}, x, y))

    w, b = float(params["w"]), float(params["b"])
    print(f"loss {history[0]:.4f} -> {history[-1]:.4f} in {len(history) - 1} steps "
          f"(least squares: {loss_ls:.4f})")
    print(f"w = {w:.4f} (least squares {w_ls:.4f}, true {TRUE_W}), "
          f"b = {b:.4f} (least squares {b_ls:.4f}, true {TRUE_B})")

    out_dir = Path(out) if out else Path(__file__).resolve().parent
    out_dir.mkdir(parents=True, exist_ok=True)
    path = plot(x, y, params, history, out_dir)
    if path:
        print(f"wrote {path}")
    return {"initial_loss": history[0], "final_loss": history[-1], "lstsq_loss": loss_ls,
            "w": w, "b": b}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="fewer points and steps")
    parser.add_argument("--out", default=None, help="directory for the PNG (default: next to this script)")
    args = parser.parse_args()
    main(fast=args.fast, out=args.out)
