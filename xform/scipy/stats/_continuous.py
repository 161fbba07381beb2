"""Continuous univariate distributions: norm, t, laplace, cauchy, logistic, expon,
uniform, gamma, chi2, beta.

Outside a distribution's support the formulas are evaluated at a safe point and
the constant answer (0, 1, -inf) is selected with ``where`` (the double-where
pattern), so no NaN or inf leaks into derivatives at the boundary.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ...numpy import _elementwise as E
from ...numpy._elementwise import where
from ...core.rules import dtype_of
from .. import special as sp
from ._base import INF, both, log_prob, positive, rv_continuous

_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)
_LOG2 = math.log(2.0)


def _lit(value: float, like: Any) -> np.ndarray:
    """A constant with the floating dtype of ``like`` (two Python floats in a
    ``where`` would make a float64 result)."""
    return np.asarray(value, dtype_of(like))


def _log1mexp(x: Any) -> Any:
    """``log(1 - exp(-x))`` for ``x > 0``: ``log(-expm1(-x))`` near 0, ``log1p(-exp(-x))``
    beyond log 2 (Maechler's split), each branch fed safe values."""
    near = E.less(x, _LOG2)
    a = where(near, x, 1.0)
    b = where(near, 1.0, x)
    return where(near, E.log(-E.expm1(-a)), E.log1p(-E.exp(-b)))


class norm_gen(rv_continuous):
    """The normal distribution, `scipy.stats.norm`.



    >>> import numpy, scipy.stats, xform, xform.scipy.stats as st
    >>> bool(numpy.isclose(st.norm.logpdf(0.5), scipy.stats.norm.logpdf(0.5)))
    True
    >>> round(float(xform.grad(lambda v: st.norm.logpdf(v))(0.5)), 6)
    -0.5
    """

    name = "norm"

    def _logpdf(self, z: Any) -> Any:
        return -0.5 * z * z - _HALF_LOG_2PI

    def _cdf(self, z: Any) -> Any:
        return sp.ndtr(z)

    def _sf(self, z: Any) -> Any:
        return sp.ndtr(-z)

    def _logcdf(self, z: Any) -> Any:
        return sp.log_ndtr(z)

    def _logsf(self, z: Any) -> Any:
        return sp.log_ndtr(-z)

    def _ppf(self, q: Any) -> Any:
        return sp.ndtri(q)

    def _isf(self, q: Any) -> Any:
        return -sp.ndtri(q)

    def _entropy(self) -> Any:
        return 0.5 * math.log(2.0 * math.pi * math.e)


class t_gen(rv_continuous):
    """Student's t distribution, `scipy.stats.t` (shape ``df``).



    >>> import numpy, scipy.stats, xform, xform.scipy.stats as st
    >>> bool(numpy.isclose(st.t.logpdf(0.5, 3.0), scipy.stats.t.logpdf(0.5, 3.0)))
    True
    >>> round(float(xform.grad(lambda v: st.t.logpdf(v, 3.0))(0.5)), 6)
    -0.615385
    """

    name = "t"
    shapes = ("df",)

    def _argcheck(self, df: Any) -> Any:
        return positive(df)

    def _logpdf(self, z: Any, df: Any) -> Any:
        return (sp.gammaln(0.5 * (df + 1.0)) - sp.gammaln(0.5 * df)
                - 0.5 * E.log(df * math.pi) - 0.5 * (df + 1.0) * E.log1p(z * z / df))

    def _cdf(self, z: Any, df: Any) -> Any:
        return sp.stdtr(df, z)

    def _sf(self, z: Any, df: Any) -> Any:
        return sp.stdtr(df, -z)

    def _ppf(self, q: Any, df: Any) -> Any:
        return sp.stdtrit(df, q)

    def _isf(self, q: Any, df: Any) -> Any:
        return -sp.stdtrit(df, q)

    def _entropy(self, df: Any) -> Any:
        h = 0.5 * (df + 1.0)
        return (h * (sp.digamma(h) - sp.digamma(0.5 * df)) + 0.5 * E.log(df)
                + sp.betaln(0.5 * df, 0.5))


class laplace_gen(rv_continuous):
    """The Laplace (double exponential) distribution, `scipy.stats.laplace`.



    >>> import numpy, scipy.stats, xform, xform.scipy.stats as st
    >>> bool(numpy.isclose(st.laplace.logpdf(0.5), scipy.stats.laplace.logpdf(0.5)))
    True
    >>> round(float(xform.grad(lambda v: st.laplace.logpdf(v))(0.5)), 6)
    -1.0
    """

    name = "laplace"

    def _logpdf(self, z: Any) -> Any:
        return -E.absolute(z) - _LOG2

    def _cdf(self, z: Any) -> Any:
        # each tail's exponential sees only its own side: no exp(+large) anywhere
        return where(E.less(z, 0), 0.5 * E.exp(E.minimum(z, 0.0)),
                     1.0 - 0.5 * E.exp(-E.maximum(z, 0.0)))

    def _sf(self, z: Any) -> Any:
        return self._cdf(-z)

    def _logcdf(self, z: Any) -> Any:
        return where(E.less(z, 0), E.minimum(z, 0.0) - _LOG2,
                     E.log1p(-0.5 * E.exp(-E.maximum(z, 0.0))))

    def _logsf(self, z: Any) -> Any:
        return self._logcdf(-z)

    def _ppf(self, q: Any) -> Any:
        low = E.less(q, 0.5)
        return where(low, E.log(2.0 * where(low, q, 0.25)),
                     -E.log(2.0 - 2.0 * where(low, 0.75, q)))

    def _isf(self, q: Any) -> Any:
        return -self._ppf(q)

    def _entropy(self) -> Any:
        return math.log(2.0 * math.e)


class cauchy_gen(rv_continuous):
    """The Cauchy distribution, `scipy.stats.cauchy`.



    >>> import numpy, scipy.stats, xform, xform.scipy.stats as st
    >>> bool(numpy.isclose(st.cauchy.logpdf(0.5), scipy.stats.cauchy.logpdf(0.5)))
    True
    >>> round(float(xform.grad(lambda v: st.cauchy.logpdf(v))(0.5)), 6)
    -0.8
    """

    name = "cauchy"

    def _logpdf(self, z: Any) -> Any:
        return -math.log(math.pi) - E.log1p(z * z)

    # arctan2(1, -z) / pi is 1/2 + arctan(z) / pi without its cancellation in the
    # lower tail (SciPy's formula loses those digits; ours keeps them)
    def _cdf(self, z: Any) -> Any:
        return E.arctan2(1.0, -z) * (1.0 / math.pi)

    def _sf(self, z: Any) -> Any:
        return E.arctan2(1.0, z) * (1.0 / math.pi)

    def _ppf(self, q: Any) -> Any:
        return E.tan(math.pi * (q - 0.5))

    def _isf(self, q: Any) -> Any:
        return E.tan(math.pi * (0.5 - q))

    def _entropy(self) -> Any:
        return math.log(4.0 * math.pi)


class logistic_gen(rv_continuous):
    """The logistic distribution, `scipy.stats.logistic`.



    >>> import numpy, scipy.stats, xform, xform.scipy.stats as st
    >>> bool(numpy.isclose(st.logistic.logpdf(0.5), scipy.stats.logistic.logpdf(0.5)))
    True
    >>> round(float(xform.grad(lambda v: st.logistic.logpdf(v))(0.5)), 6)
    -0.244919
    """

    name = "logistic"

    def _logpdf(self, z: Any) -> Any:
        return sp.log_expit(z) + sp.log_expit(-z)

    def _cdf(self, z: Any) -> Any:
        return sp.expit(z)

    def _sf(self, z: Any) -> Any:
        return sp.expit(-z)

    def _logcdf(self, z: Any) -> Any:
        return sp.log_expit(z)

    def _logsf(self, z: Any) -> Any:
        return sp.log_expit(-z)

    def _ppf(self, q: Any) -> Any:
        return sp.logit(q)

    def _isf(self, q: Any) -> Any:
        return -sp.logit(q)

    def _entropy(self) -> Any:
        return 2.0


class expon_gen(rv_continuous):
    """The exponential distribution, `scipy.stats.expon`.



    >>> import numpy, scipy.stats, xform, xform.scipy.stats as st
    >>> bool(numpy.isclose(st.expon.logpdf(0.5), scipy.stats.expon.logpdf(0.5)))
    True
    >>> round(float(xform.grad(lambda v: st.expon.logpdf(v))(0.5)), 6)
    -1.0
    """

    name = "expon"
    support_a, support_b = 0.0, INF

    def _logpdf(self, z: Any) -> Any:
        return where(E.greater_equal(z, 0), -z, -INF)

    def _cdf(self, z: Any) -> Any:
        return -E.expm1(-E.maximum(z, 0.0))

    def _sf(self, z: Any) -> Any:
        return E.exp(-E.maximum(z, 0.0))

    def _logcdf(self, z: Any) -> Any:
        pos = E.greater(z, 0)
        return where(pos, _log1mexp(where(pos, z, 1.0)), -INF)

    def _logsf(self, z: Any) -> Any:
        return -E.maximum(z, 0.0)

    def _ppf(self, q: Any) -> Any:
        return -E.log1p(-q)

    def _isf(self, q: Any) -> Any:
        return -E.log(q)

    def _entropy(self) -> Any:
        return 1.0


class uniform_gen(rv_continuous):
    """The uniform distribution on ``[loc, loc + scale]``, `scipy.stats.uniform`.



    >>> import numpy, scipy.stats, xform, xform.scipy.stats as st
    >>> bool(numpy.isclose(st.uniform.cdf(0.5), scipy.stats.uniform.cdf(0.5)))
    True
    >>> round(float(xform.grad(lambda v: st.uniform.cdf(v))(0.5)), 6)
    1.0
    """

    name = "uniform"
    support_a, support_b = 0.0, 1.0

    def _logpdf(self, z: Any) -> Any:
        inside = E.logical_and(E.greater_equal(z, 0), E.less_equal(z, 1))
        return where(inside, _lit(0.0, z), -INF)

    def _cdf(self, z: Any) -> Any:
        return E.clip(z, 0.0, 1.0)

    def _sf(self, z: Any) -> Any:
        return 1.0 - E.clip(z, 0.0, 1.0)

    def _logcdf(self, z: Any) -> Any:
        pos = E.greater(z, 0)
        return where(pos, E.log(E.minimum(where(pos, z, 1.0), 1.0)), -INF)

    def _logsf(self, z: Any) -> Any:
        below = E.less(z, 1)
        return where(below, E.log1p(-E.maximum(where(below, z, 0.0), 0.0)), -INF)

    def _ppf(self, q: Any) -> Any:
        return q

    def _isf(self, q: Any) -> Any:
        return 1.0 - q

    def _entropy(self) -> Any:
        return 0.0


class gamma_gen(rv_continuous):
    """The gamma distribution, `scipy.stats.gamma` (shape ``a``); differentiable in
    ``a`` everywhere, CDFs included (through ``gammainc``'s shape derivative).



    >>> import numpy, scipy.stats, xform, xform.scipy.stats as st
    >>> bool(numpy.isclose(st.gamma.logpdf(1.5, 2.0), scipy.stats.gamma.logpdf(1.5, 2.0)))
    True
    >>> round(float(xform.grad(lambda v: st.gamma.logpdf(v, 2.0))(1.5)), 6)
    -0.333333
    """

    name = "gamma"
    support_a, support_b = 0.0, INF
    shapes = ("a",)

    def _argcheck(self, a: Any) -> Any:
        return positive(a)

    def _logpdf(self, z: Any, a: Any) -> Any:
        inside = E.greater_equal(z, 0)
        zs = where(inside, z, 1.0)
        return where(inside, sp.xlogy(a - 1.0, zs) - zs - sp.gammaln(a), -INF)

    def _cdf(self, z: Any, a: Any) -> Any:
        pos = E.greater(z, 0)
        return where(pos, sp.gammainc(a, where(pos, z, 1.0)), 0.0)

    def _sf(self, z: Any, a: Any) -> Any:
        pos = E.greater(z, 0)
        return where(pos, sp.gammaincc(a, where(pos, z, 1.0)), 1.0)

    def _logcdf(self, z: Any, a: Any) -> Any:
        pos = E.greater(z, 0)
        zs = where(pos, z, 1.0)
        return where(pos, log_prob(sp.gammainc(a, zs), sp.gammaincc(a, zs)), -INF)

    def _logsf(self, z: Any, a: Any) -> Any:
        pos = E.greater(z, 0)
        zs = where(pos, z, 1.0)
        return where(pos, log_prob(sp.gammaincc(a, zs), sp.gammainc(a, zs)), 0.0)

    def _ppf(self, q: Any, a: Any) -> Any:
        return sp.gammaincinv(a, q)

    def _isf(self, q: Any, a: Any) -> Any:
        return sp.gammainccinv(a, q)

    def _entropy(self, a: Any) -> Any:
        return a + sp.gammaln(a) + (1.0 - a) * sp.digamma(a)


class chi2_gen(rv_continuous):
    """The chi-squared distribution, `scipy.stats.chi2` (shape ``df``): a gamma
    distribution with shape ``df / 2`` and scale 2.



    >>> import numpy, scipy.stats, xform, xform.scipy.stats as st
    >>> bool(numpy.isclose(st.chi2.logpdf(1.5, 3.0), scipy.stats.chi2.logpdf(1.5, 3.0)))
    True
    >>> round(float(xform.grad(lambda v: st.chi2.logpdf(v, 3.0))(1.5)), 6)
    -0.166667
    """

    name = "chi2"
    support_a, support_b = 0.0, INF
    shapes = ("df",)
    _g = gamma_gen()

    def _argcheck(self, df: Any) -> Any:
        return positive(df)

    def _logpdf(self, z: Any, df: Any) -> Any:
        return self._g._logpdf(0.5 * z, 0.5 * df) - _LOG2

    def _cdf(self, z: Any, df: Any) -> Any:
        return self._g._cdf(0.5 * z, 0.5 * df)

    def _sf(self, z: Any, df: Any) -> Any:
        return self._g._sf(0.5 * z, 0.5 * df)

    def _logcdf(self, z: Any, df: Any) -> Any:
        return self._g._logcdf(0.5 * z, 0.5 * df)

    def _logsf(self, z: Any, df: Any) -> Any:
        return self._g._logsf(0.5 * z, 0.5 * df)

    def _ppf(self, q: Any, df: Any) -> Any:
        return 2.0 * self._g._ppf(q, 0.5 * df)

    def _isf(self, q: Any, df: Any) -> Any:
        return 2.0 * self._g._isf(q, 0.5 * df)

    def _entropy(self, df: Any) -> Any:
        return self._g._entropy(0.5 * df) + _LOG2


class beta_gen(rv_continuous):
    """The beta distribution, `scipy.stats.beta` (shapes ``a``, ``b``); differentiable
    in ``a`` and ``b`` everywhere, CDFs included (through ``betainc``'s shape
    derivatives).



    >>> import numpy, scipy.stats, xform, xform.scipy.stats as st
    >>> bool(numpy.isclose(st.beta.logpdf(0.3, 2.0, 3.0), scipy.stats.beta.logpdf(0.3, 2.0, 3.0)))
    True
    >>> round(float(xform.grad(lambda v: st.beta.logpdf(v, 2.0, 3.0))(0.3)), 6)
    0.47619
    """

    name = "beta"
    support_a, support_b = 0.0, 1.0
    shapes = ("a", "b")

    def _argcheck(self, a: Any, b: Any) -> Any:
        return both(positive(a), positive(b))

    def _logpdf(self, z: Any, a: Any, b: Any) -> Any:
        inside = E.logical_and(E.greater_equal(z, 0), E.less_equal(z, 1))
        zs = where(inside, z, 0.5)
        return where(inside, sp.xlogy(a - 1.0, zs) + sp.xlog1py(b - 1.0, -zs)
                     - sp.betaln(a, b), -INF)

    def _parts(self, z: Any, a: Any, b: Any) -> tuple[Any, Any, Any, Any]:
        inside = E.logical_and(E.greater(z, 0), E.less(z, 1))
        zs = where(inside, z, 0.5)
        return inside, E.greater_equal(z, 1), sp.betainc(a, b, zs), sp.betaincc(a, b, zs)

    def _cdf(self, z: Any, a: Any, b: Any) -> Any:
        inside, above, p, _ = self._parts(z, a, b)
        return where(inside, p, where(above, _lit(1.0, p), _lit(0.0, p)))

    def _sf(self, z: Any, a: Any, b: Any) -> Any:
        inside, above, _, q = self._parts(z, a, b)
        return where(inside, q, where(above, _lit(0.0, q), _lit(1.0, q)))

    def _logcdf(self, z: Any, a: Any, b: Any) -> Any:
        inside, above, p, q = self._parts(z, a, b)
        return where(inside, log_prob(p, q), where(above, _lit(0.0, p), _lit(-INF, p)))

    def _logsf(self, z: Any, a: Any, b: Any) -> Any:
        inside, above, p, q = self._parts(z, a, b)
        return where(inside, log_prob(q, p), where(above, _lit(-INF, q), _lit(0.0, q)))

    def _ppf(self, q: Any, a: Any, b: Any) -> Any:
        return sp.betaincinv(a, b, q)

    def _isf(self, q: Any, a: Any, b: Any) -> Any:
        return sp.betainccinv(a, b, q)

    def _entropy(self, a: Any, b: Any) -> Any:
        return (sp.betaln(a, b) - (a - 1.0) * sp.digamma(a) - (b - 1.0) * sp.digamma(b)
                + (a + b - 2.0) * sp.digamma(a + b))


norm = norm_gen()
t = t_gen()
laplace = laplace_gen()
cauchy = cauchy_gen()
logistic = logistic_gen()
expon = expon_gen()
uniform = uniform_gen()
gamma = gamma_gen()
chi2 = chi2_gen()
beta = beta_gen()
