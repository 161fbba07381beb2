"""Dask arrays through the transforms, on a real cluster of worker processes.

Chunked data of 10^5 rows; the gradients and Hessians of a logistic regression and
of a small MLP are Dask arrays, still lazy when the transform returns (a scheduler
that raises proves that nothing was computed inside it), and one ``dask.compute``
on the cluster gives loss and gradient equal to NumPy's.
"""
from __future__ import annotations

import warnings
import zlib
from typing import Any, Iterator

import dask
import dask.array as da
import numpy as onp
import pytest
from dask.distributed import Client, LocalCluster

import xform
import xform.numpy as np
import xform.scipy.linalg
from xform.core.primitive import registry
from xform.core.trace import bind
from xform.test_util import import_all_modules
from xform.tree_util import tree_leaves

from domains import DOMAINS

ROWS, COLS, CHUNK, HIDDEN = 100_000, 6, 25_000, 3
RNG = onp.random.default_rng(7)
W = 0.1 * RNG.normal(size=COLS)
PARAMS = (0.3 * RNG.normal(size=(COLS, HIDDEN)), 0.1 * RNG.normal(size=HIDDEN),
          0.3 * RNG.normal(size=HIDDEN))
# the data is made by Dask, chunk by chunk (the workers make their own: no NumPy array
# travels in a graph); the same values in NumPy are the reference
_DRNG = da.random.RandomState(7)
XD = _DRNG.normal(size=(ROWS, COLS), chunks=(CHUNK, COLS))
YD = (_DRNG.uniform(size=ROWS, chunks=CHUNK) < 1 / (1 + da.exp(-XD @ onp.ones(COLS)))
      ).astype(float)
X, Y = dask.compute(XD, YD, scheduler="sync")


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    with LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                      dashboard_address=None) as cluster, Client(cluster) as c:
        yield c


def _no_compute(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("a Dask array was computed inside a transform")


def lazily(fn: Any, *args: Any) -> Any:
    """``fn(*args)`` with every Dask computation forbidden; the results must be Dask."""
    with dask.config.set(scheduler=_no_compute):
        out = fn(*args)
    for leaf in tree_leaves(out):
        assert isinstance(leaf, da.Array), f"a {type(leaf).__name__} came out, not Dask"
    return out


def logistic_loss(w: Any, x: Any, y: Any) -> Any:
    z = x @ w
    return np.mean(np.logaddexp(0.0, z) - y * z)


def mlp_loss(params: Any, x: Any, y: Any) -> Any:
    w1, b1, w2 = params
    h = np.tanh(x @ w1 + b1)
    return np.mean((h @ w2 - y) ** 2)


def _close(got: Any, want: Any) -> None:
    for g, w in zip(tree_leaves(got), tree_leaves(want), strict=True):
        onp.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12)


def test_logistic_regression_loss_and_gradient_in_one_compute(client: Client) -> None:
    value, grad = lazily(xform.value_and_grad(logistic_loss), W, XD, YD)
    assert XD.npartitions > 1 and grad.npartitions == 1
    value, grad = dask.compute(value, grad)  # one pass over the chunks, on the cluster
    _close((value, grad), xform.value_and_grad(logistic_loss)(W, X, Y))
    # the gradient is the textbook one
    p = 1 / (1 + onp.exp(-X @ W))
    _close(grad, X.T @ (p - Y) / ROWS)


def test_gradient_graph_follows_the_data_chunks() -> None:
    # the cotangent of the mean is spread over the data's chunks, not broadcast into one
    # chunk the size of the data (which Dask then rechunks and ships whole)
    _, grad = lazily(xform.value_and_grad(logistic_loss), W, XD, YD)
    names = {k[0] if isinstance(k, tuple) else k for k in dict(grad.__dask_graph__())}
    assert not [n for n in names if str(n).startswith("rechunk")]


def test_jitted_gradient_follows_the_data_chunks() -> None:
    # under jit the cotangent of the mean is staged; the generated code spreads it over
    # the data's chunks when it runs, so the gradient w.r.t. the data keeps them
    big = _DRNG.normal(size=(1_000_000, 2), chunks=(100_000, 2))
    step = xform.jit(xform.grad(lambda x, w: np.mean(np.tanh(x @ w)), argnums=(0, 1)))
    gx, gw = lazily(step, big, onp.ones(2))
    assert gx.chunks == big.chunks
    names = {k[0] if isinstance(k, tuple) else k for k in dict(gx.__dask_graph__())}
    assert not [n for n in names if str(n).startswith("rechunk")]
    small = XD[:1000]
    gx, _ = lazily(step, small, onp.ones(COLS))
    want = xform.grad(lambda x, w: np.mean(np.tanh(x @ w)), argnums=(0, 1))(
        X[:1000], onp.ones(COLS))
    _close(gx.compute(scheduler="sync"), want[0])


def test_logistic_regression_hessian(client: Client) -> None:
    hess = lazily(xform.hessian(logistic_loss), W, XD, YD)
    _close(hess.compute(), xform.hessian(logistic_loss)(W, X, Y))


def test_gradient_with_respect_to_dask_weights(client: Client) -> None:
    wd = da.from_array(W, chunks=COLS)
    grad = lazily(xform.grad(logistic_loss), wd, XD, YD)
    _close(grad.compute(), xform.grad(logistic_loss)(W, X, Y))


def test_mlp_gradient_and_hessian(client: Client) -> None:
    grads = lazily(xform.grad(mlp_loss), PARAMS, XD, YD)
    # Hessian in the last two layers' parameters (b1, w2), forward over reverse, on two
    # of the four chunks (its graph is a batch of 2 * HIDDEN passes: the suite's time)
    def last_layers(b1: Any, w2: Any, x: Any, y: Any) -> Any:
        return mlp_loss((PARAMS[0], b1, w2), x, y)
    rows = 2 * CHUNK
    hess = lazily(xform.hessian(last_layers, argnums=(0, 1)), PARAMS[1], PARAMS[2],
                  XD[:rows], YD[:rows])
    grads, hess = dask.compute(grads, hess)
    _close(grads, xform.grad(mlp_loss)(PARAMS, X, Y))
    _close(hess, xform.hessian(last_layers, argnums=(0, 1))(PARAMS[1], PARAMS[2],
                                                           X[:rows], Y[:rows]))


def test_hessian_passes_follow_the_data_chunks() -> None:
    # what made the MLP Hessian's graph large and its data travel between workers: a
    # tangent broadcast over the data as one data-sized chunk, and a batch of Dask
    # operands folded into their rows by a reshape (Dask rechunks for both)
    _, t = lazily(xform.jvp, lambda b: XD + b, (W,), (onp.ones(COLS),))
    assert t.chunks == XD.chunks
    out = lazily(xform.vmap(lambda s: (s * XD) @ W), onp.arange(3.0))
    assert out.chunks == ((3,), XD.chunks[0])
    _close(out.compute(scheduler="sync"), onp.arange(3.0)[:, None] * (X @ W))


def test_jit_of_gradient_stays_lazy_and_compiles_per_array_type(client: Client) -> None:
    step = xform.jit(xform.value_and_grad(mlp_loss))
    lazy = lazily(step, PARAMS, XD, YD)
    eager = step(PARAMS, X, Y)
    assert step.cache_info().traces == 2  # Dask in and NumPy in: one program each
    _close(dask.compute(*lazy), eager)
    again = lazily(step, PARAMS, XD, YD)
    assert step.cache_info().traces == 2
    _close(dask.compute(*again), eager)


def test_jit_of_hessian_on_dask_data() -> None:
    # its program holds a constant array of size 0, which compiling
    # for Dask could not convert (Dask's auto-chunking divides by the size)
    def last_layers(b1: Any, w2: Any, x: Any, y: Any) -> Any:
        return mlp_loss((PARAMS[0], b1, w2), x, y)
    hess = xform.jit(xform.hessian(last_layers, argnums=(0, 1)))
    rows = CHUNK + 1000  # two chunks
    lazy = lazily(hess, PARAMS[1], PARAMS[2], XD[:rows], YD[:rows])
    _close(dask.compute(lazy, scheduler="sync")[0],
           xform.hessian(last_layers, argnums=(0, 1))(PARAMS[1], PARAMS[2], X[:rows], Y[:rows]))


def test_vmap_over_weights_with_dask_data(client: Client) -> None:
    ws = onp.stack([W, 2 * W, -W])
    per_w = xform.vmap(xform.grad(logistic_loss), in_axes=(0, None, None))
    grads = lazily(per_w, ws, XD, YD)
    assert grads.shape == (3, COLS)
    _close(grads.compute(), per_w(ws, X, Y))


def test_vmap_over_dask_rows_and_jacobian(client: Client) -> None:
    # per-example gradients: vmap over the (chunked) rows themselves
    per_row = xform.vmap(xform.grad(lambda w, x, y: logistic_loss(w, x[None], y[None])),
                         in_axes=(None, 0, 0))
    grads = lazily(per_row, W, XD[:2000], YD[:2000])
    _close(grads.compute(), per_row(W, X[:2000], Y[:2000]))
    jac = lazily(xform.jacrev(lambda w: np.tanh(XD[:500] @ w)), W)
    _close(jac.compute(), xform.jacrev(lambda w: np.tanh(X[:500] @ w))(W))


def test_a_function_dask_lacks_raises_a_clear_error() -> None:
    with pytest.raises(TypeError, match=r"xform\.scipy\.linalg\.expm has no implementation "
                                        r"for arrays of type dask\.array\.core\.Array"):
        xform.scipy.linalg.expm(da.from_array(0.1 * onp.eye(3)))


# ---------------------------------------------------------------------------- the registry
# eager and reverse (the strict sweep of test_array_dispatch.py covers forward mode too)
@pytest.mark.parametrize("mode", ["eager", "vjp"])
def test_no_primitive_computes_a_dask_operand(mode: str) -> None:
    """Every primitive on chunked Dask operands either builds graph (Dask out) or raises
    (xform's error naming the function and the type, or Dask's own refusal, e.g. an FFT
    along a chunked axis); none computes its operand behind the user's back, as Dask's
    fallback for a NumPy function it lacks would."""
    import_all_modules()

    def chunked(a: Any) -> Any:
        if isinstance(a, onp.ndarray) and a.dtype.kind in "fc" and a.ndim:
            return da.from_array(a, chunks=max(1, a.shape[0] // 2))
        if isinstance(a, (list, tuple)):
            return type(a)(chunked(v) for v in a)
        return a

    ran = 0
    for name in sorted(registry):
        if name not in DOMAINS:
            continue
        prim, domain = registry[name], DOMAINS[name][0]
        args, params = domain.make(onp.random.default_rng(zlib.crc32(name.encode())))
        args = chunked(args)
        diff = [i for i in domain.diff if isinstance(args[i], da.Array)]
        if not any(isinstance(a, da.Array) for a in tree_leaves(args)) or (
                mode != "eager" and (prim.nondiff or not diff
                                     or (mode == "vjp" and not domain.reverse))):
            continue

        def f(*xs: Any, args: Any = args, diff: Any = diff, prim: Any = prim,
              params: Any = params) -> Any:
            full = list(args)
            for i, v in zip(diff, xs):
                full[i] = v
            return bind(prim, *full, **params)

        primals = tuple(args[i] for i in diff)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                if mode == "eager":
                    out = lazily(lambda: f(*primals))
                elif mode == "jvp":
                    out = lazily(xform.jvp, f, primals, tuple(da.ones_like(p) for p in primals))
                else:
                    out, pullback = xform.vjp(f, *primals)
                    out = lazily(pullback, xform.tree_util.tree_map(
                        lambda o: da.ones_like(o) if isinstance(o, da.Array) else onp.ones_like(o),
                        out))
        except (TypeError, ValueError, NotImplementedError) as e:
            assert "computed inside a transform" not in str(e)
            continue
        except AssertionError as e:
            if "came out, not Dask" in str(e):  # integer results of shape () and the like
                continue
            raise AssertionError(f"{name} ({mode}): {e}") from e
        ran += 1
    assert ran > 100
