"""Fast paths that keep array-bound work at NumPy speed: the transpose of a gather is a
``bincount`` scatter-add, ``x[i, j]`` gathers at flat positions, a batched matrix
product against an unbatched operand is one matrix product (GEMM), not a stack of
matrix-vector products, small rolls are one ``take``, an integer modulo a power of two
is a bitwise and under jit."""
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
    real = _indexing._bincount_into
    monkeypatch.setattr(_indexing, "_bincount_into",
                        lambda x, flat, v: calls.append(1) or real(x, flat, v))
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


# ----------------------------------------------------------------------------- x[i, j]
def _gather_cases(rng):
    x = rng.standard_normal((5, 6))
    i, j = rng.integers(0, 5, 20), rng.integers(0, 6, 20)
    return {
        "in range": (x, (i, j)),
        "negative": (x, (i - 5, j - 6)),            # both wrap, as NumPy's do
        "mixed signs": (x, (onp.where(i % 2 == 0, i, i - 5), j)),
        "broadcast": (x, (onp.arange(5)[:, None], onp.array([[0, 5, 5, 2]]))),
        "int32": (x, (i.astype(onp.int32), j.astype(onp.int32))),
        "3-d": (rng.standard_normal((3, 4, 5)),
                (rng.integers(-3, 3, 7), rng.integers(0, 4, 7), rng.integers(-5, 5, 7))),
        "0-d indices": (x, (onp.int64(2), onp.array(-1))),
        "empty": (x, (onp.zeros(0, int), onp.zeros(0, int))),
    }


@pytest.mark.parametrize("case", list(_gather_cases(onp.random.default_rng(0))))
def test_gather_by_per_axis_arrays_matches_numpy_and_differentiates(case: str) -> None:
    """``x[i, j]`` on a traced ``x`` (a 1-D gather at flat positions) reads what NumPy
    reads, eager and under jit, and its gradient is NumPy's ``add.at`` of the
    cotangent (repeats accumulate), in both modes and to second order."""
    rng = onp.random.default_rng(4)
    x, index = _gather_cases(rng)[case]
    want = x[index]
    w = rng.standard_normal(onp.shape(want))

    def f(x):
        return np.sum(np.sin(x[index]) * w)
    onp.testing.assert_array_equal(xform.jit(lambda x: x[index])(x), want)
    onp.testing.assert_array_equal(xform.vjp(lambda x: x[index], x)[0], want)
    grad_want = onp.zeros_like(x)
    onp.add.at(grad_want, index, onp.cos(want) * w)
    for g in (xform.grad(f), xform.jit(xform.grad(f))):
        onp.testing.assert_allclose(g(x), grad_want, rtol=1e-12, atol=1e-12)
    check_grads(f, (x,), order=2, modes=("fwd", "rev"))
    onp.testing.assert_allclose(xform.jacfwd(lambda x: x[index])(x),
                                xform.jacrev(lambda x: x[index])(x))


def test_gather_by_traced_index_arrays_matches_numpy() -> None:
    """Index arrays computed inside jit (traced integers, as in bilinear interpolation)
    and batched under vmap give NumPy's values and gradients."""
    rng = onp.random.default_rng(5)
    x = rng.standard_normal((6, 6))
    pos = rng.uniform(-8, 8, (2, 30))

    def f(x, pos):  # periodic nearest-cell lookup: indices from traced values
        i = np.floor(pos[0]).astype(int) % 6
        j = np.floor(pos[1]).astype(int) - 6  # negative: wraps (in [-6, 0) after the mod)
        return x[i, j % 6 - 6]
    ii = onp.floor(pos[0]).astype(int) % 6
    jj = (onp.floor(pos[1]).astype(int) - 6) % 6 - 6
    onp.testing.assert_array_equal(xform.jit(f)(x, pos), x[ii, jj])
    grad_want = onp.zeros_like(x)
    onp.add.at(grad_want, (ii, jj), 1.0)
    onp.testing.assert_array_equal(xform.jit(xform.grad(lambda x, p: np.sum(f(x, p))))(x, pos),
                                   grad_want)
    batch = rng.uniform(-8, 8, (3, 2, 30))
    got = xform.vmap(f, in_axes=(None, 0))(x, batch)
    onp.testing.assert_array_equal(got, onp.stack([f(x, p) for p in batch]))
    xs = rng.standard_normal((4, 6, 6))
    got = xform.jit(xform.vmap(f, in_axes=(0, None)))(xs, pos)
    onp.testing.assert_array_equal(got, xs[:, ii, jj])


@pytest.mark.parametrize("bad", [(5, 0), (0, 6), (-6, 0), (0, -7)])
def test_gather_by_per_axis_arrays_refuses_out_of_bounds_indices(bad) -> None:
    """An index past its axis raises NumPy's IndexError, naming the axis, under every
    transform: never a read of a neighbouring row through the flat position."""
    x = onp.zeros((5, 6))
    index = (onp.array([0, bad[0]]), onp.array([1, bad[1]]))
    axis = 0 if bad[1] == 0 else 1
    message = f"out of bounds for axis {axis} with size {x.shape[axis]}"
    with pytest.raises(IndexError, match=message):
        xform.grad(lambda x: np.sum(x[index]))(x)
    with pytest.raises(IndexError, match=message):
        xform.jit(lambda x, i, j: x[i, j])(x, *index)


def test_gather_by_per_axis_arrays_saves_flat_positions() -> None:
    """The traced program reads ``x[i, j]`` as one flat gather and its gradient as a
    1-D scatter (the bincount path): no 2-D scatter in the reverse pass."""
    i, j = onp.array([0, 2, 2]), onp.array([1, 0, 3])
    closed = xform.make_jaxpr(xform.grad(lambda x, i, j: np.sum(x[i, j])))(
        onp.ones((3, 4)), i, j)
    names = [e.prim.name for e in closed.jaxpr.eqns]
    assert "ravel_index" in names
    scatters = [e for e in closed.jaxpr.eqns if e.prim.name == "index_add"]
    assert scatters and all(e.params["idx"] == (_indexing.ARRAY,) for e in scatters)


# ----------------------------------------------------------------------------- roll, mod
@pytest.mark.parametrize("shape", [(7,), (4, 6), (16, 16, 16), (70, 70), (5000,)])
@pytest.mark.parametrize("shift", [1, -2, 0, 9, -13])
def test_roll_matches_numpy_eager_and_under_jit(shape, shift) -> None:
    """Small arrays roll by a ``take`` of a cached permutation, large ones by slice
    copies (the sizes straddle the switch); every axis, negative ones included."""
    x = onp.random.default_rng(6).standard_normal(shape)
    for axis in range(-len(shape), len(shape)):
        want = onp.roll(x, shift, axis)
        got = np.roll(x, shift, axis)
        onp.testing.assert_array_equal(got, want)
        assert got is not x
        onp.testing.assert_array_equal(xform.jit(lambda x: np.roll(x, shift, axis))(x), want)
        ct = onp.random.default_rng(7).standard_normal(shape)
        onp.testing.assert_array_equal(
            xform.jit(xform.grad(lambda x: np.sum(np.roll(x, shift, axis) * ct)))(x),
            onp.roll(ct, -shift, axis))


@pytest.mark.parametrize("dtype", [onp.int64, onp.int32, onp.uint8, onp.int8])
@pytest.mark.parametrize("m", [32, 1, 2, 6])
def test_integer_mod_under_jit_matches_numpy(dtype, m) -> None:
    """``x % m`` on integers under jit (a bitwise and where ``m`` is a power of two) is
    NumPy's floor modulo, negative values included, in NumPy's result dtype."""
    info = onp.iinfo(dtype)
    x = onp.random.default_rng(8).integers(max(info.min, -200), min(info.max, 200), 50)
    x = x.astype(dtype)
    jitted = xform.jit(lambda x: np.mod(x, m))
    got = jitted(x)
    want = onp.mod(x, m)
    assert got.dtype == want.dtype
    onp.testing.assert_array_equal(got, want)
    source = jitted.lower(x).python_source()
    assert (" & " in source) == (m in (32, 1, 2))
    y = onp.linspace(-5, 5, 11)  # floats keep np.mod
    onp.testing.assert_array_equal(xform.jit(lambda y: np.mod(y, 2))(y), onp.mod(y, 2))


def _ravel_params(jitted, *args):
    return [e.params for e in jitted.lower(*args).optimized.jaxpr.eqns
            if e.prim.name == "ravel_index"]


def test_indices_proven_by_a_modulo_skip_the_bounds_check() -> None:
    """jit drops the bounds check of ``x[i % n, j % m]`` on an n-by-m ``x`` (the floor
    modulo lies in [0, n)), and keeps it where the modulo does not prove it, so an
    index past the bounds still raises."""
    rng = onp.random.default_rng(9)
    x = rng.standard_normal((8, 6))
    pos = rng.uniform(-20, 20, (2, 40))

    def periodic(x, pos):
        i = np.floor(pos[0]).astype(int)
        j = np.floor(pos[1]).astype(int)
        return x[i % 8, j % 6]
    jitted = xform.jit(periodic)
    ii = onp.floor(pos[0]).astype(int) % 8
    jj = onp.floor(pos[1]).astype(int) % 6
    onp.testing.assert_array_equal(jitted(x, pos), x[ii, jj])
    assert [p.get("in_range") for p in _ravel_params(jitted, x, pos)] == [True]
    g = xform.jit(xform.grad(lambda x, pos: np.sum(periodic(x, pos) ** 2)))(x, pos)
    want = onp.zeros_like(x)
    onp.add.at(want, (ii, jj), 2 * x[ii, jj])
    onp.testing.assert_allclose(g, want, rtol=1e-12)

    def loose(x, pos):  # a modulus past the axis proves nothing
        return x[np.floor(pos[0]).astype(int) % 9, np.floor(pos[1]).astype(int) % 6]
    assert [p.get("in_range") for p in _ravel_params(xform.jit(loose), x, pos)] == [None]
    with pytest.raises(IndexError, match="out of bounds for axis 0 with size 8"):
        xform.jit(loose)(x, onp.stack([onp.full(40, 8.5), pos[1]]))
