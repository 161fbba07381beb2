"""Numerical gradient checking: ``check_grads`` compares forward and reverse mode
with central finite differences, recursing to higher orders."""
from __future__ import annotations

import importlib
import os
import pkgutil
from typing import Any, Callable, Sequence

import numpy as np

from .api import jvp as _jvp, vjp as _vjp
from .tree_util import tree_flatten as _tree_flatten, tree_map as _tree_map

_Fun = Callable[..., Any]

_DEFAULTS = {np.dtype(np.float64): (1e-6, 1e-5, 1e-6), np.dtype(np.float32): (1e-2, 2e-2, 2e-2)}


def _tolerances(leaves: Sequence[Any], eps: float | None, rtol: float | None,
                atol: float | None) -> tuple[float, float, float]:
    worst: np.dtype[Any] = np.dtype(np.float64)
    for x in leaves:
        if np.result_type(x) == np.float32:
            worst = np.dtype(np.float32)
    d_eps, d_rtol, d_atol = _DEFAULTS[worst]
    return (d_eps if eps is None else eps, d_rtol if rtol is None else rtol,
            d_atol if atol is None else atol)


def _inner(a: Any, b: Any) -> float:
    la, lb = _tree_flatten(a)[0], _tree_flatten(b)[0]
    return float(sum(np.real(np.sum(np.asarray(x) * np.asarray(y))) for x, y in zip(la, lb)))


def _random_like(rng: np.random.Generator, tree: Any) -> Any:
    """Random directions: standard normal, with a random imaginary part too for a
    complex leaf (so imaginary directions are checked), zeros for integer leaves."""
    def draw(x: Any) -> Any:
        dt = np.result_type(x)
        if np.issubdtype(dt, np.complexfloating):
            return (rng.standard_normal(np.shape(x))
                    + 1j * rng.standard_normal(np.shape(x))).astype(dt)
        if np.issubdtype(dt, np.inexact):
            return rng.standard_normal(np.shape(x)).astype(dt)
        return np.zeros(np.shape(x), dt)
    return _tree_map(draw, tree)


def _only(args: Sequence[Any], i: int, tangent_i: Any) -> tuple[Any, ...]:
    """Tangents that are zero except for argument ``i``."""
    return tuple(tangent_i if k == i else _tree_map(lambda x: np.zeros_like(np.asarray(x)), a)
                 for k, a in enumerate(args))


def _shift(args: Sequence[Any], tangents: Sequence[Any], step: float) -> tuple[Any, ...]:
    return tuple(_tree_map(lambda x, t: np.asarray(x) + step * np.asarray(t), a, t)
                 for a, t in zip(args, tangents))


def _numerical_jvp(f: _Fun, args: Sequence[Any], tangents: Sequence[Any], eps: float) -> Any:
    plus = f(*_shift(args, tangents, eps))
    minus = f(*_shift(args, tangents, -eps))
    return _tree_map(lambda p, m: (np.asarray(p) - np.asarray(m)) / (2 * eps), plus, minus)


def _compare(analytic: float, numerical: float, rtol: float, atol: float, what: str) -> None:
    err = abs(analytic - numerical)
    if not err <= atol + rtol * abs(numerical):
        raise AssertionError(
            f"check_grads: {what} disagree: analytic {analytic:.10g} vs numerical "
            f"{numerical:.10g} (absolute error {err:.3g}, relative "
            f"{err / max(abs(numerical), 1e-300):.3g}; tolerance atol={atol:g}, rtol={rtol:g})")


def check_grads(f: _Fun, args: Sequence[Any], order: int = 2,
                modes: Sequence[str] = ("fwd", "rev"), atol: float | None = None,
                rtol: float | None = None, eps: float | None = None, seed: int = 0) -> None:
    """Check the derivatives of ``f`` at ``args`` up to ``order``.

    Forward mode: ``jvp`` against central differences along random directions (with
    random imaginary parts for complex arguments).
    Reverse mode: ``<u, J v> == <J^T u, v>`` for random ``u``, ``v``. Each argument is
    checked separately and the error names the argument, mode and order.

    Args:
        f: the function; its arguments and outputs are arrays or pytrees of them.
        args: the point, a tuple of arguments.
        order: the highest derivative order to check.
        modes: ``"fwd"``, ``"rev"`` or both.
        atol: the absolute tolerance (by default from the dtype).
        rtol: the relative tolerance (by default from the dtype).
        eps: the finite-difference step (by default from the dtype).
        seed: the seed of the random directions.

    Returns:
        None; an AssertionError names the argument, mode and order that disagree.

    >>> import xform.numpy as np
    >>> check_grads(np.sin, (0.3,), order=2)
    """
    for m in modes:
        if m not in ("fwd", "rev"):
            raise ValueError(f"check_grads: modes must be 'fwd' and/or 'rev', got {m!r}")
    args = tuple(args)
    leaves = _tree_flatten(list(args))[0]
    eps_, rtol_, atol_ = _tolerances(leaves, eps, rtol, atol)
    rng = np.random.default_rng(seed)
    _check(f, args, order, tuple(modes), eps_, rtol_, atol_, rng, 1)


def _check(f: _Fun, args: tuple[Any, ...], order: int, modes: tuple[str, ...], eps: float,
           rtol: float, atol: float, rng: np.random.Generator, level: int) -> None:
    out = f(*args)
    u = _random_like(rng, out)
    for i, a in enumerate(args):
        if not all(np.issubdtype(np.result_type(x), np.inexact) for x in _tree_flatten(a)[0]):
            continue
        v = _only(args, i, _random_like(rng, a))
        numerical = _numerical_jvp(f, args, v, eps)
        if "fwd" in modes:
            _, analytic = _jvp(f, args, v)
            _compare(_inner(u, analytic), _inner(u, numerical), rtol, atol,
                     f"forward mode, order {level}, argument {i}")
        if "rev" in modes:
            _, vjp_fn = _vjp(f, *args)
            pulled = vjp_fn(u)
            _compare(_inner(pulled, v), _inner(u, numerical), rtol, atol,
                     f"reverse mode, order {level}, argument {i}")
    if order > 1:
        if "fwd" in modes:
            v_all = tuple(_random_like(rng, a) for a in args)
            _check(lambda *a: _jvp(f, a, v_all)[1], args, order - 1, modes, eps, rtol, atol,
                   rng, level + 1)
        if "rev" in modes:
            _check(lambda *a: _vjp(f, *a)[1](u), args, order - 1, modes, eps, rtol, atol,
                   rng, level + 1)


def import_all_modules() -> dict[str, str]:
    """Import every module of xform, so the primitive registry is complete; returns the
    modules that failed to import with their errors (empty when all is well).

    Returns:
        ``{module: error}`` for the modules that failed to import (empty when all did).

    >>> from xform.test_util import import_all_modules
    >>> import_all_modules()
    {}
    """
    failures: dict[str, str] = {}

    def failed(name: str) -> None:
        failures[name] = "error while importing the package"

    # this module's own package, found by path: importing `xform` here would be a cycle
    package = __name__.rpartition(".")[0]
    path = [os.path.dirname(os.path.abspath(__file__))]
    for mod in pkgutil.walk_packages(path, package + ".", onerror=failed):
        try:
            importlib.import_module(mod.name)
        except Exception as e:  # noqa: BLE001 - reported to the caller
            failures[mod.name] = f"{type(e).__name__}: {e}"
    return failures


__all__ = ["check_grads", "import_all_modules"]

