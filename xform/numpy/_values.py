"""Functions whose results are positions, counts or truth values (``digitize``,
``isin``, ``bincount``, ``histogram``, ``lexsort``, ``nanargmax``, ``array_equal``...):
no derivative flows through those results, but the functions take traced arrays, as
NumPy code inside ``grad`` or ``jit`` passes them. Each is written with xform's
traceable operations, so it works under every transform (``vmap`` and ``jit``
included) wherever its result's shape does not depend on values; where it does
(``bincount``'s length), it reads the values the transform knows (eager ``grad``,
``jvp``) and raises the usual error where none are known (``jit``). Where a result
does carry a derivative (``histogram`` and ``bincount`` with traced ``weights``, the
bin edges ``histogram`` computes from traced data), it is a sum of the weights and
an affine function of the data's extremes, and differentiates as such. Called on
NumPy arrays alone, each is NumPy's own function (same results, same errors).
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..core.rules import dtype_of, shape_of
from ..core.trace import Tracer
from ._creation import asarray, zeros
from ._elementwise import (astype, equal, greater_equal, isnan, less_equal, logical_and,
                           logical_not, logical_or, where)
from ._indexing import argsort, at, getitem, take
from ._manip import take_along_axis
from ._reductions import all as xall
from ._reductions import argmax, argmin
from ._reductions import max as xmax
from ._reductions import min as xmin
from ._reductions import sum as xsum
from ._shape import broadcast_to, flip, ravel
from ._signal import diff
from ._stats import searchsorted, sort


def _traced(*args: Any) -> bool:
    return any(isinstance(a, Tracer) for a in args)


def _value(x: Any, what: str) -> Any:
    """The values behind ``x``: its own if it is no tracer, the transform's where it
    knows them, else the error saying that ``what`` needs concrete values."""
    return x._concrete(what) if isinstance(x, Tracer) else x


def _known(x: Any) -> Any:
    """The values behind ``x`` if known (a NumPy array, an eager tracer), else None."""
    return x.known_value() if isinstance(x, Tracer) else np.asarray(x)


def digitize(x: Any, bins: Any, right: bool = False) -> Any:
    """`numpy.digitize`: the index of the bin each value falls in (no derivative).

    Args:
        x: the values (traced or not).
        bins: a 1-D array of increasing or decreasing bin edges.
        right: whether a bin includes its right edge rather than its left.

    Returns:
        Integer bin indices of the shape of ``x``.

    >>> import xform, xform.numpy as np
    >>> np.digitize(np.array([0.5, 1.0, 2.5]), np.array([0.0, 1.0, 2.0])).tolist()
    [1, 2, 3]
    >>> xform.jit(np.digitize)(np.array([0.5, 2.5]), np.array([3.0, 1.0])).tolist()
    [2, 1]
    """
    if not _traced(x, bins):
        return np.digitize(x, bins, right=right)
    bins = asarray(bins)
    if len(shape_of(bins)) != 1:
        raise ValueError("digitize: bins must be a 1-D array")
    if np.issubdtype(dtype_of(x), np.complexfloating):
        raise TypeError("digitize: x may not be complex")
    side = "left" if right else "right"
    increasing = searchsorted(bins, x, side=side)
    decreasing = shape_of(bins)[0] - searchsorted(flip(bins), x, side=side)
    known = _known(bins)
    if known is None:  # bins known only at run time: pick by their direction there
        return where(getitem(bins, -1) >= getitem(bins, 0), increasing, decreasing)
    steps = np.diff(known)
    if np.all(steps >= 0):
        return increasing
    if np.all(steps <= 0):
        return decreasing
    raise ValueError("digitize: bins must be monotonically increasing or decreasing")


def isin(element: Any, test_elements: Any, assume_unique: bool = False,
         invert: bool = False, *, kind: str | None = None) -> Any:
    """`numpy.isin`: whether each entry of ``element`` is among ``test_elements``
    (no derivative). Traced inputs are compared through a sort of ``test_elements``
    and a binary search: O((n + m) log m), under every transform.

    Args:
        element: the values looked up (traced or not).
        test_elements: the values looked among (any shape; flattened).
        assume_unique: passed to NumPy for untraced inputs (the result is the same).
        invert: return whether each entry is *not* among them.
        kind: NumPy's algorithm choice, for untraced inputs.

    Returns:
        A boolean array of the shape of ``element``.

    >>> import xform.numpy as np
    >>> np.isin(np.array([1.0, 2.0, 5.0]), np.array([5.0, 1.0])).tolist()
    [True, False, True]
    """
    if not _traced(element, test_elements):
        return np.isin(element, test_elements, assume_unique=assume_unique, invert=invert,
                       kind=kind)  # type: ignore[arg-type]
    element = asarray(element)
    pool = sort(ravel(asarray(test_elements)))
    size = shape_of(pool)[0]
    if size == 0:
        found = broadcast_to(asarray(False), shape_of(element))
    else:
        at_or_after = searchsorted(pool, element)
        nearest = take(pool, where(at_or_after < size, at_or_after, size - 1))
        found = equal(nearest, element)
    return logical_not(found) if invert else found


def array_equal(a1: Any, a2: Any, equal_nan: bool = False) -> Any:
    """`numpy.array_equal`: same shape and the same entries (no derivative).

    Args:
        a1: an array (traced or not).
        a2: another.
        equal_nan: count NaNs at the same places as equal.

    Returns:
        A boolean (a traced one when an input is traced: ``if`` reads it eagerly).

    >>> import xform.numpy as np
    >>> bool(np.array_equal(np.array([1.0, np.nan]), np.array([1.0, np.nan]), equal_nan=True))
    True
    """
    if not _traced(a1, a2):
        return np.array_equal(a1, a2, equal_nan=equal_nan)
    if tuple(shape_of(a1)) != tuple(shape_of(a2)):
        return False
    same = equal(a1, a2)
    if equal_nan:
        same = logical_or(same, logical_and(isnan(a1), isnan(a2)))
    return xall(same)


def array_equiv(a1: Any, a2: Any) -> Any:
    """`numpy.array_equiv`: equal entries after broadcasting (no derivative).

    Args:
        a1: an array (traced or not).
        a2: another, broadcast against ``a1``.

    Returns:
        A boolean (traced when an input is); False when the shapes do not broadcast.

    >>> import xform.numpy as np
    >>> bool(np.array_equiv(np.array([1.0, 1.0]), 1.0))
    True
    """
    if not _traced(a1, a2):
        return np.array_equiv(a1, a2)
    try:
        np.broadcast_shapes(shape_of(a1), shape_of(a2))
    except ValueError:
        return False
    return xall(equal(a1, a2))


def bincount(x: Any, weights: Any = None, minlength: int = 0) -> Any:
    """`numpy.bincount`: how often each non-negative integer occurs in ``x``, or the
    sum of ``weights`` at each (differentiable in traced ``weights``). The result's
    length is one more than the largest value, so a traced ``x`` needs values the
    transform knows (eager ``grad``/``jvp``; not under ``jit`` or a batched ``vmap``).

    Args:
        x: a 1-D array of non-negative integers.
        weights: an array of the shape of ``x`` (traced or not), summed per value.
        minlength: the least length of the result.

    Returns:
        Integer counts, or float64 sums of the weights.

    >>> import xform, xform.numpy as np
    >>> np.bincount(np.array([0, 2, 2])).tolist()
    [1, 0, 2]
    >>> w = np.array([0.5, 1.0, 2.0])
    >>> xform.grad(lambda w: np.bincount(np.array([0, 2, 2]), w)[2])(w).tolist()
    [0.0, 1.0, 1.0]
    """
    if not _traced(x, weights):
        return np.bincount(x, weights, minlength)
    positions = np.asarray(_value(x, "bincount's result length (the largest value + 1)"))
    if not isinstance(weights, Tracer):
        return np.bincount(positions, weights, minlength)
    if shape_of(weights) != positions.shape:
        raise ValueError(f"bincount: weights of shape {tuple(shape_of(weights))} for x of "
                         f"shape {positions.shape}: they must have the same shape")
    if np.issubdtype(dtype_of(weights), np.complexfloating):
        raise TypeError("bincount: weights may not be complex (NumPy sums them as float64)")
    counted = np.bincount(positions, minlength=minlength)  # NumPy's checks of x
    return at(zeros(counted.shape[0]))[positions].add(astype(weights, np.float64))


def lexsort(keys: Any, axis: int = -1) -> Any:
    """`numpy.lexsort`: the indices that sort by the last key, then the one before...
    (no derivative), by stable sorts, one per key.

    Args:
        keys: a sequence of arrays of one shape, or a 2-D array whose rows are keys.
        axis: the axis sorted along.

    Returns:
        Integer indices.

    >>> import xform.numpy as np
    >>> np.lexsort((np.array([3.0, 1.0, 2.0]), np.array([1.0, 0.0, 1.0]))).tolist()
    [1, 2, 0]
    """
    if not isinstance(keys, Tracer) and not (
            isinstance(keys, (list, tuple)) and any(isinstance(k, Tracer) for k in keys)):
        return np.lexsort(keys, axis=axis)
    rows: Sequence[Any] = keys if isinstance(keys, (list, tuple)) else [
        getitem(keys, i) for i in range(shape_of(keys)[0])]
    if not rows:
        raise TypeError("need sequence of keys with len(keys) >= 1")
    order = argsort(rows[0], axis=axis, kind="stable")
    for key in rows[1:]:  # each later key decides first: sort by it last, stably
        step = argsort(take_along_axis(asarray(key), order, axis=axis), axis=axis,
                       kind="stable")
        order = take_along_axis(order, step, axis=axis)
    return order


def _nanarg(pick: Any, fill: float, name: str, a: Any, axis: int | None,
            keepdims: bool) -> Any:
    a = asarray(a)
    if not np.issubdtype(dtype_of(a), np.inexact):
        return pick(a, axis=axis, keepdims=keepdims)
    nan = isnan(a)
    found = pick(where(nan, fill, a), axis=axis, keepdims=keepdims)
    all_nan = xall(nan, axis=axis, keepdims=keepdims)
    known = _known(all_nan)
    if known is None:  # under jit: -1 where a slice is all NaN (NumPy would raise)
        return where(all_nan, -1, found)
    if np.any(known):
        raise ValueError(f"{name}: All-NaN slice encountered")
    return found


def nanargmax(a: Any, axis: int | None = None, out: None = None, *,
              keepdims: bool = False) -> Any:
    """`numpy.nanargmax`: the index of the largest entry, ignoring NaNs (no derivative).
    An all-NaN slice raises ValueError as in NumPy; under ``jit``, whose values are not
    known while tracing, it gives -1 there instead.

    Args:
        a: the data (traced or not).
        axis: the axis (None: the flattened array).
        out: unsupported (must be None).
        keepdims: keep the reduced axis with size one.

    Returns:
        Integer indices.

    >>> import xform.numpy as np
    >>> int(np.nanargmax(np.array([1.0, np.nan, 3.0])))
    2
    """
    if out is not None:
        raise NotImplementedError("nanargmax: out= is not supported (arrays are immutable)")
    return _nanarg(argmax, -np.inf, "nanargmax", a, axis, keepdims)


def nanargmin(a: Any, axis: int | None = None, out: None = None, *,
              keepdims: bool = False) -> Any:
    """`numpy.nanargmin`: the index of the smallest entry, ignoring NaNs (no derivative).
    An all-NaN slice raises ValueError as in NumPy; under ``jit`` it gives -1 there.

    Args:
        a: the data (traced or not).
        axis: the axis (None: the flattened array).
        out: unsupported (must be None).
        keepdims: keep the reduced axis with size one.

    Returns:
        Integer indices.

    >>> import xform.numpy as np
    >>> int(np.nanargmin(np.array([1.0, np.nan, -3.0])))
    2
    """
    if out is not None:
        raise NotImplementedError("nanargmin: out= is not supported (arrays are immutable)")
    return _nanarg(argmin, np.inf, "nanargmin", a, axis, keepdims)


def histogram_bin_edges(a: Any, bins: Any = 10, range: tuple[Any, Any] | None = None,
                        weights: Any = None) -> Any:
    """`numpy.histogram_bin_edges` for a count of equal bins or explicit edges
    (NumPy's named estimators such as ``"auto"`` need untraced data). Edges computed
    from traced data follow its smallest and largest entries, differentiably.

    Args:
        a: the data (traced or not; flattened).
        bins: the number of equal-width bins, or a 1-D array of edges.
        range: ``(lower, upper)``; the data's extremes by default.
        weights: unused by these rules (NumPy's signature).

    Returns:
        The ``bins + 1`` edges.

    >>> import xform.numpy as np
    >>> np.histogram_bin_edges(np.array([0.0, 1.0, 4.0]), bins=4).tolist()
    [0.0, 1.0, 2.0, 3.0, 4.0]
    """
    if not _traced(a, bins, range):
        return np.histogram_bin_edges(a, bins, range, weights)
    if isinstance(bins, str):
        raise NotImplementedError(
            f"histogram: bins={bins!r} (an estimator) needs untraced data: pass a number "
            "of bins or the edges")
    if len(shape_of(bins)):
        edges = asarray(bins)
        known = _known(edges)
        if known is not None and np.any(np.diff(known) < 0):
            raise ValueError("`bins` must increase monotonically, when an array")
        return edges
    count = int(bins)
    if count < 1:
        raise ValueError("`bins` must be positive, when an integer")
    flat = ravel(asarray(a))
    if range is not None:
        lo, hi = range
    elif shape_of(flat)[0] == 0:
        lo, hi = 0.0, 1.0
    else:
        lo, hi = xmin(flat), xmax(flat)
    lo_known, hi_known = _known(lo), _known(hi)
    if lo_known is not None and hi_known is not None and lo_known > hi_known:
        raise ValueError("max must be larger than min in range parameter.")
    same = equal(lo, hi)  # NumPy widens an empty range by a half on each side
    lo, hi = where(same, lo - 0.5, lo), where(same, hi + 0.5, hi)
    fractions = np.linspace(0.0, 1.0, count + 1)
    return lo + (hi - lo) * fractions


def histogram(a: Any, bins: Any = 10, range: tuple[Any, Any] | None = None,
              density: bool | None = None, weights: Any = None) -> Any:
    """`numpy.histogram`: counts (or summed ``weights``) per bin, and the edges. With
    traced inputs it runs under every transform (the bins are found by binary search,
    counted by a scatter-add); the counts carry no derivative, traced ``weights`` and
    ``density`` do, and edges computed from traced data follow its extremes.

    Args:
        a: the data (traced or not; flattened).
        bins: the number of equal-width bins, or a 1-D array of increasing edges.
        range: ``(lower, upper)``; entries outside are not counted.
        density: divide by the total and the bin widths (a probability density).
        weights: an array of the shape of ``a``, summed per bin instead of counting.

    Returns:
        ``(hist, bin_edges)``.

    >>> import xform, xform.numpy as np
    >>> hist, edges = np.histogram(np.array([0.5, 1.5, 1.7, 3.0]), bins=3, range=(0.0, 3.0))
    >>> hist.tolist(), edges.tolist()
    ([1, 2, 1], [0.0, 1.0, 2.0, 3.0])
    >>> w = np.array([1.0, 2.0, 3.0, 4.0])
    >>> xform.grad(lambda w: np.histogram(np.arange(4.0), 2, weights=w)[0][1])(w).tolist()
    [0.0, 0.0, 1.0, 1.0]
    """
    if not _traced(a, bins, range, weights):
        return np.histogram(a, bins, range, density, weights)
    edges = histogram_bin_edges(a, bins, range)
    flat = ravel(asarray(a))
    nbins = shape_of(edges)[0] - 1
    first, last = getitem(edges, 0), getitem(edges, -1)
    # bin i holds [edge i, edge i+1); the last one also holds its right edge
    index = searchsorted(edges, flat, side="right") - 1
    index = where(equal(flat, last), nbins - 1, index)
    inside = logical_and(greater_equal(flat, first), less_equal(flat, last))
    safe = where(inside, index, 0)
    if weights is None:
        amounts: Any = astype(inside, np.int64)
    else:
        w = ravel(asarray(weights))
        if shape_of(w) != shape_of(flat):
            raise ValueError("weights should have the same shape as a.")
        amounts = where(inside, w, 0)
    hist = at(zeros(nbins, dtype_of(amounts)))[safe].add(amounts)
    if density:
        widths = diff(edges)
        return hist / xsum(hist) / widths, edges
    return hist, edges


