"""Arrays of other libraries (Dask, CuPy...) flowing through xform.

xform's implementations call NumPy functions; an operand of another library that
speaks NumPy's dispatch protocols (``__array_ufunc__``, ``__array_function__``) takes
those calls over, so Dask in gives Dask out (lazy) and CuPy in gives CuPy out. What
this module adds is the few places where xform itself *creates* or *converts* data:

* zeros, ones and identity bases are made like an operand (``like=``), so that a
  symbolic zero or a Jacobian's basis is a Dask or CuPy array when the data is;
* :func:`to_numpy_value` style normalisation leaves such arrays alone (NumPy's own
  ndarray path is tested first and stays as fast as before);
* a function with no version for an array type raises :func:`unsupported`'s error,
  which names the function and the type, instead of converting the data to NumPy
  (:func:`numpy_only` for implementations built on SciPy, :func:`refuse_silent_fallback`
  for NumPy functions a library lacks, which Dask would otherwise compute).

Part of the core: it imports nothing above it.
"""
from __future__ import annotations

import warnings
from typing import Any

import numpy as np

__all__ = ["is_foreign", "foreign_of", "type_name", "zeros", "ones", "eye", "full",
           "asarray_like", "as_operand", "unsupported", "require_numpy", "numpy_only",
           "refuse_silent_fallback"]

_NUMPY = (np.ndarray, np.generic, bool, int, float, complex)


def is_foreign(x: Any) -> bool:
    """True for an array of another library that takes over NumPy's functions through
    ``__array_function__`` (a Dask or CuPy array); false for NumPy values, Python
    numbers and xform's tracers (``xform.numpy`` gives tracers the protocol too; they
    are told apart by their ``_trace`` slot, as this module may not import ``trace``)."""
    if isinstance(x, _NUMPY):
        return False
    t = type(x)
    return hasattr(t, "__array_function__") and not hasattr(t, "_trace")


def foreign_of(values: Any) -> Any:
    """The first foreign array among ``values`` (a sequence), or None."""
    for v in values:
        if not isinstance(v, _NUMPY) and is_foreign(v):
            return v
    return None


def type_name(x: Any) -> str:
    """``dask.array.core.Array``, ``cupy.ndarray``: the type as users know it."""
    t = type(x)
    return f"{t.__module__}.{t.__qualname__}"


def zeros(shape: Any, dtype: Any, like: Any = None) -> Any:
    """Zeros of ``shape`` and ``dtype``, of the array kind of ``like`` (NumPy when
    ``like`` is None, a NumPy value or a tracer)."""
    if like is None or not is_foreign(like):
        return np.zeros(shape, dtype)
    dims = tuple(int(n) for n in np.atleast_1d(shape))
    if 0 in dims:  # Dask's auto-chunking divides by the size: cut an empty one out
        ones_dims = tuple(max(n, 1) for n in dims)
        return np.zeros(ones_dims, dtype=dtype, like=like)[tuple(slice(0, n) for n in dims)]
    return np.zeros(shape, dtype=dtype, like=like)


def ones(shape: Any, dtype: Any, like: Any = None) -> Any:
    """Ones of ``shape`` and ``dtype``, of the array kind of ``like``."""
    if like is None or not is_foreign(like):
        return np.ones(shape, dtype)
    return np.ones(shape, dtype=dtype, like=like)


def full(shape: Any, value: Any, dtype: Any, like: Any = None) -> Any:
    """``value`` repeated over ``shape``, of the array kind of ``like``."""
    if like is None or not is_foreign(like):
        return np.full(shape, value, dtype)
    return np.full(shape, value, dtype=dtype, like=like)


def eye(n: int, dtype: Any, like: Any = None) -> Any:
    """The ``n`` by ``n`` identity, of the array kind of ``like``. Built from a
    comparison of two ranges: ``np.eye(like=...)`` passes NumPy's ``order`` argument,
    which Dask's ``eye`` does not take."""
    if like is None or not is_foreign(like):
        return np.eye(n, dtype=dtype)
    r = np.arange(n, like=like)
    return np.equal(r[:, None], r[None, :]).astype(dtype)


def asarray_like(x: Any, like: Any) -> Any:
    """A NumPy value ``x`` (a constant of a program) as an array of the kind of ``like``:
    an explicit, one-off transfer (to the device, into the Dask graph). Anything else
    (a tracer, an array of that kind already) is returned as it is."""
    if like is None or not isinstance(x, (np.ndarray, np.generic)) or not is_foreign(like):
        return x
    if np.size(x) == 0:  # no values to move, and Dask's auto-chunking divides by the size
        return zeros(np.shape(x), np.result_type(x), like)
    return np.asarray(x, like=like)


def unsupported(who: str, x: Any, fallback: str = "") -> TypeError:
    """The error for a function that has no implementation for the array type of ``x``:
    it names both and says what to do, instead of silently converting to NumPy."""
    fix = fallback or (
        "Convert the operand to NumPy yourself if it fits in memory (for Dask, "
        "x.compute(); for CuPy, x.get()), or compute this part with the array "
        "library's own function")
    return TypeError(f"{who} has no implementation for arrays of type {type_name(x)}: "
                     f"it would have to convert the data to NumPy. {fix}.")


def require_numpy(who: str, *values: Any, fallback: str = "") -> None:
    """Raise :func:`unsupported`'s error if any of ``values`` is a foreign array."""
    x = foreign_of(values)
    if x is not None:
        raise unsupported(who, x, fallback)


def as_operand(x: Any) -> Any:
    """``np.asarray(x)``, except that an array of another library comes back as it is
    (its methods and NumPy's functions then run in that library)."""
    if isinstance(x, np.ndarray) or is_foreign(x):
        return x
    return np.asarray(x)


def numpy_only(who: str, impl: Any, fallback: str = "") -> Any:
    """``impl`` (a primitive's implementation built on SciPy or on NumPy internals that
    only take NumPy data) refusing foreign arrays with :func:`unsupported`'s error."""
    def checked(*args: Any, **params: Any) -> Any:
        for a in args:
            if not isinstance(a, _NUMPY) and is_foreign(a):
                raise unsupported(who, a, fallback)
        return impl(*args, **params)
    checked.__name__ = getattr(impl, "__name__", who)
    checked.__doc__ = getattr(impl, "__doc__", None)
    return checked


def refuse_silent_fallback(who: str, prim: Any) -> None:
    """Make ``prim``'s implementation, a NumPy function that some array libraries do not
    implement (or implement with another signature), refuse on their arrays with
    :func:`unsupported`'s error. Dask answers a function it lacks by computing its
    operands into NumPy (with a FutureWarning only): that becomes the error, as does a
    TypeError from a library whose version takes other arguments (Dask's ``cholesky``
    has no ``upper``). NumPy operands take the implementation as is."""
    impl = prim.impl

    def checked(*args: Any, **params: Any) -> Any:
        like = foreign_of(args)
        if like is None:
            return impl(*args, **params)
        with warnings.catch_warnings():
            warnings.filterwarnings("error", message=_FALLBACK, category=FutureWarning)
            try:
                return impl(*args, **params)
            except FutureWarning as e:
                raise unsupported(who, like) from e
            except TypeError as e:
                raise unsupported(who, like, f"(Its own version said: {e}.) Convert the "
                                  "operand yourself if it fits in memory") from e

    checked.__name__ = getattr(impl, "__name__", prim.name)
    prim.impl = checked


# what Dask says when it computes an operand for a NumPy function it lacks
_FALLBACK = r".*is not implemented by Dask array"
