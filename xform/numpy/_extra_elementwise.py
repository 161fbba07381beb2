"""More elementwise functions: angle and the complex predicates, sinc, float_power,
nan_to_num, and the elementwise predicates isclose/signbit. (The complex parts
real, imag and conj live in ``_elementwise``, whose rules need them.)

May import: the core and the family files up to ``_indexing`` (order: ``__init__``).
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..core.frames import error_mode
from ..core.lowering import jnp_call, same_code
from ..core.rules import (Primitive, batch_broadcasting, batch_unary, bind, defrules, dtype_of,
                          unary_op)
from ..core.arrays import as_operand, is_foreign
from ..core.trace import Tracer
from ._elementwise import (absolute, arctan2, astype, equal, greater, imag, is_complex, isinf,
                           isnan, less, logical_and, not_equal, power, real, where)
from ._reductions import all as all_
from ._reductions import warn_if


# ------------------------------------------------------------------------ complex
def angle(z: Any, deg: bool = False) -> Any:
    """`numpy.angle`: the argument of complex ``z`` (0 or pi, with no derivative,
    for real ``z``).

    Args:
        z: an array or scalar, real or complex (traced or not).
        deg: return degrees instead of radians.

    Returns:
        The arguments, real, in ``(-pi, pi]`` (or degrees).

    >>> import xform, xform.numpy as np
    >>> float(np.angle(1j)), float(np.angle(-2.0, deg=True))
    (1.5707963267948966, 180.0)
    >>> float(xform.jvp(np.angle, (1.0 + 1.0j,), (1.0j,))[1])  # Re z / |z|^2
    0.5
    """
    out_dtype = np.angle(np.zeros((), dtype_of(z))).dtype
    if is_complex(z):
        out = arctan2(imag(z), real(z))
    else:
        # arctan2(0, x) is piecewise constant; spelt out to avoid its 0/0 derivative at 0
        out = where(isnan(z), np.nan, where(signbit(z), np.pi, 0.0))
        out = astype(out, out_dtype)
    return out * (180.0 / np.pi) if deg else out


def real_if_close(a: Any, tol: float = 100) -> Any:
    """`numpy.real_if_close`: the real part if every imaginary part is within
    ``tol`` (machine epsilons when ``tol > 1``) of zero. Decided on concrete values.

    Args:
        a: an array (traced or not; a traced one needs concrete values to decide).
        tol: the tolerance: in machine epsilons of ``a``'s dtype when above 1, else
            absolute.

    Returns:
        The real part of ``a`` when every imaginary part is that small, else ``a``.

    >>> import xform.numpy as np
    >>> np.real_if_close(np.array([1.0 + 1e-17j, 2.0 + 0j])).tolist()
    [1.0, 2.0]
    """
    if not is_complex(a):
        return a
    if tol > 1:
        tol = float(np.finfo(dtype_of(a)).eps) * tol
    if bool(all_(less(absolute(imag(a)), tol))):
        return real(a)
    return a


def iscomplex(x: Any) -> Any:
    """`numpy.iscomplex`: elementwise, whether the imaginary part is nonzero (all False
    for a real dtype); boolean, no derivative.

    Args:
        x: an array or scalar (traced or not).

    Returns:
        A boolean array of ``x``'s shape.

    >>> import xform.numpy as np
    >>> np.iscomplex(np.asarray([1.0 + 0j, 2.0 + 1j])).tolist()
    [False, True]
    """
    return not_equal(imag(x), 0)


def isreal(x: Any) -> Any:
    """`numpy.isreal`: elementwise, whether the imaginary part is zero (all True for a
    real dtype); boolean, no derivative.

    Args:
        x: an array or scalar (traced or not).

    Returns:
        A boolean array of ``x``'s shape.

    >>> import xform.numpy as np
    >>> np.isreal(np.asarray([1.0 + 0j, 2.0 + 1j])).tolist()
    [True, False]
    """
    return equal(imag(x), 0)


def iscomplexobj(x: Any) -> bool:
    """`numpy.iscomplexobj`: whether the dtype is complex (no values needed).

    Args:
        x: an array, scalar or traced value.

    Returns:
        True when ``x``'s dtype is complex.

    >>> import xform.numpy as np
    >>> np.iscomplexobj(np.array([1.0 + 0j])), np.iscomplexobj(np.ones(2))
    (True, False)
    """
    return is_complex(x)


def isrealobj(x: Any) -> bool:
    """`numpy.isrealobj`: whether the dtype is not complex.

    Args:
        x: an array, scalar or traced value.

    Returns:
        True when ``x``'s dtype is not complex.

    >>> import xform.numpy as np
    >>> np.isrealobj(np.ones(2)), np.isrealobj(np.array([1.0 + 0j]))
    (True, False)
    """
    return not is_complex(x)


# ------------------------------------------------------------------------ sinc
def _sinc_impl(x: Any, k: int, xp: Any = np) -> Any:
    """The ``k``-th derivative of ``sinc`` (``k = 0``: `numpy.sinc` itself), with the
    array namespace ``xp`` (NumPy, or ``jax.numpy`` for the XLA lowering)."""
    if k == 0:
        return xp.sinc(x)
    out_dtype = np.sinc(np.zeros((), dtype_of(x))).dtype
    dt = np.result_type(out_dtype, np.float64)
    x = x.astype(dt) if is_foreign(x) else xp.asarray(x, dt)  # a Dask/CuPy x stays one
    small = xp.abs(x) < 1.0
    xs = xp.where(small, x, 0.0)
    # Maclaurin series near 0: sinc(x) = sum_n (-1)^n (pi x)^2n / (2n+1)!
    series = xp.zeros_like(x)
    for n in range((k + 1) // 2, (k + 1) // 2 + 40):
        coef = (-1) ** n * math.pi ** (2 * n) / ((2 * n + 1) * math.factorial(2 * n - k))
        series = series + coef * xs ** (2 * n - k)
    # elsewhere, from (x f)^(k) = x f^(k) + k f^(k-1) = pi^(k-1) sin(pi x + k pi / 2)
    xl = xp.where(small, 1.0, x)
    f = xp.sinc(xl)
    for j in range(1, k + 1):
        f = (math.pi ** (j - 1) * xp.sin(math.pi * xl + j * math.pi / 2) - j * f) / xl
    return xp.where(small, series, f).astype(out_dtype)


sinc_p = Primitive("sinc", _sinc_impl)
defrules(sinc_p, lambda ans, x, k: bind(sinc_p, x, k=k + 1), broadcasting=False)
batch_unary(sinc_p)


def sinc(x: Any) -> Any:
    """`numpy.sinc`, ``sin(pi x) / (pi x)``; derivatives of every order are exact,
    including at 0.

    Args:
        x: an array or scalar (traced or not).

    Returns:
        The normalised sinc of ``x`` (1 at 0).

    >>> import xform, xform.numpy as np
    >>> float(np.sinc(0.0)), float(np.sinc(0.5))
    (1.0, 0.6366197723675814)
    >>> float(xform.grad(np.sinc)(0.0)), round(float(xform.grad(xform.grad(np.sinc))(0.0)), 6)
    (0.0, -3.289868)
    """
    return bind(sinc_p, x, k=0)


# ------------------------------------------------------------------------ float_power, nan_to_num
def float_power(x1: Any, x2: Any) -> Any:
    """`numpy.float_power`: ``x1 ** x2`` computed in float64 (complex128 for complex).

    Args:
        x1: the bases (traced or not).
        x2: the exponents, broadcast against ``x1``.

    Returns:
        ``x1 ** x2`` in float64 (or complex128), differentiable in both.

    >>> import xform, xform.numpy as np
    >>> r = np.float_power(np.array([2.0], dtype=np.float32), 3)
    >>> r.dtype, r.tolist()
    (dtype('float64'), [8.0])
    >>> float(xform.grad(np.float_power)(2.0, 3.0))
    12.0
    """
    target = np.complex128 if is_complex(x1) or is_complex(x2) else np.float64
    return power(astype(x1, target), astype(x2, target))


def nan_to_num(x: Any, copy: bool = True, nan: float = 0.0, posinf: float | None = None,
               neginf: float | None = None) -> Any:
    """`numpy.nan_to_num`; the derivative is 1 at finite entries and 0 at replaced ones.

    Args:
        x: an array or scalar (traced or not); integer inputs are returned as they are.
        copy: as NumPy's: ``copy=False`` with a NumPy array (outside any transform)
            replaces its entries in place and returns that array. A traced value, or a
            Dask or CuPy array, is never modified: ``copy=False`` then returns a new
            value, as ``copy=True`` does (traced values are immutable, and the other
            libraries' in-place writes would not reach the caller's array under a
            transform either).
        nan: the value for NaNs.
        posinf: the value for +inf (None: the dtype's largest finite value).
        neginf: the value for -inf (None: the dtype's most negative finite value).

    Returns:
        ``x`` with NaNs and infinities replaced (real and imaginary parts separately).

    >>> import xform, xform.numpy as np
    >>> x = np.array([1.0, np.nan, np.inf])
    >>> np.nan_to_num(x, posinf=9.0).tolist()
    [1.0, 0.0, 9.0]
    >>> xform.grad(lambda x: np.sum(np.nan_to_num(x)))(x).tolist()
    [1.0, 0.0, 0.0]
    >>> _ = np.nan_to_num(x, copy=False); x.tolist()  # in place, as NumPy
    [1.0, 0.0, 1.7976931348623157e+308]
    """
    if not copy and type(x) is np.ndarray:
        return np.nan_to_num(x, copy=False, nan=nan, posinf=posinf, neginf=neginf)
    if is_complex(x):
        return (nan_to_num(real(x), copy, nan, posinf, neginf)
                + 1j * nan_to_num(imag(x), copy, nan, posinf, neginf))
    dt = dtype_of(x)
    if not np.issubdtype(dt, np.inexact):
        return x
    big = np.finfo(dt).max
    posinf = big if posinf is None else posinf
    neginf = -big if neginf is None else neginf
    inf = isinf(x)
    out = where(isnan(x), np.asarray(nan, dt), x)
    return where(inf, where(greater(x, 0), np.asarray(posinf, dt), np.asarray(neginf, dt)), out)


# ------------------------------------------------------------------------ predicates
signbit_p, signbit = unary_op("signbit", np.signbit, None)
def _isclose(a: Any, b: Any, rtol: Any, atol: Any, equal_nan: bool) -> Any:
    # NumPy's warning on non-finite tolerances is issued by `isclose`, at the user's line
    with np.errstate(invalid="ignore"):
        return np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)


isclose_p = Primitive("isclose", _isclose, nondiff=True)
batch_broadcasting(isclose_p)


def isclose(a: Any, b: Any, rtol: float = 1e-05, atol: float = 1e-08,
            equal_nan: bool = False) -> Any:
    """`numpy.isclose` (boolean result, no derivative).

    Args:
        a: an array or scalar (traced or not).
        b: another, broadcast against ``a``.
        rtol: the relative tolerance (times ``|b|``).
        atol: the absolute tolerance.
        equal_nan: whether NaNs compare equal to each other.

    Returns:
        A boolean array: where ``|a - b| <= atol + rtol * |b|``.

    >>> import xform.numpy as np
    >>> np.isclose(np.array([1.0, 1.1]), 1.0).tolist()
    [True, False]
    """
    if not (np.all(np.isfinite(atol)) and np.all(np.isfinite(rtol))):
        message = f"One of rtol or atol is not valid, atol: {atol}, rtol: {rtol}"
        mode = error_mode("invalid")
        if mode == "raise":
            raise FloatingPointError(message)
        if mode == "warn":
            warn_if(True, message)
    return bind(isclose_p, a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)


def allclose(a: Any, b: Any, rtol: float = 1e-05, atol: float = 1e-08,
             equal_nan: bool = False) -> Any:
    """`numpy.allclose`: a Python bool (a traced boolean under vmap).

    Args:
        a: an array or scalar (traced or not).
        b: another, broadcast against ``a``.
        rtol: the relative tolerance (times ``|b|``).
        atol: the absolute tolerance.
        equal_nan: whether NaNs compare equal to each other.

    Returns:
        Whether every pair is close, as `isclose` decides.

    >>> import xform.numpy as np
    >>> np.allclose(np.array([1.0, 2.0]), np.array([1.0, 2.0 + 1e-9]))
    True
    """
    out = all_(isclose(a, b, rtol, atol, equal_nan))
    return out if isinstance(out, Tracer) else bool(out)


def isposinf(x: Any) -> Any:
    """`numpy.isposinf` (boolean result, no derivative).

    Args:
        x: an array or scalar (traced or not).

    Returns:
        A boolean array: where ``x`` is +inf.

    >>> import xform.numpy as np
    >>> np.isposinf(np.array([np.inf, -np.inf, 1.0])).tolist()
    [True, False, False]
    """
    return logical_and(isinf(x), ~signbit(x))


def isneginf(x: Any) -> Any:
    """`numpy.isneginf` (boolean result, no derivative).

    Args:
        x: an array or scalar (traced or not).

    Returns:
        A boolean array: where ``x`` is -inf.

    >>> import xform.numpy as np
    >>> np.isneginf(np.array([np.inf, -np.inf, 1.0])).tolist()
    [False, True, False]
    """
    return logical_and(isinf(x), signbit(x))


# ------------------------------------------------------------------------ XLA lowerings
sinc_p.lower = same_code(_sinc_impl)
isclose_p.lower = jnp_call("isclose", "rtol", "atol", "equal_nan")
