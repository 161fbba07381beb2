"""Smoke test of benchmarks/run_all.py: every workload runs (small sizes) and lands in
the JSON, with every xform result checked against NumPy; no anchor needs to be installed."""
import importlib
import json
import os
import sys
import time

BENCH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "benchmarks")


def _run_all():
    if BENCH not in sys.path:
        sys.path.insert(0, BENCH)
    return importlib.import_module("run_all")


def test_run_all_quick_xform_only(tmp_path, capsys):
    run_all = _run_all()
    out = tmp_path / "results.json"
    t0 = time.perf_counter()
    code = run_all.main(["--quick", "--only", "xform", "--json", str(out)])
    assert time.perf_counter() - t0 < 120  # quick mode stays quick (loose: CI machines are noisy)
    assert code == 0, capsys.readouterr().out
    res = json.loads(out.read_text())
    assert res["systems"] == ["xform", "xform.jit"]
    assert set(res["workloads"]) == set(run_all.WORKLOADS)
    seen = {row["workload"] for row in res["rows"]}
    assert seen == set(run_all.WORKLOADS)
    for row in res["rows"]:
        assert row["numpy"]["median_s"] > 0
        for system in ("xform", "xform.jit"):
            r = row["results"][system]
            assert "median_s" in r and r["ratio"] > 0, (row["name"], system, r)
    assert "| workload | NumPy | xform | xform.jit |" in res["markdown"]


def test_missing_anchor_is_skipped(tmp_path, monkeypatch, capsys):
    run_all = _run_all()
    monkeypatch.setitem(sys.modules, "jax", None)  # import jax now fails, installed or not
    out = tmp_path / "results.json"
    code = run_all.main(["--quick", "--only", "jax", "--workloads", "logreg",
                         "--json", str(out)])
    assert code == 0
    assert "skip jax: not importable" in capsys.readouterr().out
    res = json.loads(out.read_text())
    assert res["systems"] == [] and "jax" in res["skipped_anchors"]
    assert [row["workload"] for row in res["rows"]] == ["logreg"]
