"""Autograd-style extension: wrap a NumPy-level function as a primitive and give it
rules.

>>> import numpy, xform, xform.numpy as np
>>> from xform.extend import primitive, defvjp
>>> @primitive
... def logsumexp(x):
...     m = numpy.max(x)
...     return m + numpy.log(numpy.sum(numpy.exp(x - m)))
>>> defvjp(logsumexp, lambda ans, x: lambda g: g * np.exp(x - ans))
>>> xform.grad(logsumexp)(numpy.zeros(2)).tolist()
[0.5, 0.5]

Rules written with ``xform.numpy`` are themselves differentiable. A primitive
with only a VJP works in reverse mode and raises a clear error in forward mode.
Under ``vmap`` a user primitive runs once per batch member (no batch rule is
known for arbitrary NumPy code).
"""
from __future__ import annotations

import functools
from typing import Any, Callable, Sequence

from .core import rules as _rules
from .core.primitive import Primitive
from .core.trace import bind
from .custom_derivatives import custom_jvp, custom_vjp
from .numpy._indexing import batch_by_loop

Fun = Callable[..., Any]


class PrimitiveFunction:
    """A user function wrapped as a primitive; call it like the original."""

    def __init__(self, fun: Fun) -> None:
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.prim = Primitive(f"{getattr(fun, '__name__', 'primitive')}",
                              lambda *args, **kw: fun(*args, **kw), register=False)
        self.prim.batch = functools.partial(batch_by_loop, self.prim)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return bind(self.prim, *args, **kwargs)


def primitive(fun: Fun) -> PrimitiveFunction:
    """Wrap ``fun`` (written with plain NumPy) as an opaque primitive of xform."""
    return PrimitiveFunction(fun)


def _prim_of(f: Any) -> Primitive:
    if not isinstance(f, PrimitiveFunction):
        raise TypeError(f"{f!r} is not an xform primitive; wrap the function with "
                        "xform.extend.primitive first")
    return f.prim


def defvjp(f: PrimitiveFunction, *makers: Fun | None, argnums: Sequence[int] | None = None
           ) -> None:
    """Reverse rules, one per positional argument: ``maker(ans, *args, **kw)`` returns
    ``lambda g: cotangent``; ``None`` marks a non-differentiable argument."""
    prim = _prim_of(f)
    if argnums is not None:
        by_pos: dict[int, Fun | None] = dict(zip(argnums, makers))
        makers = tuple(by_pos.get(i) for i in range(max(argnums) + 1))
    rules = [None if m is None else
             (lambda m: lambda ct, ans, *args, **kw: m(ans, *args, **kw)(ct))(m) for m in makers]
    _rules.defvjp(prim, *rules)


def defjvp(f: PrimitiveFunction, *rules: Fun | None) -> None:
    """Forward rules, one per positional argument: ``rule(g, ans, *args, **kw)`` returns
    that argument's contribution to the output tangent."""
    _rules.defjvp(_prim_of(f), *rules)


__all__ = ["primitive", "defvjp", "defjvp", "custom_jvp", "custom_vjp"]
