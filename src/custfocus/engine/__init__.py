"""The one place that decides where table work runs: DuckDB embedded, or Spark.

Analyses are Ibis expressions and never name a backend; they receive tables that live on the
engine chosen here. Only compact results are pulled into Python.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa
import pyarrow.parquet as pq

from custfocus.engine.scratch import remove, scratch_dir

ENGINES = ("duckdb", "spark")


class EngineError(RuntimeError):
    """The requested engine cannot be started (for example Spark without its extra installed)."""


@dataclass
class Engine:
    name: str
    con: Any  # an Ibis backend
    _scratch: Path | None = field(default=None, repr=False)
    _count: int = field(default=0, repr=False)

    def from_frame(self, name: str, frame) -> ibis.Table:
        """Put a pandas DataFrame or pyarrow Table on this engine as table ``name``."""
        if self.name == "duckdb":
            return self.con.create_table(name, frame, overwrite=True)
        # Through Parquet, as adopt does: Spark's own pandas conversion turns missing strings into 'NaN'.
        arrow = frame if isinstance(frame, pa.Table) else pa.Table.from_pandas(frame, preserve_index=False)
        path = self._scratch_path(name)
        pq.write_table(arrow, path)
        return self.con.read_parquet(str(path), table_name=name)

    def _scratch_path(self, name: str) -> Path:
        if self._scratch is None:
            # Spark reads these files lazily, so they live as long as this engine (or the process).
            self._scratch = scratch_dir("custfocus-", owner=self)
        self._count += 1
        return self._scratch / f"{name}-{self._count}.parquet"

    def adopt(self, name: str, table: ibis.Table) -> ibis.Table:
        """Hand a (validated) table from the DuckDB loader to this engine, through Parquet, so the
        data never passes through Python."""
        path = self._scratch_path(name)
        table.to_parquet(path)
        return self.con.read_parquet(str(path), table_name=name)

    def close(self) -> None:
        """Remove this engine's scratch files (its tables that live in them are gone after this)."""
        if self._scratch is not None:
            remove(self._scratch)
            self._scratch = None


def sql_literal(value: str) -> str:
    """``value`` as a SQL string literal: the only way a user's text may enter a SQL statement."""
    return "'" + str(value).replace("'", "''") + "'"


def sql_identifier(name: str) -> str:
    return '"' + str(name).replace('"', '""') + '"'


def connect(engine: str = "duckdb", *, spark_session=None) -> Engine:
    """Start the engine by name. ``spark_session`` lets a caller pass a session it already has."""
    if engine == "duckdb":
        return Engine("duckdb", ibis.duckdb.connect())
    if engine == "spark":
        return Engine("spark", ibis.pyspark.connect(spark_session or local_spark_session()))
    raise EngineError(f"Unknown engine '{engine}': choose one of {', '.join(ENGINES)}.")


def local_spark_session():
    """A small local PySpark session (one per process; Spark reuses it)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as err:
        raise EngineError(
            "The Spark engine needs PySpark: install custfocus with the 'spark' extra "
            "(pip install 'custfocus[spark]')."
        ) from err
    return (
        SparkSession.builder.master("local[2]")
        .appName("custfocus")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", "2g")
        # A private warehouse: a left-over ./spark-warehouse makes the next session's tables fail.
        .config("spark.sql.warehouse.dir", str(scratch_dir("custfocus-spark-")))
        .getOrCreate()
    )
