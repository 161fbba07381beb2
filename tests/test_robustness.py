"""Robustness: interrupts, copies of traced values, literal keys in jit, loop-carry and
custom-rule checks, keyword arguments of the transforms, odd inputs, pickling, the jit
cache."""
from __future__ import annotations

import gc
import signal
import sys
import time
from typing import Any, Callable

import numpy as onp
import pytest

import xform
import xform.numpy as np
from xform.core.trace import EVAL_TRACE, current_trace

RNG = onp.random.default_rng(11)


# ----------------------------------------------------------------------------- interrupts
def _workloads() -> list[Callable[[], Any]]:
    """Small programs that cross every window where xform changes global state: the
    current trace (each interpreter, nesting, custom rules) and the paused collector
    (reverse mode records and sweeps with it paused)."""
    x = onp.linspace(0.1, 1.0, 4)

    @xform.custom_jvp
    def softplus(v: Any) -> Any:
        return np.log1p(np.exp(v))

    softplus.defjvp(lambda p, t: (softplus(p[0]), t[0] / (1.0 + np.exp(-p[0]))))

    def f(v: Any) -> Any:
        return np.sum(np.tanh(v) * softplus(v))

    return [
        lambda: xform.grad(f)(x),
        lambda: xform.jvp(f, (x,), (x,)),
        lambda: xform.vmap(f)(onp.stack([x, x])),
        lambda: xform.hessian(lambda v: np.sum(np.sin(v) ** 2))(x[:2]),
        lambda: xform.make_jaxpr(xform.grad(f))(x),
        lambda: xform.grad(lambda v: xform.grad(lambda w: np.sum(w * v))(v).sum())(x),
    ]


def _clean_state() -> None:
    assert current_trace() is EVAL_TRACE, f"stale current trace {current_trace()!r}"
    assert gc.isenabled(), "the garbage collector was left disabled"


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="needs POSIX interval timers")
def test_keyboard_interrupt_at_random_points_leaves_no_stale_state() -> None:
    """Real SIGALRM signals, each raising KeyboardInterrupt from its handler, land at
    random points of transformed programs thousands of times; after each, no trace is
    left current and the collector is enabled."""
    works = _workloads()
    durations = []
    for w in works:  # time each program, so the signals spread over its whole run
        w()
        t0 = time.perf_counter()
        w()
        durations.append(time.perf_counter() - t0)
    old = signal.signal(signal.SIGALRM, _raise_interrupt)
    interrupted = inside = 0
    try:
        for i in range(3000):
            k = i % len(works)
            delay = float(RNG.uniform(1e-6, 1.2 * durations[k]))
            try:
                signal.setitimer(signal.ITIMER_REAL, delay)
                works[k]()
                signal.setitimer(signal.ITIMER_REAL, 0)
            except KeyboardInterrupt:
                interrupted += 1
                tb = sys.exc_info()[2]
                while tb is not None:
                    if "xform" in tb.tb_frame.f_code.co_filename.split("tests")[0]:
                        inside += 1
                        break
                    tb = tb.tb_next
            _clean_state()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    assert interrupted > 1000, interrupted  # the signals did land mid-program
    assert inside > 1000, inside


_XFORM_DIR = xform.__file__.rsplit("/", 1)[0]


def _injectable(frame: Any) -> bool:
    """A frame of xform's own code, not a generator's (raising while a generator is
    closed is reported as unraisable, not propagated)."""
    return (frame.f_code.co_filename.startswith(_XFORM_DIR)
            and not frame.f_code.co_flags & 0x20)  # CO_GENERATOR


def test_exception_on_entry_to_any_function_leaves_no_stale_state() -> None:
    """Deterministic companion of the signal test: CPython runs pending signal handlers
    on entry to a Python function (before its first line); raise KeyboardInterrupt on
    entry to the n-th function called, for every n, in reverse mode, forward mode,
    vmap and staging. Catches the windows of a ``with`` block whose ``__exit__``
    restores the state."""
    works = _workloads()
    for w in (works[0], works[1], works[2], works[4]):
        calls = 0

        def count(frame: Any, event: str, arg: Any) -> None:
            nonlocal calls
            if event == "call" and _injectable(frame):
                calls += 1

        sys.settrace(count)
        try:
            w()
        finally:
            sys.settrace(None)
        total = calls
        assert total > 50
        for n in range(total):
            seen = 0

            def inject(frame: Any, event: str, arg: Any) -> Any:
                nonlocal seen
                if event == "call" and _injectable(frame):
                    seen += 1
                    if seen == n + 1:
                        raise KeyboardInterrupt
                return None

            sys.settrace(inject)
            try:
                w()
            except KeyboardInterrupt:
                pass
            finally:
                sys.settrace(None)
            _clean_state()
