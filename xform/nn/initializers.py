"""Weight initialisers, as ``jax.nn.initializers``: each factory returns
``init(key, shape, dtype=float64)``, drawing with ``xform.random`` (so the same key gives
JAX's values: bit for bit for the uniform ones, to a few ulps for the normal ones).

>>> from xform import random
>>> w = glorot_uniform()(random.PRNGKey(0), (3, 4))
>>> w.shape, bool(abs(w).max() <= (6 / 7) ** 0.5)
((3, 4), True)
"""
from __future__ import annotations

import math
from typing import Any, Callable, Sequence

import numpy as np

from .. import numpy as xnp
from .. import random

__all__ = ["zeros", "ones", "constant", "normal", "uniform", "truncated_normal",
           "variance_scaling", "glorot_uniform", "glorot_normal", "xavier_uniform",
           "xavier_normal", "he_uniform", "he_normal", "kaiming_uniform", "kaiming_normal",
           "lecun_uniform", "lecun_normal", "orthogonal"]

_Initializer = Callable[..., Any]
_Axes = int | Sequence[int]


def _dtype(dtype: Any) -> np.dtype:
    return np.dtype(np.float64 if dtype is None else dtype)


def zeros(key: Any, shape: Sequence[int], dtype: Any = None) -> Any:
    """All zeros (the key is ignored).

    Args:
        key: ignored (for the initialiser signature).
        shape: the shape.
        dtype: the dtype (default float64).

    Returns:
        An array of zeros.

    >>> zeros(None, (2,))
    array([0., 0.])
    """
    return np.zeros(tuple(shape), _dtype(dtype))


def ones(key: Any, shape: Sequence[int], dtype: Any = None) -> Any:
    """All ones (the key is ignored).

    Args:
        key: ignored (for the initialiser signature).
        shape: the shape.
        dtype: the dtype (default float64).

    Returns:
        An array of ones.

    >>> ones(None, (2,))
    array([1., 1.])
    """
    return np.ones(tuple(shape), _dtype(dtype))


def constant(value: Any, dtype: Any = None) -> _Initializer:
    """An initialiser filling with ``value``.

    Args:
        value: the fill value.
        dtype: the default dtype.

    Returns:
        An initialiser: ``init(key, shape, dtype=...) -> array``.

    >>> constant(0.5)(None, (2,))
    array([0.5, 0.5])
    """
    def init(key: Any, shape: Sequence[int], dtype: Any = dtype) -> Any:
        return np.full(tuple(shape), value, _dtype(dtype))
    return init


def normal(stddev: float = 1e-2, dtype: Any = None) -> _Initializer:
    """Normal with standard deviation ``stddev``.

    Args:
        stddev: the standard deviation.
        dtype: the default dtype.

    Returns:
        An initialiser: ``init(key, shape, dtype=...) -> array``.

    >>> import xform
    >>> w = xform.nn.initializers.normal()(xform.random.PRNGKey(0), (3, 4))
    >>> w.shape, str(w.dtype)
    ((3, 4), 'float64')
    """
    def init(key: Any, shape: Sequence[int], dtype: Any = dtype) -> Any:
        dt = _dtype(dtype)
        return random.normal(key, shape, dt) * dt.type(stddev)
    return init


def uniform(scale: float = 1e-2, dtype: Any = None) -> _Initializer:
    """Uniform on ``[0, scale)``.

    Args:
        scale: the upper bound.
        dtype: the default dtype.

    Returns:
        An initialiser: ``init(key, shape, dtype=...) -> array``.

    >>> import xform
    >>> w = xform.nn.initializers.uniform()(xform.random.PRNGKey(0), (3, 4))
    >>> w.shape, str(w.dtype)
    ((3, 4), 'float64')
    """
    def init(key: Any, shape: Sequence[int], dtype: Any = dtype) -> Any:
        dt = _dtype(dtype)
        return random.uniform(key, shape, dt) * dt.type(scale)
    return init


def truncated_normal(stddev: float = 1e-2, dtype: Any = None, lower: float = -2.0,
                     upper: float = 2.0) -> _Initializer:
    """A normal truncated to ``[lower, upper]`` standard deviations, times ``stddev``.

    Args:
        stddev: the scale.
        dtype: the default dtype.
        lower: the lower bound, in standard deviations.
        upper: the upper bound, in standard deviations.

    Returns:
        An initialiser: ``init(key, shape, dtype=...) -> array``.

    >>> import xform
    >>> w = xform.nn.initializers.truncated_normal()(xform.random.PRNGKey(0), (3, 4))
    >>> w.shape, str(w.dtype)
    ((3, 4), 'float64')
    """
    def init(key: Any, shape: Sequence[int], dtype: Any = dtype) -> Any:
        dt = _dtype(dtype)
        return random.truncated_normal(key, lower, upper, shape, dt) * dt.type(stddev)
    return init


def _size(shape: Sequence[int], axes: _Axes) -> int:
    return shape[axes] if isinstance(axes, int) else math.prod(shape[i] for i in axes)


def _fans(shape: Sequence[int], in_axis: _Axes, out_axis: _Axes,
          batch_axis: _Axes) -> tuple[float, float]:
    if isinstance(in_axis, int) and in_axis == -2 and len(shape) <= 1:
        raise ValueError(f"xform.nn.initializers: cannot compute the fan-in of a "
                         f"{len(shape)}-dimensional weight shape {tuple(shape)} with the "
                         "default in_axis=-2; pass a shape of at least 2 dimensions or "
                         "in_axis explicitly.")
    fan_in, fan_out = _size(shape, in_axis), _size(shape, out_axis)
    receptive = math.prod(shape) / fan_in / fan_out / _size(shape, batch_axis)
    return fan_in * receptive, fan_out * receptive


def variance_scaling(scale: float, mode: str, distribution: str, in_axis: _Axes = -2,
                     out_axis: _Axes = -1, batch_axis: _Axes = (),
                     dtype: Any = None) -> _Initializer:
    """Samples with variance ``scale / n``, ``n`` the fan-in, fan-out, their average or
    geometric mean (``mode``), from a ``"truncated_normal"``, ``"normal"`` or
    ``"uniform"`` distribution, as ``jax.nn.initializers.variance_scaling``.

    Args:
        scale: the variance numerator.
        mode: ``"fan_in"``, ``"fan_out"`` or ``"fan_avg"``.
        distribution: ``"truncated_normal"``, ``"normal"`` or ``"uniform"``.
        in_axis: the fan-in axis (or axes).
        out_axis: the fan-out axis (or axes).
        batch_axis: axes counted in neither fan.
        dtype: the default dtype.

    Returns:
        An initialiser: ``init(key, shape, dtype=...) -> array``.

    >>> w = variance_scaling(2.0, "fan_in", "normal")(random.PRNGKey(0), (400, 300))
    >>> bool(abs(float(w.std()) - (2 / 400) ** 0.5) < 2e-3)
    True
    """
    if mode not in ("fan_in", "fan_out", "fan_avg", "fan_geo_avg"):
        raise ValueError(f"xform.nn.initializers.variance_scaling: mode must be 'fan_in', "
                         f"'fan_out', 'fan_avg' or 'fan_geo_avg'; got {mode!r}.")
    if distribution not in ("truncated_normal", "normal", "uniform"):
        raise ValueError("xform.nn.initializers.variance_scaling: distribution must be "
                         f"'truncated_normal', 'normal' or 'uniform'; got {distribution!r}.")

    def init(key: Any, shape: Sequence[int], dtype: Any = dtype) -> Any:
        shape = tuple(shape)
        dt = _dtype(dtype)
        fan_in, fan_out = _fans(shape, in_axis, out_axis, batch_axis)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2,
             "fan_geo_avg": (fan_in * fan_out) ** 0.5}[mode]
        variance = np.asarray(scale / n, dt)
        if distribution == "truncated_normal":
            # the standard deviation of a unit normal truncated to [-2, 2]
            stddev = np.sqrt(variance) / np.asarray(.87962566103423978, dt)
            return random.truncated_normal(key, -2, 2, shape, dt) * stddev
        if distribution == "normal":
            return random.normal(key, shape, dt) * np.sqrt(variance)
        return random.uniform(key, shape, dt, -1) * np.sqrt(3 * variance)

    return init


def _family(scale: float, mode: str, distribution: str, name: str, doc: str) -> _Initializer:
    def factory(in_axis: _Axes = -2, out_axis: _Axes = -1, batch_axis: _Axes = (),
                dtype: Any = None) -> _Initializer:
        return variance_scaling(scale, mode, distribution, in_axis, out_axis, batch_axis,
                                dtype)
    factory.__name__ = factory.__qualname__ = name
    factory.__doc__ = (f"{doc}\n\nArgs:\n    in_axis: the fan-in axis (or axes) of the shape.\n"
                       "    out_axis: the fan-out axis (or axes).\n"
                       "    batch_axis: axes counted in neither fan.\n"
                       "    dtype: the default dtype of the arrays.\n\n"
                       "Returns:\n    An initialiser: ``init(key, shape, dtype=...) -> array``.\n\n"
                       "Example:\n    >>> import xform\n"
                       f"    >>> w = xform.nn.initializers.{name}()(xform.random.PRNGKey(0), (3, 4))\n"
                       "    >>> w.shape\n    (3, 4)\n")
    return factory


glorot_uniform = _family(1.0, "fan_avg", "uniform", "glorot_uniform",
                         "Glorot/Xavier uniform: variance ``2 / (fan_in + fan_out)``.")
glorot_normal = _family(1.0, "fan_avg", "truncated_normal", "glorot_normal",
                        "Glorot/Xavier (truncated) normal: variance ``2 / (fan_in + fan_out)``.")
lecun_uniform = _family(1.0, "fan_in", "uniform", "lecun_uniform",
                        "LeCun uniform: variance ``1 / fan_in``.")
lecun_normal = _family(1.0, "fan_in", "truncated_normal", "lecun_normal",
                       "LeCun (truncated) normal: variance ``1 / fan_in``.")
he_uniform = _family(2.0, "fan_in", "uniform", "he_uniform",
                     "He/Kaiming uniform: variance ``2 / fan_in``.")
he_normal = _family(2.0, "fan_in", "truncated_normal", "he_normal",
                    "He/Kaiming (truncated) normal: variance ``2 / fan_in``.")
xavier_uniform, xavier_normal = glorot_uniform, glorot_normal
kaiming_uniform, kaiming_normal = he_uniform, he_normal


def orthogonal(scale: float = 1.0, column_axis: int = -1, dtype: Any = None) -> _Initializer:
    """A (semi-)orthogonal matrix from the QR factors of a normal draw, signs fixed by
    ``R``'s diagonal, reshaped so that ``column_axis`` holds the columns.

    Args:
        scale: a factor on the matrix.
        column_axis: the axis of the columns.
        dtype: the default dtype.

    Returns:
        An initialiser: ``init(key, shape, dtype=...) -> array``.

    >>> q = orthogonal()(random.PRNGKey(0), (3, 3))
    >>> bool(np.allclose(q.T @ q, np.eye(3)))
    True
    """
    def init(key: Any, shape: Sequence[int], dtype: Any = dtype) -> Any:
        shape = tuple(shape)
        dt = _dtype(dtype)
        if len(shape) < 2:
            raise ValueError(f"xform.nn.initializers.orthogonal: the shape must have at "
                             f"least two dimensions; got {shape}.")
        n_rows = math.prod(shape) // shape[column_axis]
        n_cols = shape[column_axis]
        matrix_shape = (n_cols, n_rows) if n_rows < n_cols else (n_rows, n_cols)
        a = random.normal(key, matrix_shape, dt)
        q, r = xnp.linalg.qr(a)
        q = q * xnp.sign(xnp.diagonal(r))
        if n_rows < n_cols:
            q = q.T
        rest = tuple(d for i, d in enumerate(shape) if i != column_axis % len(shape))
        q = xnp.reshape(q, rest + (shape[column_axis],))
        return scale * xnp.moveaxis(q, -1, column_axis)
    return init
