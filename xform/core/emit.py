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
"""
from __future__ import annotations

from typing import Any, Callable

Bind = Callable[[Any], str]
Emitter = Callable[[list[str], dict[str, Any], Bind], str]

__all__ = ["Bind", "Emitter", "infix", "prefix", "numpy_call", "method", "operand"]


def infix(symbol: str) -> Emitter:
    """``(a <symbol> b)``: a binary Python operator (``+``, ``@``...)."""
    return lambda a, p, bind: f"({a[0]} {symbol} {a[1]})"


def prefix(symbol: str) -> Emitter:
    """``(<symbol>a)``: a unary Python operator (``-``)."""
    return lambda a, p, bind: f"({symbol}{a[0]})"


def numpy_call(name: str, *param_names: str) -> Emitter:
    """``_np.<name>(*operands, *params)``: a NumPy function called directly, skipping
    the bound implementation; the named parameters follow the operands positionally."""
    def emit(a: list[str], p: dict[str, Any], bind: Bind) -> str:
        return f"_np.{name}({', '.join(a + [bind(p[k]) for k in param_names])})"
    return emit


def method(name: str, *param_names: str, keywords: bool = False) -> Emitter:
    """``a.<name>(params)``: an ndarray method of the first operand, which skips
    NumPy's Python-level function dispatch. Parameters are passed in the order named,
    as keywords with ``keywords``, else positionally."""
    def emit(a: list[str], p: dict[str, Any], bind: Bind) -> str:
        given = [f"{k}={bind(p[k])}" if keywords else bind(p[k]) for k in param_names]
        return f"{a[0]}.{name}({', '.join(given)})"
    return emit


def operand(index: int = 0) -> Emitter:
    """The operand itself: for operations that do nothing at run time (stop_gradient)."""
    return lambda a, p, bind: a[index]
