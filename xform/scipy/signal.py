"""``xform.scipy.signal``: N-d convolution and correlation, differentiable in both inputs.

One bilinear primitive, ``convolve``, whose leading ``nbatch`` axes are not
convolved but broadcast (that is how ``vmap`` and ``fftconvolve(axes=...)`` reach
it). Its transpose w.r.t. one input is a 'valid' convolution of the cotangent,
zero-padded back to the 'full' size, with the other input flipped: a correlation.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import scipy.signal as _ss

from ..core.ir import ShapedArray as _ShapedArray
from ..core.rules import (Primitive as _Primitive, bind as _bind, defbilinear as _defbilinear,
                          dtype_of as _dtype_of, move_to_front as _move_to_front,
                          shape_of as _shape_of)
from ..core.arrays import numpy_only as _numpy_only
from ..core.rules import accept_sequences_in as _accept_sequences_in
from ..numpy._creation import asarray as _asarray
from ..numpy._elementwise import conj as _conj
from ..numpy._shape import concatenate as _concatenate, moveaxis as _moveaxis, reshape as _reshape

_MODES = ("full", "same", "valid")
_METHODS = ("auto", "direct", "fft")


def _out_shape(s1: Sequence[int], s2: Sequence[int], mode: str) -> tuple[int, ...]:
    """Shape of the convolved axes: 'full' is s1 + s2 - 1, 'same' is s1, 'valid'
    is |s1 - s2| + 1 (one input must be at least as large as the other throughout)."""
    if mode == "full":
        return tuple(a + b - 1 for a, b in zip(s1, s2))
    if mode == "same":
        return tuple(s1)
    if not (all(a >= b for a, b in zip(s1, s2)) or all(b >= a for a, b in zip(s1, s2))):
        raise ValueError("For 'valid' mode, one must be at least as large as the other in "
                         "every dimension")
    return tuple(abs(a - b) + 1 for a, b in zip(s1, s2))


def _direct(in1: np.ndarray, in2: np.ndarray, mode: str, nbatch: int) -> np.ndarray:
    """Direct convolution over the trailing axes, broadcasting the leading ``nbatch``:
    the 'full' result as a contraction of sliding windows of the zero-padded ``in1``
    with the flipped ``in2``, then the centred slice that ``mode`` keeps."""
    nd = in1.ndim
    conv = tuple(range(nbatch, nd))
    s1, s2 = in1.shape[nbatch:], in2.shape[nbatch:]
    pad = [(0, 0)] * nbatch + [(k - 1, k - 1) for k in s2]
    padded = np.pad(in1, pad)
    windows = np.lib.stride_tricks.sliding_window_view(padded, s2, axis=conv)
    kernel = np.flip(in2, axis=conv)
    letters = "abcdefghijklmnopqrstuvwxyz"
    o, k = letters[:nd - nbatch], letters[nd - nbatch:2 * (nd - nbatch)]
    full = np.einsum(f"...{o}{k},...{k}->...{o}", windows, kernel)
    out = _out_shape(s1, s2, mode)
    index = [slice(None)] * nbatch + [slice((f - n) // 2, (f - n) // 2 + n)
                                      for f, n in zip(full.shape[nbatch:], out)]
    return full[tuple(index)]


def _convolve_impl(in1: Any, in2: Any, mode: str, method: str, nbatch: int) -> Any:
    if nbatch == 0:
        return _ss.convolve(in1, in2, mode=mode, method=method)
    in1, in2 = np.asarray(in1), np.asarray(in2)
    if method == "auto":
        first = (0,) * nbatch
        method = _ss.choose_conv_method(in1[first], in2[first], mode=mode)
    if method == "fft":
        if mode == "same":  # SciPy would crop the broadcast axes to in1's sizes too
            batch = np.broadcast_shapes(in1.shape[:nbatch], in2.shape[:nbatch])
            in1 = np.broadcast_to(in1, batch + in1.shape[nbatch:])
        return _ss.fftconvolve(in1, in2, mode=mode, axes=list(range(nbatch, in1.ndim)))
    return _direct(in1, in2, mode, nbatch).astype(np.result_type(in1, in2), copy=False)


def _convolve_shape(a1: Any, a2: Any, mode: str, method: str, nbatch: int) -> _ShapedArray:
    s1, s2 = _shape_of(a1), _shape_of(a2)
    batch = np.broadcast_shapes(s1[:nbatch], s2[:nbatch])
    return _ShapedArray(tuple(batch) + _out_shape(s1[nbatch:], s2[nbatch:], mode),
                       np.result_type(_dtype_of(a1), _dtype_of(a2)))


_convolve_p = _Primitive("convolve", _numpy_only("xform.scipy.signal.convolve", _convolve_impl))
_convolve_p.abstract_eval = _convolve_shape


def _flip(x: Any, axes: Sequence[int]) -> Any:
    index: list[Any] = [slice(None)] * len(_shape_of(x))
    for a in axes:
        index[a] = slice(None, None, -1)
    return x[tuple(index)]


def _pad_to_full(ct: Any, s1: Sequence[int], s2: Sequence[int], nbatch: int) -> Any:
    """The cotangent of a 'same'/'valid' output, placed where that output sits in the
    'full' one, with zeros around it."""
    for i, (a, b) in enumerate(zip(s1, s2)):
        axis = nbatch + i
        have, full = _shape_of(ct)[axis], a + b - 1
        if have == full:
            continue
        before = (full - have) // 2
        for size, first in ((before, True), (full - have - before, False)):
            if size:
                shape = list(_shape_of(ct))
                shape[axis] = size
                zeros = np.zeros(shape, _dtype_of(ct))
                ct = _concatenate([zeros, ct] if first else [ct, zeros], axis=axis)
    return ct


def _convolve_transpose(k: int) -> Any:
    """Cotangent of input ``k`` (0 or 1); the convolution is symmetric in its inputs."""
    def rule(ct: Any, ans: Any, in1: Any, in2: Any, mode: str, method: str,
             nbatch: int) -> Any:
        other = in2 if k == 0 else in1
        s1, s2 = _shape_of(in1)[nbatch:], _shape_of(in2)[nbatch:]
        conv = range(nbatch, len(_shape_of(in1)))
        full = _pad_to_full(ct, s1, s2, nbatch)
        return _bind(_convolve_p, full, _flip(other, conv), mode="valid", method=method,
                    nbatch=nbatch)
    return rule


_defbilinear(_convolve_p, _convolve_transpose(0), _convolve_transpose(1), broadcasting=True)


def _batch_convolve(vals: Sequence[Any], dims: Sequence[Any], params: dict) -> tuple[Any, int]:
    ops = [_move_to_front(v, d) if d is not None else _reshape(v, (1,) + tuple(_shape_of(v)))
           for v, d in zip(vals, dims)]
    new = dict(params)
    new["nbatch"] = params["nbatch"] + 1
    return _bind(_convolve_p, *ops, **new), 0


_convolve_p.batch = _batch_convolve


# ------------------------------------------------------------------------ SciPy functions
def _check(in1: Any, in2: Any, mode: str, method: str) -> tuple[Any, Any]:
    in1, in2 = _asarray(in1), _asarray(in2)
    if mode not in _MODES:
        raise ValueError("acceptable mode flags are 'valid', 'same', or 'full'")
    if method not in _METHODS:
        raise ValueError(f"acceptable method flags are 'auto', 'direct', or 'fft', "
                         f"got {method!r}")
    if len(_shape_of(in1)) != len(_shape_of(in2)):
        raise ValueError("in1 and in2 should have the same dimensionality")
    return in1, in2


def convolve(in1: Any, in2: Any, mode: str = "full", method: str = "auto") -> Any:
    """`scipy.signal.convolve`: N-d convolution, differentiable in both inputs.

    Args:
        in1: the first array (traced or not).
        in2: the second array, of the same number of dimensions.
        mode: ``"full"``, ``"valid"`` or ``"same"``.
        method: ``"auto"``, ``"direct"`` or ``"fft"``.

    Returns:
        The convolution.

    >>> import numpy, scipy.linalg, scipy.signal, xform, xform.numpy as np, xform.scipy.signal as ss
    >>> a, b = numpy.array([[4.0, 1.0], [1.0, 3.0]]), numpy.array([1.0, 2.0])
    >>> bool(numpy.allclose(ss.convolve(b, numpy.array([1.0, -1.0, 2.0])), scipy.signal.convolve(b, numpy.array([1.0, -1.0, 2.0]))))
    True
    >>> xform.grad(lambda v: np.sum(ss.convolve(v, numpy.array([1.0, -1.0, 2.0]))))(b).tolist()
    [2.0, 2.0]
    """
    in1, in2 = _check(in1, in2, mode, method)
    if not _shape_of(in1):
        return in1 * in2
    _out_shape(_shape_of(in1), _shape_of(in2), mode)
    return _bind(_convolve_p, in1, in2, mode=mode, method=method, nbatch=0)


def correlate(in1: Any, in2: Any, mode: str = "full", method: str = "auto") -> Any:
    """`scipy.signal.correlate`: convolution with the flipped, conjugated ``in2``.

    Args:
        in1: the first array (traced or not).
        in2: the second array, of the same number of dimensions.
        mode: ``"full"``, ``"valid"`` or ``"same"``.
        method: ``"auto"``, ``"direct"`` or ``"fft"``.

    Returns:
        The cross-correlation.

    >>> import numpy, scipy.linalg, scipy.signal, xform, xform.numpy as np, xform.scipy.signal as ss
    >>> a, b = numpy.array([[4.0, 1.0], [1.0, 3.0]]), numpy.array([1.0, 2.0])
    >>> bool(numpy.allclose(ss.correlate(b, numpy.array([1.0, -1.0, 2.0])), scipy.signal.correlate(b, numpy.array([1.0, -1.0, 2.0]))))
    True
    """
    in1, in2 = _check(in1, in2, mode, method)
    if not _shape_of(in1):
        return in1 * _conj(in2)
    nd = len(_shape_of(in1))
    s1, s2 = _shape_of(in1), _shape_of(in2)
    if mode == "valid" and not all(a >= b for a, b in zip(s1, s2)):
        # SciPy swaps the inputs then, which reverses (and conjugates) the result
        _out_shape(s1, s2, mode)
        return _conj(_flip(correlate(in2, in1, mode, method), range(nd)))
    return convolve(in1, _flip(_conj(in2), range(nd)), mode, method)


def fftconvolve(in1: Any, in2: Any, mode: str = "full", axes: Any = None) -> Any:
    """`scipy.signal.fftconvolve`: convolution by FFT over ``axes`` (default all);
    the other axes broadcast.

    Args:
        in1: the first array (traced or not).
        in2: the second array, of the same number of dimensions.
        mode: ``"full"``, ``"valid"`` or ``"same"``.
        axes: the axes convolved (all by default).

    Returns:
        The convolution, computed by FFT.

    >>> import numpy, scipy.linalg, scipy.signal, xform, xform.numpy as np, xform.scipy.signal as ss
    >>> a, b = numpy.array([[4.0, 1.0], [1.0, 3.0]]), numpy.array([1.0, 2.0])
    >>> bool(numpy.allclose(ss.fftconvolve(b, numpy.array([1.0, -1.0, 2.0])), scipy.signal.convolve(b, numpy.array([1.0, -1.0, 2.0]))))
    True
    """
    in1, in2 = _check(in1, in2, mode, "fft")
    nd = len(_shape_of(in1))
    if nd == 0:
        return in1 * in2
    if axes is None:
        conv = list(range(nd))
    else:
        conv = sorted({int(a) % nd for a in np.atleast_1d(axes)})
    rest = [a for a in range(nd) if a not in conv]
    order = rest + conv
    a, b = _moveaxis(in1, order, range(nd)), _moveaxis(in2, order, range(nd))
    _out_shape([_shape_of(a)[i] for i in range(len(rest), nd)],
               [_shape_of(b)[i] for i in range(len(rest), nd)], mode)
    out = _bind(_convolve_p, a, b, mode=mode, method="fft", nbatch=len(rest))
    return _moveaxis(out, range(nd), order)


def choose_conv_method(in1: Any, in2: Any, mode: str = "full", measure: bool = False) -> str:
    """`scipy.signal.choose_conv_method` (decided on shapes and dtypes only).

    Args:
        in1: the first array (traced or not).
        in2: the second array, of the same number of dimensions.
        mode: ``"full"``, ``"valid"`` or ``"same"``.
        measure: time both methods (as SciPy's).

    Returns:
        ``"direct"`` or ``"fft"``, as SciPy's.

    >>> import numpy, xform.scipy.signal as ss
    >>> ss.choose_conv_method(numpy.ones(3), numpy.ones(2)) in ('direct', 'fft')
    True
    """
    dummy1 = np.zeros(_shape_of(in1), _dtype_of(in1))
    dummy2 = np.zeros(_shape_of(in2), _dtype_of(in2))
    return str(_ss.choose_conv_method(dummy1, dummy2, mode=mode))


__all__ = ["convolve", "correlate", "fftconvolve", "choose_conv_method"]


# ---------------------------------------------------------------------------- XLA lowering
def _lower_convolve(ctx: Any, in1: Any, in2: Any, mode: str, method: str, nbatch: int) -> Any:
    jsp_method = "fft" if method == "fft" else "direct"

    def one(a: Any, b: Any) -> Any:
        return ctx.jsp.signal.convolve(a, b, mode=mode, method=jsp_method,
                                       precision=ctx.lax.Precision.HIGHEST)
    if nbatch == 0:
        return one(in1, in2)
    batch = tuple(np.broadcast_shapes(in1.shape[:nbatch], in2.shape[:nbatch]))
    a = ctx.jnp.broadcast_to(in1, batch + in1.shape[nbatch:]).reshape((-1,) + in1.shape[nbatch:])
    b = ctx.jnp.broadcast_to(in2, batch + in2.shape[nbatch:]).reshape((-1,) + in2.shape[nbatch:])
    out = ctx.jax.vmap(one)(a, b)
    return out.reshape(batch + out.shape[1:])


_convolve_p.lower = _lower_convolve

# lists and tuples of traced values are read as arrays where SciPy takes array_like
_accept_sequences_in(globals())
