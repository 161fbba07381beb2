"""Reductions and scans: sum, prod, max/min, mean/var/std, cumsum/cumprod, arg-reductions.

May import: the core and the family files up to ``_shape`` (order: ``__init__``).
"""
from __future__ import annotations

import builtins
from typing import Any

import numpy as np

from ..core import emit
from ..core.frames import user_frame, warn_at_user_line
from ..core.lowering import jnp_call
from ..core.rules import (Primitive, batch_axis_param, bind, defjvp, deflinear, defvjp, dtype_of,
                          move_to_front, nondiff_op, shape_of, spread_like)
from ..core.arrays import is_foreign, ones
from ..core.trace import EVAL_TRACE, Tracer, current_trace, like_value
from ._elementwise import abs_squared, astype, equal, sqrt
from ._shape import broadcast_like, broadcast_to, concatenate, moveaxis, ravel, reshape, transpose

Axis = int | tuple[int, ...] | None


def normalize_axis(axis: Axis, ndim: int) -> tuple[int, ...]:
    """``axis`` as a sorted tuple of non-negative ints (None means every axis)."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out = []
    for a in axes:
        a = int(a)
        if not -ndim <= a < builtins.max(ndim, 1):
            raise ValueError(f"axis {a} is out of bounds for an array of dimension {ndim}")
        out.append(a % builtins.max(ndim, 1))
    return tuple(sorted(out))


def keepdims_shape(shape: tuple[int, ...], axes: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def expand_to(ct: Any, x: Any, axis: tuple[int, ...], keepdims: bool) -> Any:
    """Broadcast a reduced ``ct`` back to the shape of the reduced operand ``x``."""
    shape = shape_of(x)
    if not keepdims and shape_of(ct) != ():  # a scalar broadcasts as it is
        ct = reshape(ct, keepdims_shape(shape, axis))
    value = like_value(x)
    if is_foreign(value) and tuple(shape_of(value)) == tuple(shape):  # (not a batch of x)
        return spread_like(ct, value)
    if value is None and isinstance(x, Tracer):
        # staged (jit): whether x is Dask, and its chunks, are known when the code runs
        return broadcast_like(ct, x)
    return broadcast_to(ct, shape)


# ------------------------------------------------------------------------ NumPy's warnings
def _numpy_warning(flag: Any, *, message: str, category: str, each: bool,
                   site: str | None) -> list[Any]:
    """Issue NumPy's ``warnings.warn`` warning where ``flag`` holds: once if any entry
    is true, or once per true entry (``each``: NumPy's one warning per slice). A flag
    of another library's arrays (Dask, CuPy) is not computed to decide: their own
    functions issue no such warning."""
    if is_foreign(flag):
        return []
    times = int(np.count_nonzero(flag))  # (np.any costs 4x more: this is on hot paths)
    for _ in range(times if each else builtins.min(times, 1)):
        warn_at_user_line(message, getattr(builtins, category), site)
    return []


def _batch_warning(vals: Any, dims: Any, params: dict) -> tuple[list[Any], list[Any]]:
    """A batch of flags: one warning if any member's holds, or one per true entry."""
    bind(numpy_warning_p, *vals, **params)
    return [], []


def _lower_warning(ctx: Any, flag: Any, **params: Any) -> list[Any]:
    """``jax.debug.callback``: decided on the run-time flag, in program order."""
    ctx.jax.debug.callback(lambda f: _numpy_warning(np.asarray(f), **params), flag,
                           ordered=True)
    return []


# an effect with no results: staged under jit (kept by every pass, run on every call);
# contributes nothing to any derivative
numpy_warning_p = Primitive("numpy_warning", _numpy_warning, multiple_results=True, nondiff=True)
numpy_warning_p.effectful = True
numpy_warning_p.abstract_eval = lambda *avals, **params: []
numpy_warning_p.batch = _batch_warning
numpy_warning_p.lower = _lower_warning


def warn_if(flag: Any, message: str, category: str = "RuntimeWarning", *,
            each: bool = False) -> None:
    """Issue the warning NumPy issues with ``warnings.warn`` (``message``, of the built-in
    warning class named ``category``) where ``flag`` holds, at the user's line.

    ``flag`` is a Python bool (a condition on shapes, known while tracing) or a boolean
    array, traced or not (a condition on values). Outside transforms it is decided now;
    under ``grad``/``jvp``/``vmap`` on the values they carry; under ``jit`` it is one
    equation of the program, decided on every call, as NumPy warns on every call.
    ``each``: one warning per true entry (NumPy's per-slice warnings), else at most one.
    """
    if flag is False:
        return
    if not isinstance(flag, Tracer) and current_trace() is EVAL_TRACE:
        _numpy_warning(flag, message=message, category=category, each=each, site=None)
        return
    bind(numpy_warning_p, flag, message=message, category=category, each=each,
         site=user_frame())


# ------------------------------------------------------------------------ sum
def _sum_impl(x: Any, axis: tuple[int, ...], keepdims: bool) -> Any:
    return np.sum(x, axis=axis, keepdims=keepdims)


reduce_sum_p = Primitive("reduce_sum", _sum_impl)
deflinear(reduce_sum_p, lambda ct, ans, x, axis, keepdims: expand_to(ct, x, axis, keepdims))
reduce_sum_p.emit = emit.method("sum", "axis", "keepdims", keywords=True)


def _sum_of_basis(vals: Any, dims: Any, params: dict) -> Any:
    """A full sum of each member of a Jacobian basis is its one nonzero entry: the
    diagonal itself, one value per member (``core/structured.py``)."""
    (basis,), axis = vals, params["axis"]
    if sorted(axis) != list(range(len(basis.inner))):
        return None
    out = basis.rows_from(ravel(basis.diag))
    if params["keepdims"]:
        out = reshape(out, (basis.size,) + (1,) * len(basis.inner))
    return out, 0


reduce_sum_p.structured = _sum_of_basis


def sum(a: Any, axis: Axis = None, dtype: Any = None, keepdims: bool = False) -> Any:  # noqa: A001
    """`numpy.sum`.

    Args:
        a: an array (traced or not).
        axis: the axis or axes reduced (all by default).
        dtype: the accumulation and result dtype.
        keepdims: keep the reduced axes, with size 1.

    Returns:
        The sum (a scalar when every axis is reduced); traced when ``a`` is.

    >>> import xform, xform.numpy as np
    >>> x = np.arange(6.0).reshape(2, 3)
    >>> np.sum(x, axis=0).tolist()
    [3.0, 5.0, 7.0]
    >>> xform.grad(lambda v: np.sum(v ** 2))(np.ones(2)).tolist()
    [2.0, 2.0]
    """
    axes = normalize_axis(axis, len(shape_of(a)))
    out = bind(reduce_sum_p, a, axis=axes, keepdims=bool(keepdims))
    if dtype is not None:
        out = astype(out, dtype)
    return out


def _with_dtype(a: Any, dtype: Any) -> Any:
    """``a`` cast to the ``dtype=`` a reduction computes in (None: unchanged)."""
    if dtype is None:
        return a
    return astype(a, dtype)


def _count(a: Any, axes: tuple[int, ...]) -> int:
    shape = shape_of(a)
    n = 1
    for i in axes:
        n *= shape[i]
    return n


def mean(a: Any, axis: Axis = None, dtype: Any = None, keepdims: bool = False) -> Any:
    """`numpy.mean`.

    Args:
        a: an array.
        axis: the axis or axes reduced (all by default).
        dtype: the accumulation and result dtype.
        keepdims: keep the reduced axes, with size 1.

    Returns:
        The mean (a scalar when every axis is reduced); traced when ``a`` is.

    >>> import xform, xform.numpy as np
    >>> np.mean(np.arange(4.0)).item()
    1.5
    >>> xform.grad(np.mean)(np.ones(4)).tolist()
    [0.25, 0.25, 0.25, 0.25]
    """
    axes = normalize_axis(axis, len(shape_of(a)))
    count = _count(a, axes)
    if count == 0:
        warn_if(True, "Mean of empty slice")
    if dtype_of(a).kind not in 'fc':  # (as _mean: written out, this is a hot path)
        a = astype(a, np.float64)
    out = sum(a, axis=axes, keepdims=keepdims) / count
    if dtype is not None:
        out = astype(out, dtype)
    return out


def _mean(a: Any, axes: tuple[int, ...], keepdims: bool, count: int) -> Any:
    """The mean over ``axes`` of their ``count`` entries (NumPy's, without its warning)."""
    if dtype_of(a).kind not in 'fc':
        a = astype(a, np.float64)
    return sum(a, axis=axes, keepdims=keepdims) / count


def var(a: Any, axis: Axis = None, dtype: Any = None, ddof: int = 0,
        keepdims: bool = False) -> Any:
    """`numpy.var`: the mean of the squared moduli of the deviations (real for complex
    ``a``, as NumPy's).

    Args:
        a: an array.
        axis: the axis or axes reduced (all by default).
        dtype: the accumulation and result dtype.
        ddof: the delta degrees of freedom (divide by ``n - ddof``).
        keepdims: keep the reduced axes, with size 1.

    Returns:
        The variance (a scalar when every axis is reduced); traced when ``a`` is.

    >>> import xform.numpy as np
    >>> float(np.var(np.array([1j, -1j])))
    1.0
    """
    a = _with_dtype(a, dtype)
    axes = normalize_axis(axis, len(shape_of(a)))
    count = _count(a, axes)
    n = count - ddof
    if n <= 0:  # as NumPy: warned, and divided by 0, not by -k
        warn_if(True, "Degrees of freedom <= 0 for slice")
        n = 0
    centered = a - _mean(a, axes, True, count)
    return sum(abs_squared(centered), axis=axes, keepdims=keepdims) / n


def std(a: Any, axis: Axis = None, dtype: Any = None, ddof: int = 0,
        keepdims: bool = False) -> Any:
    """`numpy.std` (real for complex ``a``). Its derivative is infinite where the spread
    is zero.

    Args:
        a: an array.
        axis: the axis or axes reduced (all by default).
        dtype: the accumulation and result dtype.
        ddof: the delta degrees of freedom (divide by ``n - ddof``).
        keepdims: keep the reduced axes, with size 1.

    Returns:
        The standard deviation (a scalar when every axis is reduced); traced when ``a`` is.

    >>> import xform, xform.numpy as np
    >>> round(np.std(np.array([1.0, 2.0, 3.0])).item(), 6)
    0.816497
    """
    return sqrt(var(a, axis=axis, dtype=dtype, ddof=ddof, keepdims=keepdims))


# ------------------------------------------------------------------------ max / min
def _chooser(name: str, impl: Any) -> Primitive:
    """max/min: the derivative is shared equally among the tied positions."""
    prim = Primitive(name, lambda x, axis, keepdims: impl(x, axis=axis, keepdims=keepdims))

    def location(ans: Any, x: Any, axis: tuple[int, ...], keepdims: bool) -> tuple[Any, Any]:
        hit = astype(equal(x, expand_to(ans, x, axis, keepdims)), dtype_of(x))
        return hit, bind(reduce_sum_p, hit, axis=axis, keepdims=True)

    def jvp_rule(t: Any, ans: Any, x: Any, axis: tuple[int, ...], keepdims: bool) -> Any:
        hit, count = location(ans, x, axis, keepdims)
        picked = bind(reduce_sum_p, t * hit, axis=axis, keepdims=True) / count
        if not keepdims:
            picked = reshape(picked, shape_of(ans))
        return picked

    def vjp_rule(ct: Any, ans: Any, x: Any, axis: tuple[int, ...], keepdims: bool) -> Any:
        hit, count = location(ans, x, axis, keepdims)
        return expand_to(ct, x, axis, keepdims) * (hit / count)

    defjvp(prim, jvp_rule)
    defvjp(prim, vjp_rule)
    return prim


reduce_max_p = _chooser("reduce_max", np.max)
reduce_min_p = _chooser("reduce_min", np.min)
reduce_max_p.emit = emit.method("max", "axis", "keepdims", keywords=True)
reduce_min_p.emit = emit.method("min", "axis", "keepdims", keywords=True)


def max(a: Any, axis: Axis = None, keepdims: bool = False) -> Any:  # noqa: A001
    """`numpy.max`; ties share the derivative equally.

    Args:
        a: an array.
        axis: the axis or axes reduced (all by default).
        keepdims: keep the reduced axes, with size 1.

    Returns:
        The maximum (a scalar when every axis is reduced); traced when ``a`` is. The gradient goes to the maximal entries (shared equally between ties).

    >>> import xform, xform.numpy as np
    >>> np.max(np.array([1.0, 3.0, 2.0])).item()
    3.0
    >>> xform.grad(np.max)(np.array([1.0, 3.0, 3.0])).tolist()
    [0.0, 0.5, 0.5]
    """
    return bind(reduce_max_p, a, axis=normalize_axis(axis, len(shape_of(a))),
                keepdims=bool(keepdims))


def min(a: Any, axis: Axis = None, keepdims: bool = False) -> Any:  # noqa: A001
    """`numpy.min`; ties share the derivative equally.

    Args:
        a: an array.
        axis: the axis or axes reduced (all by default).
        keepdims: keep the reduced axes, with size 1.

    Returns:
        The minimum (a scalar when every axis is reduced); traced when ``a`` is. The gradient goes to the minimal entries (shared equally between ties).

    >>> import xform, xform.numpy as np
    >>> np.min(np.array([1.0, 3.0, 2.0])).item()
    1.0
    >>> xform.grad(np.min)(np.array([1.0, 3.0, 2.0])).tolist()
    [1.0, 0.0, 0.0]
    """
    return bind(reduce_min_p, a, axis=normalize_axis(axis, len(shape_of(a))),
                keepdims=bool(keepdims))


amax = max
amin = min


def ptp(a: Any, axis: Axis = None, keepdims: bool = False) -> Any:
    """`numpy.ptp`: max minus min.

    Args:
        a: an array (traced or not).
        axis: the axis or axes to reduce (None: all).
        keepdims: keep the reduced axes with size one.

    Returns:
        The range ``max - min``; its derivative is +1 at the maximum and -1 at the
        minimum.

    >>> import xform, xform.numpy as np
    >>> x = np.array([2.0, 5.0, 1.0])
    >>> float(np.ptp(x)), xform.grad(np.ptp)(x).tolist()
    (4.0, [0.0, 1.0, -1.0])
    """
    return max(a, axis, keepdims) - min(a, axis, keepdims)


# ------------------------------------------------------------------------ prod
def _prefix_prod(x: Any) -> Any:
    """``cumprod`` along the last axis by doubling (log2(n) multiplies): unlike the
    rules of ``cumprod_p`` it involves no division, so its derivatives of every
    order stay exact where ``x`` has zeros."""
    n = shape_of(x)[-1]
    d = 1
    while d < n:
        x = concatenate([x[..., :d], x[..., d:] * x[..., :n - d]], axis=-1)
        d *= 2
    return x


def _prod_of_others(x: Any, axis: tuple[int, ...]) -> Any:
    """For each element, the product of the other elements of its reduction group,
    from exclusive cumulative products on both sides (exact when x has zeros,
    and so are its own derivatives)."""
    shape = shape_of(x)
    kept = [i for i in range(len(shape)) if i not in axis]
    perm = kept + list(axis)
    xt = transpose(x, perm)
    moved_shape = shape_of(xt)
    lead = moved_shape[:len(kept)]
    xf = reshape(xt, lead + (-1,))
    one = ones(lead + (1,), dtype_of(x), like_value(x))
    left = concatenate([one, _prefix_prod(xf[..., :-1])], axis=-1)
    right = concatenate([one, _prefix_prod(xf[..., ::-1][..., :-1])], axis=-1)[..., ::-1]
    others = reshape(left * right, moved_shape)
    return transpose(others, list(np.argsort(perm)))


reduce_prod_p = Primitive("reduce_prod", lambda x, axis, keepdims: np.prod(
    x, axis=axis, keepdims=keepdims))
defjvp(reduce_prod_p, lambda t, ans, x, axis, keepdims: bind(
    reduce_sum_p, t * _prod_of_others(x, axis), axis=axis, keepdims=keepdims))
defvjp(reduce_prod_p, lambda ct, ans, x, axis, keepdims: expand_to(
    ct, x, axis, keepdims) * _prod_of_others(x, axis))


def prod(a: Any, axis: Axis = None, dtype: Any = None, keepdims: bool = False) -> Any:
    """`numpy.prod`; its derivative is exact even where elements are zero.

    Args:
        a: an array.
        axis: the axis or axes reduced (all by default).
        dtype: the accumulation and result dtype.
        keepdims: keep the reduced axes, with size 1.

    Returns:
        The product (a scalar when every axis is reduced); traced when ``a`` is.

    >>> import xform, xform.numpy as np
    >>> np.prod(np.array([2.0, 3.0])).item()
    6.0
    >>> xform.grad(np.prod)(np.array([2.0, 3.0])).tolist()
    [3.0, 2.0]
    """
    a = _with_dtype(a, dtype)
    return bind(reduce_prod_p, a, axis=normalize_axis(axis, len(shape_of(a))),
                keepdims=bool(keepdims))


# ------------------------------------------------------------------------ scans
def _flip(x: Any, axis: int) -> Any:
    index = [slice(None)] * len(shape_of(x))
    index[axis] = slice(None, None, -1)
    return x[tuple(index)]


cumsum_p = Primitive("cumsum", lambda x, axis: np.cumsum(x, axis=axis))
deflinear(cumsum_p, lambda ct, ans, x, axis: _flip(
    bind(cumsum_p, _flip(ct, axis), axis=axis), axis))

def _linear_recurrence(a: Any, c: Any) -> Any:
    """``y_0 = c_0``, ``y_i = a_i y_(i-1) + c_i`` along the last axis, by doubling
    (log2(n) steps of multiplies and adds, no division): segments ``(A, B)`` combine
    as ``(A1 A2, B1 A2 + B2)``."""
    n = shape_of(c)[-1]
    d = 1
    while d < n:
        a, c = (concatenate([a[..., :d], a[..., d:] * a[..., :n - d]], axis=-1),
                concatenate([c[..., :d], c[..., :n - d] * a[..., d:] + c[..., d:]], axis=-1))
        d *= 2
    return c


def _exclusive_prefix_prod(x: Any) -> Any:
    """``prod(x[..., :i])`` for each ``i`` along the last axis (1 for ``i = 0``)."""
    one = ones(shape_of(x)[:-1] + (1,), dtype_of(x), like_value(x))
    return concatenate([one, _prefix_prod(x[..., :-1])], axis=-1)


# d ans_i = sum_{j <= i} t_j prod_{k != j, k <= i} x_k, i.e. the recurrence
# d ans_i = x_i d ans_(i-1) + t_i prod_{k < i} x_k: no division, so exact at zeros
def _no_zeros(x: Any) -> bool:
    """A concrete ``x`` without zeros: the rules may then take the quicker quotient
    form ``ans_i / x_j`` (nothing records them, and no 0/0 can arise)."""
    return not isinstance(x, Tracer) and not is_foreign(x) and bool(np.all(x != 0))


def _cumprod_jvp(t: Any, ans: Any, x: Any, axis: int) -> Any:
    if _no_zeros(x) and not isinstance(ans, Tracer):
        return ans * bind(cumsum_p, t / x, axis=axis)
    x, t = moveaxis(x, axis, -1), moveaxis(t, axis, -1)
    return moveaxis(_linear_recurrence(x, t * _exclusive_prefix_prod(x)), -1, axis)


def _cumprod_vjp(ct: Any, ans: Any, x: Any, axis: int) -> Any:
    if _no_zeros(x) and not isinstance(ans, Tracer):
        return _flip(bind(cumsum_p, _flip(ct * ans, axis), axis=axis), axis) / x
    # the transposed recurrence runs backwards: g_j = ct_j + x_(j+1) g_(j+1)
    x, ct = moveaxis(x, axis, -1), moveaxis(ct, axis, -1)
    one = ones(shape_of(x)[:-1] + (1,), dtype_of(x), like_value(x))
    shifted = concatenate([one, x[..., :0:-1]], axis=-1)
    g = _linear_recurrence(shifted, ct[..., ::-1])[..., ::-1]
    return moveaxis(g * _exclusive_prefix_prod(x), -1, axis)


cumprod_p = Primitive("cumprod", lambda x, axis: np.cumprod(x, axis=axis))
defjvp(cumprod_p, _cumprod_jvp)
defvjp(cumprod_p, _cumprod_vjp)


def _scan_args(a: Any, axis: int | None) -> tuple[Any, int]:
    if axis is None:
        return ravel(a), 0
    return a, int(axis) % builtins.max(len(shape_of(a)), 1)


def cumsum(a: Any, axis: int | None = None, dtype: Any = None) -> Any:
    """`numpy.cumsum`.

    Args:
        a: an array.
        axis: the axis (the flattened array by default).
        dtype: the accumulation and result dtype.

    Returns:
        The running sums, traced when ``a`` is.

    >>> import xform, xform.numpy as np
    >>> np.cumsum(np.array([1.0, 2.0, 3.0])).tolist()
    [1.0, 3.0, 6.0]
    """
    a, ax = _scan_args(_with_dtype(a, dtype), axis)
    return bind(cumsum_p, a, axis=ax)


def cumprod(a: Any, axis: int | None = None, dtype: Any = None) -> Any:
    """`numpy.cumprod`; its derivative is computed without division, so it is exact
    where the input has zeros.

    Args:
        a: an array.
        axis: the axis (the flattened array by default).
        dtype: the accumulation dtype.

    Returns:
        The running products.

    >>> import xform, xform.numpy as np
    >>> xform.grad(lambda x: np.cumprod(x)[-1])(np.array([2.0, 0.0, 3.0]))
    array([0., 6., 0.])
    """
    a, ax = _scan_args(_with_dtype(a, dtype), axis)
    return bind(cumprod_p, a, axis=ax)


# ------------------------------------------------------------------------ non-differentiable
argmax_p, _ = nondiff_op("argmax", lambda a, axis, keepdims: np.argmax(
    a, axis=axis, keepdims=keepdims))
argmin_p, _ = nondiff_op("argmin", lambda a, axis, keepdims: np.argmin(
    a, axis=axis, keepdims=keepdims))
all_p, _ = nondiff_op("all", lambda a, axis, keepdims: np.all(a, axis=axis, keepdims=keepdims))
any_p, _ = nondiff_op("any", lambda a, axis, keepdims: np.any(a, axis=axis, keepdims=keepdims))


def argmax(a: Any, axis: int | None = None, keepdims: bool = False) -> Any:
    """`numpy.argmax` (integer result, no derivative).

    Args:
        a: an array.
        axis: the axis (the flattened array by default).
        keepdims: keep the reduced axis, with size 1.

    Returns:
        Integer indices of the maxima (no derivative).

    >>> import xform, xform.numpy as np
    >>> np.argmax(np.array([1.0, 3.0, 2.0])).item()
    1
    """
    return bind(argmax_p, a, axis=axis, keepdims=keepdims)


def argmin(a: Any, axis: int | None = None, keepdims: bool = False) -> Any:
    """`numpy.argmin` (integer result, no derivative).

    Args:
        a: an array.
        axis: the axis (the flattened array by default).
        keepdims: keep the reduced axis, with size 1.

    Returns:
        Integer indices of the minima (no derivative).

    >>> import xform, xform.numpy as np
    >>> np.argmin(np.array([1.0, 3.0, 2.0])).item()
    0
    """
    return bind(argmin_p, a, axis=axis, keepdims=keepdims)


def all(a: Any, axis: Axis = None, keepdims: bool = False) -> Any:  # noqa: A001
    """`numpy.all` (boolean result, no derivative).

    Args:
        a: an array (traced or not).
        axis: the axis or axes to reduce (None: all).
        keepdims: keep the reduced axes with size one.

    Returns:
        Whether every entry (along ``axis``) is nonzero, as booleans.

    >>> import xform.numpy as np
    >>> m = np.array([[1.0, 0.0], [1.0, 1.0]])
    >>> bool(np.all(np.array([1.0, 2.0]))), np.all(m, axis=1).tolist()
    (True, [False, True])
    """
    return bind(all_p, a, axis=axis if axis is None else normalize_axis(
        axis, len(shape_of(a))), keepdims=keepdims)


def any(a: Any, axis: Axis = None, keepdims: bool = False) -> Any:  # noqa: A001
    """`numpy.any` (boolean result, no derivative).

    Args:
        a: an array (traced or not).
        axis: the axis or axes to reduce (None: all).
        keepdims: keep the reduced axes with size one.

    Returns:
        Whether some entry (along ``axis``) is nonzero, as booleans.

    >>> import xform.numpy as np
    >>> m = np.array([[1.0, 0.0], [0.0, 0.0]])
    >>> bool(np.any(np.array([0.0, 0.0]))), np.any(m, axis=1).tolist()
    (False, [True, False])
    """
    return bind(any_p, a, axis=axis if axis is None else normalize_axis(
        axis, len(shape_of(a))), keepdims=keepdims)


# ------------------------------------------------------------------------ batching
for _p in (reduce_sum_p, reduce_max_p, reduce_min_p, reduce_prod_p, cumsum_p, cumprod_p,
           all_p, any_p):
    batch_axis_param(_p)


def _batch_arg_reduction(prim: Primitive) -> None:
    def rule(vals: Any, dims: Any, params: dict) -> tuple[Any, int]:
        x = move_to_front(vals[0], dims[0])
        shape = shape_of(x)
        if params["axis"] is None:
            out = bind(prim, reshape(x, (shape[0], -1)), axis=1, keepdims=False)
            if params["keepdims"]:
                out = reshape(out, (shape[0],) + (1,) * (len(shape) - 1))
            return out, 0
        axis = params["axis"] % (len(shape) - 1) + 1
        return bind(prim, x, axis=axis, keepdims=params["keepdims"]), 0
    prim.batch = rule


_batch_arg_reduction(argmax_p)
_batch_arg_reduction(argmin_p)


# ------------------------------------------------------------------------ XLA lowerings
# (sum, max and min lower through their emitters)
reduce_prod_p.lower = jnp_call("prod", "axis", "keepdims", keywords=True)
cumsum_p.lower = jnp_call("cumsum", "axis", keywords=True)
cumprod_p.lower = jnp_call("cumprod", "axis", keywords=True)
for _p, _name in ((argmax_p, "argmax"), (argmin_p, "argmin"), (all_p, "all"), (any_p, "any")):
    _p.lower = jnp_call(_name, "axis", "keepdims", keywords=True)
