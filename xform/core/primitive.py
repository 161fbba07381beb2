"""Primitives: named operations with an implementation, one slot per rule and
one slot per fact.

A primitive owns everything known about it: its rules and facts are declared in
the module that defines it (``xform/numpy/*``, ``xform/api.py``...), beside its
definition, and every transform reads them from the primitive, never from a table
keyed by its name. This module only provides the container and the registry the
generic tests walk; the rule helpers (``rules``) and the fact helpers (``emit.py``,
``algebra.py``) make declaring a rule or a fact a one-liner.

Rule signatures (``ans`` is the primal output, already computed):

* ``jvp(tangents, ans, args, params) -> tangent_out``; ``tangents[i]`` is
  ``None`` for a symbolic zero, and so may be the result.
* ``vjp(ct, ans, args, params, needs) -> list of cotangents`` (``None`` = zero),
  computing only the entries where ``needs[i]`` is true.
* ``structured(vals, dims, params) -> (out, out_dim)`` or ``None``: the batch rule
  for operands that include a structured Jacobian basis (``core/structured.py``);
  ``None`` (or no rule) densifies the basis and calls ``batch``.
* ``abstract_eval(*avals, **params) -> aval`` (a list for multiple results);
  constant operands arrive as their values.

For primitives with several results, ``ans``, ``tangent_out`` and ``ct`` are
lists. Rules are written with traceable ops, so they differentiate again.

* ``numeric_vjp(ct, ans, args, params, needs) -> sequence of cotangents``: the same
  cotangents as ``vjp``, as a plain NumPy formula (no ``bind``, nothing recorded), for
  the eager backward sweep when nothing records the backward pass (first-order
  ``grad``/``vjp`` directly over NumPy values). A cotangent may come back broadcast
  (another shape than its operand) or complex for a real operand: the sweep sums it
  back and keeps the real part, as ``defvjp`` does. ``None`` (the default) makes the
  sweep call ``vjp`` itself. ``defvjp`` derives one from its per-argument rules;
  families declare faster ones for hot ops, and the generic test checks every one
  against ``vjp`` on each domain.

Facts (plain data, read by ``jit`` and checked by the generic tests):

* ``emit``: how ``jit`` writes the primitive as NumPy source (an
  :data:`~xform.core.emit.Emitter`), or ``None`` to call ``impl`` with the
  parameters bound;
* ``broadcasting``: an elementwise op that broadcasts its operands as NumPy does,
  so an operand broadcast beforehand can be passed unbroadcast (set by the
  broadcasting batch rule's helper);
* ``is_broadcast``: the op is a NumPy broadcast of its first operand to the result's
  shape (``broadcast_to``), which a broadcasting consumer makes redundant;
* ``linear``: linear in its first operand for real coefficients,
  ``f(a x + b y) == a f(x) + b f(y)``, the other operands being static data (shapes,
  indices) rather than a second factor, so its JVP is the primitive applied to the
  tangent (set by ``deflinear``; bilinear ops such as ``multiply`` are not marked);
* ``identities``: when the result is one operand unchanged (``x * 1``, identity
  reshape), a tuple of :class:`~xform.core.algebra.PassThrough`;
* ``fuse``: how two equations of this primitive in a chain become one
  (:data:`~xform.core.algebra.Fuse`), or ``None``;
* ``negation_folds`` and ``is_negation``: a negated operand folded into the
  equation (``x + (-y)`` as ``x - y``), a tuple of
  :class:`~xform.core.algebra.NegationFold`, and the negation that it reads;
* ``prune``: how a multiple-result equation (a loop) shrinks to the results still
  used (:data:`~xform.core.algebra.Prune`), or ``None``;
* ``refine``: ``refine(invars, params, producer) -> params or None``: sharper
  parameters proven from the equations that produced the operands (``producer``
  maps a variable to its equation), such as index bounds checks made needless by
  a modulo; ``None`` where nothing is proven;
* ``real_only``: derivatives are defined for real operands only (the op has no
  complex extension, or its rules are real formulas); the rules then refuse a complex
  operand with a TypeError (set by :func:`~xform.core.rules.real_only`). The generic
  tests check every other differentiable primitive on complex inputs;
* ``lower``: how the XLA backend writes the primitive with JAX (a
  :data:`~xform.core.lowering.Lowering`), or ``None`` where it is derived from
  ``emit`` or a ufunc ``impl`` (:func:`~xform.core.lowering.lowering_of`).
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .algebra import Fuse, NegationFold, PassThrough, Prune
from .emit import Emitter
from .ir import ShapedArray

Rule = Callable[..., Any]

#: every primitive by name; the generic rule test walks this
registry: dict[str, "Primitive"] = {}


class Primitive:
    """A named operation. ``nondiff`` primitives have zero derivative everywhere."""

    __slots__ = ("name", "impl", "abstract_eval", "jvp", "vjp", "numeric_vjp", "batch",
                 "structured",
                 "multiple_results", "nondiff",
                 # facts (see the module docstring)
                 "emit", "broadcasting", "is_broadcast", "linear", "identities", "fuse",
                 "negation_folds", "is_negation", "prune", "refine", "effectful", "real_only", "lower", "__weakref__")

    def __init__(self, name: str, impl: Callable[..., Any], *,
                 multiple_results: bool = False, nondiff: bool = False,
                 register: bool = True) -> None:
        self.name = name
        self.impl = impl
        self.abstract_eval: Rule = self._eval_shape
        self.jvp: Rule | None = None
        self.vjp: Rule | None = None
        self.numeric_vjp: Rule | None = None
        self.batch: Rule | None = None
        # how a structured (identity/diagonal) Jacobian basis passes through, keeping
        # its structure: see core/structured.py; None densifies the basis first
        self.structured: Rule | None = None
        self.multiple_results = multiple_results
        self.nondiff = nondiff
        self.emit: Emitter | None = None
        self.broadcasting = False
        self.is_broadcast = False
        self.linear = False
        self.identities: tuple[PassThrough, ...] = ()
        self.fuse: Fuse | None = None
        self.negation_folds: tuple[NegationFold, ...] = ()
        self.is_negation = False
        self.prune: Prune | None = None
        self.refine: Callable[..., dict | None] | None = None
        # a side effect (debug.print): jit keeps, never merges and never folds it
        self.effectful = False
        self.real_only = False
        self.lower: Any = None  # the XLA lowering (core/lowering.py)
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
