"""``xform.lax``: structured control flow that stays differentiable and batchable
when traced abstractly (JAX's signatures)."""
from ._control import cond, fori_loop, map, scan, select, switch, while_loop

__all__ = ["cond", "switch", "select", "while_loop", "fori_loop", "scan", "map"]
