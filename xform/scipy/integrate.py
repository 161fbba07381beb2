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

from ..core.ir import (ClosedJaxpr as _ClosedJaxpr, Jaxpr as _Jaxpr, ShapedArray as _ShapedArray,
                       aval_of as _aval_of)
from ..core.rules import (Primitive as _Primitive, batch_size as _batch_size, bind as _bind,
                          dtype_of as _dtype_of, instantiate as _instantiate,
                          move_to_front as _move_to_front, real_only as _real_only,
                          shape_of as _shape_of)
from ..core.staging import trace_to_jaxpr as _trace_to_jaxpr
from ..core.trace import ConcretizationError as _ConcretizationError, Tracer as _Tracer
from ..interpreters.batching import vmap_flat as _vmap_flat
from ..interpreters.eval import eval_jaxpr as _eval_jaxpr
from ..interpreters.jvp import jvp_flat as _jvp_flat
from ..interpreters.vjp import vjp_flat as _vjp_flat
from ..numpy._creation import asarray as _asarray
from ..numpy._elementwise import astype as _astype
from ..numpy._reductions import sum as _xsum
from ..numpy._shape import (broadcast_to as _broadcast_to, concatenate as _concatenate,
                            expand_dims as _expand_dims, reshape as _reshape, stack as _stack)
from ..tree_util import (tree_flatten as _tree_flatten, tree_map as _tree_map,
                         tree_unflatten as _tree_unflatten)
from ..core.lowering import on_host as _on_host
from ..core.arrays import numpy_only as _numpy_only

_INT_MAX = 2 ** 31 - 1  # LSODA counts steps in a Fortran integer


# ------------------------------------------------------------------------ the dynamics as data
def _call(fun: _ClosedJaxpr, y: Any, t: Any, params: Sequence[Any]) -> Any:
    """The right-hand side ``fun(y, t, *params)``, through ``bind`` (so traceable)."""
    return _eval_jaxpr(fun.jaxpr, fun.consts, y, t, *params)[0]


def _stage(f: Callable[..., Any], operands: Sequence[Any]) -> _ClosedJaxpr:
    """Trace ``f(*operands) -> array`` to a jaxpr on the operands' shapes and dtypes."""
    return _trace_to_jaxpr(lambda *a: [f(*a)], [_aval_of(x) for x in operands])


def _inexact(x: Any) -> bool:
    return bool(np.issubdtype(_dtype_of(x), np.inexact))


# ------------------------------------------------------------------------ the primitive
# Operands ``(y0, t, *params)``: ``y0`` a flat state vector, ``t`` the output times,
# ``params`` the dynamics' arguments. With ``nbatch=1`` every operand has a leading
# member axis of size B, or 1 for an operand shared by all members.
def _solve_one(y0: np.ndarray, ts: np.ndarray, params: Sequence[Any], fun: _ClosedJaxpr,
               rtol: float, atol: float, mxstep: float, hmax: float) -> np.ndarray:
    for what, v in (("y0", y0), ("t", ts), *((f"args[{i}]", p) for i, p in enumerate(params))):
        # LSODA integrates real systems: casting would drop the imaginary part silently
        if np.iscomplexobj(v):
            raise TypeError(f"odeint: {what} is complex ({_dtype_of(v)}); LSODA integrates "
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
    return max(_shape_of(x)[0] for x in operands)


def _odeint_impl(y0: Any, t: Any, *params: Any, fun: _ClosedJaxpr, rtol: float, atol: float,
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


def _odeint_shape(y0: Any, t: Any, *params: Any, nbatch: int, **kw: Any) -> _ShapedArray:
    if nbatch == 0:
        return _ShapedArray((_shape_of(t)[0],) + tuple(_shape_of(y0)), _dtype_of(y0))
    return _ShapedArray((_members([y0, t, *params]), _shape_of(t)[1], _shape_of(y0)[1]),
                       _dtype_of(y0))


_odeint_p = _Primitive("odeint", _numpy_only("xform.scipy.integrate.odeint", _odeint_impl))
_odeint_p.abstract_eval = _odeint_shape


def _solve(z0: Any, t: Any, params: Sequence[Any], fun: _ClosedJaxpr, opts: dict) -> Any:
    return _bind(_odeint_p, z0, t, *params, fun=fun, rtol=opts["rtol"], atol=opts["atol"],
                mxstep=opts["mxstep"], hmax=opts["hmax"], nbatch=0)


def _rhs_at(fun: _ClosedJaxpr, ys: Any, ts: Any, params: Sequence[Any]) -> Any:
    """The right-hand side at every output time, ``f(ys[i], ts[i])``, in one batched pass."""
    return _vmap_flat(lambda y, s: [_call(fun, y, s, params)], [ys, ts], [0, 0],
                     _shape_of(ys)[0], 0)[0]


def _per_member(rule: Callable[..., Any], operands: Sequence[Any]) -> Any:
    """``rule`` (written for one member) applied to every member of batched operands
    (leading axis of size B, or 1 when shared), as one vmap; results get a leading B."""
    members = _members(operands)
    if members == 1:
        out = rule(*[x[0] for x in operands])
        return _tree_map(lambda o: _expand_dims(o, 0), out)
    vals = [x if _shape_of(x)[0] > 1 else x[0] for x in operands]
    dims = [0 if _shape_of(x)[0] > 1 else None for x in operands]
    out_tree: list[Any] = []

    def flat_rule(*a: Any) -> list[Any]:
        leaves, tree = _tree_flatten(rule(*a))
        out_tree.append(tree)
        return leaves

    return _tree_unflatten(out_tree[0], _vmap_flat(flat_rule, vals, dims, members, 0))


# ------------------------------------------------------------------------ forward mode
def _odeint_jvp(tangents: Sequence[Any], ans: Any, args: Sequence[Any], params: dict) -> Any:
    """Sensitivity equations: ``s' = f_y s + f_p dp`` from ``s(t0) = dy0 - f(y0, t0) dt0``;
    a moved output time ``t_i`` adds ``f(y(t_i), t_i) dt_i``."""
    y0, t, *ps = args
    dy0, dt, *dps = tangents
    fun = params["fun"]
    n = _shape_of(y0)[0]
    moved = [i for i, d in enumerate(dps) if d is not None and _inexact(ps[i])]
    s0 = dy0
    if dt is not None:
        drift = _call(fun, y0, t[0], ps) * dt[0]
        s0 = -drift if s0 is None else s0 - drift
    out = None
    if s0 is not None or moved:
        if s0 is None:
            s0 = np.zeros(n, _dtype_of(y0))
        s0 = _astype(s0, _dtype_of(y0))
        dps_moved = [_astype(dps[i], _dtype_of(ps[i])) for i in moved]

        def sensitivity(z: Any, s: Any, *pp: Any) -> Any:
            base, dp = list(pp[:len(ps)]), pp[len(ps):]

            def f(y: Any, *q: Any) -> Any:
                full = list(base)
                for i, v in zip(moved, q):
                    full[i] = v
                return _call(fun, y, s, full)

            (fy,), (dfy,) = _jvp_flat(lambda *a: [f(*a)], [z[:n], *[base[i] for i in moved]],
                                     [z[n:], *dp])
            (dfy,) = _instantiate([dfy], [fy])
            return _concatenate([fy, _astype(dfy, _dtype_of(fy))])

        z0 = _concatenate([y0, s0])
        aug = _stage(sensitivity, [z0, t[0], *ps, *dps_moved])
        out = _solve(z0, t, [*ps, *dps_moved], aug, params)[:, n:]
    if dt is not None:
        moving = _rhs_at(fun, ans, t, ps) * _reshape(_astype(dt, _dtype_of(ans)), (-1, 1))
        out = moving if out is None else out + moving
    return None if out is None else _astype(out, _dtype_of(ans))


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
    n = _shape_of(y0)[0]
    steps = _shape_of(t)[0]
    wanted = [i for i, p in enumerate(ps) if needs[2 + i] and _inexact(p)]
    sizes = [math.prod(_shape_of(ps[i])) for i in wanted]
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
            (fy,), pullback = _vjp_flat(lambda *a: [f(*a)], primals)
            cts = _instantiate(pullback([z[n:2 * n]]), primals)
            parts = [-fy] + [_reshape(_astype(c, _dtype_of(fy)), (-1,)) for c in cts]
            return _concatenate(parts)

        zeros_g = np.zeros(sum(sizes), _dtype_of(y0))
        z_probe = _concatenate([y0, y0, zeros_g])
        aug = _stage(adjoint, [z_probe, t[0], *ps])
        for i in range(steps - 1, 0, -1):
            z0 = _concatenate([ans[i], _astype(y_bar, _dtype_of(y0)), zeros_g])
            z1 = _solve(z0, _stack([-t[i], -t[i - 1]]), ps, aug, params)[1]
            a_after_t0 = z1[n:2 * n]
            y_bar = a_after_t0 + ct[i - 1]
            g = z1[2 * n:]
            g_total = g if g_total is None else g_total + g

    out: list[Any] = [_astype(y_bar, _dtype_of(y0)) if needs[0] else None, None]
    if needs[1]:
        if steps > 1:
            t_bar = _xsum(_rhs_at(fun, ans, t, ps)[1:] * ct[1:], axis=1)
            assert a_after_t0 is not None
            t0_bar = -_xsum(a_after_t0 * _call(fun, y0, t[0], ps))
            out[1] = _astype(_concatenate([_reshape(t0_bar, (1,)), t_bar]), _dtype_of(t))
        else:
            out[1] = np.zeros(_shape_of(t), _dtype_of(t))
    p_bars: list[Any] = [None] * len(ps)
    offset = 0
    for i, size in zip(wanted, sizes):
        if g_total is None:
            p_bars[i] = np.zeros(_shape_of(ps[i]), _dtype_of(ps[i]))
        else:
            piece = _reshape(g_total[offset:offset + size], _shape_of(ps[i]))
            p_bars[i] = _astype(piece, _dtype_of(ps[i]))
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
            _xsum(c, axis=0, keepdims=True) if _shape_of(a)[0] == 1 < _shape_of(c)[0] else c
            for c, a in zip(cts, args)]


_odeint_p.jvp = _odeint_jvp_batched
_odeint_p.vjp = _odeint_vjp_batched
_real_only(_odeint_p, "scipy.integrate.odeint integrates real states")


# ------------------------------------------------------------------------ batching
def _odeint_batch(vals: Sequence[Any], dims: Sequence[Any], params: dict) -> tuple[Any, int]:
    """One ``odeint`` with ``nbatch=1``; a second level of batching is folded into the
    member axis (members of members are still independent systems)."""
    size = _batch_size(vals, dims)
    if params["nbatch"] == 0:
        ops = [_move_to_front(v, d) if d is not None else _reshape(v, (1,) + tuple(_shape_of(v)))
               for v, d in zip(vals, dims)]
        return _bind(_odeint_p, *ops, **dict(params, nbatch=1)), 0
    inner = max(_shape_of(v)[0 if d != 0 else 1] for v, d in zip(vals, dims))
    ops = []
    for v, d in zip(vals, dims):
        if d is None and _shape_of(v)[0] == 1:
            ops.append(v)
            continue
        v = _move_to_front(v, d) if d is not None else _reshape(v, (1,) + tuple(_shape_of(v)))
        rest = tuple(_shape_of(v)[2:])
        v = _broadcast_to(v, (size, inner) + rest)
        ops.append(_reshape(v, (size * inner,) + rest))
    out = _bind(_odeint_p, *ops, **params)
    return _reshape(out, (size, inner) + tuple(_shape_of(out)[1:])), 0


_odeint_p.batch = _odeint_batch


# ------------------------------------------------------------------------ the public function
def _hoist_tracers(closed: _ClosedJaxpr) -> tuple[_ClosedJaxpr, list[Any]]:
    """Constants that are traced values (of enclosing transforms) become trailing
    inputs, so that they are operands of ``odeint`` and receive derivatives."""
    jaxpr = closed.jaxpr
    keep_vars, keep_vals, moved_vars, moved_vals = [], [], [], []
    for v, c in zip(jaxpr.constvars, closed.consts):
        if isinstance(c, _Tracer):
            moved_vars.append(v)
            moved_vals.append(c)
        else:
            keep_vars.append(v)
            keep_vals.append(c)
    new = _Jaxpr(keep_vars, list(jaxpr.invars) + moved_vars, jaxpr.eqns, jaxpr.outvars)
    return _ClosedJaxpr(new, keep_vals), moved_vals


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

    Args:
        func: ``func(y, t, *args)`` (``func(t, y, *args)`` with ``tfirst``), the derivative of ``y``.
        y0: the initial state (an array or pytree).
        t: the increasing times, ``t[0]`` the initial one.
        *extra_args: more arguments of ``func`` (JAX's signature).
        args: more arguments of ``func`` (SciPy's signature).
        tfirst: ``func`` takes ``t`` first.
        rtol: the relative tolerance.
        atol: the absolute tolerance.
        mxstep: the most steps per interval.
        hmax: the largest step.

    Returns:
        The states at the times ``t``, stacked along a new leading axis.

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
    leaves, y_tree = _tree_flatten(y0)
    leaves = [_asarray(x) for x in leaves]
    if not leaves:
        raise ValueError("odeint: y0 has no arrays")
    dtype = np.result_type(*[_dtype_of(x) for x in leaves])
    if not np.issubdtype(dtype, np.inexact):
        dtype = np.dtype(np.float64)
    if np.issubdtype(dtype, np.complexfloating):
        raise TypeError("odeint supports real-valued states only")
    shapes = [tuple(_shape_of(x)) for x in leaves]
    sizes = [math.prod(s) for s in shapes]

    def ravel(parts: Sequence[Any]) -> Any:
        flat = [_reshape(_astype(p, dtype), (-1,)) for p in parts]
        return flat[0] if len(flat) == 1 else _concatenate(flat)

    def unravel(flat: Any, lead: tuple[int, ...] = ()) -> Any:
        parts, offset = [], 0
        for shape, size in zip(shapes, sizes):
            piece = flat[..., offset:offset + size]
            parts.append(_reshape(piece, lead + shape))
            offset += size
        return _tree_unflatten(y_tree, parts)

    t = _asarray(t)
    if len(_shape_of(t)) != 1 or _shape_of(t)[0] < 1:
        raise ValueError(f"odeint: t must be a non-empty 1-D array of times, got shape "
                         f"{_shape_of(t)}")
    if not _inexact(t):
        t = _astype(t, np.float64)
    if not isinstance(t, _Tracer) and np.any(np.diff(t) <= 0):
        raise ValueError("odeint: the times t must be strictly increasing")
    arg_leaves, arg_tree = _tree_flatten(list(args))
    arg_leaves = [_asarray(a) for a in arg_leaves]

    def flat_func(y: Any, s: Any, *a: Any) -> Any:
        out = func(unravel(y), s, *_tree_unflatten(arg_tree, list(a)))
        out_leaves, out_tree = _tree_flatten(out)
        if out_tree != y_tree or [tuple(_shape_of(o)) for o in out_leaves] != shapes:
            raise ValueError(f"odeint: func must return the structure and shapes of y0 "
                             f"({y_tree}, {shapes}), got {out_tree}, "
                             f"{[tuple(_shape_of(o)) for o in out_leaves]}")
        return ravel(out_leaves)

    flat_y0 = ravel(leaves)
    try:
        closed = _stage(flat_func, [flat_y0, t[0], *arg_leaves])
    except _ConcretizationError as e:
        raise _ConcretizationError(
            f"odeint traces `func` on shapes only (like jax.experimental.ode.odeint), so "
            f"it cannot branch in Python on the values of y, t or args.\n{e}") from None
    fun, hoisted = _hoist_tracers(closed)
    ys = _bind(_odeint_p, flat_y0, t, *arg_leaves, *hoisted, fun=fun, rtol=float(rtol),
              atol=float(atol), mxstep=float(mxstep), hmax=float(hmax), nbatch=0)
    return unravel(ys, (_shape_of(t)[0],))


__all__ = ["odeint"]


# SciPy's adaptive solver (LSODA) runs on the host: JAX has no equivalent, and its own
# odeint (Dormand-Prince) would give different values; the adjoint rules above were
# applied before lowering
_odeint_p.lower = _on_host(_odeint_impl)
