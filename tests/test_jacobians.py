"""The Jacobian family: jacfwd, jacrev, jacobian (every mode), hessian, hvp and
linear_transpose, against each other and against central finite differences;
argnums, has_aux, pytree layouts, chunking, Python control flow and dtypes."""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy as onp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import xform
import xform.numpy as np
from xform.core.trace import Tracer
from xform.tree_util import tree_flatten, tree_structure

from helpers import assert_trees_close as close, fd_jacobian, numerical_grad

RNG = onp.random.default_rng(1234)
EPS = 1e-6


def randn(*shape: int) -> onp.ndarray:
    return RNG.standard_normal(shape)


def assert_fd_close(jac: Any, f: Callable[[Any], Any], x: Any, rtol: float = 1e-5,
                    atol: float = 1e-6) -> None:
    expected = fd_jacobian(f, x)
    scale = max(1.0, float(onp.max(onp.abs(onp.asarray(f(x))), initial=0.0)))
    noise = 100 * onp.finfo(onp.float64).eps * scale / EPS
    assert onp.shape(jac) == expected.shape, f"{onp.shape(jac)} != {expected.shape}"
    onp.testing.assert_allclose(jac, expected, rtol=rtol, atol=atol + noise)


def all_jacobians(f: Callable[..., Any], **kw: Any) -> dict[str, Callable[..., Any]]:
    return {"jacfwd": xform.jacfwd(f, **kw), "jacrev": xform.jacrev(f, **kw),
            "auto": xform.jacobian(f, mode="auto", **kw),
            "fwd": xform.jacobian(f, mode="fwd", **kw),
            "rev": xform.jacobian(f, mode="rev", **kw)}


# ----------------------------------------------------------------------------- R^n -> R^m
A53 = randn(5, 3)
B24 = randn(2, 4)


def tall(x):      # R^3 -> R^5
    return np.tanh(A53 @ x) * np.sum(x ** 2)


def wide(x):      # R^5 -> R^2
    return np.stack([np.sum(np.sin(x) * x), np.prod(1.0 + 0.1 * x)])


def square(x):    # R^4 -> R^4
    return np.cumsum(np.exp(np.tanh(x)) * x[::-1])


def matrix_in_matrix_out(x):   # (3, 4) -> (2, 3)
    return np.cos(B24 @ x.T) + np.sum(x, axis=1) * x[:, 0]


def scalar_in(x):              # () -> (3,)
    return np.stack([np.sin(x), x ** 3, np.exp(-x * x)])


def scalar_out(x):             # (2, 3) -> ()
    return np.sum(np.log1p(x * x) * np.arange(6.0).reshape(2, 3))


CASES = {
    "tall": (tall, randn(3), (5, 3)),
    "wide": (wide, randn(5), (2, 5)),
    "square": (square, randn(4), (4, 4)),
    "matrix": (matrix_in_matrix_out, randn(3, 4), (2, 3, 3, 4)),
    "scalar_in": (scalar_in, onp.float64(0.7), (3,)),
    "scalar_out": (scalar_out, randn(2, 3), (2, 3)),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_mode_agrees_and_matches_finite_differences(case):
    f, x, shape = CASES[case]
    results = {name: jac(x) for name, jac in all_jacobians(f).items()}
    for name, jac in results.items():
        assert type(jac) is onp.ndarray or isinstance(jac, onp.generic), name
        assert onp.shape(jac) == shape, f"{name}: {onp.shape(jac)} != {shape}"
        close(jac, results["jacfwd"])
    assert_fd_close(results["jacrev"], f, x)


def test_linear_and_affine_maps_give_their_matrix():
    M = randn(4, 3)
    for jac in all_jacobians(lambda x: M @ x + 1.0).values():
        close(jac(randn(3)), M, rtol=1e-14)
    # the identity on a matrix is the identity tensor
    for jac in all_jacobians(lambda x: x).values():
        close(jac(randn(2, 3)), onp.eye(6).reshape(2, 3, 2, 3))
    # a function that ignores its input has a zero Jacobian
    for jac in all_jacobians(lambda x: np.ones(3)).values():
        close(jac(randn(2)), onp.zeros((3, 2)))


# ----------------------------------------------------------------------------- random compositions
def _const(*shape: int) -> onp.ndarray:
    """A fixed matrix for each shape (so that a program is a function)."""
    return onp.random.default_rng(sum(shape) * 31 + len(shape)).standard_normal(shape)


STEPS: dict[str, Callable[[Any], Any]] = {
    "sin": np.sin,
    "tanh_x": lambda x: np.tanh(x) * x,
    "exp_tanh": lambda x: np.exp(np.tanh(x)),
    "rational": lambda x: x / (1.0 + 0.1 * x * x),
    "log1p_sq": lambda x: np.log1p(x * x),
    # C^1 across the switch; the inner minimum keeps the unused branch finite (else
    # its infinite derivative times a zero cotangent is NaN, as in JAX)
    "smooth_where": lambda x: np.where(x > 0, x, np.expm1(np.minimum(x, 0.0))),
    "sum_last": lambda x: np.sum(x, axis=-1) if x.ndim else 2.0 * x,
    "prod_first": lambda x: np.prod(x, axis=0) if x.ndim else x * x,
    "center": lambda x: x - np.mean(x, axis=0, keepdims=True) * 0.5 if x.ndim else x,
    "cumsum": lambda x: np.cumsum(x, axis=0) if x.ndim else x,
    "outer": lambda x: (x @ np.sin(x).T if x.ndim == 2 else
                        np.outer(x, np.cos(x)) if x.ndim == 1 else x * x),
    "matmul": lambda x: x @ _const(x.shape[-1], 2) if x.ndim else x * _const(2),
    "transpose": lambda x: x.T,
    "flatten": lambda x: np.reshape(x, (-1,)),
    "unflatten": lambda x: x.reshape((x.shape[0], 1)) if x.ndim == 1 else x,
    "reverse": lambda x: x[::-1] if x.ndim else x,
    "gather": lambda x: x[onp.array([0, 0, x.shape[0] - 1])] if x.ndim else x,
    "concat": lambda x: (np.concatenate([x, np.sin(x[:1])], axis=0) if x.ndim else
                         np.stack([x, x * x])),
    "index_update": lambda x: (at(x)[0].add(np.sin(np.sum(x * x))) if x.ndim else x),
}
SHAPES = [(), (1,), (3,), (2, 3), (3, 1)]


class _PlainAt:
    """``x.at[idx].add(v)`` for a plain NumPy array (the finite differences call the
    programs on plain arrays, which have no ``.at``)."""

    def __init__(self, x: onp.ndarray, idx: Any = None) -> None:
        self.x, self.idx = x, idx

    def __getitem__(self, idx: Any) -> "_PlainAt":
        return _PlainAt(self.x, idx)

    def add(self, v: Any) -> onp.ndarray:
        out = onp.array(self.x, dtype=onp.result_type(self.x, v))
        onp.add.at(out, self.idx, v)
        return out


def at(x: Any) -> Any:
    return x.at if isinstance(x, Tracer) else _PlainAt(onp.asarray(x))


def program(steps):
    def f(x):
        for name in steps:
            x = STEPS[name](x)
        return x
    return f


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(st.sampled_from(sorted(STEPS)), min_size=1, max_size=4),
       shape=st.sampled_from(SHAPES), seed=st.integers(0, 2 ** 32 - 1))
def test_random_compositions(steps, shape, seed):
    f = program(steps)
    x = onp.random.default_rng(seed).standard_normal(shape)
    out_shape = onp.shape(f(x))
    ref = xform.jacfwd(f)(x)
    assert onp.shape(ref) == out_shape + shape
    scale = max(1.0, float(onp.max(onp.abs(ref), initial=0.0)))
    for name, jac in all_jacobians(f).items():
        if name != "jacfwd":
            close(jac(x), ref, rtol=1e-9, atol=1e-12 * scale)
    assert_fd_close(ref, f, x, rtol=1e-5, atol=1e-6 * scale)


@pytest.mark.parametrize("name", sorted(STEPS))
@pytest.mark.parametrize("shape", SHAPES)
def test_each_composition_step(name, shape):
    f = STEPS[name]
    x = onp.random.default_rng(3).standard_normal(shape)
    results = {k: jac(x) for k, jac in all_jacobians(f).items()}
    for k, jac in results.items():
        close(jac, results["jacfwd"], rtol=1e-10)
    assert_fd_close(results["jacfwd"], f, x)


# ----------------------------------------------------------------------------- argnums
def f3(x, y, z):
    """x (3,), y (), z (2, 2) -> (2,)"""
    return np.sin(z @ x[:2]) * y + np.sum(x) * z[0] ** 2


X3, Y3, Z3 = randn(3), onp.float64(0.4), randn(2, 2)


@pytest.mark.parametrize("mode", ["jacfwd", "jacrev", "fwd", "rev", "auto"])
def test_argnums_int_and_tuple(mode):
    def make(f, argnums):
        if mode in ("jacfwd", "jacrev"):
            return getattr(xform, mode)(f, argnums=argnums)
        return xform.jacobian(f, argnums=argnums, mode=mode)

    fd = {0: fd_jacobian(lambda x: f3(x, Y3, Z3), X3),
          1: fd_jacobian(lambda y: f3(X3, y, Z3), Y3),
          2: fd_jacobian(lambda z: f3(X3, Y3, z), Z3)}
    exact = {k: xform.jacfwd(f3, argnums=k)(X3, Y3, Z3) for k in range(3)}
    for k in range(3):
        got = make(f3, k)(X3, Y3, Z3)
        assert isinstance(got, onp.ndarray) and got.shape == (2,) + onp.shape((X3, Y3, Z3)[k])
        close(got, exact[k])
        onp.testing.assert_allclose(got, fd[k], rtol=1e-5, atol=1e-6)
    got = make(f3, (0, 2))(X3, Y3, Z3)
    assert isinstance(got, tuple) and len(got) == 2
    close(got, (exact[0], exact[2]))
    got = make(f3, (2, 1, 0))(X3, Y3, Z3)
    close(got, (exact[2], exact[1], exact[0]))
    got = make(f3, (1,))(X3, Y3, Z3)          # a 1-tuple stays a tuple
    assert isinstance(got, tuple) and len(got) == 1
    close(got, (exact[1],))


def test_argnums_out_of_range_is_an_error():
    for jac in (xform.jacfwd, xform.jacrev, xform.jacobian):
        with pytest.raises((ValueError, TypeError)):
            jac(f3, argnums=3)(X3, Y3, Z3)


def test_integer_input_is_a_type_error():
    for jac in (xform.jacfwd, xform.jacrev, xform.jacobian, xform.hessian):
        with pytest.raises(TypeError):
            jac(lambda x: x * 2.0)(onp.arange(3))


def test_jacobian_mode_must_be_known():
    with pytest.raises(ValueError, match="mode"):
        xform.jacobian(tall, mode="sideways")


# ----------------------------------------------------------------------------- has_aux
@pytest.mark.parametrize("name", ["jacfwd", "jacrev", "auto", "fwd", "rev"])
def test_has_aux(name):
    calls = []

    def f(x):
        calls.append(1)
        y = np.tanh(A53 @ x)
        return y, {"norm": np.sum(y * y), "y": y, "n": 3}

    transform = {"jacfwd": xform.jacfwd, "jacrev": xform.jacrev}.get(name)
    if transform is None:
        jac_fn = xform.jacobian(f, mode=name, has_aux=True)
    else:
        jac_fn = transform(f, has_aux=True)
    x = randn(3)
    jac, aux = jac_fn(x)
    y = onp.tanh(A53 @ x)
    close(jac, xform.jacfwd(lambda v: np.tanh(A53 @ v))(x))
    assert set(aux) == {"norm", "y", "n"}
    for leaf in tree_flatten(aux)[0]:
        assert not isinstance(leaf, Tracer)     # aux comes back as plain values
    close(aux["y"], y, rtol=1e-14)
    close(aux["norm"], onp.sum(y * y), rtol=1e-14)
    assert int(aux["n"]) == 3


def test_has_aux_with_argnums_tuple_and_a_bad_return():
    def f(x, y):
        return x * y, x.sum()

    jac, aux = xform.jacrev(f, argnums=(0, 1), has_aux=True)(randn(2), onp.float64(3.0))
    assert isinstance(jac, tuple) and jac[0].shape == (2, 2) and jac[1].shape == (2,)
    with pytest.raises((TypeError, ValueError)):
        xform.jacfwd(lambda x: x, has_aux=True)(randn(3))


# ----------------------------------------------------------------------------- pytrees
X45 = randn(3, 4)


def f_dict_to_tuple(p):
    """p = {"w": (2, 3), "b": (2,)} -> (h (2, 4), s ())."""
    h = np.tanh(p["w"] @ X45 + p["b"][:, None])
    return h, np.sum(h ** 2) * p["b"][1]


P = {"w": randn(2, 3), "b": randn(2)}


def fd_blocks(f: Callable[[Any], Any], tree: dict[str, Any], out_index: int | None,
              key: str) -> onp.ndarray:
    """Finite-difference block of output ``out_index`` (None: the only output) with
    respect to leaf ``key`` of a dict input."""
    def g(v):
        out = f({**tree, key: v})
        return out if out_index is None else out[out_index]
    return fd_jacobian(g, tree[key])


@pytest.mark.parametrize("name", ["jacfwd", "jacrev", "fwd", "rev", "auto"])
def test_dict_input_tuple_output(name):
    jac_fn = {"jacfwd": xform.jacfwd, "jacrev": xform.jacrev}.get(name) or (
        lambda f: xform.jacobian(f, mode=name))
    got = jac_fn(f_dict_to_tuple)(P)
    # the output structure is outside, the input structure inside: a tuple of dicts
    assert isinstance(got, tuple) and len(got) == 2
    assert all(isinstance(g, dict) and set(g) == {"w", "b"} for g in got)
    shapes = {(0, "w"): (2, 4, 2, 3), (0, "b"): (2, 4, 2), (1, "w"): (2, 3), (1, "b"): (2,)}
    for (o, k), shape in shapes.items():
        assert onp.shape(got[o][k]) == shape, (o, k)
        onp.testing.assert_allclose(got[o][k], fd_blocks(f_dict_to_tuple, P, o, k),
                                    rtol=1e-5, atol=1e-6)
    close(got, xform.jacfwd(f_dict_to_tuple)(P))


def f_two_trees(xs, y):
    """xs = [a (2,), (b (), c (3,))], y (2,) -> {"u": (3,), "v": (2, 2)}."""
    a, (b, c) = xs
    return {"u": np.sin(c) * b + np.sum(a * y), "v": np.outer(a, y) * b}


def test_nested_input_and_output_with_argnums_tuple():
    xs = [randn(2), (onp.float64(0.5), randn(3))]
    y = randn(2)
    expected_structure = {"u": ([0, (0, 0)], 0), "v": ([0, (0, 0)], 0)}
    expected_shapes = {
        "u": ([(3, 2), ((3,), (3, 3))], (3, 2)),
        "v": ([(2, 2, 2), ((2, 2), (2, 2, 3))], (2, 2, 2)),
    }
    results = [jac(f_two_trees, argnums=(0, 1))(xs, y)
               for jac in (xform.jacfwd, xform.jacrev)]
    results += [xform.jacobian(f_two_trees, argnums=(0, 1), mode=m)(xs, y)
                for m in ("fwd", "rev", "auto")]
    for got in results:
        assert tree_structure(got) == tree_structure(expected_structure)
        for key in ("u", "v"):
            (ja, (jb, jc)), jy = got[key]
            (sa, (sb, sc)), sy = expected_shapes[key]
            assert (onp.shape(ja), onp.shape(jb), onp.shape(jc), onp.shape(jy)) == \
                (sa, sb, sc, sy), key
        close(got, results[0])
    # values against finite differences, leaf by leaf
    got = results[1]
    a, (b, c) = xs
    checks = {
        "a": (lambda v: f_two_trees([v, (b, c)], y), a, lambda t: t[0][0]),
        "b": (lambda v: f_two_trees([a, (v, c)], y), b, lambda t: t[0][1][0]),
        "c": (lambda v: f_two_trees([a, (b, v)], y), c, lambda t: t[0][1][1]),
        "y": (lambda v: f_two_trees(xs, v), y, lambda t: t[1]),
    }
    for name, (g, x0, pick) in checks.items():
        for key in ("u", "v"):
            onp.testing.assert_allclose(pick(got[key]), fd_jacobian(lambda v: g(v)[key], x0),
                                        rtol=1e-5, atol=1e-6, err_msg=f"{key} / {name}")


def test_pytree_input_with_argnums_int_has_no_extra_tuple():
    got = xform.jacrev(lambda p, s: p["w"].sum() * s, argnums=0)(P, 2.0)
    assert isinstance(got, dict) and set(got) == {"w", "b"}
    close(got, {"w": onp.full((2, 3), 2.0), "b": onp.zeros(2)})


# ----------------------------------------------------------------------------- chunk_size
@pytest.mark.parametrize("transform", [xform.jacfwd, xform.jacrev])
@pytest.mark.parametrize("chunk", [1, 2, 3, 4, 7, 100])
def test_chunk_size_gives_the_unchunked_result(transform, chunk):
    x = randn(7)                        # 7 inputs and 6 outputs: most chunks do not divide
    f = lambda x: np.tanh(np.outer(x[:3], x[3:5]).reshape(-1)) * np.sum(x)  # noqa: E731
    close(transform(f, chunk_size=chunk)(x), transform(f)(x), rtol=1e-13)
    close(transform(f_dict_to_tuple, chunk_size=chunk)(P), transform(f_dict_to_tuple)(P),
          rtol=1e-13)
    close(transform(f3, argnums=(0, 2), chunk_size=chunk)(X3, Y3, Z3),
          transform(f3, argnums=(0, 2))(X3, Y3, Z3), rtol=1e-13)


def test_chunk_size_through_jacobian_and_hessian():
    x = randn(5)
    close(xform.jacobian(tall, mode="auto", chunk_size=2)(x[:3]), xform.jacfwd(tall)(x[:3]))
    f = lambda x: np.sum(np.sin(x) * np.roll(x, 1)) ** 2  # noqa: E731
    for chunk in (1, 2, 3, 5, 9):
        close(xform.hessian(f, chunk_size=chunk)(x), xform.hessian(f)(x), rtol=1e-12)


def test_chunk_size_with_has_aux():
    f = lambda x: (np.sin(x) * x[0], np.sum(x))  # noqa: E731
    x = randn(5)
    for transform in (xform.jacfwd, xform.jacrev):
        jac, aux = transform(f, has_aux=True, chunk_size=2)(x)
        close(jac, xform.jacfwd(lambda v: f(v)[0])(x))
        close(aux, onp.sum(x), rtol=1e-14)


# ----------------------------------------------------------------------------- hessian
C33 = randn(3, 3)


def f_smooth(x):
    return np.sum(np.sin(x) * x ** 2) + np.log(1.0 + x @ C33 @ x * x @ x) + np.prod(x)


def f_branchy(x):
    """Python control flow on the primal value: a branch and a while loop."""
    y = x
    steps = 0
    while np.sum(y * y) < 20.0:
        y = 1.3 * y + 0.2 * np.sin(y)
        steps += 1
    if np.sum(x) > 0:
        return np.sum(y ** 3) * x[0] + steps
    return np.sum(np.cos(y) * x) - steps


def f_branchy_vec(x):
    """R^3 -> R^2 with the same control flow."""
    out = []
    y = x
    while np.max(np.abs(y)) < 4.0:
        y = y * 1.5 + x[::-1] * 0.1
    if x.sum() > 0:
        out = [np.sum(y ** 2), np.sin(y[0]) * x[1]]
    else:
        out = [np.prod(y), np.cos(y[1]) * x[0]]
    return np.stack(out)


X_POS = onp.array([0.8, -0.3, 0.5])
X_NEG = onp.array([-0.6, 0.2, -0.9])


def hessian_by_every_nesting(f, x):
    return {"hessian": xform.hessian(f)(x),
            "rev_rev": xform.jacrev(xform.jacrev(f))(x),
            "fwd_fwd": xform.jacfwd(xform.jacfwd(f))(x),
            "fwd_rev": xform.jacfwd(xform.jacrev(f))(x),
            "rev_fwd": xform.jacrev(xform.jacfwd(f))(x),
            "jacobian_grad": xform.jacobian(xform.grad(f))(x)}


@pytest.mark.parametrize("f, x", [(f_smooth, X_POS), (f_smooth, X_NEG),
                                  (f_branchy, X_POS), (f_branchy, X_NEG)],
                         ids=["smooth+", "smooth-", "branchy+", "branchy-"])
def test_hessian_is_symmetric_and_every_nesting_agrees(f, x):
    hs = hessian_by_every_nesting(f, x)
    H = hs["hessian"]
    assert H.shape == (3, 3)
    close(H, H.T, rtol=1e-10, atol=1e-10)
    for name, h in hs.items():
        close(h, H, rtol=1e-9, atol=1e-10)
    # against finite differences of the gradient
    fd = fd_jacobian(xform.grad(f), x)
    onp.testing.assert_allclose(H, fd, rtol=1e-5, atol=1e-5 * max(1.0, onp.abs(H).max()))


@pytest.mark.parametrize("x", [X_POS, X_NEG], ids=["pos", "neg"])
def test_control_flow_on_the_primal_under_jacobians(x):
    expected = fd_jacobian(f_branchy_vec, x)
    for name, jac in all_jacobians(f_branchy_vec).items():
        got = jac(x)
        onp.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5, err_msg=name)
    H = xform.hessian(f_branchy_vec)(x)
    assert H.shape == (2, 3, 3)
    close(H, onp.swapaxes(H, 1, 2), rtol=1e-9, atol=1e-10)
    close(H, xform.jacrev(xform.jacrev(f_branchy_vec))(x), rtol=1e-9, atol=1e-10)
    close(H, xform.jacfwd(xform.jacfwd(f_branchy_vec))(x), rtol=1e-9, atol=1e-10)
    fd = fd_jacobian(xform.jacrev(f_branchy_vec), x)
    onp.testing.assert_allclose(H, fd, rtol=1e-5, atol=1e-4)


def test_hessian_of_a_matrix_input():
    f = lambda m: np.sum(np.tanh(m @ m.T)) + np.sum(m[0] ** 3)  # noqa: E731
    m = randn(2, 3)
    H = xform.hessian(f)(m)
    assert H.shape == (2, 3, 2, 3)
    close(H, H.transpose(2, 3, 0, 1), rtol=1e-10, atol=1e-12)
    close(H, xform.jacrev(xform.jacrev(f))(m), rtol=1e-10, atol=1e-12)
    onp.testing.assert_allclose(H, fd_jacobian(xform.grad(f), m), rtol=1e-5, atol=1e-5)


def test_hessian_with_argnums_tuple_and_pytree_input():
    def f(x, y):
        return np.sum(np.sin(x) * y[0] ** 2) + np.sum(x ** 2) * np.sum(y)

    x, y = randn(3), randn(2)
    H = xform.hessian(f, argnums=(0, 1))(x, y)
    # nested tuples: H[i][j] = d^2 f / d arg_i d arg_j, shape arg_i.shape + arg_j.shape
    assert isinstance(H, tuple) and all(isinstance(r, tuple) and len(r) == 2 for r in H)
    assert [[onp.shape(b) for b in r] for r in H] == [[(3, 3), (3, 2)], [(2, 3), (2, 2)]]
    close(H[0][1], H[1][0].T, rtol=1e-12)
    close(H, xform.jacrev(xform.jacrev(f, argnums=(0, 1)), argnums=(0, 1))(x, y))
    full = fd_jacobian(lambda z: xform.grad(lambda v: f(v[:3], v[3:]))(z),
                       onp.concatenate([x, y]))
    onp.testing.assert_allclose(onp.block([[H[0][0], H[0][1]], [H[1][0], H[1][1]]]), full,
                                rtol=1e-5, atol=1e-5)
    # a dict input: {"a": {"a": .., "b": ..}, "b": {"a": .., "b": ..}}
    g = lambda p: f(p["a"], p["b"])  # noqa: E731
    Hd = xform.hessian(g)({"a": x, "b": y})
    assert set(Hd) == {"a", "b"} and all(set(Hd[k]) == {"a", "b"} for k in Hd)
    close(Hd, {"a": {"a": H[0][0], "b": H[0][1]}, "b": {"a": H[1][0], "b": H[1][1]}})


def test_hessian_with_has_aux():
    f = lambda x: (np.sum(x ** 3), {"x2": x * 2})  # noqa: E731
    x = randn(3)
    H, aux = xform.hessian(f, has_aux=True)(x)
    close(H, onp.diag(6 * x))
    close(aux, {"x2": x * 2})


def test_hessian_of_a_scalar_function_of_a_scalar():
    H = xform.hessian(lambda x: np.sin(x) * x)(0.3)
    assert onp.shape(H) == ()
    assert math.isclose(float(H), 2 * math.cos(0.3) - 0.3 * math.sin(0.3), rel_tol=1e-12)


def test_hessian_holomorphic():
    """JAX's ``hessian(..., holomorphic=True)`` (it was a TypeError: no such argument):
    the complex second derivative, against the closed form and against jacfwd/jacrev."""
    z = onp.array([1.0 + 1.0j, -0.5 + 2.0j])
    f = lambda z: np.sum(np.sin(z) * z ** 2)  # noqa: E731
    H = xform.hessian(f, holomorphic=True)(z)
    second = 2 * onp.sin(z) + 4 * z * onp.cos(z) - z ** 2 * onp.sin(z)
    close(H, onp.diag(second))
    close(H, xform.jacrev(xform.jacrev(f, holomorphic=True), holomorphic=True)(z))
    with pytest.raises(TypeError, match="holomorphic=True requires complex"):
        xform.hessian(f, holomorphic=True)(onp.ones(2))


def test_jacrev_refuses_complex_outputs_that_would_lose_their_imaginary_part():
    """jacrev of a complex-valued function of real inputs returned the real part of the
    Jacobian only (jacfwd had it right); now a TypeError as in JAX, and jacobian's
    automatic mode picks forward mode for it."""
    x = randn(3)
    f = lambda x: x * (1.0 + 2.0j) + np.sum(x)  # noqa: E731
    with pytest.raises(TypeError, match="real-valued outputs.*jacfwd"):
        xform.jacrev(f)(x)
    expected = (1.0 + 2.0j) * onp.eye(3) + onp.ones((3, 3))
    close(xform.jacfwd(f)(x), expected)
    close(xform.jacobian(f)(x), expected)
    with pytest.raises(TypeError, match="holomorphic=True requires complex-valued outputs"):
        xform.jacrev(lambda z: np.abs(z), holomorphic=True)(x + 1j)
    # complex inputs, real outputs: fine in reverse mode (JAX's convention), and so in
    # jacobian's automatic mode (it refused them, telling the user to pass a
    # holomorphic=True that jacobian does not take)
    z = x + 1j * randn(3)
    expected = onp.diag(onp.conj(z) / onp.abs(z))
    close(xform.jacrev(lambda z: np.abs(z))(z), expected)
    close(xform.jacobian(lambda z: np.abs(z))(z), expected)
    close(xform.jacobian(lambda z: np.abs(z[:1]) * np.ones(5))(z)[:, 0], onp.full(5, expected[0, 0]))
    with pytest.raises(TypeError, match="holomorphic=True"):
        xform.jacobian(lambda z: z * 2.0)(z)


# ----------------------------------------------------------------------------- hvp
@pytest.mark.parametrize("f, x", [(f_smooth, X_POS), (f_branchy, X_NEG)],
                         ids=["smooth", "branchy"])
def test_hvp_equals_hessian_times_vector(f, x):
    v = randn(3)
    got = xform.hvp(f, (x,), (v,))
    assert isinstance(got, onp.ndarray) and got.shape == (3,)
    close(got, xform.hessian(f)(x) @ v, rtol=1e-9, atol=1e-10)


def test_hvp_of_a_matrix_argument():
    f = lambda m: np.sum(np.tanh(m @ m.T))  # noqa: E731
    m, v = randn(2, 3), randn(2, 3)
    H = xform.hessian(f)(m)
    close(xform.hvp(f, (m,), (v,)), onp.tensordot(H, v, axes=2), rtol=1e-10, atol=1e-12)


def test_hvp_with_several_arguments():
    def f(x, y):
        return np.sum(np.sin(x) * y[0] ** 2) + np.sum(x ** 2) * np.sum(np.exp(y))

    x, y, u, v = randn(3), randn(2), randn(3), randn(2)
    got = xform.hvp(f, (x, y), (u, v))
    H = xform.hessian(f, argnums=(0, 1))(x, y)
    assert isinstance(got, tuple) and len(got) == 2
    close(got, (H[0][0] @ u + H[0][1] @ v, H[1][0] @ u + H[1][1] @ v), rtol=1e-9)
    # a zero tangent in one argument picks out one block column
    got = xform.hvp(f, (x, y), (onp.zeros(3), v))
    close(got, (H[0][1] @ v, H[1][1] @ v), rtol=1e-9, atol=1e-12)


# ----------------------------------------------------------------------------- linear_transpose
def test_linear_transpose_is_the_transposed_matrix():
    M = randn(4, 3)
    x = randn(3)
    t = xform.linear_transpose(lambda v: M @ v, x)
    ct = randn(4)
    out = t(ct)
    assert isinstance(out, tuple) and len(out) == 1
    close(out[0], M.T @ ct, rtol=1e-13)
    # the full transposed matrix, column by column
    cols = onp.stack([t(e)[0] for e in onp.eye(4)], axis=1)
    close(cols, M.T, rtol=1e-13)
    # and it is the transpose of the Jacobian
    close(cols, xform.jacfwd(lambda v: M @ v)(x).T, rtol=1e-13)


def test_linear_transpose_of_matrix_maps_and_several_inputs():
    A, B, C = randn(2, 3), randn(4, 5), randn(2, 5)
    X = randn(3, 4)
    # X -> A X B is vec(X) -> (A kron B^T) vec(X); its transpose is Y -> A^T Y B^T
    (got,) = xform.linear_transpose(lambda m: A @ m @ B, X)(C)
    close(got, A.T @ C @ B.T, rtol=1e-12)
    # two inputs: (x, y) -> P x + Q y transposes to ct -> (P^T ct, Q^T ct)
    P, Q = randn(3, 2), randn(3, 4)
    ct = randn(3)
    gx, gy = xform.linear_transpose(lambda x, y: P @ x + Q @ y, randn(2), randn(4))(ct)
    close((gx, gy), (P.T @ ct, Q.T @ ct), rtol=1e-12)
    # <ct, L x> == <L^T ct, x> for a linear map built from indexing and reductions
    L = lambda x: np.concatenate([np.cumsum(x[::-1]), x[:2] * 3.0, np.sum(x)[None]])  # noqa
    x = randn(5)
    ct = randn(8)
    (lt,) = xform.linear_transpose(L, x)(ct)
    onp.testing.assert_allclose(ct @ L(x), lt @ x, rtol=1e-12)


# ----------------------------------------------------------------------------- dtypes
F32_FUNS = {
    "sin": np.sin,
    "tanh_matmul": lambda x: np.tanh(x @ onp.ones((3, 2), onp.float32)),
    "exp_sum": lambda x: np.exp(x) * np.sum(x ** 2),
    "scalar_ops": lambda x: 2.0 * x + x / 3.0 - 1.5,
    "cumsum": lambda x: np.cumsum(np.cos(x)),
}


@pytest.mark.parametrize("name", sorted(F32_FUNS))
def test_float32_stays_float32(name):
    f = F32_FUNS[name]
    x = onp.array([0.1, -0.4, 0.7], dtype=onp.float32)
    for mode, jac in all_jacobians(f).items():
        got = jac(x)
        assert got.dtype == onp.float32, f"{mode}: {got.dtype}"
        onp.testing.assert_allclose(got, xform.jacfwd(f)(x.astype(onp.float64)), rtol=2e-5,
                                    atol=1e-6, err_msg=mode)
    g = lambda x: np.sum(f(x))  # noqa: E731
    assert xform.hessian(g)(x).dtype == onp.float32
    assert xform.hvp(g, (x,), (onp.ones(3, onp.float32),)).dtype == onp.float32


def test_mixed_precision_pytree_follows_jax():
    """As in JAX: a jacrev block has its input leaf's dtype, a jacfwd block its output
    leaf's dtype."""
    p = {"a": onp.ones(2, onp.float32), "b": onp.ones(2, onp.float64)}
    got = xform.jacrev(lambda p: p["a"] * 2.0)(p)
    assert (got["a"].dtype, got["b"].dtype) == (onp.float32, onp.float64)
    got = xform.jacfwd(lambda p: p["a"] * 2.0)(p)
    assert (got["a"].dtype, got["b"].dtype) == (onp.float32, onp.float32)
    got = xform.jacfwd(lambda p: np.sum(p["a"] ** 2) + np.sum(p["b"]))(p)
    assert (got["a"].dtype, got["b"].dtype) == (onp.float64, onp.float64)
    close(got, {"a": onp.full(2, 2.0), "b": onp.ones(2)})


# ----------------------------------------------------------------------------- composition
def test_jacobians_under_vmap_and_grad():
    xs = randn(4, 3)
    got = xform.vmap(xform.jacfwd(tall))(xs)
    close(got, onp.stack([xform.jacfwd(tall)(x) for x in xs]))
    got = xform.vmap(xform.jacrev(tall))(xs)
    close(got, onp.stack([xform.jacrev(tall)(x) for x in xs]))
    # gradient of a function of the Jacobian (e.g. a Jacobian penalty)
    pen = lambda x: np.sum(xform.jacrev(tall)(x) ** 2)  # noqa: E731
    onp.testing.assert_allclose(xform.grad(pen)(xs[0]), numerical_grad(pen, xs[0]),
                                rtol=1e-5, atol=1e-6)
