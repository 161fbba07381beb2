"""A small tanh neural network fitted to 1-D data with Adam.

The network's parameters are a list of ``(weights, biases)`` tuples, one per
layer: an ordinary pytree, so ``xform.grad`` of the loss returns a list of
tuples with the same shapes, and ``xform.optimizers.adam`` (which flattens any
pytree internally) trains it directly. The data have a gap in the middle, to
show how the fitted curve interpolates between the two clusters.

Run: ``python examples/neural_net_regression.py [--fast] [--out DIR]``
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

Params = list[tuple[Any, Any]]
LAYER_SIZES = [1, 24, 24, 1]
L2_PENALTY = 1e-4


def init_params(sizes: list[int], rng: onp.random.Generator) -> Params:
    """Gaussian weights scaled by 1/sqrt(fan-in), zero biases."""
    return [(rng.standard_normal((n_in, n_out)) / onp.sqrt(n_in), onp.zeros(n_out))
            for n_in, n_out in zip(sizes[:-1], sizes[1:])]


def predict(params: Params, x: Any) -> Any:
    """``x`` has shape (points, 1); tanh on every hidden layer, linear output."""
    h = x
    for w, b in params[:-1]:
        h = np.tanh(h @ w + b)
    w, b = params[-1]
    return h @ w + b


def loss(params: Params, x: Any, y: Any) -> Any:
    fit_error = np.mean((predict(params, x) - y) ** 2)
    penalty = sum(np.sum(w ** 2) for w, _ in params)
    return fit_error + L2_PENALTY * penalty


def make_data(n: int, rng: onp.random.Generator) -> tuple[onp.ndarray, onp.ndarray]:
    """Two clusters of noisy samples of a wiggly curve, with a gap in between."""
    x = onp.concatenate([rng.uniform(-3.0, -0.7, n // 2), rng.uniform(0.7, 3.0, n - n // 2)])
    y = onp.sin(2.0 * x) * onp.exp(-0.1 * x ** 2) + 0.3 * onp.cos(x) + 0.05 * rng.standard_normal(n)
    return x[:, None], y[:, None]


def train(params: Params, x: onp.ndarray, y: onp.ndarray, steps: int) -> tuple[Params, list[float]]:
    loss_and_grad = xform.jit(xform.value_and_grad(loss))
    history: list[float] = []

    def grad_fn(p: Params, i: int) -> Params:
        value, g = loss_and_grad(p, x, y)
        history.append(float(value))
        return g

    def report(p: Params, i: int, g: Params) -> None:
        if i % max(1, steps // 5) == 0:
            print(f"  step {i:5d}: loss {history[-1]:.5f}")

    trained = optimizers.adam(grad_fn, params, callback=report, num_iters=steps, step_size=0.005)
    history.append(float(loss(trained, x, y)))
    return trained, history


def plot(x: onp.ndarray, y: onp.ndarray, params: Params, history: list[float],
         out_dir: Path) -> Path | None:
    if plt is None:
        print("matplotlib is not installed: skipping the plot (pip install matplotlib)")
        return None
    grid = onp.linspace(-4.0, 4.0, 300)[:, None]
    fig, (ax_fit, ax_loss) = plt.subplots(1, 2, figsize=(10, 4))
    ax_fit.scatter(x[:, 0], y[:, 0], s=10, alpha=0.6, label="data")
    ax_fit.plot(grid[:, 0], onp.asarray(predict(params, grid))[:, 0], "r", lw=2, label="network")
    ax_fit.set_xlabel("x")
    ax_fit.set_title(f"tanh MLP {'-'.join(map(str, LAYER_SIZES))}")
    ax_fit.legend()
    ax_loss.semilogy(history)
    ax_loss.set_xlabel("Adam step")
    ax_loss.set_ylabel("loss")
    ax_loss.set_title("training loss")
    fig.tight_layout()
    path = out_dir / "neural_net_regression.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main(fast: bool = False, out: str | None = None) -> dict[str, float]:
    rng = onp.random.default_rng(0)
    x, y = make_data(80, rng)
    params = init_params(LAYER_SIZES, rng)
    print(f"training a {'-'.join(map(str, LAYER_SIZES))} tanh network on {len(x)} points")
    params, history = train(params, x, y, steps=500 if fast else 3000)
    print(f"loss {history[0]:.4f} -> {history[-1]:.5f} in {len(history) - 1} Adam steps")

    out_dir = Path(out) if out else Path(__file__).resolve().parent
    out_dir.mkdir(parents=True, exist_ok=True)
    path = plot(x, y, params, history, out_dir)
    if path:
        print(f"wrote {path}")
    return {"initial_loss": history[0], "final_loss": history[-1]}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="fewer training steps")
    parser.add_argument("--out", default=None, help="directory for the PNG (default: next to this script)")
    args = parser.parse_args()
    main(fast=args.fast, out=args.out)
