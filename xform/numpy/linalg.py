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

from .._unsupported import unsupported_getattr as _unsupported_getattr
from ..core.rules import accept_sequences_in as _accept_sequences_in
from ..core.rules import dtype_of as _dtype_of, shape_of as _shape_of
from ._contract import dot as _dot, matmul, tensordot
from ._contract import outer as _outer
from ._creation import asarray as _asarray
from ._elementwise import (abs_squared as _abs_squared, astype as _astype, not_equal as _not_equal,
                           power as _power, real_dtype as _real_dtype, sqrt as _sqrt,
                           where as _where)
from ._elementwise import abs as _abs
from ._linalg import (EighResult, EigResult, QRResult, SlogdetResult, SVDResult,
                      as_float as _as_float, cholesky, det, eig, eigh, eigvals, eigvalsh, inv,
                      lstsq, matrix_rank, mT as _mT, pinv, qr, slogdet, solve, svd, svdvals)
from ._manip import cross as _cross
from ._manip import diagonal as _diagonal
from ._reductions import normalize_axis as _normalize_axis
from ._reductions import max as _max
from ._reductions import min as _min
from ._reductions import sum as _sum
from ._shape import (moveaxis as _moveaxis, ravel as _ravel, reshape as _reshape,
                     transpose as _transpose)

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
    sq = _sum(_abs_squared(x), axis=axis, keepdims=keepdims)
    zero = sq == 0
    return _where(zero, 0.0, _sqrt(_where(zero, 1.0, sq)))


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
        return _sum(_astype(_not_equal(x, 0), _real_dtype(x)), axis=axis, keepdims=keepdims)
    if ord == 1:
        return _sum(_abs(x), axis=axis, keepdims=keepdims)
    total = _sum(_power(_abs(x), float(ord)), axis=axis, keepdims=keepdims)
    zero = total == 0
    return _where(zero, 0.0, _power(_where(zero, 1.0, total), 1.0 / float(ord)))


def _svd_norm(x: Any, row: int, col: int, reduce: Any) -> Any:
    return reduce(svdvals(_moveaxis(x, (row, col), (-2, -1))), axis=-1)


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
        shape = list(_shape_of(x))
        shape[row] = shape[col] = 1
        out = _reshape(out, shape)
    return out


def norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Any:
    """`numpy.linalg.norm`: vector ords None/2, 1, inf, -inf, 0 and any p; matrix ords
    'fro', 'nuc', 1, -1, 2, -2, inf, -inf; ``axis`` and ``keepdims``.

    Norms built on ``sqrt`` (2, 'fro', p) have derivative 0 at the zero vector (a
    subgradient) instead of NaN; 1/inf norms use ``sign``/the maximum's subgradient;
    the matrix 2/-2/'nuc' norms differentiate through singular values.

    Args:
        x: an array (traced or not).
        ord: the norm order, as NumPy's.
        axis: the axis.
        keepdims: keep the reduced axes, with size 1.

    Returns:
        The vector or matrix norm.

    >>> import numpy, xform, xform.numpy as np
    >>> a = numpy.array([[2.0, 1.0], [1.0, 3.0]])
    >>> bool(numpy.allclose(np.linalg.norm(a), numpy.linalg.norm(a)))
    True
    >>> xform.grad(np.linalg.norm)(a).shape
    (2, 2)
    """
    x = _as_float(x)
    nd = len(_shape_of(x))
    if axis is None:
        if ord is None:
            out = _two_norm(_ravel(x), (0,), False)
            return _reshape(out, (1,) * nd) if keepdims else out
        if nd not in (1, 2):
            raise ValueError("Improper number of dimensions to norm.")
        axis = tuple(range(nd))
    axes = (axis,) if isinstance(axis, (int, _np.integer)) else tuple(axis)
    resolved = tuple(int(a) % builtins.max(nd, 1) for a in axes)
    if builtins.any(not -nd <= int(a) < nd for a in axes):
        _normalize_axis(axes, nd)  # raises NumPy's out-of-bounds message
    if len(resolved) == 1:
        return _vector_norm(x, ord, resolved, keepdims)
    if len(resolved) == 2:
        return _matrix_norm(x, ord, (resolved[0], resolved[1]), keepdims)
    raise ValueError("Improper number of dimensions to norm.")


def vector_norm(x: Any, /, *, axis: Any = None, keepdims: bool = False, ord: Any = 2) -> Any:
    """`numpy.linalg.vector_norm` (any number of axes; all of them by default).

    Args:
        x: an array (traced or not).
        axis: the axis.
        keepdims: keep the reduced axes, with size 1.
        ord: the norm order, as NumPy's.

    Returns:
        The vector norm (of the flattened array by default).

    >>> import numpy, xform, xform.numpy as np
    >>> a = numpy.array([[2.0, 1.0], [1.0, 3.0]])
    >>> bool(numpy.allclose(np.linalg.vector_norm(a), numpy.linalg.norm(a.ravel())))
    True
    """
    x = _as_float(x)
    nd = len(_shape_of(x))
    if axis is None:
        out = _vector_norm(_ravel(x), ord, (0,), False)
        return _reshape(out, (1,) * nd) if keepdims else out
    axes = _normalize_axis(axis, nd)
    if len(axes) == 1:
        return _vector_norm(x, ord, axes, keepdims)
    # several axes: move them to the end and flatten them into one
    rest = [i for i in range(nd) if i not in axes]
    moved = _transpose(x, rest + list(axes))
    flat = _reshape(moved, tuple(_shape_of(x)[i] for i in rest) + (-1,))
    out = _vector_norm(flat, ord, (len(rest),), False)
    if keepdims:
        out = _reshape(out, tuple(1 if i in axes else n for i, n in enumerate(_shape_of(x))))
    return out


def matrix_norm(x: Any, /, *, keepdims: bool = False, ord: Any = "fro") -> Any:
    """`numpy.linalg.matrix_norm` over the last two axes.

    Args:
        x: an array (traced or not).
        keepdims: keep the reduced axes, with size 1.
        ord: the norm order, as NumPy's.

    Returns:
        The norm of each matrix.

    >>> import numpy, xform, xform.numpy as np
    >>> a = numpy.array([[2.0, 1.0], [1.0, 3.0]])
    >>> bool(numpy.allclose(np.linalg.matrix_norm(a), numpy.linalg.norm(a)))
    True
    """
    x = _as_float(x)
    nd = len(_shape_of(x))
    return _matrix_norm(x, ord, (nd - 2, nd - 1), keepdims)


def cond(x: Any, p: Any = None) -> Any:
    """`numpy.linalg.cond`: ``s_max / s_min`` for p None/2 (inverse for -2), otherwise
    ``norm(x, p) * norm(inv(x), p)``.

    Args:
        x: an array (traced or not).
        p: the norm order, as NumPy's.

    Returns:
        The condition number.

    >>> import numpy, xform, xform.numpy as np
    >>> a = numpy.array([[2.0, 1.0], [1.0, 3.0]])
    >>> bool(numpy.allclose(np.linalg.cond(a), numpy.linalg.cond(a)))
    True
    """
    x = _as_float(x)
    if p is None or p == 2 or p == -2:
        s = svdvals(x)
        hi, lo = s[..., 0], s[..., -1]
        return lo / hi if p == -2 else hi / lo
    nd = len(_shape_of(x))
    return (_matrix_norm(x, p, (nd - 2, nd - 1), False)
            * _matrix_norm(inv(x), p, (nd - 2, nd - 1), False))


# ------------------------------------------------------------------ products and powers
def matrix_power(a: Any, n: int) -> Any:
    """`numpy.linalg.matrix_power` by repeated squaring (``inv`` first for ``n < 0``).

    Args:
        a: a square matrix (or a stack of them; traced or not).
        n: the (integer) power.

    Returns:
        ``a`` to the power ``n`` (negative: of the inverse).

    >>> import numpy, xform, xform.numpy as np
    >>> a = numpy.array([[2.0, 1.0], [1.0, 3.0]])
    >>> bool(numpy.allclose(np.linalg.matrix_power(a, 3), numpy.linalg.matrix_power(a, 3)))
    True
    """
    try:
        n = _np.asarray(n).__index__()
    except TypeError as e:
        raise TypeError("exponent must be an integer") from e
    a = _asarray(a)
    shape = _shape_of(a)
    if len(shape) < 2 or shape[-1] != shape[-2]:
        raise LinAlgError("Last 2 dimensions of the array must be square")
    if n == 0:
        return _np.broadcast_to(_np.eye(shape[-1], dtype=_dtype_of(a)), shape).copy()
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
    last arrays may be vectors).

    Args:
        arrays: the matrices, multiplied in the cheapest order.
        out: not supported (must be None).

    Returns:
        The product of the matrices.

    >>> import numpy, xform, xform.numpy as np
    >>> a = numpy.array([[2.0, 1.0], [1.0, 3.0]])
    >>> bool(numpy.allclose(np.linalg.multi_dot([a, a, a]), a @ a @ a))
    True
    """
    if out is not None:
        raise NotImplementedError("multi_dot(out=...) is not supported by xform")
    arrays = [_asarray(a) for a in arrays]
    if len(arrays) < 2:
        raise ValueError("Expecting at least two arrays.")
    if len(arrays) == 2:
        return _dot(arrays[0], arrays[1])
    first_vec, last_vec = len(_shape_of(arrays[0])) == 1, len(_shape_of(arrays[-1])) == 1
    if first_vec:
        arrays[0] = _reshape(arrays[0], (1, -1))
    if last_vec:
        arrays[-1] = _reshape(arrays[-1], (-1, 1))
    for a in arrays:
        if len(_shape_of(a)) != 2:
            raise ValueError(f"{len(_shape_of(a))}-dimensional array given. "
                             "Array must be two-dimensional")
    split = _chain_order([_shape_of(a)[0] for a in arrays] + [_shape_of(arrays[-1])[1]])

    def product(i: int, j: int) -> Any:
        if i == j:
            return arrays[i]
        s = split[i][j]
        return matmul(product(i, s), product(s + 1, j))

    result = product(0, len(arrays) - 1)
    if first_vec and last_vec:
        return _reshape(result, ())
    if first_vec or last_vec:
        return _ravel(result)
    return result


def tensorsolve(a: Any, b: Any, axes: Any = None) -> Any:
    """`numpy.linalg.tensorsolve`: ``x`` with ``tensordot(a, x, x.ndim) == b``.

    Args:
        a: a square matrix (or a stack of them; traced or not).
        b: the right-hand side(s).
        axes: the axes of ``a`` to move to the end.

    Returns:
        The solution ``x`` of ``tensordot(a, x, x.ndim) = b``.

    >>> import numpy, xform, xform.numpy as np
    >>> a = numpy.array([[2.0, 1.0], [1.0, 3.0]])
    >>> bool(numpy.allclose(np.linalg.tensorsolve(a, numpy.array([1.0, 2.0])), numpy.linalg.tensorsolve(a, numpy.array([1.0, 2.0]))))
    True
    """
    a, b = _as_float(a), _as_float(b)
    an = len(_shape_of(a))
    if axes is not None:
        order = list(range(an))
        for k in axes:
            order.remove(k % an)
            order.append(k % an)
        a = _transpose(a, order)
    old = tuple(_shape_of(a)[len(_shape_of(b)):])
    size = int(_np.prod(old))
    if int(_np.prod(_shape_of(a))) != size ** 2:
        raise LinAlgError("Input arrays must satisfy the requirement "
                          "prod(a.shape[b.ndim:]) == prod(a.shape[:b.ndim])")
    return _reshape(solve(_reshape(a, (size, size)), _ravel(b)), old)


def tensorinv(a: Any, ind: int = 2) -> Any:
    """`numpy.linalg.tensorinv`.

    Args:
        a: a square matrix (or a stack of them; traced or not).
        ind: the number of leading indices of the inverse.

    Returns:
        The inverse with respect to ``tensordot``.

    >>> import numpy, xform, xform.numpy as np
    >>> a = numpy.array([[2.0, 1.0], [1.0, 3.0]])
    >>> bool(numpy.allclose(np.linalg.tensorinv(a, ind=1), numpy.linalg.tensorinv(a, ind=1)))
    True
    """
    a = _as_float(a)
    if ind <= 0:
        raise ValueError("Invalid ind argument.")
    shape = tuple(_shape_of(a))
    inv_shape = shape[ind:] + shape[:ind]
    size = int(_np.prod(shape[ind:]))
    return _reshape(inv(_reshape(a, (size, -1))), inv_shape)


# ------------------------------------------------------------------ array-API helpers
def matrix_transpose(x: Any, /) -> Any:
    """`numpy.linalg.matrix_transpose`: swap the last two axes.

    Args:
        x: an array (traced or not).

    Returns:
        The transpose of each matrix (the last two axes swapped).

    >>> import numpy, xform, xform.numpy as np
    >>> a = numpy.array([[2.0, 1.0], [1.0, 3.0]])
    >>> bool(numpy.allclose(np.linalg.matrix_transpose(a), a.T))
    True
    """
    if len(_shape_of(x)) < 2:
        raise ValueError("Input array must be at least 2-dimensional")
    return _mT(x)


def outer(x1: Any, x2: Any, /) -> Any:
    """`numpy.linalg.outer` of two vectors.

    Args:
        x1: an array.
        x2: an array.

    Returns:
        The outer product of two vectors.

    >>> import numpy, xform, xform.numpy as np
    >>> a = numpy.array([[2.0, 1.0], [1.0, 3.0]])
    >>> bool(numpy.allclose(np.linalg.outer(numpy.array([1.0, 2.0]), numpy.array([1.0, 2.0])), numpy.outer(numpy.array([1.0, 2.0]), numpy.array([1.0, 2.0]))))
    True
    """
    if len(_shape_of(x1)) != 1 or len(_shape_of(x2)) != 1:
        raise ValueError("Input arrays must be one-dimensional")
    return _outer(x1, x2)


def cross(x1: Any, x2: Any, /, *, axis: int = -1) -> Any:
    """`numpy.linalg.cross` of 3-vectors.

    Args:
        x1: an array.
        x2: an array.
        axis: the axis.

    Returns:
        The cross product of 3-vectors along ``axis``.

    >>> import numpy, xform, xform.numpy as np
    >>> a = numpy.array([[2.0, 1.0], [1.0, 3.0]])
    >>> bool(numpy.allclose(np.linalg.cross(numpy.array([1.0, 0.0, 0.0]), numpy.array([0.0, 1.0, 0.0])), numpy.array([0.0, 0.0, 1.0])))
    True
    """
    if _shape_of(x1)[axis] != 3 or _shape_of(x2)[axis] != 3:
        raise ValueError("Both input arrays must be (arrays of) 3-dimensional vectors, "
                         f"but they are {_shape_of(x1)[axis]} and {_shape_of(x2)[axis]} "
                         "dimensional instead.")
    return _cross(x1, x2, axis=axis)


def vecdot(x1: Any, x2: Any, /, *, axis: int = -1) -> Any:
    """`numpy.linalg.vecdot` for real arrays: ``sum(x1 * x2, axis)``.

    Args:
        x1: an array.
        x2: an array.
        axis: the axis.

    Returns:
        The dot product along ``axis``.

    >>> import numpy, xform, xform.numpy as np
    >>> a = numpy.array([[2.0, 1.0], [1.0, 3.0]])
    >>> bool(numpy.allclose(np.linalg.vecdot(numpy.array([1.0, 2.0]), numpy.array([1.0, 2.0])), numpy.dot(numpy.array([1.0, 2.0]), numpy.array([1.0, 2.0]))))
    True
    """
    return _sum(x1 * x2, axis=axis)


def diagonal(x: Any, /, *, offset: int = 0) -> Any:
    """`numpy.linalg.diagonal`: the diagonals of the last two axes.

    Args:
        x: an array (traced or not).
        offset: the diagonal's offset.

    Returns:
        The diagonal (of each matrix of a stack).

    >>> import numpy, xform, xform.numpy as np
    >>> a = numpy.array([[2.0, 1.0], [1.0, 3.0]])
    >>> bool(numpy.allclose(np.linalg.diagonal(a), numpy.diagonal(a)))
    True
    """
    return _diagonal(x, offset, -2, -1)


def trace(x: Any, /, *, offset: int = 0, dtype: Any = None) -> Any:
    """`numpy.linalg.trace`: the traces of the last two axes.

    Args:
        x: an array (traced or not).
        offset: the diagonal's offset.
        dtype: the accumulation dtype.

    Returns:
        The sum of each matrix's diagonal.

    >>> import numpy, xform, xform.numpy as np
    >>> a = numpy.array([[2.0, 1.0], [1.0, 3.0]])
    >>> bool(numpy.allclose(np.linalg.trace(a), numpy.trace(a)))
    True
    """
    out = _sum(diagonal(x, offset=offset), axis=-1)
    return out if dtype is None else _astype(out, dtype)


__getattr__ = _unsupported_getattr(
    "xform.numpy.linalg", _np.linalg,
    "Apply it to constants only (plain NumPy arrays), or express it with the supported functions.")

# lists and tuples of traced values are read as arrays where SciPy/NumPy take array_like
_accept_sequences_in(globals())
