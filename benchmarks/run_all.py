"""Every benchmark workload, xform against the hand-written NumPy limit and the
anchors that are installed (autograd, JAX eager and jit, PyTorch eager autograd
and torch.func), in one run, one thread, float64.

Run: ``python benchmarks/run_all.py`` (``--quick`` for small sizes and few
repeats, ``--only xform,jax`` to pick systems, ``--workloads mlp,chain`` to
pick workloads, ``--json PATH`` for the results file, ``--markdown PATH`` for
the tables as Markdown). Anchors that cannot be imported are skipped with a
one-line message; they are not dependencies of xform (see benchmarks/README.md).

Every implementation's result is checked against the NumPy result before it is
timed; a cell that fails the check is reported as ``WRONG`` and not timed.
Times are medians; ratios are ``median / NumPy median`` (lower is better).
"""
from __future__ import annotations

import os
import sys

_NUMPY_WAS_LOADED = "numpy" in sys.modules
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
             "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"
os.environ.setdefault("JAX_PLATFORMS", "cpu")
_xla = os.environ.get("XLA_FLAGS", "")
if "xla_cpu_multi_thread_eigen" not in _xla:
    os.environ["XLA_FLAGS"] = (_xla + " --xla_cpu_multi_thread_eigen=false "
                               "intra_op_parallelism_threads=1").strip()

_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

import argparse  # noqa: E402
import datetime  # noqa: E402
import gc  # noqa: E402
import importlib  # noqa: E402
import importlib.metadata  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
import traceback  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from typing import Any, Callable  # noqa: E402

import numpy as onp  # noqa: E402

import xform  # noqa: E402
import xform.numpy as xnp  # noqa: E402
from xform import lax as xlax  # noqa: E402
from bench_core import (TAYLOR_X, chain_grad_numpy, mlp_grad_numpy, mlp_loss,  # noqa: E402
                        taylor_numpy, taylor_sin)
from bench_jacobians import (lse_hessian, lse_objective, tanh_layer,  # noqa: E402
                             tanh_layer_jacobian)
from bench_jit import (fluid_loss, logreg_data, logreg_grad_numpy,  # noqa: E402
                       logreg_loss, logreg_train)

SYSTEMS = ("xform", "xform.jit", "autograd", "jax", "jax.jit", "torch", "torch.func")
ANCHORS = ("autograd", "jax", "torch")
WORKLOADS = ("mlp", "taylor", "jacobian", "hessian", "fluid", "logreg", "chain", "loop")
DEFAULT_JSON = os.path.join(_HERE, "results.json")

# absolute tolerances are scaled by the size of the reference
RTOL, ATOL = 1e-6, 1e-9


# ============================================================================ systems
class Anchors:
    """The anchor modules that imported, by name."""

    def __init__(self) -> None:
        self.mods: dict[str, Any] = {}
        self.versions: dict[str, str] = {}
        self.skipped: dict[str, str] = {}

    def load(self, wanted: set[str], log: Callable[[str], None]) -> None:
        for name in ANCHORS:
            if not any(s == name or s.startswith(name + ".") for s in wanted):
                continue
            try:
                mod = importlib.import_module(name)
                if name == "jax":
                    mod.config.update("jax_enable_x64", True)
                    mod.config.update("jax_platforms", "cpu")
                    importlib.import_module("jax.numpy")
                if name == "torch":
                    mod.set_num_threads(1)
                    try:
                        mod.set_num_interop_threads(1)
                    except RuntimeError:
                        pass
                    importlib.import_module("torch.func")
                if name == "autograd":
                    importlib.import_module("autograd.numpy")
            except Exception as e:  # ImportError, or a broken install
                msg = f"{type(e).__name__}: {e}".splitlines()[0]
                self.skipped[name] = msg
                log(f"skip {name}: not importable ({msg})")
                continue
            self.mods[name] = mod
            try:
                self.versions[name] = importlib.metadata.version(name)
            except importlib.metadata.PackageNotFoundError:
                self.versions[name] = getattr(mod, "__version__", "?")

    def available(self, system: str) -> bool:
        base = system.split(".")[0]
        return base == "xform" or base in self.mods


def to_np(x: Any) -> Any:
    """Any system's output (a pytree of arrays, tensors or scalars) as NumPy."""
    if isinstance(x, dict):
        return {k: to_np(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [to_np(v) for v in x]
    if hasattr(x, "detach") and hasattr(x, "numpy"):  # torch.Tensor
        return x.detach().numpy()
    return onp.asarray(x)


def leaves(x: Any) -> list[onp.ndarray]:
    if isinstance(x, dict):
        return [a for k in sorted(x) for a in leaves(x[k])]
    if isinstance(x, (list, tuple)):
        return [a for v in x for a in leaves(v)]
    return [onp.asarray(x, dtype=float)]


def mismatch(got: Any, want: Any, rtol: float = RTOL) -> str | None:
    """None when ``got`` matches ``want`` leaf by leaf, else what differs."""
    g, w = leaves(to_np(got)), leaves(want)
    if len(g) != len(w):
        return f"{len(g)} output arrays, expected {len(w)}"
    for i, (a, b) in enumerate(zip(g, w)):
        if a.shape != b.shape:
            return f"output {i}: shape {a.shape}, expected {b.shape}"
        scale = float(onp.max(onp.abs(b))) if b.size else 0.0
        if not onp.allclose(a, b, rtol=rtol, atol=ATOL * max(1.0, scale)):
            return f"output {i}: max abs error {float(onp.max(onp.abs(a - b))):.3g}"
    return None


# ============================================================================ timing
@dataclass
class Timing:
    median: float
    first: float
    repeats: int
    number: int


def measure(fn: Callable[[], Any], repeat: int, budget: float,
            min_sample: float = 2e-3) -> Timing:
    """Median seconds per call of ``fn``; each sample loops at least ``min_sample``
    seconds; at least 3 and at most ``repeat`` samples, fewer when slow (``budget``)."""
    gc.collect()
    t0 = time.perf_counter()
    fn()
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    fn()
    est = max(time.perf_counter() - t0, 1e-9)
    number = max(1, int(min_sample / est))
    reps = max(3, min(repeat, int(budget / (est * number))))
    times = []
    if est > 1.0:  # a slow call: the estimate is a sample too
        times.append(est)
        reps -= 1
    for _ in range(reps):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - t0) / number)
    times.sort()
    return Timing(times[len(times) // 2], first, reps, number)


def peak_bytes(fn: Callable[[], Any]) -> int:
    """Peak memory that tracemalloc sees during one call, above what was live before."""
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        fn()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return peak - base


# ============================================================================ cases
Builder = Callable[[], Callable[[], Any]]


@dataclass
class Case:
    """One row: a reference NumPy computation and, per system, a builder that
    returns the zero-argument callable to time."""
    workload: str
    name: str
    params: dict[str, Any]
    reference: str                     # what the NumPy column is
    ref: Callable[[], Any]
    want: Any                          # expected output (NumPy), or None: use ``check``
    impls: dict[str, Builder]
    notes: dict[str, str] = field(default_factory=dict)
    check: Callable[[Any], str | None] | None = None
    per_op: int | None = None          # divide times by this (scalar chains)
    memory: tuple[str, ...] = ()       # systems whose peak memory tracemalloc can see


class Ctx:
    """What the workload builders need: sizes, anchors and namespaces."""

    def __init__(self, anchors: Anchors, quick: bool) -> None:
        self.quick = quick
        self.a = anchors

    @property
    def anp(self) -> Any:
        return importlib.import_module("autograd.numpy")

    @property
    def jax(self) -> Any:
        return self.a.mods["jax"]

    @property
    def jnp(self) -> Any:
        return importlib.import_module("jax.numpy")

    @property
    def torch(self) -> Any:
        return self.a.mods["torch"]

    def t(self, x: Any, grad: bool = False) -> Any:
        """A float64 torch tensor (a leaf that records gradients if ``grad``)."""
        torch = self.torch
        out = torch.as_tensor(onp.asarray(x)).clone()
        return out.requires_grad_(True) if grad else out

    def jblock(self, fn: Callable[[], Any]) -> Callable[[], Any]:
        jax = self.jax
        return lambda: jax.block_until_ready(fn())


# ---------------------------------------------------------------------------- (1) MLP
def mlp_loss_ns(ns: Any) -> Callable[..., Any]:
    """bench_core.mlp_loss written against namespace ``ns`` (autograd / jax / torch)."""
    def loss(params: Any, x: Any, y: Any) -> Any:
        h = x
        for W, b in params[:-1]:
            h = ns.tanh(h @ W + b)
        W, b = params[-1]
        out = h @ W + b
        return ns.mean((out - y) ** 2)
    return loss


def case_mlp(c: Ctx) -> list[Case]:
    sizes, batch = ((64, 32, 32, 10), 16) if c.quick else ((784, 512, 512, 10), 256)
    rng = onp.random.default_rng(0)
    params = [(rng.standard_normal((m, n)) / onp.sqrt(m), onp.zeros(n))
              for m, n in zip(sizes[:-1], sizes[1:])]
    x = rng.standard_normal((batch, sizes[0]))
    y = rng.standard_normal((batch, sizes[-1]))
    want = mlp_grad_numpy(params, x, y)

    def b_autograd() -> Callable[[], Any]:
        g = importlib.import_module("autograd").grad(mlp_loss_ns(c.anp))
        return lambda: g(params, x, y)

    def b_jax(jit: bool) -> Builder:
        def build() -> Callable[[], Any]:
            jax, jnp = c.jax, c.jnp
            jp = [(jnp.asarray(W), jnp.asarray(b)) for W, b in params]
            jx, jy = jnp.asarray(x), jnp.asarray(y)
            g = jax.grad(mlp_loss_ns(jnp))
            g = jax.jit(g) if jit else g
            return c.jblock(lambda: g(jp, jx, jy))
        return build

    def b_torch() -> Callable[[], Any]:
        torch = c.torch
        tp = [(c.t(W, True), c.t(b, True)) for W, b in params]
        flat = [a for p in tp for a in p]
        tx, ty = c.t(x), c.t(y)
        loss = mlp_loss_ns(torch)
        return lambda: torch.autograd.grad(loss(tp, tx, ty), flat)

    def b_torch_func() -> Callable[[], Any]:
        torch = c.torch
        tp = [(c.t(W), c.t(b)) for W, b in params]
        tx, ty = c.t(x), c.t(y)
        g = torch.func.grad(mlp_loss_ns(torch))
        return lambda: g(tp, tx, ty)

    g_x = xform.grad(mlp_loss)
    g_j = xform.jit(xform.grad(mlp_loss))
    name = f"MLP {'-'.join(map(str, sizes))} tanh, batch {batch}: grad of MSE"
    return [Case(
        "mlp", name, {"sizes": sizes, "batch": batch}, "hand-written NumPy gradient",
        lambda: mlp_grad_numpy(params, x, y), want,
        {"xform": lambda: lambda: g_x(params, x, y),
         "xform.jit": lambda: lambda: g_j(params, x, y),
         "autograd": b_autograd, "jax": b_jax(False), "jax.jit": b_jax(True),
         "torch": b_torch, "torch.func": b_torch_func},
        notes={"torch": "torch.autograd.grad on leaf tensors"})]


# ---------------------------------------------------------------------------- (2) Taylor
def taylor_sin_fixed(n_terms: int) -> Callable[[Any], Any]:
    """The same sum with a fixed trip count (what a tracing jit can compile)."""
    def f(x: Any) -> Any:
        term = x
        total = x
        for k in range(1, n_terms):
            term = -term * x * x / ((2 * k) * (2 * k + 1))
            total = total + term
        return total
    return f


def case_taylor(c: Ctx) -> list[Case]:
    n_terms = taylor_numpy(TAYLOR_X, 1)[1]
    return [taylor_case(c, order, n_terms) for order in (1, 2)]


def taylor_case(c: Ctx, order: int, n_terms: int) -> Case:
    x = TAYLOR_X
    fixed = taylor_sin_fixed(n_terms)
    want = taylor_numpy(x, order)[0]
    label = "grad" if order == 1 else "grad of grad"

    def nest(grad: Callable[..., Any], f: Callable[..., Any]) -> Any:
        for _ in range(order):
            f = grad(f)
        return f

    gx = nest(xform.grad, taylor_sin)
    gj = xform.jit(nest(xform.grad, fixed))

    def b_autograd() -> Callable[[], Any]:
        g = nest(importlib.import_module("autograd").grad, taylor_sin)
        return lambda: g(x)

    def b_jax(jit: bool) -> Builder:
        def build() -> Callable[[], Any]:
            jax = c.jax
            g = nest(jax.grad, fixed if jit else taylor_sin)
            g = jax.jit(g) if jit else g
            return c.jblock(lambda: g(x))
        return build

    def b_torch() -> Callable[[], Any]:
        torch = c.torch
        tx = c.t(x, True)
        if order == 1:
            return lambda: torch.autograd.grad(taylor_sin(tx), tx)[0]

        def run() -> Any:
            (g,) = torch.autograd.grad(taylor_sin(tx), tx, create_graph=True)
            return torch.autograd.grad(g, tx)[0]
        return run

    def b_torch_func() -> Callable[[], Any]:
        torch = c.torch
        tx = c.t(x)
        g = nest(torch.func.grad, taylor_sin)
        return lambda: g(tx)

    fixed_note = (f"fixed trip count ({n_terms} terms, the count the break gives at "
                  f"x={x}): a tracing jit cannot compile the data-dependent break")
    return Case(
        "taylor", f"Taylor sin, break at |term|<1e-12: {label} at x={x}",
        {"x": x, "order": order, "terms": n_terms},
        "hand-written NumPy derivative of the truncated series",
        lambda: taylor_numpy(x, order)[0], want,
        {"xform": lambda: lambda: gx(x), "xform.jit": lambda: lambda: gj(x),
         "autograd": b_autograd, "jax": b_jax(False), "jax.jit": b_jax(True),
         "torch": b_torch, "torch.func": b_torch_func},
        notes={"xform.jit": fixed_note, "jax.jit": fixed_note,
               "torch": "create_graph=True for the second derivative"})


def probe_jit_break() -> str:
    """What xform.jit says about the data-dependent ``break`` (expected: it refuses)."""
    try:
        xform.jit(xform.grad(taylor_sin))(TAYLOR_X)
    except Exception as e:
        first = str(e).splitlines()[0].split(". ")[0]
        return f"refused as expected: {type(e).__name__}: {first}"
    return "compiled (unexpected)"


# ---------------------------------------------------------------------------- (3) Jacobians
def case_jacobian(c: Ctx) -> list[Case]:
    shapes = ((10, 100), (100, 10)) if c.quick else ((10, 1000), (1000, 10))
    return [jacobian_case(c, n, m, mode) for n, m in shapes for mode in ("jacfwd", "jacrev")]


def jacobian_case(c: Ctx, n: int, m: int, mode: str) -> Case:
    rng = onp.random.default_rng(0)
    A = rng.standard_normal((m, n)) / onp.sqrt(n)
    x = rng.standard_normal(n)
    want = tanh_layer_jacobian(A, x)
    f = tanh_layer(A)
    xf = getattr(xform, mode)(f)
    xj = xform.jit(getattr(xform, mode)(f))

    def b_autograd() -> Callable[[], Any]:
        ag = importlib.import_module("autograd")
        anp = c.anp

        def fa(v: Any) -> Any:
            return anp.tanh(A @ v)
        if mode == "jacrev":
            jac = ag.jacobian(fa)
            return lambda: jac(x)
        jvp = ag.make_jvp(fa)
        eye = onp.eye(n)
        # autograd has forward mode (make_jvp) but no vmap: one JVP per input
        return lambda: onp.stack([jvp(x)(e)[1] for e in eye], axis=1)

    def b_jax(jit: bool) -> Builder:
        def build() -> Callable[[], Any]:
            jax, jnp = c.jax, c.jnp
            jA, jx = jnp.asarray(A), jnp.asarray(x)
            jac = getattr(jax, mode)(lambda v: jnp.tanh(jA @ v))
            jac = jax.jit(jac) if jit else jac
            return c.jblock(lambda: jac(jx))
        return build

    def b_torch() -> Callable[[], Any]:
        torch = c.torch
        tA, tx = c.t(A), c.t(x)
        strategy = "forward-mode" if mode == "jacfwd" else "reverse-mode"
        return lambda: torch.autograd.functional.jacobian(
            lambda v: torch.tanh(tA @ v), tx, vectorize=True, strategy=strategy)

    def b_torch_func() -> Callable[[], Any]:
        torch = c.torch
        tA, tx = c.t(A), c.t(x)
        jac = getattr(torch.func, mode)(lambda v: torch.tanh(tA @ v))
        return lambda: jac(tx)

    return Case(
        "jacobian", f"{mode} of tanh(A x), n={n} in, m={m} out",
        {"mode": mode, "n": n, "m": m}, "analytic Jacobian in NumPy",
        lambda: tanh_layer_jacobian(A, x), want,
        {"xform": lambda: lambda: xf(x), "xform.jit": lambda: lambda: xj(x),
         "autograd": b_autograd, "jax": b_jax(False), "jax.jit": b_jax(True),
         "torch": b_torch, "torch.func": b_torch_func},
        notes={"autograd": ("autograd.jacobian (reverse, row by row)" if mode == "jacrev"
                            else "one make_jvp per input column (autograd has no vmap)"),
               "torch": f"torch.autograd.functional.jacobian(vectorize=True, "
                        f"strategy={'forward' if mode == 'jacfwd' else 'reverse'}-mode)"})


# ---------------------------------------------------------------------------- (4) Hessian
def case_hessian(c: Ctx) -> list[Case]:
    n, m = (20, 30) if c.quick else (200, 300)
    rng = onp.random.default_rng(1)
    A = rng.standard_normal((m, n)) / onp.sqrt(n)
    x = rng.standard_normal(n)
    want = lse_hessian(A, x)
    f = lse_objective(A)
    hx, hj = xform.hessian(f), xform.jit(xform.hessian(f))

    def b_autograd() -> Callable[[], Any]:
        ag = importlib.import_module("autograd")
        getval = importlib.import_module("autograd.tracer").getval
        anp = c.anp

        def fa(v: Any) -> Any:
            z = A @ v
            mx = getval(anp.max(z))
            return mx + anp.log(anp.sum(anp.exp(z - mx))) + 0.5 * anp.sum(v * v)
        h = ag.hessian(fa)
        return lambda: h(x)

    def b_jax(jit: bool) -> Builder:
        def build() -> Callable[[], Any]:
            jax, jnp = c.jax, c.jnp
            jA, jx = jnp.asarray(A), jnp.asarray(x)

            def fj(v: Any) -> Any:
                z = jA @ v
                mx = jax.lax.stop_gradient(jnp.max(z))
                return mx + jnp.log(jnp.sum(jnp.exp(z - mx))) + 0.5 * jnp.sum(v * v)
            h = jax.jit(jax.hessian(fj)) if jit else jax.hessian(fj)
            return c.jblock(lambda: h(jx))
        return build

    def f_torch(tA: Any) -> Callable[[Any], Any]:
        torch = c.torch

        def ft(v: Any) -> Any:
            z = tA @ v
            mx = torch.max(z).detach()
            return mx + torch.log(torch.sum(torch.exp(z - mx))) + 0.5 * torch.sum(v * v)
        return ft

    def b_torch() -> Callable[[], Any]:
        torch = c.torch
        ft, tx = f_torch(c.t(A)), c.t(x)
        return lambda: torch.autograd.functional.hessian(ft, tx, vectorize=True)

    def b_torch_func() -> Callable[[], Any]:
        torch = c.torch
        h, tx = torch.func.hessian(f_torch(c.t(A))), c.t(x)
        return lambda: h(tx)

    return [Case(
        "hessian", f"hessian of logsumexp(A x)+|x|^2/2, n={n}, A {m}x{n}",
        {"n": n, "m": m}, "analytic Hessian in NumPy",
        lambda: lse_hessian(A, x), want,
        {"xform": lambda: lambda: hx(x), "xform.jit": lambda: lambda: hj(x),
         "autograd": b_autograd, "jax": b_jax(False), "jax.jit": b_jax(True),
         "torch": b_torch, "torch.func": b_torch_func},
        notes={"torch": "torch.autograd.functional.hessian(vectorize=True)",
               "torch.func": "torch.func.hessian (jacfwd of jacrev)"})]


# ---------------------------------------------------------------------------- (5) fluid
class FluidNS:
    """The few array functions bench_jit's fluid simulation needs, per system."""

    def __init__(self, kind: str, mod: Any) -> None:
        self.kind, self.m = kind, mod

    def roll(self, a: Any, shift: int, axis: int) -> Any:
        return self.m.roll(a, shift, axis)

    def zeros_like(self, a: Any) -> Any:
        return self.m.zeros_like(a)

    def ravel(self, a: Any) -> Any:
        return self.m.ravel(a)

    def reshape(self, a: Any, shape: tuple[int, int]) -> Any:
        return self.m.reshape(a, shape)

    def floor(self, a: Any) -> Any:
        return self.m.floor(a)

    def mod(self, a: Any, n: int) -> Any:
        return self.m.remainder(a, n) if self.kind == "torch" else self.m.mod(a, n)

    def to_int(self, a: Any) -> Any:
        return a.long() if self.kind == "torch" else a.astype(int)

    def const(self, a: onp.ndarray) -> Any:
        return self.m.as_tensor(a) if self.kind == "torch" else a

    def sum(self, a: Any) -> Any:
        return self.m.sum(a)


def fluid_loss_ns(ns: FluidNS, steps: int, fori_loop: Any = None) -> Callable[..., Any]:
    """bench_jit.fluid_loss written against ``ns`` (NumPy, autograd, JAX, torch); with
    ``fori_loop`` (``jax.lax.fori_loop``) the time steps are a loop primitive, not unrolled."""
    def project(vx: Any, vy: Any, iters: int = 10) -> tuple[Any, Any]:
        h = 1.0 / vx.shape[0]
        r = ns.roll
        div = -0.5 * h * (r(vx, -1, 0) - r(vx, 1, 0) + r(vy, -1, 1) - r(vy, 1, 1))
        p = ns.zeros_like(vx)
        for _ in range(iters):
            p = (div + r(p, 1, 0) + r(p, -1, 0) + r(p, 1, 1) + r(p, -1, 1)) / 4.0
        vx = vx - 0.5 * (r(p, -1, 0) - r(p, 1, 0)) / h
        vy = vy - 0.5 * (r(p, -1, 1) - r(p, 1, 1)) / h
        return vx, vy

    def advect(f: Any, vx: Any, vy: Any) -> Any:
        rows, cols = f.shape
        cell_ys, cell_xs = onp.meshgrid(onp.arange(rows), onp.arange(cols), indexing="ij")
        center_xs = ns.ravel(ns.const(cell_xs) - vx)
        center_ys = ns.ravel(ns.const(cell_ys) - vy)
        left = ns.floor(center_xs)
        top = ns.floor(center_ys)
        rw, bw = center_xs - left, center_ys - top
        left_ix = ns.mod(ns.to_int(left), cols)
        top_ix = ns.mod(ns.to_int(top), rows)
        right_ix, bot_ix = ns.mod(left_ix + 1, cols), ns.mod(top_ix + 1, rows)
        flat = ((1 - rw) * ((1 - bw) * f[top_ix, left_ix] + bw * f[bot_ix, left_ix])
                + rw * ((1 - bw) * f[top_ix, right_ix] + bw * f[bot_ix, right_ix]))
        return ns.reshape(flat, (rows, cols))

    def step(_: Any, state: tuple[Any, Any, Any]) -> tuple[Any, Any, Any]:
        vx, vy, smoke = state
        vx, vy = advect(vx, vx, vy), advect(vy, vx, vy)
        vx, vy = project(vx, vy)
        return vx, vy, advect(smoke, vx, vy)

    def loss(vx: Any, vy: Any, smoke: Any, target: Any) -> Any:
        state = (vx, vy, smoke)
        if fori_loop is not None:
            state = fori_loop(0, steps, step, state)
        else:
            for i in range(steps):
                state = step(i, state)
        return ns.sum((state[2] - target) ** 2)
    return loss


def case_fluid(c: Ctx) -> list[Case]:
    n, steps = (8, 3) if c.quick else (32, 20)
    rng = onp.random.default_rng(2)
    vx, vy = 0.5 * rng.standard_normal((n, n)), 0.5 * rng.standard_normal((n, n))
    smoke, target = rng.random((n, n)), rng.random((n, n))
    f_np = fluid_loss_ns(FluidNS("numpy", onp), steps)

    # no hand-written gradient: check <grad, d> against a central difference of the
    # NumPy forward along a random direction d, and every gradient against the first
    d = (rng.standard_normal((n, n)), rng.standard_normal((n, n)))
    eps = 1e-6
    with onp.errstate(all="ignore"):
        fd = (f_np(vx + eps * d[0], vy + eps * d[1], smoke, target)
              - f_np(vx - eps * d[0], vy - eps * d[1], smoke, target)) / (2 * eps)
    first: list[list[onp.ndarray]] = []

    def check(out: Any) -> str | None:
        g = leaves(to_np(out))
        if len(g) != 2 or g[0].shape != (n, n):
            return f"expected two {n}x{n} gradients"
        dd = float(onp.sum(g[0] * d[0]) + onp.sum(g[1] * d[1]))
        if not math.isclose(dd, fd, rel_tol=1e-4, abs_tol=1e-6):
            return f"directional derivative {dd:.8g}, central difference {fd:.8g}"
        if first:
            return mismatch(g, first[0])
        first.append(g)
        return None

    x_steps = steps

    def x_loss(vx: Any, vy: Any, smoke: Any, target: Any) -> Any:
        return fluid_loss(vx, vy, smoke, target, x_steps)

    gx = xform.grad(x_loss, (0, 1))
    gj = xform.jit(xform.grad(x_loss, (0, 1)))

    def b_autograd() -> Callable[[], Any]:
        ag = importlib.import_module("autograd")
        fa = fluid_loss_ns(FluidNS("autograd", c.anp), steps)
        g = ag.grad(lambda v: fa(v[0], v[1], smoke, target))
        return lambda: g((vx, vy))

    def b_jax(jit: bool) -> Builder:
        def build() -> Callable[[], Any]:
            jax, jnp = c.jax, c.jnp
            fj = fluid_loss_ns(FluidNS("jax", jnp), steps, jax.lax.fori_loop if jit else None)
            args = [jnp.asarray(a) for a in (vx, vy, smoke, target)]
            g = jax.grad(fj, (0, 1))
            g = jax.jit(g) if jit else g
            return c.jblock(lambda: g(*args))
        return build

    def b_torch() -> Callable[[], Any]:
        torch = c.torch
        ft = fluid_loss_ns(FluidNS("torch", torch), steps)
        tvx, tvy, ts, tt = c.t(vx, True), c.t(vy, True), c.t(smoke), c.t(target)
        return lambda: torch.autograd.grad(ft(tvx, tvy, ts, tt), (tvx, tvy))

    def b_torch_func() -> Callable[[], Any]:
        torch = c.torch
        g = torch.func.grad(fluid_loss_ns(FluidNS("torch", torch), steps), argnums=(0, 1))
        args = [c.t(a) for a in (vx, vy, smoke, target)]
        return lambda: g(*args)

    def ref() -> Any:
        with onp.errstate(all="ignore"):
            return f_np(vx, vy, smoke, target)

    # the time steps as a loop primitive (lax.fori_loop): jit compiles the loop itself
    fx = fluid_loss_ns(FluidNS("xform", xnp), steps, xlax.fori_loop)
    fwd_x = xform.jit(fx)
    grad_loop_eager = xform.grad(fx, (0, 1))
    grad_loop_x = xform.jit(grad_loop_eager)

    def b_jax_loop(grad: bool) -> Builder:
        def build() -> Callable[[], Any]:
            jax, jnp = c.jax, c.jnp
            fj = fluid_loss_ns(FluidNS("jax", jnp), steps, jax.lax.fori_loop)
            args = [jnp.asarray(a) for a in (vx, vy, smoke, target)]
            g = jax.jit(jax.grad(fj, (0, 1)) if grad else fj)
            return c.jblock(lambda: g(*args))
        return build

    loop_note = {"xform": "eager: fori_loop with concrete bounds runs as a Python loop",
                 "xform.jit": "time steps as xform.lax.fori_loop (a compiled loop)",
                 "jax.jit": "time steps as jax.lax.fori_loop"}
    with onp.errstate(all="ignore"):
        fwd_want = f_np(vx, vy, smoke, target)
    loop_cases = [
        Case("fluid", f"fluid {n}x{n}, {steps} steps as fori_loop: grad wrt velocity, jit",
             {"n": n, "steps": steps, "loop": "fori_loop"},
             "NumPy FORWARD pass only (no hand-written gradient exists)", ref, None,
             {"xform": lambda: lambda: grad_loop_eager(vx, vy, smoke, target),
              "xform.jit": lambda: lambda: grad_loop_x(vx, vy, smoke, target),
              "jax.jit": b_jax_loop(True)}, notes=loop_note, check=check),
        Case("fluid", f"fluid {n}x{n}, {steps} steps as fori_loop: forward only, jit",
             {"n": n, "steps": steps, "loop": "fori_loop"}, "NumPy forward pass", ref,
             fwd_want,
             {"xform": lambda: lambda: fx(vx, vy, smoke, target),
              "xform.jit": lambda: lambda: fwd_x(vx, vy, smoke, target),
              "jax.jit": b_jax_loop(False)}, notes=loop_note)]

    return [Case(
        "fluid", f"fluid {n}x{n}, {steps} steps: grad wrt velocity",
        {"n": n, "steps": steps},
        "NumPy FORWARD pass only (no hand-written gradient exists)",
        ref, None,
        {"xform": lambda: lambda: gx(vx, vy, smoke, target),
         "xform.jit": lambda: lambda: gj(vx, vy, smoke, target),
         "autograd": b_autograd, "jax": b_jax(False), "jax.jit": b_jax(True),
         "torch": b_torch, "torch.func": b_torch_func},
        notes={"jax.jit": "time steps as jax.lax.fori_loop: XLA's compile of the unrolled "
                          "Python loop grows superlinearly with the steps (32x32: 1 step "
                          "1.6 s, 6 steps 13 s, 10 steps 58 s; 20 steps ran over 5 min and "
                          "10 GB before we stopped it)"},
        check=check)] + loop_cases


# ---------------------------------------------------------------------------- (6) logreg
def case_logreg(c: Ctx) -> list[Case]:
    steps = 10 if c.quick else 100
    X, y = logreg_data(onp.random.default_rng(1))
    w0 = onp.zeros(3)
    want = logreg_train(logreg_grad_numpy, w0, X, y, steps)

    def train(step: Callable[..., Any], w: Any, Xs: Any, ys: Any) -> Any:
        for _ in range(steps):
            w = w - 0.5 * step(w, Xs, ys)
        return w

    gx = xform.grad(logreg_loss)
    gj = xform.jit(xform.grad(logreg_loss))

    def b_autograd() -> Callable[[], Any]:
        anp = c.anp
        g = importlib.import_module("autograd").grad(
            lambda w, X, y: anp.mean(anp.logaddexp(0.0, -y * (X @ w))))
        return lambda: train(g, w0, X, y)

    def b_jax(jit: bool) -> Builder:
        def build() -> Callable[[], Any]:
            jax, jnp = c.jax, c.jnp
            g = jax.grad(lambda w, X, y: jnp.mean(jnp.logaddexp(0.0, -y * (X @ w))))
            g = jax.jit(g) if jit else g
            jw, jX, jy = jnp.asarray(w0), jnp.asarray(X), jnp.asarray(y)
            return c.jblock(lambda: train(g, jw, jX, jy))
        return build

    def loss_t(w: Any, X: Any, y: Any) -> Any:
        torch = c.torch
        z = -y * (X @ w)
        return torch.mean(torch.logaddexp(torch.zeros_like(z), z))

    def b_torch() -> Callable[[], Any]:
        torch = c.torch

        def step(w: Any, X: Any, y: Any) -> Any:
            w = w.detach().requires_grad_(True)
            return torch.autograd.grad(loss_t(w, X, y), w)[0]
        tw, tX, ty = c.t(w0), c.t(X), c.t(y)
        return lambda: train(step, tw, tX, ty)

    def b_torch_func() -> Callable[[], Any]:
        torch = c.torch
        g = torch.func.grad(loss_t)
        tw, tX, ty = c.t(w0), c.t(X), c.t(y)
        return lambda: train(g, tw, tX, ty)

    return [Case(
        "logreg", f"{steps} logistic-regression gradient steps, 500x3 data",
        {"steps": steps, "data": [500, 3]}, "hand-written NumPy gradient",
        lambda: logreg_train(logreg_grad_numpy, w0, X, y, steps), want,
        {"xform": lambda: lambda: train(gx, w0, X, y),
         "xform.jit": lambda: lambda: train(gj, w0, X, y),
         "autograd": b_autograd, "jax": b_jax(False), "jax.jit": b_jax(True),
         "torch": b_torch, "torch.func": b_torch_func},
        notes={"xform.jit": "jit(grad) called once per step from a Python loop",
               "jax.jit": "jit(grad) called once per step from a Python loop"})]


# ---------------------------------------------------------------------------- (7) chains
def chain_fn(sin: Callable[[Any], Any], n: int) -> Callable[[Any], Any]:
    """bench_core.chain of any length: sin, multiply, add in turn, then a last sin."""
    def chain(x: Any) -> Any:
        for _ in range(n // 3):
            x = sin(x)
            x = x * 1.001
            x = x + 0.1
        return sin(x)
    return chain


def chain_ops(n: int) -> int:
    return 3 * (n // 3) + 1


def case_chain(c: Ctx) -> list[Case]:
    sizes = (100, 1000) if c.quick else (1000, 10_000, 100_000)
    return [chain_case(c, n) for n in sizes]


def chain_case(c: Ctx, n: int) -> Case:
    x = 0.3
    f = chain_fn(xnp.sin, n)
    gx, gj = xform.grad(f), xform.jit(xform.grad(f))

    def b_autograd() -> Callable[[], Any]:
        g = importlib.import_module("autograd").grad(chain_fn(c.anp.sin, n))
        return lambda: g(x)

    def b_jax(jit: bool) -> Builder:
        def build() -> Callable[[], Any]:
            jax = c.jax
            g = jax.grad(chain_fn(c.jnp.sin, n))
            g = jax.jit(g) if jit else g
            return c.jblock(lambda: g(x))
        return build

    def b_torch() -> Callable[[], Any]:
        torch = c.torch
        f, tx = chain_fn(torch.sin, n), c.t(x, True)
        return lambda: torch.autograd.grad(f(tx), tx)[0]

    def b_torch_func() -> Callable[[], Any]:
        torch = c.torch
        g, tx = torch.func.grad(chain_fn(torch.sin, n)), c.t(x)
        return lambda: g(tx)

    return Case(
        "chain", f"scalar chain, {n:,} ops: grad (per op)", {"ops": chain_ops(n)},
        "hand-written NumPy gradient (float64 scalars, values kept for the backward pass)",
        lambda: chain_grad_numpy(x, n), chain_grad_numpy(x, n),
        {"xform": lambda: lambda: gx(x), "xform.jit": lambda: lambda: gj(x),
         "autograd": b_autograd, "jax": b_jax(False), "jax.jit": b_jax(True),
         "torch": b_torch, "torch.func": b_torch_func},
        per_op=chain_ops(n), memory=("numpy", "xform", "xform.jit", "autograd"),
        notes={"jax": "peak memory not measured: tracemalloc cannot see it",
               "torch": "peak memory not measured: tracemalloc cannot see it"})


# ---------------------------------------------------------------------------- (8) loop
def loop_grad_numpy(a: onp.ndarray, c: onp.ndarray, y0: onp.ndarray, steps: int
                    ) -> tuple[onp.ndarray, onp.ndarray, onp.ndarray]:
    """Gradient of sum(y_n), y_{k+1} = sin(y_k) a + c, by a hand-written reverse pass."""
    ys = [y0]
    y = y0
    for _ in range(steps):
        y = onp.sin(y) * a + c
        ys.append(y)
    g, ga, gc = onp.ones_like(y0), onp.zeros_like(a), onp.zeros_like(c)
    for k in range(steps - 1, -1, -1):
        ga += g * onp.sin(ys[k])
        gc += g
        g = g * a * onp.cos(ys[k])
    return ga, gc, g


def case_loop(c: Ctx) -> list[Case]:
    steps = 100 if c.quick else 1000
    a, cc, y0 = onp.linspace(0.5, 1.0, 8), onp.linspace(-0.1, 0.1, 8), onp.linspace(0.1, 0.8, 8)
    want = loop_grad_numpy(a, cc, y0, steps)

    def loss_ns(ns: Any, fori_loop: Any) -> Callable[..., Any]:
        def loss(a: Any, c: Any, y0: Any) -> Any:
            return ns.sum(fori_loop(0, steps, lambda i, y: ns.sin(y) * a + c, y0))
        return loss

    gx = xform.grad(loss_ns(xnp, xlax.fori_loop), (0, 1, 2))
    gj = xform.jit(gx)

    def b_jax(jit: bool) -> Builder:
        def build() -> Callable[[], Any]:
            jax, jnp = c.jax, c.jnp
            g = jax.grad(loss_ns(jnp, jax.lax.fori_loop), (0, 1, 2))
            g = jax.jit(g) if jit else g
            args = [jnp.asarray(v) for v in (a, cc, y0)]
            return c.jblock(lambda: g(*args))
        return build

    return [Case(
        "loop", f"y = sin(y)*a + c, length 8, {steps:,} fori_loop steps: grad",
        {"steps": steps, "n": 8}, "hand-written NumPy gradient (same loop, values kept)",
        lambda: loop_grad_numpy(a, cc, y0, steps), want,
        {"xform": lambda: lambda: gx(a, cc, y0), "xform.jit": lambda: lambda: gj(a, cc, y0),
         "jax.jit": b_jax(True)},
        notes={"xform": "eager: fori_loop with concrete bounds runs as a Python loop",
               "xform.jit": "the loop is a scan primitive, compiled"})]


BUILDERS: dict[str, Callable[[Ctx], list[Case]]] = {
    "mlp": case_mlp, "taylor": case_taylor, "jacobian": case_jacobian,
    "hessian": case_hessian, "fluid": case_fluid, "logreg": case_logreg,
    "chain": case_chain, "loop": case_loop}

TITLES = {
    "mlp": "(1) MLP gradient",
    "taylor": "(2) Taylor series of sin with a data-dependent break",
    "jacobian": "(3) jacfwd / jacrev of tanh(A x)",
    "hessian": "(4) hessian of logsumexp(A x) + |x|^2/2",
    "fluid": "(5) fluid simulation gradient",
    "logreg": "(6) logistic-regression training",
    "chain": "(7) long scalar chains",
    "loop": "(8) a small loop body run many times (fori_loop)",
}


# ============================================================================ running
def run_case(case: Case, systems: list[str], anchors: Anchors, repeat: int, budget: float,
             log: Callable[[str], None], first_limit: float,
             slow: dict[str, tuple[float, int]]) -> dict[str, Any]:
    row: dict[str, Any] = {"workload": case.workload, "name": case.name,
                           "params": case.params, "reference": case.reference,
                           "per_op": case.per_op, "results": {}}
    # reference
    ref_out = case.ref()
    if case.want is not None:
        bad = mismatch(ref_out, case.want)
        assert bad is None, f"{case.name}: NumPy reference disagrees with itself: {bad}"
    t_ref = measure(case.ref, repeat, budget)
    ref_s = t_ref.median
    row["numpy"] = {"median_s": ref_s, "repeats": t_ref.repeats, "number": t_ref.number}
    if "numpy" in case.memory:
        row["numpy"]["peak_bytes"] = peak_bytes(case.ref)
    for system in systems:
        res: dict[str, Any] = {}
        row["results"][system] = res
        if system in case.notes:
            res["note"] = case.notes[system]
        if not anchors.available(system):
            res["skipped"] = "not installed"
            continue
        if system not in case.impls:
            res["skipped"] = "not run on this workload"
            continue
        key = f"{case.workload}:{system}"
        if case.per_op and key in slow:
            prev_first, prev_ops = slow[key]
            # tracing is linear in the ops; XLA's compile is not, so assume quadratic
            power = 2 if system.endswith(".jit") else 1
            estimate = prev_first * (case.per_op / prev_ops) ** power
            if estimate > first_limit:
                res["skipped"] = (f"first call (trace+compile) estimated at {estimate:.0f} s "
                                  f"from {prev_first:.1f} s at {prev_ops:,} ops "
                                  f"(O(n^{power})), over the {first_limit:.0f} s limit")
                log(f"  {system:<11} skipped ({res['skipped']})")
                continue
        try:
            fn = case.impls[system]()
            t0 = time.perf_counter()
            out = fn()
            first = time.perf_counter() - t0
            if case.per_op:
                slow[key] = (first, case.per_op)
            bad = case.check(out) if case.check else mismatch(out, case.want)
            if bad is not None:
                res["wrong"] = bad
                log(f"  {system:<11} WRONG: {bad}")
                continue
            t = measure(fn, repeat, budget)
            res.update({"median_s": t.median, "ratio": t.median / ref_s,
                        "first_call_s": first, "repeats": t.repeats, "number": t.number})
            if case.per_op:
                res["median_s_per_op"] = t.median / case.per_op
            if system in case.memory:
                res["peak_bytes"] = peak_bytes(fn)
        except Exception as e:
            res["error"] = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
            res["traceback"] = traceback.format_exc(limit=-6)
            log(f"  {system:<11} ERROR: {res['error']}")
            continue
        log(f"  {system:<11} {fmt_cell(row, system)}   (first call {fmt_time(first)})")
    # the reference once more at the end: the lower median resists a load spike
    ref_s2 = measure(case.ref, repeat, budget).median
    if ref_s2 < ref_s:
        row["numpy"]["median_s"] = ref_s2
        for r in row["results"].values():
            if "median_s" in r:
                r["ratio"] = r["median_s"] / ref_s2
    return row


def fmt_time(s: float) -> str:
    if s >= 1.0:
        return f"{s:.2f} s"
    if s >= 1e-3:
        return f"{s * 1e3:.3g} ms"
    return f"{s * 1e6:.3g} us"


def fmt_numpy(row: dict[str, Any]) -> str:
    s = row["numpy"]["median_s"]
    return f"{fmt_time(s / row['per_op'])}/op" if row["per_op"] else fmt_time(s)


def fmt_cell(row: dict[str, Any], system: str) -> str:
    r = row["results"].get(system, {})
    if "wrong" in r:
        return "WRONG"
    if "error" in r:
        return "error"
    if "median_s" not in r:
        return "-"
    s = r["median_s"] / row["per_op"] if row["per_op"] else r["median_s"]
    unit = "/op" if row["per_op"] else ""
    return f"{fmt_ratio(r['ratio'])} ({fmt_time(s)}{unit})"


def fmt_ratio(r: float) -> str:
    return f"{r:,.0f}x" if r >= 1000 else f"{r:.3g}x"


def fmt_bytes(b: float) -> str:
    return f"{b / 1024:.2f} KiB" if b >= 1024 else f"{b:.0f} B"


def table_rows(results: dict[str, Any], systems: list[str]) -> tuple[list[str], list[list[str]]]:
    header = ["workload", "NumPy"] + systems
    body = []
    for row in results["rows"]:
        body.append([row["name"], fmt_numpy(row)] + [fmt_cell(row, s) for s in systems])
    return header, body


def memory_rows(results: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    mem_systems = ["numpy"] + [s for s in ("xform", "xform.jit", "autograd")
                               if s in results["systems"]]
    header = ["chain", "NumPy"] + mem_systems[1:]
    body = []
    for row in results["rows"]:
        if row["workload"] != "chain" or "peak_bytes" not in row["numpy"]:
            continue
        cells = [row["name"].split(":")[0], fmt_bytes(row["numpy"]["peak_bytes"] / row["per_op"])]
        for s in mem_systems[1:]:
            r = row["results"].get(s, {})
            cells.append(fmt_bytes(r["peak_bytes"] / row["per_op"]) if "peak_bytes" in r
                         else "-")
        body.append(cells)
    return header, body


def text_table(header: list[str], body: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [header] + body) for i in range(len(header))]
    lines = ["  ".join(h.ljust(w) if i == 0 else h.rjust(w)
                       for i, (h, w) in enumerate(zip(header, widths)))]
    lines.append("  ".join("-" * w for w in widths))
    for r in body:
        lines.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                               for i, (c, w) in enumerate(zip(r, widths))))
    return "\n".join(lines)


def markdown_table(header: list[str], body: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join([":---"] + ["---:"] * (len(header) - 1)) + "|"]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in body]
    return "\n".join(lines)


def notes_lines(results: dict[str, Any]) -> list[str]:
    """Per-workload notes: what the reference is, and per-system caveats."""
    out = []
    seen: set[tuple[str, str, str]] = set()
    for row in results["rows"]:
        w = row["workload"]
        key = (w, "ref", row["reference"])
        if key not in seen:
            seen.add(key)
            out.append(f"{TITLES[w]}: NumPy column = {row['reference']}")
        for s, r in row["results"].items():
            if "median_s" in r and r.get("note") and (w, s, r["note"]) not in seen:
                seen.add((w, s, r["note"]))
                out.append(f"{TITLES[w]}: {s}: {r['note']}")
            for k in ("skipped", "error", "wrong"):
                if k in r and r[k] not in ("not installed", "not run on this workload"):
                    out.append(f"{row['name']}: {s}: {k}: {r[k]}")
    if results.get("xform_jit_break_probe"):
        out.append("(2) xform.jit of grad of the break version: "
                   + results["xform_jit_break_probe"])
    return out


def markdown(results: dict[str, Any]) -> str:
    systems = results["systems"]
    parts = [markdown_table(*table_rows(results, systems))]
    mh, mb = memory_rows(results)
    if mb:
        parts.append("Peak memory per op of the scalar-chain gradient (tracemalloc; "
                     "JAX and PyTorch allocate outside its view):\n\n" + markdown_table(mh, mb))
    notes = notes_lines(results)
    if notes:
        parts.append("Notes:\n\n" + "\n".join(f"- {n}" for n in notes))
    return "\n\n".join(parts) + "\n"


def machine_info() -> dict[str, Any]:
    cpu = ""
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        load = open("/proc/loadavg").read().split()[:3]
    except OSError:
        load = []
    return {"processor": platform.processor(), "machine": platform.machine(),
            "cpu_model": cpu, "nproc": os.cpu_count(), "loadavg_start": load,
            "python": platform.python_version(), "numpy": onp.__version__,
            "platform": platform.platform()}


def parse_list(text: str | None, allowed: tuple[str, ...], what: str) -> list[str]:
    if not text:
        return list(allowed)
    picked = []
    for word in (w.strip() for w in text.split(",")):
        match = [s for s in allowed if s == word or s.startswith(word + ".")]
        if not match:
            raise SystemExit(f"unknown {what} {word!r}; choose from {', '.join(allowed)}")
        picked += [m for m in match if m not in picked]
    return [s for s in allowed if s in picked]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="small sizes and 3 repeats (CI smoke)")
    parser.add_argument("--only", help="comma-separated systems (a prefix picks its variants: "
                        "'jax' = jax,jax.jit); NumPy always runs. Default: all")
    parser.add_argument("--workloads", help=f"comma-separated, from {', '.join(WORKLOADS)}")
    parser.add_argument("--repeat", type=int, default=None, help="max samples per cell")
    parser.add_argument("--budget", type=float, default=None,
                        help="seconds of timing per cell before fewer samples are taken")
    parser.add_argument("--first-limit", type=float, default=300.0,
                        help="skip a longer chain for a system whose first call (trace and "
                        "compile), extrapolated from the previous chain (O(n) eager, O(n^2) "
                        "jit), would exceed this many seconds (default: %(default)s)")
    parser.add_argument("--json", default=DEFAULT_JSON, help="results file (default: %(default)s)")
    parser.add_argument("--markdown", help="also write the tables as Markdown here")
    parser.add_argument("--render", metavar="JSON",
                        help="run nothing: print the tables of an earlier results file "
                        "(with --markdown, write them as Markdown too)")
    args = parser.parse_args(argv)
    if args.render:
        with open(args.render) as fh:
            old = json.load(fh)
        print(text_table(*table_rows(old, old["systems"])))
        if args.markdown:
            with open(args.markdown, "w") as fh:
                fh.write(markdown(old))
        else:
            print("\n" + markdown(old))
        return 0
    systems = parse_list(args.only, SYSTEMS, "system")
    workloads = parse_list(args.workloads, WORKLOADS, "workload")
    repeat = args.repeat or (3 if args.quick else 11)
    budget = args.budget if args.budget is not None else (0.05 if args.quick else 3.0)

    def log(msg: str) -> None:
        print(msg, flush=True)

    anchors = Anchors()
    anchors.load(set(systems), log)
    systems = [s for s in systems if anchors.available(s)]
    results: dict[str, Any] = {
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "quick": args.quick, "systems": systems, "machine": machine_info(),
        "threads": {"env": {v: os.environ.get(v) for v in
                            ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")},
                    "pinned_before_numpy_import": not _NUMPY_WAS_LOADED},
        "versions": {"xform": getattr(xform, "__version__", "?"), **anchors.versions},
        "skipped_anchors": anchors.skipped, "repeat": repeat, "budget_s": budget,
        "workloads": {}, "rows": []}
    ctx = Ctx(anchors, args.quick)
    slow: dict[str, tuple[float, int]] = {}
    for w in workloads:
        log(f"\n== {TITLES[w]}")
        cases = BUILDERS[w](ctx)
        results["workloads"][w] = {"title": TITLES[w], "cases": [c.name for c in cases]}
        if w == "taylor" and "xform.jit" in systems:
            results["xform_jit_break_probe"] = probe_jit_break()
        while cases:  # drop each case (and the jit caches it holds) once it has run:
            case = cases.pop(0)  # live objects make every cyclic-GC pass slower
            log(f"{case.name}  [NumPy: {case.reference}]")
            row = run_case(case, systems, anchors, repeat, budget, log, args.first_limit, slow)
            log(f"  {'numpy':<11} {fmt_numpy(row)}")
            results["rows"].append(row)
            del case
            gc.collect()
    try:
        results["machine"]["loadavg_end"] = open("/proc/loadavg").read().split()[:3]
    except OSError:
        pass

    print("\nMedians; ratio = time / hand-written NumPy time (lower is better); "
          "one thread, float64")
    print(text_table(*table_rows(results, systems)))
    mh, mb = memory_rows(results)
    if mb:
        print("\nPeak memory per op (tracemalloc; JAX/PyTorch not visible to it)")
        print(text_table(mh, mb))
    notes = notes_lines(results)
    if notes:
        print("\nNotes:\n" + "\n".join(f"  {n}" for n in notes))
    results["markdown"] = markdown(results)
    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=1, default=str)
        print(f"\nwrote {args.json}")
    if args.markdown:
        with open(args.markdown, "w") as fh:
            fh.write(results["markdown"])
        print(f"wrote {args.markdown}")
    failures = [(r["name"], s) for r in results["rows"] for s, x in r["results"].items()
                if "wrong" in x or "error" in x]
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
