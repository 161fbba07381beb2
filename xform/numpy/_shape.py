"""Shape primitives (reshape, transpose, broadcast_to, concatenate, roll) and the
shape functions built on them, including the stacking of sequences that hold
traced values into arrays (what ``array``/``asarray`` do with them).

May import: the core and ``_elementwise`` (the family's order: ``__init__``).
"""
from __future__ import annotations

import functools
import math
import builtins
from typing import Any, Sequence

import numpy as np

from ..core import algebra, emit
from ..core.lowering import jnp_call
from ..core.rules import (Primitive, batch_size, bind, deflinear, defvjp, dtype_of, move_to_front,
                          shape_of, spread_like, unbroadcast)
from ..core.arrays import as_operand, is_foreign, zeros
from ..core.structured import Diagonal
from ..core.trace import Tracer, like_value


def _resolve_shape(shape: Any, size: int) -> tuple[int, ...]:
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(int(n) for n in shape)
    if -1 in shape:
        known = math.prod([n for n in shape if n != -1])
        shape = tuple(size // builtins.max(known, 1) if n == -1 else n for n in shape)
    return shape


reshape_p = Primitive("reshape", lambda x, shape: np.reshape(x, shape))
deflinear(reshape_p, lambda ct, ans, x, shape: reshape(ct, shape_of(x)))
reshape_p.emit = emit.method("reshape", "shape")
reshape_p.identities = algebra.pass_through()
reshape_p.fuse = algebra.keep_outer  # a reshape of a reshape is the last one
# C order keeps flat positions, so a Jacobian basis reshaped is the basis of its
# diagonal reshaped (core/structured.py)
reshape_p.structured = lambda vals, dims, params: (Diagonal(
    reshape(vals[0].diag, params["shape"]), vals[0].offset, vals[0].size, vals[0].unit), 0)


def reshape(a: Any, shape: Any, order: str = "C") -> Any:
    """`numpy.reshape`, in C order or Fortran order (``order="F"``: the reversed axes
    reshaped in C order, reversed back).

    Args:
        a: an array.
        shape: the new shape (one entry may be -1).
        order: ``"C"`` (row-major) or ``"F"``.

    Returns:
        The array with the new shape.

    >>> import xform, xform.numpy as np
    >>> np.reshape(np.arange(6.0), (2, -1)).shape
    (2, 3)
    """
    if order not in ("C", "F"):
        raise NotImplementedError(
            f"xform.numpy.reshape: order={order!r} is not supported (traced arrays have no "
            "memory layout); pass order='C' or order='F'")
    old = shape_of(a)
    new = _resolve_shape(shape, math.prod(old))
    if order == "F" and (len(old) > 1 or len(new) > 1):
        return transpose(reshape(transpose(a), new[::-1]))
    if new == old:
        return a
    return bind(reshape_p, a, shape=new)


def ravel(a: Any, order: str = "C") -> Any:
    """`numpy.ravel`, in C or Fortran order.

    Args:
        a: an array.
        order: ``"C"`` (row-major) or ``"F"``.

    Returns:
        The flattened array.

    >>> import xform, xform.numpy as np
    >>> np.ravel(np.arange(4.0).reshape(2, 2)).tolist()
    [0.0, 1.0, 2.0, 3.0]
    """
    return reshape(a, (-1,), order)


transpose_p = Primitive("transpose", lambda x, axes: np.transpose(x, axes))
deflinear(transpose_p, lambda ct, ans, x, axes: transpose(ct, tuple(np.argsort(axes))))
transpose_p.emit = emit.method("transpose", "axes")
transpose_p.identities = algebra.pass_through(when=algebra.is_identity_permutation("axes"))
transpose_p.fuse = algebra.compose_permutations("axes")


def transpose(a: Any, axes: Sequence[int] | None = None) -> Any:
    """`numpy.transpose`.

    Args:
        a: an array.
        axes: the permutation (reversed axes by default).

    Returns:
        The permuted array.

    >>> import xform, xform.numpy as np
    >>> np.transpose(np.ones((2, 3))).shape
    (3, 2)
    """
    nd = len(shape_of(a))
    perm = tuple(range(nd))[::-1] if axes is None else tuple(int(i) % builtins.max(nd, 1)
                                                             for i in axes)
    if perm == tuple(range(nd)):
        return a
    return bind(transpose_p, a, axes=perm)


permute_dims = transpose


def swapaxes(a: Any, axis1: int, axis2: int) -> Any:
    """`numpy.swapaxes`.

    Args:
        a: an array.
        axis1: one axis.
        axis2: the other.

    Returns:
        The array with the two axes exchanged.

    >>> import xform, xform.numpy as np
    >>> np.swapaxes(np.ones((2, 3)), 0, 1).shape
    (3, 2)
    """
    perm = list(range(len(shape_of(a))))
    perm[axis1], perm[axis2] = perm[axis2], perm[axis1]
    return transpose(a, perm)


def moveaxis(a: Any, source: Any, destination: Any) -> Any:
    """`numpy.moveaxis`.

    Args:
        a: an array.
        source: the axis or axes moved.
        destination: where they go.

    Returns:
        The array with the axes moved.

    >>> import xform, xform.numpy as np
    >>> np.moveaxis(np.ones((2, 3, 4)), 0, -1).shape
    (3, 4, 2)
    """
    nd = len(shape_of(a))
    src = [s % nd for s in np.atleast_1d(source)]
    dst = [d % nd for d in np.atleast_1d(destination)]
    order = [i for i in range(nd) if i not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return transpose(a, order)


def _broadcast_to_impl(x: Any, shape: tuple[int, ...]) -> Any:
    # filling a small array beats np.broadcast_to's Python overhead (~5 us); large
    # ones stay zero-copy views
    if np.ndim(x) == 0 and math.prod(shape) <= 4096 and not is_foreign(x):
        return np.full(shape, x, dtype=np.result_type(x))
    return np.broadcast_to(x, shape)


broadcast_to_p = Primitive("broadcast_to", _broadcast_to_impl)
deflinear(broadcast_to_p, lambda ct, ans, x, shape: unbroadcast(ct, shape_of(x)))
broadcast_to_p.emit = emit.numpy_call("broadcast_to", "shape")
broadcast_to_p.identities = algebra.pass_through()
broadcast_to_p.is_broadcast = True


def _broadcast_like_impl(x: Any, like: Any, shape: tuple[int, ...]) -> Any:
    if is_foreign(like):
        return spread_like(x, like)
    return _broadcast_to_impl(x, shape)


def _emit_broadcast_like(a: list[str], p: dict[str, Any], bind: emit.Bind) -> str:
    if getattr(bind, "like", None) is None:  # a NumPy program: like's chunks do not exist
        return f"_np.broadcast_to({a[0]}, {bind(p['shape'])})"
    return f"{bind(functools.partial(_broadcast_like_impl, shape=p['shape']))}({a[0]}, {a[1]})"


#: ``x`` broadcast to ``shape`` (the broadcast of x's shape and like's), laid out like
#: the operand ``like`` where that is another library's array: the cotangent of a
#: reduction (sum, mean) staged by jit, where the data's chunks are known only when the
#: generated code runs. ``like`` is data: no derivative flows into it.
broadcast_like_p = Primitive("broadcast_like", _broadcast_like_impl)
broadcast_like_p.jvp = lambda tangents, ans, args, params: (
    None if tangents[0] is None else bind(broadcast_like_p, tangents[0], args[1], **params))
defvjp(broadcast_like_p, lambda ct, ans, x, like, shape: unbroadcast(ct, shape_of(x)), None)
broadcast_like_p.linear = True
broadcast_like_p.is_broadcast = True
broadcast_like_p.emit = _emit_broadcast_like
broadcast_like_p.lower = lambda ctx, x, like, shape: ctx.jnp.broadcast_to(x, shape)


def broadcast_like(x: Any, like: Any) -> Any:
    """``x`` broadcast against ``like``'s shape, following ``like``'s chunks when it is a
    Dask array (also inside ``jit``, where the layout is known only at run time)."""
    shape = tuple(np.broadcast_shapes(shape_of(x), shape_of(like)))
    return bind(broadcast_like_p, x, like, shape=shape)


def broadcast_to(array: Any, shape: Any) -> Any:
    """`numpy.broadcast_to` (the result is read-only when it is a NumPy view).

    Args:
        array: an array.
        shape: the shape to broadcast to.

    Returns:
        The broadcast array; the derivative sums over the broadcast axes.

    >>> import xform, xform.numpy as np
    >>> np.broadcast_to(np.array([1.0, 2.0]), (2, 2)).tolist()
    [[1.0, 2.0], [1.0, 2.0]]
    """
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    if shape_of(array) == shape:
        return array
    return bind(broadcast_to_p, array, shape=shape)


def broadcast_arrays(*args: Any) -> tuple[Any, ...]:
    """`numpy.broadcast_arrays` (a tuple, as NumPy 2 returns).

    Args:
        *args: arrays or scalars (traced or not) with broadcast-compatible shapes.

    Returns:
        A tuple of the inputs broadcast to their common shape; derivatives sum back
        over the broadcast axes.

    >>> import xform, xform.numpy as np
    >>> [a.shape for a in np.broadcast_arrays(np.ones((2, 1)), np.ones(3))]
    [(2, 3), (2, 3)]
    >>> float(xform.grad(lambda s: np.sum(np.broadcast_arrays(s, np.ones(3))[0]))(2.0))
    3.0
    """
    shape = np.broadcast_shapes(*[shape_of(a) for a in args])
    return tuple(broadcast_to(a, shape) for a in args)


def expand_dims(a: Any, axis: Any) -> Any:
    """`numpy.expand_dims`.

    Args:
        a: an array.
        axis: where the new size-1 axis (or axes) go.

    Returns:
        ``a`` with the new axes.

    >>> import xform, xform.numpy as np
    >>> np.expand_dims(np.ones(3), 0).shape
    (1, 3)
    """
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    shape = list(shape_of(a))
    nd = len(shape) + len(axes)
    for ax in sorted(int(x) % nd for x in axes):
        shape.insert(ax, 1)
    return reshape(a, shape)


def squeeze(a: Any, axis: Any = None) -> Any:
    """`numpy.squeeze`.

    Args:
        a: an array.
        axis: the size-1 axes removed (all by default).

    Returns:
        ``a`` without those axes.

    >>> import xform, xform.numpy as np
    >>> np.squeeze(np.ones((1, 3, 1))).shape
    (3,)
    """
    shape = shape_of(a)
    if axis is None:
        axes = {i for i, n in enumerate(shape) if n == 1}
    else:
        axes = {int(x) % len(shape) for x in np.atleast_1d(axis)}
        for i in axes:
            if shape[i] != 1:
                raise ValueError(f"cannot squeeze axis {i} of size {shape[i]} (shape {shape})")
    return reshape(a, [n for i, n in enumerate(shape) if i not in axes])


def atleast_1d(*arys: Any) -> Any:
    """`numpy.atleast_1d`.

    Args:
        *arys: arrays or scalars (traced or not).

    Returns:
        One array of at least one dimension (a scalar becomes shape ``(1,)``), or a
        tuple of them for several inputs (as NumPy 2).

    >>> import xform.numpy as np
    >>> np.atleast_1d(2.0).shape, [a.shape for a in np.atleast_1d(1.0, np.ones((2, 2)))]
    ((1,), [(1,), (2, 2)])
    """
    out = [a if len(shape_of(a)) >= 1 else reshape(a, (1,)) for a in map(as_array, arys)]
    return out[0] if len(out) == 1 else tuple(out)


def atleast_2d(*arys: Any) -> Any:
    """`numpy.atleast_2d`.

    Args:
        *arys: arrays or scalars (traced or not).

    Returns:
        One array of at least two dimensions (shape ``(N,)`` becomes ``(1, N)``), or a
        tuple of them for several inputs (as NumPy 2).

    >>> import xform.numpy as np
    >>> np.atleast_2d(np.ones(3)).shape
    (1, 3)
    """
    out = []
    for a in map(as_array, arys):
        nd = len(shape_of(a))
        out.append(a if nd >= 2 else reshape(a, (1,) * (2 - nd) + shape_of(a)))
    return out[0] if len(out) == 1 else tuple(out)


def contains_tracer(x: Any) -> bool:
    """Whether ``x`` is a traced value or a (nested) sequence holding one."""
    if isinstance(x, Tracer):
        return True
    if isinstance(x, (list, tuple)):
        return builtins.any(contains_tracer(e) for e in x)
    return False


def stack_nested(x: Any) -> Any:
    """A (nested) sequence of arrays and traced values, stacked into one array."""
    if isinstance(x, (list, tuple)):
        return stack([stack_nested(e) for e in x])
    return x if isinstance(x, Tracer) else as_operand(x)


def as_array(x: Any) -> Any:
    """`asarray` without a dtype: traced values as they are, sequences holding
    them stacked, anything else through `numpy.asarray`."""
    return stack_nested(x) if contains_tracer(x) else as_operand(x)


# ------------------------------------------------------------------------ concatenate
def _concat_impl(*xs: Any, axis: int) -> Any:
    return np.concatenate(xs, axis=axis)


concatenate_p = Primitive("concatenate", _concat_impl)


def _concat_jvp(tangents: Sequence[Any], ans: Any, args: Sequence[Any], params: dict) -> Any:
    parts = [t if t is not None else zeros(shape_of(a), dtype_of(ans), like_value(ans))
             for t, a in zip(tangents, args)]
    return bind(concatenate_p, *parts, axis=params["axis"])


def _concat_vjp(ct: Any, ans: Any, args: Sequence[Any], params: dict,
                needs: Sequence[bool]) -> list[Any]:
    axis = params["axis"]
    out: list[Any] = []
    start = 0
    index: list[Any] = [slice(None)] * len(shape_of(ans))
    for a, need in zip(args, needs):
        stop = start + shape_of(a)[axis]
        if need:
            index[axis] = slice(start, stop)
            out.append(ct[tuple(index)])
        else:
            out.append(None)
        start = stop
    return out


concatenate_p.jvp = _concat_jvp
concatenate_p.vjp = _concat_vjp


def concatenate(arrays: Sequence[Any], axis: int | None = 0) -> Any:
    """`numpy.concatenate`.

    Args:
        arrays: a sequence of arrays, equal but along ``axis``.
        axis: the joining axis (None: flatten first).

    Returns:
        The joined array.

    >>> import xform, xform.numpy as np
    >>> np.concatenate([np.zeros(2), np.ones(1)]).tolist()
    [0.0, 0.0, 1.0]
    """
    arrays = [as_array(a) for a in arrays]
    if axis is None:
        arrays = [ravel(a) for a in arrays]
        axis = 0
    nd = len(shape_of(arrays[0]))
    if nd == 0:
        raise ValueError("zero-dimensional arrays cannot be concatenated")
    if len(arrays) == 1:
        return arrays[0]
    return bind(concatenate_p, *arrays, axis=int(axis) % nd)


def stack(arrays: Sequence[Any], axis: int = 0) -> Any:
    """`numpy.stack`.

    Args:
        arrays: a sequence of arrays of one shape.
        axis: where the new axis goes.

    Returns:
        The stacked array, one dimension more.

    >>> import xform, xform.numpy as np
    >>> np.stack([np.zeros(2), np.ones(2)], axis=1).tolist()
    [[0.0, 1.0], [0.0, 1.0]]
    """
    arrays = [as_array(a) for a in arrays]
    nd = len(shape_of(arrays[0])) + 1
    axis = int(axis) % nd
    return concatenate([expand_dims(a, axis) for a in arrays], axis=axis)


def hstack(tup: Sequence[Any]) -> Any:
    """`numpy.hstack`.

    Args:
        tup: a sequence of arrays.

    Returns:
        The arrays joined along the second axis (the first for 1-D).

    >>> import xform, xform.numpy as np
    >>> np.hstack([np.zeros(1), np.ones(2)]).tolist()
    [0.0, 1.0, 1.0]
    """
    arrs = [atleast_1d(a) for a in tup]
    return concatenate(arrs, axis=0 if len(shape_of(arrs[0])) == 1 else 1)


def vstack(tup: Sequence[Any]) -> Any:
    """`numpy.vstack`.

    Args:
        tup: a sequence of arrays.

    Returns:
        The arrays joined along the first axis (1-D ones as rows).

    >>> import xform, xform.numpy as np
    >>> np.vstack([np.zeros(2), np.ones(2)]).tolist()
    [[0.0, 0.0], [1.0, 1.0]]
    """
    return concatenate([atleast_2d(a) for a in tup], axis=0)


def column_stack(tup: Sequence[Any]) -> Any:
    """`numpy.column_stack`.

    Args:
        tup: a sequence of arrays (traced or not); 1-D ones become columns.

    Returns:
        A 2-D array of the inputs joined along axis 1.

    >>> import xform.numpy as np
    >>> np.column_stack([np.array([1.0, 2.0]), np.array([3.0, 4.0])]).tolist()
    [[1.0, 3.0], [2.0, 4.0]]
    """
    cols = [reshape(a, (-1, 1)) if len(shape_of(a)) < 2 else a for a in map(as_array, tup)]
    return concatenate(cols, axis=1)


# ------------------------------------------------------------------------ roll, tile, repeat
# below this many elements a roll is one ``take`` of a cached permutation along the
# axis (2-3x faster than two slice copies on a 32x32 grid); above it the slice copies
# (memory-bound) win, most along the last axis
_ROLL_BY_TAKE = 4096
_ROLL_PERMS: dict[tuple[int, int], np.ndarray] = {}


def _roll_perm(n: int, shift: int) -> np.ndarray:
    """The positions ``np.roll(arange(n), shift)`` reads, cached per length and shift."""
    key = (n, shift % n)
    perm = _ROLL_PERMS.get(key)
    if perm is None:
        if len(_ROLL_PERMS) > 1024:  # bounded: odd shapes must not grow it forever
            _ROLL_PERMS.clear()
        perm = _ROLL_PERMS[key] = np.roll(np.arange(n), shift)
    return perm


def _roll_impl(x: Any, shift: Any, axis: Any) -> Any:
    """``np.roll`` along one axis by two slice copies, or on small arrays one ``take``
    (``np.roll`` itself costs ~4x more on small arrays, and simulations call it
    thousands of times)."""
    if isinstance(axis, tuple) or is_foreign(x):
        return np.roll(x, shift, axis)
    x = np.asarray(x)
    n = x.shape[axis]
    s = shift % n if n else 0
    if s and x.size <= _ROLL_BY_TAKE:
        return x.take(_roll_perm(n, s), axis)
    out = np.empty_like(x)
    if s == 0:
        out[...] = x
        return out
    lead = (slice(None),) * (axis % x.ndim)
    out[lead + (slice(s, None),)] = x[lead + (slice(None, n - s),)]
    out[lead + (slice(None, s),)] = x[lead + (slice(n - s, None),)]
    return out


def _roller(shift: int, axis: int) -> Any:
    """``_roll_impl`` for one integer shift along one axis, its slices made once: what
    jit calls for each ``roll`` equation (simulations run thousands of them)."""
    lead: tuple[Any, ...] = ((slice(None),) * axis if axis >= 0
                             else (Ellipsis,) + (slice(None),) * (-axis - 1))
    def at(s: slice) -> tuple[Any, ...]:
        return lead + (s,) if axis >= 0 else lead[:1] + (s,) + lead[1:]
    # for 0 < |shift| < n: out[shift:] = x[:-shift], out[:shift] = x[-shift:]
    head, tail = at(slice(shift, None)), at(slice(None, shift))
    x_head, x_tail = at(slice(None, -shift)), at(slice(-shift, None))
    limit = abs(shift)
    empty_like = np.empty_like
    ndarray = np.ndarray
    perms: dict[int, np.ndarray] = {}  # by the axis's length

    def roll_one(x: Any) -> Any:
        n = x.shape[axis]
        if not 0 < limit < n:
            return _roll_impl(x, shift, axis)
        if x.size <= _ROLL_BY_TAKE and type(x) is ndarray:
            perm = perms.get(n)
            if perm is None:
                perm = perms[n] = _roll_perm(n, shift)
            return x.take(perm, axis)
        out = empty_like(x)
        out[head] = x[x_head]
        out[tail] = x[x_tail]
        return out
    return roll_one


def _emit_roll(args: list[str], params: dict, bind: Any) -> str:
    shift, axis = params["shift"], params["axis"]
    if isinstance(shift, tuple) or isinstance(axis, tuple):
        return f"{bind(functools.partial(_roll_impl, shift=shift, axis=axis))}({args[0]})"
    # a small NumPy operand of known shape: the permutation is made now, the code is
    # one ``take`` (~0.4 us on 32x32 along axis 0, where the roller's checks add ~0.3)
    eqn = getattr(bind, "eqn", None)
    aval = getattr(eqn.invars[0], "aval", None) if eqn is not None else None
    if (aval is not None and getattr(bind, "like", None) is None and len(aval.shape) > 0
            and 0 < math.prod(aval.shape) <= _ROLL_BY_TAKE):
        return f"{args[0]}.take({bind(_roll_perm(aval.shape[axis], shift))}, {axis})"
    return f"{bind(_roller(shift, axis))}({args[0]})"


roll_p = Primitive("roll", _roll_impl)
roll_p.emit = _emit_roll
deflinear(roll_p, lambda ct, ans, x, shift, axis: bind(
    roll_p, ct, shift=tuple(-s for s in shift) if isinstance(shift, tuple) else -shift,
    axis=axis))


def roll(a: Any, shift: Any, axis: Any = None) -> Any:
    """`numpy.roll`.

    Args:
        a: an array.
        shift: how far, along each of ``axis``.
        axis: the axis or axes (None: the flattened array).

    Returns:
        The rolled array.

    >>> import xform, xform.numpy as np
    >>> np.roll(np.array([1.0, 2.0, 3.0]), 1).tolist()
    [3.0, 1.0, 2.0]
    """
    if axis is None:
        return reshape(roll(ravel(a), shift, 0), shape_of(a))
    if isinstance(shift, (list, tuple, np.ndarray)) or isinstance(axis, (list, tuple)):
        shift_arr, axis_arr = np.broadcast_arrays(np.atleast_1d(shift), np.atleast_1d(axis))
        return bind(roll_p, a, shift=tuple(int(s) for s in shift_arr),
                    axis=tuple(int(x) for x in axis_arr))
    return bind(roll_p, a, shift=int(shift), axis=int(axis))


def tile(A: Any, reps: Any) -> Any:
    """`numpy.tile`, as a broadcast of an interleaved reshape (no copy rule needed).

    Args:
        A: an array.
        reps: the repetitions along each axis.

    Returns:
        The tiled array.

    >>> import xform, xform.numpy as np
    >>> np.tile(np.array([1.0, 2.0]), 2).tolist()
    [1.0, 2.0, 1.0, 2.0]
    """
    A = as_array(A)
    reps = (int(reps),) if isinstance(reps, (int, np.integer)) else tuple(int(r) for r in reps)
    shape = shape_of(A)
    d = builtins.max(len(reps), len(shape))
    shape = (1,) * (d - len(shape)) + tuple(shape)
    reps = (1,) * (d - len(reps)) + reps
    inter = [n for pair in zip((1,) * d, shape) for n in pair]
    target = [n for pair in zip(reps, shape) for n in pair]
    out = broadcast_to(reshape(A, inter), target)
    return reshape(out, [r * n for r, n in zip(reps, shape)])


def repeat(a: Any, repeats: Any, axis: int | None = None) -> Any:
    """`numpy.repeat`.

    Args:
        a: an array.
        repeats: how often each entry is repeated (an int or one per entry).
        axis: the axis (None: the flattened array).

    Returns:
        The repeated array.

    >>> import xform, xform.numpy as np
    >>> np.repeat(np.array([1.0, 2.0]), 2).tolist()
    [1.0, 1.0, 2.0, 2.0]
    """
    a = as_array(a)
    if axis is None:
        a, axis = ravel(a), 0
    shape = shape_of(a)
    axis = int(axis) % len(shape)
    if isinstance(repeats, (int, np.integer)):
        r = int(repeats)
        expanded = expand_dims(a, axis + 1)
        target = shape[:axis + 1] + (r,) + shape[axis + 1:]
        return reshape(broadcast_to(expanded, target),
                       shape[:axis] + (shape[axis] * r,) + shape[axis + 1:])
    # an integer-array index: the gather of `_indexing`, reached through `a[...]`
    # (plain NumPy indexing for a constant `a`) as `flip` reaches it with slices
    index = np.repeat(np.arange(shape[axis]), np.asarray(repeats))
    return a[(slice(None),) * axis + (index,)]


def flip(m: Any, axis: Any = None) -> Any:
    """`numpy.flip`.

    Args:
        m: an array.
        axis: the axis or axes reversed (all by default).

    Returns:
        The reversed array.

    >>> import xform, xform.numpy as np
    >>> np.flip(np.array([1.0, 2.0, 3.0])).tolist()
    [3.0, 2.0, 1.0]
    """
    nd = len(shape_of(m))
    axes = range(nd) if axis is None else [int(x) % nd for x in np.atleast_1d(axis)]
    index = [slice(None)] * nd
    for ax in axes:
        index[ax] = slice(None, None, -1)
    return m[tuple(index)]


# ------------------------------------------------------------------------ batching
def _batch_reshape(vals: Sequence[Any], dims: Sequence[Any], params: dict) -> tuple[Any, int]:
    x = move_to_front(vals[0], dims[0])
    return bind(reshape_p, x, shape=(shape_of(x)[0],) + tuple(params["shape"])), 0


def _batch_transpose(vals: Sequence[Any], dims: Sequence[Any], params: dict) -> tuple[Any, int]:
    x = move_to_front(vals[0], dims[0])
    return bind(transpose_p, x, axes=(0,) + tuple(a + 1 for a in params["axes"])), 0


def _batch_broadcast_to(vals: Sequence[Any], dims: Sequence[Any], params: dict
                        ) -> tuple[Any, int]:
    x = move_to_front(vals[0], dims[0])
    shape = tuple(params["shape"])
    size, rest = shape_of(x)[0], tuple(shape_of(x)[1:])
    x = reshape(x, (size,) + (1,) * (len(shape) - len(rest)) + rest)
    return bind(broadcast_to_p, x, shape=(size,) + shape), 0


def _batch_concatenate(vals: Sequence[Any], dims: Sequence[Any], params: dict
                       ) -> tuple[Any, int]:
    size = batch_size(vals, dims)
    parts = [move_to_front(v, d) if d is not None else
             broadcast_to(v, (size,) + tuple(shape_of(v))) for v, d in zip(vals, dims)]
    return bind(concatenate_p, *parts, axis=params["axis"] + 1), 0


def _batch_roll(vals: Sequence[Any], dims: Sequence[Any], params: dict) -> tuple[Any, int]:
    x = move_to_front(vals[0], dims[0])
    axis = params["axis"]
    axis = tuple(a % (len(shape_of(x)) - 1) + 1 for a in axis) if isinstance(axis, tuple) \
        else axis % (len(shape_of(x)) - 1) + 1
    return bind(roll_p, x, shift=params["shift"], axis=axis), 0


def _batch_broadcast_like(vals: Sequence[Any], dims: Sequence[Any], params: dict
                          ) -> tuple[Any, int]:
    # batch axes in front, and a batched x given like's rank after its batch axis:
    # then NumPy's broadcast of the two is the batched result
    x, like = (move_to_front(v, d) for v, d in zip(vals, dims))
    if dims[0] is not None:
        rank = len(shape_of(like)) - (dims[1] is not None)
        rest = tuple(shape_of(x)[1:])
        x = reshape(x, shape_of(x)[:1] + (1,) * (rank - len(rest)) + rest)
    return broadcast_like(x, like), 0


reshape_p.batch = _batch_reshape
transpose_p.batch = _batch_transpose
broadcast_to_p.batch = _batch_broadcast_to
broadcast_like_p.batch = _batch_broadcast_like
concatenate_p.batch = _batch_concatenate
roll_p.batch = _batch_roll


# ------------------------------------------------------------------------ XLA lowerings
# (reshape, transpose and broadcast_to lower through their emitters)
concatenate_p.lower = lambda ctx, *xs, axis: ctx.jnp.concatenate(xs, axis=axis)
roll_p.lower = jnp_call("roll", "shift", "axis")
