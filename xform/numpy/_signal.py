"""One-dimensional signal helpers: convolve/correlate (one primitive, ``convolve_full``:
the full convolution along the last axis, leading axes broadcast), interp, polyval,
diff, gradient, trapezoid. (``xform.scipy.signal`` has its own N-d primitive; this
layer cannot depend on that one.)

May import: the core and the family files up to ``_stats`` (order: ``__init__``).
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..core.arrays import numpy_only
from ..core.rules import Primitive, align_batched, bind, defbilinear, dtype_of, shape_of, zeros_like
from ..core.trace import Tracer
from ._creation import asarray
from ._elementwise import (astype, conj, greater, is_complex, less, maximum, minimum, mod,
                           not_equal, subtract, where)
from ._indexing import argsort, getitem
from ._reductions import normalize_axis
from ._reductions import sum as xsum
from ._shape import broadcast_to, concatenate, expand_dims, ravel, reshape
from ._stats import searchsorted


# ------------------------------------------------------------------------ convolution
def _conv_impl(a: Any, v: Any) -> Any:
    a, v = np.asarray(a), np.asarray(v)
    if a.ndim == 1 and v.ndim == 1:
        return np.convolve(a, v)
    # leading axes broadcast: out[..., k] = sum_i a_padded[..., k + i] * v[..., m-1-i]
    m = v.shape[-1]
    padded = np.pad(a, [(0, 0)] * (a.ndim - 1) + [(m - 1, m - 1)])
    windows = sliding_window_view(padded, m, axis=-1)
    return np.einsum("...ki,...i->...k", windows, v[..., ::-1])


convolve_p = Primitive("convolve_full", numpy_only("xform.numpy.convolve", _conv_impl))


def _flip_last(x: Any) -> Any:
    return getitem(x, (Ellipsis, slice(None, None, -1)))


def _conv_vjp(ct: Any, other: Any, n: int) -> Any:
    """Cotangent of the operand of length ``n`` convolved with ``other``: a
    correlation of ``ct`` with ``other``, i.e. the valid part of ``ct * flip(other)``."""
    m = shape_of(other)[-1]
    full = bind(convolve_p, ct, _flip_last(other))
    return getitem(full, (Ellipsis, slice(m - 1, m - 1 + n)))


defbilinear(convolve_p, lambda ct, ans, a, v: _conv_vjp(ct, v, shape_of(a)[-1]),
            lambda ct, ans, a, v: _conv_vjp(ct, a, shape_of(v)[-1]), broadcasting=True)
convolve_p.batch = lambda vals, dims, params: (bind(convolve_p, *align_batched(vals, dims)), 0)


def _mode_slice(full: Any, n: int, m: int, mode: str, start_same: int) -> Any:
    if mode == "full":
        return full
    small, big = min(n, m), max(n, m)
    if mode == "same":
        return getitem(full, (slice(start_same, start_same + big),))
    if mode == "valid":
        return getitem(full, (slice(small - 1, small - 1 + big - small + 1),))
    raise ValueError(f"mode must be one of 'full', 'same' or 'valid', got {mode!r}")


def _as_1d_pair(a: Any, v: Any, who: str) -> tuple[Any, Any, int, int]:
    a, v = asarray(a), asarray(v)
    if len(shape_of(a)) == 0:
        a = reshape(a, (1,))
    if len(shape_of(v)) == 0:
        v = reshape(v, (1,))
    if len(shape_of(a)) != 1 or len(shape_of(v)) != 1:
        raise ValueError(f"{who}: object too deep for desired array (1-D inputs only)")
    n, m = shape_of(a)[0], shape_of(v)[0]
    if n == 0:
        raise ValueError(f"{who}: a cannot be empty")
    if m == 0:
        raise ValueError(f"{who}: v cannot be empty")
    return a, v, n, m


def convolve(a: Any, v: Any, mode: str = "full") -> Any:
    """`numpy.convolve` of two 1-D sequences, modes full/same/valid; bilinear, so
    differentiable in both.

    Args:
        a: the first 1-D sequence (traced or not).
        v: the second 1-D sequence.
        mode: ``"full"`` (every overlap), ``"same"`` (the length of the longer input)
            or ``"valid"`` (complete overlaps only).

    Returns:
        The discrete linear convolution of ``a`` and ``v``.

    >>> import xform, xform.numpy as np
    >>> np.convolve(np.array([1.0, 2.0]), np.array([1.0, 1.0, 1.0])).tolist()
    [1.0, 3.0, 3.0, 2.0]
    >>> box = np.array([1.0, 1.0, 1.0])
    >>> xform.grad(lambda a: np.sum(np.convolve(a, box)))(np.ones(2)).tolist()
    [3.0, 3.0]
    """
    a, v, n, m = _as_1d_pair(a, v, "convolve")
    return _mode_slice(bind(convolve_p, a, v), n, m, mode, (min(n, m) - 1) // 2)


def correlate(a: Any, v: Any, mode: str = "valid") -> Any:
    """`numpy.correlate`: ``c[k] = sum_n a[n + k] * conj(v[n])``, modes full/same/valid.

    Args:
        a: the first 1-D sequence (traced or not).
        v: the second 1-D sequence (conjugated).
        mode: ``"valid"`` (complete overlaps only), ``"same"`` or ``"full"``.

    Returns:
        The cross-correlation of ``a`` and ``v``, differentiable in both.

    >>> import xform, xform.numpy as np
    >>> np.correlate(np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0]), "full").tolist()
    [1.0, 2.0, 3.0, 0.0]
    >>> xform.grad(lambda v: np.correlate(np.array([1.0, 2.0, 3.0]), v)[0])(np.ones(2)).tolist()
    [1.0, 2.0]
    """
    a, v, n, m = _as_1d_pair(a, v, "correlate")
    full = bind(convolve_p, a, conj(_flip_last(v)))
    half = (min(n, m) - 1) // 2
    return _mode_slice(full, n, m, mode, half if n >= m else min(n, m) - 1 - half)


# ------------------------------------------------------------------------ interpolation
def interp(x: Any, xp: Any, fp: Any, left: Any = None, right: Any = None,
           period: Any = None) -> Any:
    """`numpy.interp`: piecewise-linear interpolation, differentiable in ``x`` (the
    slope), ``fp`` (the weights) and ``xp``.

    Args:
        x: where to evaluate (traced or not).
        xp: the increasing sample points.
        fp: the values at ``xp`` (real or complex).
        left: the value below ``xp[0]`` (default ``fp[0]``).
        right: the value above ``xp[-1]`` (default ``fp[-1]``).
        period: a period for periodic ``x`` (then ``left`` and ``right`` are ignored).

    Returns:
        The interpolated values, of the shape of ``x``.

    >>> import xform, xform.numpy as np
    >>> xp, fp = np.array([0.0, 1.0, 2.0]), np.array([0.0, 10.0, 30.0])
    >>> float(np.interp(1.5, xp, fp)), float(xform.grad(np.interp)(1.5, xp, fp))
    (20.0, 20.0)
    """
    complex_fp = is_complex(fp)
    x = astype(asarray(x), np.float64)
    xp = astype(asarray(xp), np.float64)
    fp = astype(asarray(fp), np.complex128 if complex_fp else np.float64)
    if len(shape_of(xp)) != 1 or len(shape_of(fp)) != 1:
        raise ValueError("Data points must be 1-D sequences")
    if shape_of(xp)[0] != shape_of(fp)[0]:
        raise ValueError("fp and xp are not of the same length")
    if shape_of(xp)[0] == 0:
        raise ValueError("array of sample points is empty")
    if period is not None:
        if period == 0:
            raise ValueError("period must be a non-zero value")
        period = abs(period)
        left = right = None
        x = mod(x, period)
        xp = mod(xp, period)
        order = argsort(xp)
        xp, fp = getitem(xp, (order,)), getitem(fp, (order,))
        xp = concatenate([xp[-1:] - period, xp, xp[0:1] + period])
        fp = concatenate([fp[-1:], fp, fp[0:1]])
    n = shape_of(xp)[0]
    left = fp[0] if left is None else left
    right = fp[-1] if right is None else right
    if n == 1:
        return where(less(x, xp[0]), left, where(greater(x, xp[0]), right, fp[0]))
    j = searchsorted(xp, x, side="right") - 1
    j = minimum(maximum(j, 0), n - 2)
    x0, x1 = getitem(xp, (j,)), getitem(xp, (j + 1,))
    f0, f1 = getitem(fp, (j,)), getitem(fp, (j + 1,))
    slope = (f1 - f0) / (x1 - x0)
    y = slope * (x - x0) + f0
    y = where(x == xp[-1], fp[-1], y)
    return where(less(x, xp[0]), left, where(greater(x, xp[-1]), right, y))


def polyval(p: Any, x: Any) -> Any:
    """`numpy.polyval` by Horner's rule; differentiable in the coefficients and ``x``.

    Args:
        p: the coefficients, highest power first (traced or not).
        x: where to evaluate.

    Returns:
        ``p[0] * x**(n-1) + ... + p[n-1]``, of the shape of ``x``.

    >>> import xform, xform.numpy as np
    >>> p = np.array([1.0, 0.0, -2.0])  # x**2 - 2
    >>> float(np.polyval(p, 3.0)), float(xform.grad(np.polyval, argnums=1)(p, 3.0))
    (7.0, 6.0)
    >>> xform.grad(np.polyval)(p, 3.0).tolist()
    [9.0, 3.0, 1.0]
    """
    p = asarray(p)
    x = asarray(x)
    y: Any = zeros_like(x)
    for i in range(shape_of(p)[0]):
        y = y * x + p[i]
    return y


# ------------------------------------------------------------------------ finite differences
def _along(nd: int, axis: int, s: slice | int) -> tuple[Any, ...]:
    return (slice(None),) * axis + (s,) + (slice(None),) * (nd - axis - 1)


def diff(a: Any, n: int = 1, axis: int = -1, prepend: Any = None, append: Any = None) -> Any:
    """`numpy.diff`: the n-th discrete difference along ``axis``.

    Args:
        a: an array.
        n: how many times to difference.
        axis: the axis.
        prepend: values put before ``a`` along ``axis`` first.
        append: values put after.

    Returns:
        The differences.

    >>> import xform, xform.numpy as np
    >>> np.diff(np.array([1.0, 4.0, 9.0])).tolist()
    [3.0, 5.0]
    """
    if n == 0:
        return a
    if n < 0:
        raise ValueError(f"order must be non-negative but got {n!r}")
    a = asarray(a)
    nd = len(shape_of(a))
    if nd == 0:
        raise ValueError("diff requires input that is at least one dimensional")
    axis = normalize_axis(axis, nd)[0]
    def edge(extra: Any) -> Any:
        extra = asarray(extra)
        if len(shape_of(extra)) == 0:
            shape = list(shape_of(a))
            shape[axis] = 1
            extra = broadcast_to(extra, tuple(shape))
        return extra

    parts = ([edge(prepend)] if prepend is not None else []) + [a] + \
        ([edge(append)] if append is not None else [])
    if len(parts) > 1:
        a = concatenate(parts, axis=axis)
    op = not_equal if dtype_of(a) == np.bool_ else subtract
    for _ in range(n):
        a = op(getitem(a, _along(nd, axis, slice(1, None))),
               getitem(a, _along(nd, axis, slice(None, -1))))
    return a


def ediff1d(ary: Any, to_end: Any = None, to_begin: Any = None) -> Any:
    """`numpy.ediff1d`: the differences of the flattened array, with values put
    before and after.

    Args:
        ary: an array (traced or not; flattened).
        to_end: values appended (flattened), or None.
        to_begin: values prepended (flattened), or None.

    Returns:
        A 1-D array, differentiable in all three.

    >>> import xform, xform.numpy as np
    >>> np.ediff1d(np.array([1.0, 4.0, 9.0]), to_begin=0.0).tolist()
    [0.0, 3.0, 5.0]
    """
    flat = ravel(asarray(ary))
    steps = subtract(getitem(flat, slice(1, None)), getitem(flat, slice(None, -1)))
    parts = ([ravel(asarray(to_begin))] if to_begin is not None else []) + [steps] + \
        ([ravel(asarray(to_end))] if to_end is not None else [])
    return concatenate(parts) if len(parts) > 1 else steps


def trapezoid(y: Any, x: Any = None, dx: float = 1.0, axis: int = -1) -> Any:
    """`numpy.trapezoid`: the trapezoidal rule along ``axis``.

    Args:
        y: the values to integrate (traced or not).
        x: the sample points along ``axis`` (None: spacing ``dx``).
        dx: the uniform spacing when ``x`` is None.
        axis: the axis to integrate along.

    Returns:
        The integral estimate, with ``axis`` removed; differentiable in ``y`` and ``x``.

    >>> import xform, xform.numpy as np
    >>> float(np.trapezoid(np.array([1.0, 2.0, 3.0])))
    4.0
    >>> xform.grad(np.trapezoid)(np.array([1.0, 2.0, 3.0])).tolist()
    [0.5, 1.0, 0.5]
    """
    y = asarray(y)
    nd = len(shape_of(y))
    axis = normalize_axis(axis, nd)[0]
    if x is None:
        d: Any = dx
    else:
        x = asarray(x)
        if len(shape_of(x)) == 1:
            d = diff(x)
            shape = [1] * nd
            shape[axis] = shape_of(d)[0]
            d = reshape(d, shape)
        else:
            d = diff(x, axis=axis)
    hi = getitem(y, _along(nd, axis, slice(1, None)))
    lo = getitem(y, _along(nd, axis, slice(None, -1)))
    return xsum(d * (hi + lo) / 2.0, axis=axis)


def _spacings(f: Any, varargs: Sequence[Any], axes: tuple[int, ...]) -> list[Any]:
    """Per axis: a scalar step, or the 1-D differences of the coordinates (collapsed
    to a scalar when they are uniform, as NumPy does)."""
    n = len(varargs)
    if n == 0:
        return [1.0] * len(axes)
    if n == 1 and len(shape_of(varargs[0])) == 0:
        return [varargs[0]] * len(axes)
    if n != len(axes):
        raise TypeError("invalid number of arguments")
    out: list[Any] = []
    for i, coords in enumerate(varargs):
        coords = asarray(coords)
        if len(shape_of(coords)) == 0:
            out.append(coords)
            continue
        if len(shape_of(coords)) != 1:
            raise ValueError("distances must be either scalars or 1d")
        if shape_of(coords)[0] != shape_of(f)[axes[i]]:
            raise ValueError("when 1d, distances must match the length of the "
                             "corresponding dimension")
        if not np.issubdtype(dtype_of(coords), np.inexact):
            coords = astype(coords, np.float64)
        steps = diff(coords)
        if not isinstance(steps, Tracer) and np.all(steps == steps[0]):
            steps = steps[0]
        out.append(steps)
    return out


def gradient(f: Any, *varargs: Any, axis: Any = None, edge_order: int = 1) -> Any:
    """`numpy.gradient`: second-order central differences inside, first- or
    second-order one-sided differences at the ends; uniform or coordinate spacing.

    Args:
        f: the sampled values (traced or not).
        *varargs: the spacing: none (1), one scalar for every axis, or one scalar or
            coordinate array per axis.
        axis: the axis or axes to differentiate along (None: all).
        edge_order: 1 or 2, the order of the one-sided differences at the ends.

    Returns:
        The estimated derivative: one array, or a tuple of one per axis.

    >>> import xform, xform.numpy as np
    >>> np.gradient(np.array([1.0, 4.0, 9.0, 16.0])).tolist()
    [3.0, 4.0, 6.0, 7.0]
    >>> xform.grad(lambda f: np.gradient(f)[1])(np.ones(4)).tolist()
    [-0.5, 0.0, 0.5, 0.0]
    """
    f = asarray(f)
    nd = len(shape_of(f))
    # NumPy keeps the order of an axis tuple (it is the order of the results)
    axes = normalize_axis(None if axis is None else int(axis), nd) \
        if axis is None or isinstance(axis, (int, np.integer)) \
        else tuple(int(a) % nd for a in axis)
    if edge_order > 2:
        raise ValueError("'edge_order' greater than 2 not supported")
    otype = dtype_of(f) if np.issubdtype(dtype_of(f), np.inexact) else np.dtype(np.float64)
    if otype != dtype_of(f):
        f = astype(f, otype)
    outs = []
    for ax, h in zip(axes, _spacings(f, varargs, axes)):
        if shape_of(f)[ax] < edge_order + 1:
            raise ValueError("Shape of array too small to calculate a numerical gradient, "
                             "at least (edge_order + 1) elements are required.")

        def at(s: slice | int) -> Any:
            return getitem(f, _along(nd, ax, s))

        def column(v: Any) -> Any:
            shape = [1] * nd
            shape[ax] = -1
            return reshape(v, shape)

        uniform = len(shape_of(h)) == 0
        if uniform:
            inner = (at(slice(2, None)) - at(slice(None, -2))) / (2.0 * h)
        else:
            h1, h2 = h[:-1], h[1:]
            a = column(-h2 / (h1 * (h1 + h2)))
            b = column((h2 - h1) / (h1 * h2))
            c = column(h1 / (h2 * (h1 + h2)))
            inner = a * at(slice(None, -2)) + b * at(slice(1, -1)) + c * at(slice(2, None))
        if edge_order == 1:
            first = (at(1) - at(0)) / (h if uniform else h[0])
            last = (at(-1) - at(-2)) / (h if uniform else h[-1])
        else:
            if uniform:
                a0, b0, c0 = -1.5 / h, 2.0 / h, -0.5 / h
                a1, b1, c1 = 0.5 / h, -2.0 / h, 1.5 / h
            else:
                d1, d2 = h[0], h[1]
                a0 = -(2.0 * d1 + d2) / (d1 * (d1 + d2))
                b0 = (d1 + d2) / (d1 * d2)
                c0 = -d1 / (d2 * (d1 + d2))
                d1, d2 = h[-2], h[-1]
                a1 = d2 / (d1 * (d1 + d2))
                b1 = -(d2 + d1) / (d1 * d2)
                c1 = (2.0 * d2 + d1) / (d2 * (d1 + d2))
            first = a0 * at(0) + b0 * at(1) + c0 * at(2)
            last = a1 * at(-3) + b1 * at(-2) + c1 * at(-1)
        out = concatenate([expand_dims(first, ax), inner, expand_dims(last, ax)], axis=ax)
        outs.append(astype(out, otype))
    return outs[0] if len(axes) == 1 else tuple(outs)


# ------------------------------------------------------------------------ XLA lowerings
def _lower_convolve(ctx: Any, a: Any, v: Any) -> Any:
    jnp = ctx.jnp
    if a.ndim == 1 and v.ndim == 1:
        return jnp.convolve(a, v, precision=ctx.lax.Precision.HIGHEST)
    lead = tuple(np.broadcast_shapes(a.shape[:-1], v.shape[:-1]))
    n, m = a.shape[-1], v.shape[-1]
    a2 = jnp.broadcast_to(a, lead + (n,)).reshape(-1, n)
    v2 = jnp.broadcast_to(v, lead + (m,)).reshape(-1, m)
    out = ctx.jax.vmap(lambda x, y: jnp.convolve(x, y, precision=ctx.lax.Precision.HIGHEST))(
        a2, v2)
    return out.reshape(lead + (n + m - 1,))


convolve_p.lower = _lower_convolve
