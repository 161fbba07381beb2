"""Seeing values while a function is transformed: ``debug.print``, ``debug.callback``.

``print(x)`` already shows a traced value under grad, jvp and vmap (the tracer
carries it). Under ``jit`` the function is traced once, abstractly, so a plain
``print`` runs once with no value. These two functions are *staged effects*
instead: one equation of the program, kept by every jit pass, run with the
run-time values on every call, in program order.

* Differentiation sees the primal values only (a print is not differentiated
  and contributes nothing to any derivative); the backward pass does not print.
* Under ``vmap`` the callback runs once per batch member, with that member's
  values, in batch order.

>>> import xform, xform.numpy as np
>>> f = xform.jit(lambda x: (xform.debug.print("x = {}", x), np.sin(x))[1])
>>> y = f(0.0)
x = 0.0
>>> y = f(1.0)
x = 1.0
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .core.primitive import Primitive as _Primitive
from .core.trace import Tracer as _Tracer, bind as _bind
from .tree_util import tree_flatten as _tree_flatten, tree_unflatten as _tree_unflatten

__all__ = ["print", "callback"]

_print = print  # this module's ``print`` is the staged one


def _run(*args: Any, callback: Callable[..., None]) -> list[Any]:
    callback(*args)
    return []


def _apply(values: list[Any], params: dict) -> None:
    """Through the current trace even when no value is traced (``bind`` stages an
    effect of constants), so that a print inside ``jit`` runs on every call."""
    _bind(_debug_callback_p, *values, **params)


def _batch(vals: list[Any], dims: list[int | None], params: dict) -> tuple[list[Any], list[Any]]:
    """Once per batch member, in order: the callback sees unbatched values."""
    size = next(np.shape(v)[d] for v, d in zip(vals, dims) if d is not None)
    for i in range(size):
        member = [v if d is None else np.take(v, i, axis=d) for v, d in zip(vals, dims)]
        _apply(member, params)
    return [], []


_debug_callback_p = _Primitive("debug_callback", _run, multiple_results=True, nondiff=True)
_debug_callback_p.effectful = True
_debug_callback_p.abstract_eval = lambda *avals, **params: []  # never call it to learn shapes
_debug_callback_p.batch = _batch
_debug_callback_p.emit = lambda a, p, bind: f"{bind(p['callback'])}({', '.join(a)})"


def _lower(ctx: Any, *args: Any, callback: Callable[..., None]) -> list[Any]:
    """``jax.debug.callback`` with ordered effects: at run time, in program order, on
    NumPy values (as the NumPy backend passes them)."""
    ctx.jax.debug.callback(lambda *xs: callback(*[np.asarray(x) for x in xs]), *args,
                           ordered=True)
    return []


_debug_callback_p.lower = _lower


def _is_operand(leaf: Any) -> bool:
    return isinstance(leaf, (_Tracer, np.ndarray, np.generic, int, float, complex))


def callback(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    """Call ``fn(*args, **kwargs)`` with the values of ``args`` (pytrees of arrays)
    at run time, under every transform and on every call of a ``jit``-compiled
    function. ``fn``'s return value is ignored.

    Array leaves arrive as NumPy arrays; other leaves (strings, None...) as given.

    Args:
        fn: the function to call; its result is discarded.
        *args: pytrees of arrays (traced or not) and other values.
        **kwargs: the same, by keyword.

    Returns:
        None.

    >>> import xform, xform.numpy as np
    >>> seen = []
    >>> f = xform.jit(lambda x: (xform.debug.callback(seen.append, x), x * 2)[1])
    >>> _ = f(np.arange(2.0)), f(np.ones(2))
    >>> seen
    [array([0., 1.]), array([1., 1.])]
    """
    if not callable(fn):
        raise TypeError(f"debug.callback: the first argument must be callable, got "
                        f"{type(fn).__name__}")
    leaves, tree = _tree_flatten((args, kwargs))
    slots = [i for i, leaf in enumerate(leaves) if _is_operand(leaf)]

    def call(*values: Any) -> None:
        full = list(leaves)
        for i, v in zip(slots, values):
            full[i] = v
        a, kw = _tree_unflatten(tree, full)
        fn(*a, **kw)

    _apply([leaves[i] for i in slots], {"callback": call})


def print(fmt: str, *args: Any, **kwargs: Any) -> None:  # noqa: A001 - mirrors jax.debug.print
    """Print ``fmt.format(*args, **kwargs)`` with run-time values, under every
    transform and on every call of a ``jit``-compiled function.

    Args:
        fmt: a ``str.format`` string.
        *args: pytrees of arrays (traced or not) and other values.
        **kwargs: the same, by keyword.

    Returns:
        None.

    >>> import xform, xform.numpy as np
    >>> def f(x):
    ...     xform.debug.print("x = {x}, sum = {}", np.sum(x), x=x)
    ...     return np.sum(x ** 2)
    >>> g = xform.jit(xform.grad(f))(np.array([1.0, 2.0]))
    x = [1. 2.], sum = 3.0
    """
    if not isinstance(fmt, str):
        raise TypeError(f"debug.print: the first argument is the format string, got "
                        f"{type(fmt).__name__}; write debug.print('{{}}', value)")
    callback(lambda *a, **kw: _print(fmt.format(*a, **kw)), *args, **kwargs)

