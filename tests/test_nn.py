"""xform.nn: the values and derivatives of jax.nn (tests/data/nn_kat.json, made once with
JAX by tests/data/gen_nn_kat.py), stable tails, and the initialisers' draws."""
from __future__ import annotations

import json
import pathlib

import numpy as onp
import pytest

import xform
import xform.numpy as xnp
from xform import nn, random
from xform.nn import initializers
from xform.test_util import check_grads

KAT = json.loads((pathlib.Path(__file__).parent / "data" / "nn_kat.json").read_text())
X, M = onp.array(KAT["x"]), onp.array(KAT["m"])
ACTIVATIONS = {
    "relu": nn.relu, "relu6": nn.relu6, "leaky_relu": nn.leaky_relu, "elu": nn.elu,
    "celu": nn.celu, "selu": nn.selu, "gelu_tanh": nn.gelu,
    "gelu_exact": lambda x: nn.gelu(x, approximate=False), "silu": nn.silu,
    "softplus": nn.softplus, "sigmoid": nn.sigmoid, "log_sigmoid": nn.log_sigmoid,
}
ROWS = {"softmax": nn.softmax, "log_softmax": nn.log_softmax,
        "softmax_axis0": lambda m: nn.softmax(m, axis=0),
        "logsumexp": lambda m: nn.logsumexp(m, axis=-1), "standardize": nn.standardize}


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_values_and_derivatives_match_jax(name: str) -> None:
    f = ACTIVATIONS[name]
    onp.testing.assert_allclose(f(X), KAT["values"][name], rtol=1e-14, atol=1e-15)
    grads = xform.vmap(xform.grad(f))(X)
    onp.testing.assert_allclose(grads, KAT["grads"][name], rtol=1e-13, atol=1e-14)
    assert onp.all(onp.isfinite(f(X))) and onp.all(onp.isfinite(grads))
    smooth = onp.array([-2.3, -0.7, 0.4, 1.9])  # away from the kinks at 0 and 6
    check_grads(f, (smooth,), order=2)
    assert f(X.astype(onp.float32)).dtype == onp.float32


@pytest.mark.parametrize("name", sorted(ROWS))
def test_normalisations_match_jax(name: str) -> None:
    onp.testing.assert_allclose(ROWS[name](M), KAT["rows"][name], rtol=1e-12, atol=1e-12)
    check_grads(ROWS[name], (onp.array([[0.3, -1.2, 2.0], [0.1, 0.5, -0.4]]),), order=2)


def test_kinks_have_jax_derivatives() -> None:
    assert xform.grad(nn.relu)(0.0) == 0.0 and xform.grad(nn.relu)(1e-9) == 1.0
    assert xform.grad(nn.relu6)(6.0) == 0.0 and xform.grad(nn.relu6)(0.0) == 0.0
    assert xform.grad(nn.leaky_relu)(-1.0) == 0.01


def test_one_hot() -> None:
    onp.testing.assert_array_equal(nn.one_hot(onp.array([0, 2, 5]), 3),
                                   [[1, 0, 0], [0, 0, 1], [0, 0, 0]])
    assert nn.one_hot(onp.array([[1, 0]]), 4, axis=0).shape == (4, 1, 2)
    assert nn.one_hot(onp.array([1]), 2, dtype=onp.float32).dtype == onp.float32
    onp.testing.assert_array_equal(xform.jit(lambda y: nn.one_hot(y, 3))(onp.array([2, 1])),
                                   [[0, 0, 1], [0, 1, 0]])


@pytest.mark.parametrize("name", sorted(KAT["inits"]))
def test_initializers_match_jax(name: str) -> None:
    init = getattr(initializers, name)()
    exact = "uniform" in name
    tol = dict(rtol=0, atol=0) if exact else dict(rtol=1e-12, atol=1e-14)
    onp.testing.assert_allclose(init(random.PRNGKey(3), (4, 5)), KAT["inits"][name], **tol)
    w32 = init(random.PRNGKey(3), (3, 2, 6), onp.float32)
    assert w32.dtype == onp.float32
    tol32 = dict(rtol=0, atol=0) if exact else dict(rtol=2e-6, atol=1e-6)
    onp.testing.assert_allclose(w32, KAT["inits32"][name], **tol32)


def test_simple_initializers_and_errors() -> None:
    assert initializers.zeros(None, (2, 3)).sum() == 0
    assert initializers.ones(None, (2,), onp.float32).dtype == onp.float32
    with pytest.raises(ValueError, match="initializers: cannot compute the fan-in"):
        initializers.he_normal()(random.PRNGKey(0), (3,))
    with pytest.raises(ValueError, match="mode must be"):
        initializers.variance_scaling(1.0, "fan_sideways", "normal")
    with pytest.raises(TypeError, match="xform.nn.one_hot: num_classes"):
        nn.one_hot(onp.array([1]), 2.0)  # type: ignore[arg-type]
