"""Abstract tracing: record a function into a ``ClosedJaxpr`` knowing only shapes.

Operands that are not this trace's tracers become constants: scalars inline
as ``Literal``, arrays (and tracers of enclosing transforms) as constant
variables carried by the ``ClosedJaxpr``.
"""
from __future__ import annotations

import warnings
from typing import Any, Callable, Sequence

import numpy as np

from .frames import staging_site
from .ir import ClosedJaxpr, Eqn, Jaxpr, Literal, ShapedArray, Var, aval_of
from .primitive import Primitive
from .trace import (ConcretizationError, CustomCall, Trace, Tracer, concretization_message,
                    raise_leaked, run_traced, _ctx)


class JaxprTracer(Tracer):
    """A value known only by its shape and dtype, bound to an IR variable."""

    __slots__ = ("_aval", "var")

    def __init__(self, aval: ShapedArray, var: Var, trace: "JaxprTrace") -> None:
        self._trace = trace
        self._aval = aval
        self.var = var

    @property
    def aval(self) -> ShapedArray:
        return self._aval

    def concrete_value(self, what: str) -> Any:
        raise ConcretizationError(concretization_message(
            self, what, "The function is being traced abstractly (make_jaxpr/jit), "
            "so only shapes and dtypes are known."))


class JaxprTrace(Trace):
    """Interpreter that builds a jaxpr instead of computing values."""

    __slots__ = ("eqns", "const_vars", "const_vals")

    def __init__(self, parent: Trace) -> None:
        super().__init__(parent)
        self.eqns: list[Eqn] = []
        self.const_vars: dict[int, Var] = {}
        self.const_vals: list[Any] = []

    def new_arg(self, aval: ShapedArray) -> JaxprTracer:
        return JaxprTracer(aval, Var(aval), self)

    def to_atom(self, x: Any) -> Var | Literal:
        if isinstance(x, JaxprTracer) and x._trace is self:
            return x.var
        if not isinstance(x, Tracer) and np.ndim(x) == 0 and not isinstance(x, np.ndarray):
            return Literal(x)
        var = self.const_vars.get(id(x))
        if var is None:
            var = self.const_vars[id(x)] = Var(aval_of(x))
            self.const_vals.append(x)
        return var

    def process_primitive(self, prim: Primitive, args: Sequence[Any], params: dict) -> Any:
        own = any(isinstance(a, JaxprTracer) and a._trace is self for a in args)
        if not own:
            return self.parent.process_primitive(prim, args, params)  # type: ignore[union-attr]
        if not self.alive:
            raise_leaked(next(a for a in args if isinstance(a, Tracer)), prim.name)
        return self._stage(prim, args, params)

    def process_effect(self, prim: Primitive, args: Sequence[Any], params: dict) -> Any:
        return self._stage(prim, args, params)

    def _stage(self, prim: Primitive, args: Sequence[Any], params: dict) -> Any:
        # constants go to the shape rule as they are, so Python scalars stay weakly typed
        avals = [a.aval if isinstance(a, Tracer) else a for a in args]
        out_avals = prim.abstract_eval(*avals, **params)
        invars = [self.to_atom(a) for a in args]
        origin = _ctx.origin  # a sweep or a replay knows the site: no frame walk
        site = origin.site() if origin is not None else None
        if site is None:
            site = staging_site()  # recorded on its first result (see Var)
        if prim.multiple_results:
            outs = [JaxprTracer(av, Var(av), self) for av in out_avals]
            if outs:
                outs[0].var.site = site
            self.eqns.append(Eqn(prim, invars, [t.var for t in outs], params))
            return outs
        var = Var(out_avals)
        var.site = site
        self.eqns.append(Eqn(prim, invars, [var], params))
        return JaxprTracer(out_avals, var, self)

    def process_custom(self, call: CustomCall, args: Sequence[Any]) -> Any:
        if not any(self.owns(a) for a in args):
            return self.delegate_custom(call, args)
        return call.stage(args)

    def finish(self, in_tracers: Sequence[JaxprTracer], outs: Sequence[Any]) -> ClosedJaxpr:
        outvars = [self.to_atom(o) for o in outs]
        constvars = list(self.const_vars.values())
        return ClosedJaxpr(Jaxpr(constvars, [t.var for t in in_tracers], self.eqns, outvars),
                           self.const_vals)


def trace_to_jaxpr(fun: Callable[..., Sequence[Any]],
                   in_avals: Sequence[ShapedArray]) -> ClosedJaxpr:
    """Trace ``fun`` (taking and returning flat lists of arrays) on abstract inputs."""
    trace = JaxprTrace(_ctx.trace)
    in_tracers = [trace.new_arg(av) for av in in_avals]
    outs = run_traced(trace, fun, in_tracers)
    return trace.finish(in_tracers, outs)


# ----------------------------------------------------------------------------- frozen draws
class TracedRandomWarning(UserWarning):
    """A stateful random draw (``numpy.random``) ran while a function was being traced:
    it happens once, at trace time, and its values are frozen into the program.



    >>> import warnings, xform, xform.numpy as np
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     _ = xform.jit(lambda x: x + np.random.normal())(0.0)
    >>> caught[0].category.__name__
    'TracedRandomWarning'
    """


def staging_active() -> bool:
    """True while a function is being traced abstractly (``jit``, ``make_jaxpr``, the
    body of a ``lax`` loop or branch), at any depth of nesting.

    Returns:
        Whether an abstract trace is running now.

    >>> import xform
    >>> from xform.random import staging_active
    >>> seen = []
    >>> _ = xform.make_jaxpr(lambda x: seen.append(staging_active()) or x)(1.0)
    >>> staging_active(), seen
    (False, [True])
    """
    trace: Trace | None = _ctx.trace
    while trace is not None:
        if isinstance(trace, JaxprTrace):
            return True
        trace = trace.parent
    return False


def warn_if_staged(name: str, stacklevel: int = 3) -> bool:
    """Warn (:class:`TracedRandomWarning`) if ``name``, a stateful random function such
    as ``numpy.random.normal``, is called while a trace is staging; returns whether it
    warned. Wrappers of ``numpy.random`` call it before drawing.

    Args:
        name: the random function, for the message.
        stacklevel: which caller the warning names.

    Returns:
        Whether it warned.

    >>> from xform.random import warn_if_staged
    >>> warn_if_staged("numpy.random.normal")
    False
    """
    if not staging_active():
        return False
    warnings.warn(
        f"{name} was called while xform is tracing (jit, make_jaxpr or a lax loop or "
        "branch body): the draw happens once, at trace time, and its values are frozen "
        "into the compiled function as constants, so every call returns the same numbers. "
        "Draw with an explicit key instead: key = xform.random.PRNGKey(0); "
        "x = xform.random.normal(key, shape), passing the key in as an argument.",
        TracedRandomWarning, stacklevel=stacklevel)
    return True
