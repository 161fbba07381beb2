"""The README's quickstart runs and prints what its comments say."""
from __future__ import annotations

import contextlib
import io
import pathlib
import re

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def test_quickstart_runs_and_matches_its_comments():
    text = README.read_text()
    block = re.search(r"## Quickstart\s+```python\n(.*?)```", text, re.S)
    assert block, "README has no quickstart block"
    source = block.group(1)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(source, "README quickstart", "exec"), {})
    printed = out.getvalue()
    for expected in re.findall(r"# (-?\d+\.\d+)$", source, re.M):
        assert expected in printed, f"quickstart should print {expected}"
