"""vmap and the Jacobian family: jacfwd, jacrev, jacobian, hessian, hvp, linear_transpose.

Every Jacobian is one batched pass: ``vmap`` over the rows of an identity basis
pushed through ``jvp`` (forward) or pulled through one recorded ``vjp`` (reverse);
``chunk_size`` splits the basis to bound memory. The basis is structured
(``core/structured.py``): it stays a diagonal through the rules that keep it so.
"""
from __future__ import annotations

import math
import functools
from typing import Any, Callable, ParamSpec, Sequence

import numpy as np

from .api import (_argnums_tuple, _as_output, _check_array_leaves, _diff_leaves, _fun_name, _outputs,
                  _primals_and_tangents, _split_aux, grad, vjp)
from .core import arrays
from .core.structured import Diagonal
from .core.trace import like_value, to_numpy_value
from .interpreters.batching import vmap_flat
from .interpreters.jvp import jvp_flat
from .interpreters.vjp import vjp_flat
from .numpy import _shape as S
from .core.rules import dtype_of, shape_of
from .tree_util import PyTreeDef, tree_flatten, tree_leaves, tree_unflatten

Fun = Callable[..., Any]
P = ParamSpec("P")


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


def vmap(fun: Callable[P, Any], in_axes: Any = 0, out_axes: Any = 0,
         axis_size: int | None = None) -> Callable[P, Any]:
    """Vectorise ``fun`` over an axis of its inputs, in one pass over its operations.

    ``in_axes`` applies to the positional arguments; keyword arguments are mapped
    over their axis 0 (as in JAX: pass unmapped values positionally with ``None``).

    Args:
        fun: the function to vectorise.
        in_axes: the mapped axis of each positional argument: an int, ``None`` (not
            mapped), or a pytree prefix of the arguments.
        out_axes: where the batch axis goes in the outputs (an int, ``None``, or a prefix).
        axis_size: the batch size, needed only when no argument is mapped.

    Returns:
        A function with ``fun``'s signature whose outputs have the batch axis.

    >>> import xform, xform.numpy as np
    >>> xform.vmap(lambda x: np.dot(x, x))(np.ones((3, 2))).tolist()
    [2.0, 2.0, 2.0]
    """

    @functools.wraps(fun)
    def vmapped(*args: Any, **kwargs: Any) -> Any:
        axes_prefix = tuple(in_axes) if isinstance(in_axes, list) else in_axes
        if isinstance(axes_prefix, tuple) and len(axes_prefix) != len(args):
            raise ValueError(f"vmap: in_axes has {len(axes_prefix)} entries but "
                             f"`{_fun_name(fun)}` got {len(args)} positional arguments")
        # keyword arguments are mapped over their axis 0 (in_axes names positional
        # arguments only), as in JAX
        leaves, treedef = tree_flatten((tuple(args), kwargs))
        axes = (_broadcast_prefix(axes_prefix, tuple(args), "in_axes")
                + [0] * len(tree_flatten(kwargs)[0]))
        _check_array_leaves("vmap", fun, (tuple(args), kwargs), leaves,
                            mask=[ax is not None for ax in axes])
        # unmapped Python scalars stay Python scalars: NumPy treats them as weakly
        # typed (2.0 * float32 array stays float32), as in an unbatched call
        leaves = [x if ax is None and type(x) in (int, float, complex, bool)
                  else to_numpy_value(x) for x, ax in zip(leaves, axes)]
        for x, ax in zip(leaves, axes):
            nd = len(shape_of(x))
            if ax is not None and not -nd <= ax < nd:
                raise ValueError(f"vmap: asked to map axis {ax} (in_axes) of an argument of "
                                 f"shape {tuple(shape_of(x))}, which has rank {nd}"
                                 + (" (keyword arguments are mapped over axis 0)"
                                    if kwargs else ""))
        sizes = {shape_of(x)[ax] for x, ax in zip(leaves, axes) if ax is not None}
        if len(sizes) > 1:
            raise ValueError(f"vmap: the mapped axes have different sizes {sorted(sizes)}; "
                             "every mapped input needs the same size along its in_axes")
        if not sizes and axis_size is None:
            raise ValueError("vmap: no input is mapped (all in_axes are None); pass "
                             "axis_size= to say how many copies to make")
        size = sizes.pop() if sizes else int(axis_size)  # type: ignore[arg-type]
        out_tree: list[PyTreeDef] = []

        def flat_fun(*flat: Any) -> list[Any]:
            a, kw = tree_unflatten(treedef, list(flat))
            out_leaves, tree = tree_flatten(fun(*a, **kw))
            out_tree.append(tree)
            return out_leaves

        def out_dims() -> list[Any]:
            return _broadcast_prefix(out_axes, tree_unflatten(out_tree[0], [0] * out_tree[0]
                                                              .num_leaves), "out_axes")

        dims = [None if ax is None else ax % len(shape_of(x)) for x, ax in zip(leaves, axes)]
        outs = vmap_flat(flat_fun, leaves, dims, size, out_dims)
        return tree_unflatten(out_tree[0], [_as_output(o) for o in outs])

    return vmapped


# ---------------------------------------------------------------------------- Jacobians
def _chunked_vmap(f: Fun, basis: Diagonal, chunk_size: int | None) -> list[Any]:
    """``f`` (one basis row in, a flat list out) batched over the rows of ``basis``, in
    chunks of rows when ``chunk_size`` is given; results stacked along axis 0."""
    def run(rows: Diagonal) -> list[Any]:
        return vmap_flat(lambda r: f(r), [rows], [0], rows.shape[0], 0)

    if chunk_size is None or chunk_size >= basis.shape[0]:
        return run(basis)
    n = basis.shape[0]
    parts = [run(basis.rows(i, min(i + chunk_size, n))) for i in range(0, n, chunk_size)]
    return [S.concatenate([p[k] for p in parts], axis=0) for k in range(len(parts[0]))]


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


def _assemble(blocks: list[list[Any]], out_tree: Any, in_treedef: Any, argnums: Any) -> Any:
    """Output structure outside, input structure inside (JAX's layout)."""
    per_out = []
    for row in blocks:
        ins = tree_unflatten(in_treedef, row)
        per_out.append(ins[0] if isinstance(argnums, int) else tuple(ins))
    return tree_unflatten(out_tree, per_out)


def _basis(leaves: Sequence[Any], args: Any) -> Diagonal:
    """The identity over the flattened ``leaves``, structured: rules that keep it
    symbolic (scaling, matmul with a dense matrix, reductions) never build it. Its
    diagonal has the array kind of ``leaves``, or else of the function's other
    arguments: with NumPy weights and Dask data the tangents are then Dask arrays from
    the start, so broadcasting one against the data builds graph, not a data-sized
    NumPy array."""
    n = sum(math.prod(shape_of(x)) for x in leaves)
    dtype = np.result_type(*[dtype_of(x) for x in leaves]) if leaves else np.float64
    like = arrays.foreign_of([like_value(x) for x in leaves])
    if like is None:
        like = arrays.foreign_of([like_value(x) for x in tree_leaves(args)])
    if like is None:
        return Diagonal.identity(n, dtype)
    return Diagonal(arrays.ones(n, dtype, like), unit=True)


def _flat_outputs(fun: Fun, full_args: Fun, kwargs: dict[str, Any], has_aux: bool,
                  trees: dict[str, PyTreeDef]) -> Fun:
    """``fun`` as a function of the differentiated leaves returning flat leaves: the
    outputs', then the aux data's; their structures land in ``trees``. Keyword
    arguments are passed through, not differentiated (as in JAX)."""
    def flat(*xs: Any) -> list[Any]:
        out = fun(*full_args(*xs), **kwargs)
        aux_leaves: list[Any] = []
        if has_aux:
            out, aux = _split_aux(out)
            aux_leaves, trees["aux"] = tree_flatten(aux)
        out_leaves, trees["out"] = tree_flatten(out)
        return out_leaves + aux_leaves
    return flat


def jacfwd(fun: Callable[P, Any], argnums: int | Sequence[int] = 0, has_aux: bool = False,
           holomorphic: bool = False, chunk_size: int | None = None) -> Callable[P, Any]:
    """Jacobian by forward mode: one batched JVP over the input basis.
    Blocks have shape ``out.shape + in.shape``; best when inputs are few. Keyword
    arguments are passed through to ``fun``, not differentiated.

    Args:
        fun: the function; pytrees in and out.
        argnums: the positional argument(s) to differentiate.
        has_aux: ``fun`` returns ``(out, aux)``; the result is then ``(jacobian, aux)``.
        holomorphic: ``fun`` is holomorphic in complex inputs.
        chunk_size: at most this many basis vectors per batched pass (bounds memory).

    Returns:
        A function with ``fun``'s signature returning the Jacobian.

    >>> import xform, xform.numpy as np
    >>> xform.jacfwd(lambda x: x * x)(np.arange(2.0)).tolist()
    [[0.0, 0.0], [0.0, 2.0]]
    """

    @functools.wraps(fun)
    def jac(*args: Any, **kwargs: Any) -> Any:
        nums = _argnums_tuple(argnums, len(args), fun, "jacfwd")
        leaves, treedef, _, full_args = _diff_leaves(fun, args, nums, "jacfwd", holomorphic,
                                                     allow_int=False)
        trees: dict[str, PyTreeDef] = {}
        f = _flat_outputs(fun, full_args, kwargs, has_aux, trees)
        first: list[Any] = []  # the outputs (and aux), from the first batch member

        def push(t_flat: Any) -> list[Any]:
            outs, t_outs = jvp_flat(f, leaves, _split_flat(t_flat, leaves))
            if not first:
                first.append(outs)
            n_out = trees["out"].num_leaves
            return _outputs(t_outs[:n_out], outs[:n_out])

        stacked = _chunked_vmap(push, _basis(leaves, (args, kwargs)), chunk_size)
        n_out = trees["out"].num_leaves
        out_leaves = first[0][:n_out]
        blocks = _blocks(stacked, out_leaves, leaves, rows_lead=False)
        result = _assemble(blocks, trees["out"], treedef, argnums)
        if has_aux:
            return result, tree_unflatten(trees["aux"], first[0][n_out:])
        return result

    return jac


def _check_jacrev_outputs(fun: Fun, out_leaves: Sequence[Any], holomorphic: bool) -> None:
    """Reverse mode pulls back real cotangents unless the function is holomorphic: a
    complex output of a non-holomorphic function would lose its imaginary part."""
    for x in out_leaves:
        kind = dtype_of(x).kind
        if kind == "c" and not holomorphic:
            raise TypeError(
                f"jacrev of `{_fun_name(fun)}` requires real-valued outputs, got "
                f"{dtype_of(x)}: its imaginary part would be lost. For a holomorphic "
                "function pass holomorphic=True; otherwise use jacfwd (real inputs, complex "
                "outputs) or differentiate np.real(...) and np.imag(...) separately.")
        if holomorphic and kind != "c":
            raise TypeError(f"jacrev of `{_fun_name(fun)}` with holomorphic=True requires "
                            f"complex-valued outputs, got {dtype_of(x)}.")


def jacrev(fun: Callable[P, Any], argnums: int | Sequence[int] = 0, has_aux: bool = False,
           holomorphic: bool = False, chunk_size: int | None = None) -> Callable[P, Any]:
    """Jacobian by reverse mode: one recorded forward pass, then one batched VJP over
    the output basis. Blocks have shape ``out.shape + in.shape``; best when outputs
    are few. Keyword arguments are passed through to ``fun``, not differentiated.

    Args:
        fun: the function; pytrees in and out.
        argnums: the positional argument(s) to differentiate.
        has_aux: ``fun`` returns ``(out, aux)``; the result is then ``(jacobian, aux)``.
        holomorphic: ``fun`` is holomorphic in complex inputs.
        chunk_size: at most this many basis vectors per batched pass (bounds memory).

    Returns:
        A function with ``fun``'s signature returning the Jacobian.

    >>> import xform, xform.numpy as np
    >>> xform.jacrev(lambda x: x * x)(np.arange(2.0)).tolist()
    [[0.0, 0.0], [0.0, 2.0]]
    """

    @functools.wraps(fun)
    def jac(*args: Any, **kwargs: Any) -> Any:
        nums = _argnums_tuple(argnums, len(args), fun, "jacrev")
        leaves, treedef, keep, full_args = _diff_leaves(
            fun, args, nums, "jacrev", True if holomorphic else None, allow_int=False)
        trees: dict[str, PyTreeDef] = {}
        outs, pullback = vjp_flat(_flat_outputs(fun, full_args, kwargs, has_aux, trees),
                                  leaves, keep)
        n_out = trees["out"].num_leaves
        out_leaves = outs[:n_out]
        n_aux = len(outs) - n_out
        _check_jacrev_outputs(fun, out_leaves, holomorphic)

        def pull(ct_flat: Any) -> list[Any]:
            cts = [to_numpy_value(c) for c in _split_flat(ct_flat, out_leaves)]
            return _outputs(pullback(cts + [None] * n_aux), leaves)

        stacked = _chunked_vmap(pull, _basis(out_leaves, (args, kwargs)), chunk_size)
        blocks = _blocks(stacked, out_leaves, leaves, rows_lead=True)
        result = _assemble(blocks, trees["out"], treedef, argnums)
        if has_aux:
            return result, tree_unflatten(trees["aux"], outs[n_out:])
        return result

    return jac


def jacobian(fun: Callable[P, Any], argnums: int | Sequence[int] = 0, mode: str = "auto",
             has_aux: bool = False, chunk_size: int | None = None) -> Callable[P, Any]:
    """The Jacobian, by ``mode`` "fwd", "rev" or "auto": forward when the inputs are
    fewer than the outputs or an output is complex (of real inputs), reverse otherwise
    and for complex inputs of real-valued outputs (JAX's conventions for jacfwd and
    jacrev). For holomorphic functions use jacfwd/jacrev with ``holomorphic=True``.

    Args:
        fun: the function; pytrees in and out.
        argnums: the positional argument(s) to differentiate.
        mode: ``"fwd"``, ``"rev"`` or ``"auto"``.
        has_aux: ``fun`` returns ``(out, aux)``.
        chunk_size: at most this many basis vectors per batched pass.

    Returns:
        A function with ``fun``'s signature returning the Jacobian.

    >>> import xform, xform.numpy as np
    >>> xform.jacobian(lambda x: x * x)(np.arange(2.0)).tolist()
    [[0.0, 0.0], [0.0, 2.0]]
    """
    if mode not in ("auto", "fwd", "rev"):
        raise ValueError(f"jacobian: mode must be 'auto', 'fwd' or 'rev', got {mode!r}")

    @functools.wraps(fun)
    def jac(*args: Any, **kwargs: Any) -> Any:
        chosen = mode
        if chosen == "auto":
            nums = _argnums_tuple(argnums, len(args), fun, "jacobian")
            leaves, _, _, full_args = _diff_leaves(fun, args, nums, "jacobian", None, False)
            out = fun(*full_args(*leaves), **kwargs)
            if has_aux:
                out = out[0]
            n_in = sum(math.prod(shape_of(x)) for x in leaves)
            out_leaves = tree_flatten(out)[0]
            n_out = sum(math.prod(shape_of(x)) for x in out_leaves)
            # complex outputs of real inputs: only forward mode keeps the imaginary part
            complex_out = any(dtype_of(x).kind == "c" for x in out_leaves)
            complex_in = any(dtype_of(x).kind == "c" for x in leaves)
            if complex_in and complex_out:
                raise TypeError(
                    f"jacobian of `{_fun_name(fun)}`: complex inputs and complex outputs. "
                    "For a holomorphic function use xform.jacfwd or xform.jacrev with "
                    "holomorphic=True; otherwise take the Jacobians of np.real(...) and "
                    "np.imag(...) separately.")
            # complex inputs need reverse mode, complex outputs (of real inputs) forward
            chosen = ("rev" if complex_in else
                      "fwd" if n_in < n_out or complex_out else "rev")
        transform = jacfwd if chosen == "fwd" else jacrev
        return transform(fun, argnums, has_aux=has_aux, chunk_size=chunk_size)(*args, **kwargs)

    return jac


def hessian(fun: Callable[P, Any], argnums: int | Sequence[int] = 0, has_aux: bool = False,
            holomorphic: bool = False, chunk_size: int | None = None) -> Callable[P, Any]:
    """The Hessian as forward-over-reverse: ``jacfwd(jacrev(fun))``. Keyword arguments
    are passed through to ``fun``, not differentiated. ``holomorphic=True``: the complex
    second derivative of a holomorphic function of complex inputs.

    Args:
        fun: a function returning a real scalar.
        argnums: the positional argument(s) to differentiate.
        has_aux: ``fun`` returns ``(scalar, aux)``.
        holomorphic: ``fun`` is holomorphic in complex inputs (the complex Hessian).
        chunk_size: at most this many basis vectors per batched pass.

    Returns:
        A function with ``fun``'s signature returning the Hessian
        (shape ``in.shape + in.shape``).

    >>> import xform, xform.numpy as np
    >>> xform.hessian(lambda x, k=1.0: k * np.sum(x ** 3))(np.ones(2), k=2.0).tolist()
    [[12.0, 0.0], [0.0, 12.0]]
    >>> complex(xform.hessian(lambda z: z ** 3, holomorphic=True)(1.0 + 1.0j))
    (6+6j)
    """
    hess = jacfwd(jacrev(fun, argnums, has_aux=has_aux, holomorphic=holomorphic), argnums,
                  has_aux=has_aux, holomorphic=holomorphic, chunk_size=chunk_size)

    @functools.wraps(fun)
    def hessian_f(*args: Any, **kwargs: Any) -> Any:
        nums = _argnums_tuple(argnums, len(args), fun, "hessian")
        diff = [args[i] for i in nums]
        _check_array_leaves("hessian", fun, diff, tree_flatten(diff)[0], positions=nums)
        return hess(*args, **kwargs)

    return hessian_f


def hvp(fun: Fun, primals: Sequence[Any], tangents: Sequence[Any]) -> Any:
    """Hessian-vector product ``H(primals) @ tangents`` by forward-over-reverse, without
    forming the Hessian (cost: a few gradient evaluations).

    Args:
        fun: a function returning a real scalar.
        primals: a tuple, the point.
        tangents: a tuple like ``primals``, the vector.

    Returns:
        ``H @ tangents``, shaped like the (first) primal.

    >>> import xform, xform.numpy as np
    >>> xform.hvp(lambda x: np.sum(x ** 3), (np.ones(2),), (np.ones(2),)).tolist()
    [6.0, 6.0]
    """
    primals, tangents = tuple(primals), tuple(tangents)
    nums = tuple(range(len(primals)))
    grad_fun = grad(fun, nums)
    p_leaves, t_leaves, p_tree = _primals_and_tangents(primals, tangents, "hvp", fun)

    def flat_grad(*flat: Any) -> list[Any]:
        return tree_flatten(grad_fun(*tree_unflatten(p_tree, list(flat))))[0]

    _, t_out = jvp_flat(flat_grad, p_leaves, t_leaves)
    t = tree_unflatten(p_tree, _outputs(t_out, p_leaves))
    return t[0] if len(primals) == 1 else tuple(t)


def linear_transpose(fun: Fun, *primals: Any) -> Fun:
    """The transpose of the linear function ``fun``, as a function of the cotangent;
    ``primals`` give the input shapes and dtypes. Returns a tuple, one per input.

    ``fun`` must be linear: it is checked at random points first (``f(0) == 0``,
    ``f(a + b) == f(a) + f(b)``, ``f(c a) == c f(a)``), and a TypeError says so when
    it is not, instead of transposing its Jacobian at one arbitrary point.

    Args:
        fun: a linear function.
        *primals: example inputs (their shapes and dtypes only are used).

    Returns:
        The transposed function: a cotangent shaped like ``fun``'s output in, a tuple
        of input cotangents out.

    >>> import xform, xform.numpy as np
    >>> t = xform.linear_transpose(lambda x: 2.0 * x[::-1], np.zeros(2))
    >>> t(np.array([1.0, 3.0]))[0].tolist()
    [6.0, 2.0]
    """
    leaves, treedef = tree_flatten(list(primals))
    _check_array_leaves("linear_transpose", fun, list(primals), leaves)
    _check_linear(fun, [to_numpy_value(x) for x in leaves], treedef)
    return vjp(fun, *primals)[1]


def _check_linear(fun: Fun, leaves: list[Any], treedef: PyTreeDef) -> None:
    """A TypeError if ``fun`` is visibly not linear at random inputs shaped like
    ``leaves`` (integer inputs are held at zero)."""
    rng = np.random.default_rng(0)

    def point(scale: float) -> list[Any]:
        out = []
        for x in leaves:
            dt, shape = dtype_of(x), shape_of(x)
            v = rng.standard_normal(shape) if dt.kind in "fc" else np.zeros(shape)
            if dt.kind == "c":
                v = v + 1j * rng.standard_normal(shape)
            out.append(np.asarray(scale * v).astype(dt))
        return out

    def f(flat: list[Any]) -> list[Any]:
        with np.errstate(all="ignore"):
            return [np.asarray(o) for o in tree_flatten(fun(*tree_unflatten(treedef, flat)))[0]]

    a = point(1.0)
    fa = f(a)
    checks = [("f(0) == 0", f(point(0.0)), [np.zeros_like(o) for o in fa], fa),
              ("f(2.5 a) == 2.5 f(a)", f([2.5 * x for x in a]), [2.5 * o for o in fa], fa)]
    for _ in range(3):  # a piecewise-linear function passes for some pairs, not all
        b, c = point(1.0), point(1.0)
        fb, fc = f(b), f(c)
        checks.append(("f(a + b) == f(a) + f(b)", f([x + y for x, y in zip(b, c)]),
                       [x + y for x, y in zip(fb, fc)], fb))
    for law, got, want, fa in checks:
        for g, w, o in zip(got, want, fa):
            if g.dtype.kind not in "fc":
                continue
            tol = 1e-4 if np.finfo(g.dtype).bits <= 32 else 1e-9
            scale = 1.0 + max(float(np.max(np.abs(o), initial=0.0)),
                              float(np.max(np.abs(w), initial=0.0)))
            if not np.all(np.abs(g - w) <= tol * scale):  # NaN fails too
                raise TypeError(
                    f"linear_transpose: `{_fun_name(fun)}` is not linear: {law} fails at "
                    "random inputs. linear_transpose transposes linear functions only; for "
                    "the derivative of a nonlinear function at a point use xform.vjp "
                    "(or xform.linearize and transpose that).")


__all__ = ["vmap", "jacfwd", "jacrev", "jacobian", "hessian", "hvp", "linear_transpose"]
