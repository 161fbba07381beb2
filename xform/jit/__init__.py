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

import collections
import functools
import inspect
import logging
import os
import time
import types
from typing import (Any, Callable, Generic, Hashable, NamedTuple, ParamSpec, Sequence, TypeVar,
                    overload)

import numpy as np

from ..core import nan_check
from ..core.arrays import foreign_of, is_foreign
from ..core.frames import call_at_user_line
from ..core.ir import ClosedJaxpr, ShapedArray
from ..core.staging import trace_to_jaxpr
from ..core.trace import (ConcretizationError, Tracer, call_without_gc, is_array_like,
                          non_array_error, to_numpy_value)
from ..interpreters.vjp import vjp_flat
from ..tree_util import keystr, tree_flatten, tree_leaves, tree_leaves_with_path, tree_unflatten
from .codegen import Generated, generate
from .passes import optimize
from .reroll import reroll as _reroll
from .xla import XlaCompiled, compile_xla, require_jax

Fun = Callable[..., Any]
BACKENDS = ("numpy", "xla")
P = ParamSpec("P")
R = TypeVar("R")


def _default_cache_size() -> int:
    value = os.environ.get("XFORM_JIT_CACHE_SIZE", "64")
    try:
        size = int(value)
    except ValueError:
        size = 0
    if size < 1:
        raise ValueError(f"XFORM_JIT_CACHE_SIZE must be a positive integer, got {value!r}")
    return size


#: How many argument signatures a jitted function keeps compiled when ``jit`` is not
#: given ``cache_size``: the least recently used one is dropped beyond that. 64, or the
#: environment variable ``XFORM_JIT_CACHE_SIZE`` when xform is imported; read each time
#: ``jit`` is called. Change it with ``xform.config.update("jit_cache_size", n)``.
DEFAULT_CACHE_SIZE = _default_cache_size()


def check_cache_size(size: Any, who: str) -> int:
    """``size`` if it is a valid cache bound (a positive int), else a clear ValueError."""
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ValueError(f"{who}: cache_size must be a positive int (the number of "
                         f"argument signatures kept), got {size!r}")
    return size


def set_default_cache_size(size: int) -> None:
    """Set :data:`DEFAULT_CACHE_SIZE` (for functions jitted from now on)."""
    global DEFAULT_CACHE_SIZE
    DEFAULT_CACHE_SIZE = check_cache_size(size, "jit_cache_size")


def default_cache_size() -> int:
    return DEFAULT_CACHE_SIZE


#: A trace and compile that takes longer than this many seconds logs one INFO line on
#: the ``"xform"`` logger naming the function and the argument shapes. Change it with
#: ``xform.config.update("jit_log_compile_seconds", s)``.
LOG_COMPILE_SECONDS = 3.0
_log = logging.getLogger("xform")


def set_log_compile_seconds(seconds: float) -> None:
    """Set :data:`LOG_COMPILE_SECONDS`."""
    global LOG_COMPILE_SECONDS
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0:
        raise ValueError("jit_log_compile_seconds must be a number of seconds >= 0, got "
                         f"{seconds!r}")
    LOG_COMPILE_SECONDS = float(seconds)


def log_compile_seconds() -> float:
    return LOG_COMPILE_SECONDS


class CacheInfo(NamedTuple):
    """``Jitted.cache_info()``: compiled signatures kept, the bound, traces so far."""
    currsize: int
    maxsize: int
    traces: int


class Lowered:
    """A traced and optimised function for one argument signature."""

    def __init__(self, closed: ClosedJaxpr, optimized: ClosedJaxpr, out_tree: Any,
                 name: str, backend: str = "numpy") -> None:
        self.jaxpr = closed
        self.optimized = optimized
        self.out_tree = out_tree
        self.name = name
        self.backend = backend
        self._generated: dict[type | None, Generated | XlaCompiled] = {}

    def as_text(self, optimized: bool = True) -> str:
        """The IR, after the optimisation passes (or before, with ``optimized=False``)."""
        return str(self.optimized if optimized else self.jaxpr)

    def compile(self, like: Any = None) -> Generated | XlaCompiled:
        """Generate (once) the function that runs this signature: Python calling NumPy,
        or with ``backend="xla"`` the lowered function under ``jax.jit``. With ``like``,
        an array of another library (Dask, CuPy), the NumPy program's constants are made
        arrays of that kind, once, so that they mix with its inputs."""
        kind = None if like is None or self.backend == "xla" else type(like)
        generated = self._generated.get(kind)
        if generated is None:
            if self.backend == "xla":
                generated = compile_xla(self.optimized)
            else:
                generated = generate(self.optimized, _identifier(self.name), like)
            self._generated[kind] = generated
        return generated

    def python_source(self) -> str:
        """The source of the generated Python function (the IR, for ``backend="xla"``)."""
        return self.compile().source


def _identifier(name: str) -> str:
    cleaned = "".join(c if c.isalnum() else "_" for c in name)
    return f"jit_{cleaned}" if cleaned and not cleaned[0].isdigit() else "jit_fn"


def _aval(x: Any) -> ShapedArray:
    return ShapedArray(np.shape(x), np.result_type(x))


class Jitted(Generic[P, R]):
    """The callable returned by :func:`jit`: called like the function it compiles,
    returning what that function returns (as NumPy arrays)."""

    def __init__(self, fun: Callable[P, R], static_argnums: Sequence[int],
                 static_argnames: Sequence[str], cache_size: int | None = None,
                 backend: str = "numpy") -> None:
        functools.update_wrapper(self, fun)
        self.backend = backend
        self.fun: Fun = fun
        self._name: str = getattr(fun, "__name__", "function")
        self.static_argnums = tuple(static_argnums)
        self.static_argnames = tuple(static_argnames)
        self._signature = None
        try:
            self._signature = inspect.signature(fun)
        except (TypeError, ValueError):
            pass
        self.cache_size = check_cache_size(
            DEFAULT_CACHE_SIZE if cache_size is None else cache_size, f"jit of `{self._name}`")
        self._traces = 0
        # least recently used first: a hit moves its signature to the end
        self._cache: collections.OrderedDict[Hashable, tuple[Lowered, Generated | XlaCompiled]] = \
            collections.OrderedDict()
        # calls with only NumPy-array positional arguments skip pytree handling; each
        # entry names its signature in _cache, so both forget it together
        self._fast: dict[Hashable, tuple[Callable[..., Any], Any, Hashable]] = {}
        self._fast_key_of: dict[Hashable, Hashable] = {}
        self._fast_ok = not self.static_argnums and not self.static_argnames

    def __get__(self, instance: Any, owner: Any = None) -> Any:
        """``@jit`` on a method: ``obj.f(x)`` calls the jitted function with ``obj``
        first (mark it static, ``jit(f, static_argnums=0)``, unless it is a pytree)."""
        return self if instance is None else types.MethodType(self, instance)

    # -- argument handling
    def _split(self, args: tuple[Any, ...], kwargs: dict[str, Any]
               ) -> tuple[list[Any], dict[int, Any], list[str], Callable[[list[Any]], Any]]:
        """The arguments as one list of values (keywords bound to their parameters), the
        static ones by position, their names, and how to call ``fun`` with such a list."""
        names: list[str] = []
        if kwargs or self.static_argnames:
            if self._signature is None:
                raise TypeError(f"jit: cannot bind keyword arguments of {self.fun!r}")
            signature = self._signature
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            names = list(bound.arguments)
            values = list(bound.arguments.values())

            def call(full: list[Any]) -> Any:
                # keyword-only parameters and **kwargs go back by name
                again = inspect.BoundArguments(signature, collections.OrderedDict(zip(names, full)))
                return self.fun(*again.args, **again.kwargs)
        else:
            values = list(args)
            if self._signature is not None:
                names = list(self._signature.parameters)[:len(values)]
            call = self._call_positionally  # (no closure made per call)
        static_pos = {i % max(len(values), 1) for i in self.static_argnums}
        static_pos |= {names.index(n) for n in self.static_argnames if n in names}
        return values, {i: values[i] for i in sorted(static_pos)}, names, call

    def _call_positionally(self, full: list[Any]) -> Any:
        return self.fun(*full)

    def _key(self, treedef: Any, leaves: Sequence[Any], static: dict[int, Any]) -> Hashable:
        try:
            static_key = tuple((i, static[i]) for i in static)
            hash(static_key)
        except TypeError:
            raise TypeError(
                f"jit of `{self._name}`: static arguments must be hashable, got "
                f"{[type(static[i]).__name__ for i in static]}; pass arrays as ordinary "
                "(traced) arguments instead.") from None
        # the array type too: Dask-in and NumPy-in calls compile separately
        return (treedef, tuple((np.shape(x), np.result_type(x), is_foreign(x) and type(x))
                               for x in leaves), static_key)

    def _check_leaves(self, values: list[Any], static: dict[int, Any], names: list[str],
                      dyn: list[Any], leaves: list[Any]) -> None:
        """A clear TypeError for a traced argument that is not an array."""
        if all(is_array_like(x) for x in leaves):
            return
        positions = [i for i in range(len(values)) if i not in static]
        for path, x in tree_leaves_with_path(dyn):
            if not is_array_like(x):
                i = positions[path[0].idx]
                name = f"argument {names[i]!r}" if i < len(names) else f"argument {i}"
                where = f" (at {keystr(path[1:])})" if len(path) > 1 else ""
                raise non_array_error(f"jit of `{self._name}`", f"{name}{where}", x)

    def lower(self, *args: Any, **kwargs: Any) -> Lowered:
        """Trace and optimise for these arguments' signature (without running)."""
        values, static, names, call = self._split(args, kwargs)
        dyn = [v for i, v in enumerate(values) if i not in static]
        leaves, treedef = tree_flatten(dyn)
        self._check_leaves(values, static, names, dyn, leaves)
        return self._lower(values, static, names, call, [to_numpy_value(x) for x in leaves],
                           treedef)

    def _lower(self, values: list[Any], static: dict[int, Any], names: list[str],
               call: Callable[[list[Any]], Any], leaves: list[Any], treedef: Any) -> Lowered:
        out_tree: list[Any] = []

        def flat_fun(*flat: Any) -> list[Any]:
            it = iter(tree_unflatten(treedef, list(flat)))
            full = [static[i] if i in static else next(it) for i in range(len(values))]
            out_leaves, tree = tree_flatten(call(full))
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
        optimized = optimize(closed)
        if self.backend == "xla":  # XLA compiles a loop far faster than its unrolled steps
            optimized = _reroll(optimized)
        return Lowered(closed, optimized, out_tree[0], self._name, self.backend)

    # -- calling
    def _invoke(self, *args: Any, **kwargs: Any) -> Any:
        if nan_check.flags.nans:
            return self._call_finding_nans(args, kwargs)
        if self._fast_ok and not kwargs:
            try:
                key = tuple([(a.shape, a.dtype) for a in args if type(a) is np.ndarray])
            except AttributeError:
                key = None
            if key is not None and len(key) == len(args):
                hit = self._fast.get(key)
                if hit is not None:
                    fn, single, signature = hit
                    self._cache.move_to_end(signature)
                    outs = call_at_user_line(fn, args)
                    if single:
                        return _writable(outs[0])
        return self._call(args, kwargs)

    # typed for users as the wrapped function's signature (jit(f) is called like f);
    # the body above is checked as untyped *args: it is the same function object, with
    # no extra call per invocation
    __call__: Callable[P, R] = _invoke  # type: ignore[assignment]

    def _call(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        values, static, names, call = self._split(args, kwargs)
        dyn = [v for i, v in enumerate(values) if i not in static]
        leaves, treedef = tree_flatten(dyn)
        if any(isinstance(x, Tracer) for x in leaves):
            # inside another transform: run the body, which that transform traces
            return call(values)
        self._check_leaves(values, static, names, dyn, leaves)
        leaves = [to_numpy_value(x) for x in leaves]
        key = self._key(treedef, leaves, static)
        entry = self._cache.get(key)
        if entry is None:
            start = time.perf_counter()
            # with the collector paused: a large program is millions of new objects, and
            # the collector walked them again and again (a third of the compile time)
            entry = call_without_gc(self._compile, values, static, names, call, leaves,
                                    treedef)
            self._traces += 1
            self._cache[key] = entry
            took = time.perf_counter() - start
            if took > LOG_COMPILE_SECONDS:
                _log.info("jit: tracing and compiling `%s` for %s took %.1f s (%d equations "
                          "after optimisation); later calls with these shapes reuse it",
                          self._name, _signature_text(leaves), took,
                          len(entry[0].optimized.jaxpr.eqns))
            while len(self._cache) > self.cache_size:
                old, _ = self._cache.popitem(last=False)
                self._fast.pop(self._fast_key_of.pop(old, None), None)
        else:
            self._cache.move_to_end(key)
        lowered, generated = entry
        if (self._fast_ok and not kwargs and lowered.out_tree.num_leaves == 1
                and lowered.out_tree.is_leaf() and all(type(a) is np.ndarray for a in args)):
            fast_key = tuple((a.shape, a.dtype) for a in args)
            self._fast[fast_key] = (generated.fn, True, key)
            self._fast_key_of[key] = fast_key
        outs = call_at_user_line(generated.fn, leaves)
        return tree_unflatten(lowered.out_tree, [_writable(o) for o in outs])

    def _compile(self, values: list[Any], static: dict[int, Any], names: list[str],
                 call: Any, leaves: list[Any], treedef: Any
                 ) -> tuple[Lowered, Generated | XlaCompiled]:
        lowered = self._lower(values, static, names, call, leaves, treedef)
        return lowered, lowered.compile(foreign_of(leaves))

    def _call_finding_nans(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """With debug_nans on: a NaN in the outputs from NaN-free inputs re-runs the
        function eagerly, where the first primitive that makes it raises."""
        out = self._call(args, kwargs)
        leaves_in = [x for x in tree_leaves((args, kwargs)) if not isinstance(x, Tracer)]
        if not _any_nan(tree_leaves(out)) or _any_nan(leaves_in):
            return out
        # Eagerly, NumPy scalars' own operators would bypass xform's checks (x - y on
        # two float64 results); on a tape every operation goes through a primitive.
        leaves, treedef = tree_flatten((args, kwargs))

        def flat_fun(*flat: Any) -> list[Any]:
            a, kw = tree_unflatten(treedef, list(flat))
            return tree_leaves(self.fun(*a, **kw))

        vjp_flat(flat_fun, leaves, [np.result_type(x).kind in "fc" for x in leaves])
        raise FloatingPointError(
            f"debug_nans: jit({self._name}) returned a NaN from NaN-free inputs, but running "
            "it eagerly did not: the compiled code differs numerically here (an "
            "algebraic simplification). Report it with the function.")

    def clear_cache(self) -> None:
        """Forget every compiled signature."""
        self._cache.clear()
        self._fast.clear()
        self._fast_key_of.clear()

    def cache_info(self) -> CacheInfo:
        """How many signatures are compiled and kept, the bound, and how many times the
        function was traced.

        >>> import xform, xform.numpy as np
        >>> f = xform.jit(np.sin, cache_size=2)
        >>> for n in (1, 2, 3, 2):
        ...     _ = f(np.ones(n))
        >>> f.cache_info()
        CacheInfo(currsize=2, maxsize=2, traces=3)
        """
        return CacheInfo(len(self._cache), self.cache_size, self._traces)


def _signature_text(leaves: Sequence[Any]) -> str:
    """``f64[3], f32[]``: the argument signature a compilation is for."""
    shown = ", ".join(_aval(x).str_short() for x in leaves[:8])
    return f"({shown}{', ...' if len(leaves) > 8 else ''})"


def _any_nan(leaves: Sequence[Any]) -> bool:
    return any(np.result_type(x).kind in "fc" and bool(np.isnan(x).any()) for x in leaves
               if isinstance(x, (np.ndarray, np.generic, float, complex)))


def _writable(x: Any) -> Any:
    # broadcast views are read-only; hand users arrays they can modify
    if isinstance(x, np.ndarray) and not x.flags.writeable:
        return x.copy()
    return x


@overload
def jit(fun: Callable[P, R], static_argnums: int | Sequence[int] = (),
        static_argnames: str | Sequence[str] = (), cache_size: int | None = None,
        backend: str = "numpy") -> Jitted[P, R]: ...
@overload
def jit(fun: None = None, static_argnums: int | Sequence[int] = (),
        static_argnames: str | Sequence[str] = (), cache_size: int | None = None,
        backend: str = "numpy") -> Callable[[Callable[P, R]], Jitted[P, R]]: ...
def jit(fun: Callable[P, R] | None = None, static_argnums: int | Sequence[int] = (),
        static_argnames: str | Sequence[str] = (), cache_size: int | None = None,
        backend: str = "numpy") -> Any:
    """Compile ``fun``: trace once per argument signature, optimise, run generated NumPy code.

    At most ``cache_size`` signatures (default :data:`DEFAULT_CACHE_SIZE`, 64) stay
    compiled; beyond that the least recently used one is dropped (and traced again if
    it comes back), so a function called with ever new shapes does not grow without
    bound. ``f.cache_info()`` reports the cache.

    With ``backend="xla"`` the optimised IR is lowered to JAX and run under
    ``jax.jit`` (XLA's fused code; needs the optional extra ``xform[xla]``): NumPy
    arrays in and out, float64 kept, with 64-bit JAX types enabled only during the call.

    Args:
        fun: the function to compile (or ``None``: ``jit(static_argnums=...)`` is then
            a decorator).
        static_argnums: positional arguments taken as Python constants (hashable); each
            new value compiles again.
        static_argnames: the same, by keyword.
        cache_size: how many argument signatures stay compiled.
        backend: ``"numpy"`` (generated NumPy code) or ``"xla"`` (lowered to JAX).

    Returns:
        A ``Jitted`` callable with ``fun``'s signature and return type.

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
        return lambda f: Jitted(f, nums, names, cache_size, backend)
    return Jitted(fun, nums, names, cache_size, backend)


__all__ = ["jit", "Jitted", "Lowered", "CacheInfo", "DEFAULT_CACHE_SIZE"]
