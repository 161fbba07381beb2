"""``jit``: trace once on shapes and dtypes, optimise the IR, run generated NumPy code.

A jitted function traces its Python body abstractly the first time it sees an
argument signature (tree structure, shapes, dtypes and the values of static
arguments), optimises the resulting jaxpr, generates one Python function that
calls NumPy directly, and caches it. Later calls with the same signature run
only the generated code. Called with values that another transform is tracing
(inside ``grad``, ``vmap``, another ``jit``...), it simply runs the function,
so every composition works.

``backend="xla"`` runs the same optimised jaxpr lowered to JAX under ``jax.jit``
(``xform/jit/xla.py``): NumPy arrays in, NumPy arrays out, float64 kept.
"""
from __future__ import annotations

import functools
import inspect
from typing import Any, Callable, Hashable, Sequence

import numpy as np

from ..core.ir import ClosedJaxpr, ShapedArray
from ..core.staging import trace_to_jaxpr
from ..core.trace import ConcretizationError, Tracer, to_numpy_value
from ..tree_util import tree_flatten, tree_unflatten
from .codegen import Generated, generate
from .passes import optimize
from .xla import XlaCompiled, compile_xla, require_jax

Fun = Callable[..., Any]
BACKENDS = ("numpy", "xla")


class Lowered:
    """A traced and optimised function for one argument signature."""

    def __init__(self, closed: ClosedJaxpr, optimized: ClosedJaxpr, out_tree: Any,
                 name: str, backend: str = "numpy") -> None:
        self.jaxpr = closed
        self.optimized = optimized
        self.out_tree = out_tree
        self.name = name
        self.backend = backend
        self._generated: Generated | XlaCompiled | None = None

    def as_text(self, optimized: bool = True) -> str:
        """The IR, after the optimisation passes (or before, with ``optimized=False``)."""
        return str(self.optimized if optimized else self.jaxpr)

    def compile(self) -> Generated | XlaCompiled:
        """Generate (once) the function that runs this signature: Python calling NumPy,
        or with ``backend="xla"`` the lowered function under ``jax.jit``."""
        if self._generated is None:
            if self.backend == "xla":
                self._generated = compile_xla(self.optimized)
            else:
                self._generated = generate(self.optimized, _identifier(self.name))
        return self._generated

    def python_source(self) -> str:
        """The source of the generated Python function (the IR, for ``backend="xla"``)."""
        return self.compile().source


def _identifier(name: str) -> str:
    cleaned = "".join(c if c.isalnum() else "_" for c in name)
    return f"jit_{cleaned}" if cleaned and not cleaned[0].isdigit() else "jit_fn"


def _aval(x: Any) -> ShapedArray:
    return ShapedArray(np.shape(x), np.result_type(x))


class Jitted:
    """The callable returned by :func:`jit`."""

    def __init__(self, fun: Fun, static_argnums: Sequence[int], static_argnames: Sequence[str],
                 backend: str = "numpy") -> None:
        functools.update_wrapper(self, fun)
        self.backend = backend
        self.fun = fun
        self._name: str = getattr(fun, "__name__", "function")
        self.static_argnums = tuple(static_argnums)
        self.static_argnames = tuple(static_argnames)
        self._signature = None
        try:
            self._signature = inspect.signature(fun)
        except (TypeError, ValueError):
            pass
        self._cache: dict[Hashable, tuple[Lowered, Generated | XlaCompiled]] = {}
        # calls with only NumPy-array positional arguments skip pytree handling
        self._fast: dict[Hashable, tuple[Callable[..., Any], Any]] = {}
        self._fast_ok = not self.static_argnums and not self.static_argnames

    # -- argument handling
    def _split(self, args: tuple[Any, ...], kwargs: dict[str, Any]
               ) -> tuple[list[Any], dict[int, Any], list[str]]:
        """Positional arguments, the static ones by position, and all names."""
        names: list[str] = []
        if kwargs or self.static_argnames:
            if self._signature is None:
                raise TypeError(f"jit: cannot bind keyword arguments of {self.fun!r}")
            bound = self._signature.bind(*args, **kwargs)
            bound.apply_defaults()
            names = list(bound.arguments)
            values = list(bound.arguments.values())
        else:
            values = list(args)
            if self._signature is not None:
                names = list(self._signature.parameters)[:len(values)]
        static_pos = {i % max(len(values), 1) for i in self.static_argnums}
        static_pos |= {names.index(n) for n in self.static_argnames if n in names}
        return values, {i: values[i] for i in sorted(static_pos)}, names

    def _key(self, treedef: Any, leaves: Sequence[Any], static: dict[int, Any]) -> Hashable:
        try:
            static_key = tuple((i, static[i]) for i in static)
            hash(static_key)
        except TypeError:
            raise TypeError(
                f"jit of `{self._name}`: static arguments must be hashable, got "
                f"{[type(static[i]).__name__ for i in static]}; pass arrays as ordinary "
                "(traced) arguments instead.") from None
        return (treedef, tuple((np.shape(x), np.result_type(x)) for x in leaves), static_key)

    def lower(self, *args: Any, **kwargs: Any) -> Lowered:
        """Trace and optimise for these arguments' signature (without running)."""
        values, static, names = self._split(args, kwargs)
        dyn = [v for i, v in enumerate(values) if i not in static]
        leaves, treedef = tree_flatten(dyn)
        return self._lower(values, static, names, [to_numpy_value(x) for x in leaves], treedef)

    def _lower(self, values: list[Any], static: dict[int, Any], names: list[str],
               leaves: list[Any], treedef: Any) -> Lowered:
        out_tree: list[Any] = []

        def flat_fun(*flat: Any) -> list[Any]:
            it = iter(tree_unflatten(treedef, list(flat)))
            full = [static[i] if i in static else next(it) for i in range(len(values))]
            out_leaves, tree = tree_flatten(self.fun(*full))
            out_tree.append(tree)
            return out_leaves

        try:
            closed = trace_to_jaxpr(flat_fun, [_aval(x) for x in leaves])
        except ConcretizationError as e:
            traced = [n for i, n in enumerate(names) if i not in static] or ["its arguments"]
            raise ConcretizationError(
                f"jit of `{self._name}`: {e}\nWhile tracing, only the shapes and dtypes "
                f"of the traced arguments {traced} are known. If control flow depends on "
                "one of them, mark it static (jit(f, static_argnums=...) or "
                "static_argnames=...), or express the branch with xform.lax.cond / "
                "xform.numpy.where / xform.lax.while_loop.") from None
        return Lowered(closed, optimize(closed), out_tree[0], self._name, self.backend)

    # -- calling
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._fast_ok and not kwargs:
            try:
                key = tuple([(a.shape, a.dtype) for a in args if type(a) is np.ndarray])
            except AttributeError:
                key = None
            if key is not None and len(key) == len(args):
                hit = self._fast.get(key)
                if hit is not None:
                    fn, single = hit
                    outs = fn(*args)
                    if single:
                        return _writable(outs[0])
        return self._call(args, kwargs)

    def _call(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        values, static, names = self._split(args, kwargs)
        dyn = [v for i, v in enumerate(values) if i not in static]
        leaves, treedef = tree_flatten(dyn)
        if any(isinstance(x, Tracer) for x in leaves):
            # inside another transform: run the body, which that transform traces
            return self.fun(*values)
        leaves = [to_numpy_value(x) for x in leaves]
        key = self._key(treedef, leaves, static)
        entry = self._cache.get(key)
        if entry is None:
            lowered = self._lower(values, static, names, leaves, treedef)
            entry = self._cache[key] = (lowered, lowered.compile())
        lowered, generated = entry
        if (self._fast_ok and not kwargs and lowered.out_tree.num_leaves == 1
                and lowered.out_tree.is_leaf() and all(type(a) is np.ndarray for a in args)):
            self._fast[tuple((a.shape, a.dtype) for a in args)] = (generated.fn, True)
        outs = generated.fn(*leaves)
        return tree_unflatten(lowered.out_tree, [_writable(o) for o in outs])

    def clear_cache(self) -> None:
        """Forget every compiled signature."""
        self._cache.clear()
        self._fast.clear()


def _writable(x: Any) -> Any:
    # broadcast views are read-only; hand users arrays they can modify
    if isinstance(x, np.ndarray) and not x.flags.writeable:
        return x.copy()
    return x


def jit(fun: Fun | None = None, static_argnums: int | Sequence[int] = (),
        static_argnames: str | Sequence[str] = (), backend: str = "numpy") -> Any:
    """Compile ``fun``: trace once per argument signature, optimise, run generated NumPy code.

    With ``backend="xla"`` the optimised IR is lowered to JAX and run under
    ``jax.jit`` (XLA's fused code; needs the optional extra ``xform[xla]``): NumPy
    arrays in and out, float64 kept, with 64-bit JAX types enabled only during the call.

    >>> import xform, xform.numpy as np
    >>> f = xform.jit(lambda x: np.sum(np.sin(x) ** 2))
    >>> round(float(f(np.ones(3))), 6)
    2.12422
    """
    if backend not in BACKENDS:
        raise ValueError(f"jit: backend must be one of {BACKENDS}, got {backend!r}")
    if backend == "xla":
        require_jax("jit(backend='xla')")
    nums = (static_argnums,) if isinstance(static_argnums, int) else tuple(static_argnums)
    names = (static_argnames,) if isinstance(static_argnames, str) else tuple(static_argnames)
    if fun is None:
        return lambda f: Jitted(f, nums, names, backend)
    return Jitted(fun, nums, names, backend)


__all__ = ["jit", "Jitted", "Lowered"]
