"""Shared test helpers: central finite differences for checking derivatives."""
from __future__ import annotations

from typing import Any, Callable

import numpy as onp

from xform.core.trace import bind


def numerical_grad(f: Callable[..., Any], x: Any, eps: float = 1e-6,
                   argnum: int = 0, args: tuple = ()) -> Any:
    """Central-difference gradient of the scalar function ``f`` at ``x``.

    ``x`` is a Python float or a float array; the result has its shape (a float
    for a scalar ``x``). ``args`` are extra arguments: ``f(*args)`` with ``x``
    placed at position ``argnum``.
    """
    # C order, so the flat views below write through (a Fortran-ordered copy would not)
    x = onp.array(x, dtype=onp.float64, order="C")
    g = onp.zeros_like(x)
    flat_x, flat_g = x.reshape(-1), g.reshape(-1)

    def call(v: Any) -> float:
        full = list(args)
        full.insert(argnum, v if v.ndim else float(v))
        return float(onp.asarray(f(*full)))

    for i in range(flat_x.size):
        xp, xm = flat_x.copy(), flat_x.copy()
        xp[i] += eps
        xm[i] -= eps
        flat_g[i] = (call(xp.reshape(x.shape)) - call(xm.reshape(x.shape))) / (2 * eps)
    return float(g) if g.ndim == 0 else g


def numerical_jvp(f: Callable[[Any], Any], x: Any, v: Any, eps: float = 1e-6) -> Any:
    """Central-difference directional derivative ``(f(x + eps v) - f(x - eps v)) / 2eps``."""
    x = onp.asarray(x, dtype=onp.float64)
    v = onp.asarray(v, dtype=onp.float64)
    return (onp.asarray(f(x + eps * v)) - onp.asarray(f(x - eps * v))) / (2 * eps)


def assert_grad_close(f: Callable[..., Any], grad_value: Any, x: Any, rtol: float = 1e-5,
                      atol: float = 1e-6, eps: float = 1e-6) -> None:
    """Assert ``grad_value`` (e.g. ``xform.grad(f)(x)``) matches finite differences."""
    expected = numerical_grad(f, x, eps)
    onp.testing.assert_allclose(onp.asarray(grad_value), expected, rtol=rtol, atol=atol)


# ----------------------------------------------------------------------------- rule checks
# Shared by test_rules.py, test_higher_order.py and test_compositions.py: directional
# central differences on functions of several array arguments (any of which may return
# a list of arrays), random tangents, and the two checks every derivative must pass.
EPS = 1e-6      # central-difference step (float64)
RTOL = 1e-5     # tolerance of a finite-difference comparison
ATOL = 1e-6
EXACT_RTOL = 1e-9   # tolerance of an identity between two exact computations
EXACT_ATOL = 1e-10


def as_list(x: Any) -> list[Any]:
    """A function's output as a list of arrays (several results come as a list/tuple)."""
    return list(x) if isinstance(x, (list, tuple)) else [x]


def random_like(rng: onp.random.Generator, x: Any) -> onp.ndarray:
    """A standard-normal array with the shape and (floating) dtype of ``x``
    (real and imaginary parts both random for a complex ``x``)."""
    x = onp.asarray(x)
    if onp.iscomplexobj(x):
        return (rng.standard_normal(x.shape) + 1j * rng.standard_normal(x.shape)).astype(x.dtype)
    return rng.standard_normal(x.shape).astype(x.dtype)


def _wide(x: Any) -> onp.ndarray:
    """``x`` in float64, or complex128 when complex."""
    x = onp.asarray(x)
    return x.astype(onp.complex128 if onp.iscomplexobj(x) else onp.float64)


def inner(xs: Any, ys: Any) -> float:
    """``<xs, ys>``: the sum of elementwise products over two lists of arrays; for
    complex values the real part of the bilinear (non-conjugated) product, the
    pairing under which a VJP is the transpose of the JVP (JAX's convention)."""
    return float(sum(onp.real(onp.sum(_wide(a) * _wide(b)))
                     for a, b in zip(as_list(xs), as_list(ys))))


def fd_noise(values: Any, eps: float = EPS) -> float:
    """A bound on the rounding error of a central difference of outputs ``values``:
    a hundred times float64 epsilon times their largest magnitude, over ``eps``."""
    big = max((float(onp.max(onp.abs(_wide(v)), initial=0.0))
               for v in as_list(values)), default=0.0)
    return 100 * onp.finfo(onp.float64).eps * big / eps


def central_difference(f: Callable[..., Any], args: Any, tangents: Any,
                       eps: float = EPS) -> list[onp.ndarray]:
    """``(f(args + eps t) - f(args - eps t)) / 2 eps`` for each output of ``f``.

    The perturbed arguments are computed in float64 (complex128 when complex)
    whatever their dtype."""
    def shifted(sign: float) -> list[Any]:
        return as_list(f(*[_wide(a) + sign * eps * _wide(t) for a, t in zip(args, tangents)]))
    plus, minus = shifted(1.0), shifted(-1.0)
    return [(_wide(p) - _wide(m)) / (2 * eps) for p, m in zip(plus, minus)]


def check_jvp(f: Callable[..., Any], args: Any, rng: onp.random.Generator,
              eps: float = EPS, rtol: float = RTOL, atol: float = ATOL,
              what: str = "") -> None:
    """``xform.jvp(f)`` against central differences along a random tangent, and the
    primal output against ``f`` itself."""
    import xform
    args = tuple(args)
    tangents = tuple(random_like(rng, a) for a in args)
    out, t_out = xform.jvp(f, args, tangents)
    outs, t_outs = as_list(out), as_list(t_out)
    expected = central_difference(f, args, tangents, eps)
    plain = as_list(f(*args))
    # the differences' own rounding noise, about machine epsilon * |f| / eps
    atol = atol + fd_noise(plain, eps)
    assert len(t_outs) == len(expected), what
    for k, (o, p, t, e) in enumerate(zip(outs, plain, t_outs, expected)):
        tag = f"{what} output {k}"
        onp.testing.assert_allclose(o, p, rtol=1e-12, atol=0, err_msg=f"{tag}: primal")
        assert onp.shape(t) == onp.shape(o), \
            f"{tag}: tangent shape {onp.shape(t)} != output shape {onp.shape(o)}"
        onp.testing.assert_allclose(t, e, rtol=rtol, atol=atol,
                                    err_msg=f"{tag}: jvp vs central differences")


def check_vjp(f: Callable[..., Any], args: Any, rng: onp.random.Generator,
              rtol: float = EXACT_RTOL, atol: float = EXACT_ATOL, what: str = "") -> None:
    """Reverse against forward mode: ``<ct, J t> == <J^T ct, t>`` for a random
    tangent ``t`` and cotangent ``ct``; cotangents have their primal's shape."""
    import xform
    args = tuple(args)
    tangents = tuple(random_like(rng, a) for a in args)
    _, t_out = xform.jvp(f, args, tangents)
    out, vjp_fn = xform.vjp(f, *args)
    several = isinstance(out, (list, tuple))
    cts = [random_like(rng, o) for o in as_list(out)]
    in_cts = vjp_fn(type(out)(cts) if several else cts[0])
    assert len(in_cts) == len(args), what
    for k, (c, a) in enumerate(zip(in_cts, args)):
        assert onp.shape(c) == onp.shape(a), \
            f"{what}: cotangent {k} has shape {onp.shape(c)}, argument {onp.shape(a)}"
    lhs, rhs = inner(cts, t_out), inner(in_cts, tangents)
    # rounding is relative to the size of the terms, not of their (cancelling) sum
    scale = max(1.0, inner([onp.abs(c) for c in cts], [onp.abs(t) for t in as_list(t_out)]),
                inner([onp.abs(c) for c in in_cts], [onp.abs(t) for t in tangents]))
    onp.testing.assert_allclose(lhs, rhs, rtol=rtol, atol=atol * scale,
                                err_msg=f"{what}: <ct, J t> != <J^T ct, t>")


def jvp_tangent_fn(f: Callable[..., Any], tangents: Any) -> Callable[..., Any]:
    """``x -> J(x) t`` for fixed tangents ``t``: differentiating it checks that the
    forward rules are themselves differentiable."""
    import xform

    def tangent_out(*args: Any) -> Any:
        return xform.jvp(f, tuple(args), tuple(tangents))[1]
    return tangent_out


def vjp_cotangent_fn(f: Callable[..., Any], ct: Any) -> Callable[..., Any]:
    """``x -> J(x)^T ct`` for a fixed cotangent (a tuple, one per argument)."""
    import xform

    def cotangent_in(*args: Any) -> Any:
        return xform.vjp(f, *args)[1](ct)
    return cotangent_in


def assert_trees_close(actual: Any, expected: Any, rtol: float = 1e-10,
                       atol: float = 1e-12) -> None:
    """Pytrees of arrays equal leaf by leaf, with equal structure and shapes, and no
    tracer escaping the transform that produced ``actual``."""
    from xform.core.trace import Tracer
    from xform.tree_util import tree_flatten
    a_leaves, a_tree = tree_flatten(actual)
    e_leaves, e_tree = tree_flatten(expected)
    assert a_tree == e_tree, f"structure {a_tree} != {e_tree}"
    for a, e in zip(a_leaves, e_leaves):
        assert not isinstance(a, Tracer), "a tracer escaped the transform"
        assert onp.shape(a) == onp.shape(e), f"shape {onp.shape(a)} != {onp.shape(e)}"
        onp.testing.assert_allclose(a, e, rtol=rtol, atol=atol)


def fd_jacobian(f: Callable[[Any], Any], x: Any, eps: float = 1e-6) -> onp.ndarray:
    """Central-difference Jacobian of an array -> array function, shape
    ``out.shape + in.shape``."""
    x = onp.asarray(x, dtype=onp.float64)
    out0 = onp.asarray(f(x))
    jac = onp.zeros(out0.shape + x.shape)
    for idx in onp.ndindex(*x.shape):
        dx = onp.zeros_like(x)
        dx[idx] = eps
        jac[(Ellipsis,) + idx] = (onp.asarray(f(x + dx)) - onp.asarray(f(x - dx))) / (2 * eps)
    return jac


def bound_primitive(prim: Any, args: tuple, params: dict, diff: tuple[int, ...]) -> Any:
    """``f(*diff_args) = bind(prim, *args, **params)`` with the other arguments fixed."""
    def f(*diff_args: Any) -> Any:
        full = list(args)
        for i, v in zip(diff, diff_args):
            full[i] = v
        return bind(prim, *full, **params)
    return f
