"""The rest of the NumPy namespace: complex parts, sinc, NaN-aware reductions,
sorting and quantiles, averages and covariances, splitting/padding/diagonals,
convolution, interpolation and finite differences.

Most cases are written once as ``f(m, *args)`` and run with ``m = numpy`` for the
reference and ``m = xform.numpy`` under grad, jvp and vmap. Complex derivatives
are pinned by small examples worked out by hand in JAX's convention: the gradient
of a real-valued ``f(x + iy)`` is ``df/dx - i df/dy``, and a holomorphic ``f``
pulls a cotangent back to ``ct * f'(z)`` (no conjugation).
"""
from __future__ import annotations

import math

import numpy as onp
import pytest

import xform
import xform.numpy as np
from xform.core.trace import Tracer

from helpers import numerical_grad

_rng = onp.random.default_rng(20240607)


def _r(*shape):
    return _rng.normal(size=shape)


def _sorted(*shape):
    return onp.sort(_r(*shape), axis=-1)


def _with_nans(*shape):
    x = _r(*shape)
    x.reshape(-1)[[1, 4]] = onp.nan
    return x


def _leaves(out):
    return list(out) if isinstance(out, (list, tuple)) else [out]


def case(name, f, *args, diff=None, vmap=True, rtol=1e-6, atol=1e-7, marks=()):
    """A table row: ``f(m, *args)``. ``diff``: positions differentiated (default all);
    ``vmap``: whether to also check vmap over the first differentiated argument."""
    return pytest.param(f, args, diff, vmap, rtol, atol, id=name, marks=marks)


# NumPy 2 deprecates cross products of 2-vectors (the reference warns; xform does not)
_OLD_CROSS = pytest.mark.filterwarnings("ignore:Arrays of 2-dimensional:DeprecationWarning")


def _weights(expected):
    return [onp.random.default_rng(7 + k).normal(size=onp.shape(e))
            for k, e in enumerate(_leaves(expected))]


def _loss(m, f, weights):
    def loss(*a):
        total = 0.0
        for o, w in zip(_leaves(f(m, *a)), weights):
            total = total + m.sum(m.where(m.isnan(o), 0.0, o) * w)
        return total
    return loss


CASES = [
    # ------------------------------------------------------------- elementwise
    case("sinc", lambda m, x: m.sinc(x), _r(3, 4)),
    case("sinc_wide", lambda m, x: m.sinc(x), onp.linspace(-3.3, 3.1, 9)),
    case("float_power", lambda m, x, y: m.float_power(x, y), onp.abs(_r(3, 4)) + 0.5, _r(4)),
    case("nan_to_num", lambda m, x: m.nan_to_num(x, nan=1.5, posinf=5.0, neginf=-5.0),
         onp.array([1.0, onp.nan, onp.inf, -onp.inf, -2.0])),
    case("real_imag_conj_of_real",
         lambda m, x: m.real(x) + 2 * m.imag(x) + 3 * m.conj(x) + m.conjugate(x), _r(3)),
    case("angle_of_real", lambda m, x: m.angle(x, deg=True), _r(4)),
    # ------------------------------------------------------------- sorting, quantiles
    case("sort_axis0", lambda m, x: m.sort(x, axis=0), _r(3, 4)),
    case("sort_flat", lambda m, x: m.sort(x, axis=None), _r(3, 4)),
    case("partition", lambda m, x: m.sort(m.partition(x, 2, axis=1)[:, 2:3]), _r(3, 5)),
    case("partition_kths", lambda m, x: m.partition(x, (0, 3), axis=0)[[0, 3]], _r(5, 2)),
    case("median_odd", lambda m, x: m.median(x, axis=1), _r(3, 5)),
    case("median_even_keepdims", lambda m, x: m.median(x, axis=0, keepdims=True), _r(4, 3)),
    case("median_all", lambda m, x: m.median(x), _r(3, 4)),
    case("quantile", lambda m, x: m.quantile(x, [0.1, 0.5, 0.93], axis=(0, 2), keepdims=True),
         _r(3, 2, 4)),
    case("quantile_scalar_q", lambda m, x: m.quantile(x, 0.3, axis=1), _r(2, 7)),
    *[case(f"quantile_{method}",
           lambda m, x, method=method: m.quantile(x, onp.linspace(0.03, 0.97, 7), axis=1,
                                                  method=method), _r(2, 6))
      for method in ("lower", "higher", "nearest", "midpoint", "inverted_cdf",
                     "averaged_inverted_cdf", "closest_observation",
                     "interpolated_inverted_cdf", "hazen", "weibull", "median_unbiased",
                     "normal_unbiased")],
    case("quantile_in_q", lambda m, x, q: m.quantile(x, q, axis=0),
         _r(6, 2), onp.array([0.15, 0.62])),
    case("percentile", lambda m, x: m.percentile(x, [20.0, 75.0], axis=0), _r(5, 3)),
    case("nanmedian", lambda m, x: m.nanmedian(x, axis=1), _with_nans(3, 5)),
    case("nanquantile", lambda m, x: m.nanquantile(x, [0.25, 0.8], axis=0), _with_nans(5, 3)),
    case("nanpercentile", lambda m, x: m.nanpercentile(x, 40.0), _with_nans(4, 3)),
    # ------------------------------------------------------------- averages and NaNs
    case("average_weights", lambda m, x, w: m.average(x, axis=1, weights=w),
         _r(3, 4), onp.abs(_r(4)) + 0.1),
    case("average_returned", lambda m, x, w: m.average(x, axis=(0, 1), weights=w,
                                                       returned=True),
         _r(3, 4, 2), onp.abs(_r(3, 4)) + 0.1),
    case("average_full_weights", lambda m, x, w: m.average(x, weights=w, keepdims=True),
         _r(3, 4), onp.abs(_r(3, 4)) + 0.1),
    case("average_plain", lambda m, x: m.average(x, axis=0), _r(3, 4)),
    case("nansum", lambda m, x: m.nansum(x, axis=0), _with_nans(3, 4)),
    case("nanmean", lambda m, x: m.nanmean(x, axis=1, keepdims=True), _with_nans(3, 4)),
    case("nanvar", lambda m, x: m.nanvar(x, axis=0, ddof=1), _with_nans(4, 3)),
    case("nanstd", lambda m, x: m.nanstd(x), _with_nans(4, 3)),
    case("nanmax", lambda m, x: m.nanmax(x, axis=1), _with_nans(3, 4)),
    case("nanmin", lambda m, x: m.nanmin(x, axis=0), _with_nans(3, 4)),
    case("nanprod", lambda m, x: m.nanprod(x, axis=1), _with_nans(3, 4)),
    case("cov", lambda m, x: m.cov(x), _r(3, 5)),
    case("cov_options", lambda m, x, y: m.cov(x, y, rowvar=False, bias=True), _r(5, 2), _r(5)),
    case("cov_weights", lambda m, x, w: m.cov(x, ddof=2, fweights=[1, 2, 1, 3, 1], aweights=w),
         _r(2, 5), onp.abs(_r(5)) + 0.5),
    case("cov_1d", lambda m, x: m.cov(x), _r(6)),
    case("corrcoef", lambda m, x: m.corrcoef(x), _r(3, 6)),
    case("corrcoef_pair", lambda m, x, y: m.corrcoef(x, y), _r(6), _r(6)),
    case("diff", lambda m, x: m.diff(x, 2, axis=0), _r(5, 3)),
    case("diff_edges", lambda m, x, p: m.diff(x, prepend=p, append=0.5), _r(3, 4), _r(3, 1)),
    case("trace", lambda m, x: m.trace(x, 1, axis1=2, axis2=0), _r(3, 2, 4)),
    # ------------------------------------------------------------- shape and indexing
    case("rollaxis", lambda m, x: m.rollaxis(x, 2, 1), _r(2, 3, 4)),
    case("atleast_3d", lambda m, x, y: m.atleast_3d(x, y), _r(3), _r(2, 3)),
    case("dstack", lambda m, x, y: m.dstack([x, y]), _r(3, 2), _r(3, 2)),
    case("array_split", lambda m, x: m.array_split(x, 3, axis=1), _r(2, 7)),
    case("split_indices", lambda m, x: m.split(x, [1, 3, 9]), _r(5, 2)),
    case("hsplit", lambda m, x: m.hsplit(x, 2), _r(2, 4)),
    case("vsplit", lambda m, x: m.vsplit(x, [1]), _r(3, 2)),
    case("dsplit", lambda m, x: m.dsplit(x, 2), _r(2, 1, 4)),
    case("pad_constant", lambda m, x: m.pad(x, ((1, 2), (0, 3)),
                                            constant_values=((1.0, 2.0), (3.0, 4.0))), _r(2, 3)),
    case("pad_traced_value", lambda m, x, c: m.pad(x, 2, constant_values=c), _r(2, 3),
         onp.float64(0.7), vmap=False),
    *[case(f"pad_{mode}", lambda m, x, mode=mode: m.pad(x, ((1, 7), (3, 0)), mode=mode),
           _r(3, 4)) for mode in ("edge", "reflect", "symmetric", "wrap")],
    *[case(f"rot90_{k}", lambda m, x, k=k: m.rot90(x, k, axes=(2, 0)), _r(2, 3, 4))
      for k in (-1, 1, 2, 3)],
    case("fliplr_flipud", lambda m, x: m.fliplr(m.flipud(x)) * x, _r(3, 4)),
    case("diag_build", lambda m, v: m.diag(v, -2), _r(3)),
    case("diag_extract", lambda m, x: m.diag(x, 1), _r(3, 4)),
    case("diagonal", lambda m, x: m.diagonal(x, -1, axis1=2, axis2=1), _r(2, 3, 4)),
    case("diagflat", lambda m, x: m.diagflat(x, 1), _r(2, 2)),
    case("tril_triu", lambda m, x: m.tril(x, 1) - 2 * m.triu(x, -1), _r(2, 3, 4)),
    case("kron", lambda m, a, b: m.kron(a, b), _r(2, 3), _r(3, 1, 2)),
    case("kron_scalar", lambda m, a, b: m.kron(a, b), onp.float64(1.5), _r(2)),
    case("cross3", lambda m, a, b: m.cross(a, b), _r(4, 3), _r(3)),
    case("cross_axes", lambda m, a, b: m.cross(a, b, axisa=0, axisb=1, axisc=0),
         _r(3, 2), _r(2, 3)),
    case("cross_2_3", lambda m, a, b: m.cross(a, b), _r(2), _r(3), marks=_OLD_CROSS),
    case("cross_2d", lambda m, a, b: m.cross(a, b), _r(4, 2), _r(4, 2), marks=_OLD_CROSS),
    case("take_along_axis", lambda m, x: m.take_along_axis(x, onp.array([[2, 0], [1, 1]]),
                                                           axis=1), _r(2, 3)),
    case("select", lambda m, x, y: m.select([x > 0.5, x < -0.5], [x * y, y], default=-x),
         _r(3, 4), _r(4)),
    # ------------------------------------------------------------- signal
    *[case(f"convolve_{mode}_{n}_{k}", lambda m, a, v, mode=mode: m.convolve(a, v, mode),
           _r(n), _r(k)) for mode in ("full", "same", "valid") for n, k in ((5, 3), (2, 6))],
    *[case(f"correlate_{mode}_{n}_{k}", lambda m, a, v, mode=mode: m.correlate(a, v, mode),
           _r(n), _r(k)) for mode in ("full", "same", "valid") for n, k in ((6, 3), (2, 5))],
    case("interp", lambda m, x, fp: m.interp(x, [-1.0, -0.2, 0.5, 1.3], fp),
         onp.array([-1.7, -0.9, 0.1, 0.6, 1.2, 2.0]), _r(4)),
    case("interp_left_right", lambda m, x, fp: m.interp(x, [0.0, 1.0, 2.0], fp, left=-3.0,
                                                         right=fp[0]),
         onp.array([-0.5, 0.3, 1.7, 2.5]), _r(3)),
    case("interp_in_xp", lambda m, x, xp: m.interp(x, xp, [1.0, -2.0, 0.5]),
         onp.array([0.2, 0.9, 1.6]), onp.array([0.0, 0.7, 2.0])),
    case("interp_period", lambda m, x, fp: m.interp(x, [10.0, 40.0, 200.0, 300.0], fp,
                                                     period=360.0),
         onp.array([-170.0, 25.0, 100.0, 330.0, 410.0]), _r(4)),
    case("polyval", lambda m, p, x: m.polyval(p, x), _r(4), _r(3, 2)),
    case("trapezoid_x", lambda m, y, x: m.trapezoid(y, x, axis=0),
         _r(4, 3), onp.array([0.0, 0.3, 1.0, 1.2])),
    case("trapezoid_dx", lambda m, y: m.trapezoid(y, dx=0.25), _r(2, 5)),
    case("gradient_uniform", lambda m, f: m.gradient(f, 0.5), _r(4, 5)),
    case("gradient_coords", lambda m, f: m.gradient(f, [0.0, 0.5, 0.7, 1.5], axis=0,
                                                    edge_order=2), _r(4, 3)),
    case("gradient_mixed", lambda m, f: m.gradient(f, 2.0, onp.array([0.0, 1.0, 3.0]),
                                                   edge_order=1), _r(4, 3)),
    case("gradient_1d_order2", lambda m, f: m.gradient(f, edge_order=2), _r(6)),
]


def _quiet(fn, *args):
    with onp.errstate(all="ignore"):
        return fn(*args)


def _call_np(f, args):
    return _quiet(f, onp, *args)


@pytest.mark.parametrize("f, args, diff, vmap, rtol, atol", CASES)
def test_against_numpy(f, args, diff, vmap, rtol, atol):
    """Values equal NumPy's; gradients and tangents match central differences;
    vmap equals a loop."""
    expected = _call_np(f, args)
    got = f(np, *args)
    assert len(_leaves(got)) == len(_leaves(expected))
    for g, e in zip(_leaves(got), _leaves(expected)):
        assert onp.shape(g) == onp.shape(e)
        assert onp.result_type(g) == onp.result_type(e), (onp.result_type(g), onp.result_type(e))
        onp.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-13)

    diff = tuple(range(len(args))) if diff is None else diff
    weights = _weights(expected)
    grads = xform.grad(_loss(np, f, weights), argnums=diff)(*args)
    for i, g in zip(diff, grads):
        rest = args[:i] + args[i + 1:]
        fd = numerical_grad(lambda *a: _quiet(_loss(onp, f, weights), *a), args[i],
                            argnum=i, args=rest)
        onp.testing.assert_allclose(g, fd, rtol=rtol, atol=atol,
                                    err_msg=f"gradient w.r.t. argument {i}")

    tangents = [onp.zeros_like(onp.asarray(a)) for a in args]
    for i in diff:
        tangents[i] = onp.random.default_rng(11 + i).normal(size=onp.shape(args[i]))
    _, t_out = xform.jvp(lambda *a: f(np, *a), tuple(args), tuple(tangents))
    eps = 1e-6
    plus = _call_np(f, [a + eps * t for a, t in zip(args, tangents)])
    minus = _call_np(f, [a - eps * t for a, t in zip(args, tangents)])
    for t, p, m_ in zip(_leaves(t_out), _leaves(plus), _leaves(minus)):
        fd = onp.nan_to_num((onp.asarray(p) - onp.asarray(m_)) / (2 * eps))
        onp.testing.assert_allclose(onp.nan_to_num(t), fd, rtol=rtol, atol=atol)

    if vmap:
        # batched: the first differentiated argument alone, then all of them together
        for batched in ({diff[0]}, set(diff)):
            members = []
            for k in range(3):
                noise = onp.random.default_rng(k)
                members.append([a + 0.01 * k * noise.normal(size=onp.shape(a)) if i in batched
                                else a for i, a in enumerate(args)])
            order = sorted(batched)

            def f_batched(*vals, order=order):
                full = list(args)
                for i, v in zip(order, vals):
                    full[i] = v
                return f(np, *full)

            out = xform.vmap(f_batched)(*[onp.stack([m_[i] for m_ in members]) for i in order])
            for k, member in enumerate(members):
                for o, e in zip(_leaves(out), _leaves(_call_np(f, member))):
                    onp.testing.assert_allclose(onp.asarray(o)[k], e, rtol=1e-12, atol=1e-12)


# =============================================================================
# Jacobians through both modes agree
@pytest.mark.parametrize("f, x", [
    (lambda x: np.sort(x, axis=0), _r(3, 2)),
    (lambda x: np.quantile(x, [0.2, 0.9]), _r(5)),
    (lambda x: np.convolve(x, np.sin(x[:3]), "same"), _r(5)),
    (lambda x: np.pad(x, (2, 1), mode="reflect") * np.sinc(x[0]), _r(4)),
    (lambda x: np.interp(np.linspace(0, 1, 4), np.linspace(0, 1, 5), x), _r(5)),
    (lambda x: np.gradient(x ** 2, edge_order=2), _r(5)),
    (lambda x: np.corrcoef(x.reshape(2, 3)), _r(6)),
])
def test_jacfwd_equals_jacrev(f, x):
    fwd, rev = xform.jacfwd(f)(x), xform.jacrev(f)(x)
    onp.testing.assert_allclose(fwd, rev, rtol=1e-10, atol=1e-12)
    loss = lambda v: float(onp.sum(onp.asarray(f(v))))  # noqa: E731
    onp.testing.assert_allclose(rev.reshape(-1, x.size).sum(0),
                                numerical_grad(loss, x).reshape(-1),
                                rtol=1e-6, atol=1e-7)


# =============================================================================
# second order, both modes, through the composed functions
@pytest.mark.parametrize("f, args", [
    (lambda x, q: np.quantile(x, q, axis=0), (_r(5, 2), onp.array([0.3, 0.55]))),
    (lambda x: np.median(x ** 3, axis=1), (_r(2, 4),)),
    (lambda x, w: np.cov(x, aweights=w, ddof=1), (_r(2, 4), onp.abs(_r(4)) + 0.5)),
    (lambda x: np.corrcoef(x), (_r(2, 5),)),
    (lambda x, xp, fp: np.interp(x, xp, fp), (onp.array([0.2, 1.3]), onp.array([0.0, 1.0, 2.0]),
                                              _r(3))),
    (lambda a, v: np.convolve(a * a, v, "same"), (_r(4), _r(3))),
    (lambda a, v: np.correlate(np.sin(a), v, "full"), (_r(3), _r(4))),
    (lambda x: np.pad(x * x, (1, 3), mode="symmetric"), (_r(3),)),
    (lambda x, t: np.gradient(x ** 2, t, edge_order=2), (_r(5), onp.array([0.0, 0.4, 0.7,
                                                                           1.5, 1.6]))),
    (lambda x: np.sinc(x) * np.float_power(np.abs(x), 1.5), (_r(5),)),
    (lambda x: np.nanvar(x, axis=0) * np.nanmean(x), (_with_nans(3, 2),)),
    (lambda x, w: np.average(x ** 2, axis=0, weights=w), (_r(3, 2), onp.abs(_r(3)) + 0.5)),
    (lambda a, b: np.cross(a * b, b), (_r(2, 3), _r(3))),
    (lambda x: np.trace(np.kron(x, x)) + np.sum(np.rot90(np.triu(x)) * x), (_r(2, 2),)),
    (lambda p, x: np.polyval(p, x) * np.trapezoid(x * p[:3]), (_r(3), _r(3))),
    (lambda x: np.sort(x * x, axis=None)[::2], (_r(2, 3),)),
])
def test_second_order(f, args):
    from xform.test_util import check_grads
    check_grads(f, args, order=2)


# =============================================================================
# derivatives with known closed forms
def test_sinc_derivatives_at_zero_every_order():
    """sinc(x) = sum_n (-1)^n (pi x)^2n / (2n+1)!: its derivatives at 0 are 0 for odd
    orders and (-1)^(k/2) pi^k / (k+1) for even ones."""
    f = np.sinc
    for k in range(1, 5):
        f = xform.grad(f)
        expected = 0.0 if k % 2 else (-1) ** (k // 2) * math.pi ** k / (k + 1)
        onp.testing.assert_allclose(f(0.0), expected, rtol=1e-12, atol=1e-12)
    h = xform.hessian(lambda x: np.sum(np.sinc(x)))(onp.array([0.0, 0.4, 1.0, 2.7]))
    x = onp.array([0.0, 0.4, 1.0, 2.7])
    num = numerical_grad(lambda v: float(xform.grad(lambda u: np.sum(np.sinc(u)))(v) @
                                         onp.ones(4)), x)
    onp.testing.assert_allclose(onp.diag(h), num, rtol=1e-5, atol=1e-6)


def test_sort_derivative_permutes():
    x = onp.array([0.3, -1.0, 2.0, 0.1])
    g = xform.grad(lambda v: np.sort(v) @ onp.array([1.0, 2.0, 3.0, 4.0]))(x)
    onp.testing.assert_array_equal(g, [3.0, 1.0, 4.0, 2.0])  # ranks + 1
    _, t = xform.jvp(np.sort, (x,), (onp.array([10.0, 20.0, 30.0, 40.0]),))
    onp.testing.assert_array_equal(t, [20.0, 40.0, 10.0, 30.0])


def test_quantile_derivative_in_q_is_the_gap():
    a = onp.array([4.0, 1.0, 3.0, 0.0, 2.5])          # sorted: 0 1 2.5 3 4
    g = xform.grad(lambda q: np.quantile(a, q))(0.3)  # index 1.2: between 1 and 2.5
    onp.testing.assert_allclose(g, (2.5 - 1.0) * 4)
    ga = xform.grad(lambda v: np.quantile(v, 0.3))(a)
    onp.testing.assert_allclose(ga, [0.0, 0.8, 0.0, 0.0, 0.2])
    onp.testing.assert_allclose(xform.grad(lambda v: np.median(v))(a), [0, 0, 0, 0, 1.0])


def test_interp_derivatives():
    xp, fp = onp.array([0.0, 1.0, 3.0]), onp.array([2.0, 4.0, 1.0])
    gx = xform.grad(lambda x: np.sum(np.interp(x, xp, fp)))(onp.array([0.5, 2.0, -1.0, 4.0]))
    onp.testing.assert_allclose(gx, [2.0, -1.5, 0.0, 0.0])  # the slopes; flat outside
    gfp = xform.grad(lambda f: np.interp(2.5, xp, f))(fp)
    onp.testing.assert_allclose(gfp, [0.0, 0.25, 0.75])     # the interpolation weights
    assert np.interp(1.5, xp, fp).dtype == onp.float64


def test_convolve_is_bilinear_in_both_arguments():
    a, v = _r(5), _r(3)
    ga, gv = xform.grad(lambda a, v: np.sum(np.convolve(a, v)), argnums=(0, 1))(a, v)
    onp.testing.assert_allclose(ga, onp.full(5, v.sum()))
    onp.testing.assert_allclose(gv, onp.full(3, a.sum()))


def test_float32_stays_float32():
    x = _r(3, 4).astype(onp.float32)
    for f in (np.sinc, lambda v: np.sort(v, axis=0), lambda v: np.median(v, axis=1),
              lambda v: np.quantile(v, 0.4, axis=0), lambda v: np.nanmean(v, axis=0),
              lambda v: np.nanvar(v, axis=1), lambda v: np.pad(v, 1, mode="wrap"),
              lambda v: np.diag(v[0]), lambda v: np.trapezoid(v), np.gradient,
              lambda v: np.convolve(v[0], v[1]), lambda v: np.corrcoef(v, dtype=onp.float32),
              lambda v: np.average(v, axis=0, weights=onp.ones(3, onp.float32))):
        out = f(x)
        for o, e in zip(_leaves(out), _leaves(f(x))):
            assert onp.result_type(o) == onp.float32
        g = xform.grad(lambda v: np.sum(_leaves(f(v))[0]))(x)
        assert g.dtype == onp.float32


# =============================================================================
# complex numbers, JAX's convention
def _grad_real_of_complex(f, z):
    """Gradient of a real-valued function of a complex input (JAX's convention).
    xform.grad only accepts complex inputs with holomorphic=True for now."""
    try:
        return xform.grad(f)(z)
    except TypeError:
        return xform.grad(f, holomorphic=True)(z)


Z = onp.complex128(3 + 4j)


@pytest.mark.parametrize("name, f, z, expected", [
    # f = x: df/dx - i df/dy = 1
    ("real", np.real, Z, 1.0),
    # f = y: 0 - i
    ("imag", np.imag, Z, -1j),
    # f = |z| = sqrt(x^2 + y^2): (x - iy) / |z|
    ("abs", np.abs, Z, (3 - 4j) / 5),
    # f = atan2(y, x) at 1 + i: (-y - ix) / |z|^2
    ("angle", np.angle, onp.complex128(1 + 1j), -0.5 - 0.5j),
    # f = x^2 + y^2: 2x - 2iy = 2 conj(z)
    ("abs2", lambda z: np.real(z * np.conj(z)), Z, 6 - 8j),
    # f = Re(conj(z) w) = x Re(w) + y Im(w): conj(w)
    ("re_conj_w", lambda z: np.real(np.conj(z) * (2 + 1j)), Z, 2 - 1j),
    # f = x y: y - ix
    ("re_times_im", lambda z: np.real(z) * np.imag(z), Z, 4 - 3j),
    # f = |z|^2 through vdot, which conjugates its first argument
    ("vdot", lambda z: np.real(np.vdot(np.stack([z, 2 * z]), np.stack([z, 2 * z]))), Z,
     5 * (6 - 8j)),
])
def test_gradient_of_real_function_of_complex(name, f, z, expected):
    onp.testing.assert_allclose(_grad_real_of_complex(f, z), expected, rtol=1e-12)


def test_holomorphic_gradient_is_not_conjugated():
    z = onp.complex128(0.3 - 1.2j)
    onp.testing.assert_allclose(xform.grad(lambda z: z * z, holomorphic=True)(z), 2 * z)
    onp.testing.assert_allclose(xform.grad(lambda z: np.conj(np.conj(z) ** 3),
                                           holomorphic=True)(z), 3 * z ** 2)


def test_complex_vjp_is_the_unconjugated_transpose():
    z, ct = onp.complex128(0.3 - 1.2j), onp.complex128(2 + 1j)
    _, pull = xform.vjp(lambda z: z ** 3, z)
    onp.testing.assert_allclose(pull(ct)[0], ct * 3 * z ** 2)      # ct * f'(z)
    _, pull = xform.vjp(np.conj, z)
    onp.testing.assert_allclose(pull(ct)[0], onp.conj(ct))          # Re(ct conj(t)) pairing
    _, pull = xform.vjp(lambda z: np.abs(z), Z)
    onp.testing.assert_allclose(pull(2.0)[0], 2.0 * (3 - 4j) / 5)
    _, pull = xform.vjp(np.imag, Z)
    onp.testing.assert_allclose(pull(2.0)[0], -2j)


def test_complex_forward_mode():
    t = onp.complex128(1j)
    for f, expected in [(np.real, 0.0), (np.imag, 1.0), (np.conj, -1j),
                        (np.abs, 0.8),          # Re(conj(z) t) / |z| = Re(4 + 3i) / 5
                        (np.angle, 3 / 25)]:    # (x dy - y dx) / |z|^2 with dy = 1
        out, tan = xform.jvp(f, (Z,), (t,))
        onp.testing.assert_allclose(out, f(onp.asarray(Z)) if f is not np.angle
                                    else onp.angle(Z))
        onp.testing.assert_allclose(tan, expected, rtol=1e-12, atol=1e-15)


def test_real_valued_function_of_real_through_complex_intermediates():
    # cos x = Re(exp(ix)); |(1 + 2i) x| = sqrt(5) |x|
    onp.testing.assert_allclose(xform.grad(lambda x: np.real(np.exp(1j * x)))(0.3),
                                -onp.sin(0.3))
    onp.testing.assert_allclose(xform.grad(lambda x: np.abs(x * (1 + 2j)))(-0.7),
                                -onp.sqrt(5.0))
    onp.testing.assert_allclose(
        xform.grad(lambda x: np.imag(np.real(x * (1 + 1j)) * (2 + 3j)))(0.5), 3.0)


def test_complex_values_match_numpy():
    z = _r(3, 4) + 1j * _r(3, 4)
    w = _r(4) + 1j * _r(4)
    for name, f in [("real", lambda m: m.real(z)), ("imag", lambda m: m.imag(z)),
                    ("conj", lambda m: m.conjugate(z)), ("angle", lambda m: m.angle(z, True)),
                    ("abs", lambda m: m.abs(z)), ("vdot", lambda m: m.vdot(z[0], w)),
                    ("inner", lambda m: m.inner(z, w)), ("sort", lambda m: m.sort(z.real)),
                    ("convolve", lambda m: m.convolve(z[0], w[:2])),
                    ("correlate", lambda m: m.correlate(z[0], w, "full")),
                    ("interp", lambda m: m.interp([0.5, 1.5], [0.0, 1.0, 2.0], w[:3])),
                    ("cov", lambda m: m.cov(z)), ("corrcoef", lambda m: m.corrcoef(z)),
                    ("nan_to_num", lambda m: m.nan_to_num(z * onp.inf)),
                    ("real_if_close", lambda m: m.real_if_close(z.real + 1e-20j))]:
        with onp.errstate(all="ignore"):
            expected = f(onp)
            got = f(np)
        assert onp.result_type(got) == onp.result_type(expected), name
        onp.testing.assert_allclose(got, expected, rtol=1e-12, err_msg=name)
    assert np.real_if_close(z) is z


def test_complex_rules_under_vmap_and_second_order():
    zs = _r(4) + 1j * _r(4)
    out = xform.vmap(lambda z: np.abs(z) + np.angle(z) * np.real(z) - np.imag(z))(zs)
    onp.testing.assert_allclose(out, onp.abs(zs) + onp.angle(zs) * zs.real - zs.imag)
    # d/dx of the gradient of |z|^2 = x^2 + y^2 (re-differentiated through the rules)
    hess = xform.jacfwd(lambda x: _grad_real_of_complex(
        lambda z: np.abs(z) ** 2, x + 2j))(0.5)
    onp.testing.assert_allclose(hess, 2.0)


# =============================================================================
# non-differentiable functions: plain values, zero derivative
def test_nondifferentiable_functions_match_numpy_and_contribute_nothing():
    a = onp.sort(_r(6))
    x = _r(2, 3)
    cases = [
        lambda m, v: m.searchsorted(a, v),
        lambda m, v: m.searchsorted(a[::-1], v, side="right", sorter=onp.arange(6)[::-1]),
        lambda m, v: m.count_nonzero(v > 0, axis=1),
        lambda m, v: m.count_nonzero(m.round(v)),
        lambda m, v: m.isclose(v, v + 1e-9),
        lambda m, v: m.isclose(v, onp.where(v > 0, onp.nan, v), equal_nan=True),
        lambda m, v: m.argpartition(v, 1, axis=1),
        lambda m, v: m.signbit(v),
        lambda m, v: m.isposinf(v / 0.0),
        lambda m, v: m.isneginf(v / 0.0),
        lambda m, v: m.argsort(v, axis=None, kind="stable"),
    ]
    for k, f in enumerate(cases):
        with onp.errstate(all="ignore"):
            expected = f(onp, x)

            def probe(v):
                out = f(np, v)
                assert not isinstance(out, Tracer), k
                onp.testing.assert_array_equal(out, expected)
                return np.sum(v) * 0.0 + np.sum(np.astype(out, float))

            g = xform.grad(probe)(x)
        onp.testing.assert_array_equal(g, onp.zeros_like(x))
    assert np.allclose(x, x + 1e-12) is True and np.allclose(x, x + 1) is False
    onp.testing.assert_array_equal(np.unique(onp.array([3, 1, 3])), [1, 3])
    vals, counts = xform.jvp(lambda v: np.unique(np.round(v), return_counts=True)[1] * 1.0,
                             (onp.array([1.2, 0.9, 2.0]),), (onp.ones(3),))
    onp.testing.assert_array_equal(vals, [2.0, 1.0])
    onp.testing.assert_array_equal(counts, [0.0, 0.0])
    onp.testing.assert_array_equal(np.flatnonzero(x > 0), onp.flatnonzero(x > 0))
    onp.testing.assert_array_equal(np.argwhere(x > 0), onp.argwhere(x > 0))


def test_nondifferentiable_functions_under_vmap():
    rows = onp.sort(_r(3, 5), axis=1)
    v = _r(3, 2)
    for side in ("left", "right"):
        both = xform.vmap(lambda a, b: np.searchsorted(a, b, side=side))(rows, v)
        only_v = xform.vmap(lambda b: np.searchsorted(rows[0], b, side=side))(v)
        for k in range(3):
            onp.testing.assert_array_equal(both[k], onp.searchsorted(rows[k], v[k], side=side))
            onp.testing.assert_array_equal(only_v[k], onp.searchsorted(rows[0], v[k], side=side))
    close = xform.vmap(lambda a: np.isclose(a, 0.0, atol=0.5))(v)
    onp.testing.assert_array_equal(close, onp.isclose(v, 0.0, atol=0.5))
    parts = xform.vmap(lambda a: np.partition(a, 2))(rows[:, ::-1])
    onp.testing.assert_array_equal(parts[:, 2], rows[:, 2])


# =============================================================================
# keyword arguments, methods and dispatch
def test_keyword_arguments_and_errors():
    x = _r(3, 4)
    onp.testing.assert_allclose(np.sort(x, axis=0, kind="stable", stable=None),
                                onp.sort(x, axis=0))
    onp.testing.assert_allclose(np.quantile(x, 0.5, axis=1, interpolation=None,
                                            method="hazen"),
                                onp.quantile(x, 0.5, axis=1, method="hazen"))
    onp.testing.assert_allclose(np.average(x, axis=1, keepdims=True),
                                onp.average(x, axis=1, keepdims=True))
    onp.testing.assert_allclose(np.nansum(x, axis=1, initial=2.0, where=x > 0),
                                onp.nansum(x, axis=1, initial=2.0, where=x > 0))
    onp.testing.assert_allclose(np.nanmean(x, axis=0, where=x > -0.5),
                                onp.nanmean(x, axis=0, where=x > -0.5))
    onp.testing.assert_allclose(np.pad(x, 1, "empty") * 0 + np.pad(x, 1),
                                onp.pad(x, 1))
    with pytest.raises(ValueError, match="equal division"):
        np.split(x, 3, axis=1)
    with pytest.raises(ValueError, match="range"):
        np.quantile(x, 1.5)
    with pytest.raises(NotImplementedError, match="linear_ramp"):
        np.pad(x, 1, mode="linear_ramp")
    with pytest.raises(ValueError, match="mode"):
        np.convolve(x[0], x[1], mode="nope")
    with pytest.raises(ValueError, match="dimension must be 2 or 3"):
        np.cross(x, x)


def test_tracer_methods_and_numpy_dispatch():
    z = _r(3, 3) + 1j * _r(3, 3)
    x = _r(3, 3)

    def with_methods(v):  # ndarray methods on tracers; NumPy functions dispatch to xform
        c = v * (1 + 0.5j)
        return (np.sum(c.real * c.imag) + np.sum(c.conj().imag) + v.diagonal(1).sum()
                + v.trace() + v.sort(axis=1)[:, 0].sum() + onp.sort(v, axis=0)[0].sum()
                + onp.median(v) + onp.real(c).sum() + v.partition(1, axis=0)[1].sum())

    def reference(v):
        c = v * (1 + 0.5j)
        return (onp.sum(c.real * c.imag) + onp.sum(c.conj().imag) + v.diagonal(1).sum()
                + v.trace() + onp.sort(v, axis=1)[:, 0].sum() + onp.sort(v, axis=0)[0].sum()
                + onp.median(v) + onp.real(c).sum() + onp.partition(v, 1, axis=0)[1].sum())

    g = xform.grad(with_methods)(x)
    onp.testing.assert_allclose(g, numerical_grad(reference, x), rtol=1e-6, atol=1e-7)
    out = xform.jvp(lambda v: v.real + v.imag + v.conjugate().real, (z,), (z,))[1]
    onp.testing.assert_allclose(out, z.real + z.imag + z.real)
    idx = xform.jvp(lambda v: v.searchsorted(0.0) * 1.0, (onp.sort(x[0]),), (x[0],))[0]
    assert idx == onp.searchsorted(onp.sort(x[0]), 0.0)
