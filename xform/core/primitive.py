"""Primitives: named operations with an implementation and one slot per rule.

A primitive's rules live in the module that defines it (``xform/numpy/*``);
this module only provides the container and the registry the generic tests
walk (the helpers that make declaring a rule a one-liner are in ``rules``).

Rule signatures (``ans`` is the primal output, already computed):

* ``jvp(tangents, ans, args, params) -> tangent_out``; ``tangents[i]`` is
  ``None`` for a symbolic zero, and so may be the result.
* ``vjp(ct, ans, args, params, needs) -> list of cotangents`` (``None`` = zero),
  computing only the entries where ``needs[i]`` is true.
* ``abstract_eval(*avals, **params) -> aval`` (a list for multiple results);
  constant operands arrive as their values.

For primitives with several results, ``ans``, ``tangent_out`` and ``ct`` are
lists. Rules are written with traceable ops, so they differentiate again.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .ir import ShapedArray

Rule = Callable[..., Any]

#: every primitive by name; the generic rule test walks this
registry: dict[str, "Primitive"] = {}


class Primitive:
    """A named operation. ``nondiff`` primitives have zero derivative everywhere."""

    __slots__ = ("name", "impl", "abstract_eval", "jvp", "vjp", "batch",
                 "multiple_results", "nondiff", "__weakref__")

    def __init__(self, name: str, impl: Callable[..., Any], *,
                 multiple_results: bool = False, nondiff: bool = False,
                 register: bool = True) -> None:
        self.name = name
        self.impl = impl
        self.abstract_eval: Rule = self._eval_shape
        self.jvp: Rule | None = None
        self.vjp: Rule | None = None
        self.batch: Rule | None = None
        self.multiple_results = multiple_results
        self.nondiff = nondiff
        if register:  # internal primitives (custom-rule calls) stay out of the registry
            registry[name] = self

    def _eval_shape(self, *avals: Any, **params: Any) -> Any:
        """Default shape rule: run ``impl`` on zero-strided dummy inputs.

        Operands that are constants arrive as values, not avals, and are used as is.
        """
        dummies = [np.broadcast_to(np.zeros((), a.dtype), a.shape)
                   if isinstance(a, ShapedArray) else a for a in avals]
        with np.errstate(all="ignore"):
            out = self.impl(*dummies, **params)
        if self.multiple_results:
            return [ShapedArray(np.shape(o), np.result_type(o)) for o in out]
        return ShapedArray(np.shape(out), np.result_type(out))

    def __repr__(self) -> str:
        return self.name
