"""xform.scipy.integrate.odeint: solutions and derivatives (w.r.t. y0, t and args, forward
and reverse) against closed forms (exponential decay, a linear system through expm,
a harmonic oscillator) and finite differences, second order, vmap, float32, errors.

The solver runs at rtol = atol = 1e-10; derivatives come from other solves
(sensitivity equations forward, the adjoint system in reverse), so comparisons
allow about 1e-8 relative error, not rounding-level agreement.
"""
from __future__ import annotations

from typing import Any

import numpy as onp
import pytest
import scipy.linalg as sl

import xform
import xform.numpy as np
from xform.scipy.integrate import odeint

TOL = {"rtol": 1e-10, "atol": 1e-10}
CHECK = {"rtol": 2e-8, "atol": 2e-9}
T = onp.array([0.2, 0.5, 1.3, 2.0])
W = onp.array([1.0, -2.0, 3.0, 0.5])


def decay(y: Any, t: Any, k: Any) -> Any:
    return -k * y


def decay_loss(y0: Any, t: Any, k: Any) -> Any:
    return np.sum(odeint(decay, y0, t, k, **TOL) * W)


def decay_closed_form(y0: float, t: onp.ndarray, k: float) -> tuple[Any, ...]:
    tau = t - t[0]
    y = y0 * onp.exp(-k * tau)
    d_y0 = onp.sum(W * onp.exp(-k * tau))
    d_k = onp.sum(W * -tau * y)
    d_t = -k * W * y
    d_t[0] = k * onp.sum(W[1:] * y[1:])
    return y, d_y0, d_t, d_k


def test_exponential_decay_values_and_gradients() -> None:
    y0, k = 1.7, 0.8
    y, d_y0, d_t, d_k = decay_closed_form(y0, T, k)
    onp.testing.assert_allclose(odeint(decay, y0, T, k, **TOL), y, **CHECK)
    g = xform.grad(decay_loss, argnums=(0, 1, 2))(y0, T, k)
    onp.testing.assert_allclose(g[0], d_y0, **CHECK)
    onp.testing.assert_allclose(g[1], d_t, **CHECK)
    onp.testing.assert_allclose(g[2], d_k, **CHECK)
    # forward mode: one direction in each argument
    dt = onp.array([0.3, -0.1, 0.2, 0.7])
    _, tangent = xform.jvp(decay_loss, (y0, T, k), (0.5, dt, -1.5))
    onp.testing.assert_allclose(tangent, 0.5 * d_y0 + d_t @ dt - 1.5 * d_k, **CHECK)


def test_linear_system_against_expm() -> None:
    A = onp.array([[-0.4, 1.0], [-1.2, -0.3]])
    y0 = onp.array([1.0, -0.5])
    tau = T - T[0]

    def solve(y0: Any, t: Any, A: Any) -> Any:
        return odeint(lambda y, t, A: A @ y, y0, t, A, **TOL)

    expected = onp.stack([sl.expm(A * s) @ y0 for s in tau])
    onp.testing.assert_allclose(solve(y0, T, A), expected, **CHECK)
    # d y(t) / dA: the Frechet derivative of expm; d y(t) / d y0 = expm(A tau)
    frechet = onp.zeros((len(T), 2, 2, 2))
    for i, j in onp.ndindex(2, 2):
        E = onp.zeros((2, 2))
        E[i, j] = 1.0
        frechet[:, :, i, j] = [sl.expm_frechet(A * s, E * s, compute_expm=False) @ y0
                               for s in tau]
    for jac in (xform.jacfwd, xform.jacrev):
        onp.testing.assert_allclose(jac(solve, argnums=2)(y0, T, A), frechet, **CHECK)
        onp.testing.assert_allclose(jac(solve)(y0, T, A),
                                    onp.stack([sl.expm(A * s) for s in tau]), **CHECK)
    # moving an output time moves along the trajectory; moving t0 shifts it
    d_t = xform.jacrev(solve, argnums=1)(y0, T, A)
    onp.testing.assert_allclose(d_t[1:, :, 1:].diagonal(axis1=0, axis2=2).T,
                                expected[1:] @ A.T, **CHECK)
    onp.testing.assert_allclose(d_t[1:, :, 0], -(expected[1:] @ A.T), **CHECK)


def test_pytree_state_and_closure_over_traced_values() -> None:
    def oscillator(s: Any, t: Any, w: Any) -> Any:
        return {"x": s["v"], "v": -w ** 2 * s["x"]}

    state = {"x": onp.float64(1.0), "v": onp.float64(0.0)}
    out = odeint(oscillator, state, T, 1.5, **TOL)
    onp.testing.assert_allclose(out["x"], onp.cos(1.5 * (T - T[0])), **CHECK)
    onp.testing.assert_allclose(out["v"], -1.5 * onp.sin(1.5 * (T - T[0])), **CHECK)
    g = xform.grad(lambda w: np.sum(odeint(oscillator, state, T, w, **TOL)["x"]))(1.5)
    onp.testing.assert_allclose(g, onp.sum(-(T - T[0]) * onp.sin(1.5 * (T - T[0]))), **CHECK)

    def closed_over(k: Any) -> Any:  # k reaches the dynamics through a closure
        return np.sum(odeint(lambda y, t: -k * y, 1.7, T, **TOL) * W)

    onp.testing.assert_allclose(xform.grad(closed_over)(0.8),
                                decay_closed_form(1.7, T, 0.8)[3], **CHECK)


def test_nonlinear_against_finite_differences() -> None:
    def lotka_volterra(y: Any, t: Any, p: Any) -> Any:
        prey, pred = y[0], y[1]
        return np.stack([p[0] * prey - p[1] * prey * pred,
                         p[2] * prey * pred - p[3] * pred + 0.1 * np.sin(t)])

    def loss(y0: Any, t: Any, p: Any, tol: float = 1e-10) -> Any:
        ys = odeint(lotka_volterra, y0, t, p, rtol=tol, atol=tol)
        return np.sum(ys[:, 0] ** 2 * W) + np.sum(ys[:, 1] * W)

    y0, p = onp.array([1.0, 0.6]), onp.array([1.1, 0.4, 0.3, 0.9])
    grads = xform.grad(loss, argnums=(0, 1, 2))(y0, T, p)
    eps = 1e-4
    for argnum, x in enumerate((y0, T, p)):
        fd = onp.zeros_like(x)
        for i in range(x.size):
            dx = onp.zeros_like(x)
            dx[i] = eps
            plus = [y0, T, p]
            minus = [y0, T, p]
            plus[argnum], minus[argnum] = x + dx, x - dx
            fd[i] = (loss(*plus, tol=1e-13) - loss(*minus, tol=1e-13)) / (2 * eps)
        onp.testing.assert_allclose(grads[argnum], fd, rtol=1e-6, atol=1e-7)
        _, fwd = xform.jvp(loss, (y0, T, p), tuple(onp.eye(1, x.size, 0)[0].reshape(x.shape)
                                                    if j == argnum else onp.zeros_like(v)
                                                    for j, v in enumerate((y0, T, p))))
        onp.testing.assert_allclose(fwd, grads[argnum].ravel()[0], rtol=1e-7, atol=1e-8)


def test_second_order() -> None:
    y0, k = 1.7, 0.8
    tau = T - T[0]
    d2_k = onp.sum(W * tau ** 2 * y0 * onp.exp(-k * tau))
    onp.testing.assert_allclose(xform.hessian(decay_loss, argnums=2)(y0, T, k), d2_k, **CHECK)
    onp.testing.assert_allclose(xform.grad(xform.grad(decay_loss, argnums=2), argnums=2)(
        y0, T, k), d2_k, **CHECK)
    mixed = xform.grad(xform.grad(decay_loss, argnums=0), argnums=2)(y0, T, k)
    onp.testing.assert_allclose(mixed, onp.sum(W * -tau * onp.exp(-k * tau)), **CHECK)


def test_vmap_matches_a_loop() -> None:
    ks = onp.array([0.1, 0.5, 1.0])
    y0s = onp.array([[1.0, 2.0], [0.5, -1.0], [2.0, 0.0]])
    solve = lambda y0, t, k: odeint(decay, y0, t, k, **TOL)  # noqa: E731
    exact = {"rtol": 1e-13, "atol": 1e-13}   # separate solves per member: same numbers
    onp.testing.assert_allclose(xform.vmap(solve, (0, None, 0))(y0s, T, ks),
                                onp.stack([solve(y, T, k) for y, k in zip(y0s, ks)]), **exact)
    onp.testing.assert_allclose(xform.vmap(solve, (None, None, 0))(y0s[0], T, ks),
                                onp.stack([solve(y0s[0], T, k) for k in ks]), **exact)
    grids = onp.stack([T, T * 2.0, T + 1.0])
    onp.testing.assert_allclose(xform.vmap(solve, (0, 0, None))(y0s, grids, 0.3),
                                onp.stack([solve(y, t, 0.3) for y, t in zip(y0s, grids)]),
                                **exact)
    nested = xform.vmap(xform.vmap(solve, (0, None, None)), (None, None, 0))(y0s, T, ks)
    onp.testing.assert_allclose(nested, onp.stack([[solve(y, T, k) for y in y0s]
                                                   for k in ks]), **exact)
    g = xform.grad(decay_loss, argnums=2)
    onp.testing.assert_allclose(xform.vmap(g, (None, None, 0))(1.7, T, ks),
                                onp.stack([g(1.7, T, k) for k in ks]), **exact)


def test_integer_args_and_float32() -> None:
    def power_decay(y: Any, t: Any, k: Any, p: Any) -> Any:
        return -k * y ** p

    g = xform.grad(lambda k: np.sum(odeint(power_decay, 1.0, T, k, 1, **TOL) * W))(0.8)
    onp.testing.assert_allclose(g, decay_closed_form(1.0, T, 0.8)[3], **CHECK)

    y0 = onp.array([1.0, 2.0], onp.float32)
    t32, k32 = T.astype(onp.float32), onp.float32(0.8)
    out = odeint(decay, y0, t32, k32)
    assert out.dtype == onp.float32
    onp.testing.assert_allclose(out, y0 * onp.exp(-0.8 * (T - T[0]))[:, None], rtol=1e-6)
    grads = xform.grad(lambda y0, t, k: np.sum(odeint(decay, y0, t, k)), argnums=(0, 1, 2))(
        y0, t32, k32)
    assert all(g.dtype == onp.float32 for g in grads)


def test_traces_into_the_ir() -> None:
    jaxpr = xform.make_jaxpr(lambda y0, k: odeint(decay, y0, T, k))(onp.ones(2), 0.5)
    assert "odeint" in str(jaxpr)


def test_errors() -> None:
    with pytest.raises(ValueError, match="increasing"):
        odeint(decay, 1.0, onp.array([0.0, 1.0, 0.5]), 0.1)
    with pytest.raises(ValueError, match="1-D"):
        odeint(decay, 1.0, 0.5, 0.1)
    with pytest.raises(ValueError, match="structure and shapes"):
        odeint(lambda y, t: np.stack([y, y]), onp.ones(2), T)

    def branchy(y: Any, t: Any) -> Any:
        return -y if y[0] > 0 else y

    with pytest.raises(xform.ConcretizationError, match="odeint traces"):
        odeint(branchy, onp.ones(2), T)
    with pytest.raises(RuntimeError, match="odeint failed"):
        odeint(lambda y, t: -1e4 * (y - np.cos(t)), 1.0, onp.array([0.0, 100.0]),
               rtol=1e-12, atol=1e-12, mxstep=5)
