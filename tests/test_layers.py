"""The package's layering, read from the source: the core imports nothing above it,
the NumPy family's files import only the files below them (at module level), and no
module-level imports form a cycle."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

import xform

ROOT = Path(xform.__file__).parent

# bottom to top; the order documented in xform/numpy/__init__.py
NUMPY_FAMILY = ["_elementwise", "_shape", "_reductions", "_creation", "_indexing",
                "_extra_elementwise", "_contract", "_manip", "_stats", "_signal", "_fft",
                "_linalg", "linalg", "fft", "_tracer_methods", "__init__"]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in ROOT.rglob("*.py")}


def imported(path: Path) -> list[tuple[str, bool]]:
    """``(module, inside a function)`` for each xform module ``path`` imports;
    ``from package import name`` imports the package, and ``package.name`` too when
    that is a module."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: list[tuple[str, bool]] = []

    def visit(node: ast.AST, local: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = local or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef,
                                                ast.Lambda))
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.dump(child.test):
                continue
            if isinstance(child, ast.Import):
                out.extend((a.name, inner) for a in child.names
                           if a.name.split(".")[0] == "xform")
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = package.split(".")[:len(package.split(".")) - child.level + 1]
                    target = ".".join(base + ([child.module] if child.module else []))
                else:
                    target = child.module or ""
                if target.split(".")[0] == "xform":
                    subs = [f"{target}.{a.name}" for a in child.names]
                    out.extend((m, inner) for m in [target] + [s for s in subs if s in MODULES])
            visit(child, inner)

    visit(ast.parse(path.read_text()), False)
    return out


@pytest.mark.parametrize("name", sorted(n for n in MODULES if n.startswith("xform.core")))
def test_core_imports_nothing_above_it(name: str) -> None:
    above = [m for m, _ in imported(MODULES[name])
             if not (m == "xform.core" or m.startswith("xform.core."))]
    assert not above, f"{name} imports {above}"


@pytest.mark.parametrize("file", NUMPY_FAMILY)
def test_numpy_family_imports_only_files_below(file: str) -> None:
    name = "xform.numpy" if file == "__init__" else f"xform.numpy.{file}"
    below = {f"xform.numpy.{f}" for f in NUMPY_FAMILY[:NUMPY_FAMILY.index(file)]}
    for target, local in imported(MODULES[name]):
        if target != name and (target == "xform.numpy" or target.startswith("xform.numpy.")):
            assert not local, f"{name} imports {target} inside a function"
            assert target in below, f"{name} imports {target}, which is not below it"


def test_every_numpy_family_file_has_a_place_in_the_order() -> None:
    files = {p.stem for p in (ROOT / "numpy").glob("*.py")}
    assert files == set(NUMPY_FAMILY)


def test_no_module_level_import_cycles() -> None:
    graph = {name: {m for m, local in imported(path) if not local and m != name}
             for name, path in MODULES.items()}
    done: set[str] = set()

    def visit(name: str, stack: list[str]) -> None:
        if name in stack:
            raise AssertionError("import cycle: " + " -> ".join(stack[stack.index(name):]
                                                              + [name]))
        if name in done or name not in graph:
            return
        for target in sorted(graph[name]):
            visit(target, stack + [name])
        done.add(name)

    for name in sorted(graph):
        visit(name, [])
