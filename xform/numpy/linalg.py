"""``xform.numpy.linalg``: NumPy's ``numpy.linalg``, traceable and differentiable.

May import: the core and the whole family but ``fft`` and ``_tracer_methods``.

Decompositions and solvers are primitives (``_linalg.py``); norms, powers and
tensor solvers are built on them here. Everything accepts stacks of matrices
``(..., m, n)`` where NumPy does, and works under ``vmap``.
"""
from __future__ import annotations

import builtins
from typing import Any, Sequence

import numpy as _np

from .._unsupported import unsupported_getattr
from ..core.rules import accept_sequences_in as _accept_sequences_in
from ..core.rules import dtype_of, shape_of
from ._contract import dot, matmul, tensordot
from ._contract import outer as _outer
from ._creation import asarray as _asarray
from ._elementwise import abs_squared, astype, not_equal, power, real_dtype, sqrt, where
from ._elementwise import abs as _abs
from ._linalg import (EighResult, EigResult, QRResult, SlogdetResult, SVDResult, as_float, cholesky,
                      det, eig, eigh, eigvals, eigvalsh, inv, lstsq, matrix_rank, mT, pinv, qr,
                      slogdet, solve, svd, svdvals)
from ._manip import cross as _cross
from ._manip import diagonal as _diagonal
from ._reductions import normalize_axis
from ._reductions import max as _max
from ._reductions import min as _min
from ._reductions import sum as _sum
from ._shape import moveaxis, ravel, reshape, transpose

LinAlgError = _np.linalg.LinAlgError

__all__ = ["LinAlgError", "EigResult", "EighResult", "QRResult", "SlogdetResult", "SVDResult",
           "cholesky", "cond", "cross", "det", "diagonal", "eig", "eigh", "eigvals", "eigvalsh", "inv", "lstsq", "matmul", "matrix_norm", "matrix_power",
           "matrix_rank", "matrix_transpose", "multi_dot", "norm", "outer", "pinv", "qr",
           "slogdet", "solve", "svd", "svdvals", "tensordot", "tensorinv", "tensorsolve",
           "trace", "vecdot", "vector_norm"]


# ------------------------------------------------------------------ norms
def _two_norm(x: Any, axis: tuple[int, ...], keepdims: bool) -> Any:
    """``sqrt(sum(x^2))`` whose derivative at 0 is 0 rather than NaN: the double
    ``where`` keeps 0/0 out of both branches."""
    sq = _sum(abs_squared(x), axis=axis, keepdims=keepdims)
    zero = sq == 0
    return where(zero, 0.0, sqrt(where(zero, 1.0, sq)))


def _vector_norm(x: Any, ord: Any, axis: tuple[int, ...], keepdims: bool) -> Any:
    if ord is None or ord == 2:
        return _two_norm(x, axis, keepdims)
    if isinstance(ord, str):
        raise ValueError("Invalid norm order for vectors.")
    if ord == _np.inf:
        return _max(_abs(x), axis=axis, keepdims=keepdims)
    if ord == -_np.inf:
        return _min(_abs(x), axis=axis, keepdims=keepdims)
    if ord == 0:
        return _sum(astype(not_equal(x, 0), real_dtype(x)), axis=axis, keepdims=keepdims)
    if ord == 1:
        return _sum(_abs(x), axis=axis, keepdims=keepdims)
    total = _sum(power(_abs(x), float(ord)), axis=axis, keepdims=keepdims)
    zero = total == 0
    return where(zero, 0.0, power(where(zero, 1.0, total), 1.0 / float(ord)))


def _svd_norm(x: Any, row: int, col: int, reduce: Any) -> Any:
    return reduce(svdvals(moveaxis(x, (row, col), (-2, -1))), axis=-1)


def _matrix_norm(x: Any, ord: Any, axis: tuple[int, int], keepdims: bool) -> Any:
    row, col = axis
    if row == col:
        raise ValueError("Duplicate axes given.")
    if ord is None or ord == "fro" or ord == "f":
        return _two_norm(x, axis, keepdims)
    if ord == "nuc":
        out = _svd_norm(x, row, col, _sum)
    elif ord == 2:
        out = _svd_norm(x, row, col, _max)
    elif ord == -2:
        out = _svd_norm(x, row, col, _min)
    elif ord in (1, -1):
        reduce = _max if ord == 1 else _min
        out = reduce(_sum(_abs(x), axis=row), axis=col - (col > row))
    elif ord in (_np.inf, -_np.inf):
        reduce = _max if ord == _np.inf else _min
        out = reduce(_sum(_abs(x), axis=col), axis=row - (row > col))
    else:
        raise ValueError("Invalid norm order for matrices.")
    if keepdims:
        shape = list(shape_of(x))
        shape[row] = shape[col] = 1
        out = reshape(out, shape)
    return out


def norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Any:
    """`numpy.linalg.norm`: vector ords None/2, 1, inf, -inf, 0 and any p; matrix ords
    'fro', 'nuc', 1, -1, 2, -2, inf, -inf; ``axis`` and ``keepdims``.

    Norms built on ``sqrt`` (2, 'fro', p) have derivative 0 at the zero vector (a
    subgradient) instead of NaN; 1/inf norms use ``sign``/the maximum's subgradient;
    the matrix 2/-2/'nuc' norms differentiate through singular values."""
    x = as_float(x)
    nd = len(shape_of(x))
    if axis is None:
        if ord is None:
            out = _two_norm(ravel(x), (0,), False)
            return reshape(out, (1,) * nd) if keepdims else out
        if nd not in (1, 2):
            raise ValueError("Improper number of dimensions to norm.")
        axis = tuple(range(nd))
    axes = (axis,) if isinstance(axis, (int, _np.integer)) else tuple(axis)
    resolved = tuple(int(a) % builtins.max(nd, 1) for a in axes)
    if builtins.any(not -nd <= int(a) < nd for a in axes):
        normalize_axis(axes, nd)  # raises NumPy's out-of-bounds message
    if len(resolved) == 1:
        return _vector_norm(x, ord, resolved, keepdims)
    if len(resolved) == 2:
        return _matrix_norm(x, ord, (resolved[0], resolved[1]), keepdims)
    raise ValueError("Improper number of dimensions to norm.")


def vector_norm(x: Any, /, *, axis: Any = None, keepdims: bool = False, ord: Any = 2) -> Any:
    """`numpy.linalg.vector_norm` (any number of axes; all of them by default)."""
    x = as_float(x)
    nd = len(shape_of(x))
    if axis is None:
        out = _vector_norm(ravel(x), ord, (0,), False)
        return reshape(out, (1,) * nd) if keepdims else out
    axes = normalize_axis(axis, nd)
    if len(axes) == 1:
        return _vector_norm(x, ord, axes, keepdims)
    # several axes: move them to the end and flatten them into one
    rest = [i for i in range(nd) if i not in axes]
    moved = transpose(x, rest + list(axes))
    flat = reshape(moved, tuple(shape_of(x)[i] for i in rest) + (-1,))
    out = _vector_norm(flat, ord, (len(rest),), False)
    if keepdims:
        out = reshape(out, tuple(1 if i in axes else n for i, n in enumerate(shape_of(x))))
    return out


def matrix_norm(x: Any, /, *, keepdims: bool = False, ord: Any = "fro") -> Any:
    """`numpy.linalg.matrix_norm` over the last two axes."""
    x = as_float(x)
    nd = len(shape_of(x))
    return _matrix_norm(x, ord, (nd - 2, nd - 1), keepdims)


def cond(x: Any, p: Any = None) -> Any:
    """`numpy.linalg.cond`: ``s_max / s_min`` for p None/2 (inverse for -2), otherwise
    ``norm(x, p) * norm(inv(x), p)``."""
    x = as_float(x)
    if p is None or p == 2 or p == -2:
        s = svdvals(x)
        hi, lo = s[..., 0], s[..., -1]
        return lo / hi if p == -2 else hi / lo
    nd = len(shape_of(x))
    return (_matrix_norm(x, p, (nd - 2, nd - 1), False)
            * _matrix_norm(inv(x), p, (nd - 2, nd - 1), False))


# ------------------------------------------------------------------ products and powers
def matrix_power(a: Any, n: int) -> Any:
    """`numpy.linalg.matrix_power` by repeated squaring (``inv`` first for ``n < 0``)."""
    try:
        n = _np.asarray(n).__index__()
    except TypeError as e:
        raise TypeError("exponent must be an integer") from e
    a = _asarray(a)
    shape = shape_of(a)
    if len(shape) < 2 or shape[-1] != shape[-2]:
        raise LinAlgError("Last 2 dimensions of the array must be square")
    if n == 0:
        return _np.broadcast_to(_np.eye(shape[-1], dtype=dtype_of(a)), shape).copy()
    if n < 0:
        a, n = inv(a), -n
    result = None
    square = a
    while True:
        if n & 1:
            result = square if result is None else matmul(result, square)
        n >>= 1
        if not n:
            return result
        square = matmul(square, square)


def _chain_order(dims: Sequence[int]) -> list[list[int]]:
    """The split points of the cheapest parenthesisation of a matrix chain whose
    i-th matrix is ``dims[i] x dims[i + 1]`` (the textbook dynamic programme)."""
    k = len(dims) - 1
    cost = [[0] * k for _ in range(k)]
    split = [[0] * k for _ in range(k)]
    for length in range(1, k):
        for i in range(k - length):
            j = i + length
            cost[i][j] = _np.iinfo(_np.int64).max
            for s in range(i, j):
                c = cost[i][s] + cost[s + 1][j] + dims[i] * dims[s + 1] * dims[j + 1]
                if c < cost[i][j]:
                    cost[i][j], split[i][j] = c, s
    return split


def multi_dot(arrays: Sequence[Any], *, out: Any = None) -> Any:
    """`numpy.linalg.multi_dot`: the product in the cheapest order (the first and
    last arrays may be vectors)."""
    if out is not None:
        raise NotImplementedError("multi_dot(out=...) is not supported by xform")
    arrays = [_asarray(a) for a in arrays]
    if len(arrays) < 2:
        raise ValueError("Expecting at least two arrays.")
    if len(arrays) == 2:
        return dot(arrays[0], arrays[1])
    first_vec, last_vec = len(shape_of(arrays[0])) == 1, len(shape_of(arrays[-1])) == 1
    if first_vec:
        arrays[0] = reshape(arrays[0], (1, -1))
    if last_vec:
        arrays[-1] = reshape(arrays[-1], (-1, 1))
    for a in arrays:
        if len(shape_of(a)) != 2:
            raise ValueError(f"{len(shape_of(a))}-dimensional array given. "
                             "Array must be two-dimensional")
    split = _chain_order([shape_of(a)[0] for a in arrays] + [shape_of(arrays[-1])[1]])

    def product(i: int, j: int) -> Any:
        if i == j:
            return arrays[i]
        s = split[i][j]
        return matmul(product(i, s), product(s + 1, j))

    result = product(0, len(arrays) - 1)
    if first_vec and last_vec:
        return reshape(result, ())
    if first_vec or last_vec:
        return ravel(result)
    return result


def tensorsolve(a: Any, b: Any, axes: Any = None) -> Any:
    """`numpy.linalg.tensorsolve`: ``x`` with ``tensordot(a, x, x.ndim) == b``."""
    a, b = as_float(a), as_float(b)
    an = len(shape_of(a))
    if axes is not None:
        order = list(range(an))
        for k in axes:
            order.remove(k % an)
            order.append(k % an)
        a = transpose(a, order)
    old = tuple(shape_of(a)[len(shape_of(b)):])
    size = int(_np.prod(old))
    if int(_np.prod(shape_of(a))) != size ** 2:
        raise LinAlgError("Input arrays must satisfy the requirement "
                          "prod(a.shape[b.ndim:]) == prod(a.shape[:b.ndim])")
    return reshape(solve(reshape(a, (size, size)), ravel(b)), old)


def tensorinv(a: Any, ind: int = 2) -> Any:
    """`numpy.linalg.tensorinv`."""
    a = as_float(a)
    if ind <= 0:
        raise ValueError("Invalid ind argument.")
    shape = tuple(shape_of(a))
    inv_shape = shape[ind:] + shape[:ind]
    size = int(_np.prod(shape[ind:]))
    return reshape(inv(reshape(a, (size, -1))), inv_shape)


# ------------------------------------------------------------------ array-API helpers
def matrix_transpose(x: Any, /) -> Any:
    """`numpy.linalg.matrix_transpose`: swap the last two axes."""
    if len(shape_of(x)) < 2:
        raise ValueError("Input array must be at least 2-dimensional")
    return mT(x)


def outer(x1: Any, x2: Any, /) -> Any:
    """`numpy.linalg.outer` of two vectors."""
    if len(shape_of(x1)) != 1 or len(shape_of(x2)) != 1:
        raise ValueError("Input arrays must be one-dimensional")
    return _outer(x1, x2)


def cross(x1: Any, x2: Any, /, *, axis: int = -1) -> Any:
    """`numpy.linalg.cross` of 3-vectors."""
    if shape_of(x1)[axis] != 3 or shape_of(x2)[axis] != 3:
        raise ValueError("Both input arrays must be (arrays of) 3-dimensional vectors, "
                         f"but they are {shape_of(x1)[axis]} and {shape_of(x2)[axis]} "
                         "dimensional instead.")
    return _cross(x1, x2, axis=axis)


def vecdot(x1: Any, x2: Any, /, *, axis: int = -1) -> Any:
    """`numpy.linalg.vecdot` for real arrays: ``sum(x1 * x2, axis)``."""
    return _sum(x1 * x2, axis=axis)


def diagonal(x: Any, /, *, offset: int = 0) -> Any:
    """`numpy.linalg.diagonal`: the diagonals of the last two axes."""
    return _diagonal(x, offset, -2, -1)


def trace(x: Any, /, *, offset: int = 0, dtype: Any = None) -> Any:
    """`numpy.linalg.trace`: the traces of the last two axes."""
    out = _sum(diagonal(x, offset=offset), axis=-1)
    return out if dtype is None else astype(out, dtype)


__getattr__ = unsupported_getattr(
    "xform.numpy.linalg", _np.linalg,
    "Apply it to constants only (plain NumPy arrays), or express it with the supported functions.")

# lists and tuples of traced values are read as arrays where SciPy/NumPy take array_like
_accept_sequences_in(globals())
