"""``python -m xform``: a one-minute tour, run right after installing.

It prints the derivatives of ``tanh`` to the fourth order, checks them against the
closed forms, shows that ``jacfwd`` and ``jacrev`` agree, and measures what ``jit``
saves on a small gradient loop. Every figure is computed as it runs.
"""
from __future__ import annotations

import time
from typing import Any, Callable

import numpy as onp

import xform
import xform.numpy as np


def _best_time(fn: Callable[[], Any], repeat: int = 5, number: int = 20) -> float:
    """Seconds per call: the best of ``repeat`` runs of ``number`` calls."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - start) / number)
    return best


def _derivatives_of_tanh() -> None:
    print("1. Derivatives of tanh at x = 0.5, by nesting grad")
    x = 0.5
    t = float(onp.tanh(x))
    closed = [t, 1 - t**2, -2 * t * (1 - t**2), (1 - t**2) * (6 * t**2 - 2),
              -8 * t * (1 - t**2) * (3 * t**2 - 2)]
    f: Callable[[Any], Any] = np.tanh
    for order, expected in enumerate(closed):
        value = float(f(x))
        print(f"   d^{order} tanh = {value: .12f}   closed form {expected: .12f}")
        assert abs(value - expected) < 1e-10 * max(1.0, abs(expected))
        f = xform.grad(f)
    print()


def _jacobians_agree() -> None:
    print("2. A Jacobian by forward mode (jacfwd) and by reverse mode (jacrev)")
    a = onp.random.default_rng(0).normal(size=(4, 3))

    def layer(v: Any) -> Any:
        return np.tanh(a @ v)

    v = onp.linspace(-1.0, 1.0, 3)
    fwd, rev = xform.jacfwd(layer)(v), xform.jacrev(layer)(v)
    exact = (1 - onp.tanh(a @ v) ** 2)[:, None] * a
    print(f"   shape {fwd.shape}; max |jacfwd - jacrev| = {onp.max(abs(fwd - rev)):.1e}; "
          f"max |jacfwd - exact| = {onp.max(abs(fwd - exact)):.1e}")
    assert onp.allclose(fwd, rev) and onp.allclose(fwd, exact)
    print()


def _jit_speedup() -> None:
    print("3. jit: trace once, run generated NumPy code")
    x = onp.linspace(0.0, 1.0, 50)
    y = onp.sin(3 * x)

    def loss(w: Any) -> Any:
        pred = w[0] + w[1] * x + w[2] * x**2 + w[3] * x**3
        return np.mean((pred - y) ** 2)

    def train(grad_fn: Callable[[Any], Any], steps: int = 20) -> Any:
        w = onp.zeros(4)
        for _ in range(steps):
            w = w - 0.3 * grad_fn(w)
        return w

    eager, compiled = xform.grad(loss), xform.jit(xform.grad(loss))
    start = time.perf_counter()
    compiled(onp.zeros(4))
    first = time.perf_counter() - start
    assert onp.allclose(train(eager), train(compiled))
    t_eager = _best_time(lambda: train(eager), number=3)
    t_jit = _best_time(lambda: train(compiled), number=3)
    print(f"   20 gradient steps: eager {t_eager * 1e3:.2f} ms, jit {t_jit * 1e3:.2f} ms "
          f"({t_eager / t_jit:.1f}x faster; the first call traced and compiled in "
          f"{first * 1e3:.0f} ms)")
    print(f"   the compiled gradient's IR has "
          f"{len(xform.make_jaxpr(xform.grad(loss))(onp.zeros(4)).jaxpr.eqns)} equations")
    print()


def main() -> None:
    """Run the tour; it takes a few seconds."""
    print(f"xform {xform.__version__}: composable transforms of NumPy code\n")
    _derivatives_of_tanh()
    _jacobians_agree()
    _jit_speedup()
    print("Next: README.md's quickstart, and docs/ (mkdocs serve) for the guide and the "
          "API reference.")


if __name__ == "__main__":
    main()
