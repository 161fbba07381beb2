"""Structured Jacobian bases (xform/core/structured.py): the identity basis of
jacfwd/jacrev/hessian stays a diagonal through the rules that keep it (scaling,
sums, reshapes, slices, matmul with a dense matrix, full reductions) and is made
dense wherever another rule needs it. The results must be those of the dense basis:
each Jacobian is compared with the same batched pass over a dense ``numpy.eye``
(``vmap`` of the JVP or of the pullback), and the programs jit records carry no
identity-sized array."""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy as onp
import pytest

import xform
import xform.numpy as np
from xform.core.structured import Diagonal
from xform.test_util import check_grads
from xform.tree_util import ravel_pytree

from helpers import assert_trees_close as close

RNG = onp.random.default_rng(7)
A = RNG.standard_normal((6, 4))
M = RNG.standard_normal((4, 3))


def dense_jacfwd(f: Callable[[Any], Any], x: Any) -> onp.ndarray:
    """The forward Jacobian (flat out x flat in) by a vmap of jvp over a dense eye."""
    flat, unravel = ravel_pytree(x)
    g = lambda v: ravel_pytree(f(unravel(v)))[0]  # noqa: E731
    eye = onp.eye(flat.size, dtype=flat.dtype)
    return onp.asarray(xform.vmap(lambda t: xform.jvp(g, (flat,), (t,))[1])(eye)).T


def dense_jacrev(f: Callable[[Any], Any], x: Any) -> onp.ndarray:
    """The reverse Jacobian (flat out x flat in) by a vmap of the pullback over a
    dense eye."""
    flat, unravel = ravel_pytree(x)
    g = lambda v: ravel_pytree(f(unravel(v)))[0]  # noqa: E731
    out, pullback = xform.vjp(g, flat)
    eye = onp.eye(onp.size(out), dtype=onp.result_type(out))
    return onp.asarray(xform.vmap(lambda c: pullback(c)[0])(eye))


def flat_jacobian(jac: Any, f: Callable[[Any], Any], x: Any) -> onp.ndarray:
    """A Jacobian pytree (output structure outside, input inside) as one matrix."""
    out_leaves = xform.tree_util.tree_leaves(f(x))
    in_leaves = xform.tree_util.tree_leaves(x)
    per_out = xform.tree_util.tree_structure(f(x)).flatten_up_to(jac)
    rows = []
    for o, blocks in zip(out_leaves, per_out):
        cols = xform.tree_util.tree_leaves(blocks)
        rows.append(onp.concatenate(
            [onp.reshape(c, (onp.size(o), onp.size(i))) for c, i in zip(cols, in_leaves)],
            axis=1))
    return onp.concatenate(rows, axis=0)


# functions where the basis meets each structured rule, and rules that densify it
CASES: dict[str, tuple[Callable[[Any], Any], Any]] = {
    "matmul right (A @ x), tanh": (lambda x: np.tanh(A @ x), RNG.standard_normal(4)),
    "matmul left (x @ M)": (lambda x: np.sin(x @ M), RNG.standard_normal(4)),
    "vector dot": (lambda x: x @ x[::-1] * x, RNG.standard_normal(5)),
    "full reduction": (lambda x: np.sum(x ** 2) * x + np.mean(np.exp(x)), RNG.standard_normal(5)),
    "partial reduction of a matrix": (lambda x: np.sum(np.sin(x), axis=0) * np.sum(x, axis=1)[0],
                                      RNG.standard_normal((3, 4))),
    "matrix input, reshape and transpose": (lambda x: np.reshape(x.T @ x, (-1,)) / (1.0 + x[0, 0] ** 2),
                                            RNG.standard_normal((3, 2))),
    "quotients, differences and negation": (lambda x: -(x / (2.0 + x ** 2)) - np.cos(x) / 3.0,
                                            RNG.standard_normal(4)),
    "slices and fancy indexing": (lambda x: x[1:3] * x[onp.array([0, 0, 3])].sum(),
                                  RNG.standard_normal(4)),
    "pytree in and out": (lambda p: {"u": np.tanh(p["a"] @ M) * p["b"][0, 1],
                                     "v": (p["a"] * p["a"], np.sum(p["b"]))},
                          {"a": RNG.standard_normal(4), "b": RNG.standard_normal((2, 2))}),
    "complex holomorphic": (lambda z: np.exp(1j * z) * (A @ z)[:4] + np.conj(np.conj(z)) ** 2,
                            RNG.standard_normal(4) + 1j * RNG.standard_normal(4)),
    "float32": (lambda x: np.tanh(A.astype(onp.float32) @ x), RNG.standard_normal(4).astype(onp.float32)),
}


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("chunk_size", [None, 3])
def test_structured_and_dense_bases_agree(name: str, chunk_size: int | None) -> None:
    f, x = CASES[name]
    holo = onp.iscomplexobj(x)
    tol = 1e-5 if onp.result_type(*xform.tree_util.tree_leaves(x)) == onp.float32 else 1e-12
    for jacobian, dense in ((xform.jacfwd, dense_jacfwd), (xform.jacrev, dense_jacrev)):
        jac = jacobian(f, holomorphic=holo, chunk_size=chunk_size)
        want = dense(f, x)
        got = flat_jacobian(jac(x), f, x)
        onp.testing.assert_allclose(got, want, rtol=tol, atol=tol)
        jitted = flat_jacobian(xform.jit(jac)(x), f, x)
        onp.testing.assert_allclose(jitted, want, rtol=tol, atol=tol)


def test_hessian_and_vmap_of_jacrev_agree_with_dense() -> None:
    def f(x: Any) -> Any:
        z = A @ x
        return np.log(np.sum(np.exp(z))) + 0.5 * np.sum(x * x)

    x = RNG.standard_normal(4)
    dense_h = dense_jacfwd(xform.grad(f), x)
    close(xform.hessian(f)(x), dense_h, rtol=1e-12, atol=1e-12)
    close(xform.jit(xform.hessian(f))(x), dense_h, rtol=1e-12, atol=1e-12)
    xs = RNG.standard_normal((3, 4))
    g = lambda x: np.tanh(A @ x) * np.sum(x)  # noqa: E731
    want = onp.stack([dense_jacrev(g, xi) for xi in xs])
    close(xform.vmap(xform.jacrev(g))(xs), want, rtol=1e-12, atol=1e-12)
    close(xform.jit(xform.vmap(xform.jacfwd(g)))(xs), want, rtol=1e-12, atol=1e-12)


def test_derivatives_of_structured_jacobians() -> None:
    """A Jacobian computed on the structured basis differentiates again (central
    differences; real and imaginary directions for the complex case)."""
    check_grads(xform.jacrev(lambda x: np.tanh(A @ x) * x[0]), (RNG.standard_normal(4),),
                order=1)
    check_grads(xform.jacfwd(lambda x: np.sin(x @ M)), (RNG.standard_normal(4),), order=1)
    z = RNG.standard_normal(3) + 1j * RNG.standard_normal(3)
    check_grads(lambda z: xform.jacfwd(lambda w: w * np.sum(w ** 2), holomorphic=True)(z),
                (z,), order=1, modes=("fwd",))


def _largest_value(closed: Any) -> int:
    return max(math.prod(v.aval.shape) for e in closed.eqns for v in e.outvars)


def test_jit_jacrev_of_a_tall_layer_carries_no_identity() -> None:
    """jacrev of tanh(A x) with 1,000 outputs: the traced program is the hand-written
    one, (1 - y**2)[:, None] * A, with no 1,000 x 1,000 array anywhere (the dense
    basis pulled a 1,000 x 1,000 identity through the backward pass)."""
    big = RNG.standard_normal((1000, 10))
    f = lambda x: np.tanh(big @ x)  # noqa: E731
    x = RNG.standard_normal(10)
    closed = xform.make_jaxpr(xform.jacrev(f))(x)
    assert _largest_value(closed) == 1000 * 10
    assert not any(math.prod(c.shape) >= 1000 * 1000 for c in closed.consts
                   if hasattr(c, "shape"))
    assert [e.prim.name for e in closed.eqns if e.prim.name == "matmul"] == ["matmul"]
    close(xform.jit(xform.jacrev(f))(x), (1 - onp.tanh(big @ x) ** 2)[:, None] * big)
    closed = xform.make_jaxpr(xform.jacfwd(lambda x: np.tanh(x @ big.T)))(x)
    assert _largest_value(closed) == 1000 * 10


def test_diagonal_dense_and_chunks() -> None:
    d = onp.arange(1.0, 5.0)
    basis = Diagonal(d)
    onp.testing.assert_array_equal(basis.dense(), onp.diag(d))
    full = onp.diag(d)
    for start, stop in ((0, 2), (2, 4), (1, 4), (3, 4)):
        onp.testing.assert_array_equal(basis.rows(start, stop).dense(), full[start:stop])
        per_position = onp.arange(8.0).reshape(4, 2)
        want = (full[start:stop] != 0).astype(float) @ per_position
        onp.testing.assert_array_equal(basis.rows(start, stop).rows_from(per_position), want)
    shifted = Diagonal(onp.ones(2), offset=1, size=4)  # rows 1, 2 of a 4 x 2 basis
    onp.testing.assert_array_equal(shifted.dense(), onp.eye(4, 2, k=-1))
    onp.testing.assert_array_equal(Diagonal(onp.ones((2, 2)), unit=True).dense(),
                                   onp.eye(4).reshape(4, 2, 2))
