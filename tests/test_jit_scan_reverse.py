"""Reverse mode of a staged scan runs its forward loop once: the loop that saves the
residuals also gives the scan's outputs (before, jit(grad) of a ``fori_loop`` ran
the primal loop for the outputs and again for the residuals, three loops in all);
the other transforms of that recorded call (jvp on top, vmap, linearize) agree with
eager evaluation. And the jit emitters of ``roll`` and ``getitem`` (no call of the
implementation) agree with NumPy for every shift, axis and index kind."""
from __future__ import annotations

import numpy as onp
import pytest

import xform
import xform.numpy as np
from xform import lax
from xform.test_util import check_grads

RNG = onp.random.default_rng(3)


def loss(a, c, y0):
    y = lax.fori_loop(0, 30, lambda i, y: np.tanh(y * a + np.roll(c, 1) * y[::-1]), y0)
    return np.sum(y ** 2)


def args():
    return RNG.standard_normal(5), RNG.standard_normal(5), RNG.standard_normal(5)


def _scans(closed) -> int:
    return sum(e.prim.name == "scan" for e in closed.jaxpr.eqns)


@pytest.mark.parametrize("transform", [xform.grad, xform.value_and_grad])
def test_grad_of_a_staged_loop_runs_two_loops(transform) -> None:
    a, c, y0 = args()
    g = transform(loss, (0, 1, 2))
    assert _scans(xform.make_jaxpr(g)(a, c, y0)) == 2  # forward with residuals, backward
    lowered = xform.jit(g).lower(a, c, y0)
    assert _scans(lowered.optimized) == 2
    got, want = xform.jit(g)(a, c, y0), g(a, c, y0)  # eager: a Python loop, no scan
    xform.tree_util.tree_map(lambda u, v: onp.testing.assert_allclose(u, v, rtol=1e-12),
                             got, want)


def test_derivatives_through_the_recorded_scan() -> None:
    a, c, y0 = args()
    jl = xform.jit(loss)
    check_grads(jl, (a, c, y0), order=2, modes=("rev",))
    check_grads(lambda a: xform.grad(jl)(a, c, y0), (a,), order=1)
    hess = xform.jit(xform.hessian(loss))
    onp.testing.assert_allclose(hess(a, c, y0), xform.hessian(loss)(a, c, y0), rtol=1e-10)
    batch = RNG.standard_normal((3, 5))
    per_row = xform.jit(xform.vmap(xform.grad(loss), (0, None, None)))(batch, c, y0)
    want = onp.stack([xform.grad(loss)(b, c, y0) for b in batch])
    onp.testing.assert_allclose(per_row, want, rtol=1e-12)
    y, lin = xform.linearize(lambda a: jl(a, c, y0), a)
    t = RNG.standard_normal(5)
    onp.testing.assert_allclose(lin(t), xform.jvp(lambda a: loss(a, c, y0), (a,), (t,))[1],
                                rtol=1e-10)
    z = RNG.standard_normal(4) + 1j * RNG.standard_normal(4)

    def complex_loss(z):
        w = lax.fori_loop(0, 5, lambda i, w: w * np.exp(0.1j * w), z)
        return np.sum(np.real(w * np.conj(w)))
    check_grads(xform.jit(complex_loss), (z,), order=1)


def test_recorded_scan_under_inner_jvp_and_vmap() -> None:
    """The recorded call meets transforms nested inside grad: a jvp and a vmap whose
    own tracers enter the loop next to the tape's (the call's jvp and batch rules)."""
    a, c, y0 = args()
    t = RNG.standard_normal(5)

    def inner_jvp(a):
        return xform.jvp(lambda y: loss(a, c, y), (y0,), (t,))[1]

    def inner_vmap(a):
        return np.sum(xform.vmap(lambda y: loss(a, c, y))(np.stack([y0, 2 * y0])))

    for f in (inner_jvp, inner_vmap):
        onp.testing.assert_allclose(xform.jit(xform.grad(f))(a), xform.grad(f)(a),
                                    rtol=1e-10)


@pytest.mark.parametrize("shift", [-7, -5, -4, -1, 0, 1, 2, 4, 5, 9])
def test_jit_roll_matches_numpy(shift: int) -> None:
    x = RNG.standard_normal((3, 4, 5))
    for axis in (-3, -2, -1, 0, 1, 2):
        f = xform.jit(lambda x: np.roll(x, shift, axis))
        onp.testing.assert_array_equal(f(x), onp.roll(x, shift, axis))
    f = xform.jit(lambda x: np.roll(x, (shift, 1), (0, 2)))
    onp.testing.assert_array_equal(f(x), onp.roll(x, (shift, 1), (0, 2)))


def test_jit_getitem_is_indexing_in_the_source() -> None:
    x = RNG.standard_normal((4, 5, 6))
    idx = onp.array([[0, 3], [2, 2]])
    cases = [lambda x: x[1], lambda x: x[1:3, ::-2], lambda x: x[None, ..., 2],
             lambda x: x[idx, :, idx], lambda x: x[:, idx][..., 1:], lambda x: x[-1, -2, -3],
             lambda x: x[()], lambda x: x[onp.array([True, False, True, True])]]
    for f in cases:
        onp.testing.assert_array_equal(xform.jit(f)(x), f(x))
    source = xform.jit(lambda x: x[idx, 1:]).lower(x).python_source()
    assert "a0[(" in source


def _stacked_lists(source: str) -> int:
    return source.count("= [None] * ")


@pytest.mark.parametrize("reverse", [False, True])
def test_small_residuals_are_kept_per_step_in_lists(reverse: bool) -> None:
    """The residuals that only the backward loop reads, step by step, are a list of
    the steps' values when each is small (no stacking copy); the gradient is the
    eager one, for a forward and a reverse scan, with a residual that is a view of a
    larger per-step array (copied, so it does not keep that array alive)."""
    a, c, y0 = args()

    def f(a, c, y0):
        def step(y, x):
            wide = np.outer(y, c)  # a residual read through a view of a 5x5 array
            y = np.tanh(wide[0] * a + x + y)
            return y, np.sum(y)
        y, ys = lax.scan(step, y0, np.arange(12.0).reshape(12, 1) * a[:1], reverse=reverse)
        return np.sum(y ** 2) + np.sum(np.sin(ys))
    g = xform.grad(f, (0, 1, 2))
    jitted = xform.jit(g)
    for got, want in zip(jitted(a, c, y0), g(a, c, y0)):
        onp.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
    assert _stacked_lists(jitted.lower(a, c, y0).python_source()) >= 1
    check_grads(f, (a, c, y0), order=1, modes=("rev",))


def test_stacked_outputs_the_program_returns_stay_arrays() -> None:
    """A scan's stacked output that the program returns (or that anything but a later
    loop reads) is an array, however small its steps."""
    def f(y0):
        return lax.scan(lambda y, _: (np.sin(y), y * 2.0), y0, None, length=7)
    y0 = RNG.standard_normal(3)
    jitted = xform.jit(f)
    carry, ys = jitted(y0)
    want_carry, want_ys = f(y0)
    assert type(ys) is onp.ndarray and ys.shape == (7, 3)
    onp.testing.assert_allclose(ys, want_ys, rtol=1e-15)
    onp.testing.assert_allclose(carry, want_carry, rtol=1e-15)
    assert _stacked_lists(jitted.lower(y0).python_source()) == 0

    def g(y0):  # ys read by a later loop and by a sum: not a list
        _, ys = lax.scan(lambda y, _: (np.sin(y), y * 2.0), y0, None, length=7)
        _, zs = lax.scan(lambda s, y: (s + y, s), np.zeros(3), ys)
        return np.sum(zs) + np.sum(ys)
    onp.testing.assert_allclose(xform.jit(g)(y0), g(y0), rtol=1e-13)
    assert _stacked_lists(xform.jit(g).lower(y0).python_source()) == 0
