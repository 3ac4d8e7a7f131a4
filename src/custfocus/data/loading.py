"""Loading a company: find its tables, read them, validate them, and hand them to the engine.

Files are read and checked by an embedded DuckDB (the *loader*); the valid rows are then put on the
chosen engine (the same DuckDB, or Spark through Parquet). Nothing is dropped silently: each row is
used or rejected with its reason, and ``read = used + rejected`` for every table.
"""

from __future__ import annotations

import csv
import gzip
import functools
import operator
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import ibis
import pandas as pd

from custfocus.data.company import Company
from custfocus.data.contract import TABLE_ORDER, TABLES, Table
from custfocus.data.settings import Settings, read_settings
from custfocus.data.validation import (
    LISTED_PROBLEMS_PER_TABLE,
    Check,
    LoadReport,
    Problem,
    TableLoad,
    column_checks,
    normalise_name,
    parse_column,
    resolve_columns,
    suggest_table,
)
from custfocus.engine import Engine, connect
from custfocus.errors import InputError, ValidationFailed

ON_ERROR = ("stop", "quarantine")
Progress = Callable[[str], None]
_DELIMITERS = (",", ";", "\t", "|")
TABLE_SUFFIXES = (".csv", ".csv.gz", ".parquet")


@dataclass
class RawTable:
    """A table as read, before validation: every column as found, plus ``_row`` (data row from 1)."""

    name: str
    source: str
    table: ibis.Table | None
    unreadable: list[tuple[int, str, str]] = field(default_factory=list)  # (row, text, reason)
    failure: str | None = None  # the whole file could not be read


def load(source, *, engine: str | Engine = "duckdb", on_error: str = "stop", as_of: date | None = None,
         rejected_dir: str | Path | None = None, progress: Progress | None = None,
         spark_session=None) -> Company:
    """Read, validate and load a company from a folder of CSV/Parquet files or an Ibis URL.

    ``on_error="stop"`` raises :class:`ValidationFailed` when any row is bad; ``"quarantine"`` sets
    bad rows aside (written under ``rejected_dir``, by default ``<folder>/rejected``) and goes on.
    """
    if on_error not in ON_ERROR:
        raise InputError(f"--on-error must be one of {', '.join(ON_ERROR)}, not '{on_error}'.")
    company = _Loader(source, engine, on_error, as_of, rejected_dir, progress, spark_session).run()
    if on_error == "stop" and not company.load_report.ok:
        raise ValidationFailed(company.load_report)
    return company


def validate(source, *, as_of: date | None = None, progress: Progress | None = None) -> LoadReport:
    """Check every table and return the full list of problems (never raises on bad rows)."""
    return _Loader(source, "duckdb", "report", as_of, None, progress, None).run().load_report


def load_frames(frames: dict, *, as_of: date, engine: str | Engine = "duckdb", on_error: str = "stop",
                name: str = "company", currency: str = "EUR") -> Company:
    """Load a company from pandas DataFrames or pyarrow Tables (for notebooks and tests)."""
    unknown = set(frames) - set(TABLES)
    if unknown:
        raise InputError(f"Unknown table(s) {', '.join(sorted(unknown))}; the contract has {', '.join(TABLES)}.")
    settings = Settings(name=name, currency=currency, as_of=as_of)
    company = _Loader(frames, engine, on_error, as_of, None, None, None, settings=settings).run()
    if on_error == "stop" and not company.load_report.ok:
        raise ValidationFailed(company.load_report)
    return company


class _Loader:
    def __init__(self, source, engine, on_error, as_of, rejected_dir, progress, spark_session,
                 settings: Settings | None = None):
        self.source = source
        self.on_error = on_error
        self.progress = progress or (lambda message: None)
        self.engine = engine if isinstance(engine, Engine) else connect(engine, spark_session=spark_session)
        self.folder = Path(source) if isinstance(source, (str, Path)) and "://" not in str(source) else None
        if self.folder is not None:
            if not self.folder.exists():
                raise InputError(f"There is no folder '{self.folder}'.")
            if not self.folder.is_dir():
                raise InputError(f"'{self.folder}' is a file; give the folder that holds the company's tables.")
        self.settings = settings or read_settings(self.folder)
        self.as_of_given = as_of or self.settings.as_of
        self.rejected_dir = Path(rejected_dir) if rejected_dir else (self.folder / "rejected" if self.folder else None)
        # Files are read by DuckDB: the engine's own connection when it is DuckDB, else a private one.
        self.con = self.engine.con if self.engine.name == "duckdb" else ibis.duckdb.connect()
        self._set_time_zone(self.settings.time_zone)
        self.scratch = Path(tempfile.mkdtemp(prefix="custfocus-load-"))
        self.notes: list[str] = []

    def _set_time_zone(self, zone: str) -> None:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise InputError(f"custfocus.toml: time_zone '{zone}' is not a known time zone "
                             "(use a name such as 'Europe/Berlin' or 'UTC').") from None
        self.con.raw_sql(f"SET TimeZone = '{zone}'")

    # -- reading ---------------------------------------------------------------------------------

    def raw_tables(self) -> dict[str, RawTable]:
        if isinstance(self.source, dict):
            return {name: RawTable(name, "data frame", self._with_row_numbers(
                self.con.create_table(f"_raw_{name}", frame, temp=True, overwrite=True)))
                for name, frame in self.source.items()}
        if self.folder is None:
            return self._read_url(str(self.source))
        return self._read_folder()

    def _read_folder(self) -> dict[str, RawTable]:
        found: dict[str, RawTable] = {}
        for path in sorted(self.folder.iterdir()):
            if path.is_dir() or path.name.startswith(".") or path.name == "custfocus.toml":
                continue
            stem, suffix = _split_suffix(path.name)
            if stem in TABLES and suffix in TABLE_SUFFIXES:
                if stem in found:
                    found[stem] = RawTable(stem, str(path), None, failure=(
                        f"the folder has more than one file for {stem} ({found[stem].source} and "
                        f"{path.name}); keep one of them"))
                    continue
                self.progress(f"Reading {path.name}")
                found[stem] = self._read_parquet(stem, path) if suffix == ".parquet" else self._read_csv(stem, path)
            elif stem in TABLES:
                self.notes.append(f"{path.name} was not read: tables are read from {', '.join(TABLE_SUFFIXES)} "
                                  f"files; export it as {stem}.csv.")
            elif suffix in TABLE_SUFFIXES:
                guess = suggest_table(stem, TABLES)
                hint = f" Did you mean {guess}{suffix}?" if guess else ""
                self.notes.append(f"{path.name} is not a table of the data contract and was not read.{hint}")
        return found

    def _read_csv(self, name: str, path: Path) -> RawTable:
        if path.stat().st_size == 0:
            return RawTable(name, str(path), None, failure="the file is empty (0 bytes)")
        opener = gzip.open if path.name.lower().endswith(".gz") else open
        with opener(path, "rb") as f:
            header = f.readline()
        delimiter = _sniff_delimiter(header)
        names = [normalise_name(n) for n in next(csv.reader([header.decode("utf-8-sig", "replace")],
                                                           delimiter=delimiter), [])]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            return RawTable(name, str(path), None, failure=(
                f"the header names column {', '.join(repr(n) for n in repeated)} more than once"))
        try:
            table = self.con.read_csv(str(path), all_varchar=True, header=True, delim=delimiter,
                                      quote='"', escape='"', auto_detect=True)
            return RawTable(name, str(path), self._with_row_numbers(table, f"_raw_{name}"))
        except Exception:
            # DuckDB rejects the whole file for one bad line; find the bad lines one by one.
            return self._read_csv_line_by_line(name, path, delimiter)

    def _read_csv_line_by_line(self, name: str, path: Path, delimiter: str) -> RawTable:
        good = self.scratch / f"{name}.csv"
        unreadable: list[tuple[int, str, str]] = []
        opener = gzip.open if path.name.lower().endswith(".gz") else open
        with opener(path, "rb") as source, good.open("w", encoding="utf-8", newline="") as target:
            try:
                header = next(csv.reader([source.readline().decode("utf-8-sig")], delimiter=delimiter))
            except UnicodeDecodeError as err:
                return RawTable(name, str(path), None, failure=(
                    f"the header line is not valid UTF-8 (byte 0x{err.object[err.start]:02X}); "
                    "save the file with UTF-8 encoding"))
            writer = csv.writer(target)
            writer.writerow(["_row", *header])
            row = 0
            for line in source:
                if not line.strip():
                    continue
                row += 1
                try:
                    text = line.decode("utf-8")
                except UnicodeDecodeError as err:
                    unreadable.append((row, line.decode("utf-8", "replace").rstrip("\r\n"),
                                       f"is not valid UTF-8 (byte 0x{line[err.start]:02X} at character "
                                       f"{err.start + 1}); save the file with UTF-8 encoding"))
                    continue
                fields = next(csv.reader([text], delimiter=delimiter), [])
                if len(fields) != len(header):
                    unreadable.append((row, text.rstrip("\r\n"),
                                       f"has {len(fields)} fields where the header has {len(header)}"))
                    continue
                writer.writerow([row, *fields])
        table = self.con.read_csv(str(good), all_varchar=True, header=True, delim=",", quote='"', escape='"')
        table = table.mutate(_row=table._row.cast("int64"))
        return RawTable(name, str(path), self.con.create_table(f"_raw_{name}", table, temp=True, overwrite=True),
                        unreadable=unreadable)

    def _read_parquet(self, name: str, path: Path) -> RawTable:
        try:
            table = self.con.read_parquet(str(path), file_row_number=True)
            table = table.mutate(_row=table.file_row_number + 1).drop("file_row_number")
            return RawTable(name, str(path), self.con.create_table(f"_raw_{name}", table, temp=True, overwrite=True))
        except Exception as err:
            return RawTable(name, str(path), None, failure=f"cannot be read as Parquet ({_first_line(err)})")

    def _read_url(self, url: str) -> dict[str, RawTable]:
        """Tables of a database: DuckDB files are attached; other backends are copied over Arrow."""
        try:
            if url.startswith("duckdb://"):
                self.con.raw_sql(f"ATTACH '{url.removeprefix('duckdb://')}' AS source (READ_ONLY)")
                names = set(self.con.list_tables(database=("source", "main")))
                fetch = functools.partial(self.con.table, database=("source", "main"))
            else:
                remote = _connect_url(url)
                names = set(remote.list_tables())
                fetch = lambda n: self.con.create_table(f"_copy_{n}", remote.table(n).to_pyarrow(), temp=True)  # noqa: E731
        except Exception as err:
            raise InputError(f"Cannot open the database '{url}': {_first_line(err)}.") from None
        found = {}
        for name in TABLE_ORDER:
            if name in names:
                self.progress(f"Reading {name} from the database")
                found[name] = RawTable(name, f"{url} table {name}", self._with_row_numbers(fetch(name), f"_raw_{name}"))
        for other in sorted(names - set(found)):
            guess = suggest_table(other, TABLES)
            if guess:
                self.notes.append(f"Database table {other} is not a table of the data contract. Did you mean {guess}?")
        return found

    def _with_row_numbers(self, table: ibis.Table, name: str | None = None) -> ibis.Table:
        if "_row" not in table.columns:
            # DuckDB keeps the file's order (preserve_insertion_order), so this is the row in the file.
            table = table.mutate(_row=ibis.row_number().cast("int64") + 1)
        return self.con.create_table(name, table, temp=True, overwrite=True) if name else table

    # -- checking --------------------------------------------------------------------------------

    def run(self) -> Company:
        raws = self.raw_tables()
        loads: dict[str, TableLoad] = {}
        tables: dict[str, ibis.Table] = {}
        if "transactions" not in raws:
            where = f"the folder {self.folder}" if self.folder else "the source"
            loads["transactions"] = TableLoad("transactions", str(self.source), skipped_reason="absent", problems=[
                Problem("transactions", None, None, None,
                        f"is required but {where} has no transactions.csv or transactions.parquet")])
            loads["transactions"].problem_counts[(None, "absent")] = 1
        as_of = self._as_of(raws.get("transactions"))
        known_customers = None
        for name in TABLE_ORDER:
            if name not in raws:
                continue
            self.progress(f"Checking {name}")
            good, result = self._check(raws[name], TABLES[name], as_of, known_customers)
            loads[name] = result
            if good is not None:
                tables[name] = good
                if name == "customers":
                    known_customers = good.select("customer_id")
        report = LoadReport(loads, as_of, self.on_error, notes=self.notes)
        if self.on_error == "quarantine" and "transactions" not in tables:
            reason = loads["transactions"].skipped_reason or "no valid rows"
            raise InputError(f"Cannot go on without transactions: {reason}.")
        if self.on_error != "report" and self.engine.name != "duckdb":
            self.progress(f"Handing the tables to {self.engine.name}")
            tables = {name: self.engine.adopt(name, t) for name, t in tables.items()}
        settings = {"time_zone": self.settings.time_zone, "voice": self.settings.voice,
                    "voice_source": self.settings.voice_source}
        return Company(tables=tables, as_of=as_of, currency=self.settings.currency, name=self.settings.name,
                       backend=self.engine, load_report=report, settings=settings)

    def _as_of(self, transactions: RawTable | None) -> date:
        today = date.today()
        if self.as_of_given:
            return self.as_of_given
        # Without a stated as_of, the analysis date is the last transaction date that is not in the future.
        if transactions and transactions.table is not None:
            mapping, problems = resolve_columns(TABLES["transactions"], transactions.table.columns,
                                                self.settings.columns.get("transactions", {}))
            if "date" in mapping:
                value, _, _ = parse_column(transactions.table[mapping["date"]], TABLES["transactions"].column("date"))
                latest = transactions.table.select(d=value).filter(lambda t: t.d <= today).d.max().execute()
                if not pd.isna(latest):
                    latest = pd.Timestamp(latest).date()
                    self.notes.append(f"as_of is not set in custfocus.toml; using the last transaction date, "
                                      f"{latest:%Y-%m-%d}.")
                    return latest
        return today

    def _check(self, raw: RawTable, spec: Table, as_of: date, known_customers) -> tuple[ibis.Table | None, TableLoad]:
        result = TableLoad(spec.name, raw.source)
        if raw.failure:
            result.skipped_reason = raw.failure
            result.problems.append(Problem(spec.name, None, None, None, raw.failure))
            result.problem_counts[(None, raw.failure)] += 1
            return None, result
        table = raw.table
        result.read = int(table.count().execute()) + len(raw.unreadable)
        for row, text, reason in raw.unreadable:
            result.problems.append(Problem(spec.name, row, None, text, reason))
            result.problem_counts[(None, reason.split(" (")[0])] += 1
        result.rejected = len(raw.unreadable)
        self._quarantine_unreadable(spec.name, raw.unreadable, result)

        file_columns = [c for c in table.columns if c != "_row"]
        mapping, column_problems = resolve_columns(spec, file_columns, self.settings.columns.get(spec.name, {}))
        if result.read == len(raw.unreadable):
            column_problems.append("the file has a header but no rows" if not raw.unreadable else "no row could be read")
        if column_problems:
            result.skipped_reason = "; ".join(column_problems)
            for message in column_problems:
                result.problems.append(Problem(spec.name, None, None, None, message))
                result.problem_counts[(None, message)] += 1
            result.rejected = result.read
            self._quarantine(spec.name, table.mutate(_reason=ibis.literal(result.skipped_reason)),
                             result.read - len(raw.unreadable), result)
            return None, result

        checked, checks = self._flag_rows(table, spec, mapping, file_columns, as_of, known_customers)
        flags = [c.kind for c in checks]
        counts = checked.aggregate(
            bad=checked["_cf_bad"].sum(), **{f"f{i}": checked[f"_cf_flag{i}"].sum() for i in range(len(checks))}
        ).execute().iloc[0]
        bad_rows = int(counts["bad"] or 0)
        for i, check in enumerate(checks):
            if counts[f"f{i}"]:
                result.problem_counts[(check.column, flags[i])] += int(counts[f"f{i}"])
        if bad_rows:
            listed = checked.filter(checked["_cf_bad"]).order_by("_row").limit(LISTED_PROBLEMS_PER_TABLE).execute()
            result.problems.extend(_problems_from_rows(spec.name, listed, checks, mapping))
            if bad_rows > LISTED_PROBLEMS_PER_TABLE:
                result.notes.append(f"Only the first {LISTED_PROBLEMS_PER_TABLE:,} bad rows are listed one by one; "
                                    "the counts cover all of them.")
        result.rejected += bad_rows
        rejected = checked.filter(checked["_cf_bad"]).select(
            "_row", *file_columns, _reason=_reason_expression(checked, checks))
        self._quarantine(spec.name, rejected, bad_rows, result)

        kept = [c.name for c in spec.columns if c.name in mapping]
        extras = [c for c in file_columns if c not in mapping.values() and c not in kept]
        good = checked.filter(~checked["_cf_bad"]).select(
            *[checked[f"_cf_v_{c}"].name(c) for c in kept], *extras)
        good = self.con.create_table(spec.name, good, overwrite=True)
        result.used = int(good.count().execute())
        result.problems.sort(key=lambda p: p.row or 0)
        return good, result

    def _flag_rows(self, table, spec, mapping, file_columns, as_of, known_customers):
        raw = {c: table[mapping[c]] for c in mapping}
        typed, unparsed = {}, {}
        for name, expr in raw.items():
            value, flag, message = parse_column(expr, spec.column(name))
            typed[name] = value
            if flag is not None:
                unparsed[name] = (flag, message)
        checks = column_checks(spec, typed, raw, unparsed, as_of)
        # Raw columns are kept under their file names for the rejected file; typed ones get prefixed names.
        staged = table.select(
            "_row", *file_columns, **{f"_cf_v_{n}": v for n, v in typed.items()},
            **{f"_cf_flag{i}": c.flag.fill_null(False) for i, c in enumerate(checks)})
        checks = [Check(c.column, c.kind, staged[f"_cf_flag{i}"], c.message) for i, c in enumerate(checks)]

        if spec.unique_key and all(k in typed for k in spec.unique_key):
            # Only repeated keys are joined back: cheaper than a window over millions of keys.
            keys = [f"_cf_v_{k}" for k in spec.unique_key]
            present = functools.reduce(operator.and_, [staged[k].notnull() for k in keys])
            repeated = (staged.filter(present).group_by(keys)
                        .aggregate(_cf_first=lambda t: t["_row"].min(), _cf_count=lambda t: t.count())
                        .filter(lambda t: t._cf_count > 1).drop("_cf_count"))
            joined = staged.left_join(repeated, keys)
            staged = joined.select(*[joined[c] for c in staged.columns], joined["_cf_first"])
            flag = (staged["_cf_first"].notnull() & (staged["_row"] != staged["_cf_first"])).fill_null(False)
            staged = staged.mutate(**{f"_cf_flag{len(checks)}": flag})
            label = " and ".join(spec.unique_key)
            checks.append(Check(spec.unique_key[-1], "duplicate", staged[f"_cf_flag{len(checks)}"],
                                f"repeats the {label} of an earlier row"))
        if spec.needs_known_customer and known_customers is not None and "customer_id" in typed:
            customer = staged["_cf_v_customer_id"]
            flag = (customer.notnull() & ~customer.isin(known_customers.customer_id)).fill_null(False)
            staged = staged.mutate(**{f"_cf_flag{len(checks)}": flag})
            checks.append(Check("customer_id", "unknown customer", staged[f"_cf_flag{len(checks)}"],
                                "is not a customer_id in the customers table"))
        any_bad = functools.reduce(operator.or_, [staged[f"_cf_flag{i}"] for i in range(len(checks))], ibis.literal(False))
        staged = staged.mutate(_cf_bad=any_bad)
        materialised = self.con.create_table(f"_checked_{spec.name}", staged, temp=True, overwrite=True)
        checks = [Check(c.column, c.kind, materialised[f"_cf_flag{i}"], c.message) for i, c in enumerate(checks)]
        return materialised, checks

    # -- quarantine ------------------------------------------------------------------------------

    def _quarantine(self, name: str, rejected: ibis.Table, rows: int, result: TableLoad) -> None:
        if self.on_error != "quarantine" or not rows or self.rejected_dir is None:
            return
        self.rejected_dir.mkdir(parents=True, exist_ok=True)
        path = self.rejected_dir / f"{name}.csv"
        rejected.order_by("_row").to_csv(path)
        result.rejected_path = str(path)

    def _quarantine_unreadable(self, name: str, unreadable, result: TableLoad) -> None:
        if self.on_error != "quarantine" or not unreadable or self.rejected_dir is None:
            return
        self.rejected_dir.mkdir(parents=True, exist_ok=True)
        path = self.rejected_dir / f"{name}.unreadable.csv"
        with path.open("w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["_row", "_reason", "line"])
            for row, text, reason in unreadable:
                writer.writerow([row, reason, text])
        result.notes.append(f"Unreadable lines are in {path}.")


def _reason_expression(table: ibis.Table, checks: list[Check]) -> ibis.StringValue:
    parts = [ibis.ifelse(table[f"_cf_flag{i}"], ibis.literal(f"{c.column} {c.message}"), ibis.null("string"))
             for i, c in enumerate(checks)]
    return ibis.literal("; ").join(parts)


def _problems_from_rows(table: str, rows, checks: list[Check], mapping: dict[str, str]) -> list[Problem]:
    problems = []
    records = rows.to_dict("records")
    for record in records:
        for i, check in enumerate(checks):
            if not record[f"_cf_flag{i}"]:
                continue
            file_column = mapping.get(check.column, check.column)
            value = record.get(file_column)
            message = check.message
            if check.kind == "duplicate":
                message = f"{message} (row {int(record['_cf_first'])})"
            problems.append(Problem(table, int(record["_row"]), check.column,
                                    None if _is_missing(value) else str(value), message))
    return problems


def _is_missing(value) -> bool:
    return value is None or (isinstance(value, float) and value != value)


def _connect_url(url: str):
    """Open a database URL, in SQLAlchemy's spelling too (the one `custfocus serve --db` takes)."""
    scheme, _, rest = url.partition("://")
    if scheme == "sqlite":
        # sqlite:///relative.db and sqlite:////absolute.db, as SQLAlchemy reads them.
        path = Path(rest.removeprefix("/"))
        if not path.is_file():
            raise InputError(f"there is no SQLite file {path}")
        return ibis.sqlite.connect(path)
    if scheme.startswith("postgresql+"):  # postgresql+psycopg:// names the driver; Ibis picks its own
        return ibis.connect("postgresql://" + rest)
    return ibis.connect(url)


def _split_suffix(file_name: str) -> tuple[str, str]:
    """'transactions.csv.gz' -> ('transactions', '.csv.gz')."""
    lower = file_name.lower()
    for suffix in TABLE_SUFFIXES:
        if lower.endswith(suffix):
            return file_name[: -len(suffix)], suffix
    stem, _, suffix = file_name.partition(".")
    return stem, "." + suffix.lower() if suffix else ""


def _sniff_delimiter(header: bytes) -> str:
    text = header.decode("utf-8", "replace")
    counts = {d: text.count(d) for d in _DELIMITERS}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def _first_line(err: Exception) -> str:
    return str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
