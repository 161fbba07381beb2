"""Every public function of ``xform.numpy`` (and its linalg and fft), ``xform.scipy.special``
and ``xform.scipy.linalg`` that NumPy/SciPy evaluate on a complex matrix: the value is NumPy's, and the derivative along
real and along imaginary directions equals central differences of NumPy's function.

The per-primitive sweep (test_complex_and_zeros.py) checks the rules; this one checks
the composites built on them (a wrong branch in a formula, a derivative that treats a
complex function as piecewise constant, a gather that concretizes and drops the
derivative), on a point off the real axis.
"""
from __future__ import annotations

import inspect
import warnings
from typing import Any, Callable

import numpy as onp
import pytest
import scipy.linalg
import scipy.special

import xform
import xform.numpy as xnp
import xform.scipy.linalg
import xform.scipy.special

MODULES = [(xnp, onp, ""), (xnp.linalg, onp.linalg, "linalg."), (xnp.fft, onp.fft, "fft."),
           (xform.scipy.special, scipy.special, "scipy.special."),
           (xform.scipy.linalg, scipy.linalg, "scipy.linalg.")]
# Functions whose NumPy result is not an array of values (a dtype, a bool, shapes)
NOT_VALUES = {"result_type", "shape", "ndim", "size", "iscomplexobj", "isrealobj",
              "isscalar", "can_cast", "min_scalar_type", "common_type",
              "empty", "empty_like"}  # (empty: uninitialised memory)


def _z() -> onp.ndarray:
    rng = onp.random.default_rng(0)
    noise = rng.standard_normal((3, 3)) + 1j * rng.standard_normal((3, 3))
    # off the real axis, away from branch cuts, distinct entries (no ties for sort/unique)
    return 0.5 * noise + 1.5 * onp.eye(3)


def _first(out: Any) -> Any:
    return out[0] if isinstance(out, tuple) else out


def _candidates() -> list[tuple[str, Callable[..., Any], Callable[..., Any]]]:
    z, found = _z(), []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for ours_mod, numpy_mod, prefix in MODULES:
            for name in sorted(dir(ours_mod)):
                ours, ref = getattr(ours_mod, name, None), getattr(numpy_mod, name, None)
                if (name.startswith("_") or name in NOT_VALUES or not callable(ours)
                        or inspect.isclass(ours) or ref is None
                        or ours is ref):  # NumPy's own, passed through (no derivative)
                    continue
                try:
                    value = onp.asarray(_first(ref(z)))
                except Exception:  # NumPy refuses one complex matrix: nothing to compare
                    continue
                if onp.issubdtype(value.dtype, onp.inexact):
                    found.append((prefix + name, ours, ref))
    return found


CANDIDATES = _candidates()


def test_the_sweep_covers_the_namespace() -> None:
    assert len(CANDIDATES) >= 145, [n for n, _, _ in CANDIDATES]  # 150 when written


@pytest.mark.parametrize("name, ours, ref", CANDIDATES, ids=[c[0] for c in CANDIDATES])
def test_complex_value_and_directions(name: str, ours: Callable[..., Any],
                                      ref: Callable[..., Any]) -> None:
    z = _z()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = onp.asarray(_first(ref(z)))
        got = onp.asarray(_first(ours(z)))
        assert got.shape == want.shape, f"{name}: shape {got.shape} vs NumPy's {want.shape}"
        onp.testing.assert_allclose(got, want, atol=1e-10, err_msg=f"{name}: value")
        rng = onp.random.default_rng(1)
        for direction, t in (("real", rng.standard_normal(z.shape) + 0j),
                             ("imaginary", 1j * rng.standard_normal(z.shape))):
            try:
                _, tangent = xform.jvp(lambda a: _first(ours(a)), (z,), (t,))
            except TypeError as e:
                if "real inputs only" in str(e):
                    return  # declared real-only: refused with a TypeError, as it should be
                raise
            h = 1e-6
            numerical = (onp.asarray(_first(ref(z + h * t)))
                         - onp.asarray(_first(ref(z - h * t)))) / (2 * h)
            onp.testing.assert_allclose(tangent, numerical, rtol=1e-5, atol=1e-6,
                                        err_msg=f"{name}: {direction} direction")
