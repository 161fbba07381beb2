"""The rule helpers of ``xform.core.rules`` on primitives declared here (kept out of the
registry, so the registry-driven test does not ask for their domains)."""
from __future__ import annotations

from typing import Any

import numpy as onp

import xform
import xform.numpy as np
from xform.core.primitive import Primitive
from xform.core.rules import bind, defbilinear, deflinear, unbroadcast
from xform.test_util import check_grads

# a copy of multiply, declared as a bilinear primitive
times_p = Primitive("times", onp.multiply, register=False)
defbilinear(times_p, lambda ct, ans, x, y: ct * y, lambda ct, ans, x, y: x * ct,
            broadcasting=True)

# a linear primitive of one array with a static parameter
scale_p = Primitive("scale", lambda x, k: x * k, register=False)
deflinear(scale_p, lambda ct, ans, x, k: bind(scale_p, ct, k=k))


def times(x: Any, y: Any) -> Any:
    return bind(times_p, x, y)


def test_defbilinear_matches_multiply_in_both_modes() -> None:
    rng = onp.random.default_rng(0)
    x, y = rng.standard_normal((2, 3)), rng.standard_normal(3)  # y is broadcast
    check_grads(times, (x, y), order=2)
    for argnum in (0, 1):
        got = xform.grad(lambda a, b: np.sum(np.sin(times(a, b))), argnum)(x, y)
        want = xform.grad(lambda a, b: np.sum(np.sin(a * b)), argnum)(x, y)
        onp.testing.assert_allclose(got, want, rtol=1e-15)


def test_defbilinear_real_operand_of_complex_product_gets_the_real_part() -> None:
    z = onp.array([1.0 + 2.0j, -0.5j])
    g = xform.grad(lambda x: np.real(np.sum(times(x, z) * times(x, z))))(onp.array([0.3, 0.7]))
    assert g.dtype == onp.float64
    onp.testing.assert_allclose(g, xform.grad(lambda x: np.real(np.sum((x * z) ** 2)))(
        onp.array([0.3, 0.7])))


def test_deflinear_tangent_and_transpose() -> None:
    x = onp.arange(3.0)
    out, t = xform.jvp(lambda v: bind(scale_p, v, k=2.5), (x,), (onp.ones(3),))
    onp.testing.assert_allclose(t, 2.5 * onp.ones(3))
    check_grads(lambda v: bind(scale_p, v, k=2.5), (x,), order=2)


def test_unbroadcast_returns_an_equal_shape_unchanged() -> None:
    ct = onp.ones((2, 3))
    assert unbroadcast(ct, (2, 3)) is ct
    onp.testing.assert_array_equal(unbroadcast(ct, (1, 3)), onp.full((1, 3), 2.0))
    onp.testing.assert_array_equal(unbroadcast(ct, ()), 6.0)
