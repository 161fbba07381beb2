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
from xform.core.primitive import registry
from xform.core.trace import bind
from xform.numpy._linalg import adjugate
import xform.scipy.linalg
import xform.scipy.special
from xform.test_util import check_grads, import_all_modules

from domains import DOMAINS, Domain, fixed
import domains_linalg as L  # (after domains, which merges it)
from domains_lax import params_of
from helpers import (bound_primitive, ATOL, EPS, EXACT_RTOL, RTOL, as_list, central_difference, check_vjp,
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
def off_the_axes(rng: Rng, shape: Shape) -> onp.ndarray:
    """Complex numbers in all four quadrants, clear of both axes (where the branch cuts
    of the inverse trigonometric and hyperbolic functions, sqrt and log lie): the
    complexified real domains only cover the half-planes next to the real domains."""
    def part() -> onp.ndarray:
        return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.2, 2.0, shape)
    return part() + 1j * part()


#: multivalued functions checked over the whole plane (their rules must follow NumPy's
#: principal branches everywhere; arccosh's did not for Re(z) < 0)
WHOLE_PLANE = ["arccosh", "arcsinh", "arcsin", "arccos", "arctan", "arctanh", "sqrt", "log",
               "log1p", "log2", "log10"]

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
    "adjugate_tangent": [fixed(cmats((cgeneral, s), (cnormal, s)), {}, diff=(0, 1),
                               label=f"A{s} H{s}") for s in SQUARE],
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
    plane = ([fixed(lambda rng: (off_the_axes(rng, (3, 4)),), {}, label="whole plane")]
             if name in WHOLE_PLANE else [])
    return [complexified(d) for d in DOMAINS.get(name, [])] + plane


DIFFERENTIABLE = sorted(n for n in registry if not registry[n].nondiff)


# ----------------------------------------------------------------------------- the sweep
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
            xform.jvp(bound_primitive(prim, args, params, doms[0].diff), tuple(x),
                      tuple(random_like(onp.random.default_rng(0), a) for a in x))
        return
    for k, domain in enumerate(doms):
        rng = _rng(name, k)
        args, params = domain.make(rng)
        what = f"{name} [{domain.label}]"
        f = bound_primitive(prim, args, params, domain.diff)
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


# ----------------------------------------------------------------------------- public functions
def _z(rng: Rng, shape: Shape) -> onp.ndarray:
    return rng.standard_normal(shape) + 1j * rng.standard_normal(shape)


@pytest.mark.parametrize("f", [
    lambda z: xnp.linalg.norm(z),
    lambda z: xnp.linalg.norm(z, "fro"),
    lambda z: xnp.linalg.norm(z, axis=1),
    lambda z: xnp.linalg.norm(z[0]),
    lambda z: xnp.linalg.norm(z[0], 2),
    lambda z: xnp.linalg.norm(z[0], 0),
    lambda z: xnp.linalg.vector_norm(z),
    lambda z: xnp.linalg.matrix_norm(z),
    lambda z: xnp.var(z),
    lambda z: xnp.var(z, axis=0, ddof=1),
    lambda z: xnp.std(z),
    lambda z: xnp.std(z, axis=1, keepdims=True),
    lambda z: xnp.nanvar(z, axis=1),
], ids=["norm", "fro", "norm axis", "vector", "vector 2", "vector 0", "vector_norm",
        "matrix_norm", "var", "var ddof", "std", "std keepdims", "nanvar"])
def test_real_valued_reductions_of_complex_input(f: Callable[[Any], Any]) -> None:
    """Real values (as NumPy's) with correct derivatives along real and imaginary
    directions."""
    z = _z(onp.random.default_rng(1), (3, 4))
    got = f(z)
    assert not onp.iscomplexobj(got), f"complex value {got!r} for a complex input"
    check_grads(f, (z,), order=2)


def test_norm_var_std_values_match_numpy() -> None:
    z = _z(onp.random.default_rng(2), (3, 4))
    for ours, theirs in [(xnp.linalg.norm(z), onp.linalg.norm(z)),
                         (xnp.linalg.norm(z[0]), onp.linalg.norm(z[0])),
                         (xnp.linalg.norm(z, axis=0), onp.linalg.norm(z, axis=0)),
                         (xnp.var(z, axis=1), onp.var(z, axis=1)),
                         (xnp.std(z), onp.std(z))]:
        assert onp.result_type(ours) == onp.result_type(theirs)
        onp.testing.assert_allclose(ours, theirs, rtol=1e-13)


def test_grad_of_complex_norm_is_conj_over_norm() -> None:
    """JAX's convention: the gradient of a real f(z) is df/dx - i df/dy."""
    z = _z(onp.random.default_rng(3), (5,))
    onp.testing.assert_allclose(xform.grad(xnp.linalg.norm)(z), onp.conj(z) / onp.linalg.norm(z),
                                rtol=1e-13)
    mean = z.mean()
    onp.testing.assert_allclose(xform.grad(xnp.var)(z), 2 * onp.conj(z - mean) / z.size,
                                rtol=1e-13)


def _hermitian(rng: Rng, n: int) -> onp.ndarray:
    return hermitian(rng, (n, n))


@pytest.mark.parametrize("f, make", [
    (lambda a: xnp.linalg.eigvalsh(a), lambda rng: _hermitian(rng, 4)),
    (lambda a: xnp.linalg.eigvalsh(a, "U"), lambda rng: _hermitian(rng, 4)),
    (lambda a: xnp.linalg.eigh(a)[1], lambda rng: _hermitian(rng, 3)),
    (lambda a: xnp.abs(xnp.linalg.eigh(a, "U")[1]), lambda rng: _hermitian(rng, 3)),
    (lambda a: xnp.linalg.cholesky(a), lambda rng: hpd(rng, (3, 3))),
    (lambda a: xnp.linalg.cholesky(a, upper=True), lambda rng: hpd(rng, (3, 3))),
    (lambda a: xform.scipy.linalg.cholesky(a), lambda rng: hpd(rng, (3, 3))),
    (lambda a: xform.scipy.linalg.cholesky(a, lower=True), lambda rng: hpd(rng, (3, 3))),
    (lambda a: xform.scipy.linalg.cho_solve(xform.scipy.linalg.cho_factor(a), a[:, :1]),
     lambda rng: hpd(rng, (3, 3))),
    (lambda a: xnp.linalg.svd(a, full_matrices=False), lambda rng: crect(rng, (4, 3))),
    (lambda a: xnp.linalg.svd(a, full_matrices=False), lambda rng: crect(rng, (2, 4))),
    (lambda a: xnp.linalg.svd(a, compute_uv=False), lambda rng: crect(rng, (3, 4))),
    (lambda a: xnp.linalg.qr(a), lambda rng: crect(rng, (4, 3))),
    (lambda a: xnp.linalg.qr(a), lambda rng: crect(rng, (3, 4))),
    (lambda a: xnp.linalg.norm(a, 2), lambda rng: crect(rng, (3, 4))),
    (lambda a: xnp.linalg.norm(a, -2), lambda rng: crect(rng, (3, 3))),
    (lambda a: xnp.linalg.norm(a, "nuc"), lambda rng: crect(rng, (4, 3))),
    (lambda a: xnp.linalg.pinv(a), lambda rng: crect(rng, (4, 3))),
    (lambda a: xnp.linalg.lstsq(a, a[:, :1] + 1.0)[0], lambda rng: crect(rng, (4, 3))),
    (lambda a: xnp.linalg.slogdet(a), lambda rng: cgeneral(rng, (3, 3))),
    (lambda a: xnp.linalg.det(a), lambda rng: cgeneral(rng, (3, 3))),
    (lambda a: xnp.linalg.inv(a), lambda rng: cgeneral(rng, (3, 3))),
    (lambda a: xnp.linalg.matrix_power(a, 3), lambda rng: cgeneral(rng, (3, 3))),
    (lambda a: xform.scipy.linalg.expm(a), lambda rng: 0.5 * cgeneral(rng, (3, 3))),
    (lambda a: xform.scipy.linalg.sqrtm(a), lambda rng: hpd(rng, (3, 3))),
    (lambda a: xnp.trace(a @ a), lambda rng: cgeneral(rng, (3, 3))),
    (lambda a: xnp.vdot(a, a[::-1]), lambda rng: cgeneral(rng, (3, 3))),
    (lambda a: xnp.inner(a, a[::-1]), lambda rng: cgeneral(rng, (3, 3))),
    (lambda a: xnp.angle(a), lambda rng: cgeneral(rng, (3, 3))),
], ids=["eigvalsh", "eigvalsh U", "eigh vectors", "eigh U |vectors|", "cholesky",
        "cholesky upper", "scipy cholesky", "scipy cholesky lower", "cho_solve", "svd tall",
        "svd wide", "svdvals", "qr tall", "qr wide", "norm 2", "norm -2", "norm nuc", "pinv",
        "lstsq", "slogdet", "det", "inv", "matrix_power", "expm", "sqrtm", "trace", "vdot",
        "inner", "angle"])
def test_complex_linalg_functions(f: Callable[[Any], Any], make: Callable[[Rng], Any]) -> None:
    """The public functions on complex matrices, to second order in both modes, along
    random complex directions (real and imaginary parts)."""
    check_grads(f, (make(onp.random.default_rng(4)),), order=2)


def test_eigh_keeps_lapack_phases() -> None:
    """NumPy's Hermitian eigenvectors have a real first row ('L') or last row ('U'):
    the derivative keeps it so, matching central differences of NumPy's own output."""
    a = _hermitian(onp.random.default_rng(5), 4)
    t = _z(onp.random.default_rng(6), (4, 4))
    for uplo, row in (("L", 0), ("U", -1)):
        _, dv = xform.jvp(lambda a: xnp.linalg.eigh(a, uplo)[1], (a,), (t,))
        assert onp.abs(onp.imag(dv[row])).max() < 1e-12
        fd = (onp.linalg.eigh(a + 1e-6 * t, uplo)[1] - onp.linalg.eigh(a - 1e-6 * t, uplo)[1]) / 2e-6
        onp.testing.assert_allclose(dv, fd, atol=1e-6)


def test_complex_triangular_solves_with_conjugate_transpose() -> None:
    """trans='C' / 2 solves with A^H (it used to solve with A^T)."""
    import scipy.linalg as sl
    rng = onp.random.default_rng(7)
    a = _z(rng, (3, 3)) + 3 * onp.eye(3)
    b = _z(rng, (3, 2))
    for trans in (2, "C"):
        onp.testing.assert_allclose(xform.scipy.linalg.solve_triangular(a, b, trans=trans),
                                    sl.solve_triangular(a, b, trans=trans), rtol=1e-12)
    lu = sl.lu_factor(a)
    onp.testing.assert_allclose(xform.scipy.linalg.lu_solve(lu, b, trans=2),
                                sl.lu_solve(lu, b, trans=2), rtol=1e-12)
    check_grads(lambda a, b: xform.scipy.linalg.solve_triangular(a, b, trans="C", lower=True),
                (a, b), order=2)


def test_real_only_primitive_refuses_complex_by_name() -> None:
    """scipy.special.ive computes complex values, but its rule is a real formula."""
    z = onp.array([0.5 + 0.3j, 1.0 - 0.2j])
    with pytest.raises(TypeError, match=r"ive: derivatives are defined for real inputs only"):
        xform.grad(lambda z: xnp.sum(xnp.abs(xform.scipy.special.ive(1.0, z))))(z)
    # real inputs are unaffected
    check_grads(lambda x: xform.scipy.special.ive(1.0, x), (onp.array([0.5, -1.5]),), order=2)


def test_complex_maximum_follows_numpy_order() -> None:
    """NumPy compares complex values lexicographically; the derivative follows the
    chosen operand (half each on a tie)."""
    x = onp.array([1 + 5j, 2 - 1j, 3 + 1j])
    y = onp.array([1 + 2j, 3 + 0j, 3 + 1j])
    _, t = xform.jvp(xnp.maximum, (x, y), (onp.ones(3) * 1j, onp.ones(3) * (2.0 + 0j)))
    onp.testing.assert_allclose(t, [1j, 2.0, 0.5 * (1j + 2.0)])
    check_grads(xnp.minimum, (x[1:2], y[1:2]), order=1)
    check_grads(xnp.maximum, (onp.array([1 + 5j, -2j]), onp.array([0.5 + 2j, 1 - 1j])), order=1)


# ----------------------------------------------------------------------------- zeros
def test_cumprod_derivative_at_zeros() -> None:
    x = onp.array([2.0, 0.0, 3.0, 0.0, 5.0])
    # d/dx_j of sum_i cumprod(x)_i = sum_{i >= j} prod_{k <= i, k != j} x_k
    expected = onp.array([1.0, 8.0, 0.0, 0.0, 0.0])
    onp.testing.assert_array_equal(xform.grad(lambda x: xnp.sum(xnp.cumprod(x)))(x), expected)
    for shape, axis in (((5,), None), ((3, 4), 0), ((3, 4), 1), ((2, 3, 4), 2)):
        a = onp.random.default_rng(8).uniform(-1.5, 1.5, shape)
        a.reshape(-1)[::3] = 0.0
        check_grads(lambda a: xnp.cumprod(a, axis=axis), (a,), order=3)
    check_grads(lambda a: xnp.cumprod(a), (onp.array([0.0, 0.0, 1.0 + 2j]),), order=2)


def test_hypot_at_the_origin() -> None:
    """JAX's convention at (0, 0): 1/2 for each operand, second derivative 0."""
    g = xform.grad(xnp.hypot, argnums=(0, 1))
    assert [float(v) for v in g(0.0, 0.0)] == [0.5, 0.5]
    assert [float(v) for v in g(-3.0, 0.0)] == [-1.0, 0.0]
    assert float(xform.hessian(xnp.hypot)(0.0, 0.0)) == 0.0
    _, t = xform.jvp(xnp.hypot, (onp.zeros(2), onp.zeros(2)), (onp.ones(2), -onp.ones(2)))
    assert onp.all(onp.isfinite(t))
    check_grads(xnp.hypot, (onp.array([3.0, 0.0, -1.0]), onp.array([0.0, 2.0, 1.0])), order=2)


def _cofactor_adjugate(a: onp.ndarray) -> onp.ndarray:
    """adj(A)[j, i] = (-1)^(i+j) det(A without row i and column j): the definition."""
    n = a.shape[-1]
    adj = onp.zeros_like(a)
    for i in range(n):
        for j in range(n):
            minor = onp.delete(onp.delete(a, i, axis=0), j, axis=1)
            adj[j, i] = (-1) ** (i + j) * onp.linalg.det(minor)
    return adj


def _rank_deficient(rng: Rng, n: int, rank: int, complex_: bool = False) -> onp.ndarray:
    draw = _z if complex_ else (lambda rng, s: rng.standard_normal(s))
    return draw(rng, (n, rank)) @ draw(rng, (rank, n))


@pytest.mark.parametrize("n, rank, complex_", [(3, 2, False), (4, 3, False), (4, 2, False),
                                               (4, 1, False), (3, 0, False), (3, 2, True),
                                               (4, 2, True)])
def test_det_derivative_at_singular_matrices(n: int, rank: int, complex_: bool) -> None:
    """The derivative of det is the transposed adjugate, in both modes, at matrices of
    rank n - 1 (a nonzero adjugate) and rank <= n - 2 (zero)."""
    rng = onp.random.default_rng(9 + n + rank)
    a = _rank_deficient(rng, n, rank, complex_)
    assert onp.linalg.matrix_rank(a) == rank
    adj = _cofactor_adjugate(a)
    grad = xform.grad(lambda a: xnp.real(xnp.linalg.det(a)))(a)
    # Re(det) is the real part of a holomorphic function: its gradient is det' = adj^T
    onp.testing.assert_allclose(grad, adj.T, atol=1e-12 * max(1.0, onp.abs(adj).max()))
    t = _z(rng, (n, n)) if complex_ else rng.standard_normal((n, n))
    _, dt = xform.jvp(xnp.linalg.det, (a,), (t,))
    onp.testing.assert_allclose(dt, onp.trace(adj @ t), atol=1e-10)
    check_grads(xnp.linalg.det, (a,), order=1)
    onp.testing.assert_allclose(adjugate(a), adj, atol=1e-10)


@pytest.mark.parametrize("n, rank, complex_", [(3, 2, False), (4, 2, False), (4, 3, False),
                                               (3, 0, False), (3, 2, True), (4, 2, True)])
def test_det_second_derivative_at_singular_matrices(n: int, rank: int, complex_: bool) -> None:
    """The adjugate's derivative is computed without an inverse, so det's Hessian exists
    at singular matrices: it equals central differences of the (exact) gradient."""
    rng = onp.random.default_rng(20 + n + rank)
    a = _rank_deficient(rng, n, rank, complex_)
    check_grads(xnp.linalg.det, (a,), order=2)
    if complex_:
        return
    hess = xform.hessian(xnp.linalg.det)(a)
    grad = xform.grad(xnp.linalg.det)
    eps, numerical = 1e-6, onp.zeros((n, n, n, n))
    for i in range(n):
        for j in range(n):
            e = onp.zeros((n, n))
            e[i, j] = eps
            numerical[:, :, i, j] = (grad(a + e) - grad(a - e)) / (2 * eps)
    onp.testing.assert_allclose(hess, numerical, atol=1e-8)
    onp.testing.assert_allclose(xform.jit(xform.hessian(xnp.linalg.det))(a), hess, atol=1e-12)


def test_det_second_order_where_invertible() -> None:
    a = cgeneral(onp.random.default_rng(10), (3, 3))
    check_grads(xnp.linalg.det, (a,), order=3)
    check_grads(xnp.linalg.det, (onp.real(a),), order=3)


def test_rgamma_derivative_at_the_poles_of_gamma() -> None:
    """1 / gamma is entire: at x = -n its derivative is (-1)^n n!, not 0 * inf."""
    rgamma = xform.scipy.special.rgamma
    g = [float(xform.grad(rgamma)(x)) for x in (0.0, -1.0, -2.0, -3.0)]
    assert g == [1.0, -1.0, 2.0, -6.0]
    check_grads(rgamma, (onp.array([0.0, -1.0, -2.0, 0.7, 2.5]),), order=1)


@pytest.mark.parametrize("kw", [{}, {"axis": 1}, {"axis": 0, "keepdims": True},
                                {"axis": 1, "b": onp.array([0.5, 2.0, 1.0, 1.5])},
                                {"axis": 1, "return_sign": True}])
def test_complex_logsumexp_matches_scipy(kw: dict) -> None:
    """SciPy's logsumexp of complex input is the complex log; it used to drop the phase."""
    import scipy.special as sc
    z = _z(onp.random.default_rng(11), (3, 4))
    ours, theirs = xform.scipy.special.logsumexp(z, **kw), sc.logsumexp(z, **kw)
    for o, t in zip(as_list(ours), as_list(theirs)):
        assert onp.shape(o) == onp.shape(t)
        onp.testing.assert_allclose(o, t, rtol=1e-13)
    check_grads(lambda z: as_list(xform.scipy.special.logsumexp(z, **kw))[0], (z,), order=2)


COMPLEX_CAPABLE = [n for n in DIFFERENTIABLE if not registry[n].real_only]


@pytest.mark.parametrize("name", COMPLEX_CAPABLE)
def test_complex_batch_and_jit(name: str) -> None:
    """On complex inputs, vmap of the primitive equals a loop over the batch and jit
    equals eager evaluation."""
    prim = registry[name]
    domain = complex_domains(name)[0]
    samples = []
    for j in range(3):
        args, params = domain.make(_rng(name, 100 + j))
        samples.append(args)
    base = samples[0]

    def f(*diff_args: Any) -> Any:
        full = list(base)
        for i, v in zip(domain.diff, diff_args):
            full[i] = v
        return bind(prim, *full, **params)

    # the differentiated arguments vary along the batch, the others are the first sample's
    stacked = [onp.stack([s[i] for s in samples]) for i in domain.diff]
    batched = as_list(xform.vmap(f)(*stacked))
    for j, s in enumerate(samples):
        expected = as_list(f(*[s[i] for i in domain.diff]))
        for o, e in zip(batched, expected):
            onp.testing.assert_allclose(onp.asarray(o)[j], e, rtol=1e-10, atol=1e-12,
                                        err_msg=f"{name} [{domain.label}] batch member {j}")
    x = [base[i] for i in domain.diff]
    for o, e in zip(as_list(xform.jit(f)(*x)), as_list(f(*x))):
        assert onp.result_type(o) == onp.result_type(e), f"{name}: jit dtype"
        onp.testing.assert_allclose(o, e, rtol=1e-12, atol=1e-14, err_msg=f"{name}: jit")


@pytest.mark.parametrize("gap", [1e-3, 1e-7, 1e-12])
def test_adjugate_near_singular_matrices(gap: float) -> None:
    """Both of the adjugate's paths (det * inverse when well conditioned, the SVD
    otherwise) agree with the cofactor definition across the switch."""
    rng = onp.random.default_rng(12)
    a = _rank_deficient(rng, 4, 3) + gap * rng.standard_normal((4, 4))
    want = _cofactor_adjugate(a)
    onp.testing.assert_allclose(adjugate(a), want, rtol=1e-8, atol=1e-11 * onp.abs(want).max())
    onp.testing.assert_allclose(adjugate(onp.stack([a, onp.eye(4)])),
                                onp.stack([want, onp.eye(4)]), rtol=1e-8,
                                atol=1e-11 * onp.abs(want).max())
