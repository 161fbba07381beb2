"""Python operators and ndarray methods on tracers, and NumPy's dispatch protocols.

Attached here rather than in ``core`` so the core does not depend on this layer.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..core.trace import Tracer
from . import _contract as C
from . import _creation as K
from . import _elementwise as E
from . import _indexing as I
from . import _reductions as R
from . import _shape as S
from . import _extra_elementwise as X
from . import _manip as M
from . import _stats as ST


def _swap(f: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    def reflected(self: Any, other: Any) -> Any:
        return f(other, self)
    return reflected


def _shape_args(args: tuple[Any, ...]) -> Any:
    return args[0] if len(args) == 1 and not isinstance(args[0], (int, np.integer)) else args


_OPERATORS: dict[str, Callable[..., Any]] = {
    "__add__": E.add, "__radd__": _swap(E.add),
    "__sub__": E.subtract, "__rsub__": _swap(E.subtract),
    "__mul__": E.multiply, "__rmul__": _swap(E.multiply),
    "__truediv__": E.divide, "__rtruediv__": _swap(E.divide),
    "__floordiv__": E.floor_divide, "__rfloordiv__": _swap(E.floor_divide),
    "__mod__": E.mod, "__rmod__": _swap(E.mod),
    "__pow__": E.power, "__rpow__": _swap(E.power),
    "__matmul__": C.matmul, "__rmatmul__": _swap(C.matmul),
    "__neg__": E.negative, "__pos__": E.positive, "__abs__": E.absolute,
    "__eq__": E.equal, "__ne__": E.not_equal, "__lt__": E.less, "__le__": E.less_equal,
    "__gt__": E.greater, "__ge__": E.greater_equal,
    "__and__": E.logical_and, "__or__": E.logical_or, "__xor__": E.logical_xor,
    "__invert__": E.logical_not,
    "__getitem__": I.getitem,
}

_METHODS: dict[str, Callable[..., Any]] = {
    "sum": R.sum, "mean": R.mean, "prod": R.prod, "max": R.max, "min": R.min,
    "var": R.var, "std": R.std, "ptp": R.ptp, "cumsum": R.cumsum, "cumprod": R.cumprod,
    "argmax": R.argmax, "argmin": R.argmin, "all": R.all, "any": R.any,
    "dot": C.dot, "astype": E.astype, "ravel": S.ravel, "flatten": S.ravel,
    "squeeze": S.squeeze, "swapaxes": S.swapaxes, "clip": E.clip, "round": E.round,
    "repeat": S.repeat, "take": I.take, "argsort": I.argsort, "copy": K.copy,
    "conj": X.conj, "conjugate": X.conj, "diagonal": M.diagonal, "trace": M.trace,
    "searchsorted": ST.searchsorted, "nonzero": I.nonzero,
    # traced arrays are immutable: as in JAX these return the result, not None
    "sort": ST.sort, "partition": ST.partition, "argpartition": ST.argpartition,
}


def _reshape(self: Any, *shape: Any, order: str = "C") -> Any:
    return S.reshape(self, _shape_args(shape), order)


def _transpose(self: Any, *axes: Any) -> Any:
    return S.transpose(self, None if not axes else _shape_args(axes))


def _item(self: Any, *args: Any) -> Any:
    return np.asarray(self._scalar("item()")).item(*args)


def _tolist(self: Any) -> Any:
    return np.asarray(self._concrete("tolist()")).tolist()


_UFUNCS: dict[Any, Callable[..., Any]] = {}  # NumPy ufunc -> xform.numpy function


def _array_ufunc(self: Any, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
    # hot: `ndarray * tracer` arrives here, so resolve each ufunc once
    fn = _UFUNCS.get(ufunc) if method == "__call__" and not kwargs else None
    if fn is not None:
        return fn(*inputs)
    from .. import numpy as xnp
    fn = getattr(xnp, ufunc.__name__, None) if method == "__call__" else None
    if fn is not None and not kwargs:
        _UFUNCS[ufunc] = fn
    if fn is None or kwargs:
        detail = f" with keyword arguments {sorted(kwargs)}" if kwargs else ""
        raise TypeError(
            f"numpy.{ufunc.__name__} (method {method!r}){detail} was called on a traced "
            f"value; xform cannot differentiate it there. Call `xform.numpy."
            f"{ufunc.__name__}` instead (import xform.numpy as np).")
    return fn(*inputs)


def _array_function(self: Any, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
    from .. import numpy as xnp
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
    return fn(*args, **kwargs)


def install() -> None:
    """Attach operators and methods to ``Tracer``."""
    for name, fn in {**_OPERATORS, **_METHODS}.items():
        setattr(Tracer, name, fn)
    Tracer.reshape = _reshape  # type: ignore[attr-defined]
    Tracer.transpose = _transpose  # type: ignore[attr-defined]
    Tracer.item = _item  # type: ignore[attr-defined]
    Tracer.tolist = _tolist  # type: ignore[attr-defined]
    Tracer.T = property(lambda self: S.transpose(self))  # type: ignore[attr-defined]
    Tracer.real = property(X.real)  # type: ignore[attr-defined]
    Tracer.imag = property(X.imag)  # type: ignore[attr-defined]
    Tracer.at = property(I.IndexUpdateHelper)  # type: ignore[attr-defined]
    Tracer.__array_ufunc__ = _array_ufunc  # type: ignore[attr-defined]
    Tracer.__array_function__ = _array_function  # type: ignore[attr-defined]
