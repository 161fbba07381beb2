"""Tracers, traces (interpreters), the current-trace context and ``bind``.

One *current trace* per thread. ``bind`` sends an operation to it when any
operand is a tracer; with plain values it runs the NumPy implementation
directly (no transform needs to see an operation on constants). A trace unboxes
only its own tracers (identity of ``tracer._trace``); everything else is a
constant to it and is passed on to its parent, which is how nested transforms
never confuse their perturbations. A trace runs its rules with its parent
current, so whatever the rules compute is seen by the enclosing transforms.
"""
from __future__ import annotations

import gc
import math
import threading
from typing import Any, Iterator, Sequence

import numpy as np

from . import nan_check
from .arrays import is_foreign, type_name
from .frames import FPWarningsAtUserLine, Replay, Sweep, user_frame
from .ir import ShapedArray
from .primitive import Primitive, registry

class Trace:
    """Base of all interpreters. ``parent`` is the trace the rules run under."""

    __slots__ = ("parent", "alive", "__weakref__")

    def __init__(self, parent: "Trace | None") -> None:
        self.parent = parent
        self.alive = True

    def process_primitive(self, prim: Primitive, args: Sequence[Any], params: dict) -> Any:
        raise NotImplementedError

    def process_binary(self, prim: Primitive, x: Any, y: Any) -> Any:
        """``process_primitive`` of a two-operand primitive without params (a tracer's
        ``+ - * / <``); a trace may override it with a shorter path for scalar code."""
        return self.process_primitive(prim, (x, y), {})

    def process_unary(self, prim: Primitive, x: Any) -> Any:
        """``process_binary`` for one operand (``-x``, ``abs(x)``)."""
        return self.process_primitive(prim, (x,), {})

    def owns(self, x: Any) -> bool:
        """True if ``x`` is a tracer of this trace (not of an enclosing or nested one)."""
        return isinstance(x, Tracer) and x._trace is self

    def process_custom(self, call: "CustomCall", args: Sequence[Any]) -> Any:
        """A function with a custom derivative (see :class:`CustomCall`). Traces that
        do not differentiate, batch or stage simply run its body."""
        return call.fun(*args)

    def delegate_custom(self, call: "CustomCall", args: Sequence[Any]) -> Any:
        """Hand a custom-rule call that holds none of this trace's tracers to the parent."""
        parent = self.parent
        assert parent is not None
        return call_under(parent, parent.process_custom, call, args)

    def process_effect(self, prim: Primitive, args: Sequence[Any], params: dict) -> Any:
        """An effectful primitive (``debug.print``) on values none of which is traced:
        staged by the nearest enclosing trace that builds a program (jit), so that it
        runs on every call, else run now."""
        if self.parent is None:
            return prim.impl(*args, **params)
        return self.parent.process_effect(prim, args, params)

    def __repr__(self) -> str:
        return type(self).__name__


class EvalTrace(Trace):
    """The bottom of every stack: runs NumPy. Any tracer reaching it has leaked."""

    __slots__ = ()

    def process_primitive(self, prim: Primitive, args: Sequence[Any], params: dict) -> Any:
        for a in args:
            if isinstance(a, Tracer):
                raise_leaked(a, prim.name)
        out = prim.impl(*args, **params)
        if nan_check.flags.nans:
            nan_check.check(prim, args, out)
        return out


EVAL_TRACE = EvalTrace(None)


class _Context(threading.local):
    def __init__(self) -> None:
        self.trace: Trace = EVAL_TRACE
        #: what runs the operations of this thread if not the user's code, for the sites
        #: that staging records (``frames.staging_site``): a sweep or a jaxpr evaluated
        self.origin: Sweep | Replay | None = None


_ctx = _Context()


def call_without_gc(fun: Any, *args: Any) -> Any:
    """``fun(*args)`` with Python's cyclic garbage collector paused, then resumed.

    A tape holds one tracked object per operation and makes no reference cycles
    (memory is freed by reference counting), but the collector would still walk
    the growing tape again and again: on a 100,000-operation chain that made each
    operation ~1.5x dearer. Garbage cycles made by user code are collected after.

    Interrupt-safe: the collector is re-enabled in a ``finally`` of this frame, with
    no Python call before it, so a ``KeyboardInterrupt`` (or any exception) raised at
    any point leaves it enabled. A ``with`` block could not promise that: CPython may
    run a signal handler on entry to ``__exit__``, before its first line.
    """
    if not gc.isenabled():  # paused further out (nested transforms): nothing to undo
        return fun(*args)
    try:
        gc.disable()
        return fun(*args)
    finally:
        gc.enable()


def current_trace() -> Trace:
    return _ctx.trace


def call_under(trace: Trace, fun: Any, *args: Any) -> Any:
    """``fun(*args)`` with ``trace`` current; the previous trace is current again after,
    however ``fun`` ends.

    Interrupt-safe: the previous trace is read before anything changes and restored
    in a ``finally`` of this frame, with no Python call before the restore, so an
    exception arriving at any point (a ``KeyboardInterrupt`` from a signal handler
    included) never leaves a stale current trace. Prefer this to :class:`set_current`.
    """
    ctx = _ctx
    prev = ctx.trace
    try:
        ctx.trace = trace
        return fun(*args)
    finally:
        ctx.trace = prev


class set_current:
    """Context manager making ``trace`` current; restores the previous one.

    For tests and interactive use. xform itself uses :func:`call_under`: a signal
    handler can raise on entry to ``__exit__``, before the restore runs.
    """

    __slots__ = ("trace", "prev")

    def __init__(self, trace: Trace) -> None:
        self.trace = trace

    def __enter__(self) -> Trace:
        self.prev = _ctx.trace
        _ctx.trace = self.trace
        return self.trace

    def __exit__(self, *exc: Any) -> None:
        _ctx.trace = self.prev


def new_trace(cls: type, *extra: Any) -> Any:
    """Make a trace of type ``cls`` whose parent is the current trace."""
    return cls(_ctx.trace, *extra)


def bind(prim: Primitive, *args: Any, **params: Any) -> Any:
    """Apply ``prim``: through the current trace if any operand is traced.

    When the operation fails on an operand that is no array at all (None, a string, a
    generator, an arbitrary object), the error says so instead of NumPy's internals."""
    try:
        for a in args:
            if isinstance(a, Tracer):
                return _ctx.trace.process_primitive(prim, args, params)
        if prim.effectful:  # a print of constants, staged where a program is built
            return _ctx.trace.process_effect(prim, args, params)
        out = prim.impl(*args, **params)
    except (TypeError, ValueError) as e:
        # only xform's own (registered) primitives take arrays alone as operands: a
        # user's extend.primitive may take strings or objects positionally
        if isinstance(e, NonArrayError) or registry.get(prim.name) is not prim:
            raise
        for i, a in enumerate(args):
            if _foreign_operand(a):
                raise non_array_error(f"`{prim.name}`", f"operand {i}", a, _ARRAY_LIKE) from e
        raise
    if nan_check.flags.nans:
        nan_check.check(prim, args, out)
    return out


#: NumPy converts a value it writes into one of its arrays (``a[i] = x``): what to do
#: instead, added to the conversion errors (NumPy's own ValueError names only a sequence)
_WRITE_HINT = (" Writing it into a NumPy array (`a[i] = x`) is such a conversion: use "
               "`a = xform.numpy.at(a)[i].set(x)`, or build the array with "
               "`xform.numpy.stack`/`concatenate`.")


#: operands that a tracer's operator hands to the trace as they are (anything else goes
#: through the xform.numpy function: a list becomes an array, None gets its error)
_DIRECT_OPERANDS = frozenset({float, int, bool, complex, np.ndarray, np.float64, np.float32,
                              np.int64, np.int32, np.complex128, np.bool_})


def operator_method(prim: Primitive, fallback: Any, reflected: bool = False) -> Any:
    """A Python operator of :class:`Tracer` for ``prim`` (``x * y``, ``y * x`` with
    ``reflected``), the same as ``fallback`` (the xform.numpy function) but, for an
    operand that needs no conversion, straight to the current trace: two calls fewer
    on every traced ``+``, ``*``... (eager gradients of scalar code are mostly these)."""
    direct = _DIRECT_OPERANDS
    ctx = _ctx
    if reflected:
        def method(self: Any, other: Any) -> Any:
            if other.__class__ in direct or isinstance(other, Tracer):
                return ctx.trace.process_binary(prim, other, self)
            return fallback(other, self)
    else:
        def method(self: Any, other: Any) -> Any:
            if other.__class__ in direct or isinstance(other, Tracer):
                return ctx.trace.process_binary(prim, self, other)
            return fallback(self, other)
    method.__name__ = method.__qualname__ = getattr(fallback, "__name__", prim.name)
    method.__doc__ = fallback.__doc__
    return method


def unary_operator_method(prim: Primitive, fallback: Any) -> Any:
    """:func:`operator_method` for ``-x``, ``abs(x)``."""
    ctx = _ctx

    def method(self: Any) -> Any:
        return ctx.trace.process_unary(prim, self)
    method.__name__ = method.__qualname__ = getattr(fallback, "__name__", prim.name)
    method.__doc__ = fallback.__doc__
    return method


class CustomCall:
    """A call of a function whose derivative the user supplies (``custom_jvp``,
    ``custom_vjp``, ``checkpoint``), on flat lists of arrays.

    Each transform asks the call what to do, so the knowledge of custom rules lives
    with the rules (``xform.custom``), not in the interpreters. The methods run with
    the parent of the asking trace current, on values already unboxed:

    * ``fun(*args) -> list``: the function itself (ordinary code);
    * ``jvp(primals, tangents) -> (outs, tangents_out)``, ``None`` tangents are zeros;
    * ``reverse(primals, needs) -> (outs, pullback, push)``: the outputs, and rules for
      the recorded call, ``pullback(cts, needs)`` (reverse) and ``push(tangents)``
      (forward along the recorded values, for linearize);
    * ``batch(vals, dims) -> outs``: the batched call, outputs batched along axis 0;
    * ``stage(args) -> outs``: the call as one equation of the trace being built.
    """

    __slots__ = ()
    name = "custom"

    def fun(self, *args: Any) -> list[Any]:
        raise NotImplementedError

    def jvp(self, primals: Sequence[Any], tangents: Sequence[Any]) -> tuple[list[Any], list[Any]]:
        raise NotImplementedError

    def reverse(self, primals: Sequence[Any], needs: Sequence[bool]) -> tuple[list[Any], Any, Any]:
        raise NotImplementedError

    def batch(self, vals: Sequence[Any], dims: Sequence[int | None]) -> list[Any]:
        raise NotImplementedError

    def stage(self, args: Sequence[Any]) -> list[Any]:
        raise NotImplementedError


def bind_custom(call: CustomCall, args: Sequence[Any]) -> Any:
    """Apply a custom-rule call to flat ``args``: through the current trace if any is
    traced, else by running the function."""
    for a in args:
        if isinstance(a, Tracer):
            return _ctx.trace.process_custom(call, args)
    return call.fun(*args)


def run_traced(trace: Trace, fun: Any, args: Sequence[Any]) -> Any:
    """``fun(*args)`` with ``trace`` current. When it returns (or raises) the trace is
    over: its tracers still held anywhere count as leaked from then on. Interrupt-safe
    in the way of :func:`call_under`."""
    fp_warnings = FPWarningsAtUserLine()
    try:
        fp_warnings.__enter__()
        return call_under(trace, fun, *args)
    finally:
        trace.alive = False
        fp_warnings.__exit__(None, None, None)


# ----------------------------------------------------------------------------
# errors


class TracerError(Exception):
    """Base class of the errors raised when traced values are misused.

    >>> import xform
    >>> issubclass(xform.ConcretizationError, xform.TracerError)
    True
    """


class LeakedTracerError(TracerError):
    """A tracer was used after the transform that made it had returned.

    >>> import xform, xform.numpy as np
    >>> kept = []
    >>> _ = xform.grad(lambda x: kept.append(x) or x)(1.0)
    >>> np.sin(kept[0])   # doctest: +ELLIPSIS
    Traceback (most recent call last):
    xform.core.trace.LeakedTracerError: Leaked tracer: ...
    """


class ConcretizationError(TracerError, TypeError):
    """A concrete Python value was needed from an abstract (shape-only) tracer.

    >>> import xform
    >>> xform.jit(lambda x: 1.0 if x > 0 else 0.0)(1.0)   # doctest: +ELLIPSIS
    Traceback (most recent call last):
    xform.core.trace.ConcretizationError: ...
    """


def raise_leaked(tracer: "Tracer", where: str) -> None:
    raise LeakedTracerError(
        f"Leaked tracer: `{where}` received {tracer!r}, a traced value created inside a "
        f"transform ({trace_name(tracer)}) that has already returned. Traced "
        "values are only valid inside the function being transformed; return the value "
        "from that function (or pass it as an argument) instead of storing it in a "
        "global, a closure or an attribute.")


def trace_name(tracer: "Tracer") -> str:
    """The name of the transform a tracer belongs to (for messages)."""
    return getattr(tracer._trace, "name", type(tracer._trace).__name__)


# ----------------------------------------------------------------------------
# tracers


class Tracer:
    """Base of traced values. Operators and ndarray methods are attached by
    ``xform.numpy`` so that the core does not depend on the NumPy layer."""

    __slots__ = ("_trace",)
    _trace: Trace
    __array_priority__ = 1000
    __hash__ = object.__hash__  # identity; the operators redefine __eq__

    @property
    def aval(self) -> ShapedArray:
        raise NotImplementedError

    @property
    def shape(self) -> tuple[int, ...]:
        return self.aval.shape

    @property
    def dtype(self) -> np.dtype:
        return self.aval.dtype

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    def concrete_value(self, what: str) -> Any:
        """The NumPy value behind this tracer, or a clear error if it has none."""
        raise NotImplementedError

    def _concrete(self, what: str) -> Any:
        if not self._trace.alive:
            raise_leaked(self, what)
        return self.concrete_value(what)

    def __bool__(self) -> bool:
        return bool(self._concrete("bool()"))

    def _scalar(self, what: str) -> Any:
        """The concrete value for a conversion to a Python number. Converting a
        floating-point value would silently drop its derivative, so that raises."""
        value = self._concrete(what)
        if np.issubdtype(np.result_type(value), np.inexact):
            raise TypeError(
                f"{what} of a traced floating-point value ({self.short_repr()}) would silently drop "
                "its derivative. Keep it an array and use xform.numpy functions (e.g. "
                "np.sin instead of math.sin), or apply xform.stop_gradient first if it "
                "really is a constant. (Comparisons such as `if x > 0` are fine.)"
                + _WRITE_HINT)
        return value

    def __float__(self) -> float:
        return float(self._scalar("float()"))

    def __int__(self) -> int:
        return int(self._concrete("int()"))

    def __complex__(self) -> complex:
        return complex(self._scalar("complex()"))

    def __format__(self, spec: str) -> str:
        if not self._trace.alive or not spec:
            return repr(self)
        return format(self._concrete("format()"), spec)

    def __index__(self) -> int:
        return int(np.asarray(self._concrete("an index")).__index__())

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of a 0-d (scalar) traced array")
        return self.shape[0]

    def __iter__(self) -> Iterator[Any]:
        if not self.shape:
            raise TypeError("iteration over a 0-d (scalar) traced array")
        for i in range(self.shape[0]):
            yield self[i]  # type: ignore[index]

    # Traced values are immutable, so a copy is the value itself: that keeps it on its
    # transform's tape (a fresh object would carry no derivative) and keeps deepcopy
    # of a pytree of them (a params dict inside a loss) working.
    def __copy__(self) -> "Tracer":
        return self

    def __deepcopy__(self, memo: dict) -> "Tracer":
        return self

    def __reduce__(self) -> Any:
        raise TypeError(
            f"Cannot pickle a traced value {self!r}: it only exists while its transform "
            "runs. Return it from the transformed function and pickle the result.")

    def __setitem__(self, idx: Any, value: Any) -> None:
        raise TypeError(
            "Traced arrays are immutable: item assignment `x[idx] = v` is not supported "
            "inside a transform. Use the functional form `x = x.at[idx].set(v)` "
            "(or `.add`, `.multiply`, `.min`, `.max`), which returns a new array.")

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        if self.dtype.kind in "iub":
            raise TypeError(
                f"A traced integer/boolean value {self.short_repr()} was used where NumPy needs a "
                "concrete array. The usual cause is indexing a plain NumPy array with a "
                "traced index (`table[i]`): write `xform.numpy.take(table, i, axis=0)` or "
                "`xform.numpy.at(table)[i].get()` instead, which accept traced indices.")
        raise TypeError(
            f"Cannot convert a traced value {self.short_repr()} to a NumPy array: that would drop "
            "its derivative. Use `xform.numpy` (import xform.numpy as np) for the "
            "operation, or `xform.stop_gradient` if the value really is a constant."
            + _WRITE_HINT)

    def inner(self) -> Any:
        """The value this tracer wraps (a primal, a stacked batch), or None when it has
        none (abstract tracing). New arrays made for a tracer (zeros, bases) take that
        value's array kind: see :func:`like_value`."""
        return None

    def known_value(self) -> Any:
        """The value behind this tracer if the transform knows one (grad, jvp, an
        unbatched vmap value), else None (jit/make_jaxpr tracing, a batched value)."""
        try:
            return self.concrete_value("repr()")
        except ConcretizationError:
            return None

    def short_repr(self) -> str:
        """Type and transform only: ``Traced<f64[3]>(by grad)``."""
        state = "" if self._trace.alive else ", leaked"
        return f"Traced<{self.aval.str_short()}>(by {trace_name(self)}{state})"

    def __repr__(self) -> str:
        # As autograd and JAX do, show the value where the transform has one, so that
        # print() debugging works inside grad/jvp/vmap.
        head = self.short_repr()
        if not self._trace.alive:
            return head
        value = self.known_value()
        if value is None:
            return head
        return f"{head} with value{format_value(value)}"

    __str__ = __repr__


def like_value(x: Any) -> Any:
    """The array behind ``x`` through any tracers: what zeros, ones and bases made for
    ``x`` are made like (NumPy, Dask, CuPy). None under abstract tracing."""
    while isinstance(x, Tracer):
        x = x.inner()
    return x


def format_value(value: Any) -> str:
    """A value for a tracer's repr, after a space or on lines of its own: NumPy's
    printing, summarised when large. Another library's array (Dask, CuPy) shows its type
    and shape: printing its values would compute it or copy it to the host."""
    if is_foreign(value):
        return f" of type {type_name(value)} and shape {tuple(value.shape)}"
    text = np.array2string(np.asarray(value), threshold=40, edgeitems=3)
    return " " + text if "\n" not in text else "\n" + text


def concretization_message(tracer: Tracer, what: str, reason: str) -> str:
    """The error text for a concrete value requested from an abstract tracer."""
    return (
        f"{what} needs a concrete value, but got an abstract traced value of type "
        f"{tracer.aval.str_short()} at {user_frame()}. {reason} Python `if`/`while` "
        "and conversions cannot depend on array values here: use "
        "`xform.numpy.where` or `xform.lax.cond`/`xform.lax.while_loop` for "
        "value-dependent control flow, or make the argument static "
        "(`jit(f, static_argnums=...)`).")


_ARRAY_LEAVES = (np.ndarray, np.generic, bool, int, float, complex)
_ARRAY_PROTOCOLS = ("__array__", "__array_interface__", "__array_namespace__",
                    "__array_function__", "__cuda_array_interface__")


def _foreign_operand(x: Any) -> bool:
    """An operand NumPy cannot read as array_like (sequences and slices it can)."""
    return not is_array_like(x) and not isinstance(x, (list, tuple, slice, type(Ellipsis),
                                                        range, np.dtype, type))


def is_array_like(x: Any) -> bool:
    """True for what a transform can treat as an array leaf: NumPy arrays and scalars,
    Python numbers, tracers, and objects speaking an array protocol (Dask, CuPy...)."""
    if isinstance(x, _ARRAY_LEAVES) or isinstance(x, Tracer):
        return True
    if x is None or isinstance(x, (str, bytes)):
        return False
    t = type(x)
    return any(hasattr(t, name) for name in _ARRAY_PROTOCOLS)


class NonArrayError(TypeError):
    """A value that is not an array (None, a string, a generator, an object) was given
    where an array is needed."""


_PYTREES_OF_ARRAYS = ("NumPy arrays and scalars, Python numbers, and pytrees of them "
                      "(tuples, lists, dicts, None, registered classes)")
_ARRAY_LIKE = "arrays, NumPy scalars, Python numbers, and (nested) lists or tuples of them"


def non_array_error(who: str, where: str, x: Any, accepted: str = _PYTREES_OF_ARRAYS
                    ) -> TypeError:
    """The error for a value that is not an array where one is needed: it says what the
    value is, what is accepted and what to do."""
    if hasattr(type(x), "__next__") or type(x).__name__ == "generator":
        what, fix = (f"an iterator ({type(x).__name__})",
                     "Materialise it first: a list or tuple (a pytree), or "
                     "np.array(list(...)).")
    elif isinstance(x, (str, bytes)):
        what, fix = (f"a {type(x).__name__} ({x!r:.40})",
                     "Pass non-array values through a closure or functools.partial, or "
                     "leave them out of argnums (static_argnums for jit).")
    elif x is None:
        what, fix = "None", "Pass an array, or leave the argument out."
    else:
        what, fix = (f"an object of type {type(x).__module__}.{type(x).__qualname__}",
                     "Pass arrays (e.g. its array data) instead, register its class as a "
                     "pytree node (xform.tree_util.register_pytree_node or "
                     "register_dataclass), or pass it through a closure or "
                     "functools.partial.")
    return NonArrayError(
        f"{who}: {where} is {what}, which is not an array. Accepted are {accepted}. {fix}")


def add_any(a: Any, b: Any) -> Any:
    """Sum two tangents/cotangents where ``None`` is a symbolic zero."""
    if a is None:
        return b
    if b is None:
        return a
    return a + b


def to_numpy_value(x: Any) -> Any:
    """A plain value as a NumPy array or NumPy scalar (Python scalars promoted). An
    array of another library (Dask, CuPy) is left as it is: its operations dispatch to
    that library, and converting it would copy it to host memory."""
    if isinstance(x, (np.ndarray, np.generic, Tracer)) or is_foreign(x):
        return x
    arr = np.asarray(x)
    return arr[()] if arr.ndim == 0 else arr
