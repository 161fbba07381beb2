"""Discrete distributions: poisson."""
from __future__ import annotations

from typing import Any

from ...numpy import _elementwise as E
from ...numpy._elementwise import where
from .. import special as sp
from ._base import INF, log_prob, rv_discrete


class poisson_gen(rv_discrete):
    """The Poisson distribution, `scipy.stats.poisson` (shape ``mu``); differentiable
    in ``mu`` (the CDFs through ``gammaincc``'s derivative in x).



    >>> import numpy, scipy.stats, xform, xform.scipy.stats as st
    >>> bool(numpy.isclose(st.poisson.logpmf(3, 2.0), scipy.stats.poisson.logpmf(3, 2.0)))
    True
    >>> round(float(xform.grad(lambda mu: st.poisson.logpmf(3, mu))(2.0)), 6)
    0.5
    """

    name = "poisson"
    shapes = ("mu",)

    def _argcheck(self, mu: Any) -> Any:
        return E.greater_equal(mu, 0)

    def _logpmf(self, k: Any, mu: Any) -> Any:
        ok = E.logical_and(E.greater_equal(k, 0), E.equal(E.floor(k), k))
        ks = where(ok, k, 0.0)
        return where(ok, sp.xlogy(ks, mu) - mu - sp.gammaln(ks + 1.0), -INF)

    @staticmethod
    def _parts(k: Any, mu: Any) -> tuple[Any, Any, Any]:
        # P(X <= k) = Q(floor(k) + 1, mu) and P(X > k) = P(floor(k) + 1, mu) for k >= 0
        ok = E.greater_equal(k, 0)
        n = E.floor(where(ok, k, 0.0)) + 1.0
        return ok, sp.gammaincc(n, mu), sp.gammainc(n, mu)

    def _cdf(self, k: Any, mu: Any) -> Any:
        ok, q, _ = self._parts(k, mu)
        return where(ok, q, 0.0)

    def _sf(self, k: Any, mu: Any) -> Any:
        ok, _, p = self._parts(k, mu)
        return where(ok, p, 1.0)

    def _logcdf(self, k: Any, mu: Any) -> Any:
        ok, q, p = self._parts(k, mu)
        return where(ok, log_prob(q, p), -INF)

    def _logsf(self, k: Any, mu: Any) -> Any:
        ok, q, p = self._parts(k, mu)
        return where(ok, log_prob(p, q), 0.0)


poisson = poisson_gen()
