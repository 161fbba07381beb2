"""Tests of ``xform.lax`` control flow: cond, switch, select, while_loop,
fori_loop, scan and map.

Two execution paths are covered:

* concrete: the values steering the control flow are known, so the functions
  run as plain Python control flow (also under grad/jvp, whose tracers carry
  concrete values);
* staged: inside ``xform.make_jaxpr`` (what ``jit`` will use) or with a batched
  predicate (vmap), the functions record ``cond``/``while``/``scan`` equations
  holding sub-jaxprs. The recorded program is evaluated with
  ``eval_closed_jaxpr``, and transforms are applied both inside ``make_jaxpr``
  (``make_jaxpr(grad(f))``) and around the evaluated program (``grad(staged(f))``),
  so every rule of the control-flow primitives runs.

Every staged result is compared with the eager (concrete) result or with an
equivalent unrolled Python loop.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as onp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import xform
import xform.numpy as np
from xform import lax
from xform.core.ir import ClosedJaxpr, Jaxpr
from xform.interpreters.eval import eval_closed_jaxpr
from xform.test_util import check_grads
from xform.tree_util import tree_flatten, tree_leaves, tree_map, tree_unflatten

from helpers import assert_trees_close as close

FAST = settings(max_examples=15, deadline=None, derandomize=True)
TOL = dict(rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------------------- helpers
def staged(f: Callable[..., Any]) -> Callable[..., Any]:
    """``f`` run the way jit will run it: traced with make_jaxpr (on the shapes of
    the arguments, which may themselves be tracers of an outer transform), then
    the recorded program evaluated on the arguments."""
    def wrapped(*args: Any) -> Any:
        trees: list[Any] = []

        def flat(*a: Any) -> list[Any]:
            leaves, tree = tree_flatten(f(*a))
            trees.append(tree)
            return leaves

        closed = xform.make_jaxpr(flat)(*args)
        return tree_unflatten(trees[0], eval_closed_jaxpr(closed, *tree_leaves(list(args))))
    return wrapped


def run_jaxpr(closed: ClosedJaxpr, *args: Any) -> list[Any]:
    return eval_closed_jaxpr(closed, *tree_leaves(list(args)))


def prim_names(j: Any) -> list[str]:
    """Names of every primitive in a (closed) jaxpr, sub-jaxprs included."""
    jaxpr = j.jaxpr if isinstance(j, ClosedJaxpr) else j
    names = []
    for eqn in jaxpr.eqns:
        names.append(eqn.prim.name)
        for p in eqn.params.values():
            subs = p if isinstance(p, tuple) else (p,)
            for s in subs:
                if isinstance(s, (Jaxpr, ClosedJaxpr)):
                    names.extend(prim_names(s))
    return names


def top_names(closed: ClosedJaxpr) -> list[str]:
    return [e.prim.name for e in closed.eqns]


def fd_grad(f: Callable[[Any], Any], x: Any, eps: float = 1e-6) -> Any:
    x = onp.asarray(x, dtype=float)
    g = onp.zeros_like(x)
    for idx in onp.ndindex(x.shape):
        e = onp.zeros_like(x)
        e[idx] = eps
        g[idx] = (float(f(x + e)) - float(f(x - e))) / (2 * eps)
    return g


# ---------------------------------------------------------------------------- example programs
def cond_fn(x: Any, y: Any) -> Any:
    return lax.cond(np.sum(x) > 0.0,
                    lambda a, b: np.sin(a) * b,
                    lambda a, b: a * a - np.exp(b), x, y)


def switch_fn(i: Any, x: Any) -> Any:
    return lax.switch(i, [lambda v: np.sin(v), lambda v: v ** 3, lambda v: np.exp(-v) * 2.0], x)


def while_fn(x: Any) -> Any:
    """Doubles-and-shifts until the first carry passes 10: the trip count depends on x."""
    out = lax.while_loop(lambda c: c[0] < 10.0,
                         lambda c: (c[0] * 2.0 + c[1], c[1] * 1.1),
                         (x, x))
    return out[0] + out[1]


def while_fn_unrolled(x: Any) -> Any:
    a, b = x, x
    while a < 10.0:
        a, b = a * 2.0 + b, b * 1.1
    return a + b


def fori_fn(x: Any) -> Any:
    return lax.fori_loop(0, 5, lambda i, c: c * np.sin(c + i) + 0.1 * i, x)


def fori_fn_unrolled(x: Any) -> Any:
    c = x
    for i in range(5):
        c = c * np.sin(c + i) + 0.1 * i
    return c


def rnn(W: Any, h0: Any, xs: Any) -> Any:
    """A scan whose body closes over the weights ``W``; returns a scalar loss."""
    def step(h: Any, x: Any) -> Any:
        h = np.tanh(W @ h + x)
        return h, np.sum(h ** 2)
    h, ys = lax.scan(step, h0, xs)
    return np.sum(h) + np.sum(ys)


def rnn_unrolled(W: Any, h0: Any, xs: Any) -> Any:
    h, total = h0, 0.0
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + xs[t])
        total = total + np.sum(h ** 2)
    return np.sum(h) + total


RNG = onp.random.default_rng(0)
W0 = 0.5 * RNG.standard_normal((3, 3))
H0 = RNG.standard_normal(3)
XS = RNG.standard_normal((4, 3))


# ============================================================================ concrete path
class TestConcrete:
    def test_cond_picks_branch_and_accepts_several_operands(self) -> None:
        f = lambda p, a, b: lax.cond(p, lambda u, v: u + v, lambda u, v: u - v, a, b)
        assert f(True, 3.0, 1.0) == 4.0
        assert f(False, 3.0, 1.0) == 2.0
        assert f(onp.array(True), 3.0, 1.0) == 4.0
        assert f(onp.float64(0.0), 3.0, 1.0) == 2.0

    def test_cond_with_pytree_operand(self) -> None:
        op = {"a": onp.ones(2), "b": (2.0, onp.arange(3.0))}
        out = lax.cond(False, lambda d: d, lambda d: tree_map(lambda v: v * 2, d), op)
        close(out, tree_map(lambda v: onp.asarray(v) * 2, op))

    def test_cond_under_grad_and_jvp(self) -> None:
        x, y = onp.array([0.3, -0.1]), 0.7
        g = xform.grad(lambda x, y: np.sum(cond_fn(x, y)), argnums=(0, 1))(x, y)
        close(g, (onp.cos(x) * y, onp.sum(onp.sin(x))))
        xn = -x
        g = xform.grad(lambda x, y: np.sum(cond_fn(x, y)), argnums=(0, 1))(xn, y)
        close(g, (2 * xn, -2 * onp.exp(y)))
        _, t = xform.jvp(cond_fn, (x, y), (onp.ones(2), 0.0))
        close(t, onp.cos(x) * y)

    @pytest.mark.parametrize("i,expected", [(-3, 0), (0, 0), (1, 1), (2, 2), (7, 2)])
    def test_switch_clamps_index(self, i: int, expected: int) -> None:
        fns = [lambda v: v + 0.0, lambda v: v * 10.0, lambda v: v * 100.0]
        assert float(lax.switch(i, fns, 1.5)) == float(fns[expected](1.5))
        assert float(staged(lambda i, v: lax.switch(i, fns, v))(onp.int64(i), 1.5)) == \
            float(fns[expected](1.5))

    def test_switch_needs_a_branch(self) -> None:
        with pytest.raises(ValueError):
            lax.switch(0, [], 1.0)

    def test_select_is_elementwise_and_differentiable(self) -> None:
        p = onp.array([True, False, True])
        a, b = onp.array([1.0, 2.0, 3.0]), onp.array([-1.0, -2.0, -3.0])
        close(lax.select(p, a, b), onp.array([1.0, -2.0, 3.0]))
        g = xform.grad(lambda a, b: np.sum(lax.select(p, a * a, 3.0 * b)), argnums=(0, 1))(a, b)
        close(g, (onp.where(p, 2 * a, 0.0), onp.where(p, 0.0, 3.0)))
        close(staged(lambda a, b: lax.select(a > 1.5, a, b))(a, b), onp.where(a > 1.5, a, b))

    @given(st.floats(0.1, 5.0))
    @FAST
    def test_while_loop_matches_python_and_differentiates(self, x: float) -> None:
        assert float(while_fn(x)) == pytest.approx(while_fn_unrolled(x), rel=1e-12)
        close(xform.grad(while_fn)(x), xform.grad(while_fn_unrolled)(x))
        close(xform.jvp(while_fn, (x,), (1.0,)), xform.jvp(while_fn_unrolled, (x,), (1.0,)))

    def test_while_loop_pytree_carry(self) -> None:
        init = {"i": 0, "acc": onp.zeros(2)}
        out = lax.while_loop(lambda c: c["i"] < 4,
                             lambda c: {"i": c["i"] + 1, "acc": c["acc"] + c["i"]}, init)
        assert int(out["i"]) == 4
        close(out["acc"], onp.full(2, 6.0))

    def test_fori_loop_matches_python(self) -> None:
        close(fori_fn(0.3), fori_fn_unrolled(0.3))
        close(xform.grad(fori_fn)(0.3), xform.grad(fori_fn_unrolled)(0.3))
        close(xform.hessian(fori_fn)(0.3), xform.hessian(fori_fn_unrolled)(0.3))
        assert lax.fori_loop(3, 3, lambda i, c: c + 1.0, 2.0) == 2.0

    @given(st.integers(1, 6), st.booleans(), st.integers(0, 2 ** 31 - 1))
    @FAST
    def test_scan_matches_python_loop(self, n: int, reverse: bool, seed: int) -> None:
        xs = onp.random.default_rng(seed).standard_normal((n, 2))

        def step(c: Any, x: Any) -> Any:
            return c * 0.9 + np.sin(x), c[0] * x[1]

        carry, ys = lax.scan(step, onp.zeros(2), xs, reverse=reverse)
        c, ref = onp.zeros(2), [None] * n
        for t in (reversed(range(n)) if reverse else range(n)):
            c, ref[t] = c * 0.9 + onp.sin(xs[t]), c[0] * xs[t, 1]
        close(carry, c)
        close(ys, onp.array(ref))
        assert ys.shape == (n,)

    def test_scan_xs_none_with_length_and_ys_none(self) -> None:
        carry, ys = lax.scan(lambda c, x: (c * 2.0, None), 1.0, None, length=4)
        assert carry == 16.0 and ys is None
        carry, ys = lax.scan(lambda c, x: (c + 1.0, c), 0.0, length=3)
        close(ys, onp.array([0.0, 1.0, 2.0]))
        assert xform.grad(lambda x: lax.scan(lambda c, _: (c * x, None), 1.0,
                                             length=3)[0])(2.0) == 12.0

    def test_scan_pytree_carry_xs_and_ys(self) -> None:
        init = {"a": 0.0, "b": onp.ones(2)}
        xs = (onp.arange(3.0), onp.full((3, 2), 2.0))
        carry, (y1, y2) = lax.scan(
            lambda c, x: ({"a": c["a"] + x[0], "b": c["b"] * x[1]}, (c["a"], {"q": c["b"]})),
            init, xs)
        close(carry, {"a": 3.0, "b": onp.full(2, 8.0)})
        close(y1, onp.array([0.0, 0.0, 1.0]))
        close(y2["q"], onp.array([[1.0, 1.0], [2.0, 2.0], [4.0, 4.0]]))

    def test_scan_accepts_jax_unroll(self) -> None:
        """JAX's ``unroll`` hint (it raised TypeError: unexpected keyword): results are
        those of the plain scan, eager and staged; a bad value is a ValueError."""
        f = lambda x, u: lax.scan(lambda c, _: (c * x, c), 1.0, None, length=3, unroll=u)
        for u in (1, 2, True, False):
            close(f(1.5, u), f(1.5, 1))
            close(xform.grad(lambda x: f(x, u)[1].sum())(1.5), 1.0 + 2 * 1.5)
            close(xform.jit(lambda x: f(x, u))(1.5), f(1.5, 1))
        with pytest.raises(ValueError, match="unroll"):
            f(1.5, 0)

    def test_scan_length_errors(self) -> None:
        with pytest.raises(ValueError):
            lax.scan(lambda c, x: (c, x), 0.0, onp.zeros(3), length=4)
        with pytest.raises(ValueError):
            lax.scan(lambda c, x: (c, x), 0.0, (onp.zeros(3), onp.zeros(2)))
        with pytest.raises(ValueError):
            lax.scan(lambda c, x: (c, x), 0.0)

    def test_scan_zero_length_stacks_empty_ys(self) -> None:
        """JAX returns empty stacked ys (shape (0, ...)) for a length-0 scan; the
        concrete path must agree with the staged one."""
        f = lambda xs: lax.scan(lambda c, x: (c + x, c * x), 1.0, xs)
        c_staged, ys_staged = staged(f)(onp.zeros(0))
        assert onp.asarray(ys_staged).shape == (0,)
        c, ys = f(onp.zeros(0))
        assert float(c) == 1.0 == float(c_staged)
        assert ys is not None and onp.asarray(ys).shape == (0,)
        g = lambda xs: lax.scan(lambda c, x: (c, {"z": np.stack([x, c])}), 1.0, xs)[1]["z"]
        assert onp.asarray(g(onp.zeros(0))).shape == (0, 2)
        assert lax.map(np.sin, onp.zeros((0, 3))).shape == (0, 3)
        assert xform.vmap(g)(onp.zeros((4, 0))).shape == (4, 0, 2)
        assert float(xform.grad(lambda w: f(onp.zeros(0))[0] * w)(2.0)) == 1.0

    def test_map(self) -> None:
        close(lax.map(lambda x: x ** 2, onp.arange(4.0)), onp.arange(4.0) ** 2)
        out = lax.map(lambda t: {"s": np.sum(t[0]) * t[1]}, (onp.ones((3, 2)), onp.arange(3.0)))
        close(out, {"s": onp.array([0.0, 2.0, 4.0])})
        g = xform.grad(lambda x: np.sum(lax.map(np.sin, x)))(onp.arange(3.0))
        close(g, onp.cos(onp.arange(3.0)))

    def test_check_grads_concrete(self) -> None:
        check_grads(cond_fn, (onp.array([0.3, 0.2]), 0.5), order=2)
        check_grads(cond_fn, (onp.array([-0.3, 0.2]), 0.5), order=2)
        check_grads(lambda x: switch_fn(2, x), (0.4,), order=2)
        check_grads(while_fn, (1.3,), order=2)
        check_grads(fori_fn, (0.3,), order=2)
        check_grads(rnn, (W0, H0, XS), order=2)


# ============================================================================ staged: the IR
class TestStagedIR:
    def test_cond_records_cond_with_branch_jaxprs(self) -> None:
        x, y = onp.array([0.3, -0.1]), 0.7
        closed = xform.make_jaxpr(cond_fn)(x, y)
        text = str(closed)
        assert "cond[" in text and "branches=" in text
        assert text.count("lambda") == 3  # the outer jaxpr and two branches
        eqn = next(e for e in closed.eqns if e.prim.name == "cond")
        assert len(eqn.params["branches"]) == 2
        for xx in (x, -x):
            close(run_jaxpr(closed, xx, y)[0], cond_fn(xx, y))

    def test_switch_records_one_cond_with_all_branches(self) -> None:
        closed = xform.make_jaxpr(switch_fn)(onp.int64(0), 0.5)
        eqn = next(e for e in closed.eqns if e.prim.name == "cond")
        assert len(eqn.params["branches"]) == 3
        for i in range(-1, 4):
            close(run_jaxpr(closed, onp.int64(i), 0.5)[0], switch_fn(i, 0.5))

    def test_while_records_while_with_cond_and_body(self) -> None:
        closed = xform.make_jaxpr(while_fn)(1.0)
        text = str(closed)
        assert "while[" in text and "cond=" in text and "body=" in text
        assert "while" in top_names(closed)
        for x in (0.3, 1.0, 4.0, 12.0):  # 5, 3, 1 and 0 iterations
            close(run_jaxpr(closed, x)[0], while_fn_unrolled(x))

    def test_scan_records_scan_with_body(self) -> None:
        closed = xform.make_jaxpr(rnn)(W0, H0, XS)
        text = str(closed)
        assert "scan[" in text and "body=" in text and "length=4" in text
        assert "tanh" in text  # the body is inside the scan, not unrolled
        assert prim_names(closed).count("tanh") == 1
        close(run_jaxpr(closed, W0, H0, XS)[0], rnn_unrolled(W0, H0, XS))

    def test_scan_reverse_and_xs_none_staged(self) -> None:
        f = lambda xs: lax.scan(lambda c, x: (c * 0.5 + x, c), 0.0, xs, reverse=True)
        closed = xform.make_jaxpr(f)(onp.arange(4.0))
        eqn = next(e for e in closed.eqns if e.prim.name == "scan")
        assert eqn.params["reverse"] is True
        close(staged(f)(onp.arange(4.0)), f(onp.arange(4.0)))
        g = lambda x: lax.scan(lambda c, _: (c * 2.0, None), x, None, length=3)
        closed = xform.make_jaxpr(g)(1.0)
        assert "scan" in top_names(closed)
        c, ys = staged(g)(1.5)
        assert float(c) == 12.0 and ys is None

    def test_scan_pytree_staged(self) -> None:
        f = lambda p, xs: lax.scan(
            lambda c, x: ({"a": c["a"] + x[0], "b": c["b"] * x[1]}, (c["a"], {"q": c["b"]})),
            p, xs)
        p = {"a": 0.0, "b": onp.ones(2)}
        xs = (onp.arange(3.0), onp.full((3, 2), 2.0))
        close(staged(f)(p, xs), f(p, xs))

    def test_map_staged(self) -> None:
        f = lambda x: lax.map(lambda v: {"s": np.sum(np.sin(v))}, x)
        assert "scan" in top_names(xform.make_jaxpr(f)(onp.ones((3, 2))))
        x = RNG.standard_normal((3, 2))
        close(staged(f)(x), f(x))

    def test_fori_loop_static_bounds_lowers_to_scan(self) -> None:
        closed = xform.make_jaxpr(fori_fn)(0.3)
        assert "scan" in top_names(closed) and "while" not in prim_names(closed)
        close(run_jaxpr(closed, 0.3)[0], fori_fn_unrolled(0.3))

    def test_fori_loop_traced_bounds_lowers_to_while(self) -> None:
        f = lambda n, x: lax.fori_loop(0, n, lambda i, c: c * 2.0 + i, x)
        closed = xform.make_jaxpr(f)(onp.int64(3), 1.0)
        assert "while" in top_names(closed)
        for n in (0, 1, 4):
            close(run_jaxpr(closed, onp.int64(n), 1.0)[0], f(n, 1.0))

    def test_concrete_predicate_inside_make_jaxpr_still_stages_loops(self) -> None:
        # the loop bounds are concrete, but inside make_jaxpr loops are recorded
        f = lambda x: lax.while_loop(lambda c: c[0] < 3, lambda c: (c[0] + 1, c[1] * x), (0, x))
        closed = xform.make_jaxpr(f)(2.0)
        assert "while" in top_names(closed)
        close(staged(f)(2.0), f(2.0))

    def test_branches_must_agree(self) -> None:
        with pytest.raises(TypeError, match="structure"):
            xform.make_jaxpr(lambda p, x: lax.cond(p, lambda a: a, lambda a: (a, a), x))(True, 1.0)
        with pytest.raises(TypeError, match="shape"):
            xform.make_jaxpr(lambda p, x: lax.cond(p, lambda a: a, lambda a: np.stack([a, a]),
                                                   x))(True, 1.0)

    def test_loop_bodies_must_keep_the_carry_structure(self) -> None:
        with pytest.raises(TypeError):
            xform.make_jaxpr(lambda x: lax.while_loop(lambda c: c < 1.0, lambda c: (c, c), x))(0.0)
        with pytest.raises(TypeError):
            xform.make_jaxpr(lambda x: lax.while_loop(lambda c: c < 1.0, lambda c: c, x))(
                onp.zeros(2))  # non-scalar predicate
        with pytest.raises(TypeError):
            xform.make_jaxpr(lambda xs: lax.scan(lambda c, x: ((c, c), x), 0.0, xs))(onp.zeros(3))


# ============================================================================ staged: transforms
class TestStagedJVP:
    def test_jvp_of_staged_cond_and_switch(self) -> None:
        x, y = onp.array([0.3, -0.1]), 0.7
        for xx in (x, -x):
            prim = (xx, y)
            tan = (onp.array([1.0, 2.0]), 0.5)
            close(xform.jvp(staged(cond_fn), prim, tan), xform.jvp(cond_fn, prim, tan))
        for i in range(3):
            close(xform.jvp(staged(lambda v: switch_fn(onp.int64(i), v)), (0.4,), (1.0,)),
                  xform.jvp(lambda v: switch_fn(i, v), (0.4,), (1.0,)))

    @pytest.mark.parametrize("x", [0.3, 1.0, 4.0, 12.0])
    def test_jvp_of_staged_while(self, x: float) -> None:
        close(xform.jvp(staged(while_fn), (x,), (1.0,)),
              xform.jvp(while_fn_unrolled, (x,), (1.0,)))

    def test_jvp_inside_make_jaxpr(self) -> None:
        for f, args in [(while_fn, (1.0,)), (fori_fn, (0.3,)), (lambda x: cond_fn(x, 0.7),
                                                                 (onp.array([0.3, 0.1]),))]:
            def fj(p: Any, t: Any, f: Any = f) -> Any:
                return xform.jvp(f, (p,), (t,))

            t = onp.ones_like(onp.asarray(args[0]))
            closed = xform.make_jaxpr(fj)(args[0], t)
            assert {"cond", "while", "scan"} & set(top_names(closed))
            close(run_jaxpr(closed, args[0], t), list(xform.jvp(f, args, (t,))))

    def test_jvp_of_staged_scan_and_rnn(self) -> None:
        tW, th, tx = RNG.standard_normal(W0.shape), RNG.standard_normal(3), RNG.standard_normal((4, 3))
        close(xform.jvp(staged(rnn), (W0, H0, XS), (tW, th, tx)),
              xform.jvp(rnn_unrolled, (W0, H0, XS), (tW, th, tx)))

    def test_while_closes_over_traced_value_forward_mode(self) -> None:
        def f(x: Any, w: Any) -> Any:
            return lax.while_loop(lambda c: c[0] < 5, lambda c: (c[0] + 1, c[1] * w + x),
                                  (0, x))[1]

        def f_unrolled(x: Any, w: Any) -> Any:
            c = x
            for _ in range(5):
                c = c * w + x
            return c

        for tangents in [(1.0, 0.0), (0.0, 1.0), (0.3, -0.7)]:
            close(xform.jvp(staged(f), (0.5, 0.9), tangents),
                  xform.jvp(f_unrolled, (0.5, 0.9), tangents))
        close(xform.jacfwd(staged(f), argnums=(0, 1))(0.5, 0.9),
              xform.jacfwd(f_unrolled, argnums=(0, 1))(0.5, 0.9))


class TestStagedVJP:
    def test_grad_inside_make_jaxpr_cond(self) -> None:
        x, y = onp.array([0.3, -0.1]), 0.7
        gf = xform.grad(lambda x, y: np.sum(cond_fn(x, y)), argnums=(0, 1))
        closed = xform.make_jaxpr(gf)(x, y)
        assert "cond" in prim_names(closed)
        for xx in (x, -x):
            close(tuple(run_jaxpr(closed, xx, y)), gf(xx, y))
            close(xform.grad(lambda a, b: np.sum(staged(cond_fn)(a, b)), argnums=(0, 1))(xx, y),
                  gf(xx, y))

    def test_grad_inside_make_jaxpr_switch(self) -> None:
        gf = xform.grad(switch_fn, argnums=1)
        closed = xform.make_jaxpr(gf)(onp.int64(0), 0.4)
        assert "cond" in prim_names(closed)
        for i in range(3):
            close(run_jaxpr(closed, onp.int64(i), 0.4)[0], gf(i, 0.4))

    def test_cond_branch_closes_over_traced_value(self) -> None:
        def f(x: Any, w: Any) -> Any:
            return lax.cond(x > 0.0, lambda v: v * w * w, lambda v: v + np.sin(w), x)

        g = xform.grad(f, argnums=(0, 1))
        closed = xform.make_jaxpr(g)(1.0, 2.0)
        for x in (1.5, -1.5):
            close(tuple(run_jaxpr(closed, x, 2.0)), g(x, 2.0))
        close(g(1.5, 2.0), (4.0, 2 * 1.5 * 2.0))
        close(g(-1.5, 2.0), (1.0, onp.cos(2.0)))

    def test_branches_and_bodies_returning_constants(self) -> None:
        # a Python constant returned by a branch/body is a literal in the sub-jaxpr
        f = lambda x: lax.cond(x > 0, lambda v: 1.0, lambda v: v * v, x)
        for x in (3.0, -3.0):
            assert float(xform.grad(staged(f))(x)) == float(xform.grad(f)(x))
            close(xform.vjp(staged(f), x)[1](1.0)[0], xform.grad(f)(x))
            close(xform.jvp(staged(f), (x,), (1.0,)), xform.jvp(f, (x,), (1.0,)))
        close(xform.vmap(staged(f))(onp.array([3.0, -2.0])), onp.array([1.0, 4.0]))
        g = lambda x: lax.scan(lambda c, xi: (2.0, c * xi), x, onp.ones(2))[0]
        assert float(xform.grad(staged(g))(3.0)) == 0.0
        h = lambda x: lax.scan(lambda c, xi: (c * xi, 2.0), x, onp.arange(1.0, 4.0))
        close(xform.jacrev(staged(h))(0.5), xform.jacrev(h)(0.5))

    def test_scan_grad_equals_unrolled_loop_grad_closed_over_weights(self) -> None:
        g_ref = xform.grad(rnn_unrolled, argnums=(0, 1, 2))(W0, H0, XS)
        close(xform.grad(rnn, argnums=(0, 1, 2))(W0, H0, XS), g_ref)
        close(xform.grad(staged(rnn), argnums=(0, 1, 2))(W0, H0, XS), g_ref)
        closed = xform.make_jaxpr(xform.grad(rnn, argnums=(0, 1, 2)))(W0, H0, XS)
        assert "scan" in top_names(closed)
        close(tuple(run_jaxpr(closed, W0, H0, XS)), g_ref)
        assert onp.abs(g_ref[0]).max() > 1e-3  # the captured weights do get a gradient

    @given(st.integers(1, 5), st.booleans(), st.integers(0, 2 ** 31 - 1))
    @FAST
    def test_scan_grad_equals_unrolled_property(self, n: int, reverse: bool, seed: int) -> None:
        rng = onp.random.default_rng(seed)
        xs, w, c0 = rng.standard_normal((n, 2)), rng.standard_normal(2), rng.standard_normal()

        def body(c: Any, x: Any, w: Any) -> Any:
            c = np.sin(c * w[0] + np.sum(x * w)) + 0.5 * c
            return c, c * x

        def with_scan(c0: Any, xs: Any, w: Any) -> Any:
            c, ys = lax.scan(lambda c, x: body(c, x, w), c0, xs, reverse=reverse)
            return c + np.sum(ys ** 2)

        def unrolled(c0: Any, xs: Any, w: Any) -> Any:
            c, ys = c0, [None] * n
            for t in (reversed(range(n)) if reverse else range(n)):
                c, ys[t] = body(c, xs[t], w)
            return c + np.sum(np.stack(ys) ** 2)

        ref = xform.grad(unrolled, argnums=(0, 1, 2))(c0, xs, w)
        closed = xform.make_jaxpr(xform.grad(with_scan, argnums=(0, 1, 2)))(c0, xs, w)
        close(tuple(run_jaxpr(closed, c0, xs, w)), ref, rtol=1e-9)
        close(xform.grad(staged(with_scan), argnums=(0, 1, 2))(c0, xs, w), ref, rtol=1e-9)
        close(xform.grad(unrolled, argnums=1)(c0, xs, w), fd_grad(lambda v: unrolled(c0, v, w), xs),
              rtol=1e-5, atol=1e-7)

    def test_fori_loop_static_bounds_reverse_mode_under_make_jaxpr(self) -> None:
        closed = xform.make_jaxpr(xform.grad(fori_fn))(0.3)
        assert "scan" in top_names(closed) and "while" not in prim_names(closed)
        for x in (0.3, -0.8, 1.7):
            close(run_jaxpr(closed, x)[0], xform.grad(fori_fn_unrolled)(x))
        close(xform.grad(staged(fori_fn))(0.3), xform.grad(fori_fn_unrolled)(0.3))

    def test_fori_loop_with_closed_over_weights(self) -> None:
        def f(x: Any, W: Any) -> Any:
            return np.sum(lax.fori_loop(0, 3, lambda i, h: np.tanh(W @ h) + x, x))

        def f_unrolled(x: Any, W: Any) -> Any:
            h = x
            for _ in range(3):
                h = np.tanh(W @ h) + x
            return np.sum(h)

        g = xform.grad(f, argnums=(0, 1))
        closed = xform.make_jaxpr(g)(H0, W0)
        close(tuple(run_jaxpr(closed, H0, W0)), xform.grad(f_unrolled, argnums=(0, 1))(H0, W0))

    def test_while_reverse_mode_under_make_jaxpr_raises(self) -> None:
        with pytest.raises(NotImplementedError) as info:
            xform.make_jaxpr(xform.grad(while_fn))(1.0)
        assert "fori_loop" in str(info.value) and "scan" in str(info.value)
        with pytest.raises(NotImplementedError, match="fori_loop"):
            xform.grad(staged(while_fn))(1.0)
        with pytest.raises(NotImplementedError, match="scan"):
            xform.make_jaxpr(xform.grad(lambda n, x: lax.fori_loop(0, n, lambda i, c: c * x, x),
                                        argnums=1))(onp.int64(3), 1.0)
        # forward mode through the same staged loop is fine
        _, t = xform.jvp(staged(while_fn), (1.0,), (1.0,))
        assert float(t) == pytest.approx(float(xform.grad(while_fn_unrolled)(1.0)))

    def test_second_order_through_staged_scan_and_cond(self) -> None:
        f = lambda x: fori_fn(x) + np.sum(cond_fn(np.stack([x, x]), x))
        ref = xform.grad(xform.grad(f))(0.3)
        close(xform.grad(xform.grad(staged(f)))(0.3), ref, rtol=1e-9)
        closed = xform.make_jaxpr(xform.grad(xform.grad(f)))(0.3)
        close(run_jaxpr(closed, 0.3)[0], ref, rtol=1e-9)
        closed = xform.make_jaxpr(xform.hessian(rnn))(W0, H0, XS)
        close(run_jaxpr(closed, W0, H0, XS)[0], xform.hessian(rnn_unrolled)(W0, H0, XS),
              rtol=1e-9)

    def test_check_grads_staged(self) -> None:
        check_grads(staged(cond_fn), (onp.array([0.3, 0.2]), 0.5), order=2)
        check_grads(staged(cond_fn), (onp.array([-0.3, 0.2]), 0.5), order=2)
        check_grads(staged(lambda x: switch_fn(onp.int64(2), x)), (0.4,), order=2)
        check_grads(staged(fori_fn), (0.3,), order=2)
        check_grads(staged(rnn), (W0, H0, XS), order=2)
        check_grads(staged(while_fn), (1.3,), order=2, modes=("fwd",))


class TestStagedVmap:
    def test_cond_batched_predicate(self) -> None:
        f = lambda x: lax.cond(x > 0, lambda v: np.sin(v) * 2.0, lambda v: v ** 3, x)
        xs = onp.array([-1.0, 0.5, 2.0, -0.2])
        ref = onp.array([float(f(x)) for x in xs])
        close(xform.vmap(f)(xs), ref)
        close(staged(xform.vmap(f))(xs), ref)
        gref = onp.array([float(xform.grad(f)(x)) for x in xs])
        close(xform.vmap(xform.grad(f))(xs), gref)
        close(xform.grad(lambda v: np.sum(xform.vmap(f)(v)))(xs), gref)
        close(staged(xform.vmap(xform.grad(f)))(xs), gref)
        close(xform.grad(lambda v: np.sum(staged(xform.vmap(f))(v)))(xs), gref)

    def test_switch_batched_index_and_operands(self) -> None:
        idx = onp.array([0, 2, 1, 5, -1], dtype=onp.int64)
        xs = onp.linspace(0.1, 0.9, 5)
        ref = onp.array([float(switch_fn(i, x)) for i, x in zip(idx, xs)])
        close(xform.vmap(switch_fn)(idx, xs), ref)
        close(staged(xform.vmap(switch_fn))(idx, xs), ref)
        gref = onp.array([float(xform.grad(switch_fn, argnums=1)(i, x)) for i, x in zip(idx, xs)])
        close(xform.vmap(xform.grad(switch_fn, argnums=1))(idx, xs), gref)
        # batched operand, unbatched index, staged
        close(staged(xform.vmap(switch_fn, in_axes=(None, 0)))(onp.int64(1), xs), xs ** 3)

    def test_cond_unbatched_predicate_batched_operand_staged(self) -> None:
        f = lambda p, x: lax.cond(p, lambda v: v * 2.0, lambda v: -v, x)
        xs = onp.arange(3.0)
        closed = xform.make_jaxpr(xform.vmap(f, in_axes=(None, 0)))(True, xs)
        assert "cond" in top_names(closed)
        close(run_jaxpr(closed, True, xs)[0], 2 * xs)
        close(run_jaxpr(closed, False, xs)[0], -xs)

    def test_while_batched_predicate_members_finish_at_different_iterations(self) -> None:
        xs = onp.array([0.3, 1.0, 4.0, 12.0])  # 5, 3, 1, 0 iterations
        ref = onp.array([while_fn_unrolled(x) for x in xs])
        close(xform.vmap(while_fn)(xs), ref)
        close(staged(xform.vmap(while_fn))(xs), ref)
        closed = xform.make_jaxpr(xform.vmap(while_fn))(xs)
        assert "while" in prim_names(closed)
        close(run_jaxpr(closed, xs)[0], ref)
        # forward mode through the batched loop, both nestings
        dref = onp.array([float(xform.grad(while_fn_unrolled)(x)) for x in xs])
        close(xform.jvp(xform.vmap(while_fn), (xs,), (onp.ones(4),))[1], dref)
        close(xform.vmap(lambda x: xform.jvp(while_fn, (x,), (1.0,))[1])(xs), dref)
        close(staged(xform.vmap(lambda x: xform.jvp(while_fn, (x,), (1.0,))[1]))(xs), dref)
        close(xform.jacfwd(staged(xform.vmap(while_fn)))(xs), onp.diag(dref))

    def test_while_predicate_becomes_batched_after_the_first_iteration(self) -> None:
        # the carry starts unbatched (a concrete first test) and picks up the batch
        # dimension from the closed-over ``w`` in the body
        f = lambda w: lax.while_loop(lambda c: c[1] < 10.0, lambda c: (c[0] + 1, c[1] + w),
                                     (0, 0.0))
        ws = onp.array([1.0, 3.0, 20.0])
        n, total = xform.vmap(f)(ws)
        close(n, onp.array([10, 4, 1]))
        close(total, onp.array([10.0, 12.0, 20.0]))
        close(xform.jvp(lambda w: xform.vmap(f)(w)[1], (ws,), (onp.ones(3),))[1],
              onp.array([10.0, 4.0, 1.0]))
        close(staged(xform.vmap(f))(ws), (n, total))

    def test_fori_loop_batched_upper_bound(self) -> None:
        f = lambda n, x: lax.fori_loop(0, n, lambda i, c: c * 1.5 + i, x)
        ns = onp.array([0, 1, 3, 6], dtype=onp.int64)
        xs = onp.array([1.0, 2.0, 3.0, 4.0])
        ref = onp.array([float(f(int(n), x)) for n, x in zip(ns, xs)])
        close(xform.vmap(f)(ns, xs), ref)
        close(staged(xform.vmap(f))(ns, xs), ref)
        close(xform.jvp(lambda x: xform.vmap(f)(ns, x), (xs,), (onp.ones(4),))[1],
              1.5 ** ns.astype(float))

    def test_scan_batched_xs_init_and_captured_weights(self) -> None:
        Ws = onp.stack([W0, -W0, 0.5 * W0])
        hs = RNG.standard_normal((3, 3))
        xss = RNG.standard_normal((3, 4, 3))
        for in_axes in [(0, None, None), (None, 0, None), (None, None, 0), (0, 0, 0)]:
            args = tuple(a if ax == 0 else b for a, b, ax in
                         zip((Ws, hs, xss), (W0, H0, XS), in_axes))
            per = [float(rnn_unrolled(*(a[k] if ax == 0 else a for a, ax in zip(args, in_axes))))
                   for k in range(3)]
            close(xform.vmap(rnn, in_axes=in_axes)(*args), onp.array(per))
            close(staged(xform.vmap(rnn, in_axes=in_axes))(*args), onp.array(per))
            closed = xform.make_jaxpr(xform.vmap(rnn, in_axes=in_axes))(*args)
            assert "scan" in top_names(closed)

    def test_scan_xs_batched_along_axis_1(self) -> None:
        f = lambda xs: lax.scan(lambda c, x: (c + x, c * x), 0.0, xs)
        xs = RNG.standard_normal((4, 3))  # batch along axis 1
        c, ys = staged(xform.vmap(f, in_axes=1))(xs)
        for k in range(3):
            ck, yk = f(xs[:, k])
            close(c[k], ck)
            close(ys[k], yk)

    def test_vmap_of_grad_and_grad_of_vmap_staged_scan(self) -> None:
        Ws = onp.stack([W0, -W0])
        ref = onp.stack([xform.grad(rnn_unrolled)(W, H0, XS) for W in Ws])
        vg = xform.vmap(xform.grad(rnn), in_axes=(0, None, None))
        close(vg(Ws, H0, XS), ref)
        close(staged(vg)(Ws, H0, XS), ref)
        close(xform.vmap(xform.grad(staged(rnn)), in_axes=(0, None, None))(Ws, H0, XS), ref)
        gv = xform.grad(lambda W: np.sum(staged(xform.vmap(rnn, in_axes=(0, None, None)))(
            W, H0, XS)))
        close(gv(Ws), ref)

    def test_vmap_of_a_staged_program(self) -> None:
        # vmap(jit(f)): the batch rules run on the recorded cond/while/scan equations
        xs = onp.array([0.3, 1.0, 4.0, 12.0])
        close(xform.vmap(staged(while_fn))(xs), onp.array([while_fn_unrolled(x) for x in xs]))
        close(xform.vmap(staged(fori_fn))(xs), onp.array([float(fori_fn_unrolled(x)) for x in xs]))
        idx, vals = onp.array([0, 1, 2], dtype=onp.int64), onp.array([0.1, 0.2, 0.3])
        close(xform.vmap(staged(switch_fn))(idx, vals),
              onp.array([float(switch_fn(i, v)) for i, v in zip(idx, vals)]))
        pts = onp.array([[0.3, 0.1], [-0.3, -0.1]])
        close(xform.vmap(staged(lambda x: cond_fn(x, 0.7)))(pts),
              onp.stack([cond_fn(x, 0.7) for x in pts]))
        close(xform.vmap(staged(lambda x: cond_fn(x, 0.7)), in_axes=1)(pts.T),
              onp.stack([cond_fn(x, 0.7) for x in pts]))
        Ws = onp.stack([W0, -W0])
        close(xform.vmap(staged(rnn), in_axes=(0, None, None))(Ws, H0, XS),
              onp.array([float(rnn_unrolled(W, H0, XS)) for W in Ws]))
        dref = onp.array([float(xform.grad(while_fn_unrolled)(x)) for x in xs])
        close(xform.vmap(lambda x: xform.jvp(staged(while_fn), (x,), (1.0,))[1])(xs), dref)
        close(xform.jvp(xform.vmap(staged(while_fn)), (xs,), (onp.ones(4),))[1], dref)

    def test_nested_vmap(self) -> None:
        xs = onp.array([[0.3, 1.0], [4.0, 12.0]])
        ref = onp.array([[while_fn_unrolled(x) for x in row] for row in xs])
        close(xform.vmap(xform.vmap(while_fn))(xs), ref)
        close(staged(xform.vmap(xform.vmap(while_fn)))(xs), ref)
        f = lambda x: lax.cond(x > 0, lambda v: v * 2.0, lambda v: -v, x)
        close(xform.vmap(xform.vmap(f))(onp.array([[0.3, -1.0], [4.0, -12.0]])),
              onp.array([[0.6, 1.0], [8.0, 12.0]]))

    def test_nested_control_flow(self) -> None:
        """A cond holding a while_loop holding a scan; and a scan holding a cond."""
        def nested(x: Any) -> Any:
            def body(c: Any) -> Any:
                s, _ = lax.scan(lambda a, xi: (a * xi + np.sin(a), None), c[1],
                                onp.array([0.5, 0.7]))
                return c[0] + 1, s
            return lax.cond(x > 0, lambda v: lax.while_loop(lambda c: c[0] < 3, body, (0, v))[1],
                            lambda v: v * 2.0, x)

        def nested_unrolled(x: Any) -> Any:
            if x <= 0:
                return x * 2.0
            v = x
            for _ in range(3):
                for xi in (0.5, 0.7):
                    v = v * xi + np.sin(v)
            return v

        pts = onp.array([0.4, -0.4, 1.0])
        closed = xform.make_jaxpr(nested)(0.4)
        assert {"cond", "while", "scan"} <= set(prim_names(closed))
        ref = onp.array([float(nested_unrolled(x)) for x in pts])
        dref = onp.array([float(xform.grad(nested_unrolled)(x)) for x in pts])
        close(onp.array([float(run_jaxpr(closed, x)[0]) for x in pts]), ref)
        close(xform.vmap(nested)(pts), ref)
        close(xform.vmap(staged(nested))(pts), ref)
        close(staged(xform.vmap(nested))(pts), ref)
        close(xform.jvp(staged(xform.vmap(nested)), (pts,), (onp.ones(3),))[1], dref)
        close(xform.vmap(lambda x: xform.jvp(staged(nested), (x,), (1.0,))[1])(pts), dref)

        def scan_of_cond(w: Any, xs: Any) -> Any:
            step = lambda c, x: (lax.cond(x * c > 0, lambda a: np.sin(a * w) + x,  # noqa: E731
                                          lambda a: a * w - x, c), c)
            c, ys = lax.scan(step, 0.3, xs)
            return c + np.sum(ys ** 2)

        def scan_of_cond_unrolled(w: Any, xs: Any) -> Any:
            c, total = 0.3, 0.0
            for x in xs:
                total = total + c ** 2
                c = np.sin(c * w) + x if x * c > 0 else c * w - x
            return c + total

        xs = onp.array([0.5, -1.0, 0.8, 0.2, -0.3])
        g_ref = xform.grad(scan_of_cond_unrolled, argnums=(0, 1))(1.3, xs)
        closed = xform.make_jaxpr(xform.grad(scan_of_cond, argnums=(0, 1)))(1.3, xs)
        assert "cond" in prim_names(closed)
        close(tuple(run_jaxpr(closed, 1.3, xs)), g_ref)
        close(xform.grad(staged(scan_of_cond), argnums=(0, 1))(1.3, xs), g_ref)
        ws = onp.array([1.3, 0.9])
        close(xform.vmap(xform.grad(staged(scan_of_cond)), in_axes=(0, None))(ws, xs),
              onp.array([float(xform.grad(scan_of_cond_unrolled)(w, xs)) for w in ws]))
        check_grads(staged(scan_of_cond), (1.3, xs), order=2)

    def test_jacobians_of_staged_programs(self) -> None:
        f = lambda x: lax.scan(lambda c, xi: (c * xi + np.sin(c), c ** 2), 0.5, x)[1]
        x = onp.array([0.3, -0.4, 0.8])
        unrolled = lambda x: fori_unrolled_scan(x)
        jr = xform.jacrev(unrolled)(x)
        close(xform.jacrev(staged(f))(x), jr)
        close(xform.jacfwd(staged(f))(x), jr)
        close(staged(xform.jacrev(f))(x), jr)
        close(staged(xform.jacfwd(f))(x), jr)
        h = lambda x: np.sum(f(x) ** 2)
        close(staged(xform.hessian(h))(x),
              xform.hessian(lambda x: np.sum(unrolled(x) ** 2))(x), rtol=1e-9)


def fori_unrolled_scan(x: Any) -> Any:
    c, ys = 0.5, []
    for t in range(x.shape[0]):
        ys.append(c ** 2)
        c = c * x[t] + np.sin(c)
    return np.stack(ys)
