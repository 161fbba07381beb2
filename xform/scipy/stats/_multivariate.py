"""Multivariate distributions: multivariate_normal (pdf, logpdf, entropy) and
dirichlet (pdf, logpdf, entropy, mean, var), with SciPy's argument conventions."""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import scipy.stats as _st

from ... import numpy as xnp
from ...core.trace import Tracer
from ...core.rules import shape_of
from ...numpy.random import _draw as draw
from .. import special as sp
from ._base import as_float

try:  # the dedicated kernel when the linalg layer provides it
    from ...numpy._linalg import triangular_solve as _trisolve

    def _solve_lower(L: Any, b: Any) -> Any:
        return _trisolve(L, b, lower=True)
except ImportError:  # pragma: no cover - a general solve gives the same result
    def _solve_lower(L: Any, b: Any) -> Any:
        return xnp.linalg.solve(L, b)

_LOG_2PI = math.log(2.0 * math.pi)


def _squeeze(out: Any) -> Any:
    """SciPy's ``_squeeze_output``: drop every length-1 axis."""
    return xnp.squeeze(out) if any(n == 1 for n in shape_of(out)) else out


# ------------------------------------------------------------------ multivariate normal
class _MVNParams:
    """``mean`` and ``cov`` as SciPy reads them: the dimension comes from ``mean``
    (else ``cov``); a scalar ``cov`` is ``cov * I``, a vector the diagonal."""

    def __init__(self, mean: Any, cov: Any, like: tuple[Any, ...] = ()) -> None:
        cov = as_float(cov, mean, *like)
        if mean is not None:
            mean = as_float(mean, cov)
            if len(shape_of(mean)) > 1:
                raise ValueError("multivariate_normal: 'mean' must be a scalar or a vector")
            dim = int(np.prod(shape_of(mean)))
            mean = xnp.reshape(mean, (dim,))
        else:
            cshape = shape_of(cov)
            dim = 1 if len(cshape) == 0 else cshape[0]
        cshape = shape_of(cov)
        if len(cshape) > 2 or (len(cshape) >= 1 and cshape[0] != dim) or \
                (len(cshape) == 2 and cshape[1] != dim):
            raise ValueError(f"multivariate_normal: 'cov' of shape {cshape} does not match "
                             f"the dimension {dim}")
        self.dim = dim
        self.mean = mean
        self.kind = ("scalar", "diagonal", "full")[len(cshape)]
        self.cov = cov

    def logdet_and_whiten(self, dev: Any | None) -> tuple[Any, Any]:
        """``(log det cov, cov^(-1/2) dev)`` for deviations ``dev`` of shape ``(n, dim)``
        (``None``: the determinant only). A full ``cov`` goes through its Cholesky
        factor of the symmetrized matrix, so its gradient is symmetric."""
        d = self.dim
        if self.kind == "scalar":
            return d * xnp.log(self.cov), None if dev is None else dev / xnp.sqrt(self.cov)
        if self.kind == "diagonal":
            logdet = xnp.sum(xnp.log(self.cov))
            return logdet, None if dev is None else dev / xnp.sqrt(self.cov)
        cov = 0.5 * (self.cov + xnp.swapaxes(self.cov, -1, -2))
        L = xnp.linalg.cholesky(cov)
        logdet = 2.0 * xnp.sum(xnp.log(xnp.diagonal(L, axis1=-2, axis2=-1)))
        if dev is None:
            return logdet, None
        return logdet, xnp.swapaxes(_solve_lower(L, xnp.swapaxes(dev, 0, 1)), 0, 1)


class multivariate_normal_gen:
    """The multivariate normal distribution, `scipy.stats.multivariate_normal`:
    ``logpdf``/``pdf``/``entropy``, differentiable in ``x``, ``mean`` and ``cov``.



    >>> import numpy, scipy.stats, xform.scipy.stats as st
    >>> x, mean, cov = numpy.array([0.5, -0.2]), numpy.zeros(2), numpy.eye(2)
    >>> bool(numpy.isclose(st.multivariate_normal.logpdf(x, mean, cov), scipy.stats.multivariate_normal.logpdf(x, mean, cov)))
    True
    """

    name = "multivariate_normal"

    def _params(self, mean: Any, cov: Any, allow_singular: bool,
                like: tuple[Any, ...] = ()) -> _MVNParams:
        if allow_singular:
            raise NotImplementedError(
                "xform.scipy.stats.multivariate_normal: allow_singular=True (a pseudo-"
                "determinant) is not supported; pass a positive definite covariance")
        return _MVNParams(mean, cov, like)

    def logpdf(self, x: Any, mean: Any = None, cov: Any = 1, allow_singular: bool = False) -> Any:
        """Log of the density at ``x`` (points along the last axis)."""
        p = self._params(mean, cov, allow_singular, (x,))
        x = as_float(x, p.cov)
        xs = shape_of(x)
        if len(xs) == 0:
            x = xnp.reshape(x, (1, 1))
        elif len(xs) == 1:
            x = xnp.reshape(x, (xs[0], 1) if p.dim == 1 else (1, xs[0]))
        lead = shape_of(x)[:-1]
        if shape_of(x)[-1] != p.dim:
            raise ValueError(f"multivariate_normal: points of dimension {shape_of(x)[-1]} "
                             f"for a distribution of dimension {p.dim}")
        dev = xnp.reshape(x, (-1, p.dim))
        if p.mean is not None:
            dev = dev - p.mean
        logdet, white = p.logdet_and_whiten(dev)
        maha = xnp.sum(white * white, axis=-1)
        out = -0.5 * (p.dim * _LOG_2PI + logdet + maha)
        return _squeeze(xnp.reshape(out, lead))

    def pdf(self, x: Any, mean: Any = None, cov: Any = 1, allow_singular: bool = False) -> Any:
        """Density at ``x``."""
        return xnp.exp(self.logpdf(x, mean, cov, allow_singular))

    def entropy(self, mean: Any = None, cov: Any = 1) -> Any:
        """Differential entropy ``(d (1 + log 2 pi) + log det cov) / 2``."""
        p = self._params(mean, cov, False)
        logdet, _ = p.logdet_and_whiten(None)
        return 0.5 * (p.dim * (1.0 + _LOG_2PI) + logdet)

    def rvs(self, mean: Any = None, cov: Any = 1, size: Any = 1,
            random_state: Any = None) -> Any:
        """Random draws: `scipy.stats.multivariate_normal.rvs`, a constant (not
        differentiated; for a differentiable sample transform standard normal draws,
        ``mean + L @ z`` with ``L`` the Cholesky factor of ``cov``).

        >>> import xform.scipy.stats as st
        >>> st.multivariate_normal.rvs([0.0, 1.0], size=4, random_state=0).shape
        (4, 2)
        """
        return draw("xform.scipy.stats.multivariate_normal.rvs", _st.multivariate_normal.rvs,
                    (mean, cov), {"size": size, "random_state": random_state})

    def __call__(self, mean: Any = None, cov: Any = 1,
                 allow_singular: bool = False) -> "_FrozenMVN":
        """The frozen distribution with these parameters."""
        return _FrozenMVN(self, mean, cov, allow_singular)


class _FrozenMVN:
    def __init__(self, dist: multivariate_normal_gen, mean: Any, cov: Any,
                 allow_singular: bool) -> None:
        self.dist, self.mean, self.cov, self.allow_singular = dist, mean, cov, allow_singular

    def logpdf(self, x: Any) -> Any:
        return self.dist.logpdf(x, self.mean, self.cov, self.allow_singular)

    def pdf(self, x: Any) -> Any:
        return self.dist.pdf(x, self.mean, self.cov, self.allow_singular)

    def entropy(self) -> Any:
        return self.dist.entropy(self.mean, self.cov)

    def rvs(self, size: Any = 1, random_state: Any = None) -> Any:
        return self.dist.rvs(self.mean, self.cov, size, random_state)


# ------------------------------------------------------------------ Dirichlet
def _check_concrete(x: Any, alpha_len: int) -> None:
    """SciPy's checks on the quantiles, when they are concrete values."""
    if isinstance(x, Tracer):
        return
    x = np.asarray(x)
    if np.any(x < 0) or np.any(x > 1):
        raise ValueError("dirichlet: each entry of 'x' must lie in [0, 1]")
    if not np.allclose(np.sum(x, axis=0), 1.0, rtol=1e-5, atol=1e-7):
        raise ValueError("dirichlet: the entries of 'x' along the first axis must sum to 1")


class dirichlet_gen:
    """The Dirichlet distribution, `scipy.stats.dirichlet`: components along the
    first axis of ``x`` (``(K,)`` or ``(K, n)``; ``K - 1`` entries are completed
    to sum to 1). Differentiable in ``x`` and ``alpha``.



    >>> import numpy, scipy.stats, xform.scipy.stats as st
    >>> x, alpha = numpy.array([0.2, 0.3, 0.5]), numpy.array([1.0, 2.0, 3.0])
    >>> bool(numpy.isclose(st.dirichlet.logpdf(x, alpha), scipy.stats.dirichlet.logpdf(x, alpha)))
    True
    """

    name = "dirichlet"

    @staticmethod
    def _alpha(alpha: Any) -> Any:
        alpha = as_float(alpha)
        if len(shape_of(alpha)) != 1:
            raise ValueError("dirichlet: 'alpha' must be a vector")
        return alpha

    @staticmethod
    def _lnB(alpha: Any) -> Any:
        return xnp.sum(sp.gammaln(alpha)) - sp.gammaln(xnp.sum(alpha))

    def logpdf(self, x: Any, alpha: Any) -> Any:
        """Log of the density at ``x``."""
        alpha = self._alpha(alpha)
        k = shape_of(alpha)[0]
        x = as_float(x, alpha)
        if shape_of(x)[0] == k - 1:
            x = xnp.concatenate([x, 1.0 - xnp.sum(x, axis=0, keepdims=True)], axis=0)
        if shape_of(x)[0] != k:
            raise ValueError(f"dirichlet: 'x' has {shape_of(x)[0]} components along its "
                             f"first axis; 'alpha' has {k}")
        _check_concrete(x, k)
        a = xnp.reshape(alpha, (k,) + (1,) * (len(shape_of(x)) - 1))
        return xnp.sum(sp.xlogy(a - 1.0, x), axis=0) - self._lnB(alpha)

    def pdf(self, x: Any, alpha: Any) -> Any:
        """Density at ``x``."""
        return xnp.exp(self.logpdf(x, alpha))

    def entropy(self, alpha: Any) -> Any:
        """Differential entropy."""
        alpha = self._alpha(alpha)
        a0 = xnp.sum(alpha)
        k = shape_of(alpha)[0]
        return (self._lnB(alpha) + (a0 - k) * sp.digamma(a0)
                - xnp.sum((alpha - 1.0) * sp.digamma(alpha)))

    def mean(self, alpha: Any) -> Any:
        """The mean ``alpha / sum(alpha)``."""
        alpha = self._alpha(alpha)
        return alpha / xnp.sum(alpha)

    def var(self, alpha: Any) -> Any:
        """The variances of the components."""
        alpha = self._alpha(alpha)
        a0 = xnp.sum(alpha)
        return alpha * (a0 - alpha) / (a0 * a0 * (a0 + 1.0))

    def rvs(self, alpha: Any, size: Any = 1, random_state: Any = None) -> Any:
        """Random draws: `scipy.stats.dirichlet.rvs`, a constant (not differentiated).

        >>> import xform.scipy.stats as st
        >>> st.dirichlet.rvs([1.0, 2.0, 3.0], size=2, random_state=0).shape
        (2, 3)
        """
        return draw("xform.scipy.stats.dirichlet.rvs", _st.dirichlet.rvs, (alpha,),
                    {"size": size, "random_state": random_state})

    def __call__(self, alpha: Any) -> "_FrozenDirichlet":
        """The frozen distribution with concentration ``alpha``."""
        return _FrozenDirichlet(self, alpha)


class _FrozenDirichlet:
    def __init__(self, dist: dirichlet_gen, alpha: Any) -> None:
        self.dist, self.alpha = dist, alpha

    def logpdf(self, x: Any) -> Any:
        return self.dist.logpdf(x, self.alpha)

    def pdf(self, x: Any) -> Any:
        return self.dist.pdf(x, self.alpha)

    def entropy(self) -> Any:
        return self.dist.entropy(self.alpha)

    def mean(self) -> Any:
        return self.dist.mean(self.alpha)

    def var(self) -> Any:
        return self.dist.var(self.alpha)

    def rvs(self, size: Any = 1, random_state: Any = None) -> Any:
        return self.dist.rvs(self.alpha, size, random_state)


multivariate_normal = multivariate_normal_gen()
dirichlet = dirichlet_gen()
