"""Domains of the effect primitives, for test_rules.py: the one behind
xform.debug.print/callback, and NumPy's warnings (``numpy_warning``).

The callback records what it is called with; the generic test checks that each
evaluates to no outputs and contributes no derivative (and that jit's generated
call of it does what its implementation does). The warning's flags are all false
here (no warning): tests/test_numpy_warnings.py checks the warnings themselves."""
from __future__ import annotations

import numpy as np

from domains import Domain, operands

SEEN: list[tuple] = []


def _record(*values: object) -> None:
    SEEN.append(values)


DOMAINS = {
    "debug_callback": [Domain(lambda rng: (operands((3,), (2, 2))(rng), {"callback": _record}),
                              diff=(0, 1), label="two arrays")],
    "numpy_warning": [Domain(lambda rng: ((np.zeros((2, 3)),),
                                          {"message": "Mean of empty slice",
                                           "category": "RuntimeWarning", "each": each,
                                           "site": None}),
                             label=f"flags all false, each={each}") for each in (False, True)],
}
