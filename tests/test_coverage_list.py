"""Every NumPy function name of COVERAGE.md exists in ``xform.numpy``.

The other sections' names (linalg, fft, scipy.*) are listed in coverage_names.py;
their owners pin them with ``missing_names(section)`` when they are complete.
"""
from __future__ import annotations

import pytest

from coverage_names import NAMES, missing_names


@pytest.mark.parametrize("name", NAMES["numpy"])
def test_numpy_name_exists(name: str) -> None:
    assert not missing_names("numpy", [name]), \
        f"xform.numpy.{name} is listed in COVERAGE.md but does not exist"


def test_numpy_names_are_not_duplicated() -> None:
    names = NAMES["numpy"]
    assert len(names) == len(set(names))
