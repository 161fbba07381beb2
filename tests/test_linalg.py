"""User-level tests of ``xform.numpy.linalg`` and ``xform.scipy.linalg``: values equal
NumPy's/SciPy's, ``jacfwd == jacrev ==`` central differences (with NumPy's keyword
arguments), Hessians, ``vmap`` against a Python loop, and the documented limits.
The rules themselves (both modes, second order, float32) are checked per primitive
by test_rules.py with the domains of domains_linalg.py."""
from __future__ import annotations

from typing import Any, Callable

import numpy as onp
import pytest
import scipy.linalg as sl

import xform
import xform.numpy as np
import xform.scipy.linalg as xsl

from helpers import fd_jacobian
import domains  # noqa: F401 - first: it imports domains_linalg while merging the families
from domains_linalg import (banded, general, real_spectrum, rect, spd, symmetric, triangular,
                            with_garbage)

RNG = onp.random.default_rng(20240611)


def flat(out: Any) -> onp.ndarray:
    """Several outputs as one vector (so one Jacobian covers them all)."""
    if isinstance(out, (tuple, list)):
        return np.concatenate([np.ravel(o) for o in out])
    return out


def check_jacobians(f: Callable[[Any], Any], x: onp.ndarray, rtol: float = 1e-5,
                    atol: float = 1e-6) -> None:
    """jacfwd and jacrev agree with each other and with central differences."""
    g = lambda x: flat(f(x))  # noqa: E731
    forward, reverse = xform.jacfwd(g)(x), xform.jacrev(g)(x)
    onp.testing.assert_allclose(forward, reverse, rtol=1e-8, atol=1e-9)
    onp.testing.assert_allclose(forward, fd_jacobian(g, x), rtol=rtol, atol=atol)


def check_vmap(f: Callable[..., Any], *args: Any, in_axes: Any = 0) -> None:
    """``vmap(f)`` equals a Python loop over the mapped axis."""
    axes = in_axes if isinstance(in_axes, tuple) else (in_axes,) * len(args)
    size = next(onp.shape(a)[ax] for a, ax in zip(args, axes) if ax is not None)
    batched = xform.vmap(f, in_axes=in_axes)(*args)
    for i in range(size):
        member = [a if ax is None else onp.take(a, i, axis=ax) for a, ax in zip(args, axes)]
        expected = f(*member)
        for e, b in zip(flat_list(expected), flat_list(batched)):
            onp.testing.assert_allclose(b[i], e, rtol=1e-10, atol=1e-12)


def flat_list(x: Any) -> list[Any]:
    return list(x) if isinstance(x, (tuple, list)) else [x]


A3 = general(RNG, (3, 3))
S3 = spd(RNG, (3, 3))
SYM4 = symmetric(RNG, (4, 4))
TALL = rect(RNG, (5, 3))
WIDE = rect(RNG, (3, 5))
B3 = RNG.standard_normal((3, 2))
STACK = general(RNG, (4, 3, 3))


# ----------------------------------------------------------------------------- values
@pytest.mark.parametrize("name, ours, theirs, args", [
    ("inv", np.linalg.inv, onp.linalg.inv, (STACK,)),
    ("solve matrix", np.linalg.solve, onp.linalg.solve, (STACK, RNG.standard_normal((4, 3, 2)))),
    ("solve vector", np.linalg.solve, onp.linalg.solve, (STACK, RNG.standard_normal(3))),
    ("det", np.linalg.det, onp.linalg.det, (STACK,)),
    ("slogdet", np.linalg.slogdet, onp.linalg.slogdet, (-STACK,)),
    ("cholesky", np.linalg.cholesky, onp.linalg.cholesky, (S3,)),
    ("cholesky upper", lambda a: np.linalg.cholesky(a, upper=True),
     lambda a: onp.linalg.cholesky(a, upper=True), (S3,)),
    ("eigh U", lambda a: np.linalg.eigh(a, UPLO="U"), lambda a: onp.linalg.eigh(a, UPLO="U"),
     (with_garbage(symmetric, False)(RNG, (4, 4)),)),
    ("eigvalsh", np.linalg.eigvalsh, onp.linalg.eigvalsh, (SYM4,)),
    ("eig", np.linalg.eig, onp.linalg.eig, (real_spectrum(RNG, (3, 3)),)),
    ("eigvals", np.linalg.eigvals, onp.linalg.eigvals, (real_spectrum(RNG, (3, 3)),)),
    ("svd", lambda a: np.linalg.svd(a, full_matrices=False),
     lambda a: onp.linalg.svd(a, full_matrices=False), (TALL,)),
    ("svd full square", np.linalg.svd, onp.linalg.svd, (A3,)),
    ("svd values", lambda a: np.linalg.svd(a, compute_uv=False),
     lambda a: onp.linalg.svd(a, compute_uv=False), (WIDE,)),
    ("qr", np.linalg.qr, onp.linalg.qr, (TALL,)),
    ("qr wide complete", lambda a: np.linalg.qr(a, mode="complete"),
     lambda a: onp.linalg.qr(a, mode="complete"), (WIDE,)),
    ("qr r", lambda a: np.linalg.qr(a, mode="r"), lambda a: onp.linalg.qr(a, mode="r"), (TALL,)),
    ("pinv", np.linalg.pinv, onp.linalg.pinv, (WIDE,)),
    ("pinv rtol", lambda a: np.linalg.pinv(a, rtol=0.3), lambda a: onp.linalg.pinv(a, rtol=0.3),
     (TALL,)),
    ("pinv hermitian", lambda a: np.linalg.pinv(a, hermitian=True),
     lambda a: onp.linalg.pinv(a, hermitian=True), (with_garbage(symmetric, True)(RNG, (3, 3)),)),
    ("lstsq", np.linalg.lstsq, onp.linalg.lstsq, (TALL, RNG.standard_normal(5))),
    ("lstsq wide", np.linalg.lstsq, onp.linalg.lstsq, (WIDE, RNG.standard_normal((3, 2)))),
    ("lstsq rank-deficient", lambda a, b: np.linalg.lstsq(a, b, rcond=1e-8),
     lambda a, b: onp.linalg.lstsq(a, b, rcond=1e-8),
     (rect(RNG, (5, 3), rank=2), RNG.standard_normal((5, 1)))),
    ("matrix_rank", np.linalg.matrix_rank, onp.linalg.matrix_rank,
     (rect(RNG, (2, 4, 3), rank=2),)),
    ("matrix_power 5", lambda a: np.linalg.matrix_power(a, 5),
     lambda a: onp.linalg.matrix_power(a, 5), (STACK,)),
    ("matrix_power -3", lambda a: np.linalg.matrix_power(a, -3),
     lambda a: onp.linalg.matrix_power(a, -3), (A3,)),
    ("matrix_power 0", lambda a: np.linalg.matrix_power(a, 0),
     lambda a: onp.linalg.matrix_power(a, 0), (A3,)),
    ("multi_dot", lambda *a: np.linalg.multi_dot(a), lambda *a: onp.linalg.multi_dot(a),
     (RNG.standard_normal(4), RNG.standard_normal((4, 6)), RNG.standard_normal((6, 2)),
      RNG.standard_normal((2, 5)), RNG.standard_normal(5))),
    ("tensorsolve", np.linalg.tensorsolve, onp.linalg.tensorsolve,
     (general(RNG, (6, 6)).reshape(2, 3, 6), RNG.standard_normal((2, 3)))),
    ("tensorsolve axes", lambda a, b: np.linalg.tensorsolve(a, b, axes=(0,)),
     lambda a, b: onp.linalg.tensorsolve(a, b, axes=(0,)),
     (general(RNG, (6, 6)).reshape(6, 2, 3), RNG.standard_normal((2, 3)))),
    ("tensorinv", np.linalg.tensorinv, onp.linalg.tensorinv,
     (general(RNG, (6, 6)).reshape(2, 3, 6),)),
    ("cond", np.linalg.cond, onp.linalg.cond, (STACK,)),
    ("cond 1", lambda a: np.linalg.cond(a, 1), lambda a: onp.linalg.cond(a, 1), (A3,)),
    ("trace offset", lambda a: np.linalg.trace(a, offset=1),
     lambda a: onp.linalg.trace(a, offset=1), (STACK,)),
    ("diagonal offset", lambda a: np.linalg.diagonal(a, offset=-1),
     lambda a: onp.linalg.diagonal(a, offset=-1), (STACK,)),
    ("cross", lambda x, y: np.linalg.cross(x, y, axis=0),
     lambda x, y: onp.linalg.cross(x, y, axis=0),
     (RNG.standard_normal((3, 2)), RNG.standard_normal((3, 2)))),
    ("vector_norm", lambda x: np.linalg.vector_norm(x, axis=(0, 2), ord=3, keepdims=True),
     lambda x: onp.linalg.vector_norm(x, axis=(0, 2), ord=3, keepdims=True), (STACK,)),
    ("matrix_norm", lambda x: np.linalg.matrix_norm(x, ord="nuc"),
     lambda x: onp.linalg.matrix_norm(x, ord="nuc"), (STACK,)),
    ("solve_triangular", lambda a, b: xsl.solve_triangular(a, b, trans="T", lower=True),
     lambda a, b: sl.solve_triangular(a, b, trans="T", lower=True),
     (triangular(RNG, (3, 3), True), RNG.standard_normal(3))),
    ("scipy cholesky", xsl.cholesky, sl.cholesky, (with_garbage(spd, False)(RNG, (3, 3)),)),
    ("cho_factor", xsl.cho_factor, sl.cho_factor, (S3,)),
    ("cho_solve lower", lambda a, b: xsl.cho_solve(xsl.cho_factor(a, lower=True), b),
     lambda a, b: sl.cho_solve(sl.cho_factor(a, lower=True), b), (S3, B3)),
    ("expm", xsl.expm, sl.expm, (0.5 * STACK,)),
    ("sqrtm", xsl.sqrtm, sl.sqrtm, (S3,)),
    ("solve_sylvester", xsl.solve_sylvester, sl.solve_sylvester, (S3, spd(RNG, (2, 2)), B3)),
    ("solve_banded", lambda ab, b: xsl.solve_banded((1, 2), ab, b),
     lambda ab, b: sl.solve_banded((1, 2), ab, b), (banded(RNG, 1, 2, 5), RNG.standard_normal(5))),
    ("lu_factor", xsl.lu_factor, sl.lu_factor, (STACK,)),
    ("lu_solve", lambda a, b: xsl.lu_solve(xsl.lu_factor(a), b, trans=1),
     lambda a, b: sl.lu_solve(sl.lu_factor(a), b, trans=1), (A3, B3)),
])
def test_values_match_numpy_and_scipy(name: str, ours: Any, theirs: Any, args: tuple) -> None:
    got, expected = ours(*args), theirs(*args)
    for g, e in zip(flat_list(got), flat_list(expected)):
        assert onp.shape(g) == onp.shape(e), name
        onp.testing.assert_allclose(g, e, rtol=1e-10, atol=1e-12, err_msg=name)


def test_result_types_and_namespace() -> None:
    assert np.linalg.eigh(SYM4).eigenvectors.shape == (4, 4)
    assert np.linalg.qr(TALL).R.shape == (3, 3)
    assert np.linalg.svd(TALL, full_matrices=False).Vh.shape == (3, 3)
    assert np.linalg.slogdet(A3).logabsdet.shape == ()
    assert xform.numpy.linalg is np.linalg
    with pytest.raises(AttributeError, match="has no attribute 'cholesky_banded'"):
        np.linalg.cholesky_banded  # noqa: B018 - not a NumPy name either
    with pytest.raises(AttributeError, match="not supported yet"):
        xsl.schur  # noqa: B018
    # NumPy's own functions dispatch to xform under a transform
    g = xform.grad(lambda a: onp.linalg.slogdet(a)[1])(A3)
    onp.testing.assert_allclose(g, onp.linalg.inv(A3).T, rtol=1e-10)


# ----------------------------------------------------------------------------- derivatives
SQUARE_FUNCS = {
    "inv": lambda a: np.linalg.inv(a),
    "det": lambda a: np.linalg.det(a),
    "slogdet": lambda a: np.linalg.slogdet(a)[1],
    "solve(a, vector)": lambda a: np.linalg.solve(a, B3[:, 0]),
    "matrix_power 3": lambda a: np.linalg.matrix_power(a, 3),
    "matrix_power -2": lambda a: np.linalg.matrix_power(a, -2),
    "eig": lambda a: np.linalg.eig(a),  # at a matrix with a real spectrum (below)
    "cond": lambda a: np.linalg.cond(a),
    "cond inf": lambda a: np.linalg.cond(a, onp.inf),
    "expm": lambda a: xsl.expm(0.5 * a),
    "lu_factor": lambda a: xsl.lu_factor(a)[0],
    "lu_solve": lambda a: xsl.lu_solve(xsl.lu_factor(a), B3),
    "lu_solve trans": lambda a: xsl.lu_solve(xsl.lu_factor(a), B3[:, 0], trans=1),
}


@pytest.mark.parametrize("name", sorted(SQUARE_FUNCS))
def test_square_matrix_functions(name: str) -> None:
    a = real_spectrum(RNG, (3, 3)) if name == "eig" else A3
    check_jacobians(SQUARE_FUNCS[name], a)


def test_eig_complex_spectrum() -> None:
    from domains_linalg import complex_spectrum
    a = complex_spectrum(RNG, (4, 4))
    w, v = np.linalg.eig(a)
    assert onp.iscomplexobj(w) and onp.iscomplexobj(v)

    def parts(a: Any) -> Any:
        w, v = np.linalg.eig(a)
        return np.real(w), np.imag(w), np.real(v), np.imag(v)
    check_jacobians(parts, a)
    # a gauge-invariant function: |v_k|^2 entries do not depend on the phase convention
    check_jacobians(lambda a: np.abs(np.linalg.eig(a)[1]) ** 2, a)


def test_lu_solve_has_the_derivative_of_solve() -> None:
    f = lambda a, b: xsl.lu_solve(xsl.lu_factor(a), b)  # noqa: E731
    g = lambda a, b: np.linalg.solve(a, b)  # noqa: E731
    for argnums in (0, 1):
        onp.testing.assert_allclose(xform.jacrev(f, argnums)(A3, B3),
                                    xform.jacfwd(g, argnums)(A3, B3), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("upper", [False, True])
def test_cholesky_reads_one_triangle(upper: bool) -> None:
    a = with_garbage(spd, not upper)(RNG, (3, 3))
    check_jacobians(lambda a: np.linalg.cholesky(a, upper=upper), a)
    # the unread triangle has no derivative, as in NumPy
    g = xform.grad(lambda a: np.sum(np.sin(np.linalg.cholesky(a, upper=upper))))(a)
    unread = onp.tril(g, -1) if upper else onp.triu(g, 1)
    assert not unread.any()


@pytest.mark.parametrize("UPLO", ["L", "U"])
def test_eigh_and_eigvalsh(UPLO: str) -> None:
    a = with_garbage(symmetric, UPLO == "L")(RNG, (4, 4))
    check_jacobians(lambda a: np.linalg.eigh(a, UPLO=UPLO), a)
    check_jacobians(lambda a: np.linalg.eigvalsh(a, UPLO=UPLO), a)
    # for a symmetric perturbation the result is the usual symmetric-matrix derivative
    w, v = onp.linalg.eigh(a, UPLO=UPLO)
    t = RNG.standard_normal((4, 4))
    t = t + t.T
    _, dw = xform.jvp(lambda a: np.linalg.eigvalsh(a, UPLO=UPLO), (a,), (t,))
    onp.testing.assert_allclose(dw, onp.einsum("ij,ik,kj->j", v, t, v), rtol=1e-10)


def test_eigh_repeated_eigenvalues_documented() -> None:
    # eigenvalue derivatives stay finite; eigenvector derivatives are inf/NaN, as in JAX
    a = onp.diag([1.0, 1.0, 2.0])
    g = xform.grad(lambda a: np.sum(np.linalg.eigvalsh(a) ** 2))(a)
    onp.testing.assert_allclose(g, onp.tril(2 * a) + onp.tril(2 * a, -1), atol=1e-12)
    with onp.errstate(all="ignore"):
        gv = xform.grad(lambda a: np.sum(np.linalg.eigh(a)[1][0]))(a)
    assert not onp.all(onp.isfinite(gv))


@pytest.mark.parametrize("shape", [(3, 3), (5, 3), (3, 5)])
def test_svd_qr_pinv(shape: tuple[int, int]) -> None:
    a = rect(RNG, shape)
    check_jacobians(lambda a: np.linalg.svd(a, full_matrices=False), a)
    check_jacobians(lambda a: np.linalg.svd(a, compute_uv=False), a)
    check_jacobians(lambda a: np.linalg.svdvals(a), a)
    check_jacobians(lambda a: np.linalg.qr(a), a)
    check_jacobians(lambda a: np.linalg.qr(a, mode="r"), a)
    check_jacobians(np.linalg.pinv, a)


def test_pinv_rank_deficient_and_hermitian() -> None:
    check_jacobians(lambda a: np.linalg.pinv(a, rcond=1e-3), rect(RNG, (4, 3), rank=2))
    check_jacobians(lambda a: np.linalg.pinv(a, hermitian=True),
                    with_garbage(symmetric, True)(RNG, (3, 3)))


@pytest.mark.parametrize("shape, rcond", [((5, 3), None), ((3, 5), None), ((5, 3), 1e-3)])
def test_lstsq(shape: tuple[int, int], rcond: Any) -> None:
    a = rect(RNG, shape, rank=2 if rcond else None)
    b = RNG.standard_normal((shape[0], 2))
    check_jacobians(lambda a: np.linalg.lstsq(a, b, rcond=rcond)[0], a)
    check_jacobians(lambda b: np.linalg.lstsq(a, b, rcond=rcond)[0], b)
    if shape[0] > shape[1] and rcond is None:
        check_jacobians(lambda a: np.linalg.lstsq(a, b)[1], a)   # residuals
        check_jacobians(lambda a: np.linalg.lstsq(a, b[:, 0])[3], a)  # singular values


def test_solve_both_arguments_and_broadcasting() -> None:
    b = RNG.standard_normal((2, 3, 2))
    check_jacobians(lambda a: np.linalg.solve(a, b), A3)   # a broadcast over b's stack
    check_jacobians(lambda b: np.linalg.solve(STACK[:2], b), b)
    t = general(RNG, (6, 6)).reshape(2, 3, 6)
    check_jacobians(lambda b: np.linalg.tensorsolve(t, b), RNG.standard_normal((2, 3)))
    check_jacobians(lambda t: np.linalg.tensorsolve(t, B3[:, 0]), general(RNG, (3, 3)))
    ops = [RNG.standard_normal(s) for s in [(4,), (4, 6), (6, 2), (2,)]]
    for k in range(4):
        def chain(x: Any, k: int = k) -> Any:
            return np.linalg.multi_dot(ops[:k] + [x] + ops[k + 1:])
        check_jacobians(chain, ops[k])


NORMS = [(None, None), (2, None), (1, None), (onp.inf, None), (-onp.inf, None), (0, None),
         (3, None), (0.5, None), (None, 1), (3, 0), ("fro", None), ("nuc", None),
         (2, (0, 1)), (-2, (1, 0)), (1, (0, 1)), (-1, (0, 1)), (onp.inf, (0, 1)),
         (-onp.inf, (1, 0))]


@pytest.mark.parametrize("ord, axis", NORMS)
@pytest.mark.parametrize("keepdims", [False, True])
def test_norm(ord: Any, axis: Any, keepdims: bool) -> None:
    vector = axis is None and ord is not None and not isinstance(ord, str)
    x = RNG.standard_normal(5) if vector else RNG.standard_normal((3, 4))
    if axis is not None and not isinstance(axis, tuple):
        x = RNG.standard_normal((3, 4))
    f = lambda x: np.linalg.norm(x, ord=ord, axis=axis, keepdims=keepdims)  # noqa: E731
    onp.testing.assert_allclose(f(x), onp.linalg.norm(x, ord, axis, keepdims), rtol=1e-12)
    assert onp.shape(f(x)) == onp.shape(onp.linalg.norm(x, ord, axis, keepdims))
    check_jacobians(f, x)


@pytest.mark.parametrize("ord", [None, 2, 3, "fro"])
def test_norm_gradient_at_zero_is_finite(ord: Any) -> None:
    x = onp.zeros((2, 3)) if ord == "fro" else onp.zeros(3)
    g = xform.grad(lambda x: np.linalg.norm(x, ord))(x)
    onp.testing.assert_array_equal(g, onp.zeros_like(x))
    _, t = xform.jvp(lambda x: np.linalg.norm(x, ord), (x,), (onp.ones_like(x),))
    assert onp.isfinite(t)
    # away from zero nothing changes
    y = onp.arange(1.0, 4.0)
    if ord != "fro":
        onp.testing.assert_allclose(xform.grad(lambda x: np.linalg.norm(x, ord))(y),
                                    fd_jacobian(lambda x: onp.linalg.norm(x, ord), y),
                                    rtol=1e-6)


# ----------------------------------------------------------------------------- scipy.linalg
@pytest.mark.parametrize("trans, lower, unit", [(0, False, False), ("T", True, False),
                                                 (1, False, True), ("C", True, True)])
def test_solve_triangular(trans: Any, lower: bool, unit: bool) -> None:
    a, b = triangular(RNG, (3, 3), lower), RNG.standard_normal((3, 2))
    f = lambda a, b: xsl.solve_triangular(a, b, trans=trans, lower=lower,  # noqa: E731
                                          unit_diagonal=unit)
    onp.testing.assert_allclose(f(a, b), sl.solve_triangular(a, b, trans, lower, unit),
                                rtol=1e-12)
    check_jacobians(lambda a: f(a, b[:, 0]), a)
    check_jacobians(lambda b: f(a, b), b)
    # only the triangle read (without the diagonal when it is assumed 1) is differentiated
    g = xform.grad(lambda a: np.sum(f(a, b)))(a)
    k = (-1 if lower else 1) if unit else 0
    onp.testing.assert_array_equal(g, onp.tril(g, k) if lower else onp.triu(g, k))


@pytest.mark.parametrize("lower", [False, True])
def test_cholesky_family(lower: bool) -> None:
    a = with_garbage(spd, lower)(RNG, (3, 3))
    check_jacobians(lambda a: xsl.cholesky(a, lower=lower), a)
    check_jacobians(lambda a: xsl.cho_factor(a, lower=lower)[0], a)
    check_jacobians(lambda a: xsl.cho_solve(xsl.cho_factor(a, lower=lower), B3), a)
    check_jacobians(lambda b: xsl.cho_solve(xsl.cho_factor(S3, lower=lower), b), B3[:, 0])


def test_expm_sqrtm_sylvester() -> None:
    check_jacobians(xsl.expm, 0.5 * A3)
    check_jacobians(xsl.sqrtm, S3)
    check_jacobians(xsl.sqrtm, real_spectrum(RNG, (3, 3)) + 4 * onp.eye(3))
    b, q = spd(RNG, (2, 2)), B3
    check_jacobians(lambda a: xsl.solve_sylvester(a, b, q), S3)
    check_jacobians(lambda b: xsl.solve_sylvester(S3, b, q), b)
    check_jacobians(lambda q: xsl.solve_sylvester(S3, b, q), q)
    # the Fréchet derivative: d/dt expm(A + tE) at t=0
    e = RNG.standard_normal((3, 3))
    _, t = xform.jvp(xsl.expm, (A3,), (e,))
    onp.testing.assert_allclose(t, sl.expm_frechet(A3, e, compute_expm=False), rtol=1e-10)


@pytest.mark.parametrize("l, u", [(1, 1), (2, 0), (0, 2), (1, 2)])
def test_solve_banded(l: int, u: int) -> None:
    ab, b = banded(RNG, l, u, 5), RNG.standard_normal((5, 2))
    check_jacobians(lambda ab: xsl.solve_banded((l, u), ab, b), ab)
    check_jacobians(lambda b: xsl.solve_banded((l, u), ab, b[:, 0]), b)


# ----------------------------------------------------------------------------- second order
@pytest.mark.parametrize("name, f, x", [
    ("logdet", lambda a: np.linalg.slogdet(a)[1], A3),
    ("trace inv", lambda a: np.trace(np.linalg.inv(a)), A3),
    ("cholesky", lambda a: np.sum(np.linalg.cholesky(a) ** 3), S3),
    ("eigvalsh", lambda a: np.sum(np.linalg.eigvalsh(a) ** 3), SYM4),
    ("eigh", lambda a: np.sum(np.linalg.eigh(a)[1][:, 0] ** 2 * onp.arange(4)), SYM4),
    ("svd", lambda a: np.sum(np.linalg.svd(a, full_matrices=False)[0] ** 3), TALL),
    ("qr", lambda a: np.sum(np.linalg.qr(a)[1] ** 3), TALL),
    ("expm", lambda a: np.sum(xsl.expm(a) ** 2), 0.3 * A3),
    ("sqrtm", lambda a: np.sum(xsl.sqrtm(a) ** 3), S3),
    ("lu", lambda a: np.sum(xsl.lu_solve(xsl.lu_factor(a), B3) ** 2), A3),
])
def test_hessians(name: str, f: Any, x: onp.ndarray) -> None:
    h = xform.hessian(f)(x)
    expected = fd_jacobian(xform.grad(f), x)
    onp.testing.assert_allclose(h, expected, rtol=1e-5, atol=1e-6, err_msg=name)


# ----------------------------------------------------------------------------- vmap
@pytest.mark.parametrize("name, f, args, in_axes", [
    ("inv", np.linalg.inv, (STACK,), 0),
    ("solve, A batched", np.linalg.solve, (STACK, B3), (0, None)),
    ("solve, b batched (folded)", np.linalg.solve, (A3, RNG.standard_normal((3, 4, 2))),
     (None, 1)),
    ("solve vector", np.linalg.solve, (STACK, RNG.standard_normal((4, 3))), 0),
    ("det", np.linalg.det, (STACK,), 0),
    ("slogdet", lambda a: tuple(np.linalg.slogdet(a)), (STACK,), 0),
    ("cholesky", np.linalg.cholesky, (spd(RNG, (4, 3, 3)),), 0),
    ("eigh", lambda a: tuple(np.linalg.eigh(a)), (symmetric(RNG, (3, 4, 4)),), 0),
    ("eigvalsh", np.linalg.eigvalsh, (symmetric(RNG, (3, 4, 4)),), 0),
    ("svd", lambda a: tuple(np.linalg.svd(a, full_matrices=False)), (rect(RNG, (3, 5, 2)),), 0),
    ("qr", lambda a: tuple(np.linalg.qr(a)), (rect(RNG, (3, 2, 4)),), 0),
    ("pinv", np.linalg.pinv, (rect(RNG, (3, 4, 2)),), 0),
    ("lstsq", lambda a, b: np.linalg.lstsq(a, b)[0], (rect(RNG, (3, 5, 2)),
                                                       RNG.standard_normal((3, 5))), 0),
    ("norm nuc", lambda x: np.linalg.norm(x, "nuc"), (STACK,), 0),
    ("norm 2", lambda x: np.linalg.norm(x, 2, axis=0), (STACK,), 2),
    ("matrix_power", lambda a: np.linalg.matrix_power(a, 3), (STACK,), 0),
    ("solve_triangular b", lambda a, b: xsl.solve_triangular(a, b, lower=True),
     (triangular(RNG, (3, 3), True), RNG.standard_normal((5, 3))), (None, 0)),
    ("solve_triangular a", lambda a, b: xsl.solve_triangular(a, b, trans=1),
     (triangular(RNG, (4, 3, 3), False), B3), (0, None)),
    ("cho_solve", lambda a, b: xsl.cho_solve(xsl.cho_factor(a), b),
     (spd(RNG, (4, 3, 3)), RNG.standard_normal((4, 3))), 0),
    ("expm", xsl.expm, (0.5 * STACK,), 0),
    ("sqrtm", xsl.sqrtm, (spd(RNG, (3, 3, 3)),), 0),
    ("solve_sylvester", xsl.solve_sylvester, (spd(RNG, (3, 3, 3)), spd(RNG, (2, 2)),
                                              RNG.standard_normal((3, 3, 2))), (0, None, 0)),
    ("solve_banded", lambda ab, b: xsl.solve_banded((1, 1), ab, b),
     (banded(RNG, 1, 1, 5, (3,)), RNG.standard_normal((3, 5))), 0),
    ("solve_banded b", lambda ab, b: xsl.solve_banded((1, 1), ab, b),
     (banded(RNG, 1, 1, 5), RNG.standard_normal((5, 3))), (None, 1)),
    ("lu_factor", lambda a: tuple(xsl.lu_factor(a)), (STACK,), 0),
    ("lu_solve", lambda a, b: xsl.lu_solve(xsl.lu_factor(a), b), (STACK, B3[:, 0]),
     (0, None)),
])
def test_vmap_matches_loop(name: str, f: Any, args: tuple, in_axes: Any) -> None:
    check_vmap(f, *args, in_axes=in_axes)


def test_vmap_of_gradients() -> None:
    """Per-example gradients: vmap over grad runs the batch rules of the rules."""
    def logdet_plus(a: Any, b: Any) -> Any:
        return np.linalg.slogdet(a)[1] + np.sum(np.linalg.solve(a, b) ** 2)
    bs = RNG.standard_normal((4, 3))
    grads = xform.vmap(xform.grad(logdet_plus, argnums=(0, 1)))(STACK, bs)
    for i in range(4):
        expected = xform.grad(logdet_plus, argnums=(0, 1))(STACK[i], bs[i])
        onp.testing.assert_allclose(grads[0][i], expected[0], rtol=1e-10)
        onp.testing.assert_allclose(grads[1][i], expected[1], rtol=1e-10)


# ----------------------------------------------------------------------------- limits, dtypes, IR
def test_documented_limits_raise_clearly() -> None:
    with pytest.raises(NotImplementedError, match="full_matrices=False"):
        xform.grad(lambda a: np.sum(np.linalg.svd(a)[0]))(TALL)
    with pytest.raises(NotImplementedError, match="mode='reduced'"):
        xform.grad(lambda a: np.sum(np.linalg.qr(a, mode="complete")[0]))(TALL)


def test_float32_stays_float32() -> None:
    a32 = A3.astype(onp.float32)
    lu, piv = xsl.lu_factor(a32)
    assert lu.dtype == onp.float32
    _, t = xform.jvp(lambda a: xsl.lu_factor(a)[0], (a32,), (a32,))
    assert t.dtype == onp.float32
    for f in (lambda a: np.linalg.norm(a, 2), lambda a: np.linalg.norm(a, "nuc"),
              lambda a: np.sum(xsl.lu_solve(xsl.lu_factor(a), a)),
              lambda a: np.sum(np.linalg.lstsq(a, a)[0])):
        assert xform.grad(f)(a32).dtype == onp.float32
        assert onp.result_type(f(a32)) == onp.float32


def test_make_jaxpr_shapes() -> None:
    def f(a: Any, b: Any) -> Any:
        x = np.linalg.solve(a, b) + np.linalg.inv(a) @ b
        lu, piv = xsl.lu_factor(a)
        w, v = np.linalg.eigh(a)
        return x + xsl.lu_solve((lu, piv), b) + np.linalg.cholesky(a) @ b + v @ b
    text = str(xform.make_jaxpr(f)(onp.zeros((3, 3)), onp.zeros((3, 2))))
    for name in ("solve", "inv", "lu_factor", "lu_solve", "eigh", "cholesky"):
        assert name in text


def test_shape_rules_agree_with_the_implementations() -> None:
    """Abstract evaluation (make_jaxpr, jit) never runs LAPACK: every explicit shape
    rule gives the shapes and dtypes the implementation produces."""
    from xform.core.ir import ShapedArray
    from xform.core.primitive import registry
    from domains_linalg import DOMAINS
    rng = onp.random.default_rng(0)
    for name, cases in DOMAINS.items():
        prim = registry[name]
        for case in cases:
            args, params = case.make(rng)
            for dtype in (onp.float64, onp.float32):
                args_d = [onp.asarray(a, dtype) if i in case.diff else a
                          for i, a in enumerate(args)]
                avals = [ShapedArray(a.shape, a.dtype) for a in args_d]
                expected = flat_list(prim.impl(*args_d, **params))
                got = flat_list(prim.abstract_eval(*avals, **params))
                for e, g in zip(expected, got):
                    assert g.shape == onp.shape(e), (name, case.label)
                    if name != "eig":   # NumPy's eig dtype depends on the values
                        assert g.dtype == onp.result_type(e), (name, case.label, dtype)


def test_batched_right_hand_sides_share_one_factorization() -> None:
    """With only ``b`` batched, the batch is folded into ``b``'s columns: one call."""
    text = str(xform.make_jaxpr(xform.vmap(lambda b: np.linalg.solve(A3, b)))(
        onp.ones((4, 3, 2))))
    assert text.count("= solve") == 1 and "f64[3,8] = solve" in text
    text = str(xform.make_jaxpr(xform.jacfwd(np.linalg.cholesky))(S3))
    assert text.count("triangular_solve") == 2 and "f64[3,27] = triangular_solve" in text
