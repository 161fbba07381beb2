"""``xform.nn``: activation functions and friends, with the values of ``jax.nn``.

Written with ``xform.numpy``, so every function differentiates (to any order), batches
and compiles. The tails are computed stably: ``softplus`` through ``logaddexp``,
``log_sigmoid`` as ``-softplus(-x)``, ``softmax``/``log_softmax``/``logsumexp`` after
subtracting the maximum. ``relu`` and ``relu6`` have derivative 0 at their kinks, as in
JAX. ``initializers`` holds the weight initialisers, which take ``xform.random`` keys.

>>> import numpy as np
>>> import xform
>>> from xform import nn
>>> nn.relu(np.array([-1.0, 0.0, 2.0]))
array([0., 0., 2.])
>>> float(xform.grad(nn.softplus)(0.0))
0.5
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import numpy as xnp
from ..custom import custom_jvp as _custom_jvp
from ..numpy._elementwise import stop_gradient as _stop_gradient
from ..scipy.special import erfc as _erfc, expit as _expit
from . import initializers

__all__ = ["relu", "relu6", "leaky_relu", "elu", "celu", "selu", "gelu", "silu", "swish",
           "softplus", "sigmoid", "log_sigmoid", "softmax", "log_softmax", "logsumexp",
           "one_hot", "standardize", "initializers"]

_Axis = int | tuple[int, ...] | None


def _zero_like(x: Any) -> Any:
    return xnp.zeros_like(x)


@_custom_jvp
def relu(x: Any) -> Any:
    """``max(x, 0)``; its derivative at 0 is 0 (JAX's choice).

    Args:
        x: an array (traced or not).

    Returns:
        An array shaped like ``x``.

    >>> relu(np.array([-2.0, 3.0]))
    array([0., 3.])
    """
    return xnp.maximum(x, 0)


@relu.defjvp
def _relu_jvp(primals: Any, tangents: Any) -> Any:
    (x,), (t,) = primals, tangents
    return relu(x), xnp.where(x > 0, t, _zero_like(t))


@_custom_jvp
def relu6(x: Any) -> Any:
    """``min(max(x, 0), 6)``; derivative 0 at both kinks.

    Args:
        x: an array (traced or not).

    Returns:
        An array shaped like ``x``.

    >>> relu6(np.array([-1.0, 3.0, 9.0]))
    array([0., 3., 6.])
    """
    return xnp.minimum(xnp.maximum(x, 0), 6.0)


@relu6.defjvp
def _relu6_jvp(primals: Any, tangents: Any) -> Any:
    (x,), (t,) = primals, tangents
    inside = xnp.logical_and(x > 0, x < 6)
    return relu6(x), xnp.where(inside, t, _zero_like(t))


def leaky_relu(x: Any, negative_slope: Any = 1e-2) -> Any:
    """``x`` where ``x >= 0``, else ``negative_slope * x``.

    Args:
        x: an array (traced or not).
        negative_slope: the slope for negative ``x``.

    Returns:
        An array shaped like ``x``.

    >>> leaky_relu(np.array([-2.0, 3.0]))
    array([-0.02,  3.  ])
    """
    return xnp.where(x >= 0, x, negative_slope * x)


def elu(x: Any, alpha: Any = 1.0) -> Any:
    """``x`` where positive, else ``alpha * (exp(x) - 1)`` (the unused branch is kept
    finite, so large positive ``x`` gives no ``inf * 0`` in the gradient).

    Args:
        x: an array (traced or not).
        alpha: the scale of the negative part.

    Returns:
        An array shaped like ``x``.

    >>> elu(np.array([-1.0, 2.0]))
    array([-0.63212056,  2.        ])
    """
    safe = xnp.where(x > 0, 0.0, x)
    return xnp.where(x > 0, x, alpha * xnp.expm1(safe))


def celu(x: Any, alpha: Any = 1.0) -> Any:
    """``max(x, 0) + alpha * min(exp(x / alpha) - 1, 0)``.

    Args:
        x: an array (traced or not).
        alpha: the scale of the negative part.

    Returns:
        An array shaped like ``x``.

    >>> celu(np.array([-1.0, 2.0]))
    array([-0.63212056,  2.        ])
    """
    return xnp.maximum(x, 0.0) + alpha * xnp.expm1(xnp.minimum(x, 0.0) / alpha)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(x: Any) -> Any:
    """``scale * elu(x, alpha)`` with the self-normalising constants.

    Args:
        x: an array (traced or not).

    Returns:
        An array shaped like ``x``.

    >>> selu(np.array([1.0]))
    array([1.05070099])
    """
    return _SELU_SCALE * elu(x, _SELU_ALPHA)


def gelu(x: Any, approximate: bool = True) -> Any:
    """The Gaussian error linear unit ``x * Phi(x)``; with ``approximate`` (JAX's
    default) the tanh formula, else the exact one through ``erfc``.

    Args:
        x: an array (traced or not).
        approximate: use the tanh approximation (JAX's default) rather than ``erf``.

    Returns:
        An array shaped like ``x``.

    >>> gelu(np.array([1.0]), approximate=False)
    array([0.84134475])
    >>> gelu(np.array([1.0]))
    array([0.84119199])
    """
    dtype = xnp.result_type(x, np.float32) if not hasattr(x, "dtype") else \
        np.result_type(x.dtype, np.float32)
    if approximate:
        c = np.asarray(np.sqrt(2.0 / np.pi), dtype)[()]
        cdf = 0.5 * (1.0 + xnp.tanh(c * (x + 0.044715 * (x ** 3))))
        return x * cdf
    half = np.asarray(np.sqrt(0.5), dtype)[()]
    return xnp.astype(0.5 * x * _erfc(-x * half), dtype)


def sigmoid(x: Any) -> Any:
    """The logistic function ``1 / (1 + exp(-x))`` (``scipy.special.expit``).

    Args:
        x: an array (traced or not).

    Returns:
        An array shaped like ``x``.

    >>> sigmoid(np.array([0.0]))
    array([0.5])
    """
    return _expit(x)


def silu(x: Any) -> Any:
    """``x * sigmoid(x)`` (also called swish).

    Args:
        x: an array (traced or not).

    Returns:
        An array shaped like ``x``.

    >>> silu(np.array([1.0]))
    array([0.73105858])
    """
    return x * sigmoid(x)


swish = silu


def softplus(x: Any) -> Any:
    """``log(1 + exp(x))``, as ``logaddexp(x, 0)``: exact in both tails.

    Args:
        x: an array (traced or not).

    Returns:
        An array shaped like ``x``.

    >>> softplus(np.array([-800.0, 0.0, 800.0])).tolist()
    [0.0, 0.6931471805599453, 800.0]
    """
    return xnp.logaddexp(x, 0.0)


def log_sigmoid(x: Any) -> Any:
    """``log(sigmoid(x))`` as ``-softplus(-x)``: finite for very negative ``x``.

    Args:
        x: an array (traced or not).

    Returns:
        An array shaped like ``x``.

    >>> log_sigmoid(np.array([-800.0, 0.0])).tolist()
    [-800.0, -0.6931471805599453]
    """
    return -softplus(-x)


def _max_keep(x: Any, axis: _Axis) -> Any:
    return _stop_gradient(xnp.max(x, axis=axis, keepdims=True))


def softmax(x: Any, axis: _Axis = -1) -> Any:
    """``exp(x) / sum(exp(x))`` along ``axis``, after subtracting the maximum.

    Args:
        x: an array (traced or not).
        axis: the axis (or axes) normalised over.

    Returns:
        An array shaped like ``x``, summing to 1 along ``axis``.

    >>> softmax(np.array([1000.0, 1000.0]))
    array([0.5, 0.5])
    """
    unnormalized = xnp.exp(x - _max_keep(x, axis))
    return unnormalized / xnp.sum(unnormalized, axis=axis, keepdims=True)


def log_softmax(x: Any, axis: _Axis = -1) -> Any:
    """``x - logsumexp(x)`` along ``axis``, computed shifted by the maximum.

    Args:
        x: an array (traced or not).
        axis: the axis (or axes) normalised over.

    Returns:
        An array shaped like ``x``.

    >>> log_softmax(np.array([0.0, 0.0]))
    array([-0.69314718, -0.69314718])
    """
    shifted = x - _max_keep(x, axis)
    return shifted - xnp.log(xnp.sum(xnp.exp(shifted), axis=axis, keepdims=True))


def logsumexp(x: Any, axis: _Axis = None, keepdims: bool = False) -> Any:
    """``log(sum(exp(x)))`` along ``axis`` (all axes by default), stable for large ``x``.

    Args:
        x: an array (traced or not).
        axis: the axis (or axes) reduced; all by default.
        keepdims: keep the reduced axes with size 1.

    Returns:
        The reduction.

    >>> float(logsumexp(np.array([1000.0, 1000.0])))
    1000.6931471805599
    """
    m = xnp.max(x, axis=axis, keepdims=True)
    m = _stop_gradient(xnp.where(xnp.isfinite(m), m, 0.0))
    out = xnp.log(xnp.sum(xnp.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else xnp.squeeze(out, axis=axis)


def one_hot(x: Any, num_classes: int, *, dtype: Any = None, axis: int = -1) -> Any:
    """Indicator vectors: ``out[..., c] = (x == c)``, along a new ``axis`` (indices out of
    range give all zeros). ``dtype`` defaults to float64.

    Args:
        x: integer class indices.
        num_classes: the number of classes.
        dtype: the result's dtype (default float64).
        axis: where the new class axis goes.

    Returns:
        An array with a new axis of size ``num_classes``.

    >>> one_hot(np.array([0, 2]), 3)
    array([[1., 0., 0.],
           [0., 0., 1.]])
    """
    if not isinstance(num_classes, (int, np.integer)):
        raise TypeError(f"xform.nn.one_hot: num_classes must be a Python int; got "
                        f"{num_classes!r}.")
    dtype = np.dtype(np.float64 if dtype is None else dtype)
    x = xnp.asarray(x) if not hasattr(x, "shape") else x
    nd = len(x.shape) + 1
    axis = axis % nd
    classes = np.arange(num_classes).reshape((num_classes,) + (1,) * (nd - 1 - axis))
    return xnp.astype(xnp.expand_dims(x, axis) == classes, dtype)


def standardize(x: Any, axis: _Axis = -1, mean: Any = None, variance: Any = None,
                epsilon: Any = 1e-5) -> Any:
    """``(x - mean) / sqrt(variance + epsilon)`` along ``axis``; the variance defaults to
    ``mean(x**2) - mean(x)**2`` clipped at 0 (JAX's "fast" algorithm).

    Args:
        x: an array (traced or not).
        axis: the axis (or axes) of the statistics.
        mean: the mean to subtract (default: computed).
        variance: the variance (default: computed).
        epsilon: added to the variance.

    Returns:
        An array shaped like ``x``.

    >>> standardize(np.array([1.0, 2.0, 3.0]), epsilon=0.0)
    array([-1.22474487,  0.        ,  1.22474487])
    """
    if mean is None:
        mean = xnp.mean(x, axis=axis, keepdims=True)
    if variance is None:
        variance = xnp.mean(xnp.square(x), axis=axis, keepdims=True) - xnp.square(mean)
        variance = xnp.maximum(variance, 0.0)
    return (x - mean) / xnp.sqrt(variance + epsilon)
