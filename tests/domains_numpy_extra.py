"""Input domains of the complex parts of xform/numpy/_elementwise.py and of the
primitives of _extra_elementwise.py, _stats.py and _signal.py (see tests/domains.py
for the builders).

The registry test differentiates real inputs only, so the complex primitives
(real, imag, conj) are sampled on real arrays here; their complex behaviour and
JAX's conventions are pinned by hand-derived examples in test_numpy_extra.py.
"""
from __future__ import annotations

import numpy as np

from domains import REAL, Domain, fixed, operands, unary, uniform

DOMAINS: dict[str, list[Domain]] = {}

# complex parts, on real inputs: real/conj are the identity, imag is constant zero
DOMAINS["real"] = unary(REAL)
DOMAINS["imag"] = unary(REAL)
DOMAINS["conj"] = unary(REAL)

# sinc and its derivatives of order k, across the switch between the series (|x| < 1)
# and the recurrence (|x| >= 1), with an exact zero
DOMAINS["sinc"] = [
    *unary(uniform(-3.0, 3.0), {"k": 0}), *unary(uniform(-3.0, 3.0), {"k": 1}),
    *unary(uniform(-0.9, 0.9), {"k": 2}, shapes=[(5,)]),
    fixed(lambda rng: (np.array([0.0, 0.5, -1.0, 1.5, 2.5]),), {"k": 0},
          label="x at 0, integers and halves"),
]

# sort: continuous samples (no ties), along each axis
DOMAINS["sort"] = [fixed(operands((3, 4)), {"axis": a}) for a in (0, 1)] + [
    fixed(operands((2, 3, 4)), {"axis": 1})]

# convolve: full convolution along the last axis, leading axes broadcast
DOMAINS["convolve_full"] = [
    fixed(operands(sa, sb), {}, diff=(0, 1), label=f"{sa} * {sb}")
    for sa, sb in [((5,), (3,)), ((2, 5), (3,)), ((4,), (2, 6)), ((1,), (3,))]
]

# non-differentiable
DOMAINS["signbit"] = unary(REAL)
DOMAINS["isclose"] = [
    fixed(lambda rng: (REAL(rng, (3, 4)), REAL(rng, (4,))),
          {"rtol": 1e-5, "atol": 1e-8, "equal_nan": False}, diff=(0, 1)),
    fixed(lambda rng: (np.array([1.0, np.nan, 2.0]), np.array([1.0, np.nan, 2.5])),
          {"rtol": 0.1, "atol": 0.0, "equal_nan": True}, diff=(0, 1), label="equal_nan"),
]
DOMAINS["argpartition"] = [fixed(operands((3, 5)), {"kth": 2, "axis": 1}),
                           fixed(operands((4, 3)), {"kth": (0, 3), "axis": 0})]
DOMAINS["searchsorted"] = [
    fixed(lambda rng: (np.sort(REAL(rng, (6,))), REAL(rng, (3, 2))), {"side": side},
          diff=(0, 1), label=f"side={side}")
    for side in ("left", "right")
]

