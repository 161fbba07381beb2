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

from .core.trace import Tracer, bind_custom
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
