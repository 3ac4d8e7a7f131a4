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
