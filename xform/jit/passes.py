"""IR passes: dead-code elimination, common-subexpression elimination, constant
folding and algebraic simplification, and the same passes applied to the bodies of
control flow (loop bodies, branches). Each takes and returns a ``ClosedJaxpr`` and
preserves results (the tests check every pass on its own)."""
from __future__ import annotations

import math
from typing import Any, Callable, Hashable, cast

import numpy as np

from ..core.ir import Atom, ClosedJaxpr, Eqn, Jaxpr, Literal, Var, has_effect
from ..core.primitive import Primitive
from ..core.trace import Tracer

Pass = Callable[[ClosedJaxpr], ClosedJaxpr]


def _substitute(atom: Atom, env: dict[Var, Atom]) -> Atom:
    while isinstance(atom, Var) and atom in env:
        atom = env[atom]
    return atom


def _rebuild(closed: ClosedJaxpr, eqns: list[Eqn], env: dict[Var, Atom],
             constvars: list[Var] | None = None, consts: list[Any] | None = None) -> ClosedJaxpr:
    j = closed.jaxpr
    outvars = [_substitute(v, env) for v in j.outvars]
    jaxpr = Jaxpr(j.constvars if constvars is None else constvars, j.invars, eqns, outvars)
    return ClosedJaxpr(jaxpr, closed.consts if consts is None else consts)


# ---------------------------------------------------------------------------- DCE
def dce(closed: ClosedJaxpr) -> ClosedJaxpr:
    """Drop equations whose results are never used, unless they have an effect, and
    shrink those with several results to the ones used where the primitive says how
    (``prune``: a loop loses the carries nothing reads and stores a result once)."""
    j = closed.jaxpr
    live = {v for v in j.outvars if isinstance(v, Var)}
    kept: list[Eqn] = []
    alias: dict[Var, Atom] = {}  # a result dropped as a duplicate: the one kept
    for eqn in reversed(j.eqns):
        if not any(v in live for v in eqn.outvars) and not has_effect(eqn):
            continue
        if eqn.prim.prune is not None:
            eqn = _pruned(eqn, [v in live for v in eqn.outvars], alias)
        kept.append(eqn)
        live.update(v for v in eqn.invars if isinstance(v, Var))
    kept.reverse()
    used = [(v, c) for v, c in zip(j.constvars, closed.consts) if v in live]
    outvars = j.outvars
    if alias:
        kept = [Eqn(e.prim, [_substitute(a, alias) for a in e.invars], e.outvars, e.params)
                for e in kept]
        outvars = [_substitute(a, alias) for a in outvars]
    return ClosedJaxpr(Jaxpr([v for v, _ in used], j.invars, kept, outvars),
                       [c for _, c in used])


def _pruned(eqn: Eqn, used: list[bool], alias: dict[Var, Atom]) -> Eqn:
    """``eqn`` shrunk by its primitive's ``prune`` fact to the ``used`` results, noting
    in ``alias`` each result that another, equal one now stands for."""
    shrunk = eqn.prim.prune(used, eqn.params)
    if shrunk is None:
        return eqn
    kept, params, where = shrunk
    outvars: list[Var | None] = [None] * (max(where) + 1 if where else 0)
    for old, k in zip(eqn.outvars, where):
        if k < 0:
            continue
        if outvars[k] is None:
            outvars[k] = old
        else:
            alias[old] = cast(Var, outvars[k])
    return Eqn(eqn.prim, [eqn.invars[i] for i in kept], cast(list[Var], outvars), params)


# ---------------------------------------------------------------------------- CSE
def _by_identity(jaxpr: Jaxpr | ClosedJaxpr) -> Hashable:
    return ("jaxpr", id(jaxpr))


def _freeze(x: Any, jaxpr_key: Callable[[Any], Hashable] = _by_identity) -> Hashable:
    """A hashable stand-in for a parameter value (raises TypeError if impossible);
    sub-jaxprs stand for themselves by identity unless ``jaxpr_key`` says otherwise."""
    if isinstance(x, (Jaxpr, ClosedJaxpr)):
        return jaxpr_key(x)
    if isinstance(x, slice):
        return ("slice", x.start, x.stop, x.step)
    if isinstance(x, (tuple, list)):
        return (type(x).__name__,) + tuple(_freeze(e, jaxpr_key) for e in x)
    if isinstance(x, dict):
        return tuple(sorted((k, _freeze(v, jaxpr_key)) for k, v in x.items()))
    if isinstance(x, np.ndarray):
        raise TypeError("arrays in params are not compared")
    if isinstance(x, (float, complex, np.inexact)):
        return _number_key(x)
    hash(x)
    return (type(x).__name__, x)


def _number_key(v: Any) -> Hashable:
    """A key equal for two scalars exactly when one may stand for the other: same type
    (so dtype: 1 and 1.0, float32 and float64 differ), same bits up to NaN payloads
    (0.0 and -0.0 differ; every NaN equals every NaN, unlike under ``==``)."""
    kind = type(v).__name__
    if isinstance(v, (complex, np.complexfloating)):
        c = complex(v)
        return (kind, _float_bits(c.real), _float_bits(c.imag))
    if isinstance(v, (float, np.floating)):
        return (kind, _float_bits(float(v)) if not isinstance(v, np.longdouble) else repr(v))
    return (kind, v.item() if isinstance(v, np.generic) else v)


def _float_bits(f: float) -> str:
    return "nan" if f != f else f.hex()  # hex tells -0.0 from 0.0; NaNs compare unequal


def _atom_key(a: Atom) -> Hashable:
    if isinstance(a, Literal):
        return ("lit", _number_key(a.val))
    return a


def cse(closed: ClosedJaxpr) -> ClosedJaxpr:
    """Reuse the result of an equation already computed with the same operands."""
    env: dict[Var, Atom] = {}
    seen: dict[Hashable, list[Var]] = {}
    eqns: list[Eqn] = []
    for eqn in closed.jaxpr.eqns:
        invars = [_substitute(a, env) for a in eqn.invars]
        if has_effect(eqn):  # two prints of one value are two prints
            eqns.append(Eqn(eqn.prim, invars, eqn.outvars, eqn.params))
            continue
        try:
            key = (eqn.prim, tuple(_atom_key(a) for a in invars),
                   _freeze(eqn.params) if eqn.params else ())
            hash(key)
        except TypeError:
            key = None
        if key is not None and key in seen:
            for old, new in zip(eqn.outvars, seen[key]):
                env[old] = new
            continue
        if key is not None:
            seen[key] = eqn.outvars
        eqns.append(Eqn(eqn.prim, invars, eqn.outvars, eqn.params))
    return _rebuild(closed, eqns, env)


# ---------------------------------------------------------------------------- folding
def fold_constants(closed: ClosedJaxpr) -> ClosedJaxpr:
    """Evaluate, once, the equations whose operands are all known constants."""
    j = closed.jaxpr
    known: dict[Var, Any] = {v: c for v, c in zip(j.constvars, closed.consts)
                             if not isinstance(c, Tracer)}
    env: dict[Var, Atom] = {}
    new_constvars = list(j.constvars)
    new_consts = list(closed.consts)
    eqns: list[Eqn] = []
    for eqn in j.eqns:
        invars = [_substitute(a, env) for a in eqn.invars]
        if eqn.prim.multiple_results or not all(
                isinstance(a, Literal) or a in known for a in invars):
            eqns.append(Eqn(eqn.prim, invars, eqn.outvars, eqn.params))
            continue
        vals = [a.val if isinstance(a, Literal) else known[a] for a in invars]
        with np.errstate(all="ignore"):
            value = eqn.prim.impl(*vals, **eqn.params)
        out = eqn.outvars[0]
        if np.ndim(value) == 0 and not isinstance(value, np.ndarray):
            env[out] = Literal(value)
        else:
            known[out] = value
            new_constvars.append(out)
            new_consts.append(value)
    return _rebuild(closed, eqns, env, new_constvars, new_consts)


# ---------------------------------------------------------------------------- simplification
def _is_literal(a: Atom, value: float, consts: dict[Var, Any]) -> bool:
    """``a`` is the constant ``value``: a scalar literal, or a constant array filled with
    it (a gradient's seed often arrives as an array of ones, the cotangent of a sum)."""
    if isinstance(a, Literal):
        v = a.val
        if type(v) is float:  # the common literal, decided without NumPy
            return v == value and (value != 0 or math.copysign(1.0, v) == math.copysign(
                1.0, value))
        return np.ndim(v) == 0 and _equals_exactly(np.asarray(v), value)
    c = consts.get(a)
    return isinstance(c, np.ndarray) and c.size <= 1 << 16 and _equals_exactly(c, value)


def _equals_exactly(c: np.ndarray, value: float) -> bool:
    """Every element of ``c`` is ``value``, the sign of a floating zero included: ``x +
    (-0.0)`` is ``x`` for every ``x``, but ``x + 0.0`` turns ``-0.0`` into ``0.0``."""
    if not bool(np.all(c == value)):
        return False
    if value != 0:
        return True
    # (an integer 0 counts as +0.0: added to a float -0.0 it gives +0.0)
    sign = bool(np.signbit(value))
    parts = (c.real, c.imag) if np.iscomplexobj(c) else (c,)
    return all(bool(np.all(np.signbit(p) == sign)) for p in parts)


def _same_type(a: Atom, out: Var) -> bool:
    return a.aval.shape == out.aval.shape and a.aval.dtype == out.aval.dtype


def _identity_operand(prim: Primitive, invars: list[Atom], params: dict[str, Any], out: Var,
                      consts: dict[Var, Any]) -> Atom | None:
    """The operand an equation merely passes through, if it does (``x * 1``, ...):
    the first of the primitive's ``identities`` that holds and keeps the result's type."""
    for fact in prim.identities:
        if fact.if_operand is not None and not _is_literal(invars[fact.if_operand],
                                                           fact.equals, consts):
            continue
        if fact.when is not None and not fact.when(params):
            continue
        if _same_type(invars[fact.operand], out):
            return invars[fact.operand]
    return None


def _fold_negation(prim: Primitive, invars: list[Atom], out: Var,
                   producer: dict[Var, Eqn]) -> tuple[Primitive, list[Atom]] | None:
    """``prim`` with a negated operand folded in, as a primitive and its operands (the
    negation is left for DCE, or for its other users); None where none applies."""
    for fold in prim.negation_folds:
        operand = invars[fold.operand]
        src = producer.get(operand) if isinstance(operand, Var) else None
        if src is None or not src.prim.is_negation:
            continue
        y = src.invars[0]
        if isinstance(y, Literal) or y.aval != operand.aval:
            continue
        new = [invars[1 - fold.operand], y]
        if out.aval.shape == np.broadcast_shapes(*(a.aval.shape for a in new)):
            return fold.into, new
    return None


def simplify(closed: ClosedJaxpr) -> ClosedJaxpr:
    """Algebraic simplifications, from the primitives' facts: drop equations that
    pass an operand through (``x*1``, ``x+0``, identity reshapes/transposes/casts...),
    fuse chains of one primitive (transpose of a transpose, reshape of a reshape),
    fold negations into additions (``x + (-y)`` is ``x - y``), sharpen parameters
    from the operands' producers (``refine``: index checks a modulo makes needless),
    and drop a broadcast whose consumers broadcast anyway."""
    j = closed.jaxpr
    producer: dict[Var, Eqn] = {}
    env: dict[Var, Atom] = {}
    eqns: list[Eqn] = []
    consts = {v: c for v, c in zip(j.constvars, closed.consts) if isinstance(c, np.ndarray)}
    for eqn in j.eqns:
        invars = [_substitute(a, env) for a in eqn.invars]
        params = eqn.params
        prim = eqn.prim
        if not prim.multiple_results:
            out = eqn.outvars[0]
            same = _identity_operand(prim, invars, params, out, consts)
            if same is None and prim.fuse is not None and isinstance(invars[0], Var):
                src = producer.get(invars[0])
                if src is not None and src.prim is prim:
                    params = prim.fuse(src.params, params)
                    invars = [src.invars[0]] + invars[1:]
                    same = _identity_operand(prim, invars, params, out, consts)
            if same is not None:
                env[out] = same
                continue
            folded = _fold_negation(prim, invars, out, producer)
            if folded is not None:
                prim, invars = folded
            if prim.refine is not None:
                params = prim.refine(invars, params, producer) or params
        new = Eqn(prim, invars, eqn.outvars, params)
        for v in eqn.outvars:
            producer[v] = new
        eqns.append(new)
    return _drop_redundant_broadcasts(_rebuild(closed, eqns, env))


def _drop_redundant_broadcasts(closed: ClosedJaxpr) -> ClosedJaxpr:
    """A broadcast (``is_broadcast``) feeding only broadcasting elementwise ops, each of
    which has another operand of the full shape, can be replaced by its operand."""
    j = closed.jaxpr
    uses: dict[Var, list[Eqn]] = {}
    for eqn in j.eqns:
        for a in eqn.invars:
            if isinstance(a, Var):
                uses.setdefault(a, []).append(eqn)
    out_set = {v for v in j.outvars if isinstance(v, Var)}
    env: dict[Var, Atom] = {}
    for eqn in j.eqns:
        if not eqn.prim.is_broadcast or eqn.outvars[0] in out_set:
            continue
        out = eqn.outvars[0]
        consumers = uses.get(out, [])

        def covered(c: Eqn) -> bool:
            return c.prim.broadcasting and any(
                a is not out and a.aval.shape == out.aval.shape for a in c.invars
                if not isinstance(a, Literal))
        if consumers and all(covered(c) for c in consumers):
            env[out] = eqn.invars[0]
    if not env:
        return closed
    eqns = [Eqn(e.prim, [_substitute(a, env) for a in e.invars], e.outvars, e.params)
            for e in j.eqns]
    return dce(_rebuild(closed, eqns, env))


# ---------------------------------------------------------------------------- sub-jaxprs
# A body takes its constants as inputs and has none of its own; folding would give it
# some (arrays computed from literals), so bodies get the passes that keep it that way.
BODY_PASSES: tuple[Pass, ...] = (simplify, cse, dce)


def _optimize_param(value: Any) -> Any:
    if isinstance(value, Jaxpr) and not value.constvars:
        return optimize(ClosedJaxpr(value, []), BODY_PASSES + (optimize_bodies,)).jaxpr
    if isinstance(value, tuple) and value and all(isinstance(v, Jaxpr) for v in value):
        return tuple(_optimize_param(v) for v in value)
    return value


def optimize_bodies(closed: ClosedJaxpr) -> ClosedJaxpr:
    """Optimise every sub-jaxpr held in an equation's parameters (loop bodies,
    conditions, branches), nested ones included, so the code generated for them is
    as lean as the code around them. Inputs and outputs of each body are kept."""
    eqns = []
    changed = False
    for eqn in closed.jaxpr.eqns:
        # (most equations hold no body: they are kept as they are, not copied)
        if eqn.params and any(isinstance(v, (Jaxpr, tuple)) for v in eqn.params.values()):
            params = {k: _optimize_param(v) for k, v in eqn.params.items()}
            if any(params[k] is not v for k, v in eqn.params.items()):
                changed = True
                eqn = Eqn(eqn.prim, eqn.invars, eqn.outvars, params)
        eqns.append(eqn)
    # a body's CSE may merge two of its results (a residual the reverse step stacked
    # twice): dead-code elimination prunes the loop again to store it once
    return dce(_rebuild(closed, eqns, {})) if changed else closed


DEFAULT_PASSES: tuple[Pass, ...] = (fold_constants, simplify, cse, dce, optimize_bodies)


def optimize(closed: ClosedJaxpr, passes: tuple[Pass, ...] = DEFAULT_PASSES) -> ClosedJaxpr:
    """Run the passes in order."""
    for p in passes:
        closed = p(closed)
    return closed
