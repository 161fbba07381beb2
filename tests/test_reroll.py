"""Loop rerolling (xform/jit/reroll.py): unrolled Python loops become scans under
``jit(backend="xla")``, with results unchanged."""
from __future__ import annotations

from typing import Any, Callable

import numpy as onp
import pytest
from hypothesis import given, settings, strategies as st

import xform
import xform.numpy as np
from xform.interpreters.eval import eval_jaxpr
from xform.jit.codegen import generate
from xform.jit.reroll import reroll


def _scans(closed: Any) -> list[Any]:
    return [e for e in closed.eqns if e.prim.name == "scan"]


def _check(f: Callable[..., Any], *args: Any, min_reps: int = 4, min_eqns: int = 24) -> Any:
    """Reroll jit(f)'s optimised program; the rolled program (evaluated, and as
    generated NumPy code) gives what the unrolled one gives. Returns it."""
    closed = xform.jit(f).lower(*args).optimized
    rolled = reroll(closed, min_reps, min_eqns)
    want = eval_jaxpr(closed.jaxpr, closed.consts, *args)
    got = eval_jaxpr(rolled.jaxpr, rolled.consts, *args)
    gen = generate(rolled).fn(*args)
    for w, g, c in zip(want, got, gen):
        onp.testing.assert_allclose(g, w, rtol=1e-13, atol=1e-13)
        onp.testing.assert_allclose(c, w, rtol=1e-13, atol=1e-13)
    return rolled


def chain(y: Any) -> Any:
    for _ in range(30):
        y = np.sin(y) * 0.9 + 0.1
    return np.sum(y)


def test_a_chain_and_its_gradient_become_two_scans():
    y = onp.linspace(0.0, 1.0, 8)
    forward = _check(chain, y)
    assert [e.prim.name for e in forward.eqns] == ["scan", "reduce_sum"]
    rolled = _check(xform.grad(chain), y)
    scans = _scans(rolled)
    assert len(scans) == 2 and len(rolled.eqns) <= 4
    # the backward loop reads the forward values in reverse: a reversed scan over
    # the forward scan's stack of carries
    assert [s.params["reverse"] for s in scans] == [False, True]
    assert scans[1].invars[-1] is scans[0].outvars[-1]


def test_rows_of_an_input_become_the_scans_xs_forwards_and_backwards():
    def rnn(h: Any, xs: Any) -> Any:
        for t in range(12):
            h = np.tanh(h * 0.5 + xs[t])
        return np.sum(h)

    def backwards(h: Any, xs: Any) -> Any:
        for t in range(10, 0, -1):
            h = np.tanh(h * 0.5 + xs[t] * xs[t - 12])  # rows 10 .. 1, twice
        return np.sum(h)

    h, xs = onp.linspace(-1, 1, 4), onp.random.RandomState(0).randn(12, 4)
    assert len(_scans(_check(rnn, h, xs))) == 1
    assert len(_scans(_check(backwards, h, xs))) == 1
    for f in (rnn, backwards):
        _check(xform.grad(f, (0, 1)), h, xs)


def test_several_carries_that_trade_places():
    def fib(a: Any, b: Any) -> Any:
        for _ in range(20):
            a, b = b, np.sin(a) + b * 0.5
        return np.sum(a * b)

    rolled = _check(fib, onp.ones(3), onp.full(3, 0.5))
    assert len(_scans(rolled)) == 1 and _scans(rolled)[0].params["n_carry"] == 2
    _check(xform.grad(fib, (0, 1)), onp.ones(3), onp.full(3, 0.5))


def test_every_steps_value_read_after_the_loop_is_a_row_of_a_stack():
    def collect(y: Any) -> Any:
        out = []
        for _ in range(10):
            y = np.cos(y) * 1.5
            out.append(y * y)
        return np.stack(out) @ onp.arange(3.0)

    rolled = _check(collect, onp.array([0.1, 0.2, 0.3]))
    assert len(_scans(rolled)) == 1
    _check(xform.jacrev(collect), onp.array([0.1, 0.2, 0.3]))


def test_nested_python_loops_become_nested_scans():
    def nested(y: Any) -> Any:
        for _ in range(6):
            z = y
            for _ in range(5):
                z = np.sin(z) + y * 0.25
            y = z * 0.5 + 1.0
        return np.sum(y)

    rolled = _check(nested, onp.linspace(0, 1, 5), min_eqns=8)
    (outer,) = _scans(rolled)
    assert [e.prim.name for e in outer.params["body"].eqns].count("scan") == 1
    _check(xform.grad(nested), onp.linspace(0, 1, 5), min_eqns=8)


def test_a_block_reading_two_steps_back_is_rolled_no_further_than_is_right():
    def second_order(a: Any, b: Any) -> Any:
        for _ in range(20):
            a, b = b, np.sin(a) * b  # reads a value made two blocks before
        return np.sum(a + b)

    _check(second_order, onp.full(2, 0.3), onp.full(2, 0.7))

    def lagged(y: Any) -> Any:
        ys = [y]
        for t in range(20):
            ys.append(np.sin(ys[-1]) + ys[max(t - 1, 0)] * 0.5)
        return np.sum(ys[-1])

    _check(lagged, onp.full(2, 0.3))


def test_a_loop_that_prints_keeps_its_prints_in_order(capsys):
    # each print is its own callback (not rolled, as equations of different kinds)
    def loud(y: Any) -> Any:
        for t in range(6):
            y = np.sin(y) + 0.5
            xform.debug.print("y={}", y)
        return y

    _check(loud, onp.array(0.3), min_reps=2, min_eqns=2)
    want = []
    y = 0.3
    for _ in range(6):
        y = onp.sin(y) + 0.5
        want.append(f"y={y}")
    capsys.readouterr()
    xform.jit(loud, backend="xla")(onp.array(0.3))
    printed = capsys.readouterr().out.split()
    assert [float(p[2:]) for p in printed] == pytest.approx([float(w[2:]) for w in want])


def test_jit_xla_runs_a_rerolled_gradient():
    y = onp.linspace(0.0, 1.0, 8)
    g = xform.jit(xform.grad(chain), backend="xla")
    onp.testing.assert_allclose(g(y), xform.grad(chain)(y), rtol=1e-12)
    assert len(_scans(g.lower(y).optimized)) == 2
    # the NumPy backend keeps straight-line code (faster there)
    assert not _scans(xform.jit(xform.grad(chain)).lower(y).optimized)


OPS = [lambda a, b: np.sin(a) * b, lambda a, b: a + b * 0.5, lambda a, b: np.tanh(a - b),
       lambda a, b: a * 0.9, lambda a, b: np.cos(b) + a]


@settings(max_examples=25, deadline=None)
@given(steps=st.integers(1, 9), ncarry=st.integers(1, 3),
       plan=st.lists(st.tuples(st.integers(0, 4), st.integers(0, 5), st.integers(0, 5)),
                     min_size=1, max_size=5),
       row=st.booleans())
def test_random_loops_keep_their_results(steps, ncarry, plan, row):
    """Loops of random bodies (carries read in any order, a row of xs or not, with a
    gradient): the rolled program computes what the unrolled one does."""
    def f(c0: Any, xs: Any) -> Any:
        carry = [c0 * (k + 1.0) for k in range(ncarry)]
        for t in range(steps):
            vals = list(carry) + ([xs[t]] if row else [c0])
            for op, i, j in plan:
                vals.append(OPS[op](vals[i % len(vals)], vals[j % len(vals)]))
            carry = vals[-ncarry:]
        return np.sum(np.stack(carry))

    c0, xs = onp.linspace(0.1, 0.5, 3), onp.random.RandomState(1).randn(9, 3) * 0.3
    _check(f, c0, xs, min_reps=2, min_eqns=2)
    _check(xform.grad(f, (0, 1)), c0, xs, min_reps=2, min_eqns=2)
