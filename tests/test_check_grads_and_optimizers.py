"""Tests of ``xform.test_util.check_grads`` and ``xform.optimizers``, and of
xform driving SciPy's optimizers.

``check_grads`` must pass on correct functions (every order, mode, argument
and pytree layout) and fail loudly, naming the argument, mode and order, on a
deliberately wrong derivative rule. The optimizers must find the minimum of a
quadratic over a pytree, honour autograd's ``grad_fn(x, i)`` and
``callback(x, i, g)`` conventions, and be differentiable themselves
(hyperparameter gradients).
"""
from __future__ import annotations

from typing import Any

import numpy as onp
import pytest
import scipy.optimize
from hypothesis import given, settings
from hypothesis import strategies as st

import xform
import xform.numpy as np
from xform import optimizers
from xform.extend import defjvp, defvjp, primitive
from xform.test_util import check_grads
from xform.tree_util import tree_map, tree_structure

FAST = settings(max_examples=10, deadline=None, derandomize=True)
RNG = onp.random.default_rng(0)


# ============================================================================ check_grads passes
class TestCheckGradsPasses:
    @pytest.mark.parametrize("order", [1, 2, 3])
    @pytest.mark.parametrize("modes", [("fwd",), ("rev",), ("fwd", "rev")])
    def test_orders_and_modes(self, order: int, modes: tuple[str, ...]) -> None:
        check_grads(lambda x: np.sin(x) * np.exp(-x * x), (onp.array([0.3, -0.7]),),
                    order=order, modes=modes)

    def test_several_arguments(self) -> None:
        A, x, b = RNG.standard_normal((3, 2)), RNG.standard_normal(2), 0.4
        check_grads(lambda A, x, b: np.tanh(A @ x + b) * b, (A, x, b), order=2)

    def test_pytree_arguments_and_outputs(self) -> None:
        p = {"w": RNG.standard_normal((2, 2)), "b": (RNG.standard_normal(2), 0.3)}

        def f(p: Any, x: Any) -> Any:
            h = np.tanh(p["w"] @ x + p["b"][0]) * p["b"][1]
            return {"h": h, "n": [np.sum(h ** 2)]}

        check_grads(f, (p, RNG.standard_normal(2)), order=2)

    def test_float32_arguments(self) -> None:
        x = onp.array([0.3, 1.2], dtype=onp.float32)
        check_grads(lambda x: np.sum(np.log1p(x * x)), (x,), order=2)

    def test_integer_arguments_are_skipped(self) -> None:
        check_grads(lambda x, n: x ** n, (0.7, 3), order=2)

    @given(st.floats(-2.0, 2.0), st.floats(0.5, 2.0))
    @FAST
    def test_random_points(self, x: float, y: float) -> None:
        check_grads(lambda x, y: np.sin(x * y) / (1.0 + y * y) + np.log(y), (x, y), order=2)

    def test_rejects_unknown_mode(self) -> None:
        with pytest.raises(ValueError, match="modes"):
            check_grads(np.sin, (0.3,), modes=("backward",))


# ============================================================================ check_grads fails
@primitive
def sin_bad_vjp(x: Any) -> Any:
    return onp.sin(x)


defjvp(sin_bad_vjp, lambda g, ans, x: g * np.cos(x))
defvjp(sin_bad_vjp, lambda ans, x: lambda g: g * np.cos(x) * 1.5)  # wrong


@primitive
def sin_bad_jvp(x: Any) -> Any:
    return onp.sin(x)


defjvp(sin_bad_jvp, lambda g, ans, x: -g * np.cos(x))  # wrong sign
defvjp(sin_bad_jvp, lambda ans, x: lambda g: g * np.cos(x))


# a chain of primitives whose first derivative is right but whose derivative's
# derivative (the rule of the rule) is wrong: only order 2 can notice
@primitive
def cos_wrong(x: Any) -> Any:
    return onp.cos(x)


defjvp(cos_wrong, lambda g, ans, x: g * np.sin(x))  # should be -sin
defvjp(cos_wrong, lambda ans, x: lambda g: g * np.sin(x))


@primitive
def sin2(x: Any) -> Any:
    return onp.sin(x)


defjvp(sin2, lambda g, ans, x: g * cos_wrong(x))
defvjp(sin2, lambda ans, x: lambda g: g * cos_wrong(x))


# and one deeper: right up to order 2, wrong at order 3
@primitive
def sin_wrong3(x: Any) -> Any:
    return onp.sin(x)


defjvp(sin_wrong3, lambda g, ans, x: g * 2.0 * np.cos(x))  # should be cos
defvjp(sin_wrong3, lambda ans, x: lambda g: g * 2.0 * np.cos(x))


@primitive
def cos3(x: Any) -> Any:
    return onp.cos(x)


defjvp(cos3, lambda g, ans, x: -g * sin_wrong3(x))
defvjp(cos3, lambda ans, x: lambda g: -g * sin_wrong3(x))


@primitive
def sin3(x: Any) -> Any:
    return onp.sin(x)


defjvp(sin3, lambda g, ans, x: g * cos3(x))
defvjp(sin3, lambda ans, x: lambda g: g * cos3(x))


class TestCheckGradsFails:
    def test_wrong_vjp_is_caught_in_reverse_mode_naming_the_argument(self) -> None:
        f = lambda a, b: np.sum(a * b) + np.sum(sin_bad_vjp(b))
        a, b = onp.array([0.3, 0.4]), onp.array([0.5, -0.2])
        check_grads(f, (a, b), order=1, modes=("fwd",))  # forward mode is right
        with pytest.raises(AssertionError, match=r"reverse mode, order 1, argument 1") as info:
            check_grads(f, (a, b), order=1, modes=("rev",))
        assert "argument 0" not in str(info.value)
        with pytest.raises(AssertionError, match=r"reverse mode, order 1, argument 1"):
            check_grads(f, (a, b), order=2)
        # the wrong argument index moves with the argument
        with pytest.raises(AssertionError, match=r"reverse mode, order 1, argument 0"):
            check_grads(lambda b, a: f(a, b), (b, a), order=1)

    def test_wrong_jvp_is_caught_in_forward_mode(self) -> None:
        f = lambda x, y: x * sin_bad_jvp(y)
        check_grads(f, (0.3, 0.8), order=1, modes=("rev",))
        with pytest.raises(AssertionError, match=r"forward mode, order 1, argument 1"):
            check_grads(f, (0.3, 0.8), order=1, modes=("fwd",))

    def test_wrong_rule_inside_a_pytree_argument(self) -> None:
        f = lambda s, p: s * np.sum(sin_bad_vjp(p["w"][1]) + p["w"][0])
        p = {"w": (onp.array([0.1, 0.2]), onp.array([0.3, 0.4]))}
        with pytest.raises(AssertionError, match=r"reverse mode, order 1, argument 1"):
            check_grads(f, (2.0, p), order=1, modes=("rev",))

    @pytest.mark.parametrize("mode,name", [("fwd", "forward"), ("rev", "reverse")])
    def test_wrong_second_derivative_is_caught_at_order_2(self, mode: str, name: str) -> None:
        check_grads(sin2, (0.4,), order=1, modes=(mode,))
        with pytest.raises(AssertionError, match=rf"{name} mode, order 2, argument 0"):
            check_grads(sin2, (0.4,), order=2, modes=(mode,))

    @pytest.mark.parametrize("mode,name", [("fwd", "forward"), ("rev", "reverse")])
    def test_wrong_third_derivative_is_caught_at_order_3(self, mode: str, name: str) -> None:
        check_grads(sin3, (0.4,), order=2, modes=(mode,))
        with pytest.raises(AssertionError, match=rf"{name} mode, order 3, argument 0"):
            check_grads(sin3, (0.4,), order=3, modes=(mode,))

    def test_message_reports_values_and_tolerances(self) -> None:
        with pytest.raises(AssertionError) as info:
            check_grads(lambda x: sin_bad_vjp(x), (0.5,), order=1, modes=("rev",))
        msg = str(info.value)
        assert "analytic" in msg and "numerical" in msg and "tolerance" in msg


# ============================================================================ optimizers
TARGET = {"a": onp.array([1.0, -2.0, 0.5]), "b": onp.array([[3.0, 0.0], [-1.0, 2.0]])}
SCALE = {"a": onp.array([1.0, 2.0, 0.5]), "b": onp.array([[1.0, 3.0], [0.7, 1.5]])}


def quadratic(p: Any, i: Any = None) -> Any:
    return sum(np.sum(SCALE[k] * (p[k] - TARGET[k]) ** 2) for k in ("a", "b"))


X0 = {"a": onp.zeros(3), "b": onp.ones((2, 2))}


@pytest.mark.parametrize("opt,kwargs,atol", [
    (optimizers.sgd, dict(num_iters=300, step_size=0.2), 1e-5),
    (optimizers.sgd, dict(num_iters=150, step_size=0.2, mass=0.0), 1e-6),
    (optimizers.momentum, dict(num_iters=300, step_size=0.2), 1e-5),
    # rmsprop takes steps of about step_size near the minimum: it settles within that
    (optimizers.rmsprop, dict(num_iters=400, step_size=0.01), 1e-2),
    (optimizers.adam, dict(num_iters=300, step_size=0.1), 1e-4),
])
def test_optimizers_find_the_minimum_over_a_pytree(opt: Any, kwargs: dict, atol: float) -> None:
    g = xform.grad(quadratic)
    calls: list[int] = []
    seen: list[tuple[Any, int, Any]] = []

    def grad_fn(p: Any, i: int) -> Any:
        calls.append(i)
        return g(p, i)

    def callback(x: Any, i: int, gx: Any) -> None:
        seen.append((x, i, gx))

    out = opt(grad_fn, X0, callback=callback, **kwargs)
    assert tree_structure(out) == tree_structure(X0)
    for k in TARGET:
        assert out[k].shape == TARGET[k].shape
        onp.testing.assert_allclose(out[k], TARGET[k], atol=atol)
    n = kwargs["num_iters"]
    assert calls == list(range(n))
    assert [i for _, i, _ in seen] == list(range(n))
    x_first, _, g_first = seen[0]
    assert tree_structure(x_first) == tree_structure(X0)
    assert tree_structure(g_first) == tree_structure(X0)
    for k in X0:
        onp.testing.assert_allclose(x_first[k], X0[k])
        onp.testing.assert_allclose(g_first[k], 2 * SCALE[k] * (X0[k] - TARGET[k]))
    assert quadratic(seen[-1][0]) < quadratic(X0) * 1e-3


def test_iteration_index_drives_minibatches() -> None:
    """grad_fn(x, i) sees the iteration number: a cyclic minibatch schedule."""
    data = onp.array([1.0, 2.0, 3.0, 6.0])  # the mean, 3.0, minimises the total loss

    def loss(p: Any, i: int) -> Any:
        batch = data[(2 * i) % 4:(2 * i) % 4 + 2]
        return np.sum((p["w"] - batch) ** 2)

    p = optimizers.sgd(xform.grad(loss), {"w": 0.0}, num_iters=100, step_size=0.05, mass=0.0)
    assert float(p["w"]) == pytest.approx(3.0, abs=0.2)
    p = optimizers.adam(xform.grad(loss), {"w": 0.0}, num_iters=300, step_size=0.05)
    assert float(p["w"]) == pytest.approx(3.0, abs=0.2)
    # without the index (always the first minibatch) the answer is that batch's mean
    p = optimizers.sgd(lambda p, i: xform.grad(loss)(p, 0), {"w": 0.0}, num_iters=100,
                       step_size=0.05, mass=0.0)
    assert float(p["w"]) == pytest.approx(1.5, abs=1e-3)


def test_callback_none_and_defaults() -> None:
    out = optimizers.adam(xform.grad(quadratic), X0, num_iters=10)
    assert tree_structure(out) == tree_structure(X0)
    out = optimizers.sgd(lambda x, i: 2 * x, onp.array([1.0, -1.0]), num_iters=200)
    onp.testing.assert_allclose(out, 0.0, atol=1e-4)


# ---------------------------------------------------------------------------- hyperparameters
def _train_loss(step_size: Any, mass: Any = 0.5, opt: str = "sgd") -> Any:
    H = onp.array([[2.0, 0.3], [0.3, 1.0]])
    target = onp.array([1.0, -1.0])

    def loss(w: Any, i: int = 0) -> Any:
        d = w - target
        return 0.5 * d @ (H @ d) + 0.1 * np.sum(np.sin(w))

    if opt == "sgd":
        w = optimizers.sgd(xform.grad(loss), onp.zeros(2), num_iters=15, step_size=step_size,
                           mass=mass)
    elif opt == "rmsprop":
        w = optimizers.rmsprop(xform.grad(loss), onp.zeros(2), num_iters=15,
                               step_size=step_size)
    else:
        w = optimizers.adam(xform.grad(loss), onp.zeros(2), num_iters=15, step_size=step_size)
    return loss(w)


def _central(f: Any, x: float, eps: float = 1e-6) -> float:
    return (float(f(x + eps)) - float(f(x - eps))) / (2 * eps)


@pytest.mark.parametrize("opt,step", [("sgd", 0.2), ("sgd", 0.6), ("rmsprop", 0.05),
                                      ("adam", 0.1)])
def test_gradient_with_respect_to_step_size(opt: str, step: float) -> None:
    f = lambda s: _train_loss(s, opt=opt)
    g = float(xform.grad(f)(step))
    assert g == pytest.approx(_central(f, step), rel=1e-5, abs=1e-8)
    assert g != 0.0


def test_gradient_with_respect_to_mass_and_forward_mode() -> None:
    f = lambda m: _train_loss(0.3, mass=m)
    g = float(xform.grad(f)(0.5))
    assert g == pytest.approx(_central(f, 0.5), rel=1e-5, abs=1e-8)
    _, t = xform.jvp(lambda s: _train_loss(s), (0.2,), (1.0,))
    assert float(t) == pytest.approx(_central(lambda s: _train_loss(s), 0.2), rel=1e-5)


# ---------------------------------------------------------------------------- scipy
def rosenbrock(x: Any) -> Any:
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


@pytest.mark.parametrize("method", ["trust-ncg", "Newton-CG"])
def test_scipy_minimize_rosenbrock_with_xform_derivatives(method: str) -> None:
    jac = xform.grad(rosenbrock)
    hessp = lambda x, p: xform.hvp(rosenbrock, (x,), (p,))  # noqa: E731
    x0 = onp.array([-1.2, 1.0])
    # the derivatives agree with SciPy's hand-written ones
    onp.testing.assert_allclose(jac(x0), scipy.optimize.rosen_der(x0), rtol=1e-12)
    p = onp.array([0.3, -0.5])
    onp.testing.assert_allclose(hessp(x0, p), scipy.optimize.rosen_hess_prod(x0, p), rtol=1e-12)
    res = scipy.optimize.minimize(rosenbrock, x0, method=method, jac=jac, hessp=hessp,
                                  options={"xtol": 1e-10} if method == "Newton-CG" else {})
    assert res.success, res.message
    onp.testing.assert_allclose(res.x, [1.0, 1.0], atol=1e-4)


def test_scipy_minimize_over_a_pytree_with_ravel() -> None:
    from xform.tree_util import ravel_pytree
    flat0, unravel = ravel_pytree(X0)
    f = lambda v: quadratic(unravel(v))  # noqa: E731
    res = scipy.optimize.minimize(f, flat0, jac=xform.grad(f), method="BFGS")
    out = unravel(res.x)
    for k in TARGET:
        onp.testing.assert_allclose(out[k], TARGET[k], atol=1e-5)
    assert tree_map(onp.shape, out) == tree_map(onp.shape, X0)
