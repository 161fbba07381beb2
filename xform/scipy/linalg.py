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

from .._unsupported import unsupported_getattr
from ..core.arrays import numpy_only
from ..core.ir import ShapedArray
from ..core.lowering import on_host
from ..core.rules import Primitive, bind, dtype_of, shape_of, unbroadcast
from ..core.rules import accept_sequences_in as _accept_sequences_in
from ..core.trace import add_any
from ..numpy._contract import matmul
from ..numpy._elementwise import astype, conj, equal, is_complex
from ..numpy._indexing import getitem
from ..numpy._linalg import (_aval, _batch_core, _col, _lead, _shape_rule, as_float,
                             cholesky_p, column_as_vector, mT, triangular_solve,
                             vector_as_column)
from ..numpy._manip import tril, triu
from ..numpy._reductions import sum as xsum
from ..numpy._shape import concatenate, reshape
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
    read (and differentiated), its diagonal too unless ``unit_diagonal``."""
    a, b = as_float(a), as_float(b)
    b2, vector = vector_as_column(b)
    code = _trans_code(trans)
    if code == 2:  # A^H x = b is conj(A)^T x = b
        a, code = conj(a), 1
    x = triangular_solve(a, b2, lower=lower, trans=code, unit_diagonal=unit_diagonal)
    return column_as_vector(x, vector)


def cholesky(a: Any, lower: bool = False, overwrite_a: bool = False,
             check_finite: bool = True) -> Any:
    """`scipy.linalg.cholesky`: ``U`` (or ``L`` with ``lower``) of the symmetric matrix
    read from the upper (lower) triangle of ``a``, differentiated as that triangle."""
    return bind(cholesky_p, as_float(a), lower=bool(lower))


def cho_factor(a: Any, lower: bool = False, overwrite_a: bool = False,
               check_finite: bool = True) -> tuple[Any, bool]:
    """`scipy.linalg.cho_factor` -> ``(c, lower)``. As in SciPy, the triangle of ``c``
    not holding the factor keeps ``a``'s entries (and their derivative)."""
    a = as_float(a)
    factor = bind(cholesky_p, a, lower=bool(lower))
    rest = triu(a, 1) if lower else tril(a, -1)
    return factor + rest, bool(lower)


def cho_solve(c_and_lower: tuple[Any, bool], b: Any, overwrite_b: bool = False,
              check_finite: bool = True) -> Any:
    """`scipy.linalg.cho_solve`: two triangular solves with the factor in ``c``."""
    c, lower = c_and_lower
    c, b = as_float(c), as_float(b)
    b2, vector = vector_as_column(b)
    if lower:   # A = L L^T
        x = triangular_solve(c, triangular_solve(c, b2, lower=True), lower=True, trans=1)
    else:       # A = U^T U
        x = triangular_solve(c, triangular_solve(c, b2, lower=False, trans=1), lower=False)
    return column_as_vector(x, vector)


# ---------------------------------------------------------------------------- expm
expm_p = Primitive("expm", numpy_only("xform.scipy.linalg.expm", _sl.expm))


def _frechet(a: Any, e: Any) -> Any:
    """The Fréchet derivative ``L(A, E)`` of expm: the upper right block of
    ``expm([[A, E], [0, A]])``; built from ``expm_p``, so it differentiates again."""
    n = shape_of(a)[-1]
    zeros = np.zeros(shape_of(a), np.result_type(dtype_of(a), dtype_of(e)))
    block = concatenate([concatenate([a, e], axis=-1), concatenate([zeros, a], axis=-1)],
                        axis=-2)
    return getitem(bind(expm_p, block), (Ellipsis, slice(None, n), slice(n, None)))


def _expm_jvp(tangents: Sequence[Any], ans: Any, args: Sequence[Any], params: dict) -> Any:
    return _frechet(args[0], tangents[0])


def _expm_vjp(ct: Any, ans: Any, args: Sequence[Any], params: dict,
              needs: Sequence[bool]) -> list[Any]:
    # the adjoint of E -> L(A, E) is G -> L(A^T, G)
    return [_frechet(mT(args[0]), ct)]


expm_p.jvp, expm_p.vjp = _expm_jvp, _expm_vjp
_batch_core(expm_p, (2,))
_shape_rule(expm_p, lambda a: _aval(shape_of(a), a))


def expm(A: Any) -> Any:
    """`scipy.linalg.expm` (stacks too). Derivatives use the exact Fréchet derivative,
    from the exponential of a ``2n x 2n`` block matrix (forward: ``[[A, dA], [0, A]]``;
    reverse: the same with ``A^T`` and the cotangent)."""
    return bind(expm_p, as_float(A))


# ---------------------------------------------------------------------------- sylvester
sylvester_p = Primitive("solve_sylvester", numpy_only("xform.scipy.linalg.solve_sylvester", _sl.solve_sylvester))


def _sylvester_jvp(tangents: Sequence[Any], ans: Any, args: Sequence[Any],
                   params: dict) -> Any:
    a, b, _ = args
    ta, tb, tq = tangents
    rhs = tq
    if ta is not None:
        rhs = add_any(rhs, -matmul(ta, ans))
    if tb is not None:
        rhs = add_any(rhs, -matmul(ans, tb))
    return bind(sylvester_p, a, b, rhs)


def _sylvester_vjp(ct: Any, ans: Any, args: Sequence[Any], params: dict,
                   needs: Sequence[bool]) -> list[Any]:
    a, b, q = args
    g = bind(sylvester_p, mT(a), mT(b), ct)
    return [unbroadcast(-matmul(g, mT(ans)), shape_of(a)) if needs[0] else None,
            unbroadcast(-matmul(mT(ans), g), shape_of(b)) if needs[1] else None,
            unbroadcast(g, shape_of(q)) if needs[2] else None]


sylvester_p.jvp, sylvester_p.vjp = _sylvester_jvp, _sylvester_vjp
_batch_core(sylvester_p, (2, 2, 2))
_shape_rule(sylvester_p, lambda a, b, q: _aval(
    _lead((a, 2), (b, 2), (q, 2)) + tuple(shape_of(q)[-2:]), a, b, q))


def solve_sylvester(a: Any, b: Any, q: Any) -> Any:
    """`scipy.linalg.solve_sylvester`: ``X`` with ``A X + X B = Q``, differentiable in
    all three; each derivative is one more Sylvester solve."""
    return bind(sylvester_p, as_float(a), as_float(b), as_float(q))


# ---------------------------------------------------------------------------- sqrtm
def _sqrtm_impl(a: Any) -> Any:
    return _sl.sqrtm(a)


sqrtm_p = Primitive("sqrtm", numpy_only("xform.scipy.linalg.sqrtm", _sqrtm_impl))


def _real_root(x: Any, a: Any) -> None:
    # a complex A has a complex (holomorphic) root; a real A must have a real one
    if is_complex(x) and not is_complex(a):
        raise NotImplementedError("derivatives of sqrtm are supported where the square "
                                  "root is real (no negative real eigenvalues)")


def _sqrtm_jvp(tangents: Sequence[Any], ans: Any, args: Sequence[Any], params: dict) -> Any:
    _real_root(ans, args[0])  # X dX + dX X = dA
    return bind(sylvester_p, ans, ans, tangents[0])


def _sqrtm_vjp(ct: Any, ans: Any, args: Sequence[Any], params: dict,
               needs: Sequence[bool]) -> list[Any]:
    _real_root(ans, args[0])
    xt = mT(ans)
    return [bind(sylvester_p, xt, xt, ct)]


sqrtm_p.jvp, sqrtm_p.vjp = _sqrtm_jvp, _sqrtm_vjp
_batch_core(sqrtm_p, (2,))
_shape_rule(sqrtm_p, lambda a: _aval(shape_of(a), a))


def sqrtm(A: Any, disp: bool = True, blocksize: int = 64) -> Any:
    """`scipy.linalg.sqrtm`, the principal square root; its derivative solves
    ``X dX + dX X = dA``. Differentiable where the root is real. ``blocksize`` is
    ignored; ``disp=False`` also returns SciPy's error estimate."""
    x = bind(sqrtm_p, as_float(A))
    if disp:
        return x
    return x, _norm(matmul(x, x) - A, "fro") / _norm(A, "fro")


# ---------------------------------------------------------------------------- banded
def _solve_banded_impl(ab: Any, b: Any, l: int, u: int) -> Any:
    return _sl.solve_banded((l, u), ab, b, check_finite=False)


solve_banded_p = Primitive("solve_banded", numpy_only("xform.scipy.linalg.solve_banded", _solve_banded_impl))


def _shift(z: Any, d: int, axis: int) -> Any:
    """``y[i] = z[i - d]`` along ``axis`` (-1 or -2), zero where ``i - d`` is outside."""
    n = shape_of(z)[axis]
    if d == 0:
        return z
    if abs(d) >= n:
        return z * 0

    def part(sl: slice) -> Any:
        return getitem(z, (Ellipsis, sl) if axis == -1 else (Ellipsis, sl, slice(None)))

    pad_shape = list(shape_of(z))
    pad_shape[axis] = abs(d)
    pad = np.zeros(pad_shape, dtype_of(z))
    kept = part(slice(None, n - d)) if d > 0 else part(slice(-d, None))
    return concatenate([pad, kept] if d > 0 else [kept, pad], axis=axis)


def _band_row(ab: Any, r: int) -> Any:
    return getitem(ab, (Ellipsis, r, slice(None)))


def _band_matmul(ab: Any, x: Any, l: int, u: int) -> Any:
    """``A @ x`` for ``A`` in banded storage (``A[i, j] = ab[u + i - j, j]``)."""
    out = None
    for r in range(l + u + 1):
        out = add_any(out, _shift(_col(_band_row(ab, r)) * x, r - u, -2))
    return out


def _band_transpose(ab: Any, l: int, u: int) -> Any:
    """The banded storage of ``A^T`` (``u`` and ``l`` swap)."""
    rows = [_shift(_band_row(ab, l + u - r), l - r, -1) for r in range(l + u + 1)]
    return concatenate([reshape(r, shape_of(r)[:-1] + (1, shape_of(r)[-1])) for r in rows],
                       axis=-2)


def _solve_banded_jvp(tangents: Sequence[Any], ans: Any, args: Sequence[Any],
                      params: dict) -> Any:
    ab, _ = args
    tab, tb = tangents
    l, u = params["l"], params["u"]
    rhs = add_any(tb, None if tab is None else -_band_matmul(tab, ans, l, u))
    return bind(solve_banded_p, ab, rhs, **params)


def _solve_banded_vjp(ct: Any, ans: Any, args: Sequence[Any], params: dict,
                      needs: Sequence[bool]) -> list[Any]:
    ab, b = args
    l, u = params["l"], params["u"]
    g = bind(solve_banded_p, _band_transpose(ab, l, u), ct, l=u, u=l)
    cab = None
    if needs[0]:
        # -g x^T restricted to the band, in banded storage
        rows = [-xsum(_shift(g, u - r, -2) * ans, axis=-1) for r in range(l + u + 1)]
        cab = concatenate([reshape(r, shape_of(r)[:-1] + (1, shape_of(r)[-1]))
                           for r in rows], axis=-2)
        cab = unbroadcast(cab, shape_of(ab))
    return [cab, unbroadcast(g, shape_of(b)) if needs[1] else None]


solve_banded_p.jvp, solve_banded_p.vjp = _solve_banded_jvp, _solve_banded_vjp
_batch_core(solve_banded_p, (2, 2), rhs=1)
_shape_rule(solve_banded_p, lambda ab, b, l, u: _aval(
    _lead((ab, 2), (b, 2)) + tuple(shape_of(b)[-2:]), ab, b))


def solve_banded(l_and_u: tuple[int, int], ab: Any, b: Any, overwrite_ab: bool = False,
                 overwrite_b: bool = False, check_finite: bool = True) -> Any:
    """`scipy.linalg.solve_banded`, differentiable in the band of ``ab`` (the unused
    corners get no derivative) and in ``b``; rules stay in banded storage."""
    l, u = (int(v) for v in l_and_u)
    ab, b = as_float(ab), as_float(b)
    b2, vector = vector_as_column(b)
    return column_as_vector(bind(solve_banded_p, ab, b2, l=l, u=u), vector)


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


lu_factor_p = Primitive("lu_factor", numpy_only("xform.scipy.linalg.lu_factor", _lu_factor_impl), multiple_results=True)


def _permutation_matrix(perm: Any, dtype: Any) -> Any:
    """``P`` as a 0/1 matrix (``P @ x = x[perm]``); a product with it batches as one call."""
    n = shape_of(perm)[-1]
    return astype(equal(_col(perm), np.arange(n)), dtype)


def _unit_lower(lu: Any) -> Any:
    n = shape_of(lu)[-1]
    return tril(lu, -1) + np.eye(n, dtype=dtype_of(lu))


def _square_lu(lu: Any) -> None:
    m, n = shape_of(lu)[-2:]
    if m != n:
        raise NotImplementedError("derivatives of lu_factor are supported for square "
                                  "matrices only")


def _lu_factor_jvp(tangents: Sequence[Any], ans: Any, args: Sequence[Any],
                   params: dict) -> Any:
    lu, piv, perm = ans
    _square_lu(lu)
    pda = matmul(_permutation_matrix(perm, dtype_of(lu)), tangents[0])
    # C = L^-1 P dA U^-1; dL = L tril(C, -1), dU = triu(C) U
    c = triangular_solve(lu, pda, lower=True, unit_diagonal=True)
    c = mT(triangular_solve(lu, mT(c), lower=False, trans=1))
    dlu = matmul(_unit_lower(lu), tril(c, -1)) + matmul(triu(c), triu(lu))
    zero = np.zeros(shape_of(piv), dtype_of(lu))
    return [dlu, zero, np.zeros(shape_of(perm), dtype_of(lu))]


def _lu_factor_vjp(ct: Any, ans: Any, args: Sequence[Any], params: dict,
                   needs: Sequence[bool]) -> list[Any]:
    lu, piv, perm = ans
    _square_lu(lu)
    g = ct[0]
    if g is None:
        return [None]
    m = tril(matmul(mT(_unit_lower(lu)), g), -1) + triu(matmul(g, mT(triu(lu))))
    z = triangular_solve(lu, m, lower=True, trans=1, unit_diagonal=True)
    z = mT(triangular_solve(lu, mT(z), lower=False))
    return [matmul(mT(_permutation_matrix(perm, dtype_of(lu))), z)]


lu_factor_p.jvp, lu_factor_p.vjp = _lu_factor_jvp, _lu_factor_vjp
_batch_core(lu_factor_p, (2,))


def _lu_factor_shape(a: Any) -> list[ShapedArray]:
    *lead, m, n = shape_of(a)
    k = min(m, n)
    return [_aval(shape_of(a), a), ShapedArray((*lead, k), np.int32),
            ShapedArray((*lead, m), np.intp)]


_shape_rule(lu_factor_p, _lu_factor_shape)


def lu_factor(a: Any, overwrite_a: bool = False, check_finite: bool = True
              ) -> tuple[Any, Any]:
    """`scipy.linalg.lu_factor` -> ``(lu, piv)``, with ``lu`` differentiable (square
    ``a``): ``P dA = dL U + L dU`` at the (locally constant) pivots."""
    lu, piv, _ = bind(lu_factor_p, as_float(a))
    return lu, piv


def _lu_solve_impl(lu: Any, piv: Any, b: Any, trans: int) -> Any:
    return _sl.lu_solve((lu, piv), b, trans=trans, check_finite=False)


lu_solve_p = Primitive("lu_solve", numpy_only("xform.scipy.linalg.lu_solve", _lu_solve_impl))


def _lu_solve_jvp(tangents: Sequence[Any], ans: Any, args: Sequence[Any], params: dict) -> Any:
    lu, piv, b = args
    tlu, _, tb = tangents
    trans = params["trans"]
    rhs = tb
    if tlu is not None:
        dl, du = tril(tlu, -1), triu(tlu)
        if trans == 0:
            # A^-1 dA x = U^-1 (L^-1 dL U x + dU x): no permutation needed
            y = matmul(triu(lu), ans)
            inner = triangular_solve(lu, matmul(dl, y), lower=True, unit_diagonal=True)
            dx = -triangular_solve(lu, inner + matmul(du, ans), lower=False)
            return add_any(dx, None if tb is None else bind(lu_solve_p, lu, piv, tb, **params))
        # A^-T dA^T x = A^-T (dU^T w + U^T dL^T v), with w = U^-T b, v = L^-T w = P x
        w = triangular_solve(lu, b, lower=False, trans=1)
        v = triangular_solve(lu, w, lower=True, trans=1, unit_diagonal=True)
        extra = matmul(mT(du), w) + matmul(mT(triu(lu)), matmul(mT(dl), v))
        rhs = add_any(rhs, -extra)
    return bind(lu_solve_p, lu, piv, rhs, **params)


def _lu_solve_vjp(ct: Any, ans: Any, args: Sequence[Any], params: dict,
                  needs: Sequence[bool]) -> list[Any]:
    lu, piv, b = args
    trans = params["trans"]
    h = bind(lu_solve_p, lu, piv, ct, trans=1 - trans)
    clu = None
    if needs[0]:
        if trans == 0:
            y = matmul(triu(lu), ans)
            z = triangular_solve(lu, ct, lower=False, trans=1)
            lz = triangular_solve(lu, z, lower=True, trans=1, unit_diagonal=True)
            clu = -tril(matmul(lz, mT(y)), -1) - triu(matmul(z, mT(ans)))
        else:
            w = triangular_solve(lu, b, lower=False, trans=1)
            v = triangular_solve(lu, w, lower=True, trans=1, unit_diagonal=True)
            clu = -triu(matmul(w, mT(h))) - tril(matmul(v, mT(matmul(triu(lu), h))), -1)
        clu = unbroadcast(clu, shape_of(lu))
    return [clu, None, unbroadcast(h, shape_of(b)) if needs[2] else None]


lu_solve_p.jvp, lu_solve_p.vjp = _lu_solve_jvp, _lu_solve_vjp
_batch_core(lu_solve_p, (2, 1, 2), rhs=2)
_shape_rule(lu_solve_p, lambda lu, piv, b, trans: _aval(
    _lead((lu, 2), (piv, 1), (b, 2)) + tuple(shape_of(b)[-2:]), lu, b))


def lu_solve(lu_and_piv: tuple[Any, Any], b: Any, trans: Any = 0, overwrite_b: bool = False,
             check_finite: bool = True) -> Any:
    """`scipy.linalg.lu_solve`, differentiable in ``lu`` (as the packed factors of
    ``A = P^T L U``) and ``b``; ``trans`` 0 (``A x = b``), 1 (``A^T x = b``) or 2
    (``A^H x = b``)."""
    lu, piv = lu_and_piv
    lu, b = as_float(lu), as_float(b)
    b2, vector = vector_as_column(b)
    code = _trans_code(trans)
    if code == 2:  # A^H x = b: conj(lu) packs the factors of conj(A)
        lu, code = conj(lu), 1
    x = bind(lu_solve_p, lu, piv, b2, trans=code)
    return column_as_vector(x, vector)


__getattr__ = unsupported_getattr(
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


expm_p.lower = lambda ctx, a: ctx.jsp.linalg.expm(a)
sqrtm_p.lower = _lower_sqrtm
sylvester_p.lower = lambda ctx, a, b, q: ctx.jsp.linalg.solve_sylvester(a, b, q)
# JAX has no banded solver
solve_banded_p.lower = on_host(_solve_banded_impl)
lu_factor_p.lower = _lower_lu_factor
lu_solve_p.lower = lambda ctx, lu, piv, b, trans: ctx.jsp.linalg.lu_solve((lu, piv), b,
                                                                          trans=trans)

# lists and tuples of traced values are read as arrays where SciPy/NumPy take array_like
_accept_sequences_in(globals())
