"""Gradient-descent optimizers over pytrees, with autograd's signatures.

``opt(grad_fn, x0, callback=None, num_iters=..., step_size=...)`` where
``grad_fn(x, i)`` returns the gradient at parameters ``x`` (any pytree) on
iteration ``i`` and ``callback(x, i, g)`` is called before each update. The
updates are written with ``xform.numpy``, so a whole training run can itself be
differentiated (e.g. with respect to ``step_size``).
"""
from __future__ import annotations

from typing import Any, Callable

from .numpy import ones_like as _ones_like, sqrt as _sqrt, zeros_like as _zeros_like
from .tree_util import ravel_pytree as _ravel_pytree

_GradFn = Callable[[Any, int], Any]
_Callback = Callable[[Any, int, Any], Any] | None


def _flat(grad_fn: _GradFn, x0: Any) -> tuple[Any, Callable[[Any], Any], Callable[[Any, int], Any]]:
    """Optimizers work on one flat vector; the user's functions see the pytree."""
    x, unravel = _ravel_pytree(x0)

    def flat_grad(x_flat: Any, i: int) -> Any:
        return _ravel_pytree(grad_fn(unravel(x_flat), i))[0]

    return x, unravel, flat_grad


def sgd(grad_fn: _GradFn, x0: Any, callback: _Callback = None, num_iters: int = 200,
        step_size: Any = 0.1, mass: Any = 0.9) -> Any:
    """Stochastic gradient descent with momentum ``mass`` (0 for plain SGD).

    Args:
        grad_fn: ``(x, i) -> gradient`` at iteration ``i``, ``x`` a pytree.
        x0: the starting point (a pytree).
        callback: called as ``callback(x, i, g)`` before each update, if given.
        num_iters: the number of steps.
        step_size: the learning rate.
        mass: the momentum (0 for plain SGD).

    Returns:
        The final ``x``, with ``x0``'s structure.

    >>> import numpy, xform
    >>> from xform.optimizers import sgd
    >>> g = xform.grad(lambda x, i: ((x - 3.0) ** 2).sum())
    >>> x = sgd(g, numpy.zeros(2), num_iters=500, step_size=0.05)
    >>> bool(numpy.allclose(x, 3.0, atol=1e-2))
    True
    """
    x, unravel, g_fn = _flat(grad_fn, x0)
    velocity = _zeros_like(x)
    for i in range(num_iters):
        g = g_fn(x, i)
        if callback:
            callback(unravel(x), i, unravel(g))
        velocity = mass * velocity - (1.0 - mass) * g
        x = x + step_size * velocity
    return unravel(x)


def momentum(grad_fn: _GradFn, x0: Any, callback: _Callback = None, num_iters: int = 200,
             step_size: Any = 0.1, mass: Any = 0.9) -> Any:
    """Gradient descent with (heavy-ball) momentum: ``sgd`` with ``mass=0.9``.

    Args:
        grad_fn: ``(x, i) -> gradient`` at iteration ``i``, ``x`` a pytree.
        x0: the starting point (a pytree).
        callback: called as ``callback(x, i, g)`` before each update, if given.
        num_iters: the number of steps.
        step_size: the learning rate.
        mass: the momentum.

    Returns:
        The final ``x``, with ``x0``'s structure.

    >>> import numpy, xform
    >>> from xform.optimizers import momentum
    >>> g = xform.grad(lambda x, i: ((x - 3.0) ** 2).sum())
    >>> x = momentum(g, numpy.zeros(2), num_iters=500, step_size=0.05)
    >>> bool(numpy.allclose(x, 3.0, atol=1e-2))
    True
    """
    return sgd(grad_fn, x0, callback, num_iters, step_size, mass)


def rmsprop(grad_fn: _GradFn, x0: Any, callback: _Callback = None, num_iters: int = 100,
            step_size: Any = 0.1, gamma: Any = 0.9, eps: float = 1e-8) -> Any:
    """Root-mean-square propagation: steps scaled by a running RMS of the gradient.

    Args:
        grad_fn: ``(x, i) -> gradient`` at iteration ``i``, ``x`` a pytree.
        x0: the starting point (a pytree).
        callback: called as ``callback(x, i, g)`` before each update, if given.
        num_iters: the number of steps.
        step_size: the learning rate.
        gamma: the decay of the running mean of squared gradients.
        eps: added to the RMS before dividing.

    Returns:
        The final ``x``, with ``x0``'s structure.

    >>> import numpy, xform
    >>> from xform.optimizers import rmsprop
    >>> g = xform.grad(lambda x, i: ((x - 3.0) ** 2).sum())
    >>> x = rmsprop(g, numpy.zeros(2), num_iters=500, step_size=0.05)
    >>> bool(numpy.allclose(x, 3.0, atol=1e-2))
    True
    """
    x, unravel, g_fn = _flat(grad_fn, x0)
    avg_sq = _ones_like(x)
    for i in range(num_iters):
        g = g_fn(x, i)
        if callback:
            callback(unravel(x), i, unravel(g))
        avg_sq = gamma * avg_sq + (1.0 - gamma) * g * g
        x = x - step_size * g / (_sqrt(avg_sq) + eps)
    return unravel(x)


def adam(grad_fn: _GradFn, x0: Any, callback: _Callback = None, num_iters: int = 100,
         step_size: Any = 0.001, b1: Any = 0.9, b2: Any = 0.999, eps: float = 1e-8) -> Any:
    """Adam (Kingma and Ba, 2015), with bias-corrected moment estimates.

    Args:
        grad_fn: ``(x, i) -> gradient`` at iteration ``i``, ``x`` a pytree.
        x0: the starting point (a pytree).
        callback: called as ``callback(x, i, g)`` before each update, if given.
        num_iters: the number of steps.
        step_size: the learning rate.
        b1: the decay of the first moment.
        b2: the decay of the second moment.
        eps: added to the root of the second moment.

    Returns:
        The final ``x``, with ``x0``'s structure.

    >>> import numpy, xform
    >>> from xform.optimizers import adam
    >>> g = xform.grad(lambda x, i: ((x - 3.0) ** 2).sum())
    >>> x = adam(g, numpy.zeros(2), num_iters=500, step_size=0.1)
    >>> bool(numpy.allclose(x, 3.0, atol=1e-2))
    True
    """
    x, unravel, g_fn = _flat(grad_fn, x0)
    m = _zeros_like(x)
    v = _zeros_like(x)
    for i in range(num_iters):
        g = g_fn(x, i)
        if callback:
            callback(unravel(x), i, unravel(g))
        m = (1.0 - b1) * g + b1 * m
        v = (1.0 - b2) * (g * g) + b2 * v
        m_hat = m / (1.0 - b1 ** (i + 1))
        v_hat = v / (1.0 - b2 ** (i + 1))
        x = x - step_size * m_hat / (_sqrt(v_hat) + eps)
    return unravel(x)


__all__ = ["sgd", "momentum", "rmsprop", "adam"]
