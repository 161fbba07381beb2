"""Batching (vmap): tracers carry a value with one extra axis, ``bdim``.

Each primitive's batch rule ``batch(vals, dims, params) -> (out, out_dim)``
receives the operands with their batch axes (``None`` for an unbatched
operand) and computes the whole batch in one call; for primitives with several
results it returns ``(outs, out_dims)``. A batched value is abstract as far as
Python is concerned: ``bool()`` on one raises a clear error, since different
batch members could take different branches.
"""
from __future__ import annotations

from typing import Any, Sequence

from ..core.ir import ShapedArray
from ..core.primitive import Primitive
from ..core.trace import (CUSTOM_HOOKS, ConcretizationError, Trace, Tracer, _ctx, bind,
                          bind_custom,
                          concretization_message, raise_leaked, set_current)


class BatchTracer(Tracer):
    """A batch of values stacked along axis ``bdim`` of ``val``. With ``bdim`` None
    it is one value shared by the whole batch (an ``in_axes=None`` argument): it
    stays a tracer so that, as in JAX, it can be indexed by batched indices and
    updated with ``.at``, and Python can branch on it."""

    __slots__ = ("val", "bdim")

    def __init__(self, val: Any, bdim: int | None, trace: "BatchTrace") -> None:
        self._trace = trace
        self.val = val
        self.bdim = bdim

    @property
    def aval(self) -> ShapedArray:
        v = self.val
        aval = v.aval if isinstance(v, Tracer) else ShapedArray(v.shape, v.dtype)
        if self.bdim is None:
            return aval
        shape = aval.shape[:self.bdim] + aval.shape[self.bdim + 1:]
        return ShapedArray(shape, aval.dtype)

    def concrete_value(self, what: str) -> Any:
        if self.bdim is None:
            v = self.val
            return v._concrete(what) if isinstance(v, Tracer) else v
        raise ConcretizationError(concretization_message(
            self, what, "The value is batched by vmap (or by jacfwd/jacrev/hessian), so each "
            "batch member could take a different branch."))


class BatchTrace(Trace):
    """Interpreter that runs each primitive once for the whole batch."""

    __slots__ = ("axis_size",)

    def __init__(self, parent: Trace, axis_size: int) -> None:
        super().__init__(parent)
        self.axis_size = axis_size

    def process_primitive(self, prim: Primitive, args: Sequence[Any], params: dict) -> Any:
        vals: list[Any] = []
        dims: list[int | None] = []
        own = False
        for a in args:
            if isinstance(a, BatchTracer) and a._trace is self:
                vals.append(a.val)
                dims.append(a.bdim)
                own = True
            else:
                vals.append(a)
                dims.append(None)
        if not own:
            return self.parent.process_primitive(prim, args, params)  # type: ignore[union-attr]
        if not self.alive:
            raise_leaked(next(a for a in args if isinstance(a, Tracer)), prim.name)
        if prim.batch is None:
            raise NotImplementedError(f"vmap: `{prim.name}` has no batching rule")
        prev = _ctx.trace
        _ctx.trace = self.parent  # type: ignore[assignment]
        try:
            if all(d is None for d in dims):  # only shared values: no batching needed
                out = bind(prim, *vals, **params)
                out_dim: Any = [None] * len(out) if prim.multiple_results else None
                if prim.nondiff:
                    return out
                if prim.multiple_results:
                    return [BatchTracer(o, None, self) for o in out]
                return BatchTracer(out, None, self)
            out, out_dim = prim.batch(vals, dims, params)
        finally:
            _ctx.trace = prev
        if prim.multiple_results:
            return [o if d is None else BatchTracer(o, d, self) for o, d in zip(out, out_dim)]
        return out if out_dim is None else BatchTracer(out, out_dim, self)

    def process_custom(self, kind: str, fun: Any, rule: Any, args: Sequence[Any]) -> Any:
        own = [isinstance(a, BatchTracer) and a._trace is self for a in args]
        parent = self.parent
        assert parent is not None
        if not any(own):
            return self.delegate_custom(kind, fun, rule, args)
        vals = [a.val if o else a for a, o in zip(args, own)]
        dims = [a.bdim if o else None for a, o in zip(args, own)]
        if all(d is None for d in dims):  # nothing batched: the rule applies as it is
            with set_current(parent):
                outs = bind_custom(kind, fun, rule, vals)
            return [BatchTracer(o, None, self) for o in outs]
        with set_current(parent):
            outs = CUSTOM_HOOKS["batch"](kind, fun, rule, vals, dims)
        return [BatchTracer(o, 0, self) for o in outs]
