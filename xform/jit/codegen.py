"""Turn an optimised jaxpr into the source of one Python function calling NumPy.

Every equation becomes one line, written by the primitive's ``emit`` fact (NumPy
operators, ufunc calls, ndarray methods: see ``xform/core/emit.py``); a primitive
without one is called through its implementation with its parameters bound ahead
of time. Constants, literals and parameters reach the function through its
namespace (closure values), never as text in the source.
"""
from __future__ import annotations

import functools
import itertools
from typing import Any, Callable

import numpy as np

from ..core.emit import Bind
from ..core.ir import ClosedJaxpr, Eqn, Literal, Var


class Generated:
    """A compiled function with its source and namespace."""

    __slots__ = ("fn", "source")

    def __init__(self, fn: Callable[..., Any], source: str) -> None:
        self.fn = fn
        self.source = source


def generate(closed: ClosedJaxpr, name: str = "jitted") -> Generated:
    """Compile ``closed`` to a Python function of its inputs returning a tuple of outputs."""
    jaxpr = closed.jaxpr
    namespace: dict[str, Any] = {"_np": np}
    names: dict[Var, str] = {}
    counter = itertools.count()
    bound: dict[int, str] = {}  # by id: the namespace keeps each value alive

    def bind(value: Any) -> str:
        """Put ``value`` in the namespace; returns the name the source uses."""
        key = id(value)
        if key not in bound:
            bound[key] = f"_k{len(bound)}"
            namespace[bound[key]] = value
        return bound[key]

    for v, c in zip(jaxpr.constvars, closed.consts):
        names[v] = bind(c)
    args = []
    for i, v in enumerate(jaxpr.invars):
        names[v] = f"a{i}"
        args.append(names[v])

    def read(atom: Any) -> str:
        if isinstance(atom, Literal):
            return bind(atom.val)
        return names[atom]

    # free each intermediate after its last use, as eager evaluation does: holding
    # them all to the end raises peak memory and makes large allocations page-fault
    last_use: dict[Var, int] = {}
    for i, eqn in enumerate(jaxpr.eqns):
        for a in eqn.invars:
            if isinstance(a, Var):
                last_use[a] = i
    keep = {v for v in jaxpr.outvars if isinstance(v, Var)}
    lines = []
    for i, eqn in enumerate(jaxpr.eqns):
        outs = []
        for v in eqn.outvars:
            names[v] = f"v{next(counter)}"
            outs.append(names[v])
        rhs = _emit(eqn, [read(a) for a in eqn.invars], bind)
        lhs = ", ".join(outs) + ("," if eqn.prim.multiple_results and len(outs) == 1 else "")
        lines.append(f"    {lhs} = {rhs}" if outs else f"    {rhs}")
        dead = sorted({names[a] for a in eqn.invars if isinstance(a, Var) and a not in keep
                       and last_use.get(a) == i and names[a].startswith("v")})
        dead += [names[v] for v in eqn.outvars if v not in last_use and v not in keep]
        if dead:
            lines.append(f"    del {', '.join(dead)}")
    results = ", ".join(read(a) for a in jaxpr.outvars)
    lines.append(f"    return ({results}{',' if len(jaxpr.outvars) == 1 else ''})")
    source = f"def {name}({', '.join(args)}):\n" + "\n".join(lines) + "\n"
    exec(compile(source, f"<xform.jit {name}>", "exec"), namespace)  # noqa: S102
    return Generated(namespace[name], source)


def _emit(eqn: Eqn, args: list[str], bind: Bind) -> str:
    emitter = eqn.prim.emit
    if emitter is not None:
        return emitter(args, eqn.params, bind)
    impl = eqn.prim.impl
    fn = functools.partial(impl, **eqn.params) if eqn.params else impl
    return f"{bind(fn)}({', '.join(args)})"
