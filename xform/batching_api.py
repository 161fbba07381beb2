"""vmap and the Jacobian family: jacfwd, jacrev, jacobian, hessian, hvp, linear_transpose.

Every Jacobian is one batched pass: ``vmap`` over the rows of an identity basis
pushed through ``jvp`` (forward) or pulled through one recorded ``vjp`` (reverse);
``chunk_size`` splits the basis to bound memory.
"""
from __future__ import annotations

import math
import functools
from typing import Any, Callable, Sequence

import numpy as np

from .api import _argnums_tuple, _as_output, _check_differentiable, _fun_name, jvp, vjp, grad
from .core.trace import current_trace, set_current, to_numpy_value
from .interpreters.batching import BatchTrace, BatchTracer
from .numpy import _shape as S
from .core.rules import dtype_of, shape_of
from .tree_util import tree_flatten, tree_unflatten

Fun = Callable[..., Any]


def _broadcast_prefix(prefix: Any, tree: Any, what: str) -> list[Any]:
    """One entry of ``prefix`` per leaf of ``tree`` (``prefix`` is a pytree prefix of it,
    whose leaves are ints or None)."""
    p_leaves, p_def = tree_flatten(prefix, is_leaf=lambda x: x is None)
    try:
        subtrees = p_def.flatten_up_to(tree)
    except ValueError as e:
        raise ValueError(f"vmap: {what} must be an int, None, or a pytree prefix of the "
                         f"arguments; {e}") from None
    out: list[Any] = []
    for p, sub in zip(p_leaves, subtrees):
        out.extend([p] * len(tree_flatten(sub)[0]))
    return out


def _move_batch_axis(x: Any, bdim: int | None, out_axis: int | None, size: int) -> Any:
    """Place the batch axis of an output at ``out_axis`` (materialising it for unbatched
    outputs)."""
    if out_axis is None:
        if bdim is not None:
            raise ValueError("vmap: out_axes=None, but the output depends on the batched "
                             "inputs; use an integer out_axes for it")
        return x
    nd = len(shape_of(x)) + (bdim is None)
    if not -nd <= out_axis < nd:
        raise ValueError(f"vmap: out_axes={out_axis} is out of range for an output of rank "
                         f"{nd} (including the batch axis)")
    out_axis = out_axis % nd
    if bdim is None:
        x = S.broadcast_to(S.expand_dims(x, 0), (size,) + tuple(shape_of(x)))
        bdim = 0
    return S.moveaxis(x, bdim, out_axis) if bdim != out_axis else x


def vmap(fun: Fun, in_axes: Any = 0, out_axes: Any = 0, axis_size: int | None = None) -> Fun:
    """Vectorise ``fun`` over an axis of its inputs, in one pass over its operations.

    >>> import xform, xform.numpy as np
    >>> xform.vmap(lambda x: np.dot(x, x))(np.ones((3, 2))).tolist()
    [2.0, 2.0, 2.0]
    """

    @functools.wraps(fun)
    def vmapped(*args: Any) -> Any:
        axes_prefix = tuple(in_axes) if isinstance(in_axes, list) else in_axes
        if isinstance(axes_prefix, tuple) and len(axes_prefix) != len(args):
            raise ValueError(f"vmap: in_axes has {len(axes_prefix)} entries but "
                             f"`{_fun_name(fun)}` got {len(args)} positional arguments")
        leaves, treedef = tree_flatten(tuple(args))
        axes = _broadcast_prefix(axes_prefix, tuple(args), "in_axes")
        # unmapped Python scalars stay Python scalars: NumPy treats them as weakly
        # typed (2.0 * float32 array stays float32), as in an unbatched call
        leaves = [x if ax is None and type(x) in (int, float, complex, bool)
                  else to_numpy_value(x) for x, ax in zip(leaves, axes)]
        for x, ax in zip(leaves, axes):
            nd = len(shape_of(x))
            if ax is not None and not -nd <= ax < nd:
                raise ValueError(f"vmap: asked to map axis {ax} (in_axes) of an argument of "
                                 f"shape {tuple(shape_of(x))}, which has rank {nd}")
        sizes = {shape_of(x)[ax] for x, ax in zip(leaves, axes) if ax is not None}
        if len(sizes) > 1:
            raise ValueError(f"vmap: the mapped axes have different sizes {sorted(sizes)}; "
                             "every mapped input needs the same size along its in_axes")
        if not sizes and axis_size is None:
            raise ValueError("vmap: no input is mapped (all in_axes are None); pass "
                             "axis_size= to say how many copies to make")
        size = sizes.pop() if sizes else int(axis_size)  # type: ignore[arg-type]
        trace = BatchTrace(current_trace(), size)
        # unbatched arguments stay tracers too (as in JAX), so batched indices and
        # .at updates work on them
        boxed = [x if ax is None and type(x) in (int, float, complex, bool) else
                 BatchTracer(x, None if ax is None else ax % len(shape_of(x)), trace)
                 for x, ax in zip(leaves, axes)]
        try:
            with set_current(trace):
                out = fun(*tree_unflatten(treedef, boxed))
        finally:
            trace.alive = False
        out_leaves, out_tree = tree_flatten(out)
        o_axes = _broadcast_prefix(out_axes, out, "out_axes")
        results = []
        for o, ax in zip(out_leaves, o_axes):
            if isinstance(o, BatchTracer) and o._trace is trace:
                results.append(_as_output(_move_batch_axis(o.val, o.bdim, ax, size)))
            else:
                results.append(_as_output(_move_batch_axis(to_numpy_value(o), None, ax, size)))
        return tree_unflatten(out_tree, results)

    return vmapped


# ---------------------------------------------------------------------------- Jacobians
def _chunked_vmap(f: Fun, basis: np.ndarray, chunk_size: int | None) -> Any:
    """``vmap(f)(basis)``, in chunks of rows when ``chunk_size`` is given."""
    if chunk_size is None or chunk_size >= basis.shape[0]:
        return vmap(f)(basis)
    parts = [vmap(f)(basis[i:i + chunk_size]) for i in range(0, basis.shape[0], chunk_size)]
    leaves0, tree = tree_flatten(parts[0])
    cols = [tree_flatten(p)[0] for p in parts]
    return tree_unflatten(tree, [S.concatenate([c[k] for c in cols], axis=0)
                                 for k in range(len(leaves0))])


def _split_flat(flat: Any, like: Sequence[Any]) -> list[Any]:
    """Cut a flat vector into pieces shaped like ``like``."""
    out, start = [], 0
    for x in like:
        n = math.prod(shape_of(x))
        out.append(S.reshape(flat[start:start + n], shape_of(x)))
        start += n
    return out


def _blocks(stacked: Sequence[Any], rows: Sequence[Any], cols: Sequence[Any],
            rows_lead: bool) -> list[list[Any]]:
    """Cut the batched results into blocks ``out.shape + in.shape``.

    ``stacked[k]`` has a leading basis axis; with ``rows_lead`` the basis runs over
    the rows (outputs, reverse mode), otherwise over the columns (inputs, forward).
    """
    sizes = [math.prod(shape_of(c)) for c in (cols if not rows_lead else rows)]
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(int)
    out: list[list[Any]] = []
    for j, r in enumerate(rows):
        row = []
        for i, c in enumerate(cols):
            # traceable ops throughout: the Jacobian may itself be differentiated
            if rows_lead:  # stacked[i]: (n_rows_total,) + c.shape
                block = S.reshape(stacked[i][offsets[j]:offsets[j + 1]],
                                  tuple(shape_of(r)) + tuple(shape_of(c)))
            else:  # stacked[j]: (n_cols_total,) + r.shape
                block = S.moveaxis(stacked[j][offsets[i]:offsets[i + 1]], 0, -1)
                block = S.reshape(block, tuple(shape_of(r)) + tuple(shape_of(c)))
            row.append(_as_output(block))
        out.append(row)
    return out


def _diff_setup(fun: Fun, args: tuple[Any, ...], argnums: Any, who: str,
                holomorphic: bool | None) -> tuple[tuple[int, ...], list[Any], Any, Fun]:
    nums = _argnums_tuple(argnums, len(args), fun, who)
    leaves, treedef = tree_flatten([args[i] for i in nums])
    leaves = [to_numpy_value(x) for x in leaves]
    _check_differentiable(leaves, who, holomorphic, allow_int=False)

    def f_of_leaves(*diff_leaves: Any) -> Any:
        full = list(args)
        for i, a in zip(nums, tree_unflatten(treedef, list(diff_leaves))):
            full[i] = a
        return fun(*full)

    return nums, leaves, treedef, f_of_leaves


def _assemble(blocks: list[list[Any]], out_tree: Any, in_treedef: Any, argnums: Any) -> Any:
    """Output structure outside, input structure inside (JAX's layout)."""
    per_out = []
    for row in blocks:
        ins = tree_unflatten(in_treedef, row)
        per_out.append(ins[0] if isinstance(argnums, int) else tuple(ins))
    return tree_unflatten(out_tree, per_out)


def _basis(leaves: Sequence[Any]) -> np.ndarray:
    n = sum(math.prod(shape_of(x)) for x in leaves)
    dtype = np.result_type(*[dtype_of(x) for x in leaves]) if leaves else np.float64
    return np.eye(n, dtype=dtype)


def _split_aux(has_aux: bool, out: Any) -> tuple[Any, Any]:
    if not has_aux:
        return out, None
    if not (isinstance(out, (tuple, list)) and len(out) == 2):
        raise TypeError("with has_aux=True the function must return a pair (output, aux)")
    return out[0], out[1]


def jacfwd(fun: Fun, argnums: int | Sequence[int] = 0, has_aux: bool = False,
           holomorphic: bool = False, chunk_size: int | None = None) -> Fun:
    """Jacobian by forward mode: one batched JVP over the input basis.
    Blocks have shape ``out.shape + in.shape``; best when inputs are few."""

    @functools.wraps(fun)
    def jac(*args: Any) -> Any:
        nums, leaves, treedef, f = _diff_setup(fun, args, argnums, "jacfwd", holomorphic)
        aux_box: list[Any] = []

        def f_main(*xs: Any) -> Any:
            out, aux = _split_aux(has_aux, f(*xs))
            if has_aux and not aux_box:
                from .numpy._elementwise import stop_gradient
                aux_box.append(stop_gradient(aux))
            return out

        out_box: list[Any] = []

        def push(t_flat: Any) -> Any:
            out, t_out = jvp(f_main, leaves, _split_flat(t_flat, leaves))
            if not out_box:
                out_box.append(out)
            return t_out

        stacked = _chunked_vmap(push, _basis(leaves), chunk_size)
        out_leaves, out_tree = tree_flatten(out_box[0])
        blocks = _blocks(tree_flatten(stacked)[0], out_leaves, leaves, rows_lead=False)
        result = _assemble(blocks, out_tree, treedef, argnums)
        return (result, aux_box[0]) if has_aux else result

    return jac


def jacrev(fun: Fun, argnums: int | Sequence[int] = 0, has_aux: bool = False,
           holomorphic: bool = False, chunk_size: int | None = None) -> Fun:
    """Jacobian by reverse mode: one recorded forward pass, then one batched VJP over
    the output basis. Blocks have shape ``out.shape + in.shape``; best when outputs
    are few."""

    @functools.wraps(fun)
    def jac(*args: Any) -> Any:
        nums, leaves, treedef, f = _diff_setup(fun, args, argnums, "jacrev",
                                               True if holomorphic else None)
        if has_aux:
            out, vjp_fn, aux = vjp(lambda *xs: _split_aux(True, f(*xs)), *leaves, has_aux=True)
        else:
            out, vjp_fn = vjp(f, *leaves)
        out_leaves, out_tree = tree_flatten(out)

        def pull(ct_flat: Any) -> Any:
            return vjp_fn(tree_unflatten(out_tree, _split_flat(ct_flat, out_leaves)))

        stacked = _chunked_vmap(pull, _basis(out_leaves), chunk_size)
        blocks = _blocks(list(stacked), out_leaves, leaves, rows_lead=True)
        result = _assemble(blocks, out_tree, treedef, argnums)
        return (result, aux) if has_aux else result

    return jac


def jacobian(fun: Fun, argnums: int | Sequence[int] = 0, mode: str = "auto",
             has_aux: bool = False, chunk_size: int | None = None) -> Fun:
    """The Jacobian, by ``mode`` "fwd", "rev" or "auto" (forward when the inputs are
    fewer than the outputs, reverse otherwise)."""
    if mode not in ("auto", "fwd", "rev"):
        raise ValueError(f"jacobian: mode must be 'auto', 'fwd' or 'rev', got {mode!r}")

    @functools.wraps(fun)
    def jac(*args: Any) -> Any:
        chosen = mode
        if chosen == "auto":
            nums, leaves, _, f = _diff_setup(fun, args, argnums, "jacobian", False)
            out = f(*leaves)
            if has_aux:
                out = out[0]
            n_in = sum(math.prod(shape_of(x)) for x in leaves)
            n_out = sum(math.prod(shape_of(x)) for x in tree_flatten(out)[0])
            chosen = "fwd" if n_in < n_out else "rev"
        transform = jacfwd if chosen == "fwd" else jacrev
        return transform(fun, argnums, has_aux=has_aux, chunk_size=chunk_size)(*args)

    return jac


def hessian(fun: Fun, argnums: int | Sequence[int] = 0, has_aux: bool = False,
            chunk_size: int | None = None) -> Fun:
    """The Hessian as forward-over-reverse: ``jacfwd(jacrev(fun))``."""
    return jacfwd(jacrev(fun, argnums, has_aux=has_aux), argnums, has_aux=has_aux,
                  chunk_size=chunk_size)


def hvp(fun: Fun, primals: Sequence[Any], tangents: Sequence[Any]) -> Any:
    """Hessian-vector product ``H(primals) @ tangents`` by forward-over-reverse, without
    forming the Hessian (cost: a few gradient evaluations)."""
    primals, tangents = tuple(primals), tuple(tangents)
    nums = tuple(range(len(primals)))
    _, t = jvp(grad(fun, nums), primals, tangents)
    return t[0] if len(primals) == 1 else t


def linear_transpose(fun: Fun, *primals: Any) -> Fun:
    """The transpose of the linear function ``fun``, as a function of the cotangent;
    ``primals`` give the input shapes and dtypes. Returns a tuple, one per input."""
    _, vjp_fn = vjp(fun, *primals)
    return vjp_fn


__all__ = ["vmap", "jacfwd", "jacrev", "jacobian", "hessian", "hvp", "linear_transpose"]
