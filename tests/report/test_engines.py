"""The same report from DuckDB and from Spark: the same Ibis expressions, the same figures."""

from __future__ import annotations

import json

import pytest

from custfocus import demo
from custfocus.data.loading import load
from custfocus.report.build import build_report
from custfocus.report.json import dumps

pytestmark = pytest.mark.spark


def _figures(company) -> dict:
    payload = json.loads(dumps(build_report(company)))
    for volatile in ("generated_at", "engine", "run"):  # run: each section's seconds and memory
        payload.pop(volatile)
    return payload


def test_the_report_is_equal_on_duckdb_and_spark(tmp_path, spark_engine, assert_close):
    demo.write(demo.generate(customers=1_200, seed=5), tmp_path)
    duckdb_company, spark_company = load(tmp_path), load(tmp_path, engine=spark_engine)
    # Spark read and checked the files itself: the same rows read, used and rejected.
    assert spark_company.load_report.to_dict() == duckdb_company.load_report.to_dict()
    on_duckdb, on_spark = _figures(duckdb_company), _figures(spark_company)
    assert on_spark["sections"]["pulse"]["data"]["nps"]["n"] > 100
    assert_close(on_spark, on_duckdb)
