"""``xform.scipy``: differentiable versions of the SciPy functions users call.

Submodules: ``special``, ``stats``, ``linalg``, ``signal``, ``integrate``.
"""

from . import integrate, linalg, signal, special, stats

__all__ = ["special", "stats", "linalg", "signal", "integrate"]
