"""Helpers that make declaring a primitive and its rules a few lines.

Per-argument rules have the forms
``jvp: rule(t, ans, *args, **params) -> tangent contribution`` and
``vjp: rule(ct, ans, *args, **params) -> cotangent for that argument``,
with ``None`` for an argument that has no derivative.

Part of the core, so it imports nothing above it. The few array operations the
helpers need (sum, reshape, broadcast_to, moveaxis, real) are NumPy's own
functions: on NumPy values they run NumPy, and on tracers NumPy's dispatch
protocol (``__array_function__``, which ``xform.numpy`` attaches to ``Tracer``)
routes them to the traceable op of the same name.
"""
from __future__ import annotations

import functools
import inspect
import sys
from typing import Any, Callable, MutableMapping, Sequence

import numpy as np

from .ir import ShapedArray
from .primitive import Primitive, Rule
from . import arrays
from .trace import Tracer, add_any, bind, like_value

__all__ = ["Primitive", "bind", "defjvp", "defvjp", "defrules", "deflinear", "defbilinear",
           "real_only", "float_elementwise_shape", "numeric_from_rules", "elementwise_numeric",
           "SEQUENCE_TYPES", "holds_tracer", "as_array_like", "accept_sequences", "accept_sequences_in",
           "zeros_like", "const_like", "instantiate", "cast_like", "batch_by_loop", "unbroadcast", "shape_of", "dtype_of", "unary_op", "binary_op", "nondiff_op",
           "batch_size", "move_to_front", "batch_unary", "batch_broadcasting",
           "align_batched", "shift_axis", "batch_axis_param", "spread_like"]


def shape_of(x: Any) -> tuple[int, ...]:
    """Shape of an array, NumPy scalar, Python scalar or tracer."""
    shape = getattr(x, "shape", None)
    return shape if shape is not None else np.shape(x)


def dtype_of(x: Any) -> np.dtype:
    """Dtype of an array, scalar, tracer or (nested) list of numbers (as NumPy reads it:
    ``np.result_type`` would take a list for a structured dtype's fields)."""
    dtype = getattr(x, "dtype", None)
    if dtype is not None:
        return dtype
    if x.__class__ in SEQUENCE_TYPES:
        return np.asarray(x).dtype
    return np.result_type(x)


# ---------------------------------------------------------------------------- array_like
SEQUENCE_TYPES = (list, tuple)  # exactly these: a namedtuple is a pytree, not an array_like


def holds_tracer(x: Any) -> bool:
    """Whether ``x`` is a traced value or a (nested) list/tuple holding one."""
    if isinstance(x, Tracer):
        return True
    if x.__class__ in SEQUENCE_TYPES:
        for e in x:
            if holds_tracer(e):
                return True
    return False


def as_array_like(x: Any) -> Any:
    """``x`` as NumPy reads an array_like: a (nested) list/tuple holding traced values
    is stacked into one traced array (``np.stack`` reaches ``xform.numpy.stack`` through
    NumPy's dispatch, which sees the tracers); anything else is returned as it is."""
    if x.__class__ in SEQUENCE_TYPES and holds_tracer(x):
        return np.stack([as_array_like(e) for e in x])
    return x


def _sequence_parameters(fn: Callable[..., Any]) -> tuple[set[int], set[str]]:
    """The positions and names of ``fn``'s parameters annotated as sequences
    (``Sequence[...]``, ``tuple[...]``, ``list[...]``: concatenate's ``arrays``,
    cho_solve's ``(c, lower)``): they hold several arrays, which must not be stacked."""
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return set(), set()
    positions, names = set(), set()
    for i, p in enumerate(params):
        note = p.annotation if isinstance(p.annotation, str) else getattr(
            p.annotation, "__name__", "")
        if note.split("[")[0].strip() in ("Sequence", "tuple", "list", "Iterable"):
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
                positions.add(i)
            names.add(p.name)
    return positions, names


def accept_sequences(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` accepting lists and tuples of traced values wherever NumPy takes an
    array_like (``np.mean([x, x + 2])``, ``np.dot([x, y], w)``): such arguments are
    stacked (`as_array_like`) before ``fn`` runs. Parameters annotated as sequences
    (`_sequence_parameters`) are passed as they are. Only calls with a list or tuple
    argument pay more than one class check per argument."""
    if getattr(fn, "_accepts_sequences", False):
        return fn
    positions, names = _sequence_parameters(fn)

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        for a in args:
            if a.__class__ in SEQUENCE_TYPES:
                break
        else:
            for v in kwargs.values():
                if v.__class__ in SEQUENCE_TYPES:
                    break
            else:
                return fn(*args, **kwargs)
        args = tuple(a if i in positions else as_array_like(a) for i, a in enumerate(args))
        kwargs = {k: v if k in names else as_array_like(v) for k, v in kwargs.items()}
        return fn(*args, **kwargs)

    wrapper._accepts_sequences = True  # type: ignore[attr-defined]
    return wrapper


def accept_sequences_in(namespace: MutableMapping[str, Any], package: str = "xform") -> None:
    """Apply `accept_sequences` to every public function of a module's ``namespace``
    defined in ``package``: the one place where the NumPy/SciPy namespaces learn to read
    lists of traced values as arrays."""
    for name, obj in list(namespace.items()):
        if (not name.startswith("_") and inspect.isfunction(obj)
                and (obj.__module__ or "").startswith(package)):
            namespace[name] = accept_sequences(obj)


def zeros_like(x: Any) -> Any:
    """A zero array of the shape and dtype of ``x`` (a tracer included), of the array
    kind of the value behind it (NumPy, Dask, CuPy): a symbolic zero made concrete."""
    if type(x) is np.ndarray:
        return np.zeros(x.shape, x.dtype)
    return arrays.zeros(shape_of(x), dtype_of(x), like_value(x))


def const_like(value: Any, x: Any) -> Any:
    """A NumPy constant of a rule (a mask, an identity, index positions) as an array of
    the kind of the value behind ``x``, so that it mixes with a Dask or CuPy ``x``
    (the constant itself when ``x`` is NumPy's)."""
    return arrays.asarray_like(value, like_value(x))


def instantiate(values: Sequence[Any], like: Sequence[Any]) -> list[Any]:
    """``values`` with each symbolic zero (``None``) made an array shaped like ``like``."""
    return [v if v is not None else zeros_like(x) for v, x in zip(values, like)]


def cast_like(x: Any, like: Any) -> Any:
    """A tangent or cotangent ``x`` given the dtype of its primal ``like``. A complex
    one for a real primal keeps its real part (the transpose of the real-to-complex
    embedding, JAX's convention). NumPy's dispatch makes it work on tracers too."""
    dt, x_dt = dtype_of(like), dtype_of(x)
    if x_dt == dt:
        return x
    if x_dt.kind == "c" and dt.kind != "c":
        x = np.real(x)
    if isinstance(x, Tracer):
        return x.astype(dt)  # type: ignore[attr-defined]
    if arrays.is_foreign(x):
        return x.astype(dt)
    return np.asarray(x).astype(dt)


def check_tangent_type(who: str, what: str, value: Any, like: Any,
                       real_for_complex: bool = True) -> None:
    """A clear error for a tangent or cotangent ``value`` (user-supplied, or returned by
    a user's rule) that cannot stand for one of ``like``: another shape (ValueError), or
    a dtype whose cast to ``like``'s would lose information (TypeError): complex for a
    real value, non-numeric for an inexact one, and with ``real_for_complex=False``
    also real for complex (JAX's strictness for ``vjp`` and ``jvp``). A lower or higher
    precision of the same kind is accepted and cast; integer values carry no tangent
    and are not checked."""
    want = dtype_of(like)
    if want.kind not in "fc":
        return
    got_shape, want_shape = tuple(shape_of(value)), tuple(shape_of(like))
    if got_shape != want_shape:
        raise ValueError(f"{who}: {what} has shape {got_shape}, but the value it belongs "
                         f"to has shape {want_shape}; they must be equal.")
    got = dtype_of(value)
    lossy = (got.kind not in "biufc" or (got.kind == "c" and want.kind == "f")
             or (not real_for_complex and want.kind == "c" and got.kind != "c"))
    if lossy:
        fix = ("a real value has real tangents and cotangents; take np.real(...) "
               "yourself if that is what you mean" if got.kind == "c" else
               "a complex value needs a complex tangent/cotangent (add 0j)"
               if want.kind == "c" and got.kind in "biuf" else "pass a numeric array")
        raise TypeError(f"{who}: {what} has dtype {got}, but the value it belongs to has "
                        f"dtype {want}; {fix}.")


def spread_like(x: Any, like: Any) -> Any:
    """``x`` broadcast to the shape of ``like``, a Dask (or CuPy) array, as one of its
    kind and along its chunks: ``np.broadcast_to`` would make one chunk the size of
    the data, which Dask then rechunks and ships whole between workers."""
    return x + np.zeros_like(like, dtype=dtype_of(x))


def defjvp(prim: Primitive, *rules: Rule | None) -> None:
    """Forward rule from one per-argument rule; contributions are summed and
    broadcast to the output's shape when an argument was broadcast."""

    def jvp(tangents: Sequence[Any], ans: Any, args: Sequence[Any], params: dict) -> Any:
        out = None
        for rule, t in zip(rules, tangents):
            if t is not None and rule is not None:
                out = add_any(out, rule(t, ans, *args, **params))
        if out is not None and shape_of(out) != shape_of(ans):
            if arrays.is_foreign(ans):
                return spread_like(out, ans)
            out = np.broadcast_to(out, shape_of(ans))
        return out

    prim.jvp = jvp


def defvjp(prim: Primitive, *rules: Rule | None, broadcasting: bool = False) -> None:
    """Reverse rule from one per-argument rule. With ``broadcasting`` each
    cotangent is summed back to its argument's shape (``unbroadcast``)."""

    def vjp(ct: Any, ans: Any, args: Sequence[Any], params: dict,
            needs: Sequence[bool]) -> list[Any]:
        out: list[Any] = []
        for rule, arg, need in zip(rules, args, needs):
            c = rule(ct, ans, *args, **params) if need and rule is not None else None
            if broadcasting and c is not None:
                c = unbroadcast(c, shape_of(arg))
            if c is not None and dtype_of(c).kind == "c" and dtype_of(arg).kind != "c":
                # a real operand promoted into complex arithmetic: its cotangent is the
                # real part (the transpose of the real-to-complex embedding)
                c = np.real(c)
            out.append(c)
        return out

    prim.vjp = vjp
    prim.numeric_vjp = numeric_from_rules(rules, vjp)


def numeric_from_rules(rules: Sequence[Rule | None], vjp: Rule) -> Rule:
    """A primitive's ``numeric_vjp`` from its per-argument `defvjp` rules: the rules
    themselves on NumPy values (where they call an op, it runs NumPy: nothing is
    traced), without the shape and dtype fix-ups, which the eager sweep applies only
    where a cotangent needs them. ``derived_from`` names the rule it stands for, so
    the generic test sees when a later assignment to ``prim.vjp`` left it stale."""
    # (most primitives have no params: unpacking an empty dict still builds one)
    def one(ct: Any, ans: Any, args: Sequence[Any], params: dict,
            needs: Sequence[bool]) -> tuple[Any]:
        rule = rules[0]
        if not needs[0] or rule is None:
            return (None,)
        return (rule(ct, ans, *args, **params) if params else rule(ct, ans, *args),)

    def several(ct: Any, ans: Any, args: Sequence[Any], params: dict,
                needs: Sequence[bool]) -> list[Any]:
        if not params:
            return [rule(ct, ans, *args) if need and rule is not None else None
                    for rule, need in zip(rules, needs)]
        return [rule(ct, ans, *args, **params) if need and rule is not None else None
                for rule, need in zip(rules, needs)]

    numeric: Any = one if len(rules) == 1 else several
    numeric.derived_from = vjp
    return numeric


def defrules(prim: Primitive, *derivs: Callable[..., Any] | None,
             broadcasting: bool = True) -> None:
    """Both modes from the partial derivatives ``d(ans, *args) = d out / d arg_i``
    of an elementwise primitive: tangent ``t * d`` and cotangent ``ct * d``."""
    defjvp(prim, *[None if d is None else
                   (lambda d: lambda t, ans, *a, **p: t * d(ans, *a, **p))(d) for d in derivs])
    defvjp(prim, *[None if d is None else
                   (lambda d: lambda ct, ans, *a, **p: ct * d(ans, *a, **p))(d) for d in derivs],
           broadcasting=broadcasting)


def deflinear(prim: Primitive, transpose: Rule) -> None:
    """A primitive linear in its first argument (other arguments are data it does not
    differentiate, such as index arrays): the tangent is the primitive applied to the
    tangent, and ``transpose(ct, ans, x, *rest, **params)`` (a `defvjp` rule) gives
    the cotangent of ``x``."""

    def jvp(tangents: Sequence[Any], ans: Any, args: Sequence[Any], params: dict) -> Any:
        t = tangents[0]
        return None if t is None else bind(prim, t, *args[1:], **params)

    prim.jvp = jvp
    defvjp(prim, transpose)
    prim.linear = True


def defbilinear(prim: Primitive, transpose_x: Rule, transpose_y: Rule, *,
                broadcasting: bool = False, apply: Callable[..., Any] | None = None) -> None:
    """A primitive ``f`` of two arguments, linear in each when the other is fixed
    (multiply, matmul, convolve): the tangent is ``f(tx, y) + f(x, ty)``, and the
    `defvjp` rules ``transpose_x(ct, ans, x, y, **params)`` and ``transpose_y``
    give the cotangents (with ``broadcasting`` as in `defvjp`). ``apply`` computes
    ``f`` (by default, binding ``prim``)."""
    f = apply if apply is not None else (lambda a, b, **p: bind(prim, a, b, **p))

    def jvp(tangents: Sequence[Any], ans: Any, args: Sequence[Any], params: dict) -> Any:
        # a tangent has its operand's shape, so each term has the output's shape
        tx, ty = tangents
        x, y = args
        out = None if tx is None else f(tx, y, **params)
        return out if ty is None else add_any(out, f(x, ty, **params))

    prim.jvp = jvp
    defvjp(prim, transpose_x, transpose_y, broadcasting=broadcasting)


def real_only(prim: Primitive, why: str = "its derivative rules are real formulas") -> None:
    """Declare that ``prim`` is differentiable for real operands only: its rules raise a
    TypeError naming the primitive when an operand or tangent is complex (NumPy may
    compute the value, but a real formula would give a silently wrong derivative).
    Call it after the rules are set."""
    jvp_rule, vjp_rule = prim.jvp, prim.vjp

    def refuse(values: Sequence[Any]) -> None:
        for i, v in enumerate(values):
            if v is not None and np.issubdtype(dtype_of(v), np.complexfloating):
                raise TypeError(
                    f"{prim.name}: derivatives are defined for real inputs only ({why}); "
                    f"operand {i} is complex ({dtype_of(v)}). Differentiate a real "
                    "function of np.real(z) and np.imag(z) instead")

    def jvp(tangents: Sequence[Any], ans: Any, args: Sequence[Any], params: dict) -> Any:
        refuse(args)
        refuse(tangents)
        assert jvp_rule is not None
        return jvp_rule(tangents, ans, args, params)

    def vjp(ct: Any, ans: Any, args: Sequence[Any], params: dict,
            needs: Sequence[bool]) -> list[Any]:
        refuse(args)
        assert vjp_rule is not None
        return vjp_rule(ct, ans, args, params, needs)

    numeric_rule = prim.numeric_vjp

    def numeric(ct: Any, ans: Any, args: Sequence[Any], params: dict,
                needs: Sequence[bool]) -> Any:
        refuse(args)
        assert numeric_rule is not None
        return numeric_rule(ct, ans, args, params, needs)

    if jvp_rule is not None:
        prim.jvp = jvp
    if vjp_rule is not None:
        prim.vjp = vjp
    if numeric_rule is not None:
        numeric.derived_from = vjp  # type: ignore[attr-defined]
        prim.numeric_vjp = numeric
    prim.real_only = True


def elementwise_numeric(deriv: Callable[[Any, Any], Any], vjp: Rule | None) -> Rule:
    """The ``numeric_vjp`` of an elementwise op of one argument from its derivative
    ``deriv(ans, x)`` written with NumPy functions: ``ct * deriv(ans, x)``."""
    def numeric(ct: Any, ans: Any, args: Sequence[Any], params: dict,
                needs: Sequence[bool]) -> tuple[Any]:
        return (ct * deriv(ans, args[0]),)
    numeric.derived_from = vjp  # type: ignore[attr-defined]
    return numeric


def unbroadcast(ct: Any, shape: tuple[int, ...]) -> Any:
    """Sum ``ct`` over the axes along which an operand of ``shape`` was broadcast."""
    ct_shape = shape_of(ct)
    if ct_shape == shape:
        return ct
    lead = len(ct_shape) - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and ct_shape[lead + i] != 1)
    if axes:
        ct = np.sum(ct, axis=axes)
    if shape_of(ct) != shape:
        ct = np.reshape(ct, shape)
    return ct


# ---------------------------------------------------------------------------- batching
def batch_size(vals: Sequence[Any], dims: Sequence[int | None]) -> int:
    return next(shape_of(v)[d] for v, d in zip(vals, dims) if d is not None)


def batch_by_loop(prim: Primitive, vals: Sequence[Any], dims: Sequence[Any],
                  params: dict) -> tuple[Any, int]:
    """The batch rule of last resort: one call per batch member, then stack (for ops
    with no single-call batched form, and for opaque user primitives). Indexing and
    ``np.stack`` work on NumPy values and tracers alike."""
    size = batch_size(vals, dims)
    outs = [bind(prim, *[v if d is None else v[(slice(None),) * d + (i,)]
                         for v, d in zip(vals, dims)], **params) for i in range(size)]
    return np.stack(outs), 0


def move_to_front(x: Any, d: int | None) -> Any:
    """``x`` with its batch axis ``d`` moved to position 0."""
    if d is None or d == 0:
        return x
    return np.moveaxis(x, d, 0)


def batch_unary(prim: Primitive) -> None:
    """Batch rule of an elementwise op of one array: the batch axis stays put."""
    def rule(vals: Sequence[Any], dims: Sequence[Any], params: dict) -> tuple[Any, Any]:
        return bind(prim, *vals, **params), dims[0]
    prim.batch = rule


def align_batched(vals: Sequence[Any], dims: Sequence[int | None]) -> list[Any]:
    """Move batch axes to the front and pad the batched operands with unit axes so
    that NumPy broadcasting lines up the original (unbatched) axes."""
    size = batch_size(vals, dims)
    nd = max(len(shape_of(v)) - (d is not None) for v, d in zip(vals, dims))
    out = []
    for v, d in zip(vals, dims):
        if d is not None:
            v = move_to_front(v, d)
            rest = tuple(shape_of(v)[1:])
            if len(rest) < nd:
                v = np.reshape(v, (size,) + (1,) * (nd - len(rest)) + rest)
        out.append(v)
    return out


def batch_broadcasting(prim: Primitive) -> None:
    """Batch rule of a broadcasting elementwise op: batch axis to the front."""
    def rule(vals: Sequence[Any], dims: Sequence[Any], params: dict) -> tuple[Any, Any]:
        return bind(prim, *align_batched(vals, dims), **params), 0
    prim.batch = rule
    prim.broadcasting = True  # the jit's redundant-broadcast pass relies on it


def shift_axis(axis: Any, ndim: int) -> Any:
    """An axis parameter of the unbatched op, for the operand with a leading batch axis."""
    if axis is None:
        return tuple(range(1, ndim + 1))
    if isinstance(axis, tuple):
        return tuple(a % ndim + 1 for a in axis)
    return axis % ndim + 1


def batch_axis_param(prim: Primitive, key: str = "axis") -> None:
    """Batch rule of an op of one array with an axis parameter (None = all axes)."""
    def rule(vals: Sequence[Any], dims: Sequence[Any], params: dict) -> tuple[Any, Any]:
        x = move_to_front(vals[0], dims[0])
        nd = len(shape_of(x)) - 1
        new = dict(params)
        new[key] = shift_axis(params[key], max(nd, 1) if params[key] is not None else nd)
        return bind(prim, x, *vals[1:], **new), 0
    prim.batch = rule


_WEAK_SCALARS = (float, int)


def float_elementwise_shape(prim: Primitive) -> None:
    """Shape rule of an elementwise op that maps real floating operands to their
    promoted dtype (every differentiable real function: sin, add, power...), broadcast
    to one shape: computed from the shapes and dtypes, where the default rule runs the
    op on dummy inputs. Other operands (integers, complex, booleans) keep the default."""
    fallback = prim.abstract_eval

    def rule(*avals: Any, **params: Any) -> Any:
        shapes = []
        dtypes = []
        for a in avals:
            t = type(a)
            if t is ShapedArray or t is np.ndarray or isinstance(a, np.generic):
                if a.dtype.kind != "f":
                    return fallback(*avals, **params)
                shapes.append(a.shape)
                dtypes.append(a.dtype)
            elif t not in _WEAK_SCALARS:  # Python floats and ints are weakly typed
                return fallback(*avals, **params)
        if not dtypes:
            return fallback(*avals, **params)
        first = shapes[0]
        shape = first if all(s == first for s in shapes) else np.broadcast_shapes(*shapes)
        dtype = dtypes[0] if len(dtypes) == 1 else np.result_type(*dtypes)
        return ShapedArray(shape, dtype)

    prim.abstract_eval = rule


# sample arguments for a generated docstring's example: the first at which NumPy's
# function is finite without a floating-point error
_SAMPLES = {1: ((0.5,), (1.5,), (3,)), 2: ((0.5, 1.5), (1.5, 0.5), (3, 5))}


def _sample(impl: Callable[..., Any], nargs: int) -> tuple[Any, ...] | None:
    for args in _SAMPLES[nargs]:
        try:
            with np.errstate(all="raise"):
                out = np.asarray(impl(*args))
        except (TypeError, ValueError, FloatingPointError, ArithmeticError):
            continue
        if out.dtype.kind in "biuf" and np.all(np.isfinite(out)):
            return args
    return None


def numpy_op_doc(fn: Callable[..., Any], name: str, impl: Callable[..., Any], nargs: int,
                 differentiable: bool, note: str = "", *, ref: str = "numpy",
                 alias: str = "np", alias_of: str = "xform.numpy", wrt: int = 0,
                 intro: str | None = None, module: str | None = None) -> None:
    """Give an elementwise op made by a factory its docstring (Args, Returns and an
    example the doctests run: the value against ``ref``'s function of the same name and,
    when it has a derivative, ``grad`` in argument ``wrt`` against a central difference),
    and the module of its caller (so that it is documented and doctested where it is
    defined). ``intro`` replaces the first paragraph."""
    fn.__module__ = module or sys._getframe(2).f_globals.get("__name__", fn.__module__)
    names = ("x", "y")[:nargs]
    what = "traceable and differentiable (forward and reverse mode, any order, under vmap " \
           "and jit)" if differentiable else "traceable, with no derivative (a zero one where " \
           "it is piecewise constant)"
    args_doc = "".join(f"    {n}: an array or scalar, or a traced value under a transform"
                       f"{' (broadcast against x)' if i else ''}.\n" for i, n in enumerate(names))
    head = intro if intro is not None else f"Elementwise `{ref}.{name}`, {what}."
    doc = (f"{head}{(' ' + note) if note else ''}\n\n"
           f"Args:\n{args_doc}\n"
           f"Returns:\n    `{ref}.{name}({', '.join(names)})`"
           f"{' broadcast' if nargs > 1 else ''}, traced when an argument is.\n")
    args = _sample(impl, nargs)
    if args is not None:
        shown = ", ".join(repr(a) for a in args)
        imports = "numpy, xform" + (f", {ref}" if ref != "numpy" else "")
        doc += (f"\nExample:\n    >>> import {imports}, {alias_of} as {alias}\n"
                f"    >>> bool(numpy.all({alias}.{name}({shown}) == {ref}.{name}({shown})))\n"
                "    True\n")
        if differentiable and isinstance(args[wrt], float):
            lo = ", ".join(f"{a!r} - 1e-6" if i == wrt else repr(a) for i, a in enumerate(args))
            hi = ", ".join(f"{a!r} + 1e-6" if i == wrt else repr(a) for i, a in enumerate(args))
            argnums = f", argnums={wrt}" if wrt else ""
            doc += (f"    >>> slope = ({ref}.{name}({hi}) - {ref}.{name}({lo})) / 2e-6\n"
                    f"    >>> bool(abs(xform.grad({alias}.{name}{argnums})({shown}) - slope) "
                    "< 1e-6)\n    True\n")
    fn.__doc__ = doc


def unary_op(name: str, impl: Callable[[Any], Any],
             deriv: Callable[..., Any] | None,
             numeric: Callable[[Any, Any], Any] | None = None
             ) -> tuple[Primitive, Callable[[Any], Any]]:
    """An elementwise primitive of one argument with ``deriv(ans, x)``. ``numeric``,
    the same derivative written with NumPy functions (``np.cos`` for ``sin``), makes
    the eager backward sweep skip the traced op ``deriv`` would call."""
    prim = Primitive(name, impl, nondiff=deriv is None)
    if deriv is not None:
        defrules(prim, deriv, broadcasting=False)
        float_elementwise_shape(prim)
    if numeric is not None:
        prim.numeric_vjp = elementwise_numeric(numeric, prim.vjp)
    batch_unary(prim)

    def fn(x: Any) -> Any:
        if x.__class__ in SEQUENCE_TYPES:
            x = as_array_like(x)
        return bind(prim, x)

    fn.__name__ = fn.__qualname__ = name
    numpy_op_doc(fn, name, impl, 1, deriv is not None)
    fn._accepts_sequences = True  # type: ignore[attr-defined]
    return prim, fn


def binary_op(name: str, impl: Callable[[Any, Any], Any],
              dx: Callable[..., Any] | None,
              dy: Callable[..., Any] | None) -> tuple[Primitive, Callable[[Any, Any], Any]]:
    """A broadcasting elementwise primitive of two arguments."""
    prim = Primitive(name, impl, nondiff=dx is None and dy is None)
    if not prim.nondiff:
        defrules(prim, dx, dy)
        float_elementwise_shape(prim)
    batch_broadcasting(prim)

    def fn(x: Any, y: Any) -> Any:
        if x.__class__ in SEQUENCE_TYPES or y.__class__ in SEQUENCE_TYPES:
            x, y = as_array_like(x), as_array_like(y)
        return bind(prim, x, y)

    fn.__name__ = fn.__qualname__ = name
    numpy_op_doc(fn, name, impl, 2, not prim.nondiff)
    fn._accepts_sequences = True  # type: ignore[attr-defined]
    return prim, fn


def nondiff_op(name: str, impl: Callable[..., Any]) -> tuple[Primitive, Callable[..., Any]]:
    """A primitive with zero derivative everywhere (comparisons, rounding, argmax...)."""
    prim = Primitive(name, impl, nondiff=True)

    def fn(*args: Any, **params: Any) -> Any:
        return bind(prim, *args, **params)

    fn.__name__ = fn.__qualname__ = name
    fn.__module__ = sys._getframe(1).f_globals.get("__name__", fn.__module__)
    fn.__doc__ = (f"`numpy.{name}`, traceable; it contributes no derivative.\n\n"
                  f"Args:\n    *args: as `numpy.{name}`'s (arrays, scalars or traced values).\n"
                  f"    **params: `numpy.{name}`'s keyword arguments.\n\n"
                  f"Returns:\n    What `numpy.{name}` returns, traced when an argument is.\n")
    return prim, fn
