"""The seed examples: small, complete programs written with ``xform.numpy``.

Each one is what a user would write first; each asserts a number it can be
checked against (finite differences, a hand-derived chain rule, a closed form,
or a training outcome).
"""
from __future__ import annotations

import numpy as onp
import pytest

import xform
import xform.numpy as np
from xform.tree_util import ravel_pytree

from helpers import numerical_grad


# ----------------------------------------------------------------------------- tanh
def tanh(x):
    y = np.exp(-2.0 * x)
    return (1.0 - y) / (1.0 + y)


def test_grad_tanh_matches_finite_differences():
    g = xform.grad(tanh)(1.0)
    assert onp.isclose(g, numerical_grad(tanh, 1.0), rtol=1e-7, atol=1e-9)
    assert onp.isclose(g, 1.0 - onp.tanh(1.0) ** 2, rtol=1e-12)


def test_higher_derivatives_of_tanh():
    d2 = xform.grad(xform.grad(tanh))(1.0)
    d3 = xform.grad(xform.grad(xform.grad(tanh)))(1.0)
    t = onp.tanh(1.0)
    assert onp.isclose(d2, -2 * t * (1 - t ** 2), rtol=1e-10)
    assert onp.isclose(d3, -2 * (1 - t ** 2) ** 2 + 4 * t ** 2 * (1 - t ** 2), rtol=1e-10)
    assert onp.isclose(d2, numerical_grad(xform.grad(tanh), 1.0), rtol=1e-6)


# ----------------------------------------------------------------------------- staged sigmoid
def sigmoid(x):
    return 0.5 * (np.tanh(x / 2.0) + 1.0)


def logistic_loss(w, x, target):
    """Several named stages, each one a node of the graph."""
    z = np.dot(x, w[:2]) + w[2]        # affine
    p = sigmoid(z)                     # probability
    q = p * target + (1.0 - p) * (1.0 - target)   # probability of the label
    nll = -np.log(q)                   # negative log-likelihood
    return np.sum(nll)


def manual_logistic_grad(w, x, target):
    """The same chain rule, stage by stage, written out by hand in NumPy."""
    z = x @ w[:2] + w[2]
    p = 0.5 * (onp.tanh(z / 2.0) + 1.0)
    q = p * target + (1.0 - p) * (1.0 - target)
    d_q = -1.0 / q                     # d nll / d q (the sum passes ones)
    d_p = d_q * (target - (1.0 - target))   # d q / d p = 2 target - 1
    d_z = d_p * 0.5 * (1.0 - onp.tanh(z / 2.0) ** 2) * 0.5  # d sigmoid = sech^2(z/2) / 4
    return onp.concatenate([x.T @ d_z, [d_z.sum()]])


def test_staged_sigmoid_matches_closed_form_sigmoid():
    x = onp.linspace(-4.0, 4.0, 9)
    onp.testing.assert_allclose(sigmoid(x), 1.0 / (1.0 + onp.exp(-x)), rtol=1e-12)
    g = xform.elementwise_grad(sigmoid)(x)
    s = 1.0 / (1.0 + onp.exp(-x))
    onp.testing.assert_allclose(g, s * (1.0 - s), rtol=1e-10)


def test_staged_logistic_gradient_matches_manual_chain_rule():
    rng = onp.random.default_rng(0)
    x = rng.normal(size=(6, 2))
    target = onp.array([1.0, 0.0, 1.0, 1.0, 0.0, 0.0])
    w = onp.array([0.3, -0.7, 0.1])
    g = xform.grad(logistic_loss)(w, x, target)
    expected = manual_logistic_grad(w, x, target)
    onp.testing.assert_allclose(g, expected, rtol=1e-10, atol=1e-12)
    # the hand derivation reduces to the textbook (p - t) x
    p = 1.0 / (1.0 + onp.exp(-(x @ w[:2] + w[2])))
    onp.testing.assert_allclose(expected[:2], x.T @ (p - target), rtol=1e-10)


# ----------------------------------------------------------------------------- Taylor series
def sin_taylor(x, tol=1e-12):
    """sin(x) summed until the next term is negligible: a Python loop whose
    number of iterations depends on the (traced) value of x."""
    total = term = x
    k = 1
    while True:
        term = -term * x * x / ((2 * k) * (2 * k + 1))
        total = total + term
        k += 1
        if np.abs(term) < tol:
            break
    return total


def sin_taylor_for(x, tol=1e-12):
    """The same with a ``for`` loop and ``break``."""
    total = term = x
    for k in range(1, 100):
        term = -term * x * x / ((2 * k) * (2 * k + 1))
        total = total + term
        if np.abs(term) < tol:
            break
    return total


@pytest.mark.parametrize("fn", [sin_taylor, sin_taylor_for])
@pytest.mark.parametrize("x", [0.0, 0.5, -1.3, 2.0, 3.0])
def test_taylor_sin_value_grad_and_second_derivative(fn, x):
    assert onp.isclose(fn(x), onp.sin(x), atol=1e-10)
    assert onp.isclose(xform.grad(fn)(x), onp.cos(x), atol=1e-9)
    assert onp.isclose(xform.grad(xform.grad(fn))(x), -onp.sin(x), atol=1e-8)


def test_taylor_sin_break_depends_on_value():
    """Different inputs take different numbers of iterations (the loop really is
    data-dependent), and both are differentiated correctly."""
    counts = []

    def counting(x):
        total = term = x
        k = 1
        while np.abs(term) >= 1e-12:
            term = -term * x * x / ((2 * k) * (2 * k + 1))
            total = total + term
            k += 1
        counts.append(k)
        return total

    assert onp.isclose(xform.grad(counting)(0.1), onp.cos(0.1))
    assert onp.isclose(xform.grad(counting)(3.0), onp.cos(3.0))
    assert counts[0] < counts[1]


# ----------------------------------------------------------------------------- linear regression
def test_linear_regression_with_dict_params():
    rng = onp.random.default_rng(42)
    n = 200
    x = rng.uniform(-1.0, 1.0, n)
    noise_sd = 0.5
    y = 4.0 * x + 10.0 + noise_sd * rng.normal(size=n)

    def loss(params, x, y):
        pred = params["w"] * x + params["b"]
        return np.mean((pred - y) ** 2)

    params = {"w": 0.0, "b": 0.0}
    grad_loss = xform.grad(loss)
    for _ in range(300):
        g = grad_loss(params, x, y)
        assert set(g) == {"w", "b"}
        params = {k: params[k] - 0.2 * g[k] for k in params}

    # converged to the least-squares fit ...
    slope, intercept = onp.polyfit(x, y, 1)
    assert onp.isclose(params["w"], slope, atol=1e-4)
    assert onp.isclose(params["b"], intercept, atol=1e-4)
    # ... which is the truth up to the noise (standard errors here are ~0.06 and ~0.035)
    assert abs(params["w"] - 4.0) < 0.3
    assert abs(params["b"] - 10.0) < 0.2


# ----------------------------------------------------------------------------- polynomial regression
def features(x, degree):
    return np.stack([x ** k for k in range(degree + 1)], axis=1)


def test_polynomial_regression_gradient_matches_closed_form():
    rng = onp.random.default_rng(1)
    x = rng.uniform(-1.0, 1.0, 50)
    y = 1.0 - 2.0 * x + 0.5 * x ** 3 + 0.05 * rng.normal(size=50)
    X = onp.stack([x ** k for k in range(4)], axis=1)

    def loss(w, x, y):
        r = features(x, 3) @ w - y
        return np.mean(r ** 2)

    w = rng.normal(size=4)
    g = xform.grad(loss)(w, x, y)
    onp.testing.assert_allclose(g, 2.0 / len(x) * X.T @ (X @ w - y), rtol=1e-10)
    onp.testing.assert_allclose(onp.asarray(features(x, 3)), X)

    # gradient descent reaches the least-squares solution
    w_star = onp.linalg.lstsq(X, y, rcond=None)[0]
    w = onp.zeros(4)
    step = 1.0 / onp.linalg.eigvalsh(2.0 / len(x) * X.T @ X).max()
    loss_grad = xform.grad(loss)
    for _ in range(3000):
        w = w - step * loss_grad(w, x, y)
    onp.testing.assert_allclose(w, w_star, atol=2e-3)
    assert loss(w, x, y) < loss(w_star, x, y) + 1e-6


# ----------------------------------------------------------------------------- logistic regression
def test_logistic_regression_training():
    rng = onp.random.default_rng(3)
    n = 100
    X = rng.normal(size=(n, 2))
    true_w, true_b = onp.array([2.0, -1.0]), 0.5
    y = onp.where(X @ true_w + true_b > 0, 1.0, -1.0)   # labels in {-1, +1}, separable

    def loss(params, X, y):
        z = X @ params["w"] + params["b"]
        return np.mean(np.logaddexp(0.0, -y * z))

    def analytic_grad(params):
        z = X @ params["w"] + params["b"]
        s = 1.0 / (1.0 + onp.exp(y * z))          # sigmoid(-y z)
        coef = -y * s / n
        return {"w": X.T @ coef, "b": coef.sum()}

    params = {"w": onp.array([0.1, 0.2]), "b": 0.0}
    g = xform.grad(loss)(params, X, y)
    expected = analytic_grad(params)
    onp.testing.assert_allclose(g["w"], expected["w"], rtol=1e-10)
    assert onp.isclose(g["b"], expected["b"], rtol=1e-10)

    loss_grad = xform.value_and_grad(loss)
    first = None
    for _ in range(200):
        value, g = loss_grad(params, X, y)
        first = value if first is None else first
        params = {k: params[k] - 1.0 * g[k] for k in params}
    accuracy = onp.mean(onp.sign(X @ params["w"] + params["b"]) == y)
    assert accuracy >= 0.97
    assert loss(params, X, y) < 0.5 * first
    # still matches the analytic gradient after training (far from the start point)
    g = xform.grad(loss)(params, X, y)
    onp.testing.assert_allclose(g["w"], analytic_grad(params)["w"], rtol=1e-8, atol=1e-12)


# ----------------------------------------------------------------------------- tanh MLP
def init_mlp(rng, sizes):
    return [(rng.normal(size=(m, n)) / onp.sqrt(m), onp.zeros(n))
            for m, n in zip(sizes[:-1], sizes[1:])]


def mlp(params, x):
    h = x
    for W, b in params[:-1]:
        h = np.tanh(h @ W + b)
    W, b = params[-1]
    return h @ W + b


def test_tanh_mlp_fits_sin_with_momentum_on_raveled_params():
    rng = onp.random.default_rng(0)
    x = onp.linspace(-3.0, 3.0, 64).reshape(-1, 1)
    y = onp.sin(x)
    params = init_mlp(rng, [1, 16, 16, 1])
    flat, unravel = ravel_pytree(params)
    assert flat.shape == (1 * 16 + 16 + 16 * 16 + 16 + 16 * 1 + 1,)

    def loss(flat):
        return np.mean((mlp(unravel(flat), x) - y) ** 2)

    # the gradient w.r.t. the flat vector is the raveled gradient w.r.t. the pytree
    g_flat = xform.grad(loss)(flat)
    g_tree = xform.grad(lambda p: np.mean((mlp(p, x) - y) ** 2))(params)
    onp.testing.assert_allclose(g_flat, ravel_pytree(g_tree)[0], rtol=1e-12)
    assert isinstance(g_tree, list) and all(isinstance(t, tuple) for t in g_tree)

    value_and_grad = xform.value_and_grad(loss)
    velocity = onp.zeros_like(flat)
    initial = float(loss(flat))
    for _ in range(300):
        value, g = value_and_grad(flat)
        velocity = 0.9 * velocity - 0.05 * g
        flat = flat + velocity
    final = float(loss(flat))
    assert final < initial / 10.0, (initial, final)
