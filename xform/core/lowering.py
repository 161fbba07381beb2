"""Lowerings: how the XLA backend writes one equation of a primitive with JAX.

A primitive's ``lower`` slot holds a :data:`Lowering`, declared in its family's file
beside its other facts. It is called as ``lowering(ctx, *operands, **params)`` with
JAX values (arrays or tracers of ``jax.jit``/``jax.vmap``/``jax.grad``) and returns
the result, a list for primitives with several results. ``ctx`` is a
:class:`LoweringContext`: it hands out JAX's namespaces, so that a family file never
imports JAX (which is optional), lowers sub-jaxprs for control flow, and runs an
implementation on the host where JAX has no equivalent.

Without a ``lower`` fact a primitive still lowers when the fact can be derived: from
an emitter that knows its NumPy expression (``emit.numpy_call``, ``infix``,
``method``...), evaluated on ``jax.numpy``, or from a NumPy ufunc implementation
whose name ``jax.numpy`` has. :func:`lowering_of` gives the lowering in use.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from .ir import Jaxpr, ShapedArray

Lowering = Callable[..., Any]

__all__ = ["Lowering", "LoweringContext", "LoweringError", "lowering_of", "jnp_call",
           "special_call", "on_host", "same_code"]


class LoweringError(NotImplementedError):
    """A primitive has no XLA lowering (or one that failed)."""


class LoweringContext:
    """What a lowering may use; the XLA backend (``xform/jit/xla.py``) provides it.

    ``jax``, ``jnp``, ``lax`` and ``jsp`` are ``jax``, ``jax.numpy``, ``jax.lax`` and
    ``jax.scipy``; ``out_avals`` are the result types of the equation being lowered.
    """

    jax: Any
    jnp: Any
    lax: Any
    jsp: Any
    out_avals: Sequence[ShapedArray]

    def lower(self, jaxpr: Jaxpr) -> Callable[..., list[Any]]:
        """A JAX-traceable function of the sub-jaxpr's inputs returning its outputs,
        each of the type the IR gives it (control flow needs equal types)."""
        raise NotImplementedError

    def coerce(self, x: Any, aval: ShapedArray) -> Any:
        """``x`` as a JAX array of the type ``aval`` (dtype converted, not weak)."""
        raise NotImplementedError

    def host(self, fn: Callable[..., Any], *args: Any) -> Any:
        """``fn`` (a NumPy function) run on the host through ``jax.pure_callback``,
        its results typed as ``out_avals``; JAX cannot differentiate it."""
        raise NotImplementedError


def jnp_call(name: str, *param_names: str, keywords: bool = False) -> Lowering:
    """``jax.numpy.<name>(*operands, *params)``, the named parameters following the
    operands positionally (as keywords with ``keywords``)."""
    def lower(ctx: LoweringContext, *args: Any, **params: Any) -> Any:
        fn = getattr(ctx.jnp, name)
        if keywords:
            return fn(*args, **{k: params[k] for k in param_names})
        return fn(*args, *[params[k] for k in param_names])
    return lower


def special_call(name: str) -> Lowering:
    """``jax.scipy.special.<name>(*operands)``."""
    return lambda ctx, *args, **params: getattr(ctx.jsp.special, name)(*args)


def on_host(impl: Callable[..., Any]) -> Lowering:
    """The NumPy implementation ``impl`` run on the host (``jax.pure_callback``): for
    the few operations JAX has no kernel for. The result runs under ``jax.jit`` and
    ``jax.vmap`` (one call per batch member) but ``jax.grad`` cannot differentiate it;
    xform's own derivatives, taken before lowering, are unaffected."""
    def lower(ctx: LoweringContext, *args: Any, **params: Any) -> Any:
        return ctx.host(lambda *xs: impl(*xs, **params), *args)
    return lower


def same_code(fn: Callable[..., Any]) -> Lowering:
    """An implementation written against an array namespace ``xp`` (NumPy's by
    default), run with ``xp=jax.numpy``: one body serves both backends."""
    return lambda ctx, *args, **params: fn(*args, xp=ctx.jnp, **params)


def _from_emitter(run: Callable[..., Any]) -> Lowering:
    return lambda ctx, *args, **params: run(ctx.jnp, list(args), params)


def lowering_of(prim: Any) -> Lowering | None:
    """The lowering of ``prim``: its ``lower`` fact, else one derived from its emitter
    or its ufunc implementation, else ``None``."""
    if prim.lower is not None:
        return prim.lower  # type: ignore[no-any-return]
    run = getattr(prim.emit, "run", None)
    if run is not None:
        return _from_emitter(run)
    if isinstance(prim.impl, np.ufunc):
        return jnp_call(prim.impl.__name__)
    return None
