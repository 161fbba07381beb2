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


def test_install_line_is_what_ci_runs_and_installs_every_extra_the_tests_use():
    """CI installs exactly README's line, and that line installs the optional extras the
    suite imports (jax, through ``xla``), so no test can miss a package on CI."""
    line = re.search(r"## Install\s+```bash\n(pip install [^\n]+)\n```", README.read_text())
    assert line, "README has no install block"
    ci = (README.parent / ".ci" / "run").read_text()
    assert f"python -m {line.group(1)}" in ci, "README's install line differs from .ci/run"
    extras = set(re.search(r"\[([a-z,]+)\]", line.group(1)).group(1).split(","))
    assert {"dev", "docs", "examples", "xla"} <= extras, extras
