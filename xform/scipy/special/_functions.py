"""Elementwise special functions: logistic, error and gamma families, ``xlogy``,
``entr`` and the Bessel functions, each a primitive with SciPy's kernel.

Derivatives are written with these same primitives (``gamma' = gamma * digamma``,
``J0' = -J1``, ``Jv' = (J(v-1) - J(v+1)) / 2``...), so every order is available.
"""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np
import scipy.special as sc

from ...core.lowering import on_host, special_call
from ...core.rules import (Primitive, batch_broadcasting, bind, defrules, dtype_of, numpy_op_doc, real_only,
                           unary_op)
from ...core.arrays import as_operand, is_foreign
from ...core.trace import Tracer
from ...numpy import _elementwise as E

# defined below; named here because derivatives refer to each other
digamma: Callable[[Any], Any]
polygamma: Callable[[Any, Any], Any]
expit: Callable[[Any], Any]

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_HALF_SQRT_PI = 0.5 * math.sqrt(math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT_2PI = math.sqrt(2.0 * math.pi)
_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


def float_dtype(*args: Any) -> np.dtype:
    """The floating dtype SciPy's ufuncs give for these operands (Python scalars weak)."""
    dt = np.result_type(*[a if isinstance(a, (int, float)) else
                          np.asarray(a).dtype if isinstance(a, (list, tuple)) else dtype_of(a)
                          for a in args])
    return dt if np.issubdtype(dt, np.inexact) else np.dtype(np.float64)


def _keep_dtype(f: Callable[..., Any], *floats: int) -> Callable[..., Any]:
    """``f`` with its result cast to the floating dtype of the operands at positions
    ``floats``: SciPy computes ``polygamma`` in float64 only, promotes a float32
    argument next to an integer order, and picks a float64 loop for a float32
    array next to a Python float."""
    def impl(*args: Any) -> Any:
        return as_operand(f(*args)).astype(float_dtype(*[args[i] for i in floats]), copy=False)
    return impl


def _order_rule(name: str) -> Callable[..., Any]:
    def rule(ans: Any, v: Any, x: Any) -> Any:
        raise NotImplementedError(
            f"xform.scipy.special.{name}: the derivative with respect to the order v is not "
            "implemented; only the argument x is differentiable (pass v as a constant)")
    return rule


def _binary(name: str, impl: Callable[..., Any], dx: Callable[..., Any] | None,
            dy: Callable[..., Any] | None, doc: str) -> tuple[Primitive, Callable[..., Any]]:
    prim = Primitive(name, impl)
    defrules(prim, dx, dy)
    batch_broadcasting(prim)

    def fn(x: Any, y: Any) -> Any:
        return bind(prim, x, y)

    fn.__name__ = fn.__qualname__ = name
    _special_doc(fn, name, impl, 2, doc)
    return prim, fn


def _special_doc(fn: Callable[..., Any], name: str, impl: Callable[..., Any], nargs: int,
                 doc: str) -> None:
    """Args, Returns and an example against SciPy's function (the derivative in the last
    argument: the first of a binary special function is often an order)."""
    numpy_op_doc(fn, name, impl, nargs, True, ref="scipy.special", alias="sp",
                 alias_of="xform.scipy.special", wrt=nargs - 1, intro=doc.strip(),
                 module=__name__)


def _unary(name: str, impl: Callable[[Any], Any], deriv: Callable[..., Any],
           doc: str) -> tuple[Primitive, Callable[[Any], Any]]:
    prim, fn = unary_op(name, _keep_dtype(impl, 0), deriv)
    _special_doc(fn, name, impl, 1, doc)
    return prim, fn


# ------------------------------------------------------------------ logistic
# ans * (1 - ans) would be 0 in the upper tail, where 1 - ans rounds to 0
expit_p, expit = _unary("expit", sc.expit, lambda ans, x: ans * expit(-x),
                        "`scipy.special.expit`, the logistic sigmoid; stable in both tails.")
logit_p, logit = _unary("logit", sc.logit, lambda ans, x: 1.0 / (x * (1.0 - x)),
                        "`scipy.special.logit`, the inverse of `expit`.")
log_expit_p, log_expit = _unary("log_expit", sc.log_expit, lambda ans, x: expit(-x),
                                "`scipy.special.log_expit`: ``log(expit(x))`` without overflow.")

# ------------------------------------------------------------------ error function family
erf_p, erf = _unary("erf", sc.erf, lambda ans, x: _TWO_OVER_SQRT_PI * E.exp(-x * x),
                    "`scipy.special.erf`.")
erfc_p, erfc = _unary("erfc", sc.erfc, lambda ans, x: -_TWO_OVER_SQRT_PI * E.exp(-x * x),
                      "`scipy.special.erfc`, ``1 - erf(x)`` accurate for large x.")
erfinv_p, erfinv = _unary("erfinv", sc.erfinv, lambda ans, x: _HALF_SQRT_PI * E.exp(ans * ans),
                          "`scipy.special.erfinv`.")
erfcinv_p, erfcinv = _unary("erfcinv", sc.erfcinv,
                            lambda ans, x: -_HALF_SQRT_PI * E.exp(ans * ans),
                            "`scipy.special.erfcinv`.")
ndtr_p, ndtr = _unary("ndtr", sc.ndtr, lambda ans, x: _INV_SQRT_2PI * E.exp(-0.5 * x * x),
                      "`scipy.special.ndtr`, the standard normal CDF.")
# d log Phi(x) = phi(x) / Phi(x), formed in log space: no 0/0 far in the lower tail
log_ndtr_p, log_ndtr = _unary("log_ndtr", sc.log_ndtr,
                              lambda ans, x: E.exp(-0.5 * x * x - ans - _HALF_LOG_2PI),
                              "`scipy.special.log_ndtr`: ``log(ndtr(x))``, accurate in both tails.")
ndtri_p, ndtri = _unary("ndtri", sc.ndtri, lambda ans, x: _SQRT_2PI * E.exp(0.5 * ans * ans),
                        "`scipy.special.ndtri`, the inverse of `ndtr`.")

# ------------------------------------------------------------------ gamma family
gamma_p, gamma = _unary("gamma", sc.gamma, lambda ans, x: ans * digamma(x),
                        "`scipy.special.gamma`.")
gammaln_p, gammaln = _unary("gammaln", sc.gammaln, lambda ans, x: digamma(x),
                            "`scipy.special.gammaln`: ``log|gamma(x)|``.")
# the sign of gamma(x) is piecewise constant: a zero derivative (SciPy's 0 at the poles
# x = 0, -1, -2, ... and NaN for NaN come from the impl)
gammasgn_p, gammasgn = unary_op("gammasgn", _keep_dtype(sc.gammasgn, 0), None)
gammasgn.__doc__ = """`scipy.special.gammasgn`: the sign of ``gamma(x)``; no derivative.

Args:
    x: an array or scalar of reals, or a traced value under a transform.

Returns:
    1.0 where ``gamma(x) > 0``, -1.0 where it is negative (between the negative
    even and odd integers), NaN at the poles.

>>> import xform, xform.numpy as np, xform.scipy.special as sp
>>> sp.gammasgn(np.array([1.5, -0.5, -1.5])).tolist(), float(xform.grad(sp.gammasgn)(1.5))
([1.0, -1.0, 1.0], 0.0)
"""
digamma_p, digamma = _unary("digamma", sc.digamma, lambda ans, x: polygamma(1, x),
                            "`scipy.special.digamma` (``psi``).")
psi = digamma
def _rgamma_deriv(ans: Any, x: Any) -> Any:
    # -rgamma * digamma is 0 * inf at the poles of gamma (x = 0, -1, -2, ...), where
    # 1 / gamma(x) ~ (-1)^n n! (x + n): the derivative there is (-1)^n n!
    pole = E.logical_and(E.less_equal(x, 0.0), E.equal(x, E.floor(x)))
    n = E.where(pole, -x, 0.0)
    at_pole = (1.0 - 2.0 * E.mod(n, 2.0)) * gamma(n + 1.0)
    return E.where(pole, at_pole, -ans * digamma(E.where(pole, 0.5, x)))


rgamma_p, rgamma = _unary("rgamma", sc.rgamma, _rgamma_deriv,
                          "`scipy.special.rgamma`: ``1 / gamma(x)``, an entire function: its "
                          "derivative is finite at the poles of gamma too.")
def _polygamma_kernel(n: Any, x: Any) -> Any:
    """SciPy's ``polygamma`` (a Python function that converts its operands to NumPy);
    for other arrays its formula in SciPy's ufuncs, which they dispatch."""
    if not (is_foreign(n) or is_foreign(x)):
        return sc.polygamma(n, x)
    higher = (-1.0) ** (n + 1) * sc.gamma(n + 1.0) * sc.zeta(n + 1, x)
    return np.where(n == 0, sc.psi(x), higher)


polygamma_p, polygamma = _binary(
    "polygamma", _keep_dtype(_polygamma_kernel, 1), None,
    lambda ans, n, x: polygamma(n + 1, x),
    "`scipy.special.polygamma(n, x)`; differentiable in x (n is an integer order).")
beta_p, beta = _binary(
    "beta", _keep_dtype(sc.beta, 0, 1),
    lambda ans, a, b: ans * (digamma(a) - digamma(a + b)),
    lambda ans, a, b: ans * (digamma(b) - digamma(a + b)),
    "`scipy.special.beta`.")
betaln_p, betaln = _binary(
    "betaln", _keep_dtype(sc.betaln, 0, 1),
    lambda ans, a, b: digamma(a) - digamma(a + b),
    lambda ans, a, b: digamma(b) - digamma(a + b),
    "`scipy.special.betaln`: ``log|beta(a, b)|``.")


def multigammaln(a: Any, d: int) -> Any:
    """`scipy.special.multigammaln`: the log of the multivariate gamma function.

    Args:
        a: where to evaluate, above ``(d - 1) / 2`` (traced or not).
        d: the dimension, a positive integer.

    Returns:
        ``log Gamma_d(a)``, differentiable in ``a``.

    >>> import numpy, scipy.special, xform, xform.scipy.special as sp
    >>> bool(numpy.isclose(sp.multigammaln(3.0, 2), scipy.special.multigammaln(3.0, 2)))
    True
    >>> digammas = scipy.special.digamma(3.0) + scipy.special.digamma(2.5)
    >>> bool(numpy.isclose(xform.grad(sp.multigammaln)(3.0, 2), digammas))
    True
    """
    d = int(d)
    if d < 1:
        raise ValueError("multigammaln: d should be a positive integer")
    if not isinstance(a, Tracer) and np.any(np.asarray(a) <= 0.5 * (d - 1)):
        raise ValueError(f"multigammaln: condition a ({a}) > 0.5 * (d-1) ({0.5 * (d - 1)}) "
                         "not met")  # SciPy's check, on concrete values
    out = 0.25 * d * (d - 1) * math.log(math.pi) + gammaln(a)
    for j in range(1, d):
        out = out + gammaln(a - 0.5 * j)
    return out


# ------------------------------------------------------------------ x log y, entropy
def _xlogy_dy(ans: Any, x: Any, y: Any) -> Any:
    # x / y, but 0 where x == 0 and y == 0 (where xlogy is identically 0 in y)
    both = E.logical_and(E.equal(x, 0), E.equal(y, 0))
    return x / E.where(both, 1.0, y)


def _xlog1py_dy(ans: Any, x: Any, y: Any) -> Any:
    both = E.logical_and(E.equal(x, 0), E.equal(y, -1))
    return x / E.where(both, 1.0, 1.0 + y)


xlogy_p, xlogy = _binary("xlogy", _keep_dtype(sc.xlogy, 0, 1),
                         lambda ans, x, y: E.log(y), _xlogy_dy,
                         "`scipy.special.xlogy`: ``x * log(y)``, 0 where x == 0 "
                         "(and so is its derivative in y).")
xlog1py_p, xlog1py = _binary("xlog1py", _keep_dtype(sc.xlog1py, 0, 1),
                             lambda ans, x, y: E.log1p(y), _xlog1py_dy,
                             "`scipy.special.xlog1py`: ``x * log1p(y)``, 0 where x == 0 "
                             "(and so is its derivative in y).")
entr_p, entr = _unary("entr", sc.entr, lambda ans, x: -(E.log(x) + 1.0),
                      "`scipy.special.entr`: ``-x log x`` (0 at 0, -inf for x < 0).")

# ------------------------------------------------------------------ Bessel functions
jv: Callable[[Any, Any], Any]
yv: Callable[[Any, Any], Any]
iv: Callable[[Any, Any], Any]
ive: Callable[[Any, Any], Any]
j0: Callable[[Any], Any]
j1: Callable[[Any], Any]
y0: Callable[[Any], Any]
y1: Callable[[Any], Any]
i0: Callable[[Any], Any]
i1: Callable[[Any], Any]
i0e: Callable[[Any], Any]
i1e: Callable[[Any], Any]

jv_p, jv = _binary("jv", _keep_dtype(sc.jv, 1), _order_rule("jv"),
                   lambda ans, v, x: 0.5 * (jv(v - 1, x) - jv(v + 1, x)),
                   "`scipy.special.jv`, Bessel J of real order; differentiable in x.")
yv_p, yv = _binary("yv", _keep_dtype(sc.yv, 1), _order_rule("yv"),
                   lambda ans, v, x: 0.5 * (yv(v - 1, x) - yv(v + 1, x)),
                   "`scipy.special.yv`, Bessel Y of real order; differentiable in x.")
iv_p, iv = _binary("iv", _keep_dtype(sc.iv, 1), _order_rule("iv"),
                   lambda ans, v, x: 0.5 * (iv(v - 1, x) + iv(v + 1, x)),
                   "`scipy.special.iv`, modified Bessel I of real order; differentiable in x.")
# ive = iv * exp(-|x|): the recurrence for the scaled functions, minus sign(x) * ive
ive_p, ive = _binary("ive", _keep_dtype(sc.ive, 1), _order_rule("ive"),
                     lambda ans, v, x: 0.5 * (ive(v - 1, x) + ive(v + 1, x)) - E.sign(x) * ans,
                     "`scipy.special.ive`: ``iv(v, x) * exp(-|x|)``; differentiable in x.")

j0_p, j0 = _unary("j0", sc.j0, lambda ans, x: -j1(x), "`scipy.special.j0`.")
j1_p, j1 = _unary("j1", sc.j1, lambda ans, x: 0.5 * (j0(x) - jv(2, x)), "`scipy.special.j1`.")
y0_p, y0 = _unary("y0", sc.y0, lambda ans, x: -y1(x), "`scipy.special.y0`.")
y1_p, y1 = _unary("y1", sc.y1, lambda ans, x: 0.5 * (y0(x) - yv(2, x)), "`scipy.special.y1`.")
i0_p, i0 = _unary("i0", sc.i0, lambda ans, x: i1(x), "`scipy.special.i0`.")
i1_p, i1 = _unary("i1", sc.i1, lambda ans, x: 0.5 * (i0(x) + iv(2, x)), "`scipy.special.i1`.")
i0e_p, i0e = _unary("i0e", sc.i0e, lambda ans, x: i1e(x) - E.sign(x) * ans,
                    "`scipy.special.i0e`: ``i0(x) * exp(-|x|)``.")
i1e_p, i1e = _unary("i1e", sc.i1e,
                    lambda ans, x: 0.5 * (i0e(x) + ive(2, x)) - E.sign(x) * ans,
                    "`scipy.special.i1e`: ``i1(x) * exp(-|x|)``.")


# SciPy has no complex kernel for these (or, for the gamma family and the scaled
# Bessel functions, none for the polygamma/sign their derivatives need)
for _p in (expit_p, logit_p, log_expit_p, erfinv_p, erfcinv_p, ndtri_p, gamma_p, gammaln_p,
           digamma_p, rgamma_p, polygamma_p, beta_p, betaln_p, entr_p, ive_p, j0_p, j1_p,
           y0_p, y1_p, i0_p, i1_p, i0e_p, i1e_p):
    real_only(_p, "scipy.special has no complex kernel for it or its derivative")


def jn(n: Any, x: Any) -> Any:
    """`scipy.special.jn`: Bessel J of integer order n; differentiable in x.

    Args:
        n: the integer order (not differentiated).
        x: where to evaluate (traced or not), broadcast against ``n``.

    Returns:
        ``J_n(x)``.

    >>> import numpy, scipy.special, xform, xform.scipy.special as sp
    >>> bool(numpy.isclose(sp.jn(0, 1.0), scipy.special.jn(0, 1.0)))
    True
    >>> bool(numpy.isclose(xform.grad(sp.jn, argnums=1)(0, 1.0), -scipy.special.j1(1.0)))
    True
    """
    return jv(n, x)


def yn(n: Any, x: Any) -> Any:
    """`scipy.special.yn`: Bessel Y of integer order n; differentiable in x.

    Args:
        n: the integer order (not differentiated).
        x: where to evaluate, positive (traced or not), broadcast against ``n``.

    Returns:
        ``Y_n(x)``.

    >>> import numpy, scipy.special, xform, xform.scipy.special as sp
    >>> bool(numpy.isclose(sp.yn(0, 1.0), scipy.special.yn(0, 1.0)))
    True
    >>> bool(numpy.isclose(xform.grad(sp.yn, argnums=1)(0, 1.0), -scipy.special.y1(1.0)))
    True
    """
    return yv(n, x)


# --------------------------------------------------------------------------- XLA lowerings
_SQRT_HALF = math.sqrt(0.5)
for _p in (expit_p, logit_p, erf_p, erfc_p, erfinv_p, ndtr_p, log_ndtr_p, ndtri_p, gamma_p,
           gammaln_p, digamma_p, beta_p, betaln_p, xlogy_p, xlog1py_p, entr_p, i0_p, i0e_p,
           i1_p, i1e_p, gammasgn_p):
    _p.lower = special_call(_p.name)
log_expit_p.lower = lambda ctx, x: ctx.jax.nn.log_sigmoid(x)
rgamma_p.lower = lambda ctx, x: 1.0 / ctx.jsp.special.gamma(x)
# erfc(y) = 2 ndtr(-y sqrt(2)), so erfcinv(p) = -ndtri(p / 2) / sqrt(2), accurate near 0
erfcinv_p.lower = lambda ctx, x: -_SQRT_HALF * ctx.jsp.special.ndtri(0.5 * x)
polygamma_p.lower = lambda ctx, n, x: ctx.jsp.special.polygamma(
    ctx.jnp.asarray(n).astype(ctx.jnp.int32), x)
# JAX has no kernels for the Bessel functions of the first and second kind (its
# bessel_jn recurrence loses accuracy): SciPy's run on the host
for _p in (j0_p, j1_p, y0_p, y1_p, jv_p, yv_p, iv_p, ive_p):
    _p.lower = on_host(_p.impl)
