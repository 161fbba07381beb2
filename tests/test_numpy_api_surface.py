"""Ordinary NumPy/SciPy code that xform must accept (issue 11): autograd's
``import xform.numpy.random as npr``, the distributions' ``rvs``, lists and tuples
of traced values where NumPy takes array_like, and the functions users reach for
(``append``, ``r_``, ``c_``, ``copysign``, scalar casts, einsum's sublist form,
SciPy's ``odeint`` signature, ...)."""
from __future__ import annotations

import pickle

import numpy as onp
import pytest
import scipy.stats

import xform
import xform.numpy as np
import xform.numpy.random as npr
import xform.scipy.stats as st
from xform.test_util import check_grads


# ------------------------------------------------------------------ xform.numpy.random
def test_npr_is_a_module_with_numpys_streams() -> None:
    import sys
    assert sys.modules["xform.numpy.random"] is npr and np.random is npr
    npr.seed(3)
    a = npr.randn(4)
    onp.random.seed(3)
    assert onp.array_equal(a, onp.random.randn(4))
    onp.random.seed(5)          # one global state, whichever module seeds it
    b = npr.normal(1.0, 2.0, size=3)
    onp.random.seed(5)
    assert onp.array_equal(b, onp.random.normal(1.0, 2.0, size=3))
    assert onp.array_equal(npr.RandomState(1).randn(2, 3), onp.random.RandomState(1).randn(2, 3))
    assert onp.array_equal(npr.default_rng(2).normal(size=5),
                           onp.random.default_rng(2).normal(size=5))
    assert isinstance(npr.RandomState(0), onp.random.RandomState)
    assert isinstance(npr.default_rng(0), onp.random.Generator)
    # the library's own NumPy is untouched
    assert onp.random.randn is not npr.randn and onp.random.__name__ == "numpy.random"


def test_npr_generators_pickle_and_share_state() -> None:
    rs = npr.RandomState(0)
    rs.randn()
    again = pickle.loads(pickle.dumps(rs))
    assert type(again) is npr.RandomState and again.randn() == rs.randn()
    base = onp.random.default_rng(7)
    wrapped = npr.default_rng(base)        # shares the bit generator, as NumPy's does
    assert wrapped.bit_generator is base.bit_generator
    assert npr.default_rng(wrapped) is wrapped


@pytest.mark.parametrize("call", [
    lambda m: npr.normal(m, 1.0),
    lambda m: npr.RandomState(0).normal(loc=m),
    lambda m: npr.default_rng(0).uniform(0.0, m),
    lambda m: npr.permutation(np.stack([m, m])),
    lambda m: st.norm.rvs(loc=m, random_state=0),
])
def test_draws_with_traced_arguments_say_how_to_reparameterise(call) -> None:
    with pytest.raises(TypeError, match=r"random draws are constants.*standard_normal"):
        xform.grad(call)(1.0)


def test_draws_are_constants_inside_grad() -> None:
    def f(x):
        return np.sum(x * npr.RandomState(0).randn(3))
    assert onp.allclose(xform.grad(f)(onp.ones(3)), onp.random.RandomState(0).randn(3))


# three short programs in autograd's style, each using npr
def test_autograd_style_logistic_regression() -> None:
    rs = npr.RandomState(0)
    inputs = rs.randn(40, 3)
    true_w = onp.array([1.5, -2.0, 0.5])
    targets = (inputs @ true_w + 0.1 * rs.randn(40) > 0).astype(float)

    def sigmoid(x):
        return 0.5 * (np.tanh(x / 2.0) + 1.0)

    def training_loss(weights):
        preds = sigmoid(np.dot(inputs, weights))
        label_probabilities = preds * targets + (1 - preds) * (1 - targets)
        return -np.sum(np.log(label_probabilities))

    weights = npr.RandomState(1).randn(3) * 0.01
    check_grads(training_loss, (weights,), order=2)
    start = training_loss(weights)
    g = xform.grad(training_loss)
    for _ in range(100):
        weights = weights - 0.01 * g(weights)
    assert training_loss(weights) < 0.3 * start
    assert onp.sign(weights).tolist() == onp.sign(true_w).tolist()


def test_autograd_style_black_box_variational_inference() -> None:
    """Reparameterised ELBO: samples from npr, transformed by traced parameters."""
    def log_density(x):                        # an unnormalised 2-D Gaussian
        return -0.5 * np.sum(((x - onp.array([1.0, -1.0])) / onp.array([0.5, 2.0])) ** 2,
                             axis=1)

    def gaussian_entropy(log_std):
        return 0.5 * log_std.shape[0] * (1.0 + onp.log(2 * onp.pi)) + np.sum(log_std)

    def variational_objective(params, t):
        mean, log_std = params[:2], params[2:]
        samples = npr.RandomState(t).randn(200, 2) * np.exp(log_std) + mean
        return -(gaussian_entropy(log_std) + np.mean(log_density(samples)))

    params = onp.zeros(4)
    check_grads(lambda p: variational_objective(p, 0), (params,), order=1)
    g = xform.grad(variational_objective)
    for t in range(300):
        params = params - 0.05 * g(params, t)
    assert onp.allclose(params[:2], [1.0, -1.0], atol=0.15)
    assert onp.allclose(onp.exp(params[2:]), [0.5, 2.0], rtol=0.15)


def test_autograd_style_neural_net_with_seeded_init() -> None:
    def init_random_params(scale, layer_sizes, rs=npr.RandomState(0)):
        return [(scale * rs.randn(m, n), scale * rs.randn(n))
                for m, n in zip(layer_sizes[:-1], layer_sizes[1:])]

    def predict(params, x):
        for w, b in params:
            x = np.tanh(np.dot(x, w) + b)
        return x

    npr.seed(0)
    x = npr.uniform(-1, 1, size=(30, 1))
    y = onp.sin(3 * x)

    def loss(params):
        return np.mean((predict(params, x) - y) ** 2)

    params = init_random_params(0.5, [1, 8, 1])
    check_grads(loss, (params,), order=1)
    g = xform.grad(loss)
    start = loss(params)
    for _ in range(200):
        params = [(w - 0.5 * gw, b - 0.5 * gb) for (w, b), (gw, gb) in zip(params, g(params))]
    assert loss(params) < 0.5 * start


# ------------------------------------------------------------------ scipy.stats rvs
@pytest.mark.parametrize("name,args", [
    ("norm", (0.5, 2.0)), ("t", (3.0, 1.0)), ("beta", (2.0, 3.0)), ("gamma", (2.0,)),
    ("chi2", (4.0,)), ("laplace", ()), ("cauchy", ()), ("logistic", ()), ("expon", ()),
    ("uniform", (1.0, 2.0)), ("poisson", (3.0,)),
])
def test_rvs_is_scipys_sampler(name: str, args: tuple) -> None:
    ours = getattr(st, name)
    ref = getattr(scipy.stats, name)
    assert onp.array_equal(ours.rvs(*args, size=(2, 3), random_state=4),
                           ref.rvs(*args, size=(2, 3), random_state=4))
    assert onp.array_equal(ours(*args).rvs(size=5, random_state=npr.RandomState(1)),
                           ref(*args).rvs(size=5, random_state=onp.random.RandomState(1)))


def test_multivariate_rvs() -> None:
    mean, cov = [0.0, 1.0], [[1.0, 0.3], [0.3, 2.0]]
    assert onp.array_equal(st.multivariate_normal.rvs(mean, cov, size=3, random_state=0),
                           scipy.stats.multivariate_normal.rvs(mean, cov, size=3,
                                                               random_state=0))
    assert onp.array_equal(st.multivariate_normal(mean, cov).rvs(size=2, random_state=1),
                           scipy.stats.multivariate_normal(mean, cov).rvs(size=2,
                                                                          random_state=1))
    alpha = [1.0, 2.0, 3.0]
    assert onp.array_equal(st.dirichlet.rvs(alpha, size=2, random_state=0),
                           scipy.stats.dirichlet.rvs(alpha, size=2, random_state=0))
    assert onp.array_equal(st.dirichlet(alpha).rvs(size=2, random_state=0),
                           scipy.stats.dirichlet(alpha).rvs(size=2, random_state=0))
