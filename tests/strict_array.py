"""A strict stand-in for a device array library (CuPy), for tests on the CPU.

`StrictArray` wraps a NumPy array and speaks NumPy's dispatch protocols
(``__array_ufunc__``, ``__array_function__``) the way CuPy does: every NumPy
function applied to it runs on the wrapped data and returns a `StrictArray`.
What CuPy refuses, it refuses, and counts:

* converting it to NumPy (``np.asarray(x)``, ``__array__``), or to a Python
  number (``float``, ``int``, ``bool``, ``.item()``, ``.tolist()``): on a GPU that
  is a silent device-to-host transfer;
* mixing it with a NumPy array in one operation: CuPy raises for that, so a
  zero, a one or an identity made with plain NumPy inside a transform fails here
  as it would on a GPU. A 0-d NumPy array counts as a scalar, as in CuPy's
  kernels (a NumPy scalar or Python number is always fine).

Explicit conversions (``np.asarray(numpy_value, like=x)``, ``np.zeros(..., like=x)``)
are allowed: they are how code creates arrays of the operand's kind.
"""
from __future__ import annotations

from typing import Any

import numpy as onp
from numpy.lib.mixins import NDArrayOperatorsMixin

#: how many times something tried to turn a StrictArray into NumPy data or a number
conversions: list[str] = []

# functions that legitimately take NumPy data to create an array of this kind
_CREATORS = {onp.asarray, onp.array, onp.asanyarray, onp.ascontiguousarray}


class StrictConversionError(TypeError):
    pass


def _refuse(what: str) -> None:
    conversions.append(what)
    raise StrictConversionError(
        f"StrictArray: {what} would silently copy a device array to NumPy / the host")


def _unwrap(x: Any, where: str) -> Any:
    if isinstance(x, StrictArray):
        return x._a
    if isinstance(x, onp.ndarray) and x.ndim:
        _refuse(f"mixing a NumPy array of shape {x.shape} into {where}")
    if isinstance(x, (list, tuple)):
        return type(x)(_unwrap(v, where) for v in x)
    return x


def _wrap(x: Any) -> Any:
    if isinstance(x, (onp.ndarray, onp.generic)) and not isinstance(x, onp.dtype):
        return StrictArray(onp.asarray(x))
    if isinstance(x, tuple):
        return tuple(_wrap(v) for v in x)
    if isinstance(x, list):
        return [_wrap(v) for v in x]
    return x


def _other_library(x: Any) -> bool:
    return (not isinstance(x, (StrictArray, onp.ndarray, onp.generic))
            and hasattr(type(x), "__array_ufunc__"))


class StrictArray(NDArrayOperatorsMixin):
    __slots__ = ("_a",)

    def __init__(self, a: Any) -> None:
        self._a = onp.asarray(a)

    # metadata is free on a device array
    shape = property(lambda self: self._a.shape)
    dtype = property(lambda self: self._a.dtype)
    ndim = property(lambda self: self._a.ndim)
    size = property(lambda self: self._a.size)
    T = property(lambda self: StrictArray(self._a.T))
    real = property(lambda self: StrictArray(self._a.real))
    imag = property(lambda self: StrictArray(self._a.imag))

    def __len__(self) -> int:
        return len(self._a)

    def get(self) -> onp.ndarray:
        """The explicit transfer to NumPy (CuPy's name for it)."""
        return self._a.copy()

    def __repr__(self) -> str:
        return f"StrictArray(shape={self.shape}, dtype={self.dtype})"

    # ---------------------------------------------------------------- refusals
    def __array__(self, dtype: Any = None, copy: Any = None) -> Any:
        _refuse("__array__ (np.asarray of it)")

    def __float__(self) -> float:
        _refuse("float()")
        raise AssertionError

    def __int__(self) -> int:
        _refuse("int()")
        raise AssertionError

    def __complex__(self) -> complex:
        _refuse("complex()")
        raise AssertionError

    def __bool__(self) -> bool:
        _refuse("bool()")
        raise AssertionError

    def __index__(self) -> int:
        _refuse("__index__")
        raise AssertionError

    def item(self, *args: Any) -> Any:
        _refuse(".item()")

    def tolist(self) -> Any:
        _refuse(".tolist()")

    def __iter__(self) -> Any:
        for i in range(len(self)):
            yield self[i]

    # ---------------------------------------------------------------- dispatch
    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        if "out" in kwargs or any(_other_library(x) for x in inputs):
            return NotImplemented
        args = [_unwrap(x, f"np.{ufunc.__name__}") for x in inputs]
        return _wrap(getattr(ufunc, method)(*args, **kwargs))

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        if any(not issubclass(t, (StrictArray, onp.ndarray)) for t in types):
            return NotImplemented  # another library's array (an xform tracer): it decides
        name = f"np.{func.__name__}"
        if func in _CREATORS:  # an explicit creation from NumPy data
            args = tuple(a._a if isinstance(a, StrictArray) else a for a in args)
        else:
            args = _unwrap(args, name)
            kwargs = {k: _unwrap(v, name) for k, v in kwargs.items()}
        return _wrap(func(*args, **kwargs))

    def __getitem__(self, idx: Any) -> Any:
        return _wrap(self._a[_unwrap(idx, "indexing")])

    def __setitem__(self, idx: Any, value: Any) -> None:
        self._a[_unwrap(idx, "indexing")] = _unwrap(value, "item assignment")

    # ndarray methods CuPy arrays also have: run on the data, keep the type
    def __getattr__(self, name: str) -> Any:
        method = getattr(onp.ndarray, name, None)
        if method is None or not callable(method) or name.startswith("_"):
            raise AttributeError(name)

        def call(*args: Any, **kwargs: Any) -> Any:
            args = _unwrap(args, f".{name}()")
            kwargs = {k: _unwrap(v, f".{name}()") for k, v in kwargs.items()}
            return _wrap(getattr(self._a, name)(*args, **kwargs))
        return call
