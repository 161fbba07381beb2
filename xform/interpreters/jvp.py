"""Forward mode: tracers carry a primal and a tangent; rules push tangents forward.

A tangent of ``None`` is a symbolic zero: an operation whose operands carry no
tangent of this trace returns a plain (parent-level) value, so constants are
never materialised as zero arrays.
"""
from __future__ import annotations

from typing import Any, Sequence

from ..core.ir import ShapedArray
from ..core.primitive import Primitive
import numpy as np

from ..core.trace import Trace, Tracer, _ctx, bind, raise_leaked, set_current


def custom_vjp_forward_error(name: str) -> TypeError:
    """The error for forward mode through a function whose rule is a custom VJP."""
    return TypeError(
        f"`{name}` has a custom_vjp rule, which only supports reverse mode (grad, vjp, "
        "jacrev, and forward-over-reverse such as hessian); forward mode through it (jvp, "
        "jacfwd, linearize) cannot use it. Define the derivative with custom_jvp instead, "
        "which serves both modes.")


class JVPTracer(Tracer):
    """A primal value with its (non-zero) tangent."""

    __slots__ = ("primal", "tangent")

    def __init__(self, primal: Any, tangent: Any, trace: "JVPTrace") -> None:
        self._trace = trace
        self.primal = primal
        self.tangent = tangent

    @property
    def aval(self) -> ShapedArray:
        p = self.primal
        if isinstance(p, Tracer):
            return p.aval
        return ShapedArray(p.shape, p.dtype)

    @property
    def shape(self) -> tuple[int, ...]:
        return self.primal.shape

    @property
    def dtype(self) -> Any:
        return self.primal.dtype

    def concrete_value(self, what: str) -> Any:
        p = self.primal
        return p._concrete(what) if isinstance(p, Tracer) else p


class JVPTrace(Trace):
    """Interpreter for forward-mode differentiation."""

    __slots__ = ()

    def process_primitive(self, prim: Primitive, args: Sequence[Any], params: dict) -> Any:
        primals = []
        tangents: list[Any] = []
        own = False
        for a in args:
            if isinstance(a, JVPTracer) and a._trace is self:
                primals.append(a.primal)
                tangents.append(a.tangent)
                own = True
            else:
                primals.append(a)
                tangents.append(None)
        if own and not self.alive:
            raise_leaked(next(a for a in args if isinstance(a, Tracer)), prim.name)
        prev = _ctx.trace
        _ctx.trace = self.parent  # type: ignore[assignment]
        try:
            out = bind(prim, *primals, **params)
            if not own or prim.nondiff:
                return out
            if prim.jvp is None:
                raise NotImplementedError(
                    f"Forward-mode differentiation of `{prim.name}` is not implemented "
                    "(it has no JVP rule). Use reverse mode (xform.grad / vjp) instead.")
            t_out = prim.jvp(tangents, out, primals, params)
        finally:
            _ctx.trace = prev
        if prim.multiple_results:
            return [o if t is None else JVPTracer(o, t, self) for o, t in zip(out, t_out)]
        return out if t_out is None else JVPTracer(out, t_out, self)

    def process_custom(self, kind: str, fun: Any, rule: Any, args: Sequence[Any]) -> Any:
        own = [isinstance(a, JVPTracer) and a._trace is self for a in args]
        parent = self.parent
        assert parent is not None
        if not any(own):
            return self.delegate_custom(kind, fun, rule, args)
        if kind == "remat":  # checkpointing only changes what reverse mode stores
            return fun(*args)
        if kind == "vjp":
            raise custom_vjp_forward_error(getattr(fun, "__name__", "function"))
        primals = [a.primal if o else a for a, o in zip(args, own)]
        tangents = [a.tangent if o else np.zeros(np.shape(a), np.result_type(a))
                    for a, o in zip(args, own)]
        with set_current(parent):
            outs, t_outs = rule(primals, tangents)
        return [o if t is None else JVPTracer(o, t, self) for o, t in zip(outs, t_outs)]


def jvp_of(fun: Any, primals: Sequence[Any], tangents: Sequence[Any]) -> list[Any]:
    """Output tangents of ``fun`` (flat lists in and out) at ``primals``; ``None``
    tangents are zero. For rules that need a JVP below the API layer."""
    trace = JVPTrace(_ctx.trace)
    boxed = [p if t is None else JVPTracer(p, t, trace) for p, t in zip(primals, tangents)]
    try:
        with set_current(trace):
            outs = fun(*boxed)
    finally:
        trace.alive = False
    return [o.tangent if isinstance(o, JVPTracer) and o._trace is trace else None
            for o in outs]
