"""Generate ``docs/coverage.md`` from xform's primitive registry.

The page has two parts: one row per registered primitive (which derivative and
batching rules it has), and the user-facing names of the coverage target
(``tests/coverage_names.py``) marked present or missing.

Run ``python docs/gen_coverage.py`` after adding, removing or changing a
primitive or a public name; ``tests/test_docs.py`` fails while the committed
page differs from :func:`render`.
"""
from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import textwrap
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "docs" / "coverage.md"
NAMES_FILE = ROOT / "tests" / "coverage_names.py"

#: Hand-written remarks for primitives whose table row needs context. A key that
#: is no longer a primitive makes ``render`` fail, so these cannot go stale silently.
EXTRA_NOTES: dict[str, str] = {
    "cond": "staged form of `xform.lax.cond`/`switch`; with a concrete predicate "
            "they run as a Python `if` and never bind it",
    "while": "bound only when a loop is staged or its predicate batched; a loop with a "
             "concrete predicate runs in Python and differentiates both ways (see "
             "[control flow](control-flow.md))",
    "scan": "staged form of `xform.lax.scan`, `map` and `fori_loop` with static bounds",
    "eigh": "eigenvector derivatives need distinct eigenvalues "
            "(see [numerics](numerics.md#linear-algebra))",
    "eig": "needs distinct eigenvalues (see [numerics](numerics.md#linear-algebra))",
    "svd": "needs distinct singular values and, for a non-square matrix, "
           "`full_matrices=False` (see [numerics](numerics.md#linear-algebra))",
    "stop_gradient": "the identity with a zero derivative",
}


def import_all() -> None:
    """Import every module of xform so that the registry holds every primitive."""
    from xform.test_util import import_all_modules

    failures = import_all_modules()
    if failures:
        raise RuntimeError(f"cannot list the primitives: modules of xform fail to import: "
                           f"{failures}")


def _refusal(rule: Any) -> str | None:
    """The message of a rule whose whole body is ``raise NotImplementedError(msg)``
    (a rule that exists only to refuse with a clear error), else None."""
    try:
        source = textwrap.dedent(inspect.getsource(rule))
    except (OSError, TypeError):
        return None
    try:
        fn = ast.parse(source).body[0]
    except (SyntaxError, IndexError):
        return None
    if not isinstance(fn, ast.FunctionDef):
        return None
    body = fn.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # docstring
    if len(body) != 1 or not isinstance(body[0], ast.Raise):
        return None
    exc = body[0].exc
    if not (isinstance(exc, ast.Call) and isinstance(exc.func, ast.Name)
            and exc.func.id == "NotImplementedError"):
        return None
    try:
        message = ast.literal_eval(exc.args[0]) if exc.args else ""
    except ValueError:
        return "refuses"
    first = str(message).split(". ")[0].rstrip(".")
    return first


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _primitive_rows() -> tuple[list[str], dict[str, int]]:
    from xform.core.primitive import registry

    stale = sorted(set(EXTRA_NOTES) - set(registry))
    if stale:
        raise RuntimeError(f"docs/gen_coverage.py: EXTRA_NOTES names unknown primitives "
                           f"{stale}; remove them")
    counts = {"total": 0, "differentiable": 0, "nondiff": 0, "gaps": 0}
    rows = []
    for name in sorted(registry):
        prim = registry[name]
        notes: list[str] = []
        if prim.nondiff:
            fwd = rev = "zero"
            notes.append("non-differentiable")
            counts["nondiff"] += 1
        else:
            counts["differentiable"] += 1
            fwd = "yes" if prim.jvp is not None else "**no**"
            if prim.vjp is None:
                rev = "**no**"
            else:
                refusal = _refusal(prim.vjp)
                rev = "refuses" if refusal else "yes"
                if refusal:
                    notes.append(f"reverse rule refuses: “{refusal}”")
        batch = "yes" if prim.batch is not None else "**no**"
        if "**no**" in (fwd, rev, batch):
            counts["gaps"] += 1
        if prim.real_only:
            notes.append("real inputs only (complex ones are refused)")
        if prim.multiple_results:
            notes.append("multiple results")
        if name in EXTRA_NOTES:
            notes.append(EXTRA_NOTES[name])
        counts["total"] += 1
        rows.append(f"| `{name}` | {fwd} | {rev} | {batch} | {_cell('; '.join(notes))} |")
    return rows, counts


def _load_names() -> ModuleType:
    spec = importlib.util.spec_from_file_location("_docs_coverage_names", NAMES_FILE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _name_sections() -> list[str]:
    names_mod = _load_names()
    lines: list[str] = []
    summary = ["| module | listed | present | missing |", "|---|---:|---:|---:|"]
    tables: list[str] = []
    for section in sorted(names_mod.NAMES):
        names = sorted(set(names_mod.NAMES[section]))
        missing = set(names_mod.missing_names(section, names))
        summary.append(f"| `xform.{section}` | {len(names)} | {len(names) - len(missing)} "
                       f"| {len(missing)} |")
        tables += ["", f"### `xform.{section}`", "", "| name | status |", "|---|---|"]
        tables += [f"| `{n}` | {'**missing**' if n in missing else 'present'} |"
                   for n in names]
    lines += summary + tables
    return lines


def render() -> str:
    """The Markdown of ``docs/coverage.md`` (deterministic: everything sorted)."""
    import_all()
    rows, counts = _primitive_rows()
    lines = [
        "<!-- Generated by docs/gen_coverage.py from xform's primitive registry; do not "
        "edit. Regenerate with: python docs/gen_coverage.py -->",
        "",
        "# Coverage",
        "",
        "This page is generated from the registry of primitives "
        "(`xform.core.primitive.registry`) and checked by the test suite, so it always "
        "describes the code it ships with. Regenerate it with "
        "`python docs/gen_coverage.py`.",
        "",
        "## Primitives",
        "",
        f"{counts['total']} primitives: {counts['differentiable']} differentiable, "
        f"{counts['nondiff']} non-differentiable (zero derivative everywhere); "
        f"{counts['gaps']} with a missing rule.",
        "",
        "- **forward**: the primitive has a JVP rule (`jvp`, `jacfwd`, `linearize`, "
        "`hessian`); *zero* for non-differentiable primitives.",
        "- **reverse**: it has a VJP rule (`grad`, `vjp`, `jacrev`); *refuses* means the "
        "rule exists only to raise a clear error.",
        "- **batch**: it has a batching rule, so `vmap` and the Jacobian transforms "
        "compute the whole batch in one call.",
        "",
        "A user-facing function is usually built from several primitives (for example "
        "`xform.numpy.mean` is `reduce_sum` and `divide`). User primitives made with "
        "`xform.extend.primitive` are not registered and do not appear here.",
        "",
        "| primitive | forward | reverse | batch | notes |",
        "|---|---|---|---|---|",
        *rows,
        "",
        "## Names of the coverage target",
        "",
        "The user-facing functions the project aims to cover (`tests/coverage_names.py`), "
        "and whether xform has each of them. A present name is differentiable wherever "
        "the primitives it is built from are (table above); a missing one raises an "
        "`AttributeError` naming it.",
        "",
        *_name_sections(),
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    OUTPUT.write_text(render(), encoding="utf-8", newline="\n")
    print(f"wrote {OUTPUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
