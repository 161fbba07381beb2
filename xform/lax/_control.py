"""Structured control flow: cond, switch, select, while_loop, fori_loop, scan.

When the values that steer the control flow are concrete (plain arrays, or the
values carried by grad/jvp tracers), these run as ordinary Python control flow:
that is exact under every differentiating transform and costs nothing extra.
When they are abstract (make_jaxpr, jit) or batched (vmap), the functions are
traced to sub-jaxprs and bound as primitives (``cond``, ``while``, ``scan``)
whose rules are written by calling these same functions one level down with
transformed bodies (``jvp``/``vjp``/``vmap`` of the sub-jaxpr), so the rules
compose like any other.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from ..core.ir import ClosedJaxpr, Jaxpr, ShapedArray, Var, aval_of
from ..core.primitive import Primitive
from ..core.rules import (batch_size, cast_like, instantiate, move_to_front, shape_of,
                          zeros_like)
from ..core.staging import JaxprTrace, trace_to_jaxpr
from ..core.trace import Tracer, bind, current_trace, to_numpy_value
from ..interpreters.batching import vmap_flat
from ..interpreters.eval import eval_jaxpr
from ..interpreters.jvp import JVPTracer, jvp_flat
from ..interpreters.vjp import TapeTracer, vjp_flat
from ..numpy import _elementwise as E
from ..numpy import _reductions as R
from ..numpy import _shape as S
from ..tree_util import tree_flatten, tree_unflatten

Fun = Callable[..., Any]


# ---------------------------------------------------------------------------- helpers
def _underlying(x: Any) -> Any:
    """Strip differentiation tracers (they carry concrete values) down to what is left."""
    while isinstance(x, (TapeTracer, JVPTracer)):
        x = x.val if isinstance(x, TapeTracer) else x.primal
    return x


def _is_concrete(x: Any) -> bool:
    """True if Python can branch on ``x`` (not abstract, not batched)."""
    return not isinstance(_underlying(x), Tracer)


def _staging() -> bool:
    """True inside abstract tracing (make_jaxpr, jit): loops are then recorded as
    primitives rather than unrolled."""
    t: Any = current_trace()
    while t is not None:
        if isinstance(t, JaxprTrace):
            return True
        t = t.parent
    return False


def _trace(fun: Fun, leaves: Sequence[Any]) -> tuple[ClosedJaxpr, Any]:
    """Trace ``fun`` (flat leaves in, pytree out) to a jaxpr on the leaves' shapes."""
    out_tree: list[Any] = []

    def flat(*args: Any) -> list[Any]:
        out_leaves, tree = tree_flatten(fun(*args))
        out_tree.append(tree)
        return out_leaves

    closed = trace_to_jaxpr(flat, [aval_of(x) for x in leaves])
    return closed, out_tree[0]


def _with_consts_as_inputs(closed: ClosedJaxpr, before: Sequence[Any] = (),
                           after: Sequence[Any] = ()) -> Jaxpr:
    """A jaxpr taking ``[*before, *its consts, *after, *inputs]``, where ``before``
    and ``after`` are other sub-jaxprs' constants it ignores: several sub-jaxprs
    then share one operand list. Consts become operands, which is what lets
    transforms see closed-over traced values."""
    j = closed.jaxpr
    pad_before = [Var(aval_of(x)) for x in before]
    pad_after = [Var(aval_of(x)) for x in after]
    return Jaxpr([], pad_before + j.constvars + pad_after + j.invars, j.eqns, j.outvars)


def _run(jaxpr: Jaxpr, *args: Any) -> list[Any]:
    return [np.asarray(o) if type(o) in (bool, int, float, complex) else o  # literals
            for o in eval_jaxpr(jaxpr, [], *args)]


def _out_avals(jaxpr: Jaxpr) -> list[ShapedArray]:
    return [v.aval for v in jaxpr.outvars]


def _batch_in_front(vals: Sequence[Any], dims: Sequence[Any], size: int) -> list[Any]:
    """Loop carries with the batch axis in front, unbatched ones broadcast: a carry
    may become batched after one step, so it is batched from the start."""
    return [move_to_front(v, d) if d is not None else
            S.broadcast_to(v, (size,) + tuple(shape_of(v))) for v, d in zip(vals, dims)]


def _inexact(x: Any) -> bool:
    return np.result_type(x.dtype if isinstance(x, Tracer) else x).kind in "fc"


def _jvp_of(jaxpr: Jaxpr, primals: Sequence[Any], tangents: Sequence[Any]
            ) -> tuple[list[Any], list[Any]]:
    """A sub-jaxpr's outputs and output tangents, zeros instantiated (loop carries
    must be arrays); integer operands carry no tangent."""
    primals = [to_numpy_value(p) for p in primals]
    t_in = [cast_like(to_numpy_value(t), p) if _inexact(p) else None
            for p, t in zip(primals, tangents)]
    outs, t_outs = jvp_flat(lambda *a: _run(jaxpr, *a), primals, t_in)
    return outs, [zeros_like(o) if t is None else cast_like(t, o) for o, t in zip(outs, t_outs)]


def _vjp_of(jaxpr: Jaxpr, primals: Sequence[Any], cts: Sequence[Any]) -> list[Any]:
    """A sub-jaxpr's operand cotangents for output cotangents ``cts``, zeros
    instantiated; integer operands get zero cotangents."""
    primals = [to_numpy_value(p) for p in primals]
    _, pullback = vjp_flat(lambda *a: _run(jaxpr, *a), primals, [_inexact(p) for p in primals])
    in_cts = pullback([to_numpy_value(c) for c in cts])
    return [zeros_like(p) if c is None else c for p, c in zip(primals, in_cts)]


def _batched_run(jaxpr: Jaxpr, dims: Sequence[int | None], size: int) -> Fun:
    """A sub-jaxpr run on operands batched along ``dims``; outputs batched in front."""
    return lambda *ops: vmap_flat(lambda *a: _run(jaxpr, *a), ops, dims, size, 0)


# ---------------------------------------------------------------------------- cond / switch
def _cond_impl(index: Any, *args: Any, branches: tuple[Jaxpr, ...]) -> list[Any]:
    i = int(np.clip(index, 0, len(branches) - 1))
    return _run(branches[i], *args)


cond_p = Primitive("cond", _cond_impl, multiple_results=True)
cond_p.abstract_eval = lambda index, *args, branches: _out_avals(branches[0])


def _cond_jvp(tangents: Sequence[Any], ans: Any, args: Sequence[Any], params: dict) -> Any:
    index, ops = args[0], list(args[1:])
    t_ops = instantiate(tangents[1:], ops)
    fns = [lambda p, t, j=j: _jvp_of(j, p, t)[1] for j in params["branches"]]
    return switch(index, fns, ops, t_ops)


def _cond_vjp(ct: Any, ans: Any, args: Sequence[Any], params: dict,
              needs: Sequence[bool]) -> list[Any]:
    index, ops = args[0], list(args[1:])
    cts = instantiate(ct, ans)
    fns = [lambda p, c, j=j: _vjp_of(j, p, c) for j in params["branches"]]
    return [None] + list(switch(index, fns, ops, cts))


def _cond_batch(vals: Sequence[Any], dims: Sequence[Any], params: dict) -> tuple[Any, Any]:
    branches = params["branches"]
    index, ops, op_dims = vals[0], list(vals[1:]), list(dims[1:])
    size = batch_size(vals, dims)
    fns = [_batched_run(j, op_dims, size) for j in branches]
    if dims[0] is None:
        return switch(index, fns, *ops), [0] * len(_out_avals(branches[0]))
    # a batched index: every branch runs on the whole batch, then each member picks
    index = move_to_front(index, dims[0])
    results = [fn(*ops) for fn in fns]
    out = []
    for k in range(len(results[0])):
        acc = results[0][k]
        for j in range(1, len(results)):
            pick = S.reshape(E.equal(index, j), (size,) + (1,) * (len(shape_of(acc)) - 1))
            acc = E.where(pick, results[j][k], acc)
        out.append(acc)
    return out, [0] * len(out)


cond_p.jvp = _cond_jvp
cond_p.vjp = _cond_vjp
cond_p.batch = _cond_batch


def switch(index: Any, branches: Sequence[Fun], *operands: Any) -> Any:
    """Apply ``branches[index](*operands)``; ``index`` is clamped to the valid range."""
    branches = list(branches)
    if not branches:
        raise ValueError("switch needs at least one branch")
    if _is_concrete(index):
        i = int(np.clip(np.asarray(_underlying(index)), 0, len(branches) - 1))
        return branches[i](*operands)
    leaves, in_tree = tree_flatten(list(operands))
    traced = [_trace(lambda *a, b=b: b(*tree_unflatten(in_tree, list(a))), leaves)
              for b in branches]
    trees = [t for _, t in traced]
    if any(t != trees[0] for t in trees):
        raise TypeError(f"switch/cond branches must return the same structure, got {trees}")
    avals = [_out_avals(c.jaxpr) for c, _ in traced]
    if any([(a.shape, a.dtype) for a in av] != [(a.shape, a.dtype) for a in avals[0]]
           for av in avals):
        raise TypeError("switch/cond branches must return arrays of the same shapes and "
                        f"dtypes, got {avals}")
    consts = [c.consts for c, _ in traced]
    jaxprs = tuple(_with_consts_as_inputs(c, [x for cs in consts[:k] for x in cs],
                                          [x for cs in consts[k + 1:] for x in cs])
                   for k, (c, _) in enumerate(traced))
    index = E.clip(E.astype(index, np.int64), 0, len(branches) - 1)
    all_consts = [x for cs in consts for x in cs]
    outs = bind(cond_p, index, *all_consts, *leaves, branches=jaxprs)
    return tree_unflatten(trees[0], list(outs))


def cond(pred: Any, true_fun: Fun, false_fun: Fun, *operands: Any) -> Any:
    """``true_fun(*operands)`` if ``pred`` else ``false_fun(*operands)``.

    With a concrete ``pred`` this is a Python ``if``; with an abstract or batched one
    both branches are traced and a ``cond`` primitive is recorded.
    """
    if _is_concrete(pred):
        return true_fun(*operands) if bool(np.asarray(_underlying(pred))) else \
            false_fun(*operands)
    return switch(E.astype(pred, np.int64), [false_fun, true_fun], *operands)


def select(pred: Any, on_true: Any, on_false: Any) -> Any:
    """Elementwise choice, ``numpy.where(pred, on_true, on_false)``."""
    return E.where(pred, on_true, on_false)


# ---------------------------------------------------------------------------- while_loop
def _while_impl(*args: Any, cond: Jaxpr, body: Jaxpr, n_cond: int, n_body: int) -> list[Any]:
    cc, bc, carry = args[:n_cond], args[n_cond:n_cond + n_body], list(args[n_cond + n_body:])
    while bool(_run(cond, *cc, *carry)[0]):
        carry = _run(body, *bc, *carry)
    return [to_numpy_value(c) for c in carry]  # zero iterations: init may be literals


while_p = Primitive("while", _while_impl, multiple_results=True)
while_p.abstract_eval = lambda *args, cond, body, n_cond, n_body: _out_avals(body)


def _while_split(args: Sequence[Any], params: dict) -> tuple[list[Any], list[Any], list[Any]]:
    nc, nb = params["n_cond"], params["n_body"]
    return list(args[:nc]), list(args[nc:nc + nb]), list(args[nc + nb:])


def _while_jvp(tangents: Sequence[Any], ans: Any, args: Sequence[Any], params: dict) -> Any:
    cc, bc, init = _while_split(args, params)
    _, tbc, tinit = _while_split(instantiate(tangents, args), params)

    def cond_fun(carry: Any) -> Any:
        return _run(params["cond"], *cc, *carry[0])[0]

    def body_fun(carry: Any) -> Any:
        outs, t_outs = _jvp_of(params["body"], bc + list(carry[0]), tbc + list(carry[1]))
        return outs, t_outs

    return list(while_loop(cond_fun, body_fun, (init, tinit))[1])


def _while_vjp(ct: Any, ans: Any, args: Sequence[Any], params: dict,
               needs: Sequence[bool]) -> list[Any]:
    raise NotImplementedError(
        "Reverse-mode differentiation of xform.lax.while_loop is not supported: the "
        "number of iterations is not known ahead, so the forward values cannot be kept. "
        "Use xform.lax.fori_loop with static bounds or xform.lax.scan, which both "
        "differentiate in reverse mode.")


def _while_batch(vals: Sequence[Any], dims: Sequence[Any], params: dict) -> tuple[Any, Any]:
    cc, bc, init = _while_split(vals, params)
    ccd, bcd, initd = _while_split(dims, params)
    size = batch_size(vals, dims)
    init = _batch_in_front(init, initd, size)  # members may finish at different steps
    cond_b = _batched_run(params["cond"], list(ccd) + [0] * len(init), size)
    body_b = _batched_run(params["body"], list(bcd) + [0] * len(init), size)

    def cond_v(carry: Any) -> Any:
        return cond_b(*cc, *carry)[0]

    def cond_fun(carry: Any) -> Any:
        return R.any(cond_v(carry))

    def body_fun(carry: Any) -> Any:
        active = cond_v(carry)
        new = body_b(*bc, *carry)
        return [E.where(S.reshape(active, (size,) + (1,) * (len(shape_of(o)) - 1)), n, o)
                for n, o in zip(new, carry)]

    return list(while_loop(cond_fun, body_fun, init)), [0] * len(init)


while_p.jvp = _while_jvp
while_p.vjp = _while_vjp
while_p.batch = _while_batch


def _while_primitive(cond_fun: Fun, body_fun: Fun, init_val: Any) -> Any:
    leaves, tree = tree_flatten(init_val)
    rebuild = lambda *a: tree_unflatten(tree, list(a))  # noqa: E731
    cond_closed, _ = _trace(lambda *a: cond_fun(rebuild(*a)), leaves)
    body_closed, body_tree = _trace(lambda *a: body_fun(rebuild(*a)), leaves)
    if body_tree != tree:
        raise TypeError(f"while_loop body must return the structure of init_val {tree}, "
                        f"got {body_tree}")
    out_av = cond_closed.jaxpr.outvars[0].aval
    if out_av.shape != ():
        raise TypeError(f"while_loop cond_fun must return a scalar boolean, got {out_av}")
    nc, nb = len(cond_closed.consts), len(body_closed.consts)
    outs = bind(while_p, *cond_closed.consts, *body_closed.consts, *leaves,
                cond=_with_consts_as_inputs(cond_closed),
                body=_with_consts_as_inputs(body_closed), n_cond=nc, n_body=nb)
    return tree_unflatten(tree, list(outs))


def while_loop(cond_fun: Fun, body_fun: Fun, init_val: Any) -> Any:
    """``while cond_fun(val): val = body_fun(val)``; returns the final ``val``.

    Forward mode and vmap work everywhere; reverse mode works while the loop
    runs on concrete values and raises a clear error when it is staged (jit).
    """
    if _staging():
        return _while_primitive(cond_fun, body_fun, init_val)
    val = init_val
    while True:
        pred = cond_fun(val)
        if not _is_concrete(pred):
            return _while_primitive(cond_fun, body_fun, val)
        if not bool(np.asarray(_underlying(pred))):
            return val
        val = body_fun(val)


def fori_loop(lower: Any, upper: Any, body_fun: Fun, init_val: Any) -> Any:
    """``for i in range(lower, upper): val = body_fun(i, val)``.

    With concrete bounds it runs as a Python loop (or a ``scan`` when staged), so
    it differentiates in both modes; traced bounds make it a ``while_loop``.
    """
    if _is_concrete(lower) and _is_concrete(upper):
        lo, hi = int(_underlying(lower)), int(_underlying(upper))
        if not _staging():
            val = init_val
            for i in range(lo, hi):
                val = body_fun(i, val)
            return val
        carry, _ = scan(lambda c, i: (body_fun(i, c), None), init_val,
                        np.arange(lo, hi, dtype=np.int64))
        return carry
    out = while_loop(lambda c: E.less(c[0], upper), lambda c: (c[0] + 1, body_fun(*c)),
                     (lower, init_val))
    return out[1]


# ---------------------------------------------------------------------------- scan
def _scan_impl(*args: Any, body: Jaxpr, n_consts: int, n_carry: int, length: int,
               reverse: bool) -> list[Any]:
    consts = args[:n_consts]
    carry = list(args[n_consts:n_consts + n_carry])
    xs = args[n_consts + n_carry:]
    ys: list[list[Any]] = []
    for i in (range(length - 1, -1, -1) if reverse else range(length)):
        outs = _run(body, *consts, *carry, *[x[i] for x in xs])
        carry, y = outs[:n_carry], outs[n_carry:]
        ys.append(y)
    if reverse:
        ys.reverse()
    y_avals = _out_avals(body)[n_carry:]
    stacked = [S.stack([y[k] for y in ys]) if ys else np.zeros((0,) + av.shape, av.dtype)
               for k, av in enumerate(y_avals)]
    # a zero-length scan hands back its init, which may hold Python-scalar literals
    return [to_numpy_value(c) for c in carry] + stacked


scan_p = Primitive("scan", _scan_impl, multiple_results=True)


def _scan_shapes(*args: Any, body: Jaxpr, n_consts: int, n_carry: int, length: int,
                 reverse: bool) -> list[ShapedArray]:
    avals = _out_avals(body)
    return avals[:n_carry] + [ShapedArray((length,) + a.shape, a.dtype) for a in avals[n_carry:]]


scan_p.abstract_eval = _scan_shapes


def _scan_split(args: Sequence[Any], params: dict) -> tuple[list[Any], list[Any], list[Any]]:
    nk, nc = params["n_consts"], params["n_carry"]
    return list(args[:nk]), list(args[nk:nk + nc]), list(args[nk + nc:])


def _scan_jvp(tangents: Sequence[Any], ans: Any, args: Sequence[Any], params: dict) -> Any:
    consts, init, xs = _scan_split(args, params)
    tconsts, tinit, txs = _scan_split(instantiate(tangents, args), params)
    nc = params["n_carry"]

    def body(carry: Any, x: Any) -> Any:
        outs, t_outs = _jvp_of(params["body"], consts + list(carry[0]) + list(x[0]),
                                 tconsts + list(carry[1]) + list(x[1]))
        return (outs[:nc], t_outs[:nc]), (outs[nc:], t_outs[nc:])

    (_, t_carry), (_, t_ys) = scan(body, (init, tinit), (xs, txs), length=params["length"],
                                   reverse=params["reverse"])
    return list(t_carry) + list(t_ys)


def _scan_vjp(ct: Any, ans: Any, args: Sequence[Any], params: dict,
              needs: Sequence[bool]) -> list[Any]:
    consts, init, xs = _scan_split(args, params)
    nk, nc = len(consts), params["n_carry"]
    cts = instantiate(ct, ans)
    ct_carry, ct_ys = cts[:nc], cts[nc:]
    body_j = params["body"]

    def forward(carry: Any, x: Any) -> Any:  # the carries entering each step
        return _run(body_j, *consts, *carry, *x)[:nc], list(carry)

    _, carries = scan(forward, init, xs, length=params["length"], reverse=params["reverse"])

    def backward(acc: Any, inp: Any) -> Any:
        ct_c, ct_k = acc
        c_i, x_i, cty_i = inp
        g = _vjp_of(body_j, consts + list(c_i) + list(x_i), list(ct_c) + list(cty_i))
        return (g[nk:nk + nc], [a + b for a, b in zip(ct_k, g[:nk])]), g[nk + nc:]

    zeros_k = [zeros_like(c) for c in consts]
    (ct_init, ct_consts), ct_xs = scan(backward, (ct_carry, zeros_k), (carries, xs, ct_ys),
                                       length=params["length"], reverse=not params["reverse"])
    out = list(ct_consts) + list(ct_init) + list(ct_xs)
    return [c if n else None for c, n in zip(out, needs)]


def _scan_batch(vals: Sequence[Any], dims: Sequence[Any], params: dict) -> tuple[Any, Any]:
    consts, init, xs = _scan_split(vals, params)
    kd, cd, xd = _scan_split(dims, params)
    size = batch_size(vals, dims)
    nc = params["n_carry"]
    init = _batch_in_front(init, cd, size)
    xs = [v if d is None else S.moveaxis(v, d, 1) for v, d in zip(xs, xd)]
    x_axes = [None if d is None else 0 for d in xd]
    step = _batched_run(params["body"], list(kd) + [0] * nc + x_axes, size)

    def body(carry: Any, x: Any) -> Any:
        outs = step(*consts, *carry, *x)
        return outs[:nc], outs[nc:]

    carry, ys = scan(body, init, xs, length=params["length"], reverse=params["reverse"])
    return list(carry) + list(ys), [0] * nc + [1] * len(ys)


scan_p.jvp = _scan_jvp
scan_p.vjp = _scan_vjp
scan_p.batch = _scan_batch


def scan(f: Fun, init: Any, xs: Any = None, length: int | None = None,
         reverse: bool = False) -> tuple[Any, Any]:
    """``carry, y = f(carry, x)`` over the leading axis of ``xs``; returns
    ``(final carry, stacked ys)``. Differentiable in both modes, batchable."""
    x_leaves, x_tree = tree_flatten(xs)
    lengths = {shape_of(x)[0] for x in x_leaves}
    if length is not None:
        lengths.add(int(length))
    if len(lengths) != 1:
        raise ValueError(f"scan: xs leading axes and length disagree: {sorted(lengths)}"
                         if lengths else "scan: pass xs or length")
    n = lengths.pop()
    init_leaves, init_tree = tree_flatten(init)
    if not _staging() and n > 0:  # a length-0 scan is staged: ys need the traced shapes
        return _scan_python(f, init, x_leaves, x_tree, n, reverse)
    n_carry = len(init_leaves)
    slice_avals = [ShapedArray(shape_of(x)[1:], x.dtype if isinstance(x, Tracer)
                               else np.result_type(x)) for x in x_leaves]
    out_tree: list[Any] = []

    def flat_body(*a: Any) -> list[Any]:
        carry = tree_unflatten(init_tree, list(a[:n_carry]))
        x = tree_unflatten(x_tree, list(a[n_carry:]))
        new_carry, y = f(carry, x)
        c_leaves, c_tree = tree_flatten(new_carry)
        if c_tree != init_tree:
            raise TypeError(f"scan body must return a carry of the structure of init "
                            f"{init_tree}, got {c_tree}")
        y_leaves, y_tree = tree_flatten(y)
        out_tree.append(y_tree)
        return c_leaves + y_leaves

    closed = trace_to_jaxpr(flat_body, [aval_of(x) for x in init_leaves] + slice_avals)
    outs = bind(scan_p, *closed.consts, *init_leaves, *x_leaves,
                body=_with_consts_as_inputs(closed), n_consts=len(closed.consts),
                n_carry=n_carry, length=n, reverse=bool(reverse))
    carry = tree_unflatten(init_tree, list(outs[:n_carry]))
    return carry, tree_unflatten(out_tree[0], list(outs[n_carry:]))


def _scan_python(f: Fun, init: Any, x_leaves: list[Any], x_tree: Any, n: int,
                 reverse: bool) -> tuple[Any, Any]:
    carry = init
    ys = []
    for i in (range(n - 1, -1, -1) if reverse else range(n)):
        carry, y = f(carry, tree_unflatten(x_tree, [x[i] for x in x_leaves]))
        ys.append(tree_flatten(y))
    if reverse:
        ys.reverse()
    if not ys:
        return carry, None
    tree = ys[0][1]
    stacked = [S.stack([y[0][k] for y in ys]) for k in range(len(ys[0][0]))]
    return carry, tree_unflatten(tree, stacked)


def map(f: Fun, xs: Any) -> Any:  # noqa: A001 - JAX's name
    """``stack([f(x) for x in xs])`` as a scan."""
    return scan(lambda c, x: (c, f(x)), None, xs)[1]


# ---------------------------------------------------------------------------- XLA lowerings
# Structured control flow stays structured: lax.switch / while_loop / scan of the
# lowered sub-jaxprs (never unrolled). Loop carries take the types the IR gives them.
def _lower_cond(ctx: Any, index: Any, *args: Any, branches: tuple[Jaxpr, ...]) -> list[Any]:
    fns = [ctx.lower(b) for b in branches]
    return list(ctx.lax.switch(index, fns, *args))


def _lower_while(ctx: Any, *args: Any, cond: Jaxpr, body: Jaxpr, n_cond: int,
                 n_body: int) -> list[Any]:
    cc, bc = args[:n_cond], args[n_cond:n_cond + n_body]
    cond_fn, body_fn = ctx.lower(cond), ctx.lower(body)
    init = [ctx.coerce(x, a) for x, a in zip(args[n_cond + n_body:], _out_avals(body))]
    return list(ctx.lax.while_loop(lambda c: cond_fn(*cc, *c)[0],
                                   lambda c: body_fn(*bc, *c), init))


def _lower_scan(ctx: Any, *args: Any, body: Jaxpr, n_consts: int, n_carry: int, length: int,
                reverse: bool) -> list[Any]:
    consts, xs = args[:n_consts], list(args[n_consts + n_carry:])
    body_fn = ctx.lower(body)
    init = [ctx.coerce(x, a) for x, a in zip(args[n_consts:n_consts + n_carry],
                                             _out_avals(body)[:n_carry])]

    def step(carry: list[Any], x: list[Any]) -> tuple[list[Any], list[Any]]:
        outs = body_fn(*consts, *carry, *x)
        return outs[:n_carry], outs[n_carry:]

    carry, ys = ctx.lax.scan(step, init, xs, length=length, reverse=reverse)
    return list(carry) + list(ys)


cond_p.lower = _lower_cond
while_p.lower = _lower_while
scan_p.lower = _lower_scan
