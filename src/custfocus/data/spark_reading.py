"""Reading a company's tables with Spark, so that on a cluster no row passes through this process.

The same tables as :mod:`custfocus.data.reading` (columns by position, ``_cf_c0``, ...; ``_cf_row`` the
data row counted from 1 after the header, in file order), but read by Spark from what it can reach: a
local folder, a filesystem URL (``hdfs://``, ``s3a://``, ``file://``, ...) or a database of the Spark
catalog (``spark:DBNAME``). Only compact results come back: a file's header line, the row count of
each file split, the settings files.

CSV is read in Spark's PERMISSIVE mode: a record it cannot read (too many or too few fields) is kept
with its text in a corrupt-record column and reported as unreadable, never dropped; so is a record
with bytes that are not UTF-8 (which Spark reads as U+FFFD).

Row numbers scale out: ``monotonically_increasing_id`` is (partition << 33) + the row's index in its
partition, so counting the rows of each file split (one small row per split) gives every split's
offset, and a row's number is its split's offset plus its index, with no window over all rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import ibis

from custfocus.data.contract import TABLES
from custfocus.data.reading import (
    ROW,
    TABLE_SUFFIXES,
    RawTable,
    Reader,
    column_name,
    first_line_of,
    named_only,
    split_suffix,
)
from custfocus.data.settings import ASSESSMENT_FILE, SETTINGS_FILE, VOICE_FILE
from custfocus.data.validation import suggest_table
from custfocus.errors import InputError

CATALOG_PREFIX = "spark:"  # --source spark:DBNAME reads the tables of a database in Spark's catalog
# URL schemes of the filesystems Spark reads through Hadoop; other URLs are databases (duckdb://, ...).
FILESYSTEM_SCHEMES = ("file", "hdfs", "webhdfs", "viewfs", "s3", "s3a", "s3n", "gs", "abfs", "abfss",
                      "wasb", "wasbs", "adl", "oss", "dbfs")
UNREADABLE = "_cf_unreadable"  # Spark's corrupt-record column: the text of a record it could not read
_INDEX_BITS = 33  # monotonically_increasing_id: the partition above these bits, the index below


def catalog_database(source) -> str | None:
    """The database named by ``spark:DBNAME``, else None."""
    text = str(source)
    if not text.startswith(CATALOG_PREFIX) or text.startswith("spark://"):
        return None
    return text.removeprefix(CATALOG_PREFIX)


def is_filesystem_url(source) -> bool:
    return urlsplit(str(source)).scheme.lower() in FILESYSTEM_SCHEMES and "://" in str(source)


def reads_on_spark(source) -> bool:
    """Whether Spark can read ``source`` itself: a folder, a filesystem URL or a catalog database (a
    data frame is in this process already, another database URL is read through Ibis)."""
    if isinstance(source, dict):
        return False
    return catalog_database(source) is not None or is_filesystem_url(source) or "://" not in str(source)


def spark_location(path) -> str:
    """What Spark is given to read: a local path as a file: URI (so a cluster whose default filesystem
    is HDFS still reads it locally), a URL as it is."""
    return Path(path).resolve().as_uri() if isinstance(path, Path) else str(path)


@dataclass(frozen=True)
class Location:
    """A file behind a URL, named like a path in the reader's sentences."""

    url: str

    @property
    def name(self) -> str:
        return self.url.rstrip("/").rsplit("/", 1)[-1]

    def __str__(self) -> str:
        return self.url


class SparkReader(Reader):
    """Reads tables onto ``con``, an Ibis PySpark backend: Spark reads every row."""

    def __init__(self, con, progress):
        super().__init__(con, None, progress)
        self.session = con._session
        # Spark's CSV reader parses only the columns a query uses unless told otherwise, and a record
        # with too many fields is then no longer seen as unreadable: parse whole records, always.
        self.session.conf.set("spark.sql.csv.parser.columnPruning.enabled", "false")

    # -- sources ---------------------------------------------------------------------------------

    def database(self, url: str) -> dict[str, RawTable]:
        database = catalog_database(url)
        if database is not None:
            return self._catalog(database)
        return self._remote_folder(url)

    def _remote_folder(self, url: str) -> dict[str, RawTable]:
        found: dict[str, RawTable] = {}
        for name, location, is_dir in list_folder(self.session, url):
            if name.startswith((".", "_")) or name in (SETTINGS_FILE, ASSESSMENT_FILE, VOICE_FILE):
                continue
            stem, suffix = split_suffix(name)
            if stem in TABLES and suffix in TABLE_SUFFIXES:
                if stem in found:
                    found[stem] = RawTable(stem, location, failure=(
                        f"the folder has more than one file for {stem} ({Location(found[stem].source).name} "
                        f"and {name}); keep one of them"))
                    continue
                self.progress(f"Reading {name}")
                found[stem] = self._remote_file(stem, Location(location), suffix, is_dir)
            elif suffix in TABLE_SUFFIXES:
                guess = suggest_table(stem, TABLES)
                hint = f" Did you mean {guess}{suffix}?" if guess else ""
                self.notes.append(f"{name} is not a table of the data contract and was not read.{hint}")
        return found

    def _remote_file(self, name: str, location: Location, suffix: str, is_dir: bool) -> RawTable:
        if suffix == ".parquet":
            return self._parquet(name, location, str(location))
        if is_dir:
            return RawTable(name, str(location), failure=f"{location.name} is a folder, not a file")
        try:  # the header line only: Spark decompresses a .gz file itself
            first = self.session.read.text(str(location)).first()
        except Exception as err:
            return RawTable(name, str(location), failure=f"{location.name} cannot be read ({first_line_of(err)})")
        if first is None:
            return RawTable(name, str(location), failure=f"{location.name} is empty (0 bytes)")
        return self._csv(name, location, first[0].encode("utf-8", "surrogateescape") + b"\n",
                         suffix == ".csv.gz")

    def _catalog(self, database: str) -> dict[str, RawTable]:
        try:
            names = {t.name for t in self.session.catalog.listTables(database)}
        except Exception as err:
            raise InputError(f"Cannot read the database '{database}' of the Spark catalog (from --source "
                             f"'{CATALOG_PREFIX}{database}'): {first_line_of(err).rstrip('.')}.") from None
        return self.tables(names, lambda name: self.con.table(name, database=database),
                           f"{CATALOG_PREFIX}{database}", "catalog")

    def frames(self, frames: dict) -> dict[str, RawTable]:
        raise TypeError("data frames are read by the DuckDB reader and handed to Spark")

    # -- files -----------------------------------------------------------------------------------

    def _csv_rows(self, name: str, path, columns: list[str], delimiter: str, compressed: bool) -> RawTable:
        from pyspark.sql import functions as F
        from pyspark.sql.types import StringType, StructField, StructType

        positions = [column_name(i) for i in range(len(columns))]
        schema = StructType([StructField(p, StringType()) for p in [*positions, UNREADABLE]])
        try:
            frame = self.session.read.csv(
                spark_location(path), schema=schema, header=True, sep=delimiter, quote='"', escape='"',
                encoding="UTF-8", mode="PERMISSIVE", columnNameOfCorruptRecord=UNREADABLE, multiLine=False)
            numbered = number_rows(self.session, frame)
        except Exception as err:
            return RawTable(name, str(path), failure=f"{path.name} cannot be read as CSV ({first_line_of(err)})")
        line = F.col(UNREADABLE)
        # Spark reads bytes that are not UTF-8 as U+FFFD: the first field that has one, else null.
        not_utf8 = F.coalesce(*[F.when(F.instr(p, "\ufffd") > 0, F.lit(i + 1)) for i, p in enumerate(positions)])
        numbered = numbered.withColumn("_cf_not_utf8", not_utf8)
        readable = numbered.where(line.isNull() & F.col("_cf_not_utf8").isNull()).drop(UNREADABLE, "_cf_not_utf8")
        fields = F.regexp_count(line, F.lit(_field_pattern(delimiter)))
        reason = (
            F.when(line.isNull(), F.format_string(
                "is not valid UTF-8 (a byte read as U+FFFD in field %d); save the file with UTF-8 encoding",
                F.col("_cf_not_utf8")))
            .when(fields != len(columns), F.format_string(f"has %d fields where the header has {len(columns)}", fields))
            .otherwise(F.lit("cannot be read as CSV")))
        text = F.coalesce(line, F.concat_ws(delimiter, *[F.coalesce(F.col(p), F.lit("")) for p in positions]))
        unreadable = numbered.where(line.isNotNull() | F.col("_cf_not_utf8").isNotNull()).select(
            ROW, reason.alias("_cf_reason"), text.alias("_cf_line"))
        return RawTable(name, str(path), columns, named_only(self._register(name, readable), columns, ROW),
                        unreadable_table=self._register(f"{name}_unreadable", unreadable))

    def _read_parquet(self, path, pattern: str) -> ibis.Table:
        # A folder of Parquet files is read with every file below it, as DuckDB's **/*.parquet is.
        return self.con.read_parquet(spark_location(path), recursiveFileLookup="true")

    def _parquet_rows(self, name: str, path, pattern: str, table: ibis.Table, columns: list[str]) -> RawTable:
        return RawTable(name, str(path), columns, self._positional(name, table, columns))

    def _positional(self, name: str, table: ibis.Table, columns: list[str]) -> ibis.Table:
        positional = super()._positional(name, table, columns)
        return self._register(name, number_rows(self.session, self.con.raw_sql(self.con.compile(positional))))

    def _register(self, name: str, frame) -> ibis.Table:
        view = ibis.util.gen_name(f"custfocus_raw_{name}")
        frame.createOrReplaceTempView(view)
        return self.con.table(view)


def number_rows(session, frame):
    """``frame`` with ``_cf_row``: its rows numbered from 1 in file order (files by name, then the
    place in the file), from one small count per file split rather than a window over all rows."""
    from pyspark.sql import functions as F

    tagged = frame.select(
        "*", F.monotonically_increasing_id().alias("_cf_id"), F.input_file_name().alias("_cf_file"),
        F.input_file_block_start().alias("_cf_block"))
    tagged = tagged.withColumn("_cf_part", F.shiftright("_cf_id", _INDEX_BITS))
    index = F.col("_cf_id").bitwiseAND((1 << _INDEX_BITS) - 1)
    splits = (tagged.groupBy("_cf_part", "_cf_file", "_cf_block")
              .agg(F.min(index).alias("first"), F.count(F.lit(1)).alias("rows")).collect())
    shifts, offset = [], 0
    for split in sorted(splits, key=lambda s: (s["_cf_file"], s["_cf_block"], s["_cf_part"])):
        shifts.append((split["_cf_part"], split["_cf_file"], split["_cf_block"], offset - split["first"] + 1))
        offset += split["rows"]
    if not shifts:
        return frame.select(F.lit(None).cast("bigint").alias(ROW), "*")
    # As literals: a data frame made from Python rows would start Python workers to read them.
    table = session.range(1).select(F.inline(F.array(*[
        F.struct(F.lit(part).cast("bigint").alias("_cf_part"), F.lit(file).alias("_cf_file"),
                 F.lit(block).cast("bigint").alias("_cf_block"), F.lit(shift).cast("bigint").alias("_cf_shift"))
        for part, file, block, shift in shifts])))
    joined = tagged.join(F.broadcast(table), ["_cf_part", "_cf_file", "_cf_block"])
    return joined.select((index + F.col("_cf_shift")).alias(ROW), *[frame[_quoted(c)] for c in frame.columns])


def _field_pattern(delimiter: str) -> str:
    """A Java regex with one match per field of a CSV record (quoted fields may hold the delimiter)."""
    d = "\\" + delimiter if delimiter in "|\\" else delimiter
    return f'(?:^|{d})(?:"(?:[^"]|"")*"|[^{d}]*)'


def _quoted(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


# -- files on any filesystem Spark reaches ---------------------------------------------------------


def _filesystem(session, url: str):
    jvm = session._jvm
    path = jvm.org.apache.hadoop.fs.Path(url)
    return path, path.getFileSystem(session._jsc.hadoopConfiguration())


def list_folder(session, url: str) -> list[tuple[str, str, bool]]:
    """(name, URL, is a folder) of each entry of the folder at ``url``, sorted by name."""
    try:
        path, fs = _filesystem(session, url)
        if not fs.exists(path):
            raise InputError(f"There is no folder '{url}'.")
        if not fs.getFileStatus(path).isDirectory():
            raise InputError(f"'{url}' is a file; give the folder that holds the company's tables.")
        entries = [(s.getPath().getName(), s.getPath().toString(), s.isDirectory()) for s in fs.listStatus(path)]
    except InputError:
        raise
    except Exception as err:
        raise InputError(f"The folder '{url}' cannot be opened: {first_line_of(err)}.") from None
    return sorted(entries)


def copy_settings_files(session, url: str, target: Path) -> Path:
    """The folder's settings files (custfocus.toml, voice.toml, assessment.toml), copied into
    ``target/<folder name>`` so that they are read like a local folder's."""
    folder = target / (url.rstrip("/").rsplit("/", 1)[-1] or "company")
    folder.mkdir(parents=True, exist_ok=True)
    present = {name for name, _, is_dir in list_folder(session, url) if not is_dir}
    for name in (SETTINGS_FILE, VOICE_FILE, ASSESSMENT_FILE):
        if name in present:
            row = session.read.text(f"{url.rstrip('/')}/{name}", wholetext=True).first()
            (folder / name).write_text(row[0] if row else "", encoding="utf-8")
    return folder


def remove_files(session, url: str, names: list[str]) -> None:
    """Remove the files ``names`` from the folder at ``url``, and the folder once it is empty."""
    folder, fs = _filesystem(session, url)
    if not fs.exists(folder):
        return
    for name in names:
        fs.delete(session._jvm.org.apache.hadoop.fs.Path(f"{url.rstrip('/')}/{name}"), False)
    if not fs.listStatus(folder):
        fs.delete(folder, False)


def write_csv(con, table: ibis.Table, url: str) -> None:
    """Write ``table`` as one CSV file at ``url`` with Spark (rows in the table's order); the rows
    never come to this process."""
    session = con._session
    frame = con.raw_sql(con.compile(table))
    parts = f"{url}.parts"
    (frame.coalesce(1).write.mode("overwrite")
     .csv(parts, header=True, quote='"', escape='"', nullValue="", emptyValue="", quoteAll=False,
          ignoreLeadingWhiteSpace=False, ignoreTrailingWhiteSpace=False))
    path, fs = _filesystem(session, url)
    parts_path = session._jvm.org.apache.hadoop.fs.Path(parts)
    written = [s.getPath() for s in fs.listStatus(parts_path) if s.getPath().getName().startswith("part-")]
    fs.delete(path, False)
    fs.rename(written[0], path)
    fs.delete(parts_path, True)

