"""The XLA backend: ``jit(backend="xla")`` and ``xform.export.to_jax``."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as onp
import pytest

import xform
import xform.numpy as np
from xform import lax
from xform.test_util import check_grads

jax = pytest.importorskip("jax", reason="the XLA backend needs the extra xform[xla]")
from xform.core.lowering import LoweringError  # noqa: E402
from xform.export import to_jax  # noqa: E402


def loss(w, x):
    return np.sum(np.tanh(x @ w) ** 2) + 0.1 * np.sum(w * w)


def test_values_and_float64_kept_without_flipping_x64_globally():
    rng = onp.random.default_rng(0)
    w, x = rng.standard_normal((3, 2)), rng.standard_normal((4, 3))
    f = xform.jit(xform.grad(loss), backend="xla")
    got = f(w, x)
    assert type(got) is onp.ndarray and got.dtype == onp.float64 and got.flags.writeable
    onp.testing.assert_allclose(got, xform.grad(loss)(w, x), rtol=1e-13)
    assert not jax.config.jax_enable_x64  # scoped to the call
    f32 = f(w.astype(onp.float32), x.astype(onp.float32))
    assert f32.dtype == onp.float32


def test_the_jit_cache_is_shared():
    f = xform.jit(lambda x: np.sin(x) * 2.0, backend="xla")
    f(onp.ones(3))
    f(onp.ones(3) * 2)
    assert len(f._cache) == 1
    f(onp.ones(4))
    assert len(f._cache) == 2


def test_derivatives_through_the_xla_backend_match_central_differences():
    def f(x):
        return np.sum(np.sin(x) * np.exp(-x * x))

    x = onp.linspace(-1.0, 1.0, 5)
    check_grads(xform.jit(f, backend="xla"), (x,), order=2)
    hess = xform.jit(xform.hessian(f), backend="xla")(x)
    onp.testing.assert_allclose(hess, xform.hessian(f)(x), rtol=1e-12, atol=1e-14)


def test_complex_inputs():
    def f(z):
        return np.sum(np.abs(np.sin(z)) ** 2)

    z = onp.array([0.3 + 0.2j, -0.5 + 1.0j])
    g = xform.jit(xform.grad(f), backend="xla")(z)
    onp.testing.assert_allclose(g, xform.grad(f)(z), rtol=1e-12)
    check_grads(xform.jit(f, backend="xla"), (z,), order=1)


@pytest.mark.parametrize("which", ["while", "scan", "cond"])
def test_control_flow_stays_structured(which):
    def body(x):
        if which == "while":
            return lax.while_loop(lambda c: c[0] < 50, lambda c: (c[0] + 1, np.sin(c[1])),
                                  (0, x))[1]
        if which == "scan":
            return lax.scan(lambda c, v: (c * v + 1.0, c), x, np.ones((50,) + x.shape))[0]
        return lax.cond(np.sum(x) > 0, lambda v: v * 2.0, lambda v: -v, x)

    x = onp.array([0.5, -0.2])
    with jax.enable_x64(True):
        jaxpr = jax.make_jaxpr(to_jax(body))(x)
    names = {e.primitive.name for e in jaxpr.eqns}
    assert {"while": "while", "scan": "scan", "cond": "cond"}[which] in names, names
    assert len(jaxpr.eqns) < 10  # not unrolled
    onp.testing.assert_allclose(xform.jit(body, backend="xla")(x), body(x), rtol=1e-13)
    if which != "while":
        g = xform.jit(xform.grad(lambda v: np.sum(body(v))), backend="xla")(x)
        onp.testing.assert_allclose(g, xform.grad(lambda v: np.sum(body(v)))(x), rtol=1e-12)


def test_to_jax_composes_with_jax_transforms():
    rng = onp.random.default_rng(1)
    w, x = rng.standard_normal((3, 2)), rng.standard_normal((4, 3))
    with jax.enable_x64(True):
        g = jax.jit(to_jax(xform.grad(loss)))(w, x)
        onp.testing.assert_allclose(g, xform.grad(loss)(w, x), rtol=1e-13)
        # jax.grad of the lowered function equals xform's gradient
        jg = jax.grad(to_jax(loss))(w, x)
        onp.testing.assert_allclose(jg, g, rtol=1e-13)
        # jax.vmap over a batch of inputs
        xs = rng.standard_normal((5, 4, 3))
        vg = jax.vmap(to_jax(xform.grad(loss)), in_axes=(None, 0))(w, xs)
        for i in range(5):
            onp.testing.assert_allclose(vg[i], xform.grad(loss)(w, xs[i]), rtol=1e-13)


def test_pytrees_and_custom_rules():
    @xform.custom_vjp
    def clip_grad(x):
        return x

    clip_grad.defvjp(lambda x: (x, None), lambda _, ct: (np.clip(ct, -0.5, 0.5),))

    def f(params):
        return np.sum(clip_grad(params["a"]) * 3.0) + np.sum(params["b"] ** 2)

    params = {"a": onp.ones(3), "b": onp.arange(2.0)}
    got = xform.jit(xform.grad(f), backend="xla")(params)
    want = xform.grad(f)(params)
    assert set(got) == {"a", "b"}
    onp.testing.assert_allclose(got["a"], onp.full(3, 0.5))
    onp.testing.assert_allclose(got["b"], want["b"])


def test_a_primitive_without_a_lowering_names_itself():
    from xform.extend import primitive
    def cube(x):
        return onp.power(x, 3)

    cube = primitive(cube)
    with pytest.raises(LoweringError, match="primitive 'cube' has no XLA lowering"):
        xform.jit(lambda x: cube(x) + 1.0, backend="xla")(onp.ones(2))


def test_unknown_backend():
    with pytest.raises(ValueError, match="backend must be one of"):
        xform.jit(lambda x: x, backend="tpu")


def test_without_jax_the_backend_says_what_to_install():
    code = textwrap.dedent("""
        import sys
        sys.modules["jax"] = None  # import jax now fails
        import numpy, xform
        print(float(xform.jit(lambda x: x * 2.0)(numpy.ones(()))))
        for call in (lambda: xform.jit(lambda x: x, backend="xla"),
                     lambda: __import__("xform.export").export.to_jax(lambda x: x)):
            try:
                call()
            except ImportError as e:
                print(e)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
                         timeout=120)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "2.0"
    assert "jit(backend='xla') needs JAX" in lines[1] and 'pip install "xform[xla]"' in lines[1]
    assert "xform.export.to_jax needs JAX" in lines[2]


SHARDED = textwrap.dedent("""
    import jax, numpy
    from jax.sharding import Mesh, NamedSharding, PartitionSpec as P
    import xform, xform.numpy as np
    from xform.export import to_jax
    jax.config.update("jax_enable_x64", True)

    def loss(w, x, y):
        return np.mean((np.tanh(x @ w) - y) ** 2)

    rng = numpy.random.default_rng(0)
    w, x, y = (rng.standard_normal((8, 4)), rng.standard_normal((64, 8)),
               rng.standard_normal((64, 4)))
    assert len(jax.devices()) == 4, jax.devices()
    mesh = Mesh(numpy.array(jax.devices()), ("data",))
    rows = NamedSharding(mesh, P("data"))
    xs, ys = jax.device_put(x, rows), jax.device_put(y, rows)
    ws = jax.device_put(w, NamedSharding(mesh, P()))
    step = jax.jit(to_jax(xform.grad(loss)))
    g = step(ws, xs, ys)
    single = jax.jit(to_jax(xform.grad(loss)))(w, x, y)
    numpy.testing.assert_allclose(numpy.asarray(g), numpy.asarray(single), rtol=1e-12)
    numpy.testing.assert_allclose(numpy.asarray(g), xform.grad(loss)(w, x, y), rtol=1e-12)
    print(len(xs.sharding.device_set), g.dtype)
""")


def test_sharded_inputs_over_four_devices_give_the_single_device_result():
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=4",
           "PYTHONPATH": os.pathsep.join(sys.path), "JAX_PLATFORMS": "cpu"}
    out = subprocess.run([sys.executable, "-c", SHARDED], capture_output=True, text=True,
                         env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.split() == ["4", "float64"]
