"""The lean eager tape and cheaper compiles: the numeric backward sweep is the one
taken when nothing records the backward pass (and only then), the float64-scalar fast
paths of the arithmetic impls give NumPy's results, long programs compile in chunks,
generated code frees intermediates without ``del`` lines, and the elementwise shape
rules agree with running the op."""
from __future__ import annotations

import warnings

import numpy as onp
import pytest

import xform
import xform.numpy as np
from xform import lax
from xform.core.ir import ShapedArray
from xform.core.primitive import registry
from xform.interpreters import vjp as vjp_module
from xform.jit import codegen
from xform.numpy import _elementwise
from xform.test_util import check_grads

from domains import DOMAINS


def _count_numeric_sweeps(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    original = vjp_module.numeric_sweep

    def counting(trace, cts, consume):
        calls.append(len(trace.tape))
        return original(trace, cts, consume)

    monkeypatch.setattr(vjp_module, "numeric_sweep", counting)
    return calls


def test_first_order_grad_takes_the_numeric_sweep(monkeypatch) -> None:
    calls = _count_numeric_sweeps(monkeypatch)
    f = lambda x: np.sum(np.sin(x) * x + 2.0 * x / (1.0 + x * x))
    x = onp.linspace(-1.0, 1.0, 5)
    got = xform.grad(f)(x)
    assert calls, "grad over NumPy values did not take the numeric sweep"
    want = onp.cos(x) * x + onp.sin(x) + 2.0 * (1.0 - x * x) / (1.0 + x * x) ** 2
    onp.testing.assert_allclose(got, want, rtol=1e-12)


def test_higher_order_keeps_the_traceable_rules(monkeypatch) -> None:
    calls = _count_numeric_sweeps(monkeypatch)
    f = lambda x: np.sin(x) * x
    assert onp.isclose(xform.grad(xform.grad(f))(0.7), 2 * onp.cos(0.7) - 0.7 * onp.sin(0.7))
    inner_sweeps = list(calls)
    # the inner grad records on the outer tape: it must not have swept numerically
    assert len(inner_sweeps) == 1  # only the outer, first-order sweep
    calls.clear()
    t = xform.jvp(xform.grad(f), (0.7,), (1.0,))[1]
    assert onp.isclose(t, 2 * onp.cos(0.7) - 0.7 * onp.sin(0.7)) and not calls
    v = xform.vmap(xform.grad(f))(onp.array([0.1, 0.7]))
    onp.testing.assert_allclose(v, onp.cos([0.1, 0.7]) * [0.1, 0.7] + onp.sin([0.1, 0.7]))
    assert not calls
    check_grads(lambda x: np.sum(np.tanh(x) ** 3 / (2.0 + x)), (onp.array([0.3, -0.4]),),
                order=2)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_debug_nans_still_names_the_backward_operation() -> None:
    with xform.debug_nans():
        with pytest.raises(FloatingPointError, match="sqrt"):
            xform.grad(lambda x: np.sqrt(x) * 0.0)(0.0)


def test_nested_trace_ops_on_constants_are_not_recorded() -> None:
    # the inner grad hands its parent (a tape over NumPy) ops on plain values: the
    # parent's short path must return them unrecorded, as its general path does
    def f(x):
        inner = xform.grad(lambda y: np.sin(y) * 3.0)(onp.float64(0.5))
        return x * inner
    assert onp.isclose(xform.grad(f)(2.0), 3.0 * onp.cos(0.5))


@pytest.mark.parametrize("prim", ["add", "subtract", "multiply", "divide", "equal",
                                  "not_equal", "less", "less_equal", "greater",
                                  "greater_equal", "negative", "absolute"])
def test_scalar_fast_path_matches_the_ufunc(prim: str) -> None:
    ufunc = getattr(onp, prim)
    impl = registry[prim].impl
    if ufunc.nin == 1:
        unary = impl
        impl = lambda x, y: unary(x)  # noqa: E731
        ufunc = lambda x, y, u=ufunc: u(x)  # noqa: E731
    values = [onp.float64(1.5), onp.float64(-0.0), 2.0, 3, onp.float64(onp.inf),
              onp.float32(2.5), onp.array(2.0), onp.array([1.0, 2.0]), 1j, True]
    def outcome(fn, x, y):
        with warnings.catch_warnings(record=True) as caught, onp.errstate(all="warn"):
            warnings.simplefilter("always")
            try:
                value = fn(x, y)
            except Exception as e:  # the same error either way
                return type(e), None, 0
        return None, value, len(caught)

    for x in values:
        for y in values:
            got_error, got, got_warnings = outcome(impl, x, y)
            want_error, want, want_warnings = outcome(ufunc, x, y)
            assert got_error is want_error, (prim, x, y)
            if want_error is not None:
                continue
            assert type(got) is type(want), (prim, x, y, type(got), type(want))
            assert onp.result_type(got) == onp.result_type(want), (prim, x, y)
            onp.testing.assert_array_equal(got, want)
            assert got_warnings == want_warnings, (prim, x, y)
    with onp.errstate(divide="raise"):
        with pytest.raises(FloatingPointError):
            _elementwise.divide_p.impl(onp.float64(1.0), 0.0)


def test_elementwise_shape_rules_agree_with_running_the_op() -> None:
    """Every primitive with a computed shape rule: the rule's shape and dtype against
    the default rule (the op run on dummies), on its domains in float64 and float32,
    with Python-scalar and broadcast operands."""
    checked = 0
    for name, prim in sorted(registry.items()):
        if getattr(prim.abstract_eval, "__func__", None) is not None:
            continue  # the default rule
        if prim.abstract_eval.__qualname__ != "float_elementwise_shape.<locals>.rule":
            continue
        for k, domain in enumerate(DOMAINS.get(name, [])):
            args, params = domain.make(onp.random.default_rng(k))
            for dtype in (onp.float64, onp.float32):
                for form in ("arrays", "scalars"):
                    avals = [ShapedArray(onp.shape(a), dtype) if i in domain.diff
                             or form == "arrays" else (float(onp.ravel(a)[0]) if
                             onp.ndim(a) == 0 or form == "scalars" else a)
                             for i, a in enumerate(args)]
                    if not any(isinstance(a, ShapedArray) for a in avals):
                        continue
                    got = prim.abstract_eval(*avals, **params)
                    want = prim._eval_shape(*avals, **params)
                    assert got == want, (name, domain.label, dtype, form, got, want)
                    checked += 1
    assert checked > 100


def test_long_programs_compile_in_chunks(monkeypatch) -> None:
    monkeypatch.setattr(codegen, "CHUNK_EQUATIONS", 5)

    def f(x, y, unused):
        z = np.sin(x) * np.cos(y) + x * y
        s = lax.fori_loop(0, 3, lambda i, c: c * 0.9 + np.tanh(c), z)
        return np.sum(s ** 2) + np.sum(np.exp(y) / (1.0 + x * x)), 2.0, y

    x, y, unused = onp.linspace(0.1, 0.9, 4), onp.linspace(-1.0, 1.0, 4), onp.ones(2)
    for fun in (f, xform.grad(lambda x, y, u: f(x, y, u)[0], (0, 1))):
        jitted = xform.jit(fun)
        source = jitted.lower(x, y, unused).python_source()
        assert "_part2(r)" in source and "r[" in source
        for got, want in zip(jitted(x, y, unused), fun(x, y, unused)):
            onp.testing.assert_allclose(got, want, rtol=1e-12)


def test_generated_code_frees_by_rebinding_names() -> None:
    f = xform.jit(xform.grad(lambda x: np.sum(np.tanh(np.sin(x) * 2.0 + x) ** 2)))
    source = f.lower(onp.ones(3)).python_source()
    lines = source.splitlines()
    assert sum(line.strip().startswith("del ") for line in lines) <= 1, source
    n_names = len({line.split("=")[0].strip() for line in lines if " = " in line})
    assert n_names < len([line for line in lines if " = " in line]), source
    onp.testing.assert_allclose(f(onp.ones(3)), xform.grad(
        lambda x: np.sum(np.tanh(np.sin(x) * 2.0 + x) ** 2))(onp.ones(3)), rtol=1e-12)


@pytest.mark.parametrize("other", [2.0, 3, True, onp.float32(1.5), onp.float64(0.5),
                                   onp.array([1.0, 2.0]), [1.0, 2.0], (2.0, 3.0), None, "s"])
def test_operators_on_tracers_are_the_numpy_functions(other) -> None:
    # a tracer's +, -, *, /, <, > go straight to the trace for most operands: the
    # results, derivatives and errors must be those of the xform.numpy functions
    import operator
    pairs = [(operator.add, np.add), (operator.sub, np.subtract), (operator.mul, np.multiply),
             (operator.truediv, np.divide), (operator.lt, np.less), (operator.gt, np.greater)]
    # Python runs ``other < x`` as ``x > other`` where ``other`` declines: so does NumPy's
    swapped = {np.less: np.greater, np.greater: np.less}
    for op, fn in pairs:
        for flip in (False, True):
            if flip and fn in swapped and not isinstance(other, (onp.ndarray, onp.generic)):
                fn, flip_fn = swapped[fn], False
            else:
                flip_fn = flip
            def by_op(x, op=op, flip=flip):
                y = op(other, x) if flip else op(x, other)
                return np.sum(y * 1.0) if y.dtype != bool else np.sum(np.where(y, x, 0.0))

            def by_fn(x, fn=fn, flip_fn=flip_fn):
                y = fn(other, x) if flip_fn else fn(x, other)
                return np.sum(y * 1.0) if y.dtype != bool else np.sum(np.where(y, x, 0.0))
            x = onp.array([0.7, -1.3])
            try:
                want = xform.value_and_grad(by_fn)(x)
            except Exception as e:  # noqa: BLE001  the same error, by type and text
                with pytest.raises(type(e)) as got:
                    xform.value_and_grad(by_op)(x)
                assert str(got.value) == str(e)
                continue
            got = xform.value_and_grad(by_op)(x)
            onp.testing.assert_array_equal(got[0], want[0])
            onp.testing.assert_array_equal(got[1], want[1])
    neg = xform.grad(lambda x: np.sum(-abs(x) * 2.0))(onp.array([0.5, -2.0]))
    onp.testing.assert_array_equal(neg, [-2.0, 2.0])
