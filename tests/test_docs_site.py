"""The documentation site: every public name has a docstring with an example; the built
site lists every name of every namespace in the API reference, loads nothing from the
network, and works in a real (headless) browser: the home page loads and searching for
``jacrev`` finds the reference page."""
from __future__ import annotations

import functools
import http.server
import importlib
import inspect
import os
import pathlib
import re
import subprocess
import sys
import threading
import types

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from test_typing import NAMESPACES, ROOT

REFERENCED = [n for n in NAMESPACES if n != "xform.scipy"]  # a package of namespaces only

# Public functions whose docstrings still lack an Args/Returns section or an example.
# The list may only shrink: a name that gains both must be removed from it (the test
# below fails until it is), so that it never hides a regression.
with open(pathlib.Path(__file__).with_name("docstrings_todo.txt")) as _f:
    DOCSTRINGS_TODO = {line.strip() for line in _f if line.strip() and not line.startswith("#")}


def _documented_callables():
    for ns in NAMESPACES:
        module = importlib.import_module(ns)
        for name in module.__all__:
            value = getattr(module, name)
            if isinstance(value, types.ModuleType) or not callable(value):
                continue
            if not (getattr(value, "__module__", "") or "").startswith("xform"):
                continue  # NumPy's own (dtypes, finfo, RandomState...) passed through
            yield f"{ns}.{name}", value


def _parameters(value) -> list[str]:
    try:
        params = inspect.signature(value).parameters.values()
    except (TypeError, ValueError):
        return []
    return [("*" if p.kind == p.VAR_POSITIONAL else "**" if p.kind == p.VAR_KEYWORD else "")
            + p.name for p in params]


def _complete(value) -> bool:
    """An example; for a function, a Returns section and, when it takes arguments, an
    Args section."""
    doc = inspect.getdoc(value) or ""
    if inspect.isclass(value) or not inspect.isroutine(value):  # classes, distributions
        return ">>>" in doc
    return (">>>" in doc and "Returns:" in doc
            and ("Args:" in doc or not _parameters(value)))


def test_args_sections_name_the_real_parameters():
    wrong = {}
    for qual, value in _documented_callables():
        doc = inspect.getdoc(value) or ""
        if "Args:" not in doc or inspect.isclass(value):
            continue
        section = doc.split("Args:", 1)[1].split("\n\n")[0]
        named = re.findall(r"^ {4}(\*{0,2}\w+):", section, re.M)
        unknown = [n for n in named if n not in _parameters(value)]
        if unknown:
            wrong[qual] = unknown
    assert not wrong, f"Args sections naming parameters the function does not have: {wrong}"


def test_every_public_function_has_args_returns_and_an_example():
    incomplete = {qual for qual, value in _documented_callables() if not _complete(value)}
    new = sorted(incomplete - DOCSTRINGS_TODO)
    assert not new, f"public names without Args/Returns and a runnable example: {new}"
    done = sorted(DOCSTRINGS_TODO - incomplete)
    assert not done, f"documented now: remove from tests/docstrings_todo.txt: {done}"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    # CI builds the site (mkdocs build --strict) just before the tests and names it here,
    # which saves building it twice; anywhere else the test builds it
    built = os.environ.get("XFORM_DOCS_SITE")
    if built and (pathlib.Path(built) / "index.html").is_file():
        return pathlib.Path(built)
    out = tmp_path_factory.mktemp("site")
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet",
                             "--site-dir", str(out)], cwd=ROOT, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return out


def _anchors(ns: str, name: str, value: object) -> set[str]:
    """Where the reference may document ``ns.name``: under that name, or (for a name
    that a submodule shadows, as ``xform.jit``) under where it is defined."""
    found = {f"{ns}.{name}"}
    for obj in (value, type(value)):
        if getattr(obj, "__qualname__", None) and getattr(obj, "__module__", None):
            found.add(f"{obj.__module__}.{obj.__qualname__}")
    return found


def test_the_reference_lists_every_public_name_of_every_namespace(site):
    for ns in REFERENCED:
        page = site / "reference" / ns / "index.html"
        assert page.is_file(), f"no reference page for {ns}"
        ids = set(re.findall(r'id="([\w.]+)"', page.read_text()))
        module = importlib.import_module(ns)
        missing = [n for n in module.__all__ if not _anchors(ns, n, getattr(module, n)) & ids
                   and not isinstance(getattr(module, n), types.ModuleType)]
        assert not missing, f"{ns}: not on its reference page: {missing}"


def test_the_site_loads_no_script_style_or_font_from_the_network(site):
    remote = re.compile(r'<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)="(https?:)?//', re.I)
    css_remote = re.compile(r'url\(\s*["\']?(https?:)?//|@import\s+["\']?(https?:)?//', re.I)
    pages = list(site.rglob("*.html"))
    assert len(pages) > 20
    for page in pages:
        match = remote.search(page.read_text())
        assert match is None, f"{page.relative_to(site)} loads {match.group(0)!r}"
    for sheet in site.rglob("*.css"):
        assert css_remote.search(sheet.read_text()) is None, sheet
    # highlighted at build time by Pygments, with the style sheet shipped beside
    assert '<span class="' in (site / "how-it-works" / "index.html").read_text()
    assert 'class="doc-signature highlight"' in (site / "reference" / "xform" / "index.html"
                                                 ).read_text()


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def test_the_site_works_in_a_headless_browser(site, tmp_path):
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Quiet, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1200,900"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}/"
        driver.get(base)
        assert driver.title.startswith("xform"), driver.title
        assert "differentiates" in driver.find_element(By.TAG_NAME, "body").text
        driver.get(base + "?q=jacrev")   # the search box, filled from the address
        wait = WebDriverWait(driver, 20)
        links = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR,
                                                     "#mkdocs-search-results a") or False)
        hrefs = [a.get_attribute("href") for a in links]
        assert any("reference/xform/" in h for h in hrefs), hrefs
        shot = tmp_path / "home.png"
        driver.get(base)
        assert driver.save_screenshot(str(shot))
        data = shot.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 1000
    finally:
        driver.quit()
        server.shutdown()
        server.server_close()
