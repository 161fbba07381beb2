"""The warnings NumPy issues with ``warnings.warn`` ("Mean of empty slice", "Degrees of
freedom <= 0 for slice", "All-NaN slice encountered"): xform.numpy issues the same ones
(category, message, count) at the user's line, eagerly, under grad/jvp/vmap and on
every call of a jit-compiled function, with the same results as NumPy's."""
from __future__ import annotations

import warnings

import numpy as onp
import pytest

import xform
import xform.numpy as xnp

HERE = __file__
nan = onp.nan
ALL_NAN_ROWS = onp.array([[nan, nan], [1.0, 2.0], [nan, nan]])

# the messages NumPy issues with warnings.warn (the others come from its error state)
CROSS_2D = ("Arrays of 2-dimensional vectors are deprecated. Use arrays of 3-dimensional "
            "vectors instead. (deprecated in NumPy 2.0)")
NAN_TOLERANCE = "One of rtol or atol is not valid, atol: nan, rtol: 1e-05"
NUMPY_STYLE = {"Mean of empty slice", "Degrees of freedom <= 0 for slice",
               "Degrees of freedom <= 0 for slice.", "All-NaN slice encountered", CROSS_2D,
               NAN_TOLERANCE}

# (id, f(module, x), x): each f is called with numpy and with xform.numpy
CASES = [
    ("mean-empty", lambda m, x: m.mean(x), onp.array([])),
    ("mean-empty-axis", lambda m, x: m.mean(x, axis=0), onp.zeros((0, 3))),
    ("mean-empty-float32", lambda m, x: m.mean(x), onp.array([], onp.float32)),
    ("var-empty", lambda m, x: m.var(x), onp.array([])),
    ("var-ddof-count", lambda m, x: m.var(x, ddof=3), onp.array([1.0, 2.0, 3.0])),
    ("var-ddof-past", lambda m, x: m.var(x, ddof=4), onp.array([1.0, 2.0, 3.0])),
    ("var-axis-ddof", lambda m, x: m.var(x, axis=0, ddof=2), onp.ones((2, 3))),
    ("std-ddof", lambda m, x: m.std(x, ddof=3), onp.array([1.0, 2.0, 3.0])),
    ("std-empty", lambda m, x: m.std(x), onp.array([])),
    ("average-empty", lambda m, x: m.average(x), onp.array([])),
    ("median-empty", lambda m, x: m.median(x), onp.array([])),
    ("median-empty-axis", lambda m, x: m.median(x, axis=0), onp.zeros((0, 3))),
    ("nanmean-all-nan", lambda m, x: m.nanmean(x), onp.array([nan, nan])),
    ("nanmean-rows", lambda m, x: m.nanmean(x, axis=1), ALL_NAN_ROWS),
    ("nanmean-complex", lambda m, x: m.nanmean(x, axis=0), onp.array([nan + 0j, nan])),
    ("nanmean-empty", lambda m, x: m.nanmean(x), onp.array([])),
    ("nanmean-where", lambda m, x: m.nanmean(x, where=onp.array([False, False])),
     onp.array([1.0, 2.0])),
    ("nanvar-all-nan", lambda m, x: m.nanvar(x), onp.array([nan, nan])),
    ("nanvar-ddof", lambda m, x: m.nanvar(x, ddof=1), onp.array([1.0, nan])),
    ("nanvar-rows", lambda m, x: m.nanvar(x, axis=1), ALL_NAN_ROWS),
    ("nanstd-all-nan", lambda m, x: m.nanstd(x), onp.array([nan, nan])),
    ("nanmin-all-nan", lambda m, x: m.nanmin(x), onp.array([nan, nan])),
    ("nanmax-rows", lambda m, x: m.nanmax(x, axis=1), ALL_NAN_ROWS),
    ("nanmin-complex", lambda m, x: m.nanmin(x), onp.array([nan + 0j, nan])),
    ("nanmedian-all-nan", lambda m, x: m.nanmedian(x), onp.array([nan, nan])),
    ("nanmedian-rows", lambda m, x: m.nanmedian(x, axis=1), ALL_NAN_ROWS),
    ("nanmedian-complex", lambda m, x: m.nanmedian(x), onp.array([nan + 0j, nan])),
    ("nanmedian-empty", lambda m, x: m.nanmedian(x), onp.array([])),
    ("nanpercentile-all-nan", lambda m, x: m.nanpercentile(x, 50.0), onp.array([nan, nan])),
    ("nanquantile-rows", lambda m, x: m.nanquantile(x, 0.5, axis=1), ALL_NAN_ROWS),
    ("nanquantile-rows-qs", lambda m, x: m.nanquantile(x, onp.array([0.2, 0.5]), axis=1),
     ALL_NAN_ROWS),
    ("cov-one-observation", lambda m, x: m.cov(x), onp.array([1.0])),
    ("cov-two-variables", lambda m, x: m.cov(x), onp.array([[1.0], [2.0]])),
    ("cov-ddof", lambda m, x: m.cov(x, ddof=2), onp.array([1.0, 2.0])),
    ("cov-aweights-ddof", lambda m, x: m.cov(x, aweights=onp.array([1.0, 1.0]), ddof=2),
     onp.array([1.0, 2.0])),
    ("corrcoef-one-observation", lambda m, x: m.corrcoef(x), onp.array([1.0])),
    ("cross-2d", lambda m, x: m.cross(x, onp.array([3.0, 4.0])), onp.array([1.0, 2.0])),
    ("cross-2d-3d", lambda m, x: m.cross(x, onp.array([3.0, 4.0, 5.0])), onp.array([1.0, 2.0])),
    ("isclose-nan-atol", lambda m, x: m.isclose(x, 1.0, atol=nan), onp.array([1.0, 2.0])),
    ("corrcoef-constant", lambda m, x: m.corrcoef(x, onp.array([1.0, 2.0, 3.0])),
     onp.array([1.0, 1.0, 1.0])),
]
IDS = [c[0] for c in CASES]
# NumPy divides a float32 sum by the count in an array ("invalid value encountered in
# divide"), xform in a scalar ("... in scalar divide"): the same warnings otherwise
FLOATING_POINT_MESSAGES_DIFFER = {"mean-empty-float32"}
# the NumPy-style warnings: no result of these is finite and differentiable
WARNING_CASES = [c for c in CASES if c[0] != "corrcoef-constant"]
# real inputs, differentiable results
REAL_CASES = [c for c in WARNING_CASES
              if not onp.iscomplexobj(c[2]) and c[0] != "isclose-nan-atol"]


def _record(fn):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = fn()
    return out, caught


def _messages(caught, numpy_style_only=False):
    return [(w.category, str(w.message)) for w in caught
            if not numpy_style_only or str(w.message) in NUMPY_STYLE]


def _assert_at_the_users_line(caught, f):
    lineno = f.__code__.co_firstlineno
    for w in caught:
        if str(w.message) in NUMPY_STYLE:
            assert (w.filename, w.lineno) == (HERE, lineno), (str(w.message), w.filename,
                                                              w.lineno)


@pytest.mark.parametrize("name, f, x", CASES, ids=IDS)
def test_eagerly_the_same_warnings_and_results_as_numpy(name, f, x):
    expected, theirs = _record(lambda: f(onp, x))
    out, ours = _record(lambda: f(xnp, x))
    numpy_style_only = name in FLOATING_POINT_MESSAGES_DIFFER
    assert _messages(ours, numpy_style_only) == _messages(theirs, numpy_style_only)
    onp.testing.assert_array_equal(onp.asarray(out), expected)
    assert onp.asarray(out).dtype == onp.asarray(expected).dtype
    _assert_at_the_users_line(ours, f)


@pytest.mark.parametrize("name, f, x", WARNING_CASES, ids=[c[0] for c in WARNING_CASES])
def test_the_error_filter_raises_as_numpys_does(name, f, x):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(Warning) as theirs:
            f(onp, x)
        with pytest.raises(Warning) as ours:
            f(xnp, x)
    assert (type(ours.value), str(ours.value)) == (type(theirs.value), str(theirs.value))


def _transformed(transform, f, x):
    """``f(xform.numpy, x)`` run under ``transform``, for real ``x``."""
    scalar = lambda v: xnp.sum(xnp.real(f(xnp, v)))
    if transform == "grad":
        return lambda: xform.grad(scalar)(x)
    if transform == "jvp":
        return lambda: xform.jvp(lambda v: f(xnp, v), (x,), (onp.ones_like(x),))
    if transform == "jacrev":
        return lambda: xform.jacrev(scalar)(x)
    if transform == "jit":
        return lambda: xform.jit(lambda v: f(xnp, v))(x)
    raise AssertionError(transform)


@pytest.mark.parametrize("transform", ["grad", "jvp", "jacrev", "jit"])
@pytest.mark.parametrize("name, f, x", REAL_CASES, ids=[c[0] for c in REAL_CASES])
def test_under_transforms_the_same_numpy_warnings(transform, name, f, x):
    _, theirs = _record(lambda: f(onp, x))
    _, ours = _record(_transformed(transform, f, x))
    assert _messages(ours, True) == _messages(theirs, True)
    _assert_at_the_users_line(ours, f)


@pytest.mark.parametrize("name, f, x", REAL_CASES, ids=[c[0] for c in REAL_CASES])
def test_under_vmap_the_warnings_of_a_loop(name, f, x):
    batch = onp.stack([x, x])
    expected, theirs = _record(lambda: [f(onp, member) for member in batch])
    out, ours = _record(lambda: xform.vmap(lambda v: f(xnp, v))(batch))
    # one warning per batch where NumPy's loop warns once per member, except for the
    # warnings NumPy issues per slice (nanmedian, nanquantile): one per slice of each
    assert set(_messages(ours, True)) == set(_messages(theirs, True))
    assert len(_messages(ours, True)) in (len(_messages(theirs, True)),
                                          len(_messages(theirs, True)) // 2)
    _assert_at_the_users_line(ours, f)
    onp.testing.assert_array_equal(onp.asarray(out), expected)


def test_jit_warns_on_every_call_as_numpy_does_and_only_when_the_values_say_so():
    f = xform.jit(lambda v: xnp.nanmean(v, axis=1))
    _, caught = _record(lambda: [f(ALL_NAN_ROWS), f(ALL_NAN_ROWS), f(onp.ones((3, 2)))])
    assert _messages(caught, True) == [(RuntimeWarning, "Mean of empty slice")] * 2
    g = xform.jit(xnp.mean)
    _, caught = _record(lambda: [g(onp.zeros(0)), g(onp.zeros(0))])
    assert _messages(caught, True) == [(RuntimeWarning, "Mean of empty slice")] * 2
    assert "numpy_warning" in str(xform.make_jaxpr(xnp.mean)(onp.zeros(0)))
    assert "numpy_warning" not in str(xform.make_jaxpr(xnp.mean)(onp.ones(3)))


def test_the_xla_backend_warns_at_run_time_too():
    f = xform.jit(lambda v: xnp.nanmax(v, axis=1), backend="xla")
    line = test_the_xla_backend_warns_at_run_time_too.__code__.co_firstlineno + 1
    _, caught = _record(lambda: [f(ALL_NAN_ROWS), f(onp.ones((3, 2)))])
    assert _messages(caught, True) == [(RuntimeWarning, "All-NaN slice encountered")]
    assert (caught[0].filename, caught[0].lineno) == (HERE, line)


def test_no_warning_where_numpy_gives_none():
    x = onp.array([1.0, nan, 3.0])
    _, caught = _record(lambda: [
        xform.grad(xnp.mean)(onp.arange(3.0)), xform.grad(xnp.var)(onp.arange(3.0)),
        xform.grad(xnp.nanmean)(x), xform.grad(xnp.nanmax)(x),
        xform.grad(lambda v: xnp.nanquantile(v, 0.5))(x), xform.jit(xnp.nanvar)(x),
        xform.vmap(xnp.nanmin)(onp.stack([x, x])), xnp.mean(onp.zeros((0, 3)), axis=1)])
    assert _messages(caught) == []


def test_the_default_filter_shows_a_warning_once_per_line():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        for _ in range(3):
            xnp.nanmean(onp.array([nan]))
    assert _messages(caught) == [(RuntimeWarning, "Mean of empty slice")]


def test_weights_summing_to_zero_raise_under_transforms_as_numpy_raises():
    f = lambda w: xnp.average(onp.array([1.0, 2.0]), weights=w)
    w = onp.array([1.0, -1.0])
    with pytest.raises(ZeroDivisionError, match="Weights sum to zero"):
        onp.average(onp.array([1.0, 2.0]), weights=w)
    for run in (lambda: f(w), lambda: xform.grad(f)(w), lambda: xform.jvp(f, (w,), (w,)),
                lambda: xform.vmap(f)(onp.stack([w, -w]))):
        with pytest.raises(ZeroDivisionError, match="Weights sum to zero"):
            run()


def test_traced_weights_decide_the_degrees_of_freedom_on_their_values():
    x = onp.array([1.0, 2.0])
    f = lambda w: xnp.cov(x, aweights=w, ddof=2)
    w = onp.array([1.0, 1.0])
    expected, theirs = _record(lambda: onp.cov(x, aweights=w, ddof=2))
    (out, _), ours = _record(lambda: xform.jvp(f, (w,), (w,)))
    assert out == expected == onp.inf
    assert _messages(ours, True) == _messages(theirs, True) != []


def _scan_total(rows):
    step = lambda c, row: (c + xnp.nansum(row) + 0.0 * xnp.nanmax(row), 0.0)
    return xform.lax.scan(step, 0.0, rows)[0]


@pytest.mark.parametrize("run", [
    lambda: xform.jit(_scan_total)(ALL_NAN_ROWS),
    lambda: xform.grad(_scan_total)(ALL_NAN_ROWS),
    lambda: xform.jvp(_scan_total, (ALL_NAN_ROWS,), (ALL_NAN_ROWS,)),
    lambda: xform.jit(xform.grad(_scan_total))(ALL_NAN_ROWS),
], ids=["jit", "grad", "jvp", "jit-grad"])
def test_a_loop_body_warns_on_each_iteration_that_needs_it_once(run):
    # the tangent and backward re-runs of the body issue no second warning
    _, theirs = _record(lambda: [onp.nanmax(row) for row in ALL_NAN_ROWS])
    _, ours = _record(run)
    assert _messages(ours, True) == _messages(theirs, True)


def test_a_jit_warning_from_code_run_by_python_c_is_shown():
    # a site whose module is not found: warn_explicit given module=None showed nothing
    import subprocess
    import sys
    code = ("import numpy, xform, xform.numpy as np\n"
            "xform.jit(np.nanmean)(numpy.array([numpy.nan]))\n")
    run = subprocess.run([sys.executable, "-W", "always", "-c", code],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert "<string>:2: RuntimeWarning: Mean of empty slice" in run.stderr


def test_isclose_tolerances_follow_numpys_error_state_under_jit_too():
    f = xform.jit(lambda v: xnp.isclose(v, 1.0, atol=nan))
    _, caught = _record(lambda: [f(onp.ones(2)), f(onp.ones(2))])
    assert _messages(caught) == [(RuntimeWarning, NAN_TOLERANCE)] * 2
    with onp.errstate(invalid="raise"):
        with pytest.raises(FloatingPointError, match="atol: nan"):
            onp.isclose(1.0, 1.0, atol=nan)
        for run in (lambda: xnp.isclose(1.0, 1.0, atol=nan),
                    lambda: xform.vmap(lambda v: xnp.isclose(v, 1.0, atol=nan))(onp.ones(2))):
            with pytest.raises(FloatingPointError, match="atol: nan"):
                run()
    with onp.errstate(invalid="ignore"):
        assert _messages(_record(lambda: xnp.isclose(1.0, 1.0, atol=nan))[1]) == []
