"""Reverse mode: record a tape of equations with their values, then sweep it backwards.

Tracing is concrete: each ``TapeTracer`` carries its value, so Python control
flow on values works, and the backward sweep reuses the recorded values
instead of recomputing the forward pass. Only operations that touch this
trace's tracers are recorded; non-differentiable primitives are not.
Both loops are iterative, so chains of millions of operations are fine.
"""
from __future__ import annotations

from typing import Any, Sequence

from ..core.ir import ShapedArray
from ..core.primitive import Primitive
from ..core.trace import Trace, Tracer, add_any, raise_leaked


class TapeTracer(Tracer):
    """A value being recorded on a tape."""

    __slots__ = ("val",)

    def __init__(self, val: Any, trace: "TapeTrace") -> None:
        self._trace = trace
        self.val = val

    @property
    def aval(self) -> ShapedArray:
        v = self.val
        if isinstance(v, Tracer):
            return v.aval
        return ShapedArray(v.shape, v.dtype)

    @property
    def shape(self) -> tuple[int, ...]:
        return self.val.shape

    @property
    def dtype(self) -> Any:
        return self.val.dtype

    def concrete_value(self, what: str) -> Any:
        v = self.val
        return v._concrete(what) if isinstance(v, Tracer) else v


# A tape entry: (primitive, operands as given, params, output tracer(s)).
TapeEntry = tuple[Primitive, Sequence[Any], dict, Any]


class TapeTrace(Trace):
    """Interpreter that evaluates through its parent and records a tape."""

    __slots__ = ("tape",)

    def __init__(self, parent: Trace) -> None:
        super().__init__(parent)
        self.tape: list[TapeEntry] = []

    def process_primitive(self, prim: Primitive, args: Sequence[Any], params: dict) -> Any:
        vals = []
        own = False
        foreign = False
        for a in args:
            if isinstance(a, TapeTracer) and a._trace is self:
                vals.append(a.val)
                own = True
                continue
            if isinstance(a, Tracer):
                foreign = True
            vals.append(a)
        if own and not self.alive:
            raise_leaked(args[0] if isinstance(args[0], Tracer) else args[-1], prim.name)
        if foreign:
            out = self.parent.process_primitive(prim, vals, params)  # type: ignore[union-attr]
        else:
            out = prim.impl(*vals, **params)
        if not own or prim.nondiff:
            return out
        if prim.multiple_results:
            res: Any = tuple(TapeTracer(o, self) for o in out)
        else:
            res = TapeTracer(out, self)
        self.tape.append((prim, args, params, res))
        return res


def backward_pass(trace: TapeTrace, seeds: Sequence[tuple[TapeTracer, Any]],
                  consume: bool = False) -> dict[TapeTracer, Any]:
    """Propagate cotangents from ``seeds`` back through the tape.

    Returns the accumulated cotangent of every tracer that received one and is
    not the output of a recorded equation (i.e. the inputs). Rules run under
    whatever trace is current, so an enclosing transform records them.
    With ``consume`` the tape is released entry by entry to cap peak memory.
    """
    cts: dict[TapeTracer, Any] = {}
    for t, seed in seeds:
        cts[t] = add_any(cts.get(t), seed)
    tape = trace.tape
    pop = cts.pop
    for i in range(len(tape) - 1, -1, -1):
        prim, args, params, out = tape[i]
        if consume:
            tape[i] = None  # type: ignore[call-overload]
        ct: Any
        ans: Any
        if prim.multiple_results:
            ct = [pop(o, None) for o in out]
            if all(c is None for c in ct):
                continue
            ans = [o.val for o in out]
        else:
            ct = pop(out, None)
            if ct is None:
                continue
            ans = out.val
        needs = [isinstance(a, TapeTracer) and a._trace is trace for a in args]
        vals = [a.val if n else a for a, n in zip(args, needs)]
        if prim.vjp is None:
            raise NotImplementedError(
                f"Reverse-mode differentiation of `{prim.name}` is not implemented "
                "(it has no VJP rule). Use forward mode (xform.jvp / jacfwd) instead.")
        in_cts = prim.vjp(ct, ans, vals, params, needs)
        for a, n, c in zip(args, needs, in_cts):
            if n and c is not None:
                prev = cts.get(a)
                cts[a] = c if prev is None else prev + c
    if consume:
        tape.clear()
    return cts
