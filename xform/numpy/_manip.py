"""Array manipulation built on the shape and indexing primitives: splitting, padding,
rotating, diagonals and triangles, take_along_axis, select, kron, cross, block, and
the memory-layout conversions (ascontiguousarray, asfortranarray).

May import: the core and the family files up to ``_contract`` (order: ``__init__``).

No new primitives: each function is a composition of reshape/transpose/concatenate
/getitem/index_set/where, so its derivatives and batching come from theirs.
"""
from __future__ import annotations

import builtins
from typing import Any, Sequence

import numpy as np

from ..core.arrays import is_foreign, zeros
from ..core.rules import const_like, dtype_of, shape_of
from ..core.trace import Tracer, like_value
from ._creation import asarray, full
from ._elementwise import astype, multiply, subtract, where
from ._indexing import at, getitem, take
from ._reductions import sum as xsum
from ._reductions import warn_if
from ._shape import (atleast_1d, broadcast_arrays, broadcast_to, concatenate, flip, moveaxis,
                     ravel, reshape, stack, transpose, vstack)


def _axis(axis: int, nd: int, name: str = "axis") -> int:
    if not -nd <= axis < builtins.max(nd, 1):
        raise np.exceptions.AxisError(f"{name} {axis} is out of bounds for array of "
                                      f"dimension {nd}")
    return int(axis) % builtins.max(nd, 1)


# ------------------------------------------------------------------------ axes and dimensions
def rollaxis(a: Any, axis: int, start: int = 0) -> Any:
    """`numpy.rollaxis` (prefer `moveaxis`).

    Args:
        a: the array (traced or not).
        axis: the axis to move.
        start: the position it is moved to (before the axis now there).

    Returns:
        ``a`` with that axis rolled back to lie before axis ``start``.

    >>> import xform.numpy as np
    >>> np.rollaxis(np.ones((2, 3, 4)), 2).shape
    (4, 2, 3)
    """
    n = len(shape_of(a))
    axis = _axis(axis, n)
    if start < 0:
        start += n
    if not 0 <= start < n + 1:
        raise np.exceptions.AxisError(f"start {start} is out of bounds for an array of "
                                      f"dimension {n}")
    if axis < start:
        start -= 1
    if axis == start:
        return a
    axes = list(range(n))
    axes.remove(axis)
    axes.insert(start, axis)
    return transpose(a, axes)


def atleast_3d(*arys: Any) -> Any:
    """`numpy.atleast_3d`: (N,) becomes (1, N, 1) and (M, N) becomes (M, N, 1).

    Args:
        *arys: arrays or scalars (traced or not).

    Returns:
        One array of at least three dimensions, or a tuple of them for several inputs.

    >>> import xform.numpy as np
    >>> np.atleast_3d(np.ones(4)).shape, np.atleast_3d(np.ones((2, 3))).shape
    ((1, 4, 1), (2, 3, 1))
    """
    out = []
    for a in map(asarray, arys):
        s = shape_of(a)
        if len(s) == 0:
            a = reshape(a, (1, 1, 1))
        elif len(s) == 1:
            a = reshape(a, (1, s[0], 1))
        elif len(s) == 2:
            a = reshape(a, s + (1,))
        out.append(a)
    return out[0] if len(out) == 1 else tuple(out)


def dstack(tup: Sequence[Any]) -> Any:
    """`numpy.dstack`: stack along the third axis.

    Args:
        tup: a sequence of arrays (traced or not); 1-D and 2-D ones become 3-D first.

    Returns:
        The arrays joined along axis 2.

    >>> import xform.numpy as np
    >>> np.dstack([np.ones(2), np.zeros(2)]).tolist()
    [[[1.0, 0.0], [1.0, 0.0]]]
    """
    arrs = [atleast_3d(a) for a in tup]
    return concatenate(arrs, axis=2)


def append(arr: Any, values: Any, axis: int | None = None) -> Any:
    """`numpy.append`: ``values`` after ``arr``, both flattened when ``axis`` is None.

    Args:
        arr: the leading values (traced or not).
        values: the values to append.
        axis: the axis to join along (None: flatten both first).

    Returns:
        A new array: ``arr`` followed by ``values``.

    >>> import xform.numpy as np
    >>> np.append([1.0, 2.0], [[3.0], [4.0]]).tolist()
    [1.0, 2.0, 3.0, 4.0]
    """
    arr, values = asarray(arr), asarray(values)
    if axis is None:
        return concatenate([ravel(arr), ravel(values)], axis=0)
    return concatenate([arr, values], axis=axis)


class _AxisConcatenator:
    """NumPy's ``r_``/``c_``: ``obj[item, item, ...]`` concatenates the items, where a
    slice ``a:b:s`` is ``arange(a, b, s)`` (``linspace(a, b, n)`` for an imaginary step
    ``nj``), a scalar or array is raised to ``ndmin`` dimensions (new axes placed by
    ``trans1d``), and a leading string ``"axis[,ndmin[,trans1d]]"`` overrides the
    defaults. Traced items keep their derivatives; the matrix directives ``"r"``/``"c"``
    are not supported."""

    def __init__(self, name: str, axis: int, ndmin: int, trans1d: int) -> None:
        self.name, self.axis, self.ndmin, self.trans1d = name, axis, ndmin, trans1d

    def _raise(self, item: Any, ndmin: int, trans1d: int) -> Any:
        """``item`` with at least ``ndmin`` axes, its own axes starting at ``trans1d``."""
        nd = len(shape_of(item))
        out = item if nd >= ndmin else reshape(item, (1,) * (ndmin - nd) + shape_of(item))
        if trans1d != -1 and nd < ndmin:
            k2, k1 = ndmin - nd, trans1d if trans1d >= 0 else trans1d + ndmin - nd + 1
            axes = list(range(ndmin))
            out = transpose(out, axes[:k1] + axes[k2:] + axes[k1:k2])
        return out

    def __getitem__(self, key: Any) -> Any:
        items = key if isinstance(key, tuple) else (key,)
        axis, ndmin, trans1d = self.axis, self.ndmin, self.trans1d
        parts: list[Any] = []
        scalars: dict[int, Any] = {}  # position -> the scalar as given
        for k, item in enumerate(items):
            if isinstance(item, str):
                if k != 0:
                    raise ValueError(f"xform.numpy.{self.name}: a string directive "
                                     f"({item!r}) must be the first item")
                if item in ("r", "c"):
                    raise NotImplementedError(
                        f"xform.numpy.{self.name}[{item!r}, ...] makes a numpy.matrix, which "
                        "xform does not support; reshape the result instead")
                try:
                    fields = [int(f) for f in item.split(",")]
                except ValueError:
                    raise ValueError(f"xform.numpy.{self.name}: unknown directive {item!r} "
                                     "(expected 'axis', 'axis,ndmin' or "
                                     "'axis,ndmin,trans1d')") from None
                axis = fields[0]
                ndmin = fields[1] if len(fields) > 1 else ndmin
                trans1d = fields[2] if len(fields) > 2 else trans1d
                continue
            if isinstance(item, slice):
                start = 0 if item.start is None else item.start
                step = 1 if item.step is None else item.step
                if isinstance(step, complex):
                    part: Any = np.linspace(start, item.stop, int(abs(step)))
                else:
                    part = np.arange(start, item.stop, step)
                parts.append(self._raise(part, ndmin, trans1d))
                continue
            if isinstance(item, (bool, int, float, complex, np.generic)):
                scalars[len(parts)] = item
            parts.append(self._raise(asarray(item), ndmin, trans1d))
        if not parts:
            return np.array([])
        arrays = [p for i, p in enumerate(parts) if i not in scalars]
        if scalars and arrays:  # Python scalars take the arrays' dtype, as in NumPy
            dt = np.result_type(*[dtype_of(p) for p in arrays], *scalars.values())
            parts = [np.asarray(p, dt) if i in scalars else p for i, p in enumerate(parts)]
        return concatenate(parts, axis=axis)


r_ = _AxisConcatenator("r_", 0, 1, -1)
r_.__doc__ = """`numpy.r_`: concatenation along the first axis by indexing.

>>> import xform.numpy as np
>>> np.r_[np.asarray([1.0, 2.0]), 0.5, 3:6].tolist()
[1.0, 2.0, 0.5, 3.0, 4.0, 5.0]
"""
c_ = _AxisConcatenator("c_", -1, 2, 0)
c_.__doc__ = """`numpy.c_`: concatenation along the last axis, 1-D items as columns.

>>> import xform.numpy as np
>>> np.c_[np.asarray([1.0, 2.0]), [3.0, 4.0]].tolist()
[[1.0, 3.0], [2.0, 4.0]]
"""


# ------------------------------------------------------------------------ splitting
def array_split(ary: Any, indices_or_sections: Any, axis: int = 0) -> list[Any]:
    """`numpy.array_split`: sections may differ in size by one.

    Args:
        ary: the array to split (traced or not).
        indices_or_sections: a number of sections, or the indices to split before.
        axis: the axis to split along.

    Returns:
        A list of sub-arrays; derivatives flow back to the slices of ``ary``.

    >>> import xform.numpy as np
    >>> [p.tolist() for p in np.array_split(np.arange(5.0), 2)]
    [[0.0, 1.0, 2.0], [3.0, 4.0]]
    """
    n_total = shape_of(ary)[axis]
    if isinstance(indices_or_sections, (int, np.integer)):
        sections = int(indices_or_sections)
        if sections <= 0:
            raise ValueError("number sections must be larger than 0.")
        each, extras = divmod(n_total, sections)
        sizes = [0] + extras * [each + 1] + (sections - extras) * [each]
        points = np.cumsum(sizes).tolist()
    else:
        points = [0] + [int(i) for i in indices_or_sections] + [n_total]
    nd = len(shape_of(ary))
    ax = _axis(axis, nd)
    out = []
    for start, stop in zip(points[:-1], points[1:]):
        index = (slice(None),) * ax + (slice(start, stop),)
        out.append(getitem(ary, index))
    return out


def split(ary: Any, indices_or_sections: Any, axis: int = 0) -> list[Any]:
    """`numpy.split`: like `array_split`, but sections must divide the axis evenly.

    Args:
        ary: the array to split (traced or not).
        indices_or_sections: a number of equal sections, or the indices to split before.
        axis: the axis to split along.

    Returns:
        A list of sub-arrays; derivatives flow back to the slices of ``ary``.

    >>> import xform.numpy as np
    >>> [p.tolist() for p in np.split(np.arange(4.0), [1])]
    [[0.0], [1.0, 2.0, 3.0]]
    """
    if isinstance(indices_or_sections, (int, np.integer)):
        if shape_of(ary)[axis] % int(indices_or_sections):
            raise ValueError("array split does not result in an equal division")
    return array_split(ary, indices_or_sections, axis)


def hsplit(ary: Any, indices_or_sections: Any) -> list[Any]:
    """`numpy.hsplit`: split along axis 1 (axis 0 for 1-D arrays).

    Args:
        ary: the array to split (traced or not).
        indices_or_sections: a number of equal sections, or the indices to split before.

    Returns:
        A list of sub-arrays.

    >>> import xform.numpy as np
    >>> [p.shape for p in np.hsplit(np.ones((2, 4)), 2)]
    [(2, 2), (2, 2)]
    """
    nd = len(shape_of(ary))
    if nd == 0:
        raise ValueError("hsplit only works on arrays of 1 or more dimensions")
    return split(ary, indices_or_sections, 1 if nd > 1 else 0)


def vsplit(ary: Any, indices_or_sections: Any) -> list[Any]:
    """`numpy.vsplit`: split along axis 0.

    Args:
        ary: the array to split (traced or not).
        indices_or_sections: a number of equal sections, or the indices to split before.

    Returns:
        A list of sub-arrays.

    >>> import xform.numpy as np
    >>> [p.shape for p in np.vsplit(np.ones((4, 2)), 2)]
    [(2, 2), (2, 2)]
    """
    if len(shape_of(ary)) < 2:
        raise ValueError("vsplit only works on arrays of 2 or more dimensions")
    return split(ary, indices_or_sections, 0)


def dsplit(ary: Any, indices_or_sections: Any) -> list[Any]:
    """`numpy.dsplit`: split along axis 2.

    Args:
        ary: the array to split (traced or not).
        indices_or_sections: a number of equal sections, or the indices to split before.

    Returns:
        A list of sub-arrays.

    >>> import xform.numpy as np
    >>> [p.shape for p in np.dsplit(np.ones((1, 2, 4)), 2)]
    [(1, 2, 2), (1, 2, 2)]
    """
    if len(shape_of(ary)) < 3:
        raise ValueError("dsplit only works on arrays of 3 or more dimensions")
    return split(ary, indices_or_sections, 2)


# ------------------------------------------------------------------------ pad
def _as_pairs(x: Any, nd: int, as_index: bool = False) -> list[tuple[Any, Any]]:
    """``x`` broadcast to ``nd`` (before, after) pairs, as `numpy.pad` reads its arguments."""
    arr = np.asarray(x)
    if as_index:
        arr = np.round(arr).astype(np.intp)
        if arr.size and arr.min() < 0:
            raise ValueError("index can't contain negative values")
    if arr.ndim < 3 and arr.size == 1:
        v = arr.ravel()[0]
        return [(v, v)] * nd
    if arr.ndim < 3 and arr.size == 2 and arr.shape != (2, 1):
        v = arr.ravel()
        return [(v[0], v[1])] * nd
    return [tuple(p) for p in np.broadcast_to(arr, (nd, 2)).tolist()]


_INDEX_MODES = ("edge", "reflect", "symmetric", "wrap")


def pad(array: Any, pad_width: Any, mode: str = "constant", **kwargs: Any) -> Any:
    """`numpy.pad` with modes constant (``constant_values``, may be traced), edge,
    reflect and symmetric (``reflect_type='even'``), wrap and empty (zeros).

    Args:
        array: the array to pad (traced or not).
        pad_width: the widths before and after each axis, as NumPy's.
        mode: ``"constant"``, ``"edge"``, ``"reflect"``, ``"symmetric"``, ``"wrap"``
            or ``"empty"``.
        **kwargs: ``constant_values`` for the constant mode, ``reflect_type`` (``"even"``).

    Returns:
        The padded array; derivatives flow back to the entries of ``array`` that fill it
        (and to a traced ``constant_values``).

    >>> import xform, xform.numpy as np
    >>> np.pad(np.array([1.0, 2.0]), 1, mode="edge").tolist()
    [1.0, 1.0, 2.0, 2.0]
    >>> xform.grad(lambda x: np.sum(np.pad(x, 1, mode="edge")))(np.array([1.0, 2.0])).tolist()
    [2.0, 2.0]
    """
    a = asarray(array)
    shape = shape_of(a)
    nd = len(shape)
    widths = _as_pairs(pad_width, nd, as_index=True)
    if mode in ("constant", "empty"):
        values = kwargs.pop("constant_values", 0) if mode == "constant" else 0
        if kwargs:
            raise TypeError(f"pad: unsupported keyword arguments for mode {mode!r}: "
                            f"{sorted(kwargs)}")
        pairs = [(values, values)] * nd if isinstance(values, Tracer) else \
            _as_pairs(values, nd)
        for ax, ((before, after), (vb, va)) in enumerate(zip(widths, pairs)):
            parts = []
            cur = list(shape_of(a))
            if before:
                parts.append(full(tuple(cur[:ax] + [before] + cur[ax + 1:]), vb, dtype_of(a)))
            parts.append(a)
            if after:
                parts.append(full(tuple(cur[:ax] + [after] + cur[ax + 1:]), va, dtype_of(a)))
            if len(parts) > 1:
                a = concatenate(parts, axis=ax)
        return a
    if mode not in _INDEX_MODES:
        raise NotImplementedError(
            f"xform.numpy.pad supports modes 'constant', 'edge', 'reflect', 'symmetric', "
            f"'wrap' and 'empty'; got {mode!r}")
    if kwargs.pop("reflect_type", "even") != "even":
        raise NotImplementedError("xform.numpy.pad supports only reflect_type='even'")
    if kwargs:
        raise TypeError(f"pad: unsupported keyword arguments for mode {mode!r}: "
                        f"{sorted(kwargs)}")
    for ax, (before, after) in enumerate(widths):
        if before or after:
            # NumPy itself says which source element lands at each padded position
            source = np.pad(np.arange(shape[ax]), (before, after), mode=mode)  # type: ignore
            a = take(a, source, axis=ax)
    return a


# ------------------------------------------------------------------------ rotation and flips
def rot90(m: Any, k: int = 1, axes: Sequence[int] = (0, 1)) -> Any:
    """`numpy.rot90`: rotate by 90 degrees ``k`` times in the plane of ``axes``.

    Args:
        m: an array of at least two dimensions (traced or not).
        k: the number of quarter turns (counter-clockwise from the first axis towards
            the second).
        axes: the two axes of the plane of rotation.

    Returns:
        The rotated array.

    >>> import xform.numpy as np
    >>> np.rot90(np.array([[1.0, 2.0], [3.0, 4.0]])).tolist()
    [[2.0, 4.0], [1.0, 3.0]]
    """
    axes = tuple(axes)
    if len(axes) != 2:
        raise ValueError("len(axes) must be 2.")
    nd = len(shape_of(m))
    if axes[0] == axes[1] or builtins.abs(axes[0] - axes[1]) == nd:
        raise ValueError("Axes must be different.")
    if not (-nd <= axes[0] < nd and -nd <= axes[1] < nd):
        raise ValueError(f"Axes={axes} out of range for array of ndim={nd}.")
    k %= 4
    if k == 0:
        return m
    if k == 2:
        return flip(flip(m, axes[0]), axes[1])
    perm = list(range(nd))
    perm[axes[0]], perm[axes[1]] = perm[axes[1]], perm[axes[0]]
    if k == 1:
        return transpose(flip(m, axes[1]), perm)
    return flip(transpose(m, perm), axes[1])


def fliplr(m: Any) -> Any:
    """`numpy.fliplr`: reverse the columns (axis 1).

    Args:
        m: an array of at least two dimensions (traced or not).

    Returns:
        ``m`` with its columns in reverse order.

    >>> import xform.numpy as np
    >>> np.fliplr(np.array([[1.0, 2.0], [3.0, 4.0]])).tolist()
    [[2.0, 1.0], [4.0, 3.0]]
    """
    if len(shape_of(m)) < 2:
        raise ValueError("Input must be >= 2-d.")
    return flip(m, 1)


def flipud(m: Any) -> Any:
    """`numpy.flipud`: reverse the rows (axis 0).

    Args:
        m: an array of at least one dimension (traced or not).

    Returns:
        ``m`` with its rows in reverse order.

    >>> import xform.numpy as np
    >>> np.flipud(np.array([[1.0, 2.0], [3.0, 4.0]])).tolist()
    [[3.0, 4.0], [1.0, 2.0]]
    """
    if len(shape_of(m)) < 1:
        raise ValueError("Input must be >= 1-d.")
    return flip(m, 0)


# ------------------------------------------------------------------------ diagonals, triangles
def _diag_positions(n: int, m: int, offset: int) -> tuple[np.ndarray, np.ndarray]:
    if offset >= 0:
        length = builtins.max(0, builtins.min(n, m - offset))
        return np.arange(length), np.arange(length) + offset
    length = builtins.max(0, builtins.min(n + offset, m))
    return np.arange(length) - offset, np.arange(length)


def diagonal(a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Any:
    """`numpy.diagonal`: the diagonal becomes the last axis.

    Args:
        a: an array of at least two dimensions (traced or not).
        offset: the diagonal: 0 the main one, positive above it, negative below.
        axis1: the first axis of the 2-D planes.
        axis2: the second axis of the 2-D planes.

    Returns:
        The diagonals, as the last axis of an array of the remaining axes.

    >>> import xform, xform.numpy as np
    >>> np.diagonal(np.array([[1.0, 2.0], [3.0, 4.0]])).tolist()
    [1.0, 4.0]
    >>> xform.grad(lambda m: np.sum(np.diagonal(m)))(np.ones((2, 2))).tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """
    nd = len(shape_of(a))
    if nd < 2:
        raise ValueError("diag requires an array of at least two dimensions")
    a1, a2 = _axis(axis1, nd, "axis1"), _axis(axis2, nd, "axis2")
    if a1 == a2:
        raise ValueError("axis1 and axis2 cannot be the same")
    x = moveaxis(a, (a1, a2), (-2, -1))
    n, m = shape_of(x)[-2:]
    rows, cols = _diag_positions(n, m, int(offset))
    return getitem(x, (Ellipsis, rows, cols))


def trace(a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1, dtype: Any = None,
          out: None = None) -> Any:
    """`numpy.trace`: the sum along a diagonal.

    Args:
        a: an array, at least 2-D.
        offset: the diagonal's offset.
        axis1: the first axis of the diagonal.
        axis2: the second axis.
        dtype: the accumulation dtype.
        out: not supported (must be None).

    Returns:
        The sum along the diagonal.

    >>> import xform, xform.numpy as np
    >>> np.trace(np.arange(4.0).reshape(2, 2)).item()
    3.0
    >>> xform.grad(np.trace)(np.zeros((2, 2))).tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """
    if out is not None:
        raise NotImplementedError("xform.numpy.trace does not support out=")
    return xsum(diagonal(a, offset, axis1, axis2), axis=-1, dtype=dtype)


def diag(v: Any, k: int = 0) -> Any:
    """`numpy.diag`: the k-th diagonal of a 2-D array, or a 2-D array with 1-D ``v``
    on its k-th diagonal.

    Args:
        v: a 1-D array (make a diagonal matrix) or 2-D array (take a diagonal).
        k: the diagonal's offset.

    Returns:
        The matrix or the diagonal.

    >>> import xform, xform.numpy as np
    >>> np.diag(np.array([1.0, 2.0])).tolist()
    [[1.0, 0.0], [0.0, 2.0]]
    >>> np.diag(np.arange(4.0).reshape(2, 2)).tolist()
    [0.0, 3.0]
    """
    v = asarray(v)
    s = shape_of(v)
    if len(s) == 1:
        n = s[0] + builtins.abs(int(k))
        rows, cols = _diag_positions(n, n, int(k))
        return at(zeros((n, n), dtype_of(v), like_value(v)))[rows, cols].set(v)
    if len(s) == 2:
        return diagonal(v, k)
    raise ValueError("Input must be 1- or 2-d.")


def diagflat(v: Any, k: int = 0) -> Any:
    """`numpy.diagflat`: the flattened input on the k-th diagonal of a 2-D array.

    Args:
        v: the values (traced or not), flattened.
        k: the diagonal: 0 the main one, positive above it, negative below.

    Returns:
        A square 2-D array with ``v`` on its ``k``-th diagonal and zeros elsewhere.

    >>> import xform.numpy as np
    >>> np.diagflat(np.array([1.0, 2.0])).tolist()
    [[1.0, 0.0], [0.0, 2.0]]
    """
    return diag(ravel(asarray(v)), k)


def _tri_mask(m: Any, k: int) -> np.ndarray:
    """True on and below the k-th diagonal of the last two axes (both of a 1-D ``m``)."""
    n = shape_of(m)[-2] if len(shape_of(m)) >= 2 else shape_of(m)[-1]
    return np.tri(n, shape_of(m)[-1], k=k, dtype=bool)


def tril(m: Any, k: int = 0) -> Any:
    """`numpy.tril`: zero above the k-th diagonal (of the last two axes).

    Args:
        m: an array, at least 2-D.
        k: the diagonal above which entries are zeroed.

    Returns:
        The lower triangle.

    >>> import xform, xform.numpy as np
    >>> np.tril(np.ones((2, 2))).tolist()
    [[1.0, 0.0], [1.0, 1.0]]
    """
    m = asarray(m)
    return where(const_like(_tri_mask(m, k), m), m, np.zeros((), dtype_of(m))[()])


def triu(m: Any, k: int = 0) -> Any:
    """`numpy.triu`: zero below the k-th diagonal (of the last two axes).

    Args:
        m: an array, at least 2-D.
        k: the diagonal below which entries are zeroed.

    Returns:
        The upper triangle.

    >>> import xform, xform.numpy as np
    >>> np.triu(np.ones((2, 2))).tolist()
    [[1.0, 1.0], [0.0, 1.0]]
    """
    m = asarray(m)
    return where(const_like(_tri_mask(m, k - 1), m), np.zeros((), dtype_of(m))[()], m)


# ------------------------------------------------------------------------ products
def kron(a: Any, b: Any) -> Any:
    """`numpy.kron`: the Kronecker product (block ``a[i, j] * b``).

    Args:
        a: an array.
        b: an array.

    Returns:
        The Kronecker product.

    >>> import xform, xform.numpy as np
    >>> np.kron(np.eye(2), np.ones((1, 2))).tolist()
    [[1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 1.0]]
    """
    a, b = asarray(a), asarray(b)
    na, nb = len(shape_of(a)), len(shape_of(b))
    if na == 0 or nb == 0:
        return multiply(a, b)
    nd = builtins.max(na, nb)
    sa = (1,) * (nd - na) + tuple(shape_of(a))
    sb = (1,) * (nd - nb) + tuple(shape_of(b))
    # interleave: a's axes at even positions, b's at odd, then merge each pair
    a2 = reshape(a, [n for s in sa for n in (s, 1)])
    b2 = reshape(b, [n for s in sb for n in (1, s)])
    return reshape(multiply(a2, b2), [x * y for x, y in zip(sa, sb)])


def cross(a: Any, b: Any, axisa: int = -1, axisb: int = -1, axisc: int = -1,
          axis: int | None = None) -> Any:
    """`numpy.cross` of 3-vectors (or 2-vectors, giving the z component).

    Args:
        a: the first vectors (traced or not), along ``axisa``.
        b: the second vectors, along ``axisb``.
        axisa: the axis of ``a`` holding the components.
        axisb: the axis of ``b`` holding the components.
        axisc: the axis of the result holding the components.
        axis: when given, overrides the three axes above.

    Returns:
        The cross products (a scalar z component per pair for 2-vectors).

    >>> import xform, xform.numpy as np
    >>> np.cross(np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0])).tolist()
    [0.0, 0.0, 1.0]
    >>> xform.jacfwd(lambda a: np.cross(a, np.array([0.0, 0.0, 1.0])))(np.ones(3)).tolist()
    [[0.0, 1.0, 0.0], [-1.0, 0.0, 0.0], [0.0, 0.0, 0.0]]
    """
    if axis is not None:
        axisa = axisb = axisc = axis
    a = moveaxis(asarray(a), axisa, -1)
    b = moveaxis(asarray(b), axisb, -1)
    na, nb = shape_of(a)[-1], shape_of(b)[-1]
    if na not in (2, 3) or nb not in (2, 3):
        raise ValueError("incompatible dimensions for cross product\n"
                         "(dimension must be 2 or 3)")
    if na == 2 or nb == 2:
        warn_if(True, "Arrays of 2-dimensional vectors are deprecated. Use arrays of "
                "3-dimensional vectors instead. (deprecated in NumPy 2.0)",
                "DeprecationWarning")
    a0, a1 = a[..., 0], a[..., 1]
    b0, b1 = b[..., 0], b[..., 1]
    c2 = subtract(multiply(a0, b1), multiply(a1, b0))
    if na == 2 and nb == 2:
        return c2
    a2 = a[..., 2] if na == 3 else None
    b2 = b[..., 2] if nb == 3 else None
    if a2 is None:
        c0, c1 = multiply(a1, b2), -multiply(a0, b2)
    elif b2 is None:
        c0, c1 = -multiply(a2, b1), multiply(a2, b0)
    else:
        c0 = subtract(multiply(a1, b2), multiply(a2, b1))
        c1 = subtract(multiply(a2, b0), multiply(a0, b2))
    cp = stack(broadcast_arrays(c0, c1, c2), axis=-1)
    return moveaxis(cp, -1, axisc)


# ------------------------------------------------------------------------ gathers and choices
def take_along_axis(arr: Any, indices: Any, axis: int | None = -1) -> Any:
    """`numpy.take_along_axis`; ``indices`` may be traced (integer) values.

    Args:
        arr: the source array (traced or not).
        indices: integer indices (traced or not), of ``arr``'s number of dimensions.
        axis: the axis to take along (None: the flattened array).

    Returns:
        The gathered values; derivatives scatter back to ``arr``.

    >>> import xform, xform.numpy as np
    >>> x = np.array([3.0, 1.0, 2.0])
    >>> np.take_along_axis(x, np.argsort(x), axis=0).tolist()
    [1.0, 2.0, 3.0]
    >>> xform.grad(lambda x: np.take_along_axis(x, np.array([0, 0]), axis=0).sum())(x).tolist()
    [2.0, 0.0, 0.0]
    """
    if axis is None:
        arr, axis = ravel(arr), 0
    shape = shape_of(arr)
    nd = len(shape)
    if len(shape_of(indices)) != nd:
        raise ValueError("`indices` and `arr` must have the same number of dimensions")
    axis = _axis(axis, nd)
    index: list[Any] = []
    for i in range(nd):
        if i == axis:
            index.append(indices)
        else:
            index.append(np.arange(shape[i]).reshape([-1 if j == i else 1 for j in range(nd)]))
    return getitem(arr, tuple(index))


def select(condlist: Sequence[Any], choicelist: Sequence[Any], default: Any = 0) -> Any:
    """`numpy.select`: the first choice whose condition holds, else ``default``.

    Args:
        condlist: boolean arrays (traced or not), one per choice.
        choicelist: the choices (traced or not), broadcast against the conditions.
        default: the value where no condition holds.

    Returns:
        An array taking, at each position, the first choice whose condition holds;
        derivatives flow to the chosen entries only.

    >>> import xform, xform.numpy as np
    >>> f = lambda x: np.select([x < 0, x > 1], [-x, x ** 2], default=x)
    >>> x = np.array([-1.0, 0.5, 2.0])
    >>> f(x).tolist(), xform.grad(lambda x: np.sum(f(x)))(x).tolist()
    ([1.0, 0.5, 4.0], [-1.0, 1.0, 4.0])
    """
    if len(condlist) != len(choicelist):
        raise ValueError("list of cases must be same length as list of conditions")
    if len(condlist) == 0:
        raise ValueError("select with an empty condition list is not possible")
    out = default
    for cond, choice in zip(condlist[::-1], choicelist[::-1]):
        if not np.issubdtype(dtype_of(cond), np.bool_):
            raise TypeError(f"invalid entry in condlist: should be boolean ndarray, "
                            f"got {dtype_of(cond)}")
        out = where(cond, choice, out)
    shape = np.broadcast_shapes(*[shape_of(c) for c in condlist],
                                *[shape_of(c) for c in choicelist], shape_of(default))
    return broadcast_to(out, shape)


row_stack = vstack

def _block_depth(arrays: Any, where: str = "arrays") -> tuple[int, int]:
    """(list nesting depth, largest leaf ndim) of ``np.block``'s argument; the leaves
    must all sit at the same depth, as NumPy requires."""
    if isinstance(arrays, tuple):
        raise TypeError(f"xform.numpy.block: {where} is a tuple; only lists may be nested "
                        "(as in NumPy): write [a, b], not (a, b)")
    if not isinstance(arrays, list):
        return 0, len(shape_of(arrays))
    if not arrays:
        raise ValueError(f"xform.numpy.block: {where} is an empty list; every list must "
                         "hold at least one array")
    found = [_block_depth(a, f"{where}[{i}]") for i, a in enumerate(arrays)]
    depths = {d for d, _ in found}
    if len(depths) > 1:
        raise ValueError(f"xform.numpy.block: the lists in {where} are nested to different "
                         f"depths ({sorted(depths)}); nest every array equally deep")
    return depths.pop() + 1, builtins.max(n for _, n in found)


def block(arrays: Sequence[Any]) -> Any:
    """`numpy.block`: assemble an array from nested lists of blocks, the innermost
    lists joined along the last axis, the next ones along the axis before it, and so
    on; differentiable in every block (a composition of concatenates).

    Args:
        arrays: an array, or nested lists of arrays and scalars (traced or not), every
            one nested equally deep; blocks of fewer dimensions than the result get
            leading axes of size 1.

    Returns:
        The assembled array.

    >>> import xform, xform.numpy as np
    >>> np.block([[np.eye(2), np.zeros((2, 1))], [np.ones((1, 2)), 2.0]]).tolist()
    [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [1.0, 1.0, 2.0]]
    >>> xform.grad(lambda a: np.sum(np.block([[a, 2 * a]])))(np.ones((1, 2))).tolist()
    [[3.0, 3.0]]
    """
    depth, leaf_ndim = _block_depth(arrays)
    ndim = builtins.max(depth, leaf_ndim)

    def build(a: Any, level: int) -> Any:
        if isinstance(a, list):
            parts = [build(b, level + 1) for b in a]
            return parts[0] if len(parts) == 1 else concatenate(parts, axis=level - depth)
        a = a if isinstance(a, Tracer) else asarray(a)
        shape = tuple(shape_of(a))
        return reshape(a, (1,) * (ndim - len(shape)) + shape) if len(shape) < ndim else a

    out = build(arrays, 0)
    if isinstance(out, np.ndarray) and out.base is not None or _is_leaf(out, arrays):
        out = np.array(out, copy=True)  # NumPy's block returns a new array, never a view
    return out


def _is_leaf(x: Any, arrays: Any) -> bool:
    """Whether ``x`` is one of the blocks themselves (a one-block ``np.block``)."""
    while isinstance(arrays, list) and len(arrays) == 1:
        arrays = arrays[0]
    return isinstance(x, np.ndarray) and x is arrays


def _layout(a: Any, dtype: Any, order: str) -> Any:
    if isinstance(a, Tracer) or is_foreign(like_value(a)):
        # a traced value has no memory layout to change, and a Dask or CuPy array
        # keeps its library's own: the values (cast, at least 1-D) are what counts
        out = a if dtype is None else astype(a, dtype)
        return atleast_1d(out)
    fn = np.ascontiguousarray if order == "C" else np.asfortranarray
    return fn(a, dtype=dtype)


def ascontiguousarray(a: Any, dtype: Any = None) -> Any:
    """`numpy.ascontiguousarray`: ``a`` as an array of at least one dimension, laid out
    in C order. A traced value (immutable, with no layout of its own) and a Dask or
    CuPy array come back with the same values (cast to ``dtype``, at least 1-D), so the
    derivative is that of ``astype``.

    Args:
        a: an array, nested sequence or scalar (traced or not).
        dtype: the result dtype.

    Returns:
        A C-contiguous NumPy array (for NumPy inputs), at least 1-D.

    >>> import xform, xform.numpy as np
    >>> np.ascontiguousarray(np.ones((2, 3)).T).flags["C_CONTIGUOUS"]
    True
    >>> xform.grad(lambda x: np.sum(np.ascontiguousarray(x.T) ** 2))(np.ones((2, 2))).tolist()
    [[2.0, 2.0], [2.0, 2.0]]
    """
    return _layout(a, dtype, "C")


def asfortranarray(a: Any, dtype: Any = None) -> Any:
    """`numpy.asfortranarray`: as :func:`ascontiguousarray`, laid out in Fortran order.

    Args:
        a: an array, nested sequence or scalar (traced or not).
        dtype: the result dtype.

    Returns:
        A Fortran-contiguous NumPy array (for NumPy inputs), at least 1-D.

    >>> import xform, xform.numpy as np
    >>> np.asfortranarray(np.ones((2, 3))).flags["F_CONTIGUOUS"]
    True
    >>> float(xform.grad(lambda x: np.asfortranarray(x)[0] * 3.0)(2.0))
    3.0
    """
    return _layout(a, dtype, "F")


__all__ = ["rollaxis", "atleast_3d", "dstack", "append", "r_", "c_", "row_stack", "array_split", "split", "hsplit", "vsplit",
           "dsplit", "pad", "rot90", "fliplr", "flipud", "diagonal", "trace", "diag",
           "diagflat", "tril", "triu", "kron", "cross", "take_along_axis", "select", "block",
           "ascontiguousarray", "asfortranarray"]
