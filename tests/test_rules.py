"""One generic test of every primitive's derivative rules, driven by the registry.

For each primitive and each of its input domains (tests/domains.py):

* differentiable primitives: forward mode against central differences, reverse
  against forward (``<ct, J t> == <J^T ct, t>``), and the same checks on
  ``x -> J(x) t`` and on ``x -> J(x)^T ct``, i.e. the rules are differentiable
  again (which ``grad(grad(f))`` and forward-over-reverse rely on);
* non-differentiable primitives: they evaluate, return plain values (never a
  tracer) under ``jvp`` and ``grad``, and contribute a zero derivative.

A primitive without a domain entry fails by name. A second test checks that
float32 inputs give float32 outputs, tangents and cotangents.
"""
from __future__ import annotations

import functools
import zlib
from typing import Any

import numpy as onp
import pytest

import xform
import xform.numpy as xnp
from xform.core.primitive import Primitive, registry
from xform.core.trace import Tracer, bind
from xform.test_util import import_all_modules

from domains import DOMAINS, Domain
from helpers import (ATOL, EPS, EXACT_RTOL, RTOL, as_list, check_jvp, check_vjp,
                     jvp_tangent_fn, random_like, vjp_cotangent_fn)


IMPORT_FAILURES = import_all_modules()
PRIMITIVES = sorted(registry)


def test_every_module_imports():
    assert not IMPORT_FAILURES, f"modules of xform that fail to import: {IMPORT_FAILURES}"


def test_domain_table_has_no_stale_entries():
    stale = sorted(set(DOMAINS) - set(registry))
    assert not stale, f"tests/domains.py has domains for unknown primitives: {stale}"


def _rng(name: str, k: int) -> onp.random.Generator:
    return onp.random.default_rng(zlib.crc32(f"{name}/{k}".encode()))


def _bound(prim: Primitive, args: tuple, params: dict, diff: tuple[int, ...]) -> Any:
    """``f(*diff_args) = bind(prim, *args, **params)`` with the other arguments fixed."""
    def f(*diff_args: Any) -> Any:
        full = list(args)
        for i, v in zip(diff, diff_args):
            full[i] = v
        return bind(prim, *full, **params)
    return f


# ----------------------------------------------------------------------------- the generic test
@pytest.mark.parametrize("name", PRIMITIVES)
def test_rules(name: str) -> None:
    prim = registry[name]
    if name not in DOMAINS:
        pytest.fail(f"primitive {name!r} has no input domain: add an entry for {name!r} "
                    "to DOMAINS in tests/domains.py", pytrace=False)
    assert DOMAINS[name], f"primitive {name!r} has an empty list of domains"
    for k, domain in enumerate(DOMAINS[name]):
        rng = _rng(name, k)
        args, params = domain.make(rng)
        what = f"{name} [{domain.label}]"
        if prim.nondiff:
            _check_nondiff(prim, args, params, domain, rng, what)
        else:
            _check_differentiable(prim, args, params, domain, rng, what)


def _check_differentiable(prim: Primitive, args: tuple, params: dict, domain: Domain,
                          rng: onp.random.Generator, what: str) -> None:
    assert prim.jvp is not None, f"primitive {prim.name!r} has no JVP rule"
    assert prim.vjp is not None, f"primitive {prim.name!r} has no VJP rule"
    eps = domain.tol.get("eps", EPS)
    rtol, atol = domain.tol.get("rtol", RTOL), domain.tol.get("atol", ATOL)
    exact = domain.tol.get("exact_rtol", EXACT_RTOL)
    f = _bound(prim, args, params, domain.diff)
    x = [args[i] for i in domain.diff]

    # first order
    check_jvp(f, x, rng, eps, rtol, atol, what=f"{what} jvp")
    if not domain.reverse:  # refuses reverse mode by design: it must say so clearly
        with pytest.raises(NotImplementedError, match="not supported"):
            xform.vjp(f, *x)[1](f(*x))
        check_jvp(jvp_tangent_fn(f, [random_like(rng, a) for a in x]), x, rng, eps, rtol,
                  atol, what=f"{what} jvp of the jvp")
        return
    check_vjp(f, x, rng, rtol=exact, what=f"{what} vjp")

    # second order: the forward rule, x -> J(x) t, differentiates in both modes
    tangents = [random_like(rng, a) for a in x]
    g = jvp_tangent_fn(f, tangents)
    check_jvp(g, x, rng, eps, rtol, atol, what=f"{what} jvp of the jvp")
    check_vjp(g, x, rng, rtol=exact, what=f"{what} vjp of the jvp")

    # ... and so does the reverse rule, x -> J(x)^T ct
    out = f(*x)
    cts = [random_like(rng, o) for o in as_list(out)]
    h = vjp_cotangent_fn(f, type(out)(cts) if isinstance(out, (list, tuple)) else cts[0])
    check_jvp(h, x, rng, eps, rtol, atol, what=f"{what} jvp of the vjp")


def _check_nondiff(prim: Primitive, args: tuple, params: dict, domain: Domain,
                   rng: onp.random.Generator, what: str) -> None:
    expected = as_list(prim.impl(*args, **params))
    for o, e in zip(as_list(bind(prim, *args, **params)), expected):
        onp.testing.assert_array_equal(o, e, err_msg=f"{what}: bind vs impl")
    f = _bound(prim, args, params, domain.diff)
    x = [args[i] for i in domain.diff]

    def probe(*diff_args: Any) -> Any:
        out = f(*diff_args)
        for o in as_list(out):
            assert not isinstance(o, Tracer), \
                f"{what}: a non-differentiable primitive returned a tracer {o!r}"
        return out

    # forward mode: plain values, zero tangents
    out, t_out = xform.jvp(probe, tuple(x), tuple(random_like(rng, a) for a in x))
    for o, t, e in zip(as_list(out), as_list(t_out), expected):
        onp.testing.assert_array_equal(o, e, err_msg=f"{what}: value under jvp")
        assert not onp.any(t), f"{what}: non-zero tangent {t}"

    # reverse mode: a scalar function of the results has a zero gradient
    def scalar(*diff_args: Any) -> Any:
        outs = [xnp.sum(xnp.astype(o, onp.float64)) for o in as_list(probe(*diff_args))]
        return functools.reduce(lambda a, b: a + b, outs)

    grads = xform.grad(scalar, argnums=tuple(range(len(x))))(*x)
    for g, a in zip(grads, x):
        assert onp.shape(g) == onp.shape(a), f"{what}: gradient shape"
        assert not onp.any(g), f"{what}: non-zero gradient {g}"


# ----------------------------------------------------------------------------- batching
def _stack_samples(name: str, domain: Domain, k: int, size: int = 3
                   ) -> tuple[list[tuple], dict]:
    """``size`` samples of the domain; only the differentiated arguments vary."""
    first, params = domain.make(_rng(name, 1000 + k))
    samples = [first]
    for j in range(1, size):
        args, _ = domain.make(_rng(name, 1000 + k + 17 * j))
        samples.append(tuple(a if i in domain.diff else f for i, (a, f)
                             in enumerate(zip(args, first))))
    return samples, params


@pytest.mark.parametrize("name", PRIMITIVES)
def test_batch_rule_matches_a_loop(name: str) -> None:
    """vmap of the primitive equals a Python loop over the batch: every argument
    batched at axis 0, and only the first batched, along its last axis."""
    prim = registry[name]
    if name not in DOMAINS:
        pytest.fail(f"primitive {name!r} has no input domain", pytrace=False)
    assert prim.batch is not None, f"primitive {name!r} has no batch rule"
    for k, domain in enumerate(DOMAINS[name]):
        samples, params = _stack_samples(name, domain, k)
        expected = [as_list(bind(prim, *s, **params)) for s in samples]
        first = domain.diff[0]
        variants = [{i: 0 for i in domain.diff},
                    {first: onp.ndim(samples[0][first])}]
        for axes in variants:
            def f(*diff_args: Any) -> Any:
                full = list(samples[0])
                for i, v in zip(axes, diff_args):
                    full[i] = v
                return bind(prim, *full, **params)
            stacked = [onp.stack([s[i] for s in samples], axis=ax) for i, ax in axes.items()]
            out = as_list(xform.vmap(f, in_axes=tuple(axes.values()))(*stacked))
            for j, exp in enumerate(expected):
                if len(axes) < len(domain.diff) and j > 0:
                    exp = as_list(bind(prim, *[samples[j][i] if i == first else samples[0][i]
                                               for i in range(len(samples[0]))], **params))
                for o, e in zip(out, exp):
                    onp.testing.assert_allclose(
                        onp.asarray(o)[j], e, rtol=1e-12, atol=1e-12,
                        err_msg=f"{name} [{domain.label}] batched {axes} member {j}")


# ----------------------------------------------------------------------------- float32
FLOAT32 = [n for n in PRIMITIVES
           if n in DOMAINS and not registry[n].nondiff and DOMAINS[n][0].float32]


@pytest.mark.parametrize("name", FLOAT32)
def test_float32_stays_float32(name: str) -> None:
    """float32 in, float32 out: values, tangents and cotangents, both through the
    API and from the rules themselves (the API casts results to the input dtype,
    which would hide a rule that silently promotes to float64)."""
    prim, domain = registry[name], DOMAINS[name][0]
    rng = _rng(name, 0)
    args64, params = domain.make(rng)
    args = tuple(onp.asarray(a, onp.float32) if i in domain.diff else a
                 for i, a in enumerate(args64))
    x = [args[i] for i in domain.diff]
    f = _bound(prim, args, params, domain.diff)
    f32 = onp.dtype(onp.float32)

    out = f(*x)
    for o in as_list(out):
        assert onp.result_type(o) == f32, \
            f"{name}: float32 inputs gave a {onp.result_type(o)} output"

    tangents = [random_like(rng, a) for a in x]
    out_j, t_out = xform.jvp(f, tuple(x), tuple(tangents))
    for o, t in zip(as_list(out_j), as_list(t_out)):
        assert onp.result_type(o) == f32 and onp.result_type(t) == f32, \
            f"{name}: jvp gave {onp.result_type(o)} / {onp.result_type(t)}"
    _, vjp_fn = xform.vjp(f, *x)
    cts = [random_like(rng, o) for o in as_list(out)]
    ct = type(out)(cts) if isinstance(out, (list, tuple)) else cts[0]
    for c in vjp_fn(ct):
        assert onp.result_type(c) == f32, f"{name}: vjp gave a {onp.result_type(c)} cotangent"

    # the rules, called directly on float32 values
    full_tangents: list[Any] = [None] * len(args)
    for i, t in zip(domain.diff, tangents):
        full_tangents[i] = t
    assert prim.jvp is not None and prim.vjp is not None, f"{name}: missing rules"
    for t in as_list(prim.jvp(full_tangents, out, list(args), params)):
        assert t is not None and onp.result_type(t) == f32, \
            f"{name}: the JVP rule gave a {None if t is None else onp.result_type(t)} tangent"
    needs = [i in domain.diff for i in range(len(args))]
    for i, c in enumerate(prim.vjp(ct, out, list(args), params, needs)):
        if needs[i]:
            assert c is not None and onp.result_type(c) == f32, \
                f"{name}: the VJP rule gave a {None if c is None else onp.result_type(c)} " \
                f"cotangent for argument {i}"
            assert onp.shape(c) == onp.shape(args[i]), \
                f"{name}: the VJP rule's cotangent {i} has shape {onp.shape(c)}, " \
                f"argument {onp.shape(args[i])}"
