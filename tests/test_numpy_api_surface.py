"""Ordinary NumPy/SciPy code that xform must accept (issue 11): autograd's
``import xform.numpy.random as npr``, the distributions' ``rvs``, lists and tuples
of traced values where NumPy takes array_like, and the functions users reach for
(``append``, ``r_``, ``c_``, ``copysign``, scalar casts, einsum's sublist form,
SciPy's ``odeint`` signature, ...)."""
from __future__ import annotations

import pickle
from typing import Any

import numpy as onp
import pytest
import scipy.stats

import xform
import xform.numpy as np
import xform.numpy.random as npr
import xform.scipy.stats as st
from xform.test_util import check_grads


# ------------------------------------------------------------------ xform.numpy.random
def test_npr_is_a_module_with_numpys_streams() -> None:
    import sys
    assert sys.modules["xform.numpy.random"] is npr and np.random is npr
    npr.seed(3)
    a = npr.randn(4)
    onp.random.seed(3)
    assert onp.array_equal(a, onp.random.randn(4))
    onp.random.seed(5)          # one global state, whichever module seeds it
    b = npr.normal(1.0, 2.0, size=3)
    onp.random.seed(5)
    assert onp.array_equal(b, onp.random.normal(1.0, 2.0, size=3))
    assert onp.array_equal(npr.RandomState(1).randn(2, 3), onp.random.RandomState(1).randn(2, 3))
    assert onp.array_equal(npr.default_rng(2).normal(size=5),
                           onp.random.default_rng(2).normal(size=5))
    assert isinstance(npr.RandomState(0), onp.random.RandomState)
    assert isinstance(npr.default_rng(0), onp.random.Generator)
    # the library's own NumPy is untouched
    assert onp.random.randn is not npr.randn and onp.random.__name__ == "numpy.random"


def test_npr_generators_pickle_and_share_state() -> None:
    rs = npr.RandomState(0)
    rs.randn()
    again = pickle.loads(pickle.dumps(rs))
    assert type(again) is npr.RandomState and again.randn() == rs.randn()
    base = onp.random.default_rng(7)
    wrapped = npr.default_rng(base)        # shares the bit generator, as NumPy's does
    assert wrapped.bit_generator is base.bit_generator
    assert npr.default_rng(wrapped) is wrapped


@pytest.mark.parametrize("call", [
    lambda m: npr.normal(m, 1.0),
    lambda m: npr.RandomState(0).normal(loc=m),
    lambda m: npr.default_rng(0).uniform(0.0, m),
    lambda m: npr.permutation(np.stack([m, m])),
    lambda m: st.norm.rvs(loc=m, random_state=0),
])
def test_draws_with_traced_arguments_say_how_to_reparameterise(call) -> None:
    with pytest.raises(TypeError, match=r"random draws are constants.*standard_normal"):
        xform.grad(call)(1.0)


def test_draws_are_constants_inside_grad() -> None:
    def f(x):
        return np.sum(x * npr.RandomState(0).randn(3))
    assert onp.allclose(xform.grad(f)(onp.ones(3)), onp.random.RandomState(0).randn(3))


# three short programs in autograd's style, each using npr
def test_autograd_style_logistic_regression() -> None:
    rs = npr.RandomState(0)
    inputs = rs.randn(40, 3)
    true_w = onp.array([1.5, -2.0, 0.5])
    targets = (inputs @ true_w + 0.1 * rs.randn(40) > 0).astype(float)

    def sigmoid(x):
        return 0.5 * (np.tanh(x / 2.0) + 1.0)

    def training_loss(weights):
        preds = sigmoid(np.dot(inputs, weights))
        label_probabilities = preds * targets + (1 - preds) * (1 - targets)
        return -np.sum(np.log(label_probabilities))

    weights = npr.RandomState(1).randn(3) * 0.01
    check_grads(training_loss, (weights,), order=2)
    start = training_loss(weights)
    g = xform.grad(training_loss)
    for _ in range(100):
        weights = weights - 0.01 * g(weights)
    assert training_loss(weights) < 0.3 * start
    assert onp.sign(weights).tolist() == onp.sign(true_w).tolist()


def test_autograd_style_black_box_variational_inference() -> None:
    """Reparameterised ELBO: samples from npr, transformed by traced parameters."""
    def log_density(x):                        # an unnormalised 2-D Gaussian
        return -0.5 * np.sum(((x - onp.array([1.0, -1.0])) / onp.array([0.5, 2.0])) ** 2,
                             axis=1)

    def gaussian_entropy(log_std):
        return 0.5 * log_std.shape[0] * (1.0 + onp.log(2 * onp.pi)) + np.sum(log_std)

    def variational_objective(params, t):
        mean, log_std = params[:2], params[2:]
        samples = npr.RandomState(t).randn(200, 2) * np.exp(log_std) + mean
        return -(gaussian_entropy(log_std) + np.mean(log_density(samples)))

    params = onp.zeros(4)
    check_grads(lambda p: variational_objective(p, 0), (params,), order=1)
    g = xform.grad(variational_objective)
    for t in range(300):
        params = params - 0.05 * g(params, t)
    assert onp.allclose(params[:2], [1.0, -1.0], atol=0.15)
    assert onp.allclose(onp.exp(params[2:]), [0.5, 2.0], rtol=0.15)


def test_autograd_style_neural_net_with_seeded_init() -> None:
    def init_random_params(scale, layer_sizes, rs=npr.RandomState(0)):
        return [(scale * rs.randn(m, n), scale * rs.randn(n))
                for m, n in zip(layer_sizes[:-1], layer_sizes[1:])]

    def predict(params, x):
        for w, b in params:
            x = np.tanh(np.dot(x, w) + b)
        return x

    npr.seed(0)
    x = npr.uniform(-1, 1, size=(30, 1))
    y = onp.sin(3 * x)

    def loss(params):
        return np.mean((predict(params, x) - y) ** 2)

    params = init_random_params(0.5, [1, 8, 1])
    check_grads(loss, (params,), order=1)
    g = xform.grad(loss)
    start = loss(params)
    for _ in range(200):
        params = [(w - 0.5 * gw, b - 0.5 * gb) for (w, b), (gw, gb) in zip(params, g(params))]
    assert loss(params) < 0.5 * start


# ------------------------------------------------------------------ scipy.stats rvs
@pytest.mark.parametrize("name,args", [
    ("norm", (0.5, 2.0)), ("t", (3.0, 1.0)), ("beta", (2.0, 3.0)), ("gamma", (2.0,)),
    ("chi2", (4.0,)), ("laplace", ()), ("cauchy", ()), ("logistic", ()), ("expon", ()),
    ("uniform", (1.0, 2.0)), ("poisson", (3.0,)),
])
def test_rvs_is_scipys_sampler(name: str, args: tuple) -> None:
    ours = getattr(st, name)
    ref = getattr(scipy.stats, name)
    assert onp.array_equal(ours.rvs(*args, size=(2, 3), random_state=4),
                           ref.rvs(*args, size=(2, 3), random_state=4))
    assert onp.array_equal(ours(*args).rvs(size=5, random_state=npr.RandomState(1)),
                           ref(*args).rvs(size=5, random_state=onp.random.RandomState(1)))


def test_multivariate_rvs() -> None:
    mean, cov = [0.0, 1.0], [[1.0, 0.3], [0.3, 2.0]]
    assert onp.array_equal(st.multivariate_normal.rvs(mean, cov, size=3, random_state=0),
                           scipy.stats.multivariate_normal.rvs(mean, cov, size=3,
                                                               random_state=0))
    assert onp.array_equal(st.multivariate_normal(mean, cov).rvs(size=2, random_state=1),
                           scipy.stats.multivariate_normal(mean, cov).rvs(size=2,
                                                                          random_state=1))
    alpha = [1.0, 2.0, 3.0]
    assert onp.array_equal(st.dirichlet.rvs(alpha, size=2, random_state=0),
                           scipy.stats.dirichlet.rvs(alpha, size=2, random_state=0))
    assert onp.array_equal(st.dirichlet(alpha).rvs(size=2, random_state=0),
                           scipy.stats.dirichlet(alpha).rvs(size=2, random_state=0))


# ------------------------------------------------------------------ functions that were missing
def test_append_matches_numpy_and_differentiates() -> None:
    a, b = onp.arange(6.0).reshape(2, 3), onp.ones((1, 3))
    for axis in (None, 0):
        assert onp.array_equal(np.append(a, b, axis=axis), onp.append(a, b, axis=axis))
    check_grads(lambda x, y: np.append(x, y), (a, b), order=2)
    check_grads(lambda x, y: np.append(x, y, axis=0), (a, b), order=1)
    check_grads(lambda x: np.append(x, 2.0 * x[:1], axis=0), (a,), order=1)


@pytest.mark.parametrize("key", [
    lambda m: (m[0], 0.5, slice(3, 6)),
    lambda m: (m[0], [7, 8], m[1]),
    lambda m: ("0,2,1", m[0], m[1]),
    lambda m: ("-1,3,0", m[0]),
    lambda m: ("1,2", m[0], m[0]),
    lambda m: (slice(0, 1, 5j), m[1]),
    lambda m: (m[2], m[2]),
    lambda m: (onp.arange(3), 0.5),            # a Python float in an integer array: float
])
def test_r_matches_numpy(key) -> None:
    m = [onp.array([1.0, 2.0, 3.0]), onp.array([4.0, 5.0, 6.0]), onp.ones((2, 3))]
    ours, ref = np.r_[key(m)], onp.r_[key(m)]
    assert ours.shape == ref.shape and ours.dtype == ref.dtype and onp.array_equal(ours, ref)


def test_c_and_row_stack_match_numpy() -> None:
    a, b = onp.array([1.0, 2.0]), onp.array([[3.0, 4.0], [5.0, 6.0]])
    assert onp.array_equal(np.c_[a, b, a], onp.c_[a, b, a])
    assert onp.array_equal(np.c_[7.0, 8.0, a[:1]], onp.c_[7.0, 8.0, a[:1]])
    assert onp.array_equal(np.row_stack([a, a]), onp.vstack([a, a]))


def test_r_and_c_differentiate_traced_items() -> None:
    x = onp.array([0.3, -1.2])
    check_grads(lambda x: np.r_[x, 2.0 * x, 1.0, 0:2] ** 2, (x,), order=2)
    check_grads(lambda x: np.c_[x, np.sin(x)], (x,), order=2)
    check_grads(lambda s: np.r_[s, s * s, 3.0], (0.7,), order=2)
    check_grads(lambda x: np.row_stack([x, x * x]), (x,), order=1)
    with pytest.raises(NotImplementedError, match="numpy.matrix"):
        np.r_["r", x]
    with pytest.raises(ValueError, match="must be the first item"):
        np.r_[x, "0"]


def test_iscomplex_isreal() -> None:
    z = onp.array([1.0 + 0j, 2.0 - 1j, 0j, 3j])
    assert onp.array_equal(np.iscomplex(z), onp.iscomplex(z))
    assert onp.array_equal(np.isreal(z), onp.isreal(z))
    assert not np.iscomplex(onp.ones(2)).any() and np.isreal(onp.ones(2)).all()

    def f(x):  # a predicate on traced values, under grad
        return np.sum(np.where(np.isreal(x * 1j), x, 2.0 * x))
    assert onp.array_equal(xform.grad(f)(onp.array([0.0, 1.0])), [1.0, 2.0])


def test_copysign_values_and_sign_matched_derivative() -> None:
    x = onp.array([1.5, -2.0, 0.0, -0.0, 3.0])
    y = onp.array([-1.0, -1.0, -0.0, 2.0, onp.inf])
    assert onp.array_equal(np.copysign(x, y), onp.copysign(x, y))
    assert onp.array_equal(onp.signbit(np.copysign(x, y)), onp.signbit(onp.copysign(x, y)))
    gx = xform.grad(lambda x: np.sum(np.copysign(x, y)))(x)
    # +1 where the signs of x and y agree, -1 where copysign flips x; defined at 0 and -0.0
    assert onp.array_equal(gx, [-1.0, 1.0, -1.0, -1.0, 1.0])
    assert onp.array_equal(xform.grad(lambda y: np.sum(np.copysign(x, y)))(y), onp.zeros(5))
    check_grads(lambda x: np.copysign(x, onp.array([-1.0, 2.0])), (onp.array([0.3, 0.7]),))
    f32 = onp.array([1.0, -1.0], onp.float32)
    assert xform.grad(lambda x: np.sum(np.copysign(x, -1.0)))(f32).dtype == onp.float32


def test_gammasgn() -> None:
    import scipy.special as sc
    import xform.scipy.special as sp
    x = onp.array([0.5, -0.5, -1.5, -2.5, 3.0, -0.0, 0.0])
    assert onp.array_equal(sp.gammasgn(x), sc.gammasgn(x))
    assert onp.array_equal(xform.grad(lambda x: np.sum(sp.gammasgn(x) * x))(x[:5]),
                           sc.gammasgn(x[:5]))


@pytest.mark.parametrize("args", [
    lambda a, b, c: (a, [0, 1], b, [1, 2], [0, 2]),
    lambda a, b, c: (a, [0, 1], b, [1, 2]),                 # implicit output
    lambda a, b, c: (a, [0, 1], [1, 0]),
    lambda a, b, c: (c, [Ellipsis, 1], a, [0, 1], [Ellipsis, 0]),
    lambda a, b, c: (a, [0, 1], a, [0, 1], []),
])
def test_einsum_sublist_form(args) -> None:
    a, b, c = onp.arange(6.0).reshape(2, 3), onp.arange(12.0).reshape(3, 4), \
        onp.arange(12.0).reshape(2, 2, 3)
    onp.testing.assert_allclose(np.einsum(*args(a, b, c)), onp.einsum(*args(a, b, c)))
    check_grads(lambda a, b, c: np.einsum(*args(a, b, c)), (a, b, c), order=1)


def test_einsum_sublist_errors_name_the_sublist() -> None:
    with pytest.raises(ValueError, match="sublist of operand 1"):
        np.einsum(onp.ones(2), [0], onp.ones(2), ["i"])


def test_scalar_casts_of_traced_values() -> None:
    # a float cast keeps the derivative, as jnp.float64(x) does
    assert xform.grad(lambda x: np.float64(x) ** 2)(3.0) == 6.0
    g = xform.grad(lambda x: np.sum(np.float32(x) * 2.0))(onp.ones(2, onp.float32))
    assert g.dtype == onp.float32 and onp.array_equal(g, [2.0, 2.0])
    assert xform.jvp(lambda x: np.complex128(x) * 1j, (2.0,), (1.0,))[1] == 1j
    check_grads(lambda x: np.float32(np.float64(x)) * x, (onp.float32(1.3),), order=1,
                rtol=1e-3, atol=1e-3)
    # an integer cast is a value without derivative
    assert xform.grad(lambda x: x * np.int64(x))(2.5) == 2.0
    assert xform.jit(lambda x: np.int32(x) + 1)(2.7) == 3
    assert xform.vmap(lambda x: np.float32(x))(onp.ones(3)).dtype == onp.float32
    assert xform.grad(lambda x: np.float64([x, 2 * x])[1])(1.0) == 2.0
    # on constants: NumPy's scalars
    assert type(np.float64(2)) is onp.float64 and type(np.int64(2.7)) is onp.int64
    assert np.bool_(1) is onp.True_


def test_scalar_types_are_numpys_types_everywhere_else() -> None:
    assert onp.zeros(2, np.float32).dtype == onp.float32
    assert np.zeros(2, dtype=np.int16).dtype == onp.int16
    assert onp.ones(2).astype(np.complex64).dtype == onp.complex64
    assert onp.dtype(np.float64) == onp.float64 and np.float64 == onp.float64
    assert onp.issubdtype(onp.float32, np.float32) and onp.issubdtype(np.float32, onp.floating)
    assert isinstance(onp.float64(1.0), np.float64) and not isinstance(1.0, np.float32)
    assert issubclass(onp.float64, np.float64) and {onp.float32: 1}[np.float32] == 1
    assert onp.finfo(np.float32).eps == onp.finfo(onp.float32).eps
    assert np.float_ == onp.float64 and np.int_ == onp.int64


def test_odeint_accepts_scipys_signature() -> None:
    from xform.scipy.integrate import odeint
    t = onp.linspace(0.0, 1.0, 5)

    def decay(y, t, k, c):
        return -k * y + c

    jax_style = odeint(decay, 1.0, t, 2.0, 0.5)
    scipy_style = odeint(decay, 1.0, t, args=(2.0, 0.5))
    onp.testing.assert_allclose(scipy_style, jax_style)
    import scipy.integrate
    onp.testing.assert_allclose(scipy_style, scipy.integrate.odeint(decay, 1.0, t,
                                                                    args=(2.0, 0.5))[:, 0],
                                rtol=1e-6)
    tfirst = odeint(lambda t, y, k, c: -k * y + c, 1.0, t, args=(2.0, 0.5), tfirst=True)
    onp.testing.assert_allclose(tfirst, jax_style)
    onp.testing.assert_allclose(odeint(decay, 1.0, t, args=(2.0, 0.5), rtol=None, atol=None),
                                jax_style)
    check_grads(lambda k, y0: odeint(decay, y0, t, args=(k, 0.5))[-1], (2.0, 1.0), order=1,
                rtol=1e-4, atol=1e-5)
    with pytest.raises(TypeError, match="both by position"):
        odeint(decay, 1.0, t, 2.0, args=(0.5,))
    with pytest.raises(TypeError, match=r"args=\(2.0,\)"):
        odeint(lambda y, t, k: -k * y, 1.0, t, args=2.0)


# ------------------------------------------------------------------ lists and tuples of tracers
def test_lists_and_tuples_of_traced_values_read_as_arrays() -> None:
    w = onp.array([0.5, -1.0])
    cases = [
        (lambda x, y: np.mean([x, x + 2.0]), 1),
        (lambda x, y: np.sum(np.exp([x, y])), 2),
        (lambda x, y: np.dot([x, y], w), 2),
        (lambda x, y: np.sum((x, y)), 2),
        (lambda x, y: np.sum(np.concatenate([[x], [y]])), 2),
        (lambda x, y: np.linalg.det([[x, y], [y, 2.0]]), 2),
        (lambda x, y: np.sum(np.maximum([[x], [y]], 0.1)), 2),
        (lambda x, y: np.std([x, 2.0 * y, 1.0]), 2),
        (lambda x, y: np.sum(np.where([True, False], [x, y], 0.0)), 2),
        (lambda x, y: np.polyval([x, y, 1.0], 0.3), 2),
    ]
    for f, _ in cases:
        check_grads(f, (0.7, -0.4), order=2)
    # operators with a list operand (under a transform, where x is a tracer)
    assert xform.grad(lambda x: np.sum(x * [x, 2.0]))(3.0) == 8.0
    assert xform.grad(lambda x: np.sum([x, 2.0 * x] + x))(3.0) == 5.0
    # and plain lists of numbers, which NumPy reads as arrays too
    assert np.mean([1.0, 2.0]) == 1.5 and np.std((1.0, 3.0)) == 1.0


def test_sequence_parameters_are_not_stacked() -> None:
    import xform.scipy.linalg as sl
    a = onp.array([[4.0, 1.0], [1.0, 3.0]])
    b = onp.array([1.0, 2.0])

    def via_cho(a):
        return sl.cho_solve(sl.cho_factor(a), b)       # (c, lower): a tuple, kept
    check_grads(via_cho, (a,), order=1)
    # concatenate's arrays of different lengths: a sequence of arrays, never stacked
    check_grads(lambda x: np.concatenate([x, x[:1]]), (b,), order=1)
    check_grads(lambda x: np.linalg.multi_dot([a, x[:, None], x[None, :]]), (b,), order=1)


def test_logspace_with_traced_endpoints() -> None:
    check_grads(lambda s: np.logspace(s, 2.0, 4), (0.5,), order=2)
    check_grads(lambda b: np.logspace(0.0, 2.0, 4, base=b), (2.0,), order=1)


_MODULES = {"numpy": np, "numpy.linalg": np.linalg, "numpy.fft": np.fft}


def _public_functions() -> list[str]:
    import inspect
    import xform.scipy.linalg as sl
    import xform.scipy.signal as ss
    import xform.scipy.special as sp
    _MODULES.update({"scipy.special": sp, "scipy.linalg": sl, "scipy.signal": ss})
    out = []
    for mname, mod in _MODULES.items():
        for name in sorted(getattr(mod, "__all__", dir(mod))):
            f = getattr(mod, name)
            if (not name.startswith("_") and inspect.isfunction(f)
                    and f.__module__.startswith(("xform.numpy", "xform.scipy"))):
                out.append(f"{mname}.{name}")
    return out


_SQUARE = onp.random.default_rng(0).uniform(0.2, 0.8, (3, 3)) + 2.0 * onp.eye(3)
#: calls for functions that take more than arrays; ``x`` is the (3, 3) argument
_SAMPLES: dict[str, Any] = {
    "numpy.reshape": lambda x: np.reshape(x, (9,)), "numpy.broadcast_to":
        lambda x: np.broadcast_to(x, (2, 3, 3)),
    "numpy.expand_dims": lambda x: np.expand_dims(x, 1),
    "numpy.moveaxis": lambda x: np.moveaxis(x, 0, 1), "numpy.swapaxes":
        lambda x: np.swapaxes(x, 0, 1), "numpy.rollaxis": lambda x: np.rollaxis(x, 1),
    "numpy.take": lambda x: np.take(x, onp.array([0, 2])), "numpy.repeat":
        lambda x: np.repeat(x, 2, axis=0), "numpy.tile": lambda x: np.tile(x, 2),
    "numpy.roll": lambda x: np.roll(x, 1), "numpy.pad": lambda x: np.pad(x, 1),
    "numpy.split": lambda x: np.split(x, 3), "numpy.array_split": lambda x: np.array_split(x, 2),
    "numpy.hsplit": lambda x: np.hsplit(x, 3), "numpy.vsplit": lambda x: np.vsplit(x, 3),
    "numpy.einsum": lambda x: np.einsum("ij,jk->ik", x, x),
    "numpy.interp": lambda x: np.interp(x, onp.array([0.0, 1.0, 3.0]), onp.array([1.0, 2.0, 0.0])),
    "numpy.convolve": lambda x: np.convolve(x[0], x[1]),
    "numpy.correlate": lambda x: np.correlate(x[0], x[1]),
    "numpy.searchsorted": lambda x: np.searchsorted(onp.array([0.5, 2.5]), x),
    "numpy.quantile": lambda x: np.quantile(x, 0.3), "numpy.nanquantile":
        lambda x: np.nanquantile(x, 0.3), "numpy.partition": lambda x: np.partition(x, 1),
    "numpy.argpartition": lambda x: np.argpartition(x, 1),
    "numpy.take_along_axis": lambda x: np.take_along_axis(x, onp.array([[0], [1], [2]]), 1),
    "numpy.astype": lambda x: np.astype(x, onp.float32),
    "numpy.full": lambda x: np.full((3, 3), x),
    "numpy.linalg.matrix_power": lambda x: np.linalg.matrix_power(x, 3),
    "numpy.linalg.outer": lambda x: np.linalg.outer(x[0], x[1]),
    "scipy.special.multigammaln": lambda x: _MODULES["scipy.special"].multigammaln(x, 2),
    "numpy.digitize": lambda x: np.digitize(x, onp.array([-0.5, 0.5, 1.5])),
    "numpy.bincount": lambda x: np.bincount(onp.array([0, 2, 2, 1, 0, 3, 1, 1, 2]),
                                            np.ravel(x)),
}
#: public functions the sweep does not call, and why
_NOT_SWEPT = {
    # constructors of constants from shapes, and helpers with no array argument
    "numpy.arange", "numpy.empty", "numpy.eye", "numpy.identity", "numpy.ones", "numpy.zeros",
    "numpy.tri", "numpy.result_type", "numpy.issubdtype", "numpy.at", "numpy.fft.fftfreq",
    "numpy.fft.rfftfreq", "scipy.signal.choose_conv_method",
    # sequences of arrays by design (their elements are read as arrays; tested above)
    "numpy.select", "numpy.linalg.multi_dot", "scipy.linalg.cho_solve", "scipy.linalg.lu_solve",
    "scipy.linalg.solve_banded",
    # needs a 4-D/6-D tensor argument
    "numpy.dsplit", "numpy.linalg.tensorinv", "numpy.linalg.tensorsolve",
    # integer operands only: no traced value to read
    "numpy.bitwise_and", "numpy.bitwise_invert", "numpy.bitwise_left_shift", "numpy.bitwise_not",
    "numpy.bitwise_or", "numpy.bitwise_right_shift", "numpy.bitwise_xor", "numpy.invert",
    "numpy.left_shift", "numpy.right_shift",
}


def _nested(x: Any) -> list:
    return [[x[i, j] for j in range(x.shape[1])] for i in range(x.shape[0])]


def _sweep_call(qualified: str) -> Any:
    """A call ``f(*arrays) -> out`` of the function on (3, 3) arrays, or None."""
    from xform.tree_util import tree_leaves
    if qualified in _SAMPLES:
        return _SAMPLES[qualified], 1
    mname, name = qualified.rsplit(".", 1)
    f = getattr(_MODULES[mname], name)
    for n in (1, 2, 3):
        try:
            with onp.errstate(all="ignore"):
                out = f(*([_SQUARE] * n))
        except Exception:
            continue
        if all(isinstance(v, (onp.ndarray, onp.generic, float, int, bool, complex))
               for v in tree_leaves(out)):
            return f, n
    return None, 0


def test_every_public_function_reads_nested_lists_of_traced_values() -> None:
    """Each function gives the same values and tangents whether its array arguments
    are traced arrays or nested lists of traced scalars (the class of issue 11's
    ``np.mean([x, x + 2])``), across xform.numpy, linalg, fft, scipy.special/linalg/
    signal. A function with no generic call must have a sample or a reason above."""
    from xform.tree_util import tree_leaves
    names = _public_functions()
    swept, no_call, failed = [], [], []
    for qualified in names:
        if qualified in _NOT_SWEPT:
            continue
        f, n = _sweep_call(qualified)
        if f is None:
            no_call.append(qualified)
            continue
        args = (_SQUARE,) * n
        try:
            with onp.errstate(all="ignore"):
                ref = xform.jvp(f, args, args)
        except Exception:   # not differentiable in these arguments (jv's order...): values
            ref = None
        try:
            with onp.errstate(all="ignore"):
                if ref is None:
                    ref, got = f(*args), f(*[_nested(a) for a in args])
                else:
                    got = xform.jvp(lambda *xs: f(*[_nested(x) for x in xs]), args, args)
            for a, b in zip(tree_leaves(ref), tree_leaves(got), strict=True):
                onp.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
        except Exception as e:
            failed.append(f"{qualified}: {type(e).__name__}: {str(e)[:120]}")
        swept.append(qualified)
    assert not no_call, f"give these a sample call or a reason: {no_call}"
    assert not failed, "\n".join(failed)
    assert len(swept) > 200


def test_unique_values_keep_the_derivative() -> None:
    """The unique values are gathered from the traced input (first occurrences); they
    used to be concretized, so their gradient was a silent zero."""
    x = onp.array([3.0, 1.0, 3.0, 2.0])
    g = xform.grad(lambda x: np.sum(np.unique(x) ** 2))(x)
    onp.testing.assert_array_equal(g, [6.0, 2.0, 0.0, 4.0])
    values, index, inverse, counts = np.unique(x, return_index=True, return_inverse=True,
                                               return_counts=True)
    for got, want in zip((values, index, inverse, counts),
                         onp.unique(x, return_index=True, return_inverse=True,
                                    return_counts=True)):
        onp.testing.assert_array_equal(got, want)
    rows = onp.array([[1.0, 2.0], [1.0, 2.0], [0.0, 5.0]])
    g = xform.grad(lambda a: np.sum(np.unique(a, axis=0) * onp.array([[1.0, 10.0]])))(rows)
    onp.testing.assert_array_equal(g, [[1.0, 10.0], [0.0, 0.0], [1.0, 10.0]])
