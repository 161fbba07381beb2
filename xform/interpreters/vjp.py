"""Reverse mode: record a tape of equations with their values, then sweep it backwards.

Tracing is concrete: each ``TapeTracer`` carries its value, so Python control
flow on values works, and the backward sweep reuses the recorded values
instead of recomputing the forward pass. Only operations that touch this
trace's tracers are recorded; non-differentiable primitives are not.
Both loops are iterative, so chains of millions of operations are fine.
"""
from __future__ import annotations

from types import FrameType
from typing import Any, Sequence

import numpy as np

from ..core import nan_check
from ..core.frames import SWEEPS, FPWarningsAtUserLine, Sweep, user_frame
from ..core.ir import ShapedArray
from ..core.primitive import Primitive
from ..core.rules import cast_like, dtype_of, shape_of, unbroadcast
from ..core.arrays import is_foreign, ones
from ..core.trace import (EVAL_TRACE, CustomCall, EvalTrace, Trace, Tracer, _ctx, add_any,
                          call_under, call_without_gc, like_value, raise_leaked, run_traced)


_FLAGS = nan_check.flags  # read on every operation
# the params of every operation the two-operand path records: one shared dict, as
# no rule writes into its params (saves a dict per recorded scalar operation)
_NO_PARAMS: dict = {}


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

    def inner(self) -> Any:
        return self.val

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

    __slots__ = ("tape", "over_numpy", "tag", "sites")

    def __init__(self, parent: Trace) -> None:
        self.tag = TapeTag()
        super().__init__(parent)
        self.tape: list[TapeEntry] = []
        self.sites: dict[int, str] = {}  # tape index -> user's line, with debug_nans on
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
        if not self.over_numpy:
            return self._process(prim, args, params)
        # the common case, kept short: a tape directly over NumPy values
        tag = self.tag
        if len(args) == 2:  # scalar code's arithmetic: no loop
            a, b = args
            own_a = type(a) is TapeTracer and a._trace is tag  # type: ignore[comparison-overlap]
            own_b = type(b) is TapeTracer and b._trace is tag  # type: ignore[comparison-overlap]
            if not ((own_a or not isinstance(a, Tracer)) and (own_b or not isinstance(b, Tracer))):
                return self._process(prim, args, params)  # a leaked or foreign tracer
            vals: Sequence[Any] = (a.val if own_a else a, b.val if own_b else b)
            own = own_a or own_b
        else:
            vals = []
            own = False
            for a in args:
                if type(a) is TapeTracer and a._trace is tag:  # type: ignore[comparison-overlap]
                    vals.append(a.val)
                    own = True
                elif isinstance(a, Tracer):
                    return self._process(prim, args, params)  # the general path says why
                else:
                    vals.append(a)
        if own and not tag.alive:
            raise_leaked(next(a for a in args if isinstance(a, Tracer)), prim.name)
        # most operations have no params: unpacking an empty dict still builds one
        out = prim.impl(*vals, **params) if params else prim.impl(*vals)
        if _FLAGS.nans:
            nan_check.check(prim, vals, out)
            if own and not prim.nondiff:
                return self._record(prim, args, params, out)
        if not own or prim.nondiff:  # a nested trace's op on constants
            return out
        if prim.multiple_results:
            return self._record(prim, args, params, out)
        res = TapeTracer(out, self)
        self.tape.append((prim, args, params, res))
        return res

    def process_binary(self, prim: Primitive, x: Any, y: Any) -> Any:
        # a tracer's + - * / < on this tape's values over NumPy, the bulk of scalar
        # code: no argument tuple to unpack, no loop; anything else takes the full path
        tag = self.tag
        if type(x) is TapeTracer and x._trace is tag:  # type: ignore[comparison-overlap]
            vx = x.val
            if type(y) is TapeTracer and y._trace is tag:  # type: ignore[comparison-overlap]
                vy = y.val
            elif isinstance(y, Tracer):
                return self.process_primitive(prim, (x, y), {})
            else:
                vy = y
        elif type(y) is TapeTracer and y._trace is tag and not isinstance(x, Tracer):  # type: ignore[comparison-overlap]
            vx, vy = x, y.val
        else:
            return self.process_primitive(prim, (x, y), {})
        if not (self.over_numpy and tag.alive) or _FLAGS.nans:
            return self.process_primitive(prim, (x, y), {})
        out = prim.impl(vx, vy)
        if prim.nondiff:
            return out
        res = TapeTracer(out, self)
        self.tape.append((prim, (x, y), _NO_PARAMS, res))
        return res

    def process_unary(self, prim: Primitive, x: Any) -> Any:
        tag = self.tag
        if type(x) is not TapeTracer or x._trace is not tag or not (  # type: ignore[comparison-overlap]
                self.over_numpy and tag.alive) or _FLAGS.nans:
            return self.process_primitive(prim, (x,), {})
        out = prim.impl(x.val)
        if prim.nondiff:
            return out
        res = TapeTracer(out, self)
        self.tape.append((prim, (x,), _NO_PARAMS, res))
        return res

    def _process(self, prim: Primitive, args: Sequence[Any], params: dict) -> Any:
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
            if nan_check.flags.nans:
                nan_check.check(prim, vals, out)
        if not own or prim.nondiff:
            return out
        return self._record(prim, args, params, out)

    def _record(self, prim: Primitive, args: Sequence[Any], params: dict, out: Any) -> Any:
        if prim.multiple_results:
            res: Any = tuple(TapeTracer(o, self) for o in out)
        else:
            res = TapeTracer(out, self)
        if nan_check.flags.nans:  # where the backward pass will say the operation came from
            self.sites[len(self.tape)] = user_frame()
        self.tape.append((prim, args, params, res))
        return list(res) if prim.multiple_results else res

    def process_custom(self, call: CustomCall, args: Sequence[Any]) -> Any:
        own = [self.owns(a) for a in args]
        if not any(own):
            return self.delegate_custom(call, args)
        vals = [a.val if o else a for a, o in zip(args, own)]
        parent = self.parent
        assert parent is not None
        outs, pullback, push = call_under(parent, call.reverse, vals, own)
        res_tracers = tuple(TapeTracer(o, self) for o in outs)
        self.tape.append((custom_rule_p, args, {"pullback": pullback, "push": push},
                          res_tracers))
        return list(res_tracers)


def _recorded_only(*args: Any, **params: Any) -> Any:
    raise RuntimeError("custom-rule calls are recorded on tapes, never evaluated directly")


# A call with a custom derivative, as recorded on a tape: the call's own rules (closed
# over what its forward pass saved) travel in the params. Tapes are never staged or
# printed, so closures are fine here, unlike in the IR.
custom_rule_p = Primitive("custom_rule", _recorded_only, multiple_results=True,
                          register=False)
custom_rule_p.vjp = lambda ct, ans, args, params, needs: params["pullback"](ct, needs)
custom_rule_p.jvp = lambda tangents, ans, args, params: params["push"](tangents)


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
    if trace.over_numpy and _ctx.trace is EVAL_TRACE and not _FLAGS.nans:
        numeric_sweep(trace, cts, consume)  # nothing records the backward pass
        return cts
    outer = _ctx.origin
    _ctx.origin = sweep = Sweep()  # what staged rules record as their site
    try:
        _sweep(trace, cts, consume, sweep)
    finally:
        _ctx.origin = outer
    return cts


def _sweep(trace: TapeTrace, cts: dict[TapeTracer, Any], consume: bool,
           sweep: Sweep) -> None:
    tape = trace.tape
    tag = trace.tag
    pop = cts.pop
    for i in range(len(tape) - 1, -1, -1):
        prim, args, params, out = tape[i]
        sweep.prim, sweep.out = prim, out
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
            raise _no_vjp(prim)
        if nan_check.flags.nans:
            with nan_check.phase("the backward pass (reverse mode)", prim.name,
                                 trace.sites.get(i)):
                in_cts = prim.vjp(ct, ans, vals, params, needs)
                nan_check.check(prim, [ct, ans, *vals], list(in_cts))
        else:
            in_cts = prim.vjp(ct, ans, vals, params, needs)
        for a, n, c in zip(args, needs, in_cts):
            if n and c is not None:
                prev = cts.get(a)
                cts[a] = c if prev is None else prev + c
    if consume:
        tape.clear()


def fit_cotangent(c: Any, val: Any) -> Any:
    """A cotangent from a ``numeric_vjp`` made to fit its operand's value: summed over
    the axes it was broadcast along, and the real part for a real operand."""
    shape = shape_of(val)
    if shape_of(c) != shape:
        c = unbroadcast(c, shape)
    if dtype_of(c).kind == "c" and dtype_of(val).kind != "c":
        c = np.real(c)
    return c


def numeric_cotangents(prim: Primitive, ct: Any, ans: Any, vals: Sequence[Any],
                       params: dict, needs: Sequence[bool]) -> list[Any]:
    """The cotangents the eager sweep computes for one equation (``None`` for zero):
    ``prim.numeric_vjp`` (``prim.vjp`` where it has none), each fitted to its operand.
    The generic test checks it against ``prim.vjp``."""
    fn = prim.numeric_vjp or prim.vjp
    if fn is None:
        raise _no_vjp(prim)
    return [fit_cotangent(c, v) if n and c is not None else None
            for c, v, n in zip(fn(ct, ans, vals, params, needs), vals, needs)]


_F64 = np.float64
_UNARY_NEEDS = (True,)


def numeric_sweep(trace: TapeTrace, cts: dict[TapeTracer, Any], consume: bool) -> None:
    """The backward sweep when nothing records it (a tape over NumPy values, swept with
    no transform current): each equation's ``numeric_vjp`` on plain values, fitted
    (``fit_cotangent``) only where a cotangent is not a float64 scalar of a float64
    scalar operand. Accumulates into ``cts`` as :func:`backward_pass` does."""
    tape = trace.tape
    tag = trace.tag
    pop = cts.pop
    get = cts.get
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
        fn = prim.numeric_vjp or prim.vjp
        if fn is None:
            raise _no_vjp(prim)
        if len(args) == 1:  # recorded, so its operand is this tape's tracer
            a = args[0]
            v = a.val
            c = fn(ct, ans, (v,), params, _UNARY_NEEDS)[0]
            if c is not None:
                if type(c) is not _F64 or type(v) is not _F64:
                    c = fit_cotangent(c, v)
                prev = get(a)
                cts[a] = c if prev is None else prev + c
            continue
        if len(args) == 2:
            a, b = args
            na = type(a) is TapeTracer and a._trace is tag  # type: ignore[comparison-overlap]
            nb = type(b) is TapeTracer and b._trace is tag  # type: ignore[comparison-overlap]
            va = a.val if na else a
            vb = b.val if nb else b
            in_cts = fn(ct, ans, (va, vb), params, (na, nb))
            ca = in_cts[0]
            cb = in_cts[1] if len(in_cts) > 1 else None  # linear in the first only
            if na and ca is not None:
                if type(ca) is not _F64 or type(va) is not _F64:
                    ca = fit_cotangent(ca, va)
                prev = get(a)
                cts[a] = ca if prev is None else prev + ca
            if nb and cb is not None:
                if type(cb) is not _F64 or type(vb) is not _F64:
                    cb = fit_cotangent(cb, vb)
                prev = get(b)
                cts[b] = cb if prev is None else prev + cb
            continue
        needs = [type(a) is TapeTracer and a._trace is tag for a in args]  # type: ignore[comparison-overlap]
        vals = [a.val if n else a for a, n in zip(args, needs)]
        for a, n, v, c in zip(args, needs, vals, fn(ct, ans, vals, params, needs)):
            if n and c is not None:
                if type(c) is not _F64 or type(v) is not _F64:
                    c = fit_cotangent(c, v)
                prev = get(a)
                cts[a] = c if prev is None else prev + c
    if consume:
        tape.clear()


def _no_vjp(prim: Primitive) -> NotImplementedError:
    return NotImplementedError(
        f"Reverse-mode differentiation of `{prim.name}` is not implemented "
        "(it has no VJP rule). Use forward mode (xform.jvp / jacfwd) instead.")


def _sweep_site(frame: FrameType) -> tuple[str, str | None]:
    """For a warning raised in a sweep (``_sweep``, ``numeric_sweep``): the primitive
    whose rule was running, and the user's line that created it (recorded under
    debug_nans only: recording every operation's line would cost each one a stack
    walk)."""
    local = frame.f_locals
    trace, i = local.get("trace"), local.get("i")
    site = trace.sites.get(i) if isinstance(trace, TapeTrace) and isinstance(i, int) else None
    return getattr(local.get("prim"), "name", "?"), site


SWEEPS[id(_sweep.__code__)] = _sweep_site
SWEEPS[id(numeric_sweep.__code__)] = _sweep_site


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


# ---------------------------------------------------------------------------- flat entries
class Recording:
    """A function run once with its inputs' values recorded on a tape: the state that
    ``vjp_flat``'s pullback and ``linearize_flat``'s push-forward share."""

    __slots__ = ("trace", "inputs", "primals", "outs")

    def __init__(self, fun: Any, primals: Sequence[Any], diff: Sequence[bool]) -> None:
        self.trace = trace = TapeTrace(_ctx.trace)
        self.primals = list(primals)
        self.inputs = [TapeTracer(x, trace) if d else None for x, d in zip(primals, diff)]
        boxed = [b if b is not None else x for b, x in zip(self.inputs, primals)]
        # the caller pauses the collector (call_without_gc): see _record_and_sweep
        self.outs = list(run_traced(trace, fun, boxed))

    def values(self) -> list[Any]:
        """The outputs' values (this recording's tracers unboxed)."""
        own = self.trace.owns
        return [o.val if own(o) else o for o in self.outs]

    def pullback(self, cts: Sequence[Any], consume: bool = False) -> list[Any]:
        """Cotangents of the inputs (``None`` for zero) from those of the outputs
        (``None`` for zero). Each is cast to its input's dtype (a real input's
        cotangent is the real part). ``consume`` frees the tape during the sweep:
        the recording cannot be swept again."""
        own = self.trace.owns
        seeds = [(o, c) for o, c in zip(self.outs, cts) if c is not None and own(o)]
        with FPWarningsAtUserLine():
            got = call_without_gc(backward_pass, self.trace, seeds, consume)
        return [None if b is None or b not in got else cast_like(got[b], x)
                for b, x in zip(self.inputs, self.primals)]

    def push(self, tangents: Sequence[Any]) -> list[Any]:
        """Tangents of the outputs (``None`` for zero) from those of the inputs, along
        the recorded values (no re-run of the function)."""
        with FPWarningsAtUserLine():
            env = forward_pass(self.trace, {b: t for b, t in zip(self.inputs, tangents)
                                            if b is not None and t is not None})
        own = self.trace.owns
        return [cast_like(env[o], o.val) if own(o) and o in env else None
                for o in self.outs]


def vjp_flat(fun: Any, primals: Sequence[Any], diff: Sequence[bool] | None = None
             ) -> tuple[list[Any], Any]:
    """Reverse mode on flat lists: ``(outs, pullback)``.

    ``fun`` takes and returns flat sequences of arrays; it runs once, now, with the
    inputs flagged in ``diff`` (default: all) recorded. ``pullback(cts)`` maps output
    cotangents to input cotangents, ``None`` meaning zero both ways, and may be called
    many times; ``pullback(cts, consume=True)`` frees the tape as it sweeps (one use).
    """
    rec = call_without_gc(Recording, fun, primals, [True] * len(primals) if diff is None else diff)
    return rec.values(), rec.pullback


def grad_flat(fun: Any, primals: Sequence[Any], diff: Sequence[bool]
              ) -> tuple[list[Any], list[Any]]:
    """Reverse mode for a scalar first output (grad's entry): ``(outs, cts)``.

    ``fun`` runs once, recorded, then the tape is swept back (and freed) from a
    cotangent of one on ``outs[0]``; the other outputs (auxiliary data) get none.
    ``cts`` holds each input's cotangent, not yet cast to its dtype (``None`` for zero).
    The same as ``vjp_flat`` then ``pullback([1, None, ...], consume=True)``, with the
    collector paused once around both."""
    return call_without_gc(_record_and_sweep, fun, primals, diff)


def _record_and_sweep(fun: Any, primals: Sequence[Any], diff: Sequence[bool]
                      ) -> tuple[list[Any], list[Any]]:
    # the collector stays paused until the sweep has freed the tape: resumed in
    # between, it would walk the whole tape (its objects had all just been made)
    rec = Recording(fun, primals, diff)
    outs = rec.values()
    first = rec.outs[0]
    if not rec.trace.owns(first):  # a constant output: every cotangent is zero
        return outs, [None] * len(primals)
    with FPWarningsAtUserLine():
        got = backward_pass(rec.trace, [(first, one_like(outs[0]))], True)
    return outs, [None if b is None else got.get(b) for b in rec.inputs]


_ONES: dict[np.dtype, Any] = {}


def one_like(x: Any) -> Any:
    """A 0-d one of ``x``'s dtype and array kind: the seed of a scalar's sweep. NumPy's
    are cached: a NumPy scalar is immutable, so no rule can write into a shared one."""
    dt = dtype_of(x)
    like = like_value(x)
    if like is not None and is_foreign(like):
        return ones((), dt, like)[()]
    one = _ONES.get(dt)
    if one is None:
        one = _ONES[dt] = np.ones((), dt)[()]
    return one


def linearize_flat(fun: Any, primals: Sequence[Any], diff: Sequence[bool] | None = None
                   ) -> tuple[list[Any], Any]:
    """``(outs, push)``: ``push(tangents)`` applies the Jacobian at ``primals`` along the
    values recorded once (``None`` tangents are zeros, in and out)."""
    rec = call_without_gc(Recording, fun, primals, [True] * len(primals) if diff is None else diff)
    return rec.values(), rec.push
