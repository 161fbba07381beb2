"""Batching (vmap): tracers carry a value with one extra axis, ``bdim``.

Each primitive's batch rule ``batch(vals, dims, params) -> (out, out_dim)``
receives the operands with their batch axes (``None`` for an unbatched
operand) and computes the whole batch in one call; for primitives with several
results it returns ``(outs, out_dims)``. A batched value is abstract as far as
Python is concerned: ``bool()`` on one raises a clear error, since different
batch members could take different branches.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from ..core.ir import ShapedArray
from ..core.primitive import Primitive
from ..core.rules import shape_of
from ..core.structured import Diagonal, densify
from ..core.trace import (ConcretizationError, CustomCall, Trace, Tracer, _ctx, bind,
                          bind_custom, call_under, concretization_message, format_value,
                          raise_leaked, run_traced)


class BatchTracer(Tracer):
    """A batch of values stacked along axis ``bdim`` of ``val``. With ``bdim`` None
    it is one value shared by the whole batch (an ``in_axes=None`` argument): it
    stays a tracer so that, as in JAX, it can be indexed by batched indices and
    updated with ``.at``, and Python can branch on it."""

    __slots__ = ("val", "bdim")

    def inner(self) -> Any:
        return self.val

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

    def __repr__(self) -> str:
        if self.bdim is None or not self._trace.alive:
            return super().__repr__()
        v = self.val
        if type(v) is Diagonal:
            v = v.dense()
        values = v.known_value() if isinstance(v, Tracer) else v
        head = self.short_repr()
        if values is None:
            return head
        return f"{head} with values batched along axis {self.bdim}:{format_value(values)}"

    __str__ = __repr__

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
        own = structured = False
        for a in args:
            if isinstance(a, BatchTracer) and a._trace is self:
                vals.append(a.val)
                dims.append(a.bdim)
                own = True
                structured = structured or type(a.val) is Diagonal
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
        try:  # the parent is made current inside the try: see core.trace.call_under
            _ctx.trace = self.parent  # type: ignore[assignment]
            if all(d is None for d in dims):  # only shared values: no batching needed
                out = bind(prim, *vals, **params)
                out_dim: Any = [None] * len(out) if prim.multiple_results else None
                if prim.nondiff:
                    return out
                if prim.multiple_results:
                    return [BatchTracer(o, None, self) for o in out]
                return BatchTracer(out, None, self)
            if structured:  # a Jacobian basis: keep its structure where the rule can
                rule = prim.structured
                kept = rule(vals, dims, params) if rule is not None else None
                if kept is not None:
                    out, out_dim = kept
                    return BatchTracer(out, out_dim, self)
                vals = densify(vals)
            out, out_dim = prim.batch(vals, dims, params)
        finally:
            _ctx.trace = prev
        if prim.multiple_results:
            return [o if d is None else BatchTracer(o, d, self) for o, d in zip(out, out_dim)]
        return out if out_dim is None else BatchTracer(out, out_dim, self)

    def process_custom(self, call: CustomCall, args: Sequence[Any]) -> Any:
        own = [self.owns(a) for a in args]
        if not any(own):
            return self.delegate_custom(call, args)
        vals = [a.val if o else a for a, o in zip(args, own)]
        dims = [a.bdim if o else None for a, o in zip(args, own)]
        parent = self.parent
        assert parent is not None
        if any(type(v) is Diagonal for v in vals):
            vals = call_under(parent, densify, vals)
        if all(d is None for d in dims):  # nothing batched: the rule applies as it is
            return [BatchTracer(o, None, self)
                    for o in call_under(parent, bind_custom, call, vals)]
        return [BatchTracer(o, 0, self) for o in call_under(parent, call.batch, vals, dims)]


_PY_SCALARS = (int, float, complex, bool)


OutDims = int | None | Sequence[int | None]


def vmap_flat(fun: Any, args: Sequence[Any], in_dims: Sequence[int | None], axis_size: int,
              out_dims: OutDims | Callable[[], OutDims]) -> list[Any]:
    """Batching on flat lists: ``fun`` mapped over axis ``in_dims[i]`` of ``args[i]``
    (``None``: shared by the whole batch), in one pass over its operations.

    ``fun`` takes and returns flat sequences. Each output gets its batch axis at
    ``out_dims[j]`` (``None``: the output must not depend on the batch; one int or
    None: the same for all); ``out_dims`` may be a function called after ``fun`` has
    run, when the outputs' structure is known only then. ``in_dims`` must be normalised (non-negative) already.
    """
    trace = BatchTrace(_ctx.trace, axis_size)
    # unbatched arguments stay tracers too (as in JAX), so batched indices and .at
    # updates work on them; unbatched Python scalars stay Python scalars, which NumPy
    # treats as weakly typed (2.0 * float32 array stays float32), as in an unbatched call
    boxed = [x if d is None and type(x) in _PY_SCALARS else BatchTracer(x, d, trace)
             for x, d in zip(args, in_dims)]
    outs = run_traced(trace, fun, boxed)
    dims = out_dims() if callable(out_dims) else out_dims
    if dims is None or isinstance(dims, int):
        dims = [dims] * len(outs)
    results = []
    for o, ax in zip(outs, dims):
        if isinstance(o, BatchTracer) and o._trace is trace:
            v = o.val
            if type(v) is Diagonal:  # the enclosing trace is current again here
                v = v.dense()
            results.append(_move_batch_axis(v, o.bdim, ax, axis_size))
        else:
            results.append(_move_batch_axis(o, None, ax, axis_size))
    return results


def _move_batch_axis(x: Any, bdim: int | None, out_axis: int | None, size: int) -> Any:
    """Place the batch axis of an output at ``out_axis``, materialising it for outputs
    that do not depend on the batch. NumPy's functions dispatch on tracers, so this
    works on values of enclosing transforms too."""
    if out_axis is None:
        if bdim is not None:
            raise ValueError("vmap: out_axes=None, but the output depends on the batched "
                             "inputs; use an integer out_axes for it")
        return x
    shape = shape_of(x)
    nd = len(shape) + (bdim is None)
    if not -nd <= out_axis < nd:
        raise ValueError(f"vmap: out_axes={out_axis} is out of range for an output of rank "
                         f"{nd} (including the batch axis)")
    out_axis = out_axis % nd
    if bdim is None:
        x = np.broadcast_to(np.expand_dims(x, 0), (size,) + tuple(shape))
        bdim = 0
    return np.moveaxis(x, bdim, out_axis) if bdim != out_axis else x
