"""``xform.scipy.linalg``: SciPy's linear-algebra functions, traceable and differentiable.

Primitives defined here (with all their rules): ``expm`` (Fréchet derivative from
the block-matrix identity ``expm([[A, E], [0, A]]) = [[e^A, L(A, E)], [0, e^A]]``),
``solve_sylvester``, ``sqrtm`` (its derivative solves a Sylvester equation),
``solve_banded``, ``lu_factor`` and ``lu_solve``. The triangular and Cholesky
functions reuse the primitives of ``xform.numpy`` (``_linalg.py``).

``lu_factor``/``lu_solve`` are differentiated properly, not treated as constants: the
derivative of the packed factors ``lu`` follows from ``P dA = dL U + L dU`` at fixed
pivots (which are locally constant), and ``lu_solve`` is differentiable in both
``lu`` and ``b``; so ``lu_solve(lu_factor(A), b)`` has the derivative of ``solve(A, b)``.
SciPy applies its stacked-matrix ("batch") support in one call; for some functions
SciPy itself loops over the stack internally.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import scipy.linalg as _sl

from .._unsupported import unsupported_getattr as _unsupported_getattr
from ..core.ir import ShapedArray as _ShapedArray
from ..core.rules import (Primitive as _Primitive, bind as _bind, dtype_of as _dtype_of,
                          shape_of as _shape_of, unbroadcast as _unbroadcast)
from ..core.lowering import on_host as _on_host
from ..core.arrays import numpy_only as _numpy_only
from ..core.rules import accept_sequences_in as _accept_sequences_in
from ..core.trace import add_any as _add_any
from ..numpy._contract import matmul as _matmul
from ..numpy._elementwise import (astype as _astype, conj as _conj, equal as _equal,
                                  is_complex as _is_complex)
from ..numpy._indexing import getitem as _getitem
from ..numpy._linalg import (_aval, _batch_core, _col, _lead, _shape_rule, as_float as _as_float,
                             cholesky_p as _cholesky_p, column_as_vector as _column_as_vector,
                             mT as _mT, triangular_solve as _triangular_solve,
                             vector_as_column as _vector_as_column)
from ..numpy._manip import tril as _tril, triu as _triu
from ..numpy._reductions import sum as _xsum
from ..numpy._shape import concatenate as _concatenate, reshape as _reshape
from ..numpy.linalg import norm as _norm

__all__ = ["cho_factor", "cho_solve", "cholesky", "expm", "lu_factor", "lu_solve",
           "solve_banded", "solve_sylvester", "solve_triangular", "sqrtm"]


def _trans_code(trans: Any) -> int:
    """0 (solve with A), 1 (A^T) or 2 (A^H, which is A^T for a real A)."""
    codes = {0: 0, 1: 1, 2: 2, "N": 0, "T": 1, "C": 2}
    if trans not in codes:
        raise ValueError(f"trans must be one of 0, 1, 2, 'N', 'T', 'C', got {trans!r}")
    return codes[trans]


# ---------------------------------------------------------------------------- triangular
def solve_triangular(a: Any, b: Any, trans: Any = 0, lower: bool = False,
                     unit_diagonal: bool = False, overwrite_b: bool = False,
                     check_finite: bool = True) -> Any:
    """`scipy.linalg.solve_triangular`: only the ``lower``/upper triangle of ``a`` is
    read (and differentiated), its diagonal too unless ``unit_diagonal``.

    Args:
        a: a square matrix (traced or not).
        b: the right-hand side(s).
        trans: solve with ``a`` (0), its transpose (1) or conjugate transpose (2).
        lower: use (or return) the lower triangle.
        unit_diagonal: assume ones on the diagonal of ``a``.
        overwrite_b: accepted for SciPy compatibility (inputs are never overwritten).
        check_finite: accepted for SciPy compatibility.

    Returns:
        The solution of the triangular system.

    >>> import numpy, scipy.linalg, scipy.signal, xform, xform.numpy as np, xform.scipy.linalg as sl
    >>> a, b = numpy.array([[4.0, 1.0], [1.0, 3.0]]), numpy.array([1.0, 2.0])
    >>> bool(numpy.allclose(sl.solve_triangular(numpy.triu(a), b), numpy.linalg.solve(numpy.triu(a), b)))
    True
    """
    a, b = _as_float(a), _as_float(b)
    b2, vector = _vector_as_column(b)
    code = _trans_code(trans)
    if code == 2:  # A^H x = b is conj(A)^T x = b
        a, code = _conj(a), 1
    x = _triangular_solve(a, b2, lower=lower, trans=code, unit_diagonal=unit_diagonal)
    return _column_as_vector(x, vector)


def cholesky(a: Any, lower: bool = False, overwrite_a: bool = False,
             check_finite: bool = True) -> Any:
    """`scipy.linalg.cholesky`: ``U`` (or ``L`` with ``lower``) of the symmetric matrix
    read from the upper (lower) triangle of ``a``, differentiated as that triangle.

    Args:
        a: a square matrix (traced or not).
        lower: use (or return) the lower triangle.
        overwrite_a: accepted for SciPy compatibility (inputs are never overwritten).
        check_finite: accepted for SciPy compatibility.

    Returns:
        The upper (default) or lower Cholesky factor.

    >>> import numpy, scipy.linalg, scipy.signal, xform, xform.numpy as np, xform.scipy.linalg as sl
    >>> a, b = numpy.array([[4.0, 1.0], [1.0, 3.0]]), numpy.array([1.0, 2.0])
    >>> bool(numpy.allclose(sl.cholesky(a), scipy.linalg.cholesky(a)))
    True
    """
    return _bind(_cholesky_p, _as_float(a), lower=bool(lower))


def cho_factor(a: Any, lower: bool = False, overwrite_a: bool = False,
               check_finite: bool = True) -> tuple[Any, bool]:
    """`scipy.linalg.cho_factor` -> ``(c, lower)``. As in SciPy, the triangle of ``c``
    not holding the factor keeps ``a``'s entries (and their derivative).

    Args:
        a: a square matrix (traced or not).
        lower: use (or return) the lower triangle.
        overwrite_a: accepted for SciPy compatibility (inputs are never overwritten).
        check_finite: accepted for SciPy compatibility.

    Returns:
        ``(c, lower)``: the Cholesky factor in a triangle of ``c``, for :func:`cho_solve`.

    >>> import numpy, scipy.linalg, scipy.signal, xform, xform.numpy as np, xform.scipy.linalg as sl
    >>> a, b = numpy.array([[4.0, 1.0], [1.0, 3.0]]), numpy.array([1.0, 2.0])
    >>> bool(numpy.allclose(sl.cho_solve(sl.cho_factor(a), b), numpy.linalg.solve(a, b)))
    True
    """
    a = _as_float(a)
    factor = _bind(_cholesky_p, a, lower=bool(lower))
    rest = _triu(a, 1) if lower else _tril(a, -1)
    return factor + rest, bool(lower)


def cho_solve(c_and_lower: tuple[Any, bool], b: Any, overwrite_b: bool = False,
              check_finite: bool = True) -> Any:
    """`scipy.linalg.cho_solve`: two triangular solves with the factor in ``c``.

    Args:
        c_and_lower: ``(c, lower)`` from :func:`cho_factor`.
        b: the right-hand side(s).
        overwrite_b: accepted for SciPy compatibility (inputs are never overwritten).
        check_finite: accepted for SciPy compatibility.

    Returns:
        The solution of ``a x = b``.

    >>> import numpy, scipy.linalg, scipy.signal, xform, xform.numpy as np, xform.scipy.linalg as sl
    >>> a, b = numpy.array([[4.0, 1.0], [1.0, 3.0]]), numpy.array([1.0, 2.0])
    >>> bool(numpy.allclose(sl.cho_solve(sl.cho_factor(a), b), numpy.linalg.solve(a, b)))
    True
    >>> xform.grad(lambda m: np.sum(sl.cho_solve(sl.cho_factor(m), b)))(a).shape
    (2, 2)
    """
    c, lower = c_and_lower
    c, b = _as_float(c), _as_float(b)
    b2, vector = _vector_as_column(b)
    if lower:   # A = L L^T
        x = _triangular_solve(c, _triangular_solve(c, b2, lower=True), lower=True, trans=1)
    else:       # A = U^T U
        x = _triangular_solve(c, _triangular_solve(c, b2, lower=False, trans=1), lower=False)
    return _column_as_vector(x, vector)


# ---------------------------------------------------------------------------- expm
_expm_p = _Primitive("expm", _numpy_only("xform.scipy.linalg.expm", _sl.expm))


def _frechet(a: Any, e: Any) -> Any:
    """The Fréchet derivative ``L(A, E)`` of expm: the upper right block of
    ``expm([[A, E], [0, A]])``; built from ``expm_p``, so it differentiates again."""
    n = _shape_of(a)[-1]
    zeros = np.zeros(_shape_of(a), np.result_type(_dtype_of(a), _dtype_of(e)))
    block = _concatenate([_concatenate([a, e], axis=-1), _concatenate([zeros, a], axis=-1)],
                        axis=-2)
    return _getitem(_bind(_expm_p, block), (Ellipsis, slice(None, n), slice(n, None)))


def _expm_jvp(tangents: Sequence[Any], ans: Any, args: Sequence[Any], params: dict) -> Any:
    return _frechet(args[0], tangents[0])


def _expm_vjp(ct: Any, ans: Any, args: Sequence[Any], params: dict,
              needs: Sequence[bool]) -> list[Any]:
    # the adjoint of E -> L(A, E) is G -> L(A^T, G)
    return [_frechet(_mT(args[0]), ct)]


_expm_p.jvp, _expm_p.vjp = _expm_jvp, _expm_vjp
_batch_core(_expm_p, (2,))
_shape_rule(_expm_p, lambda a: _aval(_shape_of(a), a))


def expm(A: Any) -> Any:
    """`scipy.linalg.expm` (stacks too). Derivatives use the exact Fréchet derivative,
    from the exponential of a ``2n x 2n`` block matrix (forward: ``[[A, dA], [0, A]]``;
    reverse: the same with ``A^T`` and the cotangent).

    Args:
        A: a square matrix (traced or not).

    Returns:
        The matrix exponential.

    >>> import numpy, scipy.linalg, scipy.signal, xform, xform.numpy as np, xform.scipy.linalg as sl
    >>> a, b = numpy.array([[4.0, 1.0], [1.0, 3.0]]), numpy.array([1.0, 2.0])
    >>> bool(numpy.allclose(sl.expm(a), scipy.linalg.expm(a)))
    True
    >>> xform.grad(lambda m: np.sum(sl.expm(m)))(a).shape
    (2, 2)
    """
    return _bind(_expm_p, _as_float(A))


# ---------------------------------------------------------------------------- sylvester
_sylvester_p = _Primitive(
    "solve_sylvester", _numpy_only("xform.scipy.linalg.solve_sylvester", _sl.solve_sylvester))


def _sylvester_jvp(tangents: Sequence[Any], ans: Any, args: Sequence[Any],
                   params: dict) -> Any:
    a, b, _ = args
    ta, tb, tq = tangents
    rhs = tq
    if ta is not None:
        rhs = _add_any(rhs, -_matmul(ta, ans))
    if tb is not None:
        rhs = _add_any(rhs, -_matmul(ans, tb))
    return _bind(_sylvester_p, a, b, rhs)


def _sylvester_vjp(ct: Any, ans: Any, args: Sequence[Any], params: dict,
                   needs: Sequence[bool]) -> list[Any]:
    a, b, q = args
    g = _bind(_sylvester_p, _mT(a), _mT(b), ct)
    return [_unbroadcast(-_matmul(g, _mT(ans)), _shape_of(a)) if needs[0] else None,
            _unbroadcast(-_matmul(_mT(ans), g), _shape_of(b)) if needs[1] else None,
            _unbroadcast(g, _shape_of(q)) if needs[2] else None]


_sylvester_p.jvp, _sylvester_p.vjp = _sylvester_jvp, _sylvester_vjp
_batch_core(_sylvester_p, (2, 2, 2))
_shape_rule(_sylvester_p, lambda a, b, q: _aval(
    _lead((a, 2), (b, 2), (q, 2)) + tuple(_shape_of(q)[-2:]), a, b, q))


def solve_sylvester(a: Any, b: Any, q: Any) -> Any:
    """`scipy.linalg.solve_sylvester`: ``X`` with ``A X + X B = Q``, differentiable in
    all three; each derivative is one more Sylvester solve.

    Args:
        a: a square matrix (traced or not).
        b: the right-hand side(s).
        q: the right-hand side of ``a x + x b = q``.

    Returns:
        ``x`` with ``a x + x b = q``.

    >>> import numpy, scipy.linalg, scipy.signal, xform, xform.numpy as np, xform.scipy.linalg as sl
    >>> a, b = numpy.array([[4.0, 1.0], [1.0, 3.0]]), numpy.array([1.0, 2.0])
    >>> bool(numpy.allclose(sl.solve_sylvester(a, a, a), scipy.linalg.solve_sylvester(a, a, a)))
    True
    """
    return _bind(_sylvester_p, _as_float(a), _as_float(b), _as_float(q))


# ---------------------------------------------------------------------------- sqrtm
def _sqrtm_impl(a: Any) -> Any:
    return _sl.sqrtm(a)


_sqrtm_p = _Primitive("sqrtm", _numpy_only("xform.scipy.linalg.sqrtm", _sqrtm_impl))


def _real_root(x: Any, a: Any) -> None:
    # a complex A has a complex (holomorphic) root; a real A must have a real one
    if _is_complex(x) and not _is_complex(a):
        raise NotImplementedError("derivatives of sqrtm are supported where the square "
                                  "root is real (no negative real eigenvalues)")


def _sqrtm_jvp(tangents: Sequence[Any], ans: Any, args: Sequence[Any], params: dict) -> Any:
    _real_root(ans, args[0])  # X dX + dX X = dA
    return _bind(_sylvester_p, ans, ans, tangents[0])


def _sqrtm_vjp(ct: Any, ans: Any, args: Sequence[Any], params: dict,
               needs: Sequence[bool]) -> list[Any]:
    _real_root(ans, args[0])
    xt = _mT(ans)
    return [_bind(_sylvester_p, xt, xt, ct)]


_sqrtm_p.jvp, _sqrtm_p.vjp = _sqrtm_jvp, _sqrtm_vjp
_batch_core(_sqrtm_p, (2,))
_shape_rule(_sqrtm_p, lambda a: _aval(_shape_of(a), a))


def sqrtm(A: Any, disp: bool = True, blocksize: int = 64) -> Any:
    """`scipy.linalg.sqrtm`, the principal square root; its derivative solves
    ``X dX + dX X = dA``. Differentiable where the root is real. ``blocksize`` is
    ignored; ``disp=False`` also returns SciPy's error estimate.

    Args:
        A: a square matrix (traced or not).
        disp: accepted for SciPy compatibility.
        blocksize: accepted for SciPy compatibility.

    Returns:
        The principal matrix square root.

    >>> import numpy, scipy.linalg, scipy.signal, xform, xform.numpy as np, xform.scipy.linalg as sl
    >>> a, b = numpy.array([[4.0, 1.0], [1.0, 3.0]]), numpy.array([1.0, 2.0])
    >>> bool(numpy.allclose(sl.sqrtm(a) @ sl.sqrtm(a), a))
    True
    """
    x = _bind(_sqrtm_p, _as_float(A))
    if disp:
        return x
    return x, _norm(_matmul(x, x) - A, "fro") / _norm(A, "fro")


# ---------------------------------------------------------------------------- banded
def _solve_banded_impl(ab: Any, b: Any, l: int, u: int) -> Any:
    return _sl.solve_banded((l, u), ab, b, check_finite=False)


_solve_banded_p = _Primitive(
    "solve_banded", _numpy_only("xform.scipy.linalg.solve_banded", _solve_banded_impl))


def _shift(z: Any, d: int, axis: int) -> Any:
    """``y[i] = z[i - d]`` along ``axis`` (-1 or -2), zero where ``i - d`` is outside."""
    n = _shape_of(z)[axis]
    if d == 0:
        return z
    if abs(d) >= n:
        return z * 0

    def part(sl: slice) -> Any:
        return _getitem(z, (Ellipsis, sl) if axis == -1 else (Ellipsis, sl, slice(None)))

    pad_shape = list(_shape_of(z))
    pad_shape[axis] = abs(d)
    pad = np.zeros(pad_shape, _dtype_of(z))
    kept = part(slice(None, n - d)) if d > 0 else part(slice(-d, None))
    return _concatenate([pad, kept] if d > 0 else [kept, pad], axis=axis)


def _band_row(ab: Any, r: int) -> Any:
    return _getitem(ab, (Ellipsis, r, slice(None)))


def _band_matmul(ab: Any, x: Any, l: int, u: int) -> Any:
    """``A @ x`` for ``A`` in banded storage (``A[i, j] = ab[u + i - j, j]``)."""
    out = None
    for r in range(l + u + 1):
        out = _add_any(out, _shift(_col(_band_row(ab, r)) * x, r - u, -2))
    return out


def _band_transpose(ab: Any, l: int, u: int) -> Any:
    """The banded storage of ``A^T`` (``u`` and ``l`` swap)."""
    rows = [_shift(_band_row(ab, l + u - r), l - r, -1) for r in range(l + u + 1)]
    return _concatenate([_reshape(r, _shape_of(r)[:-1] + (1, _shape_of(r)[-1])) for r in rows],
                       axis=-2)


def _solve_banded_jvp(tangents: Sequence[Any], ans: Any, args: Sequence[Any],
                      params: dict) -> Any:
    ab, _ = args
    tab, tb = tangents
    l, u = params["l"], params["u"]
    rhs = _add_any(tb, None if tab is None else -_band_matmul(tab, ans, l, u))
    return _bind(_solve_banded_p, ab, rhs, **params)


def _solve_banded_vjp(ct: Any, ans: Any, args: Sequence[Any], params: dict,
                      needs: Sequence[bool]) -> list[Any]:
    ab, b = args
    l, u = params["l"], params["u"]
    g = _bind(_solve_banded_p, _band_transpose(ab, l, u), ct, l=u, u=l)
    cab = None
    if needs[0]:
        # -g x^T restricted to the band, in banded storage
        rows = [-_xsum(_shift(g, u - r, -2) * ans, axis=-1) for r in range(l + u + 1)]
        cab = _concatenate([_reshape(r, _shape_of(r)[:-1] + (1, _shape_of(r)[-1]))
                           for r in rows], axis=-2)
        cab = _unbroadcast(cab, _shape_of(ab))
    return [cab, _unbroadcast(g, _shape_of(b)) if needs[1] else None]


_solve_banded_p.jvp, _solve_banded_p.vjp = _solve_banded_jvp, _solve_banded_vjp
_batch_core(_solve_banded_p, (2, 2), rhs=1)
_shape_rule(_solve_banded_p, lambda ab, b, l, u: _aval(
    _lead((ab, 2), (b, 2)) + tuple(_shape_of(b)[-2:]), ab, b))


def solve_banded(l_and_u: tuple[int, int], ab: Any, b: Any, overwrite_ab: bool = False,
                 overwrite_b: bool = False, check_finite: bool = True) -> Any:
    """`scipy.linalg.solve_banded`, differentiable in the band of ``ab`` (the unused
    corners get no derivative) and in ``b``; rules stay in banded storage.

    Args:
        l_and_u: ``(l, u)``: the numbers of sub- and super-diagonals.
        ab: the banded matrix in LAPACK's diagonal-ordered form.
        b: the right-hand side(s).
        overwrite_ab: accepted for SciPy compatibility (inputs are never overwritten).
        overwrite_b: accepted for SciPy compatibility (inputs are never overwritten).
        check_finite: accepted for SciPy compatibility.

    Returns:
        The solution of the banded system.

    >>> import numpy, scipy.linalg, scipy.signal, xform, xform.numpy as np, xform.scipy.linalg as sl
    >>> a, b = numpy.array([[4.0, 1.0], [1.0, 3.0]]), numpy.array([1.0, 2.0])
    >>> bool(numpy.allclose(sl.solve_banded((1, 1), numpy.array([[0.0, 1.0], [4.0, 3.0], [1.0, 0.0]]), b), numpy.linalg.solve(a, b)))
    True
    """
    l, u = (int(v) for v in l_and_u)
    ab, b = _as_float(ab), _as_float(b)
    b2, vector = _vector_as_column(b)
    return _column_as_vector(_bind(_solve_banded_p, ab, b2, l=l, u=u), vector)


# ---------------------------------------------------------------------------- LU
def _pivots_to_permutation(piv: np.ndarray, n: int) -> np.ndarray:
    """LAPACK's row interchanges as the permutation ``perm`` with ``P A = A[perm]``
    (vectorised over stacks; the loop runs over the pivots)."""
    perm = np.broadcast_to(np.arange(n), piv.shape).copy()
    for i in range(piv.shape[-1]):
        j = piv[..., i:i + 1].astype(np.intp)
        here = perm[..., i:i + 1].copy()
        perm[..., i:i + 1] = np.take_along_axis(perm, j, axis=-1)
        np.put_along_axis(perm, j, here, axis=-1)
    return perm


def _lu_factor_impl(a: Any) -> list[Any]:
    lu, piv = _sl.lu_factor(a, check_finite=False)
    return [lu, piv, _pivots_to_permutation(piv, np.shape(a)[-2])]


_lu_factor_p = _Primitive(
    "lu_factor", _numpy_only("xform.scipy.linalg.lu_factor", _lu_factor_impl),
    multiple_results=True)


def _permutation_matrix(perm: Any, dtype: Any) -> Any:
    """``P`` as a 0/1 matrix (``P @ x = x[perm]``); a product with it batches as one call."""
    n = _shape_of(perm)[-1]
    return _astype(_equal(_col(perm), np.arange(n)), dtype)


def _unit_lower(lu: Any) -> Any:
    n = _shape_of(lu)[-1]
    return _tril(lu, -1) + np.eye(n, dtype=_dtype_of(lu))


def _square_lu(lu: Any) -> None:
    m, n = _shape_of(lu)[-2:]
    if m != n:
        raise NotImplementedError("derivatives of lu_factor are supported for square "
                                  "matrices only")


def _lu_factor_jvp(tangents: Sequence[Any], ans: Any, args: Sequence[Any],
                   params: dict) -> Any:
    lu, piv, perm = ans
    _square_lu(lu)
    pda = _matmul(_permutation_matrix(perm, _dtype_of(lu)), tangents[0])
    # C = L^-1 P dA U^-1; dL = L tril(C, -1), dU = triu(C) U
    c = _triangular_solve(lu, pda, lower=True, unit_diagonal=True)
    c = _mT(_triangular_solve(lu, _mT(c), lower=False, trans=1))
    dlu = _matmul(_unit_lower(lu), _tril(c, -1)) + _matmul(_triu(c), _triu(lu))
    zero = np.zeros(_shape_of(piv), _dtype_of(lu))
    return [dlu, zero, np.zeros(_shape_of(perm), _dtype_of(lu))]


def _lu_factor_vjp(ct: Any, ans: Any, args: Sequence[Any], params: dict,
                   needs: Sequence[bool]) -> list[Any]:
    lu, piv, perm = ans
    _square_lu(lu)
    g = ct[0]
    if g is None:
        return [None]
    m = _tril(_matmul(_mT(_unit_lower(lu)), g), -1) + _triu(_matmul(g, _mT(_triu(lu))))
    z = _triangular_solve(lu, m, lower=True, trans=1, unit_diagonal=True)
    z = _mT(_triangular_solve(lu, _mT(z), lower=False))
    return [_matmul(_mT(_permutation_matrix(perm, _dtype_of(lu))), z)]


_lu_factor_p.jvp, _lu_factor_p.vjp = _lu_factor_jvp, _lu_factor_vjp
_batch_core(_lu_factor_p, (2,))


def _lu_factor_shape(a: Any) -> list[_ShapedArray]:
    *lead, m, n = _shape_of(a)
    k = min(m, n)
    return [_aval(_shape_of(a), a), _ShapedArray((*lead, k), np.int32),
            _ShapedArray((*lead, m), np.intp)]


_shape_rule(_lu_factor_p, _lu_factor_shape)


def lu_factor(a: Any, overwrite_a: bool = False, check_finite: bool = True
              ) -> tuple[Any, Any]:
    """`scipy.linalg.lu_factor` -> ``(lu, piv)``, with ``lu`` differentiable (square
    ``a``): ``P dA = dL U + L dU`` at the (locally constant) pivots.

    Args:
        a: a square matrix (traced or not).
        overwrite_a: accepted for SciPy compatibility (inputs are never overwritten).
        check_finite: accepted for SciPy compatibility.

    Returns:
        ``(lu, piv)``, for :func:`lu_solve`.

    >>> import numpy, scipy.linalg, scipy.signal, xform, xform.numpy as np, xform.scipy.linalg as sl
    >>> a, b = numpy.array([[4.0, 1.0], [1.0, 3.0]]), numpy.array([1.0, 2.0])
    >>> bool(numpy.allclose(sl.lu_solve(sl.lu_factor(a), b), numpy.linalg.solve(a, b)))
    True
    """
    lu, piv, _ = _bind(_lu_factor_p, _as_float(a))
    return lu, piv


def _lu_solve_impl(lu: Any, piv: Any, b: Any, trans: int) -> Any:
    return _sl.lu_solve((lu, piv), b, trans=trans, check_finite=False)


_lu_solve_p = _Primitive("lu_solve", _numpy_only("xform.scipy.linalg.lu_solve", _lu_solve_impl))


def _lu_solve_jvp(tangents: Sequence[Any], ans: Any, args: Sequence[Any], params: dict) -> Any:
    lu, piv, b = args
    tlu, _, tb = tangents
    trans = params["trans"]
    rhs = tb
    if tlu is not None:
        dl, du = _tril(tlu, -1), _triu(tlu)
        if trans == 0:
            # A^-1 dA x = U^-1 (L^-1 dL U x + dU x): no permutation needed
            y = _matmul(_triu(lu), ans)
            inner = _triangular_solve(lu, _matmul(dl, y), lower=True, unit_diagonal=True)
            dx = -_triangular_solve(lu, inner + _matmul(du, ans), lower=False)
            return _add_any(dx, None if tb is None else _bind(_lu_solve_p, lu, piv, tb, **params))
        # A^-T dA^T x = A^-T (dU^T w + U^T dL^T v), with w = U^-T b, v = L^-T w = P x
        w = _triangular_solve(lu, b, lower=False, trans=1)
        v = _triangular_solve(lu, w, lower=True, trans=1, unit_diagonal=True)
        extra = _matmul(_mT(du), w) + _matmul(_mT(_triu(lu)), _matmul(_mT(dl), v))
        rhs = _add_any(rhs, -extra)
    return _bind(_lu_solve_p, lu, piv, rhs, **params)


def _lu_solve_vjp(ct: Any, ans: Any, args: Sequence[Any], params: dict,
                  needs: Sequence[bool]) -> list[Any]:
    lu, piv, b = args
    trans = params["trans"]
    h = _bind(_lu_solve_p, lu, piv, ct, trans=1 - trans)
    clu = None
    if needs[0]:
        if trans == 0:
            y = _matmul(_triu(lu), ans)
            z = _triangular_solve(lu, ct, lower=False, trans=1)
            lz = _triangular_solve(lu, z, lower=True, trans=1, unit_diagonal=True)
            clu = -_tril(_matmul(lz, _mT(y)), -1) - _triu(_matmul(z, _mT(ans)))
        else:
            w = _triangular_solve(lu, b, lower=False, trans=1)
            v = _triangular_solve(lu, w, lower=True, trans=1, unit_diagonal=True)
            clu = -_triu(_matmul(w, _mT(h))) - _tril(_matmul(v, _mT(_matmul(_triu(lu), h))), -1)
        clu = _unbroadcast(clu, _shape_of(lu))
    return [clu, None, _unbroadcast(h, _shape_of(b)) if needs[2] else None]


_lu_solve_p.jvp, _lu_solve_p.vjp = _lu_solve_jvp, _lu_solve_vjp
_batch_core(_lu_solve_p, (2, 1, 2), rhs=2)
_shape_rule(_lu_solve_p, lambda lu, piv, b, trans: _aval(
    _lead((lu, 2), (piv, 1), (b, 2)) + tuple(_shape_of(b)[-2:]), lu, b))


def lu_solve(lu_and_piv: tuple[Any, Any], b: Any, trans: Any = 0, overwrite_b: bool = False,
             check_finite: bool = True) -> Any:
    """`scipy.linalg.lu_solve`, differentiable in ``lu`` (as the packed factors of
    ``A = P^T L U``) and ``b``; ``trans`` 0 (``A x = b``), 1 (``A^T x = b``) or 2
    (``A^H x = b``).

    Args:
        lu_and_piv: ``(lu, piv)`` from :func:`lu_factor`.
        b: the right-hand side(s).
        trans: solve with ``a`` (0), its transpose (1) or conjugate transpose (2).
        overwrite_b: accepted for SciPy compatibility (inputs are never overwritten).
        check_finite: accepted for SciPy compatibility.

    Returns:
        The solution of ``a x = b`` (or of the transposed system).

    >>> import numpy, scipy.linalg, scipy.signal, xform, xform.numpy as np, xform.scipy.linalg as sl
    >>> a, b = numpy.array([[4.0, 1.0], [1.0, 3.0]]), numpy.array([1.0, 2.0])
    >>> bool(numpy.allclose(sl.lu_solve(sl.lu_factor(a), b), numpy.linalg.solve(a, b)))
    True
    """
    lu, piv = lu_and_piv
    lu, b = _as_float(lu), _as_float(b)
    b2, vector = _vector_as_column(b)
    code = _trans_code(trans)
    if code == 2:  # A^H x = b: conj(lu) packs the factors of conj(A)
        lu, code = _conj(lu), 1
    x = _bind(_lu_solve_p, lu, piv, b2, trans=code)
    return _column_as_vector(x, vector)


__getattr__ = _unsupported_getattr(
    "xform.scipy.linalg", _sl,
    "Apply it to constants only, or use the xform.numpy.linalg equivalent.")


# ---------------------------------------------------------------------------- XLA lowerings
def _lower_sqrtm(ctx: Any, a: Any) -> Any:
    one = ctx.jsp.linalg.sqrtm  # of one matrix; complex in JAX, real in SciPy where it can be
    if a.ndim > 2:
        out = ctx.jax.vmap(one)(a.reshape((-1,) + a.shape[-2:])).reshape(a.shape)
    else:
        out = one(a)
    return out if ctx.out_avals[0].dtype.kind == "c" else ctx.jnp.real(out)


def _lower_lu_factor(ctx: Any, a: Any) -> list[Any]:
    return list(ctx.lax.linalg.lu(a))  # lu, LAPACK pivots, permutation


_expm_p.lower = lambda ctx, a: ctx.jsp.linalg.expm(a)
_sqrtm_p.lower = _lower_sqrtm
_sylvester_p.lower = lambda ctx, a, b, q: ctx.jsp.linalg.solve_sylvester(a, b, q)
# JAX has no banded solver
_solve_banded_p.lower = _on_host(_solve_banded_impl)
_lu_factor_p.lower = _lower_lu_factor
_lu_solve_p.lower = lambda ctx, lu, piv, b, trans: ctx.jsp.linalg.lu_solve((lu, piv), b,
                                                                          trans=trans)

# lists and tuples of traced values are read as arrays where SciPy/NumPy take array_like
_accept_sequences_in(globals())
