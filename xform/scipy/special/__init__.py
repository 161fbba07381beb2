"""``xform.scipy.special``: differentiable versions of SciPy's special functions.

Every function takes traced values, differentiates to any order in forward and
reverse mode and batches under ``vmap``. Integer orders (``polygamma``'s ``n``,
``jn``'s ``n``) are not differentiable; real Bessel orders raise a clear error
when differentiated. The shape parameters of ``gammainc``/``gammaincc`` and
``betainc``/``betaincc`` are differentiable (see ``_incomplete.py``).
"""
from __future__ import annotations

from typing import Any

import scipy.special as _sc

from ._functions import (beta, betaln, digamma, entr, erf, erfc, erfcinv, erfinv, expit,
                         gamma, gammaln, gammasgn, i0, i0e, i1, i1e, iv, ive, j0, j1, jn, jv,
                         log_expit, log_ndtr, logit, multigammaln, ndtr, ndtri, polygamma,
                         psi, rgamma, xlog1py, xlogy, y0, y1, yn, yv)
from ._incomplete import (betainc, betaincc, betainccinv, betaincinv, gammainc, gammaincc,
                          gammainccinv, gammaincinv, stdtr, stdtrit)
from ._logsumexp import log_softmax, logsumexp, softmax
from ..._unsupported import unsupported_getattr
from ...core.rules import accept_sequences_in as _accept_sequences_in

__all__ = [
    "logsumexp", "softmax", "log_softmax", "expit", "logit", "log_expit",
    "erf", "erfc", "erfinv", "erfcinv", "ndtr", "log_ndtr", "ndtri",
    "gamma", "gammaln", "gammasgn", "digamma", "psi", "polygamma", "rgamma", "multigammaln",
    "gammainc", "gammaincc", "gammaincinv", "gammainccinv", "beta", "betaln", "betainc",
    "betaincc", "betaincinv", "betainccinv", "stdtr", "stdtrit",
    "xlogy", "xlog1py", "entr",
    "j0", "j1", "jn", "jv", "y0", "y1", "yn", "yv", "i0", "i1", "i0e", "i1e", "iv", "ive",
]


__getattr__ = unsupported_getattr(
    "xform.scipy.special", _sc,
    "Apply it to constants only (plain NumPy arrays), or express it with supported functions.")

# lists and tuples of traced values are read as arrays where SciPy/NumPy take array_like
_accept_sequences_in(globals())
