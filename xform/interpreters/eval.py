"""Evaluate a jaxpr by binding each equation under the current trace.

Because evaluation goes through ``bind``, running a jaxpr inside any
transform applies that transform to it.
"""
from __future__ import annotations

from typing import Any, Sequence

from ..core.frames import Replay
from ..core.ir import ClosedJaxpr, Jaxpr, Literal
from ..core.trace import _ctx, bind


def eval_jaxpr(jaxpr: Jaxpr, consts: Sequence[Any], *args: Any) -> list[Any]:
    """Run ``jaxpr`` on ``args``; returns the list of outputs."""
    env: dict[Any, Any] = {}
    for v, x in zip(jaxpr.constvars, consts):
        env[v] = x
    for v, x in zip(jaxpr.invars, args):
        env[v] = x

    def read(a: Any) -> Any:
        return a.val if isinstance(a, Literal) else env[a]

    outer = _ctx.origin
    _ctx.origin = replay = Replay()  # what is staged again keeps its equation's site
    try:
        for eqn in jaxpr.eqns:
            replay.current = eqn
            out = bind(eqn.prim, *[read(a) for a in eqn.invars], **eqn.params)
            if eqn.prim.multiple_results:
                for v, o in zip(eqn.outvars, out):
                    env[v] = o
            else:
                env[eqn.outvars[0]] = out
    finally:
        _ctx.origin = outer
    return [read(a) for a in jaxpr.outvars]


def eval_closed_jaxpr(closed: ClosedJaxpr, *args: Any) -> list[Any]:
    """Run a closed jaxpr (its constants included) on ``args``."""
    return eval_jaxpr(closed.jaxpr, closed.consts, *args)
