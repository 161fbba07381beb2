"""No transform converts another library's arrays to NumPy behind the user's back.

`StrictArray` (tests/strict_array.py) behaves as CuPy does on a machine without a
GPU: NumPy's functions dispatch to it, and it refuses (and counts) every silent
conversion to NumPy or to a Python number, and every mix with a NumPy array. An
MLP and a logistic regression run through each transform on such arrays must give
the NumPy results, as StrictArrays, without one refusal; and every primitive of the
registry either runs on them (eagerly, forward and reverse) or raises the clear
TypeError that names the function and the array type.
"""
from __future__ import annotations

import importlib
import sys
import zlib
from pathlib import Path
from typing import Any, Callable

import numpy as onp
import pytest

import xform
import xform.numpy as np
from xform import lax
from xform.core.primitive import registry
from xform.core.trace import bind
from xform.test_util import import_all_modules
from xform.tree_util import tree_leaves, tree_map

from domains import DOMAINS
from strict_array import StrictArray, StrictConversionError, conversions

import_all_modules()

RNG = onp.random.default_rng(0)
N, D, H = 64, 5, 4
X = RNG.normal(size=(N, D))
Y = (RNG.uniform(size=N) < 0.5).astype(float)
W = RNG.normal(size=D)
PARAMS = (RNG.normal(size=(D, H)), RNG.normal(size=H), RNG.normal(size=H))


def strict(tree: Any) -> Any:
    return tree_map(StrictArray, tree)


def logistic_loss(w: Any, x: Any, y: Any) -> Any:
    z = x @ w
    return np.mean(np.logaddexp(0.0, z) - y * z)


def mlp_loss(params: Any, x: Any, y: Any) -> Any:
    w1, b1, w2 = params
    h = np.tanh(x @ w1 + b1)
    return np.mean((h @ w2 - y) ** 2)


def mlp_last_layer(w2: Any, x: Any, y: Any) -> Any:
    return mlp_loss((PARAMS_S[0], PARAMS_S[1], w2), x, y)


XS, YS, WS, PARAMS_S = StrictArray(X), StrictArray(Y), StrictArray(W), strict(PARAMS)
ONES_D = onp.ones(D)

# name -> (run on StrictArrays, run on NumPy arrays)
CASES: dict[str, tuple[Callable[[], Any], Callable[[], Any]]] = {
    "grad": (lambda: xform.grad(logistic_loss)(WS, XS, YS),
             lambda: xform.grad(logistic_loss)(W, X, Y)),
    "value_and_grad mlp": (lambda: xform.value_and_grad(mlp_loss)(PARAMS_S, XS, YS),
                           lambda: xform.value_and_grad(mlp_loss)(PARAMS, X, Y)),
    "jvp": (lambda: xform.jvp(lambda w: logistic_loss(w, XS, YS), (WS,),
                              (StrictArray(ONES_D),)),
            lambda: xform.jvp(lambda w: logistic_loss(w, X, Y), (W,), (ONES_D,))),
    "vjp": (lambda: xform.vjp(lambda w: logistic_loss(w, XS, YS), WS)[1](
        StrictArray(onp.array(1.0))),
            lambda: xform.vjp(lambda w: logistic_loss(w, X, Y), W)[1](onp.array(1.0))),
    "linearize": (lambda: xform.linearize(lambda w: logistic_loss(w, XS, YS), WS)[1](
        StrictArray(ONES_D)),
                  lambda: xform.linearize(lambda w: logistic_loss(w, X, Y), W)[1](ONES_D)),
    "jacfwd": (lambda: xform.jacfwd(lambda w: np.tanh(XS @ w))(WS),
               lambda: xform.jacfwd(lambda w: np.tanh(X @ w))(W)),
    "jacrev": (lambda: xform.jacrev(lambda w: np.tanh(XS @ w))(WS),
               lambda: xform.jacrev(lambda w: np.tanh(X @ w))(W)),
    "hessian": (lambda: xform.hessian(logistic_loss)(WS, XS, YS),
                lambda: xform.hessian(logistic_loss)(W, X, Y)),
    "hessian mlp": (lambda: xform.hessian(mlp_last_layer)(PARAMS_S[2], XS, YS),
                    lambda: xform.hessian(lambda w2, x, y: mlp_loss(PARAMS[:2] + (w2,), x, y))(
                        PARAMS[2], X, Y)),
    "vmap": (lambda: xform.vmap(logistic_loss, (0, None, None))(
        StrictArray(onp.stack([W, 2 * W])), XS, YS),
             lambda: xform.vmap(logistic_loss, (0, None, None))(onp.stack([W, 2 * W]), X, Y)),
    "vmap of grad": (lambda: xform.vmap(xform.grad(logistic_loss), (0, None, None))(
        StrictArray(onp.stack([W, 2 * W])), XS, YS),
                     lambda: xform.vmap(xform.grad(logistic_loss), (0, None, None))(
                         onp.stack([W, 2 * W]), X, Y)),
    "jit": (lambda: xform.jit(logistic_loss)(WS, XS, YS),
            lambda: xform.jit(logistic_loss)(W, X, Y)),
    "jit of grad mlp": (lambda: xform.jit(xform.grad(mlp_loss))(PARAMS_S, XS, YS),
                        lambda: xform.jit(xform.grad(mlp_loss))(PARAMS, X, Y)),
    "jit of hessian": (lambda: xform.jit(xform.hessian(logistic_loss))(WS, XS, YS),
                       lambda: xform.jit(xform.hessian(logistic_loss))(W, X, Y)),
    "checkpoint": (lambda: xform.grad(xform.checkpoint(mlp_loss))(PARAMS_S, XS, YS),
                   lambda: xform.grad(xform.checkpoint(mlp_loss))(PARAMS, X, Y)),
}


def _scan_loss(w: Any, x: Any) -> Any:
    def step(c: Any, row: Any) -> Any:
        c = np.tanh(c + row @ w)
        return c, c * c
    c, ys = lax.scan(step, np.sum(w) * 0.0, x)
    return c + np.sum(ys)


def _fori_loss(w: Any, x: Any) -> Any:
    return np.sum(lax.fori_loop(0, 3, lambda i, v: np.sin(v) * 1.5 + x @ w, x @ w))


for _name, _loss in [("scan", _scan_loss), ("fori_loop", _fori_loss)]:
    CASES[f"grad of {_name}"] = ((lambda f: lambda: xform.grad(f)(WS, XS))(_loss),
                                 (lambda f: lambda: xform.grad(f)(W, X))(_loss))
    CASES[f"jit of grad of {_name}"] = ((lambda f: lambda: xform.jit(xform.grad(f))(WS, XS))(_loss),
                                        (lambda f: lambda: xform.jit(xform.grad(f))(W, X))(_loss))


@pytest.mark.parametrize("case", sorted(CASES))
def test_transforms_keep_strict_arrays(case: str) -> None:
    on_strict, on_numpy = CASES[case]
    conversions.clear()
    got = on_strict()
    assert conversions == [], f"{case}: silent conversions {conversions}"
    want = on_numpy()
    got_leaves, want_leaves = tree_leaves(got), tree_leaves(want)
    assert len(got_leaves) == len(want_leaves)
    for g, w in zip(got_leaves, want_leaves):
        assert isinstance(g, StrictArray), f"{case}: a {type(g).__name__} came out"
        onp.testing.assert_allclose(g.get(), w, rtol=1e-12, atol=1e-14)


def test_jit_compiles_once_per_array_type() -> None:
    f = xform.jit(logistic_loss)
    a = f(W, X, Y)
    b = f(WS, XS, YS)
    c = f(W, X, Y)
    assert isinstance(a, (onp.ndarray, onp.generic)) and isinstance(c, (onp.ndarray, onp.generic))
    assert isinstance(b, StrictArray)
    assert f.cache_info().traces == 2
    onp.testing.assert_allclose(b.get(), a, rtol=1e-13)


def test_refusal_names_function_and_array_type() -> None:
    a = StrictArray(onp.eye(3) * 0.1)
    with pytest.raises(TypeError, match=r"xform\.scipy\.linalg\.expm has no implementation "
                                        r"for arrays of type .*StrictArray"):
        xform.scipy.linalg.expm(a)
    assert conversions == [] or "expm" not in str(conversions)


# ---------------------------------------------------------------------------- the registry
# Primitives whose implementation is SciPy code (or NumPy internals) that reads its
# operands into NumPy: on another library's arrays they refuse with the clear error.
# Listed here so that a primitive moving in or out of this set is a visible change.
REFUSED = {
    "eager": {"adjugate", "adjugate_tangent", "convolve", "convolve_full", "expm", "index_add", "lu_factor",
              "lu_solve", "odeint", "random_gamma", "solve_banded", "solve_sylvester",
              "sqrtm", "threefry2x32"},
}
# forward and reverse also meet the refusals of the primitives their rules use
# (det's rules use the adjugate; the incomplete gamma and beta functions' derivatives
# in their parameters are series evaluated in NumPy)
REFUSED["jvp"] = REFUSED["eager"] - {"random_gamma", "threefry2x32"} | {
    "det", "betainc", "betaincc", "betaincinv", "betainccinv", "gammainc",
    "gammaincc", "gammaincinv", "gammainccinv", "stdtr", "stdtrit"}
REFUSED["vjp"] = REFUSED["jvp"]


def _strict_args(args: tuple) -> tuple:
    def wrap(a: Any) -> Any:
        if isinstance(a, onp.ndarray):
            return StrictArray(a)
        if isinstance(a, (list, tuple)):
            return type(a)(wrap(v) for v in a)
        return a
    return tuple(wrap(a) for a in args)


def _run(mode: str, prim: Any, args: tuple, params: dict, diff: list[int]) -> Any:
    if mode == "eager":
        return bind(prim, *args, **params)

    def f(*xs: Any) -> Any:
        full = list(args)
        for i, v in zip(diff, xs):
            full[i] = v
        return bind(prim, *full, **params)
    primals = tuple(args[i] for i in diff)
    ones = tuple(StrictArray(onp.ones(a.shape, a.dtype)) for a in primals)
    if mode == "jvp":
        return xform.jvp(f, primals, ones)
    out, pullback = xform.vjp(f, *primals)
    return pullback(tree_map(lambda o: StrictArray(onp.ones(o.shape, o.dtype)), out))


@pytest.mark.parametrize("mode", ["eager", "jvp", "vjp"])
def test_every_primitive_runs_or_refuses_clearly(mode: str) -> None:
    refused, numpy_out, silent = set(), [], []
    for name in sorted(registry):
        prim = registry[name]
        if name not in DOMAINS:
            continue
        domain = DOMAINS[name][0]
        args, params = domain.make(onp.random.default_rng(zlib.crc32(name.encode())))
        args = _strict_args(args)
        diff = [i for i in domain.diff if isinstance(args[i], StrictArray)]
        if mode != "eager" and (prim.nondiff or not diff or (mode == "vjp" and not domain.reverse)):
            continue
        if not any(isinstance(a, StrictArray) for a in tree_leaves(args)):
            continue
        conversions.clear()
        try:
            out = _run(mode, prim, args, params, diff)
        except StrictConversionError:
            silent.append(f"{name}: {conversions[0]}")
            continue
        except TypeError as e:
            if "has no implementation for arrays of type" not in str(e):
                raise
            assert "StrictArray" in str(e), str(e)
            refused.add(name)
            continue
        numpy_out += [name for leaf in tree_leaves(out)
                      if isinstance(leaf, onp.ndarray) and leaf.ndim > 0]
        silent += [f"{name}: {c}" for c in conversions]
    assert not silent, f"{mode}: primitives converting to NumPy silently: {silent}"
    assert not numpy_out, f"{mode}: primitives returning NumPy arrays: {numpy_out}"
    assert refused == REFUSED[mode], (
        f"{mode}: newly refused {sorted(refused - REFUSED[mode])}, "
        f"no longer refused {sorted(REFUSED[mode] - refused)}")


# ---------------------------------------------------------------------------- gpu_check.py
def _gpu_check() -> Any:
    bench = Path(__file__).resolve().parent.parent / "benchmarks"
    if str(bench) not in sys.path:
        sys.path.insert(0, str(bench))
    return importlib.import_module("gpu_check")


def test_gpu_check_passes_every_check_on_strict_arrays() -> None:
    # the script's checks, run on the CPU stand-in for CuPy arrays
    conversions.clear()
    results = _gpu_check().run_checks(StrictArray, lambda a: a.get(), StrictArray)
    assert [status for _, status in results] == ["PASS"] * len(results), results
    assert conversions == []


def test_gpu_check_without_cupy_exits_cleanly(monkeypatch: Any, capsys: Any) -> None:
    gpu_check = _gpu_check()
    monkeypatch.setitem(sys.modules, "cupy", None)  # `import cupy` fails, installed or not
    assert gpu_check.main(["--batch", "16", "--skip-speed"]) == 0
    assert "CuPy is not usable here" in capsys.readouterr().out
    with pytest.raises(SystemExit) as e:
        gpu_check.main(["--batch", "many"])
    assert e.value.code == 2


def _cupy_with_a_gpu() -> Any:
    """CuPy if it is installed and sees a GPU, else None (the reason goes in the skip)."""
    try:
        import cupy
        cupy.cuda.runtime.getDeviceCount()
    except Exception:  # not installed, or no usable GPU/driver
        return None
    return cupy


CUPY = _cupy_with_a_gpu()


@pytest.mark.skipif(CUPY is None, reason="needs CuPy and an NVIDIA GPU "
                    "(pip install -e '.[cupy]' on a GPU machine)")
def test_every_check_passes_on_cupy_arrays_on_the_gpu() -> None:
    """The strict stand-in's checks on real device arrays: each transform returns CuPy
    arrays (nothing copied to the host) equal to NumPy's results."""
    assert CUPY is not None
    results = _gpu_check().run_checks(CUPY.asarray, CUPY.asnumpy, CUPY.ndarray)
    assert [status for _, status in results] == ["PASS"] * len(results), results
