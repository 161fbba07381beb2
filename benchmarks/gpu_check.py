"""Check xform on CuPy arrays on a GPU machine: pass/fail per transform, then the
speed of an MLP gradient on the GPU against NumPy on the CPU. Under 5 minutes.

Run: ``pip install cupy-cuda12x`` (the wheel for the machine's CUDA), then
``python benchmarks/gpu_check.py`` (``--batch/--hidden/--repeat`` size the speed
test, ``--skip-speed`` leaves it out). Without CuPy or without a GPU it says so and
exits with status 0; a failed check exits with status 1.

Each check runs a transform of a small MLP or logistic regression on device arrays
and requires a device array back (nothing silently copied to the host) equal to
the NumPy result.
"""
from __future__ import annotations

import argparse
import time
from typing import Any, Callable

import numpy as onp

import xform
import xform.numpy as np
from xform import lax
from xform.tree_util import tree_leaves, tree_map


def logistic_loss(w: Any, x: Any, y: Any) -> Any:
    z = x @ w
    return np.mean(np.logaddexp(0.0, z) - y * z)


def mlp_loss(params: Any, x: Any, y: Any) -> Any:
    w1, b1, w2 = params
    h = np.tanh(x @ w1 + b1)
    return np.mean((h @ w2 - y) ** 2)


def _scan_loss(w: Any, x: Any) -> Any:
    def step(c: Any, row: Any) -> Any:
        c = np.tanh(c + row @ w)
        return c, c * c
    c, ys = lax.scan(step, np.sum(w) * 0.0, x)
    return c + np.sum(ys)


def checks(n: int = 64, d: int = 5, h: int = 4) -> dict[str, Callable[[Any, Any], Any]]:
    """name -> ``run(data, to_device)``: ``data`` holds NumPy arrays; ``to_device`` maps a
    pytree of them to device arrays (identity for the NumPy reference)."""
    rng = onp.random.default_rng(0)
    data = {"x": rng.normal(size=(n, d)), "y": (rng.uniform(size=n) < 0.5).astype(float),
            "w": rng.normal(size=d), "ws": rng.normal(size=(3, d)),
            "params": (rng.normal(size=(d, h)), rng.normal(size=h), rng.normal(size=h)),
            "t": onp.ones(d), "one": onp.array(1.0)}

    def case(f: Callable[..., Any]) -> Callable[[Any, Any], Any]:
        return lambda dev, _data=data: f(dev(_data))

    return {
        "grad": case(lambda a: xform.grad(logistic_loss)(a["w"], a["x"], a["y"])),
        "value_and_grad (MLP)": case(
            lambda a: xform.value_and_grad(mlp_loss)(a["params"], a["x"], a["y"])),
        "jvp": case(lambda a: xform.jvp(lambda w: logistic_loss(w, a["x"], a["y"]),
                                        (a["w"],), (a["t"],))),
        "vjp": case(lambda a: xform.vjp(lambda w: logistic_loss(w, a["x"], a["y"]),
                                        a["w"])[1](a["one"])),
        "linearize": case(lambda a: xform.linearize(
            lambda w: logistic_loss(w, a["x"], a["y"]), a["w"])[1](a["t"])),
        "jacfwd": case(lambda a: xform.jacfwd(lambda w: np.tanh(a["x"] @ w))(a["w"])),
        "jacrev": case(lambda a: xform.jacrev(lambda w: np.tanh(a["x"] @ w))(a["w"])),
        "hessian": case(lambda a: xform.hessian(logistic_loss)(a["w"], a["x"], a["y"])),
        "vmap of grad": case(lambda a: xform.vmap(xform.grad(logistic_loss), (0, None, None))(
            a["ws"], a["x"], a["y"])),
        "jit": case(lambda a: xform.jit(logistic_loss)(a["w"], a["x"], a["y"])),
        "jit of grad (MLP)": case(
            lambda a: xform.jit(xform.grad(mlp_loss))(a["params"], a["x"], a["y"])),
        "checkpoint": case(
            lambda a: xform.grad(xform.checkpoint(mlp_loss))(a["params"], a["x"], a["y"])),
        "grad of lax.scan": case(lambda a: xform.grad(_scan_loss)(a["w"], a["x"])),
        "jit of grad of lax.scan": case(
            lambda a: xform.jit(xform.grad(_scan_loss))(a["w"], a["x"])),
    }


def run_checks(to_device: Callable[[Any], Any], to_host: Callable[[Any], Any],
               device_type: type) -> list[tuple[str, str]]:
    """``(name, "PASS" or "FAIL: why")`` for each check, on arrays made by
    ``to_device`` (one array) and read back by ``to_host``."""
    results = []
    for name, run in checks().items():
        try:
            got = run(lambda tree: tree_map(to_device, tree))
            want = run(lambda tree: tree)
            got_l, want_l = tree_leaves(got), tree_leaves(want)
            wrong = [type(g).__name__ for g in got_l if not isinstance(g, device_type)]
            if wrong or len(got_l) != len(want_l):
                results.append((name, f"FAIL: results of type {wrong} (not on the device)"))
                continue
            for g, w in zip(got_l, want_l):
                onp.testing.assert_allclose(to_host(g), w, rtol=1e-10, atol=1e-12)
            results.append((name, "PASS"))
        except Exception as e:  # a check fails; the others still run
            results.append((name, f"FAIL: {type(e).__name__}: {str(e)[:200]}"))
    return results


def mlp_speed(cp: Any, batch: int, hidden: int, repeat: int) -> tuple[float, float]:
    """Median seconds of one MLP gradient on the GPU (CuPy) and on the CPU (NumPy)."""
    rng = onp.random.default_rng(0)
    d = 256
    params = (rng.normal(size=(d, hidden)) / d ** 0.5, onp.zeros(hidden),
              rng.normal(size=hidden) / hidden ** 0.5)
    x, y = rng.normal(size=(batch, d)), rng.normal(size=batch)
    grad = xform.grad(mlp_loss)

    def timed(fn: Callable[[], Any], sync: Callable[[], None]) -> float:
        fn()
        sync()
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            fn()
            sync()
            times.append(time.perf_counter() - t0)
        return sorted(times)[len(times) // 2]

    gpu_args = (tree_map(cp.asarray, params), cp.asarray(x), cp.asarray(y))
    sync = cp.cuda.Device().synchronize
    t_gpu = timed(lambda: grad(*gpu_args), sync)
    t_cpu = timed(lambda: grad(params, x, y), lambda: None)
    return t_gpu, t_cpu


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--batch", type=int, default=8192, help="MLP batch (speed test)")
    ap.add_argument("--hidden", type=int, default=1024, help="MLP hidden width")
    ap.add_argument("--repeat", type=int, default=10)
    ap.add_argument("--skip-speed", action="store_true")
    args = ap.parse_args(argv)
    try:
        import cupy as cp  # optional: this script is only useful with it
        cp.cuda.runtime.getDeviceCount()
    except Exception as e:  # ImportError, or CuPy without a usable GPU/driver
        print(f"gpu_check: CuPy is not usable here ({type(e).__name__}: {e}); nothing to "
              "check. On a machine with an NVIDIA GPU: pip install cupy-cuda12x")
        return 0

    results = run_checks(cp.asarray, cp.asnumpy, cp.ndarray)
    width = max(len(name) for name, _ in results)
    for name, status in results:
        print(f"{name:{width}}  {status}")
    failed = sum(status != "PASS" for _, status in results)
    print(f"{len(results) - failed}/{len(results)} transforms pass on CuPy arrays")
    if not args.skip_speed:
        t_gpu, t_cpu = mlp_speed(cp, args.batch, args.hidden, args.repeat)
        print(f"MLP gradient, batch {args.batch}, 256 -> {args.hidden} -> 1: "
              f"GPU (CuPy) {t_gpu * 1e3:.2f} ms, CPU (NumPy) {t_cpu * 1e3:.2f} ms, "
              f"{t_cpu / t_gpu:.1f}x")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
