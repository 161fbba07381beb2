"""Misuse raises an error that says what was wrong and what to do instead."""
from __future__ import annotations

import math

import numpy as onp
import pytest

import xform
import xform.numpy as np


def _message(excinfo: pytest.ExceptionInfo) -> str:
    return str(excinfo.value)


# ----------------------------------------------------------------------------- grad's output
def test_non_scalar_output_to_grad():
    with pytest.raises(TypeError) as e:
        xform.grad(lambda x: np.sin(x))(onp.ones(3))
    msg = _message(e)
    assert "scalar" in msg
    assert "(3,)" in msg                      # what it got
    assert ".sum()" in msg                    # how to reduce it
    assert "jacobian" in msg.lower()          # or the full Jacobian
    assert "vjp" in msg


def test_grad_of_a_container_output_says_scalar():
    with pytest.raises(TypeError) as e:
        xform.grad(lambda x: [x, x])(1.0)
    assert "scalar" in _message(e) and "list" in _message(e)


@pytest.mark.parametrize("transform", [xform.grad, xform.value_and_grad])
def test_grad_of_a_function_returning_none_raises(transform):
    def forgot_return(x):
        np.sin(x)

    with pytest.raises(TypeError) as e:
        transform(forgot_return)(1.0)
    assert "None" in _message(e) and "return" in _message(e)


def test_integer_output_to_grad():
    with pytest.raises(TypeError) as e:
        xform.grad(lambda x: np.sum((x > 0).astype(int)))(onp.ones(2))
    assert "floating" in _message(e) and "int" in _message(e)


# ----------------------------------------------------------------------------- grad's inputs
@pytest.mark.parametrize("bad", [1, onp.arange(3), True, onp.array([True, False]),
                                 {"a": 1.0, "n": 2}])
def test_integer_and_boolean_inputs_to_grad(bad):
    with pytest.raises(TypeError) as e:
        xform.grad(lambda x: 1.0)(bad)
    msg = _message(e)
    assert "floating" in msg
    assert ("int" in msg) or ("bool" in msg)
    assert "argnums" in msg and "allow_int" in msg and "astype(float)" in msg


def test_argnums_excluding_integer_and_boolean_inputs():
    assert xform.grad(lambda n, x: x ** n, argnums=1)(3, 2.0) == 12.0
    mask = onp.array([True, False, True])
    g = xform.grad(lambda m, x: np.sum(np.where(m, x, 0.0) ** 2), argnums=1)(mask, onp.ones(3))
    onp.testing.assert_array_equal(g, [2.0, 0.0, 2.0])


def test_allow_int_gives_a_zero_gradient_for_integers():
    gx, gn = xform.grad(lambda x, n: x * n, argnums=(0, 1), allow_int=True)(2.0, 3)
    assert gx == 3.0
    assert onp.all(onp.asarray(gn) == 0)
    g = xform.grad(lambda p: p["a"] * p["n"], allow_int=True)({"a": 1.5, "n": 2})
    assert g["a"] == 2.0 and onp.all(onp.asarray(g["n"]) == 0)


def test_complex_input_without_holomorphic():
    with pytest.raises(TypeError) as e:
        xform.grad(lambda z: z)(1.0 + 2.0j)
    assert "holomorphic=True" in _message(e)


def test_argnums_out_of_range():
    with pytest.raises(ValueError) as e:
        xform.grad(lambda x: x, argnums=2)(1.0)
    assert "argnums" in _message(e) and "1 positional" in _message(e)


def test_grad_named_unknown_argument():
    with pytest.raises(ValueError) as e:
        xform.grad_named(lambda x, y: x * y, "z")(1.0, 2.0)
    assert "'z'" in _message(e) and "['x', 'y']" in _message(e)


# ----------------------------------------------------------------------------- unsupported NumPy
def test_unsupported_numpy_function_is_an_attribute_error_naming_it():
    # busday_count: NumPy has it, a differentiable library has no reason to
    assert hasattr(onp, "busday_count")
    with pytest.raises(AttributeError) as e:
        np.busday_count  # noqa: B018
    msg = _message(e)
    assert "busday_count" in msg
    assert "not supported" in msg
    assert "numpy.busday_count exists" in msg
    assert "xform.numpy functions" in msg       # what to do instead


def test_unknown_name_is_a_plain_attribute_error():
    with pytest.raises(AttributeError) as e:
        np.definitely_not_a_numpy_function  # noqa: B018
    assert "definitely_not_a_numpy_function" in _message(e)
    assert not hasattr(np, "definitely_not_a_numpy_function")


# ----------------------------------------------------------------------------- plain NumPy on tracers
@pytest.mark.parametrize("fn, deriv", [
    (onp.sin, onp.cos),
    (onp.exp, onp.exp),
    (onp.tanh, lambda x: 1.0 - onp.tanh(x) ** 2),
    (onp.sqrt, lambda x: 0.5 / onp.sqrt(x)),
])
def test_plain_numpy_ufunc_on_a_tracer_dispatches_to_xform(fn, deriv):
    x = onp.array([0.3, 1.1, 2.0])
    onp.testing.assert_allclose(xform.grad(lambda x: onp.sum(fn(x)))(x), deriv(x), rtol=1e-12)
    # also in forward mode and at second order
    _, t = xform.jvp(lambda x: fn(x), (x,), (onp.ones(3),))
    onp.testing.assert_allclose(t, deriv(x), rtol=1e-12)


def test_plain_numpy_array_functions_on_a_tracer_dispatch_to_xform():
    A = onp.array([[1.0, 2.0], [3.0, -1.0], [0.5, 0.0]])
    x = onp.array([0.7, -0.2])

    def f(x):
        y = onp.dot(A, x)                     # numpy array on the left
        return onp.sum(onp.maximum(y, 0.0) ** 2) + onp.mean(onp.cumsum(x))

    def f_ref(x):
        y = A @ x
        return onp.sum(onp.maximum(y, 0.0) ** 2) + onp.mean(onp.cumsum(x))

    from helpers import numerical_grad
    onp.testing.assert_allclose(xform.grad(f)(x), numerical_grad(f_ref, x), rtol=1e-6)
    assert onp.isclose(xform.grad(lambda x: onp.sin(x) * x)(1.0), onp.sin(1.0) + onp.cos(1.0))


@pytest.mark.parametrize("call, name", [
    (lambda x: onp.spacing(x), "spacing"),                 # ufunc xform lacks
    (lambda x: onp.unwrap(x), "unwrap"),                   # array function xform lacks
    (lambda x: onp.trim_zeros(x), "trim_zeros"),
    (lambda x: onp.exp(x, dtype=onp.float64), "exp"),      # ufunc keyword arguments
    (lambda x: onp.add.reduce(x), "add"),                  # ufunc methods
    (lambda x: onp.multiply.outer(x, x), "multiply"),
])
def test_unsupported_plain_numpy_on_a_tracer_raises_type_error(call, name):
    with pytest.raises(TypeError) as e:
        xform.grad(lambda x: call(x).sum())(onp.array([1.0, 2.0, 3.0]))
    msg = _message(e)
    assert f"numpy.{name}" in msg and "traced" in msg
    assert "xform.numpy" in msg


@pytest.mark.parametrize("convert", [onp.asarray, onp.array, lambda x: onp.vectorize(abs)(x)])
def test_converting_a_tracer_to_a_numpy_array_raises(convert):
    with pytest.raises(TypeError) as e:
        xform.grad(lambda x: convert(x).sum())(onp.ones(3))
    msg = _message(e)
    assert "NumPy array" in msg and "derivative" in msg
    assert "xform.numpy" in msg and "stop_gradient" in msg


def test_converting_a_tracer_under_jvp_raises_too():
    with pytest.raises(TypeError):
        xform.jvp(lambda x: onp.asarray(x), (onp.ones(2),), (onp.ones(2),))


@pytest.mark.parametrize("scalar_fn", [math.sin, onp.float64, float])
def test_python_scalar_conversion_does_not_silently_drop_the_derivative(scalar_fn):
    # Converting a traced float to a Python number would lose the derivative: it raises.
    with pytest.raises(TypeError) as e:
        xform.grad(lambda x: scalar_fn(x) * 1.0)(0.5)
    msg = _message(e)
    assert "drop" in msg and "stop_gradient" in msg


@pytest.mark.parametrize("where", ["element", "slice"])
def test_writing_a_tracer_into_a_numpy_array_says_what_to_do(where):
    # `a[i] = x` with a NumPy `a` converts x: for one element NumPy raises its own
    # ValueError ("setting an array element with a sequence") from our TypeError, so
    # the advice must be in the error NumPy chains
    def f(v):
        a = onp.zeros(3)
        if where == "element":
            a[0] = v[1]
        else:
            a[:2] = v[:2]
        return np.sum(a * v)

    with pytest.raises((TypeError, ValueError)) as e:
        xform.grad(f)(onp.ones(3))
    err: BaseException | None = e.value
    while err is not None and "xform.numpy.at(a)[i].set(x)" not in str(err):
        err = err.__cause__
    assert err is not None, f"no advice in {e.value!r} or its causes"

    def fixed(v):  # the advice, followed, gives the gradient
        a = np.at(onp.zeros(3))[0].set(v[1])
        return np.sum(a * v)

    x = onp.array([2.0, 3.0, 5.0])
    assert onp.allclose(xform.grad(fixed)(x), [3.0, 2.0, 0.0])


# ----------------------------------------------------------------------------- leaked tracers
def test_leaked_tracer_from_grad():
    stash = []

    def f(x):
        stash.append(x)
        return x * 2.0

    assert xform.grad(f)(1.0) == 2.0
    leaked = stash[0]
    with pytest.raises(xform.LeakedTracerError) as e:
        leaked + 1.0
    msg = _message(e)
    assert "Leaked" in msg and "add" in msg
    assert "return the value" in msg
    assert "leaked" in repr(leaked)
    with pytest.raises(xform.LeakedTracerError):
        np.sin(leaked)
    with pytest.raises(xform.LeakedTracerError):
        bool(leaked)
    # ... also inside another transform
    with pytest.raises(xform.LeakedTracerError):
        xform.grad(lambda y: y * leaked)(3.0)


def test_leaked_tracer_from_jvp_and_make_jaxpr():
    stash = []

    def f(x):
        stash.append(x)
        return np.sin(x)

    xform.jvp(f, (1.0,), (1.0,))
    xform.make_jaxpr(f)(1.0)
    for leaked in stash:
        with pytest.raises(xform.LeakedTracerError):
            np.cos(leaked) * 2.0
    assert issubclass(xform.LeakedTracerError, xform.TracerError)


# ----------------------------------------------------------------------------- abstract tracing
def test_value_dependent_if_under_make_jaxpr():
    def f(x):
        if x > 0:
            return x
        return -x

    assert xform.grad(f)(-2.0) == -1.0         # concrete tracing: plain `if` works
    with pytest.raises(xform.ConcretizationError) as e:
        xform.make_jaxpr(f)(1.0)
    msg = _message(e)
    assert "xform.lax.cond" in msg and "where" in msg
    assert "bool()" in msg
    assert "test_errors.py" in msg             # points at the user's line
    assert isinstance(e.value, TypeError)      # catchable as a TypeError, as in JAX


@pytest.mark.parametrize("f, x, what", [
    (lambda x: int(x), 1.0, "int()"),
    (lambda x: float(x), 1.0, "float()"),
    (lambda x: x[x > 0], onp.ones(3), "boolean mask"),   # shape would depend on values
    (lambda x: np.sum(x) if np.sum(x) > 0 else -np.sum(x), onp.ones(3), "bool()"),
])
def test_other_concretizations_under_make_jaxpr(f, x, what):
    with pytest.raises(xform.ConcretizationError) as e:
        xform.make_jaxpr(f)(x)
    assert what in _message(e) and "concrete value" in _message(e)


# ----------------------------------------------------------------------------- item assignment
@pytest.mark.parametrize("transform", [
    lambda f, x: xform.grad(f)(x),
    lambda f, x: xform.jvp(f, (x,), (x,)),
    lambda f, x: xform.make_jaxpr(f)(x),
])
def test_item_assignment_on_a_tracer(transform):
    def f(x):
        x[0] = 1.0
        return x.sum()

    with pytest.raises(TypeError) as e:
        transform(f, onp.ones(3))
    msg = _message(e)
    assert "immutable" in msg
    assert ".at[" in msg and ".set(" in msg


# ----------------------------------------------------------------------------- has_aux
def test_has_aux_but_function_returns_a_single_value():
    with pytest.raises(TypeError) as e:
        xform.grad(lambda x: x * 2.0, has_aux=True)(1.0)
    assert "has_aux" in _message(e) and "pair" in _message(e)


def test_has_aux_but_function_returns_three_values():
    with pytest.raises(TypeError) as e:
        xform.value_and_grad(lambda x: (x, x, x), has_aux=True)(1.0)
    assert "has_aux" in _message(e) and "(output, aux)" in _message(e)


def test_has_aux_with_a_non_scalar_output():
    with pytest.raises(TypeError) as e:
        xform.grad(lambda x: (x * onp.ones(2), x), has_aux=True)(1.0)
    assert "scalar" in _message(e)


def test_returning_a_pair_without_has_aux_suggests_it():
    with pytest.raises(TypeError) as e:
        xform.grad(lambda x: (x * 2.0, {"aux": x}))(1.0)
    assert "has_aux=True" in _message(e)


def test_has_aux_used_correctly_returns_concrete_aux():
    g, aux = xform.grad(lambda x: (x ** 2, {"half": x / 2}), has_aux=True)(3.0)
    assert g == 6.0 and aux == {"half": 1.5}
    assert not isinstance(aux["half"], xform.core.trace.Tracer)


# ----------------------------------------------------------------------------- jvp / vjp shapes
def test_jvp_argument_errors():
    with pytest.raises(TypeError) as e:
        xform.jvp(np.sin, 1.0, 1.0)
    assert "jvp(f, (x,), (v,))" in _message(e)
    with pytest.raises(ValueError) as e:
        xform.jvp(np.sin, (onp.ones(2),), (onp.ones(3),))
    assert "(3,)" in _message(e) and "(2,)" in _message(e)


def test_vjp_cotangent_errors():
    _, vjp_fn = xform.vjp(lambda x: (x, 2.0 * x), 1.0)
    with pytest.raises(ValueError) as e:
        vjp_fn(1.0)
    assert "structure" in _message(e)
    _, vjp_fn = xform.vjp(lambda x: 2.0 * x, onp.ones(2))
    with pytest.raises(ValueError) as e:
        vjp_fn(onp.ones(3))
    assert "(3,)" in _message(e) and "(2,)" in _message(e)


def test_float_index_array_raises_index_error():
    with pytest.raises(IndexError) as e:
        xform.grad(lambda x: x[onp.array([0.5])].sum())(onp.ones(3))
    assert "integer or boolean" in _message(e)


def test_indexing_a_numpy_array_with_a_traced_index_points_at_take():
    table, idx = onp.arange(5.0), onp.array([1, 3])
    with pytest.raises(TypeError) as e:
        xform.jit(lambda x, i: x * table[i])(2.0, idx)
    assert "xform.numpy.take" in _message(e)
    out = xform.jit(lambda x, i: x * np.take(table, i, axis=0))(2.0, idx)
    onp.testing.assert_array_equal(out, [2.0, 6.0])
