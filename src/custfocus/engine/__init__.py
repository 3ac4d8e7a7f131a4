"""The one place that decides where table work runs: DuckDB embedded, or Spark.

Analyses are Ibis expressions and never name a backend; they receive tables that live on the
engine chosen here. Only compact results are pulled into Python.

DuckDB's memory is bounded by its own ``memory_limit`` and what does not fit spills to a temporary
directory, so a company larger than memory still runs. The limit defaults to half of the machine's
memory (or of the container's limit), leaving the rest to Python and to other programs; set it with
``connect(memory_limit="6GB")``, the environment variable ``CUSTFOCUS_MEMORY_LIMIT`` or the command
line's ``--memory-limit``; the spill directory likewise with ``temp_directory`` /
``CUSTFOCUS_TEMP_DIRECTORY`` (default: a fresh folder in the system's temporary directory, removed
at exit).
"""

from __future__ import annotations

import os
import re
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa
import pyarrow.parquet as pq

from custfocus.engine.scratch import remove, scratch_dir

ENGINES = ("duckdb", "spark")
SPARK_LOG_LEVEL_ENV = "CUSTFOCUS_SPARK_LOG_LEVEL"  # e.g. WARN or INFO to see Spark's own logging
SPARK_SUBMIT_ENV = "PYSPARK_GATEWAY_PORT"  # set when spark-submit runs this process (its JVM is started)
MEMORY_LIMIT_ENV = "CUSTFOCUS_MEMORY_LIMIT"
TEMP_DIRECTORY_ENV = "CUSTFOCUS_TEMP_DIRECTORY"
MEMORY_SHARE = 0.5  # of the machine's memory for DuckDB by default
_SIZE = re.compile(r"^\s*\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)\s*$", re.IGNORECASE)


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


def keep(table: ibis.Table) -> ibis.Table:
    """``table`` computed once, for expressions that several queries read.

    DuckDB writes it to a Parquet file in its spill folder and reads that file from then on: no
    memory is held (``Table.cache()`` would keep every row in memory, uncompressed), and the file
    goes when no expression refers to the kept table any more. Spark gets ``table`` back unchanged
    and recomputes it for each query: Ibis's PySpark cache does not carry the in-memory tables an
    expression joins (the values predicted in Python), and a file on the driver is not one a
    cluster's executors can read."""
    backend = ibis.get_backend(table)
    if backend.name != "duckdb":
        return table
    name = ibis.util.gen_name("kept")
    path = _kept_folder(backend) / f"{name}.parquet"
    table.to_parquet(path)
    kept = backend.read_parquet(path, table_name=name)
    weakref.finalize(kept.op(), _forget_kept, weakref.ref(backend.con), name, path)
    return kept


def _kept_folder(backend) -> Path:
    """DuckDB's spill folder; this process's own when that one is relative (DuckDB's default, in
    the working directory) or its name would need quoting in SQL."""
    folder = backend.con.execute("SELECT current_setting('temp_directory')").fetchone()[0]
    if not folder or not Path(folder).is_absolute() or "'" in folder or '"' in folder:
        return _spill_directory()
    Path(folder).mkdir(parents=True, exist_ok=True)
    return Path(folder)


def _forget_kept(con: weakref.ref, name: str, path: Path) -> None:
    connection = con()
    if connection is not None:
        try:
            connection.execute(f"DROP VIEW IF EXISTS {sql_identifier(name)}")
        except Exception:  # a connection already closed took its views with it
            pass
    path.unlink(missing_ok=True)


def sql_literal(value: str) -> str:
    """``value`` as a SQL string literal: the only way a user's text may enter a SQL statement."""
    return "'" + str(value).replace("'", "''") + "'"


def sql_identifier(name: str) -> str:
    return '"' + str(name).replace('"', '""') + '"'


def connect(engine: str = "duckdb", *, spark_session=None, spark_master: str | None = None,
            memory_limit: str | None = None, temp_directory: str | Path | None = None) -> Engine:
    """Start the engine by name. ``spark_session`` lets a caller pass a session it already has,
    ``spark_master`` names the cluster to start one on (see :func:`spark_session`);
    ``memory_limit`` (e.g. "6GB") and ``temp_directory`` bound DuckDB (see the module doc)."""
    if engine == "duckdb":
        return Engine("duckdb", duckdb_backend(memory_limit, temp_directory))
    if engine == "spark":
        return Engine("spark", ibis.pyspark.connect(spark_session or start_spark_session(spark_master)))
    raise EngineError(f"Unknown engine '{engine}': choose one of {', '.join(ENGINES)}.")


def duckdb_backend(memory_limit: str | None = None, temp_directory: str | Path | None = None):
    """An embedded DuckDB (an Ibis backend) whose memory is bounded and which spills to disk."""
    limit = memory_limit or os.environ.get(MEMORY_LIMIT_ENV) or default_memory_limit()
    if limit is not None and not _SIZE.match(str(limit)):
        raise EngineError(f"The memory limit '{limit}' is not a size: write it like 6GB or 500MB.")
    folder = temp_directory or os.environ.get(TEMP_DIRECTORY_ENV) or _spill_directory()
    # Both values are checked or ours before they reach SQL: a size matched above, a folder quoted.
    config = {"temp_directory": str(folder)}
    if limit is not None:
        config["memory_limit"] = str(limit).replace(" ", "")
    backend = ibis.duckdb.connect(**config)
    # Progress is tracked, not printed, so that the command line can show it (query_progress).
    backend.con.execute("SET enable_progress_bar = true; SET enable_progress_bar_print = false")
    _latest.clear()
    _latest.append(weakref.ref(backend.con))
    return backend


_latest: list[weakref.ref] = []  # the DuckDB connection this process started last


def query_progress() -> float | None:
    """Percent done (0-100) of the query running on the DuckDB this process started last, or None
    when none is running. Safe to call from another thread while the query runs."""
    con = _latest[0]() if _latest else None
    try:
        done = con.query_progress() if con is not None else -1
    except Exception:  # a closed connection, or a DuckDB without progress tracking
        return None
    return done if done >= 0 else None


def default_memory_limit() -> str | None:
    """:data:`MEMORY_SHARE` of the machine's (or the container's) memory, as DuckDB reads it;
    None when it cannot be told (DuckDB then keeps its own default)."""
    total = _machine_memory()
    return f"{max(int(total * MEMORY_SHARE / 2**20), 256)}MiB" if total else None


def _machine_memory() -> int | None:
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        total = None
    try:  # a container's own limit (cgroup v2) when it is lower
        text = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        if text.isdigit():
            total = min(total or int(text), int(text))
    except OSError:
        pass
    return total


_spill: list[Path] = []


def _spill_directory() -> Path:
    """One fresh spill folder per process, removed when the process ends."""
    if not _spill:
        _spill.append(scratch_dir("custfocus-spill-"))
    return _spill[0]


def start_spark_session(master: str | None = None):
    """A PySpark session (one per process; Spark reuses it): on ``master`` (a cluster's URL, e.g.
    spark://host:7077 or yarn) when given; under spark-submit, on the master spark-submit was given;
    else a small local one."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as err:
        raise EngineError(
            "The Spark engine needs PySpark: install custfocus with the 'spark' extra "
            "(pip install 'custfocus[spark]')."
        ) from err
    builder = (
        SparkSession.builder.appName("custfocus")
        .config("spark.driver.extraJavaOptions", f"-Dlog4j.configurationFile={_spark_log_config()}")
        .config("spark.ui.showConsoleProgress", "false")  # its stage bars would cover ours
    )
    if master is None and SPARK_SUBMIT_ENV in os.environ:
        # spark-submit set the master, the cluster's settings and its logging: quiet from here on.
        session = builder.getOrCreate()
        session.sparkContext.setLogLevel(_spark_log_level())
        return session
    if master is not None and master != "local" and not master.startswith("local["):
        return builder.master(master).getOrCreate()
    return (
        builder.master(master or "local[2]")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", "2g")
        # A private warehouse: a left-over ./spark-warehouse makes the next session's tables fail.
        .config("spark.sql.warehouse.dir", str(scratch_dir("custfocus-spark-")))
        .getOrCreate()
    )


def _spark_log_level() -> str:
    level = os.environ.get(SPARK_LOG_LEVEL_ENV, "ERROR").strip().upper()
    if level not in ("OFF", "FATAL", "ERROR", "WARN", "INFO", "DEBUG", "TRACE", "ALL"):
        raise EngineError(f"{SPARK_LOG_LEVEL_ENV} '{level}' is not a log level: use ERROR, WARN, INFO or DEBUG.")
    return level


def _spark_log_config() -> Path:
    """A log4j2 configuration that keeps Spark's logging out of the user's terminal: errors only,
    unless ``CUSTFOCUS_SPARK_LOG_LEVEL`` asks for more."""
    level = _spark_log_level()
    path = scratch_dir("custfocus-spark-log-") / "log4j2.properties"
    path.write_text(
        f"rootLogger.level = {level}\n"
        # PySpark sets the shell's level (WARN, announced on stderr) unless its logger has one.
        "logger.gateway.name = org.apache.spark.api.python.PythonGatewayServer\n"
        f"logger.gateway.level = {level}\n"
        "rootLogger.appenderRef.stderr.ref = console\n"
        "appender.console.type = Console\n"
        "appender.console.name = console\n"
        "appender.console.target = SYSTEM_ERR\n"
        "appender.console.layout.type = PatternLayout\n"
        "appender.console.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n\n",
        encoding="utf-8")
    return path
