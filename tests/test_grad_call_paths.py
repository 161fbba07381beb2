"""grad's fast path (every differentiated argument a plain leaf: a Python or NumPy
scalar, an ndarray, a tracer) against its general path (pytrees flattened and rebuilt):
the same gradients, values and errors; plus the state one call leaves behind (the
collector, the current trace, the cached seed) when the function raises."""
from __future__ import annotations

import gc
from typing import Any, Callable

import numpy as onp
import pytest

import xform
import xform.api
import xform.numpy as np
from xform.core.trace import EVAL_TRACE, current_trace
from xform.test_util import check_grads


@pytest.fixture(params=["fast", "general"])
def path(request: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run the test once as it is and once with the fast path switched off."""
    if request.param == "general":
        monkeypatch.setattr(xform.api, "_all_plain_leaves", lambda values: False)
    return str(request.param)


def _same(a: Any, b: Any) -> None:
    """Equal values, dtypes, types and structure."""
    if isinstance(a, (tuple, list)):
        assert type(a) is type(b) and len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y)
        return
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            _same(a[k], b[k])
        return
    assert type(a) is type(b), (type(a), type(b))
    assert onp.asarray(a).dtype == onp.asarray(b).dtype
    onp.testing.assert_array_equal(a, b)


def _outcome(call: Callable[[], Any]) -> Any:
    """What a call gives: its result, or its error's type and message."""
    try:
        return ("ok", call())
    except Exception as e:  # noqa: BLE001 -- compared, not swallowed
        return ("error", type(e), str(e))


def _both_paths(monkeypatch: pytest.MonkeyPatch, call: Callable[[], Any]) -> tuple[Any, Any]:
    fast = _outcome(call)
    with monkeypatch.context() as m:
        m.setattr(xform.api, "_all_plain_leaves", lambda values: False)
        general = _outcome(call)
    return fast, general


def _assert_same_outcome(fast: Any, general: Any) -> None:
    assert fast[0] == general[0], (fast, general)
    if fast[0] == "ok":
        _same(fast[1], general[1])
    else:
        assert fast[1:] == general[1:]


_f32 = onp.float32(0.7)
_vec = onp.array([0.5, -1.0, 2.0])

# (name, call): each run on both paths and compared
CASES: list[tuple[str, Callable[[], Any]]] = [
    ("python float", lambda: xform.grad(lambda x: x * np.sin(x))(1.5)),
    ("int with allow_int", lambda: xform.grad(lambda x, n: x * n, argnums=(0, 1),
                                              allow_int=True)(2.0, 3)),
    ("bool with allow_int", lambda: xform.grad(lambda x, b: x * 2.0, argnums=(0, 1),
                                               allow_int=True)(2.0, True)),
    ("float32 scalar", lambda: xform.grad(lambda x: x * x)(_f32)),
    ("0-d array", lambda: xform.grad(lambda x: np.exp(x))(onp.array(0.3))),
    ("0-d float32 array", lambda: xform.grad(lambda x: np.exp(x))(onp.array(0.3, "f4"))),
    ("1-d array", lambda: xform.grad(lambda x: np.sum(np.tanh(x) ** 2))(_vec)),
    ("complex, holomorphic", lambda: xform.grad(lambda z: z * z + np.sin(z),
                                                holomorphic=True)(1.0 + 2.0j)),
    ("complex input, real output", lambda: xform.grad(lambda z: np.abs(z) ** 2)(1.0 + 2.0j)),
    ("has_aux", lambda: xform.grad(lambda x: (np.sum(x ** 3), {"n": x.shape}),
                                   has_aux=True)(_vec)),
    ("value_and_grad with aux", lambda: xform.value_and_grad(
        lambda x, y: (x * y, [x, 2.0]), argnums=1, has_aux=True)(1.5, 4.0)),
    ("negative argnums", lambda: xform.grad(lambda x, y: x * y ** 2, argnums=-1)(3.0, 2.0)),
    ("argnums tuple of one", lambda: xform.grad(lambda x, y: x * y, argnums=(1,))(3.0, 2.0)),
    ("argnums repeated", lambda: xform.grad(lambda x, y: x * y, argnums=(1, 1, 0))(3.0, 2.0)),
    ("argnums from a list", lambda: xform.grad(lambda x, y: x * y, argnums=[1, 0])(3.0, 2.0)),
    ("keyword arguments", lambda: xform.grad(lambda x, *, c: c * x * x)(3.0, c=2.0)),
    ("constant output", lambda: xform.grad(lambda x: 2.0)(3.0)),
    ("output independent of the argument", lambda: xform.grad(
        lambda x, y: y * 2.0)(onp.ones(2, "f4"), 1.0)),
    ("nested grad (tracer inputs)", lambda: xform.grad(xform.grad(
        lambda x: x ** 3 * np.cos(x)))(0.4)),
    ("grad of grad w.r.t. a closed-over tracer", lambda: xform.grad(
        lambda x: xform.grad(lambda y: x * y)(1.0))(2.0)),
    ("vmap of grad", lambda: xform.vmap(xform.grad(lambda x: np.sin(x) * x))(_vec)),
    ("jit of grad", lambda: xform.jit(xform.grad(lambda x: np.sum(np.sin(x) * x)))(_vec)),
    ("hessian", lambda: xform.hessian(lambda x: np.sum(x ** 3))(_vec)),
    ("vjp of scalars", lambda: xform.vjp(lambda x, y: x * y, 2.0, 3.0)[1](1.0)),
    ("vjp with an int primal", lambda: xform.vjp(lambda x, n: x * n, 2.0, 3)[1](1.0)),
    ("vjp of an array", lambda: xform.vjp(lambda x: x * x, _vec)[1](onp.ones(3))),
    # errors: the same type and the same message on both paths
    ("int without allow_int", lambda: xform.grad(lambda x: x * 2.0)(3)),
    ("bool without allow_int", lambda: xform.grad(lambda x: x * 2.0)(True)),
    ("int array", lambda: xform.grad(lambda x: np.sum(x))(onp.arange(3))),
    ("real input with holomorphic", lambda: xform.grad(lambda z: z * z, holomorphic=True)(1.0)),
    ("complex output without holomorphic", lambda: xform.grad(lambda z: z * z)(1.0 + 1.0j)),
    ("real output with holomorphic", lambda: xform.grad(lambda z: np.abs(z),
                                                        holomorphic=True)(1.0 + 1.0j)),
    ("vector output", lambda: xform.grad(lambda x: x * 2.0)(_vec)),
    ("pair output without has_aux", lambda: xform.grad(lambda x: (x, x))(1.0)),
    ("no return", lambda: xform.grad(lambda x: None)(1.0)),
    ("integer output", lambda: xform.grad(lambda x: onp.int64(1), allow_int=True)(1)),
    ("has_aux without a pair", lambda: xform.grad(lambda x: x, has_aux=True)(1.0)),
    ("argnums out of range", lambda: xform.grad(lambda x: x, argnums=1)(1.0)),
    ("negative argnums out of range", lambda: xform.grad(lambda x: x, argnums=-2)(1.0)),
    ("argnums not a sequence", lambda: xform.grad(lambda x: x, argnums=1.0)(1.0)),  # type: ignore[arg-type]
    ("a string argument", lambda: xform.grad(lambda x: x)("1.0")),
    ("None argument", lambda: xform.grad(lambda x: 1.0)(None)),
    ("error in the function", lambda: xform.grad(lambda x: x / "a")(1.0)),
]


@pytest.mark.parametrize("call", [c for _, c in CASES], ids=[n for n, _ in CASES])
def test_fast_and_general_paths_agree(monkeypatch: pytest.MonkeyPatch,
                                      call: Callable[[], Any]) -> None:
    fast, general = _both_paths(monkeypatch, call)
    _assert_same_outcome(fast, general)


def test_the_fast_path_walks_no_tree(monkeypatch: pytest.MonkeyPatch) -> None:
    """Plain leaves are not flattened or rebuilt (else the cases above test one path)."""
    def no_trees(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("tree walked")
    monkeypatch.setattr(xform.api, "tree_flatten", no_trees)
    monkeypatch.setattr(xform.api, "tree_unflatten", no_trees)
    assert float(xform.grad(lambda x: x * 2.0)(1.5)) == 2.0
    gx, gy = xform.grad(lambda x, y: x * y, argnums=(0, 1))(1.5, onp.float32(2.0))
    assert (float(gx), float(gy)) == (2.0, 1.5) and gy.dtype == onp.float32
    onp.testing.assert_array_equal(xform.grad(lambda x: np.sum(x * x))(_vec), 2 * _vec)
    with pytest.raises(AssertionError, match="tree walked"):  # a pytree is walked
        xform.grad(lambda p: p[0] * 2.0)((1.5,))


def test_the_general_path_still_handles_pytrees(path: str) -> None:
    def f(p: Any, s: Any) -> Any:
        return p["a"] * np.sum(p["b"] ** 2) + s[0] * s[1]
    p = {"a": 1.5, "b": onp.array([1.0, 2.0], "f4")}
    g = xform.grad(f, argnums=(0, 1))(p, (2.0, 3.0))
    assert type(g[0]["b"]) is onp.ndarray and g[0]["b"].dtype == onp.float32
    onp.testing.assert_allclose(g[0]["b"], 3.0 * onp.array([1.0, 2.0]))
    assert float(g[0]["a"]) == 5.0 and [float(v) for v in g[1]] == [3.0, 2.0]


def test_fast_path_gradients_are_right(path: str) -> None:
    check_grads(lambda x: x * np.sin(x) ** 2, (1.3,), order=2)
    check_grads(lambda x: np.sum(np.tanh(x) * x), (_vec,), order=2)
    check_grads(lambda z: np.real(z * np.conj(z) * np.exp(z)), (0.3 + 0.4j,), order=1,
                modes=("rev",))


def test_one_grad_object_called_with_other_argument_counts(path: str) -> None:
    """argnums is settled once per grad object, but checked against each call."""
    g = xform.grad(lambda *xs: sum(x * x for x in xs), argnums=1)
    assert float(g(1.0, 2.0)) == 4.0 and float(g(1.0, 3.0, 5.0)) == 6.0
    with pytest.raises(ValueError, match=r"argnums=1 but `<lambda>` was called with 1"):
        g(1.0)


def test_argnums_sequence_is_copied_at_grad_time() -> None:
    nums = [0]
    g = xform.grad(lambda x, y: x * y, argnums=nums)
    nums.append(1)  # changing the list afterwards changes nothing
    assert len(g(2.0, 3.0)) == 1


def test_seed_is_never_shared_mutable_state(path: str) -> None:
    """The cotangent seed (a cached NumPy scalar) cannot be changed by a rule that
    updates its cotangent in place, and has the output's dtype."""
    seen = []

    @xform.custom_vjp
    def f(x: Any) -> Any:
        return x * 1.0

    def fwd(x: Any) -> Any:
        return f(x), None

    def bwd(_: Any, ct: Any) -> Any:
        seen.append((type(ct), float(ct)))
        ct += 41.0  # an in-place add on an array would reach the next call's seed
        return (ct,)

    f.defvjp(fwd, bwd)
    assert [float(xform.grad(f)(2.0)) for _ in range(3)] == [42.0] * 3
    g32 = xform.grad(f)(onp.float32(2.0))
    assert type(g32) is onp.float32 and float(g32) == 42.0
    assert seen == [(onp.float64, 1.0)] * 3 + [(onp.float32, 1.0)]


def _clean_state() -> None:
    assert current_trace() is EVAL_TRACE, f"stale current trace {current_trace()!r}"
    assert gc.isenabled(), "the garbage collector was left disabled"


@pytest.mark.parametrize("exc", [ValueError, KeyboardInterrupt])
@pytest.mark.parametrize("where", ["forward", "output check", "backward"])
def test_an_exception_in_a_grad_call_leaves_xform_usable(path: str, exc: type,
                                                           where: str) -> None:
    @xform.custom_vjp
    def fails_backward(x: Any) -> Any:
        return x * 1.0

    def bwd(_: Any, ct: Any) -> Any:
        raise exc("from the backward pass")

    fails_backward.defvjp(lambda x: (fails_backward(x), None), bwd)

    def f(x: Any) -> Any:
        y = np.sin(x)
        if where == "forward":
            raise exc("from the function")
        if where == "output check":
            return [y]  # not a scalar: grad raises TypeError
        return fails_backward(y)

    expected = TypeError if where == "output check" else exc
    for arg in (0.5, onp.array([0.5, 1.0])[:1].reshape(())):
        with pytest.raises(expected):
            xform.grad(f)(arg)
        _clean_state()
    with pytest.raises(expected):  # nested: the outer call resumes the collector
        xform.grad(lambda x: xform.grad(f)(x) * x)(0.5)
    _clean_state()
    assert float(xform.grad(lambda x: x * x)(3.0)) == 6.0  # and xform still works
    assert float(xform.grad(xform.grad(lambda x: x ** 3))(1.0)) == 6.0
    _clean_state()


def test_collector_paused_during_the_call_only() -> None:
    states = []

    def f(x: Any) -> Any:
        states.append(gc.isenabled())
        return x * 2.0

    xform.grad(f)(1.0)
    xform.value_and_grad(f)(1.0)
    xform.vjp(f, 1.0)[1](1.0)
    assert states == [False, False, False] and gc.isenabled()
    gc.disable()
    try:  # paused by the caller: left paused
        xform.grad(f)(1.0)
        assert not gc.isenabled()
    finally:
        gc.enable()
