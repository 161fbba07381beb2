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

The facts jit reads from a primitive are checked on the same domains: ``emit``
(the generated source computes what ``impl`` does), ``broadcasting`` (required of
every op batched by the broadcasting rule), ``is_broadcast``, ``linear`` (required
of a single-operand op found linear on all its domains), ``identities`` and ``fuse``.
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
from xform.interpreters.vjp import numeric_cotangents
from xform.test_util import import_all_modules

from domains import DOMAINS, Domain
from test_complex_and_zeros import complex_domains
from helpers import (bound_primitive, ATOL, EPS, EXACT_RTOL, RTOL, as_list, check_jvp, check_vjp,
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
    f = bound_primitive(prim, args, params, domain.diff)
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
    f = bound_primitive(prim, args, params, domain.diff)
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
        if not outs:  # an effect (debug_callback) has no results
            outs = [0.0 * xnp.sum(diff_args[0])]
        return functools.reduce(lambda a, b: a + b, outs)

    integer = any(onp.asarray(a).dtype.kind in "biu" for a in x)
    grads = xform.grad(scalar, argnums=tuple(range(len(x))), allow_int=integer)(*x)
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
    f = bound_primitive(prim, args, params, domain.diff)
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


# ----------------------------------------------------------------------------- facts
# The facts jit reads from a primitive (xform/core/primitive.py), each checked on the
# primitive's domains: a fact that does not hold, or one missing where the test can
# tell, fails by the primitive's name.
def _samples(name: str) -> list[tuple[Domain, tuple, dict, onp.random.Generator]]:
    out = []
    for k, domain in enumerate(DOMAINS.get(name, [])):
        rng = _rng(name, k)
        args, params = domain.make(rng)
        out.append((domain, args, params, rng))
    return out


def _uses_broadcasting_batch_rule(prim: Primitive) -> bool:
    # by the rule's qualified name, so the check survives the helper changing module
    return getattr(prim.batch, "__qualname__", "").startswith("batch_broadcasting.")


@pytest.mark.parametrize("name", PRIMITIVES)
def test_broadcasting_fact(name: str) -> None:
    """A primitive batched as a broadcasting op is marked ``broadcasting``, and a marked
    one gives the same values with an operand broadcast beforehand (what the jit's
    redundant-broadcast pass relies on), a full-shape one or a single element."""
    prim = registry[name]
    if _uses_broadcasting_batch_rule(prim) and not prim.broadcasting:
        pytest.fail(f"primitive {name!r} batches as a broadcasting op but is not marked "
                    "broadcasting=True", pytrace=False)
    if not prim.broadcasting:
        return
    for domain, args, params, _ in _samples(name):
        with onp.errstate(all="ignore"):
            expected = bind(prim, *args, **params)
            shape = onp.shape(expected)
            for k, a in enumerate(args):
                if not isinstance(a, onp.ndarray):
                    continue
                element = a.reshape(-1)[:1].reshape(())
                for small, full in ((a, onp.broadcast_to(a, shape)),
                                    (element, onp.broadcast_to(element, onp.shape(a)))):
                    got = bind(prim, *args[:k], full, *args[k + 1:], **params)
                    want = bind(prim, *args[:k], small, *args[k + 1:], **params)
                    # elementwise: the values repeat along the axes only `full` has
                    onp.testing.assert_allclose(
                        got, onp.broadcast_to(want, onp.shape(got)), rtol=1e-12, atol=0,
                        err_msg=f"{name} [{domain.label}]: operand {k} broadcast beforehand")


@pytest.mark.parametrize("name", [n for n in PRIMITIVES if registry[n].is_broadcast])
def test_is_broadcast_fact(name: str) -> None:
    prim = registry[name]
    for domain, args, params, _ in _samples(name):
        out = bind(prim, *args, **params)
        onp.testing.assert_array_equal(out, onp.broadcast_to(args[0], onp.shape(out)),
                                       err_msg=f"{name} [{domain.label}]")


@pytest.mark.parametrize("name", [n for n in PRIMITIVES if registry[n].emit is not None])
def test_emitter_matches_impl_through_jit(name: str) -> None:
    """The source jit writes for the primitive computes what its implementation does:
    generated from the traced IR as is (so the emitter's line is surely there), and
    through ``jit`` with its passes."""
    from xform.jit.codegen import generate
    prim = registry[name]
    for domain, args, params, _ in _samples(name):
        f = bound_primitive(prim, args, params, domain.diff)
        x = [args[i] for i in domain.diff]
        with onp.errstate(all="ignore"):
            expected = as_list(prim.impl(*args, **params))
            lowered = xform.jit(f).lower(*x)
            results = {"generated": generate(lowered.jaxpr).fn(*x),
                       "jit": as_list(xform.jit(f)(*x))}
        for how, outs in results.items():
            for o, e in zip(outs, expected):
                what = f"{name} [{domain.label}] {how}"
                assert onp.result_type(o) == onp.result_type(e), f"{what}: dtype"
                onp.testing.assert_allclose(o, e, rtol=1e-12, atol=1e-14, err_msg=what)


def _linear_in_first(prim: Primitive, args: tuple, params: dict,
                     rng: onp.random.Generator) -> bool:
    """``f(a x + b y) == a f(x) + b f(y)`` in the first operand, the others fixed."""
    x = onp.asarray(args[0])
    y = random_like(rng, x)
    a, b = 0.7, -1.3
    f = lambda v: as_list(bind(prim, v, *args[1:], **params))  # noqa: E731
    try:
        with onp.errstate(all="ignore"):
            lhs, fx, fy = f(a * x + b * y), f(x), f(y)
    except (ValueError, ArithmeticError, onp.linalg.LinAlgError):
        return False  # y left the domain where f is defined: f is not linear there
    for l, u, v in zip(lhs, fx, fy):
        single = onp.float32 in (x.dtype, onp.result_type(l))
        rtol, atol = (1e-5, 1e-5) if single else (1e-9, 1e-12)
        if onp.shape(l) != onp.shape(u) or not onp.allclose(l, a * u + b * v, rtol, atol):
            return False
    return True


@pytest.mark.parametrize("name", PRIMITIVES)
def test_linear_fact(name: str) -> None:
    """``linear`` primitives are linear in their first operand on every domain; a
    differentiable one of a single (floating) operand that is linear on every domain,
    and not marked, fails too."""
    prim = registry[name]
    samples = _samples(name)
    if prim.linear:
        assert not prim.nondiff, f"primitive {name!r}: linear but marked non-differentiable"
        for domain, args, params, rng in samples:
            assert _linear_in_first(prim, args, params, rng), \
                f"primitive {name!r} is marked linear but is not, on [{domain.label}]"
        return
    candidate = not prim.nondiff and samples and all(
        d.diff == (0,) and onp.asarray(a[0]).dtype.kind in "fc" for d, a, _, _ in samples)
    if candidate and all(_linear_in_first(prim, a, p, r) for _, a, p, r in samples):
        pytest.fail(f"primitive {name!r} is linear in its first operand on all its domains: "
                    "mark it linear=True", pytrace=False)


@pytest.mark.parametrize("name", [n for n in PRIMITIVES if registry[n].identities])
def test_identity_facts(name: str) -> None:
    """Each ``PassThrough`` fact holds wherever it applies on the domains: the result is
    the named operand (for ``x * 1``-style facts, the constant is put in place)."""
    prim = registry[name]
    for domain, args, params, _ in _samples(name):
        for fact in prim.identities:
            full = list(args)
            if fact.if_operand is not None:
                const = onp.asarray(args[fact.if_operand])
                full[fact.if_operand] = onp.full(const.shape, fact.equals, const.dtype)
            if fact.when is not None and not fact.when(params):
                continue
            out, same = bind(prim, *full, **params), full[fact.operand]
            if onp.shape(out) != onp.shape(same) or onp.result_type(out) != onp.result_type(same):
                continue  # the simplifier only uses a fact that keeps the type
            onp.testing.assert_array_equal(out, same, err_msg=f"{name} [{domain.label}] {fact}")


@pytest.mark.parametrize("name", [n for n in PRIMITIVES if registry[n].fuse is not None])
def test_fuse_fact(name: str) -> None:
    """``f(f(x, **inner), **outer) == f(x, **fuse(inner, outer))`` for every pair of
    domain parameters that chain (at least one pair must)."""
    prim = registry[name]
    assert prim.fuse is not None
    samples = _samples(name)
    chained = 0
    for d1, args, inner, _ in samples:
        once = bind(prim, *args, **inner)
        for d2, _, outer, _ in samples:
            try:
                twice = bind(prim, once, *args[1:], **outer)
            except ValueError:
                continue  # the outer parameters do not apply to this result
            chained += 1
            onp.testing.assert_array_equal(
                bind(prim, *args, **prim.fuse(inner, outer)), twice,
                err_msg=f"{name}: [{d2.label}] after [{d1.label}]")
    assert chained, f"primitive {name!r}: no two of its domains chain; add one that does"


# ----------------------------------------------------------------------------- numeric cotangents
def _cotangents_agree(prim: Primitive, args: tuple, params: dict, diff: tuple[int, ...],
                      rng: onp.random.Generator, what: str) -> None:
    """``numeric_cotangents`` (the eager sweep's formula) against the traceable ``vjp``,
    on NumPy values, for every operand set the sweep can meet: all of ``diff``, and
    each differentiated operand alone."""
    ans = prim.impl(*args, **params)
    ct: Any = [random_like(rng, o) for o in as_list(ans)]
    ct = ct if prim.multiple_results else ct[0]
    for wanted in [diff] + ([(i,) for i in diff] if len(diff) > 1 else []):
        needs = [i in wanted for i in range(len(args))]
        try:
            traced = list(prim.vjp(ct, ans, list(args), params, needs))
        except (TypeError, ValueError, NotImplementedError) as e:
            with pytest.raises(type(e)):
                numeric_cotangents(prim, ct, ans, list(args), params, needs)
            continue
        fast = numeric_cotangents(prim, ct, ans, list(args), params, needs)
        for i in wanted:
            t = traced[i] if i < len(traced) else None
            f = fast[i] if i < len(fast) else None
            t = onp.zeros_like(args[i]) if t is None else onp.asarray(t)
            f = onp.zeros_like(args[i]) if f is None else onp.asarray(f)
            assert f.shape == t.shape and f.dtype == t.dtype, \
                f"{what}: numeric_vjp gives {f.dtype}{f.shape} for operand {i}, vjp {t.dtype}{t.shape}"
            onp.testing.assert_allclose(f, t, rtol=1e-12, atol=1e-300, equal_nan=True,
                                        err_msg=f"{what}: numeric_vjp vs vjp, operand {i}")


@pytest.mark.parametrize("name", [n for n in PRIMITIVES if not registry[n].nondiff])
def test_numeric_vjp_agrees_with_rule(name: str) -> None:
    """Every primitive's eager-sweep cotangents equal its traceable rule's, on its real
    domains and (unless it is real-only) their complex versions; a ``numeric_vjp``
    derived from a rule still stands for the primitive's current ``vjp``."""
    prim = registry[name]
    derived = getattr(prim.numeric_vjp, "derived_from", None)
    assert derived is None or derived is prim.vjp, (
        f"{name}: numeric_vjp was derived from a VJP rule that prim.vjp no longer is "
        "(assign numeric_vjp again after replacing vjp)")
    domains = [d for d in DOMAINS.get(name, []) if d.reverse]
    if not prim.real_only:
        domains += [d for d in complex_domains(name) if d.reverse]
    for k, domain in enumerate(domains):
        rng = _rng(name, 3000 + k)
        args, params = domain.make(rng)
        _cotangents_agree(prim, args, params, domain.diff, rng, f"{name} [{domain.label}]")
