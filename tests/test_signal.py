"""xform.scipy.signal: convolve/correlate/fftconvolve equal SciPy's; derivatives in both
inputs against finite differences (every mode, odd and even sizes, N-d); the reverse
rule is a correlation; Jacobians, second order, vmap, float32 and errors."""
from __future__ import annotations

from typing import Any

import numpy as onp
import pytest
import scipy.signal as ss

import xform
import xform.numpy as np
from xform.scipy import signal
from helpers import numerical_grad

RNG = onp.random.default_rng(7)
MODES = ["full", "same", "valid"]
METHODS = ["auto", "direct", "fft"]
SHAPES = [((7,), (3,)), ((3,), (6,)), ((4, 5), (2, 3)), ((2, 3), (4, 5)), ((3, 3), (3, 3))]


def randn(*shape: int) -> onp.ndarray:
    return RNG.standard_normal(shape)


@pytest.mark.parametrize("s1,s2", SHAPES)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("method", METHODS)
def test_values_match_scipy(s1: tuple, s2: tuple, mode: str, method: str) -> None:
    a, b = randn(*s1), randn(*s2)
    for ours, theirs in [(signal.convolve, ss.convolve), (signal.correlate, ss.correlate)]:
        out = ours(a, b, mode=mode, method=method)
        expected = theirs(a, b, mode=mode, method=method)
        assert out.shape == expected.shape
        onp.testing.assert_allclose(out, expected, rtol=1e-10, atol=1e-12)


def test_complex_zero_d_and_fftconvolve_axes() -> None:
    a = randn(5) + 1j * randn(5)
    b = randn(3) + 1j * randn(3)
    for mode in MODES:
        onp.testing.assert_allclose(signal.convolve(a, b, mode), ss.convolve(a, b, mode))
        onp.testing.assert_allclose(signal.correlate(b, a, mode), ss.correlate(b, a, mode))
    assert float(signal.convolve(onp.float64(2.0), onp.float64(3.0))) == 6.0
    A, B = randn(3, 6, 4), randn(1, 3, 4)
    for mode in MODES:
        for axes in (1, [0, 1], None):
            if axes is None and mode == "valid":
                continue  # SciPy needs one input larger in every axis
            onp.testing.assert_allclose(signal.fftconvolve(A, B, mode, axes=axes),
                                        ss.fftconvolve(A, B, mode, axes=axes), atol=1e-12)


@pytest.mark.parametrize("s1,s2", SHAPES)
@pytest.mark.parametrize("mode", MODES)
def test_grads_in_both_inputs(s1: tuple, s2: tuple, mode: str) -> None:
    a, b = randn(*s1), randn(*s2)
    w = randn(*ss.convolve(a, b, mode).shape)

    def loss(a: Any, b: Any) -> Any:
        out = signal.convolve(a, b, mode=mode)
        return np.sum(out * w) + np.sum(out ** 2)

    ga, gb = xform.grad(loss, argnums=(0, 1))(a, b)
    onp.testing.assert_allclose(ga, numerical_grad(loss, a, args=(b,)), rtol=1e-6, atol=1e-7)
    onp.testing.assert_allclose(gb, numerical_grad(loss, b, argnum=1, args=(a,)),
                                rtol=1e-6, atol=1e-7)


def test_reverse_rule_is_a_correlation() -> None:
    a, b = randn(8), randn(3)
    ct = randn(10)
    _, pull = xform.vjp(lambda a, b: signal.convolve(a, b), a, b)
    ga, gb = pull(ct)
    onp.testing.assert_allclose(ga, ss.correlate(ct, b, mode="valid"), atol=1e-12)
    onp.testing.assert_allclose(gb, ss.correlate(ct, a, mode="valid"), atol=1e-12)


def test_correlate_and_fftconvolve_grads() -> None:
    a, b = randn(4, 6), randn(3, 2)

    def loss(a: Any, b: Any) -> Any:
        return (np.sum(signal.correlate(a, b, "same") ** 2)
                + np.sum(np.sin(signal.fftconvolve(a, b, "valid", axes=[0, 1]))))

    ga, gb = xform.grad(loss, argnums=(0, 1))(a, b)
    onp.testing.assert_allclose(ga, numerical_grad(loss, a, args=(b,)), rtol=1e-6, atol=1e-7)
    onp.testing.assert_allclose(gb, numerical_grad(loss, b, argnum=1, args=(a,)),
                                rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("mode", MODES)
def test_jacobians(mode: str) -> None:
    a, b = randn(4, 5), randn(2, 2)
    for method in ("direct", "fft"):
        f = lambda b: signal.convolve(a, b, mode, method)  # noqa: E731
        jf, jr = xform.jacfwd(f)(b), xform.jacrev(f)(b)
        onp.testing.assert_allclose(jf, jr, atol=1e-12)
        # the convolution is linear in b: its Jacobian applied to b is the output
        onp.testing.assert_allclose(onp.einsum("...ij,ij->...", jf, b), f(b), atol=1e-12)


def test_second_order() -> None:
    a, b = randn(6), randn(3)

    def loss(a: Any, b: Any) -> Any:
        return np.sum(signal.convolve(a, b, "same") ** 3)

    hess = xform.hessian(loss, argnums=1)(a, b)
    fd = numerical_grad(lambda v: xform.grad(loss, argnums=1)(a, v)[0], b)
    onp.testing.assert_allclose(hess[0], fd, rtol=1e-6, atol=1e-6)
    mixed = xform.jacfwd(xform.grad(loss, argnums=0), argnums=1)(a, b)
    fd_mixed = numerical_grad(lambda v: xform.grad(loss, argnums=0)(a, v)[2], b)
    onp.testing.assert_allclose(mixed[2], fd_mixed, rtol=1e-6, atol=1e-6)


def test_vmap_matches_a_loop() -> None:
    X, K = randn(4, 9), randn(4, 3)
    k = K[0]
    for mode in MODES:
        for method in METHODS:
            f = lambda x, k: signal.convolve(x, k, mode, method)  # noqa: E731
            loop = onp.stack([ss.convolve(x, kk, mode, method) for x, kk in zip(X, K)])
            onp.testing.assert_allclose(xform.vmap(f)(X, K), loop, atol=1e-12)
            onp.testing.assert_allclose(xform.vmap(f, in_axes=(0, None))(X, k),
                                        onp.stack([ss.convolve(x, k, mode) for x in X]),
                                        atol=1e-12)
            onp.testing.assert_allclose(xform.vmap(f, in_axes=(None, 1))(X[0], K.T),
                                        onp.stack([ss.convolve(X[0], kk, mode) for kk in K]),
                                        atol=1e-12)
    # nested vmap, and vmap of a gradient
    XX = randn(2, 3, 7)
    nested = xform.vmap(xform.vmap(lambda x, k: signal.convolve(x, k, "same"), (0, None)),
                        (0, None))(XX, k)
    onp.testing.assert_allclose(nested, onp.stack([[ss.convolve(x, k, "same") for x in xs]
                                                   for xs in XX]), atol=1e-12)
    g = xform.grad(lambda k, x: np.sum(signal.convolve(x, k, "valid") ** 2))
    onp.testing.assert_allclose(xform.vmap(g, (None, 0))(k, X),
                                onp.stack([g(k, x) for x in X]), atol=1e-12)


def test_float32() -> None:
    a, b = randn(6).astype(onp.float32), randn(3).astype(onp.float32)
    for method in METHODS:
        assert signal.convolve(a, b, method=method).dtype == onp.float32
        g = xform.grad(lambda a: np.sum(signal.convolve(a, b, "same", method) ** 2))(a)
        assert g.dtype == onp.float32
    batched = xform.vmap(lambda a: signal.convolve(a, b, method="direct"))(onp.stack([a, a]))
    assert batched.dtype == onp.float32


def test_errors() -> None:
    with pytest.raises(ValueError, match="mode"):
        signal.convolve(randn(3), randn(2), mode="wrap")
    with pytest.raises(ValueError, match="method"):
        signal.convolve(randn(3), randn(2), method="fast")
    with pytest.raises(ValueError, match="dimensionality"):
        signal.convolve(randn(3), randn(2, 2))
    with pytest.raises(ValueError, match="at least as large"):
        signal.convolve(randn(3, 2), randn(2, 3), mode="valid")
