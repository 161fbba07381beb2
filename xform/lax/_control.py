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

import contextlib
import functools
import sys
import threading
from typing import Any, Callable, Sequence, cast

import numpy as np

from ..core.emit import Bind, Writer
from ..core.ir import (Atom, ClosedJaxpr, Eqn, Jaxpr, ShapedArray, Var, aval_of, live_vars,
                       without_effects)
from ..core.primitive import Primitive
from ..core.rules import (batch_size, cast_like, instantiate, move_to_front, shape_of,
                          zeros_like)
from ..core.staging import JaxprTrace, trace_to_jaxpr
from ..core.arrays import zeros
from ..core.trace import CustomCall, Tracer, bind, bind_custom, current_trace, to_numpy_value
from ..interpreters.batching import vmap_flat
from ..interpreters.eval import eval_jaxpr
from ..interpreters.jvp import JVPTracer, jvp_flat
from ..interpreters.vjp import TapeTracer, vjp_flat
from ..numpy import _elementwise as E
from ..numpy import _reductions as R
from ..numpy import _shape as S
from ..tree_util import keystr, tree_flatten, tree_leaves_with_path, tree_unflatten

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


# ---------------------------------------------------------------------------- carry types
_PY_SCALARS = (bool, int, float, complex)


class _Carry:
    """The type of a loop carry (pytree structure, each leaf's shape and dtype), to check
    that every step hands back a carry of the same type: ``check(out)`` raises a
    TypeError naming the first mismatch. A Python-scalar leaf of the initial carry is
    weakly typed, as in JAX: the body may return it promoted (``0`` becoming float64
    after ``c + 1.5``), and the promoted type is the carry's type from then on."""

    __slots__ = ("who", "what", "tree", "avals", "weak", "init")

    def __init__(self, who: str, what: str, init: Any) -> None:
        self.who, self.what, self.init = who, what, init
        leaves, self.tree = tree_flatten(init)
        self.avals = [aval_of(x) for x in leaves]
        self.weak = [type(x) in _PY_SCALARS for x in leaves]

    def check(self, out: Any) -> list[int]:
        """Check ``out`` (a pytree) against the carry type; returns the indices of weak
        leaves that ``out`` promoted (their type is updated)."""
        leaves, tree = tree_flatten(out)
        if tree != self.tree:
            raise TypeError(
                f"{self.who}: {self.what} must return a carry of the same pytree structure "
                f"as its input, {self.tree}, but returned {tree}. Return the carry with the "
                "same containers and keys (None for a missing entry is a different "
                "structure).")
        promoted = []
        for k, (x, want) in enumerate(zip(leaves, self.avals)):
            got = aval_of(x)
            if got == want:
                continue
            if (self.weak[k] and got.shape == want.shape
                    and np.result_type(got.dtype, self.init_leaf(k)) == got.dtype):
                self.avals[k], self.weak[k] = got, False
                promoted.append(k)
                continue
            self.raise_mismatch(k, want, got)
        return promoted

    def promoted_init(self, indices: Sequence[int]) -> Any:
        """The initial carry with its weak leaves at ``indices`` promoted."""
        leaves = _promote(tree_flatten(self.init)[0], self, indices)
        self.init = tree_unflatten(self.tree, leaves)
        return self.init

    def init_leaf(self, k: int) -> Any:
        return tree_flatten(self.init)[0][k]

    def raise_mismatch(self, k: int, want: ShapedArray, got: ShapedArray) -> None:
        path = tree_leaves_with_path(self.init)[k][0]
        where = f"carry{keystr(path)}" if path else "the carry"
        differ = _differ(want, got)
        fix = ("initialise the carry with the dtype the body produces (e.g. 0.0 "
               "rather than 0, or x.astype(...))" if differ == "dtypes" else
               "keep every carried array's shape fixed from step to step (a growing "
               "result belongs in scan's stacked outputs)")
        if self.what.startswith("the body (its y"):
            raise TypeError(
                f"{self.who}: the body must return ys of the same type at every step "
                f"(they are stacked), but y{keystr(path)} is {want.str_short()} at the "
                f"first step and {got.str_short()} at a later one (the {differ} differ).")
        raise TypeError(
            f"{self.who}: {self.what} must return a carry of the same type as its input, "
            f"but {where} enters as {want.str_short()} and comes back as "
            f"{got.str_short()} (the {differ} differ). Change the body or {fix}.")


def _differ(want: ShapedArray, got: ShapedArray) -> str:
    """Which of shape and dtype two avals disagree on, for messages."""
    shape, dtype = want.shape != got.shape, want.dtype != got.dtype
    return "shapes and dtypes" if shape and dtype else "shapes" if shape else "dtypes"


def _promote(leaves: list[Any], carry: _Carry, indices: Sequence[int]) -> list[Any]:
    """The initial carry leaves with the weakly typed ones at ``indices`` cast to the
    type the body gave them."""
    leaves = list(leaves)
    for k in indices:
        leaves[k] = np.asarray(leaves[k], dtype=carry.avals[k].dtype)
    return leaves


def _batched_run(jaxpr: Jaxpr, dims: Sequence[int | None], size: int) -> Fun:
    """A sub-jaxpr run on operands batched along ``dims``; outputs batched in front."""
    return lambda *ops: vmap_flat(lambda *a: _run(jaxpr, *a), ops, dims, size, 0)


def _writer(bind: Bind, prim: str) -> Writer:
    if not hasattr(bind, "block"):
        raise TypeError(f"the jit emitter of `{prim}` writes statements: call it from "
                        "xform.jit's code generation, which passes a Writer as `bind`")
    return cast(Writer, bind)


def _assign(w: Writer, names: Sequence[str], values: Sequence[str]) -> None:
    if names:
        w.line(f"{', '.join(names)} = {', '.join(values)}")


def _as_array(w: Writer, source: str) -> str:
    # a loop that runs zero times hands back its init, which may be a Python scalar
    return f"{w(np.asarray)}({source})"


def _tuple(names: Sequence[str]) -> str:
    return f"({', '.join(names)}{',' if len(names) == 1 else ''})"


# ---------------------------------------------------------------------------- cond / switch
def _cond_impl(index: Any, *args: Any, branches: tuple[Jaxpr, ...]) -> list[Any]:
    i = int(np.clip(index, 0, len(branches) - 1))
    return _run(branches[i], *args)


cond_p = Primitive("cond", _cond_impl, multiple_results=True)
cond_p.abstract_eval = lambda index, *args, branches: _out_avals(branches[0])


def _cond_jvp(tangents: Sequence[Any], ans: Any, args: Sequence[Any], params: dict) -> Any:
    index, ops = args[0], list(args[1:])
    t_ops = instantiate(tangents[1:], ops)
    # the primal branch has run (and printed): the tangent branch stays quiet
    fns = [lambda p, t, j=j: _jvp_of(without_effects(j), p, t)[1] for j in params["branches"]]
    return switch(index, fns, ops, t_ops)


def _cond_vjp(ct: Any, ans: Any, args: Sequence[Any], params: dict,
              needs: Sequence[bool]) -> list[Any]:
    index, ops = args[0], list(args[1:])
    cts = instantiate(ct, ans)
    fns = [lambda p, c, j=j: _vjp_of(without_effects(j), p, c) for j in params["branches"]]
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


def _cond_emit(args: list[str], params: dict, bind: Bind) -> str:
    """``if``/``elif``/``else`` over the (clamped) index, each branch written inline."""
    w = _writer(bind, "cond")
    branches = params["branches"]
    outs = [w.fresh() for _ in branches[0].outvars]
    index = w.fresh()
    w.line(f"{index} = int({args[0]})")
    for k, branch in enumerate(branches):
        if len(branches) > 1:
            w.line("else:" if k == len(branches) - 1 else
                   f"{'if' if k == 0 else 'elif'} {index} {'<=' if k == 0 else '=='} {k}:")
        with w.indented() if len(branches) > 1 else contextlib.nullcontext():
            _assign(w, outs, w.block(branch, args[1:]).write())
            if not outs:  # a branch kept for its effect, or left empty
                w.line("pass")
    return _tuple(outs)


def _cond_prune(used: list[bool], params: dict) -> tuple[list[int], dict, list[int]] | None:
    """The branches without the results no one uses and the operands none reads."""
    branches = params["branches"]
    pruned = [live_vars(b.eqns, [o for o, u in zip(b.outvars, used) if u]) for b in branches]
    reads = [any(b.invars[i] in live for b, (live, _) in zip(branches, pruned))
             for i in range(len(branches[0].invars))]
    if all(used) and all(reads):
        return None
    ops = [i for i, r in enumerate(reads) if r]
    new = tuple(Jaxpr([], [b.invars[i] for i in ops], eqns,
                      [o for o, u in zip(b.outvars, used) if u])
                for b, (_, eqns) in zip(branches, pruned))
    where, k = [], 0
    for u in used:
        where.append(k if u else -1)
        k += u
    return [0] + [1 + i for i in ops], {**params, "branches": new}, where


cond_p.jvp = _cond_jvp
cond_p.vjp = _cond_vjp
cond_p.prune = _cond_prune
cond_p.batch = _cond_batch
cond_p.emit = _cond_emit


def switch(index: Any, branches: Sequence[Fun], *operands: Any) -> Any:
    """Apply ``branches[index](*operands)``; ``index`` is clamped to the valid range.

    When ``index`` is abstract or batched every branch is traced, and they must return
    the same pytree structure, shapes and dtypes (a TypeError names the mismatch).

    Args:
        index: an integer scalar (traced or not); clamped to ``[0, len(branches) - 1]``.
        branches: the functions to choose from.
        *operands: their arguments.

    Returns:
        The chosen branch's output.

    >>> import xform, xform.numpy as np
    >>> xform.lax.switch(1, [np.sin, np.cos, np.tanh], 0.0).item()
    1.0
    """
    return _switch(index, branches, operands, "switch", None)


def _switch(index: Any, branches: Sequence[Fun], operands: Sequence[Any], who: str,
            branch_names: list[str] | None) -> Any:
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
    names = branch_names or [f"branch {k}" for k in range(len(branches))]
    for k, t in enumerate(trees):
        if t != trees[0]:
            raise TypeError(
                f"{who}: every branch must return the same pytree structure, but "
                f"{names[0]} returns {trees[0]} and {names[k]} returns {t}.")
    avals = [_out_avals(c.jaxpr) for c, _ in traced]
    for k, av in enumerate(avals):
        for i, (a, b) in enumerate(zip(avals[0], av)):
            if a != b:
                raise TypeError(
                    f"{who}: every branch must return the same types, but output leaf {i} "
                    f"is {a.str_short()} from {names[0]} and {b.str_short()} from "
                    f"{names[k]} (the {_differ(a, b)} differ). Make the branches agree (e.g. with .astype(...) or "
                    "xform.numpy.broadcast_to).")
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

    Args:
        pred: a boolean scalar (a traced one under jit or vmap).
        true_fun: called with ``*operands`` when ``pred`` holds.
        false_fun: called with ``*operands`` otherwise; same output types as ``true_fun``.
        *operands: the branches' arguments (pytrees).

    Returns:
        The chosen branch's output.

    >>> import xform, xform.numpy as np
    >>> f = xform.jit(lambda x: xform.lax.cond(x > 0, np.sin, np.cos, x))
    >>> float(f(0.0)), float(xform.grad(f)(0.0))
    (1.0, -0.0)
    """
    if _is_concrete(pred):
        return true_fun(*operands) if bool(np.asarray(_underlying(pred))) else \
            false_fun(*operands)
    return _switch(E.astype(pred, np.int64), [false_fun, true_fun], operands, "cond",
                   ["false_fun", "true_fun"])


def select(pred: Any, on_true: Any, on_false: Any) -> Any:
    """Elementwise choice, ``numpy.where(pred, on_true, on_false)``.

    Args:
        pred: a boolean array.
        on_true: values where ``pred`` holds.
        on_false: values elsewhere (same shape and dtype as ``on_true``).

    Returns:
        The elementwise choice.

    >>> import xform, xform.numpy as np
    >>> xform.lax.select(np.array([True, False]), np.ones(2), np.zeros(2)).tolist()
    [1.0, 0.0]
    """
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

    # the primal loop has run (and printed): this one, for the tangents, stays quiet
    cond, body = without_effects(params["cond"]), without_effects(params["body"])

    def cond_fun(carry: Any) -> Any:
        return _run(cond, *cc, *carry[0])[0]

    def body_fun(carry: Any) -> Any:
        outs, t_outs = _jvp_of(body, bc + list(carry[0]), tbc + list(carry[1]))
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


def _while_emit(args: list[str], params: dict, bind: Bind) -> str:
    """``while True:`` with the condition and the body written inline. Nothing is
    hoisted: the loop may run zero times, and work moved out of it would then run
    (and could fail) where the interpreted loop does not."""
    w = _writer(bind, "while")
    nc, nb = params["n_cond"], params["n_body"]
    cc, bc, init = args[:nc], args[nc:nc + nb], args[nc + nb:]
    carry = [w.fresh() for _ in init]
    _assign(w, carry, [_as_array(w, a) for a in init])
    cond = w.block(params["cond"], cc + carry)
    body = w.block(params["body"], bc + carry)
    w.line("while True:")
    with w.indented():
        w.line(f"if not {cond.write()[0]}:")
        with w.indented():
            w.line("break")
        _assign(w, carry, body.write())
    return _tuple(carry)


def _while_prune(used: list[bool], params: dict) -> tuple[list[int], dict, list[int]] | None:
    """The loop without the carries that neither a used result, the condition nor a
    kept computation of the body reads, and without the constants no longer read."""
    cond, body = params["cond"], params["body"]
    nc, nb = params["n_cond"], params["n_body"]
    cond_live, cond_eqns = live_vars(cond.eqns, cond.outvars)
    keep = [u or v in cond_live for u, v in zip(used, cond.invars[nc:])]
    while True:
        live, eqns = live_vars(body.eqns, [o for o, k in zip(body.outvars, keep) if k])
        more = [k or v in live for v, k in zip(body.invars[nb:], keep)]
        if more == keep:
            break
        keep = more
    if all(keep) and all(v in cond_live for v in cond.invars[:nc]) and all(
            v in live for v in body.invars[:nb]):
        return None
    cond_k = [i for i in range(nc) if cond.invars[i] in cond_live]
    body_k = [i for i in range(nb) if body.invars[i] in live]
    carry_k = [i for i, k in enumerate(keep) if k]
    new_cond = Jaxpr([], [cond.invars[i] for i in cond_k]
                     + [cond.invars[nc + i] for i in carry_k], cond_eqns, cond.outvars)
    new_body = Jaxpr([], [body.invars[i] for i in body_k]
                     + [body.invars[nb + i] for i in carry_k], eqns,
                     [body.outvars[i] for i in carry_k])
    where = [carry_k.index(i) if k else -1 for i, k in enumerate(keep)]
    kept = cond_k + [nc + i for i in body_k] + [nc + nb + i for i in carry_k]
    return kept, {**params, "cond": new_cond, "body": new_body, "n_cond": len(cond_k),
                  "n_body": len(body_k)}, where


while_p.jvp = _while_jvp
while_p.vjp = _while_vjp
while_p.prune = _while_prune
while_p.batch = _while_batch
while_p.emit = _while_emit


def _while_primitive(cond_fun: Fun, body_fun: Fun, init_val: Any,
                     who: str = "while_loop") -> Any:
    leaves, tree = tree_flatten(init_val)
    rebuild = lambda *a: tree_unflatten(tree, list(a))  # noqa: E731
    carry = _Carry(who, "body_fun", init_val)

    def checked_body(*a: Any) -> Any:
        out = body_fun(rebuild(*a))
        promoted.extend(carry.check(out))
        return out

    promoted: list[int] = []
    body_closed, _ = _trace(checked_body, leaves)
    if promoted:  # weakly typed init leaves the body promotes: trace again, promoted
        leaves = _promote(leaves, carry, promoted)
        carry = _Carry(who, "body_fun", tree_unflatten(tree, leaves))
        promoted = []
        body_closed, _ = _trace(checked_body, leaves)
    cond_closed, _ = _trace(lambda *a: cond_fun(rebuild(*a)), leaves)
    out_av = cond_closed.jaxpr.outvars[0].aval
    if out_av.shape != ():
        raise TypeError(f"{who}: cond_fun must return a scalar boolean, got "
                        f"{out_av.str_short()}")
    nc, nb = len(cond_closed.consts), len(body_closed.consts)
    outs = bind(while_p, *cond_closed.consts, *body_closed.consts, *leaves,
                cond=_with_consts_as_inputs(cond_closed),
                body=_with_consts_as_inputs(body_closed), n_cond=nc, n_body=nb)
    return tree_unflatten(tree, list(outs))


def while_loop(cond_fun: Fun, body_fun: Fun, init_val: Any) -> Any:
    """``while cond_fun(val): val = body_fun(val)``; returns the final ``val``.

    Forward mode and vmap work everywhere; reverse mode works while the loop
    runs on concrete values and raises a clear error when it is staged (jit).
    ``body_fun`` must return a value of the type of ``init_val`` (pytree structure,
    shapes, dtypes; a Python scalar may be promoted), else a TypeError names the leaf.

    Args:
        cond_fun: ``val -> bool`` scalar.
        body_fun: ``val -> val`` of the same type.
        init_val: the first ``val`` (a pytree).

    Returns:
        The final ``val``.

    >>> import xform
    >>> xform.lax.while_loop(lambda v: v < 10, lambda v: v * 2, 1)
    16
    """
    return _while(cond_fun, body_fun, init_val, "while_loop")


def _while(cond_fun: Fun, body_fun: Fun, init_val: Any, who: str) -> Any:
    if _staging():
        return _while_primitive(cond_fun, body_fun, init_val, who)
    val = init_val
    carry = _Carry(who, "body_fun", init_val)
    while True:
        pred = cond_fun(val)
        if not _is_concrete(pred):
            return _while_primitive(cond_fun, body_fun, val, who)
        if not bool(np.asarray(_underlying(pred))):
            return val
        new = body_fun(val)
        promoted = carry.check(new)
        # a weakly typed init the first step promoted: start again from it promoted
        val = carry.promoted_init(promoted) if promoted else new


def fori_loop(lower: Any, upper: Any, body_fun: Fun, init_val: Any) -> Any:
    """``for i in range(lower, upper): val = body_fun(i, val)``.

    With concrete bounds it runs as a Python loop (or a ``scan`` when staged), so
    it differentiates in both modes; traced bounds make it a ``while_loop``.

    Args:
        lower: the first ``i``.
        upper: one past the last ``i``.
        body_fun: ``(i, val) -> val`` of the same type.
        init_val: the first ``val`` (a pytree).

    Returns:
        The final ``val``.

    >>> import xform
    >>> float(xform.grad(lambda x: xform.lax.fori_loop(0, 3, lambda i, v: v * x, 1.0))(2.0))
    12.0
    """
    if _is_concrete(lower) and _is_concrete(upper):
        lo, hi = int(_underlying(lower)), int(_underlying(upper))
        if not _staging():
            val = init_val
            carry = _Carry("fori_loop", "body_fun", init_val)
            i = lo
            while i < hi:
                new = body_fun(i, val)
                promoted = carry.check(new)
                if promoted:  # start again from the weakly typed init, promoted
                    val = carry.promoted_init(promoted)
                    continue
                val, i = new, i + 1
            return val
        carry_out, _ = _scan(lambda c, i: (body_fun(i, c), None), init_val,
                             np.arange(lo, hi, dtype=np.int64), None, False, "fori_loop")
        return carry_out
    out = _while(lambda c: E.less(c[0], upper), lambda c: (c[0] + 1, body_fun(*c)),
                 (lower, init_val), "fori_loop")
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
    # the primal loop has run (and printed): this one, for the tangents, stays quiet
    return _scan_jvp_both(tangents, args, params, quiet=True)[1]


def _scan_jvp_both(tangents: Sequence[Any], args: Sequence[Any], params: dict,
                   quiet: bool = False) -> tuple[list[Any], list[Any]]:
    """The scan's outputs and their tangents, from one loop (without the body's prints
    if ``quiet``: where the primal loop has run already)."""
    consts, init, xs = _scan_split(args, params)
    tconsts, tinit, txs = _scan_split(instantiate(tangents, args), params)
    nc = params["n_carry"]
    step = without_effects(params["body"]) if quiet else params["body"]

    def body(carry: Any, x: Any) -> Any:
        outs, t_outs = _jvp_of(step, consts + list(carry[0]) + list(x[0]),
                                 tconsts + list(carry[1]) + list(x[1]))
        return (outs[:nc], t_outs[:nc]), (outs[nc:], t_outs[nc:])

    (carry, t_carry), (ys, t_ys) = scan(body, (init, tinit), (xs, txs),
                                        length=params["length"], reverse=params["reverse"])
    return list(carry) + list(ys), list(t_carry) + list(t_ys)


class _ScanLinearized:
    """A scan body's reverse step split by partial evaluation: ``forward`` (the body
    plus the residuals the backward step needs, as extra stacked outputs) runs in the
    forward loop, ``backward`` (only the equations that read cotangents) in the
    reverse loop, so no step of the forward pass is ever run again.

    The split is made on the traced reverse step ``(consts, carry, x, ct_carry', ct_y)
    -> (carry', y, ct_consts, ct_carry, ct_x)``: an equation is forward when it reads
    no cotangent. A residual is then one of the loop's constants, or computed from
    constants only (computed once, outside the loops), or an ``x`` slice (``xs`` is
    read again), or per step (stacked by the forward loop: the entering carry, the
    body's intermediates)."""

    def __init__(self, body: Jaxpr, nk: int, nc: int) -> None:
        n_in = len(body.invars)
        primal_avals = [v.aval for v in body.invars]
        ct_avals = [v.aval for v in body.outvars]

        def step(*a: Any) -> list[Any]:
            primals, cts = list(a[:n_in]), list(a[n_in:])
            outs, pullback = vjp_flat(lambda *q: _run(body, *q), primals,
                                      [_inexact(p) for p in primals])
            in_cts = pullback(cts)
            return list(outs) + [zeros_like(p) if c is None else c
                                 for p, c in zip(primals, in_cts)]

        closed = trace_to_jaxpr(step, primal_avals + ct_avals)
        j = closed.jaxpr
        primal_in = j.invars[:n_in]
        known: set[Var] = set(j.constvars) | set(primal_in)
        invariant: set[Var] = set(j.constvars) | set(primal_in[:nk])
        fwd_eqns, bwd_eqns = [], []
        for eqn in j.eqns:
            reads = [a for a in eqn.invars if isinstance(a, Var)]
            if all(a in known for a in reads):
                fwd_eqns.append(eqn)
                known.update(eqn.outvars)
                if all(a in invariant for a in reads):
                    invariant.update(eqn.outvars)
            else:
                bwd_eqns.append(eqn)
        n_out = len(body.outvars)
        primal_out, ct_out = j.outvars[:n_out], j.outvars[n_out:]
        needed: list[Var] = []
        for a in [a for e in bwd_eqns for a in e.invars] + list(ct_out):
            if isinstance(a, Var) and a in known and a not in needed:
                needed.append(a)
        xs_in = primal_in[nk + nc:]
        self.const_res = [v for v in needed if v in invariant]
        self.x_res = [v for v in needed if v in xs_in]
        self.step_res = [v for v in needed if v not in invariant and v not in xs_in]
        self.consts = closed.consts
        # forward: (closed consts, consts, carry, x) -> (carry', y, per-step residuals)
        self.forward = _pruned(list(j.constvars) + list(primal_in), fwd_eqns,
                               list(primal_out) + self.step_res, effects=True)
        # the residuals made of constants only, from (closed consts, consts)
        self.invariant = _pruned(list(j.constvars) + list(primal_in[:nk]), fwd_eqns,
                                 self.const_res)
        # backward: (constant residuals, per-step residuals, x residuals,
        #            ct_carry', ct_y) -> (ct_consts, ct_carry, ct_x)
        self.backward = _pruned(self.const_res + self.step_res + self.x_res
                                + list(j.invars[n_in:]), bwd_eqns, list(ct_out))
        self.x_index = [xs_in.index(v) for v in self.x_res]


def _pruned(invars: list[Var], eqns: list[Eqn], outvars: list[Any],
            effects: bool = False) -> Jaxpr:
    """The jaxpr of the equations that ``outvars`` need (in order), and with
    ``effects`` those with an effect: a print in the body runs in the forward loop,
    once per step, as the primal loop would."""
    return Jaxpr([], invars, live_vars(eqns, outvars, effects)[1], outvars)


def _scan_forward(args: Sequence[Any], params: dict, quiet: bool = False
                  ) -> tuple[list[Any], tuple[Any, ...]]:
    """The scan's outputs from the forward loop of its reverse mode, which also stacks
    the residuals the backward loop reads: ``(outs, saved)`` for :func:`_scan_backward`
    (without the body's prints if ``quiet``: where the primal loop has run already)."""
    consts, init, xs = _scan_split(args, params)
    nk, nc = len(consts), params["n_carry"]
    lin = _ScanLinearized(without_effects(params["body"]) if quiet else params["body"], nk, nc)
    const_res = _run(lin.invariant, *lin.consts, *consts)

    def forward(carry: Any, x: Any) -> Any:
        outs = _run(lin.forward, *lin.consts, *consts, *carry, *x)
        return outs[:nc], outs[nc:]

    carry, stacked = scan(forward, list(init), list(xs), length=params["length"],
                          reverse=params["reverse"])
    n_y = len(params["body"].outvars) - nc
    outs = list(carry) + list(stacked[:n_y])
    return outs, (lin, const_res, list(stacked[n_y:]), [xs[i] for i in lin.x_index], outs)


def _scan_backward(saved: tuple[Any, ...], ct: Any, args: Sequence[Any], params: dict,
                   needs: Sequence[bool]) -> list[Any]:
    """The reverse loop: operand cotangents from the residuals of :func:`_scan_forward`."""
    lin, const_res, step_res, x_res, ans = saved
    consts, _, _ = _scan_split(args, params)
    nk, nc = len(consts), params["n_carry"]
    cts = instantiate(ct, ans)
    ct_carry, ct_ys = cts[:nc], cts[nc:]
    # only the cotangents asked for: most loop constants (closed-over arrays) need none,
    # and each would cost an add per step
    n_x = len(needs) - nk - nc
    want_k = [i for i in range(nk) if needs[i]]
    want_x = [i for i in range(n_x) if needs[nk + nc + i]]
    full = lin.backward
    outs = ([full.outvars[i] for i in want_k] + full.outvars[nk:nk + nc]
            + [full.outvars[nk + nc + i] for i in want_x])
    step = _pruned(full.invars, full.eqns, outs)
    nw = len(want_k)

    def backward(acc: Any, inp: Any) -> Any:
        ct_c, ct_k = acc
        res, cty = inp
        g = _run(step, *const_res, *res, *ct_c, *cty)
        return (g[nw:nw + nc], [a + b for a, b in zip(ct_k, g[:nw])]), g[nw + nc:]

    zeros_k = [zeros_like(consts[i]) for i in want_k]
    (ct_init, ct_consts), ct_xs = scan(backward, (ct_carry, zeros_k),
                                       (list(step_res) + x_res, ct_ys),
                                       length=params["length"], reverse=not params["reverse"])
    out: list[Any] = [None] * len(needs)
    for i, c in zip(want_k, ct_consts):
        out[i] = c
    out[nk:nk + nc] = [c if need else None for c, need in zip(ct_init, needs[nk:nk + nc])]
    for i, c in zip(want_x, ct_xs):
        out[nk + nc + i] = c
    return out


def _scan_vjp(ct: Any, ans: Any, args: Sequence[Any], params: dict,
              needs: Sequence[bool]) -> list[Any]:
    # a scan equation recorded as it is (a staged program run under grad): its forward
    # loop runs again here. ``scan`` itself records a _ScanCall instead, which runs the
    # forward loop once, saving the residuals as it goes.
    _, saved = _scan_forward(args, params, quiet=True)
    return _scan_backward(saved, ct, args, params, needs)


class _ScanCall(CustomCall):
    """A staged scan applied to values that reverse mode records: on the tape its
    forward loop is the one that saves residuals, so the primal loop never runs twice
    (once for the outputs, again for the residuals). Every other transform gets the
    scan primitive and its rules."""

    __slots__ = ("params",)
    name = "scan"

    def __init__(self, params: dict) -> None:
        self.params = params

    def fun(self, *args: Any) -> list[Any]:
        return bind(scan_p, *args, **self.params)

    def stage(self, args: Sequence[Any]) -> list[Any]:
        return bind(scan_p, *args, **self.params)

    def jvp(self, primals: Sequence[Any], tangents: Sequence[Any]) -> tuple[list[Any], list[Any]]:
        return _scan_jvp_both(tangents, primals, self.params)

    def reverse(self, primals: Sequence[Any], needs: Sequence[bool]) -> tuple[list[Any], Any, Any]:
        params = self.params
        outs, saved = _scan_forward(primals, params)
        return (outs,
                lambda cts, needs: _scan_backward(saved, cts, primals, params, needs),
                lambda tangents: _scan_jvp_both(tangents, primals, params, quiet=True)[1])

    def batch(self, vals: Sequence[Any], dims: Sequence[int | None]) -> list[Any]:
        outs, out_dims = _scan_batch(vals, dims, self.params)
        return [o if d == 0 else S.moveaxis(o, d, 0) for o, d in zip(outs, out_dims)]


def _bind_scan(args: Sequence[Any], params: dict) -> list[Any]:
    if any(isinstance(a, TapeTracer) for a in args):
        return bind_custom(_ScanCall(params), args)
    return bind(scan_p, *args, **params)


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


#: the largest stacked-output buffer that a compiled scan keeps for its next call
_REUSED_BUFFER_BYTES = 16 << 20
#: the largest per-step value that a compiled scan may keep in a list of the steps'
#: values instead of a stacked buffer (see _scan_emit)
_LISTED_STEP_BYTES = 1024


class _ReusedBuffer:
    """One stacked output of one compiled scan: the array of the last call, handed out
    again when nothing else holds it (no result, view or running call: its reference
    count says so), else a new one. Reverse mode stacks its residuals this way: fresh
    arrays of a few hundred KB each call cost page faults (the allocator gives freed
    memory back to the system at the end of every call), ~25% of a fluid gradient."""

    __slots__ = ("shape", "dtype", "array", "lock")

    def __init__(self, shape: tuple[int, ...], dtype: np.dtype) -> None:
        self.shape, self.dtype = shape, dtype
        self.array: np.ndarray | None = None
        self.lock = threading.Lock()

    def take(self) -> np.ndarray:
        with self.lock:
            array = self.array
            # held by this object, the local name and getrefcount's argument only
            if array is not None and sys.getrefcount(array) == 3:
                return array
            array = self.array = np.empty(self.shape, self.dtype)
            return array


def _own_step_value(y: Any) -> Any:
    """A step's value as a listed scan output keeps it: a view is copied, so that it
    does not keep a larger array alive (values may be Python or NumPy scalars)."""
    return y.copy() if getattr(y, "base", None) is not None else y


def _scan_emit(args: list[str], params: dict, bind: Bind) -> str:
    """A ``for`` loop over the steps with the body written inline: the work that depends
    only on the loop's constants is hoisted out of it (when it runs at all), slices of
    ``xs`` are read only where the body uses them, and the stacked outputs are written
    into buffers allocated once."""
    w = _writer(bind, "scan")
    nk, nc, n = params["n_consts"], params["n_carry"], params["length"]
    body_j: Jaxpr = params["body"]
    consts, init, xs = args[:nk], args[nk:nk + nc], args[nk + nc:]
    carry = [w.fresh() for _ in init]
    _assign(w, carry, init if n else [_as_array(w, a) for a in init])
    ys = [w.fresh() for _ in body_j.outvars[nc:]]
    # the stacked outputs' buffers: of the array kind the program runs on, or where only
    # later loops read them step by step and each step's value is small, a list of the
    # steps' values (no copy into a stack, no slice out of it: ~0.3 us a step and value;
    # larger values are better copied into a reused buffer: kept alive, a fresh array
    # each step costs new memory and page faults, which made the fluid gradient slower)
    like, eqn = w.like, w.eqn
    listed = [eqn is not None and v.aval.size * v.aval.dtype.itemsize <= _LISTED_STEP_BYTES
              and w.stacks_as_list(eqn.outvars[nc + k])
              for k, v in enumerate(body_j.outvars[nc:])]
    for buf, v, to_list in zip(ys, body_j.outvars[nc:], listed):
        shape, dtype = (n,) + tuple(v.aval.shape), v.aval.dtype
        if to_list:
            w.line(f"{buf} = [None] * {n}")
        elif like is None and n * v.aval.size * dtype.itemsize <= _REUSED_BUFFER_BYTES:
            w.line(f"{buf} = {w(_ReusedBuffer(shape, dtype))}.take()")
        elif like is None:
            w.line(f"{buf} = {w(np.empty)}({w(shape)}, {w(dtype)})")
        else:
            w.line(f"{buf} = {w(functools.partial(zeros, like=like))}({w(shape)}, {w(dtype)})")
    x_names = [w.fresh() for _ in xs]
    body = w.block(body_j, consts + carry + x_names, [True] * nk + [False] * (nc + len(xs)))
    if n:
        body.hoist()
    i = w.fresh()
    w.line(f"for {i} in {w(range(n - 1, -1, -1) if params['reverse'] else range(n))}:")
    with w.indented():
        for name, x, used in zip(x_names, xs, body.used[nk + nc:]):
            if used:
                w.line(f"{name} = {x}[{i}]")
        outs = body.write()
        for buf, y, to_list in zip(ys, outs[nc:], listed):
            if to_list:
                w.line(f"{buf}[{i}] = {w(_own_step_value)}({y})")
            else:
                w.line(f"{buf}[{i}] = {y}")
        _assign(w, carry, outs[:nc])
        if not outs:
            w.line("pass")
    return _tuple(carry + ys)


def _scan_prune(used: list[bool], params: dict) -> tuple[list[int], dict, list[int]] | None:
    """The scan without what no used result needs: a carry is dropped when its final
    value is unused and no kept computation of the body reads it (the reverse loop of
    ``grad`` carries cotangents for every loop constant, most of them never asked
    for), a stacked output when unused, a second stacking of one body value (CSE
    merges residuals that the reverse step computed twice), operands the body no
    longer reads. The body's effects (``debug.print``) stay."""
    body: Jaxpr = params["body"]
    nk, nc = params["n_consts"], params["n_carry"]
    carry_in, carry_out = body.invars[nk:nk + nc], body.outvars[:nc]
    ys = body.outvars[nc:]
    keep_carry = list(used[:nc])
    while True:  # a carry read by a kept computation is kept, and so on
        roots = [o for o, k in zip(carry_out, keep_carry) if k]
        roots += [y for y, u in zip(ys, used[nc:]) if u]
        live, eqns = live_vars(body.eqns, roots)
        more = [k or v in live for v, k in zip(carry_in, keep_carry)]
        if more == keep_carry:
            break
        keep_carry = more
    where: list[int] = []
    new_out: list[Atom] = []
    for k, o in zip(keep_carry, carry_out):
        where.append(len(new_out) if k else -1)
        if k:
            new_out.append(o)
    first: dict[Var, int] = {}
    for u, y in zip(used[nc:], ys):
        if not u:
            where.append(-1)
        elif isinstance(y, Var) and y in first:
            where.append(first[y])
        else:
            if isinstance(y, Var):
                first[y] = len(new_out)
            where.append(len(new_out))
            new_out.append(y)
    kept = [i for i, v in enumerate(body.invars)
            if (keep_carry[i - nk] if nk <= i < nk + nc else v in live)]
    if len(kept) == len(body.invars) and len(new_out) == len(body.outvars):
        return None
    new_body = Jaxpr([], [body.invars[i] for i in kept], eqns, new_out)
    n_consts = sum(1 for i in kept if i < nk)
    return kept, {**params, "body": new_body, "n_consts": n_consts,
                  "n_carry": sum(keep_carry)}, where


scan_p.jvp = _scan_jvp
scan_p.vjp = _scan_vjp
scan_p.prune = _scan_prune
scan_p.batch = _scan_batch
scan_p.emit = _scan_emit


def scan(f: Fun, init: Any, xs: Any = None, length: int | None = None,
         reverse: bool = False, unroll: int | bool = 1) -> tuple[Any, Any]:
    """``carry, y = f(carry, x)`` over the leading axis of ``xs``; returns
    ``(final carry, stacked ys)``. Differentiable in both modes, batchable.

    ``unroll`` (JAX's signature: a positive int, or a bool) is a performance hint
    that does not change results; it is checked and accepted, and the loop runs
    one step per iteration.

    ``f`` must return a carry of the type of ``init`` (pytree structure, shapes,
    dtypes; a Python scalar may be promoted) and ys of one type at every step, else a
    TypeError names the leaf.

    Args:
        f: ``(carry, x) -> (carry, y)``, the carry keeping its type.
        init: the first carry (a pytree).
        xs: scanned over their leading axis (a pytree, or ``None`` with ``length``).
        length: the number of steps when ``xs`` is ``None``.
        reverse: scan from the last element to the first.

    Returns:
        ``(final carry, ys stacked along a new leading axis)``.

    >>> import xform, xform.numpy as np
    >>> xform.lax.scan(lambda c, x: (c + x, c), 0.0, np.arange(3.0))[1].tolist()
    [0.0, 0.0, 1.0]
    """
    if not isinstance(unroll, (bool, int, np.integer)) or (
            not isinstance(unroll, bool) and unroll < 1):
        raise ValueError(f"scan: unroll must be a positive int or a bool, got {unroll!r}")
    return _scan(f, init, xs, length, reverse, "scan")


def _scan(f: Fun, init: Any, xs: Any, length: int | None, reverse: bool, who: str
          ) -> tuple[Any, Any]:
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
        return _scan_python(f, init, x_leaves, x_tree, n, reverse, who)
    n_carry = len(init_leaves)
    carry = _Carry(who, "the body", init)
    promoted: list[int] = []
    slice_avals = [ShapedArray(shape_of(x)[1:], x.dtype if isinstance(x, Tracer)
                               else np.result_type(x)) for x in x_leaves]
    out_tree: list[Any] = []

    def flat_body(*a: Any) -> list[Any]:
        carry_in = tree_unflatten(init_tree, list(a[:n_carry]))
        x = tree_unflatten(x_tree, list(a[n_carry:]))
        new_carry, y = _step_result(f(carry_in, x), who)
        promoted.extend(carry.check(new_carry))
        y_leaves, y_tree = tree_flatten(y)
        out_tree.append(y_tree)
        return tree_flatten(new_carry)[0] + y_leaves

    closed = trace_to_jaxpr(flat_body, [aval_of(x) for x in init_leaves] + slice_avals)
    if promoted:  # weakly typed init leaves the body promotes: trace again, promoted
        init_leaves = _promote(init_leaves, carry, promoted)
        carry = _Carry(who, "the body", tree_unflatten(init_tree, init_leaves))
        promoted, out_tree[:] = [], []
        closed = trace_to_jaxpr(flat_body, [aval_of(x) for x in init_leaves] + slice_avals)
    outs = _bind_scan([*closed.consts, *init_leaves, *x_leaves],
                      dict(body=_with_consts_as_inputs(closed), n_consts=len(closed.consts),
                           n_carry=n_carry, length=n, reverse=bool(reverse)))
    final = tree_unflatten(init_tree, list(outs[:n_carry]))
    return final, tree_unflatten(out_tree[0], list(outs[n_carry:]))


def _step_result(out: Any, who: str) -> tuple[Any, Any]:
    if not (isinstance(out, (tuple, list)) and len(out) == 2):
        raise TypeError(f"{who}: the body must return a pair (carry, y), got "
                        f"{type(out).__name__}" + (f" of length {len(out)}"
                                                   if isinstance(out, (tuple, list)) else ""))
    return out[0], out[1]


def _scan_python(f: Fun, init: Any, x_leaves: list[Any], x_tree: Any, n: int,
                 reverse: bool, who: str) -> tuple[Any, Any]:
    carry = init
    carry_type = _Carry(who, "the body", init)
    y_type: _Carry | None = None
    ys = []
    steps = list(range(n - 1, -1, -1) if reverse else range(n))
    k = 0
    while k < len(steps):
        i = steps[k]
        new, y = _step_result(f(carry, tree_unflatten(x_tree, [x[i] for x in x_leaves])), who)
        promoted = carry_type.check(new)
        if promoted:  # start again from the weakly typed init, promoted
            carry = carry_type.promoted_init(promoted)
            continue
        carry, k = new, k + 1
        if y_type is None:
            y_type = _Carry(who, "the body (its y output, at every step)", y)
            y_type.weak = [False] * len(y_type.weak)
        else:
            y_type.check(y)
        ys.append(tree_flatten(y))
    if reverse:
        ys.reverse()
    if not ys:
        return carry, None
    tree = ys[0][1]
    stacked = [S.stack([y[0][k] for y in ys]) for k in range(len(ys[0][0]))]
    return carry, tree_unflatten(tree, stacked)


def map(f: Fun, xs: Any) -> Any:  # noqa: A001 - JAX's name
    """``stack([f(x) for x in xs])`` as a scan.

    Args:
        f: the function of one slice.
        xs: mapped over their leading axis (a pytree).

    Returns:
        The outputs stacked along a new leading axis.

    >>> import xform, xform.numpy as np
    >>> xform.lax.map(lambda x: x * 2.0, np.arange(3.0)).tolist()
    [0.0, 2.0, 4.0]
    """
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
