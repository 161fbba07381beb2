"""The transforms users call: argument handling around the interpreters."""
from __future__ import annotations

import functools
import inspect
from typing import Any, Callable, Sequence

import numpy as np

from .core.ir import ClosedJaxpr, ShapedArray
from .core.staging import trace_to_jaxpr
from .core.trace import Tracer, current_trace, gc_paused, set_current, to_numpy_value
from .interpreters.jvp import JVPTrace, JVPTracer
from .interpreters.vjp import TapeTrace, TapeTracer, backward_pass, forward_pass
from .numpy import _elementwise as E
from .numpy._elementwise import stop_gradient
from .core.rules import dtype_of, shape_of
from .tree_util import PyTreeDef, tree_flatten, tree_map, tree_unflatten

Fun = Callable[..., Any]


def _fun_name(fun: Any) -> str:
    return getattr(fun, "__name__", repr(fun))


def _argnums_tuple(argnums: int | Sequence[int], nargs: int, fun: Fun, who: str) -> tuple[int, ...]:
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    for i in nums:
        if not -nargs <= i < nargs:
            raise ValueError(f"{who}: argnums={argnums!r} but `{_fun_name(fun)}` was called "
                             f"with {nargs} positional argument(s)")
    return tuple(i % nargs for i in nums)


def _check_differentiable(leaves: Sequence[Any], who: str, holomorphic: bool | None,
                          allow_int: bool) -> list[bool]:
    """Which leaves get a derivative; a clear TypeError for the ones that can't.
    ``holomorphic=None`` accepts real and complex inputs alike (reverse mode: grad,
    vjp, jacrev, as in JAX); ``False`` refuses complex inputs (forward mode)."""
    keep = []
    for x in leaves:
        dt = dtype_of(x)
        if dt.kind == 'c' and holomorphic is False:
            raise TypeError(f"{who} requires real-valued inputs (a floating dtype), got {dt}. "
                            "For complex inputs of a holomorphic function pass "
                            "holomorphic=True.")
        if not dt.kind in 'fc':
            if allow_int:
                keep.append(False)
                continue
            raise TypeError(
                f"{who} requires floating-point inputs, but got an argument of dtype {dt}. "
                "Convert it with `.astype(float)` (e.g. pass 1.0 rather than 1), exclude it "
                "with argnums, or pass allow_int=True to get a zero gradient for it.")
        if holomorphic and not dt.kind == 'c':
            raise TypeError(f"{who} with holomorphic=True requires complex inputs, got {dt}.")
        keep.append(True)
    return keep


def _describe(x: Any) -> str:
    """A user-facing description of a value (no internal tracer class names)."""
    if isinstance(x, Tracer):
        return f"an array of shape {x.shape}"
    if isinstance(x, (list, tuple)):
        return f"a {type(x).__name__} of length {len(x)}"
    return f"a {type(x).__name__}"


def _unbox(x: Any, trace: Any) -> Any:
    """The value of a tracer of ``trace``; anything else unchanged."""
    if isinstance(trace, TapeTrace) and trace.owns(x):
        return x.val
    if isinstance(x, JVPTracer) and x._trace is trace:
        return x.primal
    return x


def _as_output(x: Any, like: Any = None) -> Any:
    """A result handed back to the user: writable, with the input's dtype."""
    if like is not None and dtype_of(x) != dtype_of(like):
        dt = dtype_of(like)
        if dtype_of(x).kind == 'c' and dt.kind != 'c':
            # a real input's cotangent is the real part (JAX's convention)
            from .numpy import real
            x = real(x)
        if isinstance(x, Tracer):
            x = E.astype(x, dt)
        elif dtype_of(x) != dt:
            x = np.asarray(x).astype(dt)
    if isinstance(x, np.ndarray) and not x.flags.writeable:
        x = x.copy()
    return x


def _zeros(like: Any) -> Any:
    return np.zeros(shape_of(like), dtype_of(like))


def _replace_args(args: tuple[Any, ...], nums: Sequence[int], new: Sequence[Any]) -> list[Any]:
    out = list(args)
    for i, v in zip(nums, new):
        out[i] = v
    return out


# ---------------------------------------------------------------------------- reverse mode
def _vjp_record(fun: Fun, args: Sequence[Any], nums: Sequence[int], kwargs: dict,
                who: str, holomorphic: bool | None = False, allow_int: bool = False
                ) -> tuple[TapeTrace, Any, list[Any], list[Any], PyTreeDef]:
    """Run ``fun`` recording a tape; returns (trace, raw output, input tracers or
    None per leaf, leaves, treedef of the differentiated arguments)."""
    leaves, treedef = tree_flatten([args[i] for i in nums])
    leaves = [to_numpy_value(x) for x in leaves]
    keep = _check_differentiable(leaves, who, holomorphic, allow_int)
    trace = TapeTrace(current_trace())
    boxed = [TapeTracer(x, trace) if k else None for x, k in zip(leaves, keep)]
    new_args = tree_unflatten(treedef, [b if b is not None else x
                                        for b, x in zip(boxed, leaves)])
    try:
        with gc_paused(), set_current(trace):
            out = fun(*_replace_args(tuple(args), nums, new_args), **kwargs)
    finally:
        trace.alive = False
    return trace, out, boxed, leaves, treedef


def value_and_grad(fun: Fun, argnums: int | Sequence[int] = 0, has_aux: bool = False,
                   holomorphic: bool = False, allow_int: bool = False) -> Fun:
    """Like :func:`grad`, returning ``(value, gradient)``
    (``((value, aux), gradient)`` with ``has_aux``)."""

    @functools.wraps(fun)
    def value_and_grad_f(*args: Any, **kwargs: Any) -> Any:
        nums = _argnums_tuple(argnums, len(args), fun, "grad")
        # complex inputs are fine for a real-valued function (JAX's convention); with
        # holomorphic=True they are required
        trace, out, boxed, leaves, treedef = _vjp_record(
            fun, args, nums, kwargs, "grad", True if holomorphic else None, allow_int)
        if has_aux:
            if not (isinstance(out, (tuple, list)) and len(out) == 2):
                raise TypeError("with has_aux=True the function must return a pair "
                                f"(output, aux), got {_describe(out)}")
            out, aux = out
            aux = tree_map(lambda x: _unbox(x, trace), aux)
        if isinstance(out, (list, tuple, dict)) or shape_of(out) != ():
            shape = "a " + type(out).__name__ if isinstance(out, (list, tuple, dict)) \
                else f"shape {shape_of(out)}"
            hint = ""
            if isinstance(out, tuple) and len(out) == 2 and not has_aux:
                hint = (" If the function returns (loss, auxiliary data), pass "
                        "has_aux=True.")
            raise TypeError(
                f"grad requires a scalar (0-d) output, but `{_fun_name(fun)}` returned "
                f"{shape}. Reduce it to a scalar first (e.g. `.sum()` or `.mean()`), use "
                "xform.jacobian/jacrev for the full Jacobian, or xform.vjp for a "
                f"vector-Jacobian product.{hint}")
        out_dt = dtype_of(out)
        if not out_dt.kind in 'fc':
            raise TypeError(f"grad requires a floating-point output, got dtype {out_dt}.")
        if out_dt.kind == 'c' and not holomorphic:
            raise TypeError("grad requires a real-valued output; for a holomorphic "
                            "function pass holomorphic=True (for other complex-valued "
                            "functions use xform.vjp).")
        if holomorphic and out_dt.kind != 'c':
            raise TypeError("grad with holomorphic=True requires a complex-valued output; "
                            "for a real-valued function of complex inputs drop "
                            "holomorphic=True.")
        value = _unbox(out, trace)
        cts: dict[Any, Any] = {}
        if trace.owns(out):
            with gc_paused():
                cts = backward_pass(trace, [(out, np.ones((), out_dt)[()])], consume=True)
        grads = [_as_output(cts[b], x) if b is not None and b in cts else _zeros(x)
                 for b, x in zip(boxed, leaves)]
        g = tree_unflatten(treedef, grads)
        g = g[0] if isinstance(argnums, int) else tuple(g)
        value = _as_output(value)
        return ((value, aux), g) if has_aux else (value, g)

    return value_and_grad_f


def grad(fun: Fun, argnums: int | Sequence[int] = 0, has_aux: bool = False,
         holomorphic: bool = False, allow_int: bool = False) -> Fun:
    """Gradient of a scalar function w.r.t. argument(s) ``argnums``, by reverse mode.

    >>> import xform, xform.numpy as np
    >>> float(xform.grad(np.tanh)(0.0))
    1.0
    """
    vg = value_and_grad(fun, argnums, has_aux, holomorphic, allow_int)

    @functools.wraps(fun)
    def grad_f(*args: Any, **kwargs: Any) -> Any:
        if has_aux:
            (_, aux), g = vg(*args, **kwargs)
            return g, aux
        return vg(*args, **kwargs)[1]

    return grad_f


def elementwise_grad(fun: Fun, argnum: int = 0) -> Fun:
    """Autograd's ``elementwise_grad``: the gradient of ``sum(fun(x))``, i.e. the
    derivative of each output w.r.t. its own input for elementwise functions."""
    def summed(*args: Any, **kwargs: Any) -> Any:
        from .numpy import sum as xsum
        return xsum(fun(*args, **kwargs))
    return grad(summed, argnum)


def _positional(fun: Fun, args: tuple[Any, ...], kwargs: dict) -> tuple[list[str], list[Any]]:
    sig = inspect.signature(fun)
    bound = sig.bind(*args, **kwargs)
    bound.apply_defaults()
    return list(bound.arguments), list(bound.arguments.values())


def grad_named(fun: Fun, argname: str) -> Fun:
    """Gradient w.r.t. the argument called ``argname`` (autograd's ``grad_named``)."""

    @functools.wraps(fun)
    def grad_named_f(*args: Any, **kwargs: Any) -> Any:
        names, values = _positional(fun, args, kwargs)
        if argname not in names:
            raise ValueError(f"`{_fun_name(fun)}` has no argument named {argname!r}; "
                             f"its arguments are {names}")
        return grad(lambda *a: fun(*a), names.index(argname))(*values)

    return grad_named_f


def multigrad_dict(fun: Fun) -> Fun:
    """A dict ``{argname: gradient}`` for every argument (autograd's ``multigrad_dict``)."""

    def multigrad_f(*args: Any, **kwargs: Any) -> dict[str, Any]:
        names, values = _positional(fun, args, kwargs)
        gs = grad(lambda *a: fun(*a), tuple(range(len(values))))(*values)
        return dict(zip(names, gs))

    return multigrad_f


def vjp(fun: Fun, *primals: Any, has_aux: bool = False) -> Any:
    """``(out, vjp_fn)``: ``vjp_fn(ct)`` returns one cotangent per primal (a tuple).

    The forward values are recorded once; ``vjp_fn`` may be called many times.
    """
    nums = tuple(range(len(primals)))
    # integer inputs are allowed (as in JAX) and get zero cotangents; complex inputs
    # get the transpose of the (complex-linear) JVP, JAX's convention
    trace, out, boxed, leaves, treedef = _vjp_record(fun, primals, nums, {}, "vjp",
                                                     holomorphic=None, allow_int=True)
    aux = None
    if has_aux:
        out, aux = out
        aux = tree_map(lambda x: _unbox(x, trace), aux)
    out_leaves, out_tree = tree_flatten(out)
    values = [_as_output(_unbox(o, trace)) for o in out_leaves]

    def vjp_fn(ct: Any) -> tuple[Any, ...]:
        ct_leaves, ct_tree = tree_flatten(ct)
        if ct_tree != out_tree:
            raise ValueError(f"vjp_fn: the cotangent must have the structure of the output "
                             f"{out_tree}, got {ct_tree}")
        seeds = []
        for o, c in zip(out_leaves, ct_leaves):
            if shape_of(c) != shape_of(o):
                raise ValueError(f"vjp_fn: cotangent of shape {shape_of(c)} for an output "
                                 f"of shape {shape_of(o)}")
            if trace.owns(o):
                seeds.append((o, to_numpy_value(c)))
        with gc_paused():
            cts = backward_pass(trace, seeds)
        grads = [_as_output(cts[b], x) if b is not None and b in cts else _zeros(x)
                 for b, x in zip(boxed, leaves)]
        return tuple(tree_unflatten(treedef, grads))

    result = tree_unflatten(out_tree, values)
    return (result, vjp_fn, aux) if has_aux else (result, vjp_fn)


# ---------------------------------------------------------------------------- forward mode
def jvp(fun: Fun, primals: Sequence[Any], tangents: Sequence[Any]) -> tuple[Any, Any]:
    """Forward mode: ``(fun(*primals), J @ tangents)``, pytrees in and out."""
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError("jvp expects primals and tangents as tuples (or lists) of "
                        "arguments, e.g. jvp(f, (x,), (v,))")
    p_leaves, p_tree = tree_flatten(list(primals))
    t_leaves, t_tree = tree_flatten(list(tangents))
    if p_tree != t_tree:
        raise ValueError(f"jvp: primals and tangents must have the same structure, got "
                         f"{p_tree} and {t_tree}")
    p_leaves = [to_numpy_value(x) for x in p_leaves]
    trace = JVPTrace(current_trace())
    boxed = []
    for p, t in zip(p_leaves, t_leaves):
        t = to_numpy_value(t)
        if shape_of(t) != shape_of(p):
            raise ValueError(f"jvp: tangent of shape {shape_of(t)} for a primal of shape "
                             f"{shape_of(p)}")
        if not dtype_of(p).kind in 'fc':
            boxed.append(p)  # integer inputs carry no tangent
            continue
        if dtype_of(t) != dtype_of(p):
            t = E.astype(t, dtype_of(p))
        boxed.append(JVPTracer(p, t, trace))
    try:
        with set_current(trace):
            out = fun(*tree_unflatten(p_tree, boxed))
    finally:
        trace.alive = False
    out_leaves, out_tree = tree_flatten(out)
    primals_out, tangents_out = [], []
    for o in out_leaves:
        if isinstance(o, JVPTracer) and o._trace is trace:
            primals_out.append(_as_output(o.primal))
            tangents_out.append(_as_output(o.tangent, o.primal))
        else:
            primals_out.append(_as_output(o))
            tangents_out.append(_zeros(o))
    return tree_unflatten(out_tree, primals_out), tree_unflatten(out_tree, tangents_out)


def linearize(fun: Fun, *primals: Any) -> tuple[Any, Fun]:
    """``(out, jvp_fn)``: ``jvp_fn(*tangents)`` applies the Jacobian at ``primals``,
    reusing the forward values recorded once (no re-run of ``fun``)."""
    nums = tuple(range(len(primals)))
    trace, out, boxed, leaves, treedef = _vjp_record(fun, primals, nums, {}, "linearize",
                                                     holomorphic=None, allow_int=True)
    out_leaves, out_tree = tree_flatten(out)
    values = [_as_output(_unbox(o, trace)) for o in out_leaves]

    def jvp_fn(*tangents: Any) -> Any:
        t_leaves, t_tree = tree_flatten(list(tangents))
        if t_tree != treedef:
            raise ValueError(f"linearize: tangents must have the structure of the primals "
                             f"{treedef}, got {t_tree}")
        env = forward_pass(trace, {b: to_numpy_value(t) for b, t in zip(boxed, t_leaves)
                                   if b is not None})
        outs = [_as_output(env[o], o.val) if isinstance(o, TapeTracer) and o in env
                else _zeros(v) for o, v in zip(out_leaves, values)]
        return tree_unflatten(out_tree, outs)

    return tree_unflatten(out_tree, values), jvp_fn


def make_jaxpr(fun: Fun, static_argnums: Sequence[int] = ()) -> Callable[..., ClosedJaxpr]:
    """``make_jaxpr(f)(*args)``: the IR of ``f`` traced on the shapes of ``args``.

    >>> import xform, xform.numpy as np
    >>> print(xform.make_jaxpr(np.sin)(1.0))
    { lambda ; a:f64[]. let
        b:f64[] = sin a
      in (b,) }
    """
    static = set(static_argnums)

    def make(*args: Any) -> ClosedJaxpr:
        dyn = [a for i, a in enumerate(args) if i not in static]
        leaves, treedef = tree_flatten(dyn)
        avals = [x.aval if isinstance(x, Tracer) else ShapedArray(np.shape(x), np.result_type(x))
                 for x in leaves]
        def flat_fun(*flat: Any) -> list[Any]:
            it = iter(tree_unflatten(treedef, list(flat)))
            full = [a if i in static else next(it) for i, a in enumerate(args)]
            return tree_flatten(fun(*full))[0]

        return trace_to_jaxpr(flat_fun, avals)

    return make


__all__ = ["grad", "value_and_grad", "elementwise_grad", "grad_named", "multigrad_dict",
           "vjp", "jvp", "linearize", "stop_gradient", "make_jaxpr"]
