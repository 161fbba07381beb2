"""vmap: every way of choosing the mapped axes in and out, pytrees, nesting,
composition with grad/jvp, errors, batched index arrays, and random programs
batched along random axes against a plain Python loop."""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as onp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import xform
import xform.numpy as np
from xform.tree_util import tree_flatten, tree_unflatten

from helpers import assert_trees_close


def close(actual: Any, expected: Any, rtol: float = 1e-12, atol: float = 1e-12) -> None:
    assert_trees_close(actual, expected, rtol, atol)

RNG = onp.random.default_rng(20240611)


def randn(*shape: int) -> onp.ndarray:
    return RNG.standard_normal(shape)


def _slice(x: Any, axis: int | None, b: int) -> Any:
    return x if axis is None else onp.take(onp.asarray(x), b, axis=axis)


def loop(f: Callable[..., Any], args: Sequence[Any], in_axes: Sequence[Any],
         out_axes: int = 0, size: int | None = None) -> Any:
    """The reference for ``vmap(f, in_axes, out_axes)(*args)``: call ``f`` on each slice
    and stack the results along ``out_axes``. ``in_axes`` has one entry per argument,
    each an int/None or (for a dict argument) a dict of them."""
    def per_arg(a: Any, ax: Any, b: int) -> Any:
        if isinstance(a, dict):
            axd = ax if isinstance(ax, dict) else {k: ax for k in a}
            return {k: _slice(v, axd[k], b) for k, v in a.items()}
        return _slice(a, ax, b)

    if size is None:
        pairs = []
        for a, ax in zip(args, in_axes):
            if isinstance(a, dict):
                pairs += [(a[k], ax[k] if isinstance(ax, dict) else ax) for k in a]
            else:
                pairs.append((a, ax))
        size = next(onp.shape(leaf)[x] for leaf, x in pairs if x is not None)
    outs = [f(*[per_arg(a, ax, b) for a, ax in zip(args, in_axes)]) for b in range(size)]
    leaves0, tree = tree_flatten(outs[0])
    cols = [tree_flatten(o)[0] for o in outs]
    return tree_unflatten(tree, [onp.stack([onp.asarray(c[k]) for c in cols], axis=out_axes)
                                 for k in range(len(leaves0))])


def f_mixed(x, y):
    """Per example: x (3, 4), y (4,)."""
    return np.tanh(x @ y) * np.sum(x ** 2, axis=1) + y[0]


# ----------------------------------------------------------------------------- in_axes
X34 = randn(3, 4)


@pytest.mark.parametrize("axis", [0, 1, 2, -1, -2, -3])
def test_in_axes_int_and_negative(axis):
    xs = randn(5, 3, 4)
    xs = onp.moveaxis(xs, 0, axis)     # batch of 5 along `axis`
    f = lambda x: np.sin(x) @ np.ones(4) + x[:, 0]  # noqa: E731
    got = xform.vmap(f, in_axes=axis)(xs)
    close(got, loop(f, [xs], [axis]))
    assert got.shape == (5, 3)


def test_in_axes_tuple_with_none():
    xs, y = randn(6, 3, 4), randn(4)
    close(xform.vmap(f_mixed, in_axes=(0, None))(xs, y), loop(f_mixed, [xs, y], [0, None]))
    ys = randn(4, 6)
    close(xform.vmap(f_mixed, in_axes=(2, 1))(onp.moveaxis(xs, 0, 2), ys),
          loop(f_mixed, [xs, ys], [0, 1]))
    close(xform.vmap(f_mixed, in_axes=(None, 0))(X34, ys.T),
          loop(f_mixed, [X34, ys.T], [None, 0]))


def test_in_axes_as_a_list_is_a_tuple():
    xs, y = randn(6, 3, 4), randn(4)
    close(xform.vmap(f_mixed, in_axes=[0, None])(xs, y), loop(f_mixed, [xs, y], [0, None]))


def test_in_axes_dict_prefix_for_a_dict_argument():
    def f(p, s):
        return np.tanh(p["w"] @ p["x"] + p["b"]) * s

    p = {"w": randn(3, 4), "x": randn(4, 5), "b": randn(3)}   # x batched along axis 1
    s = randn(5)
    axes = ({"w": None, "x": 1, "b": None}, 0)
    close(xform.vmap(f, in_axes=axes)(p, s), loop(f, [p, s], list(axes)))
    # an int for the whole dict maps every leaf along that axis
    pb = {"w": randn(2, 3, 4), "x": randn(2, 4), "b": randn(2, 3)}
    close(xform.vmap(f, in_axes=(0, None))(pb, 1.5), loop(f, [pb, 1.5], [0, None]))


def test_in_axes_nested_prefix_for_lists_and_tuples():
    def f(pair, scale):
        a, (b, c) = pair
        return (a * b + c) * scale

    a, b, c = randn(4, 3), randn(3), randn(3, 4)
    got = xform.vmap(f, in_axes=((0, (None, 1)), None))((a, (b, c)), 2.0)
    expected = onp.stack([(a[i] * b + c[:, i]) * 2.0 for i in range(4)])
    close(got, expected)


def test_in_axes_none_leaf_passes_non_array_values_through():
    def f(x, cfg):
        return x * cfg["scale"] + cfg["shift"]

    xs = randn(4, 2)
    got = xform.vmap(f, in_axes=(0, None))(xs, {"scale": 3.0, "shift": onp.array([1.0, 2.0])})
    close(got, xs * 3.0 + onp.array([1.0, 2.0]))


def test_in_axes_dict_with_wrong_keys_is_an_error():
    with pytest.raises(ValueError, match="in_axes"):
        xform.vmap(lambda d: d["a"], in_axes=({"a": 0, "c": 1},))({"a": X34, "b": X34})


# ----------------------------------------------------------------------------- out_axes
@pytest.mark.parametrize("out_axes", [0, 1, 2, -1, -2, -3])
def test_out_axes_int_and_negative(out_axes):
    xs = randn(5, 3, 4)
    f = lambda x: np.exp(x) * x[0]  # noqa: E731
    got = xform.vmap(f, out_axes=out_axes)(xs)
    close(got, loop(f, [xs], [0], out_axes=out_axes))


def test_in_and_out_axes_together():
    xs = randn(3, 5, 4)
    f = lambda x: np.cumsum(x * x, axis=0)  # noqa: E731
    close(xform.vmap(f, in_axes=1, out_axes=-1)(xs), loop(f, [xs], [1], out_axes=-1))


def test_out_axes_pytree():
    def f(x):
        return {"row": x * 2.0, "total": np.sum(x), "pair": (x[:2], np.cos(x))}

    xs = randn(4, 3)
    out_axes = {"row": 1, "total": 0, "pair": (-1, 0)}
    got = xform.vmap(f, out_axes=out_axes)(xs)
    assert set(got) == {"row", "total", "pair"} and isinstance(got["pair"], tuple)
    close(got["row"], loop(lambda x: x * 2.0, [xs], [0], out_axes=1))
    close(got["total"], xs.sum(axis=1))
    close(got["pair"][0], loop(lambda x: x[:2], [xs], [0], out_axes=-1))
    close(got["pair"][1], onp.cos(xs))
    # a prefix: one axis for a whole subtree
    got = xform.vmap(f, out_axes={"row": 0, "total": 0, "pair": 1})(xs)
    close(got["pair"], (xs[:, :2].T, onp.cos(xs).T))


def test_out_axes_none_for_unbatched_outputs():
    w = randn(3)

    def f(x):
        return x * w, w ** 2

    xs = randn(5, 3)
    got_x, got_w = xform.vmap(f, out_axes=(0, None))(xs)
    close(got_x, xs * w)
    close(got_w, w ** 2)      # not broadcast: out_axes=None returns the single value
    close(xform.vmap(lambda x: 7.0, out_axes=None)(xs), onp.float64(7.0))


def test_axis_size_with_all_none_in_axes():
    w = randn(3)
    got = xform.vmap(lambda v: np.sin(v), in_axes=None, axis_size=4)(w)
    close(got, onp.broadcast_to(onp.sin(w), (4, 3)))
    got = xform.vmap(lambda v, s: v * s, in_axes=(None, None), axis_size=2, out_axes=1)(w, 2.0)
    close(got, onp.stack([w * 2.0] * 2, axis=1))


def test_axis_size_that_agrees_with_the_inputs():
    xs = randn(4, 3)
    close(xform.vmap(np.sum, axis_size=4)(xs), xs.sum(axis=1))


# ----------------------------------------------------------------------------- outputs
def test_pytree_outputs_and_unbatched_outputs_are_broadcast():
    w = randn(3)

    def f(x, y):
        return {"prod": x * y, "const": w, "scalar": 1.5, "y": y, "list": [np.sum(x), w[0]]}

    xs, y = randn(4, 3), randn(3)
    got = xform.vmap(f, in_axes=(0, None))(xs, y)
    expected = {"prod": xs * y, "const": onp.tile(w, (4, 1)), "scalar": onp.full(4, 1.5),
                "y": onp.tile(y, (4, 1)), "list": [xs.sum(axis=1), onp.full(4, w[0])]}
    close(got, expected)
    # an unbatched output placed at a non-zero out_axes
    close(xform.vmap(lambda x: w, out_axes=1)(xs), onp.tile(w[:, None], (1, 4)))
    close(xform.vmap(lambda x: w, out_axes=-1)(xs), onp.tile(w[:, None], (1, 4)))


def test_none_in_an_output_pytree_stays_none():
    xs = randn(3, 2)
    out = xform.vmap(lambda x: (x * 2.0, None))(xs)
    assert isinstance(out, tuple) and out[1] is None
    close(out[0], xs * 2.0)


def test_outputs_are_numpy_arrays_with_the_input_dtype():
    xs = randn(3, 2).astype(onp.float32)
    out = xform.vmap(lambda x: np.sin(x) * 2.0)(xs)
    assert type(out) is onp.ndarray and out.dtype == onp.float32


# ----------------------------------------------------------------------------- nesting
def test_nested_vmap_over_two_axes_equals_a_double_loop():
    def f(x, y):                    # per pair: x (4,), y (4,)
        return np.tanh(np.dot(x, y)) + np.sum(x * y ** 2)

    xs, ys = randn(3, 4), randn(4, 5)     # ys is batched along its last axis
    got = xform.vmap(xform.vmap(f, in_axes=(None, 1)), in_axes=(0, None))(xs, ys)
    expected = onp.array([[float(f(xs[i], ys[:, j])) for j in range(5)] for i in range(3)])
    close(got, expected)
    assert got.shape == (3, 5)
    # the same pairs through batched axes of one array, with out_axes swapping the order
    zs = randn(2, 3, 4, 6)        # maps over axes 0 and 3
    g = lambda z: np.sin(z) @ np.arange(4.0)  # noqa: E731
    got = xform.vmap(xform.vmap(g, in_axes=-1, out_axes=1), in_axes=0, out_axes=0)(zs)
    expected = onp.array([[[g(zs[a, :, :, b])[i] for b in range(6)] for i in range(3)]
                          for a in range(2)])
    close(got, expected)


def test_nested_vmap_closing_over_the_outer_batch():
    xs, ys = randn(3), randn(4, 2)
    got = xform.vmap(lambda x: xform.vmap(lambda y: np.sin(x * y))(ys))(xs)
    close(got, onp.sin(xs[:, None, None] * ys[None]))
    # the inner vmap maps only an unbatched argument; the outer batch flows in by closure
    got = xform.vmap(lambda x: xform.vmap(lambda y: np.sum(x) * y, in_axes=1)(ys))(
        randn(5, 2))
    assert got.shape == (5, 2, 4)


def test_three_levels_of_vmap_is_an_outer_sum():
    a, b, c = randn(2), randn(3), randn(4)
    f = lambda x, y, z: x + 2 * y + 3 * z  # noqa: E731
    got = xform.vmap(xform.vmap(xform.vmap(f, (None, None, 0)), (None, 0, None)),
                     (0, None, None))(a, b, c)
    close(got, a[:, None, None] + 2 * b[None, :, None] + 3 * c[None, None, :])


# ----------------------------------------------------------------------------- errors
def test_mismatched_axis_sizes():
    with pytest.raises(ValueError) as e:
        xform.vmap(lambda a, b: a + b)(randn(3, 2), randn(4, 2))
    assert "3" in str(e.value) and "4" in str(e.value) and "size" in str(e.value)
    with pytest.raises(ValueError, match="size"):     # the mismatch is inside a pytree
        xform.vmap(lambda d: d["a"] + d["b"])({"a": randn(3), "b": randn(2)})


def test_in_axes_length_mismatch():
    with pytest.raises(ValueError) as e:
        xform.vmap(lambda a, b: a + b, in_axes=(0, None, 0))(randn(3), randn(3))
    msg = str(e.value)
    assert "in_axes" in msg and "3" in msg and "2" in msg


def test_all_none_in_axes_without_axis_size():
    with pytest.raises(ValueError, match="axis_size"):
        xform.vmap(lambda a: a, in_axes=None)(randn(3))
    with pytest.raises(ValueError, match="axis_size"):
        xform.vmap(lambda a, b: a, in_axes=(None, None))(randn(3), randn(3))


def test_out_axes_none_for_a_batched_output():
    with pytest.raises(ValueError) as e:
        xform.vmap(lambda a: a * 2.0, out_axes=None)(randn(3))
    assert "out_axes" in str(e.value)
    with pytest.raises(ValueError, match="out_axes"):   # only the second leaf is batched
        xform.vmap(lambda a: (1.0, a), out_axes=(0, None))(randn(3))


@pytest.mark.parametrize("in_axes, x", [(2, X34), (-3, X34), (0, onp.float64(1.0))])
def test_in_axes_out_of_range(in_axes, x):
    """Mapping an axis the argument does not have is a ValueError that names in_axes
    (JAX: 'vmap was requested to map its argument along axis 2, ...')."""
    with pytest.raises(ValueError, match="axis"):
        xform.vmap(lambda r: r, in_axes=in_axes)(x)


@pytest.mark.parametrize("out_axes", [2, -3])
def test_out_axes_out_of_range(out_axes):
    """Each output has one dimension per example plus the batch axis: out_axes must lie
    in [-2, 2) for a vector output (JAX raises; wrapping around silently is wrong)."""
    with pytest.raises(ValueError, match="axis"):
        xform.vmap(lambda r: r, out_axes=out_axes)(X34)


# ----------------------------------------------------------------------------- Python control flow
def test_value_dependent_if_on_a_batched_value():
    def f(x):
        if np.sum(x) > 0:
            return x
        return -x

    with pytest.raises(xform.ConcretizationError) as e:
        xform.vmap(f)(randn(4, 3))
    msg = str(e.value)
    assert "xform.lax.cond" in msg and "where" in msg
    assert "test_vmap.py" in msg          # points at the user's line
    # the suggested rewrite works
    xs = randn(4, 3)
    close(xform.vmap(lambda x: np.where(np.sum(x) > 0, x, -x))(xs),
          onp.where(xs.sum(axis=1, keepdims=True) > 0, xs, -xs))


def test_other_concretizations_of_a_batched_value():
    for f in (lambda x: float(x), lambda x: int(x[0]), lambda x: x if x[0] else x):
        with pytest.raises(xform.ConcretizationError):
            xform.vmap(f)(randn(3, 2))


def test_if_on_an_unbatched_argument_works_inside_vmap():
    def f(x, flag, n):
        y = x
        for _ in range(n):          # a loop bound taken from an unbatched argument
            y = np.sin(y)
        if flag > 0:                # a branch on an unbatched value
            return y * 2.0
        return y - 1.0

    xs = randn(5, 2)
    close(xform.vmap(f, in_axes=(0, None, None))(xs, 1.0, 3),
          onp.sin(onp.sin(onp.sin(xs))) * 2.0)
    close(xform.vmap(f, in_axes=(0, None, None))(xs, -1.0, 1), onp.sin(xs) - 1.0)
    # shapes are static under vmap: branching on them is fine
    close(xform.vmap(lambda x: x.sum() if x.shape[0] == 2 else x)(xs), xs.sum(axis=1))


# ----------------------------------------------------------------------------- with derivatives
def loss(w, x):
    return np.sum(np.tanh(x @ w) ** 2) + 0.1 * np.sum(w ** 4)


def test_vmap_of_grad_equals_a_loop_of_grad():
    ws, x = randn(6, 3), randn(4, 3)
    got = xform.vmap(xform.grad(loss), in_axes=(0, None))(ws, x)
    close(got, onp.stack([xform.grad(loss)(w, x) for w in ws]))
    xs = randn(6, 4, 3)          # both arguments batched, gradient w.r.t. the second
    got = xform.vmap(xform.grad(loss, argnums=1))(ws, xs)
    close(got, onp.stack([xform.grad(loss, argnums=1)(w, x) for w, x in zip(ws, xs)]))


def test_vmap_of_value_and_grad_with_pytree_parameters():
    def f(p, x):
        return np.sum((x @ p["w"] + p["b"]) ** 2)

    p = {"w": randn(3, 2), "b": randn(2)}
    xs = randn(5, 4, 3)
    vals, grads = xform.vmap(xform.value_and_grad(f), in_axes=(None, 0))(p, xs)
    ref = [xform.value_and_grad(f)(p, x) for x in xs]
    close(vals, onp.array([r[0] for r in ref]))
    close(grads, {k: onp.stack([r[1][k] for r in ref]) for k in p})


def test_grad_of_a_vmap_summed_function():
    w, xs = randn(3), randn(6, 4, 3)
    total = lambda w: np.sum(xform.vmap(loss, in_axes=(None, 0))(w, xs))  # noqa: E731
    close(xform.grad(total)(w), sum(xform.grad(loss)(w, x) for x in xs), rtol=1e-10)
    # gradient w.r.t. the batched argument: one row per example
    per_x = lambda xs: np.sum(xform.vmap(loss, in_axes=(None, 0))(w, xs))  # noqa: E731
    close(xform.grad(per_x)(xs), onp.stack([xform.grad(loss, 1)(w, x) for x in xs]))


def test_vmap_of_jvp_and_jvp_of_vmap():
    f = lambda x: np.sin(x) * np.sum(x ** 2)  # noqa: E731
    xs, ts = randn(5, 3), randn(5, 3)
    outs, touts = xform.vmap(lambda x, t: xform.jvp(f, (x,), (t,)))(xs, ts)
    ref = [xform.jvp(f, (x,), (t,)) for x, t in zip(xs, ts)]
    close(outs, onp.stack([r[0] for r in ref]))
    close(touts, onp.stack([r[1] for r in ref]))
    # many tangents at one point (the columns of a Jacobian)
    x = randn(3)
    cols = xform.vmap(lambda t: xform.jvp(f, (x,), (t,))[1])(onp.eye(3))
    close(cols.T, xform.jacfwd(f)(x))
    # jvp of a vmapped function
    out, tout = xform.jvp(xform.vmap(f), (xs,), (ts,))
    close(out, onp.stack([r[0] for r in ref]))
    close(tout, onp.stack([r[1] for r in ref]))


def test_vmap_of_vjp_gives_the_jacobian_rows():
    f = lambda x: np.tanh(x[::-1] * x)  # noqa: E731
    x = randn(4)
    _, vjp_fn = xform.vjp(f, x)
    rows = xform.vmap(lambda ct: vjp_fn(ct)[0])(onp.eye(4))
    close(rows, xform.jacrev(f)(x))


# ----------------------------------------------------------------------------- batched indices
def test_gather_with_a_batched_scalar_index():
    xs, idx = randn(4, 5), onp.array([0, 4, 2, 2])
    close(xform.vmap(lambda x, i: x[i])(xs, idx), xs[onp.arange(4), idx])
    close(xform.vmap(lambda x, i: x[i], in_axes=(1, 0))(xs.T, idx), xs[onp.arange(4), idx])
    # a negative batched index, and an index computed from a batched value
    close(xform.vmap(lambda x, i: x[i])(xs, -idx - 1), xs[onp.arange(4), -idx - 1])
    close(xform.vmap(lambda x, i: x[(i + 1) % 5] * x[i])(xs, idx),
          xs[onp.arange(4), (idx + 1) % 5] * xs[onp.arange(4), idx])
    # the array is shared, only the index is batched (through xform.numpy.take)
    x = randn(5, 3)
    close(xform.vmap(lambda i: np.take(x, i, axis=0))(idx), x[idx])
    close(xform.vmap(lambda i: np.take(x, i % 3, axis=1))(idx), x[:, idx % 3].T)


def test_gather_with_a_batched_index_array():
    xs = randn(3, 6, 2)
    idx = onp.array([[0, 5, 5], [1, 1, 2], [4, 3, 0]])          # per example: 3 rows
    expected = onp.stack([xs[b][idx[b]] for b in range(3)])
    close(xform.vmap(lambda x, i: x[i])(xs, idx), expected)
    close(xform.vmap(lambda x, i: x[i], in_axes=(1, 1))(onp.moveaxis(xs, 0, 1), idx.T),
          expected)
    close(xform.vmap(lambda x, i: x[i, 1])(xs, idx), expected[:, :, 1])
    close(xform.vmap(lambda x, i: x[:, 0][i])(xs, idx), expected[:, :, 0])
    got = xform.vmap(lambda i: np.take(xs[0], i, axis=0))(idx)
    close(got, onp.stack([xs[0][idx[b]] for b in range(3)]))


def test_index_an_unbatched_argument_with_a_batched_index():
    """As in JAX, an argument with in_axes=None can be indexed (and updated through
    ``.at``, below) by a batched index inside vmap."""
    x, idx = randn(5, 3), onp.array([0, 4, 2, 2])
    close(xform.vmap(lambda x, i: x[i], in_axes=(None, 0))(x, idx), x[idx])


def test_at_add_into_an_unbatched_argument_with_a_batched_index():
    x, idx, vals = randn(5, 3), onp.array([0, 4, 2, 2]), randn(4, 3)
    got = xform.vmap(lambda x, i, v: x.at[i].add(v), in_axes=(None, 0, 0))(x, idx, vals)
    expected = onp.stack([x] * 4)
    expected[onp.arange(4), idx] += vals
    close(got, expected)


def test_gather_with_batched_index_is_differentiable():
    xs, idx = randn(4, 5), onp.array([0, 4, 2, 2])
    f = lambda x, i: np.sin(x[i]) * x[0]  # noqa: E731
    got = xform.vmap(xform.grad(f))(xs, idx)
    close(got, onp.stack([xform.grad(f)(x, i) for x, i in zip(xs, idx)]))


def _add_at(base, i, v):
    out = onp.array(base, dtype=float)
    onp.add.at(out, i, v)
    return out


def test_at_add_with_batched_indices_and_values():
    xs = randn(3, 5)
    idx = onp.array([[0, 2, 2], [4, 4, 4], [1, 3, 0]])   # repeated indices accumulate
    vals = randn(3, 3)
    got = xform.vmap(lambda x, i, v: x.at[i].add(v))(xs, idx, vals)
    close(got, onp.stack([_add_at(xs[b], idx[b], vals[b]) for b in range(3)]))
    # the base array unbatched (made a traced value by an op on a batched one)
    x = randn(5)
    got = xform.vmap(lambda i, v: (x + 0.0 * v[0]).at[i].add(v))(idx, vals)
    close(got, onp.stack([_add_at(x, idx[b], vals[b]) for b in range(3)]))
    # batched index, unbatched value; a scalar index
    got = xform.vmap(lambda x, i: x.at[i].add(10.0))(xs, idx[:, 0])
    close(got, onp.stack([_add_at(xs[b], idx[b, 0], 10.0) for b in range(3)]))
    # batched index, unbatched values
    got = xform.vmap(lambda x, i: x.at[i].add(onp.array([1.0, 2.0, 3.0])))(xs, idx)
    close(got, onp.stack([_add_at(xs[b], idx[b], [1.0, 2.0, 3.0]) for b in range(3)]))
    # unbatched index, batched values
    got = xform.vmap(lambda x, v: x.at[onp.array([1, 1, 0])].add(v))(xs, vals)
    close(got, onp.stack([_add_at(xs[b], [1, 1, 0], vals[b]) for b in range(3)]))
    # set with a batched index into a batched array
    got = xform.vmap(lambda x, i, v: x.at[i].set(v))(xs, idx[:, 0], vals[:, 0])
    expected = xs.copy()
    expected[onp.arange(3), idx[:, 0]] = vals[:, 0]
    close(got, expected)


def test_at_add_with_batched_indices_into_rows():
    xs, idx, vals = randn(2, 4, 3), onp.array([[3, 3], [0, 1]]), randn(2, 2, 3)
    got = xform.vmap(lambda x, i, v: x.at[i].add(v))(xs, idx, vals)
    close(got, onp.stack([_add_at(xs[b], idx[b], vals[b]) for b in range(2)]))
    # batched along other axes
    got = xform.vmap(lambda x, i, v: x.at[i].add(v), in_axes=(2, 1, 0))(
        onp.moveaxis(xs, 0, 2), idx.T, vals)
    close(got, onp.stack([_add_at(xs[b], idx[b], vals[b]) for b in range(2)]))
    # and its gradient w.r.t. the values: a gather at the same indices
    g = xform.vmap(xform.grad(lambda x, i, v: np.sum(x.at[i].add(v) ** 2), argnums=2))(
        xs, idx, vals)
    close(g, onp.stack([2 * _add_at(xs[b], idx[b], vals[b])[idx[b]] for b in range(2)]))


# ----------------------------------------------------------------------------- random programs
# A program is a list of steps, each a function (x, y) -> x on per-example values: x
# starts as a 2-d array and may change shape; y keeps its 2-d shape throughout.
W4 = randn(4, 4)
STEPS: dict[str, Callable[[Any, Any], Any]] = {
    "sin": lambda x, y: np.sin(x),
    "poly": lambda x, y: x * x - 0.5 * x + 1.0,
    "tanh_exp": lambda x, y: np.exp(np.tanh(x)),
    "abs_sqrt": lambda x, y: np.sqrt(np.abs(x) + 1.0),
    "mul_y": lambda x, y: x * y if x.shape == y.shape else x * np.sum(y),
    "add_y_mean": lambda x, y: x + np.mean(y),
    "max_xy": lambda x, y: np.maximum(x, y) if x.shape == y.shape else np.maximum(x, 0.0),
    "sum0": lambda x, y: x - np.sum(x, axis=0, keepdims=True),
    "mean1": lambda x, y: x * np.mean(x, axis=1, keepdims=True),
    "max_neg": lambda x, y: x - np.max(x, axis=-1, keepdims=True),
    "sum_axis0": lambda x, y: np.sum(x, axis=0)[None, :],
    "prod_axis1": lambda x, y: np.prod(x, axis=1)[:, None] + x,
    "gram": lambda x, y: x @ x.T,
    "matmul_w": lambda x, y: x @ W4[:x.shape[1], :x.shape[1]],
    "matmul_y": lambda x, y: x @ y.T if x.shape[1] == y.shape[1] else x * y[0, 0],
    "transpose": lambda x, y: x.T,
    "reshape": lambda x, y: np.reshape(x, (x.shape[1], x.shape[0])),
    "flatten_back": lambda x, y: x.reshape(-1).reshape(x.shape)[::-1],
    "reverse": lambda x, y: x[::-1, ::-1],
    "fancy_index": lambda x, y: x[onp.array([0, x.shape[0] - 1, 0])],
    "column_index": lambda x, y: x[:, onp.arange(x.shape[1])[::-1]] * 2.0,
    "where": lambda x, y: np.where(x > 0, x, 0.1 * x),
    "where_y": lambda x, y: np.where(np.sum(y) > 0, x, -x),
    "concat0": lambda x, y: np.concatenate([x[1:], 2.0 * x[:1]], axis=0),
    "concat1": lambda x, y: np.concatenate([x, np.sin(x[:, :1])], axis=1)[:, 1:],
    "concat_y": lambda x, y: (np.concatenate([x, y], axis=0)[:x.shape[0]]
                              if x.shape[1] == y.shape[1] else x),
    "stack": lambda x, y: np.stack([x, x * 2.0], axis=0).sum(axis=0),
}


def run_program(steps: Sequence[str], x: Any, y: Any) -> Any:
    for name in steps:
        x = STEPS[name](x, y)
    return x


@pytest.mark.parametrize("name", sorted(STEPS))
def test_each_program_step_batched_along_each_axis(name):
    rng = onp.random.default_rng(7)
    f = lambda x, y: STEPS[name](x, y)  # noqa: E731
    for shape in [(3, 4), (4, 4), (2, 1)]:
        for x_axis, y_axis, out_axis in [(0, 0, 0), (2, None, -1), (-2, 0, 1), (1, 2, -3)]:
            xs = onp.moveaxis(rng.standard_normal((3,) + shape), 0, x_axis)
            ys = (rng.standard_normal(shape) if y_axis is None else
                  onp.moveaxis(rng.standard_normal((3,) + shape), 0, y_axis))
            got = xform.vmap(f, in_axes=(x_axis, y_axis), out_axes=out_axis)(xs, ys)
            close(got, loop(f, [xs, ys], [x_axis, y_axis], out_axes=out_axis), rtol=1e-10)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(st.sampled_from(sorted(STEPS)), min_size=1, max_size=5),
       shape=st.tuples(st.integers(1, 4), st.integers(1, 4)),
       size=st.integers(1, 3),
       x_axis=st.integers(-3, 2),
       y_axis=st.one_of(st.none(), st.integers(-3, 2)),
       out_axis=st.integers(-3, 2),
       seed=st.integers(0, 2 ** 32 - 1))
def test_random_programs_batched_along_random_axes(steps, shape, size, x_axis, y_axis,
                                                   out_axis, seed):
    rng = onp.random.default_rng(seed)
    xs = onp.moveaxis(rng.standard_normal((size,) + shape), 0, x_axis)
    if y_axis is None:
        ys = rng.standard_normal(shape)
    else:
        ys = onp.moveaxis(rng.standard_normal((size,) + shape), 0, y_axis)
    f = lambda x, y: run_program(steps, x, y)  # noqa: E731
    expected = loop(f, [xs, ys], [x_axis, y_axis], out_axes=out_axis)
    got = xform.vmap(f, in_axes=(x_axis, y_axis), out_axes=out_axis)(xs, ys)
    scale = max(1.0, float(onp.max(onp.abs(expected), initial=0.0)))
    close(got, expected, rtol=1e-10, atol=1e-12 * scale)


@settings(max_examples=60, deadline=None)
@given(steps=st.lists(st.sampled_from(sorted(STEPS)), min_size=1, max_size=4),
       shape=st.tuples(st.integers(1, 3), st.integers(1, 3)),
       seed=st.integers(0, 2 ** 32 - 1))
def test_random_programs_under_nested_vmap(steps, shape, seed):
    rng = onp.random.default_rng(seed)
    xs = rng.standard_normal((2, 3) + shape)       # mapped over axes 0 and 1
    ys = rng.standard_normal((3,) + shape)         # mapped over the inner axis only
    f = lambda x, y: run_program(steps, x, y)  # noqa: E731
    got = xform.vmap(xform.vmap(f, in_axes=(0, 0)), in_axes=(0, None))(xs, ys)
    expected = onp.stack([onp.stack([onp.asarray(f(xs[i, j], ys[j])) for j in range(3)])
                          for i in range(2)])
    scale = max(1.0, float(onp.max(onp.abs(expected), initial=0.0)))
    close(got, expected, rtol=1e-10, atol=1e-12 * scale)
