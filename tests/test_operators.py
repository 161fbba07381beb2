"""User-facing behaviour of traced arrays: Python operators, indexing, ndarray
methods, ``.at[]`` updates, the grad family's argument handling, pytrees,
dtypes, and the ``xform.numpy`` functions themselves (NumPy-compatible values,
gradients and tangents against central finite differences).

Most cases are written once as ``f(m, *args)`` and run twice: with ``m = numpy``
for the reference and ``m = xform.numpy`` under the transforms.
"""
from __future__ import annotations

from collections import namedtuple

import numpy as onp
import pytest

import xform
import xform.numpy as np
from xform.tree_util import tree_leaves, tree_structure

from helpers import numerical_grad

_rng = onp.random.default_rng(20240531)


def _r(*shape):
    """Standard normal values, away from 0 (kinks of abs/sign/maximum sit there)."""
    x = _rng.normal(size=shape)
    return onp.where(onp.abs(x) < 0.1, x + onp.sign(x) * 0.2 + 0.2 * (x == 0), x)


def _u(lo, hi, *shape):
    return _rng.uniform(lo, hi, size=shape)


def case(name, f, *args, **tolerances):
    """A table row: ``f(m, *args)``; ``tolerances`` go to ``check_against_numpy``."""
    return pytest.param(f, args, tolerances, id=name)


# finite differences through a float32 round trip need a step far above its rounding
F32_FD = dict(eps=1e-2, rtol=1e-4, atol=1e-5)


def check_against_numpy(f, args, rtol=1e-6, atol=1e-8, eps=1e-6):
    """``f(xform.numpy, *args)`` equals ``f(numpy, *args)``; its gradient (of a
    random weighting of the output) and its tangents match finite differences."""
    args = tuple(onp.asarray(a, dtype=onp.float64) for a in args)
    expected = f(onp, *args)
    got = f(np, *args)
    assert onp.shape(got) == onp.shape(expected)
    assert onp.result_type(got) == onp.result_type(expected)
    # float32 results may round differently (NumPy sums pairwise)
    vtol = 1e-12 if onp.result_type(expected) != onp.float32 else 1e-5
    onp.testing.assert_allclose(got, expected, rtol=vtol, atol=vtol * 1e-2)

    weights = onp.random.default_rng(7).normal(size=onp.shape(expected))

    def loss(m):
        return lambda *a: m.sum(f(m, *a) * weights)

    value, grads = xform.value_and_grad(loss(np), argnums=tuple(range(len(args))))(*args)
    assert onp.isclose(value, loss(onp)(*args), rtol=vtol, atol=vtol)
    for i, (g, a) in enumerate(zip(grads, args)):
        assert onp.shape(g) == a.shape and onp.result_type(g) == a.dtype
        rest = args[:i] + args[i + 1:]
        fd = numerical_grad(loss(onp), a, eps=eps, argnum=i, args=rest)
        onp.testing.assert_allclose(g, fd, rtol=rtol, atol=atol,
                                    err_msg=f"gradient w.r.t. argument {i}")

    tangents = tuple(onp.random.default_rng(11 + i).normal(size=a.shape)
                     for i, a in enumerate(args))
    out, t_out = xform.jvp(lambda *a: f(np, *a), args, tangents)
    onp.testing.assert_allclose(out, expected, rtol=vtol, atol=vtol * 1e-2)
    plus = f(onp, *[a + eps * t for a, t in zip(args, tangents)])
    minus = f(onp, *[a - eps * t for a, t in zip(args, tangents)])
    onp.testing.assert_allclose(t_out, (plus - minus) / (2 * eps), rtol=rtol, atol=atol)


# =============================================================================
# Python operators, including reflected forms with constants on the left
# =============================================================================
A34 = _r(3, 4)

OPERATOR_CASES = [
    case("add", lambda m, x, y: x + y, _r(3), _r(3)),
    case("radd", lambda m, x: 2.0 + x, _r(3)),
    case("sub", lambda m, x, y: x - y, _r(3), _r(3)),
    case("rsub", lambda m, x: 2.0 - x, _r(3)),
    case("mul", lambda m, x, y: x * y, _r(3), _r(3)),
    case("rmul", lambda m, x: 3.0 * x, _r(3)),
    case("div", lambda m, x, y: x / y, _r(3), _u(0.5, 2, 3)),
    case("rdiv", lambda m, x: 2.0 / x, _u(0.5, 2, 3)),
    case("pow-const", lambda m, x: x ** 3, _r(3)),
    case("pow-float", lambda m, x: x ** 2.5, _u(0.5, 2, 3)),
    case("pow-neg", lambda m, x: x ** -1.5, _u(0.5, 2, 3)),
    case("rpow", lambda m, x: 2.0 ** x, _r(3)),
    case("pow-both", lambda m, x, y: x ** y, _u(0.5, 2, 3), _r(3)),
    case("matmul-vec-mat", lambda m, x: x @ A34, _r(3)),
    case("rmatmul-mat-vec", lambda m, x: A34 @ x, _r(4)),
    case("rmatmul-mat-mat", lambda m, x: A34 @ x, _r(4, 2)),
    case("matmul-traced", lambda m, x, y: x @ y, _r(2, 3), _r(3, 4)),
    case("neg", lambda m, x: -x, _r(3)),
    case("pos", lambda m, x: +x, _r(3)),
    case("abs", lambda m, x: abs(x), _r(5)),
    case("mod", lambda m, x: x % 0.7, _u(0.1, 0.6, 3) + onp.array([0.0, 0.7, 1.4])),
    case("rmod", lambda m, y: 2.5 % y, onp.array([0.7, 1.1, 2.0])),
    case("floordiv", lambda m, x: (x // 0.7) * x, _u(0.1, 0.6, 3) + onp.array([0, 0.7, 1.4])),
    case("broadcast-add", lambda m, x, y: x + y, _r(3, 1), _r(4)),
    case("broadcast-mul-scalar-arg", lambda m, x, y: x * y, _r(2, 3), _r()),
    case("mixed", lambda m, x: (1.0 - x) / (1.0 + x * x) - 3.0 ** (x / 4.0), _r(4)),
]


@pytest.mark.parametrize("f, args, tol", OPERATOR_CASES)
def test_operators(f, args, tol):
    check_against_numpy(f, args, **tol)


def test_reflected_operators_with_numpy_on_the_left_return_tracers():
    """ndarray on the left must defer to the tracer (not build an object array)."""
    seen = []

    def f(x):
        for y in (onp.ones(3) - x, onp.ones(3) / x, onp.full(3, 2.0) ** x, A34.T @ x[:3] * 0,
                  onp.ones(3) * x, onp.ones(3) + x):
            seen.append(type(y))
        return np.sum(onp.ones(3) - x)

    onp.testing.assert_allclose(xform.grad(f)(onp.array([1.0, 2.0, 3.0])), -onp.ones(3))
    assert all(issubclass(t, xform.core.trace.Tracer) for t in seen), seen


def test_comparisons_drive_python_control_flow():
    def f(x):
        if x > 1.0:
            return x ** 2
        elif x <= -1.0:
            return -x
        elif x == 0.5 or x != x:
            return 10.0 * x
        return np.sin(x)

    assert xform.grad(f)(2.0) == 4.0
    assert xform.grad(f)(-2.0) == -1.0
    assert xform.grad(f)(0.5) == 10.0
    assert onp.isclose(xform.grad(f)(0.2), onp.cos(0.2))

    def g(x):
        y = x
        while y < 10.0:          # the number of iterations depends on the value
            y = y * 2.0
        return y

    assert xform.grad(g)(3.0) == 4.0    # 3 -> 6 -> 12
    assert xform.grad(g)(1.5) == 8.0    # 1.5 -> 3 -> 6 -> 12

    def h(x):
        inside = (x > 0.0) & (x < 1.0)
        return x * 3.0 if inside else x * 5.0

    assert xform.grad(h)(0.5) == 3.0 and xform.grad(h)(1.5) == 5.0
    assert xform.grad(lambda x: x if 0.0 < x < 1.0 else 2.0 * x)(0.5) == 1.0
    assert xform.grad(lambda x: max(x, 2.0 * x))(1.0) == 2.0   # builtin max uses `>`


def test_comparison_results_are_boolean_and_carry_no_derivative():
    def f(x):
        mask = x > 0.0
        assert mask.dtype == onp.bool_
        return np.sum(np.where(mask, x, 0.0) + mask * 1.0)

    onp.testing.assert_array_equal(xform.grad(f)(onp.array([-1.0, 2.0])), [0.0, 1.0])


# =============================================================================
# Indexing
# =============================================================================
X45 = _r(4, 5)
X234 = _r(2, 3, 4)

INDEX_CASES = [
    case("int", lambda m, x: x[1], X45),
    case("negative-int", lambda m, x: x[-1], X45),
    case("int-int", lambda m, x: x[2, -2], X45),
    case("slice", lambda m, x: x[1:3], X45),
    case("slice-2d", lambda m, x: x[1:, :-2], X45),
    case("negative-step", lambda m, x: x[::-1], X45),
    case("negative-step-2", lambda m, x: x[-1:0:-2, ::-3], X45),
    case("ellipsis", lambda m, x: x[..., 1], X234),
    case("ellipsis-middle", lambda m, x: x[0, ..., ::-1], X234),
    case("none", lambda m, x: x[None], X45),
    case("none-middle", lambda m, x: x[:, None, 1:3], X45),
    case("int-array", lambda m, x: x[onp.array([0, 3])], X45),
    case("int-array-repeated", lambda m, x: x[onp.array([2, 0, 2, 2])], X45),
    case("int-list", lambda m, x: x[[1, 1, 3]], X45),
    case("int-array-2d", lambda m, x: x[onp.array([[0, 1], [3, 3]])], X45),
    case("two-int-arrays", lambda m, x: x[onp.array([0, 3, 3]), onp.array([4, 1, 1])], X45),
    case("int-and-array", lambda m, x: x[1, [0, 4, 4]], X45),
    case("slice-and-array", lambda m, x: x[1:3, onp.array([0, 2])], X45),
    case("array-ellipsis", lambda m, x: x[onp.array([1, 0]), ...], X234),
    case("bool-mask-const", lambda m, x: x[onp.arange(20).reshape(4, 5) % 3 == 0], X45),
    case("bool-mask-rows", lambda m, x: x[onp.array([True, False, True, True])], X45),
    case("bool-mask-traced", lambda m, x: x[x > 0.0], X45),
    case("bool-mask-1d-axis", lambda m, x: x[:, onp.array([True, False, False, True, True])],
         X45),
    case("negative-int-array", lambda m, x: x[onp.array([-1, -4])], X45),
]


@pytest.mark.parametrize("f, args, tol", INDEX_CASES)
def test_getitem(f, args, tol):
    check_against_numpy(f, args, **tol)


def test_traced_integer_index():
    # an integer array computed inside the function (argsort has no derivative)
    x = onp.array([3.0, 1.0, 2.0])
    g = xform.grad(lambda x: np.sum(x[np.argsort(x)] * onp.array([1.0, 10.0, 100.0])))(x)
    onp.testing.assert_array_equal(g, [100.0, 1.0, 10.0])


# =============================================================================
# Attributes, len, iteration
# =============================================================================
def test_attributes_len_and_iteration():
    seen = {}

    def f(x):
        seen.update(shape=x.shape, ndim=x.ndim, size=x.size, dtype=x.dtype, len=len(x),
                    T=x.T.shape, np_shape=np.shape(x), np_ndim=np.ndim(x), np_size=np.size(x))
        rows = [row for row in x]
        seen["rows"] = [r.shape for r in rows]
        total = 0.0
        for i, row in enumerate(x):
            total = total + (i + 1.0) * np.sum(row ** 2)
        return total + np.sum(x.T[0])

    x = _r(3, 2)
    g = xform.grad(f)(x)
    assert seen == dict(shape=(3, 2), ndim=2, size=6, dtype=onp.float64, len=3, T=(2, 3),
                        np_shape=(3, 2), np_ndim=2, np_size=6, rows=[(2,), (2,), (2,)])
    expected = 2.0 * onp.array([[1.0], [2.0], [3.0]]) * x + onp.array([[1.0, 0.0]] * 3)
    onp.testing.assert_allclose(g, expected)


def test_tolist_keeps_the_derivative():
    """``x.tolist()`` of a float array gives Python lists of traced scalars (Python floats
    would make ``sum(x.tolist())`` differentiate to a silent zero)."""
    x = _r(3, 2)
    weights = onp.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])

    def f(x):
        rows = x.tolist()
        assert isinstance(rows, list) and len(rows) == 3 and len(rows[0]) == 2
        return sum(w * v for wr, r in zip(weights.tolist(), rows) for w, v in zip(wr, r))

    onp.testing.assert_allclose(xform.grad(f)(x), weights)
    onp.testing.assert_allclose(xform.jit(f)(x), onp.sum(weights * x))
    assert xform.grad(lambda s: s.tolist() * 3.0)(2.0) == 3.0
    # integers carry no derivative: plain Python numbers, as NumPy gives
    assert xform.grad(lambda x: x * len(np.argsort(x).tolist()))(1.0) == 1.0


def test_round_and_divmod_builtins():
    x = onp.array([3.26, -1.5, 7.0])
    onp.testing.assert_allclose(xform.grad(lambda x: np.sum(round(x) * x))(x), onp.round(x))
    onp.testing.assert_allclose(xform.grad(lambda x: np.sum(round(x, 1) * x))(x),
                                onp.round(x, 1))
    q, r = divmod(x, 2.0)
    got_q, got_r = xform.jit(lambda x: divmod(x, 2.0))(x)
    onp.testing.assert_allclose(got_q, q)
    onp.testing.assert_allclose(got_r, r)
    # d/dy (7 mod y) = -floor(7 / y); d/dx (x mod 2) = 1
    onp.testing.assert_allclose(xform.grad(lambda y: divmod(7.0, y)[1])(3.0), -2.0)
    onp.testing.assert_allclose(xform.grad(lambda x: np.sum(divmod(x, 2.0)[1]))(x), 1.0)


def test_scalar_tracer_has_no_len_or_iteration():
    def f(x):
        with pytest.raises(TypeError, match="0-d"):
            len(x)
        with pytest.raises(TypeError, match="0-d"):
            iter(x).__next__()
        return x

    assert xform.grad(f)(1.0) == 1.0


def test_float32_attributes():
    def f(x):
        assert x.dtype == onp.float32 and (x * 2.0).dtype == onp.float32
        return np.sum(x)

    assert xform.grad(f)(onp.ones(2, onp.float32)).dtype == onp.float32


# =============================================================================
# ndarray methods (the same code runs on numpy arrays and on tracers)
# =============================================================================
METHOD_CASES = [
    case("reshape-tuple", lambda m, x: x.reshape((5, 4)), X45),
    case("reshape-varargs", lambda m, x: x.reshape(2, 10), X45),
    case("reshape-minus-one", lambda m, x: x.reshape(-1, 2), X45),
    case("reshape-flat", lambda m, x: x.reshape(-1), X45),
    case("sum", lambda m, x: x.sum(), X45),
    case("sum-axis", lambda m, x: x.sum(axis=0), X45),
    case("sum-axis-keepdims", lambda m, x: x.sum(axis=1, keepdims=True), X45),
    case("sum-axis-tuple", lambda m, x: x.sum(axis=(0, 2)), X234),
    case("sum-negative-axis", lambda m, x: x.sum(-1), X234),
    case("mean", lambda m, x: x.mean(), X45),
    case("mean-axis-keepdims", lambda m, x: x.mean(axis=0, keepdims=True), X45),
    case("max", lambda m, x: x.max(), X45),
    case("max-axis", lambda m, x: x.max(axis=1), X45),
    case("min-axis-keepdims", lambda m, x: x.min(axis=0, keepdims=True), X45),
    case("prod-axis", lambda m, x: x.prod(axis=1), _u(0.5, 1.5, 3, 4)),
    case("var", lambda m, x: x.var(), X45),
    case("var-axis-ddof", lambda m, x: x.var(axis=0, ddof=1), X45),
    case("std-axis-keepdims", lambda m, x: x.std(axis=1, keepdims=True), X45),
    case("dot-vec", lambda m, x, y: x.dot(y), _r(4), _r(4)),
    case("dot-mat", lambda m, x: x.dot(A34.T), X45[:, :4]),
    case("astype-float32", lambda m, x: x.astype(onp.float32).astype(onp.float64) * x, X45,
         **F32_FD),
    case("ravel", lambda m, x: x.ravel(), X234),
    # Fortran order (it raised NotImplementedError; autograd and JAX code ravels in 'F')
    case("ravel-fortran", lambda m, x: x.ravel("F"), X234),
    case("flatten-fortran", lambda m, x: x.flatten(order="F"), X234),
    case("reshape-fortran", lambda m, x: x.reshape((4, 6), order="F"), X234),
    case("reshape-fortran-function", lambda m, x: m.reshape(x, (5, -1), order="F"), X45),
    case("reshape-fortran-to-3d", lambda m, x: m.reshape(x, (2, 5, 2), order="F"), X45),
    case("flatten", lambda m, x: x.flatten(), X234),
    case("transpose", lambda m, x: x.transpose(), X234),
    case("transpose-varargs", lambda m, x: x.transpose(1, 0, 2), X234),
    case("transpose-tuple", lambda m, x: x.transpose((2, 0, 1)), X234),
    case("T", lambda m, x: x.T, X45),
    case("swapaxes", lambda m, x: x.swapaxes(0, 2), X234),
    case("squeeze", lambda m, x: x.squeeze(), _r(3, 1, 2)),
    case("clip", lambda m, x: x.clip(-0.5, 0.5), X45),
    case("clip-keyword", lambda m, x: x.clip(min=0.0), X45),
    case("cumsum", lambda m, x: x.cumsum(axis=1), X45),
    case("chain", lambda m, x: (x.T @ x).sum(axis=0).reshape(1, -1).mean(), X45),
]


@pytest.mark.parametrize("f, args, tol", METHOD_CASES)
def test_ndarray_methods(f, args, tol):
    check_against_numpy(f, args, **tol)


def test_astype_takes_numpys_copy_keyword():
    """``x.astype(dtype, copy=False)`` raised TypeError on a tracer (no such keyword);
    and ``np.astype(a, a.dtype)`` returned ``a`` itself, where NumPy copies."""
    x = onp.array([0.3, -1.2])
    for copy in (True, False):
        g = xform.grad(lambda v: np.sum(v.astype(onp.float64, copy=copy) ** 2))(x)
        onp.testing.assert_allclose(g, 2 * x)
        g = xform.jit(xform.grad(lambda v: np.sum(np.astype(v, onp.float32, copy=copy) * v)))(x)
        onp.testing.assert_allclose(g, 2 * x.astype(onp.float32), rtol=1e-6)
    same = np.astype(x, onp.float64)
    assert same is not x and onp.array_equal(same, x)
    assert np.astype(x, onp.float64, copy=False) is x


def test_astype_float32_under_grad_keeps_input_dtype():
    g = xform.grad(lambda x: np.sum(x.astype(onp.float32) ** 2))(onp.array([1.0, 2.0]))
    assert g.dtype == onp.float64
    onp.testing.assert_allclose(g, [2.0, 4.0])


# =============================================================================
# .at[] functional updates
# =============================================================================
def _np_set(x, idx, v):
    out = x.copy()
    out[idx] = v
    return out


def _np_at(ufunc):
    """NumPy's unbuffered in-place ``ufunc.at``, as a function returning a copy."""
    def apply(x, idx, v):
        out = x.copy()
        ufunc.at(out, idx, v)
        return out
    return apply


_np_add = _np_at(onp.add)


AT_CASES = [
    # (id, xform update, numpy reference, x, v)
    ("set-int", lambda x, v: x.at[1].set(v), lambda x, v: _np_set(x, 1, v), _r(4), _r()),
    ("set-array", lambda x, v: x.at[onp.array([0, 3])].set(v),
     lambda x, v: _np_set(x, onp.array([0, 3]), v), _r(4), _r(2)),
    ("set-slice-broadcast", lambda x, v: x.at[:, 1:3].set(v),
     lambda x, v: _np_set(x, (slice(None), slice(1, 3)), v), _r(3, 4), _r(2)),
    ("set-mask", lambda x, v: x.at[onp.array([True, False, True, False])].set(v),
     lambda x, v: _np_set(x, onp.array([True, False, True, False]), v), _r(4), _r()),
    ("add-slice", lambda x, v: x.at[1:3].add(v), lambda x, v: _np_add(x, slice(1, 3), v),
     _r(4), _r(2)),
    ("add-repeated", lambda x, v: x.at[onp.array([0, 2, 0, 0])].add(v),
     lambda x, v: _np_add(x, onp.array([0, 2, 0, 0]), v), _r(4), _r(4)),
    ("add-repeated-2d", lambda x, v: x.at[onp.array([1, 1]), onp.array([2, 2])].add(v),
     lambda x, v: _np_add(x, (onp.array([1, 1]), onp.array([2, 2])), v), _r(3, 4), _r(2)),
    ("add-rows-repeated", lambda x, v: x.at[[2, 0, 2]].add(v),
     lambda x, v: _np_add(x, [2, 0, 2], v), _r(3, 4), _r(3, 4)),
    ("multiply", lambda x, v: x.at[onp.array([0, 2])].multiply(v),
     lambda x, v: _np_set(x, onp.array([0, 2]), x[[0, 2]] * v), _r(4), _r(2)),
    ("min", lambda x, v: x.at[1:].min(v),
     lambda x, v: _np_set(x, slice(1, None), onp.minimum(x[1:], v)), _r(4), _r(3)),
    ("max", lambda x, v: x.at[::2].max(v),
     lambda x, v: _np_set(x, slice(None, None, 2), onp.maximum(x[::2], v)), _r(4), _r(2)),
    ("multiply-repeated", lambda x, v: x.at[onp.array([0, 2, 0])].multiply(v),
     lambda x, v: _np_at(onp.multiply)(x, onp.array([0, 2, 0]), v), _r(4), _r(3)),
    ("divide-repeated", lambda x, v: x.at[[1, 1]].divide(v),
     lambda x, v: _np_at(onp.divide)(x, [1, 1], v), _r(4), _u(0.5, 2, 2)),
    ("min-repeated", lambda x, v: x.at[onp.array([3, 3, 1, 3])].min(v),
     lambda x, v: _np_at(onp.minimum)(x, onp.array([3, 3, 1, 3]), v), _r(4), _r(4)),
    ("max-repeated-2d", lambda x, v: x.at[onp.array([0, 0]), 1:].max(v),
     lambda x, v: _np_at(onp.maximum)(x, (onp.array([0, 0]), slice(1, None)), v),
     _r(2, 3), _r(2, 2)),
    ("max-scalar", lambda x, v: x.at[...].max(v),
     lambda x, v: onp.maximum(x, v), onp.array([-1.0, 0.3, 2.0]), onp.array(0.5)),
]


@pytest.mark.parametrize("update, reference, x, v",
                         [pytest.param(*c[1:], id=c[0]) for c in AT_CASES])
def test_at_updates(update, reference, x, v):
    # values: on plain arrays (through xform.numpy.at) and under grad
    onp.testing.assert_allclose(np.at(x)[...].get(), x)
    x_before = x.copy()
    weights = onp.random.default_rng(3).normal(size=x.shape)

    def loss_x(x, v):
        return np.sum(update(x, v) * weights)

    def loss_ref(x, v):
        return onp.sum(reference(x, v) * weights)

    value, (gx, gv) = xform.value_and_grad(loss_x, argnums=(0, 1))(x, v)
    assert onp.isclose(value, loss_ref(x, v))
    onp.testing.assert_allclose(gx, numerical_grad(loss_ref, x, args=(v,)), rtol=1e-6,
                                atol=1e-8)
    onp.testing.assert_allclose(gv, numerical_grad(loss_ref, v, argnum=1, args=(x,)),
                                rtol=1e-6, atol=1e-8)
    onp.testing.assert_array_equal(x, x_before)       # functional: input unchanged
    out, t = xform.jvp(update, (x, v), (onp.ones_like(x), onp.ones_like(v)))
    onp.testing.assert_allclose(out, reference(x, v))
    eps = 1e-6
    fd = (reference(x + eps, v + eps) - reference(x - eps, v - eps)) / (2 * eps)
    onp.testing.assert_allclose(t, fd, rtol=1e-6, atol=1e-8)


def test_at_on_plain_arrays_is_functional():
    a = onp.zeros(3)
    b = np.at(a)[onp.array([1, 1])].add(2.0)
    onp.testing.assert_array_equal(b, [0.0, 4.0, 0.0])
    onp.testing.assert_array_equal(a, [0.0, 0.0, 0.0])


# =============================================================================
# array() of traced values, stop_gradient
# =============================================================================
def test_array_of_tracers_and_constants():
    def f(x, y):
        v = np.array([x, y * x, 3.0])
        assert v.shape == (3,)
        return np.sum(v ** 2)

    gx, gy = xform.grad(f, argnums=(0, 1))(2.0, 0.5)
    assert onp.isclose(gx, 2 * 2.0 + 2 * (0.5 * 2.0) * 0.5)
    assert onp.isclose(gy, 2 * (0.5 * 2.0) * 2.0)

    def nested(x):
        m = np.array([[x[0], 1.0], [x[1], x[0] * x[1]]])
        assert m.shape == (2, 2)
        return np.sum(m * onp.array([[1.0, 2.0], [3.0, 4.0]]))

    onp.testing.assert_allclose(xform.grad(nested)(onp.array([2.0, 5.0])),
                                [1.0 + 4.0 * 5.0, 3.0 + 4.0 * 2.0])
    g = xform.grad(lambda x: np.sum(np.array([x, x], dtype=onp.float32)))(1.0)
    assert g == 2.0


def test_stop_gradient():
    assert xform.grad(lambda x: x * xform.stop_gradient(x))(3.0) == 3.0
    assert xform.grad(lambda x: xform.stop_gradient(x ** 2))(3.0) == 0.0
    _, t = xform.jvp(lambda x: x * xform.stop_gradient(x), (3.0,), (1.0,))
    assert t == 3.0
    tree = xform.stop_gradient({"a": 1.0, "b": [onp.ones(2)]})
    assert tree_structure(tree) == tree_structure({"a": 1.0, "b": [onp.ones(2)]})

    def f(p):
        frozen = xform.stop_gradient(p)
        return p["a"] * frozen["b"] + frozen["a"] * p["b"] ** 2

    g = xform.grad(f)({"a": 2.0, "b": 3.0})
    assert g == {"a": 3.0, "b": 2.0 * 2 * 3.0}
    assert xform.stop_gradient(2.5) == 2.5


@pytest.mark.parametrize("outer", ["rev", "fwd"])
@pytest.mark.parametrize("name, f, x, expected", [
    # f, and the derivative of the first entry of grad(f) along the first coordinate
    ("getitem", lambda x: np.sum(x[:2] ** 3), onp.ones(3), 6.0),
    ("at-add", lambda x: np.sum(x.at[0].add(x[1]) ** 3), onp.ones(2), 12.0),
    ("astype", lambda x: np.sum(np.astype(x, onp.float32) * x), onp.ones(2), 2.0),
    ("stop_gradient", lambda x: np.sum(xform.stop_gradient(x) * x ** 2), 2.0 * onp.ones(2),
     4.0),
])
def test_second_order_through_structural_ops(outer, name, f, x, expected):
    """The Hessian's (0, 0) entry, by reverse-over-reverse and forward-over-reverse."""
    e0 = onp.zeros_like(x)
    e0[0] = 1.0
    if outer == "rev":
        h00 = xform.grad(lambda t: xform.grad(f)(x + t * e0)[0])(0.0)
    else:
        h00 = xform.jvp(xform.grad(f), (x,), (e0,))[1][0]
    assert onp.isclose(h00, expected)


# =============================================================================
# The grad family: argnums, has_aux, value_and_grad, grad_named, multigrad_dict
# =============================================================================
def _fxyz(x, y, z):
    return np.sum(x * np.sin(y)) + z ** 3


def test_grad_argnums():
    x, y, z = _r(3), _r(3), 1.5
    gx = xform.grad(_fxyz)(x, y, z)
    onp.testing.assert_allclose(gx, onp.sin(y))
    gy = xform.grad(_fxyz, argnums=1)(x, y, z)
    onp.testing.assert_allclose(gy, x * onp.cos(y))
    both = xform.grad(_fxyz, argnums=(0, 2))(x, y, z)
    assert isinstance(both, tuple) and len(both) == 2
    onp.testing.assert_allclose(both[0], onp.sin(y))
    assert onp.isclose(both[1], 3 * z ** 2)
    one = xform.grad(_fxyz, argnums=(1,))(x, y, z)
    assert isinstance(one, tuple) and len(one) == 1
    neg = xform.grad(_fxyz, argnums=-1)(x, y, z)
    assert onp.isclose(neg, 3 * z ** 2)


def test_grad_passes_keyword_arguments_through():
    g = xform.grad(lambda x, scale=1.0: scale * x ** 2)(3.0, scale=2.0)
    assert g == 12.0


def test_has_aux_and_value_and_grad():
    def f(x):
        y = np.sin(x)
        return np.sum(y ** 2), {"y": y, "n": 3}

    x = _r(3)
    g, aux = xform.grad(f, has_aux=True)(x)
    onp.testing.assert_allclose(g, 2 * onp.sin(x) * onp.cos(x))
    onp.testing.assert_allclose(aux["y"], onp.sin(x))
    assert aux["n"] == 3
    assert type(aux["y"]) is onp.ndarray

    (value, aux2), g2 = xform.value_and_grad(f, has_aux=True)(x)
    assert onp.isclose(value, onp.sum(onp.sin(x) ** 2))
    onp.testing.assert_allclose(g2, g)
    onp.testing.assert_allclose(aux2["y"], aux["y"])

    value, g3 = xform.value_and_grad(lambda x: np.sum(x ** 3))(x)
    assert onp.isclose(value, onp.sum(x ** 3))
    onp.testing.assert_allclose(g3, 3 * x ** 2)
    assert not isinstance(value, xform.core.trace.Tracer)


def test_grad_named_and_multigrad_dict():
    def f(weights, bias, data):
        return np.sum(weights * data) + bias ** 2

    w, d = _r(3), _r(3)
    onp.testing.assert_allclose(xform.grad_named(f, "weights")(w, 0.5, d), d)
    assert xform.grad_named(f, "bias")(w, 0.5, d) == 1.0
    assert xform.grad_named(f, "bias")(w, data=d, bias=2.0) == 4.0
    grads = xform.multigrad_dict(f)(w, 0.5, d)
    assert list(grads) == ["weights", "bias", "data"]
    onp.testing.assert_allclose(grads["weights"], d)
    assert grads["bias"] == 1.0
    onp.testing.assert_allclose(grads["data"], w)


def test_elementwise_grad():
    x = _r(5)
    onp.testing.assert_allclose(xform.elementwise_grad(np.tanh)(x), 1 - onp.tanh(x) ** 2)


# =============================================================================
# Pytrees in, gradients with the same structure out
# =============================================================================
Point = namedtuple("Point", ["x", "y"])


def _assert_same_structure_and_fd(f, tree):
    g = xform.grad(f)(tree)
    assert tree_structure(g) == tree_structure(tree)
    leaves, g_leaves = tree_leaves(tree), tree_leaves(g)
    for i, (leaf, gl) in enumerate(zip(leaves, g_leaves)):
        def f_leaf(v, i=i):
            new = list(leaves)
            new[i] = v
            return f(tree_structure(tree).unflatten(new))
        assert onp.shape(gl) == onp.shape(leaf)
        onp.testing.assert_allclose(gl, numerical_grad(f_leaf, leaf), rtol=1e-6, atol=1e-8)
    return g


def test_pytree_dict():
    tree = {"w": _r(2, 3), "b": _r(3), "scale": 0.7}
    g = _assert_same_structure_and_fd(
        lambda p: np.sum(np.tanh(onp.ones(2) @ p["w"] + p["b"]) * p["scale"]), tree)
    assert set(g) == {"w", "b", "scale"}


def test_pytree_nested_lists_and_tuples():
    tree = [[_r(2), (_r(), _r(2))], _r(3)]
    g = _assert_same_structure_and_fd(
        lambda t: np.sum(t[0][0] * t[0][1][1]) * t[0][1][0] + np.sum(t[1] ** 2), tree)
    assert type(g) is list and type(g[0][1]) is tuple


def test_pytree_namedtuple():
    tree = Point(x=_r(3), y=1.2)
    g = _assert_same_structure_and_fd(lambda p: np.sum(np.exp(p.x) * p.y), tree)
    assert type(g) is Point


def test_pytree_with_none_leaves():
    tree = {"a": _r(2), "b": None, "c": [None, 2.0]}
    g = _assert_same_structure_and_fd(lambda p: np.sum(p["a"] ** 2) * p["c"][1], tree)
    assert g["b"] is None and g["c"][0] is None


def test_pytree_through_argnums_tuple():
    def f(params, x):
        return np.sum((params["w"] * x + params["b"]) ** 2)

    gp, gx = xform.grad(f, argnums=(0, 1))({"w": 2.0, "b": 1.0}, onp.array([1.0, -1.0]))
    # residuals 3 and -1: d/dw = 2*(3*1 + -1*-1) = 8, d/db = 2*(3 - 1) = 4
    assert gp == {"w": 8.0, "b": 4.0}
    onp.testing.assert_allclose(gx, [2 * 3.0 * 2.0, 2 * -1.0 * 2.0])


# =============================================================================
# Dtypes
# =============================================================================
def test_float32_inputs_give_float32_gradients():
    x32 = onp.linspace(-1.0, 1.0, 5, dtype=onp.float32)
    g = xform.grad(lambda x: np.sum(np.sin(x) ** 2 + 0.5 * x))(x32)
    assert g.dtype == onp.float32
    onp.testing.assert_allclose(g, onp.sin(2 * x32) + 0.5, rtol=1e-5)
    gs = xform.grad(lambda x: x * 3.0)(onp.float32(2.0))
    assert onp.result_type(gs) == onp.float32
    tree = {"a": onp.ones(2, onp.float32), "b": onp.ones(2)}
    gt = xform.grad(lambda p: np.sum(p["a"] * p["b"]))(tree)
    assert gt["a"].dtype == onp.float32 and gt["b"].dtype == onp.float64
    out, t = xform.jvp(np.tanh, (x32,), (onp.ones(5, onp.float32),))
    assert out.dtype == onp.float32 and t.dtype == onp.float32


def test_float32_values_stay_float32_under_trace():
    def f(x):
        y = np.exp(x) * 2.0 + np.mean(x)
        assert y.dtype == onp.float32
        return np.sum(y)

    assert xform.grad(f)(onp.ones(3, onp.float32)).dtype == onp.float32


# =============================================================================
# vjp with pytrees, make_jaxpr printing
# =============================================================================
def test_vjp_with_pytree_output_and_cotangent():
    def f(x, y):
        return {"prod": x * y, "parts": [np.sin(x), np.sum(y)]}

    x, y = _r(3), _r(3)
    out, vjp_fn = xform.vjp(f, x, y)
    onp.testing.assert_allclose(out["prod"], x * y)
    onp.testing.assert_allclose(out["parts"][0], onp.sin(x))
    ct = {"prod": _r(3), "parts": [_r(3), 2.0]}
    cx, cy = vjp_fn(ct)
    onp.testing.assert_allclose(cx, ct["prod"] * y + ct["parts"][0] * onp.cos(x))
    onp.testing.assert_allclose(cy, ct["prod"] * x + 2.0)
    # vjp_fn can be reused with another cotangent
    cx2, _ = vjp_fn({"prod": onp.zeros(3), "parts": [onp.ones(3), 0.0]})
    onp.testing.assert_allclose(cx2, onp.cos(x))


def test_vjp_with_pytree_input():
    out, vjp_fn = xform.vjp(lambda p: p["a"] * p["b"], {"a": 2.0, "b": 3.0})
    (g,) = vjp_fn(1.0)
    assert out == 6.0 and g == {"a": 3.0, "b": 2.0}


def test_make_jaxpr_printing():
    jaxpr = xform.make_jaxpr(lambda x, y: np.sum(np.exp(x) * y + 2.0) / np.tanh(x[0]))(
        onp.ones(3), onp.ones(3))
    text = str(jaxpr)
    assert "lambda" in text
    for name in ("exp", "multiply", "add", "reduce_sum", "getitem", "tanh", "divide"):
        assert name in text, name
    assert "f64[3]" in text
    text32 = str(xform.make_jaxpr(np.sin)(onp.ones((2, 2), onp.float32)))
    assert "f32[2,2]" in text32 and "sin" in text32


# =============================================================================
# The xform.numpy functions
# =============================================================================
V3, W3, W4 = _r(3), _r(3), _r(4)
M33 = _r(3, 3)

FUNCTION_CASES = [
    # --- elementwise, unary
    case("exp", lambda m, x: m.exp(x), _r(5)),
    case("log", lambda m, x: m.log(x), _u(0.2, 3, 5)),
    case("log1p", lambda m, x: m.log1p(x), _u(-0.5, 3, 5)),
    case("expm1", lambda m, x: m.expm1(x), _r(5)),
    case("sqrt", lambda m, x: m.sqrt(x), _u(0.2, 3, 5)),
    case("sin", lambda m, x: m.sin(x), _r(5)),
    case("cos", lambda m, x: m.cos(x), _r(5)),
    case("tan", lambda m, x: m.tan(x), _u(-1.2, 1.2, 5)),
    case("tanh", lambda m, x: m.tanh(x), _r(5)),
    case("sinh", lambda m, x: m.sinh(x), _r(5)),
    case("cosh", lambda m, x: m.cosh(x), _r(5)),
    case("arctan", lambda m, x: m.arctan(x), _r(5)),
    case("arcsin", lambda m, x: m.arcsin(x), _u(-0.9, 0.9, 5)),
    case("arccos", lambda m, x: m.arccos(x), _u(-0.9, 0.9, 5)),
    case("arctanh", lambda m, x: m.arctanh(x), _u(-0.9, 0.9, 5)),
    case("abs", lambda m, x: m.abs(x), _r(5)),
    case("absolute", lambda m, x: m.absolute(x), _r(5)),
    case("sign", lambda m, x: m.sign(x) * x, _r(5)),
    case("floor", lambda m, x: m.floor(x) * x, _u(0.1, 0.9, 5) + onp.arange(-2, 3)),
    case("round", lambda m, x: m.round(x) + x, _u(-0.4, 0.4, 5) + onp.arange(-2, 3)),
    case("round-decimals", lambda m, x: m.round(x, 1) * x, onp.array([0.12, -0.33, 1.71])),
    case("square", lambda m, x: m.square(x), _r(5)),
    # --- elementwise, binary (with broadcasting)
    case("power", lambda m, x, y: m.power(x, y), _u(0.5, 2, 2, 3), _r(3)),
    case("power-const-exponent", lambda m, x: m.power(x, 3.0), _r(5)),
    case("power-const-base", lambda m, y: m.power(2.5, y), _r(5)),
    case("maximum", lambda m, x, y: m.maximum(x, y), _r(5), _r(5)),
    case("maximum-scalar", lambda m, x: m.maximum(x, 0.0), _r(5)),
    case("minimum", lambda m, x, y: m.minimum(x, y), _r(2, 3), _r(3)),
    case("where", lambda m, x, y: m.where(x > 0, x ** 2, m.sin(y)), _r(5), _r(5)),
    case("where-scalar-branch", lambda m, x: m.where(x > 0, x, 0.0), _r(5)),
    case("clip", lambda m, x: m.clip(x, -0.5, 0.8), _r(6)),
    case("clip-one-side", lambda m, x: m.clip(x, None, 0.3), _r(6)),
    case("clip-min-max-keywords", lambda m, x: m.clip(x, min=-0.5, max=0.8), _r(6)),
    case("clip-array-bounds", lambda m, x: m.clip(x, onp.linspace(-1, 0, 6), 0.5), _r(6)),
    case("logaddexp", lambda m, x, y: m.logaddexp(x, y), _r(5), _r(5)),
    case("logaddexp-zero", lambda m, x: m.logaddexp(0.0, -x), _r(5) * 10),
    case("mod", lambda m, x, y: m.mod(x, y), onp.array([0.3, 1.9, -1.2]),
         onp.array([0.7, 0.8, 0.9])),
    case("arctan2", lambda m, y, x: m.arctan2(y, x), _r(4), _r(4)),
    case("hypot", lambda m, x, y: m.hypot(x, y), _r(4), _r(4)),
    # --- reductions with axis / keepdims
    case("sum", lambda m, x: m.sum(x), X234),
    case("sum-axis", lambda m, x: m.sum(x, axis=1), X234),
    case("sum-axes-keepdims", lambda m, x: m.sum(x, axis=(0, 2), keepdims=True), X234),
    case("mean", lambda m, x: m.mean(x, axis=-1), X234),
    case("mean-keepdims", lambda m, x: m.mean(x, axis=0, keepdims=True), X45),
    case("prod", lambda m, x: m.prod(x), _u(0.5, 1.5, 6)),
    case("prod-axis-keepdims", lambda m, x: m.prod(x, axis=0, keepdims=True),
         _u(0.5, 1.5, 3, 4)),
    case("prod-with-zero", lambda m, x: m.prod(x, axis=1),
         onp.array([[0.0, 2.0, 3.0], [0.0, 0.0, 1.5], [1.0, 2.0, 0.5]])),
    case("max", lambda m, x: m.max(x), X45),
    case("max-axis", lambda m, x: m.max(x, axis=0), X45),
    case("min-axis-keepdims", lambda m, x: m.min(x, axis=1, keepdims=True), X45),
    case("amax", lambda m, x: m.amax(x, axis=(0, 1)), X234),
    case("var", lambda m, x: m.var(x), X45),
    case("var-axis-ddof", lambda m, x: m.var(x, axis=1, ddof=1), X45),
    case("std", lambda m, x: m.std(x, axis=0), X45),
    case("std-keepdims", lambda m, x: m.std(x, axis=(1, 2), keepdims=True), X234),
    case("cumsum", lambda m, x: m.cumsum(x), X45),
    case("cumprod", lambda m, x: m.cumprod(x, axis=0), _u(0.5, 1.5, 3, 2)),
    case("sum-dtype", lambda m, x: m.sum(x, axis=0, dtype=onp.float32), X45, **F32_FD),
    case("mean-dtype", lambda m, x: m.mean(x, dtype=onp.float32), X45, **F32_FD),
    case("var-dtype", lambda m, x: m.var(x, axis=1, dtype=onp.float32), X45, **F32_FD),
    case("std-dtype", lambda m, x: m.std(x, dtype=onp.float32), X45, **F32_FD),
    case("prod-dtype", lambda m, x: m.prod(x, axis=0, dtype=onp.float32), _u(0.5, 1.5, 3, 2),
         **F32_FD),
    case("cumsum-dtype", lambda m, x: m.cumsum(x, axis=1, dtype=onp.float32), X45, **F32_FD),
    # --- shape
    case("reshape", lambda m, x: m.reshape(x, (4, 6)), X234),
    case("reshape-minus-one", lambda m, x: m.reshape(x, (-1, 4)), X234),
    case("ravel", lambda m, x: m.ravel(x), X234),
    case("transpose", lambda m, x: m.transpose(x), X234),
    case("transpose-axes", lambda m, x: m.transpose(x, (1, 2, 0)), X234),
    case("transpose-negative-axes", lambda m, x: m.transpose(x, (-1, 0, 1)), X234),
    case("swapaxes", lambda m, x: m.swapaxes(x, 0, -1), X234),
    case("moveaxis", lambda m, x: m.moveaxis(x, 0, -1), X234),
    case("expand_dims", lambda m, x: m.expand_dims(x, 1), X45),
    case("expand_dims-negative", lambda m, x: m.expand_dims(x, -1), X45),
    case("expand_dims-tuple", lambda m, x: m.expand_dims(x, (0, 2)), X45),
    case("squeeze", lambda m, x: m.squeeze(x), _r(1, 3, 1)),
    case("squeeze-axis", lambda m, x: m.squeeze(x, axis=2), _r(1, 3, 1)),
    case("concatenate", lambda m, x, y: m.concatenate([x, y, x], axis=1), X45, _r(4, 2)),
    case("concatenate-const", lambda m, x: m.concatenate([x, onp.ones(2)]), _r(3)),
    case("concatenate-none", lambda m, x, y: m.concatenate([x, y], axis=None), X45, _r(3)),
    case("stack", lambda m, x, y: m.stack([x, y]), _r(3), _r(3)),
    case("stack-axis", lambda m, x, y: m.stack((x, y), axis=-1), X45, X45 * 2),
    case("hstack", lambda m, x, y: m.hstack([x, y]), _r(2), _r(3)),
    case("vstack", lambda m, x, y: m.vstack([x, y]), _r(3), _r(2, 3)),
    case("broadcast_to", lambda m, x: m.broadcast_to(x, (2, 4, 3)), _r(3)),
    case("broadcast_to-ones", lambda m, x: m.broadcast_to(x, (3, 4)), _r(3, 1)),
    case("roll", lambda m, x: m.roll(x, 2, axis=1), X45),
    case("roll-negative", lambda m, x: m.roll(x, -1, axis=0), X45),
    case("roll-flat", lambda m, x: m.roll(x, 3), X45),
    case("roll-multi", lambda m, x: m.roll(x, (1, -2), axis=(0, 1)), X45),
    case("tile", lambda m, x: m.tile(x, 3), _r(2)),
    case("tile-2d", lambda m, x: m.tile(x, (2, 1, 3)), _r(2, 3)),
    case("repeat", lambda m, x: m.repeat(x, 2), _r(2, 3)),
    case("repeat-axis", lambda m, x: m.repeat(x, 3, axis=1), _r(2, 3)),
    case("repeat-counts", lambda m, x: m.repeat(x, [2, 0, 1], axis=1), _r(2, 3)),
    case("flip", lambda m, x: m.flip(x, axis=1), X45),
    # --- contractions
    case("dot-vv", lambda m, x, y: m.dot(x, y), V3, W3),
    case("dot-mv", lambda m, x, y: m.dot(x, y), M33, W3),
    case("dot-mm", lambda m, x, y: m.dot(x, y), M33, _r(3, 2)),
    case("dot-3d", lambda m, x, y: m.dot(x, y), X234, _r(4, 2)),
    case("dot-scalar", lambda m, x, y: m.dot(x, y), _r(), _r(3)),
    case("matmul", lambda m, x, y: m.matmul(x, y), X234, _r(4, 5)),
    case("matmul-batched", lambda m, x, y: m.matmul(x, y), X234, _r(2, 4, 2)),
    case("matmul-broadcast-batch", lambda m, x, y: m.matmul(x, y), _r(3, 1, 2, 3), _r(4, 3, 2)),
    case("matmul-vec", lambda m, x, y: m.matmul(x, y), X234, W4),
    case("matmul-vec-left", lambda m, x, y: m.matmul(x, y), V3, X234),
    case("tensordot-int", lambda m, x, y: m.tensordot(x, y, 1), X234, _r(4, 2)),
    case("tensordot-axes", lambda m, x, y: m.tensordot(x, y, axes=([0, 2], [1, 0])),
         X234, _r(4, 2, 5)),
    case("tensordot-2", lambda m, x, y: m.tensordot(x, y), X234, _r(3, 4)),
    case("einsum-matmul", lambda m, x, y: m.einsum("ij,jk->ik", x, y), M33, _r(3, 2)),
    case("einsum-implicit", lambda m, x, y: m.einsum("ij,jk", x, y), M33, _r(3, 2)),
    case("einsum-implicit-transpose", lambda m, x: m.einsum("ji", x), X45),
    case("einsum-ellipsis", lambda m, x, y: m.einsum("...ij,...jk->...ik", x, y),
         X234, _r(2, 4, 3)),
    case("einsum-ellipsis-broadcast", lambda m, x, y: m.einsum("...i,i->...", x, y), X234, W4),
    case("einsum-trace", lambda m, x: m.einsum("ii->", x), M33),
    case("einsum-trace-implicit", lambda m, x: m.einsum("ii", x), M33),
    case("einsum-diag", lambda m, x: m.einsum("ii->i", x), M33),
    case("einsum-sum", lambda m, x: m.einsum("ijk->", x), X234),
    case("einsum-outer", lambda m, x, y: m.einsum("i,j->ij", x, y), V3, W4),
    case("einsum-three", lambda m, x, y, z: m.einsum("ij,jk,k->i", x, y, z), M33, _r(3, 4), W4),
    case("einsum-same-operand", lambda m, x: m.einsum("ij,ij->i", x, x), X45),
    case("outer", lambda m, x, y: m.outer(x, y), V3, W4),
    case("outer-2d", lambda m, x, y: m.outer(x, y), _r(2, 2), W3),
    case("inner", lambda m, x, y: m.inner(x, y), _r(2, 3), W3),
    # --- construction
    case("array", lambda m, x: m.array([x[0], x[1] * x[2], 3.0]), V3),
    case("array-nested", lambda m, x: m.array([[x[0], 1.0], [2.0, x[1]]]), V3),
    case("array-ndmin", lambda m, x: m.array([x[0], x[2]], ndmin=3), V3),
    case("asarray", lambda m, x: m.asarray(x) * 2.0, V3),
    case("zeros_like", lambda m, x: m.zeros_like(x) + x, V3),
    case("ones_like", lambda m, x: m.ones_like(x) * x, V3),
    case("full", lambda m, x: m.full((2, 3), x[0]) * x, V3),
    case("full-const", lambda m, x: m.full((3,), 1.5) * x, V3),
    case("zeros", lambda m, x: m.zeros((2, 3)) + x, V3),
    case("ones", lambda m, x: m.ones(3) * x, V3),
    case("linspace", lambda m, x: m.linspace(0.0, 1.0, 3) * x, V3),
    case("linspace-traced-ends", lambda m, x: m.linspace(x[0], x[1], 5), V3),
    case("linspace-no-endpoint", lambda m, x: m.linspace(x[0], x[1], 4, endpoint=False), V3),
    case("arange", lambda m, x: m.arange(3) * x, V3),
    case("arange-float", lambda m, x: m.arange(0.0, 1.5, 0.5) * x, V3),
    case("eye", lambda m, x: m.eye(3) @ x, V3),
    case("eye-k", lambda m, x: m.eye(3, k=1) * x, V3),
    case("meshgrid", lambda m, x, y: m.meshgrid(x, y)[0] * m.meshgrid(x, y)[1] ** 2, V3, W4),
    case("meshgrid-ij", lambda m, x, y: m.meshgrid(x, y, indexing="ij")[1] * x[:, None],
         V3, W4),
    # --- dtype
    case("astype", lambda m, x: x.astype(onp.float32).astype(onp.float64), onp.array([0.5, 2.0]),
         **F32_FD),
    case("astype-fn", lambda m, x: m.astype(x, onp.float32).astype(onp.float64) * x,
         onp.array([0.5, 2.0]), **F32_FD),
]


@pytest.mark.parametrize("f, args, tol", FUNCTION_CASES)
def test_numpy_functions(f, args, tol):
    check_against_numpy(f, args, **tol)


UNARY_SECOND_ORDER = [
    ("exp", _r(4)), ("log", _u(0.5, 2, 4)), ("log1p", _u(0.0, 2, 4)), ("expm1", _r(4)),
    ("sqrt", _u(0.5, 2, 4)), ("sin", _r(4)), ("cos", _r(4)), ("tan", _u(-1, 1, 4)),
    ("tanh", _r(4)), ("sinh", _r(4)), ("cosh", _r(4)), ("arctan", _r(4)),
    ("arcsin", _u(-0.8, 0.8, 4)), ("arccos", _u(-0.8, 0.8, 4)), ("arctanh", _u(-0.8, 0.8, 4)),
    ("abs", _r(4)),
]


@pytest.mark.parametrize("name, x", UNARY_SECOND_ORDER, ids=[n for n, _ in UNARY_SECOND_ORDER])
def test_unary_second_derivatives(name, x):
    fn = getattr(np, name)
    d1 = xform.elementwise_grad(fn)
    d2 = xform.elementwise_grad(d1)(x)
    eps = 1e-5
    fd = (onp.asarray(d1(x + eps)) - onp.asarray(d1(x - eps))) / (2 * eps)
    onp.testing.assert_allclose(d2, fd, rtol=1e-5, atol=1e-7)
    # forward over reverse agrees
    _, t = xform.jvp(d1, (x,), (onp.ones_like(x),))
    onp.testing.assert_allclose(t, d2, rtol=1e-10, atol=1e-12)


def test_creation_functions_return_plain_numpy_constants():
    for made in (np.zeros(3), np.ones((2, 2)), np.eye(2), np.arange(4), np.linspace(0, 1, 3),
                 np.full((2,), 3.0), np.zeros_like(onp.ones(2)), np.ones_like(onp.ones(2))):
        assert type(made) is onp.ndarray
    onp.testing.assert_array_equal(np.arange(1, 7, 2), onp.arange(1, 7, 2))
    onp.testing.assert_array_equal(np.eye(3, k=-1), onp.eye(3, k=-1))
    xx, yy = np.meshgrid(onp.arange(3.0), onp.arange(2.0))
    ref = onp.meshgrid(onp.arange(3.0), onp.arange(2.0))
    onp.testing.assert_array_equal(xx, ref[0])
    onp.testing.assert_array_equal(yy, ref[1])


def test_zeros_like_of_a_tracer_is_a_constant():
    def f(x):
        z = np.zeros_like(x)
        o = np.ones_like(x)
        assert z.shape == x.shape and o.dtype == x.dtype
        return np.sum((z + o) * x)

    onp.testing.assert_allclose(xform.grad(f)(onp.ones(3)), onp.ones(3))


def test_max_ties_share_the_gradient():
    x = onp.array([1.0, 3.0, 3.0, 2.0])
    onp.testing.assert_allclose(xform.grad(np.max)(x), [0.0, 0.5, 0.5, 0.0])
    onp.testing.assert_allclose(xform.grad(lambda x: np.sum(np.maximum(x, 2.0)))(x),
                                [0.0, 1.0, 1.0, 0.5])


def test_where_with_unsafe_branch_needs_double_where():
    x = onp.array([-1.0, 4.0])
    safe = xform.grad(lambda x: np.sum(np.where(x > 0, np.sqrt(np.where(x > 0, x, 1.0)), 0.0)))
    onp.testing.assert_allclose(safe(x), [0.0, 0.25])


def test_flat_reads_the_flattened_array_and_refuses_writes() -> None:
    """``x.flat[i]``, slices of it and iteration over it read the flattened array with
    their derivatives, as on a NumPy array; a write says traced arrays are immutable."""
    x = onp.arange(6.0).reshape(2, 3) / 7.0

    def f(x):
        return x.flat[4] * 2.0 + sum(v * v for v in x.flat) + np.sum(x.flat[1:3] ** 3)
    want = onp.zeros(6)
    want[4] += 2.0
    want += 2 * x.ravel()
    want[1:3] += 3 * x.ravel()[1:3] ** 2
    for g in (xform.grad(f), xform.jit(xform.grad(f))):
        onp.testing.assert_allclose(g(x), want.reshape(2, 3), rtol=1e-12)
    onp.testing.assert_array_equal(xform.jit(lambda x: x.flat[onp.array([5, 0])])(x),
                                   x.flat[onp.array([5, 0])])
    assert xform.jit(lambda x: np.asarray(len(x.flat)))(x) == 6

    def write(x):
        x.flat[0] = 1.0
        return np.sum(x)
    with pytest.raises(TypeError, match="traced arrays are immutable"):
        xform.grad(write)(x)
