"""The package's layering, read from the source: every module imports only its own
layer or the layers below it (the picture in docs/how-it-works.md), the core imports
nothing above it, the NumPy family's files import only the files below them (at module
level), no module-level imports form a cycle, and imports hidden inside function bodies
(which hide arrows and usually paper over a cycle) stay few."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

import xform

ROOT = Path(xform.__file__).parent

# bottom to top; the order documented in xform/numpy/__init__.py
NUMPY_FAMILY = ["_elementwise", "_shape", "_reductions", "_creation", "_indexing",
                "_extra_elementwise", "_contract", "_manip", "_stats", "_signal", "_fft",
                "_linalg", "linalg", "fft", "random", "_values", "_vectorize", "_passthrough",
                "_tracer_methods", "__init__"]


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
                    mods = [s for s in subs if s in MODULES]
                    # `from package import submodule` reaches the submodule (the package
                    # is already being imported); any other name comes from the package
                    out.extend((m, inner) for m in ([] if len(mods) == len(subs) else [target])
                               + mods)
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


#: bottom to top; a module's layer is that of its longest matching prefix
LAYERS: dict[str, int] = {
    "xform.core": 0, "xform.tree_util": 0, "xform._unsupported": 0,
    "xform.interpreters": 1,
    "xform.custom": 2,
    "xform.numpy": 3,
    "xform.scipy": 4, "xform.lax": 4, "xform.debug": 4,
    "xform.jit": 5,
    "xform.api": 6, "xform.export": 6,
    "xform.batching_api": 7,
    "xform.config": 8, "xform.extend": 8, "xform.optimizers": 8, "xform.test_util": 8,
    "xform.random": 8, "xform.nn": 8, "xform.optim": 8,
    "xform": 9,
}
MAX_FUNCTION_LOCAL_IMPORTS = 30


def layer(name: str) -> int:
    best = max((p for p in LAYERS if name == p or name.startswith(p + ".")), key=len)
    return LAYERS[best]


@pytest.mark.parametrize("name", sorted(MODULES))
def test_imports_point_down(name: str) -> None:
    upward = [m for m, _ in imported(MODULES[name]) if m in MODULES and layer(m) > layer(name)]
    assert not upward, f"{name} (layer {layer(name)}) imports {upward} from above it"


def test_few_function_local_imports() -> None:
    local = [f"{name} -> {m}" for name, path in sorted(MODULES.items())
             for m, inside in imported(path) if inside]
    assert len(local) <= MAX_FUNCTION_LOCAL_IMPORTS, "\n".join(local)


@pytest.mark.parametrize("name", ["api.py", "batching_api.py"])
def test_the_api_layer_names_no_interpreter_internals(name: str) -> None:
    """The transforms users call handle arguments and pytrees; the interpreters'
    flat entries (jvp_flat, vjp_flat, vmap_flat...) do the work."""
    source = (ROOT / name).read_text(encoding="utf-8")
    for internal in ("TapeTrace", "TapeTracer", "JVPTrace", "BatchTrace", "backward_pass",
                     "forward_pass", "set_current"):
        assert internal not in source, f"{name} names {internal}"
