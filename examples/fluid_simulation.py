"""Steer smoke into a shape by differentiating through a fluid simulation.

A small incompressible-flow solver (semi-Lagrangian advection with bilinear
interpolation, then a pressure projection by Jacobi iterations, on a periodic
grid) moves a blob of smoke along a velocity field for a fixed number of
steps. The whole simulation is ordinary NumPy-style code, so
``xform.jit(xform.value_and_grad(...))`` gives the gradient of
``sum((final smoke - target)**2)`` with respect to every initial velocity in
one reverse pass. ``scipy.optimize.minimize(method="L-BFGS-B", jac=True)``
then searches over the initial velocity field, flattened into one vector
with ``xform.tree_util.ravel_pytree``, until the smoke ends up looking like
the target: a five-pointed star drawn with NumPy.

Run: ``python examples/fluid_simulation.py [--fast] [--out DIR]``
(grid 32 with ``--fast``, 64 otherwise).
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import numpy as onp
import scipy.optimize

import xform
import xform.numpy as np
from xform.tree_util import ravel_pytree

try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:  # matplotlib is optional: pip install "xform[examples]"
    plt = None  # type: ignore[assignment]

Velocity = dict[str, Any]  # {"vx": (n, n), "vy": (n, n)} in cells per step
PROJECTION_ITERS = 10


# ----------------------------------------------------------------------------- the simulation
def shift(f: Any, offset: int, axis: int) -> Any:
    """``f`` moved by ``offset`` cells along ``axis`` (periodic boundaries)."""
    return np.roll(f, offset, axis)


def project(vx: Any, vy: Any) -> tuple[Any, Any]:
    """Reduce the divergent part of the velocity: solve approximately for a pressure
    (a few Jacobi sweeps of the Poisson equation) and subtract its gradient."""
    divergence = 0.5 * (shift(vx, -1, 1) - shift(vx, 1, 1) + shift(vy, -1, 0) - shift(vy, 1, 0))
    pressure = np.zeros_like(vx)
    for _ in range(PROJECTION_ITERS):
        neighbours = (shift(pressure, 1, 0) + shift(pressure, -1, 0)
                      + shift(pressure, 1, 1) + shift(pressure, -1, 1))
        pressure = (neighbours - divergence) / 4.0
    vx = vx - 0.5 * (shift(pressure, -1, 1) - shift(pressure, 1, 1))
    vy = vy - 0.5 * (shift(pressure, -1, 0) - shift(pressure, 1, 0))
    return vx, vy


def advect(field: Any, vx: Any, vy: Any) -> Any:
    """Semi-Lagrangian transport: each cell takes the value found one time step
    upstream, ``field(position - velocity)``, by bilinear interpolation."""
    rows, cols = field.shape
    row_idx, col_idx = onp.meshgrid(onp.arange(rows), onp.arange(cols), indexing="ij")
    src_x = np.ravel(col_idx - vx)
    src_y = np.ravel(row_idx - vy)
    x0, y0 = np.floor(src_x), np.floor(src_y)
    wx, wy = src_x - x0, src_y - y0  # interpolation weights; floor itself has zero derivative
    c0 = np.mod(x0.astype(int), cols)
    r0 = np.mod(y0.astype(int), rows)
    c1, r1 = np.mod(c0 + 1, cols), np.mod(r0 + 1, rows)
    flat = np.ravel(field)

    def at(r: Any, c: Any) -> Any:
        # np.take rather than field[r, c]: field may be a plain NumPy array (the
        # initial smoke) while the indices are traced, and only xform.numpy
        # functions accept traced indices into a NumPy array
        return np.take(flat, r * cols + c)

    values = ((1.0 - wy) * ((1.0 - wx) * at(r0, c0) + wx * at(r0, c1))
              + wy * ((1.0 - wx) * at(r1, c0) + wx * at(r1, c1)))
    return np.reshape(values, (rows, cols))


def step(vx: Any, vy: Any, smoke: Any) -> tuple[Any, Any, Any]:
    """One time step: the velocity carries itself, is made incompressible, carries the smoke."""
    vx, vy = advect(vx, vx, vy), advect(vy, vx, vy)
    vx, vy = project(vx, vy)
    return vx, vy, advect(smoke, vx, vy)


def simulate(velocity: Velocity, smoke: Any, steps: int) -> Any:
    vx, vy = project(velocity["vx"], velocity["vy"])
    for _ in range(steps):
        vx, vy, smoke = step(vx, vy, smoke)
    return smoke


def frames(velocity: Velocity, smoke: onp.ndarray, steps: int, keep: list[int]) -> list[onp.ndarray]:
    """The smoke at the time steps listed in ``keep`` (for plotting; plain evaluation)."""
    vx, vy = project(velocity["vx"], velocity["vy"])
    saved = [onp.asarray(smoke)] if 0 in keep else []
    for t in range(1, steps + 1):
        vx, vy, smoke = step(vx, vy, smoke)
        if t in keep:
            saved.append(onp.asarray(smoke))
    return saved


def mismatch(velocity: Velocity, smoke: Any, target: Any, steps: int) -> Any:
    return np.sum((simulate(velocity, smoke, steps) - target) ** 2)


# ----------------------------------------------------------------------------- the images
def soft_mask(inside: onp.ndarray, sharpness: float = 1.5) -> onp.ndarray:
    """Signed distance-like values (positive inside) to a smooth 0..1 image."""
    return 0.5 * (1.0 + onp.tanh(sharpness * inside))


def disc(n: int, radius: float) -> onp.ndarray:
    y, x = onp.mgrid[0:n, 0:n] - (n - 1) / 2.0
    return soft_mask(radius - onp.hypot(x, y))


def star(n: int, mean_radius: float, wobble: float, points: int = 5) -> onp.ndarray:
    y, x = onp.mgrid[0:n, 0:n] - (n - 1) / 2.0
    angle = onp.arctan2(y, x) + onp.pi / 2  # one point straight up
    boundary = mean_radius + wobble * onp.cos(points * angle)
    return soft_mask(boundary - onp.hypot(x, y))


# ----------------------------------------------------------------------------- optimisation
def optimise(smoke: onp.ndarray, target: onp.ndarray, steps: int,
             max_iters: int) -> tuple[Velocity, dict[str, float]]:
    n = smoke.shape[0]
    rng = onp.random.default_rng(0)
    velocity0: Velocity = {"vx": 0.01 * rng.standard_normal((n, n)),
                           "vy": 0.01 * rng.standard_normal((n, n))}
    flat0, unravel = ravel_pytree(velocity0)

    def objective(flat: Any) -> Any:
        return mismatch(unravel(flat), smoke, target, steps)

    value_and_grad = xform.jit(xform.value_and_grad(objective))

    def fun(flat: onp.ndarray) -> tuple[float, onp.ndarray]:
        value, g = value_and_grad(flat)
        return float(value), onp.asarray(g, dtype=float)

    start = time.perf_counter()
    initial_loss, _ = fun(onp.asarray(flat0))
    compile_seconds = time.perf_counter() - start
    start = time.perf_counter()
    result = scipy.optimize.minimize(fun, onp.asarray(flat0), jac=True, method="L-BFGS-B",
                                     options={"maxiter": max_iters})
    seconds = time.perf_counter() - start
    stats = {"initial_loss": initial_loss, "final_loss": float(result.fun),
             "iterations": float(result.nit), "evaluations": float(result.nfev),
             "compile_seconds": compile_seconds, "seconds": seconds}
    return unravel(result.x), stats


def plot(velocity: Velocity, smoke: onp.ndarray, target: onp.ndarray, steps: int,
         out_dir: Path) -> Path | None:
    if plt is None:
        print("matplotlib is not installed: skipping the plot (pip install matplotlib)")
        return None
    keep = [0, steps // 3, 2 * steps // 3, steps]
    shots = frames(velocity, smoke, steps, keep)
    fig, axes = plt.subplots(1, len(shots) + 1, figsize=(3 * (len(shots) + 1), 3.3))
    for ax, image, t in zip(axes, shots, keep):
        ax.imshow(image, cmap="magma", vmin=0.0, vmax=1.0, origin="lower")
        ax.set_title("initial smoke" if t == 0 else f"step {t}" + (" (final)" if t == steps else ""))
    n = smoke.shape[0]
    every = max(1, n // 16)
    vx, vy = (onp.asarray(v) for v in project(velocity["vx"], velocity["vy"]))
    grid_y, grid_x = onp.mgrid[0:n:every, 0:n:every]
    axes[0].quiver(grid_x, grid_y, vx[::every, ::every], vy[::every, ::every], color="cyan",
                   angles="xy", scale_units="xy", scale=0.25)
    axes[0].set_title("initial smoke + optimised velocity")
    axes[-1].imshow(target, cmap="magma", vmin=0.0, vmax=1.0, origin="lower")
    axes[-1].set_title("target")
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    path = out_dir / "fluid_simulation.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def main(fast: bool = False, out: str | None = None) -> dict[str, float]:
    n = 32 if fast else 64
    steps = 16 if fast else 24
    max_iters = 40 if fast else 150
    smoke = disc(n, radius=0.22 * n)
    mean_radius, wobble = 0.21 * n, 0.09 * n  # about the same area as the disc
    target = star(n, mean_radius, wobble)

    print(f"grid {n}x{n}, {steps} simulation steps, {2 * n * n} velocity parameters")
    velocity, stats = optimise(smoke, target, steps, max_iters)
    print(f"jit(value_and_grad) traced and compiled in {stats['compile_seconds']:.2f} s")
    print(f"L-BFGS-B: {int(stats['iterations'])} iterations, {int(stats['evaluations'])} "
          f"evaluations in {stats['seconds']:.1f} s")
    print(f"mismatch {stats['initial_loss']:.2f} -> {stats['final_loss']:.2f} "
          f"({stats['initial_loss'] / stats['final_loss']:.1f}x smaller)")

    out_dir = Path(out) if out else Path(__file__).resolve().parent
    out_dir.mkdir(parents=True, exist_ok=True)
    path = plot(velocity, smoke, target, steps, out_dir)
    if path:
        print(f"wrote {path}")
    return {k: stats[k] for k in ("initial_loss", "final_loss", "iterations", "evaluations")}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="32x32 grid and fewer iterations")
    parser.add_argument("--out", default=None, help="directory for the PNG (default: next to this script)")
    args = parser.parse_args()
    main(fast=args.fast, out=args.out)
