"""Input domains of the FFT primitives (xform/numpy/_fft.py) for test_rules.py.

xform.vjp accepts real inputs only, so every domain feeds real arrays: ``fft`` of a
real signal, ``irfft`` of a real-valued half spectrum. The transposes for complex
inputs are pinned in test_fft.py. ``fft`` and ``rfft`` return complex arrays, so
their float32 inputs give complex64 (not float32) results: they opt out of the
generic float32 check, which test_fft.py replaces with a complex64 one.
"""
from __future__ import annotations

from typing import Any

from domains import Domain, fixed, operands

DOMAINS: dict[str, list[Domain]] = {
    "fft": [
        fixed(operands(shape), {"axes": axes, "norm": norm, "inverse": inverse},
              label=f"x{shape} axes={axes} {norm} inverse={inverse}", float32=False)
        for shape, axes, norm, inverse in [
            ((3, 5), (1,), "backward", False),
            ((4, 6), (0, 1), "ortho", True),
            ((2, 3, 4), (2, 0), "forward", False),
            ((5,), (0,), "backward", True),
        ]
    ],
    "rfft": [
        fixed(operands(shape), {"axes": axes, "norm": norm},
              label=f"x{shape} axes={axes} {norm}", float32=False)
        for shape, axes, norm in [
            ((3, 5), (1,), "backward"),       # odd length: no Nyquist bin
            ((4, 6), (0, 1), "ortho"),        # even length
            ((3, 4, 5), (2, 0), "forward"),   # halved axis first in memory
            ((6,), (0,), "backward"),
            ((1,), (0,), "ortho"),
        ]
    ],
    # real-valued half spectra: shape[axes[-1]] == n // 2 + 1
    "irfft": [
        fixed(operands(shape), {"axes": axes, "n": n, "norm": norm},
              label=f"y{shape} axes={axes} n={n} {norm}")
        for shape, axes, n, norm in [
            ((3, 3), (1,), 5, "backward"),
            ((4, 4), (0, 1), 6, "ortho"),
            ((2, 4, 5), (1, 0), 3, "forward"),
            ((4,), (0,), 6, "backward"),
            ((4,), (0,), 7, "ortho"),
            ((1,), (0,), 1, "backward"),
        ]
    ],
}


# ----------------------------------------------------------------------------- signal.convolve
# (xform/scipy/signal.py) nbatch leading axes broadcast instead of being convolved
DOMAINS["convolve"] = [
    fixed(operands(s1, s2), {"mode": mode, "method": method, "nbatch": nb}, diff=(0, 1),
          label=f"{s1} * {s2} {mode} {method} nbatch={nb}")
    for s1, s2, mode, method, nb in [
        ((5,), (3,), "full", "auto", 0),
        ((3,), (5,), "same", "direct", 0),
        ((4, 5), (2, 3), "valid", "fft", 0),
        ((2, 3), (4, 5), "valid", "direct", 0),     # SciPy swaps the inputs
        ((4, 4), (3, 2), "same", "fft", 0),
        ((3, 6), (1, 3), "same", "direct", 1),
        ((3, 5), (3, 2), "full", "fft", 1),
        ((1, 6), (3, 3), "same", "fft", 1),         # in1 broadcast along the batch axis
        ((1, 2, 5), (3, 2, 2), "valid", "auto", 1),
    ]
]


# ----------------------------------------------------------------------------- integrate.odeint
# (xform/scipy/integrate.py) operands (y0, t, *params) with the dynamics as a jaxpr;
# derivatives come from other ODE solves, so they agree with finite differences and
# with each other to about the solver's tolerance, not to rounding.
def _odeint_domain(label: str) -> Domain:
    import numpy as np

    import xform
    import xform.numpy as xnp

    def dynamics(y: Any, t: Any, k: Any, A: Any) -> Any:
        return xnp.cos(t) * (A @ y) - k * y * y * y

    def make(rng: np.random.Generator) -> tuple[tuple, dict]:
        y0 = rng.uniform(-1.0, 1.0, 2)
        t = np.array([0.1, 0.5, 0.8, 1.2])
        k = np.asarray(rng.uniform(0.2, 0.5))
        A = rng.uniform(-1.0, 1.0, (2, 2))
        fun = xform.make_jaxpr(dynamics)(y0, t[0], k, A)
        return (y0, t, k, A), {"fun": fun, "rtol": 1e-12, "atol": 1e-12,
                               "mxstep": float("inf"), "hmax": float("inf"), "nbatch": 0}

    return Domain(make, diff=(0, 1, 2, 3), label=label,
                  tol={"eps": 1e-4, "rtol": 1e-6, "atol": 1e-7, "exact_rtol": 1e-7})


DOMAINS["odeint"] = [_odeint_domain("dy/dt = cos(t) A y - k y^3")]
