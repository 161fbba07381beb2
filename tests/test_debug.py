"""Seeing inside transforms: tracer reprs with values, debug.print / debug.callback."""
from __future__ import annotations

import numpy as onp
import pytest

import xform
import xform.numpy as np
from xform import debug, lax


# ---------------------------------------------------------------- values in repr
def _printed(transform, fun, *args):
    seen: list[str] = []

    def f(x):
        seen.append(repr(x))
        seen.append(str(x * 2))
        return fun(x)

    transform(f)(*args)
    return seen


@pytest.mark.parametrize("transform", [
    xform.grad, xform.jacfwd, xform.jacrev, xform.hessian, xform.elementwise_grad,
    lambda f: (lambda x: xform.jvp(f, (x,), (onp.ones_like(x),))),
    lambda f: (lambda x: xform.vjp(f, x)),
    lambda f: (lambda x: xform.linearize(f, x)),
])
def test_concrete_transforms_show_the_value(transform):
    seen = _printed(transform, lambda x: np.sum(np.sin(x)), onp.array([0.5, 1.5]))
    assert "with value [0.5 1.5]" in seen[0], seen
    assert "with value [1. 3.]" in seen[1], seen


def test_vmap_shows_shared_and_batched_values():
    seen: list[str] = []

    def f(x, w):
        seen.append(repr(w))
        seen.append(repr(x))
        return x * w

    xform.vmap(f, in_axes=(0, None))(onp.arange(4.0).reshape(2, 2), onp.array([7.0, 8.0]))
    assert seen[0].endswith("with value [7. 8.]"), seen
    assert "batched along axis 0" in seen[1] and "[[0. 1.]\n [2. 3.]]" in seen[1], seen


def test_abstract_tracing_shows_type_only():
    seen: list[str] = []
    xform.jit(lambda x: seen.append(repr(x)) or x)(onp.ones(3))
    assert seen == ["Traced<f64[3]>(by JaxprTrace)"]


def test_large_values_are_summarised_and_errors_stay_short():
    seen: list[str] = []
    xform.grad(lambda x: seen.append(repr(x)) or np.sum(x))(onp.arange(1000.0))
    assert "..." in seen[0] and len(seen[0]) < 200
    with pytest.raises(TypeError) as info:
        xform.grad(lambda x: float(x))(onp.float64(2.0))
    assert "with value" not in str(info.value)


def test_leaked_tracer_repr_says_leaked():
    box = []
    xform.grad(lambda x: box.append(x) or x)(1.0)
    assert repr(box[0]) == "Traced<f64[]>(by TapeTrace, leaked)"


# ---------------------------------------------------------------- debug.print / callback
def test_print_eager_and_under_grad(capsys):
    def f(x):
        debug.print("x={} y={y}", x, y=x * 2)
        return np.sin(x)

    f(1.0)
    xform.grad(f)(2.0)
    xform.jvp(f, (3.0,), (1.0,))
    assert capsys.readouterr().out == "x=1.0 y=2.0\nx=2.0 y=4.0\nx=3.0 y=6.0\n"


def test_print_under_jit_runs_on_every_call_in_program_order(capsys):
    @xform.jit
    def f(x):
        debug.print("first {}", x)
        y = x + 1.0
        debug.print("second {}", y)
        debug.print("second {}", y)  # not merged with the line above
        debug.print("constant {}", 5.0)  # not folded at compile time
        return y * 2.0

    assert capsys.readouterr().out == ""  # nothing at definition
    f(1.0)
    f(10.0)
    assert capsys.readouterr().out.splitlines() == [
        "first 1.0", "second 2.0", "second 2.0", "constant 5.0",
        "first 10.0", "second 11.0", "second 11.0", "constant 5.0"]


def test_unused_print_survives_dead_code_elimination(capsys):
    f = xform.jit(lambda x: (debug.print("{}", x * 3.0), x)[1])
    f(2.0)
    assert capsys.readouterr().out == "6.0\n"
    assert "debug_callback" in str(xform.make_jaxpr(lambda x: (debug.print("{}", x), x)[1])(1.0))


def test_print_under_vmap_runs_per_batch_member(capsys):
    def f(x, w):
        debug.print("x={} w={}", x, w)
        return x * w

    xform.vmap(f, in_axes=(0, None))(onp.array([1.0, 2.0, 3.0]), 5.0)
    out = capsys.readouterr().out.splitlines()
    assert out == ["x=1.0 w=5.0", "x=2.0 w=5.0", "x=3.0 w=5.0"]
    xform.jit(xform.vmap(f, in_axes=(0, None)))(onp.array([4.0, 5.0]), 1.0)
    assert capsys.readouterr().out.splitlines() == ["x=4.0 w=1.0", "x=5.0 w=1.0"]


def test_print_contributes_nothing_to_derivatives(capsys):
    def f(x):
        debug.print("{}", x)
        return x ** 3

    assert xform.grad(f)(2.0) == 12.0
    assert xform.grad(xform.grad(f))(2.0) == 12.0
    assert float(xform.jit(xform.hessian(f))(2.0)) == 12.0
    lines = capsys.readouterr().out.splitlines()
    assert lines[:3] == ["2.0", "2.0", "2.0"]  # forward passes only, never the backward


def test_callback_in_a_jitted_loop(capsys):
    seen: list[tuple[int, float]] = []

    def body(i, x):
        debug.callback(lambda i, x: seen.append((int(i), float(x))), i, x)
        return x * 2.0

    out = xform.jit(lambda x: lax.fori_loop(0, 3, body, x))(1.0)
    assert float(out) == 8.0
    assert seen == [(0, 1.0), (1, 2.0), (2, 4.0)]


def test_callback_receives_pytrees_and_static_leaves():
    got = []
    debug.callback(lambda tree, tag=None: got.append((tree, tag)),
                   {"a": np.ones(2), "b": (1.0, "text")}, tag="t")
    (tree, tag), = got
    assert tag == "t" and tree["b"][1] == "text" and onp.array_equal(tree["a"], onp.ones(2))


def test_bad_arguments_are_named():
    with pytest.raises(TypeError, match="format string"):
        debug.print(1.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="callable"):
        debug.callback("not a function")  # type: ignore[arg-type]


# ---------------------------------------------------------------- debug_nans
def _nan_error(fun, *args) -> str:
    with xform.debug_nans():
        with pytest.raises(FloatingPointError) as info:
            fun(*args)
    return str(info.value)


def test_debug_nans_forward_names_primitive_and_line():
    def loss(x):
        y = np.log(x)  # the culprit line
        return np.sum(y)

    with onp.errstate(all="ignore"):
        msg = _nan_error(loss, onp.array([-1.0, 2.0]))
    assert "`log`" in msg and "forward pass" in msg and "test_debug.py" in msg
    assert f":{loss.__code__.co_firstlineno + 1} (in loss)" in msg


def test_debug_nans_backward_names_the_creating_line():
    def loss(x):
        r = np.sqrt(x)  # the culprit: d sqrt at 0 is inf, times a zero cotangent
        return np.sum(r * 0.0)

    with onp.errstate(all="ignore"):
        msg = _nan_error(xform.grad(loss), onp.array([0.0, 1.0]))
    assert "backward pass" in msg and "`sqrt`" in msg
    assert f":{loss.__code__.co_firstlineno + 1} (in loss)" in msg


def test_debug_nans_forward_mode_names_the_jvp_rule():
    def f(x):
        return np.sqrt(x) * 0.0

    with onp.errstate(all="ignore"):
        msg = _nan_error(lambda x: xform.jvp(f, (x,), (0.0,)), 0.0)  # 0 * inf in sqrt's rule
    assert "`sqrt` produced a NaN" in msg and "forward mode" in msg


def test_debug_nans_under_jit_reruns_eagerly():
    @xform.jit
    def f(x):
        return np.log(x) - np.log(x)  # inf - inf at 0

    with onp.errstate(all="ignore"):
        assert onp.isnan(f(0.0))  # off: a NaN is just a value
        msg = _nan_error(f, 0.0)
    assert "`subtract`" in msg and "test_debug.py" in msg


def test_debug_nans_ignores_nans_that_came_in_and_is_scoped():
    with xform.debug_nans():
        assert onp.isnan(np.sin(onp.nan))
        assert onp.isnan(xform.jit(np.sin)(onp.nan))
        assert xform.config.debug_nans
    assert not xform.config.debug_nans
    xform.config.update("jax_debug_nans", True)
    try:
        assert xform.config.debug_nans
    finally:
        xform.config.update("debug_nans", False)
    with pytest.raises(ValueError, match="unknown setting"):
        xform.config.update("debug_infs", True)


def test_numpy_random_draw_under_jit_warns_that_it_is_frozen():
    import warnings

    import xform.numpy.random as npr
    from xform.random import TracedRandomWarning

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        npr.randn(2)  # eager: no warning
    with pytest.warns(TracedRandomWarning):
        xform.jit(lambda x: x + npr.randn(2))(onp.zeros(2))


# each control-flow rule runs its body again for tangents or cotangents, after the
# primal loop or branch has printed: the print must show once per primal step
def _printing_cond(x):
    def positive(v):
        xform.debug.print("T")
        return np.sin(v)
    return xform.lax.cond(x > 0, positive, lambda v: v * 2.0, x)


def _printing_while(x):
    def body(c):
        xform.debug.print("W")
        return c + 1.0
    return xform.lax.while_loop(lambda c: c < 2.0, body, x)  # two steps from 0.5


def _printing_scan(x):
    def body(c, xi):
        xform.debug.print("S")
        return c * xi, c
    return np.sum(xform.lax.scan(body, x, np.arange(1.0, 4.0))[1])


_FORWARD = ["jit", "jvp", "jit-jvp", "linearize"]
_REVERSE = ["grad", "jit-grad", "jit-hessian", "vmap-grad"]  # while_loop has none


@pytest.mark.parametrize("fun,word,lines,transform",
                         [(_printing_cond, "T", 1, t) for t in _FORWARD + _REVERSE]
                         + [(_printing_while, "W", 2, t) for t in _FORWARD]
                         + [(_printing_scan, "S", 3, t) for t in _FORWARD + _REVERSE])
def test_a_print_inside_control_flow_shows_once_per_primal_step(capsys, fun, word, lines,
                                                                 transform):
    jvp = lambda x: xform.jvp(fun, (x,), (1.0,))  # noqa: E731
    run = {"jit": xform.jit(fun), "jvp": jvp, "jit-jvp": xform.jit(jvp),
           "grad": xform.grad(fun), "jit-grad": xform.jit(xform.grad(fun)),
           "jit-hessian": xform.jit(xform.hessian(fun)),
           "vmap-grad": lambda x: xform.vmap(xform.grad(fun))(np.array([x])),
           "linearize": lambda x: xform.linearize(fun, x)[1](1.0)}[transform]
    for _ in range(2):
        run(0.5)
        assert capsys.readouterr().out.split() == [word] * lines
