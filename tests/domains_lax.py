"""Domains of the control-flow primitives (cond, while, scan) for test_rules.py.

Their params hold sub-jaxprs, so each domain traces a small program with
``make_jaxpr`` and takes the params of the control-flow equation it records.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

import xform
import xform.numpy as xnp
from xform import lax

from domains import Domain

Rng = np.random.Generator


def params_of(prim: str, fun: Callable[..., Any], *example: Any) -> dict[str, Any]:
    """The params of the first ``prim`` equation in ``make_jaxpr(fun)(*example)``."""
    for eqn in xform.make_jaxpr(fun)(*example).eqns:
        if eqn.prim.name == prim:
            return eqn.params
    raise AssertionError(f"no {prim} equation recorded")


def _branches(x: Any, y: Any) -> list[Callable[[Any, Any], Any]]:
    return [lambda x, y: [xnp.sin(x) * y, x], lambda x, y: [x * x + y, xnp.exp(y) * x]]


def _cond(index: int) -> Domain:
    def make(rng: Rng) -> tuple[tuple[Any, ...], dict[str, Any]]:
        x, y = rng.uniform(-1, 1, (3,)), rng.uniform(-1, 1, (3,))
        params = params_of("cond", lambda i, x, y: lax.switch(i, _branches(x, y), x, y),
                           np.int64(0), x, y)
        return (np.int64(index), x, y), params
    return Domain(make, diff=(1, 2), label=f"branch {index}")


def _while(rng: Rng) -> tuple[tuple[Any, ...], dict[str, Any]]:
    a, x = rng.uniform(0.5, 0.9), rng.uniform(-1, 1, (2,))

    def program(a: Any, x: Any) -> Any:
        return lax.while_loop(lambda c: c[0] < 4,
                              lambda c: (c[0] + 1, c[1] * a + 0.1 * xnp.sin(c[1])), (0, x))
    return (a, np.int64(0), x), params_of("while", program, a, x)


def _scan(rng: Rng) -> tuple[tuple[Any, ...], dict[str, Any]]:
    w, c0, xs = rng.uniform(-1, 1), rng.uniform(-1, 1, (2,)), rng.uniform(-1, 1, (4, 2))

    def program(w: Any, c0: Any, xs: Any) -> Any:
        return lax.scan(lambda c, x: (xnp.tanh(c * x + w), c * x), c0, xs)
    return (w, c0, xs), params_of("scan", program, w, c0, xs)


DOMAINS: dict[str, list[Domain]] = {
    "cond": [_cond(0), _cond(1)],
    "while": [Domain(_while, diff=(0, 2), label="4 steps", reverse=False, float32=False)],
    "scan": [Domain(_scan, diff=(0, 1, 2), label="4 steps", float32=False)],
}
