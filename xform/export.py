"""``to_jax``: an xform function as a pure function of JAX arrays.

The function is traced to xform's IR on the shapes and dtypes of the arguments it is
called with (whatever transforms it holds, ``grad``, ``vmap``, ``hessian``, control
flow, custom rules, are applied by that tracing), optimised by jit's passes, and
each equation is lowered to ``jax.numpy``/``jax.lax``/``jax.scipy``. The result
composes with ``jax.jit``, ``jax.vmap``, ``jax.grad`` and shardings like any JAX
function. JAX is an optional dependency, imported when ``to_jax`` is first called.
"""
from __future__ import annotations

import functools
from typing import Any, Callable, Hashable

import numpy as np

from .core.ir import ClosedJaxpr, ShapedArray
from .core.staging import trace_to_jaxpr
from .jit.passes import optimize
from .jit.reroll import reroll
from .jit.xla import lower_closed, require_jax
from .tree_util import tree_flatten, tree_unflatten

__all__ = ["to_jax"]


def _aval(x: Any) -> ShapedArray:
    shape, dtype = getattr(x, "shape", None), getattr(x, "dtype", None)
    if shape is None or dtype is None:
        return ShapedArray(np.shape(x), np.result_type(x))
    return ShapedArray(tuple(shape), np.dtype(dtype))


def to_jax(fun: Callable[..., Any]) -> Callable[..., Any]:
    """``fun`` (written with ``xform.numpy`` and xform's transforms) as a pure function
    of JAX arrays, for ``jax.jit``, ``jax.vmap``, ``jax.grad`` and shardings.

    Each call traces ``fun`` on its arguments' shapes and dtypes (pytrees of arrays;
    cached per signature) and lowers the optimised IR to JAX. Float64 needs JAX's
    64-bit mode (``jax.config.update("jax_enable_x64", True)``); without it JAX
    computes in float32, as for any JAX code.

    >>> import jax, numpy
    >>> import xform, xform.numpy as np
    >>> from xform.export import to_jax
    >>> dloss = jax.jit(to_jax(xform.grad(lambda w: np.sum(np.tanh(w) ** 2))))
    >>> numpy.round(numpy.asarray(dloss(numpy.ones(2, numpy.float32))), 4)
    array([0.6397, 0.6397], dtype=float32)
    """
    require_jax("xform.export.to_jax")
    cache: dict[Hashable, tuple[Callable[..., list[Any]], Any]] = {}

    @functools.wraps(fun)
    def lowered(*args: Any) -> Any:
        leaves, treedef = tree_flatten(list(args))
        avals = [_aval(x) for x in leaves]
        key = (treedef, tuple(avals))
        entry = cache.get(key)
        if entry is None:
            out_tree: list[Any] = []

            def flat_fun(*flat: Any) -> list[Any]:
                out_leaves, tree = tree_flatten(fun(*tree_unflatten(treedef, list(flat))))
                out_tree.append(tree)
                return out_leaves

            closed: ClosedJaxpr = reroll(optimize(trace_to_jaxpr(flat_fun, avals)))
            entry = cache[key] = (lower_closed(closed), out_tree[0])
        run, tree = entry
        return tree_unflatten(tree, run(*leaves))

    return lowered
