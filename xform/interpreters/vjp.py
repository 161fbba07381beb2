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
import numpy as np

from ..core.trace import EvalTrace, Trace, Tracer, add_any, raise_leaked, set_current


class TapeTag:
    """What a ``TapeTracer`` points to instead of its trace. The trace holds the tape
    and the tape holds the tracers: pointing them back at the trace would make every
    tape a reference cycle, freed only by the cyclic garbage collector (so memory
    would pile up across ``vjp`` calls)."""

    __slots__ = ("alive", "name", "__weakref__")

    def __init__(self) -> None:
        self.alive = True
        self.name = "TapeTrace"


class TapeTracer(Tracer):
    """A value being recorded on a tape."""

    __slots__ = ("val",)

    def __init__(self, val: Any, trace: "TapeTrace") -> None:
        self._trace = trace.tag  # type: ignore[assignment]
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

    __slots__ = ("tape", "over_numpy", "tag")

    def __init__(self, parent: Trace) -> None:
        self.tag = TapeTag()
        super().__init__(parent)
        self.tape: list[TapeEntry] = []
        # directly above NumPy, recorded values are plain arrays and the
        # implementation can be called without a detour through the parent
        self.over_numpy = isinstance(parent, EvalTrace)

    @property  # type: ignore[override]
    def alive(self) -> bool:
        return self.tag.alive

    @alive.setter
    def alive(self, value: bool) -> None:
        self.tag.alive = value

    def owns(self, x: Any) -> bool:
        """True if ``x`` is a tracer of this trace."""
        return isinstance(x, TapeTracer) and x._trace is self.tag  # type: ignore[comparison-overlap]

    def process_primitive(self, prim: Primitive, args: Sequence[Any], params: dict) -> Any:
        vals = []
        own = False
        foreign = False
        tag = self.tag
        for a in args:
            if isinstance(a, TapeTracer) and a._trace is tag:  # type: ignore[comparison-overlap]
                vals.append(a.val)
                own = True
                continue
            if isinstance(a, Tracer):
                foreign = True
            vals.append(a)
        if own and not self.alive:
            raise_leaked(args[0] if isinstance(args[0], Tracer) else args[-1], prim.name)
        if foreign or not self.over_numpy:
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
        return list(res) if prim.multiple_results else res

    def process_custom(self, kind: str, fun: Any, rule: Any, args: Sequence[Any]) -> Any:
        own = [self.owns(a) for a in args]
        parent = self.parent
        assert parent is not None
        if not any(own):
            return self.delegate_custom(kind, fun, rule, args)
        vals = [a.val if o else a for a, o in zip(args, own)]
        with set_current(parent):
            if kind in ("vjp", "remat"):
                fwd, bwd = rule
                outs, res = fwd(*vals)
                prim, params = custom_vjp_call_p, {"bwd": bwd, "res": res, "kind": kind,
                                                   "fun": fun}
            else:
                # Reverse mode of a custom JVP rule: record the rule's (linear) tangent
                # computation on an inner tape, and transpose it by sweeping that tape.
                inner = TapeTrace(parent)
                t_ins = [TapeTracer(np.zeros(np.shape(v), np.result_type(v)), inner) if o
                         else np.zeros(np.shape(v), np.result_type(v))
                         for v, o in zip(vals, own)]
                with set_current(inner):
                    outs, t_outs = rule(vals, t_ins)
                inner.alive = False
                prim, params = custom_jvp_call_p, {"inner": inner, "t_ins": t_ins,
                                                   "t_outs": t_outs}
        res_tracers = tuple(TapeTracer(o, self) for o in outs)
        self.tape.append((prim, args, params, res_tracers))
        return list(res_tracers)


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
    tag = trace.tag
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
        needs = [isinstance(a, TapeTracer) and a._trace is tag for a in args]  # type: ignore[comparison-overlap]
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


def forward_pass(trace: TapeTrace, tangents: dict[TapeTracer, Any]) -> dict[TapeTracer, Any]:
    """Push tangents forward along the tape with the recorded values (linearize).

    ``tangents`` maps input tracers to their tangents; the result maps every
    tracer reached to its tangent.
    """
    env = dict(tangents)
    for prim, args, params, res in trace.tape:
        ts = [env.get(a) if trace.owns(a) else None for a in args]
        if all(t is None for t in ts):
            continue
        if prim.jvp is None:
            raise NotImplementedError(
                f"Forward-mode differentiation of `{prim.name}` is not implemented "
                "(it has no JVP rule).")
        vals = [a.val if trace.owns(a) else a for a in args]
        ans = [r.val for r in res] if prim.multiple_results else res.val
        t_out = prim.jvp(ts, ans, vals, params)
        if prim.multiple_results:
            for r, t in zip(res, t_out):
                if t is not None:
                    env[r] = t
        elif t_out is not None:
            env[res] = t_out
    return env


# Calls of functions with custom rules, as recorded on a tape (never evaluated directly).
def _recorded_only(*args: Any, **params: Any) -> Any:
    raise RuntimeError("custom-rule calls are recorded on tapes, never evaluated directly")


custom_vjp_call_p = Primitive("custom_vjp_call", _recorded_only, multiple_results=True,
                              register=False)
custom_jvp_call_p = Primitive("custom_jvp_call", _recorded_only, multiple_results=True,
                              register=False)


def _custom_vjp_rule(ct: Any, ans: Any, args: Sequence[Any], params: dict,
                     needs: Sequence[bool]) -> list[Any]:
    cts = params["bwd"](params["res"], ct)
    return [c if n else None for c, n in zip(cts, needs)]


def _custom_jvp_transpose(ct: Any, ans: Any, args: Sequence[Any], params: dict,
                          needs: Sequence[bool]) -> list[Any]:
    inner = params["inner"]
    seeds = [(t, c) for t, c in zip(params["t_outs"], ct)
             if c is not None and inner.owns(t)]
    cts = backward_pass(inner, seeds)
    return [cts.get(t) if n else None for t, n in zip(params["t_ins"], needs)]


def _custom_jvp_forward(tangents: Sequence[Any], ans: Any, args: Sequence[Any],
                        params: dict) -> list[Any]:
    inner = params["inner"]
    env = forward_pass(inner, {t_in: t for t_in, t in zip(params["t_ins"], tangents)
                               if t is not None and isinstance(t_in, TapeTracer)})
    return [env.get(t) if isinstance(t, TapeTracer) else None for t in params["t_outs"]]


def _custom_vjp_forward(tangents: Sequence[Any], ans: Any, args: Sequence[Any],
                        params: dict) -> list[Any]:
    """Forward mode along a recorded custom-VJP call (linearize): only checkpointed
    functions, whose body is ordinary code, have one."""
    from .jvp import custom_vjp_forward_error, jvp_of
    fun = params["fun"]
    if params["kind"] != "remat":
        raise custom_vjp_forward_error(getattr(fun, "__name__", "function"))
    return jvp_of(fun, args, tangents)


custom_vjp_call_p.vjp = _custom_vjp_rule
custom_vjp_call_p.jvp = _custom_vjp_forward
custom_jvp_call_p.vjp = _custom_jvp_transpose
custom_jvp_call_p.jvp = _custom_jvp_forward
