"""NumPy functions of positions, counts and truth values (digitize, isin, bincount,
histogram, lexsort, nanargmax, array_equal...), nancumsum/nancumprod, ediff1d,
vectorize, and NumPy's own helpers passed through (seterr, save, testing...): the
values are NumPy's on plain and on traced arrays, under grad, jit and vmap (batched
equals looped), and where a result carries a derivative it matches central
differences."""
from __future__ import annotations

import io
import warnings

import numpy as onp
import pytest

import xform
import xform.numpy as np
from xform.numpy import _passthrough
from xform.test_util import check_grads

RNG = onp.random.default_rng(0)


def _traced_value(f, *args):
    """``f(*args)`` with the arguments traced (under jvp), and the plain result."""
    return xform.jvp(lambda *a: f(*a), args, tuple(onp.zeros_like(a) for a in args))[0]


# ------------------------------------------------------------------------------ passthrough
@pytest.mark.parametrize("name", _passthrough.NAMES + _passthrough.MODULES)
def test_passed_through_names_are_numpys_own(name):
    assert getattr(np, name) is getattr(onp, name)


def test_error_settings_and_file_io_work_as_in_numpy(tmp_path):
    old = np.seterr(divide="raise")
    try:
        assert np.geterr()["divide"] == "raise"
        with pytest.raises(FloatingPointError):
            np.log(onp.zeros(1))
        with pytest.raises(FloatingPointError):
            xform.grad(lambda x: np.sum(np.log(x * 0.0)))(onp.ones(2))
    finally:
        np.seterr(**old)
    x = onp.arange(3.0)
    path = tmp_path / "x.npy"
    np.save(path, xform.grad(lambda v: np.sum(v ** 2))(x))
    np.testing.assert_allclose(np.load(path), 2 * x)


def test_a_traced_value_written_to_a_file_raises_the_conversion_error():
    for write in (lambda v: np.save(io.BytesIO(), v), lambda v: np.savetxt(io.BytesIO(), v),
                  np.array2string):
        with pytest.raises(TypeError, match="drop its derivative"):
            xform.grad(lambda v: (write(v), np.sum(v))[1])(onp.ones(2))


def test_index_builders_index_traced_arrays():
    m = RNG.standard_normal((3, 3))
    got = xform.grad(lambda a: np.sum(a[np.triu_indices(3)] ** 2))(m)
    onp.testing.assert_allclose(got, onp.triu(2 * m))


# ------------------------------------------------------------------------------ digitize
@pytest.mark.parametrize("bins", [onp.array([0.0, 1.0, 2.5]), onp.array([2.5, 1.0, 0.0])])
@pytest.mark.parametrize("right", [False, True])
def test_digitize_matches_numpy_traced_jitted_and_batched(bins, right):
    x = onp.array([-1.0, 0.0, 0.5, 1.0, 2.5, 3.0])
    want = onp.digitize(x, bins, right=right)
    onp.testing.assert_array_equal(np.digitize(x, bins, right), want)
    onp.testing.assert_array_equal(_traced_value(lambda a: np.digitize(a, bins, right), x), want)
    onp.testing.assert_array_equal(  # traced bins: their direction is read at run time
        xform.jit(lambda a, b: np.digitize(a, b, right))(x, bins), want)
    xs = onp.stack([x, x[::-1]])
    onp.testing.assert_array_equal(xform.vmap(lambda a: np.digitize(a, bins, right))(xs),
                                   [onp.digitize(r, bins, right=right) for r in xs])


def test_digitize_refuses_bins_that_are_not_monotonic():
    with pytest.raises(ValueError, match="monotonically"):
        _traced_value(lambda a: np.digitize(a, onp.array([0.0, 2.0, 1.0])), onp.ones(2))


# ------------------------------------------------------------------------------ isin
@pytest.mark.parametrize("invert", [False, True])
def test_isin_matches_numpy_traced_jitted_and_batched(invert):
    element = onp.array([[1.0, 2.0, onp.nan], [5.0, -0.0, 7.0]])
    pool = onp.array([7.0, 0.0, 1.0, onp.nan, 1.0])
    want = onp.isin(element, pool, invert=invert)
    onp.testing.assert_array_equal(
        _traced_value(lambda e, p: np.isin(e, p, invert=invert), element, pool), want)
    onp.testing.assert_array_equal(
        xform.jit(lambda e, p: np.isin(e, p, invert=invert))(element, pool), want)
    onp.testing.assert_array_equal(
        xform.vmap(lambda e: np.isin(e, pool, invert=invert))(element),
        [onp.isin(r, pool, invert=invert) for r in element])
    onp.testing.assert_array_equal(
        _traced_value(lambda e: np.isin(e, onp.zeros(0)), element), onp.zeros((2, 3), bool))


def test_isin_as_a_mask_in_a_loss():
    x = onp.array([1.0, 2.0, 3.0])
    g = xform.grad(lambda v: np.sum(np.where(np.isin(v, onp.array([2.0])), v ** 2, v)))(x)
    onp.testing.assert_allclose(g, [1.0, 4.0, 1.0])


# ------------------------------------------------------------------------------ equality
def test_array_equal_and_equiv_on_traced_values():
    def f(v):
        same = np.array_equal(v, onp.array([1.0, 2.0]))
        return v[0] * 3.0 if same else v[0]  # a Python `if` on the answer, eagerly

    assert xform.grad(f)(onp.array([1.0, 2.0]))[0] == 3.0
    assert xform.grad(f)(onp.array([1.0, 5.0]))[0] == 1.0
    nan = onp.array([1.0, onp.nan])
    assert bool(_traced_value(lambda a: np.array_equal(a, a, equal_nan=True), nan))
    assert not bool(_traced_value(lambda a: np.array_equal(a, a), nan))
    assert _traced_value(lambda a: np.array_equal(a, onp.ones(3)), nan) is False
    assert bool(_traced_value(lambda a: np.array_equiv(a, 1.0), onp.ones(2)))
    assert _traced_value(lambda a: np.array_equiv(a, onp.ones(3)), onp.ones(2)) is False
    assert bool(xform.jit(lambda a, b: np.array_equal(a, b))(nan[:1], nan[:1]))


# ------------------------------------------------------------------------------ bincount
def test_bincount_counts_and_differentiates_its_weights():
    x = onp.array([0, 3, 3, 1, 5])
    w = RNG.standard_normal(5)
    onp.testing.assert_allclose(_traced_value(lambda a: np.bincount(x, a, 8), w),
                                onp.bincount(x, w, 8))
    check_grads(lambda a: np.bincount(x, a) * onp.arange(6.0), (w,), order=2)
    counted = xform.grad(lambda v: np.sum(v * np.bincount((v > 0).astype(int))[1]))
    onp.testing.assert_allclose(counted(onp.array([1.0, -1.0, 2.0])), [2.0, 2.0, 2.0])


def test_bincount_errors():
    with pytest.raises(ValueError, match="negative"):
        _traced_value(lambda a: np.bincount(onp.array([0, -1]), a), onp.ones(2))
    with pytest.raises(ValueError, match="same shape"):
        _traced_value(lambda a: np.bincount(onp.array([0, 1]), a), onp.ones(3))
    with pytest.raises(xform.ConcretizationError, match="bincount"):
        xform.jit(lambda i: np.bincount(i))(onp.array([0, 1]))


# ------------------------------------------------------------------------------ lexsort
def test_lexsort_matches_numpy_with_ties():
    keys = RNG.integers(0, 3, size=(3, 12)).astype(float)
    want = onp.lexsort(keys)
    onp.testing.assert_array_equal(_traced_value(np.lexsort, keys), want)
    onp.testing.assert_array_equal(
        xform.jit(lambda a, b, c: np.lexsort((a, b, c)))(*keys), want)
    onp.testing.assert_array_equal(np.lexsort(keys), want)


# ------------------------------------------------------------------------------ nanarg*
@pytest.mark.parametrize("name", ["nanargmax", "nanargmin"])
def test_nanarg_matches_numpy_and_raises_on_all_nan(name):
    a = RNG.standard_normal((3, 4))
    a[0, 1] = a[2, 3] = onp.nan
    ours, ref = getattr(np, name), getattr(onp, name)
    for axis in (None, 0, 1):
        onp.testing.assert_array_equal(_traced_value(lambda v: ours(v, axis), a), ref(a, axis))
    onp.testing.assert_array_equal(xform.vmap(ours)(a), [ref(r) for r in a])
    a[1] = onp.nan
    with pytest.raises(ValueError, match="All-NaN"):
        _traced_value(lambda v: ours(v, 1), a)
    # under jit nothing is known while tracing: -1 marks the all-NaN slice
    onp.testing.assert_array_equal(xform.jit(lambda v: ours(v, 1))(a)[1], -1)


# ------------------------------------------------------------------------------ histogram
@pytest.mark.parametrize("kwargs", [
    {}, {"bins": 4}, {"bins": 3, "range": (-1.0, 1.0)}, {"bins": onp.array([-2.0, 0.0, 0.5, 3.0])},
    {"bins": 5, "density": True}, {"bins": 4, "weights": True},
    {"bins": 4, "weights": True, "density": True}])
def test_histogram_matches_numpy_traced_and_jitted(kwargs):
    a = RNG.standard_normal(40)
    a[3] = a.max()  # a tie at the last edge, which the last bin holds
    kw = dict(kwargs)
    w = RNG.random(40) if kw.pop("weights", False) else None
    want_h, want_e = onp.histogram(a, weights=w, **kw)
    for fn in (lambda v: np.histogram(v, weights=w, **kw),
               xform.jit(lambda v: np.histogram(v, weights=w, **kw))):
        got_h, got_e = fn(a)
        onp.testing.assert_allclose(got_e, want_e, rtol=1e-12)
        onp.testing.assert_allclose(got_h, want_h, rtol=1e-12)
    got_h, got_e = _traced_value(lambda v: np.histogram(v, weights=w, **kw), a)
    onp.testing.assert_allclose(got_h, want_h, rtol=1e-12)


def test_histogram_differentiates_weights_density_and_data_driven_edges():
    a = onp.array([0.1, 0.4, 0.45, 0.9, 2.0])
    w = onp.array([1.0, 2.0, 0.5, 1.5, 1.0])
    check_grads(lambda v: np.histogram(a, 3, weights=v, density=True)[0], (w,), order=2)
    # edges follow the data's extremes; the density follows the bin widths
    check_grads(lambda v: np.histogram(v, 3, density=True)[0], (a,), order=1)
    check_grads(lambda v: np.histogram_bin_edges(v, 4), (a,), order=1)


def test_histogram_of_constant_data_widens_the_range_as_numpy():
    a = onp.full(3, 2.0)
    got = _traced_value(lambda v: np.histogram(v, 2), a)
    want = onp.histogram(a, 2)
    onp.testing.assert_allclose(got[1], want[1])
    onp.testing.assert_array_equal(got[0], want[0])


# ------------------------------------------------------------------------------ nan scans, ediff1d
@pytest.mark.parametrize("name", ["nancumsum", "nancumprod"])
def test_nan_scans(name):
    a = RNG.standard_normal((3, 4))
    a[1, 2] = onp.nan
    ours, ref = getattr(np, name), getattr(onp, name)
    for axis in (None, 0, 1):
        onp.testing.assert_allclose(ours(a, axis), ref(a, axis))
    clean = onp.where(onp.isnan(a), 0.7, a)
    check_grads(lambda v: ours(np.where(onp.isnan(a), onp.nan, v), 1), (clean,), order=2)


def test_ediff1d():
    a = RNG.standard_normal((2, 3))
    onp.testing.assert_allclose(np.ediff1d(a, to_end=[9.0, 8.0], to_begin=-1.0),
                                onp.ediff1d(a, to_end=[9.0, 8.0], to_begin=-1.0))
    check_grads(lambda v, e: np.ediff1d(v, to_end=e), (a, onp.array([1.0, 2.0])), order=2)


# ------------------------------------------------------------------------------ vectorize
def _kinked(x, scale=1.0):
    if x > 0:  # a branch on each element's value, as NumPy's vectorize allows
        return scale * x ** 2
    return scale * -x


def test_vectorize_values_gradients_and_batches():
    f = np.vectorize(_kinked)
    x = onp.array([[-1.0, 2.0], [0.5, -3.0]])
    onp.testing.assert_allclose(f(x), onp.vectorize(_kinked)(x))
    onp.testing.assert_allclose(xform.grad(lambda v: np.sum(f(v)))(x),
                                onp.where(x > 0, 2 * x, -1.0))
    check_grads(lambda v: f(v, 2.0), (x,), order=2, modes=("rev",))
    smooth = np.vectorize(lambda v: np.sin(v) * v)  # no branch: vmap can batch it
    onp.testing.assert_allclose(xform.vmap(smooth)(x), [smooth(r) for r in x])
    assert f.__name__ == "_kinked"


def test_vectorize_options():
    def pair(x, y):
        return x + y, x * y

    s, p = np.vectorize(pair)(onp.array([1.0, 2.0]), 3.0)
    onp.testing.assert_allclose(s, [4.0, 5.0])
    onp.testing.assert_allclose(p, [3.0, 6.0])
    gs = xform.grad(lambda v: np.sum(np.vectorize(pair)(v, 3.0)[1]))(onp.array([1.0, 2.0]))
    onp.testing.assert_allclose(gs, [3.0, 3.0])
    keep = np.vectorize(lambda x, table: x * len(table), excluded={"table"})
    onp.testing.assert_allclose(
        xform.grad(lambda v: np.sum(keep(v, table=[1, 2, 3])))(onp.ones(2)), [3.0, 3.0])
    as32 = np.vectorize(lambda x: x * 2.0, otypes=[onp.float32])
    assert _traced_value(as32, onp.ones(2)).dtype == onp.float32
    assert _traced_value(as32, onp.ones(0)).shape == (0,)
    with pytest.raises(ValueError, match="size 0"):
        _traced_value(np.vectorize(lambda x: x), onp.ones(0))
    with pytest.raises(NotImplementedError, match="vmap"):
        np.vectorize(lambda x: x, signature="(n)->()")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        onp.testing.assert_allclose(np.vectorize(lambda x: x + 1)(onp.arange(2.0)), [1.0, 2.0])
