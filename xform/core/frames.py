"""Where in the user's code an operation comes from (for error messages)."""
from __future__ import annotations

import os
import sys
from typing import Any

_PKG_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def user_frame() -> str:
    """The innermost stack frame outside the xform package, as 'file:line (func)'."""
    f: Any = sys._getframe(1)
    while f is not None and f.f_code.co_filename.startswith(_PKG_DIR):
        f = f.f_back
    if f is None:
        return "<unknown>"
    return f"{f.f_code.co_filename}:{f.f_lineno} (in {f.f_code.co_name})"
