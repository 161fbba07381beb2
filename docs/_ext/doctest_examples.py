"""A Griffe extension for the API reference: doctest examples written as bare ``>>>``
blocks (after a docstring's prose, or after its Returns section) become an Examples
section, so mkdocstrings renders them as code. Read as Markdown, ``[a]`` on one line
and ``[b]`` or ``(b)`` on the next would form a link. The source stays as written:
the doctests run from it."""
from __future__ import annotations

import re
from typing import Any

import griffe

_SECTION = re.compile(r"^(\w[\w ]*):\s*$")


def fence_examples(text: str) -> str:
    """``text`` with each top-level run of ``>>>`` lines (and their output) moved into
    an ``Examples:`` section; runs already inside one are left alone."""
    lines = text.split("\n")
    out: list[str] = []
    section = ""
    i = 0
    while i < len(lines):
        line = lines[i]
        header = _SECTION.match(line)
        if header:
            section = header.group(1)
        if line.startswith(">>>") and section not in ("Examples", "Example"):
            if out and out[-1].strip():
                out.append("")
            out.append("Examples:")
            section = "Examples"
            while i < len(lines):
                cur = lines[i]
                if not cur.strip():
                    nxt = next((l for l in lines[i + 1:] if l.strip()), "")
                    if not nxt.startswith(">>>"):
                        break
                out.append("    " + cur if cur.strip() else "")
                i += 1
            continue
        out.append(line)
        i += 1
    return "\n".join(out)


class DoctestExamples(griffe.Extension):
    """Applies :func:`fence_examples` to every docstring Griffe reads."""

    def on_instance(self, *, node: Any, obj: griffe.Object, agent: Any, **kwargs: Any) -> None:
        if obj.docstring is not None and ">>>" in obj.docstring.value:
            obj.docstring.value = fence_examples(obj.docstring.value)
