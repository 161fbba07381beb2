"""NaN hunting: the first primitive that makes a NaN out of NaN-free inputs raises.

Off by default. When on (``xform.debug_nans()`` or
``xform.config.update("debug_nans", True)``), every primitive evaluated on NumPy
values, forward or backward, checks its result; the error names the primitive, the
pass it ran in (the forward pass, the backward pass of grad, a JVP rule...) and
the user's line that created the operation. It is the analogue of JAX's
``jax_debug_nans``; like it, it costs time and is meant for debugging.
"""
from __future__ import annotations

import threading
from typing import Any, Sequence

import numpy as np

from .frames import user_frame
from .primitive import Primitive


class _Flags:
    """The switch, read on every primitive evaluation (one attribute lookup)."""

    __slots__ = ("nans",)

    def __init__(self) -> None:
        self.nans = False


flags = _Flags()


class _Where(threading.local):
    """What is running now, for the message: set by the sweeps while checking."""

    def __init__(self) -> None:
        self.phase: str | None = None  # None: the forward pass
        self.owner: str | None = None  # the primitive whose derivative rule is running
        self.site: str | None = None  # the user's line that created the operation


where = _Where()


def _has_nan(x: Any) -> bool:
    if x is None:  # a symbolic zero
        return False
    if isinstance(x, (list, tuple)):
        return any(_has_nan(e) for e in x)
    if not isinstance(x, (np.ndarray, np.generic)):
        return isinstance(x, (float, complex)) and x != x
    return x.dtype.kind in "fc" and bool(np.isnan(x).any())


def check(prim: Primitive, args: Sequence[Any], out: Any) -> None:
    """Raise FloatingPointError if ``out`` holds a NaN that ``args`` did not. Values
    that are tracers (an enclosing transform's) are not looked into: the check runs
    again where they become NumPy values."""
    if not _has_nan(out) or any(_has_nan(a) for a in args):
        return
    from_site = where.site
    if from_site is None:
        from_site = user_frame()
    phase = where.phase or "the forward pass"
    if where.owner is not None and where.owner != prim.name:
        phase += f" (in the derivative rule of `{where.owner}`)"
    raise FloatingPointError(
        f"debug_nans: `{prim.name}` produced a NaN from NaN-free inputs in {phase}; "
        f"the operation was created at {from_site}. Check the inputs of that line "
        "(log of 0 or a negative number, 0/0, sqrt at 0 in a derivative...) or "
        "guard it with xform.numpy.where.")


class phase:
    """Label what runs inside: ``with phase("the backward pass", "sqrt", site)``."""

    __slots__ = ("label", "owner", "site", "saved")

    def __init__(self, label: str, owner: str, site: str | None = None) -> None:
        self.label = label
        self.owner = owner
        self.site = site

    def __enter__(self) -> None:
        self.saved = (where.phase, where.owner, where.site)
        where.phase, where.owner, where.site = self.label, self.owner, self.site

    def __exit__(self, *exc: Any) -> None:
        where.phase, where.owner, where.site = self.saved
