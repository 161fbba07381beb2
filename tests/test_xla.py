"""The XLA backend: ``jit(backend="xla")`` and ``xform.export.to_jax``."""
from __future__ import annotations

import functools
import os
import subprocess
import sys
import textwrap
import zlib

import jax  # the extra xform[xla], which the install line of README and CI installs
import numpy as onp
import pytest

import xform
import xform.numpy as np
from xform import lax
from xform.core.ir import ShapedArray
from xform.core.lowering import LoweringError, lowering_of
from xform.core.primitive import registry
from xform.core.staging import trace_to_jaxpr
from xform.export import to_jax
from xform.extend import primitive
from xform.jit.passes import optimize
from xform.jit.xla import lower_closed
from xform.test_util import check_grads, import_all_modules

from domains import DOMAINS
from helpers import as_list, bound_primitive, random_like

import_all_modules()


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
    def cube(x):
        return onp.power(x, 3)

    cube = primitive(cube)
    with pytest.raises(LoweringError, match="primitive 'cube' has no XLA lowering"):
        xform.jit(lambda x: cube(x) + 1.0, backend="xla")(onp.ones(2))


def test_unknown_backend():
    with pytest.raises(ValueError, match="backend must be one of"):
        xform.jit(lambda x: x, backend="tpu")


def test_without_jax_the_backend_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "jax", None)  # import jax now fails, installed or not
    assert float(xform.jit(lambda x: x * 2.0)(onp.ones(()))) == 2.0  # NumPy backend unaffected
    with pytest.raises(ImportError, match=r"jit\(backend='xla'\) needs JAX.*"
                                          r'pip install "xform\[xla\]"'):
        xform.jit(lambda x: x, backend="xla")
    with pytest.raises(ImportError, match=r"xform.export.to_jax needs JAX"):
        to_jax(lambda x: x)


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


# ----------------------------------------------------------------------------- every primitive
# The lowering of every registered primitive, checked against the NumPy backend: the
# values on all of its domains and, for a differentiable primitive, its derivative on
# the first domain (grad of a random projection of the outputs, or a jvp where the
# primitive refuses reverse mode). XLA's compile time dominates, so each primitive's
# checks form one JAX function compiled once, with XLA's cheaper optimisation level.
FAST_COMPILE = {"xla_backend_optimization_level": 0, "xla_llvm_disable_expensive_passes": True}


def _rng(name: str, k: int) -> onp.random.Generator:
    return onp.random.default_rng(zlib.crc32(f"xla/{name}/{k}".encode()))


def _projection(f, weights):
    """``sum(real(out) * w)`` over the floating outputs of ``f``: a real scalar."""
    def scalar(*x):
        outs = [o for o in as_list(f(*x)) if onp.result_type(o).kind in "fc"]
        return functools.reduce(lambda a, b: a + b,
                                [np.sum(np.real(o) * w) for o, w in zip(outs, weights)])
    return scalar


def _checks(name):
    """``(what, function, inputs)`` per value and derivative check of the primitive."""
    prim = registry[name]
    out = []
    for k, domain in enumerate(DOMAINS[name]):
        rng = _rng(name, k)
        args, params = domain.make(rng)
        f = bound_primitive(prim, args, params, domain.diff)
        x = tuple(args[i] for i in domain.diff)
        what = f"{name} [{domain.label}]"
        out.append((what, f, x, args, params))
        if prim.nondiff or k:
            continue
        with onp.errstate(all="ignore"):
            want = as_list(f(*x))
        weights = [onp.real(random_like(rng, o)) for o in want if onp.result_type(o).kind in "fc"]
        scalar = _projection(f, weights)
        if domain.reverse:
            out.append((what + " grad", xform.grad(scalar, argnums=tuple(range(len(x)))), x,
                        args, params))
        else:
            ts = tuple(random_like(rng, a) for a in x)
            out.append((what + " jvp", lambda *v, s=scalar, ts=ts: xform.jvp(s, v, ts)[1], x,
                        args, params))
    return out


def _staged(f, x):
    leaves = [onp.asarray(v) for v in x]
    return optimize(trace_to_jaxpr(lambda *v: as_list(f(*v)),
                                   [ShapedArray(v.shape, v.dtype) for v in leaves]))


def _lowered_equal(name, got, want, args, params, what):
    """The XLA backend's results equal the NumPy backend's (dtype included), up to the
    freedom a decomposition has (eigenvector signs and phases, the order within a
    partition)."""
    assert len(got) == len(want), f"{what}: {len(got)} results, expected {len(want)}"
    if name == "argpartition":  # any order with the kth entries in place
        a = onp.asarray(args[0])
        got = [onp.take_along_axis(a, got[0], params["axis"])]
        want = [onp.take_along_axis(a, want[0], params["axis"])]
    if name in ("eigh", "svd", "qr", "eig") and "grad" not in what:
        got, want = [onp.abs(g) for g in got], [onp.abs(w) for w in want]
        if name == "eig":
            got, want = [onp.sort(got[0])], [onp.sort(want[0])]
    for g, w in zip(got, want):
        assert onp.result_type(g) == onp.result_type(w), \
            f"{what}: dtype {onp.result_type(g)}, expected {onp.result_type(w)}"
        onp.testing.assert_allclose(g, w, rtol=1e-8, atol=1e-10, equal_nan=True, err_msg=what)


@pytest.mark.parametrize("name", sorted(registry))
def test_every_primitive_lowers_with_the_values_and_derivatives_of_the_numpy_backend(name):
    assert lowering_of(registry[name]) is not None, \
        f"primitive {name!r} has no XLA lowering: declare its `lower` fact in its family file"
    checks = _checks(name)
    with onp.errstate(all="ignore"):
        staged = [_staged(f, x) for _, f, x, _, _ in checks]
        want = [as_list(xform.jit(f)(*x)) for _, f, x, _, _ in checks]
    runs = [lower_closed(c) for c in staged]
    inputs = [c[2] for c in checks]
    with jax.enable_x64(True):
        compiled = jax.jit(lambda xs: [run(*x) for run, x in zip(runs, xs)]).lower(
            inputs).compile(FAST_COMPILE)
        got = compiled(inputs)
    for (what, _, _, args, params), g, w in zip(checks, got, want):
        _lowered_equal(name, [onp.asarray(o) for o in g], [onp.asarray(o) for o in w],
                       args, params, what)
