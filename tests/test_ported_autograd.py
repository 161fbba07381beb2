"""autograd's example programs, ported to xform.

Each program from HIPS/autograd's ``examples/`` is rewritten here with xform's
names (``from xform import grad``, ``import xform.numpy as np``,
``xform.optimizers.adam``, ``xform.tree_util.ravel_pytree``), at tiny sizes. Each
test asserts something real about the port: its gradient against central
differences (``check_grads``), forward against reverse mode, the training loss
falling, and, where the same program runs under JAX, values and gradients equal
to JAX's to 1e-10.

Models that run under both libraries are written once, as a function of the
array namespace (``np`` and its ``scipy`` modules), and built twice.
"""
from __future__ import annotations

from types import SimpleNamespace

import jax
import jax.numpy as jnp
import jax.scipy.special as jspecial
import jax.scipy.stats as jstats
import numpy as onp
import pytest

import xform
import xform.numpy as np
import xform.numpy.random as npr
import xform.scipy.signal
import xform.scipy.special as special
import xform.scipy.stats as stats
from xform import grad, jacfwd, jacrev, value_and_grad
from xform.extend import defvjp, primitive
from xform.optimizers import adam, sgd
from xform.scipy.integrate import odeint
from xform.test_util import check_grads
from xform.tree_util import ravel_pytree, register_pytree_node

XF = SimpleNamespace(np=np, stats=stats, special=special, grad=grad)
JX = SimpleNamespace(np=jnp, stats=jstats, special=jspecial, grad=jax.grad)


@pytest.fixture(autouse=True)
def jax_float64():
    """JAX in float64 for these tests only (the comparisons are to 1e-10)."""
    before = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    yield
    jax.config.update("jax_enable_x64", before)


def close_to_jax(ours, theirs, tol=1e-10):
    ours_flat, _ = ravel_pytree(ours)
    theirs_flat = onp.concatenate([onp.ravel(onp.asarray(leaf))
                                   for leaf in jax.tree_util.tree_leaves(theirs)])
    assert ours_flat.shape == theirs_flat.shape
    onp.testing.assert_allclose(ours_flat, theirs_flat, rtol=tol, atol=tol)


def to_jax(tree):
    return jax.tree_util.tree_map(jnp.asarray, tree)


def same_as_jax(ours, theirs, *args, argnums=0, tol=1e-10):
    """``ours`` (xform) and ``theirs`` (the same program under JAX) agree at ``args``
    in value and gradient; JAX's side is one ``jax.jit`` (one compile, not one per op)."""
    value, gradient = value_and_grad(ours, argnums=argnums)(*args)
    j_value, j_gradient = jax.jit(jax.value_and_grad(theirs, argnums=argnums))(*to_jax(args))
    close_to_jax(value, j_value, tol)
    close_to_jax(gradient, j_gradient, tol)


# ----------------------------------------------------------------------------- gaussian_process
def gaussian_process(ns):
    """A GP regression model: constant mean, RBF kernel with one length scale per
    input dimension; parameters are one flat vector of logs."""
    np, mvn = ns.np, ns.stats.multivariate_normal

    def rbf(kernel_params, x, xp):
        amplitude = np.exp(kernel_params[0])
        lengths = np.exp(kernel_params[1:])
        diffs = np.expand_dims(x / lengths, 1) - np.expand_dims(xp / lengths, 0)
        return amplitude * np.exp(-0.5 * np.sum(diffs ** 2, axis=2))

    def log_marginal_likelihood(params, x, y):
        mean, noise = params[0], np.exp(params[1]) + 1e-4
        cov = rbf(params[2:], x, x) + noise * np.eye(len(y))
        return mvn.logpdf(y, mean * np.ones(len(y)), cov)

    return log_marginal_likelihood


def gp_data():
    rs = onp.random.RandomState(0)
    x = onp.linspace(-3, 3, 8)[:, None]
    y = onp.cos(x[:, 0]) + 0.1 * rs.randn(8)
    return x, y


def test_gaussian_process_gradient_matches_differences_and_jax():
    x, y = gp_data()
    lml = gaussian_process(XF)
    params = onp.array([0.1, -1.0, 0.2, 0.3])
    check_grads(lambda p: lml(p, x, y), (params,), order=2)
    same_as_jax(lml, gaussian_process(JX), params, x, y)


def test_gaussian_process_fit_raises_the_marginal_likelihood():
    x, y = gp_data()
    lml = gaussian_process(XF)
    objective = lambda p: -lml(p, x, y)
    p0 = onp.array([0.0, 0.0, 0.0, 0.0])
    p = adam(lambda p, i: grad(objective)(p), p0, num_iters=60, step_size=0.1)
    assert objective(p) < objective(p0) - 1.0


# ----------------------------------------------------------------------------- rnn
TEXT = ["the cat sat", "a cat ran", "the rat sat"]


ALPHABET = sorted(set("".join(TEXT)))


def one_hot_text(lines, width):
    """(time, batch, alphabet) one-hot codes of the space-padded lines."""
    codes = onp.zeros((width, len(lines), len(ALPHABET)))
    for b, line in enumerate(lines):
        for t, ch in enumerate(line.ljust(width)):
            codes[t, b, ALPHABET.index(ch)] = 1.0
    return codes


def rnn(ns):
    np, logsumexp = ns.np, ns.special.logsumexp

    def log_softmax(z):
        return z - logsumexp(z, axis=1, keepdims=True)

    def layer(weights, inputs, hidden):
        joined = np.concatenate((inputs, hidden), axis=1)
        return np.dot(joined, weights[:-1]) + weights[-1]

    def predictions(params, inputs):
        hidden = np.repeat(params["h0"], inputs.shape[1], axis=0)
        outputs = []
        for x in inputs:
            hidden = np.tanh(layer(params["change"], x, hidden))
            outputs.append(log_softmax(np.dot(hidden, params["out"][:-1]) + params["out"][-1]))
        return outputs

    def log_likelihood(params, inputs, targets):
        logprobs = predictions(params, inputs)
        total = 0.0
        for t in range(len(logprobs)):
            total = total + np.sum(logprobs[t] * targets[t])
        return total / (inputs.shape[0] * inputs.shape[1])

    return log_likelihood


def rnn_params(rs, alphabet, hidden, scale=0.1):
    return {"h0": scale * rs.randn(1, hidden),
            "change": scale * rs.randn(alphabet + hidden + 1, hidden),
            "out": scale * rs.randn(hidden + 1, alphabet)}


def test_rnn_gradient_matches_differences_and_jax_and_training_improves():
    seq = one_hot_text(TEXT, 11)
    inputs, targets = seq[:-1], seq[1:]
    params = rnn_params(onp.random.RandomState(0), len(ALPHABET), 4)
    ll = rnn(XF)
    check_grads(lambda p: ll(p, inputs[:4], targets[:4]), (params,), order=1)
    same_as_jax(ll, rnn(JX), params, inputs[:3], targets[:3])   # (JAX compiles the unrolled loop)
    trained = adam(lambda p, i: grad(lambda q: -ll(q, inputs, targets))(p), params,
                   num_iters=25, step_size=0.1)
    assert ll(trained, inputs, targets) > ll(params, inputs, targets) + 1.0


# ----------------------------------------------------------------------------- lstm
def lstm(ns):
    np, logsumexp = ns.np, ns.special.logsumexp

    def sigmoid(z):
        return 0.5 * (np.tanh(z / 2.0) + 1.0)

    def affine(weights, inputs, hidden):
        joined = np.concatenate((inputs, hidden), axis=1)
        return np.dot(joined, weights[:-1]) + weights[-1]

    def log_likelihood(params, inputs, targets):
        batch = inputs.shape[1]
        hidden = np.repeat(params["h0"], batch, axis=0)
        cell = np.repeat(params["c0"], batch, axis=0)
        total = 0.0
        for x, target in zip(inputs, targets):
            change = np.tanh(affine(params["change"], x, hidden))
            forget = sigmoid(affine(params["forget"], x, hidden))
            ingate = sigmoid(affine(params["ingate"], x, hidden))
            outgate = sigmoid(affine(params["outgate"], x, hidden))
            cell = cell * forget + ingate * change
            hidden = outgate * np.tanh(cell)
            logits = np.dot(hidden, params["out"][:-1]) + params["out"][-1]
            total = total + np.sum((logits - logsumexp(logits, axis=1, keepdims=True)) * target)
        return total / (inputs.shape[0] * batch)

    return log_likelihood


def lstm_params(rs, alphabet, hidden, scale=0.1):
    gate = lambda: scale * rs.randn(alphabet + hidden + 1, hidden)
    return {"h0": scale * rs.randn(1, hidden), "c0": scale * rs.randn(1, hidden),
            "change": gate(), "forget": gate(), "ingate": gate(), "outgate": gate(),
            "out": scale * rs.randn(hidden + 1, alphabet)}


def test_lstm_gradient_matches_differences_and_jax_and_training_improves():
    seq = one_hot_text(TEXT, 11)
    inputs, targets = seq[:-1], seq[1:]
    params = lstm_params(onp.random.RandomState(1), len(ALPHABET), 3)
    ll = lstm(XF)
    check_grads(lambda p: ll(p, inputs[:3], targets[:3]), (params,), order=1)
    same_as_jax(ll, lstm(JX), params, inputs[:2], targets[:2])
    trained = adam(lambda p, i: grad(lambda q: -ll(q, inputs, targets))(p), params,
                   num_iters=25, step_size=0.1)
    assert ll(trained, inputs, targets) > ll(params, inputs, targets) + 1.0


# ----------------------------------------------------------------------------- convnet
def conv_layer(images, filters):
    """'valid' 2-D convolution of (batch, in, H, W) images with (out, in, h, w) filters,
    one ``scipy.signal.convolve`` per (image, output, input) triple."""
    from_images = []
    for image in images:
        outputs = []
        for bank in filters:
            outputs.append(sum(xform.scipy.signal.convolve(image[c], bank[c], mode="valid")
                               for c in range(image.shape[0])))
        from_images.append(np.stack(outputs))
    return np.stack(from_images)


def max_pool(x, size):
    b, c, h, w = x.shape
    blocks = x.reshape(b, c, h // size, size, w // size, size)
    return np.max(np.max(blocks, axis=3), axis=4)


def convnet_log_likelihood(params, images, labels):
    hidden = np.tanh(max_pool(conv_layer(images, params["filters"])
                              + params["bias"][None, :, None, None], 2))
    logits = np.dot(hidden.reshape(hidden.shape[0], -1), params["w"]) + params["b"]
    logprobs = logits - special.logsumexp(logits, axis=1, keepdims=True)
    return np.sum(logprobs * labels) / images.shape[0]


def test_convnet_gradient_and_training():
    rs = npr.RandomState(0)
    images = rs.randn(4, 1, 6, 6)
    labels = onp.eye(2)[[0, 1, 0, 1]]
    images[labels[:, 1] == 1, :, 2:4, 2:4] += 2.0     # a bright centre marks class 1
    params = {"filters": 0.3 * rs.randn(2, 1, 3, 3), "bias": onp.zeros(2),
              "w": 0.3 * rs.randn(2 * 2 * 2, 2), "b": onp.zeros(2)}
    check_grads(lambda p: convnet_log_likelihood(p, images, labels), (params,), order=1)
    trained = adam(lambda p, i: grad(lambda q: -convnet_log_likelihood(q, images, labels))(p),
                   params, num_iters=30, step_size=0.1)
    assert convnet_log_likelihood(trained, images, labels) > -0.1


# ----------------------------------------------------------------------------- black_box_svi
def black_box_variational(logprob, dim, num_samples):
    """A diagonal Gaussian q = N(mean, exp(log_std)^2) fitted by the reparameterised
    ELBO (log density by Monte Carlo, entropy in closed form)."""
    def unpack(params):
        return params[:dim], params[dim:]

    def entropy(log_std):
        return 0.5 * dim * (1.0 + onp.log(2 * onp.pi)) + np.sum(log_std)

    def elbo(params, t):
        mean, log_std = unpack(params)
        eps = npr.RandomState(t).randn(num_samples, dim)
        samples = eps * np.exp(log_std) + mean
        return entropy(log_std) + np.mean(logprob(samples, t))

    return elbo


def funnel_log_density(x, t):
    """Neal's funnel in two dimensions."""
    mu, log_sigma = x[:, 0], x[:, 1]
    sigma_density = stats.norm.logpdf(log_sigma, 0, 1.35)
    mu_density = stats.norm.logpdf(mu, 0, np.exp(log_sigma))
    return sigma_density + mu_density


def test_black_box_svi_gradient_and_fit():
    elbo = black_box_variational(funnel_log_density, 2, 50)
    params0 = onp.array([1.0, -1.0, -2.0, -2.0])
    check_grads(lambda p: elbo(p, 0), (params0,), order=2)
    assert onp.allclose(jacfwd(grad(elbo))(params0, 0), jacrev(grad(elbo))(params0, 0),
                        rtol=1e-10, atol=1e-12)
    params = adam(lambda p, i: -grad(elbo)(p, i), params0, num_iters=150, step_size=0.1)
    average = lambda p: onp.mean([elbo(p, 1000 + t) for t in range(10)])
    assert average(params) > average(params0) + 0.5
    # the funnel's log-scale marginal is N(0, 1.35^2): the fit centres on zero
    assert abs(params[1]) < 0.5


# ----------------------------------------------------------------------------- bayesian_neural_net
def make_nn_funs(layer_sizes, noise_variance=0.01, prior_variance=1.0):
    shapes = list(zip(layer_sizes[:-1], layer_sizes[1:]))
    num_weights = sum((m + 1) * n for m, n in shapes)

    def unpack_layers(weights):
        """Weights (samples, num_weights) -> per-layer (samples, m, n) and (samples, 1, n)."""
        num_samples = len(weights)
        for m, n in shapes:
            yield (weights[:, :m * n].reshape((num_samples, m, n)),
                   weights[:, m * n:m * n + n].reshape((num_samples, 1, n)))
            weights = weights[:, (m + 1) * n:]

    def predictions(weights, inputs):
        inputs = np.expand_dims(inputs, 0)
        for W, b in unpack_layers(weights):
            outputs = np.einsum("mnd,mdo->mno", inputs, W) + b
            inputs = np.tanh(outputs)
        return outputs

    def logprob(weights, inputs, targets):
        log_prior = -np.sum(weights ** 2, axis=1) / (2 * prior_variance)
        preds = predictions(weights, inputs)
        log_lik = -np.sum((preds - targets) ** 2, axis=(1, 2)) / (2 * noise_variance)
        return log_prior + log_lik

    return num_weights, predictions, logprob


def test_bayesian_neural_net_gradient_and_fit():
    num_weights, predictions, logprob = make_nn_funs([1, 6, 1], noise_variance=0.05)
    inputs = onp.linspace(-2, 2, 10)[:, None]
    targets = onp.sin(inputs)
    elbo = black_box_variational(lambda w, t: logprob(w, inputs, targets), num_weights, 5)
    rs = onp.random.RandomState(0)
    params0 = onp.concatenate([0.3 * rs.randn(num_weights), -3 * onp.ones(num_weights)])
    check_grads(lambda p: elbo(p, 0), (params0,), order=1)
    params = adam(lambda p, i: -grad(elbo)(p, i), params0, num_iters=200, step_size=0.05)
    mean_fit = predictions(params[None, :num_weights], inputs)[0]
    assert onp.mean((mean_fit - targets) ** 2) < 0.05


# ----------------------------------------------------------------------------- variational_autoencoder
def mlp(params, inputs):
    for W, b in params[:-1]:
        inputs = np.tanh(np.dot(inputs, W) + b)
    W, b = params[-1]
    return np.dot(inputs, W) + b


def vae_elbo(enc, dec, images, rs):
    stats_ = mlp(enc, images)
    latent = stats_.shape[1] // 2
    mean, log_std = stats_[:, :latent], stats_[:, latent:]
    z = mean + np.exp(log_std) * rs.randn(*mean.shape)
    logits = mlp(dec, z)
    # Bernoulli log likelihood of the binary pixels, from logits
    log_lik = np.sum(images * logits - np.logaddexp(0.0, logits), axis=1)
    log_prior = np.sum(stats.norm.logpdf(z, 0, 1), axis=1)
    log_q = np.sum(stats.norm.logpdf(z, mean, np.exp(log_std)), axis=1)
    return np.mean(log_lik + log_prior - log_q)


def init_mlp(rs, sizes, scale=0.3):
    return [(scale * rs.randn(m, n), scale * rs.randn(n)) for m, n in zip(sizes[:-1], sizes[1:])]


def test_variational_autoencoder_gradient_and_training():
    rs = onp.random.RandomState(0)
    patterns = onp.array([[1, 1, 0, 0, 1, 0], [0, 0, 1, 1, 0, 1]], dtype=float)
    images = patterns[rs.randint(2, size=8)]
    params = (init_mlp(rs, [6, 4, 2]), init_mlp(rs, [1, 4, 6]))
    objective = lambda p, i: -vae_elbo(p[0], p[1], images, onp.random.RandomState(i))
    check_grads(lambda p: objective(p, 0), (params,), order=1)
    flat0, unravel = ravel_pytree(params)
    assert onp.allclose(jacfwd(lambda f: objective(unravel(f), 0))(flat0),
                        grad(lambda f: objective(unravel(f), 0))(flat0), rtol=1e-10, atol=1e-12)
    trained = adam(lambda p, i: grad(objective)(p, i), params, num_iters=150, step_size=0.05)
    before = onp.mean([objective(params, 500 + i) for i in range(5)])
    after = onp.mean([objective(trained, 500 + i) for i in range(5)])
    assert after < before - 1.0


# ----------------------------------------------------------------------------- gmm
def gmm(ns):
    np, mvn, logsumexp = ns.np, ns.stats.multivariate_normal, ns.special.logsumexp

    def log_likelihood(params, data):
        """Mixture of Gaussians with free log proportions and Cholesky-like factors."""
        log_weights = params["log_proportions"] - logsumexp(params["log_proportions"])
        per_cluster = []
        for log_w, mean, chol in zip(log_weights, params["means"], params["lower_tris"]):
            cov = np.dot(chol.T, chol) + 1e-3 * np.eye(data.shape[1])
            per_cluster.append(log_w + mvn.logpdf(data, mean, cov))
        return np.sum(logsumexp(np.stack(per_cluster, axis=1), axis=1))

    return log_likelihood


def gmm_data(rs):
    return onp.concatenate([rs.randn(10, 2) * 0.3 + [2.0, 0.0], rs.randn(10, 2) * 0.3 - [2.0, 0.0]])


def test_gmm_gradient_matches_differences_and_jax_and_fit():
    rs = onp.random.RandomState(0)
    data = gmm_data(rs)
    params = {"log_proportions": rs.randn(2), "means": rs.randn(2, 2),
              "lower_tris": onp.stack([onp.eye(2), onp.eye(2)]) + 0.1 * rs.randn(2, 2, 2)}
    ll = gmm(XF)
    check_grads(lambda p: ll(p, data), (params,), order=2)
    same_as_jax(ll, gmm(JX), params, data)
    trained = adam(lambda p, i: grad(lambda q: -ll(q, data))(p), params, num_iters=150,
                   step_size=0.1)
    assert ll(trained, data) > ll(params, data) + 10.0
    low, high = sorted(trained["means"][:, 0])      # one component on each cluster
    assert low < -1.0 and high > 1.0


# ----------------------------------------------------------------------------- hmm_em
def hmm(ns):
    """A discrete HMM's log partition function by the forward algorithm, in natural
    parameters (logs of initial, transition and emission probabilities). Its gradient
    is the E-step: the expected counts."""
    np, logsumexp = ns.np, ns.special.logsumexp

    def log_partition(natural_params, data):
        log_pi, log_A, log_B = natural_params
        log_alpha = log_pi + np.dot(log_B, data[0])
        for y in data[1:]:
            log_alpha = logsumexp(log_alpha[:, None] + log_A, axis=0) + np.dot(log_B, y)
        return logsumexp(log_alpha)

    return log_partition


def hmm_em_step(log_partition, params, data):
    """One EM step: expected counts by reverse mode, then normalise."""
    natural = tuple(onp.log(p) for p in params)
    counts = grad(log_partition)(natural, data)
    return tuple(c / c.sum(axis=-1, keepdims=True) for c in counts)


def test_hmm_em_expected_counts_and_likelihood_increase():
    rs = onp.random.RandomState(0)
    states, symbols = 2, 3
    truth = [0, 0, 1, 2, 2, 1, 0, 0, 1, 2, 2, 2, 1, 0]
    data = onp.eye(symbols)[truth]
    normalise = lambda a: a / a.sum(axis=-1, keepdims=True)
    params = (normalise(rs.rand(states)), normalise(rs.rand(states, states)),
              normalise(rs.rand(states, symbols)))
    log_partition = hmm(XF)
    natural = tuple(onp.log(p) for p in params)
    counts = grad(log_partition)(natural, data)
    # expected counts: one initial state, len(data) - 1 transitions, len(data) emissions
    assert onp.isclose(counts[0].sum(), 1.0)
    assert onp.isclose(counts[1].sum(), len(data) - 1)
    onp.testing.assert_allclose(counts[2].sum(axis=0), data.sum(axis=0), rtol=1e-12)
    check_grads(lambda nat: log_partition(nat, data), (natural,), order=2)
    same_as_jax(log_partition, hmm(JX), natural, data[:4])
    likelihoods = []
    for _ in range(8):
        params = hmm_em_step(log_partition, params, data)
        likelihoods.append(log_partition(tuple(onp.log(p) for p in params), data))
    assert all(b >= a - 1e-10 for a, b in zip(likelihoods, likelihoods[1:]))
    assert likelihoods[-1] > log_partition(natural, data) + 1.0


# ----------------------------------------------------------------------------- ica
def ica(ns):
    """ICA with heavy-tailed (Student t) sources: data = sources @ weights + noise;
    the joint log density of sources and data."""
    np, t_dist, norm = ns.np, ns.stats.t, ns.stats.norm

    def log_joint(params, data, latent_dim, dof=2.5, noise=0.1):
        n, d = data.shape
        weights = params[:latent_dim * d].reshape(latent_dim, d)
        sources = params[latent_dim * d:].reshape(n, latent_dim)
        log_prior = np.sum(t_dist.logpdf(sources, dof))
        log_lik = np.sum(norm.logpdf(data, np.dot(sources, weights), noise))
        return log_prior + log_lik

    return log_joint


def test_ica_gradient_matches_jax_and_map_fit():
    rs = onp.random.RandomState(0)
    n, d, k = 12, 3, 2
    sources = rs.standard_t(2.5, size=(n, k))
    mixing = rs.randn(k, d)
    data = sources @ mixing + 0.1 * rs.randn(n, d)
    log_joint = ica(XF)
    params0 = 0.1 * rs.randn(k * d + n * k)
    check_grads(lambda p: log_joint(p, data, k), (params0,), order=2)
    j_log_joint = ica(JX)
    same_as_jax(lambda p, x: log_joint(p, x, k), lambda p, x: j_log_joint(p, x, k), params0, data)
    fitted = adam(lambda p, i: -grad(log_joint)(p, data, k), params0, num_iters=300,
                  step_size=0.05)
    w = fitted[:k * d].reshape(k, d)
    s = fitted[k * d:].reshape(n, k)
    assert onp.mean((s @ w - data) ** 2) < 0.1 * onp.mean(data ** 2)


# ----------------------------------------------------------------------------- fixed_points
def newton_sqrt_step(a, x):
    return 0.5 * (x + a / x)


def fixed_point_unrolled(step, a, x0, tol=1e-12):
    """Iterate until the update is below tol: Python control flow on traced values."""
    x, x_next = x0, step(a, x0)
    while np.abs(x_next - x) > tol:
        x, x_next = x_next, step(a, x_next)
    return x_next


@xform.custom_vjp
def fixed_point_implicit(a, x0):
    return fixed_point_unrolled(newton_sqrt_step, a, x0)


def _fp_fwd(a, x0):
    x_star = fixed_point_implicit(a, x0)
    return x_star, (a, x_star)


def _fp_bwd(res, g):
    """Implicit function theorem: x* = f(a, x*), so dx*/da = f_a / (1 - f_x), summed
    as the fixed point of u -> g + u f_x (reverse-mode iteration)."""
    a, x_star = res
    _, vjp_a = xform.vjp(lambda a_: newton_sqrt_step(a_, x_star), a)
    _, vjp_x = xform.vjp(lambda x_: newton_sqrt_step(a, x_), x_star)
    u = g
    for _ in range(60):
        u = g + vjp_x(u)[0]
    return vjp_a(u)[0], 0.0      # the fixed point does not depend on the start


fixed_point_implicit.defvjp(_fp_fwd, _fp_bwd)


def test_fixed_point_sqrt_derivatives():
    a = 2.0
    exact = 0.5 / onp.sqrt(a)
    sqrt_unrolled = lambda a: fixed_point_unrolled(newton_sqrt_step, a, 1.0)
    assert onp.isclose(sqrt_unrolled(a), onp.sqrt(a), rtol=1e-14)
    assert onp.isclose(grad(sqrt_unrolled)(a), exact, rtol=1e-10)
    assert onp.isclose(grad(lambda a: fixed_point_implicit(a, 1.0))(a), exact, rtol=1e-12)
    check_grads(lambda a: fixed_point_implicit(a, 1.0), (a,), order=1, modes=("rev",))


# ----------------------------------------------------------------------------- ode_net
def ode_dynamics(y, t, params):
    """A one-hidden-layer network as the vector field."""
    (W1, b1), (W2, b2) = params
    return np.dot(np.tanh(np.dot(y, W1) + b1), W2) + b2


def test_ode_net_gradient_and_training():
    ts = onp.linspace(0.0, 1.0, 5)
    y0 = onp.array([1.0, 0.0])
    true_A = onp.array([[-0.1, 2.0], [-2.0, -0.1]])
    target = odeint(lambda y, t: np.dot(y, true_A), y0, ts)
    rs = onp.random.RandomState(0)
    params = [(0.5 * rs.randn(2, 4), onp.zeros(4)), (0.5 * rs.randn(4, 2), onp.zeros(2))]

    def loss(params):
        pred = odeint(ode_dynamics, y0, ts, params)
        return np.mean((pred - target) ** 2)

    check_grads(loss, (params,), order=1, rtol=1e-4, atol=1e-6)
    trained = adam(lambda p, i: grad(loss)(p), params, num_iters=25, step_size=0.05)
    assert loss(trained) < 0.5 * loss(params)


# ----------------------------------------------------------------------------- natural_gradient_black_box_svi
def diag_gaussian_log_density(x, mean, log_std):
    return np.sum(stats.norm.logpdf(x, mean, np.exp(log_std)), axis=-1)


def test_natural_gradient_fisher_matches_closed_form_and_converges_faster():
    dim = 2
    target_mean, target_log_std = onp.array([1.0, -2.0]), onp.array([-0.5, 0.5])
    logprob = lambda x, t: diag_gaussian_log_density(x, target_mean, target_log_std)
    elbo = black_box_variational(logprob, dim, 200)

    def fisher(params):
        """Fisher information of q: the covariance of the score (the Jacobian of log q
        at each sample, by forward mode: four inputs, thousands of outputs)."""
        mean, log_std = params[:dim], params[dim:]
        samples = mean + onp.exp(log_std) * onp.random.RandomState(0).randn(4000, dim)
        score = jacfwd(lambda p: diag_gaussian_log_density(samples, p[:dim], p[dim:]))(params)
        return score.T @ score / len(samples)

    params0 = onp.array([0.0, 0.0, 0.5, -0.5])
    closed_form = onp.diag(onp.concatenate([onp.exp(-2 * params0[dim:]), 2 * onp.ones(dim)]))
    onp.testing.assert_allclose(fisher(params0), closed_form, atol=0.15 * closed_form.max())

    def natural_grad(p, i):
        F = onp.diag(onp.concatenate([onp.exp(-2 * p[dim:]), 2 * onp.ones(dim)]))
        return -onp.linalg.solve(F, grad(elbo)(p, i))

    plain = sgd(lambda p, i: -grad(elbo)(p, i), params0, num_iters=30, step_size=0.2,
                mass=0.0)
    natural = sgd(natural_grad, params0, num_iters=30, step_size=0.2, mass=0.0)
    distance = lambda p: onp.linalg.norm(p - onp.concatenate([target_mean, target_log_std]))
    assert distance(natural) < 0.5 * distance(plain)


# ----------------------------------------------------------------------------- negative_binomial_maxlike
def negbin_loglik(r, p, x, ns=XF):
    np, gammaln = ns.np, ns.special.gammaln
    return np.sum(gammaln(x + r) - gammaln(r) - gammaln(x + 1)
                  + x * np.log(p) + r * np.log1p(-p))


def negbin_fit(x):
    """Maximum likelihood in unconstrained coordinates (log r, logit p)."""
    def objective(params):
        r = np.exp(params[0])
        p = special.expit(params[1])
        return -negbin_loglik(r, p, x) / len(x)

    params = adam(lambda q, i: grad(objective)(q), onp.array([0.0, 0.0]), num_iters=400,
                  step_size=0.05)
    return onp.exp(params[0]), special.expit(params[1]), objective


def test_negative_binomial_maxlike():
    rs = onp.random.RandomState(0)
    r_true, p_true = 5.0, 0.3
    # NumPy's success probability is our 1 - p (x counts failures before r successes)
    x = rs.negative_binomial(r_true, 1 - p_true, size=400).astype(float)
    check_grads(lambda r, p: negbin_loglik(r, p, x), (3.0, 0.4), order=2)
    same_as_jax(lambda r, p: negbin_loglik(r, p, x), lambda r, p: negbin_loglik(r, p, x, JX),
                3.0, 0.4, argnums=(0, 1))
    r_hat, p_hat, objective = negbin_fit(x)
    # the mean r p / (1 - p) matches the sample mean at the optimum
    assert onp.isclose(r_hat * p_hat / (1 - p_hat), x.mean(), rtol=0.02)
    assert abs(r_hat - r_true) < 2.0 and abs(p_hat - p_true) < 0.1


# ----------------------------------------------------------------------------- rkhs
class RKHSFun:
    """A function in the RKHS of a kernel: f(x) = sum_i alpha_i k(c_i, x) over fixed
    centres c_i. A pytree, so gradients with respect to f are RKHSFun too."""

    def __init__(self, centres, alphas, length=0.5):
        self.centres, self.alphas, self.length = centres, alphas, length

    def kernel(self, x, xp):
        return np.exp(-0.5 * (x[:, None] - xp[None, :]) ** 2 / self.length ** 2)

    def __call__(self, x):
        return np.dot(self.kernel(np.asarray(x), self.centres), self.alphas)

    def norm2(self):
        return np.dot(self.alphas, np.dot(self.kernel(self.centres, self.centres), self.alphas))


register_pytree_node(RKHSFun, lambda f: ((f.alphas,), (f.centres, f.length)),
                     lambda aux, children: RKHSFun(aux[0], children[0], aux[1]))


def test_rkhs_regression_by_gradient_descent():
    xs = onp.linspace(-2, 2, 9)
    ys = onp.sin(2 * xs)

    def loss(f):
        return np.sum((f(xs) - ys) ** 2) + 1e-3 * f.norm2()

    f0 = RKHSFun(xs, onp.zeros(9))
    g = grad(loss)(f0)
    assert isinstance(g, RKHSFun) and g.centres is xs
    check_grads(loss, (RKHSFun(xs, 0.1 * onp.arange(9.0)),), order=2)
    f = sgd(lambda f, i: grad(loss)(f), f0, num_iters=300, step_size=0.05)
    assert isinstance(f, RKHSFun)
    assert loss(f) < 0.05 * loss(f0)


# ----------------------------------------------------------------------------- define_gradient
@primitive
def logsumexp_prim(x):
    """A primitive: NumPy computes it, and the rule below differentiates it."""
    top = onp.max(x)
    return top + onp.log(onp.sum(onp.exp(x - top)))


def logsumexp_vjp(ans, x):
    return lambda g: g * np.exp(x - ans)      # rules written with xform.numpy differentiate again


defvjp(logsumexp_prim, logsumexp_vjp)


def test_define_gradient_custom_rule():
    x = onp.array([1.5, 6.7, 1e-10])
    expected = onp.exp(x - special.logsumexp(x))
    onp.testing.assert_allclose(grad(logsumexp_prim)(x), expected, rtol=1e-14)
    check_grads(logsumexp_prim, (x,), order=2, modes=("rev",))
    big = onp.array([1000.0, 1000.0])            # the rule is stable where exp overflows
    onp.testing.assert_allclose(grad(logsumexp_prim)(big), [0.5, 0.5])
    example = lambda x: logsumexp_prim(np.sin(x) * 3.0) * np.sum(x)
    check_grads(example, (x,), order=2, modes=("rev",))


# ----------------------------------------------------------------------------- print_trace
def test_print_trace_shows_the_recorded_program(capsys):
    def fun(x):
        y = np.sin(x) * 2.0
        print("inside:", y)
        return np.sum(np.tanh(y))

    grad(fun)(onp.array([0.1, 0.2]))
    printed = capsys.readouterr().out
    assert "inside: Traced<f64[2]>(by TapeTrace) with value [0.19" in printed
    program = str(xform.make_jaxpr(fun)(onp.array([0.1, 0.2])))
    capsys.readouterr()
    names = [line.split(" = ")[1].split()[0].split("[")[0]
             for line in program.splitlines() if " = " in line]
    assert names == ["sin", "multiply", "tanh", "reduce_sum"]
    backward = str(xform.make_jaxpr(grad(fun))(onp.array([0.1, 0.2])))
    assert "cos" in backward


# ----------------------------------------------------------------------------- sinusoid
def taylor_sine(x):
    """sin by its Taylor series, summed until the terms are negligible."""
    ans = term = x
    i = 0
    while np.abs(term) > 1e-12:
        term = -term * x ** 2 / ((2 * i + 3) * (2 * i + 2))
        ans = ans + term
        i += 1
    return ans


def test_sinusoid_derivatives():
    xs = onp.linspace(-7, 7, 9)
    d = xform.elementwise_grad(np.sin)
    dd = xform.elementwise_grad(d)
    ddd = xform.elementwise_grad(dd)
    onp.testing.assert_allclose(d(xs), onp.cos(xs), atol=1e-15)
    onp.testing.assert_allclose(dd(xs), -onp.sin(xs), atol=1e-15)
    onp.testing.assert_allclose(ddd(xs), -onp.cos(xs), atol=1e-15)
    for x in (0.0, 1.0, -3.0):
        assert onp.isclose(taylor_sine(x), onp.sin(x), atol=1e-12)
        assert onp.isclose(grad(taylor_sine)(x), onp.cos(x), atol=1e-11)
        assert onp.isclose(grad(grad(taylor_sine))(x), -onp.sin(x), atol=1e-10)


# ----------------------------------------------------------------------------- mixture_variational_inference
def mixture_elbo(logprob, dim, components, num_samples):
    """A mixture of diagonal Gaussians as q; its ELBO by reparameterised samples from
    each component, weighted by the mixture proportions."""
    def unpack(params):
        log_w = params["log_weights"] - special.logsumexp(params["log_weights"])
        return log_w, params["means"], params["log_stds"]

    def log_q(x, log_w, means, log_stds):
        per = [lw + diag_gaussian_log_density(x, m, s) for lw, m, s in zip(log_w, means, log_stds)]
        return special.logsumexp(np.stack(per, axis=-1), axis=-1)

    def elbo(params, t):
        log_w, means, log_stds = unpack(params)
        eps = npr.RandomState(t).randn(components, num_samples, dim)
        total = 0.0
        for k in range(components):
            x = means[k] + np.exp(log_stds[k]) * eps[k]
            total = total + np.exp(log_w[k]) * np.mean(logprob(x) - log_q(x, log_w, means, log_stds))
        return total

    return elbo


def test_mixture_variational_inference_covers_both_modes():
    def bimodal(x):
        a = diag_gaussian_log_density(x, onp.array([-2.0, 0.0]), onp.log(0.5) * onp.ones(2))
        b = diag_gaussian_log_density(x, onp.array([2.0, 0.0]), onp.log(0.5) * onp.ones(2))
        return np.logaddexp(a, b)

    elbo = mixture_elbo(bimodal, 2, 2, 20)
    params0 = {"log_weights": onp.zeros(2), "means": onp.array([[-0.5, 0.1], [0.5, -0.1]]),
               "log_stds": onp.zeros((2, 2))}
    check_grads(lambda p: elbo(p, 0), (params0,), order=1)
    objective = lambda p, i: -elbo(p, i)
    params = adam(grad(objective), params0, num_iters=150, step_size=0.1)
    low, high = sorted(params["means"][:, 0])
    assert low < -1.5 and high > 1.5
