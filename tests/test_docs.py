"""The documentation stays true to the code.

* Every ```python block of ``docs/*.md`` runs: the blocks of a page execute in
  order in one namespace (one namespace per page).
* A ```text block announced by ``<!-- output -->`` on the line before it must
  equal what the python block before it printed (IR listings, generated code).
* ``<!-- no-test -->`` on the line before a python block skips it (use sparingly).
* ``docs/coverage.md`` equals what ``docs/gen_coverage.py`` renders from the
  primitive registry, so the coverage table cannot go stale.
"""
from __future__ import annotations

import contextlib
import difflib
import importlib.util
import io
import pathlib
import re
import sys
from dataclasses import dataclass
from types import ModuleType

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.glob("*.md"))

_FENCE = re.compile(r"^```(\S*)\s*$")
_MARKER = re.compile(r"^<!--\s*(no-test|output)\s*-->$")


@dataclass
class Block:
    lang: str
    code: str
    line: int  # 1-based line number of the block's first code line
    marker: str | None  # "no-test", "output" or None


def parse_blocks(path: pathlib.Path) -> list[Block]:
    """The fenced code blocks of a Markdown page, with the marker comment (if any)
    on the last non-blank line before each."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    previous = ""
    i = 0
    while i < len(lines):
        fence = _FENCE.match(lines[i])
        if fence is None:
            if lines[i].strip():
                previous = lines[i].strip()
            i += 1
            continue
        end = i + 1
        while end < len(lines) and lines[end].strip() != "```":
            end += 1
        if end == len(lines):
            raise ValueError(f"{path.name}:{i + 1}: code fence is never closed")
        marker = _MARKER.match(previous)
        blocks.append(Block(fence.group(1), "\n".join(lines[i + 1:end]) + "\n", i + 2,
                            marker.group(1) if marker else None))
        previous = ""
        i = end + 1
    return blocks


def test_docs_have_pages():
    names = {p.name for p in PAGES}
    assert {"index.md", "coverage.md"} <= names, f"docs/ is missing pages: {sorted(names)}"


@pytest.mark.parametrize("page", [p.name for p in PAGES])
def test_page_is_in_the_nav(page: str) -> None:
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    assert re.search(rf":\s*{re.escape(page)}\s*$", config, re.M), \
        f"docs/{page} is not listed in mkdocs.yml's nav"


@pytest.mark.parametrize("page", [p.name for p in PAGES])
def test_page_samples_run(page: str) -> None:
    path = DOCS / page
    text = path.read_text(encoding="utf-8")
    indented = re.search(r"^[ \t]+```python", text, re.M)
    assert indented is None, (f"docs/{page}: an indented ```python block would not be "
                              "tested; put code samples at the start of the line")
    # a real module, so that code needing its defining module (dataclasses) works
    module = ModuleType(f"_docs_page_{path.stem.replace('-', '_')}")
    module.__file__ = str(path)
    namespace = module.__dict__
    sys.modules[module.__name__] = module
    try:
        _run_page(page, path, namespace)
    finally:
        del sys.modules[module.__name__]


def _run_page(page: str, path: pathlib.Path, namespace: dict) -> None:
    printed: str | None = None
    for block in parse_blocks(path):
        if block.lang == "python":
            if block.marker == "no-test":
                printed = None
                continue
            # pad so that tracebacks point at the right line of the Markdown page
            code = compile("\n" * (block.line - 1) + block.code, str(path), "exec")
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                exec(code, namespace)  # noqa: S102 - the documentation's own samples
            printed = out.getvalue()
        elif block.marker == "output":
            assert printed is not None, (f"docs/{page}:{block.line}: an <!-- output --> block "
                                         "must follow a tested ```python block")
            if printed.rstrip() != block.code.rstrip():
                diff = "\n".join(difflib.unified_diff(
                    block.code.rstrip().splitlines(), printed.rstrip().splitlines(),
                    "in the page", "printed now", lineterm=""))
                pytest.fail(f"docs/{page}:{block.line}: the pasted output no longer matches "
                            f"what the sample prints; update the text block:\n{diff}")
            printed = None


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("_docs_gen_coverage",
                                                  DOCS / "gen_coverage.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_coverage_page_is_current() -> None:
    expected = _generator().render()
    path = DOCS / "coverage.md"
    actual = path.read_text(encoding="utf-8") if path.exists() else ""
    if actual != expected:
        diff = "\n".join(list(difflib.unified_diff(
            actual.splitlines(), expected.splitlines(), "docs/coverage.md (committed)",
            "render() (from the registry)", lineterm=""))[:40])
        pytest.fail("docs/coverage.md is out of date with xform's primitive registry. "
                    "Run `python docs/gen_coverage.py` and commit the result.\n" + diff)
