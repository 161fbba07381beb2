"""Input domains of the linear-algebra primitives (numpy.linalg and scipy.linalg).

Matrices are built well conditioned, with the structure each primitive needs:
spread eigenvalues/singular values (so eigen/singular vectors are differentiable),
SPD matrices for Cholesky, invertible triangles for triangular solves. Stacked
``(2, n, n)`` cases exercise NumPy's broadcasting over leading axes.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from domains import Domain, fixed

Rng = np.random.Generator
Shape = tuple[int, ...]


# ----------------------------------------------------------------------------- samplers
def orthogonal(rng: Rng, lead: Shape, n: int) -> np.ndarray:
    q, r = np.linalg.qr(rng.standard_normal(lead + (n, n)))
    return q * np.sign(np.diagonal(r, axis1=-2, axis2=-1))[..., None, :]


def spread(rng: Rng, lead: Shape, k: int, lo: float, hi: float) -> np.ndarray:
    """``k`` values per matrix, evenly spread over [lo, hi] (distinct), jittered, shuffled."""
    base = np.linspace(lo, hi, k) + rng.uniform(-0.1, 0.1, lead + (k,)) * (hi - lo) / k
    return rng.permuted(base, axis=-1)


def general(rng: Rng, shape: Shape) -> np.ndarray:
    """A well-conditioned square matrix (singular values in [1, 3])."""
    *lead, n, _ = shape
    s = spread(rng, tuple(lead), n, 1.0, 3.0)
    return orthogonal(rng, tuple(lead), n) * s[..., None, :] @ np.swapaxes(
        orthogonal(rng, tuple(lead), n), -1, -2)


def rect(rng: Rng, shape: Shape, rank: int | None = None) -> np.ndarray:
    """``U diag(s) V^T`` with distinct singular values in [1, 4] (the last
    ``min(m, n) - rank`` of them zero when ``rank`` is given)."""
    *lead, m, n = shape
    k = min(m, n)
    s = -np.sort(-spread(rng, tuple(lead), k, 1.0, 4.0), axis=-1)
    if rank is not None:
        s[..., rank:] = 0.0
    u = orthogonal(rng, tuple(lead), m)[..., :k]
    v = orthogonal(rng, tuple(lead), n)[..., :k]
    return (u * s[..., None, :]) @ np.swapaxes(v, -1, -2)


def symmetric(rng: Rng, shape: Shape, lo: float = -3.0, hi: float = 3.0) -> np.ndarray:
    """``Q diag(w) Q^T`` with spread eigenvalues in [lo, hi]."""
    *lead, n, _ = shape
    q = orthogonal(rng, tuple(lead), n)
    w = spread(rng, tuple(lead), n, lo, hi)
    return (q * w[..., None, :]) @ np.swapaxes(q, -1, -2)


def spd(rng: Rng, shape: Shape) -> np.ndarray:
    """``B B^T + n I``."""
    b = rng.standard_normal(shape)
    return b @ np.swapaxes(b, -1, -2) + shape[-1] * np.eye(shape[-1])


def with_garbage(sample: Callable[[Rng, Shape], np.ndarray], lower: bool
                 ) -> Callable[[Rng, Shape], np.ndarray]:
    """A matrix whose unread triangle holds unrelated values (they must not matter)."""
    def make(rng: Rng, shape: Shape) -> np.ndarray:
        a = sample(rng, shape)
        n = shape[-1]
        unread = np.triu(np.ones((n, n), bool), 1) if lower else np.tril(np.ones((n, n), bool), -1)
        return np.where(unread, rng.standard_normal(shape), a)
    return make


def real_spectrum(rng: Rng, shape: Shape) -> np.ndarray:
    """A non-symmetric matrix ``P diag(w) P^-1`` with distinct real eigenvalues."""
    *lead, n, _ = shape
    p = np.eye(n) + 0.3 * rng.standard_normal(shape)
    w = spread(rng, tuple(lead), n, -3.0, 3.0)
    return (p * w[..., None, :]) @ np.linalg.inv(p)


def triangular(rng: Rng, shape: Shape, lower: bool) -> np.ndarray:
    """A full matrix whose ``lower``/upper triangle is well conditioned."""
    a = rng.standard_normal(shape)
    n = shape[-1]
    d = rng.choice([-1.0, 1.0], shape[:-1]) * rng.uniform(2.0, 3.0, shape[:-1])
    return a + d[..., None] * np.eye(n)


def normal(rng: Rng, shape: Shape) -> np.ndarray:
    return rng.standard_normal(shape)


def mats(*specs: tuple[Callable[..., np.ndarray], Shape]) -> Callable[[Rng], tuple]:
    return lambda rng: tuple(f(rng, s) for f, s in specs)


def cases(name: str, specs: list[tuple[Any, dict[str, Any]]], diff: tuple[int, ...] = (0,),
          **kw: Any) -> list[Domain]:
    return [fixed(make, params, diff=diff, label=f"{name} {label}", **kw)
            for (make, label), params in specs]


# ----------------------------------------------------------------------------- numpy.linalg
DOMAINS: dict[str, list[Domain]] = {}

SQUARE = [(3, 3), (2, 3, 3)]

DOMAINS["inv"] = [fixed(mats((general, s)), {}, label=f"A{s}") for s in SQUARE]
DOMAINS["det"] = [fixed(mats((general, s)), {}, label=f"A{s}") for s in SQUARE]
# (singular matrices, where det's first two derivatives exist: test_complex_and_zeros.py)
DOMAINS["adjugate"] = [fixed(mats((general, s)), {}, label=f"A{s}") for s in SQUARE]
DOMAINS["adjugate_tangent"] = [fixed(mats((general, s), (general, s)), {}, diff=(0, 1),
                                     label=f"A{s} H{s}") for s in SQUARE] + [
    fixed(lambda rng: (general(rng, (3, 3)), general(rng, (2, 3, 3))), {}, diff=(0, 1),
          label="A shared, H stacked")]
DOMAINS["slogdet"] = [fixed(mats((general, s)), {}, label=f"A{s}") for s in SQUARE] + [
    fixed(lambda rng: (general(rng, (3, 3)) * np.array([[-1.0], [1.0], [1.0]]),), {},
          label="negative determinant")]
DOMAINS["solve"] = [
    fixed(mats((general, sa), (normal, sb)), {}, diff=(0, 1), label=f"A{sa} b{sb}")
    for sa, sb in [((3, 3), (3, 2)), ((2, 3, 3), (2, 3, 1)), ((2, 3, 3), (3, 2)),
                   ((3, 3), (2, 3, 2))]]
DOMAINS["triangular_solve"] = [
    fixed(lambda rng, lo=lo, sa=sa, sb=sb: (triangular(rng, sa, lo), normal(rng, sb)),
          {"lower": lo, "trans": tr, "unit_diagonal": unit}, diff=(0, 1),
          label=f"A{sa} b{sb} lower={lo} trans={tr} unit={unit}")
    for sa, sb, lo, tr, unit in [((3, 3), (3, 2), True, 0, False),
                                 ((3, 3), (3, 1), False, 1, False),
                                 ((2, 3, 3), (2, 3, 2), True, 1, True),
                                 ((3, 3), (2, 3, 2), False, 0, True)]]
DOMAINS["cholesky"] = [
    fixed(lambda rng, s=s, lo=lo: (with_garbage(spd, lo)(rng, s),), {"lower": lo},
          label=f"A{s} lower={lo}")
    for s, lo in [((3, 3), True), ((3, 3), False), ((2, 3, 3), True)]]
DOMAINS["eigh"] = [
    fixed(lambda rng, s=s, lo=lo: (with_garbage(symmetric, lo)(rng, s),), {"lower": lo},
          label=f"A{s} lower={lo}")
    for s, lo in [((3, 3), True), ((4, 4), False), ((2, 3, 3), True)]]
DOMAINS["eigvalsh"] = [
    fixed(lambda rng, s=s, lo=lo: (with_garbage(symmetric, lo)(rng, s),), {"lower": lo},
          label=f"A{s} lower={lo}")
    for s, lo in [((3, 3), True), ((2, 4, 4), False)]]
def complex_spectrum(rng: Rng, shape: Shape) -> np.ndarray:
    """A real matrix with a complex-conjugate pair of eigenvalues (and real ones)."""
    *lead, n, _ = shape
    p = np.eye(n) + 0.3 * rng.standard_normal(shape)
    d = np.zeros(shape)
    d[..., 0, 0] = d[..., 1, 1] = 1.5
    d[..., 0, 1], d[..., 1, 0] = 1.0, -1.0   # the block [[a, b], [-b, a]]: a +- ib
    for i in range(2, n):
        d[..., i, i] = -1.0 - i
    return p @ d @ np.linalg.inv(p)


DOMAINS["eig"] = [fixed(mats((real_spectrum, s)), {}, label=f"A{s} real spectrum")
                  for s in [(3, 3), (2, 3, 3)]] + [
    fixed(mats((complex_spectrum, s)), {}, label=f"A{s} complex pair") for s in [(3, 3), (4, 4)]]
DOMAINS["svd"] = [
    fixed(mats((rect, s)), {"full_matrices": False}, label=f"A{s}")
    for s in [(3, 3), (4, 3), (3, 5), (2, 4, 3)]]
DOMAINS["svdvals"] = [fixed(mats((rect, s)), {}, label=f"A{s}")
                      for s in [(3, 3), (4, 2), (2, 2, 4)]]
DOMAINS["qr"] = [fixed(mats((rect, s)), {}, label=f"A{s}")
                 for s in [(3, 3), (5, 3), (3, 5), (2, 4, 3)]]
DOMAINS["pinv"] = [
    fixed(mats((rect, (4, 3))), {"rcond": 1e-15, "hermitian": False}, label="full rank 4x3"),
    fixed(mats((rect, (2, 3, 5))), {"rcond": 1e-15, "hermitian": False}, label="stack 3x5"),
    # perturbations of size 1e-6 stay under the cutoff: the rank is locally constant
    fixed(lambda rng: (rect(rng, (4, 3), rank=2),), {"rcond": 1e-3, "hermitian": False},
          label="rank 2 of 3"),
    fixed(lambda rng: (with_garbage(symmetric, True)(rng, (3, 3)),),
          {"rcond": 1e-15, "hermitian": True}, label="hermitian"),
]
DOMAINS["lstsq"] = [
    fixed(mats((rect, sa), (normal, sb)), {"rcond": rc}, diff=(0, 1), label=f"A{sa} b{sb}")
    for sa, sb, rc in [((5, 3), (5, 2), 1e-12), ((3, 5), (3, 1), 1e-12)]] + [
    fixed(lambda rng: (rect(rng, (5, 3), rank=2), normal(rng, (5, 2))), {"rcond": 1e-3},
          diff=(0, 1), label="rank 2 of 3")]
DOMAINS["matrix_rank"] = [
    fixed(mats((general, (3, 3))), {"tol": None, "hermitian": False, "rtol": None}),
    fixed(lambda rng: (rect(rng, (2, 4, 3), rank=2),),
          {"tol": None, "hermitian": False, "rtol": None}, label="rank 2")]


# ----------------------------------------------------------------------------- scipy.linalg
def lu_args(rng: Rng, shape: Shape, sb: Shape) -> tuple[Any, ...]:
    import scipy.linalg
    lu, piv = scipy.linalg.lu_factor(general(rng, shape))
    return lu, piv, normal(rng, sb)


def banded(rng: Rng, l: int, u: int, n: int, lead: Shape = ()) -> np.ndarray:
    """Banded storage of a diagonally dominant matrix (corners hold junk: unused)."""
    ab = rng.standard_normal(lead + (l + u + 1, n))
    ab[..., u, :] = rng.choice([-1.0, 1.0], lead + (n,)) * rng.uniform(3.0, 4.0, lead + (n,))
    return ab


DOMAINS["expm"] = [fixed(lambda rng, s=s: (0.5 * normal(rng, s),), {}, label=f"A{s}")
                   for s in [(3, 3), (2, 3, 3)]]
DOMAINS["solve_sylvester"] = [
    fixed(lambda rng, sa=sa, sb=sb, sq=sq: (spd(rng, sa), spd(rng, sb), normal(rng, sq)), {},
          diff=(0, 1, 2), label=f"A{sa} B{sb} Q{sq}")
    for sa, sb, sq in [((3, 3), (2, 2), (3, 2)), ((2, 3, 3), (3, 3), (2, 3, 3))]]
DOMAINS["sqrtm"] = [fixed(lambda rng, s=s: (spd(rng, s),), {}, label=f"SPD{s}")
                    for s in [(3, 3), (2, 3, 3)]] + [
    fixed(lambda rng: (real_spectrum(rng, (3, 3)) + 4.0 * np.eye(3),), {},
          label="non-symmetric, positive spectrum")]
DOMAINS["solve_banded"] = [
    fixed(lambda rng, l=l, u=u, n=n, k=k, lead=lead: (banded(rng, l, u, n, lead),
                                                      normal(rng, lead + (n, k))),
          {"l": l, "u": u}, diff=(0, 1), label=f"l={l} u={u} n={n} k={k} lead={lead}")
    for l, u, n, k, lead in [(1, 1, 5, 2, ()), (2, 1, 6, 1, ()), (0, 2, 4, 2, (2,))]]
# the integer pivots are outputs too, so the generic float32 check does not apply;
# test_linalg.py checks that lu stays float32
DOMAINS["lu_factor"] = [fixed(mats((general, s)), {}, label=f"A{s}", float32=False)
                        for s in SQUARE] + [
    fixed(lambda rng: (general(rng, (4, 4))[::-1].copy(),), {}, label="pivoting",
          float32=False)]
DOMAINS["lu_solve"] = [
    fixed(lambda rng, sa=sa, sb=sb: lu_args(rng, sa, sb), {"trans": tr}, diff=(0, 2),
          label=f"A{sa} b{sb} trans={tr}")
    for sa, sb, tr in [((3, 3), (3, 2), 0), ((3, 3), (3, 1), 1), ((2, 3, 3), (2, 3, 2), 1),
                       ((4, 4), (2, 4, 1), 0)]]
