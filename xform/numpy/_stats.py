"""Sorting and statistics: sort/partition/searchsorted, averages and NaN-aware
reductions, quantiles (through sort), covariance and correlation.

May import: the core and the family files up to ``_manip`` (order: ``__init__``).

``sort`` is a primitive whose derivative permutes the tangent with the argsort of
its input; quantiles gather from the sorted values, so their derivative flows to
the order statistics they interpolate (and to ``q`` itself).
"""
from __future__ import annotations

import builtins
import math
from typing import Any

import numpy as np

from ..core.arrays import refuse_silent_fallback
from ..core.rules import (Primitive, batch_axis_param, bind, defjvp, defvjp, dtype_of,
                          move_to_front, shape_of)
from ..core.trace import Tracer, like_value
from ._contract import dot
from ._creation import array, asarray
from ._elementwise import (abs_squared, astype, ceil, clip, conj, divide, equal, floor, imag, is_complex, isnan,
                           less, less_equal, logical_and, logical_not, maximum, minimum, mod,
                           multiply, nonzero, not_equal, real, rint, sqrt, where)
from ._elementwise import where as _where  # for functions with a `where=` parameter
from ._indexing import argsort, getitem, refuse_order
from ._manip import diagonal, take_along_axis
from ._reductions import Axis, cumprod, cumsum, keepdims_shape, normalize_axis, warn_if
from ._reductions import all as xall
from ._reductions import max as xmax
from ._reductions import mean as xmean
from ._reductions import min as xmin
from ._reductions import prod as xprod
from ._reductions import sum as xsum
from ._shape import broadcast_to, concatenate, ravel, reshape, squeeze, transpose


def _inexact(x: Any) -> bool:
    return bool(np.issubdtype(dtype_of(x), np.inexact))


# ------------------------------------------------------------------------ sort
sort_p = Primitive("sort", lambda x, axis: np.sort(x, axis=axis))
# sort(x) = x[perm]: the tangent is permuted alike, the cotangent by the inverse
defjvp(sort_p, lambda t, ans, x, axis: take_along_axis(t, argsort(x, axis), axis))
defvjp(sort_p, lambda ct, ans, x, axis: take_along_axis(
    ct, argsort(argsort(x, axis), axis), axis))
batch_axis_param(sort_p)


def sort(a: Any, axis: int | None = -1, kind: str | None = None, order: Any = None, *,
         stable: bool | None = None) -> Any:
    """`numpy.sort`; the derivative permutes like the values (ties: any order).

    Args:
        a: an array.
        axis: the axis sorted along (None: flattened).
        kind: the sorting algorithm, as NumPy's.
        order: must be None (structured arrays are refused: see `argpartition`).
        stable: ask for a stable sort.

    Returns:
        The sorted values; the derivative follows each value to its place.

    >>> import xform, xform.numpy as np
    >>> np.sort(np.array([3.0, 1.0, 2.0])).tolist()
    [1.0, 2.0, 3.0]
    >>> xform.grad(lambda v: np.sort(v)[0])(np.array([3.0, 1.0, 2.0])).tolist()
    [0.0, 1.0, 0.0]
    """
    refuse_order("sort", order)
    a = asarray(a)
    if axis is None:
        a, axis = ravel(a), 0
    nd = len(shape_of(a))
    if nd == 0:
        raise np.exceptions.AxisError("axis -1 is out of bounds for array of dimension 0")
    return bind(sort_p, a, axis=int(axis) % nd)


argpartition_p = Primitive("argpartition", lambda a, kth, axis: np.argpartition(
    a, kth, axis=axis), nondiff=True)
# Dask has no sort: it would compute the whole operand (so would median, quantile...)
refuse_silent_fallback("xform.numpy.sort", sort_p)
refuse_silent_fallback("xform.numpy.argpartition", argpartition_p)
batch_axis_param(argpartition_p)


def argpartition(a: Any, kth: Any, axis: int | None = -1, kind: str = "introselect",
                 order: Any = None) -> Any:
    """`numpy.argpartition` (integer result, no derivative).

    Args:
        a: an array (traced or not; only its values are used).
        kth: the index, or indices, to put in sorted position.
        axis: the axis to partition along (None: the flattened array).
        kind: accepted for NumPy's signature (ignored).
        order: must be None: structured arrays (its only use) are refused with a
            NotImplementedError, as by `partition`, `sort` and `argsort`.

    Returns:
        An integer array of indices that partition ``a`` along ``axis``.

    >>> import xform.numpy as np
    >>> int(np.argpartition(np.array([3.0, 1.0, 2.0]), 0)[0])
    1
    """
    refuse_order("argpartition", order)
    a = asarray(a)
    if axis is None:
        a, axis = ravel(a), 0
    kth = int(kth) if isinstance(kth, (int, np.integer)) else tuple(int(k) for k in kth)
    return bind(argpartition_p, a, kth=kth, axis=int(axis) % len(shape_of(a)))


def partition(a: Any, kth: Any, axis: int | None = -1, kind: str = "introselect",
              order: Any = None) -> Any:
    """`numpy.partition`: the k-th entries in sorted position, smaller ones before and
    larger ones after; differentiable like `sort`.

    Args:
        a: the data (traced or not).
        kth: the index, or indices, to put in sorted position.
        axis: the axis to partition along (None: the flattened array).
        kind: accepted for NumPy's signature (ignored).
        order: must be None: structured arrays (its only use) are refused with a
            NotImplementedError.

    Returns:
        An array of ``a``'s shape whose ``kth`` entries are in sorted position.

    >>> import xform, xform.numpy as np
    >>> x = np.array([3.0, 1.0, 2.0])
    >>> float(np.partition(x, 0)[0]), xform.grad(lambda x: np.partition(x, 0)[0])(x).tolist()
    (1.0, [0.0, 1.0, 0.0])
    """
    refuse_order("partition", order)
    a = asarray(a)
    if axis is None:
        a, axis = ravel(a), 0
    return take_along_axis(a, argpartition(a, kth, axis), axis)


searchsorted_p = Primitive("searchsorted", lambda a, v, side: np.searchsorted(
    a, v, side=side), nondiff=True)


def _batch_searchsorted(vals: Any, dims: Any, params: dict) -> tuple[Any, int]:
    a, v = vals
    da, dv = dims
    if da is None:
        return bind(searchsorted_p, a, move_to_front(v, dv), **params), 0
    # a batch of sorted rows: count the entries below each value, all rows at once
    a = move_to_front(a, da)
    size, n = shape_of(a)
    v = move_to_front(v, dv) if dv is not None else broadcast_to(v, (size,) + shape_of(v))
    rest = shape_of(v)[1:]
    rows = reshape(a, (size,) + (1,) * len(rest) + (n,))
    below = (less if params["side"] == "left" else less_equal)(rows, reshape(v, shape_of(v) + (1,)))
    return xsum(astype(below, np.intp), axis=-1), 0


searchsorted_p.batch = _batch_searchsorted


def searchsorted(a: Any, v: Any, side: str = "left", sorter: Any = None) -> Any:
    """`numpy.searchsorted` (integer result, no derivative).

    Args:
        a: a sorted 1-D array (traced or not; only its values are used).
        v: the values to insert.
        side: ``"left"`` (the first suitable index) or ``"right"`` (the last).
        sorter: indices that sort ``a``, when it is not sorted itself.

    Returns:
        Integer insertion indices, of the shape of ``v``.

    >>> import xform.numpy as np
    >>> np.searchsorted(np.array([1.0, 2.0, 3.0]), np.array([2.0, 2.5])).tolist()
    [1, 2]
    """
    if side not in ("left", "right"):
        raise ValueError(f"side must be 'left' or 'right' (got {side!r})")
    if sorter is not None:
        a = getitem(a, (sorter,))
    return bind(searchsorted_p, a, v, side=side)


def unique(ar: Any, return_index: bool = False, return_inverse: bool = False,
           return_counts: bool = False, axis: int | None = None, *, equal_nan: bool = True,
           **kwargs: Any) -> Any:
    """`numpy.unique` of a concrete array (the result's size depends on the values).
    The unique values of a traced floating-point array are gathered from it, so they
    carry its derivative (each from the first occurrence, as ``return_index`` gives);
    indices, inverse and counts are plain integer arrays.

    Args:
        ar: a concrete array (or a traced one whose values are known eagerly).
        return_index: also return the index of each value's first occurrence.
        return_inverse: also return the indices that rebuild ``ar`` from the result.
        return_counts: also return how often each value occurs.
        axis: the axis along which to take unique slices (None: the flattened array).
        equal_nan: treat NaNs as equal, giving one NaN.
        **kwargs: NumPy's further keywords (``sorted``), passed through.

    Returns:
        The sorted unique values, or a tuple of them and the requested index arrays.

    >>> import xform, xform.numpy as np
    >>> xform.grad(lambda x: np.sum(np.unique(x) ** 2))(np.array([3.0, 1.0, 3.0])).tolist()
    [6.0, 2.0, 0.0]
    """
    if not isinstance(ar, Tracer):
        return np.unique(ar, return_index=return_index,  # type: ignore[call-overload]
                         return_inverse=return_inverse, return_counts=return_counts,
                         axis=axis, equal_nan=equal_nan, **kwargs)
    traced = ar
    found = np.unique(ar._concrete("unique()"), return_index=True,  # type: ignore[call-overload]
                      return_inverse=return_inverse, return_counts=return_counts, axis=axis,
                      equal_nan=equal_nan, **kwargs)
    found = tuple(found)
    if np.issubdtype(dtype_of(traced), np.inexact):
        first = found[1]
        values = (getitem(ravel(traced), first) if axis is None else
                  getitem(traced, (slice(None),) * normalize_axis(axis, traced.ndim)[0] + (first,)))
        found = (values,) + tuple(found[1:])
    # found is (values, index, [inverse], [counts]): drop the index unless asked for
    out = found[:2] + tuple(found[2:]) if return_index else (found[0],) + tuple(found[2:])
    return out[0] if len(out) == 1 else out


def count_nonzero(a: Any, axis: Axis = None, *, keepdims: bool = False) -> Any:
    """`numpy.count_nonzero` (integer result, no derivative).

    Args:
        a: an array (traced or not).
        axis: the axis or axes to count along (None: all).
        keepdims: keep the reduced axes with size one.

    Returns:
        The number of nonzero entries (an integer, or an integer array).

    >>> import xform.numpy as np
    >>> int(np.count_nonzero(np.array([0.0, 1.5, 0.0, 2.0])))
    2
    """
    return xsum(astype(not_equal(a, 0), np.intp), axis=axis, keepdims=keepdims)


def flatnonzero(a: Any) -> Any:
    """`numpy.flatnonzero` of a concrete array.

    Args:
        a: a concrete array (not traced: the result's size depends on its values).

    Returns:
        The indices of the nonzero entries of the flattened array.

    >>> import xform.numpy as np
    >>> np.flatnonzero(np.array([[0.0, 1.0], [2.0, 0.0]])).tolist()
    [1, 2]
    """
    return nonzero(ravel(a))[0]


def argwhere(a: Any) -> Any:
    """`numpy.argwhere` of a concrete array.

    Args:
        a: a concrete array (not traced: the result's size depends on its values).

    Returns:
        An integer array of shape ``(count, a.ndim)``: the indices of nonzero entries.

    >>> import xform.numpy as np
    >>> np.argwhere(np.array([[0.0, 1.0], [2.0, 0.0]])).tolist()
    [[0, 1], [1, 0]]
    """
    if isinstance(a, Tracer):
        a = a._concrete("argwhere()")
    return np.argwhere(a)


# ------------------------------------------------------------------------ averages, NaN-aware
def average(a: Any, axis: Axis = None, weights: Any = None, returned: bool = False, *,
            keepdims: bool = False) -> Any:
    """`numpy.average`, differentiable in ``a`` and in ``weights``.

    Args:
        a: the data (traced or not).
        axis: the axis or axes to average over (None: all).
        weights: weights broadcastable along ``axis`` (None: equal weights).
        returned: also return the sum of the weights.
        keepdims: keep the reduced axes with size one.

    Returns:
        The weighted mean, or ``(average, sum_of_weights)`` when ``returned``.

    >>> import xform, xform.numpy as np
    >>> float(np.average(np.array([1.0, 3.0]), weights=np.array([1.0, 3.0])))
    2.5
    >>> mean = lambda w: np.average(np.array([1.0, 3.0]), weights=w)
    >>> xform.grad(mean)(np.array([1.0, 3.0])).tolist()
    [-0.375, 0.125]
    """
    a = asarray(a)
    shape = shape_of(a)
    axes = normalize_axis(axis, len(shape))
    if weights is None:
        avg = xmean(a, axis=axes, keepdims=keepdims)
        scl: Any = np.asarray(math.prod(shape) / builtins.max(math.prod(shape_of(avg)), 1),
                              dtype_of(avg))
    else:
        w = asarray(weights)
        if shape_of(w) != shape:
            if axis is None:
                raise TypeError("Axis must be specified when shapes of a and weights differ.")
            given = [int(x) % len(shape) for x in np.atleast_1d(axis)]
            if shape_of(w) != tuple(shape[ax] for ax in given):
                raise ValueError("Shape of weights must be consistent with shape of a "
                                 "along specified axis.")
            w = transpose(w, np.argsort(given).tolist())
            w = reshape(w, tuple(n if i in axes else 1 for i, n in enumerate(shape)))
        dt = np.result_type(dtype_of(a), dtype_of(w))
        if not np.issubdtype(dt, np.inexact):
            dt = np.result_type(dt, np.float64)
        scl = xsum(astype(w, dt), axis=axes, keepdims=keepdims)
        known = like_value(scl)  # the values under grad/jvp/vmap too (None under jit)
        if known is not None and np.any(known == 0.0):
            raise ZeroDivisionError("Weights sum to zero, can't be normalized")
        avg = divide(xsum(multiply(astype(a, dt), astype(w, dt)), axis=axes, keepdims=keepdims),
                     scl)
    if returned:
        if shape_of(scl) != shape_of(avg):
            scl = broadcast_to(scl, shape_of(avg))
        return avg, scl
    return avg


def _kept(a: Any, where: Any) -> Any:
    """The entries a NaN-aware reduction uses: not NaN, and inside ``where``."""
    keep = logical_not(isnan(a)) if _inexact(a) else None
    if where is None:
        return keep
    return where if keep is None else logical_and(keep, where)


def _count(keep: Any, a: Any, axis: Axis, keepdims: bool) -> Any:
    if keep is None:
        keep = np.ones(shape_of(a), bool)
    return xsum(astype(keep, np.intp), axis=axis, keepdims=keepdims)


def nansum(a: Any, axis: Axis = None, dtype: Any = None, out: None = None,
           keepdims: bool = False, initial: Any = None, where: Any = None) -> Any:
    """`numpy.nansum`: NaNs count as zero (and get a zero derivative).

    Args:
        a: the data (traced or not).
        axis: the axis or axes to reduce (None: all).
        dtype: the dtype of the computation.
        out: unsupported (must be None).
        keepdims: keep the reduced axes with size one.
        initial: a starting value added to each sum.
        where: a boolean mask of the entries to include.

    Returns:
        The sums of the non-NaN entries.

    >>> import xform, xform.numpy as np
    >>> x = np.array([2.0, np.nan, 3.0])
    >>> float(np.nansum(x)), xform.grad(np.nansum)(x).tolist()
    (5.0, [1.0, 0.0, 1.0])
    """
    a = asarray(a)
    keep = _kept(a, where)
    total = xsum(a if keep is None else _where(keep, a, 0), axis=axis, dtype=dtype,
                 keepdims=keepdims)
    return total if initial is None else total + initial


def nanmean(a: Any, axis: Axis = None, dtype: Any = None, out: None = None,
            keepdims: bool = False, *, where: Any = None) -> Any:
    """`numpy.nanmean`: the mean of the non-NaN entries (NaN where there are none).

    Args:
        a: the data (traced or not).
        axis: the axis or axes to reduce (None: all).
        dtype: the dtype of the computation.
        out: unsupported (must be None).
        keepdims: keep the reduced axes with size one.
        where: a boolean mask of the entries to include.

    Returns:
        The means; NaN entries get a zero derivative.

    >>> import xform, xform.numpy as np
    >>> x = np.array([1.0, np.nan, 3.0])
    >>> float(np.nanmean(x)), xform.grad(np.nanmean)(x).tolist()
    (2.0, [0.5, 0.0, 0.5])
    """
    return _nanmean(asarray(a), axis, dtype, keepdims, where, warn=True)


def _nanmean(a: Any, axis: Axis, dtype: Any, keepdims: bool, where: Any, warn: bool) -> Any:
    keep = _kept(a, where)
    if keep is None:
        return xmean(a, axis=axis, dtype=dtype, keepdims=keepdims)
    total = xsum(_where(keep, a, 0), axis=axis, dtype=dtype, keepdims=keepdims)
    if not np.issubdtype(dtype_of(total), np.inexact):
        total = astype(total, np.float64)
    count = _count(keep, a, axis, keepdims)
    empty = count == 0
    if warn:
        warn_if(empty, "Mean of empty slice")
    if like_value(total) is None:
        # staged (jit): an errstate here would not reach the generated code, so NumPy's
        # 0 / 0 is written out, without its floating-point warning
        mean = divide(total, astype(maximum(count, 1), dtype_of(total)))
        return _where(empty, complex(np.nan, np.nan) if is_complex(total) else np.nan, mean)
    with np.errstate(invalid="ignore", divide="ignore"):
        return divide(total, astype(count, dtype_of(total)))


def nanvar(a: Any, axis: Axis = None, dtype: Any = None, out: None = None, ddof: int = 0,
           keepdims: bool = False, *, where: Any = None) -> Any:
    """`numpy.nanvar`: the variance of the non-NaN entries (NaN where fewer than
    ``ddof + 1``).

    Args:
        a: the data (traced or not).
        axis: the axis or axes to reduce (None: all).
        dtype: the dtype of the computation.
        out: unsupported (must be None).
        ddof: the delta degrees of freedom (the divisor is count - ddof).
        keepdims: keep the reduced axes with size one.
        where: a boolean mask of the entries to include.

    Returns:
        The variances; NaN entries get a zero derivative.

    >>> import xform, xform.numpy as np
    >>> x = np.array([1.0, np.nan, 3.0])
    >>> float(np.nanvar(x)), xform.grad(np.nanvar)(x).tolist()
    (1.0, [-1.0, 0.0, 1.0])
    """
    a = asarray(a)
    keep = _kept(a, where)
    mu = _nanmean(a, axis, dtype, True, where, warn=False)
    dev = a - mu if keep is None else _where(keep, a - mu, 0)
    sq = abs_squared(dev)
    dof = _count(keep, a, axis, keepdims) - ddof
    warn_if(dof <= 0, "Degrees of freedom <= 0 for slice.")
    with np.errstate(invalid="ignore", divide="ignore"):
        var = divide(xsum(sq, axis=axis, keepdims=keepdims), astype(maximum(dof, 1), dtype_of(sq)))
    return _where(dof <= 0, np.nan, var)


def nanstd(a: Any, axis: Axis = None, dtype: Any = None, out: None = None, ddof: int = 0,
           keepdims: bool = False, *, where: Any = None) -> Any:
    """`numpy.nanstd`: the standard deviation of the non-NaN entries.

    Args:
        a: the data (traced or not).
        axis: the axis or axes to reduce (None: all).
        dtype: the dtype of the computation.
        out: unsupported (must be None).
        ddof: the delta degrees of freedom (the divisor is count - ddof).
        keepdims: keep the reduced axes with size one.
        where: a boolean mask of the entries to include.

    Returns:
        The standard deviations; NaN entries get a zero derivative.

    >>> import xform, xform.numpy as np
    >>> x = np.array([1.0, np.nan, 3.0])
    >>> float(np.nanstd(x)), xform.grad(np.nanstd)(x).tolist()
    (1.0, [-0.5, 0.0, 0.5])
    """
    return sqrt(nanvar(a, axis, dtype, out, ddof, keepdims, where=where))


def _nan_extreme(reduce: Any, fill: float, a: Any, axis: Axis, keepdims: bool) -> Any:
    a = asarray(a)
    if not _inexact(a):
        return reduce(a, axis=axis, keepdims=keepdims)
    nan = isnan(a)
    out = reduce(_where(nan, fill, a), axis=axis, keepdims=keepdims)
    all_nan = xall(nan, axis=axis, keepdims=keepdims)
    warn_if(all_nan, "All-NaN slice encountered")
    return _where(all_nan, np.nan, out)


def nanmax(a: Any, axis: Axis = None, out: None = None, keepdims: bool = False) -> Any:
    """`numpy.nanmax`: the maximum ignoring NaNs (NaN for an all-NaN slice).

    Args:
        a: the data (traced or not).
        axis: the axis or axes to reduce (None: all).
        out: unsupported (must be None).
        keepdims: keep the reduced axes with size one.

    Returns:
        The maxima; the derivative flows to the entry that attains each.

    >>> import xform, xform.numpy as np
    >>> x = np.array([1.0, np.nan, 3.0])
    >>> float(np.nanmax(x)), xform.grad(np.nanmax)(x).tolist()
    (3.0, [0.0, 0.0, 1.0])
    """
    return _nan_extreme(xmax, -np.inf, a, axis, keepdims)


def nanmin(a: Any, axis: Axis = None, out: None = None, keepdims: bool = False) -> Any:
    """`numpy.nanmin`: the minimum ignoring NaNs (NaN for an all-NaN slice).

    Args:
        a: the data (traced or not).
        axis: the axis or axes to reduce (None: all).
        out: unsupported (must be None).
        keepdims: keep the reduced axes with size one.

    Returns:
        The minima; the derivative flows to the entry that attains each.

    >>> import xform, xform.numpy as np
    >>> x = np.array([1.0, np.nan, 3.0])
    >>> float(np.nanmin(x)), xform.grad(np.nanmin)(x).tolist()
    (1.0, [1.0, 0.0, 0.0])
    """
    return _nan_extreme(xmin, np.inf, a, axis, keepdims)


def nanprod(a: Any, axis: Axis = None, dtype: Any = None, out: None = None,
            keepdims: bool = False) -> Any:
    """`numpy.nanprod`: NaNs count as one.

    Args:
        a: the data (traced or not).
        axis: the axis or axes to reduce (None: all).
        dtype: the dtype of the computation.
        out: unsupported (must be None).
        keepdims: keep the reduced axes with size one.

    Returns:
        The products of the non-NaN entries; NaN entries get a zero derivative.

    >>> import xform, xform.numpy as np
    >>> x = np.array([2.0, np.nan, 3.0])
    >>> float(np.nanprod(x)), xform.grad(np.nanprod)(x).tolist()
    (6.0, [3.0, 0.0, 2.0])
    """
    a = asarray(a)
    if _inexact(a):
        a = _where(isnan(a), 1, a)
    return xprod(a, axis=axis, dtype=dtype, keepdims=keepdims)


def nancumsum(a: Any, axis: int | None = None, dtype: Any = None, out: None = None) -> Any:
    """`numpy.nancumsum`: running sums with NaNs counted as zero.

    Args:
        a: the data (traced or not).
        axis: the axis (the flattened array by default).
        dtype: the accumulation and result dtype.
        out: unsupported (must be None).

    Returns:
        The running sums; NaN entries get a zero derivative.

    >>> import xform, xform.numpy as np
    >>> x = np.array([2.0, np.nan, 3.0])
    >>> np.nancumsum(x).tolist(), xform.grad(lambda x: np.nancumsum(x)[-1])(x).tolist()
    ([2.0, 2.0, 5.0], [1.0, 0.0, 1.0])
    """
    if out is not None:
        raise NotImplementedError("nancumsum: out= is not supported (arrays are immutable)")
    a = asarray(a)
    return cumsum(_where(isnan(a), 0, a) if _inexact(a) else a, axis=axis, dtype=dtype)


def nancumprod(a: Any, axis: int | None = None, dtype: Any = None, out: None = None) -> Any:
    """`numpy.nancumprod`: running products with NaNs counted as one.

    Args:
        a: the data (traced or not).
        axis: the axis (the flattened array by default).
        dtype: the accumulation and result dtype.
        out: unsupported (must be None).

    Returns:
        The running products; NaN entries get a zero derivative.

    >>> import xform, xform.numpy as np
    >>> x = np.array([2.0, np.nan, 3.0])
    >>> np.nancumprod(x).tolist(), xform.grad(lambda x: np.nancumprod(x)[-1])(x).tolist()
    ([2.0, 2.0, 6.0], [3.0, 0.0, 2.0])
    """
    if out is not None:
        raise NotImplementedError("nancumprod: out= is not supported (arrays are immutable)")
    a = asarray(a)
    return cumprod(_where(isnan(a), 1, a) if _inexact(a) else a, axis=axis, dtype=dtype)


# ------------------------------------------------------------------------ quantiles
def _to_last(a: Any, axis: Axis) -> tuple[Any, tuple[int, ...], tuple[int, ...]]:
    """``a`` with the reduced axes moved to the end and merged into one."""
    shape = shape_of(a)
    axes = normalize_axis(axis, len(shape))
    kept = [i for i in range(len(shape)) if i not in axes]
    kept_shape = tuple(shape[i] for i in kept)
    a = reshape(transpose(a, kept + list(axes)), kept_shape + (-1,))
    return a, axes, kept_shape


# virtual-index constants (alpha, beta) of the continuous Hyndman & Fan methods
_CONTINUOUS = {"interpolated_inverted_cdf": (0.0, 1.0), "hazen": (0.5, 0.5),
               "weibull": (0.0, 0.0), "median_unbiased": (1 / 3.0, 1 / 3.0),
               "normal_unbiased": (3 / 8.0, 3 / 8.0)}
_METHODS = ("linear", "lower", "higher", "nearest", "midpoint", "inverted_cdf",
            "averaged_inverted_cdf", "closest_observation", *_CONTINUOUS)


def _gather_last(s: Any, idx: Any) -> Any:
    """``out[q..., b...] = s[b..., idx[q..., b...]]``: one gather, all-advanced."""
    batch = shape_of(s)[:-1]
    lead = len(shape_of(idx)) - len(batch)
    index = [np.arange(n).reshape((1,) * lead + tuple(-1 if j == i else 1
                                                       for j in range(len(batch))))
             for i, n in enumerate(batch)]
    return getitem(s, tuple(index) + (idx,))


def _lerp(lo: Any, hi: Any, t: Any) -> Any:
    """NumPy's two-sided interpolation: exact at both ends."""
    d = hi - lo
    return where(t >= 0.5, hi - d * (1 - t), lo + d * t)


def _quantile_sorted(s: Any, n: Any, q: Any, method: str, weak_q: bool) -> Any:
    """Quantiles of the sorted rows ``s`` (samples on the last axis, NaNs last) with
    ``n`` valid entries per row; the result has shape ``q.shape + s.shape[:-1]``."""
    qs = shape_of(q)
    batch = shape_of(s)[:-1]
    q = reshape(q, qs + (1,) * len(batch))
    nf = n if not isinstance(n, int) else float(n)
    if method in ("lower", "higher", "nearest", "inverted_cdf", "closest_observation"):
        if method == "lower":
            idx = floor((nf - 1) * q)
        elif method == "higher":
            idx = ceil((nf - 1) * q)
        elif method == "nearest":
            idx = rint((nf - 1) * q)
        else:
            shift = 1.0 if method == "inverted_cdf" else 1.5
            v = nf * q - shift
            prev = floor(v)
            at_prev = equal(v, prev)
            if method == "closest_observation":
                at_prev = logical_and(at_prev, equal(mod(prev, 2), 1))
            idx = maximum(where(at_prev, prev, prev + 1), 0)
        idx = astype(idx, np.intp)
        return _gather_last(s, idx)
    if method == "linear":
        v = (nf - 1) * q
    elif method == "midpoint":
        v = 0.5 * (floor((nf - 1) * q) + ceil((nf - 1) * q))
    elif method == "averaged_inverted_cdf":
        v = nf * q - 1
    else:
        alpha, beta = _CONTINUOUS[method]
        v = nf * q + (alpha + q * (1 - alpha - beta)) - 1
    prev = floor(v)
    gamma = v - prev
    if method == "midpoint":
        gamma = where(equal(mod(v, 1), 0), 0.0, 0.5)
    elif method == "averaged_inverted_cdf":
        gamma = where(equal(gamma, 0), 0.5, 1.0)
    # outside [0, n - 1] both neighbours are the end value, as in NumPy
    top = n - 1
    lo = astype(minimum(maximum(prev, 0), top), np.intp)
    hi = astype(minimum(maximum(prev + 1, 0), top), np.intp)
    if weak_q and _inexact(s):
        gamma = astype(gamma, dtype_of(s))
    return _lerp(_gather_last(s, lo), _gather_last(s, hi), gamma)


def _quantile(a: Any, q: Any, axis: Axis, method: str, keepdims: bool,
              nan_aware: bool) -> Any:
    if method not in _METHODS:
        raise ValueError(f"{method!r} is not a valid method. Use one of: {_METHODS}")
    weak_q = type(q) in (int, float)  # as NumPy: a Python q keeps the data's precision
    q = asarray(q)
    if np.issubdtype(dtype_of(a), np.complexfloating):
        raise TypeError("a must be an array of real numbers")
    if not isinstance(q, Tracer) and not (np.all(q >= 0) and np.all(q <= 1)):
        raise ValueError("Quantiles must be in the range [0, 1]")
    a = asarray(a)
    shape = shape_of(a)
    a2, axes, kept_shape = _to_last(a, axis)
    s = sort(a2, axis=-1)
    if nan_aware and _inexact(a):
        n: Any = xsum(astype(logical_not(isnan(a2)), np.intp), axis=-1)
    else:
        n = shape_of(a2)[-1]
    out = _quantile_sorted(s, n, q, method, weak_q)
    if _inexact(a):
        # a NaN makes the quantile NaN (nan_aware: only an all-NaN row does, and NumPy
        # warns once for each such row)
        bad = (n == 0) if nan_aware else isnan(s[..., -1])
        if nan_aware:
            warn_if(bad, "All-NaN slice encountered", each=True)
        out = where(bad, np.nan, out)
    if keepdims:
        out = reshape(out, shape_of(q) + keepdims_shape(shape, axes))
    return out


def quantile(a: Any, q: Any, axis: Axis = None, out: None = None, overwrite_input: bool = False,
             method: str = "linear", keepdims: bool = False, *, weights: Any = None,
             interpolation: str | None = None) -> Any:
    """`numpy.quantile` (every unweighted method); differentiable in ``a`` and ``q``.

    Args:
        a: the data (traced or not).
        q: the quantiles, in [0, 1] (traced or not).
        axis: the axis or axes to reduce (None: all).
        out: unsupported (must be None).
        overwrite_input: accepted for NumPy's signature; the input is never changed.
        method: NumPy's estimation method (``"linear"``, ``"lower"``, ``"nearest"``...).
        keepdims: keep the reduced axes with size one.
        weights: unsupported (weighted quantiles): must be None.
        interpolation: the old name of ``method``.

    Returns:
        The quantiles,
        with a leading axis for each entry of an array ``q``.

    >>> import xform, xform.numpy as np
    >>> x = np.array([1.0, 2.0, 4.0])
    >>> float(np.quantile(x, 0.75)), xform.grad(np.quantile)(x, 0.75).tolist()
    (3.0, [0.0, 0.5, 0.5])
    >>> float(xform.grad(np.quantile, argnums=1)(x, 0.75))
    4.0
    """
    if out is not None or weights is not None:
        raise NotImplementedError("xform.numpy.quantile supports neither out= nor weights=")
    return _quantile(a, q, axis, interpolation or method, keepdims, False)


def percentile(a: Any, q: Any, axis: Axis = None, out: None = None,
               overwrite_input: bool = False, method: str = "linear", keepdims: bool = False,
               *, weights: Any = None, interpolation: str | None = None) -> Any:
    """`numpy.percentile`: `quantile` with ``q`` in percent.

    Args:
        a: the data (traced or not).
        q: the percentiles, in [0, 100] (traced or not).
        axis: the axis or axes to reduce (None: all).
        out: unsupported (must be None).
        overwrite_input: accepted for NumPy's signature; the input is never changed.
        method: NumPy's estimation method (``"linear"``, ``"lower"``, ``"nearest"``...).
        keepdims: keep the reduced axes with size one.
        weights: unsupported (weighted quantiles): must be None.
        interpolation: the old name of ``method``.

    Returns:
        The percentiles,
        with a leading axis for each entry of an array ``q``.

    >>> import xform, xform.numpy as np
    >>> x = np.array([1.0, 2.0, 4.0])
    >>> float(np.percentile(x, 75.0)), xform.grad(np.percentile)(x, 75.0).tolist()
    (3.0, [0.0, 0.5, 0.5])
    """
    return quantile(a, _percent(q), axis, out, overwrite_input, method, keepdims,
                    weights=weights, interpolation=interpolation)


def _percent(q: Any) -> Any:
    if type(q) in (int, float):
        return q / 100
    q = asarray(q)
    return divide(q, 100) if isinstance(q, Tracer) else np.true_divide(q, 100)


def nanquantile(a: Any, q: Any, axis: Axis = None, out: None = None,
                overwrite_input: bool = False, method: str = "linear", keepdims: bool = False,
                *, weights: Any = None, interpolation: str | None = None) -> Any:
    """`numpy.nanquantile`: quantiles of the non-NaN entries.

    Args:
        a: the data (traced or not).
        q: the quantiles, in [0, 1] (traced or not).
        axis: the axis or axes to reduce (None: all).
        out: unsupported (must be None).
        overwrite_input: accepted for NumPy's signature; the input is never changed.
        method: NumPy's estimation method (``"linear"``, ``"lower"``, ``"nearest"``...).
        keepdims: keep the reduced axes with size one.
        weights: unsupported (weighted quantiles): must be None.
        interpolation: the old name of ``method``.

    Returns:
        The quantiles of the non-NaN entries,
        with a leading axis for each entry of an array ``q``.

    >>> import xform, xform.numpy as np
    >>> x = np.array([1.0, np.nan, 2.0, 4.0])
    >>> float(np.nanquantile(x, 0.75)), xform.grad(np.nanquantile)(x, 0.75).tolist()
    (3.0, [0.0, 0.0, 0.5, 0.5])
    """
    if out is not None or weights is not None:
        raise NotImplementedError("xform.numpy.nanquantile supports neither out= nor weights=")
    return _quantile(a, q, axis, interpolation or method, keepdims, True)


def nanpercentile(a: Any, q: Any, axis: Axis = None, out: None = None,
                  overwrite_input: bool = False, method: str = "linear",
                  keepdims: bool = False, *, weights: Any = None,
                  interpolation: str | None = None) -> Any:
    """`numpy.nanpercentile`: `nanquantile` with ``q`` in percent.

    Args:
        a: the data (traced or not).
        q: the percentiles, in [0, 100] (traced or not).
        axis: the axis or axes to reduce (None: all).
        out: unsupported (must be None).
        overwrite_input: accepted for NumPy's signature; the input is never changed.
        method: NumPy's estimation method (``"linear"``, ``"lower"``, ``"nearest"``...).
        keepdims: keep the reduced axes with size one.
        weights: unsupported (weighted quantiles): must be None.
        interpolation: the old name of ``method``.

    Returns:
        The percentiles of the non-NaN entries,
        with a leading axis for each entry of an array ``q``.

    >>> import xform, xform.numpy as np
    >>> x = np.array([1.0, np.nan, 2.0, 4.0])
    >>> float(np.nanpercentile(x, 75.0)), xform.grad(np.nanpercentile)(x, 75.0).tolist()
    (3.0, [0.0, 0.0, 0.5, 0.5])
    """
    return nanquantile(a, _percent(q), axis, out, overwrite_input, method, keepdims,
                       weights=weights, interpolation=interpolation)


def median(a: Any, axis: Axis = None, out: None = None, overwrite_input: bool = False,
           keepdims: bool = False) -> Any:
    """`numpy.median`: the middle value, or the mean of the middle two.

    Args:
        a: an array.
        axis: the axis or axes reduced (all by default).
        out: not supported (must be None).
        overwrite_input: accepted and ignored.
        keepdims: keep the reduced axes, with size 1.

    Returns:
        The median; the derivative goes to the middle value(s).

    >>> import xform, xform.numpy as np
    >>> np.median(np.array([3.0, 1.0, 2.0])).item()
    2.0
    >>> xform.grad(np.median)(np.array([3.0, 1.0, 2.0])).tolist()
    [0.0, 0.0, 1.0]
    """
    if out is not None:
        raise NotImplementedError("xform.numpy.median does not support out=")
    a = asarray(a)
    if math.prod(shape_of(a)) == 0:  # as NumPy: the mean (NaN, with its warnings)
        return xmean(a, axis=axis, keepdims=keepdims)
    if not _inexact(a):
        a = astype(a, np.float64)
    shape = shape_of(a)
    a2, axes, _ = _to_last(a, axis)
    s = sort(a2, axis=-1)
    n = shape_of(s)[-1]
    k = n // 2
    out_ = s[..., k] if n % 2 else (s[..., k - 1] + s[..., k]) / 2
    out_ = where(isnan(s[..., -1]), np.nan, out_)
    return reshape(out_, keepdims_shape(shape, axes)) if keepdims else out_


def nanmedian(a: Any, axis: Axis = None, out: None = None, overwrite_input: bool = False,
              keepdims: bool = False) -> Any:
    """`numpy.nanmedian`: the median of the non-NaN entries.

    Args:
        a: the data (traced or not).
        axis: the axis or axes to reduce (None: all).
        out: unsupported (must be None).
        overwrite_input: accepted for NumPy's signature; the input is never changed.
        keepdims: keep the reduced axes with size one.

    Returns:
        The medians, differentiable in ``a`` (NaN entries get a zero derivative).

    >>> import xform, xform.numpy as np
    >>> x = np.array([1.0, np.nan, 3.0, 2.0])
    >>> float(np.nanmedian(x)), xform.grad(np.nanmedian)(x).tolist()
    (2.0, [0.0, 0.0, 0.0, 1.0])
    """
    if out is not None:
        raise NotImplementedError("xform.numpy.nanmedian does not support out=")
    a = asarray(a)
    if math.prod(shape_of(a)) == 0:  # as NumPy: the mean (NaN, with its warning)
        return nanmean(a, axis=axis, keepdims=keepdims)
    if not is_complex(a):
        return nanquantile(a, 0.5, axis=axis, keepdims=keepdims)
    # complex values (NumPy's order: lexicographic, NaNs last): the middle of the valid
    shape = shape_of(a)
    a2, axes, _ = _to_last(a, axis)
    s = sort(a2, axis=-1)
    valid = xsum(astype(logical_not(isnan(s)), np.intp), axis=-1, keepdims=True)
    warn_if(valid == 0, "All-NaN slice encountered", each=True)
    lo = take_along_axis(s, np.maximum(valid - 1, 0) // 2, axis=-1)
    hi = take_along_axis(s, np.minimum(valid // 2, shape_of(s)[-1] - 1), axis=-1)
    out_ = where(valid == 0, np.nan, (lo + hi) / 2)[..., 0]
    return reshape(out_, keepdims_shape(shape, axes)) if keepdims else out_


# ------------------------------------------------------------------------ covariance
def cov(m: Any, y: Any = None, rowvar: bool = True, bias: bool = False, ddof: int | None = None,
        fweights: Any = None, aweights: Any = None, *, dtype: Any = None) -> Any:
    """`numpy.cov`, differentiable in the data and in ``aweights``.

    Args:
        m: a 1-D or 2-D array of variables (rows, when ``rowvar``) and observations.
        y: more variables, stacked after those of ``m``.
        rowvar: whether rows are variables (else columns are).
        bias: normalise by N rather than N - 1.
        ddof: the delta degrees of freedom (overrides ``bias``).
        fweights: integer frequency weights, one per observation (not differentiated).
        aweights: observation weights, one per observation (differentiable).
        dtype: the dtype of the computation.

    Returns:
        The covariance matrix (a scalar for a single variable).

    >>> import xform, xform.numpy as np
    >>> float(np.cov(np.array([1.0, 2.0, 3.0])))
    1.0
    >>> xform.grad(lambda x: np.cov(x))(np.array([1.0, 2.0, 3.0])).tolist()
    [-1.0, 0.0, 1.0]
    """
    m = asarray(m)
    if dtype is None:
        dtype = np.result_type(dtype_of(m), np.float64) if y is None else \
            np.result_type(dtype_of(m), dtype_of(y), np.float64)
    X = array(m, ndmin=2, dtype=dtype)
    if not rowvar and shape_of(X)[0] != 1:
        X = transpose(X)
    if y is not None:
        Y = array(y, ndmin=2, dtype=dtype)
        if not rowvar and shape_of(Y)[0] != 1:
            Y = transpose(Y)
        X = concatenate((X, Y), axis=0)
    if ddof is None:
        ddof = 0 if bias else 1
    w: Any = None
    if fweights is not None:
        fw = np.asarray(fweights, dtype=float)
        if not np.all(fw == np.around(fw)):
            raise TypeError("fweights must be integer")
        w = fw
    if aweights is not None:
        aw = asarray(aweights, dtype=float)
        w = aw if w is None else multiply(w, aw)
    avg, w_sum = average(X, axis=1, weights=w, returned=True)
    w_sum = w_sum[0]
    n_obs = shape_of(X)[1]
    if w is None:
        fact: Any = n_obs - ddof
    elif ddof == 0:
        fact = w_sum
    elif aweights is None:
        fact = w_sum - ddof
    else:
        fact = w_sum - ddof * xsum(multiply(w, aw)) / w_sum
    if isinstance(fact, Tracer):  # traced weights: decided on their values
        none_left = less_equal(fact, 0)
        warn_if(none_left, "Degrees of freedom <= 0 for slice")
        fact = where(none_left, 0.0, fact)
    elif fact <= 0:
        warn_if(True, "Degrees of freedom <= 0 for slice")
        fact = 0.0
    X = X - reshape(avg, (-1, 1))
    X_T = transpose(X) if w is None else transpose(multiply(X, w))
    c = dot(X, conj(X_T))
    # as NumPy's: 1 / 0 warns "divide by zero" (and 0 * inf below "invalid value")
    scale = divide(1, fact) if isinstance(fact, Tracer) else np.true_divide(1, fact)
    # in the precision of the data, as NumPy's in-place `c *= 1 / fact`
    c = multiply(c, astype(scale, np.finfo(dtype_of(c)).dtype))
    return squeeze(c)


def corrcoef(x: Any, y: Any = None, rowvar: bool = True, *, dtype: Any = None) -> Any:
    """`numpy.corrcoef`: Pearson correlation coefficients (clipped to [-1, 1]).

    Args:
        x: a 1-D or 2-D array of variables (rows, when ``rowvar``) and observations.
        y: more variables, stacked after those of ``x``.
        rowvar: whether rows are variables (else columns are).
        dtype: the dtype of the computation.

    Returns:
        The correlation matrix, differentiable in the data.

    >>> import xform, xform.numpy as np
    >>> np.corrcoef(np.array([1.0, 2.0, 3.0]), np.array([2.0, 4.0, 7.0])).round(4).tolist()
    [[1.0, 0.9934], [0.9934, 1.0]]
    >>> g = xform.grad(lambda y: np.corrcoef(np.array([1.0, 2.0, 3.0]), y)[0, 1])
    >>> abs(float(np.sum(g(np.array([2.0, 4.0, 7.0]))))) < 1e-12  # shifting y changes nothing
    True
    """
    c = cov(x, y, rowvar, dtype=dtype)
    if len(shape_of(c)) == 0:
        return c / c
    d = diagonal(c)
    std = sqrt(real(d))
    c = c / reshape(std, (-1, 1))
    c = c / reshape(std, (1, -1))
    if is_complex(c):
        return clip(real(c), -1, 1) + 1j * clip(imag(c), -1, 1)
    return clip(c, -1, 1)


# ------------------------------------------------------------------------ XLA lowerings
sort_p.lower = lambda ctx, x, axis: ctx.jnp.sort(x, axis=axis)
# a full (stable) sort is a valid partition for every kth
argpartition_p.lower = lambda ctx, a, kth, axis: ctx.jnp.argsort(a, axis=axis, stable=True)
searchsorted_p.lower = lambda ctx, a, v, side: ctx.jnp.searchsorted(a, v, side=side)
