"""Jacobian benchmark: jacfwd/jacrev/jacobian, hessian and hvp against the analytic
NumPy result in the same run, and how the time grows with the sizes.

Run: ``python benchmarks/bench_jacobians.py``.
"""
from __future__ import annotations

import argparse
import os
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as onp  # noqa: E402
import scipy.special as sc  # noqa: E402

import xform  # noqa: E402
import xform.numpy as np  # noqa: E402
import xform.scipy.special as xsp  # noqa: E402
from bench_core import median_time  # noqa: E402


def tanh_layer(A: onp.ndarray) -> Any:
    return lambda x: np.tanh(A @ x)


def tanh_layer_jacobian(A: onp.ndarray, x: onp.ndarray) -> onp.ndarray:
    return (1.0 - onp.tanh(A @ x) ** 2)[:, None] * A


def bench_jac(n: int, m: int, repeat: int) -> dict[str, float]:
    rng = onp.random.default_rng(0)
    A = rng.standard_normal((m, n)) / onp.sqrt(n)
    x = rng.standard_normal(n)
    f = tanh_layer(A)
    ref = tanh_layer_jacobian(A, x)
    out = {}
    t_ref = median_time(lambda: tanh_layer_jacobian(A, x), repeat)
    for name, jac in (("jacfwd", xform.jacfwd(f)), ("jacrev", xform.jacrev(f)),
                      ("jit_jacfwd", xform.jit(xform.jacfwd(f))),
                      ("jit_jacrev", xform.jit(xform.jacrev(f)))):
        assert onp.allclose(jac(x), ref)
        out[name] = median_time(lambda: jac(x), repeat) / t_ref
    out["numpy_ms"] = 1e3 * t_ref
    return out


def lse_objective(A: onp.ndarray) -> Any:
    def f(x: Any) -> Any:
        z = A @ x
        m = xform.stop_gradient(np.max(z))
        return m + np.log(np.sum(np.exp(z - m))) + 0.5 * np.sum(x * x)
    return f


def lse_hessian(A: onp.ndarray, x: onp.ndarray) -> onp.ndarray:
    z = A @ x
    p = onp.exp(z - z.max())
    p /= p.sum()
    return A.T @ ((onp.diag(p) - onp.outer(p, p)) @ A) + onp.eye(len(x))


def lse_hvp(A: onp.ndarray, x: onp.ndarray, v: onp.ndarray) -> onp.ndarray:
    z = A @ x
    p = onp.exp(z - z.max())
    p /= p.sum()
    Av = A @ v
    return A.T @ (p * Av - p * (p @ Av)) + v


def bench_hessian(n: int, m: int, repeat: int) -> dict[str, float]:
    rng = onp.random.default_rng(1)
    A = rng.standard_normal((m, n)) / onp.sqrt(n)
    x = rng.standard_normal(n)
    v = rng.standard_normal(n)
    f = lse_objective(A)
    H = xform.hessian(f)
    H_jit = xform.jit(H)
    hvp_jit = xform.jit(lambda x, v: xform.hvp(f, (x,), (v,)))
    assert onp.allclose(H(x), lse_hessian(A, x))
    assert onp.allclose(H_jit(x), lse_hessian(A, x))
    assert onp.allclose(xform.hvp(f, (x,), (v,)), lse_hvp(A, x, v))
    assert onp.allclose(hvp_jit(x, v), lse_hvp(A, x, v))
    t_h = median_time(lambda: lse_hessian(A, x), repeat)
    t_v = median_time(lambda: lse_hvp(A, x, v), repeat)
    return {"hessian": median_time(lambda: H(x), repeat) / t_h,
            "jit_hessian": median_time(lambda: H_jit(x), repeat) / t_h,
            "hvp": median_time(lambda: xform.hvp(f, (x,), (v,)), repeat) / t_v,
            "jit_hvp": median_time(lambda: hvp_jit(x, v), repeat) / t_v,
            "hessian_numpy_ms": 1e3 * t_h, "hvp_numpy_us": 1e6 * t_v,
            "hvp_us": 1e6 * median_time(lambda: hvp_jit(x, v), repeat)}


def bench_logsumexp(repeat: int, n: int = 300) -> dict[str, float]:
    """``xform.scipy.special.logsumexp`` outside any transform (its impl) against SciPy's
    and against the hand-written NumPy shift-exp-sum-log, in microseconds."""
    z = onp.random.default_rng(3).standard_normal(n)

    def by_hand() -> Any:
        m = z.max()
        return m + onp.log(onp.sum(onp.exp(z - m)))
    assert onp.isclose(xsp.logsumexp(z), sc.logsumexp(z)) and onp.isclose(by_hand(), sc.logsumexp(z))
    return {name: 1e6 * median_time(fn, repeat, number=100)
            for name, fn in (("xform", lambda: xsp.logsumexp(z)), ("scipy", lambda: sc.logsumexp(z)),
                             ("numpy", by_hand))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--targets", action="store_true",
                        help="only the sizes of the speed issue: jacobians at n=10/m=1000, "
                        "the Hessian at n=200")
    args = parser.parse_args()
    jac_sizes = ((10, 1000),) if args.targets else (
        (10, 1000), (1000, 10), (10, 100), (100, 10), (100, 1000), (1000, 100))
    hess_sizes = (200,) if args.targets else (50, 100, 200, 400)
    print("f(x) = tanh(A @ x): time / analytic Jacobian time")
    print(f"{'n (in)':>7} {'m (out)':>8} {'numpy ms':>9} {'jacfwd':>8} {'jacrev':>8} "
          f"{'jit fwd':>8} {'jit rev':>8}")
    for n, m in jac_sizes:
        r = bench_jac(n, m, args.repeat)
        print(f"{n:>7} {m:>8} {r['numpy_ms']:>9.3f} {r['jacfwd']:>7.2f}x {r['jacrev']:>7.2f}x "
              f"{r['jit_jacfwd']:>7.2f}x {r['jit_jacrev']:>7.2f}x")
    print("\nlogsumexp(A @ x) + |x|^2/2, A of (1.5n x n): time / analytic time")
    print(f"{'n':>5} {'hessian':>9} {'jit hess':>9} {'hvp':>8} {'jit hvp':>8} "
          f"{'jit hvp us':>11}")
    for n in hess_sizes:
        r = bench_hessian(n, 3 * n // 2, args.repeat)
        print(f"{n:>5} {r['hessian']:>8.2f}x {r['jit_hessian']:>8.2f}x {r['hvp']:>7.2f}x "
              f"{r['jit_hvp']:>7.2f}x {r['hvp_us']:>11.1f}")
    r = bench_logsumexp(args.repeat)
    print(f"\nlogsumexp of 300 values: xform {r['xform']:.1f} us, scipy {r['scipy']:.1f} us, "
          f"hand-written NumPy {r['numpy']:.1f} us")


if __name__ == "__main__":
    main()
