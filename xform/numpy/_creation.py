"""Array construction. Constructors of constants return plain NumPy arrays;
``array``/``asarray`` of nested sequences holding traced values stack them.

May import: the core and the family files up to ``_reductions`` (order: ``__init__``).
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..core import arrays
from ..core.rules import dtype_of, holds_tracer, shape_of
from ..core.trace import Tracer, like_value
from ._elementwise import astype, power
from ._shape import broadcast_to, contains_tracer, reshape, stack_nested


def array(object: Any, dtype: Any = None, copy: bool = True, ndmin: int = 0) -> Any:
    """`numpy.array`; a (nested) sequence containing traced values is stacked.

    Args:
        object: an array, nested sequence or scalar (traced values allowed inside).
        dtype: the result dtype.
        copy: copy a NumPy input.
        ndmin: prepend axes up to this many dimensions.

    Returns:
        The array, traced when any element is.

    >>> import xform, xform.numpy as np
    >>> np.array([[1, 2], [3, 4]]).shape
    (2, 2)
    >>> xform.grad(lambda x: np.sum(np.array([x, 2.0 * x])))(1.0).item()
    3.0
    """
    if contains_tracer(object):
        out = stack_nested(object)
        if dtype is not None:
            out = astype(out, dtype)
        if ndmin > len(shape_of(out)):
            out = reshape(out, (1,) * (ndmin - len(shape_of(out))) + tuple(shape_of(out)))
        return out
    if arrays.is_foreign(object) and ndmin <= len(shape_of(object)):
        return object.astype(dtype) if dtype is not None else object.copy()
    return np.array(object, dtype=dtype, copy=copy, ndmin=ndmin)


def asarray(a: Any, dtype: Any = None) -> Any:
    """`numpy.asarray`; traced values pass through (cast if ``dtype`` is given), and a
    Dask or CuPy array stays one.

    Args:
        a: an array, nested sequence or scalar.
        dtype: the result dtype.

    Returns:
        ``a`` as an array (itself when it already is one).

    >>> import xform, xform.numpy as np
    >>> np.asarray([1.0, 2.0]).tolist()
    [1.0, 2.0]
    """
    if arrays.is_foreign(a):  # a Dask or CuPy array stays one
        return a if dtype is None or dtype_of(a) == np.dtype(dtype) else a.astype(dtype)
    if not contains_tracer(a):
        return np.asarray(a, dtype=dtype)
    out = stack_nested(a)
    return out if dtype is None else astype(out, dtype)


def zeros_like(a: Any, dtype: Any = None, shape: Any = None) -> Any:
    """`numpy.zeros_like` (a constant: no derivative flows through it), of the array
    kind of ``a`` (a Dask or CuPy array gives one).

    Args:
        a: an array (traced or not): its shape and dtype are used.
        dtype: override the dtype.
        shape: override the shape.

    Returns:
        An array of zeros (a constant), of the kind of ``a``.

    >>> import xform, xform.numpy as np
    >>> np.zeros_like(np.ones(2)).tolist()
    [0.0, 0.0]
    """
    if type(a) is np.ndarray:
        return np.zeros(a.shape if shape is None else shape, dtype or a.dtype)
    return arrays.zeros(shape_of(a) if shape is None else shape, dtype or dtype_of(a),
                        like_value(a))


def ones_like(a: Any, dtype: Any = None, shape: Any = None) -> Any:
    """`numpy.ones_like` (a constant), of the array kind of ``a``.

    Args:
        a: an array (traced or not): its shape and dtype are used.
        dtype: override the dtype.
        shape: override the shape.

    Returns:
        An array of ones (a constant), of the kind of ``a``.

    >>> import xform, xform.numpy as np
    >>> np.ones_like(np.zeros(2)).tolist()
    [1.0, 1.0]
    """
    if type(a) is np.ndarray:
        return np.ones(a.shape if shape is None else shape, dtype or a.dtype)
    return arrays.ones(shape_of(a) if shape is None else shape, dtype or dtype_of(a),
                       like_value(a))


def empty_like(a: Any, dtype: Any = None, shape: Any = None) -> np.ndarray:
    """`numpy.empty_like` (zero-filled here, since values may be read).

    Args:
        a: an array (traced or not): its shape and dtype are used.
        dtype: override the dtype.
        shape: override the shape.

    Returns:
        An array of zeros (a constant), of the kind of ``a``.

    >>> import xform.numpy as np
    >>> np.empty_like(np.ones((2, 2))).shape
    (2, 2)
    """
    return zeros_like(a, dtype, shape)


def full(shape: Any, fill_value: Any, dtype: Any = None) -> Any:
    """`numpy.full`; a traced ``fill_value`` is broadcast, keeping its derivative.

    Args:
        shape: the shape.
        fill_value: the value (traced values allowed: the result is then traced).
        dtype: the dtype.

    Returns:
        The filled array.

    >>> import xform, xform.numpy as np
    >>> np.full((2,), 7.0).tolist()
    [7.0, 7.0]
    >>> xform.grad(lambda v: np.sum(np.full((3,), v)))(1.0).item()
    3.0
    """
    if isinstance(fill_value, Tracer):
        return broadcast_to(asarray(fill_value, dtype), shape)
    return np.full(shape, fill_value, dtype)


def full_like(a: Any, fill_value: Any, dtype: Any = None, shape: Any = None) -> Any:
    """`numpy.full_like`.

    Args:
        a: an array (traced or not): its shape and dtype are used.
        fill_value: the value (a traced one makes the result traced).
        dtype: override the dtype.
        shape: override the shape.

    Returns:
        An array of ``a``'s shape filled with ``fill_value``.

    >>> import xform, xform.numpy as np
    >>> np.full_like(np.zeros(2), 7.0).tolist()
    [7.0, 7.0]
    >>> float(xform.grad(lambda v: np.sum(np.full_like(np.zeros(3), v)))(1.0))
    3.0
    """
    return full(shape_of(a) if shape is None else shape, fill_value, dtype or dtype_of(a))


def linspace(start: Any, stop: Any, num: int = 50, endpoint: bool = True,
             retstep: bool = False, dtype: Any = None, axis: int = 0) -> Any:
    """`numpy.linspace`; differentiable in traced scalar ``start``/``stop``.

    Args:
        start: the first value.
        stop: the last value (or the bound, without ``endpoint``).
        num: how many values.
        endpoint: include ``stop``.
        retstep: also return the step.
        dtype: the result dtype.
        axis: where the new axis goes for array bounds.

    Returns:
        The values (and the step with ``retstep``); differentiable in ``start`` and ``stop``.

    >>> import xform, xform.numpy as np
    >>> np.linspace(0.0, 1.0, 5).tolist()
    [0.0, 0.25, 0.5, 0.75, 1.0]
    """
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

    Args:
        start: the first exponent (traced or not).
        stop: the last exponent.
        num: the number of values.
        endpoint: whether ``stop`` is included.
        base: the base of the powers.
        dtype: the dtype of the result.
        axis: where the new axis goes, for array ``start``/``stop``.

    Returns:
        ``num`` values spaced evenly on a log scale.

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
    returns).

    Args:
        *xi: 1-D coordinate vectors (traced or not).
        indexing: ``"xy"`` (Cartesian: the first two axes swapped) or ``"ij"`` (matrix).
        sparse: return arrays broadcastable to the grid instead of full ones.
        copy: passed to NumPy for concrete inputs (traced results are always new).

    Returns:
        A tuple of coordinate arrays, one per input vector.

    >>> import xform, xform.numpy as np
    >>> X, Y = np.meshgrid(np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0]))
    >>> X.shape, X[0].tolist(), Y[:, 0].tolist()
    ((2, 3), [1.0, 2.0, 3.0], [4.0, 5.0])
    >>> xform.grad(lambda x: np.sum(np.meshgrid(x, np.ones(2))[0]))(np.ones(3)).tolist()
    [2.0, 2.0, 2.0]
    """
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


def _passthrough(name: str, example_args: str = "3") -> Any:
    fn = getattr(np, name)

    def constant(*args: Any, **kwargs: Any) -> Any:
        return fn(*args, **kwargs)

    constant.__name__ = constant.__qualname__ = name
    constant.__doc__ = (
        f"`numpy.{name}`: builds a constant array (no derivative).\n\n"
        f"Args:\n    *args: as `numpy.{name}`'s.\n    **kwargs: as `numpy.{name}`'s.\n\n"
        f"Returns:\n    What `numpy.{name}` returns: a NumPy array.\n\n"
        "Example:\n    >>> import numpy, xform.numpy as np\n"
        f"    >>> a, b = np.{name}({example_args}), numpy.{name}({example_args})\n"
        "    >>> a.shape == b.shape and a.dtype == b.dtype and type(a) is numpy.ndarray\n"
        "    True\n")
    return constant


zeros = _passthrough("zeros")
ones = _passthrough("ones")
empty = _passthrough("empty")
eye = _passthrough("eye")
identity = _passthrough("identity")
arange = _passthrough("arange")
tri = _passthrough("tri")


def copy(a: Any) -> Any:
    """`numpy.copy` (traced values are immutable, so they are returned as is).

    Args:
        a: an array (traced or not).

    Returns:
        A copy of a concrete array (of its kind), or the traced value itself.

    >>> import xform.numpy as np
    >>> a = np.ones(2)
    >>> b = np.copy(a); b[0] = 5.0
    >>> a.tolist(), b.tolist()
    ([1.0, 1.0], [5.0, 1.0])
    """
    if isinstance(a, Tracer):
        return a
    return a.copy() if arrays.is_foreign(a) else np.array(a, copy=True)


def shape(a: Any) -> tuple[int, ...]:
    """`numpy.shape`.

    Args:
        a: an array, scalar, nested sequence or traced value.

    Returns:
        Its shape, as a tuple of ints.

    >>> import xform.numpy as np
    >>> np.shape(np.ones((2, 3))), np.shape(1.0)
    ((2, 3), ())
    """
    return tuple(shape_of(a))


def ndim(a: Any) -> int:
    """`numpy.ndim`.

    Args:
        a: an array, scalar, nested sequence or traced value.

    Returns:
        Its number of dimensions.

    >>> import xform.numpy as np
    >>> np.ndim(np.ones((2, 3))), np.ndim([1.0, 2.0])
    (2, 1)
    """
    return len(shape_of(a))


def size(a: Any, axis: int | None = None) -> int:
    """`numpy.size`.

    Args:
        a: an array, scalar, nested sequence or traced value.
        axis: count along this axis only (None: all entries).

    Returns:
        The number of entries (along ``axis``).

    >>> import xform.numpy as np
    >>> np.size(np.ones((2, 3))), np.size(np.ones((2, 3)), 1)
    (6, 3)
    """
    s = shape_of(a)
    return math.prod(s) if axis is None else s[axis]


def result_type(*args: Any) -> np.dtype:
    """`numpy.result_type` (traced values contribute their dtype).

    Args:
        *args: arrays, traced values, scalars or dtypes.

    Returns:
        The dtype NumPy's promotion rules give them.

    >>> import xform.numpy as np
    >>> np.result_type(np.ones(2, dtype=np.float32), np.float64)
    dtype('float64')
    """
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
           "included (a float or complex cast keeps the derivative).\n\n"
           "Example:\n    >>> import numpy, xform.numpy as np\n"
           f"    >>> np.{name} == numpy.{name}, np.{name}(1).dtype == numpy.dtype(numpy.{name})\n"
           "    (True, True)\n")
    return _ScalarType(name, (), {"numpy_type": numpy_type, "dtype": np.dtype(numpy_type),
                                  "__doc__": doc, "__module__": "xform.numpy"})


float16, float32, float64 = (_scalar_type(t) for t in (np.float16, np.float32, np.float64))
int8, int16, int32, int64 = (_scalar_type(t) for t in (np.int8, np.int16, np.int32, np.int64))
uint8, uint16, uint32, uint64 = (_scalar_type(t)
                                 for t in (np.uint8, np.uint16, np.uint32, np.uint64))
complex64, complex128 = _scalar_type(np.complex64), _scalar_type(np.complex128)
bool_ = _scalar_type(np.bool_)
