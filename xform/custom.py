"""User-supplied derivatives, in one place: ``custom_jvp``, ``custom_vjp``,
``checkpoint`` and autograd-style ``primitive`` with ``defvjp``/``defjvp``.

``custom_jvp``, ``custom_vjp`` and ``checkpoint`` follow JAX's semantics. Each call
of such a function becomes a :class:`~xform.core.trace.CustomCall` object that every
transform asks what to do (``jvp``, ``reverse``, ``batch``, ``stage``), so the
interpreters know nothing about the kinds of rules:

* a ``custom_jvp`` rule serves forward mode directly, and reverse mode too: its
  tangent computation is recorded and transposed;
* a ``custom_vjp`` rule serves reverse mode only; forward mode raises a clear error;
* ``checkpoint`` keeps only the inputs for reverse mode and recomputes the rest;
* under vmap the function and its rule are batched together (the rule is kept);
* under make_jaxpr/jit the call is one ``custom_call`` equation that keeps the rule.

Traced values must reach these functions as arguments, not through closures.

``primitive`` wraps NumPy-level code as an opaque primitive whose rules the user
declares, autograd style (``xform.extend`` is its public namespace).

Layering: this module sits on the core and the interpreters' flat entries; array
work on possibly traced values goes through NumPy's functions, which dispatch on
tracers, so nothing here imports the NumPy family.
"""
from __future__ import annotations

import functools
import inspect
from typing import Any, Callable, ParamSpec, Sequence, TypeVar

import numpy as np

from .core.ir import ClosedJaxpr, Jaxpr, aval_of
from .core.primitive import Primitive
from .core.rules import (batch_by_loop, batch_size, check_tangent_type, instantiate,
                         shape_of, zeros_like)
from .core.rules import defjvp as _defjvp
from .core.rules import defvjp as _defvjp
from .core.staging import trace_to_jaxpr
from .core.trace import CustomCall, Tracer, bind, bind_custom, call_without_gc, is_array_like
from .interpreters.batching import vmap_flat
from .interpreters.eval import eval_jaxpr
from .interpreters.jvp import jvp_flat
from .interpreters.vjp import Recording, vjp_flat
from .tree_util import tree_flatten, tree_leaves, tree_structure, tree_unflatten

Fun = Callable[..., Any]
_P = ParamSpec("_P")
_R = TypeVar("_R")


def _name(fun: Any) -> str:
    return getattr(fun, "__name__", repr(fun))


def _keep_needed(cts: Sequence[Any], needs: Sequence[bool]) -> list[Any]:
    return [c if n else None for c, n in zip(cts, needs)]


def custom_vjp_forward_error(name: str) -> TypeError:
    """The error for forward mode through a function whose rule is a custom VJP."""
    return TypeError(
        f"`{name}` has a custom_vjp rule, which only supports reverse mode (grad, vjp, "
        "jacrev, and forward-over-reverse such as hessian); forward mode through it (jvp, "
        "jacfwd, linearize) cannot use it. Define the derivative with custom_jvp instead, "
        "which serves both modes.")


def _batched(fun: Fun, dims: Sequence[int | None], size: int) -> Fun:
    """``fun`` (flat in and out) vectorised over ``dims``; outputs batched in front."""
    return lambda *a: vmap_flat(fun, a, dims, size, 0)


# ---------------------------------------------------------------------------- the calls
class _Call(CustomCall):
    """What every kind of call shares: the function, and staging as one equation."""

    __slots__ = ("fun", "name")

    def __init__(self, fun: Fun, name: str) -> None:
        self.fun = fun  # type: ignore[method-assign]
        self.name = name

    def stage(self, args: Sequence[Any]) -> list[Any]:
        body = trace_to_jaxpr(self.fun, [aval_of(a) for a in args])
        if any(isinstance(c, Tracer) for c in body.consts):
            raise TypeError(
                f"`{self.name}` (a function with a custom derivative) uses a traced value "
                "it did not receive as an argument (a closure over a traced value). Pass "
                "that value as an argument instead.")
        return bind(custom_call_p, *args, call=self, body=body)


class JVPRuleCall(_Call):
    """A ``custom_jvp`` function: ``rule(primals, tangents) -> (outs, tangents_out)``."""

    __slots__ = ("rule",)

    def __init__(self, fun: Fun, rule: Fun, name: str) -> None:
        super().__init__(fun, name)
        self.rule = rule

    def jvp(self, primals: Sequence[Any], tangents: Sequence[Any]) -> tuple[list[Any], list[Any]]:
        outs, t_outs = self.rule(list(primals), instantiate(tangents, primals))
        return list(outs), list(t_outs)

    def reverse(self, primals: Sequence[Any], needs: Sequence[bool]) -> tuple[list[Any], Any, Any]:
        # The rule's tangent map is linear: record it once (at zero tangents) and
        # transpose it by sweeping the recording; the same recording pushes tangents.
        outs: list[Any] = []

        def tangent_map(*t_ins: Any) -> list[Any]:
            o, t_outs = self.rule(list(primals), list(t_ins))
            outs.extend(o)
            return list(t_outs)

        rec = call_without_gc(Recording, tangent_map, [zeros_like(p) for p in primals], needs)

        def pullback(ct: Sequence[Any], needs: Sequence[bool]) -> list[Any]:
            return _keep_needed(rec.pullback(ct), needs)

        return outs, pullback, rec.push

    def batch(self, vals: Sequence[Any], dims: Sequence[int | None]) -> list[Any]:
        size = batch_size(vals, dims)
        n = len(vals)

        def rule_flat(*pt: Any) -> list[Any]:
            o, t = self.rule(list(pt[:n]), list(pt[n:]))
            return list(o) + list(t)

        batched_rule = _batched(rule_flat, list(dims) * 2, size)

        def brule(p: Sequence[Any], t: Sequence[Any]) -> tuple[list[Any], list[Any]]:
            both = batched_rule(*p, *t)
            half = len(both) // 2
            return both[:half], both[half:]

        call = JVPRuleCall(_batched(self.fun, dims, size), brule, self.name)
        return list(bind_custom(call, list(vals)))


class VJPRuleCall(_Call):
    """A ``custom_vjp`` function: ``fwd(*args) -> (outs, residuals)`` and
    ``bwd(residuals, cts) -> cotangents``."""

    __slots__ = ("fwd", "bwd")

    def __init__(self, fun: Fun, fwd: Fun, bwd: Fun, name: str) -> None:
        super().__init__(fun, name)
        self.fwd, self.bwd = fwd, bwd

    def jvp(self, primals: Sequence[Any], tangents: Sequence[Any]) -> tuple[list[Any], list[Any]]:
        raise custom_vjp_forward_error(self.name)

    def reverse(self, primals: Sequence[Any], needs: Sequence[bool]) -> tuple[list[Any], Any, Any]:
        outs, res = self.fwd(*primals)

        def pullback(ct: Sequence[Any], needs: Sequence[bool]) -> list[Any]:
            return _keep_needed(self.bwd(res, list(ct)), needs)

        def push(tangents: Sequence[Any]) -> list[Any]:
            raise custom_vjp_forward_error(self.name)

        return list(outs), pullback, push

    def batch(self, vals: Sequence[Any], dims: Sequence[int | None]) -> list[Any]:
        size = batch_size(vals, dims)
        layout: dict[str, Any] = {}  # how the flat batched values map back to pytrees

        def fwd_flat(*a: Any) -> list[Any]:
            outs, res = self.fwd(*a)
            res_leaves, layout["res_tree"] = tree_flatten(res)
            layout["n_out"] = len(outs)
            return list(outs) + res_leaves

        def bfwd(*a: Any) -> tuple[list[Any], Any]:
            both = vmap_flat(fwd_flat, a, dims, size, 0)
            return both[:layout["n_out"]], both[layout["n_out"]:]

        def bbwd(res: Sequence[Any], cts: Sequence[Any]) -> list[Any]:
            k = len(res)
            given = [i for i, c in enumerate(cts) if c is not None]

            def bwd_flat(*rc: Any) -> list[Any]:
                full: list[Any] = [None] * len(cts)
                for i, c in zip(given, rc[k:]):
                    full[i] = c
                gs = self.bwd(tree_unflatten(layout["res_tree"], list(rc[:k])), full)
                layout["zero"] = [g is None for g in gs]
                return [g for g in gs if g is not None]

            present = iter(vmap_flat(bwd_flat, [*res, *(cts[i] for i in given)],
                                     [0] * (k + len(given)), size, 0))
            gs = [None if z else next(present) for z in layout["zero"]]
            # cotangents come back batched in front; unbatched inputs get the batch sum
            return [None if g is None else np.sum(g, axis=0) if d is None
                    else np.moveaxis(g, 0, d) for g, d in zip(gs, dims)]

        call = VJPRuleCall(_batched(self.fun, dims, size), bfwd, bbwd, self.name)
        return list(bind_custom(call, list(vals)))


class RematCall(_Call):
    """A ``checkpoint`` function: reverse mode keeps its inputs only and runs it again
    during the backward sweep; every other transform runs it as usual."""

    __slots__ = ()

    def jvp(self, primals: Sequence[Any], tangents: Sequence[Any]) -> tuple[list[Any], list[Any]]:
        return jvp_flat(self.fun, primals, tangents)

    def reverse(self, primals: Sequence[Any], needs: Sequence[bool]) -> tuple[list[Any], Any, Any]:
        saved = list(primals)

        def pullback(ct: Sequence[Any], needs: Sequence[bool]) -> list[Any]:
            _, pb = vjp_flat(self.fun, saved, needs)
            return pb(list(ct))

        def push(tangents: Sequence[Any]) -> list[Any]:
            return jvp_flat(self.fun, saved, tangents)[1]

        return list(self.fun(*saved)), pullback, push

    def batch(self, vals: Sequence[Any], dims: Sequence[int | None]) -> list[Any]:
        call = RematCall(_batched(self.fun, dims, batch_size(vals, dims)), self.name)
        return list(bind_custom(call, list(vals)))


# ---------------------------------------------------------------------------- under staging
# Inside make_jaxpr/jit a call becomes one ``custom_call`` equation that keeps the call
# object, so differentiating the staged program later still uses the user's rule. The
# equation evaluates the traced body; its rules ask the call.
def _call_impl(*args: Any, call: CustomCall, body: ClosedJaxpr) -> list[Any]:
    return eval_jaxpr(body.jaxpr, body.consts, *args)


def _call_jvp(tangents: Sequence[Any], ans: Any, args: Sequence[Any], params: dict) -> Any:
    return params["call"].jvp(args, tangents)[1]


def _call_vjp(ct: Any, ans: Any, args: Sequence[Any], params: dict,
              needs: Sequence[bool]) -> list[Any]:
    # the equation keeps no residuals: the call's forward runs again here
    _, pullback, _ = params["call"].reverse(args, needs)
    return pullback(instantiate(ct, ans), needs)


def _call_batch(vals: Sequence[Any], dims: Sequence[Any], params: dict) -> tuple[Any, Any]:
    outs = params["call"].batch(vals, dims)
    return outs, [0] * len(outs)


custom_call_p = Primitive("custom_call", _call_impl, multiple_results=True, register=False)
custom_call_p.abstract_eval = lambda *args, call, body: [v.aval for v in body.jaxpr.outvars]
custom_call_p.jvp = _call_jvp
custom_call_p.vjp = _call_vjp
custom_call_p.batch = _call_batch


def _call_lower(ctx: Any, *args: Any, call: CustomCall, body: ClosedJaxpr) -> list[Any]:
    # xform's tracing has already applied the rule: what remains to compile is the primal
    j = body.jaxpr
    return ctx.lower(Jaxpr([], j.constvars + j.invars, j.eqns, j.outvars))(*body.consts, *args)


custom_call_p.lower = _call_lower


# ---------------------------------------------------------------------------- user API
class _Signature:
    """Splits a call into non-differentiable (static) and differentiable arguments."""

    def __init__(self, fun: Fun, nondiff_argnums: Sequence[int]) -> None:
        self.fun = fun
        self.nondiff = tuple(nondiff_argnums)

    def split(self, args: tuple[Any, ...], kwargs: dict) -> tuple[list[Any], list[Any]]:
        if kwargs:
            bound = inspect.signature(self.fun).bind(*args, **kwargs)
            bound.apply_defaults()
            args = bound.args
        static = [args[i] for i in self.nondiff]
        for i, a in zip(self.nondiff, static):
            if any(isinstance(x, Tracer) for x in tree_leaves(a)):
                raise TypeError(
                    f"`{_name(self.fun)}`: argument {i} is in nondiff_argnums but received a "
                    "traced array. nondiff_argnums is for non-array arguments (functions, "
                    "flags, sizes); pass arrays as ordinary arguments and return a zero "
                    "cotangent for them instead.")
        dyn = [a for i, a in enumerate(args) if i not in self.nondiff]
        return static, dyn

    def call(self, fn: Fun, static: Sequence[Any], in_tree: Any, flat: Sequence[Any]) -> Any:
        """``fn`` on the full argument list, rebuilt from the differentiable leaves."""
        return fn(*self.merge(static, tree_unflatten(in_tree, list(flat))))

    def flat_function(self, fn: Fun, static: Sequence[Any], in_tree: Any,
                      record: list[Any]) -> Fun:
        """``fn`` as a function of the differentiable leaves returning its output's
        leaves; each call appends ``(output structure, output leaves)`` to ``record``."""
        def flat(*leaves: Any) -> list[Any]:
            out_leaves, tree = tree_flatten(self.call(fn, static, in_tree, leaves))
            record.append((tree, out_leaves))
            return out_leaves
        return flat

    def merge(self, static: Sequence[Any], dyn: Sequence[Any]) -> list[Any]:
        out: list[Any] = []
        s, d = iter(static), iter(dyn)
        for i in range(len(static) + len(dyn)):
            out.append(next(s) if i in self.nondiff else next(d))
        return out


class custom_jvp:
    """Decorator: a function with a user-supplied forward-mode rule.

    >>> import xform, xform.numpy as np
    >>> @xform.custom_jvp
    ... def log1pexp(x):
    ...     return np.log1p(np.exp(x))
    >>> @log1pexp.defjvp
    ... def log1pexp_jvp(primals, tangents):
    ...     (x,), (t,) = primals, tangents
    ...     return log1pexp(x), t / (1.0 + np.exp(-x))
    >>> with np.errstate(over="ignore"):  # the primal, exp(1000), overflows to inf
    ...     float(xform.grad(log1pexp)(1000.0))  # the rule's derivative does not
    1.0
    """

    def __init__(self, fun: Fun, nondiff_argnums: Sequence[int] = ()) -> None:
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.sig = _Signature(fun, nondiff_argnums)
        self.jvp: Fun | None = None

    def defjvp(self, jvp: Fun) -> Fun:
        """Set the rule ``jvp(*nondiff_args, primals, tangents) -> (out, tangent_out)``.
        """
        self.jvp = jvp
        return jvp

    def defjvps(self, *jvps: Fun | None) -> None:
        """Set one rule per argument, ``jvp_i(tangent_i, ans, *primals)``; ``None``
        for an argument with zero derivative. Contributions are summed."""
        def jvp(*all_args: Any) -> Any:
            *static, primals, tangents = all_args
            out = self.fun(*self.sig.merge(static, primals))
            total = None
            for rule, t in zip(jvps, tangents):
                if rule is not None:
                    contrib = rule(t, out, *primals)
                    total = contrib if total is None else total + contrib
            return out, (total if total is not None else zeros_like(out))
        self.jvp = jvp

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.jvp is None:
            raise AttributeError(f"No JVP defined for custom_jvp function `{_name(self.fun)}`; "
                                 "define one with .defjvp")
        static, dyn = self.sig.split(args, kwargs)
        leaves, in_tree = tree_flatten(dyn)
        out_info: list[Any] = []
        flat_fun = self.sig.flat_function(self.fun, static, in_tree, out_info)

        def flat_rule(primals: Sequence[Any], tangents: Sequence[Any]) -> Any:
            p = tuple(tree_unflatten(in_tree, list(primals)))
            t = tuple(tree_unflatten(in_tree, list(tangents)))
            who = f"custom_jvp rule of `{_name(self.fun)}`"
            pair = self.jvp(*static, p, t)  # type: ignore[misc]
            if not (isinstance(pair, (tuple, list)) and len(pair) == 2):
                raise TypeError(f"{who} must return a pair (primal_out, tangent_out), got "
                                f"{_describe(pair)}")
            out, t_out = pair
            out_leaves, tree = tree_flatten(out)
            out_info.append((tree, out_leaves))
            t_leaves, t_tree = tree_flatten(t_out)
            if t_tree != tree:
                raise TypeError(f"{who} returned a tangent of structure {t_tree} for an "
                                f"output of structure {tree}; they must be equal")
            for k, (o, tan) in enumerate(zip(out_leaves, t_leaves)):
                check_tangent_type(who, f"the tangent of output leaf {k}", tan, o)
            return out_leaves, t_leaves

        outs = bind_custom(JVPRuleCall(flat_fun, flat_rule, _name(self.fun)), leaves)
        return tree_unflatten(out_info[-1][0], list(outs))


class custom_vjp:
    """Decorator: a function with a user-supplied reverse-mode rule.

    ``f.defvjp(fwd, bwd)``: ``fwd(*args) -> (out, residuals)`` and
    ``bwd(*nondiff_args, residuals, ct) -> tuple`` with one cotangent per
    differentiable argument (``None`` for zero).

    >>> import xform, xform.numpy as np
    >>> @xform.custom_vjp
    ... def clip_gradient(x):
    ...     return x
    >>> clip_gradient.defvjp(lambda x: (x, None), lambda res, g: (np.clip(g, -1.0, 1.0),))
    >>> float(xform.grad(lambda x: 5.0 * clip_gradient(x))(2.0))
    1.0
    """

    def __init__(self, fun: Fun, nondiff_argnums: Sequence[int] = ()) -> None:
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.sig = _Signature(fun, nondiff_argnums)
        self.fwd: Fun | None = None
        self.bwd: Fun | None = None

    def defvjp(self, fwd: Fun, bwd: Fun) -> None:
        """Set the forward function (returning residuals) and the backward rule.
        """
        self.fwd, self.bwd = fwd, bwd

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.fwd is None or self.bwd is None:
            raise AttributeError(f"No VJP defined for custom_vjp function `{_name(self.fun)}`; "
                                 "define one with .defvjp(fwd, bwd)")
        static, dyn = self.sig.split(args, kwargs)
        leaves, in_tree = tree_flatten(dyn)
        out_info: list[Any] = []
        flat_fun = self.sig.flat_function(self.fun, static, in_tree, out_info)

        def flat_fwd(*flat: Any) -> tuple[list[Any], Any]:
            pair = self.sig.call(self.fwd, static, in_tree, flat)  # type: ignore[arg-type]
            if not (isinstance(pair, (tuple, list)) and len(pair) == 2):
                raise TypeError(f"custom_vjp fwd of `{_name(self.fun)}` must return a pair "
                                f"(output, residuals), got {_describe(pair)}")
            out, res = pair
            out_leaves, tree = tree_flatten(out)
            out_info.append((tree, out_leaves))
            return out_leaves, res

        def flat_bwd(res: Any, cts: Sequence[Any]) -> list[Any]:
            tree, outs = out_info[-1]
            ct = tree_unflatten(tree, instantiate(cts, outs))
            grads = self.bwd(*static, res, ct)  # type: ignore[misc]
            if not isinstance(grads, (tuple, list)) or len(grads) != len(dyn):
                raise TypeError(
                    f"custom_vjp bwd of `{_name(self.fun)}` must return a tuple with one "
                    f"cotangent per differentiable argument ({len(dyn)}), got {grads!r:.80}")
            return _bwd_leaves(f"custom_vjp bwd of `{_name(self.fun)}`", grads, dyn)

        call = VJPRuleCall(flat_fun, flat_fwd, flat_bwd, _name(self.fun))
        outs = bind_custom(call, leaves)
        return tree_unflatten(out_info[-1][0], list(outs))


def _describe(x: Any) -> str:
    if isinstance(x, (tuple, list)):
        return f"a {type(x).__name__} of length {len(x)}"
    return f"{type(x).__name__} {x!r:.60}"


def _bwd_leaves(who: str, grads: Sequence[Any], args: Sequence[Any]) -> list[Any]:
    """The leaves of a bwd rule's cotangents, one per leaf of the differentiable
    arguments (``None`` for zero), each checked against its argument: the structure
    of the argument (``None`` for a zero subtree), its shape, a dtype that casts to
    its own without loss."""
    flat: list[Any] = []
    for j, (g, a) in enumerate(zip(grads, args)):
        a_leaves, a_tree = tree_flatten(a)
        if g is None:
            flat.extend([None] * len(a_leaves))
            continue
        try:
            parts = a_tree.flatten_up_to(g)
        except ValueError as e:
            raise TypeError(f"{who} returned, for differentiable argument {j} (structure "
                            f"{a_tree}), a cotangent of structure {tree_structure(g)} ({e})"
                            ) from None
        for k, (c, x) in enumerate(zip(parts, a_leaves)):
            what = f"the cotangent of differentiable argument {j}" + (
                f" (leaf {k})" if len(a_leaves) > 1 else "")
            if c is not None:
                if not is_array_like(c):
                    raise TypeError(f"{who}: {what} is {_describe(c)}, not an array")
                check_tangent_type(who, what, c, x)
            flat.append(c)
    return flat


def checkpoint(fun: Callable[_P, _R]) -> Callable[_P, _R]:
    """``fun`` whose intermediate values are not stored for reverse mode: the
    backward pass recomputes them from the inputs (trading compute for memory).

    Under reverse mode the tape keeps only ``fun``'s inputs; every other
    transform runs ``fun`` as usual.

    Args:
        fun: the function whose intermediates are recomputed.

    Returns:
        A function with ``fun``'s signature and values.

    >>> import xform, xform.numpy as np
    >>> f = xform.checkpoint(lambda x: np.sin(np.sin(x)))
    >>> round(float(xform.grad(f)(0.5)), 6)
    0.778644
    """

    @functools.wraps(fun)
    def remat(*args: Any, **kwargs: Any) -> Any:
        # keyword arguments are inputs like the positional ones (they may be traced)
        leaves, in_tree = tree_flatten((list(args), kwargs))
        out_info: list[Any] = []

        def flat_fun(*flat: Any) -> list[Any]:
            a, kw = tree_unflatten(in_tree, list(flat))
            out_leaves, tree = tree_flatten(fun(*a, **kw))
            out_info.append(tree)
            return out_leaves

        outs = bind_custom(RematCall(flat_fun, _name(fun)), leaves)
        return tree_unflatten(out_info[-1], list(outs))

    return remat


# ---------------------------------------------------------------------------- primitive
class PrimitiveFunction:
    """A user function wrapped as a primitive; call it like the original.



    >>> import numpy
    >>> from xform.extend import primitive
    >>> f = primitive(numpy.sinc)
    >>> type(f).__name__, float(f(0.0))
    ('PrimitiveFunction', 1.0)
    """

    def __init__(self, fun: Fun) -> None:
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.prim = Primitive(f"{getattr(fun, '__name__', 'primitive')}",
                              lambda *args, **kw: fun(*args, **kw), register=False)
        self.prim.batch = functools.partial(batch_by_loop, self.prim)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return bind(self.prim, *args, **kwargs)


def primitive(fun: Fun) -> PrimitiveFunction:
    """Wrap ``fun`` (written with plain NumPy) as an opaque primitive of xform.

    Args:
        fun: a function of NumPy arrays (it is never traced into).

    Returns:
        A :class:`PrimitiveFunction`, called like ``fun``; give it rules with
        :func:`defvjp` and :func:`defjvp`.

    >>> import numpy, xform
    >>> from xform.extend import primitive, defvjp
    >>> cube = primitive(lambda x: numpy.power(x, 3))
    >>> defvjp(cube, lambda ans, x: lambda g: 3.0 * g * x * x)
    >>> float(xform.grad(cube)(2.0))
    12.0
    """
    return PrimitiveFunction(fun)


def _prim_of(f: Any) -> Primitive:
    if not isinstance(f, PrimitiveFunction):
        raise TypeError(f"{f!r} is not an xform primitive; wrap the function with "
                        "xform.extend.primitive first")
    return f.prim


def defvjp(f: PrimitiveFunction, *makers: Fun | None, argnums: Sequence[int] | None = None
           ) -> None:
    """Reverse rules, one per positional argument: ``maker(ans, *args, **kw)`` returns
    ``lambda g: cotangent``; ``None`` marks a non-differentiable argument.

    Args:
        f: a :class:`PrimitiveFunction` from :func:`primitive`.
        *makers: one per positional argument, or ``None``.
        argnums: the positions the makers are for (default: ``0, 1, ...``).

    Returns:
        None.

    >>> import numpy, xform
    >>> from xform.extend import primitive, defvjp
    >>> mul = primitive(lambda x, y: numpy.multiply(x, y))
    >>> defvjp(mul, lambda ans, x, y: lambda g: g * y, lambda ans, x, y: lambda g: g * x)
    >>> [float(v) for v in xform.grad(mul, argnums=(0, 1))(2.0, 5.0)]
    [5.0, 2.0]
    """
    prim = _prim_of(f)
    if argnums is not None:
        by_pos: dict[int, Fun | None] = dict(zip(argnums, makers))
        makers = tuple(by_pos.get(i) for i in range(max(argnums) + 1))
    def rule(i: int, maker: Fun) -> Fun:
        def vjp(ct: Any, ans: Any, *args: Any, **kw: Any) -> Any:
            c = maker(ans, *args, **kw)(ct)
            # a cotangent of another shape would broadcast silently when accumulated
            if c is not None and tuple(shape_of(c)) != tuple(shape_of(args[i])):
                raise ValueError(
                    f"the VJP of `{prim.name}` for argument {i} returned a cotangent of shape "
                    f"{tuple(shape_of(c))} for an argument of shape "
                    f"{tuple(shape_of(args[i]))}; sum it back to the argument's shape "
                    "(for a broadcast argument, e.g. with g.sum(axis=0)).")
            return c
        return vjp

    _defvjp(prim, *[None if m is None else rule(i, m) for i, m in enumerate(makers)])


def defjvp(f: PrimitiveFunction, *rules: Fun | None) -> None:
    """Forward rules, one per positional argument: ``rule(g, ans, *args, **kw)`` returns
    that argument's contribution to the output tangent.

    Args:
        f: a :class:`PrimitiveFunction` from :func:`primitive`.
        *rules: one per positional argument, or ``None``.

    Returns:
        None.

    >>> import numpy, xform
    >>> from xform.extend import primitive, defjvp
    >>> square = primitive(lambda x: numpy.square(x))
    >>> defjvp(square, lambda g, ans, x: 2.0 * g * x)
    >>> [float(v) for v in xform.jvp(square, (3.0,), (1.0,))]
    [9.0, 6.0]
    """
    _defjvp(_prim_of(f), *rules)
