"""The XLA backend: each equation of a jaxpr lowered to ``jax.numpy``/``jax.lax``.

:func:`lower_closed` turns a closed jaxpr into a pure function of JAX arrays, one
primitive's lowering (``xform/core/lowering.py``) per equation; structured control
flow becomes ``lax.switch``/``while_loop``/``scan`` of lowered sub-jaxprs.
:func:`compile_xla` runs that function under ``jax.jit`` for ``jit(backend="xla")``,
with 64-bit types enabled for the duration of each call only.

JAX is optional: it is imported when this backend is first used, and
:func:`require_jax` says what to install when it is missing.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from ..core.ir import ClosedJaxpr, Jaxpr, Literal, ShapedArray, Var
from ..core.lowering import LoweringContext, LoweringError, lowering_of

INSTALL_HINT = 'install the optional extra: pip install "xform[xla]" (or pip install jax)'


def require_jax(what: str) -> Any:
    """Import and return ``jax``, or raise an ImportError naming ``what`` needs it."""
    try:
        import jax
        import jax.numpy  # noqa: F401
        import jax.scipy.linalg  # noqa: F401
        import jax.scipy.special  # noqa: F401
    except ImportError as e:
        raise ImportError(f"{what} needs JAX, which is not installed: {INSTALL_HINT}") from e
    return jax


class _Context(LoweringContext):
    def __init__(self, jax: Any) -> None:
        self.jax = jax
        self.jnp = jax.numpy
        self.lax = jax.lax
        self.jsp = jax.scipy
        self.out_avals: Sequence[ShapedArray] = ()
        self.multiple = False

    def lower(self, jaxpr: Jaxpr) -> Callable[..., list[Any]]:
        return lambda *args: _eval(self, jaxpr, [], args)

    def dtype(self, aval: ShapedArray) -> Any:
        return self.jax.dtypes.canonicalize_dtype(aval.dtype)

    def coerce(self, x: Any, aval: ShapedArray) -> Any:
        x = self.lax.convert_element_type(x, self.dtype(aval))
        if tuple(np.shape(x)) != aval.shape:
            x = self.jnp.broadcast_to(x, aval.shape)
        return x

    def host(self, fn: Callable[..., Any], *args: Any) -> Any:
        # 64-bit results travel as uint32 words: JAX converts a callback's results to
        # the types of the thread that runs it, and XLA may run it on a worker thread
        # that does not see the 64-bit mode jit(backend="xla") enables for its call
        dtypes = [np.dtype(self.dtype(a)) for a in self.out_avals]
        shapes = [tuple(a.shape) for a in self.out_avals]
        words = [_words(d) for d in dtypes]
        wire = [self.jax.ShapeDtypeStruct(s + ((w,) if w else ()), np.uint32 if w else d)
                for s, d, w in zip(shapes, dtypes, words)]
        multiple = self.multiple

        def call(*xs: Any) -> list[Any]:
            out = fn(*[np.asarray(x) for x in xs])
            outs = list(out) if multiple else [out]
            sent = []
            for o, s, d, w in zip(outs, shapes, dtypes, words):
                o = np.ascontiguousarray(np.asarray(o, dtype=d).reshape(s))
                sent.append(o.view(np.uint32).reshape(s + (w,)) if w else o)
            return sent

        res = self.jax.pure_callback(call, wire, *args, vmap_method="sequential")
        res = [self._unwire(r, d, w) for r, d, w in zip(res, dtypes, words)]
        return res if multiple else res[0]

    def _unwire(self, r: Any, dtype: np.dtype, words: int) -> Any:
        if not words:
            return r
        if dtype.kind == "c":  # real and imaginary parts, two words each
            parts = self.lax.bitcast_convert_type(
                r.reshape(r.shape[:-1] + (2, 2)), np.dtype(np.float64))
            return self.lax.complex(parts[..., 0], parts[..., 1])
        return self.lax.bitcast_convert_type(r, dtype)


def _words(dtype: np.dtype) -> int:
    """How many uint32 words carry one value of ``dtype`` out of a host callback (0:
    a type JAX keeps as it is)."""
    if dtype.kind in "fiuc" and dtype.itemsize // (2 if dtype.kind == "c" else 1) == 8:
        return dtype.itemsize // 4
    return 0


def _eval(ctx: _Context, jaxpr: Jaxpr, consts: Sequence[Any], args: Sequence[Any]) -> list[Any]:
    env: dict[Var, Any] = {}
    for v, x in zip(jaxpr.constvars, consts):
        env[v] = x
    for v, x in zip(jaxpr.invars, args):
        env[v] = x

    def read(a: Any) -> Any:
        return a.val if isinstance(a, Literal) else env[a]

    for eqn in jaxpr.eqns:
        prim = eqn.prim
        lowering = lowering_of(prim)
        if lowering is None:
            raise LoweringError(
                f"primitive {prim.name!r} has no XLA lowering, so jit(backend='xla') and "
                "xform.export.to_jax cannot compile a function that uses it; use "
                "jit(backend='numpy') for this function, or declare the primitive's "
                "`lower` fact (see xform/core/lowering.py)")
        avals = [v.aval for v in eqn.outvars]
        ctx.out_avals, ctx.multiple = avals, prim.multiple_results
        try:
            out = lowering(ctx, *[read(a) for a in eqn.invars], **eqn.params)
        except LoweringError:
            raise
        except Exception as e:
            raise LoweringError(f"lowering primitive {prim.name!r} to JAX failed: "
                                f"{type(e).__name__}: {e}") from e
        outs = list(out) if prim.multiple_results else [out]
        if len(outs) != len(avals):
            raise LoweringError(f"the lowering of {prim.name!r} gave {len(outs)} results, "
                                f"the IR expects {len(avals)}")
        for v, o in zip(eqn.outvars, outs):
            if tuple(np.shape(o)) != v.aval.shape:
                raise LoweringError(f"the lowering of {prim.name!r} gave shape "
                                    f"{tuple(np.shape(o))}, the IR expects {v.aval.shape}")
            env[v] = o if getattr(o, "dtype", None) == ctx.dtype(v.aval) else ctx.coerce(o, v.aval)
    return [ctx.coerce(read(a), a.aval) for a in jaxpr.outvars]


def lower_closed(closed: ClosedJaxpr) -> Callable[..., list[Any]]:
    """A pure function of JAX arrays computing what ``closed`` computes (a list of
    outputs, one per output of the jaxpr). Lowering happens when JAX traces it."""
    ctx = _Context(require_jax("the XLA backend"))
    consts = list(closed.consts)
    return lambda *args: _eval(ctx, closed.jaxpr, consts, args)


class XlaCompiled:
    """A jaxpr compiled with ``jax.jit``: ``fn`` takes and returns NumPy arrays."""

    __slots__ = ("fn", "source", "jitted")

    def __init__(self, closed: ClosedJaxpr) -> None:
        jax = require_jax("jit(backend='xla')")
        self.jitted = jax.jit(lower_closed(closed))
        self.source = str(closed)
        jitted, enable = self.jitted, jax.enable_x64

        def fn(*args: Any) -> tuple[Any, ...]:
            with enable(True):
                outs = jitted(*args)
                return tuple([np.asarray(o) for o in outs])
        self.fn = fn


def compile_xla(closed: ClosedJaxpr) -> XlaCompiled:
    """``closed`` compiled for XLA through ``jax.jit`` (compilation itself happens on
    the first call, when the argument types are known)."""
    return XlaCompiled(closed)
