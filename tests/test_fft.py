"""xform.numpy.fft: values equal NumPy's, derivative conventions, grads against finite
differences, Jacobians, second order, vmap, float32, keyword arguments and errors.

Convention (JAX's): the reverse rule of a linear map is its *transpose*, never its
adjoint. For complex values the pairing is the bilinear ``sum(ct * J t)`` (its real
part for maps that are only real-linear, such as ``irfft`` of a complex spectrum).
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as onp
import pytest

import xform
import xform.numpy as np
from helpers import numerical_grad

RNG = onp.random.default_rng(20240607)


def randn(*shape: int) -> onp.ndarray:
    return RNG.standard_normal(shape)


def crandn(*shape: int) -> onp.ndarray:
    return RNG.standard_normal(shape) + 1j * RNG.standard_normal(shape)


def transpose_of(f: Callable[[Any], Any], x: Any, ct: Any) -> Any:
    """``J^T ct`` of ``f`` at ``x`` straight from the tape: ``xform.vjp`` accepts
    real primals only, and these checks need complex ones."""
    from xform.core.trace import current_trace, set_current
    from xform.interpreters.vjp import TapeTrace, TapeTracer, backward_pass
    trace = TapeTrace(current_trace())
    xt = TapeTracer(onp.asarray(x), trace)
    with set_current(trace):
        out = f(xt)
    trace.alive = False
    return onp.asarray(backward_pass(trace, [(out, onp.asarray(ct))])[xt])


# ----------------------------------------------------------------------------- values
X1 = randn(7)
X6 = randn(6)
X2 = randn(4, 5)
X3 = randn(3, 4, 5)
Z2 = crandn(4, 5)
H2 = crandn(4, 3)       # a half spectrum along the last axis

CASES = [
    ("fft", (X1,), {}), ("fft", (X6,), {}), ("fft", (X1,), {"n": 10}),
    ("fft", (X1,), {"n": 4}), ("fft", (X2,), {"axis": 0, "norm": "ortho"}),
    ("fft", (Z2,), {"norm": "forward"}), ("ifft", (Z2,), {"n": 6, "axis": -2}),
    ("ifft", (X1,), {"norm": "ortho"}),
    ("fft2", (X2,), {}), ("fft2", (X3,), {"s": (5, 3), "axes": (0, 2)}),
    ("ifft2", (Z2,), {"norm": "forward"}),
    ("fftn", (X3,), {}), ("fftn", (X3,), {"axes": (0, 2)}),
    ("fftn", (X2,), {"s": (2, 6), "axes": (0, 1)}),
    ("ifftn", (X3,), {"s": (2, 4, 7), "axes": (0, 1, 2), "norm": "ortho"}),
    ("rfft", (X1,), {}), ("rfft", (X6,), {"n": 9}), ("rfft", (X6,), {"n": 4}),
    ("rfft", (X2,), {"axis": 0, "norm": "forward"}),
    ("irfft", (H2,), {}), ("irfft", (H2,), {"n": 5}), ("irfft", (H2,), {"n": 3}),
    ("irfft", (H2,), {"n": 9, "norm": "ortho"}), ("irfft", (H2,), {"axis": 0, "n": 7}),
    ("rfft2", (X2,), {}), ("rfft2", (X3,), {"s": (4, 3), "axes": (2, 0)}),
    ("irfft2", (H2,), {"s": (3, 5)}), ("irfft2", (H2,), {"norm": "forward"}),
    ("rfftn", (X3,), {}), ("rfftn", (X3,), {"axes": (0, 1), "norm": "ortho"}),
    ("irfftn", (crandn(3, 4, 3),), {"s": (4, 5, 5), "axes": (0, 1, 2)}),
    ("irfftn", (crandn(3, 4, 3),), {}),
    ("fftshift", (X2,), {}), ("fftshift", (X3,), {"axes": 1}),
    ("ifftshift", (X3,), {"axes": (0, 2)}), ("ifftshift", (X1,), {}),
]


@pytest.mark.parametrize("name,args,kwargs", CASES,
                         ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(CASES)])
def test_values_match_numpy(name: str, args: tuple, kwargs: dict) -> None:
    out = getattr(np.fft, name)(*args, **kwargs)
    expected = getattr(onp.fft, name)(*args, **kwargs)
    assert out.shape == expected.shape and out.dtype == expected.dtype
    onp.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)


def test_s_without_axes_means_the_last_axes() -> None:
    # NumPy 2 deprecates this spelling (it warns); xform keeps its current meaning
    onp.testing.assert_allclose(np.fft.fftn(X3, s=(2, 6)),
                                onp.fft.fftn(X3, s=(2, 6), axes=(1, 2)), atol=1e-12)
    onp.testing.assert_allclose(np.fft.irfftn(H2, s=(3, 5)),
                                onp.fft.irfftn(H2, s=(3, 5), axes=(0, 1)), atol=1e-12)


def test_frequencies_and_integer_inputs() -> None:
    onp.testing.assert_array_equal(np.fft.fftfreq(7, 0.5), onp.fft.fftfreq(7, 0.5))
    onp.testing.assert_array_equal(np.fft.rfftfreq(8), onp.fft.rfftfreq(8))
    ints = onp.arange(6)
    onp.testing.assert_allclose(np.fft.fft(ints), onp.fft.fft(ints))
    onp.testing.assert_array_equal(np.fft.fftshift(ints), onp.fft.fftshift(ints))


def test_float32_stays_single_precision() -> None:
    x = X1.astype(onp.float32)
    assert np.fft.fft(x).dtype == onp.complex64
    assert np.fft.rfft(x).dtype == onp.complex64
    assert np.fft.irfft(np.fft.rfft(x), n=7).dtype == onp.float32
    g = xform.grad(lambda x: np.sum(np.abs(np.fft.fft(x)) ** 2))(x)
    assert g.dtype == onp.float32
    onp.testing.assert_allclose(g, 2 * 7 * X1, rtol=1e-5)
    out, t = xform.jvp(lambda x: np.fft.rfft(x, n=8), (x,), (onp.ones(7, onp.float32),))
    assert out.dtype == onp.complex64 and t.dtype == onp.complex64
    _, pull = xform.vjp(lambda x: np.fft.irfft(np.fft.rfft(x), n=7), x)
    assert pull(onp.ones(7, onp.float32))[0].dtype == onp.float32


# ----------------------------------------------------------------------------- conventions
C_LINEAR = [  # complex in, complex out: the full bilinear pairing must agree
    ("fft", lambda z: np.fft.fft(z)),
    ("fft n=8 (pad)", lambda z: np.fft.fft(z, n=8)),
    ("fft n=3 (crop) ortho", lambda z: np.fft.fft(z, n=3, norm="ortho")),
    ("ifft forward", lambda z: np.fft.ifft(z, norm="forward")),
    ("fft2", lambda z: np.fft.fft2(z)),
    ("ifftn s", lambda z: np.fft.ifftn(z, s=(3, 6))),
    ("fftshift", lambda z: np.fft.fftshift(np.fft.fft(z, axis=0))),
]


@pytest.mark.parametrize("label,f", C_LINEAR, ids=[c[0] for c in C_LINEAR])
def test_transpose_bilinear_pairing_complex(label: str, f: Callable[[Any], Any]) -> None:
    z, t = crandn(4, 5), crandn(4, 5)
    out, jt = xform.jvp(f, (z,), (t,))
    ct = crandn(*out.shape)
    jtct = transpose_of(f, z, ct)
    assert jtct.shape == z.shape
    onp.testing.assert_allclose(onp.sum(ct * jt), onp.sum(jtct * t), rtol=1e-12)


@pytest.mark.parametrize("norm", ["backward", "ortho", "forward"])
def test_transpose_of_fft_is_fft_not_its_adjoint(norm: str) -> None:
    z, ct = crandn(7), crandn(7)
    # the DFT matrix is symmetric: the transpose of fft is fft itself (same norm)
    g = xform.grad(lambda z: np.sum(ct * np.fft.fft(z, norm=norm)), holomorphic=True)(z)
    onp.testing.assert_allclose(g, onp.fft.fft(ct, norm=norm), rtol=1e-12, atol=1e-12)
    adjoint = onp.conj(onp.fft.fft(onp.conj(ct), norm=norm))
    assert not onp.allclose(g, adjoint)
    onp.testing.assert_allclose(transpose_of(lambda z: np.fft.ifft(z, norm=norm), z, ct),
                                onp.fft.ifft(ct, norm=norm), rtol=1e-12, atol=1e-12)
    jac = xform.jacfwd(lambda z: np.fft.fft(z, norm=norm), holomorphic=True)(z)
    onp.testing.assert_allclose(jac, onp.fft.fft(onp.eye(7), axis=0, norm=norm), atol=1e-12)


@pytest.mark.parametrize("n", [5, 6, 1, 2])
@pytest.mark.parametrize("norm", ["backward", "ortho", "forward"])
def test_rfft_transpose_is_real_part_of_padded_fft(n: int, norm: str) -> None:
    """rfft's transpose maps a complex half spectrum back to a real signal:
    ``Re(fft(ct zero-padded to n))`` (the weighting of paired bins, which differs for
    odd and even n, is what makes the compact rule agree with this)."""
    x = randn(3, n)
    ct = crandn(3, n // 2 + 1)
    _, pull = xform.vjp(lambda x: np.fft.rfft(x, norm=norm), x)
    (g,) = pull(ct)
    assert g.dtype == onp.float64
    padded = onp.concatenate([ct, onp.zeros((3, n - n // 2 - 1))], axis=1)
    onp.testing.assert_allclose(g, onp.real(onp.fft.fft(padded, norm=norm)), atol=1e-12)


@pytest.mark.parametrize("s", [(4, 5), (4, 6), (3, 1)])
@pytest.mark.parametrize("norm", ["backward", "ortho", "forward"])
def test_irfft_transpose_real_pairing(s: tuple[int, int], norm: str) -> None:
    """irfft of a complex spectrum is only real-linear (it ignores the imaginary part
    of self-conjugate bins), so the identity holds for the real part of the pairing."""
    m = s[-1] // 2 + 1
    y, t = crandn(s[0], m), crandn(s[0], m)

    def f(y: Any) -> Any:
        return np.fft.irfftn(y, s=s, norm=norm)

    _, jt = xform.jvp(f, (y,), (t,))
    ct = randn(*s)
    jtct = transpose_of(f, y, ct)
    onp.testing.assert_allclose(onp.sum(ct * jt), onp.real(onp.sum(jtct * t)), rtol=1e-11)
    # against the dense real Jacobian of (Re y, Im y) -> irfftn(y)
    eye = onp.eye(y.size).reshape((y.size,) + y.shape)
    def dense(scale: complex) -> onp.ndarray:
        return onp.stack([onp.fft.irfftn(scale * e, s=s, axes=(0, 1), norm=norm).ravel()
                          for e in eye], axis=1)

    dense_re, dense_im = dense(1.0), dense(1j)
    expected = (dense_re.T @ ct.ravel()) - 1j * (dense_im.T @ ct.ravel())
    onp.testing.assert_allclose(jtct.ravel(), expected, atol=1e-12)


# ----------------------------------------------------------------------------- gradients
@pytest.mark.parametrize("n", [7, 8])
def test_parseval_gradient(n: int) -> None:
    x = randn(n)
    g = xform.grad(lambda x: np.sum(np.abs(np.fft.fft(x)) ** 2))(x)
    onp.testing.assert_allclose(g, 2 * n * x, rtol=1e-12)
    g = xform.grad(lambda x: np.sum(np.abs(np.fft.fft(x, norm="ortho")) ** 2))(x)
    onp.testing.assert_allclose(g, 2 * x, rtol=1e-12)


REAL_LOSSES = [
    ("|rfft|^2 odd", lambda x: np.sum(np.abs(np.fft.rfft(x)) ** 2 * onp.arange(1.0, 5.0)), 7),
    ("|rfft|^2 even", lambda x: np.sum(np.abs(np.fft.rfft(x)) ** 2 * onp.arange(1.0, 5.0)), 6),
    ("rfft n pad", lambda x: np.sum(np.abs(np.fft.rfft(x, n=9, norm="ortho")) ** 3), 6),
    ("rfft n crop", lambda x: np.sum(np.abs(np.fft.rfft(x, n=4)) ** 2), 6),
    ("irfft of fft slice", lambda x: np.sum(np.fft.irfft(np.fft.fft(x)[:4], n=7) ** 3), 6),
    ("irfft even", lambda x: np.sum(np.sin(np.fft.irfft(np.fft.fft(x)[:4], n=6))), 5),
    ("irfft of a + ib", lambda x: np.sum(np.fft.irfft(x[:4] + 1j * x[4:], n=7) ** 3), 8),
    # for even n, irfft ignores the imaginary parts of the zero and Nyquist bins
    ("irfft of a + ib even", lambda x: np.sum(np.fft.irfft(x[:4] + 1j * x[4:], n=6) ** 3), 8),
    ("filter", lambda x: np.sum(np.fft.irfft(np.fft.rfft(x) * onp.array([1, .5, .25, 0]), 7)
                                ** 2), 7),
    ("ifft", lambda x: np.sum(np.abs(np.fft.ifft(np.fft.fft(x) * onp.arange(6.0))) ** 2), 6),
    ("shifted", lambda x: np.sum(np.fft.fftshift(np.abs(np.fft.fft(x))) * onp.arange(5.0)), 5),
]


@pytest.mark.parametrize("label,f,n", REAL_LOSSES, ids=[c[0] for c in REAL_LOSSES])
def test_grad_of_real_loss_matches_finite_differences(label: str, f: Any, n: int) -> None:
    x = randn(n)
    onp.testing.assert_allclose(xform.grad(f)(x), numerical_grad(f, x), rtol=1e-6, atol=1e-7)


def test_grad_2d_transforms_with_sizes() -> None:
    X = randn(4, 5)
    W = randn(5, 4)

    def f(X: Any) -> Any:
        spec = np.fft.fft2(X, s=(5, 4), norm="ortho")
        half = np.fft.rfftn(X, s=(3, 6), axes=(1, 0))
        back = np.fft.irfft2(np.fft.rfft2(X), s=(4, 5))
        return np.sum(np.abs(spec) ** 2 * W) + np.sum(np.abs(half)) + np.sum(back ** 3)

    onp.testing.assert_allclose(xform.grad(f)(X), numerical_grad(f, X), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("n", [6, 7])
def test_jacobians_of_circular_convolution(n: int) -> None:
    h = randn(n)

    def f(x: Any) -> Any:
        return np.fft.irfft(np.fft.rfft(x) * onp.fft.rfft(h), n=n)

    x = randn(n)
    circulant = onp.stack([onp.roll(h, k) for k in range(n)], axis=1)
    onp.testing.assert_allclose(xform.jacfwd(f)(x), circulant, atol=1e-12)
    onp.testing.assert_allclose(xform.jacrev(f)(x), circulant, atol=1e-12)


def test_second_order() -> None:
    x = randn(6)

    def f(x: Any) -> Any:
        return np.sum(np.abs(np.fft.rfft(x)) ** 4) + np.sum(np.fft.irfft(np.fft.fft(x)[:3]) ** 3)

    hess = xform.hessian(f)(x)
    fd = numerical_grad(lambda v: xform.grad(f)(v)[2], x)
    onp.testing.assert_allclose(hess[2], fd, rtol=1e-6, atol=1e-6)
    onp.testing.assert_allclose(hess, hess.T, rtol=1e-10)
    onp.testing.assert_allclose(xform.jacrev(xform.grad(f))(x), hess, rtol=1e-10)


# ----------------------------------------------------------------------------- vmap
def test_vmap_matches_a_loop() -> None:
    X = randn(4, 6)
    Z = crandn(3, 4, 5)
    H = crandn(5, 3, 4)
    f = lambda x: np.fft.rfft(x, n=7, norm="ortho")  # noqa: E731
    onp.testing.assert_allclose(xform.vmap(f)(X), onp.stack([f(x) for x in X]), atol=1e-12)
    f2 = lambda z: np.fft.fft2(z, s=(5, 4))  # noqa: E731
    onp.testing.assert_allclose(xform.vmap(f2, in_axes=2)(Z),
                                onp.stack([f2(Z[:, :, k]) for k in range(5)]), atol=1e-12)
    f3 = lambda y: np.fft.irfftn(y, s=(3, 6))  # noqa: E731
    onp.testing.assert_allclose(xform.vmap(f3)(H), onp.stack([f3(h) for h in H]), atol=1e-12)
    f4 = lambda x: np.fft.ifftshift(np.fft.ifft(x, n=5))  # noqa: E731
    onp.testing.assert_allclose(xform.vmap(f4, in_axes=1, out_axes=1)(X),
                                onp.stack([f4(x) for x in X.T], axis=1), atol=1e-12)
    loss = lambda x: np.sum(np.abs(np.fft.rfft(x)) ** 3)  # noqa: E731
    onp.testing.assert_allclose(xform.vmap(xform.grad(loss))(X),
                                onp.stack([xform.grad(loss)(x) for x in X]), atol=1e-12)


# ----------------------------------------------------------------------------- errors
def test_errors() -> None:
    with pytest.raises(ValueError, match="norm"):
        np.fft.fft(X1, norm="unitary")
    with pytest.raises(TypeError, match="real input"):
        np.fft.rfft(crandn(4))
    with pytest.raises(ValueError, match="Invalid number of FFT data points"):
        np.fft.irfft(crandn(1))
    with pytest.raises(ValueError, match="same length"):
        np.fft.fftn(X2, s=(3,), axes=(0, 1))
    with pytest.raises(ValueError, match="out of bounds"):
        np.fft.fft(X2, axis=2)
