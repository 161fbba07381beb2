"""XLA backend benchmark: ``jit(backend="xla")`` beside xform's NumPy jit, JAX's own
``jax.jit`` and hand-written NumPy, on the chain, fluid and MLP gradients. Compile
time (the first call: tracing, lowering, XLA compilation) is reported apart from the
steady-state time per call. Everything runs in float64.

Run: ``python benchmarks/bench_xla.py`` (needs the extra ``xform[xla]``);
``--quick`` for small sizes.
"""
from __future__ import annotations

import argparse
import os
import time
from typing import Any, Callable

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as onp  # noqa: E402

import xform  # noqa: E402
from bench_core import (BATCH, SIZES, chain, chain_grad_numpy, init_mlp,  # noqa: E402
                        median_time, mlp_grad_numpy, mlp_loss)
from bench_jit import fluid_loss  # noqa: E402
from run_all import FluidNS, fluid_loss_ns, mlp_loss_ns  # noqa: E402


def first_call(fn: Callable[[], Any]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def report(name: str, t_np: float, systems: dict[str, tuple[float, float]]) -> None:
    """``systems``: name -> (compile s, steady s)."""
    print(f"\n{name}\n  {'system':<20} {'compile s':>10} {'per call ms':>12} {'x NumPy':>8}")
    print(f"  {'NumPy (hand)':<20} {'':>10} {1e3 * t_np:>12.3f} {1.0:>8.2f}")
    for system, (t_compile, t_run) in systems.items():
        print(f"  {system:<20} {t_compile:>10.2f} {1e3 * t_run:>12.3f} {t_run / t_np:>8.3f}")
    if "xform xla" in systems and "jax.jit" in systems:
        ratio = systems["xform xla"][1] / systems["jax.jit"][1]
        print(f"  xform xla / jax.jit: {ratio:.2f}")


def fresh(make: Callable[[], Any], *args: Any) -> Callable[[], Callable[[], Any]]:
    """A builder of a new jitted function (so its first call compiles) applied to args."""
    def build() -> Callable[[], Any]:
        f = make()
        return lambda: f(*args)
    return build


def measure(build: Callable[[], Callable[[], Any]], repeat: int) -> tuple[float, float]:
    fn = build()
    compile_s = first_call(fn)
    return compile_s, median_time(fn, repeat)


def bench_chain(jax: Any, repeat: int) -> None:
    jnp = jax.numpy
    x = 0.3
    want = chain_grad_numpy(x)
    g_np = xform.jit(xform.grad(chain))
    g_xla = xform.jit(xform.grad(chain), backend="xla")
    assert abs(float(g_xla(x)) - want) < 1e-9 * abs(want) + 1e-12

    def chain_j(v: Any) -> Any:
        for _ in range(333):
            v = jnp.sin(v) * 1.001 + 0.1
        return jnp.sin(v)

    g_jax = jax.jit(jax.grad(chain_j))
    xj = jnp.asarray(x)
    report("chain: grad of 1,000 scalar ops", median_time(lambda: chain_grad_numpy(x), repeat), {
        "xform jit (numpy)": measure(fresh(lambda: xform.jit(xform.grad(chain)), x), repeat),
        "xform xla": measure(fresh(lambda: xform.jit(xform.grad(chain), backend="xla"), x),
                             repeat),
        "jax.jit": measure(lambda: lambda: g_jax(xj).block_until_ready(), repeat)})


def bench_fluid(jax: Any, repeat: int, n: int, steps: int) -> None:
    rng = onp.random.default_rng(2)
    vx, vy = 0.5 * rng.standard_normal((n, n)), 0.5 * rng.standard_normal((n, n))
    smoke, target = rng.random((n, n)), rng.random((n, n))

    def loss(vx: Any, vy: Any, smoke: Any, target: Any) -> Any:
        return fluid_loss(vx, vy, smoke, target, steps)

    g_np = xform.jit(xform.grad(loss, (0, 1)))
    g_xla = xform.jit(xform.grad(loss, (0, 1)), backend="xla")
    for a, b in zip(g_xla(vx, vy, smoke, target), g_np(vx, vy, smoke, target)):
        assert onp.allclose(a, b, rtol=1e-9, atol=1e-12)
    f_np = fluid_loss_ns(FluidNS("numpy", onp), steps)
    fj = fluid_loss_ns(FluidNS("jax", jax.numpy), steps, jax.lax.fori_loop)
    g_jax = jax.jit(jax.grad(fj, (0, 1)))
    args = [jax.numpy.asarray(a) for a in (vx, vy, smoke, target)]
    with onp.errstate(all="ignore"):
        t_np = median_time(lambda: f_np(vx, vy, smoke, target), repeat)
    report(f"fluid {n}x{n}, {steps} steps: grad (NumPy = forward only)", t_np, {
        "xform jit (numpy)": measure(fresh(lambda: xform.jit(xform.grad(loss, (0, 1))),
                                           vx, vy, smoke, target), repeat),
        "xform xla": measure(fresh(lambda: xform.jit(xform.grad(loss, (0, 1)), backend="xla"),
                                   vx, vy, smoke, target), repeat),
        "jax.jit": measure(lambda: lambda: jax.block_until_ready(g_jax(*args)), repeat)})


def bench_mlp(jax: Any, repeat: int, quick: bool) -> None:
    rng = onp.random.default_rng(0)
    params = init_mlp(rng)
    if quick:
        params = [(W[:64, :32], b[:32]) for W, b in params[:1]] + [(params[-1][0][:32], params[-1][1])]
    x = rng.standard_normal((BATCH if not quick else 16, params[0][0].shape[0]))
    y = rng.standard_normal((x.shape[0], SIZES[-1]))
    g_np = xform.jit(xform.grad(mlp_loss))
    g_xla = xform.jit(xform.grad(mlp_loss), backend="xla")
    for (a, b), (c, d) in zip(g_xla(params, x, y), mlp_grad_numpy(params, x, y)):
        assert onp.allclose(a, c, rtol=1e-9, atol=1e-12) and onp.allclose(b, d, rtol=1e-9,
                                                                            atol=1e-12)
    g_jax = jax.jit(jax.grad(mlp_loss_ns(jax.numpy)))
    pj = jax.tree_util.tree_map(jax.numpy.asarray, params)
    xj, yj = jax.numpy.asarray(x), jax.numpy.asarray(y)
    report(f"MLP {'-'.join(str(W.shape[0]) for W, _ in params)}-{SIZES[-1]} grad "
           f"(batch {x.shape[0]})", median_time(lambda: mlp_grad_numpy(params, x, y), repeat), {
        "xform jit (numpy)": measure(fresh(lambda: xform.jit(xform.grad(mlp_loss)),
                                           params, x, y), repeat),
        "xform xla": measure(fresh(lambda: xform.jit(xform.grad(mlp_loss), backend="xla"),
                                   params, x, y), repeat),
        "jax.jit": measure(lambda: lambda: jax.block_until_ready(g_jax(pj, xj, yj)), repeat)})


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=21)
    parser.add_argument("--quick", action="store_true", help="small sizes, few repeats")
    args = parser.parse_args(argv)
    import jax
    repeat = 3 if args.quick else args.repeat
    print(f"jax {jax.__version__} on {jax.devices()[0].platform}, float64")
    with jax.enable_x64(True):  # JAX's own runs in float64 too
        bench_chain(jax, repeat)
        bench_fluid(jax, repeat, *((8, 3) if args.quick else (32, 20)))
        bench_mlp(jax, repeat, args.quick)


if __name__ == "__main__":
    main()
