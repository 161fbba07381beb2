"""``xform.scipy.integrate.odeint``: ODE solutions differentiable w.r.t. y0, t and args.

The signature is JAX's ``jax.experimental.ode.odeint(func, y0, t, *args)``. The
solve itself is SciPy's LSODA (``scipy.integrate.odeint``) on concrete values.

``odeint`` is one primitive, ``odeint``, rather than a ``custom_vjp`` function: it
needs a forward rule (sensitivity equations) *and* a reverse rule (the adjoint
method), and ``custom_vjp`` gives reverse mode only, while the transposed forward
rule of a ``custom_jvp`` cannot see through a NumPy solver. The dynamics reach the
primitive as data: ``func`` is traced once to a jaxpr (so it must not branch in
Python on array values, as in JAX), and traced values it closes over are hoisted
into explicit operands, so they get derivatives like ``args`` do. Each rule builds
an augmented system with ``xform.jvp``/``xform.vjp``/``xform.vmap`` of the dynamics,
traces it, and solves it with ``odeint`` again; so the rules differentiate again,
to any order.
"""
from __future__ import annotations

import math
import warnings
from typing import Any, Callable, Sequence

import numpy as np
import scipy.integrate as _si

from ..core.arrays import numpy_only
from ..core.ir import ClosedJaxpr, Jaxpr, ShapedArray, aval_of
from ..core.lowering import on_host
from ..core.rules import (Primitive, batch_size, bind, dtype_of, instantiate, move_to_front,
                          real_only, shape_of)
from ..core.staging import trace_to_jaxpr
from ..core.trace import ConcretizationError, Tracer
from ..interpreters.batching import vmap_flat
from ..interpreters.eval import eval_jaxpr
from ..interpreters.jvp import jvp_flat
from ..interpreters.vjp import vjp_flat
from ..numpy._creation import asarray
from ..numpy._elementwise import astype
from ..numpy._reductions import sum as xsum
from ..numpy._shape import broadcast_to, concatenate, expand_dims, reshape, stack
from ..tree_util import tree_flatten, tree_map, tree_unflatten

_INT_MAX = 2 ** 31 - 1  # LSODA counts steps in a Fortran integer


# ------------------------------------------------------------------------ the dynamics as data
def _call(fun: ClosedJaxpr, y: Any, t: Any, params: Sequence[Any]) -> Any:
    """The right-hand side ``fun(y, t, *params)``, through ``bind`` (so traceable)."""
    return eval_jaxpr(fun.jaxpr, fun.consts, y, t, *params)[0]


def _stage(f: Callable[..., Any], operands: Sequence[Any]) -> ClosedJaxpr:
    """Trace ``f(*operands) -> array`` to a jaxpr on the operands' shapes and dtypes."""
    return trace_to_jaxpr(lambda *a: [f(*a)], [aval_of(x) for x in operands])


def _inexact(x: Any) -> bool:
    return bool(np.issubdtype(dtype_of(x), np.inexact))


# ------------------------------------------------------------------------ the primitive
# Operands ``(y0, t, *params)``: ``y0`` a flat state vector, ``t`` the output times,
# ``params`` the dynamics' arguments. With ``nbatch=1`` every operand has a leading
# member axis of size B, or 1 for an operand shared by all members.
def _solve_one(y0: np.ndarray, ts: np.ndarray, params: Sequence[Any], fun: ClosedJaxpr,
               rtol: float, atol: float, mxstep: float, hmax: float) -> np.ndarray:
    for what, v in (("y0", y0), ("t", ts), *((f"args[{i}]", p) for i, p in enumerate(params))):
        # LSODA integrates real systems: casting would drop the imaginary part silently
        if np.iscomplexobj(v):
            raise TypeError(f"odeint: {what} is complex ({dtype_of(v)}); LSODA integrates "
                            "real systems: integrate the real and imaginary parts as a real "
                            "state of twice the size")
    y0 = np.asarray(y0)
    ts = np.asarray(ts, np.float64)
    if y0.size == 0 or ts.size <= 1:
        return np.broadcast_to(y0, (ts.size,) + y0.shape).copy()

    def rhs(y: np.ndarray, s: float) -> np.ndarray:
        return np.asarray(_call(fun, y, np.float64(s), params), np.float64)

    with warnings.catch_warnings():
        # LSODA reports failure as a warning plus garbage values: raise instead
        warnings.simplefilter("ignore", _si.ODEintWarning)
        ys, info = _si.odeint(rhs, np.asarray(y0, np.float64), ts, rtol=rtol, atol=atol,
                              mxstep=int(min(mxstep, _INT_MAX)),
                              hmax=0.0 if math.isinf(hmax) else hmax,
                              tcrit=ts[-1:], full_output=True)
    if info["message"] != "Integration successful.":
        raise RuntimeError(f"odeint failed between t={ts[0]} and t={ts[-1]}: "
                           f"{info['message']} (tolerances rtol={rtol}, atol={atol}, "
                           f"mxstep={mxstep}; raise mxstep or loosen the tolerances)")
    return ys.astype(y0.dtype, copy=False)


def _members(operands: Sequence[Any]) -> int:
    return max(shape_of(x)[0] for x in operands)


def _odeint_impl(y0: Any, t: Any, *params: Any, fun: ClosedJaxpr, rtol: float, atol: float,
                 mxstep: float, hmax: float, nbatch: int) -> np.ndarray:
    opts = (fun, rtol, atol, mxstep, hmax)
    if nbatch == 0:
        return _solve_one(y0, t, params, *opts)
    # SciPy's solvers take one system at a time. Solving the members as one coupled
    # system would share their step-size control, so a member's result would depend
    # on the rest of the batch; separate solves give exactly the unbatched results.
    def pick(x: Any, b: int) -> Any:
        return x[b] if np.shape(x)[0] > 1 else x[0]
    operands = [y0, t, *params]
    return np.stack([_solve_one(pick(y0, b), pick(t, b), [pick(p, b) for p in params], *opts)
                     for b in range(_members(operands))])


def _odeint_shape(y0: Any, t: Any, *params: Any, nbatch: int, **kw: Any) -> ShapedArray:
    if nbatch == 0:
        return ShapedArray((shape_of(t)[0],) + tuple(shape_of(y0)), dtype_of(y0))
    return ShapedArray((_members([y0, t, *params]), shape_of(t)[1], shape_of(y0)[1]),
                       dtype_of(y0))


odeint_p = Primitive("odeint", numpy_only("xform.scipy.integrate.odeint", _odeint_impl))
odeint_p.abstract_eval = _odeint_shape


def _solve(z0: Any, t: Any, params: Sequence[Any], fun: ClosedJaxpr, opts: dict) -> Any:
    return bind(odeint_p, z0, t, *params, fun=fun, rtol=opts["rtol"], atol=opts["atol"],
                mxstep=opts["mxstep"], hmax=opts["hmax"], nbatch=0)


def _rhs_at(fun: ClosedJaxpr, ys: Any, ts: Any, params: Sequence[Any]) -> Any:
    """The right-hand side at every output time, ``f(ys[i], ts[i])``, in one batched pass."""
    return vmap_flat(lambda y, s: [_call(fun, y, s, params)], [ys, ts], [0, 0],
                     shape_of(ys)[0], 0)[0]


def _per_member(rule: Callable[..., Any], operands: Sequence[Any]) -> Any:
    """``rule`` (written for one member) applied to every member of batched operands
    (leading axis of size B, or 1 when shared), as one vmap; results get a leading B."""
    members = _members(operands)
    if members == 1:
        out = rule(*[x[0] for x in operands])
        return tree_map(lambda o: expand_dims(o, 0), out)
    vals = [x if shape_of(x)[0] > 1 else x[0] for x in operands]
    dims = [0 if shape_of(x)[0] > 1 else None for x in operands]
    out_tree: list[Any] = []

    def flat_rule(*a: Any) -> list[Any]:
        leaves, tree = tree_flatten(rule(*a))
        out_tree.append(tree)
        return leaves

    return tree_unflatten(out_tree[0], vmap_flat(flat_rule, vals, dims, members, 0))


# ------------------------------------------------------------------------ forward mode
def _odeint_jvp(tangents: Sequence[Any], ans: Any, args: Sequence[Any], params: dict) -> Any:
    """Sensitivity equations: ``s' = f_y s + f_p dp`` from ``s(t0) = dy0 - f(y0, t0) dt0``;
    a moved output time ``t_i`` adds ``f(y(t_i), t_i) dt_i``."""
    y0, t, *ps = args
    dy0, dt, *dps = tangents
    fun = params["fun"]
    n = shape_of(y0)[0]
    moved = [i for i, d in enumerate(dps) if d is not None and _inexact(ps[i])]
    s0 = dy0
    if dt is not None:
        drift = _call(fun, y0, t[0], ps) * dt[0]
        s0 = -drift if s0 is None else s0 - drift
    out = None
    if s0 is not None or moved:
        if s0 is None:
            s0 = np.zeros(n, dtype_of(y0))
        s0 = astype(s0, dtype_of(y0))
        dps_moved = [astype(dps[i], dtype_of(ps[i])) for i in moved]

        def sensitivity(z: Any, s: Any, *pp: Any) -> Any:
            base, dp = list(pp[:len(ps)]), pp[len(ps):]

            def f(y: Any, *q: Any) -> Any:
                full = list(base)
                for i, v in zip(moved, q):
                    full[i] = v
                return _call(fun, y, s, full)

            (fy,), (dfy,) = jvp_flat(lambda *a: [f(*a)], [z[:n], *[base[i] for i in moved]],
                                     [z[n:], *dp])
            (dfy,) = instantiate([dfy], [fy])
            return concatenate([fy, astype(dfy, dtype_of(fy))])

        z0 = concatenate([y0, s0])
        aug = _stage(sensitivity, [z0, t[0], *ps, *dps_moved])
        out = _solve(z0, t, [*ps, *dps_moved], aug, params)[:, n:]
    if dt is not None:
        moving = _rhs_at(fun, ans, t, ps) * reshape(astype(dt, dtype_of(ans)), (-1, 1))
        out = moving if out is None else out + moving
    return None if out is None else astype(out, dtype_of(ans))


# ------------------------------------------------------------------------ reverse mode
def _odeint_vjp(ct: Any, ans: Any, args: Sequence[Any], params: dict,
                needs: Sequence[bool]) -> list[Any]:
    """The adjoint method. Between consecutive output times, backwards, integrate
    ``[y, a, g]`` with ``y' = f``, ``a' = -a f_y``, ``g' = -a f_p`` (in reversed time
    ``s = -t``, all signs flip), starting from the stored ``y(t_i)``; the adjoint
    ``a`` jumps by ``ct[i]`` at each output time. Then ``dL/dy0 = a(t0)``,
    ``dL/dp = g``, ``dL/dt_i = ct[i] . f(y(t_i), t_i)`` for ``i > 0``, and
    ``dL/dt0 = -a(t0+) . f(y0, t0)`` (moving the start shifts the whole trajectory)."""
    y0, t, *ps = args
    fun = params["fun"]
    n = shape_of(y0)[0]
    steps = shape_of(t)[0]
    wanted = [i for i, p in enumerate(ps) if needs[2 + i] and _inexact(p)]
    sizes = [math.prod(shape_of(ps[i])) for i in wanted]
    y_bar = ct[-1]
    g_total: Any = None
    a_after_t0 = None

    if steps > 1:
        def adjoint(z: Any, s: Any, *pp: Any) -> Any:
            def f(y: Any, *q: Any) -> Any:
                full = list(pp)
                for i, v in zip(wanted, q):
                    full[i] = v
                return _call(fun, y, -s, full)

            primals = [z[:n], *[pp[i] for i in wanted]]
            (fy,), pullback = vjp_flat(lambda *a: [f(*a)], primals)
            cts = instantiate(pullback([z[n:2 * n]]), primals)
            parts = [-fy] + [reshape(astype(c, dtype_of(fy)), (-1,)) for c in cts]
            return concatenate(parts)

        zeros_g = np.zeros(sum(sizes), dtype_of(y0))
        z_probe = concatenate([y0, y0, zeros_g])
        aug = _stage(adjoint, [z_probe, t[0], *ps])
        for i in range(steps - 1, 0, -1):
            z0 = concatenate([ans[i], astype(y_bar, dtype_of(y0)), zeros_g])
            z1 = _solve(z0, stack([-t[i], -t[i - 1]]), ps, aug, params)[1]
            a_after_t0 = z1[n:2 * n]
            y_bar = a_after_t0 + ct[i - 1]
            g = z1[2 * n:]
            g_total = g if g_total is None else g_total + g

    out: list[Any] = [astype(y_bar, dtype_of(y0)) if needs[0] else None, None]
    if needs[1]:
        if steps > 1:
            t_bar = xsum(_rhs_at(fun, ans, t, ps)[1:] * ct[1:], axis=1)
            assert a_after_t0 is not None
            t0_bar = -xsum(a_after_t0 * _call(fun, y0, t[0], ps))
            out[1] = astype(concatenate([reshape(t0_bar, (1,)), t_bar]), dtype_of(t))
        else:
            out[1] = np.zeros(shape_of(t), dtype_of(t))
    p_bars: list[Any] = [None] * len(ps)
    offset = 0
    for i, size in zip(wanted, sizes):
        if g_total is None:
            p_bars[i] = np.zeros(shape_of(ps[i]), dtype_of(ps[i]))
        else:
            piece = reshape(g_total[offset:offset + size], shape_of(ps[i]))
            p_bars[i] = astype(piece, dtype_of(ps[i]))
        offset += size
    return out + p_bars


def _odeint_jvp_batched(tangents: Sequence[Any], ans: Any, args: Sequence[Any],
                        params: dict) -> Any:
    if params["nbatch"] == 0:
        return _odeint_jvp(tangents, ans, args, params)
    given = [i for i, t in enumerate(tangents) if t is not None]
    if not given:
        return None
    nargs = len(args)

    def one(*xs: Any) -> Any:
        ts: list[Any] = [None] * nargs
        for i, x in zip(given, xs[nargs + 1:]):
            ts[i] = x
        return _odeint_jvp(ts, xs[nargs], xs[:nargs], params)

    return _per_member(one, [*args, ans, *[tangents[i] for i in given]])


def _odeint_vjp_batched(ct: Any, ans: Any, args: Sequence[Any], params: dict,
                        needs: Sequence[bool]) -> list[Any]:
    if params["nbatch"] == 0:
        return _odeint_vjp(ct, ans, args, params, needs)
    nargs = len(args)

    def one(*xs: Any) -> Any:
        return _odeint_vjp(xs[nargs + 1], xs[nargs], xs[:nargs], params, needs)

    cts = _per_member(one, [*args, ans, ct])
    # a member-shared operand (leading axis 1) collects every member's cotangent
    return [None if c is None else
            xsum(c, axis=0, keepdims=True) if shape_of(a)[0] == 1 < shape_of(c)[0] else c
            for c, a in zip(cts, args)]


odeint_p.jvp = _odeint_jvp_batched
odeint_p.vjp = _odeint_vjp_batched
real_only(odeint_p, "scipy.integrate.odeint integrates real states")


# ------------------------------------------------------------------------ batching
def _odeint_batch(vals: Sequence[Any], dims: Sequence[Any], params: dict) -> tuple[Any, int]:
    """One ``odeint`` with ``nbatch=1``; a second level of batching is folded into the
    member axis (members of members are still independent systems)."""
    size = batch_size(vals, dims)
    if params["nbatch"] == 0:
        ops = [move_to_front(v, d) if d is not None else reshape(v, (1,) + tuple(shape_of(v)))
               for v, d in zip(vals, dims)]
        return bind(odeint_p, *ops, **dict(params, nbatch=1)), 0
    inner = max(shape_of(v)[0 if d != 0 else 1] for v, d in zip(vals, dims))
    ops = []
    for v, d in zip(vals, dims):
        if d is None and shape_of(v)[0] == 1:
            ops.append(v)
            continue
        v = move_to_front(v, d) if d is not None else reshape(v, (1,) + tuple(shape_of(v)))
        rest = tuple(shape_of(v)[2:])
        v = broadcast_to(v, (size, inner) + rest)
        ops.append(reshape(v, (size * inner,) + rest))
    out = bind(odeint_p, *ops, **params)
    return reshape(out, (size, inner) + tuple(shape_of(out)[1:])), 0


odeint_p.batch = _odeint_batch


# ------------------------------------------------------------------------ the public function
def _hoist_tracers(closed: ClosedJaxpr) -> tuple[ClosedJaxpr, list[Any]]:
    """Constants that are traced values (of enclosing transforms) become trailing
    inputs, so that they are operands of ``odeint`` and receive derivatives."""
    jaxpr = closed.jaxpr
    keep_vars, keep_vals, moved_vars, moved_vals = [], [], [], []
    for v, c in zip(jaxpr.constvars, closed.consts):
        if isinstance(c, Tracer):
            moved_vars.append(v)
            moved_vals.append(c)
        else:
            keep_vars.append(v)
            keep_vals.append(c)
    new = Jaxpr(keep_vars, list(jaxpr.invars) + moved_vars, jaxpr.eqns, jaxpr.outvars)
    return ClosedJaxpr(new, keep_vals), moved_vals


def odeint(func: Callable[..., Any], y0: Any, t: Any, *extra_args: Any, args: Any = (),
           tfirst: bool = False, rtol: float | None = 1.4e-8, atol: float | None = 1.4e-8,
           mxstep: float = np.inf, hmax: float = np.inf) -> Any:
    """Solve ``dy/dt = func(y, t, *args)`` from ``y(t[0]) = y0``; the result holds
    ``y`` at every time of the increasing 1-D ``t`` (a leading axis on each leaf of
    the pytree ``y0``). Differentiable w.r.t. ``y0``, ``t`` and ``args`` (forward
    mode by sensitivity equations, reverse mode by the adjoint method).

    Both signatures work: JAX's ``odeint(func, y0, t, *args)`` and SciPy's
    ``odeint(func, y0, t, args=(...), tfirst=False)`` (``tfirst=True``: ``func(t, y,
    *args)``; ``rtol``/``atol`` of None are the defaults; SciPy's ``hmax=0`` and
    ``mxstep=0`` mean no limit and LSODA's default).

    >>> import numpy as onp
    >>> from xform.scipy.integrate import odeint
    >>> ys = odeint(lambda y, t, k: -k * y, 1.0, onp.array([0.0, 1.0]), args=(2.0,))
    >>> bool(abs(ys[1] - onp.exp(-2.0)) < 1e-6)
    True
    """
    if not isinstance(args, (tuple, list)):
        raise TypeError(f"odeint: args must be a tuple of extra arguments to func (SciPy's "
                        f"signature), got {type(args).__name__}; write args=({args!r},)")
    if extra_args and args:
        raise TypeError("odeint: extra arguments given both by position (JAX's signature) "
                        "and as args=(...) (SciPy's); use one of them")
    args = tuple(extra_args) or tuple(args)
    if tfirst:
        user_func = func

        def func(y: Any, s: Any, *a: Any) -> Any:
            return user_func(s, y, *a)
    rtol = 1.4e-8 if rtol is None else rtol
    atol = 1.4e-8 if atol is None else atol
    leaves, y_tree = tree_flatten(y0)
    leaves = [asarray(x) for x in leaves]
    if not leaves:
        raise ValueError("odeint: y0 has no arrays")
    dtype = np.result_type(*[dtype_of(x) for x in leaves])
    if not np.issubdtype(dtype, np.inexact):
        dtype = np.dtype(np.float64)
    if np.issubdtype(dtype, np.complexfloating):
        raise TypeError("odeint supports real-valued states only")
    shapes = [tuple(shape_of(x)) for x in leaves]
    sizes = [math.prod(s) for s in shapes]

    def ravel(parts: Sequence[Any]) -> Any:
        flat = [reshape(astype(p, dtype), (-1,)) for p in parts]
        return flat[0] if len(flat) == 1 else concatenate(flat)

    def unravel(flat: Any, lead: tuple[int, ...] = ()) -> Any:
        parts, offset = [], 0
        for shape, size in zip(shapes, sizes):
            piece = flat[..., offset:offset + size]
            parts.append(reshape(piece, lead + shape))
            offset += size
        return tree_unflatten(y_tree, parts)

    t = asarray(t)
    if len(shape_of(t)) != 1 or shape_of(t)[0] < 1:
        raise ValueError(f"odeint: t must be a non-empty 1-D array of times, got shape "
                         f"{shape_of(t)}")
    if not _inexact(t):
        t = astype(t, np.float64)
    if not isinstance(t, Tracer) and np.any(np.diff(t) <= 0):
        raise ValueError("odeint: the times t must be strictly increasing")
    arg_leaves, arg_tree = tree_flatten(list(args))
    arg_leaves = [asarray(a) for a in arg_leaves]

    def flat_func(y: Any, s: Any, *a: Any) -> Any:
        out = func(unravel(y), s, *tree_unflatten(arg_tree, list(a)))
        out_leaves, out_tree = tree_flatten(out)
        if out_tree != y_tree or [tuple(shape_of(o)) for o in out_leaves] != shapes:
            raise ValueError(f"odeint: func must return the structure and shapes of y0 "
                             f"({y_tree}, {shapes}), got {out_tree}, "
                             f"{[tuple(shape_of(o)) for o in out_leaves]}")
        return ravel(out_leaves)

    flat_y0 = ravel(leaves)
    try:
        closed = _stage(flat_func, [flat_y0, t[0], *arg_leaves])
    except ConcretizationError as e:
        raise ConcretizationError(
            f"odeint traces `func` on shapes only (like jax.experimental.ode.odeint), so "
            f"it cannot branch in Python on the values of y, t or args.\n{e}") from None
    fun, hoisted = _hoist_tracers(closed)
    ys = bind(odeint_p, flat_y0, t, *arg_leaves, *hoisted, fun=fun, rtol=float(rtol),
              atol=float(atol), mxstep=float(mxstep), hmax=float(hmax), nbatch=0)
    return unravel(ys, (shape_of(t)[0],))


__all__ = ["odeint"]


# SciPy's adaptive solver (LSODA) runs on the host: JAX has no equivalent, and its own
# odeint (Dormand-Prince) would give different values; the adjoint rules above were
# applied before lowering
odeint_p.lower = on_host(_odeint_impl)
