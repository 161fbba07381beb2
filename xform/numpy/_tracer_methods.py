"""Python operators and ndarray methods on tracers, and NumPy's dispatch protocols.

Attached here rather than in ``core`` so the core does not depend on this layer.
The top of the NumPy family: ``install`` receives the ``xform.numpy`` namespace
from its ``__init__``, so this module imports only the core and ``_indexing``.
"""
from __future__ import annotations

from types import ModuleType
from typing import Any, Callable

import numpy as np

from ..core.trace import Tracer, operator_method, unary_operator_method
from . import _elementwise as E
from ._indexing import IndexUpdateHelper, getitem


def _swap(f: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    def reflected(self: Any, other: Any) -> Any:
        return f(other, self)
    return reflected


def _shape_args(args: tuple[Any, ...]) -> Any:
    return args[0] if len(args) == 1 and not isinstance(args[0], (int, np.integer)) else args


def _operators(xnp: ModuleType) -> dict[str, Callable[..., Any]]:
    return {
        # the arithmetic of scalar code, straight to the trace where it can
        **{name: operator_method(prim, fn, reflected)
           for prim, fn, names in ((E.add_p, xnp.add, ("__add__", "__radd__")),
                                   (E.subtract_p, xnp.subtract, ("__sub__", "__rsub__")),
                                   (E.multiply_p, xnp.multiply, ("__mul__", "__rmul__")),
                                   (E.divide_p, xnp.divide, ("__truediv__", "__rtruediv__")))
           for name, reflected in zip(names, (False, True))},
        "__lt__": operator_method(E.less_p, xnp.less),
        "__gt__": operator_method(E.greater_p, xnp.greater),
        "__floordiv__": xnp.floor_divide, "__rfloordiv__": _swap(xnp.floor_divide),
        "__mod__": xnp.mod, "__rmod__": _swap(xnp.mod),
        "__pow__": xnp.power, "__rpow__": _swap(xnp.power),
        "__matmul__": xnp.matmul, "__rmatmul__": _swap(xnp.matmul),
        "__neg__": unary_operator_method(E.negative_p, xnp.negative), "__pos__": xnp.positive,
        "__abs__": unary_operator_method(E.abs_p, xnp.absolute),
        "__eq__": xnp.equal, "__ne__": xnp.not_equal,
        "__le__": xnp.less_equal, "__ge__": xnp.greater_equal,
        # NumPy's meaning: bitwise on integers, logical on booleans
        "__and__": xnp.bitwise_and, "__rand__": _swap(xnp.bitwise_and),
        "__or__": xnp.bitwise_or, "__ror__": _swap(xnp.bitwise_or),
        "__xor__": xnp.bitwise_xor, "__rxor__": _swap(xnp.bitwise_xor),
        "__lshift__": xnp.left_shift, "__rlshift__": _swap(xnp.left_shift),
        "__rshift__": xnp.right_shift, "__rrshift__": _swap(xnp.right_shift),
        "__invert__": xnp.invert,
        "__getitem__": getitem,
    }


def _methods(xnp: ModuleType) -> dict[str, Callable[..., Any]]:
    return {
        "sum": xnp.sum, "mean": xnp.mean, "prod": xnp.prod, "max": xnp.max, "min": xnp.min,
        "var": xnp.var, "std": xnp.std, "ptp": xnp.ptp, "cumsum": xnp.cumsum,
        "cumprod": xnp.cumprod, "argmax": xnp.argmax, "argmin": xnp.argmin, "all": xnp.all,
        "any": xnp.any, "dot": xnp.dot, "astype": xnp.astype, "ravel": xnp.ravel,
        "flatten": xnp.ravel, "squeeze": xnp.squeeze, "swapaxes": xnp.swapaxes,
        "clip": xnp.clip, "round": xnp.round, "repeat": xnp.repeat, "take": xnp.take,
        "argsort": xnp.argsort, "copy": xnp.copy, "conj": xnp.conj, "conjugate": xnp.conj,
        "diagonal": xnp.diagonal, "trace": xnp.trace, "searchsorted": xnp.searchsorted,
        "nonzero": xnp.nonzero,
        # traced arrays are immutable: as in JAX these return the result, not None
        "sort": xnp.sort, "partition": xnp.partition, "argpartition": xnp.argpartition,
    }


def _methods_with_shape_args(xnp: ModuleType) -> dict[str, Callable[..., Any]]:
    """``x.reshape(2, 3)`` and ``x.transpose(1, 0)``: shapes as separate arguments too."""
    def reshape(self: Any, *shape: Any, order: str = "C") -> Any:
        return xnp.reshape(self, _shape_args(shape), order)

    def transpose(self: Any, *axes: Any) -> Any:
        return xnp.transpose(self, None if not axes else _shape_args(axes))

    return {"reshape": reshape, "transpose": transpose}


def _item(self: Any, *args: Any) -> Any:
    return np.asarray(self._scalar("item()")).item(*args)


def _tolist(self: Any) -> Any:
    """Nested Python lists, as NumPy's. A floating-point value's elements stay traced
    scalars (Python floats would drop the derivative; ``sum(x.tolist())`` must keep it);
    integers and booleans, which carry none, become Python numbers."""
    if np.issubdtype(self.dtype, np.inexact):
        return self if not self.shape else [_tolist(row) for row in self]
    return np.asarray(self._concrete("tolist()")).tolist()


class FlatView:
    """``x.flat`` of a traced ``x``: reads of the flattened array (``x.flat[i]``, slices,
    integer arrays, iteration), each traced. Writes are refused: traced arrays are
    immutable (``x.at[...]`` makes an updated copy)."""

    __slots__ = ("base",)

    def __init__(self, base: Any) -> None:
        self.base = base

    def _flat(self) -> Any:
        return self.base.ravel()

    def __getitem__(self, idx: Any) -> Any:
        return getitem(self._flat(), idx)

    def __setitem__(self, idx: Any, value: Any) -> None:
        raise TypeError("x.flat[...] = v on a traced array: traced arrays are immutable. "
                        "Write `x = x.ravel().at[i].set(v).reshape(x.shape)` instead.")

    def __iter__(self) -> Any:
        return iter(self._flat())

    def __len__(self) -> int:
        return int(np.prod(self.base.shape, dtype=np.int64))

    def __array__(self, *args: Any, **kwargs: Any) -> Any:
        return self._flat().__array__(*args, **kwargs)  # the tracer's own refusal

    def __repr__(self) -> str:
        return f"FlatView({self.base!r})"


def _builtins(xnp: ModuleType) -> dict[str, Callable[..., Any]]:
    """``round(x[, n])`` (``numpy.round``: derivative zero) and ``divmod(a, b)``."""
    def round_(self: Any, ndigits: Any = None) -> Any:
        return xnp.round(self, 0 if ndigits is None else ndigits)

    def divmod_(a: Any, b: Any) -> Any:
        return xnp.floor_divide(a, b), xnp.mod(a, b)

    return {"__round__": round_, "__divmod__": divmod_, "__rdivmod__": _swap(divmod_)}


def _array_ufunc(xnp: ModuleType) -> Callable[..., Any]:
    """``__array_ufunc__``: a NumPy ufunc called on a tracer runs the xform.numpy
    function of the same name."""
    resolved: dict[Any, Callable[..., Any]] = {}  # NumPy ufunc -> xform.numpy function

    def array_ufunc(self: Any, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        # hot: `ndarray * tracer` arrives here, so resolve each ufunc once
        fn = resolved.get(ufunc) if method == "__call__" and not kwargs else None
        if fn is not None:
            return fn(*inputs)
        fn = getattr(xnp, ufunc.__name__, None) if method == "__call__" else None
        if fn is not None and not kwargs:
            resolved[ufunc] = fn
        if fn is None or kwargs:
            detail = f" with keyword arguments {sorted(kwargs)}" if kwargs else ""
            raise TypeError(
                f"numpy.{ufunc.__name__} (method {method!r}){detail} was called on a traced "
                f"value; xform cannot differentiate it there. Call `xform.numpy."
                f"{ufunc.__name__}` instead (import xform.numpy as np).")
        return fn(*inputs)

    return array_ufunc


def _array_function(xnp: ModuleType) -> Callable[..., Any]:
    """``__array_function__``: a NumPy function called on a tracer runs the
    xform.numpy function of the same name (the rule helpers of the core rely on it)."""
    resolved: dict[Any, Callable[..., Any]] = {}  # NumPy function -> xform.numpy function

    def array_function(self: Any, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        # `np.sum(ct)` in a rule helper arrives here under every higher-order transform
        fn = resolved.get(func)
        if fn is not None:
            return fn(*args, **kwargs)
        module = getattr(func, "__module__", "") or ""
        target: Any = xnp
        for sub in ("linalg", "fft"):
            if module.endswith(sub):
                target = getattr(xnp, sub, None)
        fn = getattr(target, func.__name__, None) if target is not None else None
        if fn is None or getattr(fn, "_xform_unsupported", False):
            raise TypeError(
                f"numpy.{func.__name__} was called on a traced value, and xform.numpy has no "
                f"differentiable `{func.__name__}` yet. Rewrite it with supported "
                "xform.numpy functions (import xform.numpy as np).")
        if fn is func:  # NumPy's own, passed through by xform.numpy: it would recurse
            raise TypeError(
                f"numpy.{func.__name__} needs concrete arrays but was called on a traced "
                "value, which would drop its derivative: call it on the transform's "
                "results, outside the transformed function.")
        resolved[func] = fn
        return fn(*args, **kwargs)

    return array_function


def install(xnp: ModuleType) -> None:
    """Attach operators, methods and NumPy's dispatch protocols to ``Tracer``, from
    the ``xform.numpy`` namespace ``xnp`` (handed in by it, as it imports this module)."""
    table = {**_operators(xnp), **_builtins(xnp), **_methods(xnp),
             **_methods_with_shape_args(xnp)}
    for name, fn in table.items():
        setattr(Tracer, name, fn)
    Tracer.item = _item  # type: ignore[attr-defined]
    Tracer.tolist = _tolist  # type: ignore[attr-defined]
    Tracer.T = property(lambda self: xnp.transpose(self))  # type: ignore[attr-defined]
    Tracer.real = property(xnp.real)  # type: ignore[attr-defined]
    Tracer.imag = property(xnp.imag)  # type: ignore[attr-defined]
    Tracer.at = property(IndexUpdateHelper)  # type: ignore[attr-defined]
    Tracer.flat = property(FlatView)  # type: ignore[attr-defined]
    Tracer.__array_ufunc__ = _array_ufunc(xnp)  # type: ignore[attr-defined]
    Tracer.__array_function__ = _array_function(xnp)  # type: ignore[attr-defined]
