"""Loop rerolling: a Python loop that tracing unrolled becomes a ``scan`` again.

``for _ in range(1000): y = sin(y) * a + c`` traces to 3,000 equations in a row, and
its gradient to as many again, walked backwards. XLA compiles such straight-line
programs slowly (its compile time grows faster than the program) and runs them
slower than the same loop as a ``while`` (``lax.fori_loop``: 0.07x of NumPy where the
unrolled chain ran at 0.25x). This pass finds the runs of identical blocks and
writes each as one ``scan`` whose body is the block.

A run is a stretch of ``R`` consecutive blocks of ``p`` equations with the same
primitives, parameters and types, in which every input of block ``j`` is one of

- a literal, or a value block ``j`` made itself (the same position in every block);
- a value block ``j - 1`` made (a **carry**; block 0 reads the carry's initial value);
- one outer value, the same in every block (a **constant** of the body);
- the row ``k0 + s*j`` of an outer array, ``s`` being +1 or -1 (a slice of the
  scan's ``xs``; -1 makes a reversed scan). A row is a ``getitem`` of one integer,
  inside the block or before it: the user's ``xs[t]``, or a row of what an earlier
  rerolled scan stacked. The backward half of a gradient reads the forward values
  in reverse order this way.

Values of the run that the rest of the program reads come out of the scan: the last
block's carries as its carries, the others stacked (a carry's value at block ``j`` as
the carry *entering* block ``j + 1``, so that its initial value is row 0 of the
same stack) and read back by ``getitem`` rows, which a later rerolled run takes as
its ``xs`` and dead-code elimination then drops. Each new body is rerolled in turn,
so nested Python loops become nested scans; blocks holding loops of their own match
when the loops' bodies are equal in structure.

Only ``jit(backend="xla")`` and ``xform.export.to_jax`` reroll: the NumPy backend runs
straight-line code faster than a loop of the same steps (no per-step dispatch).
"""
from __future__ import annotations

from typing import Any, Hashable, Sequence, cast

from ..core.ir import Atom, ClosedJaxpr, Eqn, Jaxpr, Literal, ShapedArray, Var
from .passes import _atom_key, _freeze, dce

MIN_REPS = 4  # fewer repetitions are not worth a loop's fixed cost
MIN_EQNS = 24  # nor fewer equations in all
_MOD = (1 << 61) - 1
_BASE = 1_000_003
_CANDIDATES = 24  # block lengths tried at each position (the next occurrences of its kind)


# ---------------------------------------------------------------------------- keys
class _Keys:
    """Hashable kinds of equations: two equations of one kind differ only in which
    variables they read and write (and, for a row ``getitem``, in the row)."""

    def __init__(self, min_reps: int = MIN_REPS, min_eqns: int = MIN_EQNS) -> None:
        self.min_reps, self.min_eqns = min_reps, min_eqns  # for the bodies too
        self.ids: dict[Hashable, int] = {}
        self.bodies: dict[int, Hashable] = {}  # id(jaxpr) -> structure key
        self._alive: list[Jaxpr] = []  # keeps ids in `bodies` from being reused

    def kind(self, eqn: Eqn) -> int:
        try:
            params = ("row",) if _row(eqn) is not None else self._freeze(eqn.params)
            key: Hashable = (eqn.prim, params,
                             tuple((a.aval, _atom_key(a)) if isinstance(a, Literal)
                                   else a.aval for a in eqn.invars),
                             tuple(v.aval for v in eqn.outvars))
            hash(key)
        except TypeError:  # parameters that cannot be compared: a kind of its own
            key = ("unique", id(eqn))
        return self.ids.setdefault(key, len(self.ids))

    def _freeze(self, params: dict[str, Any]) -> Hashable:
        return _freeze(params, self._body_key)

    def _body_key(self, jaxpr: Jaxpr | ClosedJaxpr) -> Hashable:
        # a body is compared by structure (each rolled loop has a body of its own);
        # a closed one, holding constants, by identity
        return ("jaxpr", self.structure(jaxpr) if isinstance(jaxpr, Jaxpr) else id(jaxpr))

    def structure(self, jaxpr: Jaxpr) -> Hashable:
        """A key equal for two bodies that compute the same thing the same way."""
        key = self.bodies.get(id(jaxpr))
        if key is not None:
            return key
        where: dict[Var, tuple[int, int]] = {v: (-1, k) for k, v in enumerate(jaxpr.invars)}

        def ref(a: Atom) -> Hashable:
            return _atom_key(a) if isinstance(a, Literal) else where[a]

        parts: list[Hashable] = [tuple(v.aval for v in jaxpr.invars)]
        for t, eqn in enumerate(jaxpr.eqns):
            parts.append((eqn.prim, self._freeze(eqn.params),
                          tuple(ref(a) for a in eqn.invars),
                          tuple(v.aval for v in eqn.outvars)))
            for k, v in enumerate(eqn.outvars):
                where[v] = (t, k)
        parts.append(tuple(ref(a) for a in jaxpr.outvars))
        key = tuple(parts)
        self.bodies[id(jaxpr)] = key
        self._alive.append(jaxpr)
        return key


def _row(eqn: Eqn) -> int | None:
    """``k`` if ``eqn`` reads row ``k`` of an array (``x[k]``, one integer), else None."""
    if eqn.prim.name != "getitem" or len(eqn.invars) != 1:
        return None
    idx, x = eqn.params.get("idx"), eqn.invars[0]
    if (not isinstance(x, Var) or not isinstance(idx, tuple) or len(idx) != 1
            or type(idx[0]) is not int or not x.aval.shape):
        return None
    k, n = idx[0], x.aval.shape[0]
    return k + n if k < 0 else k


# ---------------------------------------------------------------------------- runs
class _Hashes:
    """Polynomial hashes of windows of the kinds: two windows compare in O(1)."""

    def __init__(self, kinds: Sequence[int]) -> None:
        prefix, power = [0], [1]
        for k in kinds:
            prefix.append((prefix[-1] * _BASE + k + 1) % _MOD)
            power.append(power[-1] * _BASE % _MOD)
        self.prefix, self.power = prefix, power

    def window(self, start: int, length: int) -> int:
        p = self.prefix
        return (p[start + length] - p[start] * self.power[length]) % _MOD


def _repeats(h: _Hashes, start: int, p: int, n: int) -> int:
    """How many blocks of length ``p`` from ``start`` on hash alike."""
    first, reps = h.window(start, p), 1
    while start + (reps + 1) * p <= n and h.window(start + reps * p, p) == first:
        reps += 1
    return reps


class _Run:
    """What each input of a block reads, for blocks ``0 .. reps-1`` of a run (see the
    module docstring); ``reps`` is cut at the first block that reads otherwise."""

    def __init__(self, eqns: Sequence[Eqn], kinds: Sequence[int], start: int, p: int,
                 reps: int, rows: dict[Var, tuple[Var, int]]) -> None:
        self.start, self.p = start, p
        self.blocks = [eqns[start + j * p: start + (j + 1) * p] for j in range(reps)]
        self.rows = rows
        self.reads: list[list[tuple[Any, ...]]] = []  # per equation: one class per input
        self.row_of: dict[int, tuple[Var, int, int]] = {}  # row equations: (array, k0, s)
        self.init: dict[tuple[int, int], Atom] = {}
        self.step = 0  # +1 or -1 where rows are read, else 0
        self.reps = self._classify(kinds) if reps >= 2 else reps

    def _row_step(self, a0: tuple[Var, int] | None, a1: tuple[Var, int] | None) -> int:
        if a0 is None or a1 is None or a0[0] is not a1[0] or abs(a1[1] - a0[1]) != 1:
            return 0
        s = a1[1] - a0[1]
        if self.step and s != self.step:
            return 0
        self.step = s
        return s

    def _classify(self, kinds: Sequence[int]) -> int:
        b0, b1 = self.blocks[0], self.blocks[1]
        w0 = {v: (q, k) for q, eqn in enumerate(b0) for k, v in enumerate(eqn.outvars)}
        for q, (e0, e1) in enumerate(zip(b0, b1)):
            k0 = _row(e0)
            if k0 is not None:
                x = e0.invars[0]
                k1 = _row(e1)
                assert isinstance(x, Var) and k1 is not None
                s = self._row_step((x, k0), (e1.invars[0], k1))  # type: ignore[arg-type]
                if not s or x in w0:
                    return 1
                self.row_of[q] = (x, k0, s)
                self.reads.append([])
                continue
            reads: list[tuple[Any, ...]] = []
            for a0, a1 in zip(e0.invars, e1.invars):
                if isinstance(a0, Literal):
                    reads.append(("lit",))
                elif a0 in w0:
                    reads.append(("local", w0[a0]))
                elif isinstance(a1, Var) and a1 in w0:
                    qk = w0[a1]
                    if qk[0] in self.row_of or self.init.setdefault(qk, a0) is not a0:
                        return 1
                    reads.append(("carry", qk))
                elif a1 is a0:
                    reads.append(("const", a0))
                else:
                    r0 = self.rows.get(a0)
                    if not self._row_step(r0, self.rows.get(a1)):  # type: ignore[arg-type]
                        return 1
                    assert r0 is not None
                    reads.append(("xs", r0[0], r0[1]))
            self.reads.append(reads)
        base = kinds[self.start: self.start + self.p]
        for j in range(1, len(self.blocks)):
            at = self.start + j * self.p
            if list(kinds[at: at + self.p]) != list(base) or not self._block_reads_alike(j):
                return j
        return len(self.blocks)

    def _block_reads_alike(self, j: int) -> bool:
        now, before = self._var_at(j), self._var_at(j - 1)
        for q, eqn in enumerate(self.blocks[j]):
            if q in self.row_of:
                x, k0, s = self.row_of[q]
                if eqn.invars[0] is not x or _row(eqn) != k0 + s * j:
                    return False
                continue
            for a, read in zip(eqn.invars, self.reads[q]):
                tag = read[0]
                if tag == "lit":
                    continue
                if tag == "local":
                    ok = a is now(read[1])
                elif tag == "carry":
                    ok = a is before(read[1])
                elif tag == "const":
                    ok = a is read[1]
                else:
                    ok = self.rows.get(a) == (read[1], read[2] + self.step * j)  # type: ignore[arg-type]
                if not ok:
                    return False
        return True

    def _var_at(self, j: int) -> Any:
        blocks = self.blocks
        return lambda qk: blocks[j][qk[0]].outvars[qk[1]]


# ---------------------------------------------------------------------------- rewrite
def _rolled(run: _Run, used_after: set[Var], rows: dict[Var, tuple[Var, int]],
            keys: _Keys) -> list[Eqn]:
    """The equations that replace the run: rows read before the loop (where the rest
    of the program reads them too), slices of the ``xs``, the ``scan``, and the rows of
    its stacked results that the rest of the program reads."""
    from ..lax._control import scan_p
    from ..numpy._indexing import getitem_p

    R, blocks = run.reps, run.blocks[:run.reps]
    reverse = run.step == -1

    def pos(j: int) -> int:  # the scan step that runs block j
        return R - 1 - j if reverse else j

    before: list[Eqn] = []
    consts: dict[Var, Var] = {}
    xs: dict[tuple[Var, int], Var] = {}  # (array, k0) -> body input

    def xs_input(x: Var, k0: int, aval: ShapedArray) -> Var:
        return xs.setdefault((x, k0), Var(aval))

    carries = sorted({r[1] for reads in run.reads for r in reads if r[0] == "carry"})
    first = blocks[0]
    carry_in = {qk: Var(first[qk[0]].outvars[qk[1]].aval) for qk in carries}
    inner: dict[Var, Atom] = {}
    body_eqns: list[Eqn] = []
    for q, eqn in enumerate(first):
        if q in run.row_of:
            x, k0, _ = run.row_of[q]
            inner[eqn.outvars[0]] = xs_input(x, k0, eqn.outvars[0].aval)
            for b in blocks:  # rows the rest of the program reads too
                if b[q].outvars[0] in used_after:
                    before.append(b[q])
                    rows[b[q].outvars[0]] = (x, cast(int, _row(b[q])))
            continue
        ins: list[Atom] = []
        for a, read in zip(eqn.invars, run.reads[q]):
            tag = read[0]
            if tag == "lit":
                ins.append(a)
            elif tag == "local":
                ins.append(inner[first[read[1][0]].outvars[read[1][1]]])
            elif tag == "carry":
                ins.append(carry_in[read[1]])
            elif tag == "const":
                ins.append(consts.setdefault(read[1], Var(read[1].aval)))
            else:
                ins.append(xs_input(read[1], read[2], a.aval))
        outs = [Var(v.aval) for v in eqn.outvars]
        inner.update(zip(eqn.outvars, outs))
        body_eqns.append(Eqn(eqn.prim, ins, outs, eqn.params))

    # what the rest of the program reads: a carry's values enter the next block, so
    # they are the stack of the carry entering each step, whose row pos(0) is the
    # carry's initial value (noted for later runs, which may read it as a row too)
    stacked: list[tuple[Var, list[tuple[Var, int]], Atom | None]] = []
    for qk in carries:
        wanted = [(blocks[j][qk[0]].outvars[qk[1]], pos(j + 1)) for j in range(R - 1)]
        wanted = [(v, k) for v, k in wanted if v in used_after]
        if wanted:
            stacked.append((carry_in[qk], wanted, run.init[qk]))
    for q, eqn in enumerate(first):
        if q in run.row_of:
            continue
        for k, v in enumerate(eqn.outvars):
            if (q, k) in carry_in:
                continue
            wanted = [(b[q].outvars[k], pos(j)) for j, b in enumerate(blocks)]
            wanted = [(w, r) for w, r in wanted if w in used_after]
            if wanted:
                stacked.append((cast(Var, inner[v]), wanted, None))

    body = Jaxpr([], [*consts.values(), *carry_in.values(), *xs.values()], body_eqns,
                 [inner[first[q].outvars[k]] for q, k in carries]
                 + [value for value, _, _ in stacked])
    body = dce(ClosedJaxpr(reroll_jaxpr(body, keys), [])).jaxpr

    xs_arrays: list[Var] = []
    for x, k0 in xs:
        lo = k0 - (R - 1) if reverse else k0
        if lo == 0 and R == x.aval.shape[0]:
            xs_arrays.append(x)
            continue
        part = Var(ShapedArray((R,) + x.aval.shape[1:], x.aval.dtype))
        before.append(Eqn(getitem_p, [x], [part], {"idx": (slice(lo, lo + R, None),)}))
        xs_arrays.append(part)
    last = blocks[-1]
    carry_out = [last[q].outvars[k] for q, k in carries]
    carry_out = [v if v in used_after else Var(v.aval) for v in carry_out]
    stacks: list[Var] = []
    after: list[Eqn] = []
    for value, wanted, init in stacked:
        stack = Var(ShapedArray((R,) + value.aval.shape, value.aval.dtype))
        stacks.append(stack)
        for v, k in wanted:
            rows[v] = (stack, k)
            after.append(Eqn(getitem_p, [stack], [v], {"idx": (k,)}))
        if isinstance(init, Var):
            rows[init] = (stack, pos(0))
    scan = Eqn(scan_p, [*consts, *[run.init[qk] for qk in carries], *xs_arrays],
               carry_out + stacks,
               {"body": body, "n_consts": len(consts), "n_carry": len(carries),
                "length": R, "reverse": reverse})
    return before + [scan] + after


def reroll_jaxpr(jaxpr: Jaxpr, keys: _Keys | None = None, min_reps: int = MIN_REPS,
                 min_eqns: int = MIN_EQNS) -> Jaxpr:
    """``jaxpr`` with each run of repeated blocks written as a ``scan`` (the values
    that rolling left unread are still there: run ``dce`` after)."""
    keys = keys or _Keys(min_reps, min_eqns)
    min_reps, min_eqns = keys.min_reps, keys.min_eqns
    eqns = jaxpr.eqns
    n = len(eqns)
    if n < min_eqns:
        return jaxpr
    kinds = [keys.kind(e) for e in eqns]
    hashes = _Hashes(kinds)
    following: list[int] = [n] * n  # the next equation of the same kind
    seen: dict[int, int] = {}
    for t in range(n - 1, -1, -1):
        following[t] = seen.get(kinds[t], n)
        seen[kinds[t]] = t
    last_read: dict[Var, int] = {}
    for t, eqn in enumerate(eqns):
        for a in eqn.invars:
            if isinstance(a, Var):
                last_read[a] = t
    for a in jaxpr.outvars:
        if isinstance(a, Var):
            last_read[a] = n
    rows: dict[Var, tuple[Var, int]] = {}
    out: list[Eqn] = []
    changed = False
    t = 0
    while t < n:
        eqn = eqns[t]
        k = _row(eqn)
        if k is not None:
            rows[eqn.outvars[0]] = (eqn.invars[0], k)  # type: ignore[assignment]
        best, best_p, tries, u = 0, 0, 0, following[t]
        while u < n and tries < _CANDIDATES and (u - t) * min_reps <= n - t:
            p = u - t
            reps = _repeats(hashes, t, p, n)
            if reps >= min_reps and reps * p > best * best_p:
                best, best_p = reps, p
            u, tries = following[u], tries + 1
        if best and best * best_p >= min_eqns:
            run = _Run(eqns, kinds, t, best_p, best, rows)
            if run.reps >= min_reps and run.reps * best_p >= min_eqns:
                end = t + run.reps * best_p
                used_after = {v for b in run.blocks[:run.reps] for e in b for v in e.outvars
                              if last_read.get(v, -1) >= end}
                out.extend(_rolled(run, used_after, rows, keys))
                changed = True
                t = end
                continue
        out.append(eqn)
        t += 1
    if not changed:
        return jaxpr
    return Jaxpr(jaxpr.constvars, jaxpr.invars, out, jaxpr.outvars)


def reroll(closed: ClosedJaxpr, min_reps: int = MIN_REPS, min_eqns: int = MIN_EQNS
           ) -> ClosedJaxpr:
    """``closed`` with the runs of repeated blocks that unrolled Python loops left
    written as ``scan`` loops (nested loops as nested scans); results unchanged.

    >>> import numpy, xform, xform.numpy as np
    >>> from xform.jit.reroll import reroll
    >>> def f(y):
    ...     for _ in range(100):
    ...         y = np.sin(y) * 0.9 + 0.1
    ...     return y
    >>> closed = xform.jit(f).lower(numpy.ones(3)).optimized
    >>> len(closed.eqns), [e.prim.name for e in reroll(closed).eqns]
    (300, ['scan'])
    """
    jaxpr = reroll_jaxpr(closed.jaxpr, None, min_reps, min_eqns)
    if jaxpr is closed.jaxpr:
        return closed
    return dce(ClosedJaxpr(jaxpr, closed.consts))
