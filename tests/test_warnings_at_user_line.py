"""NumPy's floating-point RuntimeWarnings raised inside xform's implementations and
derivative rules are issued at the user's line, not in xform's files."""
from __future__ import annotations

import sys
import warnings

import numpy as onp
import pytest

import xform
import xform.numpy as np
from xform.jit import codegen

HERE = __file__


def _line_of(fn, text):
    import inspect
    lines, start = inspect.getsourcelines(fn)
    return start + next(i for i, line in enumerate(lines) if text in line)


def log_twice(x):
    y = np.log(x)
    return y * 2.0


def _recorded(fn):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fn()
    return [w for w in caught if issubclass(w.category, RuntimeWarning)]


@pytest.mark.parametrize("transform", [
    lambda: xform.grad(log_twice)(0.0),
    lambda: xform.jvp(log_twice, (0.0,), (1.0,)),
    lambda: xform.vmap(log_twice)(onp.zeros(2)),
    lambda: xform.jacfwd(log_twice)(0.0),
], ids=["grad", "jvp", "vmap", "jacfwd"])
def test_a_forward_warning_names_the_line_that_made_the_operation(transform):
    caught = _recorded(transform)
    forward = [w for w in caught if str(w.message) == "divide by zero encountered in log"]
    assert forward, [str(w.message) for w in caught]
    assert all(w.filename == HERE for w in caught), [(w.filename, w.lineno) for w in caught]
    assert forward[0].lineno == _line_of(log_twice, "np.log(x)")


def test_a_backward_warning_is_issued_in_the_users_file():
    line = sys._getframe().f_lineno + 1
    caught = _recorded(lambda: xform.grad(log_twice)(0.0))
    backward = [w for w in caught if "derivative of `log`" in str(w.message)]
    assert backward and all(w.filename == HERE for w in caught)
    # without recorded sites: the line that called the transform, and how to get more
    assert backward[0].lineno == line and "debug_nans" in str(backward[0].message)


def test_under_debug_nans_a_backward_warning_names_the_line_that_made_the_operation():
    def run():
        with xform.debug_nans():
            xform.grad(log_twice)(0.0)     # inf, not NaN: warns, does not raise
    backward = [w for w in _recorded(run) if "derivative of `log`" in str(w.message)]
    assert backward and backward[0].filename == HERE
    assert backward[0].lineno == _line_of(log_twice, "np.log(x)")


def test_errstate_set_by_the_user_is_respected():
    with onp.errstate(divide="ignore"):
        assert _recorded(lambda: xform.grad(log_twice)(0.0)) == []
    with onp.errstate(divide="raise"):
        with pytest.raises(FloatingPointError):
            xform.grad(log_twice)(0.0)
    assert onp.geterr()["divide"] == "warn" and onp.geterrcall() is None


def test_the_default_filter_warns_once_per_user_line():
    def run():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("default")
            for _ in range(3):
                xform.jvp(log_twice, (0.0,), (1.0,))
        return caught
    # the registry is the user's module's: warned again for each fresh catch block only
    forward = [w for w in run() if str(w.message) == "divide by zero encountered in log"]
    assert len(forward) == 1


def test_a_warning_from_code_run_by_python_c_is_a_warning_not_an_import_error():
    # __main__'s loader under `python -c` cannot give a source line: warn_explicit
    # raised ImportError from inside NumPy's error callback
    import subprocess
    code = ("import numpy, xform, xform.numpy as np\n"
            "xform.jvp(np.log, (0.0,), (1.0,))\n")
    run = subprocess.run([sys.executable, "-W", "always", "-c", code],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert "<string>:2: RuntimeWarning: divide by zero encountered in log" in run.stderr


# ----------------------------------------------------------------------------- under jit
# Generated code runs NumPy directly: each staged equation records where the user's code
# made it, and the warning is issued there, with the primitive's name.
def sqrt_of(x):
    y = np.sqrt(x)
    return y


def log_in_a_loop(x):
    def body(i, c):
        return c + np.log(c)
    return xform.lax.fori_loop(0, 2, body, x)


def _at(fn, text):
    return HERE, _line_of(fn, text)


@pytest.mark.parametrize("arg", [onp.zeros(2), 0.0], ids=["array", "scalar"])
def test_under_jit_a_warning_names_the_users_line_and_the_primitive(arg):
    jitted = xform.jit(log_twice)
    for _ in range(3):  # the first call compiles; the later ones hit the cache
        caught = _recorded(lambda: jitted(arg))
        assert [str(w.message) for w in caught] == ["divide by zero encountered in log"]
        assert (caught[0].filename, caught[0].lineno) == _at(log_twice, "np.log(x)")
    caught = _recorded(lambda: jitted(-onp.ones(2)))  # another signature
    assert [(w.filename, w.lineno, str(w.message)) for w in caught] == [
        (*_at(log_twice, "np.log(x)"), "invalid value encountered in log")]


def test_under_jit_a_backward_warning_names_the_derivative_and_the_line_that_made_it():
    jitted = xform.jit(xform.grad(sqrt_of))
    for _ in range(2):
        caught = _recorded(lambda: jitted(0.0))
        assert [str(w.message) for w in caught] == [
            "divide by zero encountered in the derivative of `sqrt` (the backward pass "
            "of reverse mode)"]  # the line is known: no advice to use debug_nans
        assert (caught[0].filename, caught[0].lineno) == _at(sqrt_of, "np.sqrt(x)")


def test_under_jit_a_warning_in_a_loop_body_names_the_bodys_line():
    where = _at(log_in_a_loop, "np.log(c)")
    forward = _recorded(lambda: xform.jit(log_in_a_loop)(onp.zeros(2)))
    assert forward and all((w.filename, w.lineno) == where for w in forward)
    assert str(forward[0].message) == "divide by zero encountered in log"
    # differentiated: the body is staged again from its jaxpr, and keeps its sites
    backward = _recorded(lambda: xform.jit(xform.grad(log_in_a_loop))(0.0))
    assert backward and all((w.filename, w.lineno) == where for w in backward), \
        [(w.lineno, str(w.message)) for w in backward]
    assert any("derivative of `log`" in str(w.message) for w in backward)


def test_under_jit_a_long_program_compiled_in_parts_names_the_users_line(monkeypatch):
    monkeypatch.setattr(codegen, "CHUNK_EQUATIONS", 3)

    def long(x):
        for _ in range(4):
            x = x * 1.5 + 1.0
        y = np.log(x - 20.0)  # in the last part: x is 13.1875
        return y * 2.0
    jitted = xform.jit(long)
    assert "_part2" in jitted.lower(onp.ones(2)).python_source()
    caught = _recorded(lambda: jitted(onp.ones(2)))
    assert [(w.filename, w.lineno, str(w.message)) for w in caught] == [
        (*_at(long, "np.log(x - 20.0)"), "invalid value encountered in log")]


def test_under_jit_warnings_obey_the_filters_and_errstate():
    jitted = xform.jit(log_twice)
    jitted(onp.ones(2))  # compiled: the calls below run the cached code
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(RuntimeWarning, match="divide by zero encountered in log"):
            jitted(onp.zeros(2))
    with onp.errstate(divide="ignore"):
        assert _recorded(lambda: jitted(onp.zeros(2))) == []
    with onp.errstate(divide="raise"):
        with pytest.raises(FloatingPointError):
            jitted(onp.zeros(2))
    assert onp.geterr()["divide"] == "warn" and onp.geterrcall() is None
