"""Exact gradients and Hessian-vector products for ``scipy.optimize.minimize``.

The Rosenbrock function is minimised in 2 and in many dimensions with
``jac=xform.grad(f)`` and, for the Newton-type methods, ``hessp`` built from
``xform.hvp`` (a forward-over-reverse Hessian-vector product: the cost of a
few gradients, without ever forming the Hessian). The table compares
iterations and evaluation counts of BFGS (gradient only), Newton-CG with
SciPy's finite-difference Hessian products, and Newton-CG / trust-krylov with
exact ones. xform's derivatives are first checked against SciPy's hand-written
``rosen_der`` and ``rosen_hess_prod``. (In many dimensions the finite-difference
Hessian products are not accurate enough for Newton-CG, which stops early with
"the Hessian is not positive definite"; the exact ones converge.)

Run: ``python examples/scipy_minimize.py [--fast] [--out DIR]``
"""
from __future__ import annotations

import argparse
import warnings
from pathlib import Path
from typing import Any, Callable

import numpy as onp
import scipy.optimize

import xform
import xform.numpy as np

try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:  # matplotlib is optional: pip install "xform[examples]"
    plt = None  # type: ignore[assignment]


def rosenbrock(x: Any) -> Any:
    """sum_i 100 (x[i+1] - x[i]**2)**2 + (1 - x[i])**2, minimum 0 at x = (1, ..., 1)."""
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def rosenbrock_hessp(x: onp.ndarray, p: onp.ndarray) -> onp.ndarray:
    """Hessian-vector product with the signature SciPy expects for ``hessp``."""
    return xform.hvp(rosenbrock, (x,), (p,))


def start_point(dim: int) -> onp.ndarray:
    """The classic (-1.2, 1) start, repeated."""
    return onp.where(onp.arange(dim) % 2 == 0, -1.2, 1.0)


LABELS = {"bfgs": "BFGS (jac)", "newton_cg_fd": "Newton-CG (jac, FD hessp)",
          "newton_cg": "Newton-CG (jac, hessp)", "trust_krylov": "trust-krylov (jac, hessp)"}


def solver_options() -> dict[str, dict[str, Any]]:
    """minimize() keyword arguments for each method compared (keys of ``LABELS``); the tolerances are
    tightened from SciPy's defaults so that every method ends close to (1, ..., 1)."""
    grad = xform.grad(rosenbrock)
    return {
        "bfgs": {"method": "BFGS", "jac": grad, "options": {"gtol": 1e-8}},
        "newton_cg_fd": {"method": "Newton-CG", "jac": grad, "options": {"xtol": 1e-8}},
        "newton_cg": {"method": "Newton-CG", "jac": grad, "hessp": rosenbrock_hessp,
                      "options": {"xtol": 1e-8}},
        "trust_krylov": {"method": "trust-krylov", "jac": grad, "hessp": rosenbrock_hessp,
                         "options": {"gtol": 1e-8}},
    }


def run(x0: onp.ndarray, kwargs: dict[str, Any]) -> tuple[scipy.optimize.OptimizeResult,
                                                          list[onp.ndarray]]:
    path = [x0.copy()]
    callback: Callable[[onp.ndarray], None] = lambda xk: path.append(onp.array(xk))
    kwargs = dict(kwargs, options=dict(kwargs.get("options", {}), maxiter=5000))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # failures are reported in the table instead
        result = scipy.optimize.minimize(rosenbrock, x0, callback=callback, **kwargs)
    return result, path


def check_derivatives(dim: int) -> float:
    """Largest relative difference from SciPy's hand-written derivatives."""
    rng = onp.random.default_rng(0)
    x, p = rng.standard_normal(dim), rng.standard_normal(dim)
    g = xform.grad(rosenbrock)(x)
    hp = rosenbrock_hessp(x, p)
    err_g = onp.max(onp.abs(g - scipy.optimize.rosen_der(x))) / onp.max(onp.abs(g))
    err_h = onp.max(onp.abs(hp - scipy.optimize.rosen_hess_prod(x, p))) / onp.max(onp.abs(hp))
    return float(max(err_g, err_h))


def plot(paths: dict[str, list[onp.ndarray]], results: dict[str, dict[str, Any]], dim: int,
         out_dir: Path) -> Path | None:
    if plt is None:
        print("matplotlib is not installed: skipping the plot (pip install matplotlib)")
        return None
    fig, (ax_path, ax_bar) = plt.subplots(1, 2, figsize=(12, 4.8))
    gx, gy = onp.meshgrid(onp.linspace(-1.6, 1.6, 300), onp.linspace(-0.6, 1.8, 300))
    values = 100.0 * (gy - gx ** 2) ** 2 + (1.0 - gx) ** 2
    ax_path.contour(gx, gy, onp.log10(values + 1e-3), levels=25, cmap="Greys", linewidths=0.6)
    for name, iterates in paths.items():
        pts = onp.array(iterates)
        ax_path.plot(pts[:, 0], pts[:, 1], ".-", ms=4, lw=1, label=f"{name}: {len(pts) - 1} it.")
    ax_path.plot([1.0], [1.0], "r*", ms=14)
    ax_path.set_title("2-D Rosenbrock: iterates")
    ax_path.legend(fontsize=8, loc="lower right")
    names = list(results)
    ypos = onp.arange(len(names))
    bars = [("iterations", "nit"), ("function + gradient evaluations", "nfev+njev"),
            ("Hessian-vector products", "nhev")]
    for k, (label, key) in enumerate(bars):
        counts = [float(sum(results[n][part] for part in key.split("+"))) for n in names]
        counts = [c if c > 0 else onp.nan for c in counts]  # no bar for "not used"
        ax_bar.barh(ypos + 0.27 * (k - 1), counts, height=0.27, label=label)
    ax_bar.set_yticks(ypos)
    ax_bar.set_yticklabels([n + ("" if results[n]["success"] else "\n(FAILED)") for n in names],
                           fontsize=8)
    ax_bar.set_xscale("log")
    ax_bar.set_title(f"{dim}-D Rosenbrock: cost to converge")
    ax_bar.legend(fontsize=8)
    fig.tight_layout()
    path = out_dir / "scipy_minimize.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main(fast: bool = False, out: str | None = None) -> dict[str, float]:
    dim = 20 if fast else 100
    deriv_error = check_derivatives(dim)
    print(f"xform vs scipy.optimize.rosen_der / rosen_hess_prod: max rel. diff {deriv_error:.1e}")

    summary: dict[str, float] = {"derivative_error": deriv_error}
    paths_2d: dict[str, list[onp.ndarray]] = {}
    results_nd: dict[str, dict[str, int]] = {}
    for d in (2, dim):
        print(f"\n{d}-D Rosenbrock from {'(-1.2, 1, ...)' if d > 2 else '(-1.2, 1)'}")
        print(f"{'method':<28} {'success':>7} {'iters':>6} {'f evals':>8} {'grad evals':>10} "
              f"{'hessp evals':>11} {'|x - 1|':>9}")
        for key, kwargs in solver_options().items():
            result, iterates = run(start_point(d), kwargs)
            error = float(onp.max(onp.abs(result.x - 1.0)))
            counts = {k: int(getattr(result, k, 0)) for k in ("nit", "nfev", "njev", "nhev")}
            counts["success"] = int(result.success)
            print(f"{LABELS[key]:<28} {str(bool(result.success)):>7} {counts['nit']:>6} "
                  f"{counts['nfev']:>8} {counts['njev']:>10} {counts['nhev']:>11} {error:>9.1e}")
            if d == 2:
                paths_2d[LABELS[key]] = iterates
            else:
                results_nd[LABELS[key]] = counts
            tag = "2d" if d == 2 else "nd"
            summary[f"{key}_{tag}_error"] = error
            summary[f"{key}_{tag}_iterations"] = float(counts["nit"])
            summary[f"{key}_{tag}_success"] = float(result.success)

    out_dir = Path(out) if out else Path(__file__).resolve().parent
    out_dir.mkdir(parents=True, exist_ok=True)
    path = plot(paths_2d, results_nd, dim, out_dir)
    if path:
        print(f"wrote {path}")
    return summary


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="20 dimensions instead of 100")
    parser.add_argument("--out", default=None, help="directory for the PNG (default: next to this script)")
    args = parser.parse_args()
    main(fast=args.fast, out=args.out)
