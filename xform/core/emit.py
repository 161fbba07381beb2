"""Emitters: how ``jit`` writes one equation of a primitive as NumPy source.

A primitive's ``emit`` slot holds one of these (or ``None``: the generated code then
calls the primitive's implementation with its parameters bound). They live in core,
beside the primitives, so that a family module declares how its ops are written
without importing ``xform.jit``, which sits above the families.

An emitter is called as ``emitter(args, params, bind)``:

* ``args``: the source text of the operands (names, or names of bound literals);
* ``params``: the equation's parameters, as values;
* ``bind(value)``: puts a value into the generated function's namespace and returns
  the name the source uses for it (parameters never appear as text in the source).

It returns the source of an expression. Operands are NumPy arrays or NumPy scalars
when the code runs (inputs are converted and literal-only operations folded), so
ndarray methods and operators apply.

Control flow needs statements, not one expression: the ``bind`` that code generation
passes is also a :class:`Writer`, through which an emitter writes lines ahead of the
expression it returns (``for``/``while``/``if`` blocks) and writes a sub-jaxpr's
equations as code inside them (:meth:`Writer.block`). Emitters that only need
``bind`` never look at the rest.

The emitters made here are :class:`Expression` objects: besides writing the source
they can evaluate the same expression with another array namespace standing in for
NumPy (``run(ns, operands, params)``), which is how the XLA backend derives a
primitive's lowering from its emitter (``jax.numpy`` in place of NumPy).
"""
from __future__ import annotations

import operator
from typing import Any, Callable, ContextManager, Protocol, Sequence

Bind = Callable[[Any], str]
Emitter = Callable[[list[str], dict[str, Any], Bind], str]

#: ``run(namespace, operands, params)``: the expression evaluated on values
Run = Callable[[Any, list[Any], dict[str, Any]], Any]

__all__ = ["Bind", "Emitter", "Writer", "Block", "Expression", "infix", "prefix",
           "numpy_call", "method", "operand"]

_BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
    "@": operator.matmul, "**": operator.pow, "&": operator.and_, "|": operator.or_,
    "^": operator.xor, "<<": operator.lshift, ">>": operator.rshift}
_UNARY: dict[str, Callable[[Any], Any]] = {"-": operator.neg, "+": operator.pos,
                                           "~": operator.invert}


class Block(Protocol):
    """A sub-jaxpr (a loop body, a branch) about to be written as code."""

    #: per input of the sub-jaxpr: whether its code reads that input at all
    used: list[bool]

    def hoist(self) -> None:
        """Write, here, the equations that depend only on inputs marked invariant
        (before a loop, so that they run once)."""

    def write(self) -> list[str]:
        """Write the other equations here; returns the source of each output."""


class Writer(Protocol):
    """What code generation passes to emitters as ``bind``: ``bind(value)`` plus the
    means to write statements."""

    #: an input of the program when it runs on another library's arrays (Dask, CuPy),
    #: else None: arrays the code allocates (loop buffers) are made of its kind
    like: Any

    #: the equation being written (its operands' avals give static shapes), or None
    eqn: Any

    def __call__(self, value: Any) -> str:
        """Put ``value`` in the namespace; returns the name the source uses."""

    def stacks_as_list(self, var: Any) -> bool:
        """Whether ``var``, a loop's stacked output, is read only step by step by later
        loops of this program, so that a list of the steps' values may stand for it."""

    def fresh(self) -> str:
        """A new local variable name."""

    def line(self, text: str) -> None:
        """Write one statement at the current indentation."""

    def indented(self) -> ContextManager[None]:
        """Lines written inside the ``with`` block are indented one level more."""

    def block(self, jaxpr: Any, args: Sequence[str], invariant: Sequence[bool] = ()
              ) -> Block:
        """Prepare ``jaxpr`` (a ``Jaxpr`` without constants) to be written with its
        inputs named ``args``; ``invariant`` marks inputs that do not change between
        the runs of a loop, which lets :meth:`Block.hoist` move work out of it."""


class Expression:
    """An emitter (``write``) together with the same expression as a computation on
    values of any NumPy-like namespace (``run``)."""

    __slots__ = ("write", "run")

    def __init__(self, write: Emitter, run: Run) -> None:
        self.write = write
        self.run = run

    def __call__(self, a: list[str], p: dict[str, Any], bind: Bind) -> str:
        return self.write(a, p, bind)


def infix(symbol: str) -> Expression:
    """``(a <symbol> b)``: a binary Python operator (``+``, ``@``...)."""
    op = _BINARY[symbol]
    return Expression(lambda a, p, bind: f"({a[0]} {symbol} {a[1]})",
                      lambda ns, a, p: op(a[0], a[1]))


def prefix(symbol: str) -> Expression:
    """``(<symbol>a)``: a unary Python operator (``-``)."""
    op = _UNARY[symbol]
    return Expression(lambda a, p, bind: f"({symbol}{a[0]})", lambda ns, a, p: op(a[0]))


def numpy_call(name: str, *param_names: str) -> Expression:
    """``_np.<name>(*operands, *params)``: a NumPy function called directly, skipping
    the bound implementation; the named parameters follow the operands positionally."""
    def emit(a: list[str], p: dict[str, Any], bind: Bind) -> str:
        return f"_np.{name}({', '.join(a + [bind(p[k]) for k in param_names])})"

    def run(ns: Any, a: list[Any], p: dict[str, Any]) -> Any:
        return getattr(ns, name)(*a, *[p[k] for k in param_names])
    return Expression(emit, run)


def method(name: str, *param_names: str, keywords: bool = False) -> Expression:
    """``a.<name>(params)``: an ndarray method of the first operand, which skips
    NumPy's Python-level function dispatch. Parameters are passed in the order named,
    as keywords with ``keywords``, else positionally. On another namespace it is the
    function of the same name (``jax.numpy.sum(a, axis=...)``)."""
    def emit(a: list[str], p: dict[str, Any], bind: Bind) -> str:
        given = [f"{k}={bind(p[k])}" if keywords else bind(p[k]) for k in param_names]
        return f"{a[0]}.{name}({', '.join(given)})"

    def run(ns: Any, a: list[Any], p: dict[str, Any]) -> Any:
        fn = getattr(ns, name)
        if keywords:
            return fn(a[0], **{k: p[k] for k in param_names})
        return fn(a[0], *[p[k] for k in param_names])
    return Expression(emit, run)


def operand(index: int = 0) -> Expression:
    """The operand itself: for operations that do nothing at run time (stop_gradient)."""
    return Expression(lambda a, p, bind: a[index], lambda ns, a, p: a[index])
