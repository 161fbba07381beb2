"""Regularized incomplete gamma and beta functions, Student's t CDF, and their
inverses (differentiated implicitly).

Derivatives in the integration limit ``x`` are closed forms (the integrands).
Derivatives in the shape parameters ``a`` and ``b`` have none: the primitives
carry a static derivative order (``k`` for gamma, ``i, j`` for beta) and, for a
non-zero order, evaluate that partial derivative by running the classical series
and continued fractions on Taylor jets (``_jet.py``): the power series of P(a, x)
when ``x < a + 1`` and Legendre's continued fraction of Q(a, x) otherwise; the
continued fraction of I_x(a, b) (modified Lentz method) on the side of
``(a + 1) / (a + b + 2)`` where it converges fast, using ``I_x(a, b) = 1 - I_{1-x}(b, a)``
on the other. The derivative of an order-``k`` primitive in a shape parameter is the
order-``k + 1`` primitive, so every order is available. Order 0 is SciPy's kernel.

Accuracy of the shape derivatives is close to machine precision (checked against
mpmath); the iterations need about ``sqrt(a)`` (resp. ``sqrt(max(a, b))``) steps near
the transition point: at a = 1e6 a derivative costs about 0.5 s and is accurate to
about 1e-9, and beyond about 1e8 the iteration cap stops them early.
"""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np
import scipy.special as sc

from ...core.arrays import as_operand, require_numpy
from ...core.ir import ShapedArray
from ...core.lowering import on_host
from ...numpy import _elementwise as E
from ...core.rules import (Primitive, batch_broadcasting, bind, defjvp, defvjp, real_only,
                           shape_of)
from ._functions import (betaln, digamma, float_dtype, gammaln, polygamma, xlog1py, xlogy)
from ._jet import Jet

_EPS = 1e-16       # relative size of a negligible series term
_CF_EPS = 1e-15    # distance from 1 of a negligible continued-fraction factor
_MAX_ITER = 20000
_TINY = 1e-300


def _converged(term: Jet, total: Jet) -> bool:
    """Every coefficient of ``term`` is negligible next to ``total``'s, everywhere
    (NaN counts as converged: a NaN input gives a NaN output, not an endless loop)."""
    return all(not np.any(np.abs(v) > _EPS * np.abs(total.c.get(k, 0.0)))
               for k, v in term.c.items())


def _factor_converged(delta: Jet) -> bool:
    """The Lentz factor ``delta`` is 1 (its derivatives 0) to working precision."""
    return all(not np.any(np.abs(v - 1.0 if k == (0, 0) else v) > _CF_EPS)
               for k, v in delta.c.items())


def _np_lgamma(j: Jet) -> Jet:
    return j.gammaln(sc.gammaln, sc.polygamma)


# --------------------------------------------------------------------------- gamma
def _gamma_series(a: Jet, x: np.ndarray) -> Jet:
    """P(a, x) = x^a e^-x / Gamma(a + 1) * sum_n x^n / ((a+1)...(a+n)), for x < a + 1."""
    term = Jet.const(np.ones_like(x), a.order)
    total = term
    for n in range(1, _MAX_ITER):
        term = term * x / (a + float(n))
        total = total + term
        if _converged(term, total):
            break
    front = (a * np.log(x) - x - _np_lgamma(a + 1.0)).exp(np.exp)
    return front * total


def _gamma_cfrac(a: Jet, x: np.ndarray) -> Jet:
    """Q(a, x) = x^a e^-x / Gamma(a) / (x + 1 - a - 1(1-a)/(x + 3 - a - ...)), for
    x >= a + 1, by the modified Lentz algorithm."""
    b = x + 1.0 - a
    c = Jet.const(np.full_like(x, 1.0 / _TINY), a.order)
    d = 1.0 / b
    h = d
    for i in range(1, _MAX_ITER):
        an = a * float(i) - float(i * i)
        b = b + 2.0
        d = 1.0 / (an * d + b)
        c = b + an / c
        delta = d * c
        h = h * delta
        if _factor_converged(delta):
            break
    front = (a * np.log(x) - x - _np_lgamma(a)).exp(np.exp)
    return front * h


def gammainc_derivative(a: Any, x: Any, k: int, upper: bool = False) -> np.ndarray:
    """``d^k P(a, x) / da^k`` (``Q = 1 - P`` with ``upper``) for ``k >= 1``, in NumPy."""
    require_numpy("the derivative of xform.scipy.special.gammainc in its order a", a, x)
    dtype = float_dtype(a, x)
    a, x = np.broadcast_arrays(np.asarray(a, np.float64), np.asarray(x, np.float64))
    shape = a.shape
    a, x = a.ravel(), x.ravel()
    out = np.full(a.shape, np.nan)
    with np.errstate(all="ignore"):
        ok = (a > 0) & (x >= 0)
        out[ok & ((x == 0) | (x == np.inf))] = 0.0   # P is 0 or 1 for every a
        inner = ok & (x > 0) & (x < np.inf)
        series = inner & (x < a + 1.0)
        cfrac = inner & ~series
        order = (k, 0)
        if series.any():
            p = _gamma_series(Jet.var(a[series], order, 0), x[series]).derivative(k, 0)
            out[series] = -p if upper else p
        if cfrac.any():
            q = _gamma_cfrac(Jet.var(a[cfrac], order, 0), x[cfrac]).derivative(k, 0)
            out[cfrac] = q if upper else -q
    return out.reshape(shape).astype(dtype, copy=False)


def _gamma_density_jet(a: Any, x: Any, k: int) -> Any:
    """``d^k/da^k`` of ``dP/dx = x^(a-1) e^-x / Gamma(a)``, with traceable ops."""
    a = E.astype(a, float_dtype(a, x))  # a Python float next to float32 x stays float32
    coeffs: dict[tuple[int, int], Any] = {(0, 0): xlogy(a - 1.0, x) - x - gammaln(a)}
    if k >= 1:
        coeffs[(1, 0)] = E.log(x) - digamma(a)
    for m in range(2, k + 1):
        coeffs[(m, 0)] = polygamma(m - 1, a) * (-1.0 / math.factorial(m))
    return Jet(coeffs, (k, 0)).exp(E.exp).derivative(k, 0)


def _broadcast_shape_rule(*avals: Any, **params: Any) -> ShapedArray:
    shapes = [shape_of(a) for a in avals]
    return ShapedArray(tuple(np.broadcast_shapes(*shapes)), float_dtype(*avals))


def _defrules(prim: Primitive, derivs: tuple[Callable[..., Any], ...]) -> None:
    """Both modes from the partial derivatives ``d(ans, *args, **params)``."""
    defjvp(prim, *[(lambda d: lambda t, *args, **p: t * d(*args, **p))(d) for d in derivs])
    defvjp(prim, *[(lambda d: lambda ct, *args, **p: ct * d(*args, **p))(d) for d in derivs],
           broadcasting=True)
    batch_broadcasting(prim)


def _incomplete_gamma(name: str, upper: bool) -> Primitive:
    kernel = sc.gammaincc if upper else sc.gammainc
    sign = -1.0 if upper else 1.0

    def impl(a: Any, x: Any, k: int) -> Any:
        if k == 0:
            return as_operand(kernel(a, x)).astype(float_dtype(a, x), copy=False)
        return gammainc_derivative(a, x, k, upper)

    prim = Primitive(name, impl)
    prim.abstract_eval = _broadcast_shape_rule
    # the shape derivative of the order-k primitive is the order-(k+1) primitive
    _defrules(prim, (lambda ans, a, x, k: bind(prim, a, x, k=k + 1),
                     lambda ans, a, x, k: sign * _gamma_density_jet(a, x, k)))
    return prim


gammainc_p = _incomplete_gamma("gammainc", upper=False)
gammaincc_p = _incomplete_gamma("gammaincc", upper=True)


def gammainc(a: Any, x: Any) -> Any:
    """`scipy.special.gammainc`: the regularized lower incomplete gamma P(a, x);
    differentiable in x and in a (to any order).

    Args:
        a: the positive shape parameter (traced or not).
        x: the nonnegative upper limit, broadcast against ``a``.

    Returns:
        ``P(a, x)``, in [0, 1].

    >>> import math, xform, xform.scipy.special as sp
    >>> round(float(sp.gammainc(1.0, 2.0)), 12) == round(1 - math.exp(-2.0), 12)
    True
    >>> round(float(xform.grad(sp.gammainc, argnums=1)(1.0, 2.0)), 12) == round(math.exp(-2.0), 12)
    True
    """
    return bind(gammainc_p, a, x, k=0)


def gammaincc(a: Any, x: Any) -> Any:
    """`scipy.special.gammaincc`: the regularized upper incomplete gamma Q(a, x);
    differentiable in x and in a (to any order).

    Args:
        a: the positive shape parameter (traced or not).
        x: the nonnegative lower limit, broadcast against ``a``.

    Returns:
        ``Q(a, x) = 1 - P(a, x)``, in [0, 1].

    >>> import math, xform, xform.scipy.special as sp
    >>> round(float(sp.gammaincc(1.0, 2.0)), 12) == round(math.exp(-2.0), 12)
    True
    >>> dx = xform.grad(sp.gammaincc, argnums=1)(1.0, 2.0)
    >>> round(float(dx), 12) == round(-math.exp(-2.0), 12)
    True
    """
    return bind(gammaincc_p, a, x, k=0)


# --------------------------------------------------------------------------- beta
def _beta_cfrac(a: Jet, b: Jet, x: np.ndarray) -> Jet:
    """I_x(a, b) by its continued fraction (converges fast for x < (a+1)/(a+b+2))."""
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c = Jet.const(np.ones_like(x), a.order)
    d = 1.0 / (1.0 - qab * x / qap)
    h = d
    for m in range(1, _MAX_ITER):
        m2 = 2.0 * m
        aa = float(m) * (b - float(m)) * x / ((qam + m2) * (a + m2))
        d = 1.0 / (1.0 + aa * d)
        c = 1.0 + aa / c
        h = h * d * c
        aa = -((a + float(m)) * (qab + float(m)) * x) / ((a + m2) * (qap + m2))
        d = 1.0 / (1.0 + aa * d)
        c = 1.0 + aa / c
        delta = d * c
        h = h * delta
        if _factor_converged(delta):
            break
    lbeta = _np_lgamma(a) + _np_lgamma(b) - _np_lgamma(a + b)
    front = (a * np.log(x) + b * np.log1p(-x) - lbeta).exp(np.exp) / a
    return front * h


def betainc_derivative(a: Any, b: Any, x: Any, i: int, j: int,
                       upper: bool = False) -> np.ndarray:
    """``d^(i+j) I_x(a, b) / da^i db^j`` (of ``1 - I`` with ``upper``) for
    ``i + j >= 1``, in NumPy."""
    dtype = float_dtype(a, b, x)
    require_numpy("the derivative of xform.scipy.special.betainc in a or b", a, b, x)
    a, b, x = np.broadcast_arrays(*[np.asarray(v, np.float64) for v in (a, b, x)])
    shape = a.shape
    a, b, x = a.ravel(), b.ravel(), x.ravel()
    out = np.full(a.shape, np.nan)
    order = (i, j)
    with np.errstate(all="ignore"):
        ok = (a > 0) & (b > 0) & (x >= 0) & (x <= 1)
        out[ok & ((x == 0) | (x == 1))] = 0.0   # I is 0 or 1 for every a, b
        inner = ok & (x > 0) & (x < 1)
        direct = inner & (x < (a + 1.0) / (a + b + 2.0))
        swapped = inner & ~direct
        if direct.any():
            r = _beta_cfrac(Jet.var(a[direct], order, 0), Jet.var(b[direct], order, 1),
                            x[direct]).derivative(i, j)
            out[direct] = -r if upper else r
        if swapped.any():
            # I_x(a, b) = 1 - I_{1-x}(b, a): same jets, arguments exchanged
            r = _beta_cfrac(Jet.var(b[swapped], order, 1), Jet.var(a[swapped], order, 0),
                            1.0 - x[swapped]).derivative(i, j)
            out[swapped] = r if upper else -r
    return out.reshape(shape).astype(dtype, copy=False)


def _beta_density_jet(a: Any, b: Any, x: Any, i: int, j: int) -> Any:
    """``d^(i+j)/da^i db^j`` of ``dI/dx = x^(a-1) (1-x)^(b-1) / B(a, b)``, traceable."""
    dt = float_dtype(a, b, x)
    a, b = E.astype(a, dt), E.astype(b, dt)
    ab = a + b
    c: dict[tuple[int, int], Any] = {
        (0, 0): xlogy(a - 1.0, x) + xlog1py(b - 1.0, -x) - betaln(a, b)}
    if i >= 1:
        c[(1, 0)] = E.log(x) - digamma(a) + digamma(ab)
    if j >= 1:
        c[(0, 1)] = E.log1p(-x) - digamma(b) + digamma(ab)
    for p in range(i + 1):
        for q in range(j + 1):
            if p + q < 2:
                continue
            v = polygamma(p + q - 1, ab) * (1.0 / (math.factorial(p) * math.factorial(q)))
            if q == 0:
                v = v - polygamma(p - 1, a) * (1.0 / math.factorial(p))
            if p == 0:
                v = v - polygamma(q - 1, b) * (1.0 / math.factorial(q))
            c[(p, q)] = v
    return Jet(c, (i, j)).exp(E.exp).derivative(i, j)


def _incomplete_beta(name: str, upper: bool) -> Primitive:
    kernel = sc.betaincc if upper else sc.betainc
    sign = -1.0 if upper else 1.0

    def impl(a: Any, b: Any, x: Any, i: int, j: int) -> Any:
        if i == 0 and j == 0:
            return as_operand(kernel(a, b, x)).astype(float_dtype(a, b, x), copy=False)
        return betainc_derivative(a, b, x, i, j, upper)

    prim = Primitive(name, impl)
    prim.abstract_eval = _broadcast_shape_rule
    _defrules(prim, (lambda ans, a, b, x, i, j: bind(prim, a, b, x, i=i + 1, j=j),
                     lambda ans, a, b, x, i, j: bind(prim, a, b, x, i=i, j=j + 1),
                     lambda ans, a, b, x, i, j: sign * _beta_density_jet(a, b, x, i, j)))
    return prim


betainc_p = _incomplete_beta("betainc", upper=False)
betaincc_p = _incomplete_beta("betaincc", upper=True)


def betainc(a: Any, b: Any, x: Any) -> Any:
    """`scipy.special.betainc`: the regularized incomplete beta I_x(a, b);
    differentiable in x, a and b (to any order).

    Args:
        a: the first positive shape parameter (traced or not).
        b: the second positive shape parameter.
        x: the upper limit, in [0, 1]; the three broadcast together.

    Returns:
        ``I_x(a, b)``, in [0, 1].

    >>> import xform, xform.scipy.special as sp
    >>> float(sp.betainc(2.0, 1.0, 0.5)), float(xform.grad(sp.betainc, argnums=2)(2.0, 1.0, 0.5))
    (0.25, 1.0)
    """
    return bind(betainc_p, a, b, x, i=0, j=0)


def betaincc(a: Any, b: Any, x: Any) -> Any:
    """`scipy.special.betaincc`: ``1 - betainc(a, b, x)`` computed accurately;
    differentiable in x, a and b (to any order).

    Args:
        a: the first positive shape parameter (traced or not).
        b: the second positive shape parameter.
        x: the lower limit, in [0, 1]; the three broadcast together.

    Returns:
        ``1 - I_x(a, b)``, in [0, 1].

    >>> import xform, xform.scipy.special as sp
    >>> float(sp.betaincc(2.0, 1.0, 0.5)), float(xform.grad(sp.betaincc, argnums=2)(2.0, 1.0, 0.5))
    (0.75, -1.0)
    """
    return bind(betaincc_p, a, b, x, i=0, j=0)


# --------------------------------------------------------------------------- Student t
def _t_logpdf(df: Any, t: Any) -> Any:
    return (gammaln(0.5 * (df + 1.0)) - gammaln(0.5 * df) - 0.5 * E.log(df * math.pi)
            - 0.5 * (df + 1.0) * E.log1p(t * t / df))


def _t_density(df: Any, t: Any) -> Any:
    return E.exp(_t_logpdf(E.astype(df, float_dtype(df, t)), t))


def _stdtr_ddf(ans: Any, df: Any, t: Any) -> Any:
    """d stdtr / d df. With y = t^2/(df+t^2) and x2 = 1 - y, the CDF is
    0.5 + 0.5 sign(t) I_y(1/2, df/2) = 1 - 0.5 I_x2(df/2, 1/2) (t > 0); we use
    the form whose argument is the smaller one (1 - y loses y's digits). The terms
    from d y / d df simplify to one smooth expression. At t == 0 every form has a
    0 * inf in its second derivative, so t == 0 uses the exact second-order
    expansion ``t * d pdf(0) / d df`` (the CDF minus 1/2 is odd in t)."""
    df = E.astype(df, float_dtype(df, t))
    zero = E.equal(t, 0)
    ts = E.where(zero, 1.0, t)  # the double-where guard: no NaN reaches the derivative
    s = ts * ts + df
    y = ts * ts / s
    x2 = df / s
    half_df = 0.5 * df
    small_y = E.less(y, 0.5)
    ys = E.where(small_y, y, 0.25)
    xs = E.where(small_y, 0.75, x2)
    by_y = 0.25 * E.sign(ts) * bind(betainc_p, 0.5, half_df, ys, i=0, j=1)
    by_x2 = -0.25 * E.sign(ts) * bind(betainc_p, half_df, 0.5, xs, i=1, j=0)
    shape_part = E.where(small_y, by_y, by_x2)
    limit_part = -0.5 * ts * E.exp((half_df - 1.0) * E.log(x2) - 1.5 * E.log(s)
                                   - betaln(half_df, 0.5))
    at_zero = t * E.exp(_t_logpdf(df, 0.0 * t)) * 0.5 * (
        digamma(0.5 * (df + 1.0)) - digamma(half_df) - 1.0 / df)
    return E.where(zero, at_zero, shape_part + limit_part)


stdtr_p = Primitive("stdtr", lambda df, t: as_operand(sc.stdtr(df, t)).astype(
    float_dtype(df, t), copy=False))
stdtr_p.abstract_eval = _broadcast_shape_rule
_defrules(stdtr_p, (_stdtr_ddf, lambda ans, df, t: _t_density(df, t)))


def stdtr(df: Any, t: Any) -> Any:
    """`scipy.special.stdtr`: Student's t CDF with ``df`` degrees of freedom at ``t``;
    differentiable in t and df.

    Args:
        df: the degrees of freedom, positive (traced or not).
        t: where to evaluate, broadcast against ``df``.

    Returns:
        ``P(T <= t)`` for a Student's t variable ``T``.

    >>> import math, xform, xform.scipy.special as sp
    >>> float(sp.stdtr(1.0, 0.0))
    0.5
    >>> abs(float(xform.grad(sp.stdtr, argnums=1)(1.0, 0.0)) - 1 / math.pi) < 1e-12  # Cauchy
    True
    """
    return bind(stdtr_p, df, t)


# --------------------------------------------------------------------------- inverses
# x = F^-1(p) solves F(params, x) = p, so by implicit differentiation
# dx/dp = 1 / F_x and dx/dparam = -F_param / F_x, with F_x the density at x = ans.
def _inverse(name: str, kernel: Callable[..., Any], n_params: int,
             density: Callable[..., Any], param_derivs: list[Callable[..., Any]],
             upper: bool) -> tuple[Primitive, Callable[..., Any]]:
    sign = -1.0 if upper else 1.0

    def impl(*args: Any) -> Any:
        return as_operand(kernel(*args)).astype(float_dtype(*args), copy=False)

    prim = Primitive(name, impl)
    prim.abstract_eval = _broadcast_shape_rule

    def d_param(k: int) -> Callable[..., Any]:
        return lambda ans, *args: -param_derivs[k](*args[:n_params], ans) / (
            sign * density(*args[:n_params], ans))

    def d_p(ans: Any, *args: Any) -> Any:
        return 1.0 / (sign * density(*args[:n_params], ans))

    _defrules(prim, tuple(d_param(k) for k in range(n_params)) + (d_p,))

    def fn(*args: Any) -> Any:
        return bind(prim, *args)

    fn.__name__ = fn.__qualname__ = name
    return prim, fn


def _gamma_density(a: Any, x: Any) -> Any:
    return _gamma_density_jet(a, x, 0)


def _gamma_da(a: Any, x: Any) -> Any:
    return bind(gammainc_p, a, x, k=1)


def _beta_density(a: Any, b: Any, x: Any) -> Any:
    return _beta_density_jet(a, b, x, 0, 0)


def _beta_da(a: Any, b: Any, x: Any) -> Any:
    return bind(betainc_p, a, b, x, i=1, j=0)


def _beta_db(a: Any, b: Any, x: Any) -> Any:
    return bind(betainc_p, a, b, x, i=0, j=1)


gammaincinv_p, gammaincinv = _inverse("gammaincinv", sc.gammaincinv, 1, _gamma_density,
                                      [_gamma_da], upper=False)
gammainccinv_p, gammainccinv = _inverse("gammainccinv", sc.gammainccinv, 1, _gamma_density,
                                        [lambda a, x: -_gamma_da(a, x)], upper=True)
betaincinv_p, betaincinv = _inverse("betaincinv", sc.betaincinv, 2, _beta_density,
                                    [_beta_da, _beta_db], upper=False)
betainccinv_p, betainccinv = _inverse("betainccinv", sc.betainccinv, 2, _beta_density,
                                      [lambda a, b, x: -_beta_da(a, b, x),
                                       lambda a, b, x: -_beta_db(a, b, x)], upper=True)
stdtrit_p, stdtrit = _inverse("stdtrit", sc.stdtrit, 1, _t_density,
                              [lambda df, t: _stdtr_ddf(None, df, t)], upper=False)
gammaincinv.__doc__ = """`scipy.special.gammaincinv`: x with gammainc(a, x) = p;
differentiable in a and p.

Args:
    *args: ``(a, p)``: the positive shape parameter and the probability, in [0, 1];
        broadcast together.

Returns:
    x >= 0 with ``gammainc(a, x) == p``.

>>> import math, xform, xform.scipy.special as sp
>>> abs(float(sp.gammaincinv(1.0, 0.5)) - math.log(2.0)) < 1e-12  # -log(1 - p)
True
>>> round(float(xform.grad(sp.gammaincinv, argnums=1)(1.0, 0.5)), 10)  # 1 / (1 - p)
2.0
"""
gammainccinv.__doc__ = """`scipy.special.gammainccinv`: x with gammaincc(a, x) = p;
differentiable in a and p.

Args:
    *args: ``(a, p)``: the positive shape parameter and the probability, in [0, 1];
        broadcast together.

Returns:
    x >= 0 with ``gammaincc(a, x) == p``.

>>> import math, xform, xform.scipy.special as sp
>>> abs(float(sp.gammainccinv(1.0, 0.5)) - math.log(2.0)) < 1e-12  # -log(p)
True
>>> round(float(xform.grad(sp.gammainccinv, argnums=1)(1.0, 0.5)), 10)  # -1 / p
-2.0
"""
betaincinv.__doc__ = """`scipy.special.betaincinv`: x with betainc(a, b, x) = p;
differentiable in a, b and p.

Args:
    *args: ``(a, b, p)``: the two positive shape parameters and the probability, in [0,
        1]; broadcast together.

Returns:
    x in [0, 1] with ``betainc(a, b, x) == p``.

>>> import xform, xform.scipy.special as sp
>>> round(float(sp.betaincinv(2.0, 1.0, 0.25)), 12)  # sqrt(p)
0.5
>>> round(float(xform.grad(sp.betaincinv, argnums=2)(2.0, 1.0, 0.25)), 10)
1.0
"""
betainccinv.__doc__ = """`scipy.special.betainccinv`: x with betaincc(a, b, x) = p;
differentiable in a, b and p.

Args:
    *args: ``(a, b, p)``: the two positive shape parameters and the probability, in [0,
        1]; broadcast together.

Returns:
    x in [0, 1] with ``betaincc(a, b, x) == p``.

>>> import xform, xform.scipy.special as sp
>>> round(float(sp.betainccinv(2.0, 1.0, 0.75)), 12)  # sqrt(1 - p)
0.5
>>> round(float(xform.grad(sp.betainccinv, argnums=2)(2.0, 1.0, 0.75)), 10)
-1.0
"""
stdtrit.__doc__ = """`scipy.special.stdtrit`: t with stdtr(df, t) = p; differentiable in
df and p.

Args:
    *args: ``(df, p)``: the positive degrees of freedom and the probability, in (0, 1);
        broadcast together.

Returns:
    t with ``stdtr(df, t) == p``.

>>> import math, xform, xform.scipy.special as sp
>>> float(sp.stdtrit(1.0, 0.5))
0.0
>>> abs(float(xform.grad(sp.stdtrit, argnums=1)(1.0, 0.5)) - math.pi) < 1e-9  # 1 / density
True
"""

for _p in (gammainc_p, gammaincc_p, betainc_p, betaincc_p, stdtr_p, gammaincinv_p,
           gammainccinv_p, betaincinv_p, betainccinv_p, stdtrit_p):
    real_only(_p, "scipy.special has no complex kernel for it")

__all__ = ["gammainc", "gammaincc", "betainc", "betaincc", "stdtr", "gammaincinv",
           "gammainccinv", "betaincinv", "betainccinv", "stdtrit",
                          "gammainc_derivative", "betainc_derivative"]


# --------------------------------------------------------------------------- XLA lowerings
# The values lower to JAX's kernels; the parameter derivatives (k, i, j > 0: xform's
# series) and the inverses, which JAX lacks, run on the host.
def _lower_gammainc(upper: bool, impl: Callable[..., Any]) -> Callable[..., Any]:
    def lower(ctx: Any, a: Any, x: Any, k: int) -> Any:
        if k:
            return ctx.host(lambda a, x: impl(a, x, k), a, x)
        return (ctx.jsp.special.gammaincc if upper else ctx.jsp.special.gammainc)(a, x)
    return lower


def _lower_betainc(upper: bool, impl: Callable[..., Any]) -> Callable[..., Any]:
    def lower(ctx: Any, a: Any, b: Any, x: Any, i: int, j: int) -> Any:
        if i or j:
            return ctx.host(lambda a, b, x: impl(a, b, x, i, j), a, b, x)
        if upper:  # I_x(a, b) = 1 - I_(1-x)(b, a)
            return ctx.jsp.special.betainc(b, a, 1.0 - x)
        return ctx.jsp.special.betainc(a, b, x)
    return lower


def _lower_stdtr(ctx: Any, df: Any, t: Any) -> Any:
    # the t CDF from the incomplete beta function: tail = I_(df/(df+t^2))(df/2, 1/2) / 2
    tail = 0.5 * ctx.jsp.special.betainc(0.5 * df, 0.5, df / (df + t * t))
    return ctx.jnp.where(t > 0, 1.0 - tail, tail)


gammainc_p.lower = _lower_gammainc(False, gammainc_p.impl)
gammaincc_p.lower = _lower_gammainc(True, gammaincc_p.impl)
betainc_p.lower = _lower_betainc(False, betainc_p.impl)
betaincc_p.lower = _lower_betainc(True, betaincc_p.impl)
stdtr_p.lower = _lower_stdtr
for _p in (gammaincinv_p, gammainccinv_p, betaincinv_p, betainccinv_p, stdtrit_p):
    _p.lower = on_host(_p.impl)
