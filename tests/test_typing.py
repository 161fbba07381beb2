"""Typing: every public namespace says what it exports (``__all__``), the package ships
``py.typed``, and ``mypy --strict`` on a typed user script passes, while a script with a
real type error is reported at the right lines."""
from __future__ import annotations

import importlib
import pathlib
import subprocess
import sys
import textwrap
import tomllib
import types

import pytest

import xform

ROOT = pathlib.Path(xform.__file__).resolve().parents[1]

# the public namespaces: the API reference documents exactly these (docs/reference/)
NAMESPACES = [
    "xform", "xform.numpy", "xform.numpy.linalg", "xform.numpy.fft", "xform.numpy.random",
    "xform.scipy", "xform.scipy.special", "xform.scipy.stats", "xform.scipy.linalg",
    "xform.scipy.signal", "xform.scipy.integrate", "xform.lax", "xform.nn",
    "xform.nn.initializers", "xform.optim", "xform.optimizers", "xform.random", "xform.debug",
    "xform.tree_util", "xform.test_util", "xform.extend",
]


def _is_typing_construct(value: object) -> bool:
    """``Any``, ``Callable``, ``from __future__ import annotations``, an alias such as
    ``int | None``: spelling for annotations, not a name of the namespace."""
    if isinstance(value, types.UnionType):
        return True
    return getattr(value, "__module__", None) in ("typing", "__future__", "collections.abc")


def public_names(name: str) -> set[str]:
    """What a user sees in ``dir()`` that is not underscored: functions, classes and
    values (submodules are namespaces of their own and are checked there)."""
    module = importlib.import_module(name)
    return {n for n, v in vars(module).items()
            if not n.startswith("_") and not isinstance(v, types.ModuleType)
            and not _is_typing_construct(v)}


@pytest.mark.parametrize("name", NAMESPACES)
def test_all_lists_exactly_the_public_names(name):
    module = importlib.import_module(name)
    exported = getattr(module, "__all__", None)
    assert exported is not None, f"{name} has no __all__"
    assert len(exported) == len(set(exported)), f"{name}.__all__ repeats a name"
    missing = [n for n in exported if not hasattr(module, n)]
    assert not missing, f"{name}.__all__ names what the module does not define: {missing}"
    for n in exported:
        value = getattr(module, n)
        if isinstance(value, types.ModuleType):
            assert f"{name}.{n}" in NAMESPACES, f"{name}.__all__ exports module {n}, not public"
    listed = {n for n in exported if not isinstance(getattr(module, n), types.ModuleType)}
    leaked = public_names(name) - listed
    assert not leaked, (f"{name} has public names missing from __all__ (helpers should be "
                        f"underscored): {sorted(leaked)}")


def test_py_typed_ships_with_the_package():
    assert (ROOT / "xform" / "py.typed").is_file()
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "py.typed" in config["tool"]["setuptools"]["package-data"]["xform"]


GOOD = """
    from typing import Any

    import numpy as onp

    import xform
    import xform.numpy as np


    def loss(w: onp.ndarray, x: onp.ndarray) -> Any:
        return np.sum(np.tanh(w * x) ** 2)


    X = onp.arange(3.0)
    grad_loss = xform.grad(loss)
    fast_loss = xform.jit(loss)


    @xform.jit
    def step(w: onp.ndarray) -> onp.ndarray:
        g: onp.ndarray = grad_loss(w, X)
        return w - 0.1 * g


    w: onp.ndarray = step(onp.ones(3))
    print(fast_loss(w, X), xform.vmap(np.tanh)(w), xform.jacfwd(np.sin)(w),
          xform.hessian(loss)(w, X), xform.value_and_grad(loss)(w, X))
"""

BAD = """
    import numpy as onp

    import xform


    def f(x: onp.ndarray) -> onp.ndarray:
        return x * 2.0


    fast = xform.jit(f)
    name: str = fast(onp.ones(3))
    fast(onp.ones(3), 1.0)
    xform.grad(f)(onp.ones(3), onp.ones(3))
"""


def test_mypy_strict_passes_on_a_typed_user_script_and_reports_a_type_error(tmp_path):
    (tmp_path / "good.py").write_text(textwrap.dedent(GOOD))
    (tmp_path / "bad.py").write_text(textwrap.dedent(BAD))
    # xform is read from the source tree as an installed package would be: analysed, its
    # own internals not reported (an editable install's import hook is invisible to mypy)
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent",
         "--no-incremental", "--cache-dir", str(tmp_path / "cache"), "good.py", "bad.py"],
        cwd=tmp_path, capture_output=True, text=True, timeout=240,
        env={"MYPYPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    out = result.stdout + result.stderr
    assert "good.py" not in out, out
    lines = textwrap.dedent(BAD).splitlines()

    def line_of(code: str) -> int:
        return next(i for i, text in enumerate(lines, 1) if text.startswith(code))

    # jit keeps the return type and the signature; grad keeps the signature
    assert f"bad.py:{line_of('name: str')}: error: Incompatible types in assignment" in out, out
    assert f"bad.py:{line_of('fast(')}: error: Too many arguments" in out, out
    assert f"bad.py:{line_of('xform.grad(f)(')}: error: Too many arguments" in out, out
    assert "Found 3 errors in 1 file" in out, out
