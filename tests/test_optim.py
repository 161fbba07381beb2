"""xform.optim: each optimiser's updates against its published rule written out by hand,
over a pytree and several steps; jit of a whole training step; schedules."""
from __future__ import annotations

from typing import Any, Callable

import numpy as onp
import pytest

import xform
import xform.numpy as xnp
from xform import optim

RNG = onp.random.default_rng(0)
PARAMS = {"w": RNG.standard_normal((3, 2)), "b": RNG.standard_normal(2)}
GRADS = [{"w": RNG.standard_normal((3, 2)), "b": RNG.standard_normal(2)} for _ in range(4)]


def run(opt: optim.GradientTransformation, jit: bool = False) -> list[dict]:
    """The parameters after each step of ``opt`` on the fixed gradient sequence."""
    params, state, out = PARAMS, opt.init(PARAMS), []
    step = xform.jit(opt.update) if jit else opt.update
    for g in GRADS:
        updates, state = step(g, state, params)
        params = optim.apply_updates(params, updates)
        out.append(params)
    return out


def by_hand(rule: Callable[[onp.ndarray, onp.ndarray, dict, int], onp.ndarray]) -> list[dict]:
    """``rule(p, g, slots, t)`` -> new p, leaf by leaf; ``slots`` persists per leaf."""
    params, slots, out = dict(PARAMS), {k: {} for k in PARAMS}, []
    for t, g in enumerate(GRADS, start=1):
        params = {k: rule(params[k], g[k], slots[k], t) for k in params}
        out.append(params)
    return out


def sgd_momentum(lr: float, mu: float, nesterov: bool) -> Callable[..., Any]:
    def rule(p: onp.ndarray, g: onp.ndarray, s: dict, t: int) -> onp.ndarray:
        s["v"] = g + mu * s.get("v", 0.0)
        return p - lr * (g + mu * s["v"] if nesterov else s["v"])
    return rule


def adam_rule(lr: float, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8,
              wd: float = 0.0) -> Callable[..., Any]:
    def rule(p: onp.ndarray, g: onp.ndarray, s: dict, t: int) -> onp.ndarray:
        s["m"] = b1 * s.get("m", 0.0) + (1 - b1) * g
        s["v"] = b2 * s.get("v", 0.0) + (1 - b2) * g * g
        m_hat, v_hat = s["m"] / (1 - b1 ** t), s["v"] / (1 - b2 ** t)
        return p - lr * (m_hat / (onp.sqrt(v_hat) + eps) + wd * p)
    return rule


def rmsprop_rule(lr: float, decay: float = 0.9, eps: float = 1e-8) -> Callable[..., Any]:
    def rule(p: onp.ndarray, g: onp.ndarray, s: dict, t: int) -> onp.ndarray:
        s["v"] = decay * s.get("v", 0.0) + (1 - decay) * g * g
        return p - lr * g / onp.sqrt(s["v"] + eps)
    return rule


def adagrad_rule(lr: float, init: float = 0.1, eps: float = 1e-7) -> Callable[..., Any]:
    def rule(p: onp.ndarray, g: onp.ndarray, s: dict, t: int) -> onp.ndarray:
        s["s"] = s.get("s", init) + g * g
        return p - lr * g / onp.sqrt(s["s"] + eps)
    return rule


def lion_rule(lr: float, b1: float = 0.9, b2: float = 0.99, wd: float = 1e-3
              ) -> Callable[..., Any]:
    def rule(p: onp.ndarray, g: onp.ndarray, s: dict, t: int) -> onp.ndarray:
        m = s.get("m", 0.0)
        u = onp.sign(b1 * m + (1 - b1) * g)
        s["m"] = b2 * m + (1 - b2) * g
        return p - lr * (u + wd * p)
    return rule


CASES = {
    "sgd": (optim.sgd(0.1), sgd_momentum(0.1, 0.0, False)),
    "momentum": (optim.sgd(0.1, momentum=0.9), sgd_momentum(0.1, 0.9, False)),
    "nesterov": (optim.sgd(0.1, momentum=0.9, nesterov=True), sgd_momentum(0.1, 0.9, True)),
    "adam": (optim.adam(0.01), adam_rule(0.01)),
    "adamw": (optim.adamw(0.01, weight_decay=0.1), adam_rule(0.01, wd=0.1)),
    "rmsprop": (optim.rmsprop(0.01), rmsprop_rule(0.01)),
    "adagrad": (optim.adagrad(0.1), adagrad_rule(0.1)),
    "lion": (optim.lion(0.01), lion_rule(0.01)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_updates_follow_the_published_rule(name: str) -> None:
    opt, rule = CASES[name]
    expected = by_hand(rule)
    for jit in (False, True):
        for got, want in zip(run(opt, jit), expected):
            for k in want:
                onp.testing.assert_allclose(got[k], want[k], rtol=1e-12, err_msg=f"{name} {k}")


def test_clip_by_global_norm_and_chain() -> None:
    g = {"a": onp.array([3.0, 0.0]), "b": onp.array([4.0])}
    clip = optim.clip_by_global_norm(1.0)
    clipped, _ = clip.update(g, clip.init(g))
    onp.testing.assert_allclose(clipped["a"], [0.6, 0.0])
    onp.testing.assert_allclose(clipped["b"], [0.8])
    small, _ = optim.clip_by_global_norm(10.0).update(g, ())
    onp.testing.assert_array_equal(small["a"], g["a"])
    opt = optim.chain(optim.clip_by_global_norm(1.0), optim.scale(-2.0))
    u, _ = xform.jit(opt.update)(g, opt.init(g))
    onp.testing.assert_allclose(u["b"], [-1.6])


def test_float32_parameters_keep_their_dtype() -> None:
    p = {"w": onp.ones(3, onp.float32)}
    opt = optim.adamw(optim.exponential_decay(0.1, 10, 0.5))
    state = opt.init(p)
    for _ in range(3):
        u, state = opt.update({"w": onp.full(3, 0.5, onp.float32)}, state, p)
        p = optim.apply_updates(p, u)
    assert p["w"].dtype == onp.float32 and u["w"].dtype == onp.float32


def test_schedules() -> None:
    assert optim.constant_schedule(0.3)(100) == 0.3
    assert float(optim.linear_schedule(1.0, 0.0, 10)(5)) == 0.5
    exp = optim.exponential_decay(1.0, 10, 0.5, staircase=True, end_value=0.3)
    assert [float(exp(t)) for t in (0, 9, 10, 30)] == [1.0, 1.0, 0.5, 0.3]
    cos = optim.cosine_decay_schedule(2.0, 100, alpha=0.1)
    onp.testing.assert_allclose([float(cos(t)) for t in (0, 50, 100, 200)],
                                [2.0, 2.0 * (0.45 + 0.1), 0.2, 0.2])
    warm = optim.warmup_cosine_decay_schedule(0.0, 1.0, 10, 110, end_value=0.1)
    onp.testing.assert_allclose([float(warm(t)) for t in (0, 5, 10, 60, 110, 500)],
                                [0.0, 0.5, 1.0, 0.55, 0.1, 0.1])
    pw = optim.piecewise_constant_schedule(1.0, {5: 0.5, 10: 0.1})
    onp.testing.assert_allclose([float(pw(t)) for t in (0, 5, 9, 10)], [1.0, 0.5, 0.5, 0.05])
    # traced step counts, as inside a jitted update
    onp.testing.assert_allclose(xform.jit(warm)(onp.int32(60)), 0.55)


def test_a_jitted_training_step_reduces_the_loss() -> None:
    x = RNG.standard_normal((32, 3))
    y = x @ onp.array([1.0, -2.0, 0.5]) + 0.3

    def loss(p: dict) -> Any:
        return xnp.mean((x @ p["w"] + p["b"] - y) ** 2)

    opt = optim.chain(optim.clip_by_global_norm(10.0),
                      optim.adam(optim.warmup_cosine_decay_schedule(0.0, 0.1, 5, 200)))

    @xform.jit
    def step(p: dict, s: Any) -> tuple[dict, Any, Any]:
        value, g = xform.value_and_grad(loss)(p)
        u, s = opt.update(g, s, p)
        return optim.apply_updates(p, u), s, value

    p = {"w": onp.zeros(3), "b": onp.zeros(())}
    s = opt.init(p)
    first = None
    for _ in range(200):
        p, s, value = step(p, s)
        first = value if first is None else first
    assert float(loss(p)) < 1e-3 * float(first)


def test_errors() -> None:
    opt = optim.adamw(0.1)
    with pytest.raises(ValueError, match="add_decayed_weights needs the parameters"):
        opt.update(PARAMS, opt.init(PARAMS))
    with pytest.raises(ValueError, match="transition_steps must be positive"):
        optim.exponential_decay(1.0, 0, 0.5)


def test_the_autograd_runners_still_work() -> None:
    from xform import optimizers
    x = optimizers.adam(lambda x, i: 2 * (x - 3.0), onp.zeros(2), num_iters=300,
                        step_size=0.1)
    onp.testing.assert_allclose(x, 3.0, atol=1e-2)
