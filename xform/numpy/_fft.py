"""Discrete Fourier transforms: three linear primitives and the NumPy functions on them.

May import: the core and the family files up to ``_signal`` (order: ``__init__``).

* ``fft``   complex-to-complex over ``axes`` (forward or inverse, any norm);
* ``rfft``  real-to-half-spectrum over ``axes`` (the last axis is halved);
* ``irfft`` half-spectrum-to-real of a given length ``n`` along the last axis.

Every transform is linear, so its tangent is the same transform of the tangent. The
reverse rules are *transposes* (JAX's convention: no complex conjugation), paired
with the real part of the bilinear product ``Re sum(ct * J t)``:

* the DFT matrix is symmetric, so the transpose of ``fft`` is ``fft`` with the same
  norm (its real part when the input was real);
* ``rfft``'s transpose is an ``irfft`` of the spectrum weighted by 1/2 on the bins
  that stand for a conjugate pair (all but the zero bin, and the Nyquist bin for
  even ``n``), evaluated at the reversed indices ``-j mod n``;
* ``irfft``'s transpose is an ``rfft`` of the reversed cotangent, weighted by 2 on
  those same paired bins.

Index reversal (a flip and a roll by one) stands in for complex conjugation, so the
rules need nothing but the three transforms, which makes them differentiable again.
Crop and zero-pad (``n=``/``s=``) are done with slicing and concatenation outside
the primitives.
"""
from __future__ import annotations

from typing import Any, Literal, Sequence

import numpy as np

from ..core.arrays import zeros
from ..core.trace import like_value
from ..core.rules import Primitive, bind, const_like, deflinear, dtype_of, move_to_front, real_only, shape_of
from ._creation import asarray
from ._elementwise import astype, is_complex, real
from ._shape import concatenate, roll

Axes = tuple[int, ...]
Norm = Literal["backward", "ortho", "forward"]

_NORMS = ("backward", "ortho", "forward")
# The transpose of a transform scaled by 1 (backward) pairs with the inverse transform
# that scales by 1 as well, which NumPy calls "forward"; ortho pairs with ortho.
_SWAP_NORM = {"backward": "forward", "ortho": "ortho", "forward": "backward"}


def _real_dtype(dt: Any) -> np.dtype:
    """The real dtype of the same precision (float32 for complex64)."""
    dt = np.dtype(dt)
    if dt in (np.dtype(np.float32), np.dtype(np.complex64)):
        return np.dtype(np.float32)
    return np.dtype(np.float64)


def _reverse(x: Any, axes: Axes) -> Any:
    """``x[-j mod n]`` along each of ``axes`` (index 0 stays in place)."""
    index: list[Any] = [slice(None)] * len(shape_of(x))
    for a in axes:
        index[a] = slice(None, None, -1)
    return roll(x[tuple(index)], tuple(1 for _ in axes), tuple(axes))


def _pair_weights(n: int, axis: int, ndim: int, half: bool, dtype: Any) -> np.ndarray:
    """Along the half-spectrum ``axis``: 1 on the self-conjugate bins (zero, and
    Nyquist for even ``n``), and 1/2 (``half``) or 2 on the bins standing for a pair."""
    m = n // 2 + 1
    w = np.full(m, 0.5 if half else 2.0, dtype=_real_dtype(dtype))
    w[0] = 1.0
    if n % 2 == 0:
        w[-1] = 1.0
    return w.reshape((m,) + (1,) * (ndim - axis - 1))


# ------------------------------------------------------------------------ fft (complex)
def _fft_impl(x: Any, axes: Axes, norm: Norm, inverse: bool) -> Any:
    fn = np.fft.ifftn if inverse else np.fft.fftn
    return fn(x, axes=axes, norm=norm)


fft_p = Primitive("fft", _fft_impl)


def _fft_transpose(ct: Any, ans: Any, x: Any, axes: Axes, norm: str, inverse: bool) -> Any:
    out = bind(fft_p, ct, axes=axes, norm=norm, inverse=inverse)
    return out if is_complex(x) else real(out)


deflinear(fft_p, _fft_transpose)


# ------------------------------------------------------------------------ rfft
def _rfft_impl(x: Any, axes: Axes, norm: Norm) -> Any:
    return np.fft.rfftn(x, axes=axes, norm=norm)


def _rfft_transpose(ct: Any, ans: Any, x: Any, axes: Axes, norm: str) -> Any:
    n = shape_of(x)[axes[-1]]
    y = ct * const_like(_pair_weights(n, axes[-1], len(shape_of(x)), True, dtype_of(ct)), ct)
    out = bind(irfft_p, y, axes=axes, n=n, norm=_SWAP_NORM[norm])
    return _reverse(out, axes)


rfft_p = Primitive("rfft", _rfft_impl)
deflinear(rfft_p, _rfft_transpose)


# ------------------------------------------------------------------------ irfft
def _irfft_impl(y: Any, axes: Axes, n: int, norm: Norm) -> Any:
    s = [np.shape(y)[a] for a in axes[:-1]] + [n]
    return np.fft.irfftn(y, s=s, axes=axes, norm=norm)


def _irfft_transpose(ct: Any, ans: Any, y: Any, axes: Axes, n: int, norm: str) -> Any:
    # the output is real, so only the real part of a cotangent pairs with it
    spec = bind(rfft_p, _reverse(real(ct), axes), axes=axes, norm=_SWAP_NORM[norm])
    out = spec * const_like(_pair_weights(n, axes[-1], len(shape_of(y)), False, dtype_of(ct)),
                            spec)
    return out if is_complex(y) else real(out)


irfft_p = Primitive("irfft", _irfft_impl)
deflinear(irfft_p, _irfft_transpose)


# ------------------------------------------------------------------------ batching
def _batch_axes(prim: Primitive) -> None:
    """The batch axis goes to the front; the transform axes move up by one."""
    def rule(vals: Sequence[Any], dims: Sequence[Any], params: dict) -> tuple[Any, int]:
        x = move_to_front(vals[0], dims[0])
        new = dict(params)
        new["axes"] = tuple(a + 1 for a in params["axes"])
        return bind(prim, x, **new), 0
    prim.batch = rule


for _p in (fft_p, rfft_p, irfft_p):
    _batch_axes(_p)
real_only(rfft_p, "rfft transforms real signals; use fft for complex ones")


# ------------------------------------------------------------------------ NumPy functions
def _norm(norm: str | None) -> str:
    if norm is None:
        return "backward"
    if norm not in _NORMS:
        raise ValueError(f'Invalid norm value {norm!r}; should be "backward", "ortho" '
                         'or "forward".')
    return norm


def _as_inexact(a: Any) -> Any:
    a = asarray(a)
    if not np.issubdtype(dtype_of(a), np.inexact):
        a = astype(a, np.float64)
    return a


def _fit(x: Any, axis: int, size: int) -> Any:
    """``x`` cropped or zero-padded at the end of ``axis`` to ``size``."""
    shape = shape_of(x)
    have = shape[axis]
    if size < 1:
        raise ValueError(f"Invalid number of FFT data points ({size}) specified.")
    if have == size:
        return x
    if have > size:
        index: list[Any] = [slice(None)] * len(shape)
        index[axis] = slice(0, size)
        return x[tuple(index)]
    pad = list(shape)
    pad[axis] = size - have
    return concatenate([x, zeros(pad, dtype_of(x), like_value(x))], axis=axis)


def _axes_and_sizes(a: Any, s: Sequence[int] | None, axes: Sequence[int] | None,
                    who: str) -> tuple[Axes, list[int | None]]:
    """NumPy's rules for ``s``/``axes``: all axes, or the last ``len(s)``; ``-1`` in
    ``s`` (or no ``s``) keeps an axis's size."""
    nd = len(shape_of(a))
    if axes is None:
        ax: list[int] = list(range(nd)) if s is None else list(range(nd - len(s), nd))
    else:
        ax = [int(i) for i in axes]
    for i in ax:
        if not -nd <= i < nd:
            raise ValueError(f"{who}: axis {i} is out of bounds for an array of "
                             f"dimension {nd}")
    ax = [i % nd for i in ax]
    if s is None:
        sizes: list[int | None] = [None] * len(ax)
    else:
        if len(s) != len(ax):
            raise ValueError(f"{who}: when given, axes and shape arguments have to be of "
                             "the same length")
        sizes = [None if int(n) == -1 else int(n) for n in s]
    return tuple(ax), sizes


def _c2c(a: Any, s: Any, axes: Any, norm: str | None, inverse: bool, who: str) -> Any:
    a = _as_inexact(a)
    ax, sizes = _axes_and_sizes(a, s, axes, who)
    for i, n in zip(ax, sizes):
        if n is not None:
            a = _fit(a, i, n)
    if not ax:
        return a
    if len(set(ax)) != len(ax):  # NumPy transforms a repeated axis twice
        for i in ax:
            a = bind(fft_p, a, axes=(i,), norm=_norm(norm), inverse=inverse)
        return a
    return bind(fft_p, a, axes=ax, norm=_norm(norm), inverse=inverse)


def _one_axis(n: int | None, axis: int) -> tuple[Any, Any]:
    return (None if n is None else (n,)), (axis,)


def fft(a: Any, n: int | None = None, axis: int = -1, norm: str | None = None) -> Any:
    """`numpy.fft.fft`: 1-D discrete Fourier transform.

    Args:
        a: the input array (traced or not).
        n: the transform length along ``axis`` (cropped or zero-padded).
        axis: the axis transformed.
        norm: ``None``/``"backward"``, ``"ortho"`` or ``"forward"``, as NumPy's.

    Returns:
        The discrete Fourier transform, traced when ``a`` is.

    >>> import numpy, xform, xform.numpy as np
    >>> x = numpy.array([1.0, 2.0, 0.0, -1.0])
    >>> bool(numpy.allclose(np.fft.fft(x), numpy.fft.fft(x)))
    True
    >>> g = xform.grad(lambda v: np.sum(np.real(np.fft.fft(v))))(x)
    >>> g.shape == x.shape
    True
    """
    s, axes = _one_axis(n, axis)
    return _c2c(a, s, axes, norm, False, "fft")


def ifft(a: Any, n: int | None = None, axis: int = -1, norm: str | None = None) -> Any:
    """`numpy.fft.ifft`: 1-D inverse discrete Fourier transform.

    Args:
        a: the input array (traced or not).
        n: the transform length along ``axis`` (cropped or zero-padded).
        axis: the axis transformed.
        norm: ``None``/``"backward"``, ``"ortho"`` or ``"forward"``, as NumPy's.

    Returns:
        The inverse transform, traced when ``a`` is.

    >>> import numpy, xform, xform.numpy as np
    >>> x = numpy.array([1.0, 2.0, 0.0, -1.0])
    >>> bool(numpy.allclose(np.fft.ifft(x), numpy.fft.ifft(x)))
    True
    >>> g = xform.grad(lambda v: np.sum(np.real(np.fft.ifft(v))))(x)
    >>> g.shape == x.shape
    True
    """
    s, axes = _one_axis(n, axis)
    return _c2c(a, s, axes, norm, True, "ifft")


def fft2(a: Any, s: Sequence[int] | None = None, axes: Sequence[int] = (-2, -1),
         norm: str | None = None) -> Any:
    """`numpy.fft.fft2`: 2-D discrete Fourier transform.

    Args:
        a: the input array (traced or not).
        s: the transform lengths along ``axes``.
        axes: the axes transformed.
        norm: ``None``/``"backward"``, ``"ortho"`` or ``"forward"``, as NumPy's.

    Returns:
        The 2-D transform, traced when ``a`` is.

    >>> import numpy, xform, xform.numpy as np
    >>> x = numpy.arange(6.0).reshape(2, 3)
    >>> bool(numpy.allclose(np.fft.fft2(x), numpy.fft.fft2(x)))
    True
    >>> g = xform.grad(lambda v: np.sum(np.real(np.fft.fft2(v))))(x)
    >>> g.shape == x.shape
    True
    """
    return _c2c(a, s, axes, norm, False, "fft2")


def ifft2(a: Any, s: Sequence[int] | None = None, axes: Sequence[int] = (-2, -1),
          norm: str | None = None) -> Any:
    """`numpy.fft.ifft2`: 2-D inverse discrete Fourier transform.

    Args:
        a: the input array (traced or not).
        s: the transform lengths along ``axes``.
        axes: the axes transformed.
        norm: ``None``/``"backward"``, ``"ortho"`` or ``"forward"``, as NumPy's.

    Returns:
        The 2-D inverse transform, traced when ``a`` is.

    >>> import numpy, xform, xform.numpy as np
    >>> x = numpy.arange(6.0).reshape(2, 3)
    >>> bool(numpy.allclose(np.fft.ifft2(x), numpy.fft.ifft2(x)))
    True
    >>> g = xform.grad(lambda v: np.sum(np.real(np.fft.ifft2(v))))(x)
    >>> g.shape == x.shape
    True
    """
    return _c2c(a, s, axes, norm, True, "ifft2")


def fftn(a: Any, s: Sequence[int] | None = None, axes: Sequence[int] | None = None,
         norm: str | None = None) -> Any:
    """`numpy.fft.fftn`: N-D discrete Fourier transform.

    Args:
        a: the input array (traced or not).
        s: the transform lengths along ``axes``.
        axes: the axes transformed.
        norm: ``None``/``"backward"``, ``"ortho"`` or ``"forward"``, as NumPy's.

    Returns:
        The N-D transform, traced when ``a`` is.

    >>> import numpy, xform, xform.numpy as np
    >>> x = numpy.arange(6.0).reshape(2, 3)
    >>> bool(numpy.allclose(np.fft.fftn(x), numpy.fft.fftn(x)))
    True
    >>> g = xform.grad(lambda v: np.sum(np.real(np.fft.fftn(v))))(x)
    >>> g.shape == x.shape
    True
    """
    return _c2c(a, s, axes, norm, False, "fftn")


def ifftn(a: Any, s: Sequence[int] | None = None, axes: Sequence[int] | None = None,
          norm: str | None = None) -> Any:
    """`numpy.fft.ifftn`: N-D inverse discrete Fourier transform.

    Args:
        a: the input array (traced or not).
        s: the transform lengths along ``axes``.
        axes: the axes transformed.
        norm: ``None``/``"backward"``, ``"ortho"`` or ``"forward"``, as NumPy's.

    Returns:
        The N-D inverse transform, traced when ``a`` is.

    >>> import numpy, xform, xform.numpy as np
    >>> x = numpy.arange(6.0).reshape(2, 3)
    >>> bool(numpy.allclose(np.fft.ifftn(x), numpy.fft.ifftn(x)))
    True
    >>> g = xform.grad(lambda v: np.sum(np.real(np.fft.ifftn(v))))(x)
    >>> g.shape == x.shape
    True
    """
    return _c2c(a, s, axes, norm, True, "ifftn")


def _r2c(a: Any, s: Any, axes: Any, norm: str | None, who: str) -> Any:
    a = _as_inexact(a)
    if is_complex(a):
        raise TypeError(f"{who} expects a real input, got {dtype_of(a)}; use fft/fftn "
                        "for complex data")
    ax, sizes = _axes_and_sizes(a, s, axes, who)
    if not ax:
        raise ValueError(f"{who}: at least one axis must be transformed")
    for i, n in zip(ax, sizes):
        if n is not None:
            a = _fit(a, i, n)
    if len(set(ax)) != len(ax):
        raise ValueError(f"{who}: repeated axes are not supported")
    return bind(rfft_p, a, axes=ax, norm=_norm(norm))


def rfft(a: Any, n: int | None = None, axis: int = -1, norm: str | None = None) -> Any:
    """`numpy.fft.rfft`: 1-D transform of real input (the non-negative frequencies).

    Args:
        a: the input array (traced or not).
        n: the transform length along ``axis`` (cropped or zero-padded).
        axis: the axis transformed.
        norm: ``None``/``"backward"``, ``"ortho"`` or ``"forward"``, as NumPy's.

    Returns:
        The transform of the real input (non-negative frequencies), traced when ``a`` is.

    >>> import numpy, xform, xform.numpy as np
    >>> x = numpy.array([1.0, 2.0, 0.0, -1.0])
    >>> bool(numpy.allclose(np.fft.rfft(x), numpy.fft.rfft(x)))
    True
    >>> g = xform.grad(lambda v: np.sum(np.real(np.fft.rfft(v))))(x)
    >>> g.shape == x.shape
    True
    """
    s, axes = _one_axis(n, axis)
    return _r2c(a, s, axes, norm, "rfft")


def rfft2(a: Any, s: Sequence[int] | None = None, axes: Sequence[int] = (-2, -1),
          norm: str | None = None) -> Any:
    """`numpy.fft.rfft2`: 2-D transform of real input.

    Args:
        a: the input array (traced or not).
        s: the transform lengths along ``axes``.
        axes: the axes transformed.
        norm: ``None``/``"backward"``, ``"ortho"`` or ``"forward"``, as NumPy's.

    Returns:
        The 2-D transform of the real input, traced when ``a`` is.

    >>> import numpy, xform, xform.numpy as np
    >>> x = numpy.arange(6.0).reshape(2, 3)
    >>> bool(numpy.allclose(np.fft.rfft2(x), numpy.fft.rfft2(x)))
    True
    >>> g = xform.grad(lambda v: np.sum(np.real(np.fft.rfft2(v))))(x)
    >>> g.shape == x.shape
    True
    """
    return _r2c(a, s, axes, norm, "rfft2")


def rfftn(a: Any, s: Sequence[int] | None = None, axes: Sequence[int] | None = None,
          norm: str | None = None) -> Any:
    """`numpy.fft.rfftn`: N-D transform of real input.

    Args:
        a: the input array (traced or not).
        s: the transform lengths along ``axes``.
        axes: the axes transformed.
        norm: ``None``/``"backward"``, ``"ortho"`` or ``"forward"``, as NumPy's.

    Returns:
        The N-D transform of the real input, traced when ``a`` is.

    >>> import numpy, xform, xform.numpy as np
    >>> x = numpy.arange(6.0).reshape(2, 3)
    >>> bool(numpy.allclose(np.fft.rfftn(x), numpy.fft.rfftn(x)))
    True
    >>> g = xform.grad(lambda v: np.sum(np.real(np.fft.rfftn(v))))(x)
    >>> g.shape == x.shape
    True
    """
    return _r2c(a, s, axes, norm, "rfftn")


def _c2r(a: Any, s: Any, axes: Any, norm: str | None, who: str) -> Any:
    a = _as_inexact(a)
    ax, sizes = _axes_and_sizes(a, s, axes, who)
    if not ax:
        raise ValueError(f"{who}: at least one axis must be transformed")
    if len(set(ax)) != len(ax):
        raise ValueError(f"{who}: repeated axes are not supported")
    last = sizes[-1]
    n = 2 * (shape_of(a)[ax[-1]] - 1) if last is None else last
    if n < 1:
        raise ValueError(f"Invalid number of FFT data points ({n}) specified.")
    for i, size in zip(ax[:-1], sizes[:-1]):
        if size is not None:
            a = _fit(a, i, size)
    a = _fit(a, ax[-1], n // 2 + 1)
    return bind(irfft_p, a, axes=ax, n=n, norm=_norm(norm))


def irfft(a: Any, n: int | None = None, axis: int = -1, norm: str | None = None) -> Any:
    """`numpy.fft.irfft`: inverse of `rfft`; ``n`` defaults to ``2 * (m - 1)``.

    Args:
        a: the input array (traced or not).
        n: the transform length along ``axis`` (cropped or zero-padded).
        axis: the axis transformed.
        norm: ``None``/``"backward"``, ``"ortho"`` or ``"forward"``, as NumPy's.

    Returns:
        The real inverse of ``rfft``, traced when ``a`` is.

    >>> import numpy, xform, xform.numpy as np
    >>> x = numpy.array([1.0, 2.0, 0.5])
    >>> bool(numpy.allclose(np.fft.irfft(x), numpy.fft.irfft(x)))
    True
    >>> g = xform.grad(lambda v: np.sum(np.real(np.fft.irfft(v))))(x)
    >>> g.shape == x.shape
    True
    """
    s, axes = _one_axis(n, axis)
    return _c2r(a, s, axes, norm, "irfft")


def irfft2(a: Any, s: Sequence[int] | None = None, axes: Sequence[int] = (-2, -1),
           norm: str | None = None) -> Any:
    """`numpy.fft.irfft2`: inverse of `rfft2`.

    Args:
        a: the input array (traced or not).
        s: the transform lengths along ``axes``.
        axes: the axes transformed.
        norm: ``None``/``"backward"``, ``"ortho"`` or ``"forward"``, as NumPy's.

    Returns:
        The real 2-D inverse, traced when ``a`` is.

    >>> import numpy, xform, xform.numpy as np
    >>> x = numpy.arange(6.0).reshape(2, 3)
    >>> bool(numpy.allclose(np.fft.irfft2(x), numpy.fft.irfft2(x)))
    True
    >>> g = xform.grad(lambda v: np.sum(np.real(np.fft.irfft2(v))))(x)
    >>> g.shape == x.shape
    True
    """
    return _c2r(a, s, axes, norm, "irfft2")


def irfftn(a: Any, s: Sequence[int] | None = None, axes: Sequence[int] | None = None,
           norm: str | None = None) -> Any:
    """`numpy.fft.irfftn`: inverse of `rfftn`.

    Args:
        a: the input array (traced or not).
        s: the transform lengths along ``axes``.
        axes: the axes transformed.
        norm: ``None``/``"backward"``, ``"ortho"`` or ``"forward"``, as NumPy's.

    Returns:
        The real N-D inverse, traced when ``a`` is.

    >>> import numpy, xform, xform.numpy as np
    >>> x = numpy.arange(6.0).reshape(2, 3)
    >>> bool(numpy.allclose(np.fft.irfftn(x), numpy.fft.irfftn(x)))
    True
    >>> g = xform.grad(lambda v: np.sum(np.real(np.fft.irfftn(v))))(x)
    >>> g.shape == x.shape
    True
    """
    return _c2r(a, s, axes, norm, "irfftn")


def _shift(x: Any, axes: Any, inverse: bool) -> Any:
    x = asarray(x)
    shape = shape_of(x)
    nd = len(shape)
    if axes is None:
        ax = tuple(range(nd))
    elif isinstance(axes, (int, np.integer)):
        ax = (int(axes) % nd,)
    else:
        ax = tuple(int(i) % nd for i in axes)
    if not ax:
        return x
    shifts = tuple(-(shape[i] // 2) if inverse else shape[i] // 2 for i in ax)
    return roll(x, shifts, ax)


def fftshift(x: Any, axes: Any = None) -> Any:
    """`numpy.fft.fftshift`: move the zero frequency to the centre.

    Args:
        x: an array (traced or not).
        axes: the axes shifted (all by default).

    Returns:
        The rolled array.

    >>> import numpy, xform, xform.numpy as np
    >>> x = numpy.array([1.0, 2.0, 0.0, -1.0])
    >>> bool(numpy.allclose(np.fft.fftshift(x), numpy.fft.fftshift(x)))
    True
    >>> g = xform.grad(lambda v: np.sum(np.real(np.fft.fftshift(v))))(x)
    >>> g.shape == x.shape
    True
    """
    return _shift(x, axes, False)


def ifftshift(x: Any, axes: Any = None) -> Any:
    """`numpy.fft.ifftshift`: inverse of `fftshift`.

    Args:
        x: an array (traced or not).
        axes: the axes shifted (all by default).

    Returns:
        The rolled array.

    >>> import numpy, xform, xform.numpy as np
    >>> x = numpy.array([1.0, 2.0, 0.0, -1.0])
    >>> bool(numpy.allclose(np.fft.ifftshift(x), numpy.fft.ifftshift(x)))
    True
    >>> g = xform.grad(lambda v: np.sum(np.real(np.fft.ifftshift(v))))(x)
    >>> g.shape == x.shape
    True
    """
    return _shift(x, axes, True)


def fftfreq(n: int, d: float = 1.0) -> np.ndarray:
    """`numpy.fft.fftfreq` (a constant array).

    Args:
        n: the transform length.
        d: the sample spacing.

    Returns:
        The sample frequencies (a NumPy array).

    >>> import xform.numpy as np
    >>> np.fft.fftfreq(4).tolist()
    [0.0, 0.25, -0.5, -0.25]
    """
    return np.fft.fftfreq(n, d)


def rfftfreq(n: int, d: float = 1.0) -> np.ndarray:
    """`numpy.fft.rfftfreq` (a constant array).

    Args:
        n: the transform length.
        d: the sample spacing.

    Returns:
        The sample frequencies (a NumPy array).

    >>> import xform.numpy as np
    >>> np.fft.rfftfreq(4).tolist()
    [0.0, 0.25, 0.5]
    """
    return np.fft.rfftfreq(n, d)


# ------------------------------------------------------------------------ XLA lowerings
def _lower_fft(ctx: Any, x: Any, axes: Axes, norm: Norm, inverse: bool) -> Any:
    fn = ctx.jnp.fft.ifftn if inverse else ctx.jnp.fft.fftn
    return fn(x, axes=axes, norm=norm)


def _lower_irfft(ctx: Any, y: Any, axes: Axes, n: int, norm: Norm) -> Any:
    s = [y.shape[a] for a in axes[:-1]] + [n]
    return ctx.jnp.fft.irfftn(y, s=s, axes=axes, norm=norm)


fft_p.lower = _lower_fft
rfft_p.lower = lambda ctx, x, axes, norm: ctx.jnp.fft.rfftn(x, axes=axes, norm=norm)
irfft_p.lower = _lower_irfft
