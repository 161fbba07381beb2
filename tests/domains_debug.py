"""Domain of the effect primitive behind xform.debug.print/callback, for test_rules.py.

Its callback records what it is called with; the generic test checks that it
evaluates to no outputs and contributes no derivative (and that jit's generated
call of it does what its implementation does)."""
from __future__ import annotations

from domains import Domain, operands

SEEN: list[tuple] = []


def _record(*values: object) -> None:
    SEEN.append(values)


DOMAINS = {
    "debug_callback": [Domain(lambda rng: (operands((3,), (2, 2))(rng), {"callback": _record}),
                              diff=(0, 1), label="two arrays")],
}
