"""Snippets of JAX's tutorials, ported to xform and compared with JAX itself.

From the autodiff cookbook (jvp/vjp, Hessian-vector products, Jacobians of
pytrees, per-example gradients, complex numbers), the custom_jvp/custom_vjp
tutorial (log1pexp, clip_gradient, implicit fixed points, nondiff_argnums), the
pytrees tutorial, and "Thinking in JAX" / the jit tutorial (static_argnums,
lax.cond/while_loop/fori_loop/scan). Each runs the same program under both
libraries and compares the numbers (to 1e-10 unless the snippet says otherwise).
"""
from __future__ import annotations

import collections
import functools

import jax
import jax.numpy as jnp
import numpy as onp
import pytest

import xform
import xform.numpy as np
from xform import lax
from xform.test_util import check_grads
from xform.tree_util import (register_pytree_node, tree_leaves, tree_map, tree_structure,
                             tree_unflatten, tree_flatten)


@pytest.fixture(autouse=True)
def jax_float64():
    before = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    yield
    jax.config.update("jax_enable_x64", before)


def _jitted(transform):
    """JAX's transform, compiled once: eager JAX compiles every op it meets, which
    costs far more than the comparisons themselves."""
    return lambda *args, **kwargs: jax.jit(transform(*args, **kwargs))


jgrad, jvalue_and_grad, jjacfwd, jjacrev, jhessian, jvmap = map(
    _jitted, (jax.grad, jax.value_and_grad, jax.jacfwd, jax.jacrev, jax.hessian, jax.vmap))


def same(ours, theirs, tol=1e-10):
    """Equal pytrees of numbers (JAX's containers against ours, leaf by leaf)."""
    ours_leaves = tree_leaves(ours)
    theirs_leaves = jax.tree_util.tree_leaves(theirs)
    assert len(ours_leaves) == len(theirs_leaves)
    for a, b in zip(ours_leaves, theirs_leaves):
        b = onp.asarray(b)
        assert onp.shape(a) == b.shape
        assert onp.result_type(a).kind == b.dtype.kind, (onp.result_type(a), b.dtype)
        onp.testing.assert_allclose(a, b, rtol=tol, atol=tol)


# ----------------------------------------------------------------------------- autodiff cookbook
def cookbook_predict(ns, W, b, inputs):
    return 1.0 / (1.0 + ns.exp(-(ns.dot(inputs, W) + b)))


RS = onp.random.RandomState(0)
INPUTS = RS.randn(4, 3)
TARGETS = onp.array([True, True, False, True])
W0, B0 = RS.randn(3), 0.3


def cookbook_loss(ns, W, b):
    preds = cookbook_predict(ns, W, b, INPUTS)
    label_probs = preds * TARGETS + (1 - preds) * (1 - TARGETS)
    return -ns.sum(ns.log(label_probs))


def test_cookbook_gradients_argnums_and_dicts():
    ours = functools.partial(cookbook_loss, np)
    theirs = functools.partial(cookbook_loss, jnp)
    same(xform.grad(ours, argnums=(0, 1))(W0, B0), jgrad(theirs, argnums=(0, 1))(W0, B0))
    same(xform.grad(ours, 1)(W0, B0), jgrad(theirs, 1)(W0, B0))
    params = {"W": W0, "b": B0}
    same(xform.grad(lambda p: ours(p["W"], p["b"]))(params),
         jgrad(lambda p: theirs(p["W"], p["b"]))(params))
    same(xform.value_and_grad(ours, (0, 1))(W0, B0), jvalue_and_grad(theirs, (0, 1))(W0, B0))
    # the derivative along a unit vector equals the central difference (the cookbook's check)
    v = RS.randn(3)
    v /= onp.linalg.norm(v)
    eps = 1e-4
    numerical = (ours(W0 + eps / 2 * v, B0) - ours(W0 - eps / 2 * v, B0)) / eps
    assert onp.isclose(numerical, xform.grad(ours)(W0, B0) @ v, rtol=1e-6)


def test_cookbook_hvp_jacobians_and_hessian():
    f = lambda ns: (lambda x: ns.sum(ns.tanh(x) ** 3 * ns.sin(x[::-1])))
    x, v = RS.randn(4), RS.randn(4)
    hvp_ours = xform.jvp(xform.grad(f(np)), (x,), (v,))[1]         # forward-over-reverse
    hvp_theirs = jax.jvp(jgrad(f(jnp)), (x,), (v,))[1]
    same(hvp_ours, hvp_theirs)
    same(xform.hvp(f(np), (x,), (v,)), hvp_theirs)
    predict = lambda ns: (lambda W: cookbook_predict(ns, W, B0, INPUTS))
    same(xform.jacfwd(predict(np))(W0), jjacfwd(predict(jnp))(W0))
    same(xform.jacrev(predict(np))(W0), jjacrev(predict(jnp))(W0))
    same(xform.hessian(f(np))(x), jhessian(f(jnp))(x))
    same(xform.jacfwd(xform.jacrev(f(np)))(x), xform.jacrev(xform.jacfwd(f(np)))(x))
    # Jacobian-matrix and matrix-Jacobian products by vmap over jvp / vjp
    M = RS.randn(3, 4)
    g = lambda ns: (lambda x: ns.sin(x) * ns.sum(x ** 2))
    _, pull = xform.vjp(g(np), x)
    _, jpull = jax.vjp(g(jnp), x)
    same(xform.vmap(pull)(M), jvmap(jpull)(M))
    push = lambda t: xform.jvp(g(np), (x,), (t,))[1]
    jpush = lambda t: jax.jvp(g(jnp), (x,), (t,))[1]
    same(xform.vmap(push, out_axes=1)(M), jvmap(jpush, out_axes=1)(M))


def test_cookbook_jacobian_of_pytrees():
    def f(ns):
        def fun(params):
            return {"out": ns.tanh(params["W"] @ params["x"]), "norm": ns.sum(params["x"] ** 2)}
        return fun

    params = {"W": RS.randn(2, 3), "x": RS.randn(3)}
    same(xform.jacfwd(f(np))(params), jjacfwd(f(jnp))(params))
    same(xform.jacrev(f(np))(params), jjacrev(f(jnp))(params))
    jac = xform.jacrev(f(np))(params)
    assert jac["out"]["W"].shape == (2, 2, 3) and jac["norm"]["x"].shape == (3,)


def test_cookbook_per_example_gradients():
    def loss(ns):
        def per_example(W, x, y):
            pred = ns.tanh(ns.dot(x, W))
            return (pred - y) ** 2
        return per_example

    ys = RS.randn(4)
    ours = xform.vmap(xform.grad(loss(np)), in_axes=(None, 0, 0))(W0, INPUTS, ys)
    theirs = jvmap(jgrad(loss(jnp)), in_axes=(None, 0, 0))(W0, INPUTS, ys)
    same(ours, theirs)
    rows = [xform.grad(loss(np))(W0, INPUTS[i], ys[i]) for i in range(4)]
    onp.testing.assert_allclose(ours, onp.stack(rows), rtol=1e-14)
    same(xform.jit(xform.vmap(xform.grad(loss(np)), in_axes=(None, 0, 0)))(W0, INPUTS, ys),
         theirs)


# ----------------------------------------------------------------------------- complex numbers
Z = onp.array([1.0 + 2.0j, -0.5 + 0.3j, 0.7 - 1.1j])


@pytest.mark.parametrize("name, f", [
    ("abs2", lambda ns: (lambda z: ns.sum(ns.abs(z) ** 2))),
    ("real_sin", lambda ns: (lambda z: ns.sum(ns.real(ns.sin(z))))),
    ("imag_log", lambda ns: (lambda z: ns.sum(ns.imag(ns.log(z))))),
    ("abs", lambda ns: (lambda z: ns.sum(ns.abs(z)))),
    ("angle", lambda ns: (lambda z: ns.sum(ns.angle(z)))),
    ("conj_product", lambda ns: (lambda z: ns.real(ns.vdot(z, z * 2.0 + 1.0j)))),
    ("norm", lambda ns: (lambda z: ns.linalg.norm(z))),
    ("exp_abs", lambda ns: (lambda z: ns.sum(ns.abs(ns.exp(z * 1j))))),
    ("sqrt_real", lambda ns: (lambda z: ns.sum(ns.real(ns.sqrt(z)) ** 2))),
])
def test_complex_grad_of_real_function_follows_jax(name, f):
    """JAX's convention: grad of a real f of complex z is conj(df/dz) times 2 (the
    conjugate of the steepest-ascent direction)."""
    same(xform.grad(f(np))(Z), jgrad(f(jnp))(Z))
    check_grads(f(np), (Z,), order=1, modes=("rev",))


def test_complex_holomorphic_grad_jacobians_and_vjp():
    f = lambda ns: (lambda z: ns.sin(z) * z ** 2)
    z = 1.0 + 2.0j
    same(xform.grad(f(np), holomorphic=True)(z), jgrad(f(jnp), holomorphic=True)(z))
    g = lambda ns: (lambda z: ns.exp(z) * ns.sum(z))
    same(xform.jacfwd(g(np), holomorphic=True)(Z), jjacfwd(g(jnp), holomorphic=True)(Z))
    same(xform.jacrev(g(np), holomorphic=True)(Z), jjacrev(g(jnp), holomorphic=True)(Z))
    ct = onp.array([0.3 - 1.0j, 2.0 + 0.5j, -1.0j])
    same(xform.vjp(g(np), Z)[1](ct), jax.jit(lambda c: jax.vjp(g(jnp), Z)[1](c))(ct))
    t = onp.array([1.0j, 0.5, 0.2 - 0.3j])
    same(xform.jvp(g(np), (Z,), (t,)), jax.jit(lambda v: jax.jvp(g(jnp), (Z,), (v,)))(t))
    same(xform.hessian(f(np), holomorphic=True)(z), jhessian(f(jnp), holomorphic=True)(z))
    # a complex-valued function of real inputs: forward mode has the whole Jacobian, and
    # reverse mode refuses it (it would drop the imaginary part), as JAX does
    r = lambda ns: (lambda x: ns.exp(1j * x) * x)
    x = onp.array([0.3, -1.1])
    same(xform.jacfwd(r(np))(x), jjacfwd(r(jnp))(x))
    for rev in (xform.jacrev, jax.jacrev):
        with pytest.raises(TypeError, match="real-valued outputs"):
            rev(r(np) if rev is xform.jacrev else r(jnp))(x)
    # a C -> R function through vjp with a real cotangent
    h = lambda ns: (lambda z: ns.abs(z) ** 2)
    same(xform.vjp(h(np), Z)[1](onp.ones(3)),
         jax.jit(lambda c: jax.vjp(h(jnp), Z)[1](c))(jnp.ones(3)))


def test_complex_cholesky_holomorphic_from_the_cookbook():
    A = onp.array([[5.0, 2.0 + 3.0j, 5.0j], [2.0 - 3.0j, 7.0, 1.0 + 7.0j],
                   [-5.0j, 1.0 - 7.0j, 12.0]])

    def f(ns):
        def fun(X):
            # JAX's cholesky reads (X + X^H) / 2; NumPy's (and so ours) reads the lower
            # triangle only, so the port symmetrises explicitly to pose the same function
            L = ns.linalg.cholesky((X + ns.conj(X.T)) / 2)
            return ns.sum((L - ns.sin(L)) ** 2)
        return fun

    same(xform.grad(f(np), holomorphic=True)(A), jgrad(f(jnp), holomorphic=True)(A), 1e-9)


# ----------------------------------------------------------------------------- custom_jvp / custom_vjp
def test_custom_jvp_log1pexp_is_stable():
    def naive(ns):
        return lambda x: ns.log(1.0 + ns.exp(x))

    @xform.custom_jvp
    def log1pexp(x):
        return np.log(1.0 + np.exp(x))

    @log1pexp.defjvp
    def log1pexp_jvp(primals, tangents):
        x, = primals
        x_dot, = tangents
        return log1pexp(x), x_dot * (1 - 1 / (1 + np.exp(x)))

    with onp.errstate(over="ignore", invalid="ignore"):
        # (the tutorial's 100.0 overflows exp in float32; 1000.0 does in float64)
        assert onp.isnan(xform.grad(naive(np))(1000.0))
        assert onp.isnan(jgrad(naive(jnp))(1000.0))
        assert xform.grad(log1pexp)(1000.0) == 1.0   # (the primal is inf, as in the tutorial)
    assert xform.jit(xform.grad(log1pexp))(3.0) == pytest.approx(1 / (1 + onp.exp(-3.0)), 1e-14)
    xs = onp.arange(3.0)
    onp.testing.assert_allclose(xform.vmap(xform.jit(xform.grad(log1pexp)))(xs),
                                1 / (1 + onp.exp(-xs)), rtol=1e-14)
    check_grads(log1pexp, (0.7,), order=2)


def test_custom_jvp_defjvps_and_python_control_flow():
    @xform.custom_jvp
    def f(x, y):
        return np.sin(x) * y

    f.defjvps(lambda x_dot, primal_out, x, y: np.cos(x) * x_dot * y,
              lambda y_dot, primal_out, x, y: np.sin(x) * y_dot)
    same(xform.grad(f, (0, 1))(2.0, 3.0), (onp.cos(2.0) * 3.0, onp.sin(2.0)))

    @xform.custom_jvp
    def g(x):
        if x > 0:
            return np.sin(x)
        return np.cos(x)

    @g.defjvp
    def g_jvp(primals, tangents):
        x, = primals
        t, = tangents
        ans = g(x)
        if x > 0:
            return ans, 2 * t
        return ans, 3 * t

    assert xform.grad(g)(1.0) == 2.0 and xform.grad(g)(-1.0) == 3.0


def test_custom_vjp_clip_gradient_with_none_cotangents():
    def make(ns, custom_vjp):
        @custom_vjp
        def clip_gradient(lo, hi, x):
            return x

        def fwd(lo, hi, x):
            return x, (lo, hi)

        def bwd(res, g):
            lo, hi = res
            return None, None, ns.clip(g, lo, hi)

        clip_gradient.defvjp(fwd, bwd)
        return clip_gradient

    ours, theirs = make(np, xform.custom_vjp), make(jnp, jax.custom_vjp)
    xs = onp.linspace(0, 10, 7)
    for f in (lambda ns, clip: (lambda x: ns.sin(clip(-0.75, 0.75, x * 3.0))),
              lambda ns, clip: (lambda x: clip(-0.75, 0.75, ns.sin(x) * 3.0)),
              lambda ns, clip: (lambda x: 10.0 * clip(-0.75, 0.75, x))):
        same(xform.vmap(xform.grad(f(np, ours)))(xs), jvmap(jgrad(f(jnp, theirs)))(xs))
    # the cotangent reaching the clip is what gets clipped: 10 -> 0.75
    assert xform.grad(lambda x: 10.0 * ours(-0.75, 0.75, x))(1.0) == 0.75


def test_custom_vjp_fixed_point_with_nondiff_argnums():
    @functools.partial(xform.custom_vjp, nondiff_argnums=(0,))
    def fixed_point(f, a, x_guess):
        def cond_fun(carry):
            x_prev, x = carry
            return np.abs(x_prev - x) > 1e-12
        def body_fun(carry):
            _, x = carry
            return x, f(a, x)
        _, x_star = lax.while_loop(cond_fun, body_fun, (x_guess, f(a, x_guess)))
        return x_star

    def fixed_point_fwd(f, a, x_init):
        x_star = fixed_point(f, a, x_init)
        return x_star, (a, x_star)

    def rev_iter(f, packed, u):
        a, x_star, x_star_bar = packed
        _, vjp_x = xform.vjp(lambda x: f(a, x), x_star)
        return x_star_bar + vjp_x(u)[0]

    def fixed_point_rev(f, res, x_star_bar):
        a, x_star = res
        _, vjp_a = xform.vjp(lambda a: f(a, x_star), a)
        a_bar, = vjp_a(fixed_point(functools.partial(rev_iter, f), (a, x_star, x_star_bar),
                                   x_star_bar))
        return a_bar, np.zeros_like(x_star)

    fixed_point.defvjp(fixed_point_fwd, fixed_point_rev)
    newton = lambda a, x: 0.5 * (x + a / x)
    sqrt = lambda a: fixed_point(newton, a, a)
    assert sqrt(2.0) == pytest.approx(onp.sqrt(2.0), rel=1e-14)
    assert xform.grad(sqrt)(2.0) == pytest.approx(0.5 / onp.sqrt(2.0), rel=1e-10)
    assert xform.grad(xform.grad(sqrt))(2.0) == pytest.approx(-0.25 * 2.0 ** -1.5, rel=1e-7)
    assert xform.jit(xform.grad(sqrt))(3.0) == pytest.approx(0.5 / onp.sqrt(3.0), rel=1e-10)


def test_custom_jvp_with_a_function_argument():
    @functools.partial(xform.custom_jvp, nondiff_argnums=(0,))
    def app(f, x):
        return f(x)

    @app.defjvp
    def app_jvp(f, primals, tangents):
        x, = primals
        x_dot, = tangents
        return f(x), 2.0 * x_dot

    assert xform.grad(lambda x: app(lambda y: 2 * y, x))(1.0) == 2.0
    assert xform.jvp(lambda x: app(np.sin, x), (1.0,), (1.0,))[1] == 2.0


# ----------------------------------------------------------------------------- pytrees
def test_pytrees_leaves_and_structures_match_jax():
    trees = [[1, "a", object()] if False else [1, 2.0, onp.ones(2)],
             (1, (2, 3), ()),
             [1, {"k1": 2, "k2": (3, 4)}, 5],
             {"a": 2, "b": (2, 3)},
             onp.array([1, 2, 3]),
             [None, {"x": None}, 1],
             collections.namedtuple("Point", "x y")(1.0, (2.0, 3.0))]
    for tree in trees:
        ours = tree_leaves(tree)
        theirs = jax.tree_util.tree_leaves(tree)
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            assert a is b
        assert tree_structure(tree).num_leaves == jax.tree_util.tree_structure(tree).num_leaves
    same(tree_map(lambda x: x * 2, [1, {"k1": 2.0, "k2": (3, 4)}]),
         jax.tree_util.tree_map(lambda x: x * 2, [1, {"k1": 2.0, "k2": (3, 4)}]))
    same(tree_map(lambda x, y: x + y, [1, (2, 3)], [10, (20, 30)]), [11, (22, 33)])


class MyContainer:
    """The tutorial's custom class: a name (static) and three arrays."""

    def __init__(self, name, a, b, c):
        self.name, self.a, self.b, self.c = name, a, b, c


register_pytree_node(MyContainer, lambda c: ((c.a, c.b, c.c), c.name),
                     lambda name, children: MyContainer(name, *children))


def test_pytrees_custom_class_and_mlp_training():
    box = MyContainer("alice", 1.0, onp.arange(2.0), 3.0)
    assert tree_leaves([box, box]) == [1.0, box.b, 3.0, 1.0, box.b, 3.0]
    g = xform.grad(lambda c: c.a * np.sum(c.b) + c.c ** 2)(box)
    assert isinstance(g, MyContainer) and g.name == "alice"
    same([g.a, g.b, g.c], [1.0, onp.ones(2), 6.0])

    def init_mlp_params(sizes):
        rs = onp.random.RandomState(0)
        return [dict(weights=rs.normal(size=(m, n)) * onp.sqrt(2 / m), biases=onp.ones(n))
                for m, n in zip(sizes[:-1], sizes[1:])]

    def forward(ns, params, x):
        *hidden, last = params
        for layer in hidden:
            x = ns.maximum(0.0, x @ layer["weights"] + layer["biases"])
        return x @ last["weights"] + last["biases"]

    def loss_fn(ns, params, x, y):
        return ns.mean((forward(ns, params, x) - y) ** 2)

    xs = onp.linspace(-1, 1, 16)[:, None]
    ys = xs ** 2
    params = init_mlp_params([1, 8, 1])
    same(xform.grad(functools.partial(loss_fn, np))(params, xs, ys),
         jgrad(functools.partial(loss_fn, jnp))(params, xs, ys))
    start = loss_fn(np, params, xs, ys)
    for _ in range(50):
        grads = xform.grad(functools.partial(loss_fn, np))(params, xs, ys)
        params = tree_map(lambda p, g: p - 0.05 * g, params, grads)
    assert loss_fn(np, params, xs, ys) < 0.5 * start

    leaves, treedef = tree_flatten(params)
    assert tree_unflatten(treedef, leaves)[0]["weights"] is params[0]["weights"]


# ----------------------------------------------------------------------------- jit and control flow
def test_jit_static_argnums_and_python_branches():
    def f(x, neg):
        return -x if neg else x

    jf = xform.jit(f, static_argnums=(1,))
    assert jf(1.0, True) == -1.0 and jf(1.0, False) == 1.0

    def g(x, n):
        i = 0
        while i < n:
            i += 1
        return x + i

    assert xform.jit(g, static_argnums=(1,))(10.0, 20) == 30.0
    with pytest.raises(xform.ConcretizationError):
        xform.jit(f)(1.0, True) if False else xform.jit(lambda x: -x if x > 0 else x)(1.0)

    def selu(ns):
        def fun(x, alpha=1.67, lmbda=1.05):
            return lmbda * ns.where(x > 0, x, alpha * ns.exp(x) - alpha)
        return fun

    x = onp.linspace(-2, 2, 5)
    same(xform.jit(selu(np))(x), jax.jit(selu(jnp))(x))
    same(xform.jit(xform.grad(lambda v: np.sum(selu(np)(v))))(x),
         jgrad(lambda v: jnp.sum(selu(jnp)(v)))(x))

    def reshape_by_size(ns, x):
        return ns.reshape(x, (onp.prod(x.shape),))

    same(xform.jit(functools.partial(reshape_by_size, np))(onp.ones((2, 3))), jnp.ones(6))


def test_lax_control_flow_matches_jax():
    def cond_fn(ns, lx):
        def f(x):
            return lx.cond(x > 0, lambda v: ns.sin(v) * v, lambda v: ns.cos(v), x)
        return f

    for x in (0.5, -0.5):
        same(xform.grad(cond_fn(np, lax))(x), jgrad(cond_fn(jnp, jax.lax))(x))
        same(xform.jit(cond_fn(np, lax))(x), cond_fn(jnp, jax.lax)(x))

    def fori(ns, lx):
        def f(x):
            return lx.fori_loop(0, 5, lambda i, acc: acc * ns.sin(acc + i) + x, x)
        return f

    same(xform.grad(fori(np, lax))(0.3), jgrad(fori(jnp, jax.lax))(0.3))
    same(xform.jit(xform.grad(fori(np, lax)))(0.3), jgrad(fori(jnp, jax.lax))(0.3))

    def scan_cumsum(ns, lx):
        def f(xs):
            def step(carry, x):
                carry = carry * 0.9 + ns.tanh(x)
                return carry, carry ** 2
            last, ys = lx.scan(step, 0.0, xs)
            return last + ns.sum(ys)
        return f

    xs = RS.randn(6)
    same(xform.grad(scan_cumsum(np, lax))(xs), jgrad(scan_cumsum(jnp, jax.lax))(xs))
    same(xform.jacfwd(scan_cumsum(np, lax))(xs), jjacfwd(scan_cumsum(jnp, jax.lax))(xs))

    def while_fn(ns, lx):
        def f(x):
            return lx.while_loop(lambda c: c[0] < 10, lambda c: (c[0] + 1, c[1] * 1.1 + 0.1),
                                 (0, x))[1]
        return f

    same(xform.jit(while_fn(np, lax))(1.0), jax.jit(while_fn(jnp, jax.lax))(1.0))
    same(xform.jvp(while_fn(np, lax), (1.0,), (1.0,)), jax.jvp(while_fn(jnp, jax.lax), (1.0,), (1.0,)))
