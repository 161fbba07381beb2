"""``xform.scipy.stats``: differentiable SciPy distributions.

Each distribution is an object with SciPy's methods and signatures
(``norm.logpdf(x, loc=0, scale=1)``, ``t.cdf(x, df, loc=0, scale=1)``, shapes by
position or keyword, ``norm(loc, scale)`` freezes). The methods are compositions
of ``xform.numpy`` and ``xform.scipy.special``: differentiable in ``x`` and in every
parameter where SciPy's function is smooth (the CDFs of ``t``, ``gamma``, ``chi2``
and ``beta`` in their shape parameters included), and batchable under ``vmap``.
Discrete ``poisson`` is differentiable in ``mu`` only (``k`` and ``loc`` are
integers).
"""
from __future__ import annotations

from typing import Any

import scipy.stats as _st

from ._base import rv_continuous, rv_discrete
from ._continuous import beta, cauchy, chi2, expon, gamma, laplace, logistic, norm, t, uniform
from ._discrete import poisson
from ._multivariate import dirichlet, multivariate_normal
from ..._unsupported import unsupported_getattr as _unsupported_getattr

__all__ = ["norm", "t", "multivariate_normal", "dirichlet", "beta", "gamma", "chi2",
           "poisson", "laplace", "cauchy", "logistic", "expon", "uniform",
           "rv_continuous", "rv_discrete"]


__getattr__ = _unsupported_getattr(
    "xform.scipy.stats", _st,
    "Apply it to constants only (plain NumPy arrays), or express it with xform.numpy and xform.scipy.special.")
