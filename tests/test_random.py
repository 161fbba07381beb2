"""xform.random: the bits of JAX's threefry2x32 generator (known-answer vectors made once
with JAX, tests/data/gen_random_kat.py), and the samplers under jit, vmap and grad."""
from __future__ import annotations

import json
import pathlib
import warnings
from typing import Any, Callable

import numpy as onp
import pytest
import scipy.special as sc

import xform
import xform.numpy as xnp
from xform import random as R
from xform.test_util import check_grads

KAT = json.loads((pathlib.Path(__file__).parent / "data" / "random_kat.json").read_text())
F32, F64 = onp.float32, onp.float64
LOGITS = onp.log(onp.array([[0.1, 0.2, 0.7, 0.0001, 0.5]] * 3) + onp.arange(3)[:, None])
P5 = onp.array([0.1, 0.2, 0.3, 0.15, 0.25])

#: the calls of gen_random_kat.py, on xform.random
CASES: dict[str, Callable[[Any], Any]] = {
    "split": lambda k: R.split(k),
    "split3": lambda k: R.split(k, 3),
    "split22": lambda k: R.split(k, (2, 2)),
    "fold_in7": lambda k: R.fold_in(k, 7),
    "fold_in_big": lambda k: R.fold_in(k, 2 ** 31 + 3),
    "bits32": lambda k: R.bits(k, (3, 4), onp.uint32),
    "bits64": lambda k: R.bits(k, (5,), onp.uint64),
    "bits16": lambda k: R.bits(k, (7,), onp.uint16),
    "bits8": lambda k: R.bits(k, (7,), onp.uint8),
    "bits32_scalar": lambda k: R.bits(k, (), onp.uint32),
    "uniform32": lambda k: R.uniform(k, (2, 3), F32),
    "uniform64": lambda k: R.uniform(k, (5,), F64),
    "uniform64_range": lambda k: R.uniform(k, (4,), F64, -3.0, 5.0),
    "uniform16": lambda k: R.uniform(k, (6,), onp.float16),
    "normal32": lambda k: R.normal(k, (10,), F32),
    "normal64": lambda k: R.normal(k, (10,), F64),
    "normal_c128": lambda k: R.normal(k, (3,), onp.complex128),
    "truncated32": lambda k: R.truncated_normal(k, -2.0, 2.0, (8,), F32),
    "truncated64": lambda k: R.truncated_normal(k, -0.5, 1.5, (8,), F64),
    "bernoulli64": lambda k: R.bernoulli(k, 0.3, (20,)),
    "bernoulli32": lambda k: R.bernoulli(k, onp.float32(0.7), (20,)),
    "gumbel64": lambda k: R.gumbel(k, (6,), F64),
    "exponential32": lambda k: R.exponential(k, (6,), F32),
    "categorical": lambda k: R.categorical(k, LOGITS, shape=(4, 3)),
    "categorical_axis0": lambda k: R.categorical(k, LOGITS.T, axis=0),
    "categorical_noreplace": lambda k: R.categorical(k, LOGITS[0], shape=(3,), replace=False),
    "randint64": lambda k: R.randint(k, (10,), 0, 100),
    "randint32": lambda k: R.randint(k, (10,), -5, 5, onp.int32),
    "randint8": lambda k: R.randint(k, (10,), -128, 128, onp.int8),
    "randint_uint8": lambda k: R.randint(k, (10,), 0, 256, onp.uint8),
    "randint_scalar": lambda k: R.randint(k, (), 3, 17),
    "randint_big": lambda k: R.randint(k, (6,), -2 ** 40, 2 ** 41),
    "permutation10": lambda k: R.permutation(k, 10),
    "permutation2000": lambda k: R.permutation(k, 2000),
    "permutation_rows": lambda k: R.permutation(k, onp.arange(12).reshape(3, 4), axis=1),
    "permutation_independent": lambda k: R.permutation(k, onp.arange(12).reshape(3, 4), 1, True),
    "choice_replace": lambda k: R.choice(k, 10, (5,)),
    "choice_noreplace": lambda k: R.choice(k, onp.arange(20) * 3, (6,), replace=False),
    "choice_p": lambda k: R.choice(k, 5, (7,), p=P5),
    "choice_p_noreplace": lambda k: R.choice(k, 5, (3,), False, P5),
    "gamma64": lambda k: R.gamma(k, onp.array([0.3, 1.0, 2.5, 7.0]), dtype=F64),
    "gamma32": lambda k: R.gamma(k, 2.0, (5,), F32),
    "loggamma64": lambda k: R.loggamma(k, onp.array([0.01, 0.5, 3.0]), dtype=F64),
    "beta64": lambda k: R.beta(k, 2.0, 5.0, (5,), F64),
    "dirichlet64": lambda k: R.dirichlet(k, onp.array([0.5, 1.0, 4.0]), (2,), F64),
}
#: computed through SciPy's erfinv / NumPy's log rather than XLA's: a few ulps apart
APPROX = {"normal32": 2e-6, "normal64": 1e-14, "normal_c128": 1e-14, "truncated32": 5e-6,
          "truncated64": 1e-14, "gumbel64": 1e-14, "exponential32": 1e-6, "gamma64": 1e-13,
          "gamma32": 5e-6, "loggamma64": 1e-13, "beta64": 1e-13, "dirichlet64": 1e-13}


def expected(entry: dict) -> onp.ndarray:
    if "real" in entry:
        return (onp.array(entry["real"]) + 1j * onp.array(entry["imag"])).astype(
            entry["dtype"]).reshape(entry["shape"])
    return onp.array(entry["values"], dtype=entry["dtype"]).reshape(entry["shape"])


def test_the_known_answers_cover_every_case() -> None:
    for name in KAT["keys"]:
        assert set(KAT["cases"][name]) == set(CASES)


@pytest.mark.parametrize("seed_name", sorted(KAT["keys"]))
def test_keys_match_jax(seed_name: str) -> None:
    info = KAT["keys"][seed_name]
    assert R.PRNGKey(info["seed"]).tolist() == info["key"]
    assert R.PRNGKey(info["seed"]).dtype == onp.uint32


@pytest.mark.parametrize("case", sorted(CASES))
def test_draws_match_jax(case: str) -> None:
    for name, info in KAT["keys"].items():
        want = expected(KAT["cases"][name][case])
        got = onp.asarray(CASES[case](R.PRNGKey(info["seed"])))
        assert got.dtype == want.dtype and got.shape == want.shape, (case, got.dtype, got.shape)
        if case in APPROX:
            onp.testing.assert_allclose(got, want, rtol=APPROX[case], atol=0, err_msg=case)
        else:
            onp.testing.assert_array_equal(got, want, err_msg=f"{case} (key {name})")


def test_threefry_known_answer_from_the_paper() -> None:
    # Random123's known-answer test for threefry2x32_20: key and counter all zeros
    y1, y2 = R.threefry_2x32(*[onp.uint32(0)] * 4)
    assert (int(y1), int(y2)) == (0x6B200159, 0x99BA4EFE)
    y1, y2 = R.threefry_2x32(*[onp.uint32(0xFFFFFFFF)] * 4)
    assert (int(y1), int(y2)) == (0x1CB996FC, 0xBB002BE7)


# only the cases whose draws are exact (the others take rejection loops on concrete keys)
TRACEABLE = ["split", "fold_in7", "bits32", "bits64", "uniform32", "normal64", "truncated64",
             "bernoulli64", "categorical", "categorical_noreplace", "randint64",
             "randint_scalar", "randint8", "permutation10", "permutation_rows",
             "choice_replace", "choice_noreplace", "choice_p", "choice_p_noreplace",
             "gamma64", "beta64", "dirichlet64", "gumbel64"]


@pytest.mark.parametrize("case", TRACEABLE)
def test_jit_and_vmap_over_keys_match_eager(case: str) -> None:
    f = CASES[case]
    key = R.PRNGKey(7)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warnings from wrapped uint arithmetic
        onp.testing.assert_array_equal(xform.jit(f)(key), f(key))
        keys = R.split(key, 3)
        loop = onp.stack([onp.asarray(f(k)) for k in keys])
        onp.testing.assert_array_equal(xform.vmap(f)(keys), loop)
        onp.testing.assert_array_equal(xform.jit(xform.vmap(f))(keys), loop)


def test_key_from_a_traced_seed() -> None:
    for seed in (0, 42, 2 ** 40 + 5):
        onp.testing.assert_array_equal(xform.jit(R.PRNGKey)(onp.int64(seed)), R.PRNGKey(seed))
    onp.testing.assert_array_equal(xform.vmap(R.PRNGKey)(onp.arange(3)),
                                   onp.stack([R.PRNGKey(i) for i in range(3)]))


def test_jit_draws_depend_on_the_key_argument() -> None:
    draw = xform.jit(lambda k: R.normal(k, (3,)))
    k1, k2 = R.split(R.PRNGKey(0))
    assert not onp.allclose(draw(k1), draw(k2))
    onp.testing.assert_array_equal(draw(k1), R.normal(k1, (3,)))


def test_reparameterised_samples_differentiate() -> None:
    key = R.PRNGKey(3)
    z = R.normal(key, (5,))
    check_grads(lambda m, s: m + s * R.normal(key, (5,)), (0.5, 2.0), order=2)
    g = xform.grad(lambda m, s: xnp.sum(m + s * R.normal(key, (5,))), argnums=(0, 1))(0.5, 2.0)
    onp.testing.assert_allclose(g, (5.0, z.sum()))
    check_grads(lambda lo, hi: R.uniform(key, (4,), minval=lo, maxval=hi), (-1.0, 3.0), order=2)
    check_grads(lambda lo, hi: R.truncated_normal(key, lo, hi, (4,)), (-1.0, 0.7), order=1)


def test_gamma_gradient_is_the_implicit_reparameterisation() -> None:
    # d x / d a holding the quantile P(a, x) fixed, as jax.random.gamma defines it
    key, a = R.PRNGKey(5), onp.array([0.4, 1.5, 6.0])
    x = R.gamma(key, a)
    g = xform.jacfwd(lambda a: R.gamma(key, a))(a).diagonal()
    u, eps = sc.gammainc(a, x), 1e-6
    fd = (sc.gammaincinv(a + eps, u) - sc.gammaincinv(a - eps, u)) / (2 * eps)
    onp.testing.assert_allclose(g, fd, rtol=1e-5)
    onp.testing.assert_allclose(xform.jit(xform.grad(lambda a: R.gamma(key, a).sum()))(a),
                                xform.grad(lambda a: R.gamma(key, a).sum())(a), rtol=1e-12)


def test_loggamma_beta_dirichlet_differentiate_in_their_parameters() -> None:
    """loggamma's derivative is gamma's implicit reparameterisation in log space; beta and
    dirichlet, built on it, differentiate through it (they refused before)."""
    key, a = R.PRNGKey(6), onp.array([0.05, 0.4, 1.5, 6.0])
    log_x = R.loggamma(key, a)
    g = xform.jacfwd(lambda a: R.loggamma(key, a))(a).diagonal()
    u, eps = sc.gammainc(a, onp.exp(log_x)), 1e-7
    fd = (onp.log(sc.gammaincinv(a + eps, u)) - onp.log(sc.gammaincinv(a - eps, u))) / (2 * eps)
    onp.testing.assert_allclose(g, fd, rtol=1e-5)
    # beta(a, b) = Ga / (Ga + Gb), each gamma held at its quantile while a and b move
    b = 3.0
    key_a, key_b = R.split(key)[0], R.split(key)[1]
    xa, xb = onp.exp(R.loggamma(key_a, 2.0, (3,))), onp.exp(R.loggamma(key_b, b, (3,)))
    ua, ub = sc.gammainc(2.0, xa), sc.gammainc(b, xb)

    def beta_at(a: float, b: float) -> onp.ndarray:
        ga, gb = sc.gammaincinv(a, ua), sc.gammaincinv(b, ub)
        return ga / (ga + gb)

    onp.testing.assert_allclose(R.beta(key, 2.0, b, (3,)), beta_at(2.0, b), rtol=1e-12)
    for argnum, numerical in ((0, (beta_at(2.0 + eps, b) - beta_at(2.0 - eps, b)) / (2 * eps)),
                              (1, (beta_at(2.0, b + eps) - beta_at(2.0, b - eps)) / (2 * eps))):
        got = xform.jacfwd(lambda a, b: R.beta(key, a, b, (3,)), argnums=argnum)(2.0, b)
        onp.testing.assert_allclose(got, numerical, rtol=1e-5)
    alpha = onp.array([1.0, 2.0, 3.0])
    jac = xform.jacrev(lambda al: R.dirichlet(key, al))(alpha)
    onp.testing.assert_allclose(jac.sum(axis=0), 0.0, atol=1e-12)  # stays on the simplex
    onp.testing.assert_allclose(jac, xform.jacfwd(lambda al: R.dirichlet(key, al))(alpha),
                                rtol=1e-12)


def test_sample_statistics() -> None:
    key = R.PRNGKey(11)
    n = 20000
    assert abs(R.normal(key, (n,)).mean()) < 0.03 and abs(R.normal(key, (n,)).std() - 1) < 0.02
    assert abs(R.bernoulli(key, 0.3, (n,)).mean() - 0.3) < 0.02
    counts = onp.bincount(R.categorical(key, onp.log(P5), shape=(n,)), minlength=5) / n
    onp.testing.assert_allclose(counts, P5, atol=0.015)
    assert abs(R.gamma(key, 3.0, (n,)).mean() - 3.0) < 0.06
    r = R.randint(key, (n,), -3, 4)
    assert r.min() == -3 and r.max() == 3
    assert sorted(R.permutation(key, 50).tolist()) == list(range(50))


def test_errors_name_the_function_and_the_fix() -> None:
    with pytest.raises(TypeError, match=r"xform.random.normal: key must be a single key.*vmap"):
        R.normal(R.split(R.PRNGKey(0), 3), (2,))
    with pytest.raises(ValueError, match=r"xform.random.uniform: dtype must be a float"):
        R.uniform(R.PRNGKey(0), (2,), onp.int32)
    with pytest.raises(TypeError, match=r"xform.random.PRNGKey: seed must be an integer"):
        R.PRNGKey(1.5)
    with pytest.raises(ValueError, match=r"xform.random.choice: cannot take a larger sample"):
        R.choice(R.PRNGKey(0), 3, (5,), replace=False)


def test_a_numpy_random_draw_under_jit_warns() -> None:
    from xform.core.staging import TracedRandomWarning, staging_active, warn_if_staged

    def f(x):
        warn_if_staged("numpy.random.normal")
        return x + onp.random.normal()

    assert not staging_active()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        f(1.0)  # eager: no warning
        xform.grad(f)(1.0)  # concrete tracing draws every call: no warning
    with pytest.warns(TracedRandomWarning, match=r"frozen.*xform.random.normal\(key, shape\)"):
        xform.jit(f)(1.0)
    with pytest.warns(TracedRandomWarning):
        xform.make_jaxpr(xform.grad(f))(1.0)
