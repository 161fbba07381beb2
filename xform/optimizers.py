"""Gradient-descent optimizers over pytrees, with autograd's signatures.

``opt(grad_fn, x0, callback=None, num_iters=..., step_size=...)`` where
``grad_fn(x, i)`` returns the gradient at parameters ``x`` (any pytree) on
iteration ``i`` and ``callback(x, i, g)`` is called before each update. The
updates are written with ``xform.numpy``, so a whole training run can itself be
differentiated (e.g. with respect to ``step_size``).
"""
from __future__ import annotations

from typing import Any, Callable

from .numpy import ones_like, sqrt, zeros_like
from .tree_util import ravel_pytree

GradFn = Callable[[Any, int], Any]
Callback = Callable[[Any, int, Any], Any] | None


def _flat(grad_fn: GradFn, x0: Any) -> tuple[Any, Callable[[Any], Any], Callable[[Any, int], Any]]:
    """Optimizers work on one flat vector; the user's functions see the pytree."""
    x, unravel = ravel_pytree(x0)

    def flat_grad(x_flat: Any, i: int) -> Any:
        return ravel_pytree(grad_fn(unravel(x_flat), i))[0]

    return x, unravel, flat_grad


def sgd(grad_fn: GradFn, x0: Any, callback: Callback = None, num_iters: int = 200,
        step_size: Any = 0.1, mass: Any = 0.9) -> Any:
    """Stochastic gradient descent with momentum ``mass`` (0 for plain SGD)."""
    x, unravel, g_fn = _flat(grad_fn, x0)
    velocity = zeros_like(x)
    for i in range(num_iters):
        g = g_fn(x, i)
        if callback:
            callback(unravel(x), i, unravel(g))
        velocity = mass * velocity - (1.0 - mass) * g
        x = x + step_size * velocity
    return unravel(x)


def momentum(grad_fn: GradFn, x0: Any, callback: Callback = None, num_iters: int = 200,
             step_size: Any = 0.1, mass: Any = 0.9) -> Any:
    """Gradient descent with (heavy-ball) momentum: ``sgd`` with ``mass=0.9``."""
    return sgd(grad_fn, x0, callback, num_iters, step_size, mass)


def rmsprop(grad_fn: GradFn, x0: Any, callback: Callback = None, num_iters: int = 100,
            step_size: Any = 0.1, gamma: Any = 0.9, eps: float = 1e-8) -> Any:
    """Root-mean-square propagation: steps scaled by a running RMS of the gradient."""
    x, unravel, g_fn = _flat(grad_fn, x0)
    avg_sq = ones_like(x)
    for i in range(num_iters):
        g = g_fn(x, i)
        if callback:
            callback(unravel(x), i, unravel(g))
        avg_sq = gamma * avg_sq + (1.0 - gamma) * g * g
        x = x - step_size * g / (sqrt(avg_sq) + eps)
    return unravel(x)


def adam(grad_fn: GradFn, x0: Any, callback: Callback = None, num_iters: int = 100,
         step_size: Any = 0.001, b1: Any = 0.9, b2: Any = 0.999, eps: float = 1e-8) -> Any:
    """Adam (Kingma and Ba, 2015), with bias-corrected moment estimates."""
    x, unravel, g_fn = _flat(grad_fn, x0)
    m = zeros_like(x)
    v = zeros_like(x)
    for i in range(num_iters):
        g = g_fn(x, i)
        if callback:
            callback(unravel(x), i, unravel(g))
        m = (1.0 - b1) * g + b1 * m
        v = (1.0 - b2) * (g * g) + b2 * v
        m_hat = m / (1.0 - b1 ** (i + 1))
        v_hat = v / (1.0 - b2 ** (i + 1))
        x = x - step_size * m_hat / (sqrt(v_hat) + eps)
    return unravel(x)


__all__ = ["sgd", "momentum", "rmsprop", "adam"]
