"""NumPy functions users reached for and did not find, or found with an argument
ignored: ``block``, ``ascontiguousarray``/``asfortranarray``, ``order=`` of the sorting
functions, ``nan_to_num(copy=False)``, and the dtype of ``allow_int``'s zeros."""
from __future__ import annotations

from typing import Any

import numpy as onp
import pytest

import xform
import xform.numpy as np
from xform.test_util import check_grads

RNG = onp.random.default_rng(3)
A, B, C = RNG.normal(size=(2, 2)), RNG.normal(size=(2, 1)), RNG.normal(size=(1, 2))

BLOCKS = [
    [[A, B], [C, 3.0]],                     # a 2 x 2 grid with a scalar corner
    [A, A],                                 # one level: along the last axis
    [[A]],                                  # one block
    [onp.ones(3), 2.0, onp.arange(2.0)],    # 1-D pieces and a scalar
    [[[onp.ones(2)]], [[onp.zeros(2)]]],    # deeper nesting than the blocks' ndim
    [[onp.ones((1, 2, 3))], [onp.zeros((1, 3))]],  # blocks of different ndim
]


@pytest.mark.parametrize("arrays", BLOCKS, ids=range(len(BLOCKS)))
def test_block_equals_numpy(arrays: Any) -> None:
    got, want = np.block(arrays), onp.block(arrays)
    assert got.shape == want.shape and got.dtype == want.dtype
    onp.testing.assert_array_equal(got, want)


def test_block_returns_a_new_array() -> None:
    a = onp.ones((2, 2))
    for arrays in (a, [a], [[a]]):
        out = np.block(arrays)
        out[0, 0] = 5.0
        assert a[0, 0] == 1.0


def test_block_derivatives() -> None:
    check_grads(lambda a, b, c: np.block([[a, b], [c, 2.0]]), (A, B, C), order=2)
    check_grads(lambda a, c: np.block([[[a]], [[a * c]]]), (onp.ones(2), 0.5), order=2)
    check_grads(lambda z: np.block([[z, 1j * z]]), (A + 0.5j * A.T,), order=1)
    per_row = xform.vmap(lambda x: np.block([[x, 1.0], [2.0 * x, x[:1]]]))
    rows = RNG.normal(size=(3, 2))
    onp.testing.assert_allclose(per_row(rows), onp.stack(
        [onp.block([[x, 1.0], [2.0 * x, x[:1]]]) for x in rows]))
    jitted = xform.jit(xform.grad(lambda a: np.sum(np.block([[a, a ** 2]]))))
    onp.testing.assert_allclose(jitted(A), 1 + 2 * A)


@pytest.mark.parametrize("arrays, match", [
    ([A, (B,)], r"block: arrays\[1\] is a tuple"),
    ([[A], B], "nested to different depths"),
    ([], "empty list"),
])
def test_block_errors_name_the_problem(arrays: Any, match: str) -> None:
    with pytest.raises((TypeError, ValueError), match=match):
        np.block(arrays)


@pytest.mark.parametrize("fn, flag", [(np.ascontiguousarray, "C_CONTIGUOUS"),
                                      (np.asfortranarray, "F_CONTIGUOUS")])
def test_layout_conversions(fn: Any, flag: str) -> None:
    ref = getattr(onp, fn.__name__)
    x = onp.arange(6.0).reshape(2, 3)
    for a in (x, x.T, x[:, ::2], 2.5, [1, 2]):
        got, want = fn(a), ref(a)
        assert got.flags[flag] and got.shape == want.shape and got.dtype == want.dtype
        onp.testing.assert_array_equal(got, want)
    assert fn([1, 2], dtype=onp.float32).dtype == onp.float32
    # traced: the values (at least 1-D), so the derivative is the identity's
    check_grads(lambda v: fn(v.T) * v.T, (RNG.normal(size=(2, 3)),), order=2)
    check_grads(lambda s: fn(s) ** 2, (1.5,), order=2)
    assert xform.jit(fn)(2.0).shape == (1,)
    assert xform.vmap(fn)(onp.ones(3)).shape == (3, 1)


@pytest.mark.parametrize("name", ["argpartition", "partition", "sort", "argsort"])
def test_order_is_refused_alike(name: str) -> None:
    fn = getattr(np, name)
    args = (onp.array([3.0, 1.0, 2.0]), 1) if "partition" in name else (onp.array([3.0, 1.0]),)
    with pytest.raises(NotImplementedError,
                       match=rf"xform\.numpy\.{name} does not support order='f'.*structured"):
        fn(*args, order="f")
    fn(*args, order=None)


def test_nan_to_num_copy_false_works_in_place_on_numpy_arrays() -> None:
    x = onp.array([1.0, onp.nan, onp.inf, -onp.inf])
    want = onp.nan_to_num(x)
    kept = np.nan_to_num(x)                  # copy=True: x untouched
    assert onp.isnan(x[1]) and kept is not x
    out = np.nan_to_num(x, copy=False)       # as NumPy: x itself, modified
    assert out is x
    onp.testing.assert_array_equal(x, want)
    z = onp.array([complex(onp.nan, onp.inf)])
    np.nan_to_num(z, copy=False, posinf=7.0)
    assert z[0] == 7j


def test_nan_to_num_copy_false_on_traced_values_returns_a_new_value() -> None:
    x = onp.array([1.0, onp.nan, 2.0])
    g = xform.grad(lambda v: np.sum(np.nan_to_num(v * 3.0, copy=False)))(x)
    onp.testing.assert_array_equal(g, [3.0, 0.0, 3.0])
    assert onp.isnan(x[1])
    out = xform.jit(lambda v: np.nan_to_num(v, copy=False))(x)
    onp.testing.assert_array_equal(out, [1.0, 0.0, 2.0])
    assert onp.isnan(x[1])


def test_allow_int_zeros_keep_the_input_dtype_and_shape() -> None:
    # documented in docs/autodiff.md: NumPy has no float0, so the zero is of the
    # argument's own dtype (and a gradient is typed like its argument)
    n = onp.arange(3, dtype=onp.int32)
    gx, gn = xform.grad(lambda x, n: np.sum(x * n), argnums=(0, 1), allow_int=True)(2.0, n)
    assert gx == 3.0
    assert gn.dtype == onp.int32 and gn.shape == (3,) and not gn.any()
    _, gb = xform.grad(lambda x, b: x, argnums=(0, 1), allow_int=True)(2.0, onp.bool_(True))
    assert onp.asarray(gb).dtype == onp.bool_ and not gb


@pytest.mark.parametrize("ddof", [3, 5])
def test_var_with_ddof_at_or_past_the_count_is_numpys_inf(ddof):
    # n - ddof < 0 once gave a negative variance (-1.0) where NumPy gives inf
    x = onp.array([1.0, 2.0, 3.0])
    with onp.errstate(divide="ignore"):
        with pytest.warns(RuntimeWarning, match="Degrees of freedom"):  # NumPy's own warning
            want_var, want_std = onp.var(x, ddof=ddof), onp.std(x, ddof=ddof)
        with pytest.warns(RuntimeWarning, match="Degrees of freedom"):  # and xform's
            onp.testing.assert_array_equal(np.var(x, ddof=ddof), want_var)
            onp.testing.assert_array_equal(np.std(x, ddof=ddof), want_std)
