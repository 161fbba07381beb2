"""The machinery shared by the distributions: SciPy's calling conventions
(``dist.pdf(x, *shapes, loc=0, scale=1)``, keyword shapes, frozen distributions)
on top of a few formulas per distribution in the standardized variable
``z = (x - loc) / scale``.

Everything is composed from ``xform.numpy`` and ``xform.scipy.special``, so each
method differentiates (to any order) in ``x``, ``loc``, ``scale`` and the shape
parameters, and batches under ``vmap``.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np
import scipy.stats as _st

from ...core.rules import dtype_of
from ...numpy import _elementwise as E
from ...numpy._creation import asarray
from ...numpy._elementwise import astype, stop_gradient, where
from ...numpy.random import _draw as draw

NAN = math.nan
INF = math.inf


def as_float(x: Any, *like: Any) -> Any:
    """``x`` as a floating value: integers and Python numbers take the floating dtype
    of the first array among ``like`` (float64 if none), so a Python constant next
    to float32 data does not promote it."""
    target = np.dtype(np.float64)
    for v in like:
        if v is None or isinstance(v, (bool, int, float, list, tuple)):
            continue
        if np.issubdtype(dtype_of(v), np.floating):
            target = np.dtype(dtype_of(v))
            break
    if isinstance(x, (bool, int, float)):
        return np.asarray(x, target)
    if isinstance(x, (list, tuple)):
        x = asarray(x)
    if np.issubdtype(dtype_of(x), np.inexact):
        return x
    return astype(x, target)


def log_prob(p: Any, q: Any) -> Any:
    """``log(p)`` for a probability ``p`` whose complement ``q = 1 - p`` is also
    known accurately: ``log1p(-q)`` where ``p`` is near 1. Both branches are fed
    safe values (double ``where``) so neither poisons the other's derivative."""
    small = E.less(p, 0.5)
    return where(small, E.log(where(small, p, 1.0)), E.log1p(-where(small, 0.5, q)))


class _Frozen:
    """A distribution with its parameters fixed: ``norm(loc=1.0, scale=2.0).pdf(x)``."""

    def __init__(self, dist: "_Distribution", args: tuple[Any, ...],
                 kwds: dict[str, Any]) -> None:
        self.dist = dist
        self.args = args
        self.kwds = kwds

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.dist, name)
        if name == "rvs":
            return lambda size=None, random_state=None: method(
                *self.args, size=size, random_state=random_state, **self.kwds)
        if name in ("entropy", "mean", "var", "std"):
            return lambda: method(*self.args, **self.kwds)
        return lambda x: method(x, *self.args, **self.kwds)

    def __repr__(self) -> str:
        return f"<frozen xform.scipy.stats.{self.dist.name}{self.args} {self.kwds}>"


class _Distribution:
    """Parameter handling common to continuous and discrete distributions."""

    name = ""
    shapes: tuple[str, ...] = ()
    extra: tuple[tuple[str, float], ...] = ()  # (loc, 0.0) and (scale, 1.0)

    def _parse(self, what: str, args: Sequence[Any], kwds: dict[str, Any]) -> list[Any]:
        names = list(self.shapes) + [n for n, _ in self.extra]
        if len(args) > len(names):
            raise TypeError(f"{self.name}.{what}() takes at most {len(names)} parameters "
                            f"({', '.join(names)}), got {len(args)}")
        vals = dict(zip(names, args))
        for k, v in kwds.items():
            if k not in names:
                raise TypeError(f"{self.name}.{what}() got an unexpected keyword argument {k!r}")
            if k in vals:
                raise TypeError(f"{self.name}.{what}() got multiple values for argument {k!r}")
            vals[k] = v
        for n, default in self.extra:
            vals.setdefault(n, default)
        missing = [n for n in self.shapes if n not in vals]
        if missing:
            raise TypeError(f"{self.name}.{what}() missing required argument(s) "
                            f"{', '.join(repr(m) for m in missing)}")
        return [vals[n] for n in names]

    def _argcheck(self, *shapes: Any) -> Any:
        """Where the shape parameters are valid (SciPy returns NaN elsewhere)."""
        return True

    def rvs(self, *args: Any, **kwds: Any) -> Any:
        """Random variates: SciPy's sampler, with its signature (the parameters, then
        ``size=None, random_state=None``). The draws are constants, not differentiated.

        >>> import xform.scipy.stats as st
        >>> st.norm.rvs(loc=1.0, size=3, random_state=0).shape
        (3,)
        """
        return draw(f"xform.scipy.stats.{self.name}.rvs", getattr(_st, self.name).rvs,
                    args, kwds)

    def __call__(self, *args: Any, **kwds: Any) -> _Frozen:
        """The frozen distribution with these parameters."""
        self._parse("__call__", args, kwds)
        return _Frozen(self, args, kwds)

    def __repr__(self) -> str:
        return f"<xform.scipy.stats.{self.name}>"


def _nan_unless(ok: Any, out: Any) -> Any:
    if ok is True:
        return out
    return where(ok, out, NAN)


def both(ok: Any, other: Any) -> Any:
    """``ok & other`` where either may be the Python constant True."""
    if ok is True:
        return other
    if other is True:
        return ok
    return E.logical_and(ok, other)


def positive(v: Any) -> Any:
    """``v > 0``, as the constant True for a positive Python number."""
    if isinstance(v, (int, float)) and v > 0:
        return True
    return E.greater(v, 0)


def log_of(v: Any) -> Any:
    """``log(v)``; a Python number stays a Python float (it must not promote float32)."""
    if isinstance(v, (int, float)):
        return math.log(v) if v > 0 else NAN
    return E.log(v)


class rv_continuous(_Distribution):
    """A continuous distribution in location-scale form. Subclasses define the
    standardized ``_logpdf(z, *shapes)``, ``_cdf`` and ``_sf`` (and optionally
    ``_logcdf``, ``_logsf``, ``_ppf``, ``_isf``, ``_entropy``).



    >>> import xform.scipy.stats as st
    >>> isinstance(st.norm, st.rv_continuous)
    True
    """

    extra = (("loc", 0.0), ("scale", 1.0))
    #: the standardized support [a, b]: the quantiles at q = 0 and q = 1
    support_a = -INF
    support_b = INF

    # ------------------------------------------------------------ standardized forms
    def _logpdf(self, z: Any, *shapes: Any) -> Any:
        raise NotImplementedError

    def _cdf(self, z: Any, *shapes: Any) -> Any:
        raise NotImplementedError

    def _sf(self, z: Any, *shapes: Any) -> Any:
        return 1.0 - self._cdf(z, *shapes)

    def _logcdf(self, z: Any, *shapes: Any) -> Any:
        return log_prob(self._cdf(z, *shapes), self._sf(z, *shapes))

    def _logsf(self, z: Any, *shapes: Any) -> Any:
        return log_prob(self._sf(z, *shapes), self._cdf(z, *shapes))

    def _ppf(self, q: Any, *shapes: Any) -> Any:
        raise NotImplementedError(f"xform.scipy.stats.{self.name}.ppf is not implemented")

    def _isf(self, q: Any, *shapes: Any) -> Any:
        return self._ppf(1.0 - q, *shapes)

    def _entropy(self, *shapes: Any) -> Any:
        raise NotImplementedError(f"xform.scipy.stats.{self.name}.entropy is not implemented")

    # ------------------------------------------------------------ public methods
    def _standardize(self, what: str, x: Any, args: Sequence[Any],
                     kwds: dict[str, Any]) -> tuple[Any, list[Any], Any, Any, Any]:
        *shapes, loc, scale = self._parse(what, args, kwds)
        x = as_float(x, loc, scale, *shapes)
        shapes = [as_float(s, x) for s in shapes]
        ok = both(self._argcheck(*shapes), positive(scale))
        return (x - loc) / scale, shapes, loc, scale, ok

    def logpdf(self, x: Any, *args: Any, **kwds: Any) -> Any:
        """Log of the probability density at ``x``."""
        z, shapes, _, scale, ok = self._standardize("logpdf", x, args, kwds)
        return _nan_unless(ok, self._logpdf(z, *shapes) - log_of(scale))

    def pdf(self, x: Any, *args: Any, **kwds: Any) -> Any:
        """Probability density at ``x``."""
        z, shapes, _, scale, ok = self._standardize("pdf", x, args, kwds)
        return _nan_unless(ok, E.exp(self._logpdf(z, *shapes)) / scale)

    def cdf(self, x: Any, *args: Any, **kwds: Any) -> Any:
        """Cumulative distribution function at ``x``."""
        z, shapes, _, _, ok = self._standardize("cdf", x, args, kwds)
        return _nan_unless(ok, self._cdf(z, *shapes))

    def logcdf(self, x: Any, *args: Any, **kwds: Any) -> Any:
        """Log of the CDF at ``x``, accurate in both tails."""
        z, shapes, _, _, ok = self._standardize("logcdf", x, args, kwds)
        return _nan_unless(ok, self._logcdf(z, *shapes))

    def sf(self, x: Any, *args: Any, **kwds: Any) -> Any:
        """Survival function ``1 - cdf`` at ``x``, computed without cancellation."""
        z, shapes, _, _, ok = self._standardize("sf", x, args, kwds)
        return _nan_unless(ok, self._sf(z, *shapes))

    def logsf(self, x: Any, *args: Any, **kwds: Any) -> Any:
        """Log of the survival function at ``x``."""
        z, shapes, _, _, ok = self._standardize("logsf", x, args, kwds)
        return _nan_unless(ok, self._logsf(z, *shapes))

    def _quantile(self, what: str, q: Any, args: Sequence[Any], kwds: dict[str, Any]) -> Any:
        *shapes, loc, scale = self._parse(what, args, kwds)
        q = as_float(q, loc, scale, *shapes)
        shapes = [as_float(s, q) for s in shapes]
        inside = E.logical_and(E.greater_equal(q, 0), E.less_equal(q, 1))
        interior = E.logical_and(E.greater(q, 0), E.less(q, 1))
        qs = where(interior, q, 0.5)
        z = self._ppf(qs, *shapes) if what == "ppf" else self._isf(qs, *shapes)
        lo, hi = self.support_a, self.support_b
        if what == "isf":
            lo, hi = hi, lo
        # the ends of the support at q = 0 and 1 (the kernels' own limits vary)
        z = where(interior, z, where(E.equal(q, 0), lo + 0.0 * z, hi + 0.0 * z))
        ok = both(both(self._argcheck(*shapes), inside), positive(scale))
        return _nan_unless(ok, loc + scale * z)

    def ppf(self, q: Any, *args: Any, **kwds: Any) -> Any:
        """Percent point function (inverse of the CDF) at ``q``."""
        return self._quantile("ppf", q, args, kwds)

    def isf(self, q: Any, *args: Any, **kwds: Any) -> Any:
        """Inverse survival function at ``q``."""
        return self._quantile("isf", q, args, kwds)

    def entropy(self, *args: Any, **kwds: Any) -> Any:
        """Differential entropy."""
        *shapes, _, scale = self._parse("entropy", args, kwds)
        shapes = [as_float(s, scale) for s in shapes]
        ok = both(self._argcheck(*shapes), positive(scale))
        return _nan_unless(ok, self._entropy(*shapes) + log_of(scale))


class rv_discrete(_Distribution):
    """A discrete distribution on the integers, shifted by ``loc``. The support and
    ``loc`` are discrete: derivatives flow to the shape parameters only.



    >>> import xform.scipy.stats as st
    >>> isinstance(st.poisson, st.rv_discrete)
    True
    """

    extra = (("loc", 0.0),)

    def _logpmf(self, k: Any, *shapes: Any) -> Any:
        raise NotImplementedError

    def _cdf(self, k: Any, *shapes: Any) -> Any:
        raise NotImplementedError

    def _sf(self, k: Any, *shapes: Any) -> Any:
        raise NotImplementedError

    def _logcdf(self, k: Any, *shapes: Any) -> Any:
        return log_prob(self._cdf(k, *shapes), self._sf(k, *shapes))

    def _logsf(self, k: Any, *shapes: Any) -> Any:
        return log_prob(self._sf(k, *shapes), self._cdf(k, *shapes))

    def _shift(self, what: str, k: Any, args: Sequence[Any],
               kwds: dict[str, Any]) -> tuple[Any, list[Any], Any]:
        *shapes, loc = self._parse(what, args, kwds)
        shapes = [as_float(s, k) for s in shapes]
        k = stop_gradient(as_float(k, *shapes) - loc)
        return k, shapes, self._argcheck(*shapes)

    def logpmf(self, k: Any, *args: Any, **kwds: Any) -> Any:
        """Log of the probability mass at ``k``."""
        k, shapes, ok = self._shift("logpmf", k, args, kwds)
        return _nan_unless(ok, self._logpmf(k, *shapes))

    def pmf(self, k: Any, *args: Any, **kwds: Any) -> Any:
        """Probability mass at ``k``."""
        k, shapes, ok = self._shift("pmf", k, args, kwds)
        return _nan_unless(ok, E.exp(self._logpmf(k, *shapes)))

    def cdf(self, k: Any, *args: Any, **kwds: Any) -> Any:
        """Cumulative distribution function at ``k``."""
        k, shapes, ok = self._shift("cdf", k, args, kwds)
        return _nan_unless(ok, self._cdf(k, *shapes))

    def sf(self, k: Any, *args: Any, **kwds: Any) -> Any:
        """Survival function ``P(X > k)``."""
        k, shapes, ok = self._shift("sf", k, args, kwds)
        return _nan_unless(ok, self._sf(k, *shapes))

    def logcdf(self, k: Any, *args: Any, **kwds: Any) -> Any:
        """Log of the CDF at ``k``."""
        k, shapes, ok = self._shift("logcdf", k, args, kwds)
        return _nan_unless(ok, self._logcdf(k, *shapes))

    def logsf(self, k: Any, *args: Any, **kwds: Any) -> Any:
        """Log of the survival function at ``k``."""
        k, shapes, ok = self._shift("logsf", k, args, kwds)
        return _nan_unless(ok, self._logsf(k, *shapes))
