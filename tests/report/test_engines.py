"""The same report from DuckDB and from Spark: the same Ibis expressions, the same figures."""

from __future__ import annotations

import json

import pytest

from custfocus.data import demo
from custfocus.data.loading import load
from custfocus.report.build import build_report
from custfocus.report.json import dumps

pytestmark = pytest.mark.spark


def _figures(company) -> dict:
    payload = json.loads(dumps(build_report(company)))
    for volatile in ("generated_at", "engine"):
        payload.pop(volatile)
    return payload


def assert_same(a, b, path="report"):
    """Equal figures; floats to 1e-9 relative, since the engines sum in different orders."""
    if isinstance(a, dict):
        assert a.keys() == b.keys(), path
        for key in a:
            assert_same(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{path}[{i}]")
    elif isinstance(a, float) or isinstance(b, float):
        assert a == pytest.approx(b, rel=1e-9, abs=1e-12), path
    else:
        assert a == b, path


def test_pulse_and_retention_are_equal_on_duckdb_and_spark(tmp_path, spark_engine):
    demo.write(demo.generate(customers=1_200, seed=5), tmp_path)
    on_duckdb = _figures(load(tmp_path))
    on_spark = _figures(load(tmp_path, engine=spark_engine))
    assert on_spark["sections"]["pulse"]["data"]["nps"]["n"] > 100
    assert_same(on_spark, on_duckdb)
