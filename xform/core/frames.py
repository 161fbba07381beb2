"""Where in the user's code an operation comes from: for error messages, and for
NumPy's warnings (floating-point ones, and those NumPy issues with ``warnings.warn``),
which are issued at the user's line rather than in xform's files."""
from __future__ import annotations

import contextvars
import os
import re
import sys
import warnings
from types import FrameType
from typing import Any, Callable

import numpy as np

_PKG_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_FP_KINDS = ("divide", "over", "under", "invalid")
_SITE = re.compile(r"^(.*):(\d+) \(in (.*)\)$")


def _outside(f: FrameType | None) -> FrameType | None:
    """``f`` or the innermost frame above it outside the xform package (None: none)."""
    while f is not None and f.f_code.co_filename.startswith(_PKG_DIR):
        f = f.f_back
    return f


def user_frame() -> str:
    """The innermost stack frame outside the xform package, as 'file:line (func)'."""
    f = _outside(sys._getframe(1))
    if f is None:
        return "<unknown>"
    return f"{f.f_code.co_filename}:{f.f_lineno} (in {f.f_code.co_name})"


#: Sweeps that run derivative rules after the user's code has returned register the
#: ``id`` of their code object here (a code object's hash is recomputed from its
#: contents on each lookup: ~0.5 us), with a function that reads, from such a frame, the
#: primitive being differentiated and the user's line that created it (or None where
#: not recorded).
SWEEPS: dict[int, Callable[[FrameType], tuple[str, str | None]]] = {}

#: Generated (jitted) code: its file names start so, and its namespace maps each of its
#: functions' names to a list, indexed by line number, of the equation (an ``Eqn``)
#: each line was written for (None for the lines of no equation), under this key.
GENERATED_FILE = "<xform.jit "
LINES_KEY = "__xform_lines__"

# Sites as staging records them (on an equation's first result: ``Var.site``), one
# shared tuple per place:
# ``(code, line)`` for an operation of the user's code, ``(code, line, primitive's name,
# known)`` for one staged by that primitive's derivative rule, ``known`` False where
# (code, line) is where the transform was called rather than where the operation was
# made. Nothing is formatted until a warning fires.
_SITES: dict[tuple[Any, ...], tuple[Any, ...]] = {}


def _interned(key: tuple[Any, ...], site: tuple[Any, ...]) -> tuple[Any, ...]:
    if len(_SITES) > 100_000:  # places of code since traced: bounded
        _SITES.clear()
    _SITES[key] = site
    return site


def site_of(eqn: Any) -> tuple[Any, ...] | None:
    """The site staging recorded for ``eqn`` (an ``Eqn``), or None."""
    return getattr(eqn.outvars[0], "site", None) if eqn.outvars else None


def staging_site() -> tuple[Any, ...] | None:
    """The site (see ``Var.site``) of the operation being staged now, called by the
    tracer that stages it: the innermost line outside xform. Where xform itself runs
    the operation, what runs it knows better (``trace._ctx.origin``: a reverse sweep,
    :class:`Sweep`, gives the site of the operation being differentiated; a jaxpr
    evaluated, :class:`Replay`, its equation's site), and the tracer asks it first.
    Runs once per staged equation of the user's code: no string is made, and places
    are shared."""
    f = _outside(sys._getframe(2))
    if f is None:
        return None
    code, line = f.f_code, f.f_lineno
    key = (id(code), line)
    return _SITES.get(key) or _interned(key, (code, line))


class Sweep:
    """A reverse sweep that runs derivative rules, as the tracer staging them sees it:
    the sweep sets :attr:`prim` and :attr:`out` (the tape entry's primitive and result
    tracers) before each rule. Under ``jit`` the result's value is the staged tracer of
    the forward operation, whose variable carries its site."""

    __slots__ = ("prim", "out", "_caller", "_out", "_site_of_out")

    def __init__(self) -> None:
        self.prim: Any = None
        self.out: Any = None
        self._caller: Any = None
        # the last entry's site: its rule stages a few equations
        self._out: Any = None
        self._site_of_out: tuple[Any, ...] | None = None

    def site(self) -> tuple[Any, ...] | None:
        out = self.out
        if self._out is not out:
            self._site_of_out = self._site(out)
            self._out = out
        return self._site_of_out

    def _site(self, out: Any) -> tuple[Any, ...] | None:
        name = getattr(self.prim, "name", "?")
        val = getattr(out[0] if type(out) is tuple else out, "val", None)
        made = getattr(getattr(val, "var", None), "site", None)
        if made is not None:
            code, line, known = made[0], made[1], len(made) == 2 or made[3]
        else:  # not recorded: the line that called the transform, found once a sweep
            if self._caller is None:
                f = _outside(sys._getframe(3))
                self._caller = (f.f_code, f.f_lineno) if f is not None else ()
            if not self._caller:
                return None
            (code, line), known = self._caller, False
        key = (id(code), line, name, known)
        return _SITES.get(key) or _interned(key, (code, line, name, known))


class Replay:
    """A jaxpr being evaluated equation by equation (``eval_jaxpr``), which sets
    :attr:`current` to each equation in turn: what that stages again (a loop body
    differentiated, a custom call's body) keeps the site of the equation it came from."""

    __slots__ = ("current",)

    def __init__(self) -> None:
        self.current: Any = None  # the Eqn being evaluated

    def site(self) -> tuple[Any, ...] | None:
        return site_of(self.current) if self.current is not None else None


def _reissue(kind: str, flag: int) -> None:
    """NumPy's error callback (``np.errstate(call=...)``): issue the warning NumPy would
    have issued, at the user's line that created the operation."""
    f: FrameType | None = sys._getframe(1)
    prim = sweep = site = None
    known = True
    where: tuple[str, int] | None = None
    while f is not None and f.f_code.co_filename.startswith(_PKG_DIR):
        describe = SWEEPS.get(id(f.f_code))
        if describe is not None and sweep is None:
            sweep, site = describe(f)
            known = site is not None
        if prim is None and sweep is None:
            name = getattr(f.f_locals.get("prim"), "name", None)
            prim = name if isinstance(name, str) else None
        f = f.f_back
    match = _SITE.match(site) if site is not None else None
    if match is not None:
        where = match.group(1), int(match.group(2))
    if f is not None and f.f_code.co_filename.startswith(GENERATED_FILE):
        lines = f.f_globals.get(LINES_KEY, {}).get(f.f_code.co_name, ())
        eqn = lines[f.f_lineno] if f.f_lineno < len(lines) else None
        staged = site_of(eqn) if eqn is not None else None
        if eqn is not None and staged is not None:  # jitted code: its equation's site
            where = staged[0].co_filename, staged[1]
            if len(staged) == 2:
                prim, sweep = eqn.prim.name, None
            else:
                sweep, known = staged[2], staged[3]
    if sweep is not None:
        message = (f"{kind} encountered in the derivative of `{sweep}` (the backward pass "
                   "of reverse mode)")
        if not known:
            message += ("; the line shown called the transform: under "
                        "xform.debug_nans() the warning names the line that created "
                        "the operation")
    else:
        message = f"{kind} encountered in {prim}" if prim else f"{kind} encountered"
    if where is not None:
        _warn_at(message, RuntimeWarning, *where)
        return
    if f is None:
        warnings.warn(message, RuntimeWarning, stacklevel=2)
        return
    _warn_explicit(message, RuntimeWarning, f.f_code.co_filename, f.f_lineno, f.f_globals)


def _warn_explicit(message: str, category: type[Warning], filename: str, lineno: int,
                   module_globals: dict[str, Any]) -> None:
    """``warnings.warn_explicit`` at ``filename:lineno``, with the module's registry (so
    the default filter shows it once per line, as ``warnings.warn`` would)."""
    registry = module_globals.setdefault("__warningregistry__", {}) if module_globals else None
    # never module=None: the C warn_explicit then shows nothing at all (a site in code
    # run by `python -c`, whose module is not found); the name it would derive instead
    module = module_globals.get("__name__") or (
        filename[:-3] if filename.lower().endswith(".py") else filename)
    try:
        warnings.warn_explicit(message, category, filename, lineno, module=module,
                               registry=registry, module_globals=module_globals or None)
    except ImportError:  # `python -c`: __main__'s loader cannot give the source line
        warnings.warn_explicit(message, category, filename, lineno, module=module,
                               registry=registry)


def _warn_at(message: str, category: type[Warning], filename: str, lineno: int) -> None:
    """Warn at ``filename:lineno``, with the registry of the module of that file."""
    module_globals: dict[str, Any] = {}
    for m in list(sys.modules.values()):
        if getattr(m, "__file__", None) == filename:
            module_globals = vars(m)
            break
    _warn_explicit(message, category, filename, lineno, module_globals)


def _warn_at_site(message: str, category: type[Warning], site: str) -> bool:
    """Warn at a site recorded by :func:`user_frame`; False when it cannot be read."""
    match = _SITE.match(site)
    if match is None:
        return False
    _warn_at(message, category, match.group(1), int(match.group(2)))
    return True


def warn_at_user_line(message: str, category: type[Warning] = RuntimeWarning,
                      site: str | None = None) -> None:
    """Issue a warning as NumPy's ``warnings.warn`` does, but at the user's line: the
    recorded ``site`` (a :func:`user_frame` string, for code that runs after the user's
    line has returned, such as ``jit``'s) or else the innermost frame outside xform.

    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn_at_user_line("Mean of empty slice")
    >>> str(caught[0].message), caught[0].category.__name__
    ('Mean of empty slice', 'RuntimeWarning')
    """
    if site is not None and _warn_at_site(message, category, site):
        return
    f = _outside(sys._getframe(1))
    if f is None:
        warnings.warn(message, category, stacklevel=2)
        return
    _warn_explicit(message, category, f.f_code.co_filename, f.f_lineno, f.f_globals)


def error_mode(kind: str) -> str:
    """The user's NumPy error mode for ``kind`` ("invalid", ...): ``"warn"`` also where
    a transform has redirected it to issue the warnings at the user's line.

    >>> error_mode("invalid")
    'warn'
    """
    mode: str = np.geterr()[kind]  # type: ignore[literal-required]
    return "warn" if mode == "call" and np.geterrcall() is _reissue else mode


def _redirected_state() -> Any:
    """NumPy's error state as it is now, with the kinds set to "warn" set to call
    :func:`_reissue` instead (the same state when none is, or when it is already
    redirected). Built in a copy of the current context, so nothing here changes."""
    modes: dict[str, Any] = dict(np.geterr())
    redirect: dict[str, Any] = {k: "call" for k in _FP_KINDS if modes[k] == "warn"}
    if redirect and np.geterrcall() is not _reissue:
        np.seterrcall(_reissue)
        np.seterr(**redirect)
    return _EXTOBJ.get() if _EXTOBJ is not None else None


# NumPy >= 2 keeps its error state in a context variable: switching to the redirected
# state is then one lookup and one set, with the state built once per distinct state
# (a plain np.errstate costs ~10x more, on every transform call)
try:
    from numpy._core._ufunc_config import _extobj_contextvar as _EXTOBJ  # type: ignore[attr-defined]
except ImportError:  # NumPy 1.x: np.errstate on each use
    _EXTOBJ = None  # type: ignore[assignment]
_REDIRECTED: dict[Any, Any] = {}


class FPWarningsAtUserLine:
    """While active, NumPy floating-point warnings (divide by zero, overflow, invalid
    value...) raised by xform's implementations and derivative rules are issued at the
    user's line that created the operation. Only the kinds NumPy is set to ``"warn"``
    are redirected (``np.errstate`` set to ignore or raise is left alone); nested uses
    change nothing. Not re-entrant per instance: make one per use."""

    __slots__ = ("_state",)

    def __init__(self) -> None:
        self._state: Any = None

    def __enter__(self) -> None:
        if _EXTOBJ is None:
            self._enter_numpy1()
            return
        now = _EXTOBJ.get()
        target = _REDIRECTED.get(now)
        if target is None:
            if len(_REDIRECTED) > 64:  # states made by errstate blocks: bounded
                _REDIRECTED.clear()
            # keyed by the state object itself (kept alive as the key): never reused
            target = _REDIRECTED[now] = contextvars.copy_context().run(_redirected_state)
        if target is not now:
            self._state = _EXTOBJ.set(target)

    def _enter_numpy1(self) -> None:
        if np.geterrcall() is _reissue:
            return
        modes: dict[str, Any] = dict(np.geterr())
        redirect: dict[str, Any] = {k: "call" for k in _FP_KINDS if modes[k] == "warn"}
        if redirect:
            state = np.errstate(call=_reissue, **redirect)
            state.__enter__()
            self._state = state

    def __exit__(self, *exc: Any) -> None:
        state = self._state
        if state is None:
            return
        if _EXTOBJ is not None:
            _EXTOBJ.reset(state)
        else:
            state.__exit__(*exc)


def call_at_user_line(fn: Callable[..., Any], args: Any) -> Any:
    """``fn(*args)`` with floating-point warnings issued at the user's line (as under
    :class:`FPWarningsAtUserLine`): for generated code, whose equations recorded their
    sites. On the path of every jitted call: one context-variable lookup and set."""
    if _EXTOBJ is None:
        with FPWarningsAtUserLine():
            return fn(*args)
    now = _EXTOBJ.get()
    target = _REDIRECTED.get(now)
    if target is None:
        with FPWarningsAtUserLine():
            return fn(*args)
    if target is now:
        return fn(*args)
    token = _EXTOBJ.set(target)
    try:
        return fn(*args)
    finally:
        _EXTOBJ.reset(token)
