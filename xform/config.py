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

__all__ = ["config", "debug_nans"]


class Config:
    """The settings users may change. Read them as attributes; set with ``update``."""

    _names = ("debug_nans",)

    @property
    def debug_nans(self) -> bool:
        """Raise FloatingPointError at the first primitive that makes a NaN from
        NaN-free inputs (forward or backward), naming it and the user's line."""
        return nan_check.flags.nans

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
