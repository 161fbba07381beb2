"""A slow jit trace and compile says so on the "xform" logger (config.jit_log_compile_seconds)."""
from __future__ import annotations

import logging

import numpy as onp
import pytest

import xform
import xform.numpy as np


@pytest.fixture
def threshold():
    saved = xform.config.jit_log_compile_seconds
    yield lambda seconds: xform.config.update("jit_log_compile_seconds", seconds)
    xform.config.update("jit_log_compile_seconds", saved)


def test_a_compile_over_the_threshold_logs_one_line(caplog, threshold):
    threshold(0.0)

    def slow_to_compile(x, y):
        return np.sum(np.sin(x) * y)

    f = xform.jit(slow_to_compile)
    with caplog.at_level(logging.INFO, logger="xform"):
        f(onp.ones(3), 2.0)
        f(onp.ones(3), 3.0)          # same signature: no second compile, no second line
    records = [r for r in caplog.records if r.name == "xform"]
    assert len(records) == 1, [r.getMessage() for r in records]
    message = records[0].getMessage()
    assert records[0].levelno == logging.INFO
    assert "`slow_to_compile`" in message and "(f64[3], f64[])" in message, message
    assert " s (" in message and "equations" in message, message


def test_a_quick_compile_under_the_default_threshold_is_silent(caplog):
    assert xform.config.jit_log_compile_seconds == 3.0
    with caplog.at_level(logging.INFO, logger="xform"):
        xform.jit(lambda x: x * 2.0)(onp.ones(2))
    assert not [r for r in caplog.records if r.name == "xform"]


def test_the_threshold_must_be_a_number_of_seconds(threshold):
    with pytest.raises(ValueError, match="jit_log_compile_seconds must be a number"):
        threshold(-1.0)
    with pytest.raises(ValueError, match="jit_log_compile_seconds must be a number"):
        threshold("soon")
