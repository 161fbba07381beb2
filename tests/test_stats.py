"""``xform.scipy.stats``: values equal SciPy's (inside and outside the support),
gradients match central differences in x, loc, scale and every shape parameter,
vmap equals a loop, float32 stays float32, SciPy's calling conventions work, and
the tails and support boundaries give finite derivatives."""
from __future__ import annotations

from typing import Any

import numpy as onp
import pytest
import scipy.stats as st

import xform
import xform.numpy as xnp
import xform.scipy.stats as xs
from coverage_names import missing_names
from helpers import numerical_grad

RNG = onp.random.default_rng(1)
METHODS = ("pdf", "logpdf", "cdf", "logcdf", "sf", "logsf")

# name, shape parameters, points inside the support (standardized), the support
CONTINUOUS = [
    ("norm", (), (-3.0, 3.0)),
    ("t", (3.5,), (-4.0, 4.0)),
    ("laplace", (), (-3.0, 3.0)),
    ("cauchy", (), (-5.0, 5.0)),
    ("logistic", (), (-4.0, 4.0)),
    ("expon", (), (0.05, 4.0)),
    ("uniform", (), (0.05, 0.95)),
    ("gamma", (2.3,), (0.1, 6.0)),
    ("chi2", (3.4,), (0.1, 8.0)),
    ("beta", (2.2, 1.7), (0.05, 0.95)),
]
IDS = [c[0] for c in CONTINUOUS]
LOC, SCALE = 0.3, 1.7


def _points(lo: float, hi: float, n: int = 6) -> onp.ndarray:
    z = RNG.uniform(lo, hi, n)
    if lo < 0 < hi:  # stay off the kink of laplace at 0
        z = onp.where(onp.abs(z) < 0.05, 0.3, z)
    return LOC + SCALE * z


def test_coverage_names() -> None:
    assert not missing_names("scipy.stats")


@pytest.mark.parametrize("name,shapes,support", CONTINUOUS, ids=IDS)
def test_values_match_scipy(name: str, shapes: tuple, support: tuple) -> None:
    ours, ref = getattr(xs, name), getattr(st, name)
    x = onp.concatenate([_points(*support), LOC + SCALE * onp.array([-1.5, -0.2, 0.0, 1.0, 9.0])])
    for m in METHODS:
        onp.testing.assert_allclose(getattr(ours, m)(x, *shapes, loc=LOC, scale=SCALE),
                                    getattr(ref, m)(x, *shapes, loc=LOC, scale=SCALE),
                                    rtol=1e-12, atol=1e-300, err_msg=m)
    onp.testing.assert_allclose(ours.entropy(*shapes, scale=SCALE),
                                ref.entropy(*shapes, scale=SCALE), rtol=1e-13)
    q = onp.array([0.0, 0.02, 0.3, 0.5, 0.97, 1.0, 1.5])
    for m in ("ppf", "isf"):
        onp.testing.assert_allclose(getattr(ours, m)(q, *shapes, loc=LOC, scale=SCALE),
                                    getattr(ref, m)(q, *shapes, loc=LOC, scale=SCALE),
                                    rtol=1e-12, err_msg=m)


@pytest.mark.parametrize("name,shapes,support", CONTINUOUS, ids=IDS)
def test_gradients_match_finite_differences(name: str, shapes: tuple, support: tuple) -> None:
    """In x, loc, scale and each shape parameter, for every method."""
    dist = getattr(xs, name)
    x = _points(*support)
    params = [*shapes, LOC, SCALE]
    for m in METHODS:
        def f(x: Any, *params: Any) -> Any:
            return xnp.sum(getattr(dist, m)(x, *params))
        all_args = (x, *params)
        grads = xform.grad(f, argnums=tuple(range(len(all_args))))(*all_args)
        for i, g in enumerate(grads):
            fd = numerical_grad(f, all_args[i], argnum=i,
                                args=tuple(a for k, a in enumerate(all_args) if k != i))
            onp.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-8,
                                        err_msg=f"{name}.{m} argument {i}")


@pytest.mark.parametrize("name,shapes,support", CONTINUOUS, ids=IDS)
def test_quantile_gradients(name: str, shapes: tuple, support: tuple) -> None:
    """ppf and isf in q, loc, scale and the shapes (implicit differentiation of the
    CDF for t, gamma, chi2 and beta): ``cdf(ppf(q, p), p) == q`` for all parameters
    p, so its gradient is exactly 1 in q and 0 in every parameter (and likewise
    for ``sf(isf)``); plus a coarse finite-difference check."""
    dist = getattr(xs, name)
    q = onp.array([0.05, 0.3, 0.62, 0.9])
    all_args = (q, *shapes, LOC, SCALE)
    for m, inv in (("ppf", "cdf"), ("isf", "sf")):
        def roundtrip(*a: Any) -> Any:
            return xnp.sum(getattr(dist, inv)(getattr(dist, m)(*a), *a[1:]))
        grads = xform.grad(roundtrip, argnums=tuple(range(len(all_args))))(*all_args)
        onp.testing.assert_allclose(grads[0], onp.ones_like(q), rtol=1e-10)
        for i, g in enumerate(grads[1:]):
            assert abs(g) < 1e-9, f"{name}.{m}: argument {i + 1} gives {g}"

        def f(*a: Any) -> Any:
            return xnp.sum(getattr(dist, m)(*a))
        grads = xform.grad(f, argnums=tuple(range(len(all_args))))(*all_args)
        for i, g in enumerate(grads):
            fd = numerical_grad(f, all_args[i], argnum=i, eps=1e-6,
                                args=tuple(a for k, a in enumerate(all_args) if k != i))
            onp.testing.assert_allclose(g, fd, rtol=1e-4, err_msg=f"{name}.{m} argument {i}")


@pytest.mark.parametrize("name,shapes,support", CONTINUOUS, ids=IDS)
def test_second_order_in_x_and_shapes(name: str, shapes: tuple, support: tuple) -> None:
    dist = getattr(xs, name)
    x0 = float(_points(*support, n=1)[0])
    v = onp.array([x0, *shapes, LOC, SCALE])
    for m in ("logpdf", "cdf", "logsf"):
        f = lambda v, m=m: getattr(dist, m)(v[0], *v[1:])  # noqa: E731
        h = xform.hessian(f)(v)
        g = xform.grad(f)
        eps = 1e-5
        fd = onp.stack([(g(v + eps * e) - g(v - eps * e)) / (2 * eps) for e in onp.eye(len(v))])
        onp.testing.assert_allclose(h, fd, rtol=1e-5, atol=1e-7, err_msg=f"{name}.{m}")


@pytest.mark.parametrize("name,shapes,support", CONTINUOUS, ids=IDS)
def test_vmap_equals_loop(name: str, shapes: tuple, support: tuple) -> None:
    dist = getattr(xs, name)
    xb = onp.stack([_points(*support, n=3) for _ in range(4)])
    out = xform.vmap(lambda x: dist.logcdf(x, *shapes, loc=LOC, scale=SCALE))(xb)
    for j in range(4):
        onp.testing.assert_allclose(out[j], dist.logcdf(xb[j], *shapes, loc=LOC, scale=SCALE),
                                    rtol=1e-14)
    scales = onp.array([0.5, 1.0, 2.5])
    x = _points(*support, n=3)
    out = xform.vmap(lambda s: dist.pdf(x, *shapes, loc=LOC, scale=s))(scales)
    for j, s in enumerate(scales):
        onp.testing.assert_allclose(out[j], dist.pdf(x, *shapes, loc=LOC, scale=s), rtol=1e-14)
    if shapes:
        batch = onp.array([shapes, [1.3 * s for s in shapes]])
        out = xform.vmap(lambda p: dist.sf(x, *[p[i] for i in range(len(shapes))]))(batch)
        for j in range(2):
            onp.testing.assert_allclose(out[j], dist.sf(x, *batch[j]), rtol=1e-13)


@pytest.mark.parametrize("name,shapes,support", CONTINUOUS, ids=IDS)
def test_float32_is_preserved(name: str, shapes: tuple, support: tuple) -> None:
    dist = getattr(xs, name)
    x = _points(*support).astype(onp.float32)
    for m in METHODS:
        assert getattr(dist, m)(x, *shapes, loc=LOC, scale=SCALE).dtype == onp.float32, m
        g = xform.grad(lambda x: xnp.sum(getattr(dist, m)(x, *shapes, loc=LOC, scale=SCALE)))(x)
        assert g.dtype == onp.float32, m


def test_calling_conventions() -> None:
    x = onp.array([0.5, 1.5])
    ref = st.t.logpdf(x, 3.0, 0.2, 1.5)
    onp.testing.assert_allclose(xs.t.logpdf(x, 3.0, 0.2, 1.5), ref)
    onp.testing.assert_allclose(xs.t.logpdf(x, df=3.0, loc=0.2, scale=1.5), ref)
    onp.testing.assert_allclose(xs.t(3.0, loc=0.2, scale=1.5).logpdf(x), ref)
    onp.testing.assert_allclose(xs.norm(1.0, 2.0).cdf(x), st.norm(1.0, 2.0).cdf(x))
    onp.testing.assert_allclose(xs.norm(1.0, 2.0).entropy(), st.norm(1.0, 2.0).entropy())
    onp.testing.assert_allclose(xs.beta.cdf(x / 2, 2, 3), st.beta.cdf(x / 2, 2, 3))  # int shapes
    with pytest.raises(TypeError, match="missing"):
        xs.gamma.pdf(x)
    with pytest.raises(TypeError, match="unexpected keyword"):
        xs.norm.pdf(x, mu=1.0)
    with pytest.raises(TypeError, match="multiple values"):
        xs.t.pdf(x, 3.0, df=3.0)
    # invalid parameters give NaN, as in SciPy
    assert onp.isnan(xs.norm.pdf(1.0, scale=-1.0))
    assert onp.isnan(xs.gamma.cdf(1.0, -2.0))
    with pytest.raises(AttributeError, match="not supported yet"):
        xs.weibull_min  # noqa: B018


def test_tails_and_boundaries_have_finite_gradients() -> None:
    g = xform.grad(xs.norm.logcdf)(-40.0)
    assert onp.isfinite(g) and abs(g - 40.0) < 0.1
    g = xform.grad(xs.norm.logsf)(40.0)
    assert onp.isfinite(g) and abs(g + 40.0) < 0.1
    onp.testing.assert_allclose(xs.t.logcdf(-40.0, 3.0), st.t.logcdf(-40.0, 3.0), rtol=1e-12)
    onp.testing.assert_allclose(xform.grad(xs.logistic.logcdf)(-800.0), 1.0)
    assert xform.grad(xs.logistic.logsf)(-800.0) == 0.0
    # outside the support: constant values, zero (not NaN) derivatives, both modes
    for dist, args, x in [(xs.expon, (), -1.0), (xs.gamma, (2.0,), -1.0),
                          (xs.beta, (2.0, 3.0), 1.5), (xs.uniform, (), 2.0),
                          (xs.chi2, (3.0,), -0.5)]:
        for m in METHODS:
            f = lambda x, m=m: getattr(dist, m)(x, *args)  # noqa: E731
            assert xform.grad(f)(x) == 0.0, (dist, m)
            assert xform.jvp(f, (x,), (1.0,))[1] == 0.0, (dist, m)
    # the gamma shape derivative of the CDF, through gammainc's
    onp.testing.assert_allclose(
        xform.grad(lambda a: xs.gamma.cdf(1.5, a))(2.0),
        numerical_grad(lambda a: st.gamma.cdf(1.5, a), 2.0), rtol=1e-6)


# ----------------------------------------------------------------------------- poisson
K = onp.array([-1.0, 0.0, 1.0, 2.0, 2.5, 4.0, 12.0])


@pytest.mark.parametrize("m", ["pmf", "logpmf", "cdf", "logcdf", "sf", "logsf"])
def test_poisson(m: str) -> None:
    mu = 2.7
    # (logcdf near 1 is log1p(-sf) here, log(cdf) in SciPy: a few ulps apart)
    out = getattr(xs.poisson, m)(K, mu)
    onp.testing.assert_allclose(out, getattr(st.poisson, m)(K, mu), rtol=1e-10, atol=1e-300)
    onp.testing.assert_allclose(getattr(xs.poisson, m)(K, mu, loc=1),
                                getattr(st.poisson, m)(K, mu, loc=1), rtol=1e-10, atol=1e-300)
    f = lambda mu: xnp.sum(xnp.where(xnp.isfinite(getattr(xs.poisson, m)(K, mu)),  # noqa
                                     getattr(xs.poisson, m)(K, mu), 0.0))
    onp.testing.assert_allclose(xform.grad(f)(mu), numerical_grad(f, mu), rtol=1e-6)
    assert getattr(xs.poisson, m)(K.astype(onp.float32), onp.float32(mu)).dtype == onp.float32
    out = xform.vmap(lambda mu: getattr(xs.poisson, m)(K, mu))(onp.array([0.5, 2.7, 9.0]))
    for j, mu_j in enumerate([0.5, 2.7, 9.0]):
        onp.testing.assert_allclose(out[j], getattr(xs.poisson, m)(K, mu_j), rtol=1e-14)


def test_poisson_edges() -> None:
    # mu = 0: pmf(0) = 1, derivative -1; integer k arrays work
    assert xs.poisson.pmf(0, 0.0) == 1.0
    assert xform.grad(lambda mu: xs.poisson.pmf(0, mu))(0.0) == -1.0
    onp.testing.assert_allclose(xs.poisson.pmf(onp.arange(4), 1.5),
                                st.poisson.pmf(onp.arange(4), 1.5))
    assert xform.grad(lambda mu: xs.poisson.cdf(3, mu))(2.0) < 0
    assert xform.grad(lambda k: xs.poisson.logpmf(k, 2.0))(2.0) == 0.0  # k is discrete


# ----------------------------------------------------------------------------- multivariate
MEAN = onp.array([0.1, -0.4, 0.7])
COV = onp.array([[2.0, 0.3, -0.2], [0.3, 1.0, 0.1], [-0.2, 0.1, 0.5]])
XS = RNG.standard_normal((4, 3))


@pytest.mark.parametrize("cov", [COV, onp.array([2.0, 1.0, 0.5]), 1.7],
                         ids=["full", "diag", "scalar"])
def test_multivariate_normal_values_and_grads(cov: Any) -> None:
    mvn, ref = xs.multivariate_normal, st.multivariate_normal
    onp.testing.assert_allclose(mvn.logpdf(XS, MEAN, cov), ref.logpdf(XS, MEAN, cov), rtol=1e-13)
    onp.testing.assert_allclose(mvn.pdf(XS[0], MEAN, cov), ref.pdf(XS[0], MEAN, cov), rtol=1e-13)
    onp.testing.assert_allclose(mvn.entropy(MEAN, cov), ref.entropy(MEAN, cov), rtol=1e-13)
    onp.testing.assert_allclose(mvn(MEAN, cov).logpdf(XS), ref(MEAN, cov).logpdf(XS), rtol=1e-13)
    f = lambda x, m, c: xnp.sum(mvn.logpdf(x, m, c))  # noqa: E731
    args = (XS, MEAN, onp.asarray(cov))
    grads = xform.grad(f, argnums=(0, 1, 2))(*args)
    for i, g in enumerate(grads):
        fd = numerical_grad(f, args[i], argnum=i,
                            args=tuple(a for k, a in enumerate(args) if k != i))
        onp.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-8, err_msg=f"argument {i}")
    ge = xform.grad(lambda c: mvn.entropy(MEAN, c))(onp.asarray(cov))
    onp.testing.assert_allclose(ge, numerical_grad(lambda c: mvn.entropy(MEAN, c),
                                                   onp.asarray(cov)), rtol=1e-6, atol=1e-9)


def test_multivariate_normal_conventions_and_transforms() -> None:
    mvn, ref = xs.multivariate_normal, st.multivariate_normal
    onp.testing.assert_allclose(mvn.logpdf([1.0, 2.0], 0.0, 2.0), ref.logpdf([1.0, 2.0], 0.0, 2.0))
    onp.testing.assert_allclose(mvn.logpdf(0.4), ref.logpdf(0.4))
    onp.testing.assert_allclose(mvn.logpdf(XS, cov=COV), ref.logpdf(XS, cov=COV))
    # the covariance gradient is the symmetric -(S^-1 - S^-1 d d^T S^-1) / 2
    g = xform.grad(lambda c: mvn.logpdf(XS[0], MEAN, c))(COV)
    S = onp.linalg.inv(COV)
    d = XS[0] - MEAN
    onp.testing.assert_allclose(g, -0.5 * (S - S @ onp.outer(d, d) @ S), rtol=1e-12)
    # vmap over means and over covariances
    means = RNG.standard_normal((5, 3))
    out = xform.vmap(lambda m: mvn.logpdf(XS, m, COV))(means)
    onp.testing.assert_allclose(out, [ref.logpdf(XS, m, COV) for m in means], rtol=1e-13)
    covs = onp.stack([COV, 2 * COV, COV + onp.eye(3)])
    out = xform.vmap(lambda c: mvn.logpdf(XS, MEAN, c))(covs)
    onp.testing.assert_allclose(out, [ref.logpdf(XS, MEAN, c) for c in covs], rtol=1e-13)
    h = xform.hessian(lambda m: mvn.logpdf(XS[0], m, COV))(MEAN)
    onp.testing.assert_allclose(h, -S, rtol=1e-12)
    assert mvn.logpdf(XS.astype(onp.float32), MEAN.astype(onp.float32),
                      COV.astype(onp.float32)).dtype == onp.float32
    with pytest.raises(NotImplementedError, match="allow_singular"):
        mvn.logpdf(XS, MEAN, COV, allow_singular=True)
    with pytest.raises(ValueError, match="dimension"):
        mvn.logpdf(XS[:, :2], MEAN, COV)


ALPHA = onp.array([1.5, 2.0, 3.2])
XD = onp.ascontiguousarray(onp.array([[0.2, 0.3, 0.5], [0.1, 0.6, 0.3]]).T)


def test_dirichlet() -> None:
    d, ref = xs.dirichlet, st.dirichlet
    onp.testing.assert_allclose(d.logpdf(XD, ALPHA), ref.logpdf(XD, ALPHA), rtol=1e-13)
    onp.testing.assert_allclose(d.pdf(XD[:, 0], ALPHA), ref.pdf(XD[:, 0], ALPHA), rtol=1e-13)
    onp.testing.assert_allclose(d.logpdf(XD[:2], ALPHA), ref.logpdf(XD[:2], ALPHA), rtol=1e-13)
    onp.testing.assert_allclose(d.entropy(ALPHA), ref.entropy(ALPHA), rtol=1e-13)
    onp.testing.assert_allclose(d.mean(ALPHA), ref.mean(ALPHA), rtol=1e-13)
    onp.testing.assert_allclose(d.var(ALPHA), ref.var(ALPHA), rtol=1e-13)
    onp.testing.assert_allclose(d(ALPHA).logpdf(XD), ref(ALPHA).logpdf(XD), rtol=1e-13)
    f = lambda a: xnp.sum(d.logpdf(XD, a))  # noqa: E731
    onp.testing.assert_allclose(xform.grad(f)(ALPHA), numerical_grad(f, ALPHA), rtol=1e-6)
    # in x: the free coordinates (the last one is 1 - sum of the others)
    fx = lambda x: xnp.sum(d.logpdf(x, ALPHA))  # noqa: E731
    onp.testing.assert_allclose(xform.grad(fx)(XD[:2]), numerical_grad(fx, XD[:2]), rtol=1e-6)
    fe = lambda a: d.entropy(a)  # noqa: E731
    onp.testing.assert_allclose(xform.grad(fe)(ALPHA), numerical_grad(fe, ALPHA), rtol=1e-6)
    out = xform.vmap(lambda a: d.logpdf(XD, a))(onp.stack([ALPHA, 2 * ALPHA]))
    onp.testing.assert_allclose(out[1], ref.logpdf(XD, 2 * ALPHA), rtol=1e-13)
    with pytest.raises(ValueError, match="sum to 1"):
        d.logpdf(XD * 0.5, ALPHA)


def test_jit_and_frozen_under_transforms() -> None:
    x = RNG.uniform(0.2, 3.0, 5)

    def f(x: Any, a: Any, scale: Any) -> Any:
        return xnp.sum(xs.gamma.logcdf(x, a, scale=scale) + xs.t(a).logpdf(x)
                       + xs.poisson.logpmf(onp.arange(5), a))

    onp.testing.assert_allclose(xform.jit(f)(x, 2.5, 1.3), f(x, 2.5, 1.3), rtol=1e-13)
    g = xform.grad(f, argnums=(0, 1, 2))
    for a, b in zip(xform.jit(g)(x, 2.5, 1.3), g(x, 2.5, 1.3)):
        onp.testing.assert_allclose(a, b, rtol=1e-13)
