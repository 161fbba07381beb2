"""Fast paths that keep array-bound work at NumPy speed: the transpose of a gather is a
``bincount`` scatter-add, and a batched matrix product against an unbatched operand is
one matrix product (GEMM), not a stack of matrix-vector products."""
from __future__ import annotations

import numpy as onp
import pytest

import xform
import xform.numpy as np
from xform.numpy import _indexing
from xform.test_util import check_grads


@pytest.mark.parametrize("dtype", [onp.float64, onp.float32, onp.complex128])
def test_scatter_add_matches_numpy_add_at(dtype) -> None:
    rng = onp.random.default_rng(0)
    x = rng.standard_normal((6, 7)).astype(dtype)
    i, j = rng.integers(-6, 6, 40), rng.integers(-7, 7, 40)  # repeats and negatives
    for v in (rng.standard_normal(40), onp.float64(2.5), rng.standard_normal((1,))):
        v = (v + 1j * v[..., None][..., 0] if dtype == onp.complex128 else v).astype(dtype)
        got = np.at(x)[i, j].add(v)
        want = x.copy()
        onp.add.at(want, (i, j), v)
        assert got.dtype == want.dtype
        onp.testing.assert_allclose(got, want, rtol=1e-6)


def test_scatter_add_broadcasts_index_arrays_and_checks_bounds() -> None:
    rows, cols = onp.arange(4)[:, None], onp.array([[0, 1, 1]])
    got = np.at(onp.zeros((4, 5)))[rows, cols].add(onp.ones((4, 3)))
    want = onp.zeros((4, 5))
    onp.add.at(want, (rows, cols), 1.0)
    onp.testing.assert_array_equal(got, want)
    with pytest.raises(IndexError, match="out of bounds for axis 1 with size 5"):
        np.at(onp.zeros((4, 5)))[rows, cols + 4].add(1.0)


def test_gather_transpose_uses_the_bincount_scatter(monkeypatch) -> None:
    calls = []
    real, real_float64 = _indexing._scatter_add, _indexing._scatter_add_float64
    monkeypatch.setattr(_indexing, "_scatter_add",
                        lambda out, arrays, v: calls.append(1) or real(out, arrays, v))
    monkeypatch.setattr(_indexing, "_scatter_add_float64",
                        lambda x, v, arrays: calls.append(1) or real_float64(x, v, arrays))
    rng = onp.random.default_rng(1)
    i, j = rng.integers(0, 5, 30), rng.integers(0, 5, 30)

    def f(x):
        return np.sum(np.sin(x[i, j]) * onp.arange(30.0))
    x = rng.standard_normal((5, 5))
    xform.grad(f)(x)
    assert len(calls) == 1
    jitted = xform.jit(xform.grad(f))
    jitted(x)
    calls.clear()
    jitted(x)
    assert len(calls) == 1
    check_grads(f, (x,), order=2, modes=("fwd", "rev"))
    z = x + 1j * rng.standard_normal((5, 5))
    check_grads(lambda z: np.sum(np.abs(z[i, j] * 1.5j) ** 2), (z,), order=1, modes=("rev",))


@pytest.mark.parametrize("case", ["in range", "negative leading", "negative trailing",
                                  "int32", "float32", "broadcast values", "3-d", "1-d"])
def test_the_float64_scatter_matches_add_at(case) -> None:
    """The one-bincount scatter and its fall-backs give np.add.at's numbers, including
    negative indices, which wrap as NumPy's do."""
    rng = onp.random.default_rng(3)
    shape = {"3-d": (3, 4, 5), "1-d": (7,)}.get(case, (4, 6))
    arrays = [rng.integers(0, d, 50) for d in shape]
    if case == "negative leading":
        arrays[0] = arrays[0] - shape[0]
    if case == "negative trailing":
        arrays[1] = arrays[1] - shape[1]
    if case == "int32":
        arrays = [a.astype(onp.int32) for a in arrays]
    x = rng.standard_normal(shape).astype(onp.float32 if case == "float32" else onp.float64)
    v = rng.standard_normal(() if case == "broadcast values" else 50)
    want = x.copy()
    onp.add.at(want, tuple(arrays), v.astype(x.dtype))
    got = _indexing._index_add_impl(x, v, *arrays, idx=(_indexing.ARRAY,) * len(shape))
    assert got.dtype == x.dtype and got is not x
    onp.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-5 if case == "float32" else 1e-12)


@pytest.mark.parametrize("bad", [(4, 0), (0, 6), (-5, 0), (0, -7)])
def test_the_float64_scatter_refuses_out_of_bounds_indices_as_numpy_does(bad) -> None:
    x, v = onp.zeros((4, 6)), onp.ones(2)
    arrays = [onp.array([0, bad[0]]), onp.array([0, bad[1]])]
    with pytest.raises(IndexError, match="out of bounds"):
        _indexing._index_add_impl(x, v, *arrays, idx=(_indexing.ARRAY,) * 2)


def _matmul_operand_shapes(f, *args):
    closed = xform.make_jaxpr(f)(*args)
    return [[tuple(a.aval.shape) for a in e.invars] for e in closed.jaxpr.eqns
            if e.prim.name == "matmul"]


@pytest.mark.parametrize("case", ["A @ v", "v @ A", "M @ A", "A @ M", "a . v"])
def test_batched_matmul_against_an_unbatched_operand_is_one_gemm(case: str) -> None:
    rng = onp.random.default_rng(2)
    A, a = rng.standard_normal((4, 4)), rng.standard_normal(4)
    fun, batch = {
        "A @ v": (lambda v: A @ v, rng.standard_normal((7, 4))),
        "v @ A": (lambda v: v @ A, rng.standard_normal((7, 4))),
        "M @ A": (lambda m: m @ A, rng.standard_normal((7, 3, 4))),
        "A @ M": (lambda m: A @ m, rng.standard_normal((7, 4, 3))),
        "a . v": (lambda v: np.dot(a, v), rng.standard_normal((7, 4))),
    }[case]
    f = xform.vmap(fun)
    onp.testing.assert_allclose(f(batch), onp.stack([fun(b) for b in batch]), rtol=1e-12)
    shapes = _matmul_operand_shapes(f, batch)
    assert len(shapes) == 1 and all(len(s) <= 2 for s in shapes[0]), shapes


def test_hessian_of_matrix_vector_code_runs_matrix_products() -> None:
    rng = onp.random.default_rng(3)
    A, x = rng.standard_normal((6, 4)), rng.standard_normal(4)

    def f(v):
        z = A @ v
        return np.log(np.sum(np.exp(z))) + 0.5 * np.sum(v * v)
    shapes = _matmul_operand_shapes(xform.hessian(f), x)
    assert shapes and all(len(s) <= 2 for op in shapes for s in op), shapes
    p = onp.exp(A @ x - onp.max(A @ x))
    p /= p.sum()
    want = A.T @ (onp.diag(p) - onp.outer(p, p)) @ A + onp.eye(4)
    onp.testing.assert_allclose(xform.jit(xform.hessian(f))(x), want, rtol=1e-10)
