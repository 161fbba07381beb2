"""More elementwise functions: the complex parts (real, imag, conj, angle), sinc,
float_power, nan_to_num, and the elementwise predicates isclose/signbit.

Complex derivatives follow JAX's convention: a cotangent is the transpose of the
tangent map under the real pairing ``<a, b> = Re(a * b)``, with no conjugation.
So a holomorphic ``f`` pulls ``ct`` back to ``ct * f'(z)``, and the gradient of a
real-valued function of ``z = x + iy`` comes out as ``df/dx - i df/dy``.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ._rules import (Primitive, batch_broadcasting, batch_unary, bind, defjvp, defrules, defvjp,
                     dtype_of, shape_of, unary_op)


def is_complex(x: Any) -> bool:
    dt = dtype_of(x) if hasattr(x, "dtype") or np.isscalar(x) else np.asarray(x).dtype
    return bool(np.issubdtype(dt, np.complexfloating))


def real_part(ct: Any) -> Any:
    """``ct`` itself when real; its real part when complex. A cotangent of a
    real-valued result is real, but mixed real/complex arithmetic upstream may
    hand back one with a (meaningless) imaginary part: dropping it keeps the
    transposes below exact."""
    return bind(real_p, ct) if is_complex(ct) else ct


# ------------------------------------------------------------------------ real, imag, conj
real_p = Primitive("real", lambda x: np.real(x))
imag_p = Primitive("imag", lambda x: np.imag(x))
conj_p = Primitive("conj", lambda x: np.conjugate(x))


def _real_vjp(ct: Any, ans: Any, x: Any) -> Any:
    from ._elementwise import astype
    ct = real_part(ct)
    return astype(ct, dtype_of(x)) if is_complex(x) else ct


def _imag_vjp(ct: Any, ans: Any, x: Any) -> Any:
    # Im(t) = Re(-1j * t): the transpose sends a real ct to -1j * ct
    ct = real_part(ct)
    return ct * -1j if is_complex(x) else ct * 0.0


defjvp(real_p, lambda t, ans, x: bind(real_p, t))
defvjp(real_p, _real_vjp)
defjvp(imag_p, lambda t, ans, x: bind(imag_p, t))
defvjp(imag_p, _imag_vjp)
defjvp(conj_p, lambda t, ans, x: bind(conj_p, t))
defvjp(conj_p, lambda ct, ans, x: bind(conj_p, ct))
real_p.linear = imag_p.linear = conj_p.linear = True  # over real coefficients
for _p in (real_p, imag_p, conj_p):
    batch_unary(_p)


def real(val: Any) -> Any:
    """`numpy.real`: the real part (the array itself when it is real)."""
    return bind(real_p, val) if is_complex(val) else val


def imag(val: Any) -> Any:
    """`numpy.imag`: the imaginary part (constant zeros for a real array)."""
    if is_complex(val):
        return bind(imag_p, val)
    return np.zeros(shape_of(val), dtype_of(val))


def conj(x: Any) -> Any:
    """`numpy.conj`: complex conjugate (the array itself when it is real)."""
    return bind(conj_p, x) if is_complex(x) else x


conjugate = conj


def angle(z: Any, deg: bool = False) -> Any:
    """`numpy.angle`: the argument of complex ``z`` (0 or pi, with no derivative,
    for real ``z``)."""
    from ._elementwise import arctan2, astype, isnan, where
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
    ``tol`` (machine epsilons when ``tol > 1``) of zero. Decided on concrete values."""
    if not is_complex(a):
        return a
    if tol > 1:
        tol = float(np.finfo(dtype_of(a)).eps) * tol
    from ._elementwise import absolute, less
    from ._reductions import all as all_
    if bool(all_(less(absolute(imag(a)), tol))):
        return real(a)
    return a


def iscomplexobj(x: Any) -> bool:
    """`numpy.iscomplexobj`: whether the dtype is complex (no values needed)."""
    return is_complex(x)


def isrealobj(x: Any) -> bool:
    """`numpy.isrealobj`: whether the dtype is not complex."""
    return not is_complex(x)


# ------------------------------------------------------------------------ sinc
def _sinc_impl(x: Any, k: int) -> Any:
    """The ``k``-th derivative of ``sinc`` (``k = 0``: `numpy.sinc` itself)."""
    if k == 0:
        return np.sinc(x)
    out_dtype = np.sinc(np.zeros((), np.result_type(x))).dtype
    x = np.asarray(x, np.result_type(out_dtype, np.float64))
    small = np.abs(x) < 1.0
    xs = np.where(small, x, 0.0)
    # Maclaurin series near 0: sinc(x) = sum_n (-1)^n (pi x)^2n / (2n+1)!
    series = np.zeros_like(x)
    for n in range((k + 1) // 2, (k + 1) // 2 + 40):
        coef = (-1) ** n * math.pi ** (2 * n) / ((2 * n + 1) * math.factorial(2 * n - k))
        series = series + coef * xs ** (2 * n - k)
    # elsewhere, from (x f)^(k) = x f^(k) + k f^(k-1) = pi^(k-1) sin(pi x + k pi / 2)
    xl = np.where(small, 1.0, x)
    f = np.sinc(xl)
    for j in range(1, k + 1):
        f = (math.pi ** (j - 1) * np.sin(math.pi * xl + j * math.pi / 2) - j * f) / xl
    return np.where(small, series, f).astype(out_dtype)


sinc_p = Primitive("sinc", _sinc_impl)
defrules(sinc_p, lambda ans, x, k: bind(sinc_p, x, k=k + 1), broadcasting=False)
batch_unary(sinc_p)


def sinc(x: Any) -> Any:
    """`numpy.sinc`, ``sin(pi x) / (pi x)``; derivatives of every order are exact,
    including at 0."""
    return bind(sinc_p, x, k=0)


# ------------------------------------------------------------------------ float_power, nan_to_num
def float_power(x1: Any, x2: Any) -> Any:
    """`numpy.float_power`: ``x1 ** x2`` computed in float64 (complex128 for complex)."""
    from ._elementwise import astype, power
    target = np.complex128 if is_complex(x1) or is_complex(x2) else np.float64
    return power(astype(x1, target), astype(x2, target))


def nan_to_num(x: Any, copy: bool = True, nan: float = 0.0, posinf: float | None = None,
               neginf: float | None = None) -> Any:
    """`numpy.nan_to_num`; the derivative is 1 at finite entries and 0 at replaced ones."""
    if is_complex(x):
        return (nan_to_num(real(x), copy, nan, posinf, neginf)
                + 1j * nan_to_num(imag(x), copy, nan, posinf, neginf))
    dt = dtype_of(x)
    if not np.issubdtype(dt, np.inexact):
        return x
    from ._elementwise import greater, isinf, isnan, where
    big = np.finfo(dt).max
    posinf = big if posinf is None else posinf
    neginf = -big if neginf is None else neginf
    inf = isinf(x)
    out = where(isnan(x), np.asarray(nan, dt), x)
    return where(inf, where(greater(x, 0), np.asarray(posinf, dt), np.asarray(neginf, dt)), out)


# ------------------------------------------------------------------------ predicates
signbit_p, signbit = unary_op("signbit", np.signbit, None)
isclose_p = Primitive("isclose", lambda a, b, rtol, atol, equal_nan: np.isclose(
    a, b, rtol=rtol, atol=atol, equal_nan=equal_nan), nondiff=True)
batch_broadcasting(isclose_p)


def isclose(a: Any, b: Any, rtol: float = 1e-05, atol: float = 1e-08,
            equal_nan: bool = False) -> Any:
    """`numpy.isclose` (boolean result, no derivative)."""
    return bind(isclose_p, a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)


def allclose(a: Any, b: Any, rtol: float = 1e-05, atol: float = 1e-08,
             equal_nan: bool = False) -> Any:
    """`numpy.allclose`: a Python bool (a traced boolean under vmap)."""
    from ..core.trace import Tracer
    from ._reductions import all as all_
    out = all_(isclose(a, b, rtol, atol, equal_nan))
    return out if isinstance(out, Tracer) else bool(out)


def isposinf(x: Any) -> Any:
    """`numpy.isposinf` (boolean result, no derivative)."""
    from ._elementwise import isinf, logical_and
    return logical_and(isinf(x), ~signbit(x))


def isneginf(x: Any) -> Any:
    """`numpy.isneginf` (boolean result, no derivative)."""
    from ._elementwise import isinf, logical_and
    return logical_and(isinf(x), signbit(x))
