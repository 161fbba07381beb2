"""Input domains of xform.random's primitives (merged into tests/domains.py)."""
from __future__ import annotations

from typing import Any

import numpy as np

from domains import Domain, fixed, uint32


def _threefry(rng: np.random.Generator) -> tuple[Any, ...]:
    # key words broadcast against counter words, as split and bits use them
    return (uint32(rng, (3, 1)), uint32(rng, (3, 1)), uint32(rng, (3, 4)), uint32(rng, (3, 4)))


def _gamma(rng: np.random.Generator) -> tuple[Any, ...]:
    return (uint32(rng, (2,)), rng.uniform(0.3, 4.0, (3,)))


DOMAINS: dict[str, list[Domain]] = {
    "threefry2x32": [fixed(_threefry, {}, diff=(0, 1, 2, 3))],
    "random_gamma": [fixed(_gamma, {"log_space": False}, diff=(1,), float32=False),
                     fixed(_gamma, {"log_space": True}, diff=(1,), float32=False)],
}
