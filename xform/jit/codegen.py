"""Turn an optimised jaxpr into the source of one Python function calling NumPy.

Every equation becomes one line, written by the primitive's ``emit`` fact (NumPy
operators, ufunc calls, ndarray methods: see ``xform/core/emit.py``); a primitive
without one is called through its implementation with its parameters bound ahead
of time. Control flow (``scan``, ``while``, ``cond``) emits statements through the
:class:`~xform.core.emit.Writer` it is given: its sub-jaxprs become code inside the
same function (a ``for``/``while`` loop or an ``if``), never an interpreter run.
Constants, literals and parameters reach the function through its namespace
(closure values), never as text in the source.
"""
from __future__ import annotations

import contextlib
import functools
import itertools
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from ..core.arrays import asarray_like
from ..core.emit import Bind
from ..core.frames import GENERATED_FILE, LINES_KEY
from ..core.ir import Atom, ClosedJaxpr, Eqn, Jaxpr, Literal, Var, has_effect


class Generated:
    """A compiled function with its source and namespace."""

    __slots__ = ("fn", "source")

    def __init__(self, fn: Callable[..., Any], source: str) -> None:
        self.fn = fn
        self.source = source


class _Writer:
    """The source being written: namespace, lines, indentation and fresh names
    (the :class:`~xform.core.emit.Writer` that emitters receive as ``bind``)."""

    def __init__(self, like: Any = None) -> None:
        self.like = like
        self.namespace: dict[str, Any] = {"_np": np}
        self.lines: list[str] = []
        self.depth = 1
        self._counter = itertools.count()
        self._bound: dict[int, str] = {}  # by id: the namespace keeps each value alive
        # for warnings raised by the generated code: the equation each line was written
        # for, by line number (line 1 is the ``def``), per function compiled
        self.eqn: Eqn | None = None
        self.line_eqns: list[Eqn | None] = [None, None]
        self.namespace[LINES_KEY] = {}
        self._step_lists: set[Var] = set()  # see stacks_as_list

    def stacks_as_list(self, var: Var) -> bool:
        """Whether ``var``, a loop's stacked output, may be a list of the steps' values
        (see :meth:`_note_step_lists`)."""
        return var in self._step_lists

    def _note_step_lists(self, eqns: Sequence[Eqn], keep: set[Var]) -> None:
        """Note the stacked outputs of ``scan`` equations that only later scans read,
        as per-step inputs (reverse mode's residuals): such a scan may keep each step's
        value in a list (one reference per step) instead of copying it into a stacked
        array that the reader slices again, when the program runs on NumPy arrays."""
        if self.like is not None:
            return
        readers: dict[Var, bool] = {}  # var -> read only as a scan's per-step input
        for eqn in eqns:
            first_x = (eqn.params["n_consts"] + eqn.params["n_carry"]
                       if eqn.prim.name == "scan" else len(eqn.invars))
            for k, a in enumerate(eqn.invars):
                if isinstance(a, Var):
                    readers[a] = readers.get(a, True) and k >= first_x
        for eqn in eqns:
            if eqn.prim.name == "scan":
                for v in eqn.outvars[eqn.params["n_carry"]:]:
                    if readers.get(v) and v not in keep:
                        self._step_lists.add(v)

    def __call__(self, value: Any) -> str:
        key = id(value)
        if key not in self._bound:
            self._bound[key] = f"_k{len(self._bound)}"
            self.namespace[self._bound[key]] = value
        return self._bound[key]

    def fresh(self) -> str:
        return f"v{next(self._counter)}"

    def line(self, text: str) -> None:
        self.lines.append("    " * self.depth + text)
        self.line_eqns.append(self.eqn)

    def compile(self, name: str, header: str) -> str:
        """Compile ``header`` (``def name(...):``) and :attr:`lines` into the namespace,
        keeping which equation each line came from; starts afresh. Returns the source."""
        source = header + "\n" + "\n".join(self.lines) + "\n"
        exec(compile(source, f"{GENERATED_FILE}{name}>", "exec"), self.namespace)  # noqa: S102
        self.namespace[LINES_KEY][name] = self.line_eqns
        self.lines, self.line_eqns = [], [None, None]
        return source

    @contextlib.contextmanager
    def indented(self) -> Iterator[None]:
        self.depth += 1
        try:
            yield
        finally:
            self.depth -= 1

    def block(self, jaxpr: Jaxpr, args: Sequence[str], invariant: Sequence[bool] = ()
              ) -> "_Block":
        return _Block(self, jaxpr, args, invariant)

    def read(self, atom: Atom, names: dict[Var, str]) -> str:
        return self(atom.val) if isinstance(atom, Literal) else names[atom]

    def equations(self, eqns: Sequence[Eqn], names: dict[Var, str], keep: set[Var],
                  owned: set[Var] | None = None) -> None:
        """Write ``eqns``, naming their results in ``names``. An intermediate defined
        here is freed after its last use here (as eager evaluation frees it: holding
        them all to the end raises peak memory and makes large allocations page-fault),
        unless it is in ``keep``: its name is given to a result of the same equation
        or of the next one, whose assignment releases the old value, so no ``del``
        lines are needed (they made up a third of the source, and compiling the
        source is most of a large program's compile time and memory). ``owned``
        values, defined before, are freed here too."""
        self._note_step_lists(eqns, keep)
        last_use: dict[Var, int] = {}
        for i, eqn in enumerate(eqns):
            for a in eqn.invars:
                if isinstance(a, Var):
                    last_use[a] = i
        local: set[Var] = set(owned or ())
        free: list[str] = []  # names of dead intermediates, to be bound again
        outer = self.eqn  # of the loop or branch whose body these are
        for i, eqn in enumerate(eqns):
            self.eqn = eqn  # its lines, and its body's statements, are its own
            args = [self.read(a, names) for a in eqn.invars]
            for a in eqn.invars:
                if (isinstance(a, Var) and a in local and last_use.get(a) == i
                        and a not in keep):
                    local.discard(a)  # once, however often the equation reads it
                    free.append(names[a])
            outs = []
            for v in eqn.outvars:
                # an emitter reads its operands before the result is bound, so a result
                # may take the name of an operand read here for the last time
                names[v] = free.pop() if free else self.fresh()
                outs.append(names[v])
                local.add(v)
            rhs = _emit(eqn, args, self)
            if outs:
                single = eqn.prim.multiple_results and len(outs) == 1
                self.line(f"{', '.join(outs)}{',' if single else ''} = {rhs}")
            else:
                self.line(rhs)
            for v in eqn.outvars:
                if v not in last_use and v not in keep:
                    local.discard(v)
                    free.append(names[v])
        self.eqn = outer
        if free:  # what the last equations freed: release it now, not at return
            self.line(f"del {', '.join(sorted(set(free)))}")


class _Block:
    """A sub-jaxpr split into its loop-invariant part and the rest (see ``emit.Block``)."""

    def __init__(self, writer: _Writer, jaxpr: Jaxpr, args: Sequence[str],
                 invariant: Sequence[bool]) -> None:
        if jaxpr.constvars:
            raise ValueError("jit codegen: a sub-jaxpr must take its constants as inputs")
        self.writer = writer
        self.jaxpr = jaxpr
        self.names: dict[Var, str] = dict(zip(jaxpr.invars, args))
        fixed = {v for v, inv in zip(jaxpr.invars, invariant) if inv}
        self.pre: list[Eqn] = []
        self.rest: list[Eqn] = []
        for eqn in jaxpr.eqns:
            # an effect (a print) runs on every step, even one that reads no carry
            if (fixed and all(not isinstance(a, Var) or a in fixed for a in eqn.invars)
                    and not has_effect(eqn)):
                self.pre.append(eqn)
                fixed.update(eqn.outvars)
            else:
                self.rest.append(eqn)
        read = {a for e in jaxpr.eqns for a in e.invars if isinstance(a, Var)}
        read.update(v for v in jaxpr.outvars if isinstance(v, Var))
        self.used = [v in read for v in jaxpr.invars]

    def hoist(self) -> None:
        # hoisted values are read on every run of the loop: none is freed
        self.writer.equations(self.pre, self.names, {v for e in self.pre for v in e.outvars})
        self.pre = []

    def write(self) -> list[str]:
        keep = {v for v in self.jaxpr.outvars if isinstance(v, Var)}
        self.writer.equations(self.pre + self.rest, self.names, keep)  # pre: not hoisted
        return [_array_source(a, self.writer) if isinstance(a, Literal)
                else self.names[a] for a in self.jaxpr.outvars]


def _array_source(lit: Literal, bind: Bind) -> str:
    """A literal result of a sub-jaxpr as a (read-only) array, as the interpreted
    control flow returns it."""
    value = np.asarray(lit.val, dtype=lit.aval.dtype)
    value.flags.writeable = False
    return bind(value)


#: Above this many equations the program is generated as several functions of at most
#: this many equations each, compiled one at a time: CPython's compiler needs ~3 KB per
#: line while it compiles, so one function of 200,000 lines peaked above 0.6 GB
CHUNK_EQUATIONS = 10_000


def generate(closed: ClosedJaxpr, name: str = "jitted", like: Any = None) -> Generated:
    """Compile ``closed`` to a Python function of its inputs returning a tuple of outputs.
    With ``like`` (an input of another array library) the constant arrays are converted
    to its kind now, once, rather than mixed with its arrays on every call."""
    jaxpr = closed.jaxpr
    writer = _Writer(like)
    names: dict[Var, str] = {}
    for v, c in zip(jaxpr.constvars, closed.consts):
        names[v] = writer(asarray_like(c, like) if np.ndim(c) else c)
    args = []
    for i, v in enumerate(jaxpr.invars):
        names[v] = f"a{i}"
        args.append(names[v])
    if len(jaxpr.eqns) > CHUNK_EQUATIONS:
        return _generate_chunked(jaxpr, writer, names, args, name)
    writer.equations(jaxpr.eqns, names, {v for v in jaxpr.outvars if isinstance(v, Var)})
    results = ", ".join(writer.read(a, names) for a in jaxpr.outvars)
    writer.line(f"return ({results}{',' if len(jaxpr.outvars) == 1 else ''})")
    source = writer.compile(name, f"def {name}({', '.join(args)}):")
    return Generated(writer.namespace[name], source)


def _generate_chunked(jaxpr: Jaxpr, writer: _Writer, names: dict[Var, str],
                      args: list[str], name: str) -> Generated:
    """A long program as a driver calling one function per chunk of equations, each
    compiled on its own. Values that cross from one chunk to another travel in a list
    ``r`` (one slot each, emptied at the value's last use); inside a chunk they are
    locals, as in the one-function form."""
    eqns = jaxpr.eqns
    chunks = [eqns[i:i + CHUNK_EQUATIONS] for i in range(0, len(eqns), CHUNK_EQUATIONS)]
    final = len(chunks)  # the driver's return reads the outputs "in chunk" `final`
    born: dict[Var, int] = {v: -1 for v in jaxpr.invars}
    last: dict[Var, int] = {}
    for k, chunk in enumerate(chunks):
        for eqn in chunk:
            for a in eqn.invars:
                if isinstance(a, Var) and a in born:
                    last[a] = k
            for v in eqn.outvars:
                born[v] = k
    for a in jaxpr.outvars:
        if isinstance(a, Var) and a in born:
            last[a] = final
    slot: dict[Var, int] = {}
    for v, k in born.items():
        if last.get(v, k) > k:
            slot[v] = len(slot)
    sources = []
    driver = [f"def {name}({', '.join(args)}):", f"    r = [None] * {len(slot)}"]
    driver += [f"    r[{slot[v]}] = {names[v]}" for v in jaxpr.invars if v in slot]
    for k, chunk in enumerate(chunks):
        used = {a for e in chunk for a in e.invars if isinstance(a, Var) and a in slot
                and born[a] < k}
        for a in sorted(used, key=slot.__getitem__):
            writer.line(f"{names[a]} = r[{slot[a]}]")
            if last[a] == k:  # the local is the last reference: freed at its last use
                writer.line(f"r[{slot[a]}] = None")
        keep = {v for e in chunk for v in e.outvars if v in slot}
        writer.equations(chunk, names, keep, {a for a in used if last[a] == k})
        for v in sorted(keep, key=slot.__getitem__):
            writer.line(f"r[{slot[v]}] = {names[v]}")
        chunk_name = f"{name}_part{k}"
        sources.append(writer.compile(chunk_name, f"def {chunk_name}(r):"))
        driver.append(f"    {chunk_name}(r)")
    results = ", ".join(f"r[{slot[a]}]" if isinstance(a, Var) and a in slot
                        else writer.read(a, names) for a in jaxpr.outvars)
    driver.append(f"    return ({results}{',' if len(jaxpr.outvars) == 1 else ''})")
    source = "\n".join(driver) + "\n"
    exec(compile(source, f"{GENERATED_FILE}{name}>", "exec"), writer.namespace)  # noqa: S102
    return Generated(writer.namespace[name], source + "\n" + "\n".join(sources))


def _emit(eqn: Eqn, args: list[str], bind: Bind) -> str:
    emitter = eqn.prim.emit
    if emitter is not None:
        return emitter(args, eqn.params, bind)
    impl = eqn.prim.impl
    fn = functools.partial(impl, **eqn.params) if eqn.params else impl
    return f"{bind(fn)}({', '.join(args)})"
