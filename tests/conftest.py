"""Shared fixtures: the two engines, so tests can run the same expressions on both."""

from __future__ import annotations

import pytest

from custfocus.engine import connect


@pytest.fixture
def duckdb_engine():
    return connect("duckdb")


@pytest.fixture(scope="session")
def spark_engine():
    """One local Spark session for the whole run (it takes seconds to start)."""
    return connect("spark")


@pytest.fixture(params=["duckdb", pytest.param("spark", marks=pytest.mark.spark)])
def any_engine(request):
    """Run a test once per engine; the Spark run carries the ``spark`` mark."""
    if request.param == "spark":
        return request.getfixturevalue("spark_engine")
    return connect("duckdb")


def _assert_close(left, right, path="data"):
    """Equal nested figures; floats to 1e-9, since engines sum in different orders."""
    if isinstance(left, dict):
        assert left.keys() == right.keys(), path
        for key in left:
            _assert_close(left[key], right[key], f"{path}.{key}")
    elif isinstance(left, list):
        assert len(left) == len(right), path
        for i, (a, b) in enumerate(zip(left, right, strict=True)):
            _assert_close(a, b, f"{path}[{i}]")
    elif isinstance(left, float) or isinstance(right, float):
        assert left == pytest.approx(right, rel=1e-9, abs=1e-9), path
    else:
        assert left == right, path


@pytest.fixture
def assert_close():
    """``assert_close(a, b)``: the same JSON-like figures from two engines."""
    return _assert_close
