"""Tune training hyperparameters by gradient descent through the training run.

A model with many features (Gaussian bumps) is trained by unrolled
minibatch SGD with momentum (``xform.optimizers.sgd``) on a small, noisy
training set, so it can overfit. Its two hyperparameters, the learning rate
and an L2 weight-decay strength (kept as logarithms, so they stay positive),
go into ``optimizers.sgd`` as traced values; the optimizer is written with
``xform.numpy``, so the validation loss after training is an ordinary
differentiable function of them. ``xform.grad`` of it (a gradient of a
function that itself takes 200 gradients) is checked against central finite
differences and then drives an outer gradient-descent loop on the
hyperparameters (``optimizers.adam`` again, whose per-coordinate step sizes
cope with the two very different gradient scales). The whole hypergradient is
``jit``-compiled once.

Run: ``python examples/hyperparameter_optimization.py [--fast] [--out DIR]``
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

Hyper = dict[str, Any]  # {"log_step_size": ..., "log_weight_decay": ...}
CENTRES = onp.linspace(-1.0, 1.0, 40)
WIDTH = 0.1
INNER_STEPS = 200
BATCH = 10


def features(x: onp.ndarray) -> onp.ndarray:
    """Gaussian bumps on a fixed grid of centres: flexible enough to overfit."""
    return onp.exp(-0.5 * ((x[:, None] - CENTRES[None, :]) / WIDTH) ** 2)


def make_data(rng: onp.random.Generator) -> dict[str, onp.ndarray]:
    def sample(n: int) -> tuple[onp.ndarray, onp.ndarray]:
        x = rng.uniform(-1.0, 1.0, n)
        return x, onp.sin(4.0 * x) + 0.3 * x + 0.3 * rng.standard_normal(n)

    x_train, y_train = sample(20)
    x_val, y_val = sample(200)
    return {"x_train": x_train, "F_train": features(x_train), "y_train": y_train,
            "x_val": x_val, "F_val": features(x_val), "y_val": y_val}


def train_loss(w: Any, F: Any, y: Any, weight_decay: Any) -> Any:
    return np.mean((F @ w - y) ** 2) + weight_decay * np.sum(w ** 2)


def train(hyper: Hyper, data: dict[str, onp.ndarray]) -> Any:
    """Unrolled minibatch SGD; differentiable with respect to ``hyper``."""
    step_size = np.exp(hyper["log_step_size"])
    weight_decay = np.exp(hyper["log_weight_decay"])
    n = len(data["y_train"])
    batches = onp.random.default_rng(1).integers(0, n, size=(INNER_STEPS, BATCH))  # fixed order
    grad_train = xform.grad(train_loss)

    def grad_fn(w: Any, i: int) -> Any:
        idx = batches[i]
        return grad_train(w, data["F_train"][idx], data["y_train"][idx], weight_decay)

    w0 = onp.zeros(len(CENTRES))
    return optimizers.sgd(grad_fn, w0, num_iters=INNER_STEPS, step_size=step_size, mass=0.9)


def validation_loss(hyper: Hyper, data: dict[str, onp.ndarray]) -> Any:
    w = train(hyper, data)
    return np.mean((data["F_val"] @ w - data["y_val"]) ** 2)


def finite_difference_check(hyper: Hyper, data: dict[str, onp.ndarray],
                            grad: dict[str, float], eps: float = 1e-5) -> float:
    """Largest relative difference between ``grad`` and central differences."""
    worst = 0.0
    for name in hyper:
        up, down = dict(hyper), dict(hyper)
        up[name] = hyper[name] + eps
        down[name] = hyper[name] - eps
        fd = (float(validation_loss(up, data)) - float(validation_loss(down, data))) / (2 * eps)
        rel = abs(fd - grad[name]) / max(abs(fd), 1e-12)
        print(f"  d(val loss)/d {name:<16}: xform {grad[name]: .6e}   finite diff {fd: .6e}   "
              f"rel. diff {rel:.1e}")
        worst = max(worst, rel)
    return worst


def plot(history: list[tuple[float, float, float]], data: dict[str, onp.ndarray],
         first: Hyper, best: Hyper, out_dir: Path) -> Path | None:
    if plt is None:
        print("matplotlib is not installed: skipping the plot (pip install matplotlib)")
        return None
    losses = [h[0] for h in history]
    fig, (ax_loss, ax_hyp, ax_fit) = plt.subplots(1, 3, figsize=(14, 4))
    ax_loss.plot(losses, "o-", ms=3)
    ax_loss.set_xlabel("outer step")
    ax_loss.set_ylabel("validation loss after training")
    ax_loss.set_title("hyperparameter descent")
    ax_hyp.plot([onp.exp(h[1]) for h in history], label="learning rate")
    ax_hyp.plot([onp.exp(h[2]) for h in history], label="weight decay")
    ax_hyp.set_yscale("log")
    ax_hyp.set_xlabel("outer step")
    ax_hyp.set_title("hyperparameters")
    ax_hyp.legend()
    grid = onp.linspace(-1.0, 1.0, 300)
    ax_fit.scatter(data["x_train"], data["y_train"], s=14, c="k", label="training data")
    ax_fit.scatter(data["x_val"], data["y_val"], s=4, c="0.6", label="validation data")
    for hyper, label, colour in [(first, "initial hyperparameters", "tab:orange"),
                                 (best, "tuned hyperparameters", "tab:green")]:
        ax_fit.plot(grid, features(grid) @ onp.asarray(train(hyper, data)), c=colour, label=label)
    ax_fit.set_title("model after training")
    ax_fit.legend(fontsize=8)
    fig.tight_layout()
    path = out_dir / "hyperparameter_optimization.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main(fast: bool = False, out: str | None = None) -> dict[str, float]:
    data = make_data(onp.random.default_rng(0))
    hyper: Hyper = {"log_step_size": onp.log(0.01), "log_weight_decay": onp.log(0.05)}
    first = dict(hyper)
    hypergrad = xform.jit(xform.value_and_grad(lambda h: validation_loss(h, data)))

    value, g = hypergrad(hyper)
    print(f"{INNER_STEPS} unrolled SGD steps; validation loss {float(value):.4f} at "
          f"learning rate {onp.exp(hyper['log_step_size']):.3g}, "
          f"weight decay {onp.exp(hyper['log_weight_decay']):.3g}")
    print("hypergradient check:")
    fd_error = finite_difference_check(hyper, data, {k: float(v) for k, v in g.items()})

    history: list[tuple[float, float, float]] = []

    def hyper_grad_fn(h: Hyper, i: int) -> Hyper:
        value, g = hypergrad(h)
        history.append((float(value), float(h["log_step_size"]), float(h["log_weight_decay"])))
        return g

    outer_steps = 15 if fast else 60
    hyper = optimizers.adam(hyper_grad_fn, hyper, num_iters=outer_steps, step_size=0.15)
    final = float(validation_loss(hyper, data))
    history.append((final, float(hyper["log_step_size"]), float(hyper["log_weight_decay"])))
    print(f"after {outer_steps} outer steps: validation loss {history[0][0]:.4f} -> {final:.4f}, "
          f"learning rate {onp.exp(hyper['log_step_size']):.3g}, "
          f"weight decay {onp.exp(hyper['log_weight_decay']):.3g}")

    out_dir = Path(out) if out else Path(__file__).resolve().parent
    out_dir.mkdir(parents=True, exist_ok=True)
    path = plot(history, data, first, hyper, out_dir)
    if path:
        print(f"wrote {path}")
    return {"initial_val_loss": history[0][0], "final_val_loss": final,
            "fd_relative_error": fd_error,
            "learning_rate": float(onp.exp(hyper["log_step_size"])),
            "weight_decay": float(onp.exp(hyper["log_weight_decay"]))}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="fewer outer steps")
    parser.add_argument("--out", default=None, help="directory for the PNG (default: next to this script)")
    args = parser.parse_args()
    main(fast=args.fast, out=args.out)
