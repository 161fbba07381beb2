"""Indexing: ``x[idx]`` (gather), ``x.at[idx].set/add/...`` (scatter), take, argsort.

May import: the core and the family files up to ``_creation`` (order: ``__init__``).

An index is split into a static part (ints, slices, None, Ellipsis, kept in the
equation's params) and its integer arrays, which are operands, so the IR stays
plain data and array indices may themselves be traced. Boolean masks must be
concrete: they become integer arrays through ``nonzero``.
"""
from __future__ import annotations

import functools
import operator
from typing import Any, Sequence

import numpy as np

from ..core.ir import ShapedArray, Var
from ..core.rules import (Primitive, batch_axis_param, batch_broadcasting, batch_by_loop,
                          batch_size, bind, defjvp,
                          deflinear, defvjp, dtype_of, move_to_front, nondiff_op, shape_of,
                          unbroadcast)
from ..core.arrays import asarray_like, is_foreign, refuse_silent_fallback, unsupported, zeros
from ..core.structured import Diagonal
from ..core.trace import Tracer, like_value
from ._elementwise import divide, maximum, minimum, mod_p, multiply, where
from ._reductions import prod
from ._reductions import max as reduce_max
from ._reductions import min as reduce_min
from ._shape import broadcast_to, ravel, reshape

ARRAY = "array"  # placeholder for an integer-array index in the static part
_ONE_ARRAY = (ARRAY,)
index_add_p: Primitive  # the scatter primitive, defined below the gather that uses it


def _static_int(v: Any) -> Any:
    return None if v is None else operator.index(v)


def split_index(idx: Any) -> tuple[tuple[Any, ...], list[Any]]:
    """Split a NumPy index into (static part, integer index arrays)."""
    if not isinstance(idx, tuple):
        idx = (idx,)
    static: list[Any] = []
    arrays: list[Any] = []
    for i in idx:
        if i is None or i is Ellipsis:
            static.append(i)
        elif isinstance(i, slice):
            static.append(slice(_static_int(i.start), _static_int(i.stop), _static_int(i.step)))
        elif isinstance(i, (int, np.integer)) and not isinstance(i, (bool, np.bool_)):
            static.append(int(i))
        else:
            arr = i if isinstance(i, Tracer) or is_foreign(i) else np.asarray(i)
            dt = dtype_of(arr)
            if dt == np.bool_:
                mask = arr._concrete("a boolean mask index") if isinstance(arr, Tracer) else arr
                for a in np.nonzero(mask):
                    static.append(ARRAY)
                    arrays.append(a)
            elif np.issubdtype(dt, np.integer):
                static.append(ARRAY)
                arrays.append(arr)
            else:
                raise IndexError(
                    f"arrays used as indices must be of integer or boolean type, got {dt}")
    return tuple(static), arrays


def build_index(static: tuple[Any, ...], arrays: Sequence[Any]) -> tuple[Any, ...]:
    it = iter(arrays)
    return tuple(next(it) if s is ARRAY else s for s in static)


# ------------------------------------------------------------------------ gather
def _getitem_impl(x: Any, *arrays: Any, idx: tuple[Any, ...]) -> Any:
    if is_foreign(x):  # index arrays made by xform (NumPy) move to x's kind
        return x[build_index(idx, [asarray_like(a, x) for a in arrays])]
    return np.asarray(x)[build_index(idx, arrays)]


def _emit_getitem(args: list[str], params: dict, bind: Any) -> str:
    """``x[i, arr, ...]`` written out: the static entries bound, the index arrays the
    operands (no call of the implementation, which rebuilds the index each time)."""
    arrays = iter(args[1:])
    entries = [next(arrays) if s is ARRAY else bind(s) for s in params["idx"]]
    return f"{args[0]}[({''.join(e + ', ' for e in entries)})]"


getitem_p = Primitive("getitem", _getitem_impl)
getitem_p.emit = _emit_getitem
deflinear(getitem_p, lambda ct, ans, x, *arrays, idx: bind(
    index_add_p, zeros(shape_of(x), dtype_of(ct), like_value(ct)), ct, *arrays, idx=idx))
getitem_p.linear = True  # the index arrays are static data


def _slice_of_basis(vals: Any, dims: Any, params: dict) -> Any:
    """A contiguous slice of a vector basis is a basis (what jacfwd/jacrev cut out for
    each input or output leaf): the positions shift, the diagonal is sliced."""
    basis, idx = vals[0], params["idx"]
    if len(vals) != 1 or len(basis.inner) != 1 or len(idx) != 1 or not isinstance(idx[0], slice):
        return None
    start, stop, step = idx[0].indices(basis.inner[0])
    if step != 1 or stop <= start:
        return None
    return Diagonal(basis.diag[start:stop], basis.offset + start, basis.size, basis.unit), 0


getitem_p.structured = _slice_of_basis


def _whole(s: Any, n: int) -> bool:
    """The static index ``s`` takes the whole axis of length ``n`` (``x[0:n]``)."""
    return isinstance(s, slice) and s.indices(n) == (0, n, 1)


def getitem(x: Any, idx: Any) -> Any:
    """``x[idx]`` for traced ``x``: basic, integer-array and (concrete) boolean indexing.

    ``x[i, j]`` with one integer array per axis (bilinear interpolation, stencils)
    becomes a 1-D gather at flat positions ``i * n + j`` of the raveled ``x``: its
    transpose is then one ``bincount`` (~2 us on 1,024 values where the 2-D scatter
    costs ~8), and reverse mode saves one index array instead of one per axis."""
    static, arrays = split_index(idx)
    shape = shape_of(x)
    if (not arrays and len(static) <= len(shape)
            and all(_whole(s, n) for s, n in zip(static, shape))):
        return x
    if (len(arrays) >= 2 and len(static) == len(shape) and all(s is ARRAY for s in static)
            and not is_foreign(like_value(x))):  # CuPy and Dask index as they do
        flat = ravel_index(arrays, tuple(shape))
        return bind(getitem_p, reshape(x, (int(np.prod(shape, dtype=np.int64)),)), flat,
                    idx=(ARRAY,))
    return bind(getitem_p, x, *arrays, idx=static)


# ------------------------------------------------------------------------ flat positions
_U64 = np.dtype(np.uint64)
_INTP = np.dtype(np.intp)
_F64 = np.dtype(np.float64)


def _ravel_index_impl(*arrays: Any, dims: tuple[int, ...], in_range: bool = False) -> Any:
    """The C-order flat positions, in an array of shape ``dims``, that one integer
    index array per axis picks: checked and wrapped as NumPy indexing checks and wraps
    them (IndexError past the bounds, negative indices count from the end). With
    ``in_range`` (set by jit where each index is proven in ``[0, dim)``, a modulo's
    result) the positions are computed without the checks."""
    if any(map(is_foreign, arrays)):
        return _ravel_index_other(arrays, dims)
    if in_range:  # two ufuncs on two arrays (~1.4 us on 1,024, the checks ~3.5)
        flat = np.asarray(arrays[0]).astype(_INTP, copy=False)
        for a, d in zip(arrays[1:], dims[1:]):
            flat = flat * d + a
        return flat.astype(_INTP, copy=False)
    try:  # checks the bounds (~3.5 us on two arrays of 1,024 indices)
        return np.ravel_multi_index(arrays, dims)
    except ValueError:  # a negative index, which NumPy's indexing wraps, or out of range
        positions = _flat_positions([np.asarray(a).astype(_INTP, copy=False) for a in arrays],
                                    dims)
        return np.array(positions, dtype=_INTP)  # a broadcast view made a writable array


def _ravel_index_other(arrays: Sequence[Any], dims: tuple[int, ...]) -> Any:
    """``_ravel_index_impl`` for CuPy or Dask index arrays (a jitted program run on
    them), with their own operations and without reading values back: each index wraps
    modulo its axis, as CuPy's indexing treats indices past the bounds."""
    flat: Any = None
    for a, dim in zip(arrays, dims):
        a = a % dim
        flat = a if flat is None else flat * dim + a
    return flat


def _ravel_index_shape(*avals: Any, dims: tuple[int, ...], in_range: bool = False
                       ) -> ShapedArray:
    return ShapedArray(np.broadcast_shapes(*[shape_of(a) for a in avals]), _INTP)


def _indices_in_range(invars: Sequence[Any], params: dict, producer: dict) -> dict | None:
    """``in_range`` where every index is ``np.mod(i, m)`` of integers with a literal
    ``0 < m <= dim``: the floor modulo lies in ``[0, m)`` (periodic grids' indices)."""
    if params.get("in_range"):
        return None
    for a, dim in zip(invars, params["dims"]):
        src = producer.get(a) if isinstance(a, Var) else None
        if src is None or src.prim is not mod_p or src.outvars[0].aval.dtype.kind not in "iu":
            return None
        m = getattr(src.invars[1], "val", None)
        if (not isinstance(m, (int, np.integer)) or isinstance(m, (bool, np.bool_))
                or not 0 < m <= dim):
            return None
    return {**params, "in_range": True}


def _lower_ravel_index(ctx: Any, *arrays: Any, dims: tuple[int, ...],
                       in_range: bool = False) -> Any:
    # XLA cannot raise: each index wraps once and is clamped into its axis, as JAX's
    # gathers clamp, so the flat gather reads what ``x[i, j]`` reads under jax.jit
    jnp = ctx.jnp
    flat: Any = None
    for a, dim in zip(arrays, dims):
        a = jnp.clip(jnp.where(a < 0, a + dim, a), 0, dim - 1)
        flat = a if flat is None else flat * dim + a
    return flat


ravel_index_p = Primitive("ravel_index", _ravel_index_impl, nondiff=True)
ravel_index_p.abstract_eval = _ravel_index_shape
ravel_index_p.lower = _lower_ravel_index
ravel_index_p.refine = _indices_in_range
batch_broadcasting(ravel_index_p)


def ravel_index(arrays: Sequence[Any], dims: tuple[int, ...]) -> Any:
    """The flat positions ``x[arrays]`` reads in an array of shape ``dims`` (one
    integer array per axis); computed at once where no array is traced."""
    if any(isinstance(a, Tracer) for a in arrays):
        return bind(ravel_index_p, *arrays, dims=dims)
    return _ravel_index_impl(*arrays, dims=dims)


# ------------------------------------------------------------------------ scatter
def _flat_positions(arrays: Sequence[Any], shape: tuple[int, ...]) -> Any:
    """The flat (C-order) positions that integer arrays, one per axis of ``shape``,
    index; bounds are checked as NumPy checks them and negative indices count from
    the end."""
    flat: Any = None
    same_shape = True
    for axis, (a, dim) in enumerate(zip(arrays, shape)):
        a = np.asarray(a)
        if a.size:
            lo, hi = int(a.min()), int(a.max())
            if hi >= dim or lo < -dim:
                raise IndexError(f"index {hi if hi >= dim else lo} is out of bounds for "
                                 f"axis {axis} with size {dim}")
            if lo < 0:
                a = np.where(a < 0, a + dim, a)
        same_shape = same_shape and (flat is None or a.shape == flat.shape)
        flat = a if flat is None else flat * dim + a
    if same_shape:  # the common case (a gather's own indices): nothing to broadcast
        return flat
    return np.broadcast_to(flat, np.broadcast_shapes(*[np.shape(a) for a in arrays]))


def _scatter_add(out: np.ndarray, arrays: Sequence[Any], v: Any) -> None:
    """``np.add.at(out, tuple(arrays), v)`` with one integer array per axis, as a
    ``bincount`` over flat positions where the dtypes allow (3-4x faster than
    ``np.add.at`` on the gathers' transposes); repeated positions accumulate."""
    flat = _flat_positions(arrays, out.shape)
    weights = np.ravel(v if np.shape(v) == np.shape(flat) else np.broadcast_to(v, np.shape(flat)))
    flat = flat.ravel()

    def counts(w: Any) -> Any:
        return np.bincount(flat, weights=w, minlength=out.size).reshape(out.shape)
    if np.iscomplexobj(weights):
        out += counts(weights.real) + 1j * counts(weights.imag)
    else:
        out += counts(weights)


def _scatter_add_float64(x: np.ndarray, v: Any, arrays: Sequence[Any]) -> Any:
    """The common case of a gather's transpose, float64 values scattered by one int64
    array per axis, all of one shape, in one ``bincount`` with one bounds check per
    trailing axis; ``None`` where any of that fails (negative or out-of-range indices
    included: the general path then wraps or raises as NumPy does).

    Why it is safe: with every trailing index in ``[0, dim)``, the flat position is
    in ``[0, size)`` exactly when the leading index is in ``[0, dim0)``; ``bincount``
    refuses negatives and returns a longer array past ``size``, so that one is
    checked on the result instead of by two more reductions."""
    shape = x.shape
    first = arrays[0]
    if (type(v) is not np.ndarray or type(first) is not np.ndarray
            or v.dtype != np.float64 or v.shape != first.shape or first.dtype != np.int64
            or not first.size):  # (bincount of no positions counts in int64)
        return None
    flat = first
    for a, dim in zip(arrays[1:], shape[1:]):
        if (type(a) is not np.ndarray or a.dtype != np.int64 or a.shape != first.shape
                or (a.size and int(a.view(_U64).max()) >= dim)):
            return None
        flat = flat * dim
        flat += a
    return _bincount_into(x, flat, v)


def _bincount_into(x: np.ndarray, flat: np.ndarray, v: np.ndarray) -> Any:
    """``x`` plus the float64 values ``v`` summed at the flat positions ``flat``, by
    one ``bincount``; None for a negative position or one past ``x``."""
    try:
        counts = np.bincount(flat.ravel(), weights=v.ravel(), minlength=x.size)
    except ValueError:  # a negative position
        return None
    if counts.size != x.size:
        return None
    counts = counts.reshape(x.shape)
    counts += x
    return counts


def _scatter_flat(x: Any, v: Any, flat: Any) -> Any:
    """``x.at[flat].add(v)`` for a 1-D float64 ``x`` and values of the positions' shape
    (the transpose of a gather at flat positions): one ``bincount``; None where that
    does not apply (a negative or out-of-range position: the general path wraps or
    raises)."""
    if (type(x) is not np.ndarray or type(v) is not np.ndarray or type(flat) is not np.ndarray
            or x.dtype != _F64 or v.dtype != _F64 or flat.dtype != _INTP
            or v.shape != flat.shape or x.ndim != 1 or not flat.size):
        return None  # (bincount of no positions counts in int64)
    return _bincount_into(x, flat, v)


def _index_add_impl(x: Any, v: Any, *arrays: Any, idx: tuple[Any, ...]) -> Any:
    if len(arrays) == 1 and idx == _ONE_ARRAY:
        fast = _scatter_flat(x, v, arrays[0])
        if fast is not None:
            return fast
    if is_foreign(x) or is_foreign(v):
        return _index_add_other(x, v, arrays, idx)
    # one integer array per axis: a gather's transpose, which bincount can do
    per_axis = bool(arrays) and len(arrays) == np.ndim(x) and all(s is ARRAY for s in idx)
    if per_axis and type(x) is np.ndarray and x.dtype == np.float64:
        fast = _scatter_add_float64(x, v, arrays)
        if fast is not None:
            return fast
    out = np.array(x, copy=True)
    if (per_axis and out.dtype.kind in "fc" and np.result_type(v).kind in "fcbiu"
            and np.can_cast(np.result_type(v), out.dtype, "same_kind")):
        _scatter_add(out, arrays, v)
    elif arrays:
        np.add.at(out, build_index(idx, arrays), v)  # accumulates repeated indices
    else:
        out[build_index(idx, arrays)] += v
    return out


def _index_add_other(x: Any, v: Any, arrays: Sequence[Any], idx: tuple[Any, ...]) -> Any:
    """``x.at[idx].add(v)`` for Dask or CuPy operands: with basic indices a copy updated
    in place (both libraries take ``__setitem__``); integer-array indices may repeat,
    which needs an unbuffered scatter-add that Dask lacks, so they are refused."""
    like = x if is_foreign(x) else v
    if arrays:
        raise unsupported("xform.numpy `x.at[i].add` with integer-array indices (also the "
                          "gradient of fancy indexing)", like,
                          "Index with slices, or compute the scattered part in NumPy")
    out = (x if is_foreign(x) else asarray_like(np.asarray(x), like)).copy()
    index = build_index(idx, arrays)
    out[index] = out[index] + v
    return out


def _index_set_impl(x: Any, v: Any, *arrays: Any, idx: tuple[Any, ...]) -> Any:
    out = x.copy() if is_foreign(x) else np.array(x, copy=True)
    out[build_index(idx, arrays)] = v
    return out


def _gathered_ct(ct: Any, v: Any, arrays: Sequence[Any], idx: tuple[Any, ...]) -> Any:
    """Cotangent of the value ``v`` written at ``idx`` (it was broadcast there)."""
    return unbroadcast(bind(getitem_p, ct, *arrays, idx=idx), shape_of(v))


def _flat_scatter(x: np.ndarray, v: Any, flat: Any) -> Any:
    """``x.at[flat].add(v)`` where jit knows ``x`` and ``v`` are float64 and ``flat``
    int positions of ``v``'s shape: the ``bincount`` without the impl's dispatch."""
    if v.size:
        out = _bincount_into(x, flat, v)
        if out is not None:
            return out
    return _index_add_impl(x, v, flat, idx=_ONE_ARRAY)


def _emit_index_add(args: list[str], params: dict, bind: Any) -> str:
    # a flat gather's transpose (reverse mode's every x[i, j]) on NumPy operands whose
    # types jit knows: no dispatch on the index (~1 us of ~3.5 on 1,024 values)
    eqn = getattr(bind, "eqn", None)
    if (eqn is not None and params["idx"] == _ONE_ARRAY and getattr(bind, "like", 0) is None
            and len(eqn.invars) == 3):
        x, v, flat = (a.aval for a in eqn.invars)
        if (x.dtype == _F64 and len(x.shape) == 1 and v.dtype == _F64
                and v.shape == flat.shape and flat.dtype == _INTP):
            return f"{bind(_flat_scatter)}({', '.join(args)})"
    return f"{bind(functools.partial(_index_add_impl, idx=params['idx']))}({', '.join(args)})"


index_add_p = Primitive("index_add", _index_add_impl)
index_add_p.emit = _emit_index_add
defjvp(index_add_p,
       lambda t, ans, x, v, *arrays, idx: t,
       lambda t, ans, x, v, *arrays, idx: bind(
           index_add_p, zeros(shape_of(x), dtype_of(t), like_value(t)), t, *arrays, idx=idx))
defvjp(index_add_p,
       lambda ct, ans, x, v, *arrays, idx: ct,
       lambda ct, ans, x, v, *arrays, idx: _gathered_ct(ct, v, arrays, idx))

index_set_p = Primitive("index_set", _index_set_impl)
defjvp(index_set_p,
       lambda t, ans, x, v, *arrays, idx: bind(index_set_p, t, 0.0, *arrays, idx=idx),
       lambda t, ans, x, v, *arrays, idx: bind(
           index_set_p, zeros(shape_of(x), dtype_of(t), like_value(t)), t, *arrays, idx=idx))
defvjp(index_set_p,
       lambda ct, ans, x, v, *arrays, idx: bind(index_set_p, ct, 0.0, *arrays, idx=idx),
       lambda ct, ans, x, v, *arrays, idx: _gathered_ct(ct, v, arrays, idx))


class _IndexUpdateRef:
    __slots__ = ("array", "index")

    def __init__(self, array: Any, index: Any) -> None:
        self.array = array
        self.index = index

    def get(self) -> Any:
        """``x[idx]``."""
        return getitem(self.array, self.index)

    def set(self, values: Any) -> Any:
        """A copy of the array with ``values`` written at the index."""
        static, arrays = split_index(self.index)
        return bind(index_set_p, self.array, values, *arrays, idx=static)

    def add(self, values: Any) -> Any:
        """A copy with ``values`` added at the index (repeated indices accumulate)."""
        static, arrays = split_index(self.index)
        return bind(index_add_p, self.array, values, *arrays, idx=static)

    def multiply(self, values: Any) -> Any:
        """A copy with the indexed entries multiplied by ``values`` (a repeated
        index multiplies by all of its values)."""
        return self._combine(values, multiply, prod, 1)

    def divide(self, values: Any) -> Any:
        """A copy with the indexed entries divided by ``values`` (a repeated index
        divides by all of its values)."""
        return self._combine(values, divide, prod, 1)

    def min(self, values: Any) -> Any:
        """A copy with the indexed entries replaced by ``minimum(entry, values)``
        (over all the values of a repeated index)."""
        return self._combine(values, minimum, reduce_min, np.inf)

    def max(self, values: Any) -> Any:
        """A copy with the indexed entries replaced by ``maximum(entry, values)``
        (over all the values of a repeated index)."""
        return self._combine(values, maximum, reduce_max, -np.inf)

    def _combine(self, values: Any, op: Any, reduce: Any, identity: Any) -> Any:
        """``set(op(entry, values))``, where the values aimed at one repeated
        position are first folded into one by ``reduce`` (as ``add`` accumulates)."""
        static, arrays = split_index(self.index)
        if not arrays or any(isinstance(a, Tracer) for a in arrays):
            return self.set(op(self.get(), values))  # no (concretely known) repeats
        shape = shape_of(self.array)
        positions = np.arange(int(np.prod(shape, dtype=np.int64))).reshape(shape)
        positions = positions[build_index(static, arrays)]
        unique, inverse = np.unique(positions, return_inverse=True)
        if unique.size == positions.size:
            return self.set(op(self.get(), values))
        flat_values = ravel(broadcast_to(values, positions.shape))
        groups = inverse.reshape(1, -1) == np.arange(unique.size).reshape(-1, 1)
        folded = reduce(where(groups, reshape(flat_values, (1, -1)), identity), axis=1)
        flat = ravel(self.array)
        flat = _IndexUpdateRef(flat, unique).set(op(getitem(flat, unique), folded))
        return reshape(flat, shape)


class IndexUpdateHelper:
    """``x.at[idx]``: functional index updates (the immutable form of ``x[idx] = v``)."""

    __slots__ = ("array",)

    def __init__(self, array: Any) -> None:
        self.array = array

    def __getitem__(self, index: Any) -> _IndexUpdateRef:
        return _IndexUpdateRef(self.array, index)


def at(x: Any) -> IndexUpdateHelper:
    """``xform.numpy.at(x)[idx].set(v)``: the ``.at`` updates for any array,
    including plain NumPy arrays (which have no ``.at`` attribute).

    Args:
        x: an array (NumPy, foreign or traced).

    Returns:
        A helper: index it, then call ``.set``, ``.add``, ``.multiply``, ``.divide``,
        ``.min``, ``.max`` or ``.get``, which return a new array and leave ``x`` unchanged.

    >>> import xform, xform.numpy as np
    >>> x = np.zeros(3)
    >>> np.at(x)[1].set(5.0).tolist(), x.tolist()
    ([0.0, 5.0, 0.0], [0.0, 0.0, 0.0])
    >>> xform.grad(lambda v: np.sum(np.at(np.ones(3))[0].multiply(v)))(2.0).item()
    1.0
    """
    return IndexUpdateHelper(x)


# ------------------------------------------------------------------------ take and friends
def take(a: Any, indices: Any, axis: int | None = None) -> Any:
    """`numpy.take` (indices out of range raise, as in NumPy's default mode).

    Args:
        a: an array.
        indices: integer indices.
        axis: the axis (None: the flattened array).

    Returns:
        The selected entries; the derivative scatters back (repeated indices add).

    >>> import xform, xform.numpy as np
    >>> np.take(np.array([1.0, 2.0, 3.0]), [2, 0]).tolist()
    [3.0, 1.0]
    >>> xform.grad(lambda v: np.sum(np.take(v, [0, 0, 2])))(np.zeros(3)).tolist()
    [2.0, 0.0, 1.0]
    """
    if axis is None:
        return getitem(ravel(a), (indices,))
    nd = len(shape_of(a))
    index = (slice(None),) * (int(axis) % nd) + (indices,)
    return getitem(a, index)


def refuse_order(who: str, order: Any) -> None:
    """The error for NumPy's ``order=`` (the fields of a structured array to sort by),
    which the sorting functions take for NumPy's signature: xform has no structured
    arrays, so any value other than None is refused, by every one of them alike."""
    if order is not None:
        raise NotImplementedError(
            f"xform.numpy.{who} does not support order={order!r}: order= names the fields "
            "of a structured array, and xform has no structured arrays. Pass a plain "
            f"numeric array without order=, or call numpy.{who} on the structured array "
            "itself (its result has no derivative anyway)")


def argsort(a: Any, axis: int | None = -1, kind: str | None = None, order: Any = None, *,
            stable: bool | None = None) -> Any:
    """`numpy.argsort` (no derivative); ``axis=None`` sorts the flattened array.

    Args:
        a: an array.
        axis: the axis sorted along (None: flattened).
        kind: the sorting algorithm, as NumPy's.
        order: must be None (NumPy's structured-array fields: see `refuse_order`).
        stable: ask for a stable sort.

    Returns:
        The indices that sort ``a`` (no derivative).

    >>> import xform, xform.numpy as np
    >>> np.argsort(np.array([3.0, 1.0, 2.0])).tolist()
    [1, 2, 0]
    """
    refuse_order("argsort", order)
    if axis is None:
        a, axis = ravel(a), 0
    if stable:
        kind = "stable"
    return bind(argsort_p, a, axis=axis, **({"kind": kind} if kind is not None else {}))


argsort_p, _ = nondiff_op("argsort", lambda a, axis, kind=None: np.argsort(a, axis=axis,
                                                                          kind=kind))
refuse_silent_fallback("xform.numpy.argsort", argsort_p)  # Dask has no argsort


# ------------------------------------------------------------------------ batching
def _advanced_separated(static: tuple[Any, ...]) -> bool:
    """NumPy moves advanced-index axes to the front when the advanced indices
    (integer arrays, and ints alongside them) are not next to each other."""
    if ARRAY not in static:
        return False
    pos = [i for i, s in enumerate(static) if s is ARRAY or isinstance(s, int)]
    return pos[-1] - pos[0] + 1 != len(pos)


def _batched_gather_index(static: tuple[Any, ...], arrays: Sequence[Any],
                          adims: Sequence[Any], size: int) -> tuple[tuple[Any, ...], list[Any]]:
    """All-advanced index with a leading ``arange(size)`` for the batch axis."""
    nd = max([len(shape_of(a)) - (d is not None) for a, d in zip(arrays, adims)] + [0])
    new_arrays: list[Any] = [np.arange(size).reshape((size,) + (1,) * nd)]
    for a, d in zip(arrays, adims):
        if d is not None:
            a = move_to_front(a, d)
            rest = tuple(shape_of(a)[1:])
            a = reshape(a, (size,) + (1,) * (nd - len(rest)) + rest)
        new_arrays.append(a)
    return (ARRAY,) + static, new_arrays


def _batch_getitem(vals: Sequence[Any], dims: Sequence[Any], params: dict) -> tuple[Any, int]:
    x, arrays = vals[0], vals[1:]
    xd, adims = dims[0], dims[1:]
    static = params["idx"]
    size = batch_size(vals, dims)
    if all(d is None for d in adims):
        x = move_to_front(x, xd)
        out_dim = 0
        if _advanced_separated(static):
            out_dim = len(np.broadcast_shapes(*[shape_of(a) for a in arrays]))
        return bind(getitem_p, x, *arrays, idx=(slice(None),) + static), out_dim
    if all(s is ARRAY or isinstance(s, int) for s in static):
        x = move_to_front(x, xd) if xd is not None else broadcast_to(
            x, (size,) + tuple(shape_of(x)))
        idx, new_arrays = _batched_gather_index(static, arrays, adims, size)
        return bind(getitem_p, x, *new_arrays, idx=idx), 0
    return batch_by_loop(getitem_p, vals, dims, params)


def _batch_scatter(prim: Primitive) -> None:
    def rule(vals: Sequence[Any], dims: Sequence[Any], params: dict) -> tuple[Any, int]:
        x, v, arrays = vals[0], vals[1], vals[2:]
        xd, vd, adims = dims[0], dims[1], dims[2:]
        static = params["idx"]
        if any(d is not None for d in adims) or _advanced_separated(static):
            return batch_by_loop(prim, vals, dims, params)
        size = batch_size(vals, dims)
        x = move_to_front(x, xd) if xd is not None else broadcast_to(
            x, (size,) + tuple(shape_of(x)))
        idx = (slice(None),) + static
        if vd is not None:
            v = move_to_front(v, vd)
            dummy = np.broadcast_to(np.zeros((), bool), shape_of(x))
            region = dummy[build_index(idx, [np.zeros(shape_of(a), int) for a in arrays])].shape
            rest = tuple(shape_of(v)[1:])
            v = reshape(v, (size,) + (1,) * (len(region) - 1 - len(rest)) + rest)
        return bind(prim, x, v, *arrays, idx=idx), 0
    prim.batch = rule


getitem_p.batch = _batch_getitem
_batch_scatter(index_add_p)
_batch_scatter(index_set_p)
batch_axis_param(argsort_p)


# ------------------------------------------------------------------------ XLA lowerings
# JAX indexes as NumPy does, and ``.at[]`` scatters accumulate repeated indices
# (``x`` may be a NumPy constant indexed by traced indices: made a JAX array first)
getitem_p.lower = lambda ctx, x, *arrays, idx: ctx.jnp.asarray(x)[build_index(idx, arrays)]
index_add_p.lower = lambda ctx, x, v, *arrays, idx: ctx.jnp.asarray(x).at[
    build_index(idx, arrays)].add(v)
index_set_p.lower = lambda ctx, x, v, *arrays, idx: ctx.jnp.asarray(x).at[
    build_index(idx, arrays)].set(v)
argsort_p.lower = lambda ctx, a, axis, kind=None: ctx.jnp.argsort(a, axis=axis, stable=True)
