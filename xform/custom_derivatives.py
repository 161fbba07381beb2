"""``custom_jvp`` and ``custom_vjp``: functions whose derivative the user supplies.

Both follow JAX's semantics. A ``custom_jvp`` rule serves forward mode directly
and reverse mode too: its tangent computation is recorded and transposed. A
``custom_vjp`` rule serves reverse mode only; forward mode raises a clear error.
Under transforms that do not differentiate (vmap, make_jaxpr) the function body
runs as ordinary code. Traced values must reach the function as arguments,
not through closures.
"""
from __future__ import annotations

import functools
import inspect
from typing import Any, Callable, Sequence

import numpy as np

from .core.ir import ClosedJaxpr, aval_of
from .core.primitive import Primitive
from .core.staging import trace_to_jaxpr
from .core.trace import CUSTOM_HOOKS, Tracer, bind, bind_custom
from .interpreters.eval import eval_jaxpr
from .interpreters.jvp import custom_vjp_forward_error
from .tree_util import tree_flatten, tree_leaves, tree_unflatten

Fun = Callable[..., Any]


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

    def merge(self, static: Sequence[Any], dyn: Sequence[Any]) -> list[Any]:
        out: list[Any] = []
        s, d = iter(static), iter(dyn)
        for i in range(len(static) + len(dyn)):
            out.append(next(s) if i in self.nondiff else next(d))
        return out


def _name(fun: Any) -> str:
    return getattr(fun, "__name__", repr(fun))


def _zeros_like(x: Any) -> np.ndarray:
    return np.zeros(np.shape(x), np.result_type(x))


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
    >>> float(xform.grad(log1pexp)(1000.0))
    1.0
    """

    def __init__(self, fun: Fun, nondiff_argnums: Sequence[int] = ()) -> None:
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.sig = _Signature(fun, nondiff_argnums)
        self.jvp: Fun | None = None

    def defjvp(self, jvp: Fun) -> Fun:
        """Set the rule ``jvp(*nondiff_args, primals, tangents) -> (out, tangent_out)``."""
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
            return out, (total if total is not None else _zeros_like(out))
        self.jvp = jvp

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.jvp is None:
            raise AttributeError(f"No JVP defined for custom_jvp function `{_name(self.fun)}`; "
                                 "define one with .defjvp")
        static, dyn = self.sig.split(args, kwargs)
        leaves, in_tree = tree_flatten(dyn)
        out_trees: list[Any] = []

        def flat_fun(*flat: Any) -> list[Any]:
            out = self.fun(*self.sig.merge(static, tree_unflatten(in_tree, list(flat))))
            out_leaves, tree = tree_flatten(out)
            out_trees.append(tree)
            return out_leaves

        def flat_rule(primals: Sequence[Any], tangents: Sequence[Any]) -> Any:
            p = tuple(tree_unflatten(in_tree, list(primals)))
            t = tuple(tree_unflatten(in_tree, list(tangents)))
            out, t_out = self.jvp(*static, p, t)  # type: ignore[misc]
            out_leaves, tree = tree_flatten(out)
            out_trees.append(tree)
            t_leaves, t_tree = tree_flatten(t_out)
            if t_tree != tree:
                raise TypeError(f"custom_jvp rule of `{_name(self.fun)}` returned a tangent of "
                                f"structure {t_tree} for an output of structure {tree}")
            return out_leaves, t_leaves

        flat_fun.__name__ = _name(self.fun)
        outs = bind_custom("jvp", flat_fun, flat_rule, leaves)
        return tree_unflatten(out_trees[-1], list(outs))


class custom_vjp:
    """Decorator: a function with a user-supplied reverse-mode rule.

    ``f.defvjp(fwd, bwd)``: ``fwd(*args) -> (out, residuals)`` and
    ``bwd(*nondiff_args, residuals, ct) -> tuple`` with one cotangent per
    differentiable argument (``None`` for zero).
    """

    def __init__(self, fun: Fun, nondiff_argnums: Sequence[int] = ()) -> None:
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.sig = _Signature(fun, nondiff_argnums)
        self.fwd: Fun | None = None
        self.bwd: Fun | None = None

    def defvjp(self, fwd: Fun, bwd: Fun) -> None:
        """Set the forward function (returning residuals) and the backward rule."""
        self.fwd, self.bwd = fwd, bwd

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.fwd is None or self.bwd is None:
            raise AttributeError(f"No VJP defined for custom_vjp function `{_name(self.fun)}`; "
                                 "define one with .defvjp(fwd, bwd)")
        static, dyn = self.sig.split(args, kwargs)
        leaves, in_tree = tree_flatten(dyn)
        out_info: list[Any] = []

        def flat_fun(*flat: Any) -> list[Any]:
            out = self.fun(*self.sig.merge(static, tree_unflatten(in_tree, list(flat))))
            out_leaves, tree = tree_flatten(out)
            out_info.append((tree, out_leaves))
            return out_leaves

        def flat_fwd(*flat: Any) -> tuple[list[Any], Any]:
            out, res = self.fwd(*self.sig.merge(  # type: ignore[misc]
                static, tree_unflatten(in_tree, list(flat))))
            out_leaves, tree = tree_flatten(out)
            out_info.append((tree, out_leaves))
            return out_leaves, res

        def flat_bwd(res: Any, cts: Sequence[Any]) -> list[Any]:
            tree, outs = out_info[-1]
            ct = tree_unflatten(tree, [c if c is not None else _zeros_like(o)
                                       for c, o in zip(cts, outs)])
            grads = self.bwd(*static, res, ct)  # type: ignore[misc]
            if not isinstance(grads, (tuple, list)) or len(grads) != len(dyn):
                raise TypeError(
                    f"custom_vjp bwd of `{_name(self.fun)}` must return a tuple with one "
                    f"cotangent per differentiable argument ({len(dyn)}), got {grads!r:.80}")
            flat: list[Any] = []
            for g, a in zip(grads, dyn):
                n = len(tree_leaves(a))
                flat.extend([None] * n if g is None else tree_leaves(g))
            return flat

        flat_fun.__name__ = _name(self.fun)
        outs = bind_custom("vjp", flat_fun, (flat_fwd, flat_bwd), leaves)
        return tree_unflatten(out_info[-1][0], list(outs))


def checkpoint(fun: Fun) -> Fun:
    """``fun`` whose intermediate values are not stored for reverse mode: the
    backward pass recomputes them from the inputs (trading compute for memory).

    Under reverse mode the tape keeps only ``fun``'s inputs; every other
    transform runs ``fun`` as usual.
    """

    @functools.wraps(fun)
    def remat(*args: Any) -> Any:
        leaves, in_tree = tree_flatten(list(args))
        out_info: list[Any] = []

        def flat_fun(*flat: Any) -> list[Any]:
            out_leaves, tree = tree_flatten(fun(*tree_unflatten(in_tree, list(flat))))
            out_info.append(tree)
            return out_leaves

        def fwd(*flat: Any) -> tuple[list[Any], Any]:
            return flat_fun(*flat), flat  # the residuals are just the inputs

        def bwd(inputs: Any, cts: Sequence[Any]) -> list[Any]:
            from .api import vjp
            outs, vjp_fn = vjp(lambda *a: flat_fun(*a), *inputs)
            cts = [c if c is not None else _zeros_like(o) for c, o in zip(cts, outs)]
            return list(vjp_fn(list(cts)))

        flat_fun.__name__ = _name(fun)
        outs = bind_custom("remat", flat_fun, (fwd, bwd), leaves)
        return tree_unflatten(out_info[-1], list(outs))

    return remat


# ---------------------------------------------------------------------------- under staging
# Inside make_jaxpr/jit a function with a custom rule becomes one ``custom_call``
# equation that keeps the rule, so differentiating the staged program later still
# uses it. The equation runs the traced body; its rules call the user's rule.
def _call_impl(*args: Any, kind: str, fun: Fun, rule: Any, body: ClosedJaxpr) -> list[Any]:
    return eval_jaxpr(body.jaxpr, body.consts, *args)


custom_call_p = Primitive("custom_call", _call_impl, multiple_results=True, register=False)
custom_call_p.abstract_eval = lambda *args, kind, fun, rule, body: [
    v.aval for v in body.jaxpr.outvars]


def _instantiate(values: Sequence[Any], like: Sequence[Any]) -> list[Any]:
    return [v if v is not None else _zeros_like(x) for v, x in zip(values, like)]


def _call_jvp(tangents: Sequence[Any], ans: Any, args: Sequence[Any], params: dict) -> Any:
    kind, fun, rule = params["kind"], params["fun"], params["rule"]
    if kind == "vjp":
        raise custom_vjp_forward_error(_name(fun))
    if kind == "remat":
        from .api import jvp
        return list(jvp(lambda *a: fun(*a), tuple(args), tuple(_instantiate(tangents, args)))[1])
    return list(rule(list(args), _instantiate(tangents, args))[1])


def _call_vjp(ct: Any, ans: Any, args: Sequence[Any], params: dict,
              needs: Sequence[bool]) -> list[Any]:
    kind, fun, rule = params["kind"], params["fun"], params["rule"]
    if kind == "jvp":  # reverse mode of the custom JVP, as bind_custom does eagerly
        from .api import vjp
        _, vjp_fn = vjp(lambda *a: bind_custom("jvp", fun, rule, list(a)), *args)
        return list(vjp_fn(_instantiate(ct, ans)))
    fwd, bwd = rule
    _, res = fwd(*args)  # the residuals are recomputed: the equation keeps none
    return list(bwd(res, list(ct)))


def _call_batch(vals: Sequence[Any], dims: Sequence[Any], params: dict) -> tuple[Any, Any]:
    outs = _batched_custom(params["kind"], params["fun"], params["rule"], vals, dims)
    return outs, [0] * len(outs)


custom_call_p.jvp = _call_jvp
custom_call_p.vjp = _call_vjp
custom_call_p.batch = _call_batch


def _stage_custom(kind: str, fun: Fun, rule: Any, args: Sequence[Any]) -> Any:
    body = trace_to_jaxpr(fun, [aval_of(a) for a in args])
    if any(isinstance(c, Tracer) for c in body.consts):
        raise TypeError(
            f"`{_name(fun)}` (a function with a custom derivative) uses a traced value it "
            "did not receive as an argument (a closure over a traced value). Pass that value "
            "as an argument instead.")
    return bind(custom_call_p, *args, kind=kind, fun=fun, rule=rule, body=body)


def _batched_custom(kind: str, fun: Fun, rule: Any, vals: Sequence[Any],
                    dims: Sequence[Any]) -> Any:
    """The custom function and its rule, vectorised over the batch: the rule is kept.
    Outputs (and output tangents) have the batch axis in front."""
    from .batching_api import vmap
    from .numpy import _reductions as R
    from .numpy import _shape as S
    in_axes = tuple(dims)

    def bfun(*a: Any) -> Any:
        return vmap(lambda *x: fun(*x), in_axes=in_axes)(*a)

    def to_input_layout(gs: Sequence[Any]) -> list[Any]:
        # cotangents come back batched in front; unbatched inputs get the batch sum
        return [None if g is None else R.sum(g, axis=0) if d is None else
                S.moveaxis(g, 0, d) for g, d in zip(gs, dims)]

    if kind == "jvp":
        def brule(p: Sequence[Any], t: Sequence[Any]) -> Any:
            return vmap(lambda pp, tt: rule(pp, tt), in_axes=(list(dims), list(dims)))(
                list(p), list(t))
        return bind_custom(kind, bfun, brule, list(vals))
    fwd, bwd = rule

    def bfwd(*a: Any) -> Any:
        return vmap(lambda *x: fwd(*x), in_axes=in_axes)(*a)

    def bbwd(res: Any, cts: Sequence[Any]) -> list[Any]:
        cts = [c for c in cts]
        return to_input_layout(vmap(lambda r, c: bwd(r, c), in_axes=(0, 0))(res, cts))

    return bind_custom(kind, bfun, (bfwd, bbwd), list(vals))


CUSTOM_HOOKS["stage"] = _stage_custom
CUSTOM_HOOKS["batch"] = _batched_custom
