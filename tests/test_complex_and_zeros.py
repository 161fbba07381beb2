"""Complex inputs and exact zeros: the numerics of the rules.

* The complex registry sweep: every differentiable primitive either declares
  ``real_only`` (and then refuses complex inputs with a TypeError) or is checked on
  complex inputs with complex tangents and cotangents: forward mode against
  central differences along real, imaginary and general complex directions, and
  reverse mode against forward under JAX's pairing ``<a, b> = Re(sum(a * b))``.
  A primitive with neither fails by name.
* Hand-picked complex cases of the public functions (norm, var, std, the
  Hermitian/unitary linalg rules) against JAX's conventions.
* Derivatives at exact zeros and kinks: cumprod, hypot, det of singular matrices,
  and the other rules that divide by an input or an output.
"""
from __future__ import annotations

import zlib
from typing import Any, Callable

import numpy as onp
import pytest

import xform
import xform.numpy as xnp
from xform import lax
from xform.core.primitive import Primitive, registry
from xform.core.trace import bind
from xform.test_util import check_grads, import_all_modules

from domains import DOMAINS, Domain, fixed
import domains_linalg as L  # (after domains, which merges it)
from domains_lax import params_of
from helpers import (ATOL, EPS, EXACT_RTOL, RTOL, as_list, central_difference, check_vjp,
                     fd_noise, jvp_tangent_fn, random_like, vjp_cotangent_fn)

import_all_modules()
Rng = onp.random.Generator


def _rng(name: str, k: int) -> Rng:
    return onp.random.default_rng(zlib.crc32(f"complex/{name}/{k}".encode()))


# ----------------------------------------------------------------------------- complex domains
def _cx(rng: Rng, x: onp.ndarray, scale: float = 0.5) -> onp.ndarray:
    """``x`` with a random imaginary part (complex128)."""
    return x + 1j * scale * rng.standard_normal(onp.shape(x))


def complexified(domain: Domain, scale: float = 0.5) -> Domain:
    """The real domain with a random imaginary part added to each differentiated
    floating argument (the real domains keep clear of branch cuts on the real axis,
    and a moderate imaginary part keeps clear of them too)."""
    def make(rng: Rng) -> tuple[tuple[Any, ...], dict[str, Any]]:
        args, params = domain.make(rng)
        return tuple(_cx(rng, onp.asarray(a, onp.float64), scale)
                     if i in domain.diff and onp.asarray(a).dtype.kind == "f" else a
                     for i, a in enumerate(args)), params
    return Domain(make, diff=domain.diff, label=f"complex {domain.label}", tol=domain.tol,
                  reverse=domain.reverse)


Shape = tuple[int, ...]


def unitary(rng: Rng, lead: Shape, n: int) -> onp.ndarray:
    z = rng.standard_normal(lead + (n, n)) + 1j * rng.standard_normal(lead + (n, n))
    q, r = onp.linalg.qr(z)
    d = onp.diagonal(r, axis1=-2, axis2=-1)
    return q * (d / onp.abs(d))[..., None, :]


def hermitian(rng: Rng, shape: Shape) -> onp.ndarray:
    *lead, n, _ = shape
    q = unitary(rng, tuple(lead), n)
    w = L.spread(rng, tuple(lead), n, -3.0, 3.0)
    return (q * w[..., None, :]) @ onp.conj(onp.swapaxes(q, -1, -2))


def hpd(rng: Rng, shape: Shape) -> onp.ndarray:
    b = rng.standard_normal(shape) + 1j * rng.standard_normal(shape)
    return b @ onp.conj(onp.swapaxes(b, -1, -2)) + shape[-1] * onp.eye(shape[-1])


def crect(rng: Rng, shape: Shape, rank: int | None = None) -> onp.ndarray:
    *lead, m, n = shape
    k = min(m, n)
    s = -onp.sort(-L.spread(rng, tuple(lead), k, 1.0, 4.0), axis=-1)
    if rank is not None:
        s[..., rank:] = 0.0
    u = unitary(rng, tuple(lead), m)[..., :k]
    v = unitary(rng, tuple(lead), n)[..., :k]
    return (u * s[..., None, :]) @ onp.conj(onp.swapaxes(v, -1, -2))


def cgeneral(rng: Rng, shape: Shape) -> onp.ndarray:
    return crect(rng, shape)


def cnormal(rng: Rng, shape: Shape) -> onp.ndarray:
    return rng.standard_normal(shape) + 1j * rng.standard_normal(shape)


def with_garbage(sample: Callable[[Rng, Shape], onp.ndarray], lower: bool
                 ) -> Callable[[Rng, Shape], onp.ndarray]:
    """The unread triangle (and the imaginary part of the diagonal, which LAPACK's
    Hermitian routines ignore) hold unrelated values."""
    def make(rng: Rng, shape: Shape) -> onp.ndarray:
        a = sample(rng, shape)
        n = shape[-1]
        unread = onp.triu(onp.ones((n, n), bool), 1) if lower else onp.tril(onp.ones((n, n), bool), -1)
        a = onp.where(unread, cnormal(rng, shape), a)
        return a + 1j * onp.eye(n) * rng.standard_normal(shape)
    return make


def ctriangular(rng: Rng, shape: Shape, lower: bool) -> onp.ndarray:
    d = rng.choice([-1.0, 1.0, 1j, -1j], shape[:-1]) * rng.uniform(2.0, 3.0, shape[:-1])
    return cnormal(rng, shape) + d[..., None] * onp.eye(shape[-1])


def cmats(*specs: tuple[Callable[..., onp.ndarray], Shape]) -> Callable[[Rng], tuple]:
    return lambda rng: tuple(f(rng, s) for f, s in specs)


def _traced(prim: str, program: Callable[..., Any], make_args: Callable[[Rng], tuple],
            diff: tuple[int, ...], label: str, **kw: Any) -> Domain:
    def make(rng: Rng) -> tuple[tuple[Any, ...], dict[str, Any]]:
        args = make_args(rng)
        return args, params_of(prim, program, *args)
    return Domain(make, diff=diff, label=label, **kw)


def _switch(i: Any, x: Any, y: Any) -> Any:
    return lax.switch(i, [lambda x, y: [xnp.sin(x) * y, x],
                          lambda x, y: [x * x + y, xnp.exp(y) * x]], x, y)


def _scan(w: Any, c0: Any, xs: Any) -> Any:
    return lax.scan(lambda c, x: (xnp.tanh(c * x + w), c * x), c0, xs)


def _while(a: Any, i: Any, x: Any) -> Any:
    return lax.while_loop(lambda c: c[0] < 4,
                          lambda c: (c[0] + 1, c[1] * a + 0.1 * xnp.sin(c[1])), (i, x))


SQUARE = [(3, 3), (2, 3, 3)]

#: complex domains that cannot be derived from the real ones by adding an imaginary
#: part (structured matrices, control flow traced for complex carries, dtypes)
COMPLEX: dict[str, list[Domain]] = {
    "convert_element_type": [
        fixed(lambda rng: (cnormal(rng, (3, 4)),), {"dtype": onp.dtype(onp.complex128)},
              label="complex128 -> complex128"),
        fixed(lambda rng: (cnormal(rng, (3, 4)).astype(onp.complex64),),
              {"dtype": onp.dtype(onp.complex128)}, label="complex64 -> complex128",
              tol={"rtol": 1e-5, "atol": 1e-6, "exact_rtol": 1e-6}),
    ],
    "cond": [_traced("cond", _switch, lambda rng, i=i: (onp.int64(i), cnormal(rng, (3,)),
                                                         cnormal(rng, (3,))),
                     (1, 2), f"complex branch {i}") for i in (0, 1)],
    "scan": [_traced("scan", _scan, lambda rng: (0.5 * cnormal(rng, ()), 0.5 * cnormal(rng, (2,)),
                                                 0.5 * cnormal(rng, (4, 2))),
                     (0, 1, 2), "complex 4 steps")],
    "while": [_traced("while", _while, lambda rng: (0.3 * cnormal(rng, ()), onp.int64(0),
                                                    cnormal(rng, (2,))),
                      (0, 2), "complex 4 steps", reverse=False)],
    # ---------------------------------------------------------------- linalg
    "inv": [fixed(cmats((cgeneral, s)), {}, label=f"A{s}") for s in SQUARE],
    "det": [fixed(cmats((cgeneral, s)), {}, label=f"A{s}") for s in SQUARE],
    "slogdet": [fixed(cmats((cgeneral, s)), {}, label=f"A{s}") for s in SQUARE],
    "solve": [fixed(cmats((cgeneral, sa), (cnormal, sb)), {}, diff=(0, 1), label=f"A{sa} b{sb}")
              for sa, sb in [((3, 3), (3, 2)), ((2, 3, 3), (3, 2))]],
    "triangular_solve": [
        fixed(lambda rng, lo=lo, sa=sa, sb=sb: (ctriangular(rng, sa, lo), cnormal(rng, sb)),
              {"lower": lo, "trans": tr, "unit_diagonal": unit}, diff=(0, 1),
              label=f"A{sa} b{sb} lower={lo} trans={tr} unit={unit}")
        for sa, sb, lo, tr, unit in [((3, 3), (3, 2), True, 0, False),
                                     ((3, 3), (3, 1), False, 1, False),
                                     ((2, 3, 3), (2, 3, 2), False, 1, True)]],
    "cholesky": [fixed(lambda rng, s=s, lo=lo: (with_garbage(hpd, lo)(rng, s),), {"lower": lo},
                       label=f"A{s} lower={lo}")
                 for s, lo in [((3, 3), True), ((3, 3), False), ((2, 3, 3), True)]],
    "eigh": [fixed(lambda rng, s=s, lo=lo: (with_garbage(hermitian, lo)(rng, s),), {"lower": lo},
                   label=f"A{s} lower={lo}")
             for s, lo in [((3, 3), True), ((4, 4), False), ((2, 3, 3), True)]],
    "eigvalsh": [fixed(lambda rng, s=s, lo=lo: (with_garbage(hermitian, lo)(rng, s),),
                       {"lower": lo}, label=f"A{s} lower={lo}")
                 for s, lo in [((3, 3), True), ((2, 4, 4), False)]],
    "eig": [fixed(cmats((cgeneral, s)), {}, label=f"A{s}") for s in [(3, 3), (2, 3, 3)]],
    "svd": [fixed(cmats((crect, s)), {"full_matrices": False}, label=f"A{s}")
            for s in [(3, 3), (4, 3), (3, 5), (2, 4, 3)]],
    "svdvals": [fixed(cmats((crect, s)), {}, label=f"A{s}") for s in [(3, 3), (4, 2), (2, 2, 4)]],
    "qr": [fixed(cmats((crect, s)), {}, label=f"A{s}") for s in [(3, 3), (5, 3), (3, 5), (2, 4, 3)]],
    "pinv": [
        fixed(cmats((crect, (4, 3))), {"rcond": 1e-15, "hermitian": False}, label="full rank 4x3"),
        fixed(lambda rng: (crect(rng, (4, 3), rank=2),), {"rcond": 1e-3, "hermitian": False},
              label="rank 2 of 3"),
        fixed(lambda rng: (with_garbage(hermitian, True)(rng, (3, 3)),),
              {"rcond": 1e-15, "hermitian": True}, label="hermitian"),
    ],
    "lstsq": [
        fixed(cmats((crect, sa), (cnormal, sb)), {"rcond": 1e-12}, diff=(0, 1), label=f"A{sa} b{sb}")
        for sa, sb in [((5, 3), (5, 2)), ((3, 5), (3, 1))]] + [
        fixed(lambda rng: (crect(rng, (5, 3), rank=2), cnormal(rng, (5, 2))), {"rcond": 1e-3},
              diff=(0, 1), label="rank 2 of 3")],
    "expm": [fixed(lambda rng, s=s: (0.5 * cnormal(rng, s),), {}, label=f"A{s}") for s in SQUARE],
    "sqrtm": [fixed(lambda rng, s=s: (hpd(rng, s),), {}, label=f"HPD{s}") for s in SQUARE],
    "lu_factor": [fixed(cmats((cgeneral, s)), {}, label=f"A{s}") for s in SQUARE],
}


def complex_domains(name: str) -> list[Domain]:
    if name in COMPLEX:
        return COMPLEX[name]
    return [complexified(d) for d in DOMAINS.get(name, [])]


DIFFERENTIABLE = sorted(n for n in registry if not registry[n].nondiff)


# ----------------------------------------------------------------------------- the sweep
def _bound(prim: Primitive, args: tuple, params: dict, diff: tuple[int, ...]) -> Any:
    def f(*diff_args: Any) -> Any:
        full = list(args)
        for i, v in zip(diff, diff_args):
            full[i] = v
        return bind(prim, *full, **params)
    return f


def _jvp_along(f: Callable[..., Any], x: list[Any], tangents: list[Any], eps: float,
               rtol: float, atol: float, what: str) -> None:
    out, t_out = xform.jvp(f, tuple(x), tuple(tangents))
    expected = central_difference(f, x, tangents, eps)
    atol = atol + fd_noise(as_list(out), eps)
    for k, (t, e) in enumerate(zip(as_list(t_out), expected)):
        assert onp.shape(t) == onp.shape(e), f"{what} output {k}: tangent shape"
        onp.testing.assert_allclose(t, e, rtol=rtol, atol=atol,
                                    err_msg=f"{what} output {k}: jvp vs central differences")


@pytest.mark.parametrize("name", DIFFERENTIABLE)
def test_complex_sweep(name: str) -> None:
    """Every differentiable primitive is complex-correct or declares ``real_only``."""
    prim = registry[name]
    doms = complex_domains(name)
    if not doms:
        pytest.fail(f"primitive {name!r} has no complex domain: declare it real_only "
                    "(xform.core.rules.real_only) or add a domain to COMPLEX in "
                    "tests/test_complex_and_zeros.py", pytrace=False)
    if prim.real_only:
        args, params = doms[0].make(_rng(name, 0))
        x = [args[i] for i in doms[0].diff]
        with pytest.raises(TypeError):
            xform.jvp(_bound(prim, args, params, doms[0].diff), tuple(x),
                      tuple(random_like(onp.random.default_rng(0), a) for a in x))
        return
    for k, domain in enumerate(doms):
        rng = _rng(name, k)
        args, params = domain.make(rng)
        what = f"{name} [{domain.label}]"
        f = _bound(prim, args, params, domain.diff)
        x = [args[i] for i in domain.diff]
        assert any(onp.iscomplexobj(a) for a in x), f"{what}: the domain is not complex"
        eps = domain.tol.get("eps", EPS)
        rtol, atol = domain.tol.get("rtol", RTOL), domain.tol.get("atol", ATOL)
        exact = domain.tol.get("exact_rtol", EXACT_RTOL)
        t = [random_like(rng, a) for a in x]
        for direction, tangents in (("real", [onp.real(v) + 0j * v for v in t]),
                                    ("imaginary", [1j * onp.imag(v) for v in t]),
                                    ("complex", t)):
            tangents = [onp.asarray(v).astype(onp.result_type(a)) if onp.iscomplexobj(a)
                        else onp.real(v) for v, a in zip(tangents, x)]
            _jvp_along(f, x, tangents, eps, rtol, atol, f"{what} {direction} direction")
        if not domain.reverse:
            continue
        check_vjp(f, x, rng, rtol=exact, what=f"{what} vjp")
        # the rules differentiate again on complex values
        out = f(*x)
        cts = [random_like(rng, o) for o in as_list(out)]
        h = vjp_cotangent_fn(f, type(out)(cts) if isinstance(out, (list, tuple)) else cts[0])
        _jvp_along(h, x, [random_like(rng, a) for a in x], eps, rtol, atol,
                   f"{what} jvp of the vjp")
        g = jvp_tangent_fn(f, [random_like(rng, a) for a in x])
        check_vjp(g, x, rng, rtol=exact, what=f"{what} vjp of the jvp")


def test_real_only_declarations_are_real() -> None:
    """``real_only`` is declared only on differentiable primitives."""
    wrong = sorted(n for n, p in registry.items() if p.real_only and p.nondiff)
    assert not wrong, f"non-differentiable primitives marked real_only: {wrong}"
