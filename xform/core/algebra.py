"""Algebraic facts of a primitive, which ``jit``'s simplifier reads from its slots.

* ``identities``: when an equation merely passes one operand through (``x * 1``,
  ``x + 0``, an identity reshape...), as a tuple of :class:`PassThrough`;
* ``fuse``: how two equations of the same primitive in a chain become one
  (transpose of a transpose composes the permutations);
* ``negation_folds``: an operand made by a negation folded into the equation
  (``x + (-y)`` is ``x - y``, exactly, as IEEE defines subtraction), as a tuple of
  :class:`NegationFold`; ``is_negation`` marks the negation itself;
* ``prune``: for an equation with several results (a loop), a smaller equation that
  gives the results still used (a :data:`Prune`): a loop carry nothing reads, a
  stacked output stored twice.

The simplifier only ever drops an equation for an operand that already has the
result's shape and dtype, so a fact need not say that ``x * 1`` with a broadcast
``x``, or a reshape that changes the shape, is no identity.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

Params = dict[str, Any]
#: ``fuse(inner, outer)``: the parameters of one equation equal to the equation with
#: ``outer`` applied to the result of the one with ``inner``
Fuse = Callable[[Params, Params], Params]
#: ``prune(used, params)``: for an equation whose results ``used[k]`` says are read,
#: ``(kept, new_params, where)`` -- the operands the smaller equation takes (indices),
#: its parameters, and for each old result the index of the new result equal to it
#: (-1 where it is dropped; a used result is never dropped) -- or None where nothing
#: can go. Effects inside (``debug.print`` in a loop body) must be kept.
Prune = Callable[[list[bool], Params], "tuple[list[int], Params, list[int]] | None"]

__all__ = ["Params", "Fuse", "Prune", "PassThrough", "pass_through", "identity_element",
           "right_identity_element", "is_identity_permutation", "compose_permutations",
           "keep_outer", "NegationFold"]


@dataclass(frozen=True)
class PassThrough:
    """The result is operand ``operand`` unchanged, provided that

    * ``if_operand`` is None, or that operand is the constant ``equals`` (a scalar
      literal, or a constant array filled with it), and
    * ``when`` is None, or ``when(params)`` holds.
    """

    operand: int = 0
    if_operand: int | None = None
    equals: float = 0.0
    when: Callable[[Params], bool] | None = None


@dataclass(frozen=True)
class NegationFold:
    """Where operand ``operand`` is ``-y``, the result is primitive ``into`` applied
    to the other operand and ``y``, in that order (``x + (-y)``, ``(-y) + x`` and
    ``x - (-y)`` each save the negation)."""

    operand: int
    into: Any  # a Primitive (core/primitive.py imports this module)


def pass_through(when: Callable[[Params], bool] | None = None) -> tuple[PassThrough, ...]:
    """The first operand passes through (whenever the types allow, or ``when(params)``)."""
    return (PassThrough(when=when),)


def identity_element(value: float) -> tuple[PassThrough, ...]:
    """``value`` is a two-sided identity: ``value op x == x op value == x``."""
    # operand 1 first: the order in which the simplifier has always tried them
    return (PassThrough(1, if_operand=0, equals=value),
            PassThrough(0, if_operand=1, equals=value))


def right_identity_element(value: float) -> tuple[PassThrough, ...]:
    """``value`` is a right identity only: ``x op value == x`` (``x - 0``, ``x / 1``)."""
    return (PassThrough(0, if_operand=1, equals=value),)


def is_identity_permutation(key: str) -> Callable[[Params], bool]:
    """``params[key]`` leaves every axis in place (a transpose that moves nothing; a
    square matrix's transpose keeps its type, so the type alone cannot tell)."""
    return lambda params: params[key] == tuple(range(len(params[key])))


def compose_permutations(key: str) -> Fuse:
    """Fusion of two axis permutations named ``key``: ``transpose(transpose(x, p), q)
    == transpose(x, p[q])``."""
    return lambda inner, outer: {**outer, key: tuple(inner[key][i] for i in outer[key])}


def keep_outer(inner: Params, outer: Params) -> Params:
    """Fusion of ops whose result depends only on the last parameters (reshape)."""
    return outer
