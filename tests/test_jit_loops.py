"""Control flow under jit is generated code: loop bodies and branches are optimised
by the jit passes and written inside the jitted function (no interpreter runs), the
stacked outputs of a scan go into buffers allocated once, and work that depends only
on a loop's constants is hoisted out of it."""
from __future__ import annotations

import re

import numpy as onp
import pytest

import xform
import xform.numpy as np
from xform import lax
from xform.lax import _control
from xform.test_util import check_grads


@pytest.fixture
def no_interpreter(monkeypatch: pytest.MonkeyPatch):
    """Calls made inside the fixture's block must not interpret a sub-jaxpr."""
    def refuse(*args, **kwargs):
        raise AssertionError("a sub-jaxpr was interpreted at run time")

    class Guard:
        def __enter__(self) -> None:
            monkeypatch.setattr(_control, "eval_jaxpr", refuse)

        def __exit__(self, *exc) -> None:
            monkeypatch.undo()
    return Guard()


def _eager_and_jit(f, *args):
    want = f(*args)
    jitted = xform.jit(f)
    jitted.lower(*args).compile()
    return want, jitted


def _close(got, want) -> None:
    for g, w in zip(xform.tree_util.tree_leaves(got), xform.tree_util.tree_leaves(want)):
        onp.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12)


def test_scan_fori_while_cond_run_as_generated_code(no_interpreter) -> None:
    def f(x, ws):
        c, ys = lax.scan(lambda c, w: (np.tanh(c * w + x), c * w), x, ws)
        c = lax.fori_loop(0, 3, lambda i, c: c * 0.9 + i, c)
        k, c = lax.while_loop(lambda s: s[0] < 4, lambda s: (s[0] + 1, np.sin(s[1])), (0, c))
        c = lax.cond(np.sum(c) > 0, lambda v: v * 2.0, lambda v: -v, c)
        return c, ys, k
    x, ws = onp.linspace(0.1, 0.5, 3), onp.linspace(-1, 1, 12).reshape(4, 3)
    want = f(x, ws)
    jitted = xform.jit(f)
    source = jitted.lower(x, ws).python_source()
    assert "for " in source and "while True:" in source and "if " in source
    jitted(x, ws)  # compiled
    with no_interpreter:
        got = jitted(x, ws)
    _close(got, want)


def test_scan_outputs_fill_preallocated_buffers_and_reverse_order() -> None:
    def f(xs):
        return lax.scan(lambda c, x: (c + x, (c * x, x[0])), np.zeros(2), xs, reverse=True)
    xs = onp.arange(10.0).reshape(5, 2)
    want, jitted = _eager_and_jit(f, xs)
    generated = jitted.lower(xs).compile()
    # each step writes its row into a buffer; no list of rows is stacked at the end
    assert len(re.findall(r"\n +v\d+\[v\d+\] = ", generated.source)) == 2, generated.source
    assert any(isinstance(v, _control._ReusedBuffer) for v in generated.fn.__globals__.values())
    assert not any(getattr(v, "func", None) is _control._scan_impl
                   for v in generated.fn.__globals__.values())
    _close(jitted(xs), want)


def test_a_stacked_buffer_is_reused_only_when_nothing_holds_it() -> None:
    buf = _control._ReusedBuffer((3, 2), onp.dtype(onp.float64))
    first = buf.take()
    assert buf.take() is not first  # `first` still holds it
    second = buf.take()
    view = second[1]
    assert buf.take() is not second  # a view holds its base
    del view, first
    third = buf.take()
    address = id(third)  # (the pool keeps it alive, so no new array can take its id)
    del third
    assert id(buf.take()) == address  # released: the same array again


def test_results_of_a_jitted_scan_survive_later_calls() -> None:
    # stacked outputs returned to the caller (and views of them) are never reused
    def f(xs):
        carry, ys = lax.scan(lambda c, x: (c + x, c * x), np.zeros(2), xs)
        return ys, ys[1:]
    jitted = xform.jit(f)
    a, b = onp.arange(10.0).reshape(5, 2), -onp.arange(10.0).reshape(5, 2) ** 2
    ys_a, view_a = jitted(a)
    kept = ys_a.copy(), view_a.copy()
    ys_b, view_b = jitted(b)
    del ys_b
    jitted(a + 1.0)
    _close((ys_a, view_a), kept)
    _close(view_b, f(b)[1])
    # residuals stacked for reverse mode are internal: the gradient stays right call after call
    g = xform.jit(xform.grad(lambda xs: np.sum(f(xs)[0] ** 2)))
    for xs in (a, b, a * 0.5, a):
        _close(g(xs), xform.grad(lambda xs: np.sum(f(xs)[0] ** 2))(xs))


def test_loop_invariant_work_is_hoisted_out_of_the_loop() -> None:
    def f(x, w):
        return lax.fori_loop(0, 5, lambda i, c: c * np.exp(w) + np.sum(np.cos(w)), x)
    x, w = onp.ones(3), onp.array([0.1, 0.2, 0.3])
    want, jitted = _eager_and_jit(f, x, w)
    source = jitted.lower(x, w).python_source()
    loop = source.index("for ")
    assert 0 <= source.find("_np.exp") < loop and 0 <= source.find("_np.cos") < loop, source
    _close(jitted(x, w), want)


def test_zero_length_scan_and_literal_init_give_arrays() -> None:
    def f(x):
        c, ys = lax.scan(lambda c, _: (c + 1.0, c * x), 0.0, None, length=0)
        d = lax.fori_loop(0, 0, lambda i, c: c + x, 1.0)
        return c, ys, d
    x = onp.float64(2.0)
    want, jitted = _eager_and_jit(f, x)
    got = jitted(x)
    _close(got, want)
    assert got[1].shape == (0,) and onp.result_type(got[0]) == onp.float64


def test_switch_clamps_its_index_like_the_interpreter() -> None:
    def f(i, x):
        return lax.switch(i, [lambda v: v + 1.0, lambda v: v * 3.0, lambda v: -v], x)
    jitted = xform.jit(f)
    for i in (-2, 0, 1, 2, 7):
        _close(jitted(onp.int64(i), onp.float64(1.5)), f(i, 1.5))


def test_nested_loops_and_branches_inside_a_scan() -> None:
    def f(x, xs):
        def step(c, row):
            inner = lax.fori_loop(0, 2, lambda i, a: a * row + c, c)
            picked = lax.cond(np.sum(row) > 0, lambda v: v, lambda v: 2.0 * v, inner)
            return np.tanh(picked), np.sum(picked)
        return lax.scan(step, x, xs)
    x, xs = onp.array([0.3, -0.2]), onp.linspace(-1, 1, 8).reshape(4, 2)
    want, jitted = _eager_and_jit(f, x, xs)
    _close(jitted(x, xs), want)


def test_bodies_are_optimised_by_the_jit_passes() -> None:
    def f(x):
        # the body computes sin twice and one unused value: CSE and DCE clean it up
        return lax.fori_loop(0, 3, lambda i, c: np.sin(c) + np.sin(c) + 0.0 * np.cos(c) * 0,
                             x)
    source = xform.jit(f).lower(onp.ones(2)).python_source()
    body = source[source.index("for "):]
    assert body.count("_np.sin") == 1, source


def test_jitted_gradients_through_loops_match_eager_and_differences() -> None:
    def f(a, x):
        c = lax.fori_loop(0, 4, lambda i, c: np.sin(c) * a + 0.1 * i, x)
        c, ys = lax.scan(lambda c, w: (c * w + a, np.cos(c)), c, onp.linspace(0.5, 1.0, 3))
        return np.sum(c) + np.sum(ys)
    a, x = onp.array([0.7, 0.9]), onp.array([0.2, -0.4])
    jg = xform.jit(xform.grad(f, (0, 1)))
    _close(jg(a, x), xform.grad(f, (0, 1))(a, x))
    check_grads(xform.jit(f), (a, x), order=2, modes=("fwd", "rev"))


# ---------------------------------------------------------------------------- reverse mode of scan
def _count(jaxpr, name: str) -> int:
    """Equations of primitive ``name`` in ``jaxpr``, sub-jaxprs included."""
    n = 0
    for eqn in jaxpr.eqns:
        n += eqn.prim.name == name
        for p in eqn.params.values():
            for sub in (p if isinstance(p, tuple) else (p,)):
                if hasattr(sub, "eqns"):
                    n += _count(sub, name)
    return n


def test_reverse_mode_of_scan_saves_residuals_instead_of_replaying() -> None:
    def loss(a, c, y0):
        return np.sum(lax.fori_loop(0, 50, lambda i, y: np.sin(y) * a + c, y0))
    args = (onp.linspace(0.5, 1.0, 8), onp.linspace(-0.1, 0.1, 8), onp.linspace(0.1, 0.8, 8))
    lowered = xform.jit(xform.grad(loss, (0, 1, 2))).lower(*args)
    program = lowered.optimized.jaxpr
    # one forward loop (the body once, saving sin and cos) and one reverse loop
    assert _count(program, "scan") == 2 and _count(program, "sin") == 1, lowered.as_text()
    _close(lowered.compile().fn(*args), xform.grad(loss, (0, 1, 2))(*args))


def _staged(f, *args):
    """``f`` as its staged program, so that transforms meet the scan primitive itself
    (concrete calls of ``lax.scan`` run as Python loops)."""
    closed = xform.make_jaxpr(f)(*args)
    from xform.interpreters.eval import eval_closed_jaxpr
    return lambda *a: eval_closed_jaxpr(closed, *xform.tree_util.tree_leaves(a))[0]


def _scan_program(w, c0, xs):
    def body(carry, x):
        c, d = carry
        h = np.tanh(c * x[0] + w) * x[1] + d
        return (h, c[::-1] * 0.5), (np.sum(h * w), np.cos(c))
    (c, d), (s, cs) = lax.scan(body, (c0, c0 + 1.0), xs, reverse=True)
    return np.sum(c * d) + np.sum(s ** 2) + np.sum(cs)


@pytest.mark.parametrize("order", [1, 2])
def test_scan_rule_matches_differences_to_second_order(order: int) -> None:
    rng = onp.random.default_rng(0)
    w, c0 = rng.standard_normal(3), rng.standard_normal(3)
    xs = (rng.standard_normal((4, 3)), rng.standard_normal((4, 3)))
    f = _staged(_scan_program, w, c0, xs)
    check_grads(f, (w, c0, xs), order=order, modes=("rev",))


def test_jitted_hessian_and_jacrev_of_a_scan_match_eager() -> None:
    rng = onp.random.default_rng(1)
    w, c0 = rng.standard_normal(3), rng.standard_normal(3)
    xs = (rng.standard_normal((4, 3)), rng.standard_normal((4, 3)))
    f = lambda w, c0: _scan_program(w, c0, xs)  # noqa: E731
    _close(xform.jit(xform.hessian(f, (0, 1)))(w, c0), xform.hessian(f, (0, 1))(w, c0))
    g = lambda w: lax.scan(lambda c, x: (np.sin(c) * w + x, c * w), w, xs[0])[1]  # noqa: E731
    _close(xform.jit(xform.jacrev(g))(w), xform.jacrev(g)(w))
    _close(xform.jit(xform.grad(lambda w: np.sum(g(w))))(w), xform.grad(lambda w: np.sum(g(w)))(w))


# ---------------------------------------------------------------------------- pruning loops
def _scans(jaxpr) -> list:
    """The scan equations of ``jaxpr``, sub-jaxprs included."""
    found = []
    for eqn in jaxpr.eqns:
        if eqn.prim.name == "scan":
            found.append(eqn)
        for p in eqn.params.values():
            for sub in (p if isinstance(p, tuple) else (p,)):
                if hasattr(sub, "eqns"):
                    found += _scans(sub)
    return found


def test_the_reverse_loop_carries_no_cotangent_that_nothing_asked_for() -> None:
    # the closed-over arrays are loop constants whose cotangents nobody asks for: the
    # reverse loop carries none for them
    k, c = onp.linspace(0.5, 1.0, 6), onp.linspace(-0.2, 0.3, 6)

    def loss(y0):
        return np.sum(lax.fori_loop(0, 5, lambda i, y: np.sin(y) * k + c * y, y0) ** 2)
    y0 = onp.linspace(0.1, 0.9, 6)
    lowered = xform.jit(xform.grad(loss)).lower(y0)
    scans = _scans(lowered.optimized.jaxpr)
    assert len(scans) == 2 and all(e.params["n_carry"] == 1 for e in scans), lowered.as_text()
    assert all(e.params["n_carry"] == 1 for e in _scans(lowered.jaxpr.jaxpr))
    _close(lowered.compile().fn(y0)[0], xform.grad(loss)(y0))


def test_a_pruned_scan_keeps_what_its_used_results_need() -> None:
    def f(c0, xs):
        def body(carry, x):
            a, b, dead = carry  # a reads b, so b stays although only a is returned
            y = np.sin(a) * x
            return (a + b, b * 0.5, dead + 1.0), (y, y, np.cos(x))
        (a, _, _), (y1, y2, _) = lax.scan(body, (c0, c0 + 1.0, c0), xs)
        return a, y1 - 2.0 * y2
    c0, xs = onp.array([0.3, -0.2]), onp.linspace(-1, 1, 8).reshape(4, 2)
    want, jitted = _eager_and_jit(f, c0, xs)
    _close(jitted(c0, xs), want)
    lowered = jitted.lower(c0, xs)
    (scan,) = _scans(lowered.optimized.jaxpr)
    body = scan.params["body"]
    # two carries (a, b) and one stacked output, y stored once; cos(x) is gone
    assert scan.params["n_carry"] == 2 and len(body.outvars) == 3, lowered.as_text()
    assert _count(body, "cos") == 0
    source = lowered.python_source()
    assert source.count("].take()") + source.count("_np.empty") <= 1, source


def test_a_loop_whose_results_are_unused_still_prints_under_jit(capsys) -> None:
    def f(x):
        lax.fori_loop(0, 3, lambda i, c: (xform.debug.print("step {i}", i=i), c + 1.0)[1], x)
        return x * 2.0
    jitted = xform.jit(f)
    for _ in range(2):
        assert jitted(1.0) == 2.0
    assert capsys.readouterr().out.split() == ["step", "0", "step", "1", "step", "2"] * 2
    # two equal loops that print are two loops
    def g(x):
        for _ in range(2):
            lax.fori_loop(0, 1, lambda i, c: (xform.debug.print("once"), c)[1], x)
        return x
    xform.jit(g)(1.0)
    assert capsys.readouterr().out.split() == ["once", "once"]


def test_while_and_cond_lose_the_results_no_one_uses() -> None:
    def f(x, k):
        def body(c):
            i, a, b, spare = c
            return i + 1, a * 0.5 + k, np.sin(b), spare + np.cos(a)
        i, a, _, _ = lax.while_loop(lambda c: c[0] < 4, body, (0, x, x, x))
        hi, _ = lax.cond(a[0] > 0, lambda v: (v * 2.0, np.exp(v)), lambda v: (v - 1.0, v), a)
        return i, hi
    x, k = onp.array([0.3, -0.2]), onp.array([0.1, 0.2])
    want, jitted = _eager_and_jit(f, x, k)
    _close(jitted(x, k), want)
    program = jitted.lower(x, k).optimized.jaxpr
    (loop,) = [e for e in program.eqns if e.prim.name == "while"]
    (branch,) = [e for e in program.eqns if e.prim.name == "cond"]
    # b and spare are gone from the loop (sin, cos with them), exp from the branch
    assert len(loop.outvars) == 2 and _count(loop.params["body"], "sin") == 0
    assert _count(loop.params["body"], "cos") == 0
    assert len(branch.outvars) == 1 and _count(branch.params["branches"][0], "exp") == 0


@pytest.mark.parametrize("with_value", [True, False])
def test_a_print_in_a_differentiated_loop_runs_once_per_step_and_call(capsys, with_value) -> None:
    # reverse mode splits the body into a forward and a backward loop: the print is
    # the forward loop's, and a print of no traced value is not hoisted out of it
    def f(x):
        def body(i, c):
            if with_value:
                xform.debug.print("step {i}", i=i)
            else:
                xform.debug.print("step")
            return np.sin(c) * 1.5
        return lax.fori_loop(0, 3, body, x)
    want = ["step", "0", "step", "1", "step", "2"] if with_value else ["step"] * 3
    g = xform.jit(xform.grad(f))
    for _ in range(2):
        onp.testing.assert_allclose(g(0.5), xform.grad(f)(0.5))
        out = capsys.readouterr().out.split()
        assert out == want * 2, out  # the eager grad's steps, then the jitted one's


def test_cotangents_asked_for_alone_match_those_asked_for_together() -> None:
    # the reverse loop computes only the cotangents asked for: each alone must equal
    # its part of the joint gradient (a loop constant, a carry, an xs operand)
    def f(a, c0, xs):
        c, ys = lax.scan(lambda c, x: (np.sin(c) * a + x, c * x), c0, xs)
        return np.sum(c) + np.sum(ys ** 2)
    a, c0 = onp.array([0.7, 0.9]), onp.array([0.2, -0.4])
    xs = onp.linspace(-1, 1, 6).reshape(3, 2)
    f_staged = _staged(f, a, c0, xs)
    for fun in (f, f_staged, xform.jit(f)):
        joint = xform.grad(fun, (0, 1, 2))(a, c0, xs)
        for k in range(3):
            _close(xform.grad(fun, k)(a, c0, xs), joint[k])
