"""The transforms users call: argument handling around the interpreters."""
from __future__ import annotations

import functools
import inspect
from typing import Any, Callable, ParamSpec, Sequence

import numpy as np

from .core.ir import ClosedJaxpr, ShapedArray
from .core.staging import trace_to_jaxpr
from .core.rules import cast_like, check_tangent_type, dtype_of, shape_of, zeros_like
from .core import arrays
from .core.trace import (Tracer, call_without_gc, is_array_like, like_value, non_array_error,
                         to_numpy_value)
from .interpreters.jvp import jvp_flat
from .interpreters.vjp import grad_flat, linearize_flat, vjp_flat
from .numpy._elementwise import stop_gradient
from .numpy._reductions import sum as _sum
from .tree_util import (DictKey, PyTreeDef, SequenceKey, keystr, tree_flatten,
                        tree_leaves_with_path, tree_unflatten)

Fun = Callable[..., Any]
_F64 = np.float64
# a transform that keeps the call signature of the function it wraps says so
P = ParamSpec("P")


def _fun_name(fun: Any) -> str:
    return getattr(fun, "__name__", repr(fun))


def _argnums_tuple(argnums: int | Sequence[int], nargs: int, fun: Fun, who: str) -> tuple[int, ...]:
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    for i in nums:
        if not -nargs <= i < nargs:
            raise ValueError(f"{who}: argnums={argnums!r} but `{_fun_name(fun)}` was called "
                             f"with {nargs} positional argument(s)")
    return tuple(i % nargs for i in nums)


def _check_array_leaves(who: str, fun: Fun, tree: Any, leaves: Sequence[Any],
                        mask: Sequence[bool] | None = None,
                        positions: Sequence[int] | None = None) -> None:
    """A clear TypeError if a leaf of ``tree`` (flattened: ``leaves``) that the transform
    works on (``mask``, default all) is not an array: a generator, a string, an
    arbitrary object. ``tree`` is ``(args, kwargs)``, or the list of the arguments
    at ``positions``."""
    if all(is_array_like(x) or (mask is not None and not m)
           for x, m in zip(leaves, mask or [True] * len(leaves))):
        return
    for k, (path, x) in enumerate(tree_leaves_with_path(tree)):
        if (mask is None or mask[k]) and not is_array_like(x):
            raise non_array_error(who, _argument_name(fun, path, positions), x)


def _argument_name(fun: Fun, path: Sequence[Any], positions: Sequence[int] | None) -> str:
    """``argument 1 of `f` (at ['w'])`` from a key path into the arguments."""
    if positions is None and path and isinstance(path[0], SequenceKey) and len(path) > 1:
        head = path[1]  # (args, kwargs): path[0] picks one of the two
        if path[0].idx == 1 and isinstance(head, DictKey):
            name, rest = f"keyword argument {head.key!r}", path[2:]
        else:
            name, rest = f"argument {getattr(head, 'idx', head)}", path[2:]
    else:
        first = path[0].idx if path and isinstance(path[0], SequenceKey) else 0
        pos = positions[first] if positions is not None else first
        name, rest = f"argument {pos}", path[1:]
    where = f" (at {keystr(rest)})" if rest else ""
    return f"{name}{where} of `{_fun_name(fun)}`"


def _check_differentiable(leaves: Sequence[Any], who: str, holomorphic: bool | None,
                          allow_int: bool) -> list[bool]:
    """Which leaves get a derivative; a clear TypeError for the ones that can't.
    ``holomorphic=None`` accepts real and complex inputs alike (reverse mode: grad,
    vjp, jacrev, as in JAX); ``False`` refuses complex inputs (forward mode)."""
    keep = []
    for x in leaves:
        dt = dtype_of(x)
        if dt.kind == 'c' and holomorphic is False:
            raise TypeError(f"{who} requires real-valued inputs (a floating dtype), got {dt}. "
                            "For complex inputs of a holomorphic function pass "
                            "holomorphic=True.")
        if not dt.kind in 'fc':
            if allow_int:
                keep.append(False)
                continue
            raise TypeError(
                f"{who} requires floating-point inputs, but got an argument of dtype {dt}. "
                "Convert it with `.astype(float)` (e.g. pass 1.0 rather than 1), exclude it "
                "with argnums, or pass allow_int=True to get a zero gradient for it.")
        if holomorphic and not dt.kind == 'c':
            raise TypeError(f"{who} with holomorphic=True requires complex inputs, got {dt}.")
        keep.append(True)
    return keep


def _describe(x: Any) -> str:
    """A user-facing description of a value (no internal tracer class names)."""
    if isinstance(x, Tracer):
        return f"an array of shape {x.shape}"
    if isinstance(x, (list, tuple)):
        return f"a {type(x).__name__} of length {len(x)}"
    return f"a {type(x).__name__}"


def _as_output(x: Any) -> Any:
    """A result handed back to the user: a writable array (no read-only views)."""
    if isinstance(x, np.ndarray) and not x.flags.writeable:
        x = x.copy()
    return x


def _outputs(values: Sequence[Any], like: Sequence[Any]) -> list[Any]:
    """Derivatives for the user: symbolic zeros (``None``) made into arrays of the
    dtype of the value they belong to."""
    return [v if type(v) is type(x) and isinstance(x, np.generic)  # a NumPy scalar as it should be
            else zeros_like(x) if v is None else _as_output(cast_like(v, x))
            for v, x in zip(values, like)]


# Types whose values are pytree leaves and arrays by their type alone: arguments of these
# types need no tree walk (and no check that they are arrays).
_PLAIN_LEAVES = frozenset({float, int, complex, bool, np.ndarray}
                          | {t for t in np.sctypeDict.values()
                             if issubclass(t, (np.number, np.bool_))})
_FLAT_TREEDEFS: dict[int, PyTreeDef] = {}


def _flat_treedef(n: int) -> PyTreeDef:
    """The structure of a list of ``n`` leaves (what ``tree_flatten`` gives for one)."""
    treedef = _FLAT_TREEDEFS.get(n)
    if treedef is None:
        treedef = tree_flatten([0] * n)[1]
        if n <= 64:
            _FLAT_TREEDEFS[n] = treedef
    return treedef


def _all_plain_leaves(values: Sequence[Any]) -> bool:
    for x in values:
        if type(x) not in _PLAIN_LEAVES and not isinstance(x, Tracer):
            return False
    return True


def _diff_leaves(fun: Fun, args: Sequence[Any], nums: Sequence[int], who: str,
                 holomorphic: bool | None, allow_int: bool) -> tuple[list[Any], PyTreeDef, list[bool], Fun]:
    """The leaves of the differentiated arguments, their structure, which of them get a
    derivative, and a function of those leaves that rebuilds the full argument list."""
    diff_args = [args[i] for i in nums]
    if _all_plain_leaves(diff_args):
        # the common case: each differentiated argument is itself one array leaf, so
        # there is no tree to flatten or rebuild (the checks below are the same)
        leaves = [_F64(x) if type(x) is float else to_numpy_value(x) for x in diff_args]
        keep = _check_differentiable(leaves, who, holomorphic, allow_int)

        def full_args_flat(*flat: Any) -> list[Any]:
            out = list(args)
            for i, v in zip(nums, flat):
                out[i] = v
            return out

        return leaves, _flat_treedef(len(leaves)), keep, full_args_flat
    leaves, treedef = tree_flatten(diff_args)
    _check_array_leaves(who, fun, diff_args, leaves, positions=nums)
    leaves = [to_numpy_value(x) for x in leaves]
    keep = _check_differentiable(leaves, who, holomorphic, allow_int)

    def full_args(*flat: Any) -> list[Any]:
        out = list(args)
        for i, v in zip(nums, tree_unflatten(treedef, list(flat))):
            out[i] = v
        return out

    return leaves, treedef, keep, full_args


def _scalar_output_error(fun: Fun, out: Any, has_aux: bool) -> TypeError | None:
    """Why ``out`` cannot be differentiated by grad, or None if it can."""
    if out is None or isinstance(out, (list, tuple, dict)) or shape_of(out) != ():
        what = "None" if out is None else "a " + type(out).__name__ \
            if isinstance(out, (list, tuple, dict)) else f"shape {shape_of(out)}"
        hint = ""
        if isinstance(out, tuple) and len(out) == 2 and not has_aux:
            hint = " If the function returns (loss, auxiliary data), pass has_aux=True."
        if out is None:
            hint = " Did the function forget a `return`?"
        return TypeError(
            f"grad requires a scalar (0-d) output, but `{_fun_name(fun)}` returned "
            f"{what}. Reduce it to a scalar first (e.g. `.sum()` or `.mean()`), use "
            "xform.jacobian/jacrev for the full Jacobian, or xform.vjp for a "
            f"vector-Jacobian product.{hint}")
    return None


def _split_aux(out: Any) -> tuple[Any, Any]:
    if not (isinstance(out, (tuple, list)) and len(out) == 2):
        raise TypeError("with has_aux=True the function must return a pair "
                        f"(output, aux), got {_describe(out)}")
    return out[0], out[1]


# ---------------------------------------------------------------------------- reverse mode
def value_and_grad(fun: Callable[P, Any], argnums: int | Sequence[int] = 0, has_aux: bool = False,
                   holomorphic: bool = False, allow_int: bool = False
                   ) -> Callable[P, tuple[Any, Any]]:
    """Like :func:`grad`, returning ``(value, gradient)``
    (``((value, aux), gradient)`` with ``has_aux``).

    Args:
        fun: as for :func:`grad`.
        argnums: as for :func:`grad`.
        has_aux: as for :func:`grad`.
        holomorphic: as for :func:`grad`.
        allow_int: as for :func:`grad`.

    Returns:
        A function with ``fun``'s signature returning ``(value, gradient)``.

    >>> import xform, xform.numpy as np
    >>> value, g = xform.value_and_grad(lambda x: x ** 2)(3.0)
    >>> float(value), float(g)
    (9.0, 6.0)
    """

    reverse = _reverse_mode(fun, argnums, has_aux, holomorphic, allow_int)

    @functools.wraps(fun)
    def value_and_grad_f(*args: Any, **kwargs: Any) -> Any:
        value, aux, g = reverse(args, kwargs)
        return ((value, aux), g) if has_aux else (value, g)

    return value_and_grad_f


def _reverse_mode(fun: Fun, argnums: int | Sequence[int], has_aux: bool, holomorphic: bool,
                  allow_int: bool) -> Callable[[tuple[Any, ...], dict], tuple[Any, Any, Any]]:
    """The work of :func:`grad` and :func:`value_and_grad`: ``run(args, kwargs)`` gives
    ``(value, aux, gradient)`` (``aux`` None without ``has_aux``). What does not depend
    on the arguments is settled here, once per transformed function."""
    single = isinstance(argnums, int)
    fixed: tuple[Any, ...] | None
    try:
        fixed = (argnums,) if single else tuple(argnums)  # type: ignore[arg-type]
    except TypeError:  # not a sequence: _argnums_tuple says so at the call, as ever
        fixed = None
    if fixed is not None and not all(type(i) is int and i >= 0 for i in fixed):
        fixed = None  # negative (counted from the end) or odd: normalised per call
    past = max(fixed, default=-1) if fixed is not None else -1
    # complex inputs are fine for a real-valued function (JAX's convention); with
    # holomorphic=True they are required
    inputs = True if holomorphic else None
    out_kind = "c" if holomorphic else "f"

    def check_output(out: Any) -> None:
        shape = getattr(out, "shape", None)
        dt = getattr(out, "dtype", None)
        if shape == () and dt is not None and getattr(dt, "kind", None) == out_kind and \
                not isinstance(out, (list, tuple, dict)):
            return  # a scalar of the right kind: the checks below would all pass
        error = _scalar_output_error(fun, out, has_aux)
        if error is not None:
            raise error
        _check_output_dtype(dtype_of(out), holomorphic)

    def run(args: tuple[Any, ...], kwargs: dict) -> tuple[Any, Any, Any]:
        if fixed is not None and past < len(args):
            nums = fixed
        else:
            nums = _argnums_tuple(argnums, len(args), fun, "grad")
        leaves, treedef, keep, full_args = _diff_leaves(fun, args, nums, "grad", inputs,
                                                        allow_int)
        aux_tree: list[PyTreeDef] = []

        def flat_fun(*flat: Any) -> list[Any]:
            out = fun(*full_args(*flat), **kwargs)
            if not has_aux:
                check_output(out)
                return [out]
            out, aux = _split_aux(out)
            aux_leaves, tree = tree_flatten(aux)
            aux_tree.append(tree)
            check_output(out)
            return [out] + aux_leaves

        outs, cts = grad_flat(flat_fun, leaves, keep)
        grads = _outputs(cts, leaves)
        if treedef is not _FLAT_TREEDEFS.get(len(nums)):
            grads = tree_unflatten(treedef, grads)  # not one leaf per argument
        g = grads[0] if single else tuple(grads)
        aux = tree_unflatten(aux_tree[0], outs[1:]) if has_aux else None
        return _as_output(outs[0]), aux, g

    return run


def _check_output_dtype(out_dt: np.dtype, holomorphic: bool) -> None:
    if not out_dt.kind in 'fc':
        raise TypeError(f"grad requires a floating-point output, got dtype {out_dt}.")
    if out_dt.kind == 'c' and not holomorphic:
        raise TypeError("grad requires a real-valued output; for a holomorphic "
                        "function pass holomorphic=True (for other complex-valued "
                        "functions use xform.vjp).")
    if holomorphic and out_dt.kind != 'c':
        raise TypeError("grad with holomorphic=True requires a complex-valued output; "
                        "for a real-valued function of complex inputs drop "
                        "holomorphic=True.")


def grad(fun: Callable[P, Any], argnums: int | Sequence[int] = 0, has_aux: bool = False,
         holomorphic: bool = False, allow_int: bool = False) -> Callable[P, Any]:
    """Gradient of a scalar function w.r.t. argument(s) ``argnums``, by reverse mode.

    Args:
        fun: a function returning a real scalar; pytrees of arrays in.
        argnums: the positional argument(s) to differentiate; a tuple gives a tuple.
        has_aux: ``fun`` returns ``(scalar, aux)``; the result is then ``(gradient, aux)``.
        holomorphic: ``fun`` is complex-valued and holomorphic (complex inputs required).
        allow_int: accept integer (and boolean) inputs among the differentiated ones,
            as JAX's ``allow_int``; their gradient is a zero of the input's own dtype
            and shape, not JAX's ``float0`` (NumPy has no such dtype; see
            docs/autodiff.md).

    Returns:
        A function with ``fun``'s signature returning the gradient, shaped like the
        differentiated argument(s).

    >>> import xform, xform.numpy as np
    >>> float(xform.grad(np.tanh)(0.0))
    1.0
    """
    reverse = _reverse_mode(fun, argnums, has_aux, holomorphic, allow_int)

    @functools.wraps(fun)
    def grad_f(*args: Any, **kwargs: Any) -> Any:
        _, aux, g = reverse(args, kwargs)
        return (g, aux) if has_aux else g

    return grad_f


def elementwise_grad(fun: Callable[P, Any], argnum: int = 0) -> Callable[P, Any]:
    """Autograd's ``elementwise_grad``: the gradient of ``sum(fun(x))``, i.e. the
    derivative of each output w.r.t. its own input for elementwise functions.

    Args:
        fun: an elementwise function of array argument ``argnum``.
        argnum: the argument to differentiate.

    Returns:
        A function with ``fun``'s signature returning an array shaped like that argument.

    >>> import xform, xform.numpy as np
    >>> xform.elementwise_grad(lambda x: x ** 2)(np.arange(3.0)).tolist()
    [0.0, 2.0, 4.0]
    """
    def summed(*args: Any, **kwargs: Any) -> Any:
        return _sum(fun(*args, **kwargs))
    return grad(summed, argnum)


def _positional(fun: Fun, args: tuple[Any, ...], kwargs: dict) -> tuple[list[str], list[Any]]:
    sig = inspect.signature(fun)
    bound = sig.bind(*args, **kwargs)
    bound.apply_defaults()
    return list(bound.arguments), list(bound.arguments.values())


def grad_named(fun: Callable[P, Any], argname: str) -> Callable[P, Any]:
    """Gradient w.r.t. the argument called ``argname`` (autograd's ``grad_named``).

    Args:
        fun: a function returning a real scalar.
        argname: the name of the parameter to differentiate.

    Returns:
        A function with ``fun``'s signature returning that argument's gradient.

    >>> import xform
    >>> float(xform.grad_named(lambda x, y: x * y, "y")(2.0, 5.0))
    2.0
    """

    @functools.wraps(fun)
    def grad_named_f(*args: Any, **kwargs: Any) -> Any:
        names, values = _positional(fun, args, kwargs)
        if argname not in names:
            raise ValueError(f"`{_fun_name(fun)}` has no argument named {argname!r}; "
                             f"its arguments are {names}")
        untyped: Fun = fun   # called with the values in order: its signature no longer applies
        return grad(lambda *a: untyped(*a), names.index(argname))(*values)

    return grad_named_f


def multigrad_dict(fun: Callable[P, Any]) -> Callable[P, dict[str, Any]]:
    """A dict ``{argname: gradient}`` for every argument (autograd's ``multigrad_dict``).

    Args:
        fun: a function returning a real scalar.

    Returns:
        A function with ``fun``'s signature returning ``{argname: gradient}``.

    >>> import xform
    >>> g = xform.multigrad_dict(lambda x, y: x * y)(2.0, 5.0)
    >>> {k: float(v) for k, v in g.items()}
    {'x': 5.0, 'y': 2.0}
    """

    def multigrad_f(*args: Any, **kwargs: Any) -> dict[str, Any]:
        names, values = _positional(fun, args, kwargs)
        untyped: Fun = fun   # called with the values in order: its signature no longer applies
        gs = grad(lambda *a: untyped(*a), tuple(range(len(values))))(*values)
        return dict(zip(names, gs))

    return multigrad_f


def vjp(fun: Fun, *primals: Any, has_aux: bool = False) -> Any:
    """``(out, vjp_fn)``: ``vjp_fn(ct)`` returns one cotangent per primal (a tuple).

    The forward values are recorded once; ``vjp_fn`` may be called many times.

    Args:
        fun: the function; pytrees in and out.
        *primals: the point, one value per positional argument of ``fun``.
        has_aux: ``fun`` returns ``(out, aux)``; the result is then ``(out, vjp_fn, aux)``.

    Returns:
        ``(out, vjp_fn)``: the output and the function from an output cotangent (shaped
        like ``out``) to the tuple of input cotangents.

    >>> import xform, xform.numpy as np
    >>> out, vjp_fn = xform.vjp(lambda x: x * x, np.arange(3.0))
    >>> vjp_fn(np.ones(3))[0].tolist()
    [0.0, 2.0, 4.0]
    """
    # integer inputs are allowed (as in JAX) and get zero cotangents; complex inputs
    # get the transpose of the (complex-linear) JVP, JAX's convention
    leaves, treedef, keep, full_args = _diff_leaves(fun, primals, range(len(primals)), "vjp",
                                                    holomorphic=None, allow_int=True)
    trees: list[PyTreeDef] = []

    def flat_fun(*flat: Any) -> list[Any]:
        out = fun(*full_args(*flat))
        aux_leaves: list[Any] = []
        if has_aux:
            out, aux = _split_aux(out)
            aux_leaves, aux_tree = tree_flatten(aux)
            trees.append(aux_tree)
        out_leaves, out_tree = tree_flatten(out)
        trees.insert(0, out_tree)
        return out_leaves + aux_leaves

    outs, pullback = vjp_flat(flat_fun, leaves, keep)
    out_tree = trees[0]
    n_out = out_tree.num_leaves
    values = [_as_output(v) for v in outs[:n_out]]

    def vjp_fn(ct: Any) -> tuple[Any, ...]:
        ct_leaves, ct_tree = tree_flatten(ct)
        if ct_tree != out_tree:
            raise ValueError(f"vjp_fn: the cotangent must have the structure of the output "
                             f"{out_tree}, got {ct_tree}")
        for k, (o, c) in enumerate(zip(values, ct_leaves)):
            if shape_of(c) != shape_of(o):
                raise ValueError(f"vjp_fn: cotangent of shape {shape_of(c)} for an output "
                                 f"of shape {shape_of(o)}")
            check_tangent_type("vjp_fn", f"the cotangent of output {k}", c, o,
                               real_for_complex=False)
        cts = pullback([to_numpy_value(c) for c in ct_leaves] + [None] * (len(outs) - n_out))
        return tuple(tree_unflatten(treedef, _outputs(cts, leaves)))

    result = tree_unflatten(out_tree, values)
    if has_aux:
        return result, vjp_fn, tree_unflatten(trees[1], outs[n_out:])
    return result, vjp_fn


# ---------------------------------------------------------------------------- forward mode
def _primals_and_tangents(primals: Sequence[Any], tangents: Sequence[Any], who: str,
                          fun: Fun) -> tuple[list[Any], list[Any], PyTreeDef]:
    """The leaves of ``primals`` and their tangents (checked, cast to the primal's
    dtype; ``None`` for integer primals, which carry none), and the primals' structure."""
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError(f"{who} expects primals and tangents as tuples (or lists) of "
                        f"arguments, e.g. {who}(f, (x,), (v,))")
    p_leaves, p_tree = tree_flatten(list(primals))
    t_leaves, t_tree = tree_flatten(list(tangents))
    if p_tree != t_tree:
        raise ValueError(f"{who}: primals and tangents must have the same structure, got "
                         f"{p_tree} and {t_tree}")
    _check_array_leaves(who, fun, list(primals), p_leaves)
    _check_array_leaves(f"{who} (tangents)", fun, list(tangents), t_leaves)
    p_leaves = [to_numpy_value(x) for x in p_leaves]
    t_in: list[Any] = []
    for k, (p, t) in enumerate(zip(p_leaves, t_leaves)):
        t = to_numpy_value(t)
        if shape_of(t) != shape_of(p):
            raise ValueError(f"{who}: tangent of shape {shape_of(t)} for a primal of shape "
                             f"{shape_of(p)}")
        check_tangent_type(who, f"the tangent of input leaf {k}", t, p,
                           real_for_complex=False)
        t_in.append(cast_like(t, p) if dtype_of(p).kind in 'fc' else None)
    return p_leaves, t_in, p_tree


def jvp(fun: Fun, primals: Sequence[Any], tangents: Sequence[Any]) -> tuple[Any, Any]:
    """Forward mode: ``(fun(*primals), J @ tangents)``, pytrees in and out.

    Args:
        fun: the function; pytrees in and out.
        primals: a tuple or list, one value per positional argument.
        tangents: the same structure as ``primals`` (same shapes and dtypes).

    Returns:
        ``(out, tangent_out)``, both shaped like ``fun``'s output.

    >>> import xform, xform.numpy as np
    >>> out, t = xform.jvp(np.sin, (0.0,), (2.0,))
    >>> float(out), float(t)
    (0.0, 2.0)
    """
    p_leaves, t_in, p_tree = _primals_and_tangents(primals, tangents, "jvp", fun)
    out_tree: list[PyTreeDef] = []

    def flat_fun(*flat: Any) -> list[Any]:
        out_leaves, tree = tree_flatten(fun(*tree_unflatten(p_tree, list(flat))))
        out_tree.append(tree)
        return out_leaves

    outs, t_outs = jvp_flat(flat_fun, p_leaves, t_in)
    primals_out = [_as_output(o) for o in outs]
    return (tree_unflatten(out_tree[0], primals_out),
            tree_unflatten(out_tree[0], _outputs(t_outs, outs)))


def linearize(fun: Fun, *primals: Any) -> tuple[Any, Fun]:
    """``(out, jvp_fn)``: ``jvp_fn(*tangents)`` applies the Jacobian at ``primals``,
    reusing the forward values recorded once (no re-run of ``fun``).

    Args:
        fun: the function; pytrees in and out.
        *primals: the point, one value per positional argument of ``fun``.

    Returns:
        ``(out, jvp_fn)``: the output and the linear map from input tangents to the
        output tangent.

    >>> import xform, xform.numpy as np
    >>> out, jvp_fn = xform.linearize(np.exp, 0.0)
    >>> float(jvp_fn(3.0))
    3.0
    """
    leaves, treedef, keep, full_args = _diff_leaves(fun, primals, range(len(primals)),
                                                    "linearize", holomorphic=None,
                                                    allow_int=True)
    out_tree: list[PyTreeDef] = []

    def flat_fun(*flat: Any) -> list[Any]:
        out_leaves, tree = tree_flatten(fun(*full_args(*flat)))
        out_tree.append(tree)
        return out_leaves

    outs, push = linearize_flat(flat_fun, leaves, keep)
    values = [_as_output(o) for o in outs]

    def jvp_fn(*tangents: Any) -> Any:
        t_leaves, t_tree = tree_flatten(list(tangents))
        if t_tree != treedef:
            raise ValueError(f"linearize: tangents must have the structure of the primals "
                             f"{treedef}, got {t_tree}")
        for k, (t, x) in enumerate(zip(t_leaves, leaves)):
            check_tangent_type("linearize's jvp_fn", f"the tangent of input leaf {k}", t, x,
                               real_for_complex=False)
        t_outs = push([to_numpy_value(t) for t in t_leaves])
        return tree_unflatten(out_tree[0], _outputs(t_outs, values))

    return tree_unflatten(out_tree[0], values), jvp_fn


def make_jaxpr(fun: Callable[..., Any], static_argnums: Sequence[int] = ()
               ) -> Callable[..., ClosedJaxpr]:
    """``make_jaxpr(f)(*args)``: the IR of ``f`` traced on the shapes of ``args``.

    Args:
        fun: the function to trace.
        static_argnums: positional arguments taken as Python constants, not traced.

    Returns:
        A function of ``fun``'s arguments returning the ``ClosedJaxpr`` (``print`` shows it).

    >>> import xform, xform.numpy as np
    >>> print(xform.make_jaxpr(np.sin)(1.0))
    { lambda ; a:f64[]. let
        b:f64[] = sin a
      in (b,) }
    """
    static = set(static_argnums)

    def make(*args: Any) -> ClosedJaxpr:
        dyn = [a for i, a in enumerate(args) if i not in static]
        leaves, treedef = tree_flatten(dyn)
        _check_array_leaves("make_jaxpr", fun, dyn, leaves,
                            positions=[i for i in range(len(args)) if i not in static])
        avals = [x.aval if isinstance(x, Tracer) else ShapedArray(np.shape(x), np.result_type(x))
                 for x in leaves]
        def flat_fun(*flat: Any) -> list[Any]:
            it = iter(tree_unflatten(treedef, list(flat)))
            full = [a if i in static else next(it) for i, a in enumerate(args)]
            return tree_flatten(fun(*full))[0]

        return trace_to_jaxpr(flat_fun, avals)

    return make


__all__ = ["grad", "value_and_grad", "elementwise_grad", "grad_named", "multigrad_dict",
           "vjp", "jvp", "linearize", "stop_gradient", "make_jaxpr"]
