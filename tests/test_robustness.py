"""Robustness: interrupts, copies of traced values, literal keys in jit, loop-carry and
custom-rule checks, keyword arguments of the transforms, odd inputs, pickling, the jit
cache."""
from __future__ import annotations

import copy
import gc
import pickle
import signal
import sys
import time
from typing import Any, Callable

import numpy as onp
import pytest

import xform
import xform.numpy as np
from xform.core.trace import EVAL_TRACE, current_trace

RNG = onp.random.default_rng(11)


# ----------------------------------------------------------------------------- interrupts
def _workloads() -> list[Callable[[], Any]]:
    """Small programs that cross every window where xform changes global state: the
    current trace (each interpreter, nesting, custom rules) and the paused collector
    (reverse mode records and sweeps with it paused)."""
    x = onp.linspace(0.1, 1.0, 4)

    @xform.custom_jvp
    def softplus(v: Any) -> Any:
        return np.log1p(np.exp(v))

    softplus.defjvp(lambda p, t: (softplus(p[0]), t[0] / (1.0 + np.exp(-p[0]))))

    def f(v: Any) -> Any:
        return np.sum(np.tanh(v) * softplus(v))

    return [
        lambda: xform.grad(f)(x),
        lambda: xform.jvp(f, (x,), (x,)),
        lambda: xform.vmap(f)(onp.stack([x, x])),
        lambda: xform.hessian(lambda v: np.sum(np.sin(v) ** 2))(x[:2]),
        lambda: xform.make_jaxpr(xform.grad(f))(x),
        lambda: xform.grad(lambda v: xform.grad(lambda w: np.sum(w * v))(v).sum())(x),
    ]


def _clean_state() -> None:
    assert current_trace() is EVAL_TRACE, f"stale current trace {current_trace()!r}"
    assert gc.isenabled(), "the garbage collector was left disabled"


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="needs POSIX interval timers")
def test_keyboard_interrupt_at_random_points_leaves_no_stale_state() -> None:
    """Real SIGALRM signals, each raising KeyboardInterrupt from its handler, land at
    random points of transformed programs thousands of times; after each, no trace is
    left current and the collector is enabled."""
    works = _workloads()
    durations = []
    for w in works:  # time each program, so the signals spread over its whole run
        w()
        t0 = time.perf_counter()
        w()
        durations.append(time.perf_counter() - t0)
    old = signal.signal(signal.SIGALRM, _raise_interrupt)
    # other libraries' collector callbacks (hypothesis has one) would swallow the
    # interrupts that land in them as "unraisable": set them aside meanwhile
    callbacks, gc.callbacks[:] = gc.callbacks[:], []
    interrupted = inside = 0
    try:
        for i in range(3000):
            k = i % len(works)
            delay = float(RNG.uniform(1e-6, 1.2 * durations[k]))
            try:
                signal.setitimer(signal.ITIMER_REAL, delay)
                works[k]()
                signal.setitimer(signal.ITIMER_REAL, 0)
            except KeyboardInterrupt:
                interrupted += 1
                tb = sys.exc_info()[2]
                while tb is not None:
                    if tb.tb_frame.f_code.co_filename.startswith(_XFORM_DIR):
                        inside += 1
                        break
                    tb = tb.tb_next
            _clean_state()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
        gc.callbacks[:] = callbacks
    assert interrupted > 1000, interrupted  # the signals did land mid-program
    assert inside > 1000, inside


_XFORM_DIR = xform.__file__.rsplit("/", 1)[0]


def _injectable(frame: Any) -> bool:
    """A frame of xform's own code, not a generator's (raising while a generator is
    closed is reported as unraisable, not propagated)."""
    return (frame.f_code.co_filename.startswith(_XFORM_DIR)
            and not frame.f_code.co_flags & 0x20)  # CO_GENERATOR


def test_exception_on_entry_to_any_function_leaves_no_stale_state() -> None:
    """Deterministic companion of the signal test: CPython runs pending signal handlers
    on entry to a Python function (before its first line); raise KeyboardInterrupt on
    entry to the n-th function called, for every n, in reverse mode, forward mode,
    vmap and staging. Catches the windows of a ``with`` block whose ``__exit__``
    restores the state."""
    works = _workloads()
    for w in (works[0], works[1], works[2], works[4]):
        calls = 0

        def count(frame: Any, event: str, arg: Any) -> None:
            nonlocal calls
            if event == "call" and _injectable(frame):
                calls += 1

        sys.settrace(count)
        try:
            w()
        finally:
            sys.settrace(None)
        total = calls
        assert total > 50
        for n in range(total):
            seen = 0

            def inject(frame: Any, event: str, arg: Any) -> Any:
                nonlocal seen
                if event == "call" and _injectable(frame):
                    seen += 1
                    if seen == n + 1:
                        raise KeyboardInterrupt
                return None

            sys.settrace(inject)
            try:
                w()
            except KeyboardInterrupt:
                pass
            finally:
                sys.settrace(None)
            _clean_state()


# ----------------------------------------------------------------------------- copies
def test_copy_of_a_traced_value_keeps_its_derivative() -> None:
    from xform.test_util import check_grads
    check_grads(lambda x: np.sin(copy.copy(x)) * copy.deepcopy(x), (0.7,), order=2)
    assert float(xform.grad(lambda x: np.sin(copy.copy(x)))(0.3)) == pytest.approx(onp.cos(0.3))
    _, t = xform.jvp(lambda x: copy.deepcopy(x) * 2.0, (1.0,), (3.0,))
    assert float(t) == 6.0
    onp.testing.assert_allclose(xform.vmap(lambda x: copy.copy(x) ** 2)(onp.arange(3.0)),
                                [0.0, 1.0, 4.0])
    onp.testing.assert_allclose(xform.jit(lambda x: copy.deepcopy(x) * 2.0)(onp.ones(2)),
                                [2.0, 2.0])


def test_deepcopy_of_a_params_dict_inside_a_loss() -> None:
    params = {"w": onp.array([1.0, -2.0]), "b": onp.array(0.5), "layers": [onp.ones(2)]}

    def loss(p: Any) -> Any:
        q = copy.deepcopy(p)
        q["b"] = q["b"] * 3.0  # editing the copy is fine: it is a new dict
        return np.sum(q["w"] ** 2) + q["b"] + np.sum(q["layers"][0] * q["w"])

    g = xform.grad(loss)(params)
    onp.testing.assert_allclose(g["w"], 2 * params["w"] + 1.0)
    assert float(g["b"]) == 3.0
    onp.testing.assert_allclose(g["layers"][0], params["w"])
    onp.testing.assert_allclose(xform.jit(xform.grad(loss))(params)["w"], g["w"])


def test_pickling_a_traced_value_is_a_clear_error() -> None:
    def f(x: Any) -> Any:
        pickle.dumps(x)
        return x

    with pytest.raises(TypeError, match="Cannot pickle a traced value"):
        xform.grad(f)(1.0)


def test_grad_of_a_function_returning_none_raises() -> None:
    with pytest.raises(TypeError, match="returned None.*forget a `return`"):
        xform.grad(lambda x: None)(1.0)
    with pytest.raises(TypeError, match="returned None"):
        xform.value_and_grad(lambda x: None)(1.0)


# ----------------------------------------------------------------------------- jit literals
def test_jit_tells_signed_zeros_apart() -> None:
    f = xform.jit(lambda x: (1.0 / (x * 0.0), 1.0 / (x * -0.0), x + 0.0, x - -0.0))
    with onp.errstate(divide="ignore"):
        a, b, _, _ = f(1.0)
    assert a == onp.inf and b == -onp.inf
    text = f.lower(1.0).as_text()
    assert text.count("multiply") == 2, text


def test_jit_keeps_the_sign_of_zero_sums() -> None:
    """``x + 0.0`` is +0.0 at ``x = -0.0``: only ``x + -0.0`` and ``x - 0.0`` pass ``x``
    through, so the simplifier drops only those."""
    def f(x: Any) -> Any:
        return (x + 0.0, 0.0 + x, x - -0.0, x + 0, x + onp.zeros(2), x + -0.0, x - 0.0)
    z = onp.array([-0.0, -0.0])
    for got, want in zip(xform.jit(f)(z), f(z)):
        onp.testing.assert_array_equal(onp.signbit(got), onp.signbit(want))
    text = xform.jit(lambda x: (x + -0.0) - 0.0).lower(z).as_text()
    assert "add" not in text and "subtract" not in text, text


def test_jit_tells_literal_dtypes_apart() -> None:
    f = xform.jit(lambda x: (x + 1, x + 1.0, x + True, x + onp.float32(1.0)))
    outs = f(onp.int32(3))
    eager = (onp.int32(3) + 1, onp.int32(3) + 1.0, onp.int32(3) + True,
             onp.int32(3) + onp.float32(1.0))
    for o, e in zip(outs, eager):
        assert onp.result_type(o) == onp.result_type(e) and o == e


def test_jit_merges_equal_nan_literals_and_keeps_results() -> None:
    f = xform.jit(lambda x: (np.maximum(x, onp.nan), np.maximum(x, float("nan")), x * 2.0,
                             x * 2.0))
    a, b, c, d = f(1.0)
    assert onp.isnan(a) and onp.isnan(b) and c == d == 2.0
    text = f.lower(1.0).as_text()
    assert text.count("maximum") == 1 and text.count("multiply") == 1, text


def test_cse_keys_params_by_bits_too() -> None:
    from xform.jit.passes import _freeze
    assert _freeze(0.0) != _freeze(-0.0)
    assert _freeze(float("nan")) == _freeze(float("nan"))
    assert _freeze(1) != _freeze(1.0) != _freeze(onp.float32(1.0))
    assert _freeze((0.0, 1j)) != _freeze((-0.0, 1j))


# ----------------------------------------------------------------------------- keyword args
def test_jacobians_pass_keyword_arguments_through() -> None:
    def f(x: Any, scale: Any = 1.0, power: int = 2) -> Any:
        return scale * x ** power

    x = onp.array([1.0, 2.0])
    onp.testing.assert_allclose(xform.jacfwd(f)(x, scale=3.0), onp.diag(6.0 * x))
    onp.testing.assert_allclose(xform.jacrev(f)(x, scale=3.0, power=3), onp.diag(9.0 * x ** 2))
    onp.testing.assert_allclose(xform.jacobian(f)(x, scale=3.0), onp.diag(6.0 * x))
    onp.testing.assert_allclose(xform.hessian(lambda v, s=1.0: np.sum(s * v ** 3))(x, s=2.0),
                                onp.diag(12.0 * x))
    # keyword arguments are held fixed (not differentiated), also when they are arrays
    onp.testing.assert_allclose(xform.jacrev(f)(x, scale=onp.array([1.0, 5.0])),
                                onp.diag([2.0, 20.0]))
    jac, aux = xform.jacfwd(lambda v, k=0.0: (v * k, k), has_aux=True)(x, k=2.0)
    onp.testing.assert_allclose(jac, 2.0 * onp.eye(2))
    assert aux == 2.0


def test_vmap_maps_keyword_arguments_over_axis_0() -> None:
    def f(x: Any, scale: Any = 1.0) -> Any:
        return x * scale

    x, s = onp.arange(3.0), onp.array([1.0, 10.0, 100.0])
    onp.testing.assert_allclose(xform.vmap(f)(x, scale=s), x * s)
    onp.testing.assert_allclose(xform.vmap(f, in_axes=(None,))(x, scale=s),
                                onp.outer(s, x))
    with pytest.raises(ValueError, match="keyword arguments are mapped over axis 0"):
        xform.vmap(f)(x, scale=2.0)


# ----------------------------------------------------------------------------- odd inputs
ODD = [((i for i in range(2)), "an iterator \\(generator\\)"),
       (iter([1.0]), "an iterator \\(list_iterator\\)"),
       ("abc", "a str \\('abc'\\)"), (object(), "an object of type builtins.object")]


@pytest.mark.parametrize("value,what", ODD)
def test_transforms_refuse_non_array_inputs_clearly(value: Any, what: str) -> None:
    f = lambda x: np.sum(x)  # noqa: E731
    calls = {
        "grad": lambda: xform.grad(f)(value),
        "vjp": lambda: xform.vjp(f, value),
        "jvp": lambda: xform.jvp(f, (value,), (1.0,)),
        "jacfwd": lambda: xform.jacfwd(f)(value),
        "jacrev": lambda: xform.jacrev(f)(value),
        "hessian": lambda: xform.hessian(f)(value),
        "vmap": lambda: xform.vmap(f)(value),
        "jit of `<lambda>`": lambda: xform.jit(f)(value),
        "make_jaxpr": lambda: xform.make_jaxpr(f)(value),
        "linearize": lambda: xform.linearize(f, value),
    }
    for who, call in calls.items():
        with pytest.raises(TypeError, match=f"{who}.*argument .*is {what}, which is not "
                                            "an array. Accepted are"):
            call()


def test_non_array_input_is_named_by_its_path() -> None:
    with pytest.raises(TypeError, match=r"argument 1 \(at \['b'\]\) of `loss`"):
        def loss(x: Any, p: Any) -> Any:
            return x
        xform.grad(loss, argnums=1)(1.0, {"a": 1.0, "b": "oops"})
    with pytest.raises(TypeError, match=r"vmap: keyword argument 'scale'"):
        xform.vmap(lambda x, scale: x)(onp.ones(2), scale="big")
    # non-differentiated arguments may be anything
    assert float(xform.grad(lambda x, name: x * len(name), argnums=0)(1.0, "abc")) == 3.0
    # an unmapped argument too
    assert xform.vmap(lambda x, s: x, in_axes=(0, None))(onp.ones(2), "s").shape == (2,)


@pytest.mark.parametrize("value,what", ODD + [(None, "None")])
def test_numpy_functions_refuse_non_array_operands_under_tracing(value: Any, what: str) -> None:
    def f(x: Any) -> Any:
        return np.sum(np.add(value, x))

    for transform in (xform.grad, xform.jit, xform.vmap):
        with pytest.raises(TypeError, match=f"`add`: operand 0 is {what}, which is not an "
                                            "array"):
            transform(f)(onp.ones(2))
    with pytest.raises(TypeError, match=f"`sin`: operand 0 is {what}"):
        xform.grad(lambda x: np.sum(np.sin(value)) + x)(1.0)


# ----------------------------------------------------------------------------- tangent types
def test_jvp_refuses_a_complex_tangent_for_a_real_primal() -> None:
    with pytest.raises(TypeError, match="jvp: the tangent of input leaf 0 has dtype "
                                        "complex128.*dtype float64"):
        xform.jvp(np.sin, (1.0,), (1j,))
    with pytest.raises(TypeError, match="needs a complex tangent"):
        xform.jvp(lambda z: z * 2, (1j,), (onp.float64(1.0),))
    with pytest.raises(ValueError, match="tangent of shape"):
        xform.jvp(np.sin, (onp.ones(2),), (onp.ones(3),))
    # a lower precision of the same kind is cast, as NumPy's same_kind casting does
    _, t = xform.jvp(np.sin, (onp.float32(0.0),), (1.0,))
    assert onp.result_type(t) == onp.float32 and t == 1.0
    _, f_lin = xform.linearize(np.sin, 1.0)
    with pytest.raises(TypeError, match="linearize's jvp_fn: the tangent"):
        f_lin(1j)


def test_vjp_refuses_cotangents_of_the_wrong_kind_or_shape() -> None:
    _, pull = xform.vjp(np.sin, 1.0)
    with pytest.raises(TypeError, match="vjp_fn: the cotangent of output 0 has dtype "
                                        "complex128"):
        pull(1j)
    _, pull_c = xform.vjp(lambda x: x * 1j, 1.0)
    with pytest.raises(TypeError, match="dtype float64.*complex128.*needs a complex"):
        pull_c(1.0)
    assert pull_c(1.0 + 0j)[0] == 0.0  # Re(conj-free transpose of x -> i x) at 1
    _, pull_v = xform.vjp(np.sin, onp.ones(2))
    with pytest.raises(ValueError, match="cotangent of shape \\(3,\\)"):
        pull_v(onp.ones(3))
    with pytest.raises(TypeError, match="dtype <U1"):
        pull_v(onp.array(["a", "b"]))


def test_linear_transpose_refuses_nonlinear_functions() -> None:
    for f in (lambda x: x * x, lambda x: x + 1.0, lambda x: np.maximum(x, 0.0),
              lambda x: np.abs(x), np.sin, lambda x: np.sum(x) ** 2):
        with pytest.raises(TypeError, match="linear_transpose: .* is not linear"):
            xform.linear_transpose(f, onp.zeros(3))
    t = xform.linear_transpose(lambda x, y: (x @ onp.arange(6.0).reshape(2, 3), 3.0 * y),
                               onp.zeros(2), 0.0)
    gx, gy = t((onp.ones(3), 2.0))
    onp.testing.assert_allclose(gx, [3.0, 12.0])
    assert gy == 6.0
    # complex-linear, and real-linear but not complex-linear (conj), both accepted
    assert xform.linear_transpose(lambda z: 2j * z, 0j)(1.0 + 0j)[0] == 2j
    assert xform.linear_transpose(lambda z: np.conj(z), 0j)(1.0 + 0j)[0] == 1.0
    with pytest.raises(TypeError, match="not linear"):
        xform.linear_transpose(lambda x: x * x, onp.zeros(2, onp.float32))


# ----------------------------------------------------------------------------- custom rules
def _custom_jvp(rule: Callable[..., Any]) -> Any:
    @xform.custom_jvp
    def f(x: Any) -> Any:
        return np.sin(x)

    f.defjvp(rule)
    return f


@pytest.mark.parametrize("rule,error,match", [
    (lambda p, t: np.sin(p[0]), TypeError, "must return a pair"),
    (lambda p, t: (np.sin(p[0]), (t[0], t[0])), TypeError, "structure"),
    (lambda p, t: (np.sin(p[0]), np.ones(3)), ValueError,
     "tangent of output leaf 0 has shape \\(3,\\).*shape \\(2,\\)"),
    (lambda p, t: (np.sin(p[0]), t[0] * 1j), TypeError,
     "tangent of output leaf 0 has dtype complex128.*float64"),
])
def test_custom_jvp_rule_of_the_wrong_type_is_named(rule: Any, error: type, match: str) -> None:
    f = _custom_jvp(rule)
    x = onp.ones(2)
    for run in (lambda: xform.jvp(f, (x,), (x,)), lambda: xform.grad(lambda v: np.sum(f(v)))(x),
                lambda: xform.jit(xform.grad(lambda v: np.sum(f(v))))(x)):
        with pytest.raises(error, match="custom_jvp rule of `f`.*" + match):
            run()


def _custom_vjp(fwd: Callable[..., Any], bwd: Callable[..., Any]) -> Any:
    @xform.custom_vjp
    def g(x: Any, p: Any) -> Any:
        return x * p["a"]

    g.defvjp(fwd, bwd)
    return g


@pytest.mark.parametrize("fwd,bwd,error,match", [
    (lambda x, p: x * p["a"], lambda r, c: (c, None), TypeError,
     "fwd of `g` must return a pair \\(output, residuals\\)"),
    (lambda x, p: (x * p["a"], p), lambda r, c: (c,), TypeError, "one cotangent per"),
    (lambda x, p: (x * p["a"], p), lambda r, c: (c, {"b": c}), TypeError,
     "differentiable argument 1 .*structure"),
    (lambda x, p: (x * p["a"], p), lambda r, c: (c[:1], None), ValueError,
     "cotangent of differentiable argument 0 has shape \\(1,\\)"),
    (lambda x, p: (x * p["a"], p), lambda r, c: (c * 1j, None), TypeError,
     "cotangent of differentiable argument 0 has dtype complex128"),
    (lambda x, p: (x * p["a"], p), lambda r, c: (c, {"a": "zero"}), TypeError,
     "differentiable argument 1 is str"),
])
def test_custom_vjp_rules_of_the_wrong_type_are_named(fwd: Any, bwd: Any, error: type,
                                                      match: str) -> None:
    g = _custom_vjp(fwd, bwd)
    p = {"a": onp.array(2.0)}
    for run in (lambda: xform.grad(lambda v: np.sum(g(v, p)))(onp.ones(2)),
                lambda: xform.jit(xform.grad(lambda v: np.sum(g(v, p))))(onp.ones(2))):
        with pytest.raises(error, match="custom_vjp .* of `g`.*" + match if "fwd" not in match
                           else match):
            run()


def test_custom_vjp_bwd_may_return_none_leaves_and_lower_precision() -> None:
    g = _custom_vjp(lambda x, p: (x * p["a"], (x, p)),
                    lambda r, c: (c * r[1]["a"], {"a": None}))
    grads = xform.grad(lambda v, p: np.sum(g(v, p)), argnums=(0, 1))(onp.ones(2), {"a": 2.0})
    onp.testing.assert_allclose(grads[0], [2.0, 2.0])
    assert grads[1]["a"] == 0.0
    g32 = _custom_vjp(lambda x, p: (x * p["a"], None),
                      lambda r, c: (c.astype(onp.float32) * 2.0, None))
    gx = xform.grad(lambda v: np.sum(g32(v, {"a": 2.0})))(onp.ones(2))
    assert gx.dtype == onp.float64


# ----------------------------------------------------------------------------- loop carries
from xform import lax  # noqa: E402


def _under_every_transform(loop: Callable[[Any], Any], x: Any) -> list[Callable[[], Any]]:
    """The loop run eagerly, under grad, jvp, vmap, jit and make_jaxpr."""
    scalar = lambda v: np.sum(loop(v))  # noqa: E731
    return [lambda: loop(x), lambda: xform.grad(scalar)(x),
            lambda: xform.jvp(loop, (x,), (x,)), lambda: xform.vmap(loop)(onp.stack([x, x])),
            lambda: xform.jit(loop)(x), lambda: xform.make_jaxpr(loop)(x)]


CARRY_BUGS = {
    "while_loop-shape": (lambda x: lax.while_loop(lambda c: np.sum(c) < 10.0,
                                                  lambda c: np.concatenate([c, c]), x),
                         "while_loop: body_fun .*carry enters as f64\\[2\\] and comes back "
                         "as f64\\[4\\] \\(the shapes differ\\)"),
    "while_loop-dtype": (lambda x: lax.while_loop(lambda c: np.sum(c[0]) < 10.0,
                                                  lambda c: (c[0] + 1.0, c[1].astype(
                                                      onp.float32)), (x, x))[0],
                         "while_loop: .*carry\\[1\\] enters as f64\\[2\\] and comes back as "
                         "f32\\[2\\] \\(the dtypes differ\\)"),
    "while_loop-structure": (lambda x: lax.while_loop(lambda c: np.sum(c["a"]) < 10.0,
                                                      lambda c: {"a": c["a"] + 1.0, "b": 0},
                                                      {"a": x}),
                             "while_loop: body_fun must return a carry of the same pytree "
                             "structure"),
    "fori_loop-dtype": (lambda x: lax.fori_loop(0, 3, lambda i, c: c.astype(onp.float32), x),
                        "fori_loop: .*enters as f64\\[2\\] and comes back as f32\\[2\\]"),
    "fori_loop-shape": (lambda x: lax.fori_loop(0, 3, lambda i, c: c[:1], x),
                        "fori_loop: .*enters as f64\\[2\\] and comes back as f64\\[1\\]"),
    "scan-shape": (lambda x: lax.scan(lambda c, t: (c * np.ones((2, 2)), t), x,
                                      onp.arange(3.0))[0],
                   "scan: the body .*carry enters as f64\\[2\\] and comes back as "
                   "f64\\[2,2\\]"),
    "scan-dtype": (lambda x: lax.scan(lambda c, t: ((c[0].astype(onp.float32), c[1]), t),
                                      (x, x), onp.arange(3.0))[0][1],
                   "scan: .*carry\\[0\\] enters as f64\\[2\\] and comes back as f32\\[2\\]"),
    "scan-structure": (lambda x: lax.scan(lambda c, t: ([c], t), x, onp.arange(3.0))[0],
                       "scan: the body must return a carry of the same pytree structure"),
}


@pytest.mark.parametrize("name", sorted(CARRY_BUGS))
def test_loop_carry_that_changes_type_raises(name: str) -> None:
    loop, match = CARRY_BUGS[name]
    for run in _under_every_transform(loop, onp.array([1.0, 2.0])):
        with pytest.raises(TypeError, match=match):
            run()


def test_weakly_typed_carries_may_be_promoted() -> None:
    # a Python-scalar initial carry takes the type the body gives it (JAX's weak types)
    for run in (lambda f: f(), lambda f: xform.jit(f)()):
        assert run(lambda: lax.while_loop(lambda c: c < 3, lambda c: c + 1.0, 0)) == 3.0
        assert run(lambda: lax.fori_loop(0, 3, lambda i, c: c + 1.5, 0)) == 4.5
        c, ys = run(lambda: lax.scan(lambda c, x: (c + x, c), 0, onp.arange(3.0)))
        assert c == 3.0 and ys.dtype == onp.float64
    out = xform.jit(lambda v: lax.fori_loop(0, 2, lambda i, c: c * v, 1))(onp.float32(3.0))
    assert out == 9.0
    # promotion never narrows: a Python float carry does not become an integer
    with pytest.raises(TypeError, match="f64\\[\\] and comes back as i64\\[\\]"):
        xform.jit(lambda: lax.while_loop(lambda c: c < 3, lambda c: (c + 1).astype(int),
                                         0.5))()


def test_scan_ys_must_keep_one_type() -> None:
    def f(x: Any) -> Any:
        return lax.scan(lambda c, t: (c, np.ones(2) if t < 1 else np.ones(3)), x,
                        onp.arange(2.0))[1]

    with pytest.raises(TypeError, match="scan: the body must return ys of the same type at "
                                        "every step.*f64\\[2\\] at the first step and "
                                        "f64\\[3\\]"):
        f(1.0)
    with pytest.raises(TypeError, match="must return a pair \\(carry, y\\)"):
        lax.scan(lambda c, t: c, 0.0, onp.arange(2.0))


def test_cond_branches_of_different_types_are_named() -> None:
    def f(x: Any) -> Any:
        return lax.cond(np.sum(x) > 0, lambda v: v, lambda v: v.astype(onp.float32), x)

    for run in (lambda: xform.jit(f)(onp.ones(2)), lambda: xform.vmap(f)(onp.ones((2, 2)))):
        with pytest.raises(TypeError, match="cond: every branch must return the same types, "
                                            "but output leaf 0 is f32\\[2\\] from false_fun "
                                            "and f64\\[2\\] from true_fun \\(the dtypes"):
            run()
    with pytest.raises(TypeError, match="switch: every branch must return the same pytree"):
        xform.jit(lambda i, x: lax.switch(i, [lambda v: v, lambda v: (v, v)], x))(0, 1.0)


# ----------------------------------------------------------------------------- pickling
import collections  # noqa: E402
import dataclasses  # noqa: E402

from xform import tree_util  # noqa: E402

Point = collections.namedtuple("Point", ["x", "y"])


class Box:
    """A registered node with aux data, flattened by lambdas (which do not pickle)."""

    def __init__(self, items: Any, label: str) -> None:
        self.items, self.label = items, label


tree_util.register_pytree_node(Box, lambda b: (b.items, b.label),
                               lambda label, items: Box(list(items), label))


@tree_util.register_dataclass
@dataclasses.dataclass
class Layer:
    w: Any
    b: Any
    name: str = dataclasses.field(default="dense", metadata={"static": True})


def _example_tree() -> Any:
    return {"p": Point(onp.ones(2), 3.0), "box": Box([onp.zeros((2, 2)), 1.0], "abc"),
            "layers": [Layer(onp.ones(3), onp.float32(2.0), "out")], "none": None,
            "od": collections.OrderedDict([("z", 1.0), ("a", onp.arange(2.0))])}


def test_treedefs_of_every_node_kind_pickle() -> None:
    leaves, treedef = tree_util.tree_flatten(_example_tree())
    again = pickle.loads(pickle.dumps(treedef))
    assert again == treedef and hash(again) == hash(treedef)
    rebuilt = tree_util.tree_unflatten(again, leaves)
    assert isinstance(rebuilt["box"], Box) and rebuilt["box"].label == "abc"
    assert rebuilt["layers"][0].name == "out" and isinstance(rebuilt["p"], Point)
    assert tree_util.tree_structure(rebuilt) == treedef
    assert pickle.loads(pickle.dumps(tree_util.tree_structure(1.0))).is_leaf()


def test_unpickling_an_unregistered_node_is_a_clear_error() -> None:
    from xform.tree_util import _node_treedef
    with pytest.raises(ValueError, match="not a registered pytree node"):
        _node_treedef(Exception, None, ())


def test_ravel_pytrees_unravel_pickles() -> None:
    tree = _example_tree()
    flat, unravel = tree_util.ravel_pytree(tree)
    unravel2 = pickle.loads(pickle.dumps(unravel))
    back = unravel2(flat * 2.0)
    onp.testing.assert_allclose(back["p"].x, 2.0 * onp.ones(2))
    assert back["layers"][0].b.dtype == onp.float32 and back["layers"][0].b == 4.0
    assert back["box"].label == "abc"
    with pytest.raises(ValueError, match="1-D array of length"):
        unravel2(onp.ones(3))
    _, empty = tree_util.ravel_pytree({"a": None})
    assert pickle.loads(pickle.dumps(empty))(onp.zeros(0)) == {"a": None}
    # and it still works on traced values
    g = xform.grad(lambda v: np.sum(unravel2(v)["p"].x ** 2))(flat)
    assert g.shape == flat.shape


# ----------------------------------------------------------------------------- jit cache
def test_jit_cache_is_a_bounded_lru() -> None:
    f = xform.jit(lambda x: np.sin(x) * 2.0, cache_size=3)
    for n in range(1, 11):  # ten signatures through a cache of three
        onp.testing.assert_allclose(f(onp.ones(n)), 2.0 * onp.sin(onp.ones(n)))
    info = f.cache_info()
    assert (info.currsize, info.maxsize, info.traces) == (3, 3, 10)
    # the most recently used survive; a hit (fast path or not) refreshes a signature
    f(onp.ones(8))
    f({"a": onp.ones(9)}["a"])
    f(onp.ones(11))  # evicts 10, the least recently used
    assert f.cache_info().traces == 11
    f(onp.ones(8)), f(onp.ones(9))
    assert f.cache_info().traces == 11
    f(onp.ones(10))
    assert f.cache_info().traces == 12
    assert len(f._fast) <= 3 and set(f._fast_key_of) <= set(f._cache)


def test_jit_cache_size_default_and_validation() -> None:
    from xform.jit import DEFAULT_CACHE_SIZE
    assert xform.jit(np.sin).cache_info().maxsize == DEFAULT_CACHE_SIZE == 64
    assert xform.jit(cache_size=5)(np.sin).cache_info().maxsize == 5
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="cache_size must be a positive int"):
            xform.jit(np.sin, cache_size=bad)
    xform.config.update("jit_cache_size", 7)
    try:
        assert xform.config.jit_cache_size == 7
        assert xform.jit(np.sin).cache_info().maxsize == 7
        with pytest.raises(ValueError, match="jit_cache_size: cache_size must be a positive"):
            xform.config.update("jit_cache_size", 0)
    finally:
        xform.config.update("jit_cache_size", 64)
    g = xform.jit(lambda x, n: x * n, static_argnums=1, cache_size=2)
    for n in range(5):
        assert g(1.0, n) == n
    assert g.cache_info() == (2, 2, 5)


def test_checkpoint_passes_keyword_arguments() -> None:
    f = xform.checkpoint(lambda x, k=1.0: np.sin(x) * k)
    assert float(xform.grad(f)(0.0, k=3.0)) == 3.0
    # a traced keyword argument is differentiated through, as a positional one would be
    assert float(xform.grad(lambda k: f(0.5, k=k))(2.0)) == pytest.approx(onp.sin(0.5))
    assert float(xform.jit(f)(0.0, k=2.0)) == 0.0


def test_extend_vjp_of_the_wrong_shape_is_named() -> None:
    from xform.extend import defvjp, primitive
    scale = primitive(lambda x, w: onp.asarray(x) * w)
    # the maker for w forgets to sum the broadcast cotangent back to w's shape ()
    defvjp(scale, lambda ans, x, w: lambda g: g * w, lambda ans, x, w: lambda g: g * x)
    with pytest.raises(ValueError, match="VJP of `<lambda>` for argument 1 returned a "
                                         "cotangent of shape \\(3,\\) for an argument of "
                                         "shape \\(\\)"):
        xform.grad(lambda w: np.sum(scale(onp.ones(3), w)))(2.0)
    onp.testing.assert_allclose(xform.grad(lambda x: np.sum(scale(x, 2.0)))(onp.ones(3)),
                                2.0 * onp.ones(3))


def test_user_primitives_keep_their_own_errors() -> None:
    from xform.extend import primitive

    def pick(x: Any, mode: str) -> Any:
        raise TypeError(f"pick: unknown mode {mode!r}")

    p = primitive(pick)
    with pytest.raises(TypeError, match="pick: unknown mode 'z'"):
        xform.grad(lambda x: p(x, "z"))(1.0)
