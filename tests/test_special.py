"""``xform.scipy.special`` at the user level: values equal SciPy's, gradients
(grad, jacfwd, jacrev, second order) match central differences in every
differentiable argument, vmap equals a loop, float32 stays float32, and the
numerically delicate cases (logsumexp of huge inputs, the logistic tails,
xlogy at 0, the shape derivatives of the incomplete gamma and beta functions)
give finite, accurate derivatives."""
from __future__ import annotations

from typing import Any, Callable

import numpy as onp
import pytest
import scipy.special as sc

import xform
import xform.numpy as xnp
import xform.scipy.special as xs
from coverage_names import missing_names
from helpers import numerical_grad

RNG = onp.random.default_rng(0)


def U(lo: float, hi: float, shape: tuple[int, ...] = (5,)) -> onp.ndarray:
    return RNG.uniform(lo, hi, shape)


# name, xform function, SciPy function, arguments, differentiable positions
Case = tuple[str, Callable[..., Any], Callable[..., Any], tuple[Any, ...], tuple[int, ...]]
ORDERS = onp.array([0, 1, 2, 3, 1])
CASES: list[Case] = [
    ("expit", xs.expit, sc.expit, (U(-8, 8),), (0,)),
    ("logit", xs.logit, sc.logit, (U(0.05, 0.95),), (0,)),
    ("log_expit", xs.log_expit, sc.log_expit, (U(-8, 8),), (0,)),
    ("erf", xs.erf, sc.erf, (U(-2, 2),), (0,)),
    ("erfc", xs.erfc, sc.erfc, (U(-2, 2),), (0,)),
    ("erfinv", xs.erfinv, sc.erfinv, (U(-0.9, 0.9),), (0,)),
    ("erfcinv", xs.erfcinv, sc.erfcinv, (U(0.1, 1.9),), (0,)),
    ("ndtr", xs.ndtr, sc.ndtr, (U(-3, 3),), (0,)),
    ("log_ndtr", xs.log_ndtr, sc.log_ndtr, (U(-10, 4),), (0,)),
    ("ndtri", xs.ndtri, sc.ndtri, (U(0.05, 0.95),), (0,)),
    ("gamma", xs.gamma, sc.gamma, (U(-2.9, 4) + 0.013,), (0,)),
    ("gammaln", xs.gammaln, sc.gammaln, (U(0.2, 6),), (0,)),
    ("digamma", xs.digamma, sc.digamma, (U(0.2, 6),), (0,)),
    ("psi", xs.psi, sc.psi, (U(0.2, 6),), (0,)),
    ("polygamma", xs.polygamma, sc.polygamma, (ORDERS, U(0.5, 4)), (1,)),
    ("rgamma", xs.rgamma, sc.rgamma, (U(0.2, 5),), (0,)),
    ("multigammaln", lambda a: xs.multigammaln(a, 3), lambda a: sc.multigammaln(a, 3),
     (U(1.5, 5),), (0,)),
    ("gammainc", xs.gammainc, sc.gammainc, (U(0.3, 5), U(0.05, 8)), (0, 1)),
    ("gammaincc", xs.gammaincc, sc.gammaincc, (U(0.3, 5), U(0.05, 8)), (0, 1)),
    ("beta", xs.beta, sc.beta, (U(0.3, 4), U(0.3, 4)), (0, 1)),
    ("betaln", xs.betaln, sc.betaln, (U(0.3, 4), U(0.3, 4)), (0, 1)),
    ("betainc", xs.betainc, sc.betainc, (U(0.3, 5), U(0.3, 5), U(0.02, 0.98)), (0, 1, 2)),
    ("betaincc", xs.betaincc, sc.betaincc, (U(0.3, 5), U(0.3, 5), U(0.02, 0.98)), (0, 1, 2)),
    ("stdtr", xs.stdtr, sc.stdtr, (U(0.5, 8), U(-4, 4)), (0, 1)),
    ("gammaincinv", xs.gammaincinv, sc.gammaincinv, (U(0.3, 5), U(0.02, 0.98)), (0, 1)),
    ("gammainccinv", xs.gammainccinv, sc.gammainccinv, (U(0.3, 5), U(0.02, 0.98)), (0, 1)),
    ("betaincinv", xs.betaincinv, sc.betaincinv, (U(0.5, 5), U(0.5, 5), U(0.02, 0.98)),
     (0, 1, 2)),
    ("betainccinv", xs.betainccinv, sc.betainccinv, (U(0.5, 5), U(0.5, 5), U(0.02, 0.98)),
     (0, 1, 2)),
    ("stdtrit", xs.stdtrit, sc.stdtrit, (U(0.5, 8), U(0.02, 0.98)), (0, 1)),
    ("xlogy", xs.xlogy, sc.xlogy, (U(-2, 2), U(0.1, 3)), (0, 1)),
    ("xlog1py", xs.xlog1py, sc.xlog1py, (U(-2, 2), U(-0.5, 3)), (0, 1)),
    ("entr", xs.entr, sc.entr, (U(0.05, 3),), (0,)),
    ("j0", xs.j0, sc.j0, (U(0, 10),), (0,)),
    ("j1", xs.j1, sc.j1, (U(0, 10),), (0,)),
    ("jn", xs.jn, sc.jn, (ORDERS, U(0, 10)), (1,)),
    ("jv", xs.jv, sc.jv, (U(-1.5, 3), U(0.3, 10)), (1,)),
    ("y0", xs.y0, sc.y0, (U(0.3, 10),), (0,)),
    ("y1", xs.y1, sc.y1, (U(0.3, 10),), (0,)),
    ("yn", xs.yn, sc.yn, (ORDERS, U(0.3, 10)), (1,)),
    ("yv", xs.yv, sc.yv, (U(-1.5, 3), U(0.3, 10)), (1,)),
    ("i0", xs.i0, sc.i0, (U(-4, 4),), (0,)),
    ("i1", xs.i1, sc.i1, (U(-4, 4),), (0,)),
    ("i0e", xs.i0e, sc.i0e, (U(-4, 4),), (0,)),
    ("i1e", xs.i1e, sc.i1e, (U(-4, 4),), (0,)),
    ("iv", xs.iv, sc.iv, (U(-1.5, 3), U(0.1, 4)), (1,)),
    ("ive", xs.ive, sc.ive, (ORDERS.astype(float), U(-4, 4)), (1,)),
]
IDS = [c[0] for c in CASES]
# SciPy's inverses solve to about 1e-11 (stdtrit) to 1e-13: a wider difference step
FD_EPS = {"stdtrit": 1e-4, "gammaincinv": 1e-5, "gammainccinv": 1e-5, "betaincinv": 1e-5,
          "betainccinv": 1e-5}


def _weighted(f: Callable[..., Any], w: onp.ndarray) -> Callable[..., Any]:
    return lambda *a: xnp.sum(f(*a) * w)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_values_match_scipy(case: Case) -> None:
    _, f, ref, args, _ = case
    onp.testing.assert_allclose(f(*args), ref(*args), rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_grad_matches_finite_differences(case: Case) -> None:
    name, f, ref, args, diff = case
    w = RNG.standard_normal(onp.shape(ref(*args)))
    loss = _weighted(f, w)
    grads = xform.grad(loss, argnums=diff)(*args)
    for g, i in zip(grads, diff):
        expected = numerical_grad(loss, args[i], argnum=i, eps=FD_EPS.get(name, 1e-6),
                                  args=tuple(a for k, a in enumerate(args) if k != i))
        onp.testing.assert_allclose(g, expected, rtol=1e-6, atol=1e-8,
                                    err_msg=f"argument {i}")


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_second_derivative_matches_finite_differences(case: Case) -> None:
    """The derivative of the elementwise derivative, forward over reverse."""
    _, f, _, args, diff = case
    i = diff[-1]

    def d(x: Any) -> Any:  # elementwise derivative in argument i
        full = list(args)
        full[i] = x
        return xform.grad(lambda v: xnp.sum(f(*full[:i], v, *full[i + 1:])))(x)

    d2 = xform.jacfwd(d)(args[i])
    eps = 1e-5
    fd = (onp.asarray(d(args[i] + eps)) - onp.asarray(d(args[i] - eps))) / (2 * eps)
    onp.testing.assert_allclose(onp.diagonal(d2), fd, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_jacfwd_equals_jacrev(case: Case) -> None:
    _, f, _, args, diff = case
    for i in diff:
        def g(x: Any, i: int = i) -> Any:
            return f(*args[:i], x, *args[i + 1:])
        onp.testing.assert_allclose(xform.jacfwd(g)(args[i]), xform.jacrev(g)(args[i]),
                                    rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_vmap_equals_loop(case: Case) -> None:
    _, f, _, args, diff = case
    stacked = [onp.stack([a, a[::-1]], axis=1) if k in diff else a
               for k, a in enumerate(args)]
    axes = tuple(1 if k in diff else None for k in range(len(args)))
    out = xform.vmap(f, in_axes=axes)(*stacked)
    for j in range(2):
        member = [s[:, j] if k in diff else s for k, s in enumerate(stacked)]
        onp.testing.assert_allclose(out[j], f(*member), rtol=1e-14, atol=0)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_float32_is_preserved(case: Case) -> None:
    _, f, _, args, diff = case
    args32 = tuple(a.astype(onp.float32) if k in diff else a for k, a in enumerate(args))
    assert onp.result_type(f(*args32)) == onp.float32
    grads = xform.grad(_weighted(f, onp.ones((), onp.float32)), argnums=diff)(*args32)
    assert all(onp.result_type(g) == onp.float32 for g in grads)
    # a Python float next to float32 data does not promote
    mixed = tuple(float(a[0]) if k in diff and k != diff[-1] else a
                  for k, a in enumerate(args32))
    assert onp.result_type(f(*mixed)) == onp.float32


def test_coverage_names() -> None:
    assert not missing_names("scipy.special")


def test_unsupported_names_raise_clearly() -> None:
    with pytest.raises(AttributeError, match="not supported yet"):
        xs.hyp2f1  # noqa: B018
    with pytest.raises(AttributeError, match="no attribute"):
        xs.no_such_function  # noqa: B018


# ----------------------------------------------------------------------------- logsumexp
A = RNG.standard_normal((3, 4))


@pytest.mark.parametrize("axis", [None, 0, 1, -1, (0, 1)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_logsumexp_axis_keepdims(axis: Any, keepdims: bool) -> None:
    out = xs.logsumexp(A, axis=axis, keepdims=keepdims)
    ref = sc.logsumexp(A, axis=axis, keepdims=keepdims)
    assert onp.shape(out) == onp.shape(ref)
    onp.testing.assert_allclose(out, ref, rtol=1e-14)
    w = RNG.standard_normal(onp.shape(ref))
    loss = lambda a: xnp.sum(xs.logsumexp(a, axis=axis, keepdims=keepdims) * w)  # noqa: E731
    onp.testing.assert_allclose(xform.grad(loss)(A), numerical_grad(loss, A), rtol=1e-6)


def test_logsumexp_gradient_is_softmax() -> None:
    onp.testing.assert_allclose(xform.grad(lambda a: xs.logsumexp(a))(A),
                                sc.softmax(A), rtol=1e-13)
    onp.testing.assert_allclose(xform.jacrev(lambda a: xs.logsumexp(a, axis=1))(A)[1, 1],
                                sc.softmax(A[1]), rtol=1e-13)


def test_logsumexp_is_stable_for_huge_inputs() -> None:
    a = onp.array([1000.0, 1001.0, -1000.0, 999.5])
    onp.testing.assert_allclose(xs.logsumexp(a), sc.logsumexp(a), rtol=1e-15)
    g = xform.grad(xs.logsumexp)(a)
    onp.testing.assert_allclose(g, sc.softmax(a), rtol=1e-13)
    h = xform.hessian(xs.logsumexp)(a)
    p = sc.softmax(a)
    onp.testing.assert_allclose(h, onp.diag(p) - onp.outer(p, p), atol=1e-15)
    for fn in (xs.softmax, xs.log_softmax):
        j = xform.jacrev(fn)(a)
        assert onp.all(onp.isfinite(j))
    onp.testing.assert_allclose(xs.softmax(a), sc.softmax(a), rtol=1e-14)
    onp.testing.assert_allclose(xs.log_softmax(a), sc.log_softmax(a), rtol=1e-14)
    # an all -inf group: value -inf, zero (not NaN) gradient
    g = xform.grad(xs.logsumexp)(onp.array([-onp.inf, -onp.inf]))
    assert onp.all(g == 0)


@pytest.mark.parametrize("axis", [None, 0, 1])
def test_softmax_log_softmax(axis: Any) -> None:
    onp.testing.assert_allclose(xs.softmax(A, axis=axis), sc.softmax(A, axis=axis), rtol=1e-14)
    onp.testing.assert_allclose(xs.log_softmax(A, axis=axis), sc.log_softmax(A, axis=axis),
                                rtol=1e-14)
    w = RNG.standard_normal(A.shape)
    for fn in (xs.softmax, xs.log_softmax):
        loss = lambda a, fn=fn: xnp.sum(fn(a, axis=axis) * w)  # noqa: E731
        onp.testing.assert_allclose(xform.grad(loss)(A), numerical_grad(loss, A), rtol=1e-6,
                                    atol=1e-9)


@pytest.mark.parametrize("bshape,axis", [((3, 4), 1), ((4,), 0), ((3, 1), None), ((2, 3, 4), 0)])
def test_logsumexp_weights(bshape: tuple[int, ...], axis: Any) -> None:
    b = RNG.uniform(0.2, 2.0, bshape)
    out = xs.logsumexp(A, axis=axis, b=b)
    onp.testing.assert_allclose(out, sc.logsumexp(A, axis=axis, b=b), rtol=1e-14)
    w = RNG.standard_normal(onp.shape(out))
    loss = lambda a, b: xnp.sum(xs.logsumexp(a, axis=axis, b=b) * w)  # noqa: E731
    ga, gb = xform.grad(loss, argnums=(0, 1))(A, b)
    onp.testing.assert_allclose(ga, numerical_grad(loss, A, args=(b,)), rtol=1e-6)
    onp.testing.assert_allclose(gb, numerical_grad(loss, b, argnum=1, args=(A,)), rtol=1e-6)


def test_logsumexp_return_sign() -> None:
    a = onp.array([[1.0, 2.0, 0.5], [0.3, -1.0, 2.0]])
    b = onp.array([[1.0, -1.0, 0.5], [2.0, 1.0, 0.1]])
    out, sign = xs.logsumexp(a, axis=1, b=b, return_sign=True)
    ref, ref_sign = sc.logsumexp(a, axis=1, b=b, return_sign=True)
    onp.testing.assert_allclose(out, ref, rtol=1e-14)
    onp.testing.assert_array_equal(sign, ref_sign)
    # without return_sign a negative sum is NaN, as in SciPy
    onp.testing.assert_array_equal(onp.isnan(xs.logsumexp(a, axis=1, b=b)),
                                   onp.isnan(sc.logsumexp(a, axis=1, b=b)))
    # log|sum| is differentiable on both signs; the sign contributes nothing
    loss = lambda a, b: xnp.sum(xs.logsumexp(a, axis=1, b=b, return_sign=True)[0])  # noqa
    ga, gb = xform.grad(loss, argnums=(0, 1))(a, b)
    onp.testing.assert_allclose(ga, numerical_grad(loss, a, args=(b,)), rtol=1e-6)
    onp.testing.assert_allclose(gb, numerical_grad(loss, b, argnum=1, args=(a,)), rtol=1e-6)
    s, sgn = xs.logsumexp(onp.array([1.0, 2.0]), return_sign=True)
    assert sgn == 1.0 and onp.isclose(s, sc.logsumexp([1.0, 2.0]))


def test_logsumexp_vmap_and_second_order() -> None:
    b = RNG.uniform(0.2, 2.0, (4,))
    batched = xform.vmap(lambda a: xs.logsumexp(a, b=b))(A)
    onp.testing.assert_allclose(batched, [sc.logsumexp(r, b=b) for r in A], rtol=1e-14)
    batched_b = xform.vmap(lambda b: xs.logsumexp(A, axis=1, b=b))(onp.stack([b, 2 * b]))
    onp.testing.assert_allclose(batched_b[1], sc.logsumexp(A, axis=1, b=2 * b), rtol=1e-14)
    h = xform.hessian(lambda a: xs.logsumexp(a, b=b))(A[0])
    eps = 1e-5
    g = xform.grad(lambda a: xs.logsumexp(a, b=b))
    fd = onp.stack([(g(A[0] + eps * e) - g(A[0] - eps * e)) / (2 * eps) for e in onp.eye(4)])
    onp.testing.assert_allclose(h, fd, rtol=1e-6, atol=1e-9)


def test_logsumexp_float32() -> None:
    a = A.astype(onp.float32)
    assert xs.logsumexp(a).dtype == onp.float32
    assert xform.grad(lambda a: xs.logsumexp(a, axis=0).sum())(a).dtype == onp.float32
    assert xs.softmax(a).dtype == onp.float32
    b = onp.ones(4, onp.float32)
    assert xs.logsumexp(a, axis=1, b=b).dtype == onp.float32


# ----------------------------------------------------------------------------- stability
def test_expit_tails_have_finite_gradients() -> None:
    x = onp.array([-800.0, -40.0, 0.0, 40.0, 800.0])
    g = xform.vmap(xform.grad(xs.expit))(x)
    onp.testing.assert_allclose(g, sc.expit(x) * sc.expit(-x), rtol=1e-13, atol=0)
    g = xform.vmap(xform.grad(xs.log_expit))(x)
    onp.testing.assert_allclose(g, sc.expit(-x), rtol=1e-13)
    h = xform.vmap(xform.grad(xform.grad(xs.log_expit)))(x)
    assert onp.all(onp.isfinite(h))
    g = xform.vmap(xform.grad(xs.log_ndtr))(onp.array([-40.0, -5.0, 0.0, 10.0]))
    assert onp.all(onp.isfinite(g)) and abs(g[0] - 40.0) < 0.1


def test_xlogy_at_zero() -> None:
    with onp.errstate(divide="ignore"):
        gx, gy = xform.grad(xs.xlogy, argnums=(0, 1))(0.0, 0.0)
    assert gy == 0.0                  # 0 * log(y) is identically 0 in y
    assert gx == -onp.inf             # log(0): the true (infinite) derivative in x
    gx, gy = xform.grad(xs.xlogy, argnums=(0, 1))(0.0, 2.0)
    assert gy == 0.0 and onp.isclose(gx, onp.log(2.0))
    assert xform.grad(xform.grad(xs.xlogy, 1), 0)(0.0, 2.0) == 0.5   # d2/dx dy = 1/y
    assert xform.grad(xs.xlog1py, 1)(0.0, -1.0) == 0.0
    assert xs.xlogy(0.0, 0.0) == 0.0 and xs.xlog1py(0.0, -1.0) == 0.0
    # an entropy-style sum with exact zeros keeps a finite gradient in p
    p = onp.array([0.0, 0.3, 0.7])
    g = xform.grad(lambda q: -xnp.sum(xs.xlogy(p, q)))(p + 0.0)
    assert onp.all(onp.isfinite(g[1:])) and g[0] == 0.0


def test_multigammaln_checks_its_domain() -> None:
    with pytest.raises(ValueError, match="not met"):
        xs.multigammaln(1.0, 3)
    onp.testing.assert_allclose(xform.grad(lambda a: xs.multigammaln(a, 2))(3.0),
                                sc.digamma(3.0) + sc.digamma(2.5))


def test_polygamma_derivative_chain() -> None:
    x = 1.7
    onp.testing.assert_allclose(xform.grad(xs.gammaln)(x), sc.digamma(x))
    onp.testing.assert_allclose(xform.grad(xform.grad(xs.gammaln))(x), sc.polygamma(1, x))
    onp.testing.assert_allclose(xform.grad(xform.grad(xform.grad(xs.digamma)))(x),
                                sc.polygamma(3, x), rtol=1e-12)


def test_bessel_derivatives_follow_the_recurrences() -> None:
    x = onp.linspace(0.5, 8.0, 6)
    d = xform.vmap(xform.grad(xs.j0))(x)
    onp.testing.assert_allclose(d, -sc.j1(x), rtol=1e-13)
    d = xform.vmap(xform.grad(lambda x: xs.iv(2.5, x)))(x)
    onp.testing.assert_allclose(d, sc.ivp(2.5, x), rtol=1e-12)
    d = xform.vmap(xform.grad(lambda x: xs.ive(1.5, x)))(-x)
    onp.testing.assert_allclose(d, sc.ivp(1.5, -x) * onp.exp(-x) + sc.iv(1.5, -x) * onp.exp(-x),
                                rtol=1e-12)
    d = xform.vmap(xform.grad(lambda x: xs.yn(3, x)))(x)
    onp.testing.assert_allclose(d, sc.yvp(3, x), rtol=1e-12)


def test_bessel_order_is_not_differentiable() -> None:
    with pytest.raises(NotImplementedError, match="order v"):
        xform.grad(lambda v: xs.iv(v, 1.5))(0.5)
    with pytest.raises(NotImplementedError, match="order v"):
        xform.jvp(lambda v: xs.jv(v, 1.5), (0.5,), (1.0,))
    # an integer order of jn / polygamma is simply a constant
    assert onp.isclose(xform.grad(lambda x: xs.jn(2, x))(1.3), sc.jvp(2, 1.3))


# ----------------------------------------------------------------------------- shape derivatives
def _mp_derivative(f: Callable[[Any], Any], x: float, n: int = 1) -> float:
    mp = pytest.importorskip("mpmath")
    mp.mp.dps = 30
    return float(mp.diff(f, mp.mpf(x), n))


@pytest.mark.parametrize("a,x", [(0.5, 0.2), (2.0, 1.0), (2.0, 5.0), (7.5, 3.0), (30.0, 31.0),
                                 (1.2, 40.0), (150.0, 140.0)])
def test_gammainc_shape_derivative_is_accurate(a: float, x: float) -> None:
    mp = pytest.importorskip("mpmath")
    P = lambda s: mp.gammainc(s, 0, x, regularized=True)  # noqa: E731
    d1 = xform.grad(xs.gammainc)(a, x)
    onp.testing.assert_allclose(d1, _mp_derivative(P, a), rtol=1e-11, atol=1e-300)
    d2 = xform.grad(xform.grad(xs.gammainc))(a, x)
    onp.testing.assert_allclose(d2, _mp_derivative(P, a, 2), rtol=1e-9)
    onp.testing.assert_allclose(xform.grad(xs.gammaincc)(a, x), -d1, rtol=1e-14)


@pytest.mark.parametrize("a,b,x", [(0.5, 0.5, 0.3), (2.0, 3.0, 0.2), (2.0, 3.0, 0.8),
                                   (10.0, 0.7, 0.95), (0.8, 25.0, 0.02), (60.0, 40.0, 0.6)])
def test_betainc_shape_derivatives_are_accurate(a: float, b: float, x: float) -> None:
    mp = pytest.importorskip("mpmath")
    ga, gb = xform.grad(xs.betainc, argnums=(0, 1))(a, b, x)
    da = _mp_derivative(lambda s: mp.betainc(s, b, 0, x, regularized=True), a)
    db = _mp_derivative(lambda s: mp.betainc(a, s, 0, x, regularized=True), b)
    onp.testing.assert_allclose(ga, da, rtol=1e-10)
    onp.testing.assert_allclose(gb, db, rtol=1e-10)
    gca, gcb = xform.grad(xs.betaincc, argnums=(0, 1))(a, b, x)
    onp.testing.assert_allclose([gca, gcb], [-ga, -gb], rtol=1e-14)


def test_incomplete_hessians_are_symmetric_and_match_finite_differences() -> None:
    v = onp.array([1.7, 2.4, 0.35])
    f = lambda v: xs.betainc(v[0], v[1], v[2])  # noqa: E731
    h = xform.hessian(f)(v)
    onp.testing.assert_allclose(h, h.T, rtol=1e-12)
    g = xform.grad(f)
    eps = 1e-5
    fd = onp.stack([(g(v + eps * e) - g(v - eps * e)) / (2 * eps) for e in onp.eye(3)])
    onp.testing.assert_allclose(h, fd, rtol=1e-6, atol=1e-9)
    w = onp.array([2.2, 1.3])
    h = xform.hessian(lambda w: xs.gammainc(w[0], w[1]))(w)
    gg = xform.grad(lambda w: xs.gammainc(w[0], w[1]))
    fd = onp.stack([(gg(w + eps * e) - gg(w - eps * e)) / (2 * eps) for e in onp.eye(2)])
    onp.testing.assert_allclose(h, fd, rtol=1e-6, atol=1e-9)


def test_incomplete_edges() -> None:
    # at x = 0 and x = inf (resp. 1) the functions are constant in the shapes
    assert xform.grad(xs.gammainc)(2.0, 0.0) == 0.0
    assert xform.grad(xs.gammainc)(2.0, onp.inf) == 0.0
    assert xform.grad(xs.betainc, argnums=(0, 1))(2.0, 3.0, 1.0) == (0.0, 0.0)
    # invalid shapes give NaN, as the values do
    assert onp.isnan(xform.grad(xs.gammainc)(-1.0, 1.0))


def test_stdtr_df_derivative() -> None:
    mp = pytest.importorskip("mpmath")

    def cdf(df: Any, t: float) -> Any:
        x = df / (df + t * t)
        tail = mp.betainc(df / 2, mp.mpf(1) / 2, 0, x, regularized=True) / 2
        return tail if t < 0 else 1 - tail

    for t in (-3.0, -0.4, 1e-6, 0.7, 5.0):
        onp.testing.assert_allclose(xform.grad(xs.stdtr)(3.5, t),
                                    _mp_derivative(lambda d: cdf(d, t), 3.5), rtol=1e-9)
    # at t = 0 the value is 1/2 for every df; the mixed derivative is d pdf(0) / d df
    assert xform.grad(xs.stdtr)(3.5, 0.0) == 0.0
    mixed = xform.grad(xform.grad(xs.stdtr, 1), 0)(3.5, 0.0)
    other = xform.grad(xform.grad(xs.stdtr, 0), 1)(3.5, 0.0)
    onp.testing.assert_allclose(mixed, other, rtol=1e-12)


def test_jit_and_make_jaxpr() -> None:
    def f(a: Any, x: Any) -> Any:
        return xnp.sum(xs.gammainc(a, x) * xs.expit(x)) + xs.logsumexp(x)

    a, x = U(0.5, 3, (4,)), U(0.1, 4, (4,))
    onp.testing.assert_allclose(xform.jit(f)(a, x), f(a, x), rtol=1e-14)
    onp.testing.assert_allclose(xform.jit(xform.grad(f, argnums=(0, 1)))(a, x),
                                xform.grad(f, argnums=(0, 1))(a, x), rtol=1e-14)
    assert "gammainc" in str(xform.make_jaxpr(f)(a, x))
