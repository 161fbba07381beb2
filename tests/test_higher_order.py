"""Higher-order derivatives: nested grad against closed forms, every way of mixing
forward and reverse mode, perturbation confusion, long chains, and linearize."""
from __future__ import annotations

import math

import numpy as onp
import pytest

import xform
import xform.numpy as np

from helpers import numerical_grad, numerical_jvp

POINTS = [-1.3, -0.2, 0.4, 1.1]


def fwd(f):
    """The derivative of a scalar function by forward mode: x -> f'(x)."""
    return lambda x: xform.jvp(f, (x,), (1.0,))[1]


# ----------------------------------------------------------------------------- closed forms
def _tanh_derivatives(x):
    # t = tanh x, t' = 1 - t^2 =: s. Then t'' = -2 t s,
    # t''' = (-2 + 6 t^2) s, t'''' = 12 t s^2 + (-2 + 6 t^2)(-2 t s) = 8 t s (2 - 3 t^2).
    t = math.tanh(x)
    s = 1.0 - t * t
    return [s, -2.0 * t * s, (6.0 * t * t - 2.0) * s, 8.0 * t * s * (2.0 - 3.0 * t * t)]


CLOSED_FORMS = {
    "sin": (np.sin, lambda x: [math.cos(x), -math.sin(x), -math.cos(x), math.sin(x)]),
    "exp": (np.exp, lambda x: [math.exp(x)] * 4),
    "tanh": (np.tanh, _tanh_derivatives),
}
NESTINGS = {
    "reverse": [xform.grad] * 4,
    "forward": [fwd] * 4,
    "alternating": [xform.grad, fwd, xform.grad, fwd],
    "forward-inside": [fwd, fwd, xform.grad, xform.grad],
}


@pytest.mark.parametrize("nesting", sorted(NESTINGS))
@pytest.mark.parametrize("name", sorted(CLOSED_FORMS))
def test_derivatives_up_to_fourth_order(name, nesting):
    fn, closed = CLOSED_FORMS[name]
    for x in POINTS:
        d = fn
        for order, (transform, expected) in enumerate(zip(NESTINGS[nesting], closed(x)), 1):
            d = transform(d)
            got = d(x)
            assert onp.isclose(got, expected, rtol=1e-10, atol=1e-12), \
                f"{name}^({order})({x}) by {nesting}: {got} != {expected}"


# ----------------------------------------------------------------------------- Hessians
A = onp.array([[2.0, 0.3, -0.5], [0.1, 1.0, 0.4], [-0.2, 0.6, 3.0]])


def f_vec(x):
    return np.sum(np.sin(x) * x ** 2) + 0.5 * (x @ A @ x) + np.log(1.0 + x @ x)


def hessian_f_vec(x):
    """The Hessian of f_vec, derived by hand."""
    s = 1.0 + x @ x
    diag = -onp.sin(x) * x ** 2 + 4.0 * x * onp.cos(x) + 2.0 * onp.sin(x)
    return (onp.diag(diag) + 0.5 * (A + A.T) + 2.0 * onp.eye(3) / s
            - 4.0 * onp.outer(x, x) / s ** 2)


X0 = onp.array([0.3, -1.2, 0.8])
V0 = onp.array([1.0, 0.5, -2.0])
U0 = onp.array([-0.7, 0.2, 0.9])


def test_forward_over_reverse_is_a_hessian_vector_product():
    _, hv = xform.jvp(xform.grad(f_vec), (X0,), (V0,))
    onp.testing.assert_allclose(hv, hessian_f_vec(X0) @ V0, rtol=1e-10)


def test_reverse_over_forward_is_a_hessian_vector_product():
    hv = xform.grad(lambda x: xform.jvp(f_vec, (x,), (V0,))[1])(X0)
    onp.testing.assert_allclose(hv, hessian_f_vec(X0) @ V0, rtol=1e-10)


def test_reverse_over_reverse_is_a_hessian_vector_product():
    hv = xform.grad(lambda x: np.sum(xform.grad(f_vec)(x) * V0))(X0)
    onp.testing.assert_allclose(hv, hessian_f_vec(X0) @ V0, rtol=1e-10)


def test_forward_over_forward_is_a_hessian_bilinear_form():
    _, uhv = xform.jvp(lambda x: xform.jvp(f_vec, (x,), (V0,))[1], (X0,), (U0,))
    onp.testing.assert_allclose(uhv, U0 @ hessian_f_vec(X0) @ V0, rtol=1e-10)


def test_hessian_vector_product_matches_finite_differences_of_the_gradient():
    hv = xform.jvp(xform.grad(f_vec), (X0,), (V0,))[1]
    onp.testing.assert_allclose(hv, numerical_jvp(xform.grad(f_vec), X0, V0),
                                rtol=1e-6, atol=1e-7)


# ----------------------------------------------------------------------------- third order
def f_xy(x, y):
    return np.sin(x * y) + x ** 3 * y ** 2 + np.exp(x - y)


def test_third_derivative_of_a_function_of_two_variables():
    d_xyx = xform.grad(xform.grad(xform.grad(f_xy, 0), 1), 0)
    d_xy = xform.grad(xform.grad(f_xy, 0), 1)
    for x, y in [(0.7, -0.4), (-1.1, 0.9), (0.2, 1.5)]:
        # by hand: f_xy = cos(xy) - xy sin(xy) + 6 x^2 y - exp(x - y)
        closed = -2 * y * math.sin(x * y) - x * y * y * math.cos(x * y) + 12 * x * y \
            - math.exp(x - y)
        got = d_xyx(x, y)
        assert onp.isclose(got, closed, rtol=1e-10), (x, y, got, closed)
        fd = numerical_grad(lambda v: d_xy(v, y), x)
        assert onp.isclose(got, fd, rtol=1e-6, atol=1e-7), (x, y, got, fd)


def test_third_order_directional_derivative_of_a_vector_function():
    def second(x):  # x -> <u, H(x) w>, by reverse over reverse
        hw = xform.grad(lambda z: np.sum(xform.grad(f_vec)(z) * V0))(x)
        return np.sum(hw * U0)

    third = xform.grad(second)(X0)  # the third-derivative tensor contracted with u, w
    onp.testing.assert_allclose(third, numerical_grad(second, X0), rtol=1e-6, atol=1e-7)
    # f_vec's third derivatives are diagonal except for the log term: check against a
    # finite difference of the hand-derived Hessian as well
    fd_hessian = numerical_grad(lambda x: U0 @ hessian_f_vec(x) @ V0, X0)
    onp.testing.assert_allclose(third, fd_hessian, rtol=1e-6, atol=1e-7)


# ----------------------------------------------------------------------------- no confusion
def test_no_perturbation_confusion_reverse():
    assert xform.grad(lambda x: xform.grad(lambda y: x * y)(1.0))(2.0) == 1.0


def test_no_perturbation_confusion_forward():
    inner = lambda x: xform.jvp(lambda y: x * y, (1.0,), (1.0,))[1]  # noqa: E731
    assert xform.jvp(inner, (2.0,), (1.0,))[1] == 1.0


DERIVATIVES = {"grad": xform.grad, "fwd": fwd}


@pytest.mark.parametrize("outer", sorted(DERIVATIVES))
@pytest.mark.parametrize("inner", sorted(DERIVATIVES))
def test_no_perturbation_confusion_mixed(outer, inner):
    D, d = DERIVATIVES[outer], DERIVATIVES[inner]
    # d/dx [x * d/dy (x + y)] = d/dx [x] = 1; confusing the two perturbations gives 2
    assert D(lambda x: x * d(lambda y: x + y)(1.0))(3.0) == 1.0
    # d/dx [d/dy (x y^2) at y = x] = d/dx [2 x^2] = 4x
    assert onp.isclose(D(lambda x: d(lambda y: x * y ** 2)(x))(3.0), 12.0)
    # the inner function closes over x and is called at a value computed from x
    assert onp.isclose(D(lambda x: d(lambda y: np.sin(x * y))(x * x))(0.5),
                       # g(x) = x cos(x^3), g'(x) = cos(x^3) - 3 x^3 sin(x^3)
                       math.cos(0.125) - 3 * 0.125 * math.sin(0.125), rtol=1e-12)


# ----------------------------------------------------------------------------- long chains
def test_grad_of_a_100k_op_affine_chain():
    a, b, n = 1.0000001, 1e-9, 50_000  # two ops per step

    def chain(x):
        for _ in range(n):
            x = x * a + b
        return x

    g = xform.grad(chain)(0.5)
    assert onp.isclose(g, a ** n, rtol=1e-12)


def test_grad_of_a_100k_op_sin_chain():
    n = 100_000

    def chain(x):
        for _ in range(n):
            x = np.sin(x)
        return x

    x, expected = 0.5, 1.0
    for _ in range(n):
        expected *= math.cos(x)
        x = math.sin(x)
    assert onp.isclose(xform.grad(chain)(0.5), expected, rtol=1e-9)
    assert onp.isclose(xform.jvp(chain, (0.5,), (1.0,))[1], expected, rtol=1e-9)


# ----------------------------------------------------------------------------- linearize
def f_pair(x, y):
    """Two arguments, two outputs, a constant branch and a data-dependent branch."""
    z = np.tanh(x) * y[0] + np.floor(x)
    if np.sum(x) > 0:
        z = z * np.exp(-x)
    return z, np.sum(z * y[1]) + y[0] ** 3


X1 = onp.array([0.3, 1.4, -0.5])
Y1 = [onp.float64(0.8), onp.array([1.0, -2.0, 0.5])]


def test_linearize_matches_jvp():
    calls = []

    def counted(x, y):
        calls.append(1)
        return f_pair(x, y)

    out, jvp_fn = xform.linearize(counted, X1, Y1)
    assert len(calls) == 1
    ref_out = f_pair(X1, Y1)
    for o, r in zip(out, ref_out):
        onp.testing.assert_allclose(o, r, rtol=1e-14)
    rng = onp.random.default_rng(0)
    for _ in range(3):
        tx = rng.standard_normal(3)
        ty = [onp.float64(rng.standard_normal()), rng.standard_normal(3)]
        lin = jvp_fn(tx, ty)
        _, ref = xform.jvp(f_pair, (X1, Y1), (tx, ty))
        for a, b in zip(lin, ref):
            onp.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    assert len(calls) == 1, "linearize must not re-run the function"


def test_linearize_is_linear():
    _, jvp_fn = xform.linearize(f_vec, X0)
    lhs = jvp_fn(2.0 * U0 - 3.0 * V0)
    rhs = 2.0 * jvp_fn(U0) - 3.0 * jvp_fn(V0)
    onp.testing.assert_allclose(lhs, rhs, rtol=1e-12)
    onp.testing.assert_allclose(jvp_fn(V0), xform.jvp(f_vec, (X0,), (V0,))[1], rtol=1e-12)


def test_linearize_inside_grad():
    """The linearized function is differentiable in the point of linearization."""
    def directional(x):
        return xform.linearize(f_vec, x)[1](V0)

    onp.testing.assert_allclose(xform.grad(directional)(X0), hessian_f_vec(X0) @ V0,
                                rtol=1e-10)
