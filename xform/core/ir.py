"""The IR: typed variables, literals, equations and jaxprs, with a pretty printer.

The IR is plain data. Equations hold a primitive, its operands (``Var`` or
``Literal``), its output variables and static parameters; nothing in it closes
over Python state, so it can be printed, compared, optimised and compiled.
"""
from __future__ import annotations

from typing import Any, Iterator, Sequence

import math
import numpy as np

from .arrays import is_foreign

_DTYPE_SHORT = {
    "float64": "f64", "float32": "f32", "float16": "f16",
    "int64": "i64", "int32": "i32", "int16": "i16", "int8": "i8",
    "uint8": "u8", "uint32": "u32", "uint64": "u64", "bool": "bool",
    "complex128": "c128", "complex64": "c64",
}


class ShapedArray:
    """Abstract value: the shape and dtype of an array, no data."""

    __slots__ = ("shape", "dtype")

    def __init__(self, shape: tuple[int, ...], dtype: Any) -> None:
        self.shape = tuple(shape)
        self.dtype = np.dtype(dtype)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    def str_short(self) -> str:
        dt = _DTYPE_SHORT.get(self.dtype.name, self.dtype.name)
        return f"{dt}[{','.join(map(str, self.shape))}]"

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, ShapedArray) and self.shape == other.shape
                and self.dtype == other.dtype)

    def __hash__(self) -> int:
        return hash((self.shape, self.dtype))

    def __repr__(self) -> str:
        return f"ShapedArray({self.str_short()})"


def aval_of(x: Any) -> ShapedArray:
    """The abstract value of a concrete array, scalar or tracer."""
    aval = getattr(x, "aval", None)
    if isinstance(aval, ShapedArray):
        return aval
    if is_foreign(x):  # a Dask or CuPy array: its metadata, never its data
        return ShapedArray(tuple(x.shape), np.dtype(x.dtype))
    x = np.asarray(x)
    return ShapedArray(x.shape, x.dtype)


class Var:
    """A typed variable of the IR. Identity is the variable; names come at print time.

    A variable that staging made for an equation's result also has ``site``: where the
    user's code made that value (``core.frames.staging_site``), for the warnings that
    generated code raises. Not set on other variables (read it with ``getattr``): the
    slot costs no memory (an object of one slot or two takes 48 bytes), a store in
    every constructor would cost time."""

    __slots__ = ("aval", "site")
    site: tuple[Any, ...] | None

    def __init__(self, aval: ShapedArray) -> None:
        self.aval = aval

    def __repr__(self) -> str:
        return f"Var({self.aval.str_short()})"


class Literal:
    """A scalar constant written inline in the IR."""

    __slots__ = ("val", "aval")

    def __init__(self, val: Any) -> None:
        self.val = val
        self.aval = aval_of(val)

    def __repr__(self) -> str:
        return f"Literal({self.val!r})"


Atom = Var | Literal


class Eqn:
    """One equation ``outvars = prim[params](invars)``."""

    __slots__ = ("prim", "invars", "outvars", "params")

    def __init__(self, prim: Any, invars: Sequence[Atom], outvars: Sequence[Var],
                 params: dict[str, Any]) -> None:
        self.prim = prim
        self.invars = list(invars)
        self.outvars = list(outvars)
        self.params = params


class Jaxpr:
    """A function in the IR: constant variables, inputs, equations, outputs."""

    __slots__ = ("constvars", "invars", "eqns", "outvars")

    def __init__(self, constvars: Sequence[Var], invars: Sequence[Var],
                 eqns: Sequence[Eqn], outvars: Sequence[Atom]) -> None:
        self.constvars = list(constvars)
        self.invars = list(invars)
        self.eqns = list(eqns)
        self.outvars = list(outvars)

    def __str__(self) -> str:
        return pp_jaxpr(self)

    __repr__ = __str__


class ClosedJaxpr:
    """A jaxpr together with the values of its constant variables."""

    __slots__ = ("jaxpr", "consts")

    def __init__(self, jaxpr: Jaxpr, consts: Sequence[Any]) -> None:
        self.jaxpr = jaxpr
        self.consts = list(consts)

    @property
    def eqns(self) -> list[Eqn]:
        return self.jaxpr.eqns

    @property
    def in_avals(self) -> list[ShapedArray]:
        return [v.aval for v in self.jaxpr.invars]

    @property
    def out_avals(self) -> list[ShapedArray]:
        return [v.aval for v in self.jaxpr.outvars]

    def __str__(self) -> str:
        return pp_jaxpr(self.jaxpr)

    __repr__ = __str__


def has_effect(eqn: Eqn) -> bool:
    """The equation has a side effect (``debug.print``): its primitive's, or one of an
    equation inside a body it holds (a loop or a branch), so that dropping it or merging
    it with another loses a print, even where none of its results is used."""
    if eqn.prim.effectful:
        return True
    for value in eqn.params.values():
        if isinstance(value, ClosedJaxpr):
            value = value.jaxpr
        bodies = value if isinstance(value, tuple) else (value,)
        for body in bodies:
            if isinstance(body, Jaxpr) and any(has_effect(e) for e in body.eqns):
                return True
    return False


def without_effects(jaxpr: Jaxpr) -> Jaxpr:
    """``jaxpr`` with its prints (effects without results) removed, those of the bodies
    it holds included: the tangent or backward loop of a control-flow rule runs the
    body again, after the primal loop has printed."""
    if not any(has_effect(e) for e in jaxpr.eqns):
        return jaxpr
    eqns = []
    for eqn in jaxpr.eqns:
        if eqn.prim.effectful and not eqn.outvars:
            continue
        if has_effect(eqn):
            eqn = Eqn(eqn.prim, eqn.invars, eqn.outvars,
                      {k: _without_effects_param(v) for k, v in eqn.params.items()})
        eqns.append(eqn)
    return Jaxpr(jaxpr.constvars, jaxpr.invars, eqns, jaxpr.outvars)


def _without_effects_param(value: Any) -> Any:
    if isinstance(value, Jaxpr):
        return without_effects(value)
    if isinstance(value, ClosedJaxpr):
        return ClosedJaxpr(without_effects(value.jaxpr), value.consts)
    if isinstance(value, tuple) and value and all(isinstance(v, Jaxpr) for v in value):
        return tuple(without_effects(v) for v in value)
    return value


def live_vars(eqns: Sequence[Eqn], roots: Sequence[Atom], effects: bool = True
              ) -> tuple[set[Var], list[Eqn]]:
    """The variables that the results ``roots`` (and, with ``effects``, the equations
    with an effect) read, and the equations among ``eqns`` that compute them (or have
    an effect), in order."""
    live = {v for v in roots if isinstance(v, Var)}
    kept: list[Eqn] = []
    for eqn in reversed(eqns):
        if any(v in live for v in eqn.outvars) or (effects and has_effect(eqn)):
            kept.append(eqn)
            live.update(a for a in eqn.invars if isinstance(a, Var))
    kept.reverse()
    return live, kept


# ----------------------------------------------------------------------------
# pretty printing


def _names() -> Iterator[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    n = 0
    while True:
        q, r = divmod(n, 26)
        yield letters[r] * (q + 1) if q < 3 else f"{letters[r]}{q}"
        n += 1


def _fmt_param(v: Any) -> str:
    if isinstance(v, np.dtype):
        return _DTYPE_SHORT.get(v.name, v.name)
    if isinstance(v, Jaxpr):
        return pp_jaxpr(v).replace("\n", "\n      ")
    if isinstance(v, ClosedJaxpr):
        return _fmt_param(v.jaxpr)
    if isinstance(v, tuple) and v and all(isinstance(x, (Jaxpr, ClosedJaxpr)) for x in v):
        return "(" + ", ".join(_fmt_param(x) for x in v) + ")"
    return repr(v)


def pp_jaxpr(jaxpr: Jaxpr) -> str:
    """Render a jaxpr in the style ``{ lambda c ; a:f64[3]. let ... in (b,) }``."""
    gen = _names()
    names: dict[int, str] = {}

    def name(v: Atom) -> str:
        if isinstance(v, Literal):
            val = v.val
            return repr(val.item() if isinstance(val, np.generic) else val)
        key = id(v)
        if key not in names:
            names[key] = next(gen)
        return names[key]

    def typed(v: Var) -> str:
        return f"{name(v)}:{v.aval.str_short()}"

    consts = " ".join(typed(v) for v in jaxpr.constvars)
    ins = " ".join(typed(v) for v in jaxpr.invars)
    lines = []
    for eqn in jaxpr.eqns:
        lhs = " ".join(typed(v) for v in eqn.outvars)
        params = ""
        if eqn.params:
            params = "[" + ", ".join(f"{k}={_fmt_param(p)}" for k, p in eqn.params.items()) + "]"
        rhs = " ".join(name(v) for v in eqn.invars)
        lines.append(f"    {lhs} = {eqn.prim.name}{params} {rhs}".rstrip())
    outs = ", ".join(name(v) for v in jaxpr.outvars)
    outs = f"({outs},)" if len(jaxpr.outvars) == 1 else f"({outs})"
    head = f"{{ lambda {consts}{' ' if consts else ''}; {ins}. let"
    if not lines:
        return f"{head} in {outs} }}"
    return head + "\n" + "\n".join(lines) + f"\n  in {outs} }}"
