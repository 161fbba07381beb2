"""Input domains of the ``xform.scipy.special`` primitives (merged into tests/domains.py)."""
from __future__ import annotations

from typing import Any

import numpy as np

from domains import (BINARY_SHAPES as BINARY, NONZERO, POSITIVE, REAL, UNIT, Domain, Rng,
                     Sampler, binary, fixed, independent, unary, uniform)

DOMAINS: dict[str, list[Domain]] = {}


def _ints(values: list[int]) -> Sampler:
    return lambda rng, s: rng.choice(values, size=s)


def _order_x(orders: Sampler, x: Sampler) -> list[Domain]:
    """``(order, x)``: an order array (held fixed) broadcast against x (differentiated)."""
    return [fixed(lambda rng, sv=sv, sx=sx: (orders(rng, sv), x(rng, sx)), {}, diff=(1,),
                  label=f"v{sv} x{sx}")
            for sv, sx in [((3, 4), (3, 4)), ((4,), (3, 4)), ((3, 1), (1, 4)), ((), (5,))]]


# ----------------------------------------------------------------------------- unary
for _name, _sample in {
    "expit": uniform(-6.0, 6.0), "logit": uniform(0.1, 0.9), "log_expit": uniform(-6.0, 6.0),
    "erf": REAL, "erfc": REAL, "erfinv": UNIT, "erfcinv": uniform(0.2, 1.8),
    "ndtr": REAL, "log_ndtr": uniform(-6.0, 3.0), "ndtri": uniform(0.1, 0.9),
    "gamma": uniform(0.5, 3.0), "gammaln": uniform(0.5, 4.0), "digamma": POSITIVE,
    "rgamma": POSITIVE, "entr": POSITIVE,
    "j0": uniform(0.5, 6.0), "j1": uniform(0.5, 6.0), "y0": uniform(0.5, 6.0),
    "y1": uniform(0.5, 6.0), "i0": REAL, "i1": REAL, "i0e": NONZERO, "i1e": NONZERO,
}.items():
    DOMAINS[_name] = unary(_sample)
# piecewise constant: positive, and negative between the poles, away from them
DOMAINS["gammasgn"] = unary(lambda rng, s: rng.choice([0.7, 2.5, -0.5, -1.5, -2.3], size=s)
                            + rng.uniform(-0.1, 0.1, s))

# ----------------------------------------------------------------------------- binary
DOMAINS["polygamma"] = _order_x(_ints([0, 1, 2]), POSITIVE)
DOMAINS["jv"] = _order_x(uniform(-1.5, 3.0), uniform(0.5, 6.0))
DOMAINS["yv"] = _order_x(uniform(-1.5, 3.0), uniform(0.5, 6.0))
DOMAINS["iv"] = _order_x(uniform(-1.5, 3.0), POSITIVE)
DOMAINS["ive"] = _order_x(_ints([0, 1, 2, 3]), NONZERO)
DOMAINS["beta"] = binary(independent(POSITIVE, POSITIVE))
DOMAINS["betaln"] = binary(independent(POSITIVE, POSITIVE))
DOMAINS["xlogy"] = binary(independent(REAL, POSITIVE)) + [
    # x == 0: the value and the derivative in y are 0
    fixed(lambda rng: (np.array([0.0, 1.5, 0.0, -0.5]), POSITIVE(rng, (4,))), {},
          diff=(0, 1), label="zeros in x")]
DOMAINS["xlog1py"] = binary(independent(REAL, uniform(-0.5, 2.0))) + [
    fixed(lambda rng: (np.array([0.0, 1.5, 0.0, -0.5]), uniform(-0.5, 2.0)(rng, (4,))), {},
          diff=(0, 1), label="zeros in x")]
DOMAINS["stdtr"] = binary(independent(uniform(1.0, 6.0), uniform(-4.0, 4.0)))

# ----------------------------------------------------------------------------- logsumexp
_LSE_CASES = [((3, 4), (1,), False), ((3, 4), (0, 1), True), ((2, 3, 4), (0, 2), False),
              ((4,), (0,), False)]
DOMAINS["logsumexp"] = [
    fixed(lambda rng, s=s: (uniform(-3.0, 3.0)(rng, s),), {"axis": ax, "keepdims": kd},
          label=f"a{s} axis={ax} keepdims={kd}") for s, ax, kd in _LSE_CASES
] + [
    # weights b, broadcast against a; positive so the sum keeps its sign under FD steps
    fixed(lambda rng, sa=sa, sb=sb: (REAL(rng, sa), POSITIVE(rng, sb)),
          {"axis": ax, "keepdims": kd}, diff=(0, 1), label=f"a{sa} b{sb} axis={ax}")
    for sa, sb, ax, kd in [((3, 4), (3, 4), (1,), False), ((3, 4), (4,), (0,), True),
                           ((3, 1), (1, 4), (0, 1), False), ((4,), (2, 4), (1,), False)]
] + [
    # mixed signs: a negative total (log|sum|)
    fixed(lambda rng: (np.array([[0.3, 1.2, -0.4], [0.1, 0.5, 0.9]]),
                       np.array([[1.0, -2.0, 0.5], [-1.0, 3.0, 0.2]])),
          {"axis": (1,), "keepdims": False}, diff=(0, 1), label="signed weights")
]


# ----------------------------------------------------------------------------- incomplete
def _gamma_pairs(rng: Rng, sa: tuple[int, ...], sx: tuple[int, ...]) -> tuple[Any, Any]:
    # x on both sides of a + 1: the power series and the continued fraction
    return uniform(0.5, 3.0)(rng, sa), uniform(0.1, 6.0)(rng, sx)


_GAMMA_CASES = [(0, ((3, 4), (3, 4))), (0, ((4,), (3, 4))), (1, ((3, 1), (1, 4))),
                (2, ((), (5,)))]
for _name, _cases in (("gammainc", _GAMMA_CASES), ("gammaincc", _GAMMA_CASES[::2])):
    DOMAINS[_name] = [
        fixed(lambda rng, sa=sa, sx=sx: _gamma_pairs(rng, sa, sx), {"k": k}, diff=(0, 1),
              label=f"a{sa} x{sx} k={k}")
        for k, (sa, sx) in _cases
    ]


def _beta_args(rng: Rng, s: tuple[tuple[int, ...], ...]) -> tuple[Any, ...]:
    return uniform(0.5, 4.0)(rng, s[0]), uniform(0.5, 4.0)(rng, s[1]), \
        uniform(0.05, 0.95)(rng, s[2])


_BETA_CASES = [((0, 0), ((3, 4), (3, 4), (3, 4))), ((0, 0), ((4,), (3, 1), (3, 4))),
               ((1, 0), ((5,), (5,), (5,))), ((0, 1), ((), (5,), ()))]
# betaincc shares betainc's code (negated): fewer cases
for _name, _cases in (("betainc", _BETA_CASES), ("betaincc", _BETA_CASES[1:3])):
    DOMAINS[_name] = [
        fixed(lambda rng, s=s: _beta_args(rng, s), {"i": i, "j": j}, diff=(0, 1, 2),
              label=f"a{s[0]} b{s[1]} x{s[2]} i={i} j={j}")
        for (i, j), s in _cases
    ]


# ----------------------------------------------------------------------------- inverses
_P = uniform(0.05, 0.95)
for _name in ("gammaincinv", "gammainccinv"):
    DOMAINS[_name] = binary(independent(uniform(0.5, 3.0), _P), shapes=BINARY[:3])
for _name in ("betaincinv", "betainccinv"):
    DOMAINS[_name] = [
        fixed(lambda rng, s=s: (uniform(0.5, 4.0)(rng, s[0]), uniform(0.5, 4.0)(rng, s[1]),
                                _P(rng, s[2])), {}, diff=(0, 1, 2), label=f"{s}")
        for s in [((3, 4), (3, 4), (3, 4)), ((4,), (3, 1), (3, 4))]]
# SciPy's stdtrit is accurate to about 1e-11: a wider finite-difference step
DOMAINS["stdtrit"] = binary(independent(uniform(1.0, 6.0), _P), shapes=BINARY[:3],
                            tol={"eps": 1e-4})
