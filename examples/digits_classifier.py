"""An MLP classifier for scikit-learn's 8x8 handwritten digits, trained with xform's
training toolkit.

The data are the 1,797 digit images that ship inside scikit-learn
(``sklearn.datasets.load_digits``: nothing is downloaded). The network's weights are
drawn with ``xform.random`` keys through ``xform.nn.initializers``, the minibatches
are shuffled with ``xform.random.permutation``, and one training step, the loss's
``value_and_grad`` followed by an ``xform.optim.adam`` update with a warm-up cosine
schedule, is compiled once with ``xform.jit``. It prints the test accuracy and plots
the loss curve next to a grid of the misclassified test digits.

Run: ``python examples/digits_classifier.py [--fast] [--out DIR]``
(needs scikit-learn: ``pip install -e ".[examples]"``)
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import numpy as onp

import xform
import xform.numpy as np
from xform import nn, optim, random

try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:  # matplotlib is optional: pip install "xform[examples]"
    plt = None  # type: ignore[assignment]

HIDDEN = (128, 64)
CLASSES = 10


def load_data(key: Any) -> tuple[onp.ndarray, ...]:
    """The digits scaled to [0, 1], split 80/20 into train and test by a random permutation."""
    try:
        from sklearn.datasets import load_digits
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("examples/digits_classifier.py needs scikit-learn for its bundled "
                          "digits data: pip install scikit-learn (or the examples extra)") from e
    digits = load_digits()
    x = digits.data.astype(onp.float32) / 16.0
    y = digits.target.astype(onp.int64)
    order = random.permutation(key, len(x))
    n_test = len(x) // 5
    test, train = order[:n_test], order[n_test:]
    return x[train], y[train], x[test], y[test]


def init_params(key: Any, sizes: tuple[int, ...]) -> list[dict[str, onp.ndarray]]:
    """He-normal weights and zero biases, one key per layer."""
    keys = random.split(key, len(sizes) - 1)
    init = nn.initializers.he_normal()
    return [{"w": init(k, (n_in, n_out), onp.float32), "b": onp.zeros(n_out, onp.float32)}
            for k, n_in, n_out in zip(keys, sizes[:-1], sizes[1:])]


def logits(params: list[dict[str, Any]], x: Any) -> Any:
    for layer in params[:-1]:
        x = nn.relu(x @ layer["w"] + layer["b"])
    return x @ params[-1]["w"] + params[-1]["b"]


def loss(params: list[dict[str, Any]], x: Any, y: Any) -> Any:
    """Mean cross-entropy, through the stable log_softmax."""
    log_p = nn.log_softmax(logits(params, x))
    return -np.mean(np.sum(nn.one_hot(y, CLASSES, dtype=onp.float32) * log_p, axis=-1))


def train(key: Any, x: onp.ndarray, y: onp.ndarray, epochs: int, batch: int = 64
          ) -> tuple[list[dict[str, Any]], list[float]]:
    init_key, key = random.split(key)
    params = init_params(init_key, (x.shape[1],) + HIDDEN + (CLASSES,))
    steps_per_epoch = len(x) // batch
    schedule = optim.warmup_cosine_decay_schedule(0.0, 3e-3, steps_per_epoch,
                                                  epochs * steps_per_epoch, end_value=1e-4)
    opt = optim.adam(schedule)
    state = opt.init(params)

    @xform.jit
    def step(params: Any, state: Any, xb: Any, yb: Any) -> tuple[Any, Any, Any]:
        value, grads = xform.value_and_grad(loss)(params, xb, yb)
        updates, state = opt.update(grads, state, params)
        return optim.apply_updates(params, updates), state, value

    history = []
    for epoch in range(epochs):
        key, shuffle_key = random.split(key)
        order = random.permutation(shuffle_key, len(x))
        total = 0.0
        for i in range(steps_per_epoch):
            idx = order[i * batch:(i + 1) * batch]
            params, state, value = step(params, state, x[idx], y[idx])
            total += float(value)
        history.append(total / steps_per_epoch)
    return params, history


def plot(history: list[float], x_wrong: onp.ndarray, y_wrong: onp.ndarray,
         pred_wrong: onp.ndarray, out_dir: Path) -> Path | None:
    if plt is None:
        print("matplotlib is not installed: skipping the plot (pip install matplotlib)")
        return None
    shown = min(len(x_wrong), 24)
    cols = 8
    fig = plt.figure(figsize=(12, 3.6))
    ax = fig.add_axes((0.06, 0.15, 0.3, 0.75))
    ax.plot(onp.arange(1, len(history) + 1), history, marker="o", ms=3)
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("training cross-entropy")
    ax.set_title("loss")
    for j in range(shown):
        sub = fig.add_axes((0.42 + (j % cols) * 0.072, 0.62 - (j // cols) * 0.3, 0.062, 0.24))
        sub.imshow(x_wrong[j].reshape(8, 8), cmap="gray_r")
        sub.set_title(f"{y_wrong[j]} as {pred_wrong[j]}", fontsize=8)
        sub.axis("off")
    fig.suptitle(f"misclassified test digits ({len(x_wrong)}; true as predicted)"
                 if shown else "no misclassified test digits", x=0.7, fontsize=10)
    path = out_dir / "digits_classifier.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def main(fast: bool = False, out: str | None = None) -> dict[str, float]:
    key = random.PRNGKey(0)
    data_key, train_key = random.split(key)
    x_train, y_train, x_test, y_test = load_data(data_key)
    epochs = 15 if fast else 60
    print(f"training a {x_train.shape[1]}-{'-'.join(map(str, HIDDEN))}-{CLASSES} ReLU MLP "
          f"on {len(x_train)} digits for {epochs} epochs (adam, jit(value_and_grad))")
    t0 = time.perf_counter()
    params, history = train(train_key, x_train, y_train, epochs)
    seconds = time.perf_counter() - t0
    pred = onp.asarray(xform.jit(logits)(params, x_test)).argmax(axis=1)
    accuracy = float((pred == y_test).mean())
    print(f"loss {history[0]:.3f} -> {history[-1]:.4f} in {seconds:.1f} s")
    print(f"test accuracy: {accuracy:.3f}")
    wrong = pred != y_test
    out_dir = Path(out) if out else Path(__file__).resolve().parent
    out_dir.mkdir(parents=True, exist_ok=True)
    path = plot(history, x_test[wrong], y_test[wrong], pred[wrong], out_dir)
    if path:
        print(f"wrote {path}")
    return {"initial_loss": history[0], "final_loss": history[-1], "accuracy": accuracy,
            "seconds": seconds}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="fewer epochs")
    parser.add_argument("--out", default=None, help="directory for the PNG (default: next to this script)")
    args = parser.parse_args()
    main(fast=args.fast, out=args.out)
