"""The engine's bounds: DuckDB's memory limit and spill folder, Spark's logging."""

from __future__ import annotations

import pytest

from custfocus.engine import (
    MEMORY_LIMIT_ENV,
    SPARK_LOG_LEVEL_ENV,
    TEMP_DIRECTORY_ENV,
    EngineError,
    _spark_log_config,
    connect,
    default_memory_limit,
)


def setting(engine, name: str) -> str:
    return engine.con.raw_sql(f"SELECT current_setting('{name}')").fetchone()[0]


def test_duckdb_is_bounded_by_half_the_machine_by_default(monkeypatch):
    monkeypatch.delenv(MEMORY_LIMIT_ENV, raising=False)
    monkeypatch.delenv(TEMP_DIRECTORY_ENV, raising=False)
    import os

    machine = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    limit_mib = int(default_memory_limit().removesuffix("MiB"))
    assert limit_mib * 2**20 <= machine * 0.5
    engine = connect("duckdb")
    # DuckDB shows its limit in GiB or MiB, rounded.
    shown = setting(engine, "memory_limit")
    value, unit = float(shown.split()[0]), shown.split()[1]
    assert value * {"GiB": 1024, "MiB": 1}[unit] == pytest.approx(limit_mib, rel=0.01)
    assert "custfocus-spill-" in setting(engine, "temp_directory")


def test_limits_are_overridable_by_argument_and_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "3GB")
    monkeypatch.setenv(TEMP_DIRECTORY_ENV, str(tmp_path / "spill"))
    engine = connect("duckdb")
    assert setting(engine, "memory_limit") == "2.7 GiB"  # DuckDB's GB are 10^9 bytes
    assert setting(engine, "temp_directory") == str(tmp_path / "spill")
    assert setting(connect("duckdb", memory_limit="500MB"), "memory_limit") == "476.8 MiB"


def test_a_memory_limit_that_is_not_a_size_is_a_sentence():
    with pytest.raises(EngineError, match="'lots; DROP TABLE x' is not a size"):
        connect("duckdb", memory_limit="lots; DROP TABLE x")


def test_spark_logs_errors_only_unless_asked(monkeypatch):
    monkeypatch.delenv(SPARK_LOG_LEVEL_ENV, raising=False)
    assert "rootLogger.level = ERROR" in _spark_log_config().read_text()
    monkeypatch.setenv(SPARK_LOG_LEVEL_ENV, "warn")
    assert "rootLogger.level = WARN" in _spark_log_config().read_text()
    monkeypatch.setenv(SPARK_LOG_LEVEL_ENV, "loud")
    with pytest.raises(EngineError, match="not a log level"):
        _spark_log_config()
