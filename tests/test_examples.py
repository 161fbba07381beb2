"""Every script in ``examples/`` runs in its fast mode, returns sensible numbers
and writes its PNG (when matplotlib is importable); without matplotlib the
scripts still run and only skip the plot."""
from __future__ import annotations

import importlib.util
import math
import sys
import types
from pathlib import Path
from typing import Any, Callable

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SCRIPTS = sorted(EXAMPLES.glob("*.py"))

try:
    import matplotlib  # noqa: F401
    HAVE_MATPLOTLIB = True
except ImportError:
    HAVE_MATPLOTLIB = False


def load(path: Path) -> types.ModuleType:
    """Import an example by file path (the examples folder is not a package)."""
    spec = importlib.util.spec_from_file_location(f"xform_example_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def check_tanh_derivatives(r: dict[str, float]) -> None:
    assert r["max_error_elementwise"] < 1e-10
    assert r["max_error_vmap"] < 1e-10


def check_linear_regression(r: dict[str, float]) -> None:
    assert r["final_loss"] < r["initial_loss"] / 50
    assert r["final_loss"] == pytest.approx(r["lstsq_loss"], rel=1e-6)
    assert r["w"] == pytest.approx(2.5, abs=0.2) and r["b"] == pytest.approx(-1.0, abs=0.2)


def check_polynomial_regression(r: dict[str, float]) -> None:
    assert r["final_loss"] < r["initial_loss"] / 50
    assert r["final_loss"] < 1.2 * r["lstsq_loss"]


def check_neural_net_regression(r: dict[str, float]) -> None:
    assert r["final_loss"] < r["initial_loss"] / 30


def check_logistic_regression(r: dict[str, float]) -> None:
    assert r["final_loss"] < 0.5 * r["initial_loss"]
    assert r["accuracy"] > 0.85


def check_fluid_simulation(r: dict[str, float]) -> None:
    assert r["final_loss"] < r["initial_loss"] / 10
    assert r["iterations"] >= 10


def check_hyperparameter_optimization(r: dict[str, float]) -> None:
    assert r["fd_relative_error"] < 1e-5
    assert r["final_val_loss"] < 0.85 * r["initial_val_loss"]


def check_jacobian_timing(r: dict[str, float]) -> None:
    assert r["max_abs_error"] < 1e-10
    # the extremes differ by ~50x, so these hold even on a noisy machine
    assert r["fwd_over_rev_widest"] > 1.0  # few outputs, many inputs: reverse wins
    assert r["fwd_over_rev_tallest"] < 1.0  # many outputs, few inputs: forward wins


def check_scipy_minimize(r: dict[str, float]) -> None:
    assert r["derivative_error"] < 1e-12
    for method in ("bfgs", "newton_cg", "trust_krylov"):
        for tag in ("2d", "nd"):
            assert r[f"{method}_{tag}_success"] == 1.0, (method, tag)
            assert r[f"{method}_{tag}_error"] < 1e-5, (method, tag)


def check_digits_classifier(r: dict[str, float]) -> None:
    assert r["accuracy"] >= 0.95
    assert r["final_loss"] < r["initial_loss"] / 10


CHECKS: dict[str, Callable[[dict[str, float]], None]] = {
    "tanh_derivatives": check_tanh_derivatives,
    "linear_regression": check_linear_regression,
    "polynomial_regression": check_polynomial_regression,
    "neural_net_regression": check_neural_net_regression,
    "logistic_regression": check_logistic_regression,
    "fluid_simulation": check_fluid_simulation,
    "hyperparameter_optimization": check_hyperparameter_optimization,
    "jacobian_timing": check_jacobian_timing,
    "scipy_minimize": check_scipy_minimize,
    "digits_classifier": check_digits_classifier,
}


def test_every_example_is_checked() -> None:
    assert {p.stem for p in SCRIPTS} == set(CHECKS)


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_example_runs(script: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    module = load(script)
    assert module.__doc__ and "Run:" in module.__doc__
    result: Any = module.main(fast=True, out=str(tmp_path))
    assert isinstance(result, dict) and result
    for key, value in result.items():
        assert isinstance(value, float) and not math.isinf(value), (key, value)
    CHECKS[script.stem](result)
    assert capsys.readouterr().out.strip(), "an example should print a summary"
    png = tmp_path / f"{script.stem}.png"
    if HAVE_MATPLOTLIB:
        assert png.is_file() and png.stat().st_size > 1000
    else:
        assert not png.exists()


@pytest.fixture
def no_matplotlib(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``import matplotlib`` fail, as if it were not installed."""
    for name in list(sys.modules):
        if name == "matplotlib" or name.startswith("matplotlib."):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)


@pytest.mark.usefixtures("no_matplotlib")
def test_examples_import_without_matplotlib() -> None:
    for script in SCRIPTS:
        assert load(script).plt is None, script.stem


@pytest.mark.usefixtures("no_matplotlib")
@pytest.mark.parametrize("name", ["tanh_derivatives", "logistic_regression"])
def test_example_runs_without_matplotlib(name: str, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    load(EXAMPLES / f"{name}.py").main(fast=True, out=str(tmp_path))
    assert "skipping the plot" in capsys.readouterr().out
    assert not list(tmp_path.glob("*.png"))
