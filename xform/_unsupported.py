"""The module ``__getattr__`` of xform's NumPy/SciPy namespaces: a name the reference
library has but xform does not gets an error saying so, never a silent fallback."""
from __future__ import annotations

from types import ModuleType
from typing import Any, Callable


def unsupported_getattr(module: str, reference: ModuleType, hint: str) -> Callable[[str], Any]:
    """A module-level ``__getattr__`` for ``module`` mirroring ``reference``."""
    ref = reference.__name__

    def __getattr__(name: str) -> Any:
        if hasattr(reference, name):
            raise AttributeError(
                f"{module}.{name} is not supported yet: {ref}.{name} exists, but xform has no "
                f"differentiable version of it. {hint}")
        raise AttributeError(f"module {module!r} has no attribute {name!r}")

    return __getattr__
