"""Linear algebra primitives (NumPy's ``linalg`` kernels and SciPy's triangular solve),
each with its forward, reverse and batch rules.

May import: the core and the family files up to ``_fft`` (order: ``__init__``).

Conventions shared by the rules below:

* matrices are the last two axes; every primitive accepts stacks ``(..., m, n)``
  and broadcasts leading axes as NumPy's ``linalg`` does, so a batch rule only
  moves the batch axis to the front (``_batch_core``);
* right-hand sides are always matrices ``(..., n, k)`` at the primitive level: the
  public functions turn a vector ``b`` into a column and back, which removes NumPy's
  vector/matrix ambiguity from batch rules;
* functions NumPy computes from one triangle (``cholesky``, ``eigh``, ``eigvalsh``,
  ``pinv(hermitian=True)``) are differentiated as functions of that triangle only:
  a tangent ``t`` enters as the symmetric matrix ``_sym(t)`` built from the triangle
  read, and the other triangle gets a zero cotangent, exactly like NumPy's output
  (for a symmetric tangent this is the usual symmetric-matrix derivative);
* derivatives are the standard matrix-calculus results; every rule is written with
  traceable ``xform.numpy`` operations, so rules differentiate again.
"""
from __future__ import annotations

from typing import Any, Callable, NamedTuple, Sequence

import numpy as np
import scipy.linalg

from ..core.arrays import asarray_like, is_foreign, numpy_only, refuse_silent_fallback, zeros
from ..core.ir import ShapedArray
from ..core.lowering import same_code
from ..core.rules import (Primitive, batch_size, bind, dtype_of, move_to_front, nondiff_op,
                          shape_of, unbroadcast, const_like, zeros_like)
from ..core.trace import Tracer, add_any, like_value
from ..interpreters.vjp import vjp_flat
from ._contract import matmul
from ._creation import asarray
from ._elementwise import astype, conj, equal, imag, is_complex, real
from ._elementwise import abs as xabs
from ._indexing import getitem
from ._manip import tril, triu
from ._manip import diagonal as _diagonal
from ._reductions import argmax
from ._reductions import max as xmax
from ._reductions import sum as xsum
from ._shape import concatenate, moveaxis, reshape, swapaxes

__all__ = ["inv", "solve", "adjugate", "det", "slogdet", "cholesky", "eigh", "eigvalsh", "eig", "eigvals",
           "svd", "svdvals", "qr", "pinv", "lstsq", "matrix_rank", "triangular_solve",
           "EigResult", "EighResult", "QRResult", "SlogdetResult", "SVDResult",
           "as_float", "mT", "diagonal", "trace", "diag_embed"]


# ---------------------------------------------------------------------------- NumPy 2's results
class EigResult(NamedTuple):
    """What `xform.numpy.linalg.eig` returns, as NumPy 2's: a named pair that unpacks
    as ``w, v`` (``eigenvalues``, then ``eigenvectors`` as columns).

    >>> import xform.numpy as np
    >>> w, v = np.linalg.eig(np.array([[2.0, 0.0], [0.0, 3.0]]))
    >>> w.tolist(), np.linalg.eig(np.eye(2)).eigenvectors.shape
    ([2.0, 3.0], (2, 2))
    """

    eigenvalues: Any
    eigenvectors: Any


class EighResult(NamedTuple):
    """What `xform.numpy.linalg.eigh` returns, as NumPy 2's: a named pair that unpacks
    as ``w, v`` (ascending ``eigenvalues``, then orthonormal ``eigenvectors`` as columns).

    >>> import xform.numpy as np
    >>> res = np.linalg.eigh(np.array([[2.0, 1.0], [1.0, 2.0]]))
    >>> res.eigenvalues.round(12).tolist(), res.eigenvectors.shape
    ([1.0, 3.0], (2, 2))
    """

    eigenvalues: Any
    eigenvectors: Any


class QRResult(NamedTuple):
    """What `xform.numpy.linalg.qr` returns, as NumPy 2's: a named pair that unpacks
    as ``Q, R`` (orthonormal columns, then the upper-triangular factor).

    >>> import xform.numpy as np
    >>> a = np.array([[1.0, 2.0], [3.0, 4.0]])
    >>> q, r = np.linalg.qr(a)
    >>> bool(np.allclose(q @ r, a)), float(np.linalg.qr(a).R[1, 0])
    (True, 0.0)
    """

    Q: Any
    R: Any


class SlogdetResult(NamedTuple):
    """What `xform.numpy.linalg.slogdet` returns, as NumPy 2's: a named pair that
    unpacks as ``sign, logabsdet``, with ``det = sign * exp(logabsdet)``.

    >>> import math, xform.numpy as np
    >>> res = np.linalg.slogdet(np.array([[0.0, 2.0], [3.0, 0.0]]))
    >>> float(res.sign), bool(abs(float(res.logabsdet) - math.log(6.0)) < 1e-12)
    (-1.0, True)
    """

    sign: Any
    logabsdet: Any


class SVDResult(NamedTuple):
    """What `xform.numpy.linalg.svd` returns, as NumPy 2's: a named triple that unpacks
    as ``U, S, Vh`` (left singular vectors, descending singular values, right ones).

    >>> import xform.numpy as np
    >>> u, s, vh = np.linalg.svd(np.array([[3.0, 0.0], [0.0, -2.0]]))
    >>> s.tolist(), np.linalg.svd(np.eye(2)).Vh.shape
    ([3.0, 2.0], (2, 2))
    """

    U: Any
    S: Any
    Vh: Any


# ---------------------------------------------------------------------------- helpers
def as_float(a: Any) -> Any:
    """``a`` as an array of an inexact dtype (linalg turns integers into float64).











    >>> import numpy, xform.numpy as np
    >>> result = np.linalg.eig(numpy.eye(2))
    >>> type(result).__name__, numpy.asarray(result.eigenvalues).shape[:1] in ((), (2,))
    ('EigResult', True)
    """
    a = asarray(a)
    return a if np.issubdtype(dtype_of(a), np.inexact) else astype(a, np.float64)


def mT(x: Any) -> Any:
    """The matrix transpose of a stack: the last two axes swapped."""
    return swapaxes(x, -1, -2)


def mH(x: Any) -> Any:
    """The conjugate transpose of a stack (``mT`` for a real one)."""
    return conj(swapaxes(x, -1, -2))


def diagonal(x: Any) -> Any:
    """The main diagonals ``(..., min(m, n))`` of a stack of matrices."""
    return _diagonal(x, 0, -2, -1)


def trace(x: Any) -> Any:
    """The traces of a stack of matrices."""
    return xsum(diagonal(x), axis=-1)


def diag_embed(v: Any) -> Any:
    """Diagonal matrices ``(..., n, n)`` with the vectors ``v`` on their diagonals."""
    n = shape_of(v)[-1]
    return reshape(v, shape_of(v) + (1,)) * const_like(np.eye(n, dtype=bool), v)


def _sym(t: Any, lower: bool) -> Any:
    """The symmetric (Hermitian) matrix NumPy reads from one triangle of ``t``; LAPACK's
    Hermitian routines ignore the imaginary part of the diagonal, and so does this."""
    if not is_complex(t):
        return tril(t) + mT(tril(t, -1)) if lower else triu(t) + mT(triu(t, 1))
    off = tril(t, -1) if lower else triu(t, 1)
    return off + mH(off) + diag_embed(real(diagonal(t)))


def _sym_transpose(g: Any, lower: bool) -> Any:
    """The transpose of ``_sym`` (under the pairing ``Re(sum(ct * t))``): the cotangent
    of the triangle that was read."""
    if not is_complex(g):
        return tril(g) + tril(mT(g), -1) if lower else triu(g) + triu(mT(g), 1)
    both = g + mH(g)
    return (tril(both, -1) if lower else triu(both, 1)) + diag_embed(real(diagonal(g)))


def _transpose_of_jvp(jvp_rule: Callable[..., Any], ct: Any, ans: Any, args: Sequence[Any],
                      params: dict, needs: Sequence[bool] | None = None) -> list[Any]:
    """The VJP of a primitive as the transpose of its JVP rule (linear in the tangents),
    recorded on zero tangents: used for complex operands, whose hand-written transposes
    would have to repeat every conjugation and gauge fix of the JVP."""
    needs = [True] * len(args) if needs is None else needs
    which = [i for i, need in enumerate(needs) if need]

    def linear(*ts: Any) -> list[Any]:
        full: list[Any] = [None] * len(args)
        for i, t in zip(which, ts):
            full[i] = t
        out = jvp_rule(full, ans, args, params)
        return list(out) if isinstance(out, (list, tuple)) else [out]

    _, pullback = vjp_flat(linear, [zeros_like(args[i]) for i in which])
    pulled = pullback(list(ct) if isinstance(ct, (list, tuple)) else [ct])
    out: list[Any] = [None] * len(args)
    for i, c in zip(which, pulled):
        out[i] = c
    return out


def _gap_reciprocals(x: Any) -> Any:
    """``F[..., i, j] = 1 / (x_j - x_i)`` off the diagonal, 0 on it. The diagonal is
    shifted before dividing so that no 1/0 appears there (not even in derivatives);
    equal values off the diagonal give inf, as the derivatives they stand for do."""
    n = shape_of(x)[-1]
    gaps = reshape(x, shape_of(x)[:-1] + (1, n)) - reshape(x, shape_of(x) + (1,))
    return (const_like(~np.eye(n, dtype=bool), x)
            / (gaps + const_like(np.eye(n, dtype=dtype_of(x)), x)))


def _col(v: Any) -> Any:
    return reshape(v, shape_of(v) + (1,))


def _row(v: Any) -> Any:
    return reshape(v, shape_of(v)[:-1] + (1, shape_of(v)[-1]))


def vector_as_column(b: Any) -> tuple[Any, bool]:
    """A 1-D right-hand side as a column (the primitives take matrices only), and
    whether it was a vector."""
    if len(shape_of(b)) == 1:
        return _col(b), True
    return b, False


def column_as_vector(x: Any, vector: bool) -> Any:
    """Undo ``vector_as_column`` on a solution."""
    return getitem(x, (Ellipsis, 0)) if vector else x


def _float_dtype(*dtypes: Any) -> np.dtype:
    dt = np.result_type(*dtypes)
    return dt if np.issubdtype(dt, np.inexact) else np.dtype(np.float64)


def _shape_rule(prim: Primitive, rule: Callable[..., Any]) -> None:
    """An explicit shape rule: running LAPACK on zero-filled dummies would fail
    (singular) or waste time."""
    prim.abstract_eval = rule


def _aval(shape: tuple[int, ...], *like: Any) -> ShapedArray:
    return ShapedArray(tuple(shape), _float_dtype(*[dtype_of(x) for x in like]))


def _lead(*xs_cores: tuple[Any, int]) -> tuple[int, ...]:
    """The broadcast leading (stack) shape of operands with the given core ranks."""
    return np.broadcast_shapes(*[tuple(shape_of(x))[:len(shape_of(x)) - c]
                                 for x, c in xs_cores])


# ---------------------------------------------------------------------------- batching
def _batch_core(prim: Primitive, cores: Sequence[int], rhs: int | None = None) -> None:
    """Batch rule of a primitive whose operands have ``cores[i]`` core axes and
    broadcast their leading axes (NumPy/SciPy linalg): batch axes go to the front,
    padded so they line up across operands. When only the right-hand side ``rhs``
    (``(..., n, k)``) is batched, the batch is folded into its columns instead, so
    one factorization serves the whole batch."""

    def rule(vals: Sequence[Any], dims: Sequence[Any], params: dict) -> tuple[Any, Any]:
        if rhs is not None and all((d is None) == (i != rhs) for i, d in enumerate(dims)):
            b = moveaxis(vals[rhs], dims[rhs], -1)
            shape = shape_of(b)
            folded = list(vals)
            folded[rhs] = reshape(b, shape[:-2] + (shape[-2] * shape[-1],))
            out = bind(prim, *folded, **params)
            out_shape = shape_of(out)
            out = reshape(out, out_shape[:-1] + (shape[-2], shape[-1]))
            return out, len(out_shape)
        size = batch_size(vals, dims)
        nlead = max(len(shape_of(v)) - (d is not None) - c for v, d, c in zip(vals, dims, cores))
        aligned = []
        for v, d, c in zip(vals, dims, cores):
            if d is not None:
                v = move_to_front(v, d)
                rest = tuple(shape_of(v)[1:])
                pad = nlead - (len(rest) - c)
                if pad:
                    v = reshape(v, (size,) + (1,) * pad + rest)
            aligned.append(v)
        out = bind(prim, *aligned, **params)
        if prim.multiple_results:
            return out, [0] * len(out)
        return out, 0

    prim.batch = rule


# ============================================================================ inv
inv_p = Primitive("inv", np.linalg.inv)


def _inv_jvp(tangents: Sequence[Any], ans: Any, args: Sequence[Any], params: dict) -> Any:
    return -matmul(ans, matmul(tangents[0], ans))


def _inv_vjp(ct: Any, ans: Any, args: Sequence[Any], params: dict,
             needs: Sequence[bool]) -> list[Any]:
    xt = mT(ans)
    return [-matmul(xt, matmul(ct, xt))]


inv_p.jvp, inv_p.vjp = _inv_jvp, _inv_vjp
_batch_core(inv_p, (2,))
_shape_rule(inv_p, lambda a: _aval(shape_of(a), a))


def inv(a: Any) -> Any:
    """`numpy.linalg.inv`; ``d inv(A) = -inv(A) dA inv(A)``.

    Args:
        a: a square matrix (or a stack of them; traced or not).

    Returns:
        The inverse.

    >>> import numpy, xform, xform.numpy as np
    >>> a = numpy.array([[2.0, 1.0], [1.0, 3.0]])
    >>> bool(numpy.allclose(np.linalg.inv(a), numpy.linalg.inv(a)))
    True
    >>> xform.grad(lambda m: np.sum(np.linalg.inv(m)))(a).shape
    (2, 2)
    """
    return bind(inv_p, as_float(a))


# ============================================================================ solve
solve_p = Primitive("solve", np.linalg.solve)


def _solve_jvp(tangents: Sequence[Any], ans: Any, args: Sequence[Any], params: dict) -> Any:
    a, _ = args
    ta, tb = tangents
    rhs = add_any(tb, None if ta is None else -matmul(ta, ans))
    return bind(solve_p, a, rhs)


def _solve_vjp(ct: Any, ans: Any, args: Sequence[Any], params: dict,
               needs: Sequence[bool]) -> list[Any]:
    a, b = args
    g = bind(solve_p, mT(a), ct)  # one solve with the transpose serves both operands
    ca = unbroadcast(-matmul(g, mT(ans)), shape_of(a)) if needs[0] else None
    cb = unbroadcast(g, shape_of(b)) if needs[1] else None
    return [ca, cb]


solve_p.jvp, solve_p.vjp = _solve_jvp, _solve_vjp
_batch_core(solve_p, (2, 2), rhs=1)
_shape_rule(solve_p, lambda a, b: _aval(_lead((a, 2), (b, 2)) + tuple(shape_of(b)[-2:]), a, b))


def solve(a: Any, b: Any) -> Any:
    """`numpy.linalg.solve` (NumPy 2 semantics: a 1-D ``b`` is a vector, otherwise a
    stack of matrices); reverse mode costs one solve with ``A^T``.

    Args:
        a: a square matrix (or a stack of them; traced or not).
        b: the right-hand side(s).

    Returns:
        The solution ``x`` of ``a @ x = b``.

    >>> import numpy, xform, xform.numpy as np
    >>> a = numpy.array([[2.0, 1.0], [1.0, 3.0]])
    >>> bool(numpy.allclose(np.linalg.solve(a, numpy.array([1.0, 2.0])), numpy.linalg.solve(a, numpy.array([1.0, 2.0]))))
    True
    >>> xform.grad(lambda m: np.sum(np.linalg.solve(m, numpy.array([1.0, 2.0]))))(a).shape
    (2, 2)
    """
    b, vector = vector_as_column(as_float(b))
    return column_as_vector(bind(solve_p, as_float(a), b), vector)


# ============================================================================ adjugate, det
def _products_of_others(s: Any, xp: Any = np) -> Any:
    """``prod(s[..., j] for j != i)`` for each ``i`` along the last axis, without
    division (exclusive products from both ends); ``xp`` the array namespace."""
    ones = xp.ones(s.shape[:-1] + (1,), s.dtype)
    left = xp.cumprod(xp.concatenate([ones, s[..., :-1]], axis=-1), axis=-1)
    right = xp.cumprod(xp.concatenate([ones, s[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
    return left * right


def _adjugate_impl(a: Any) -> Any:
    # well conditioned (reciprocal condition number above 1e-6 in the 1-norm): det(A) A^-1,
    # as accurate as the inverse; otherwise (near singular, or singular)
    with np.errstate(all="ignore"):
        try:
            inverse = np.linalg.inv(a)
        except np.linalg.LinAlgError:
            inverse = None
        if inverse is not None and np.all(np.isfinite(inverse)):
            norm1 = lambda m: np.max(np.sum(np.abs(m), axis=-2), axis=-1)  # noqa: E731
            if np.all(norm1(a) * norm1(inverse) < 1e6):
                return np.linalg.det(a)[..., None, None] * inverse
    # A = U S Vh gives adj(A) = det(U) det(Vh) Vh^H adj(S) U^H with adj(S) the products
    # of the other singular values: defined (and accurate) for singular A too
    u, s, vh = np.linalg.svd(a)
    scale = (np.linalg.det(u) * np.linalg.det(vh))[..., None, None]
    return scale * np.matmul(np.conj(np.swapaxes(vh, -1, -2)) * _products_of_others(s)[..., None, :],
                             np.conj(np.swapaxes(u, -1, -2)))


adjugate_p = Primitive("adjugate", numpy_only(
    "xform.numpy.linalg.det's derivative (the adjugate)", _adjugate_impl))


def _adjugate_jvp(tangents: Sequence[Any], ans: Any, args: Sequence[Any], params: dict) -> Any:
    return bind(adjugate_tangent_p, args[0], tangents[0])


def _adjugate_vjp(ct: Any, ans: Any, args: Sequence[Any], params: dict,
                  needs: Sequence[bool]) -> list[Any]:
    # the transpose of H -> adj'(A)[H] is C -> adj'(A^T)[C] (transpose, not adjoint)
    return [bind(adjugate_tangent_p, mT(args[0]), ct)]


adjugate_p.jvp, adjugate_p.vjp = _adjugate_jvp, _adjugate_vjp
_batch_core(adjugate_p, (2,))
_shape_rule(adjugate_p, lambda a: _aval(shape_of(a), a))


# ---------------------------------------------------------------- the adjugate's derivative
# adj'(A)[H], the derivative of the adjugate along H, exists everywhere (the entries of adj
# are polynomials); det(A) A^-1 differentiated would need A invertible. With A = U S Vh,
# A + tH = U (S + tK) Vh for K = U^H H Vh^H, so adj'(A)[H] = det(U) det(Vh) Vh^H D U^H, with
# D = adj'(S)[K] at the diagonal S: D_ij = -K_ij P_ij (i != j) and D_ii = sum_k!=i K_kk P_ik,
# P_ij the product of the singular values other than the i-th and j-th (no division).
def _adjugate_tangent_impl(a: Any, h: Any, xp: Any = np) -> Any:
    """adj'(A)[H] from the SVD of A; ``xp`` the array namespace (NumPy, or jax.numpy for
    the XLA lowering)."""
    u, s, vh = xp.linalg.svd(a)
    uh, v = xp.conj(xp.swapaxes(u, -1, -2)), xp.conj(xp.swapaxes(vh, -1, -2))
    k = uh @ h @ v
    n = s.shape[-1]
    eye = xp.eye(n, dtype=bool)
    # row i: the singular values with the i-th replaced by 1, whose exclusive products
    # are the P_ij (the diagonal, prod_k!=i s_k, is not a pair: zeroed)
    pairs = xp.where(eye, 0, _products_of_others(xp.where(eye, 1, s[..., None, :]), xp))
    k_diag = xp.diagonal(k, axis1=-2, axis2=-1)
    d = xp.where(eye, xp.einsum("...ik,...k->...i", pairs, k_diag)[..., None], -k * pairs)
    scale = (xp.linalg.det(u) * xp.linalg.det(vh))[..., None, None]
    return scale * (v @ d @ uh)


adjugate_tangent_p = Primitive("adjugate_tangent", numpy_only(
    "xform.numpy.linalg.det's second derivative (the adjugate's tangent)", _adjugate_tangent_impl))


def _adjugate_tangent_jvp(tangents: Sequence[Any], ans: Any, args: Sequence[Any],
                          params: dict) -> Any:
    a, h = args
    da, dh = tangents
    out = None if dh is None else bind(adjugate_tangent_p, a, dh)
    if da is not None:
        # adj'(A)[H] = tr(M) adj(A) - M adj(A) with M = A^-1 H where A is invertible; its
        # derivative in A (a third derivative of det) needs A invertible
        m, g = bind(solve_p, a, h), bind(solve_p, a, da)
        adj, adj_da = bind(adjugate_p, a), bind(adjugate_tangent_p, a, da)
        gm = matmul(g, m)
        term = (_col(_col(trace(m))) * adj_da - _col(_col(trace(gm))) * adj
                + matmul(gm, adj) - matmul(m, adj_da))
        out = term if out is None else add_any(out, term)
    return out


def _adjugate_tangent_vjp(ct: Any, ans: Any, args: Sequence[Any], params: dict,
                          needs: Sequence[bool]) -> list[Any]:
    a, h = args
    grads: list[Any] = [None, None]
    if needs[1]:
        grads[1] = unbroadcast(bind(adjugate_tangent_p, mT(a), ct), shape_of(h))
    if needs[0]:
        # the transpose in G of the A-derivative above, term by term
        m = bind(solve_p, a, h)
        mt, adj = mT(m), bind(adjugate_p, a)
        a_inv_t = mT(bind(inv_p, a))
        grads[0] = (bind(adjugate_tangent_p, mT(a), _col(_col(trace(m))) * ct - matmul(mt, ct))
                    - _col(_col(xsum(ct * adj, axis=(-2, -1)))) * matmul(a_inv_t, mt)
                    + matmul(matmul(a_inv_t, matmul(ct, mT(adj))), mt))
        grads[0] = unbroadcast(grads[0], shape_of(a))
    return grads


adjugate_tangent_p.jvp, adjugate_tangent_p.vjp = _adjugate_tangent_jvp, _adjugate_tangent_vjp
_batch_core(adjugate_tangent_p, (2, 2))
_shape_rule(adjugate_tangent_p, lambda a, h: _aval(_lead((a, 2), (h, 2)) + shape_of(a)[-2:], a, h))


def adjugate(a: Any) -> Any:
    """The adjugate (classical adjoint) of each square matrix of ``a``: the transposed
    cofactor matrix, ``det(A) A^-1`` where ``A`` is invertible, and defined for a
    singular ``A`` too (zero when the rank is below ``n - 1``). Its derivative exists
    everywhere too; the derivative of that needs ``A`` invertible.

    >>> import numpy
    >>> adjugate(numpy.array([[1.0, 2.0], [2.0, 4.0]])).round(12)
    array([[ 4., -2.],
           [-2.,  1.]])
    """
    return bind(adjugate_p, as_float(a))


det_p = Primitive("det", np.linalg.det)


def _det_jvp(tangents: Sequence[Any], ans: Any, args: Sequence[Any], params: dict) -> Any:
    # d det(A) = tr(adj(A) dA): no inverse, so singular matrices are fine
    return xsum(mT(bind(adjugate_p, args[0])) * tangents[0], axis=(-2, -1))


def _det_vjp(ct: Any, ans: Any, args: Sequence[Any], params: dict,
             needs: Sequence[bool]) -> list[Any]:
    return [_col(_col(ct)) * mT(bind(adjugate_p, args[0]))]


det_p.jvp, det_p.vjp = _det_jvp, _det_vjp
_batch_core(det_p, (2,))
_shape_rule(det_p, lambda a: _aval(shape_of(a)[:-2], a))


def det(a: Any) -> Any:
    """`numpy.linalg.det`; ``d det(A) = tr(adj(A) dA)`` with the adjugate ``adj(A)``
    (``det(A) A^-1`` for an invertible ``A``), so the first and second derivatives
    exist at singular matrices too; the third there needs ``A`` invertible.

    Args:
        a: a square matrix (or a stack of them; traced or not).

    Returns:
        The determinant.

    >>> import xform, numpy
    >>> xform.grad(det)(numpy.array([[1.0, 2.0], [2.0, 4.0]])).round(12)
    array([[ 4., -2.],
           [-2.,  1.]])
    """
    return bind(det_p, as_float(a))


slogdet_p = Primitive("slogdet", lambda a: list(np.linalg.slogdet(a)), multiple_results=True)


def _slogdet_jvp(tangents: Sequence[Any], ans: Any, args: Sequence[Any], params: dict) -> Any:
    sign = ans[0]
    dlog = trace(bind(solve_p, args[0], tangents[0]))
    if not is_complex(sign):
        return [zeros_like(sign), dlog]
    # the phase turns with the imaginary part of tr(A^-1 dA), the modulus with its real part
    return [1j * sign * imag(dlog), real(dlog)]


def _slogdet_vjp(ct: Any, ans: Any, args: Sequence[Any], params: dict,
                 needs: Sequence[bool]) -> list[Any]:
    ct_sign, ct_log = ct
    sign = ans[0]
    if not is_complex(sign):
        ct_sign = None
    # the cotangent of tr(A^-1 dA): Re pairs with ct_log, Im with Re(ct_sign * 1j * sign)
    c = None if ct_log is None else real(ct_log)
    if ct_sign is not None:
        c = add_any(c, -1j * real(ct_sign * 1j * sign))
    if c is None:
        return [None]
    return [_col(_col(c)) * mT(bind(inv_p, args[0]))]


slogdet_p.jvp, slogdet_p.vjp = _slogdet_jvp, _slogdet_vjp
_batch_core(slogdet_p, (2,))
_shape_rule(slogdet_p, lambda a: [_aval(shape_of(a)[:-2], a)] * 2)


def slogdet(a: Any) -> SlogdetResult:
    """`numpy.linalg.slogdet`; ``d logabsdet = tr(A^-1 dA)``, ``sign`` is constant.

    Args:
        a: a square matrix (or a stack of them; traced or not).

    Returns:
        ``SlogdetResult(sign, logabsdet)``.

    >>> import numpy, xform, xform.numpy as np
    >>> a = numpy.array([[2.0, 1.0], [1.0, 3.0]])
    >>> bool(numpy.allclose(np.linalg.slogdet(a).logabsdet, numpy.linalg.slogdet(a)[1]))
    True
    >>> xform.grad(lambda m: np.linalg.slogdet(m).logabsdet)(a).round(6).tolist()
    [[0.6, -0.2], [-0.2, 0.4]]
    """
    return SlogdetResult(*bind(slogdet_p, as_float(a)))


# ============================================================================ triangular solve
def _trisolve_impl(a: Any, b: Any, lower: bool, trans: int, unit_diagonal: bool) -> Any:
    if is_foreign(a) or is_foreign(b):
        return _trisolve_dispatched(a, b, lower, trans, unit_diagonal)
    return scipy.linalg.solve_triangular(a, b, trans=trans, lower=lower,
                                         unit_diagonal=unit_diagonal, check_finite=False)


def _trisolve_dispatched(a: Any, b: Any, lower: bool, trans: int, unit_diagonal: bool) -> Any:
    """The triangular solve for Dask or CuPy operands, which SciPy's would convert to
    NumPy: the triangle made explicit, then `numpy.linalg.solve`, which both libraries
    take over (an LU solve: O(n^3) instead of O(n^2), the same solution)."""
    n = shape_of(a)[-1]
    like = a if is_foreign(a) else b
    keep = np.tri(n, dtype=bool) if lower else np.tri(n, dtype=bool).T
    a = np.where(asarray_like(keep, like), a, 0.0)
    if unit_diagonal:
        a = np.where(asarray_like(np.eye(n, dtype=bool), like), 1.0, a)
    if trans:
        a = np.swapaxes(a, -1, -2)
        a = np.conj(a) if trans == 2 else a
    return np.linalg.solve(a, b)


triangular_solve_p = Primitive("triangular_solve", _trisolve_impl)


def triangular_solve(a: Any, b: Any, lower: bool, trans: int = 0,
                     unit_diagonal: bool = False) -> Any:
    """Solve ``op(T) x = b`` with ``T`` the lower/upper triangle of ``a`` (unit diagonal
    if ``unit_diagonal``), ``op`` the identity (``trans=0``) or the transpose (1);
    ``b`` is a stack of matrices ``(..., n, k)``."""
    return bind(triangular_solve_p, a, b, lower=bool(lower), trans=int(trans),
                unit_diagonal=bool(unit_diagonal))


def _triangle(x: Any, lower: bool, unit_diagonal: bool) -> Any:
    """The part of ``x`` a triangular solve reads."""
    if lower:
        return tril(x, -1 if unit_diagonal else 0)
    return triu(x, 1 if unit_diagonal else 0)


def _trisolve_jvp(tangents: Sequence[Any], ans: Any, args: Sequence[Any], params: dict) -> Any:
    a, _ = args
    ta, tb = tangents
    rhs = tb
    if ta is not None:
        dt = _triangle(ta, params["lower"], params["unit_diagonal"])
        rhs = add_any(rhs, -matmul(mT(dt) if params["trans"] else dt, ans))
    return bind(triangular_solve_p, a, rhs, **params)


def _trisolve_vjp(ct: Any, ans: Any, args: Sequence[Any], params: dict,
                  needs: Sequence[bool]) -> list[Any]:
    a, b = args
    g = bind(triangular_solve_p, a, ct, **{**params, "trans": 1 - params["trans"]})
    ca = None
    if needs[0]:
        outer = matmul(ans, mT(g)) if params["trans"] else matmul(g, mT(ans))
        ca = unbroadcast(-_triangle(outer, params["lower"], params["unit_diagonal"]),
                         shape_of(a))
    cb = unbroadcast(g, shape_of(b)) if needs[1] else None
    return [ca, cb]


triangular_solve_p.jvp, triangular_solve_p.vjp = _trisolve_jvp, _trisolve_vjp
_batch_core(triangular_solve_p, (2, 2), rhs=1)
_shape_rule(triangular_solve_p, lambda a, b, **p: _aval(
    _lead((a, 2), (b, 2)) + tuple(shape_of(b)[-2:]), a, b))


# ============================================================================ cholesky
def _cholesky_impl(a: Any, lower: bool) -> Any:
    return np.linalg.cholesky(a, upper=not lower)


cholesky_p = Primitive("cholesky", _cholesky_impl)


def _phi(x: Any) -> Any:
    """The lower triangle with the diagonal halved."""
    n = shape_of(x)[-1]
    return x * const_like(np.tri(n, dtype=dtype_of(x)) - 0.5 * np.eye(n, dtype=dtype_of(x)), x)


def _cholesky_jvp(tangents: Sequence[Any], ans: Any, args: Sequence[Any], params: dict) -> Any:
    lower = params["lower"]
    chol = ans if lower else mH(ans)
    ds = _sym(tangents[0], lower)
    # L^-1 dS L^-H, from two triangular solves
    half = triangular_solve(chol, ds, lower=True)
    middle = mH(triangular_solve(chol, mH(half), lower=True))
    dl = matmul(chol, _phi(middle))
    return dl if lower else mH(dl)


def _cholesky_vjp(ct: Any, ans: Any, args: Sequence[Any], params: dict,
                  needs: Sequence[bool]) -> list[Any]:
    lower = params["lower"]
    chol, ct_l = (ans, ct) if lower else (mH(ans), mH(ct))
    # transpose of the JVP: L^-T phi(L^T Lbar) conj(L^-1) (Murray 2016, with the
    # conjugations of L L^H), then to the triangle read
    inner = _phi(matmul(mT(chol), ct_l))
    half = triangular_solve(chol, inner, lower=True, trans=1)
    g = mH(triangular_solve(chol, mH(half), lower=True, trans=1))
    return [_sym_transpose(g, lower)]


cholesky_p.jvp, cholesky_p.vjp = _cholesky_jvp, _cholesky_vjp
_batch_core(cholesky_p, (2,))
_shape_rule(cholesky_p, lambda a, lower: _aval(shape_of(a), a))


def cholesky(a: Any, upper: bool = False) -> Any:
    """`numpy.linalg.cholesky`: the factor ``L`` (or ``U = L^T`` with ``upper=True``)
    of the symmetric matrix read from the lower (upper) triangle of ``a``. Its
    derivative is that of the triangle read; the other triangle gets none.

    Args:
        a: a square matrix (or a stack of them; traced or not).
        upper: return the upper factor instead of the lower.

    Returns:
        The lower (or upper) Cholesky factor.

    >>> import numpy, xform, xform.numpy as np
    >>> a = numpy.array([[2.0, 1.0], [1.0, 3.0]])
    >>> bool(numpy.allclose(np.linalg.cholesky(a), numpy.linalg.cholesky(a)))
    True
    """
    return bind(cholesky_p, as_float(a), lower=not upper)


# ============================================================================ eigh, eigvalsh
eigh_p = Primitive("eigh", lambda a, lower: list(np.linalg.eigh(a, "L" if lower else "U")),
                   multiple_results=True)


def _real_row_gauge(v: Any, dv: Any, row: int) -> Any:
    """Fix the phases of complex eigen/singular vector tangents as LAPACK fixes the
    vectors: their entries in ``row`` stay real (the first row for a lower-triangle
    eigh and for the right singular vectors of a tall SVD, the last for an upper one)."""
    entry = getitem(v, (Ellipsis, row, slice(None)))
    d_entry = getitem(dv, (Ellipsis, row, slice(None)))
    return dv - 1j * v * _row(imag(d_entry) / real(entry))


def _eigh_jvp(tangents: Sequence[Any], ans: Any, args: Sequence[Any], params: dict) -> Any:
    w, v = ans
    m = matmul(mH(v), matmul(_sym(tangents[0], params["lower"]), v))
    dv = matmul(v, _gap_reciprocals(w) * m)
    if is_complex(v):
        return [real(diagonal(m)), _real_row_gauge(v, dv, 0 if params["lower"] else -1)]
    return [diagonal(m), dv]


def _spectral_cotangent(w: Any, v: Any, ct_w: Any, ct_v: Any) -> Any:
    """The cotangent of ``M = V^-1 dA V`` (``V^T dS V`` for eigh), given those of the
    eigenvalues ``diag(M)`` and of the eigenvectors ``V (F o M)``."""
    inner = None if ct_w is None else diag_embed(ct_w)
    if ct_v is not None:
        inner = add_any(inner, _gap_reciprocals(w) * matmul(mT(v), ct_v))
    return inner


def _eigh_vjp(ct: Any, ans: Any, args: Sequence[Any], params: dict,
              needs: Sequence[bool]) -> list[Any]:
    w, v = ans
    if is_complex(v):
        return _transpose_of_jvp(_eigh_jvp, ct, ans, args, params)
    inner = _spectral_cotangent(w, v, *ct)
    return [_sym_transpose(matmul(v, matmul(inner, mT(v))), params["lower"])]


eigh_p.jvp, eigh_p.vjp = _eigh_jvp, _eigh_vjp
_batch_core(eigh_p, (2,))
_shape_rule(eigh_p, lambda a, lower: [_aval(shape_of(a)[:-1], a), _aval(shape_of(a), a)])

eigvalsh_p = Primitive("eigvalsh", lambda a, lower: np.linalg.eigvalsh(a, "L" if lower else "U"))


def _eigvalsh_jvp(tangents: Sequence[Any], ans: Any, args: Sequence[Any], params: dict) -> Any:
    v = bind(eigh_p, args[0], **params)[1]
    return real(xsum(conj(v) * matmul(_sym(tangents[0], params["lower"]), v), axis=-2))


def _eigvalsh_vjp(ct: Any, ans: Any, args: Sequence[Any], params: dict,
                  needs: Sequence[bool]) -> list[Any]:
    v = bind(eigh_p, args[0], **params)[1]
    return [_sym_transpose(matmul(conj(v) * _row(real(ct)), mT(v)), params["lower"])]


eigvalsh_p.jvp, eigvalsh_p.vjp = _eigvalsh_jvp, _eigvalsh_vjp
_batch_core(eigvalsh_p, (2,))
_shape_rule(eigvalsh_p, lambda a, lower: _aval(shape_of(a)[:-1], a))


def _uplo(UPLO: str) -> bool:
    if UPLO not in ("L", "U"):
        raise ValueError(f"UPLO argument must be 'L' or 'U', got {UPLO!r}")
    return UPLO == "L"


def eigh(a: Any, UPLO: str = "L") -> EighResult:
    """`numpy.linalg.eigh` of the symmetric matrix read from triangle ``UPLO``.

    The derivative is that of the triangle NumPy reads (the other triangle has
    none). Eigenvector derivatives contain ``1 / (w_j - w_i)``: repeated eigenvalues
    give inf/NaN eigenvector derivatives, as in JAX (eigenvalues stay finite).

    Args:
        a: a square matrix (or a stack of them; traced or not).
        UPLO: ``"L"`` or ``"U"``: the triangle read.

    Returns:
        ``EighResult(eigenvalues, eigenvectors)``, eigenvalues ascending.

    >>> import numpy, xform, xform.numpy as np
    >>> a = numpy.array([[2.0, 1.0], [1.0, 3.0]])
    >>> bool(numpy.allclose(np.linalg.eigh(a).eigenvalues, numpy.linalg.eigvalsh(a)))
    True
    """
    return EighResult(*bind(eigh_p, as_float(a), lower=_uplo(UPLO)))


def eigvalsh(a: Any, UPLO: str = "L") -> Any:
    """`numpy.linalg.eigvalsh`; ``dw_i = v_i^T dA v_i``.

    Args:
        a: a square matrix (or a stack of them; traced or not).
        UPLO: ``"L"`` or ``"U"``: the triangle read.

    Returns:
        The eigenvalues, ascending.

    >>> import numpy, xform, xform.numpy as np
    >>> a = numpy.array([[2.0, 1.0], [1.0, 3.0]])
    >>> bool(numpy.allclose(np.linalg.eigvalsh(a), numpy.linalg.eigvalsh(a)))
    True
    >>> xform.grad(lambda m: np.linalg.eigvalsh(m)[-1])(a).shape
    (2, 2)
    """
    return bind(eigvalsh_p, as_float(a), lower=_uplo(UPLO))


# ============================================================================ eig
eig_p = Primitive("eig", lambda a: list(np.linalg.eig(a)), multiple_results=True)


def _largest_entries(v: Any) -> Any:
    """A 0/1 mask of the largest-modulus entry of each column (ties have measure zero)."""
    n = shape_of(v)[-2]
    top = argmax(xabs(v), axis=-2)
    return astype(equal(_col(const_like(np.arange(n), v)), _row(top)), np.finfo(dtype_of(v)).dtype)


def _eig_gauge(v: Any, dv: Any) -> Any:
    """Fix an eigenvector tangent as LAPACK fixes the vectors: unit 2-norm
    (``Re(v^H dv) = 0``) and, for complex vectors, a real largest entry."""
    if not is_complex(v):
        return dv - v * _row(xsum(v * dv, axis=-2))
    dv = dv - v * _row(real(xsum(conj(v) * dv, axis=-2)))
    top = _largest_entries(v)
    phase = imag(xsum(top * dv, axis=-2)) / real(xsum(top * v, axis=-2))
    return dv - 1j * v * _row(phase)


def _eig_gauge_transpose(v: Any, ct: Any) -> Any:
    """The transpose of ``_eig_gauge`` (under the pairing ``Re(sum(ct * t))``)."""
    if not is_complex(v):
        return ct - v * _row(xsum(v * ct, axis=-2))
    top = _largest_entries(v)
    alpha = -imag(xsum(ct * v, axis=-2)) / real(xsum(top * v, axis=-2))
    ct = ct + 1j * top * _row(alpha)
    return ct - conj(v) * _row(real(xsum(ct * v, axis=-2)))


def _eig_jvp(tangents: Sequence[Any], ans: Any, args: Sequence[Any], params: dict) -> Any:
    w, v = ans
    m = bind(solve_p, v, matmul(tangents[0], v))
    dv = matmul(v, _gap_reciprocals(w) * m)
    return [diagonal(m), _eig_gauge(v, dv)]


def _eig_vjp(ct: Any, ans: Any, args: Sequence[Any], params: dict,
             needs: Sequence[bool]) -> list[Any]:
    w, v = ans
    ct_w, ct_v = ct
    ct_v = None if ct_v is None else _eig_gauge_transpose(v, ct_v)
    inner = _spectral_cotangent(w, v, ct_w, ct_v)
    # transpose of dA -> V^-1 dA V; a real A gets the real part
    g = bind(solve_p, mT(v), matmul(inner, mT(v)))
    if is_complex(g) and not is_complex(args[0]):
        g = real(g)
    return [g]


eig_p.jvp, eig_p.vjp = _eig_jvp, _eig_vjp
_batch_core(eig_p, (2,))


def _eig_shape(a: Any) -> list[ShapedArray]:
    # NumPy's result dtype depends on the values (real when the spectrum is); abstractly
    # it is complex, as in JAX
    dt = np.result_type(_float_dtype(dtype_of(a)), np.complex64)
    return [ShapedArray(shape_of(a)[:-1], dt), ShapedArray(shape_of(a), dt)]


_shape_rule(eig_p, _eig_shape)


def eig(a: Any) -> EigResult:
    """`numpy.linalg.eig` of a real matrix, differentiable in both modes where the
    eigenvalues are distinct (real or complex). Eigenvector derivatives follow NumPy's
    normalisation (unit 2-norm, largest entry real); complex cotangents use JAX's
    pairing ``Re(sum(ct * t))``. Abstractly (make_jaxpr) the results are complex.

    Args:
        a: a square matrix (or a stack of them; traced or not).

    Returns:
        ``EigResult(eigenvalues, eigenvectors)`` (complex in general).

    >>> import numpy, xform, xform.numpy as np
    >>> a = numpy.array([[2.0, 1.0], [1.0, 3.0]])
    >>> bool(numpy.allclose(numpy.sort(np.linalg.eig(a).eigenvalues.real), numpy.sort(numpy.linalg.eigvals(a).real)))
    True
    """
    return EigResult(*bind(eig_p, as_float(a)))


def eigvals(a: Any) -> Any:
    """`numpy.linalg.eigvals` (differentiable as ``eig``).

    Args:
        a: a square matrix (or a stack of them; traced or not).

    Returns:
        The eigenvalues.

    >>> import numpy, xform, xform.numpy as np
    >>> a = numpy.array([[2.0, 1.0], [1.0, 3.0]])
    >>> bool(numpy.allclose(numpy.sort(np.linalg.eigvals(a).real), numpy.sort(numpy.linalg.eigvals(a).real)))
    True
    """
    return eig(a)[0]


# ============================================================================ svd
def _svd_impl(a: Any, full_matrices: bool) -> list[Any]:
    return list(np.linalg.svd(a, full_matrices=full_matrices))


svd_p = Primitive("svd", _svd_impl, multiple_results=True)


def _svd_dims(a: Any, full_matrices: bool) -> tuple[int, int, int]:
    m, n = shape_of(a)[-2:]
    if full_matrices and m != n:
        raise NotImplementedError(
            "derivatives of numpy.linalg.svd need full_matrices=False for a non-square "
            "matrix (the extra singular vectors of full_matrices=True are not unique)")
    return m, n, min(m, n)


def _svd_jvp(tangents: Sequence[Any], ans: Any, args: Sequence[Any], params: dict) -> Any:
    m, n, k = _svd_dims(args[0], params["full_matrices"])
    u, s, vh = ans
    v, da = mH(vh), tangents[0]
    dp = matmul(mH(u), matmul(da, v))
    dph = mH(dp)
    f = _gap_reciprocals(s * s)
    du = matmul(u, f * (dp * _row(s) + _col(s) * dph))
    dv = matmul(v, f * (_col(s) * dp + dph * _row(s)))
    # the parts outside the span of the k singular vectors need 1/s (nonzero s)
    if m > k:
        du = du + (matmul(da, v) - matmul(u, dp)) / _row(s)
    if n > k:
        dv = dv + (matmul(mH(da), u) - matmul(v, dph)) / _row(s)
    ds = diagonal(dp)
    if is_complex(u):
        # Im(dP_ii) turns u_i against v_i; then a common phase keeps LAPACK's real row
        # (the first row of V when m >= n, of U otherwise) real
        du = du + 1j * u * _row(imag(ds) / s)
        ref, vecs = (dv, v) if m >= n else (du, u)
        phase = -imag(getitem(ref, (Ellipsis, 0, slice(None)))) / real(
            getitem(vecs, (Ellipsis, 0, slice(None))))
        du, dv, ds = du + 1j * u * _row(phase), dv + 1j * v * _row(phase), real(ds)
    return [du, ds, mH(dv)]


def _svd_vjp(ct: Any, ans: Any, args: Sequence[Any], params: dict,
             needs: Sequence[bool]) -> list[Any]:
    m, n, k = _svd_dims(args[0], params["full_matrices"])
    u, s, vh = ans
    if is_complex(u):
        return _transpose_of_jvp(_svd_jvp, ct, ans, args, params)
    ct_u, ct_s, ct_vh = ct
    v = mT(vh)
    f = _gap_reciprocals(s * s)
    inner = None if ct_s is None else diag_embed(ct_s)
    if ct_u is not None:
        ut_ct = matmul(mT(u), ct_u)
        j = f * ut_ct
        inner = add_any(inner, (j + mT(j)) * _row(s))
    if ct_vh is not None:
        ct_v = mT(ct_vh)
        vt_ct = matmul(mT(v), ct_v)
        kk = f * vt_ct
        inner = add_any(inner, _col(s) * (kk + mT(kk)))
    g = None if inner is None else matmul(u, matmul(inner, vh))
    if ct_u is not None and m > k:
        g = add_any(g, matmul((ct_u - matmul(u, ut_ct)) / _row(s), vh))
    if ct_vh is not None and n > k:
        g = add_any(g, matmul(u, mT((ct_v - matmul(v, vt_ct)) / _row(s))))
    return [g]


svd_p.jvp, svd_p.vjp = _svd_jvp, _svd_vjp
_batch_core(svd_p, (2,))


def _svd_shape(a: Any, full_matrices: bool) -> list[ShapedArray]:
    *lead, m, n = shape_of(a)
    k = min(m, n)
    um, vn = (m, n) if full_matrices else (k, k)
    return [_aval((*lead, m, um), a), _aval((*lead, k), a), _aval((*lead, vn, n), a)]


_shape_rule(svd_p, _svd_shape)

svdvals_p = Primitive("svdvals", lambda a: np.linalg.svd(a, compute_uv=False))


def _svdvals_jvp(tangents: Sequence[Any], ans: Any, args: Sequence[Any], params: dict) -> Any:
    u, _, vh = bind(svd_p, args[0], full_matrices=False)
    return real(xsum(conj(u) * matmul(tangents[0], mH(vh)), axis=-2))


def _svdvals_vjp(ct: Any, ans: Any, args: Sequence[Any], params: dict,
                 needs: Sequence[bool]) -> list[Any]:
    u, _, vh = bind(svd_p, args[0], full_matrices=False)
    return [matmul(conj(u) * _row(real(ct)), conj(vh))]


svdvals_p.jvp, svdvals_p.vjp = _svdvals_jvp, _svdvals_vjp
_batch_core(svdvals_p, (2,))
_shape_rule(svdvals_p, lambda a: _aval(shape_of(a)[:-2] + (min(shape_of(a)[-2:]),), a))


def svd(a: Any, full_matrices: bool = True, compute_uv: bool = True,
        hermitian: bool = False) -> Any:
    """`numpy.linalg.svd` (returns ``(U, S, Vh)``, or ``S`` without ``compute_uv``).

    Derivatives of ``U`` and ``Vh`` need distinct singular values (the factors
    ``1 / (s_j^2 - s_i^2)`` are infinite otherwise), nonzero ones for a non-square
    matrix, and ``full_matrices=False`` unless the matrix is square; derivatives of
    ``S`` alone (``compute_uv=False``, ``svdvals``) need only distinct values.

    Args:
        a: a square matrix (or a stack of them; traced or not).
        full_matrices: return square ``u`` and ``vh``.
        compute_uv: return ``u`` and ``vh`` too.
        hermitian: ``A`` is Hermitian (faster).

    Returns:
        ``SVDResult(U, S, Vh)`` (or the singular values alone without ``compute_uv``).

    >>> import numpy, xform, xform.numpy as np
    >>> a = numpy.array([[2.0, 1.0], [1.0, 3.0]])
    >>> bool(numpy.allclose(np.linalg.svd(a).S, numpy.linalg.svd(a).S))
    True
    """
    a = as_float(a)
    if hermitian:
        if isinstance(a, Tracer):
            raise NotImplementedError("svd(hermitian=True) of a traced value: use eigh, or "
                                      "svd with hermitian=False")
        numpy_svd: Any = np.linalg.svd  # (NumPy's overloads want literal flags)
        return numpy_svd(a, full_matrices, compute_uv, hermitian)
    if not compute_uv:
        return bind(svdvals_p, a)
    m, n = shape_of(a)[-2:]
    return SVDResult(*bind(svd_p, a, full_matrices=bool(full_matrices) and m != n))


def svdvals(x: Any) -> Any:
    """`numpy.linalg.svdvals`: the singular values, in descending order.

    Args:
        x: an array (traced or not).

    Returns:
        The singular values, descending.

    >>> import numpy, xform, xform.numpy as np
    >>> a = numpy.array([[2.0, 1.0], [1.0, 3.0]])
    >>> bool(numpy.allclose(np.linalg.svdvals(a), numpy.linalg.svd(a).S))
    True
    """
    return bind(svdvals_p, as_float(x))


# ============================================================================ qr
qr_p = Primitive("qr", lambda a: list(np.linalg.qr(a)), multiple_results=True)


def _qr_tall_jvp(q: Any, r: Any, dx: Any) -> tuple[Any, Any]:
    """Tangents of a QR factorization with ``m >= n``: ``C = Q^T dA R^-1`` splits into
    the antisymmetric ``Q^T dQ`` and the upper triangular ``dR R^-1``."""
    y = mT(triangular_solve(r, mT(dx), lower=False, trans=1))
    c = matmul(mH(q), y)
    low = tril(c, -1)
    if not is_complex(c):
        dq = matmul(q, low - mT(low)) + y - matmul(q, c)
        return dq, matmul(triu(c) + mT(low), r)
    # Q^H dQ is skew-Hermitian and dR R^-1 has a real diagonal (LAPACK's R does)
    im_diag = diag_embed(1j * imag(diagonal(c)))
    dq = matmul(q, low - mH(low) + im_diag) + y - matmul(q, c)
    return dq, matmul(triu(c) - im_diag + mH(low), r)


def _qr_tall_vjp(q: Any, r: Any, ct_q: Any, ct_r: Any) -> Any:
    rrt = None if ct_r is None else matmul(ct_r, mT(r))
    qtq = None if ct_q is None else matmul(mT(q), ct_q)
    m = add_any(qtq, None if rrt is None else -rrt)
    b = add_any(rrt, tril(m - mT(m), -1))
    x = matmul(q, b)
    if ct_q is not None:
        x = x + ct_q - matmul(q, qtq)
    return mT(triangular_solve(r, mT(x), lower=False))


def _qr_jvp(tangents: Sequence[Any], ans: Any, args: Sequence[Any], params: dict) -> Any:
    q, r = ans
    m, n = shape_of(args[0])[-2:]
    da = tangents[0]
    if m >= n:
        return list(_qr_tall_jvp(q, r, da))
    # wide: A = [X Y] with X = Q R1 square and R2 = Q^T Y
    dq, dr1 = _qr_tall_jvp(q, getitem(r, (Ellipsis, slice(None, m))),
                           getitem(da, (Ellipsis, slice(None, m))))
    y = getitem(args[0], (Ellipsis, slice(m, None)))
    dr2 = matmul(mH(dq), y) + matmul(mH(q), getitem(da, (Ellipsis, slice(m, None))))
    return [dq, concatenate([dr1, dr2], axis=-1)]


def _qr_vjp(ct: Any, ans: Any, args: Sequence[Any], params: dict,
            needs: Sequence[bool]) -> list[Any]:
    q, r = ans
    if is_complex(q):
        return _transpose_of_jvp(_qr_jvp, ct, ans, args, params)
    ct_q, ct_r = ct
    m, n = shape_of(args[0])[-2:]
    if m >= n:
        return [_qr_tall_vjp(q, r, ct_q, ct_r)]
    y = getitem(args[0], (Ellipsis, slice(m, None)))
    r1 = getitem(r, (Ellipsis, slice(None, m)))
    if ct_r is None:
        return [concatenate([_qr_tall_vjp(q, r1, ct_q, None),
                             zeros(shape_of(y), dtype_of(ct_q), like_value(ct_q))], axis=-1)]
    ct_r1 = getitem(ct_r, (Ellipsis, slice(None, m)))
    ct_r2 = getitem(ct_r, (Ellipsis, slice(m, None)))
    ct_q = add_any(ct_q, matmul(y, mT(ct_r2)))
    return [concatenate([_qr_tall_vjp(q, r1, ct_q, ct_r1), matmul(q, ct_r2)], axis=-1)]


qr_p.jvp, qr_p.vjp = _qr_jvp, _qr_vjp
_batch_core(qr_p, (2,))


def _qr_shape(a: Any) -> list[ShapedArray]:
    *lead, m, n = shape_of(a)
    k = min(m, n)
    return [_aval((*lead, m, k), a), _aval((*lead, k, n), a)]


_shape_rule(qr_p, _qr_shape)


def qr(a: Any, mode: str = "reduced") -> Any:
    """`numpy.linalg.qr` with modes 'reduced' (``(Q, R)``), 'r' and 'complete' (the
    same as 'reduced' when ``m <= n``). Derivatives need the leading ``min(m, n)``
    columns of ``a`` to be linearly independent; 'raw' and 'complete' with ``m > n``
    (whose extra columns of Q are not unique) work on constants only.

    Args:
        a: a square matrix (or a stack of them; traced or not).
        mode: ``"reduced"``, ``"complete"`` or ``"r"``.

    Returns:
        ``QRResult(Q, R)`` (or ``R`` alone with ``mode="r"``).

    >>> import numpy, xform, xform.numpy as np
    >>> a = numpy.array([[2.0, 1.0], [1.0, 3.0]])
    >>> bool(numpy.allclose(np.linalg.qr(a).Q @ np.linalg.qr(a).R, a))
    True
    """
    a = as_float(a)
    m, n = shape_of(a)[-2:]
    if mode == "raw" or (mode == "complete" and m > n):
        if isinstance(a, Tracer):
            raise NotImplementedError(f"qr(mode={mode!r}) of a traced value with shape "
                                      f"{shape_of(a)}: use mode='reduced'")
        numpy_qr: Any = np.linalg.qr
        return numpy_qr(a, mode=mode)
    if mode not in ("reduced", "complete", "r"):
        raise ValueError(f"qr: unrecognized mode {mode!r}")
    q, r = bind(qr_p, a)
    return r if mode == "r" else QRResult(q, r)


# ============================================================================ pinv
pinv_p = Primitive("pinv", lambda a, rcond, hermitian: np.linalg.pinv(a, rcond, hermitian))


def _pinv_jvp(tangents: Sequence[Any], ans: Any, args: Sequence[Any], params: dict) -> Any:
    # the derivative of the pseudo-inverse where the rank is locally constant
    a, da, x = args[0], tangents[0], ans
    if params["hermitian"]:
        a, da = _sym(a, True), _sym(da, True)
    dat = mH(da)
    t1 = -matmul(x, matmul(da, x))
    t2 = matmul(matmul(x, mH(x)), dat - matmul(matmul(dat, a), x))
    t3 = matmul(dat - matmul(x, matmul(a, dat)), matmul(mH(x), x))
    return t1 + t2 + t3


def _pinv_vjp(ct: Any, ans: Any, args: Sequence[Any], params: dict,
              needs: Sequence[bool]) -> list[Any]:
    a, x = args[0], ans
    if is_complex(x):
        return _transpose_of_jvp(_pinv_jvp, ct, ans, args, params)
    if params["hermitian"]:
        a = _sym(a, True)
    xt, gt = mT(x), mT(ct)
    w = matmul(gt, matmul(x, xt))
    z = matmul(matmul(xt, x), gt)
    g = -matmul(xt, matmul(ct, xt)) + w - matmul(a, matmul(x, w)) + z - matmul(matmul(z, x), a)
    return [_sym_transpose(g, True) if params["hermitian"] else g]


pinv_p.jvp, pinv_p.vjp = _pinv_jvp, _pinv_vjp
_batch_core(pinv_p, (2,))
_shape_rule(pinv_p, lambda a, **p: _aval(shape_of(a)[:-2] + tuple(shape_of(a)[-2:][::-1]), a))

_NO_VALUE: Any = object()


def pinv(a: Any, rcond: Any = None, hermitian: bool = False, *, rtol: Any = _NO_VALUE) -> Any:
    """`numpy.linalg.pinv`. Its derivative is that of a matrix of locally constant rank
    (singular values below the cutoff stay discarded), which also holds for
    rank-deficient matrices; ``hermitian=True`` reads the lower triangle, as NumPy.

    Args:
        a: a square matrix (or a stack of them; traced or not).
        rcond: the cut-off for small singular values, as NumPy's.
        hermitian: ``A`` is Hermitian (faster).
        rtol: the relative threshold, as NumPy's.

    Returns:
        The Moore-Penrose pseudo-inverse.

    >>> import numpy, xform, xform.numpy as np
    >>> a = numpy.array([[2.0, 1.0], [1.0, 3.0]])
    >>> bool(numpy.allclose(np.linalg.pinv(a), numpy.linalg.pinv(a)))
    True
    """
    a = as_float(a)
    if rcond is None:
        if rtol is _NO_VALUE:
            rcond = 1e-15
        elif rtol is None:
            rcond = max(shape_of(a)[-2:]) * float(np.finfo(dtype_of(a)).eps)
        else:
            rcond = rtol
    elif rtol is not _NO_VALUE:
        raise ValueError("`rtol` and `rcond` can't be both set.")
    if np.ndim(rcond):
        raise NotImplementedError("xform.numpy.linalg.pinv supports a scalar rcond only")
    return bind(pinv_p, a, rcond=float(rcond), hermitian=bool(hermitian))


# ============================================================================ lstsq
def _lstsq_impl(a: Any, b: Any, rcond: float) -> Any:
    if np.ndim(a) == 2 and np.ndim(b) == 2:
        return np.linalg.lstsq(a, b, rcond)[0]
    # stacks (from vmap): NumPy's lstsq takes single matrices only
    return np.matmul(np.linalg.pinv(a, rcond), b)


lstsq_p = Primitive("lstsq", _lstsq_impl)


def _lstsq_jvp(tangents: Sequence[Any], ans: Any, args: Sequence[Any], params: dict) -> Any:
    a, b = args
    ta, tb = tangents
    x = ans
    p = bind(pinv_p, a, rcond=params["rcond"], hermitian=False)
    rhs = tb
    if ta is not None:
        rhs = add_any(rhs, -matmul(ta, x))
        resid = b - matmul(a, x)
        y = matmul(mH(p), x)
        ta_y = matmul(mH(ta), y)
        rhs = rhs + matmul(mH(p), matmul(mH(ta), resid))
        return matmul(p, rhs) + ta_y - matmul(p, matmul(a, ta_y))
    return matmul(p, rhs)


def _lstsq_vjp(ct: Any, ans: Any, args: Sequence[Any], params: dict,
               needs: Sequence[bool]) -> list[Any]:
    a, b = args
    x = ans
    if is_complex(x):
        return _transpose_of_jvp(_lstsq_jvp, ct, ans, args, params, needs)
    p = bind(pinv_p, a, rcond=params["rcond"], hermitian=False)
    g = matmul(mT(p), ct)
    ca = None
    if needs[0]:
        resid = b - matmul(a, x)
        y = matmul(mT(p), x)
        ca = (-matmul(g, mT(x)) + matmul(resid, mT(matmul(p, g)))
              + matmul(y, mT(ct - matmul(mT(a), g))))
        ca = unbroadcast(ca, shape_of(a))
    cb = unbroadcast(g, shape_of(b)) if needs[1] else None
    return [ca, cb]


lstsq_p.jvp, lstsq_p.vjp = _lstsq_jvp, _lstsq_vjp
_batch_core(lstsq_p, (2, 2), rhs=1)
_shape_rule(lstsq_p, lambda a, b, rcond: _aval(
    _lead((a, 2), (b, 2)) + (shape_of(a)[-1], shape_of(b)[-1]), a, b))

matrix_rank_p, _ = nondiff_op(
    "matrix_rank", lambda a, tol, hermitian, rtol: np.linalg.matrix_rank(a, tol, hermitian,
                                                                          rtol=rtol))
_batch_core(matrix_rank_p, (2,))

# Dask's linalg has no determinant, eigendecomposition, pinv or rank: it would compute
# the operand into NumPy (warning only); refuse instead
# (and its cholesky, lstsq and svd take other arguments)
for _prim in (det_p, slogdet_p, eigh_p, eigvalsh_p, eig_p, pinv_p, matrix_rank_p, cholesky_p,
              lstsq_p, svdvals_p):
    refuse_silent_fallback(f"xform.numpy.linalg.{_prim.name}", _prim)


def matrix_rank(A: Any, tol: Any = None, hermitian: bool = False, *, rtol: Any = None) -> Any:
    """`numpy.linalg.matrix_rank` (an integer: no derivative).

    Args:
        A: a matrix.
        tol: the threshold for singular values.
        hermitian: ``A`` is Hermitian (faster).
        rtol: the relative threshold, as NumPy's.

    Returns:
        The rank (an integer; no derivative).

    >>> import numpy, xform, xform.numpy as np
    >>> a = numpy.array([[2.0, 1.0], [1.0, 3.0]])
    >>> bool(numpy.allclose(np.linalg.matrix_rank(a), numpy.linalg.matrix_rank(a)))
    True
    """
    if np.ndim(tol) or np.ndim(rtol):
        raise NotImplementedError("xform.numpy.linalg.matrix_rank supports scalar tol/rtol")
    return bind(matrix_rank_p, as_float(A), tol=tol, hermitian=bool(hermitian), rtol=rtol)


def lstsq(a: Any, b: Any, rcond: Any = None) -> tuple[Any, Any, Any, Any]:
    """`numpy.linalg.lstsq` -> ``(x, residuals, rank, s)``.

    ``x``, ``residuals`` and ``s`` are differentiable; the derivative of ``x`` is that
    of ``pinv(a) @ b`` at locally constant rank (so rank-deficient ``a`` is fine).
    Where the rank is not concrete (``vmap``, ``jit``) ``residuals`` is computed as
    for a full-rank ``a``.

    Args:
        a: a square matrix (or a stack of them; traced or not).
        b: the right-hand side(s).
        rcond: the cut-off for small singular values, as NumPy's.

    Returns:
        ``(x, residuals, rank, singular values)``, as NumPy's.

    >>> import numpy, xform, xform.numpy as np
    >>> a = numpy.array([[2.0, 1.0], [1.0, 3.0]])
    >>> bool(numpy.allclose(np.linalg.lstsq(a, numpy.array([1.0, 2.0]))[0], numpy.linalg.lstsq(a, numpy.array([1.0, 2.0]))[0]))
    True
    """
    a, b = as_float(a), as_float(b)
    m, n = shape_of(a)[-2:]
    if rcond is None:
        rcond = float(np.finfo(np.float64).eps) * max(m, n)
    b2, vector = vector_as_column(b)
    x = bind(lstsq_p, a, b2, rcond=float(rcond))
    s = svdvals(a)
    # NumPy's rank here counts the singular values above the rcond cutoff
    rank = xsum(s > rcond * xmax(s, axis=-1, keepdims=True), axis=-1)
    if m > n and (isinstance(rank, Tracer) or rank == n):
        resid = b2 - matmul(a, x)
        residuals = xsum(resid * resid, axis=-2)
    else:
        residuals = np.zeros((0,), dtype_of(x))
    return column_as_vector(x, vector), residuals, rank, s


# ============================================================================ XLA lowerings
def _lower_lstsq(ctx: Any, a: Any, b: Any, rcond: float) -> Any:
    if a.ndim == 2 and b.ndim == 2:
        return ctx.jnp.linalg.lstsq(a, b, rcond)[0]
    return ctx.jnp.matmul(ctx.jnp.linalg.pinv(a, rtol=rcond), b,
                          precision=ctx.lax.Precision.HIGHEST)


def _one_triangle(ctx: Any, a: Any) -> Any:
    """The Hermitian matrix NumPy sees in ``a`` when told it is one: its lower triangle
    (JAX would average ``a`` with its adjoint instead)."""
    low = ctx.jnp.tril(a, -1)
    return low + ctx.jnp.conj(ctx.jnp.swapaxes(low, -1, -2)) + ctx.jnp.real(
        ctx.jnp.diagonal(a, axis1=-2, axis2=-1))[..., None] * ctx.jnp.eye(a.shape[-1],
                                                                         dtype=a.dtype)


def _lower_cholesky(ctx: Any, a: Any, lower: bool) -> Any:
    # NumPy reads one triangle of ``a``; JAX's default would symmetrize it first
    if lower:
        return ctx.lax.linalg.cholesky(a, symmetrize_input=False)
    adj = ctx.jnp.conj(ctx.jnp.swapaxes(a, -1, -2))
    return ctx.jnp.conj(ctx.jnp.swapaxes(ctx.lax.linalg.cholesky(adj, symmetrize_input=False),
                                         -1, -2))


def _lower_pinv(ctx: Any, a: Any, rcond: float, hermitian: bool) -> Any:
    if hermitian:
        a = _one_triangle(ctx, a)
    return ctx.jnp.linalg.pinv(a, rtol=rcond, hermitian=hermitian)


def _lower_matrix_rank(ctx: Any, a: Any, tol: Any, hermitian: bool, rtol: Any) -> Any:
    # NumPy's rule: singular values above tol, else above rtol * their largest
    if hermitian:
        a = _one_triangle(ctx, a)
    s = ctx.jnp.linalg.svd(a, compute_uv=False, hermitian=hermitian)
    if tol is None:
        if rtol is None:
            rtol = max(a.shape[-2:]) * np.finfo(a.dtype).eps
        tol = s[..., :1] * rtol
    else:
        tol = ctx.jnp.asarray(tol)[..., None]
    return ctx.jnp.sum(s > tol, axis=-1)


def _lower_adjugate(ctx: Any, a: Any) -> Any:
    # the implementation's two formulas, both computed and one selected per matrix (XLA
    # has no data-dependent branch): det(A) A^-1 where A is well conditioned, else the SVD
    jnp = ctx.jnp
    inverse, det = jnp.linalg.inv(a), jnp.linalg.det(a)
    norm1 = lambda m: jnp.max(jnp.sum(jnp.abs(m), axis=-2), axis=-1)  # noqa: E731
    good = jnp.all(jnp.isfinite(inverse), axis=(-2, -1)) & (norm1(a) * norm1(inverse) < 1e6)
    u, s, vh = jnp.linalg.svd(a)
    scale = (jnp.linalg.det(u) * jnp.linalg.det(vh))[..., None, None]
    by_svd = scale * jnp.matmul(
        jnp.conj(jnp.swapaxes(vh, -1, -2)) * _products_of_others(s, jnp)[..., None, :],
        jnp.conj(jnp.swapaxes(u, -1, -2)))
    return jnp.where(good[..., None, None], det[..., None, None] * inverse, by_svd)


inv_p.lower = lambda ctx, a: ctx.jnp.linalg.inv(a)
adjugate_p.lower = _lower_adjugate
adjugate_tangent_p.lower = same_code(_adjugate_tangent_impl)
solve_p.lower = lambda ctx, a, b: ctx.jnp.linalg.solve(a, b)
det_p.lower = lambda ctx, a: ctx.jnp.linalg.det(a)
slogdet_p.lower = lambda ctx, a: list(ctx.jnp.linalg.slogdet(a))
triangular_solve_p.lower = lambda ctx, a, b, lower, trans, unit_diagonal: \
    ctx.jsp.linalg.solve_triangular(a, b, trans=trans, lower=lower, unit_diagonal=unit_diagonal)
cholesky_p.lower = _lower_cholesky
# NumPy reads one triangle only; JAX would average the two by default
eigh_p.lower = lambda ctx, a, lower: list(ctx.jnp.linalg.eigh(
    a, UPLO="L" if lower else "U", symmetrize_input=False))
eigvalsh_p.lower = lambda ctx, a, lower: ctx.jnp.linalg.eigh(
    a, UPLO="L" if lower else "U", symmetrize_input=False)[0]
eig_p.lower = lambda ctx, a: list(ctx.jnp.linalg.eig(a))
svd_p.lower = lambda ctx, a, full_matrices: list(ctx.jnp.linalg.svd(
    a, full_matrices=full_matrices))
svdvals_p.lower = lambda ctx, a: ctx.jnp.linalg.svd(a, compute_uv=False)
qr_p.lower = lambda ctx, a: list(ctx.jnp.linalg.qr(a))
pinv_p.lower = _lower_pinv
lstsq_p.lower = _lower_lstsq
matrix_rank_p.lower = _lower_matrix_rank
