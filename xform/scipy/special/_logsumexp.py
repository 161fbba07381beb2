"""``logsumexp`` (optionally weighted, with its sign), ``softmax`` and ``log_softmax``.

``logsumexp`` is a primitive: SciPy's kernel shifts by the maximum, and the
rules use ``exp(a - ans)``, which never overflows, so values and derivatives
(the softmax weights) stay finite for any finite input.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import scipy.special as sc

from ...core.rules import Primitive, align_batched, bind, real_only, shape_of, unbroadcast
from ...core.arrays import is_foreign
from ...numpy import _elementwise as E
from ...numpy._creation import asarray
from ...numpy._elementwise import stop_gradient
from ...numpy._reductions import keepdims_shape, normalize_axis
from ...numpy._reductions import max as xmax
from ...numpy._reductions import sum as xsum
from ...numpy._shape import broadcast_to, reshape
from ._functions import float_dtype

Axis = int | tuple[int, ...] | None


def _lse_unweighted(a: np.ndarray, axis: tuple[int, ...], keepdims: bool) -> Any:
    """``log(sum(exp(a)))`` shifted by the largest entry, in NumPy (SciPy's kernel,
    ~25x slower on small arrays, does the same with more checks); an infinite or NaN
    maximum shifts by zero, which gives SciPy's -inf, inf and nan."""
    m = np.max(a, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        out = np.log(np.sum(np.exp(a - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis)


def _lse_impl(a: Any, *b: Any, axis: tuple[int, ...], keepdims: bool) -> Any:
    if is_foreign(a) or (b and is_foreign(b[0])):
        return _lse_dispatched(a, b[0] if b else None, axis, keepdims)
    if (not b and type(a) is np.ndarray and a.size and a.dtype.kind == "f"
            and a.dtype.itemsize >= 4):
        return np.asarray(_lse_unweighted(a, axis, keepdims)).astype(a.dtype, copy=False)
    with np.errstate(divide="ignore", invalid="ignore"):
        out, _ = sc.logsumexp(a, axis=axis, b=b[0] if b else None, keepdims=keepdims,
                              return_sign=True)
    return np.asarray(out).astype(float_dtype(a, *b), copy=False)


def _lse_dispatched(a: Any, b: Any, axis: tuple[int, ...], keepdims: bool) -> Any:
    """The shifted formula ``m + log|sum(b exp(a - m))|`` in NumPy functions, which a
    Dask or CuPy operand takes over (SciPy's own would convert it to NumPy)."""
    m = np.max(a, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    e = np.exp(a - m)
    s = np.sum(e if b is None else b * e, axis=axis, keepdims=True)
    out = np.log(np.abs(s)) + m
    if not keepdims:
        out = np.squeeze(out, axis=axis)
    return out.astype(float_dtype(a, *([] if b is None else [b])))


logsumexp_p = Primitive("logsumexp", _lse_impl)


def _common_shape(a: Any, b: tuple[Any, ...]) -> tuple[int, ...]:
    return tuple(np.broadcast_shapes(shape_of(a), *[shape_of(v) for v in b]))


def _expand(r: Any, full: tuple[int, ...], axis: tuple[int, ...], keepdims: bool) -> Any:
    """A reduced ``r`` broadcast back to the unreduced shape ``full``."""
    if not keepdims:
        r = reshape(r, keepdims_shape(full, axis))
    return broadcast_to(r, full)


def _weights(ans: Any, a: Any, b: tuple[Any, ...], axis: tuple[int, ...],
             keepdims: bool) -> tuple[Any, Any]:
    """``(exp(a - ans), sign)``: the derivative of ``ans`` with respect to ``a`` is
    ``b * exp(a - ans) * sign``, and with respect to ``b`` ``exp(a - ans) * sign``,
    both broadcast to the operands' common shape."""
    # an all -inf group has ans == -inf: give it zero weights, not exp(nan) (the guard
    # on the reduced values, before they are broadcast back)
    lse = _expand(E.where(E.equal(ans, -np.inf), 0.0, ans), _common_shape(a, b), axis,
                  keepdims)
    e = E.exp(a - lse)
    if not b:
        return e, 1.0
    sign = E.sign(xsum(b[0] * e, axis=axis, keepdims=True))
    return e, sign


def _lse_jvp(tangents: Sequence[Any], ans: Any, args: Sequence[Any], params: dict) -> Any:
    a, b = args[0], tuple(args[1:])
    e, sign = _weights(ans, a, b, **params)
    t = None
    if tangents[0] is not None:
        t = tangents[0] * (e * b[0] if b else e)
    if b and tangents[1] is not None:
        tb = tangents[1] * e
        t = tb if t is None else t + tb
    if t is None:
        return None
    return xsum(t * sign, axis=params["axis"], keepdims=params["keepdims"])


def _lse_vjp(ct: Any, ans: Any, args: Sequence[Any], params: dict,
             needs: Sequence[bool]) -> list[Any]:
    a, b = args[0], tuple(args[1:])
    e, sign = _weights(ans, a, b, **params)
    g = _expand(ct, shape_of(e), params["axis"], params["keepdims"]) * (e * sign)
    out: list[Any] = [unbroadcast(g * b[0] if b else g, shape_of(a)) if needs[0] else None]
    if b:
        out.append(unbroadcast(g, shape_of(b[0])) if needs[1] else None)
    return out


def _lse_batch(vals: Sequence[Any], dims: Sequence[Any], params: dict) -> tuple[Any, int]:
    # batch axes first, padded so that NumPy's broadcasting of a against b (which
    # the kernel does) lines up the original axes; the reduced axes shift by one
    axis = tuple(i + 1 for i in params["axis"])
    return bind(logsumexp_p, *align_batched(vals, dims), axis=axis,
                keepdims=params["keepdims"]), 0


logsumexp_p.jvp = _lse_jvp
logsumexp_p.vjp = _lse_vjp
logsumexp_p.batch = _lse_batch
# the kernel returns log|sum| with a separate sign, which has no complex derivative here
real_only(logsumexp_p, "its kernel computes log|sum(b * exp(a))| and a sign")


def _array(x: Any) -> Any:
    if isinstance(x, (list, tuple)):
        return asarray(x)
    return x


def _sign(out: Any, a: Any, b: Any, axis: tuple[int, ...], keepdims: bool) -> Any:
    """The sign of ``sum(b * exp(a))`` (0 where it is zero), with no derivative."""
    out, a, b = stop_gradient(out), stop_gradient(a), stop_gradient(b)
    e, sign = _weights(out, a, (b,), axis, keepdims)
    if not keepdims:
        sign = reshape(sign, shape_of(out))
    return E.where(E.equal(out, -np.inf), 0.0, sign)


def _complex_logsumexp(a: Any, axis: Axis, b: Any, keepdims: bool, return_sign: bool) -> Any:
    """Complex ``a`` or ``b``: the principal ``log(sum(b * exp(a)))`` (complex, as SciPy's),
    shifted by the largest real part; every step is holomorphic, so the derivatives
    follow. With ``return_sign``: ``(log|sum|, sum / |sum|)``."""
    full = _common_shape(a, () if b is None else (b,))
    axes = normalize_axis(axis, len(full))
    kept = tuple(n for i, n in enumerate(full) if i not in axes)
    re = E.real(a)
    shift = stop_gradient(xmax(re, axis=axes, keepdims=True) if axes else re)
    shift = E.where(E.isfinite(shift), shift, 0.0)
    terms = E.exp(a - shift)
    total = xsum(terms if b is None else b * terms, axis=axes, keepdims=True)
    if return_sign:
        modulus = E.abs(total)
        out, sign = E.log(modulus) + shift, total / E.where(modulus == 0, 1.0, modulus)
        return (out, sign) if keepdims else (reshape(out, kept), reshape(sign, kept))
    out = E.log(total) + shift
    return out if keepdims else reshape(out, kept)


def logsumexp(a: Any, axis: Axis = None, b: Any = None, keepdims: bool = False,
              return_sign: bool = False) -> Any:
    """`scipy.special.logsumexp`: ``log(sum(b * exp(a)))`` over ``axis``, computed
    without overflow; its gradient in ``a`` is the (weighted) softmax. With
    ``return_sign`` it returns ``(log|sum|, sign)``; without, a negative sum gives
    NaN (as SciPy).

    Args:
        a: the exponents (traced or not; complex allowed).
        axis: the axis or axes to reduce (None: all).
        b: scale factors, broadcast against ``a`` (may be negative).
        keepdims: keep the reduced axes with size one.
        return_sign: also return the sign of the sum.

    Returns:
        ``log|sum(b * exp(a))|``, or ``(that, sign)`` with ``return_sign``.

    >>> import math, xform, xform.numpy as np, xform.scipy.special as sp
    >>> float(sp.logsumexp(np.array([1000.0, 1000.0]))) == 1000.0 + math.log(2.0)
    True
    >>> xform.grad(sp.logsumexp)(np.array([0.0, 0.0])).tolist()
    [0.5, 0.5]
    """
    keepdims = bool(keepdims)
    a = _array(a)
    if E.is_complex(a) or (b is not None and E.is_complex(_array(b))):
        return _complex_logsumexp(a, axis, None if b is None else _array(b), keepdims,
                                  return_sign)
    if b is None:
        axes = normalize_axis(axis, len(shape_of(a)))
        out = bind(logsumexp_p, a, axis=axes, keepdims=keepdims)
        if return_sign:
            return out, E.where(E.equal(out, -np.inf), 0.0, E.sign(E.exp(out)))
        return out
    b = _array(b)
    axes = normalize_axis(axis, len(_common_shape(a, (b,))))
    out = bind(logsumexp_p, a, b, axis=axes, keepdims=keepdims)
    sign = _sign(out, a, b, axes, keepdims)
    if return_sign:
        return out, sign
    return E.where(E.less(sign, 0), np.nan, out)


def _shifted(x: Any, axis: Axis) -> tuple[Any, tuple[int, ...]]:
    """``x - max(x)`` over ``axis`` (keeping dims), with the maximum held constant:
    softmax is invariant under the shift, which makes ``exp`` never overflow and
    keeps the differences exact (``exp(x - logsumexp)`` loses ``|x| * eps``)."""
    axes = normalize_axis(axis, len(shape_of(x)))
    m = stop_gradient(xmax(x, axis=axes, keepdims=True))
    m = E.where(E.isfinite(m), m, 0.0)
    return x - m, axes


def softmax(x: Any, axis: Axis = None) -> Any:
    """`scipy.special.softmax`: ``exp(x) / sum(exp(x))`` over ``axis``, stable for
    large inputs.

    Args:
        x: the logits (traced or not).
        axis: the axis or axes to normalise over (None: all).

    Returns:
        Positive values of ``x``'s shape summing to one over ``axis``.

    >>> import xform, xform.numpy as np, xform.scipy.special as sp
    >>> sp.softmax(np.array([0.0, 0.0, 1000.0])).tolist()
    [0.0, 0.0, 1.0]
    >>> xform.grad(lambda x: sp.softmax(x)[0])(np.array([0.0, 0.0])).tolist()
    [0.25, -0.25]
    """
    d, axes = _shifted(_array(x), axis)
    e = E.exp(d)
    return e / xsum(e, axis=axes, keepdims=True)


def log_softmax(x: Any, axis: Axis = None) -> Any:
    """`scipy.special.log_softmax`: ``x - logsumexp(x)`` over ``axis``, stable for
    large inputs.

    Args:
        x: the logits (traced or not; complex allowed).
        axis: the axis or axes to normalise over (None: all).

    Returns:
        ``log(softmax(x))``, of ``x``'s shape, without underflow to ``-inf``.

    >>> import xform, xform.numpy as np, xform.scipy.special as sp
    >>> sp.log_softmax(np.array([0.0, 1000.0])).tolist()
    [-1000.0, 0.0]
    >>> xform.grad(lambda x: sp.log_softmax(x)[0])(np.array([0.0, 0.0])).tolist()
    [0.5, -0.5]
    """
    d, axes = _shifted(_array(x), axis)
    if E.is_complex(d):
        # the complex log of the sum, phase included, as SciPy's (the kernel's log|sum|
        # would drop it)
        return d - _complex_logsumexp(d, axes, None, True, False)
    return d - bind(logsumexp_p, d, axis=axes, keepdims=True)


# --------------------------------------------------------------------------- XLA lowering
def _lower_lse(ctx: Any, a: Any, *b: Any, axis: tuple[int, ...], keepdims: bool) -> Any:
    out, _ = ctx.jsp.special.logsumexp(a, axis=axis, b=b[0] if b else None,
                                       keepdims=keepdims, return_sign=True)
    return out


logsumexp_p.lower = _lower_lse
