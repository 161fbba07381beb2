"""Tests of user-supplied derivatives: ``custom_jvp``, ``custom_vjp``,
``xform.extend`` (autograd-style primitives with ``defvjp``/``defjvp``) and
``checkpoint``.

Each rule is checked against the derivative of the plain function (or against
finite differences) under every transform that should use it, and the
transforms that cannot use a rule must fail with a clear error.
"""
from __future__ import annotations

from functools import partial
from typing import Any

import numpy as onp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import xform
import xform.numpy as np
from xform import lax
from xform.extend import defjvp, defvjp, primitive
from xform.interpreters.eval import eval_closed_jaxpr
from xform.test_util import check_grads


from helpers import assert_trees_close as close

FAST = settings(max_examples=20, deadline=None, derandomize=True)


def fd(f: Any, x: float, eps: float = 1e-6) -> float:
    return (float(f(x + eps)) - float(f(x - eps))) / (2 * eps)


# ============================================================================ custom_jvp
@xform.custom_jvp
def log1pexp(x: Any) -> Any:
    return np.log1p(np.exp(x))


@log1pexp.defjvp
def _log1pexp_jvp(primals: Any, tangents: Any) -> Any:
    (x,), (t,) = primals, tangents
    return log1pexp(x), t * (1.0 - 1.0 / (1.0 + np.exp(x)))


def log1pexp_plain(x: Any) -> Any:
    return np.log1p(np.exp(x))


def sigmoid(x: Any) -> Any:
    return 1.0 / (1.0 + onp.exp(-x))


# a rule that is deliberately different from the function's true derivative:
# seeing 3*t proves the rule (not the body) was used
@xform.custom_jvp
def fake_square(x: Any) -> Any:
    return x * x


@fake_square.defjvp
def _fake_square_jvp(primals: Any, tangents: Any) -> Any:
    (x,), (t,) = primals, tangents
    return fake_square(x), 3.0 * t


class TestCustomJVP:
    def test_stable_log1pexp_at_large_input(self) -> None:
        with onp.errstate(all="ignore"):
            assert float(xform.grad(log1pexp)(1000.0)) == 1.0
            naive = float(xform.grad(log1pexp_plain)(1000.0))
            _, t = xform.jvp(log1pexp, (1000.0,), (1.0,))
        assert onp.isnan(naive)  # the point of the custom rule
        assert float(t) == 1.0

    @given(st.floats(-20.0, 20.0))
    @FAST
    def test_log1pexp_matches_plain_derivatives(self, x: float) -> None:
        close(xform.grad(log1pexp)(x), sigmoid(x), rtol=1e-12)
        s = sigmoid(x)
        close(xform.grad(xform.grad(log1pexp))(x), s * (1 - s), rtol=1e-9, atol=1e-15)
        close(xform.hessian(log1pexp)(x), s * (1 - s), rtol=1e-9, atol=1e-15)

    def test_under_every_transform(self) -> None:
        x = onp.array([-2.0, 0.0, 0.5, 3.0])
        s = sigmoid(x)
        close(xform.jvp(log1pexp, (x,), (onp.ones(4),))[1], s)
        close(xform.vjp(log1pexp, x)[1](onp.ones(4))[0], s)
        close(xform.jacfwd(log1pexp)(x), onp.diag(s))
        close(xform.jacrev(log1pexp)(x), onp.diag(s))
        close(xform.hessian(lambda v: np.sum(log1pexp(v)))(x), onp.diag(s * (1 - s)), rtol=1e-9)
        close(xform.vmap(log1pexp)(x), onp.log1p(onp.exp(x)))
        close(xform.vmap(xform.grad(log1pexp))(x), s)
        close(xform.grad(lambda v: np.sum(xform.vmap(log1pexp)(v)))(x), s)
        close(xform.grad(xform.grad(xform.grad(log1pexp)))(0.3),
              sigmoid(0.3) * (1 - sigmoid(0.3)) * (1 - 2 * sigmoid(0.3)), rtol=1e-9)

    def test_rule_is_used_not_the_body(self) -> None:
        assert float(xform.grad(fake_square)(2.0)) == 3.0
        assert float(xform.jvp(fake_square, (2.0,), (1.0,))[1]) == 3.0
        close(xform.jacrev(fake_square)(onp.array([1.0, 2.0])), 3.0 * onp.eye(2))
        close(xform.jacfwd(fake_square)(onp.array([1.0, 2.0])), 3.0 * onp.eye(2))
        close(xform.vmap(xform.grad(fake_square))(onp.array([1.0, 2.0])), onp.array([3.0, 3.0]))
        # the body still computes the value
        assert float(fake_square(2.0)) == 4.0
        assert float(xform.grad(lambda x: fake_square(x) * x)(2.0)) == 3.0 * 2.0 + 4.0

    def test_inside_make_jaxpr(self) -> None:
        closed = xform.make_jaxpr(log1pexp)(1.0)
        assert "log1p" in str(closed)
        close(eval_closed_jaxpr(closed, 2.0)[0], onp.log1p(onp.exp(2.0)))
        closed = xform.make_jaxpr(xform.grad(log1pexp))(1.0)
        with onp.errstate(all="ignore"):
            assert float(eval_closed_jaxpr(closed, 1000.0)[0]) == 1.0
        close(eval_closed_jaxpr(closed, 0.5)[0], sigmoid(0.5))
        closed = xform.make_jaxpr(xform.grad(fake_square))(1.0)
        assert float(eval_closed_jaxpr(closed, 5.0)[0]) == 3.0
        closed = xform.make_jaxpr(lambda x, t: xform.jvp(fake_square, (x,), (t,)))(1.0, 1.0)
        close(eval_closed_jaxpr(closed, 5.0, 2.0), [25.0, 6.0])

    def test_defjvps_one_rule_per_argument(self) -> None:
        @xform.custom_jvp
        def f(x: Any, y: Any) -> Any:
            return np.sin(x) * y

        f.defjvps(lambda tx, ans, x, y: np.cos(x) * y * tx,
                  lambda ty, ans, x, y: np.sin(x) * ty)
        x, y = 0.4, 1.7
        close(xform.grad(f, argnums=(0, 1))(x, y), (onp.cos(x) * y, onp.sin(x)))
        close(xform.jvp(f, (x, y), (0.3, -0.2))[1], onp.cos(x) * y * 0.3 - onp.sin(x) * 0.2)
        close(xform.hessian(f, argnums=(0, 1))(x, y),
              ((-onp.sin(x) * y, onp.cos(x)), (onp.cos(x), 0.0)), rtol=1e-9)
        check_grads(f, (x, y), order=2)

        @xform.custom_jvp
        def g(x: Any, y: Any) -> Any:
            return x * y

        g.defjvps(None, lambda ty, ans, x, y: x * ty)  # zero derivative in x
        close(xform.grad(g, argnums=(0, 1))(2.0, 3.0), (0.0, 2.0))

    def test_pytree_inputs_and_outputs(self) -> None:
        @xform.custom_jvp
        def f(p: Any) -> Any:
            return {"s": np.sum(p["a"] * p["b"]), "d": p["a"] - p["b"]}

        @f.defjvp
        def f_jvp(primals: Any, tangents: Any) -> Any:
            (p,), (t,) = primals, tangents
            return f(p), {"s": np.sum(t["a"] * p["b"] + p["a"] * t["b"]), "d": t["a"] - t["b"]}

        p = {"a": onp.array([1.0, 2.0]), "b": onp.array([3.0, -1.0])}
        g = xform.grad(lambda p: f(p)["s"] + np.sum(f(p)["d"] ** 2))(p)
        close(g, {"a": p["b"] + 2 * (p["a"] - p["b"]), "b": p["a"] - 2 * (p["a"] - p["b"])})

    def test_nondiff_argnums_with_a_function_argument(self) -> None:
        @partial(xform.custom_jvp, nondiff_argnums=(0,))
        def apply(fn: Any, x: Any) -> Any:
            return fn(x)

        @apply.defjvp
        def apply_jvp(fn: Any, primals: Any, tangents: Any) -> Any:
            (x,), (t,) = primals, tangents
            out, t_out = xform.jvp(fn, (x,), (t,))
            return out, 2.0 * t_out  # doubled: proves the rule ran with fn

        close(xform.grad(lambda x: apply(np.sin, x))(0.3), 2 * onp.cos(0.3))
        close(xform.jvp(lambda x: apply(np.exp, x), (0.3,), (1.0,))[1], 2 * onp.exp(0.3))
        close(xform.vmap(lambda x: apply(np.sin, x))(onp.array([0.1, 0.2])),
              onp.sin([0.1, 0.2]))
        closed = xform.make_jaxpr(xform.grad(lambda x: apply(np.sin, x)))(0.3)
        close(eval_closed_jaxpr(closed, 0.5)[0], 2 * onp.cos(0.5))

    def test_array_in_nondiff_position_is_a_clear_type_error(self) -> None:
        @partial(xform.custom_jvp, nondiff_argnums=(1,))
        def scale(x: Any, k: Any) -> Any:
            return x * k

        @scale.defjvp
        def scale_jvp(k: Any, primals: Any, tangents: Any) -> Any:
            return scale(primals[0], k), tangents[0] * k

        assert float(xform.grad(scale)(2.0, 3.0)) == 3.0  # a static value is fine
        with pytest.raises(TypeError, match="nondiff_argnums"):
            xform.grad(lambda x: scale(x, x))(2.0)
        with pytest.raises(TypeError, match="nondiff_argnums"):
            xform.jvp(lambda x: scale(1.0, x), (2.0,), (1.0,))

    def test_missing_rule_is_reported(self) -> None:
        @xform.custom_jvp
        def f(x: Any) -> Any:
            return x

        with pytest.raises(AttributeError, match="defjvp"):
            f(1.0)

    def test_rule_with_xform_numpy_differentiates_again(self) -> None:
        @xform.custom_jvp
        def softplus(x: Any) -> Any:
            return np.logaddexp(x, 0.0)

        @softplus.defjvp
        def softplus_jvp(primals: Any, tangents: Any) -> Any:
            (x,), (t,) = primals, tangents
            return softplus(x), t / (1.0 + np.exp(-x))

        check_grads(softplus, (0.7,), order=3)
        check_grads(lambda x: np.sum(softplus(x) ** 2), (onp.array([-1.0, 0.3, 2.0]),), order=2)


# ============================================================================ custom_vjp
@xform.custom_vjp
def sin_times(x: Any, y: Any) -> Any:
    return np.sin(x) * y


def _sin_times_fwd(x: Any, y: Any) -> Any:
    return sin_times(x, y), (np.cos(x), np.sin(x), y)


def _sin_times_bwd(res: Any, g: Any) -> Any:
    c, s, y = res
    return c * y * g, s * g


sin_times.defvjp(_sin_times_fwd, _sin_times_bwd)


class TestCustomVJP:
    def test_grad_vjp_jacrev(self) -> None:
        x, y = 0.5, 2.0
        close(xform.grad(sin_times, argnums=(0, 1))(x, y), (onp.cos(x) * y, onp.sin(x)))
        out, vjp_fn = xform.vjp(sin_times, x, y)
        close(out, onp.sin(x) * y)
        close(vjp_fn(3.0), (3 * onp.cos(x) * y, 3 * onp.sin(x)))
        xs, ys = onp.array([0.1, 0.2]), onp.array([3.0, 4.0])
        close(xform.jacrev(sin_times, argnums=(0, 1))(xs, ys),
              (onp.diag(onp.cos(xs) * ys), onp.diag(onp.sin(xs))))
        close(xform.vmap(xform.grad(sin_times))(xs, ys), onp.cos(xs) * ys)
        close(xform.vmap(sin_times)(xs, ys), onp.sin(xs) * ys)

    def test_rule_is_used_and_residuals_come_from_fwd(self) -> None:
        calls = {"fwd": 0, "bwd": 0}

        @xform.custom_vjp
        def f(x: Any) -> Any:
            return x ** 3

        def f_fwd(x: Any) -> Any:
            calls["fwd"] += 1
            return f(x), {"x": x, "tag": 10.0}

        def f_bwd(res: Any, g: Any) -> Any:
            calls["bwd"] += 1
            return (res["tag"] * res["x"] * g,)  # deliberately not 3x^2

        f.defvjp(f_fwd, f_bwd)
        assert float(xform.grad(f)(2.0)) == 20.0
        assert calls == {"fwd": 1, "bwd": 1}
        assert float(f(2.0)) == 8.0
        close(xform.grad(lambda x: np.sin(f(x)))(0.5), onp.cos(0.125) * 10 * 0.5)

    def test_pytree_inputs_outputs_and_none_cotangents(self) -> None:
        @xform.custom_vjp
        def f(p: Any, k: Any) -> Any:
            return {"prod": p["a"] * p["b"], "k": k * 2.0}, p["a"]

        def f_fwd(p: Any, k: Any) -> Any:
            return f(p, k), (p["a"], p["b"])

        def f_bwd(res: Any, ct: Any) -> Any:
            a, b = res
            out, ct_a = ct
            return {"a": out["prod"] * b + ct_a, "b": out["prod"] * a}, None  # None: zero

        f.defvjp(f_fwd, f_bwd)
        p = {"a": onp.array([1.0, 2.0]), "b": onp.array([3.0, 5.0])}

        def loss(p: Any, k: Any) -> Any:
            out, a = f(p, k)
            return np.sum(out["prod"]) + np.sum(a ** 2) + out["k"]

        gp, gk = xform.grad(loss, argnums=(0, 1))(p, 1.5)
        close(gp, {"a": p["b"] + 2 * p["a"], "b": p["a"]})
        assert float(gk) == 0.0
        # only part of the output used: the unused outputs get zero cotangents
        g = xform.grad(lambda p: np.sum(f(p, 1.0)[0]["prod"]))(p)
        close(g, {"a": p["b"], "b": p["a"]})

    def test_forward_mode_is_a_clear_type_error(self) -> None:
        for call in (lambda: xform.jvp(sin_times, (0.5, 2.0), (1.0, 0.0)),
                     lambda: xform.jacfwd(sin_times)(0.5, 2.0),
                     lambda: xform.hessian(sin_times)(0.5, 2.0)):
            with pytest.raises(TypeError, match="custom_vjp") as info:
                call()
            assert "sin_times" in str(info.value) and "custom_jvp" in str(info.value)

    def test_bwd_must_return_one_cotangent_per_argument(self) -> None:
        @xform.custom_vjp
        def f(x: Any, y: Any) -> Any:
            return x * y

        f.defvjp(lambda x, y: (x * y, (x, y)), lambda res, g: res[1] * g)  # not a tuple
        with pytest.raises(TypeError, match="one cotangent per"):
            xform.grad(f)(1.0, 2.0)

    def test_nondiff_argnums(self) -> None:
        @partial(xform.custom_vjp, nondiff_argnums=(0,))
        def apply(fn: Any, x: Any) -> Any:
            return fn(x)

        def apply_fwd(fn: Any, x: Any) -> Any:
            return fn(x), x

        def apply_bwd(fn: Any, x: Any, g: Any) -> Any:
            return (xform.grad(fn)(x) * g * 2.0,)

        apply.defvjp(apply_fwd, apply_bwd)
        close(xform.grad(lambda x: apply(np.sin, x))(0.3), 2 * onp.cos(0.3))
        with pytest.raises(TypeError, match="nondiff_argnums"):
            xform.grad(lambda x: apply(x, x))(0.3)

    def test_inside_make_jaxpr(self) -> None:
        g = xform.grad(sin_times, argnums=(0, 1))
        closed = xform.make_jaxpr(g)(0.5, 2.0)
        close(tuple(eval_closed_jaxpr(closed, 0.7, 3.0)), g(0.7, 3.0))

    def test_clip_gradient_example(self) -> None:
        @xform.custom_vjp
        def clip_grad(x: Any) -> Any:
            return x

        clip_grad.defvjp(lambda x: (x, None), lambda _, g: (np.clip(g, -1.0, 1.0),))
        g = xform.grad(lambda x: np.sum(clip_grad(x) * onp.array([0.5, 3.0, -4.0])))(onp.ones(3))
        close(g, onp.array([0.5, 1.0, -1.0]))


# ============================================================================ xform.extend
@primitive
def logsumexp(x: Any) -> Any:
    """A numerically stable logsumexp, written in plain NumPy (opaque to xform)."""
    m = onp.max(x)
    return m + onp.log(onp.sum(onp.exp(x - m)))


# the rule is written with xform.numpy, so it is differentiable again
defvjp(logsumexp, lambda ans, x: lambda g: g * np.exp(x - ans))


def logsumexp_plain(x: Any) -> Any:
    return np.log(np.sum(np.exp(x)))


def classifier_loss(W: Any, b: Any, x: Any, label: int) -> Any:
    """Negative log-likelihood of a linear softmax classifier; uses the primitive."""
    logits = np.tanh(W @ x + b) * 3.0
    return logsumexp(logits) - logits[label] + 0.01 * np.sum(W ** 2)


def classifier_loss_plain(W: Any, b: Any, x: Any, label: int) -> Any:
    logits = np.tanh(W @ x + b) * 3.0
    return logsumexp_plain(logits) - logits[label] + 0.01 * np.sum(W ** 2)


RNG = onp.random.default_rng(1)
CW, CB, CX = RNG.standard_normal((4, 3)), RNG.standard_normal(4), RNG.standard_normal(3)


class TestExtend:
    def test_primitive_evaluates_like_the_function(self) -> None:
        x = onp.array([0.1, -2.0, 3.0])
        assert float(logsumexp(x)) == pytest.approx(float(onp.log(onp.sum(onp.exp(x)))))
        assert getattr(logsumexp, "__name__", None) == "logsumexp"

    def test_stable_gradient_at_large_inputs(self) -> None:
        close(xform.grad(logsumexp)(onp.array([1000.0, 1000.0])), onp.array([0.5, 0.5]))
        close(xform.grad(logsumexp)(onp.array([-1000.0, -1000.0, -1000.0])), onp.full(3, 1 / 3))

    def test_custom_gradient_inside_a_larger_function(self) -> None:
        args = (CW, CB, CX, 2)
        ref = xform.grad(classifier_loss_plain, argnums=(0, 1, 2))(*args)
        close(xform.grad(classifier_loss, argnums=(0, 1, 2))(*args), ref, rtol=1e-9)
        check_grads(lambda W, b, x: classifier_loss(W, b, x, 2), (CW, CB, CX), order=2,
                    modes=("rev",))
        # second order through the (xform.numpy) rule agrees with the plain function
        close(xform.jacrev(xform.grad(logsumexp))(onp.array([0.1, 0.5, -0.3])),
              xform.hessian(logsumexp_plain)(onp.array([0.1, 0.5, -0.3])), rtol=1e-9)

    def test_vmap_of_grad_and_make_jaxpr(self) -> None:
        xs = RNG.standard_normal((5, 3))
        ref = onp.stack([xform.grad(classifier_loss, argnums=2)(CW, CB, x, 1) for x in xs])
        close(xform.vmap(xform.grad(classifier_loss, argnums=2), in_axes=(None, None, 0, None))(
            CW, CB, xs, 1), ref)
        closed = xform.make_jaxpr(xform.grad(logsumexp))(onp.zeros(3))
        assert "logsumexp" in str(closed)
        x = onp.array([0.2, 0.1, -0.4])
        close(eval_closed_jaxpr(closed, x)[0], onp.exp(x) / onp.sum(onp.exp(x)))

    def test_vjp_only_primitive_refuses_forward_mode(self) -> None:
        x = onp.array([0.1, 0.2])
        for call in (lambda: xform.jvp(logsumexp, (x,), (onp.ones(2),)),
                     lambda: xform.jacfwd(logsumexp)(x),
                     lambda: xform.hessian(logsumexp)(x)):
            with pytest.raises(NotImplementedError) as info:
                call()
            msg = str(info.value)
            assert "logsumexp" in msg and "Forward" in msg and "reverse" in msg.lower()

    def test_defjvp_gives_forward_mode(self) -> None:
        @primitive
        def lse(x: Any) -> Any:
            m = onp.max(x)
            return m + onp.log(onp.sum(onp.exp(x - m)))

        defvjp(lse, lambda ans, x: lambda g: g * np.exp(x - ans))
        defjvp(lse, lambda g, ans, x: np.sum(g * np.exp(x - ans)))
        x = onp.array([0.3, -0.2, 1.1])
        soft = onp.exp(x) / onp.sum(onp.exp(x))
        close(xform.jvp(lse, (x,), (onp.ones(3),))[1], 1.0, rtol=1e-12)
        close(xform.jacfwd(lse)(x), soft, rtol=1e-12)
        close(xform.hessian(lse)(x), onp.diag(soft) - onp.outer(soft, soft), rtol=1e-9)
        check_grads(lambda W, b, x: lse(np.tanh(W @ x + b)), (CW, CB, CX), order=2)

    def test_several_arguments_with_a_non_differentiable_one(self) -> None:
        @primitive
        def power(x: Any, n: int) -> Any:
            return onp.power(x, n)

        defvjp(power, lambda ans, x, n: lambda g: g * n * np.power(x, n - 1), None)
        defjvp(power, lambda g, ans, x, n: g * n * np.power(x, n - 1), None)
        x = onp.array([0.5, 1.5])
        close(xform.grad(lambda x: np.sum(power(x, 3)))(x), 3 * x ** 2)
        close(xform.jvp(lambda x: power(x, 3), (x,), (onp.ones(2),))[1], 3 * x ** 2)
        check_grads(lambda x: power(x, 3), (x,), order=3)

        @primitive
        def mul(a: Any, b: Any) -> Any:
            return a * b

        defvjp(mul, lambda ans, a, b: lambda g: g * a * 0.0 + 7.0 * g, argnums=(1,))
        assert float(xform.grad(mul, argnums=1)(2.0, 3.0)) == 7.0

    def test_rules_built_from_other_primitives_second_order(self) -> None:
        @primitive
        def mycos(x: Any) -> Any:
            return onp.cos(x)

        @primitive
        def mysin(x: Any) -> Any:
            return onp.sin(x)

        defvjp(mysin, lambda ans, x: lambda g: g * mycos(x))
        defjvp(mysin, lambda g, ans, x: g * mycos(x))
        defvjp(mycos, lambda ans, x: lambda g: -g * mysin(x))
        defjvp(mycos, lambda g, ans, x: -g * mysin(x))
        x = 0.7
        assert float(xform.grad(xform.grad(mysin))(x)) == pytest.approx(-onp.sin(x), rel=1e-12)
        assert float(xform.grad(xform.grad(xform.grad(mysin)))(x)) == \
            pytest.approx(-onp.cos(x), rel=1e-12)
        close(xform.hessian(mysin)(x), -onp.sin(x), rtol=1e-12)
        check_grads(lambda a, b: a * mysin(b * a), (0.4, 1.3), order=3)

    def test_defvjp_rejects_a_plain_function(self) -> None:
        with pytest.raises(TypeError, match="primitive"):
            defvjp(onp.sin, lambda ans, x: lambda g: g)  # type: ignore[arg-type]


# ============================================================================ checkpoint
class _Counted:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, x: Any, w: Any) -> Any:
        self.calls += 1
        return np.sin(x * w) * np.exp(-x)


def _loss(block: Any) -> Any:
    return lambda x, w: np.sum(block(x, w) ** 2) + w * np.sum(x)


X = onp.linspace(0.1, 1.0, 3)
W = 0.7


class TestCheckpoint:
    def test_same_derivatives_as_without(self) -> None:
        plain = _loss(_Counted())
        remat = _loss(xform.checkpoint(_Counted()))
        close(remat(X, W), plain(X, W))
        close(xform.grad(remat, argnums=(0, 1))(X, W), xform.grad(plain, argnums=(0, 1))(X, W))
        close(xform.jvp(remat, (X, W), (onp.ones(3), 0.5)),
              xform.jvp(plain, (X, W), (onp.ones(3), 0.5)))
        close(xform.hessian(remat)(X, W), xform.hessian(plain)(X, W), rtol=1e-9)
        close(xform.grad(xform.grad(remat, argnums=1), argnums=1)(X, W),
              xform.grad(xform.grad(plain, argnums=1), argnums=1)(X, W), rtol=1e-9)
        close(xform.vmap(xform.grad(remat), in_axes=(0, None))(onp.stack([X, 2 * X]), W),
              xform.vmap(xform.grad(plain), in_axes=(0, None))(onp.stack([X, 2 * X]), W))
        check_grads(remat, (X, W), order=2)

    def test_backward_pass_recomputes_the_forward(self) -> None:
        counted, counted_plain = _Counted(), _Counted()
        remat, plain = _loss(xform.checkpoint(counted)), _loss(counted_plain)
        xform.grad(plain)(X, W)
        assert counted_plain.calls == 1
        xform.grad(remat)(X, W)
        assert counted.calls == 2  # once forward, once more in the backward pass
        counted.calls = 0
        _, vjp_fn = xform.vjp(remat, X, W)
        assert counted.calls == 1
        vjp_fn(1.0)
        assert counted.calls == 2
        counted.calls = 0
        xform.jvp(remat, (X, W), (onp.ones(3), 0.0))  # forward mode stores nothing extra
        assert counted.calls == 1

    def test_recomputation_visible_in_the_jaxpr(self) -> None:
        def count_sin(f: Any) -> int:
            return [e.prim.name for e in xform.make_jaxpr(xform.grad(f))(X, W).eqns].count("sin")

        assert count_sin(_loss(_Counted())) == 1
        assert count_sin(_loss(xform.checkpoint(_Counted()))) == 2
        closed = xform.make_jaxpr(xform.grad(_loss(xform.checkpoint(_Counted()))))(X, W)
        close(eval_closed_jaxpr(closed, X, W)[0], xform.grad(_loss(_Counted()))(X, W))

    def test_pytree_arguments_and_outputs(self) -> None:
        @xform.checkpoint
        def block(p: Any, x: Any) -> Any:
            h = np.tanh(p["W"] @ x + p["b"])
            return {"h": h, "n": np.sum(h ** 2)}

        def loss(p: Any, x: Any) -> Any:
            out = block(p, x)
            return np.sum(out["h"]) + out["n"]

        def loss_plain(p: Any, x: Any) -> Any:
            h = np.tanh(p["W"] @ x + p["b"])
            return np.sum(h) + np.sum(h ** 2)

        p = {"W": CW, "b": CB}
        close(xform.grad(loss, argnums=(0, 1))(p, CX), xform.grad(loss_plain, argnums=(0, 1))(p, CX))
        # only part of the output used: zero cotangent for the rest
        close(xform.grad(lambda p: block(p, CX)["n"])(p),
              xform.grad(lambda p: np.sum(np.tanh(p["W"] @ CX + p["b"]) ** 2))(p))


# ============================================================================ inside staged code
# Control flow traced to sub-jaxprs (inside make_jaxpr, i.e. what jit will run, or
# a cond/while with a batched predicate under vmap) must keep the user's rule: the
# naive derivative of log1pexp is nan at 1000, and clip_gradient's rule changes
# the value of the gradient, so losing the rule is visible.
@xform.custom_vjp
def clip_gradient(x: Any) -> Any:
    return x


clip_gradient.defvjp(lambda x: (x, None), lambda _, g: (np.clip(g, -1.0, 1.0),))

BIG = onp.array([1000.0, 2.0])
BIG_GRAD = onp.array([1.0, sigmoid(2.0)])


def _staged(f: Any) -> Any:
    """``f`` traced with make_jaxpr and the recorded program evaluated (jit's path)."""
    return lambda *args: eval_closed_jaxpr(xform.make_jaxpr(f)(*args), *args)[0]


def _scan_log1pexp(x: Any) -> Any:
    return lax.scan(lambda c, xi: (c + log1pexp(xi), None), 0.0, x)[0]


def _scan_clip(x: Any) -> Any:
    return lax.scan(lambda c, xi: (c + 5.0 * clip_gradient(xi), None), 0.0, x)[0]


class TestCustomRulesInsideStagedCode:
    def test_eager_control_flow_keeps_the_rules(self) -> None:
        with onp.errstate(all="ignore"):
            close(xform.grad(_scan_log1pexp)(BIG), BIG_GRAD)
        close(xform.grad(_scan_clip)(BIG), onp.ones(2))

    def test_custom_jvp_in_a_scan_body_under_make_jaxpr_grad(self) -> None:
        with onp.errstate(all="ignore"):
            closed = xform.make_jaxpr(xform.grad(_scan_log1pexp))(BIG)
            close(eval_closed_jaxpr(closed, BIG)[0], BIG_GRAD)

    def test_custom_jvp_in_a_scan_body_under_make_jaxpr_jvp(self) -> None:
        with onp.errstate(all="ignore"):
            closed = xform.make_jaxpr(lambda x, t: xform.jvp(_scan_log1pexp, (x,), (t,)))(
                BIG, onp.ones(2))
            close(eval_closed_jaxpr(closed, BIG, onp.array([1.0, 0.0]))[1], 1.0)

    def test_custom_vjp_in_a_scan_body_under_make_jaxpr_grad(self) -> None:
        closed = xform.make_jaxpr(xform.grad(_scan_clip))(BIG)
        close(eval_closed_jaxpr(closed, BIG)[0], onp.ones(2))

    def test_grad_of_a_staged_program_keeps_the_rules(self) -> None:
        # grad(jit(f)) semantics: differentiate the recorded program
        with onp.errstate(all="ignore"):
            close(xform.grad(_staged(lambda x: np.sum(log1pexp(x))))(BIG), BIG_GRAD)
        close(xform.grad(_staged(lambda x: np.sum(5.0 * clip_gradient(x))))(BIG), onp.ones(2))

    def test_vmap_of_grad_through_cond_with_batched_predicate(self) -> None:
        # no make_jaxpr here: the batched predicate alone stages the branches
        f = lambda v: lax.cond(v > 0, log1pexp, lambda u: u, v)  # noqa: E731
        with onp.errstate(all="ignore"):
            close(xform.vmap(xform.grad(f))(BIG), BIG_GRAD)
        g = lambda v: lax.cond(v > 0, lambda u: 5.0 * clip_gradient(u), lambda u: u, v)  # noqa
        close(xform.vmap(xform.grad(g))(BIG), onp.ones(2))
