"""Loading and validation on Spark: Spark reads and checks every row, with DuckDB's rules and sentences."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

import custfocus.engine
from custfocus import demo
from custfocus.data.loading import load
from custfocus.report.build import build_report
from custfocus.report.json import dumps

pytestmark = pytest.mark.spark

AS_OF = date(2024, 12, 31)

CUSTOMERS = """customer_id,acquired_at,channel,acquisition_cost
C1,2024-01-01,web,10
C2,2024-01-02,shop,-5
C3,someday,web,3
C1,2024-01-03,web,4
C4,2024-01-04,"web, partner",2
"""

# Mixed bad rows: a bad number, a bad date, a missing id, a repeated order, an unknown customer,
# a date after as_of, a record with one field too many, a blank line, a quoted comma and quote.
TRANSACTIONS = """customer_id,date,amount,order_id,cost,channel
C1,2024-02-01,10.5,O1,1,web
C2,2024-02-02,oops,O2,1,web
,2024-02-03,3,O3,1,web
C3,2024-13-01,4,O4,1,web
C1,2024-02-05,5,O1,1,web
C9,2024-02-06,6,O6,1,web
C1,2024-02-07,7,O7,1,web,surplus

C2,2025-03-01,8,O8,1,web
C4,2024-02-09,9,O9,-2,"shop, ""main"" store"
C4,2024-02-10, 1e400 ,O10,0,web
C2,2024-02-11,11,O11,0,
"""


def _write(folder: Path) -> Path:
    folder.mkdir()
    (folder / "customers.csv").write_text(CUSTOMERS, encoding="utf-8")
    (folder / "transactions.csv").write_text(TRANSACTIONS, encoding="utf-8")
    return folder


def _rows(path: str) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def _outcome(company) -> dict:
    report = company.load_report
    return {
        "problems": sorted((p.table, p.row or 0, p.column or "", p.value or "", p.message) for p in report.problems),
        "counts": {name: (t.read, t.used, t.rejected, dict(t.problem_counts)) for name, t in report.tables.items()},
        "quarantine": {name: _rows(t.rejected_path) for name, t in report.tables.items() if t.rejected_path},
        "valid": {name: table.order_by(list(table.columns)).execute().astype(str).values.tolist()
                  for name, table in company.tables.items()},
    }


def test_bad_rows_are_the_same_problems_and_quarantine_on_spark(tmp_path, spark_engine):
    on_duckdb = _outcome(load(_write(tmp_path / "duckdb"), as_of=AS_OF, on_error="quarantine"))
    spark_folder = _write(tmp_path / "spark")
    on_spark = _outcome(load(spark_folder, as_of=AS_OF, on_error="quarantine", engine=spark_engine))
    assert on_spark["problems"] == on_duckdb["problems"]
    assert on_spark["counts"] == on_duckdb["counts"]
    assert on_spark["quarantine"] == on_duckdb["quarantine"]
    assert on_spark["valid"] == on_duckdb["valid"]
    # What the hostile file holds is all there: an unreadable record, a repeated order, an unknown customer.
    messages = {p[4] for p in on_spark["problems"]}
    assert "has 7 fields where the header has 6" in messages
    assert any(m.startswith("repeats the order_id of an earlier row (row 1)") for m in messages)
    assert "is not a customer_id in the customers table" in messages
    tx = on_spark["counts"]["transactions"]
    assert tx[0] == tx[1] + tx[2] == 11
    unreadable = _rows(str(spark_folder / "rejected" / "transactions.unreadable.csv"))
    assert unreadable == [["_row", "_reason", "line"], ["7", "has 7 fields where the header has 6",
                                                        "C1,2024-02-07,7,O7,1,web,surplus"]]


def test_bytes_that_are_not_utf8_make_a_record_unreadable_on_spark_too(tmp_path, spark_engine):
    data = b"customer_id,date,amount\nC1,2024-01-05,10\nC2,2024-01-06,caf\xe9\nC3,2024-01-07,5\n"
    folders = [tmp_path / "duckdb", tmp_path / "spark"]
    for folder in folders:
        folder.mkdir()
        (folder / "transactions.csv").write_bytes(data)
    on_duckdb = load(folders[0], as_of=AS_OF, on_error="quarantine").load_report.tables["transactions"]
    on_spark = load(folders[1], as_of=AS_OF, on_error="quarantine", engine=spark_engine).load_report.tables["transactions"]
    assert on_spark.problem_counts == on_duckdb.problem_counts == {(None, "is not valid UTF-8"): 1}
    assert [(p.row, p.column) for p in on_spark.problems] == [(p.row, p.column) for p in on_duckdb.problems] == [(2, None)]
    assert on_spark.problems[0].message.startswith("is not valid UTF-8 (a byte read as U+FFFD in field 3)")
    assert (on_spark.read, on_spark.used) == (on_duckdb.read, on_duckdb.used) == (3, 2)


def test_row_numbers_follow_the_file_across_splits(tmp_path, spark_engine):
    """A file Spark splits into several partitions is numbered in file order, as DuckDB numbers it."""
    session = spark_engine.con._session
    lines = [f"C{i},2024-01-{1 + i % 28:02d},{'bad' if i % 997 == 0 else i},O{i}" for i in range(1, 40_001)]
    folder = tmp_path / "big"
    folder.mkdir()
    (folder / "transactions.csv").write_text("customer_id,date,amount,order_id\n" + "\n".join(lines) + "\n")
    previous = session.conf.get("spark.sql.files.maxPartitionBytes")
    session.conf.set("spark.sql.files.maxPartitionBytes", "65536")  # about 20 splits
    try:
        assert session.read.csv(str(folder / "transactions.csv")).rdd.getNumPartitions() > 10
        on_spark = load(folder, as_of=AS_OF, on_error="quarantine", engine=spark_engine).load_report
    finally:
        session.conf.set("spark.sql.files.maxPartitionBytes", previous)
    expected = [i for i in range(1, 40_001) if i % 997 == 0]
    assert [p.row for p in on_spark.problems] == expected
    assert [p.value for p in on_spark.problems] == ["bad"] * len(expected)


def test_no_row_passes_through_duckdb_or_python_on_spark(tmp_path, spark_engine, monkeypatch):
    demo.write(demo.generate(customers=300, seed=3), tmp_path)

    def refused(*args, **kwargs):
        raise AssertionError("DuckDB was started on the Spark path")

    import duckdb
    from pyspark.sql import SparkSession

    monkeypatch.setattr(duckdb, "connect", refused)
    monkeypatch.setattr(custfocus.engine, "duckdb_backend", refused)
    monkeypatch.setattr("custfocus.data.loading.duckdb_backend", refused)
    # Every query Ibis sends to Spark: none may run Python code on rows (a Python UDF's plan node).
    plans = []
    original = SparkSession.sql

    def planned(self, query, *args, **kwargs):
        frame = original(self, query, *args, **kwargs)
        plans.append(frame._jdf.queryExecution().executedPlan().toString())
        return frame

    monkeypatch.setattr(SparkSession, "sql", planned)
    company = load(tmp_path, engine=spark_engine)
    assert company.backend.name == "spark"
    payload = json.loads(dumps(build_report(company)))
    assert payload["sections"]["retention"]["data"]
    assert len(plans) > 50
    assert not [plan for plan in plans if "EvalPython" in plan]


def test_catalog_database_is_read_and_checked_on_spark(tmp_path, spark_engine):
    session = spark_engine.con._session
    folder = _write(tmp_path / "files")
    session.sql("CREATE DATABASE IF NOT EXISTS custfocus_test_company")
    for name in ("customers", "transactions"):
        frame = session.read.csv(str(folder / f"{name}.csv"), header=True)
        frame.write.mode("overwrite").saveAsTable(f"custfocus_test_company.{name}")
    session.sql("CREATE TABLE IF NOT EXISTS custfocus_test_company.transaction (x int)")  # a near miss
    try:
        company = load("spark:custfocus_test_company", as_of=AS_OF, on_error="quarantine", engine=spark_engine,
                       rejected_dir=tmp_path / "rejected")
    finally:
        session.sql("DROP DATABASE custfocus_test_company CASCADE")
    report = company.load_report
    assert report.tables["transactions"].source == "spark:custfocus_test_company table transactions"
    assert "Catalog table transaction is not a table of the data contract. Did you mean transactions?" in report.notes
    # The record with a field too many is not a row of a table; every other bad row is found.
    kinds = {(p.table, p.column, p.message.split(" (")[0]) for p in report.problems}
    assert ("transactions", "amount", "is not a number") in kinds
    assert ("transactions", "customer_id", "is not a customer_id in the customers table") in kinds
    assert ("customers", "acquisition_cost", "is below 0") in kinds
    t = report.tables["transactions"]
    assert t.read == t.used + t.rejected
    assert sorted(company.tables["customers"].customer_id.execute()) == ["C1", "C4"]
    assert (tmp_path / "rejected" / "transactions.csv").is_file()


def test_a_filesystem_url_is_read_by_spark(tmp_path, spark_engine):
    folder = _write(tmp_path / "company")
    (folder / "custfocus.toml").write_text('[company]\nname = "Remote"\nas_of = "2024-12-31"\n')
    session = spark_engine.con._session  # a session of the caller's own, as a notebook has one
    company = load(folder.as_uri(), on_error="quarantine", engine="spark", spark_session=session)
    assert company.backend.con._session is session
    assert company.name == "Remote"
    assert company.as_of == AS_OF
    t = company.load_report.tables["transactions"]
    assert (t.read, t.used, t.rejected) == (11, 1, 10)
    assert t.rejected_path == f"{folder.as_uri()}/rejected/transactions.csv"
    assert (folder / "rejected" / "transactions.csv").is_file()


def test_the_command_line_runs_under_spark_submit(tmp_path):
    """As docs/spark.md says: spark-submit runs custfocus's __main__.py on the master it was given."""
    import custfocus

    demo.write(demo.generate(customers=200, seed=4), tmp_path / "company")
    main = Path(custfocus.__file__).parent / "__main__.py"
    submit = Path(sys.executable).parent / "spark-submit"
    env = os.environ | {"PYSPARK_PYTHON": sys.executable, "PYSPARK_DRIVER_PYTHON": sys.executable,
                        "PYTHONPATH": str(Path(custfocus.__file__).parent.parent)}
    done = subprocess.run([str(submit), "--master", "local[1]", str(main), "nps", str(tmp_path / "company"),
                           "--engine", "spark", "--json"], capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout)["rows"][0]["n"] > 20


def _spark_cases():
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from hostile.cases import encoding_cases, file_kind_cases, id_cases, structure_cases, value_cases

    # Spark reads one record per line (so that a large CSV splits): a quoted field over several lines
    # is unreadable there, as docs/spark.md says.
    cases = [*file_kind_cases(), *structure_cases(), *encoding_cases(), *value_cases(), *id_cases()]
    return [c for c in cases if "multi-line" not in c.name]


@pytest.mark.slow  # about four minutes: a Spark load for each case
@pytest.mark.parametrize("case", _spark_cases(), ids=lambda c: c.id)
def test_hostile_files_end_in_a_load_or_a_sentence_on_spark(case, tmp_path, spark_engine):
    from custfocus.errors import InputError, ValidationFailed

    folder = tmp_path / "company"
    folder.mkdir()
    case.build(folder)
    try:
        report = load(folder, engine=spark_engine).load_report
        said = ""
    except ValidationFailed as failure:
        report = failure.report
        said = "\n".join([p.sentence() for p in report.problems] + report.notes)
    except InputError as failure:
        report, said = None, str(failure)
    if case.expect == "load":
        assert report is not None and report.ok, said
    else:
        assert said, "the run should have stopped with a sentence"
        for word in case.must_say:
            assert word in said, f"{word!r} not in: {said[:2000]}"
    if report is not None:
        for table in report.tables.values():
            assert table.read == table.used + table.rejected, table
        if case.used is not None:
            t = report.tables["transactions"]
            assert (t.used, t.rejected) == (case.used, case.rejected), t
