"""Global switches: ``xform.config.update("debug_nans", True)``, as ``jax.config``.

>>> import xform
>>> xform.config.debug_nans
False
>>> with xform.debug_nans():
...     xform.config.debug_nans
True
"""
from __future__ import annotations

from typing import Any, Iterator
from contextlib import contextmanager

from .core import nan_check
from .jit import (default_cache_size as _default_cache_size, log_compile_seconds as
                  _log_compile_seconds, set_default_cache_size as _set_default_cache_size,
                  set_log_compile_seconds as _set_log_compile_seconds)

__all__ = ["config", "debug_nans"]


class Config:
    """The settings users may change. Read them as attributes; set with ``update``."""

    _names = ("debug_nans", "jit_cache_size", "jit_log_compile_seconds")

    @property
    def debug_nans(self) -> bool:
        """Raise FloatingPointError at the first primitive that makes a NaN from
        NaN-free inputs (forward or backward), naming it and the user's line."""
        return nan_check.flags.nans

    @property
    def jit_cache_size(self) -> int:
        """How many argument signatures a function jitted from now on keeps compiled
        (least recently used dropped first); 64 unless ``XFORM_JIT_CACHE_SIZE`` says
        otherwise. ``jit(f, cache_size=n)`` sets one function's."""
        return _default_cache_size()

    @property
    def jit_log_compile_seconds(self) -> float:
        """A ``jit`` trace and compile slower than this (3 seconds by default) logs one
        INFO line on the ``"xform"`` logger (``logging.getLogger("xform")``) saying which
        function and argument shapes it compiled and how long it took."""
        return _log_compile_seconds()

    def update(self, name: str, value: Any) -> None:
        """Set a switch: ``config.update("debug_nans", True)`` (``jax_debug_nans``
        is accepted too, for code moved over from JAX).

        >>> import xform
        >>> xform.config.update("debug_nans", True); xform.config.update("debug_nans", False)
        """
        key = name[4:] if name.startswith("jax_") else name
        if key not in self._names:
            raise ValueError(f"config.update: unknown setting {name!r}; the settings are "
                             f"{', '.join(self._names)}")
        if key == "jit_cache_size":
            _set_default_cache_size(value)
            return
        if key == "jit_log_compile_seconds":
            _set_log_compile_seconds(value)
            return
        if not isinstance(value, bool):
            raise TypeError(f"config.update({name!r}, ...) takes True or False, got {value!r}")
        nan_check.flags.nans = value


config = Config()


@contextmanager
def debug_nans(enabled: bool = True) -> Iterator[None]:
    """Within the block, the first primitive that produces a NaN from NaN-free
    inputs raises FloatingPointError naming the primitive, the pass (forward,
    backward of grad, a JVP rule) and the user's line that created the operation.
    Under ``jit`` a NaN in the outputs re-runs the call eagerly to find it.

    Args:
        enabled: switch the check on (default) or off within the block.

    Returns:
        A context manager.

    >>> import xform, xform.numpy as np
    >>> with xform.debug_nans():
    ...     xform.grad(lambda x: np.sqrt(x) * 0.0)(0.0)   # doctest: +ELLIPSIS
    Traceback (most recent call last):
    FloatingPointError: debug_nans: `sqrt` produced a NaN from NaN-free inputs in the backward pass...
    """
    saved = nan_check.flags.nans
    nan_check.flags.nans = enabled
    try:
        yield
    finally:
        nan_check.flags.nans = saved
