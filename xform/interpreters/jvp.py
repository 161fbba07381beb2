"""Forward mode: tracers carry a primal and a tangent; rules push tangents forward.

A tangent of ``None`` is a symbolic zero: an operation whose operands carry no
tangent of this trace returns a plain (parent-level) value, so constants are
never materialised as zero arrays.
"""
from __future__ import annotations

from typing import Any, Sequence

from ..core import nan_check
from ..core.ir import ShapedArray
from ..core.primitive import Primitive
from ..core.trace import (CustomCall, Trace, Tracer, _ctx, bind, raise_leaked, run_traced,
                          call_under)


class JVPTracer(Tracer):
    """A primal value with its (non-zero) tangent."""

    __slots__ = ("primal", "tangent")

    def inner(self) -> Any:
        return self.primal

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
        try:  # the parent is made current inside the try: see core.trace.call_under
            _ctx.trace = self.parent  # type: ignore[assignment]
            out = bind(prim, *primals, **params)
            if not own or prim.nondiff:
                return out
            if prim.jvp is None:
                raise NotImplementedError(
                    f"Forward-mode differentiation of `{prim.name}` is not implemented "
                    "(it has no JVP rule). Use reverse mode (xform.grad / vjp) instead.")
            if nan_check.flags.nans:
                with nan_check.phase("forward mode (a JVP rule)", prim.name):
                    t_out = prim.jvp(tangents, out, primals, params)
                    nan_check.check(prim, [*tangents, out, *primals], t_out)
            else:
                t_out = prim.jvp(tangents, out, primals, params)
        finally:
            _ctx.trace = prev
        if prim.multiple_results:
            return [o if t is None else JVPTracer(o, t, self) for o, t in zip(out, t_out)]
        return out if t_out is None else JVPTracer(out, t_out, self)

    def process_custom(self, call: CustomCall, args: Sequence[Any]) -> Any:
        own = [self.owns(a) for a in args]
        if not any(own):
            return self.delegate_custom(call, args)
        primals = [a.primal if o else a for a, o in zip(args, own)]
        tangents = [a.tangent if o else None for a, o in zip(args, own)]
        parent = self.parent
        assert parent is not None
        outs, t_outs = call_under(parent, call.jvp, primals, tangents)
        return [o if t is None else JVPTracer(o, t, self) for o, t in zip(outs, t_outs)]


def jvp_flat(fun: Any, primals: Sequence[Any], tangents: Sequence[Any]
             ) -> tuple[list[Any], list[Any]]:
    """Forward mode on flat lists: ``fun(*primals)`` and its tangent along ``tangents``.

    ``fun`` takes and returns flat sequences of arrays. A ``None`` tangent is a
    symbolic zero, in and out: an output that does not depend on any input with a
    tangent comes back with ``None``. Inputs are used as given (no dtype checks or
    casts: that is the caller's business).
    """
    trace = JVPTrace(_ctx.trace)
    boxed = [p if t is None else JVPTracer(p, t, trace) for p, t in zip(primals, tangents)]
    outs = run_traced(trace, fun, boxed)
    primals_out, tangents_out = [], []
    for o in outs:
        if isinstance(o, JVPTracer) and o._trace is trace:
            primals_out.append(o.primal)
            tangents_out.append(o.tangent)
        else:
            primals_out.append(o)
            tangents_out.append(None)
    return primals_out, tangents_out
