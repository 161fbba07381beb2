"""jit: caching, static arguments, errors, the IR passes, generated code, and
composition with every other transform."""
from __future__ import annotations

import numpy as onp
import pytest

import xform
import xform.numpy as np
from xform import lax
from xform.core.ir import ClosedJaxpr
from xform.interpreters.eval import eval_closed_jaxpr
from xform.jit import passes

RNG = onp.random.default_rng(0)


def mlp(params, x):
    for W, b in params[:-1]:
        x = np.tanh(x @ W + b)
    W, b = params[-1]
    return np.sum((x @ W + b) ** 2)


PARAMS = [(RNG.standard_normal((4, 5)), RNG.standard_normal(5)),
          (RNG.standard_normal((5, 2)), RNG.standard_normal(2))]
X = RNG.standard_normal((3, 4))


def assert_tree_close(a, b, **kw):
    la, ta = xform.tree_util.tree_flatten(a)
    lb, tb = xform.tree_util.tree_flatten(b)
    assert ta == tb
    for x, y in zip(la, lb):
        onp.testing.assert_allclose(x, y, **kw)


# ----------------------------------------------------------------------------- basics
def test_jit_matches_eager_and_caches_per_signature():
    calls = []

    def f(x, y):
        calls.append(1)
        return np.sum(np.sin(x) * y) + np.max(x)

    jf = xform.jit(f)
    x, y = RNG.standard_normal(4), RNG.standard_normal(4)
    assert onp.isclose(jf(x, y), f(x, y))
    n = len(calls)
    jf(x + 1.0, y)                      # same signature: no retrace
    assert len(calls) == n
    jf(RNG.standard_normal(5), RNG.standard_normal(5))  # new shape: retrace
    assert len(calls) == n + 1
    jf(x.astype(onp.float32), y.astype(onp.float32))    # new dtype: retrace
    assert len(calls) == n + 2


def test_outputs_are_plain_writable_numpy_and_keep_structure():
    out = xform.jit(lambda p: {"a": p["x"] * 2.0, "b": [np.broadcast_to(p["y"], (3,))]})(
        {"x": onp.ones(2), "y": 1.0})
    assert isinstance(out["a"], onp.ndarray) and out["b"][0].flags.writeable
    onp.testing.assert_array_equal(out["b"][0], onp.ones(3))


def test_static_argnums_and_argnames_allow_python_control_flow():
    def f(x, n, mode="sin"):
        for _ in range(n):
            x = np.sin(x) if mode == "sin" else np.cos(x)
        return x

    jf = xform.jit(f, static_argnums=1, static_argnames="mode")
    assert onp.isclose(jf(0.5, 3), f(0.5, 3))
    assert onp.isclose(jf(0.5, 2, mode="cos"), f(0.5, 2, mode="cos"))
    with pytest.raises(TypeError, match="hashable"):
        xform.jit(lambda x, s: x, static_argnums=1)(1.0, [1, 2])


def test_value_dependent_if_names_function_and_suggests_fixes():
    def branchy(x, y):
        if x > 0:
            return x * y
        return y

    with pytest.raises(xform.ConcretizationError) as e:
        xform.jit(branchy)(1.0, 2.0)
    msg = str(e.value)
    assert "branchy" in msg and "static_argnums" in msg and "xform.lax.cond" in msg
    assert "'x'" in msg and "'y'" in msg
    # the lax version works
    f = xform.jit(lambda x, y: lax.cond(x > 0, lambda a: a[0] * a[1], lambda a: a[1], (x, y)))
    assert f(1.0, 2.0) == 2.0 and f(-1.0, 2.0) == 2.0


def test_lower_shows_ir_and_python_source_without_constants_as_text():
    big = RNG.standard_normal((3, 3))
    lowered = xform.jit(lambda x: np.tanh(big @ x) * 2.5).lower(onp.ones(3))
    text, source = lowered.as_text(), lowered.python_source()
    assert "tanh" in text and "lambda" in text
    assert source.startswith("def jit_") and "_np.tanh" in source
    assert "2.5" not in source and repr(big[0, 0])[:6] not in source


# ----------------------------------------------------------------------------- composition
def test_jit_of_grad_matches_grad():
    assert_tree_close(xform.jit(xform.grad(mlp))(PARAMS, X), xform.grad(mlp)(PARAMS, X))


def test_grad_of_jit_and_jit_inside_jit():
    inner = xform.jit(lambda x: np.sin(x) * x)
    f = lambda x: np.sum(inner(x) ** 2)  # noqa: E731
    x = RNG.standard_normal(3)
    onp.testing.assert_allclose(xform.grad(f)(x), xform.jit(xform.grad(f))(x))
    onp.testing.assert_allclose(xform.jit(f)(x), f(x))


def test_vmap_and_jit_compose_both_ways():
    f = lambda x, y: np.dot(np.tanh(x), y)  # noqa: E731
    xs, ys = RNG.standard_normal((4, 3)), RNG.standard_normal((4, 3))
    expected = onp.array([f(a, b) for a, b in zip(xs, ys)])
    onp.testing.assert_allclose(xform.jit(xform.vmap(f))(xs, ys), expected)
    onp.testing.assert_allclose(xform.vmap(xform.jit(f))(xs, ys), expected)


def test_jit_of_hessian_and_jacobians():
    f = lambda x: np.sum(np.sin(x) * x ** 2) + np.prod(x)  # noqa: E731
    x = RNG.standard_normal(4)
    onp.testing.assert_allclose(xform.jit(xform.hessian(f))(x), xform.hessian(f)(x))
    g = lambda x: np.tanh(PARAMS[0][0] @ x)  # noqa: E731
    x5 = RNG.standard_normal(5)
    onp.testing.assert_allclose(xform.jit(xform.jacfwd(g))(x5), xform.jacrev(g)(x5))
    onp.testing.assert_allclose(xform.jit(xform.jacrev(g))(x5), xform.jacfwd(g)(x5))


def test_lax_control_flow_under_jit():
    def f(x, ws):
        c, ys = lax.scan(lambda c, w: (np.tanh(c * w + x), c), x, ws)
        c = lax.fori_loop(0, 3, lambda i, c: c * 0.9 + i, c)
        return c + np.sum(ys) + lax.cond(c > 0, lambda v: v, lambda v: -v, c)

    x, ws = 0.3, RNG.standard_normal(5)
    assert onp.isclose(xform.jit(f)(x, ws), f(x, ws))
    assert_tree_close(xform.jit(xform.grad(f, (0, 1)))(x, ws), xform.grad(f, (0, 1))(x, ws))


# ----------------------------------------------------------------------------- passes
def _closed(f, *args) -> ClosedJaxpr:
    return xform.make_jaxpr(f)(*args)


def _same_results(before: ClosedJaxpr, after: ClosedJaxpr, *args) -> None:
    for a, b in zip(eval_closed_jaxpr(before, *args), eval_closed_jaxpr(after, *args)):
        onp.testing.assert_allclose(a, b)


def test_dce_removes_unused_equations():
    def f(x):
        unused = np.exp(x) * 3.0  # noqa: F841
        return np.sin(x)
    c = _closed(f, onp.ones(3))
    d = passes.dce(c)
    assert len(d.eqns) == 1 and d.eqns[0].prim.name == "sin"
    _same_results(c, d, onp.arange(3.0))


def test_cse_reuses_repeated_computations():
    c = _closed(lambda x: np.sin(x) * np.sin(x) + np.sin(x), onp.ones(3))
    d = passes.dce(passes.cse(c))
    assert [e.prim.name for e in d.eqns].count("sin") == 1
    _same_results(c, d, onp.arange(3.0))


def test_cse_tells_apart_primitives_that_share_a_name():
    # two user primitives both called "<lambda>": merging them gave [4, 4] for [12, 12]
    from xform.extend import primitive
    plus_one = primitive(lambda x: x + 1.0)
    times_ten = primitive(lambda x: x * 10.0)
    f = lambda x: plus_one(x) + times_ten(x)  # noqa: E731
    x = onp.ones(2)
    assert onp.allclose(xform.jit(f)(x), f(x))
    assert onp.allclose(f(x), [12.0, 12.0])


def test_constant_folding_evaluates_constant_subexpressions():
    # Tracing already evaluates operations on plain constants, so build by hand the
    # kind of IR other passes leave behind: { lambda c ; a. d = sin c; e = add a d }
    from xform.core.ir import Eqn, Jaxpr, ShapedArray, Var
    from xform.numpy._elementwise import add_p, sin_p
    av = ShapedArray((3,), onp.float64)
    c, a, d, e = Var(av), Var(av), Var(av), Var(av)
    k = onp.arange(3.0)
    closed = ClosedJaxpr(Jaxpr([c], [a], [Eqn(sin_p, [c], [d], {}), Eqn(add_p, [a, d], [e], {})],
                               [e]), [k])
    folded = passes.dce(passes.fold_constants(closed))
    assert [eq.prim.name for eq in folded.eqns] == ["add"]
    _same_results(closed, folded, onp.ones(3))


def test_simplify_removes_identities_and_fuses_transposes():
    def f(x):
        y = (x * 1.0 + 0.0) / 1.0 - 0.0
        z = np.transpose(np.transpose(y, (1, 0, 2)), (1, 0, 2))
        w = np.reshape(np.reshape(z, (6, 4)), (24,))
        return w + np.broadcast_to(2.0 * np.sum(x), (24,))
    c = _closed(f, onp.ones((2, 3, 4)))
    s = passes.dce(passes.simplify(c))
    names = [e.prim.name for e in s.eqns]
    assert "transpose" not in names and names.count("reshape") == 1
    assert "broadcast_to" not in names and "divide" not in names
    _same_results(c, s, RNG.standard_normal((2, 3, 4)))


def test_simplify_folds_negations_into_additions_exactly():
    # x + (-y) is x - y in IEEE arithmetic (signed zeros and infinities included)
    def f(x, y):
        return x + (-y), (-y) + x, x - (-y), np.negative(y) * x
    x = onp.array([0.0, -0.0, 1.5, onp.inf, -2.0, 0.0])
    y = onp.array([0.0, 0.0, -0.0, onp.inf, 3.0, -0.0])
    optimized = xform.jit(f).lower(x, y).optimized
    names = [e.prim.name for e in optimized.eqns]
    # both sums became x - y (then one, by CSE); x - (-y) became x + y; the product
    # keeps its negation
    assert names == ["negative", "subtract", "add", "multiply"], names
    with onp.errstate(invalid="ignore"):
        for got, want in zip(xform.jit(f)(x, y), f(x, y)):
            onp.testing.assert_array_equal(got, want)
            onp.testing.assert_array_equal(onp.signbit(got), onp.signbit(want))
    # a broadcast negation keeps the result's shape; an unused one is dropped
    g = lambda x, s: x + (-s)  # noqa: E731
    lowered = xform.jit(g).lower(onp.ones((2, 3)), onp.ones(3))
    assert [e.prim.name for e in lowered.optimized.eqns] == ["subtract"]
    onp.testing.assert_allclose(xform.jit(g)(onp.ones((2, 3)), onp.arange(3.0)),
                                onp.ones((2, 3)) - onp.arange(3.0))


def test_transpose_of_square_matrix_is_not_dropped():
    c = _closed(lambda x: np.transpose(x) * 1.0, onp.ones((3, 3)))
    s = passes.optimize(c)
    m = RNG.standard_normal((3, 3))
    onp.testing.assert_allclose(eval_closed_jaxpr(s, m)[0], m.T)


def test_every_pass_preserves_results_on_a_gradient_program():
    c = _closed(xform.grad(mlp), PARAMS, X)
    args = xform.tree_util.tree_flatten([PARAMS, X])[0]
    for p in passes.DEFAULT_PASSES:
        _same_results(c, p(c), *args)
    _same_results(c, passes.optimize(c), *args)


def test_simplify_drops_a_multiplication_by_a_constant_array_of_ones():
    # the cotangent of a sum is an array of ones: the optimised gradient has no such product
    lowered = xform.jit(xform.grad(lambda x: np.sum(np.sin(x) ** 2))).lower(onp.ones(3))
    assert len(lowered.optimized.eqns) < len(lowered.jaxpr.eqns)
    assert not lowered.optimized.consts
    x = RNG.standard_normal(3)
    onp.testing.assert_allclose(xform.jit(xform.grad(lambda x: np.sum(np.sin(x) ** 2)))(x),
                                2 * onp.sin(x) * onp.cos(x))


# ----------------------------------------------------------------------------- facts
# The passes and the code generator read what they know of an op from its primitive
# (xform/core/primitive.py), not from tables of names.
def _optimized_names(f, *args) -> list[str]:
    return [e.prim.name for e in xform.jit(f).lower(*args).optimized.eqns]


@pytest.mark.parametrize("op", [np.logaddexp2, np.fmax, np.mod, np.heaviside, np.hypot])
def test_redundant_broadcast_is_dropped_for_every_broadcasting_op(op):
    # the pass once knew a list of 17 names, which missed logaddexp2, fmax, mod...
    f = lambda x, s: op(x, np.broadcast_to(s, (3, 4)))  # noqa: E731
    x, s = RNG.uniform(0.5, 2.0, (3, 4)), RNG.uniform(0.5, 2.0, 4)
    assert _optimized_names(f, x, s) == [op.__name__]
    onp.testing.assert_allclose(xform.jit(f)(x, s), f(x, s))


def test_simplify_drops_each_declared_identity_and_fuses_chains():
    from xform.core.trace import bind
    from xform.numpy._elementwise import convert_p
    from xform.numpy._shape import broadcast_to_p, reshape_p, transpose_p

    def identities(x):
        y = 1.0 * (-0.0 + x) ** 1 - 0.0  # (0.0 + x is not x at x = -0.0)
        y = np.positive(xform.stop_gradient(y / 1.0))
        y = bind(convert_p, y, dtype=onp.dtype(onp.float64))
        y = bind(transpose_p, bind(reshape_p, y, shape=(2, 3, 4)), axes=(0, 1, 2))
        return np.sin(bind(broadcast_to_p, y, shape=(2, 3, 4)))

    x = RNG.standard_normal((2, 3, 4))
    assert _optimized_names(identities, x) == ["sin"]
    onp.testing.assert_allclose(xform.jit(identities)(x), onp.sin(x))

    def chains(x):  # (2, 0, 1) then (0, 2, 1) is the single permutation (2, 1, 0)
        y = np.transpose(np.transpose(x, (2, 0, 1)), (0, 2, 1))
        return np.reshape(np.reshape(y, (6, 4)), (24,))
    optimized = xform.jit(chains).lower(x).optimized
    assert [(e.prim.name, e.params) for e in optimized.eqns] == [
        ("transpose", {"axes": (2, 1, 0)}), ("reshape", {"shape": (24,)})]
    onp.testing.assert_allclose(xform.jit(chains)(x), chains(x))


def test_jit_uses_the_facts_a_new_primitive_declares():
    from xform.core import algebra, emit
    from xform.core.primitive import Primitive
    from xform.core.trace import bind

    times_p = Primitive("times", onp.multiply, register=False)
    times_p.emit = emit.infix("*")
    times_p.identities = algebra.identity_element(1.0)
    times_p.broadcasting = True

    def f(x, s):
        return bind(times_p, bind(times_p, x, 1.0), np.broadcast_to(s, (3, 4)))

    x, s = RNG.standard_normal((3, 4)), RNG.standard_normal(4)
    lowered = xform.jit(f).lower(x, s)
    assert [e.prim.name for e in lowered.optimized.eqns] == ["times"]
    assert "(a0 * a1)" in lowered.python_source()
    onp.testing.assert_allclose(xform.jit(f)(x, s), x * s)


def test_jit_passes_keyword_only_and_var_keyword_arguments_by_name():
    """Keywords are bound to parameters for the cache key and passed back by name (they
    were passed positionally, so a keyword-only parameter failed)."""
    f = xform.jit(lambda x, *, k=2.0: x * k)
    assert f(1.0, k=3.0) == 3.0 and f(1.0) == 2.0
    assert xform.jit(lambda x, **kw: x * kw["a"])(1.0, a=4.0) == 4.0
    assert xform.jit(lambda *xs, s=1.0: sum(xs) * s)(1.0, 2.0, s=3.0) == 9.0
    assert xform.jit(lambda x, *, n: x ** n, static_argnames="n")(2.0, n=3) == 8.0
    assert xform.grad(xform.jit(lambda x, *, k=2.0: x * k))(1.0, k=3.0) == 3.0
    assert f.lower(1.0, k=3.0).as_text().count("multiply") == 1


def test_jit_decorates_methods():
    import functools

    class Model:
        def __init__(self, w):
            self.w = w

        @functools.partial(xform.jit, static_argnums=0)
        def scaled(self, x):
            return x * self.w

        @xform.jit
        def unmarked(self, x):
            return x

    assert Model(2.0).scaled(3.0) == 6.0 and Model(5.0).scaled(3.0) == 15.0
    with pytest.raises(TypeError, match="argument 'self'"):
        Model(1.0).unmarked(3.0)
