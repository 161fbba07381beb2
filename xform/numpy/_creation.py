"""Array construction. Constructors of constants return plain NumPy arrays;
``array``/``asarray`` of nested sequences holding traced values stack them.

May import: the core and the family files up to ``_reductions`` (order: ``__init__``).
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..core.rules import dtype_of, holds_tracer, shape_of
from ..core.trace import Tracer
from ._elementwise import astype, power
from ._shape import broadcast_to, contains_tracer, reshape, stack_nested


def array(object: Any, dtype: Any = None, copy: bool = True, ndmin: int = 0) -> Any:
    """`numpy.array`; a (nested) sequence containing traced values is stacked."""
    if contains_tracer(object):
        out = stack_nested(object)
        if dtype is not None:
            out = astype(out, dtype)
        if ndmin > len(shape_of(out)):
            out = reshape(out, (1,) * (ndmin - len(shape_of(out))) + tuple(shape_of(out)))
        return out
    return np.array(object, dtype=dtype, copy=copy, ndmin=ndmin)


def asarray(a: Any, dtype: Any = None) -> Any:
    """`numpy.asarray`; traced values pass through (cast if ``dtype`` is given)."""
    if not contains_tracer(a):
        return np.asarray(a, dtype=dtype)
    out = stack_nested(a)
    return out if dtype is None else astype(out, dtype)


def zeros_like(a: Any, dtype: Any = None, shape: Any = None) -> np.ndarray:
    """`numpy.zeros_like` (a constant: no derivative flows through it)."""
    return np.zeros(shape_of(a) if shape is None else shape, dtype or dtype_of(a))


def ones_like(a: Any, dtype: Any = None, shape: Any = None) -> np.ndarray:
    """`numpy.ones_like` (a constant)."""
    return np.ones(shape_of(a) if shape is None else shape, dtype or dtype_of(a))


def empty_like(a: Any, dtype: Any = None, shape: Any = None) -> np.ndarray:
    """`numpy.empty_like` (zero-filled here, since values may be read)."""
    return zeros_like(a, dtype, shape)


def full(shape: Any, fill_value: Any, dtype: Any = None) -> Any:
    """`numpy.full`; a traced ``fill_value`` is broadcast, keeping its derivative."""
    if isinstance(fill_value, Tracer):
        return broadcast_to(asarray(fill_value, dtype), shape)
    return np.full(shape, fill_value, dtype)


def full_like(a: Any, fill_value: Any, dtype: Any = None, shape: Any = None) -> Any:
    """`numpy.full_like`."""
    return full(shape_of(a) if shape is None else shape, fill_value, dtype or dtype_of(a))


def linspace(start: Any, stop: Any, num: int = 50, endpoint: bool = True,
             retstep: bool = False, dtype: Any = None, axis: int = 0) -> Any:
    """`numpy.linspace`; differentiable in traced scalar ``start``/``stop``."""
    if not (isinstance(start, Tracer) or isinstance(stop, Tracer)):
        return np.linspace(start, stop, num, endpoint=endpoint, retstep=retstep,
                           dtype=dtype, axis=axis)  # type: ignore[call-overload]
    if np.ndim(np.zeros(shape_of(start))) or np.ndim(np.zeros(shape_of(stop))) or axis:
        raise NotImplementedError("linspace with traced endpoints supports scalars only")
    div = (num - 1) if endpoint else num
    steps = np.arange(num, dtype=np.float64) / (div if div > 0 else 1)
    out = start + (stop - start) * steps
    step = (stop - start) / div if div > 0 else np.nan
    return (out, step) if retstep else out


def logspace(start: Any, stop: Any, num: int = 50, endpoint: bool = True, base: Any = 10.0,
             dtype: Any = None, axis: int = 0) -> Any:
    """`numpy.logspace`: ``base ** linspace(start, stop)``; differentiable in traced
    scalar ``start``/``stop`` and ``base``.

    >>> import xform.numpy as np
    >>> np.logspace(0.0, 2.0, 3).tolist()
    [1.0, 10.0, 100.0]
    """
    if not holds_tracer((start, stop, base)):
        return np.logspace(start, stop, num, endpoint=endpoint, base=base, dtype=dtype,
                           axis=axis)
    out = power(base, linspace(start, stop, num, endpoint=endpoint, axis=axis))
    return out if dtype is None else astype(out, dtype)


def meshgrid(*xi: Any, indexing: str = "xy", sparse: bool = False,
             copy: bool = True) -> tuple[Any, ...]:
    """`numpy.meshgrid` (works with traced coordinate vectors; a tuple, as NumPy 2
    returns)."""
    if not any(isinstance(x, Tracer) for x in xi):
        return tuple(np.meshgrid(*xi, indexing=indexing,  # type: ignore[call-overload]
                                sparse=sparse, copy=copy))
    n = len(xi)
    vecs = [reshape(asarray(x), (-1,)) for x in xi]
    sizes = [shape_of(v)[0] for v in vecs]
    if indexing == "xy" and n >= 2:
        sizes[0], sizes[1] = sizes[1], sizes[0]
    out = []
    for i, v in enumerate(vecs):
        pos = i
        if indexing == "xy" and n >= 2 and i < 2:
            pos = 1 - i
        shape = [1] * n
        shape[pos] = shape_of(v)[0]
        r = reshape(v, shape)
        out.append(r if sparse else broadcast_to(r, sizes))
    return tuple(out)


def _passthrough(name: str) -> Any:
    fn = getattr(np, name)

    def constant(*args: Any, **kwargs: Any) -> Any:
        return fn(*args, **kwargs)

    constant.__name__ = constant.__qualname__ = name
    constant.__doc__ = f"`numpy.{name}`: builds a constant array (no derivative)."
    return constant


zeros = _passthrough("zeros")
ones = _passthrough("ones")
empty = _passthrough("empty")
eye = _passthrough("eye")
identity = _passthrough("identity")
arange = _passthrough("arange")
tri = _passthrough("tri")


def copy(a: Any) -> Any:
    """`numpy.copy` (traced values are immutable, so they are returned as is)."""
    return a if isinstance(a, Tracer) else np.array(a, copy=True)


def shape(a: Any) -> tuple[int, ...]:
    """`numpy.shape`."""
    return tuple(shape_of(a))


def ndim(a: Any) -> int:
    """`numpy.ndim`."""
    return len(shape_of(a))


def size(a: Any, axis: int | None = None) -> int:
    """`numpy.size`."""
    s = shape_of(a)
    return math.prod(s) if axis is None else s[axis]


def result_type(*args: Any) -> np.dtype:
    """`numpy.result_type` (traced values contribute their dtype)."""
    return np.result_type(*[a.dtype if isinstance(a, Tracer) else a for a in args])




# ------------------------------------------------------------------------ scalar types
class _ScalarType(type):
    """The metaclass of ``xform.numpy.float64`` & co: each is NumPy's scalar type for
    every purpose a type serves (``dtype=``, ``np.dtype``, ``issubdtype``, ``isinstance``,
    ``==``, hashing), and calling it casts like NumPy's, traced values included: a cast
    between inexact types keeps the derivative (``np.float64(x)`` under ``grad``), one to
    an integer or boolean type is a value without derivative. As in JAX, ``np.float32(x)``
    of an array is an array of that dtype."""

    numpy_type: type
    dtype: np.dtype

    def __call__(cls, x: Any = 0) -> Any:
        if contains_tracer(x):
            return astype(stack_nested(x), cls.dtype)
        return cls.numpy_type(x)

    def __instancecheck__(cls, obj: Any) -> bool:
        return isinstance(obj, cls.numpy_type)

    def __subclasscheck__(cls, sub: type) -> bool:
        return issubclass(sub, cls.numpy_type)

    def __eq__(cls, other: Any) -> bool:
        if isinstance(other, _ScalarType):
            return cls.numpy_type is other.numpy_type
        return other is cls.numpy_type or (isinstance(other, np.dtype) and other == cls.dtype)

    def __hash__(cls) -> int:
        return hash(cls.numpy_type)

    def __repr__(cls) -> str:
        return f"<class 'xform.numpy.{cls.__name__}'>"


def _scalar_type(numpy_type: type) -> Any:
    name = np.dtype(numpy_type).name if numpy_type is not np.bool_ else "bool_"
    doc = (f"`numpy.{name}`: usable as a dtype; calling it casts, traced values "
           "included (a float or complex cast keeps the derivative).")
    return _ScalarType(name, (), {"numpy_type": numpy_type, "dtype": np.dtype(numpy_type),
                                  "__doc__": doc, "__module__": "xform.numpy"})


float16, float32, float64 = (_scalar_type(t) for t in (np.float16, np.float32, np.float64))
int8, int16, int32, int64 = (_scalar_type(t) for t in (np.int8, np.int16, np.int32, np.int64))
uint8, uint16, uint32, uint64 = (_scalar_type(t)
                                 for t in (np.uint8, np.uint16, np.uint32, np.uint64))
complex64, complex128 = _scalar_type(np.complex64), _scalar_type(np.complex128)
bool_ = _scalar_type(np.bool_)
