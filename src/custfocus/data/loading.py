"""Loading a company: read its tables, type and check every row, and hand the valid rows to the engine.

Files are read and checked by an embedded DuckDB (the *loader*). A CSV file is parsed once into a
table of typed values and rule flags, and everything after that (the analysis date, repeated keys,
unknown customers, counts, the rows listed and quarantined) works on that table. A Parquet file,
whose columns are typed already and cheap to scan again, is not copied: its rules are counted in
one aggregating pass, and when every row is valid the analyses read the file itself (a string
column as stored when cleaning it changes no row). Only a table with bad rows gets a copy of its
valid rows. The valid rows are then put on the chosen engine (the same DuckDB, or Spark through
Parquet).
With the Spark engine, files and the Spark catalog are read and checked by Spark itself, with the same
rules (see :mod:`custfocus.data.spark_reading`): no row passes through DuckDB or this process.

Nothing is dropped silently: each row is used or rejected with its reason, ``read = used + rejected``
for every table, and a table that cannot be read at all is a problem that stops the run.
"""

from __future__ import annotations

import csv
import functools
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import ibis
import pandas as pd

from custfocus.data.company import Company
from custfocus.data.contract import TABLE_ORDER, TABLES, Table
from custfocus.data.reading import ROW, RawTable, Reader, column_name, numbered
from custfocus.data.settings import (
    ASSESSMENT_FILE,
    Settings,
    check_as_of,
    read_settings,
)
from custfocus.data.spark_reading import (
    SparkReader,
    catalog_database,
    copy_settings_files,
    is_filesystem_url,
    reads_on_spark,
    remove_files,
    spark_location,
    write_csv,
)
from custfocus.data.validation import (
    LISTED_PROBLEMS_PER_TABLE,
    Check,
    FileProblem,
    LoadReport,
    Problem,
    TableLoad,
    as_of_checks,
    clean_value,
    column_checks,
    parsed_value,
    resolve_columns,
    typed_value,
)
from custfocus.engine import (
    Engine,
    connect,
    duckdb_backend,
    sql_identifier,
    sql_literal,
)
from custfocus.engine.scratch import scratch, scratch_dir
from custfocus.errors import InputError, ValidationFailed, is_out_of_memory

ON_ERROR = ("stop", "quarantine")
Progress = Callable[[str], None]


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


def validate(source, *, as_of: date | None = None, progress: Progress | None = None,
             file_checks: Mapping[str, Callable[[Path], list[FileProblem]]] | None = None) -> LoadReport:
    """Check every table and return the full list of problems (never raises on bad rows).

    ``file_checks`` maps the name of a settings file beside the tables (assessment.toml) to the check
    of the package that reads it: this layer knows no analysis, so the caller brings their rules
    (``custfocus.report.inputs.validate_inputs`` brings every one). A file that is there in any form,
    a folder or a broken link too, is checked.
    """
    loader = _Loader(source, "duckdb", "report", as_of, None, progress, None)
    report = loader.run().load_report
    for name, check in (file_checks or {}).items():
        path = loader.settings_folder / name if loader.settings_folder is not None else None
        if path is not None and (path.exists() or path.is_symlink()):
            report.checked_files.append(str(path))
            report.files.extend(check(path))
    return report


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


@dataclass
class _Staged:
    """A table after its one scan: typed values and single-column flags, and what the scan counted."""

    raw: RawTable
    spec: Table
    result: TableLoad
    mapping: dict[str, str]  # contract column -> positional raw column
    checks: list[Check]
    checked: ibis.Table | None  # None when the table as a whole is rejected
    extras: dict[str, str]  # the file's other columns, kept under their own names: name -> position
    kept: bool = False  # checked is kept on the loader (a temporary table, or cached by Spark)
    summary: dict | None = None  # the scan's counts and latest dates (see _Loader._summarise)

    @property
    def changed(self) -> list[str]:
        """Columns whose rows text cleaning may change (``_cf_d_<column>`` flags)."""
        return [c.removeprefix("_cf_d_") for c in self.checked.columns if c.startswith("_cf_d_")]


class _Loader:
    def __init__(self, source, engine, on_error, as_of, rejected_dir, progress, spark_session,
                 settings: Settings | None = None):
        self.source = source
        self.on_error = on_error
        self.progress = progress or (lambda message: None)
        self.folder = _folder(source)
        self.engine = engine if isinstance(engine, Engine) else connect(engine, spark_session=spark_session)
        # Spark reads and checks what it can reach itself; DuckDB reads the rest: the engine's own
        # connection when it is DuckDB, else a private one whose valid rows are handed over.
        self.on_spark = self.engine.name == "spark" and reads_on_spark(source)
        if not self.on_spark and (catalog_database(source) is not None or is_filesystem_url(source)):
            raise InputError(f"The source '{source}' is read by Spark: add --engine spark (engine='spark').")
        self.con = self.engine.con if self.engine.name == "duckdb" or self.on_spark else duckdb_backend()
        self.settings_folder = self.folder
        if self.on_spark and is_filesystem_url(source):
            self.settings_folder = copy_settings_files(self.con._session, str(source), scratch_dir("custfocus-settings-"))
        self.settings = settings or read_settings(self.settings_folder)
        self.as_of_given = check_as_of(as_of, "as_of") if as_of and settings is None else as_of or self.settings.as_of
        self.rejected_dir = rejected_dir or _default_rejected_dir(source, self.folder)
        if self.rejected_dir is not None and not is_filesystem_url(self.rejected_dir):
            self.rejected_dir = Path(self.rejected_dir)
        # Naive timestamps are read in the company's zone (checked when the settings were read).
        if self.on_spark:
            self.con._session.conf.set("spark.sql.session.timeZone", self.settings.time_zone)
        else:
            self.con.raw_sql(f"SET TimeZone = {sql_literal(self.settings.time_zone)}")
        self.notes: list[str] = []
        self.today = date.today()

    # -- the run ---------------------------------------------------------------------------------

    def run(self) -> Company:
        if self.on_error == "quarantine":
            self._remove_old_rejections()
        with scratch("custfocus-load-") as folder:
            reader = SparkReader(self.con, self.progress) if self.on_spark else Reader(self.con, folder, self.progress)
            if isinstance(self.source, dict):
                raws = reader.frames(self.source)
            elif self.folder is None:
                raws = reader.database(str(self.source))
            else:
                raws = reader.folder(self.folder)
            self.notes.extend(reader.notes)
            staged: dict[str, _Staged] = {}
            for name in TABLE_ORDER:  # customers first: the other tables' scans check their customer ids
                if name in raws:
                    staged[name] = self._stage(raws[name], TABLES[name], staged.get("customers"))
        loads = {name: s.result for name, s in staged.items()}
        if "transactions" not in raws:
            where = f"the folder {self.folder}" if self.folder else "the source"
            loads["transactions"] = _whole_table_problem(TableLoad("transactions", str(self.source)),
                f"is required but {where} has no transactions.csv, transactions.csv.gz or transactions.parquet")
        as_of = self._as_of(staged)
        tables: dict[str, ibis.Table] = {}
        known_customers = None
        for name, stage in staged.items():
            if stage.checked is None:
                continue
            self.progress(f"Checking {name}")
            if self._all_valid(stage, as_of, staged.get("customers")):
                good = self._accept(stage)
            else:
                good = self._finish(stage, as_of, known_customers)
            if good is not None:
                tables[name] = good
                if name == "customers":
                    known_customers = good.select("customer_id")
        report = LoadReport(dict(sorted(loads.items(), key=lambda kv: TABLE_ORDER.index(kv[0]))), as_of,
                            self.on_error, notes=self.notes)
        if self.on_error == "stop" and report.ok:
            self._remove_old_rejections()
        if self.on_error == "quarantine":
            _stop_without_usable_tables(report, tables)
        if self.on_error != "report" and self.con is not self.engine.con:
            self.progress(f"Handing the tables to {self.engine.name}")
            tables = {name: self.engine.adopt(name, t) for name, t in tables.items()}
        settings = {"time_zone": self.settings.time_zone, "min_group_size": self.settings.min_group_size,
                    "voice": self.settings.voice, "voice_source": self.settings.voice_source}
        if self.settings_folder is not None and (self.settings_folder / ASSESSMENT_FILE).is_file():
            settings["assessment_path"] = str(self.settings_folder / ASSESSMENT_FILE)
        return Company(tables=tables, as_of=as_of, currency=self.settings.currency, name=self.settings.name,
                       backend=self.engine, load_report=report, settings=settings)

    # -- one scan per table ----------------------------------------------------------------------

    def _stage(self, raw: RawTable, spec: Table, customers: _Staged | None) -> _Staged:
        result = TableLoad(spec.name, raw.source)
        if raw.failure:
            return _Staged(raw, spec, _whole_table_problem(result, raw.failure), {}, [], None, {})
        self.progress(f"Reading and typing {spec.name}")
        try:
            return self._stage_readable(raw, spec, result, customers)
        except Exception as err:
            if raw.fallback is None or not _is_engine_error(err) or is_out_of_memory(err):
                raise
        # DuckDB's strict reader met a record it cannot read: read the file record by record.
        fallback = raw.fallback()
        if fallback.failure:
            return _Staged(fallback, spec, _whole_table_problem(result, fallback.failure), {}, [], None, {})
        return self._stage_readable(fallback, spec, result, customers)

    def _stage_readable(self, raw: RawTable, spec: Table, result: TableLoad, customers: _Staged | None) -> _Staged:
        named = {c: column_name(i) for i, c in enumerate(raw.columns) if c}
        by_name, column_problems = resolve_columns(spec, list(named), self.settings.columns.get(spec.name, {}))
        mapping = {contract: named[file] for contract, file in by_name.items()}
        taken = set(by_name.values())
        extras = {c: p for c, p in named.items()
                  if c not in taken and c not in spec.column_names and not c.startswith("_cf_")}
        table = raw.table
        # A clean file's rows keep the file's order when loaded, so their place is their row number.
        has_row = ROW in table.columns
        keep = [ROW, *extras.values()] if has_row else list(extras.values())
        columns = {n: spec.column(n) for n in mapping}
        # Three projections (clean text, parsed value, kept value and its flag), then the rules: each
        # step computes its values once per row. view() keeps Ibis from merging them back into one.
        # Rows whose text cleaning changes them are counted (the stored value is kept beside its clean
        # text for that): when a column has none, the analyses read it as stored.
        stored = {n: p for n, p in mapping.items() if raw.rescannable and _cleaned(table[p], columns[n])}
        cleaned = table.select(*keep, *stored.values(), **{
            f"_cf_t_{n}": clean_value(table[p], columns[n]) for n, p in mapping.items()}).view()
        texts = [f"_cf_t_{n}" for n in mapping]
        changed = {f"_cf_d_{n}": _changed(cleaned[p], cleaned[f"_cf_t_{n}"]) for n, p in stored.items()}
        parsed = cleaned.select(*keep, *texts, **changed, **{f"_cf_p_{n}": parsed_value(cleaned[f"_cf_t_{n}"], c)
                                                             for n, c in columns.items()}).view()
        keep = [*keep, *changed]
        typed_values, unparsed = {}, {}
        for n, c in columns.items():
            value, flag, message = typed_value(parsed[f"_cf_p_{n}"], parsed[f"_cf_t_{n}"], c)
            typed_values[f"_cf_v_{n}"] = value
            if flag is not None:
                typed_values[f"_cf_u_{n}"] = flag
                unparsed[n] = message
        typed = parsed.select(*keep, *texts, **typed_values).view()
        checks = column_checks(spec, {n: typed[f"_cf_v_{n}"] for n in columns}, {n: typed[f"_cf_t_{n}"] for n in columns},
                               {n: (typed[f"_cf_u_{n}"], message) for n, message in unparsed.items()})
        checked = typed.select(*keep, *[f"_cf_v_{n}" for n in columns],
                               **{f"_cf_flag{i}": c.flag.fill_null(False) for i, c in enumerate(checks)})
        stage = _Staged(raw, spec, result, mapping, checks, checked, extras)
        if column_problems:
            read = int(table.count().execute())
        else:
            # Parsing text costs more than keeping its result, when the table is used after this scan
            # (validate uses only the customers, for their ids).
            if not raw.rescannable and (self.on_error != "report" or spec.name == "customers"):
                self._keep(stage)
            stage.summary = self._summarise(stage, customers)
            read = stage.summary["read"]
        unreadable = self._unreadable(spec.name, raw, result)
        result.read = read + unreadable
        result.rejected = unreadable
        if read == 0:
            column_problems.append("no row could be read" if unreadable else "the file has a header but no rows")
        if column_problems:
            for message in column_problems:
                _whole_table_problem(result, message)
            result.rejected = result.read
            reason = "; ".join(column_problems)
            self._quarantine(spec.name, raw, numbered(table).mutate(_cf_reason=ibis.literal(reason)), read, result)
            stage.checked = None
        return stage

    def _keep(self, stage: _Staged) -> None:
        loaded = f"_checked_{stage.spec.name}"
        checked = self._temporary(loaded, stage.checked)
        if ROW not in checked.columns:  # a clean file's rows keep its order when loaded: their place is their row
            checked = self.con.sql(f"SELECT CAST(rowid + 1 AS BIGINT) AS {ROW}, * FROM {sql_identifier(loaded)}")
        stage.checked, stage.kept = checked, True

    def _summarise(self, stage: _Staged, customers: _Staged | None) -> dict:
        """One aggregating pass over a table's typed values: its rows, those that break any single-column
        rule, the rows text cleaning changes, each date column's latest dates, repeated keys, and (when
        the customers table's own scan found no bad row) unknown customers. A table whose scan finds no
        bad row is not scanned again; any other is checked row by row in :meth:`_finish`."""
        spec, scan, known = stage.spec, stage.checked, None
        known_ids = self._known_so_far(customers) if _vouched(stage, customers) else None
        if known_ids is not None:
            scan, known = self._known_flag(scan, known_ids)
        flags = [scan[f"_cf_flag{i}"] for i in range(len(stage.checks))]
        metrics = {"read": scan.count(), "bad": functools.reduce(operator.or_, flags, ibis.literal(False)).sum(),
                   **{f"d_{n}": scan[f"_cf_d_{n}"].sum() for n in stage.changed}}
        for n in stage.mapping:
            if spec.column(n).type == "date":
                value = scan[f"_cf_v_{n}"]
                metrics[f"latest_{n}"] = value.max(where=value <= self.today)
                metrics[f"last_{n}"] = value.max()
        if spec.unique_key and all(k in stage.mapping for k in spec.unique_key):
            keys = [scan[f"_cf_v_{k}"] for k in spec.unique_key]
            present = functools.reduce(operator.and_, [k.notnull() for k in keys])
            key = keys[0] if len(keys) == 1 else ibis.struct({f"k{i}": k for i, k in enumerate(keys)})
            metrics["repeats"] = present.sum() - key.nunique(where=present)
        if known is not None:
            metrics["unknown"] = (scan["_cf_v_customer_id"].notnull() & ~known).sum()
        if stage.raw.fallback is not None and not stage.kept:
            # Every column is read here, so that a record the strict reader refuses is met in this
            # scan, where the loader can still read the file record by record instead.
            metrics.update({f"n{i}": scan[c].count() for i, c in enumerate(stage.checked.columns)})
        summary = scan.aggregate(**metrics).to_pyarrow().to_pylist()[0]
        return {k: (v or 0) if k in ("read", "bad", "repeats", "unknown") or k.startswith("d_") else v
                for k, v in summary.items()}

    def _known_so_far(self, customers: _Staged) -> ibis.Table | None:
        """The customer ids the other tables' scans check theirs against, when the customers table's own
        scan found no bad row: all of its rows (if the analysis date rejects some, the tables that use
        them are checked again in :meth:`_finish`)."""
        summary = customers.summary
        if summary["bad"] or summary.get("repeats"):
            return None
        return self._all_rows(customers).select("customer_id")

    def _known_flag(self, table: ibis.Table, known_customers: ibis.Table) -> tuple[ibis.Table, ibis.BooleanValue]:
        """``table`` and whether its customer id is one of ``known_customers``."""
        if self.on_spark:
            # Joined: Spark runs IN (subquery) in a projection as a nested loop over both tables.
            known = known_customers.select(_cf_known=known_customers.customer_id).distinct()
            joined = table.left_join(known, table["_cf_v_customer_id"] == known["_cf_known"])
            table = joined.select(*[joined[c] for c in table.columns], joined["_cf_known"])
            return table, table["_cf_known"].notnull()
        return table, table["_cf_v_customer_id"].isin(known_customers.customer_id)

    def _all_valid(self, stage: _Staged, as_of: date, customers: _Staged | None) -> bool:
        """Whether the table's scan found every row valid, now that the analysis date is known."""
        summary, spec = stage.summary, stage.spec
        if summary["bad"] or summary.get("repeats"):
            return False
        for col in spec.columns:
            last = summary.get(f"last_{col.name}")
            if col.not_future and last is not None and last > as_of:
                return False
        if _vouched(stage, customers):
            return summary.get("unknown") == 0 and self._all_valid(customers, as_of, None)
        return True

    def _accept(self, stage: _Staged) -> ibis.Table:
        """A table whose every row is valid, as the analyses read it."""
        stage.result.used = stage.result.read - stage.result.rejected
        good = self._all_rows(stage)
        if self.on_error == "report" or self.on_spark:
            return good
        return self.con.create_view(stage.spec.name, good, overwrite=True)

    def _all_rows(self, stage: _Staged) -> ibis.Table:
        """Every row of a table, typed: a rescannable source is read as stored where typing it changes nothing."""
        if stage.raw.rescannable:
            return self._as_stored(stage, {n for n in stage.changed if not stage.summary[f"d_{n}"]})
        return _values(stage.checked, stage)

    # -- the analysis date -----------------------------------------------------------------------

    def _as_of(self, staged: dict[str, _Staged]) -> date:
        if self.as_of_given:
            return self.as_of_given
        # The latest date in any table that is not in the future: survey answers a week after the
        # last purchase are as much the company's data as the purchase.
        latest: tuple[date, str, str] | None = None
        for name, stage in staged.items():
            if stage.checked is None:
                continue
            for col in stage.spec.columns:
                found = stage.summary.get(f"latest_{col.name}")
                if found is not None and (latest is None or found > latest[0]):
                    latest = (found, name, col.name)
        if latest is None:
            self.notes.append(f"as_of is not set and no table has a date up to today; using today, {self.today:%Y-%m-%d}.")
            return self.today
        day, table, column = latest
        self.notes.append(f"as_of is not set in custfocus.toml; using {day:%Y-%m-%d}, the latest date in any "
                          f"table (table {table}, column {column}).")
        return day

    # -- rules across rows, counts, problems, quarantine -----------------------------------------

    def _finish(self, stage: _Staged, as_of: date, known_customers) -> ibis.Table | None:
        if not stage.kept and not stage.raw.rescannable:
            self._keep(stage)  # its rows are read again to find the bad ones
        spec, result, checked = stage.spec, stage.result, stage.checked
        flagged = checked
        if spec.unique_key and all(k in stage.mapping for k in spec.unique_key):
            # Only repeated keys are joined back: cheaper than a window over millions of keys.
            keys = [f"_cf_v_{k}" for k in spec.unique_key]
            present = functools.reduce(operator.and_, [checked[k].notnull() for k in keys])
            repeated = (checked.filter(present).group_by(keys)
                        .aggregate(_cf_first=lambda t: t[ROW].min(), _cf_count=lambda t: t.count())
                        .filter(lambda t: t._cf_count > 1).drop("_cf_count"))
            joined = checked.left_join(repeated, keys)
            flagged = joined.select(*[joined[c] for c in checked.columns], joined["_cf_first"])
        vouched = spec.needs_known_customer and known_customers is not None and "customer_id" in stage.mapping
        if vouched:
            flagged, known = self._known_flag(flagged, known_customers)
        typed = {n: flagged[f"_cf_v_{n}"] for n in stage.mapping}
        checks = [Check(c.column, c.kind, flagged[f"_cf_flag{i}"], c.message) for i, c in enumerate(stage.checks)]
        checks += as_of_checks(spec, typed, as_of)
        if "_cf_first" in flagged.columns:
            checks.append(Check(spec.unique_key[-1], "duplicate",
                                flagged["_cf_first"].notnull() & (flagged[ROW] != flagged["_cf_first"]),
                                f"repeats the {' and '.join(spec.unique_key)} of an earlier row"))
        if vouched:
            customer = typed["customer_id"]
            checks.append(Check("customer_id", "unknown customer", customer.notnull() & ~known,
                                "is not a customer_id in the customers table"))
        flagged = flagged.mutate(**{f"_cf_rule{i}": c.flag.fill_null(False) for i, c in enumerate(checks)})
        rules = [flagged[f"_cf_rule{i}"] for i in range(len(checks))]
        flagged = flagged.mutate(_cf_bad=functools.reduce(operator.or_, rules, ibis.literal(False)))
        changed = stage.changed
        counts = flagged.aggregate(
            bad=flagged._cf_bad.sum(), **{f"r{i}": rule.sum() for i, rule in enumerate(rules)},
            **{f"d_{n}": flagged[f"_cf_d_{n}"].sum() for n in changed}).execute().iloc[0]
        bad_rows = int(counts["bad"] or 0)
        for i, check in enumerate(checks):
            if counts[f"r{i}"]:
                result.problem_counts[(check.column, check.kind)] += int(counts[f"r{i}"])
        result.rejected += bad_rows
        result.used = result.read - result.rejected
        if bad_rows:
            self._reject_rows(stage, flagged, checks, bad_rows)
        if bad_rows or not stage.raw.rescannable:
            good = _values(flagged.filter(~flagged._cf_bad) if bad_rows else checked, stage)
        else:
            good = self._as_stored(stage, {n for n in changed if not counts[f"d_{n}"]})
        if self.on_error == "report":  # nothing is kept; customers still vouch for the other tables
            return good
        if self.on_spark:  # the checked table is cached; a real subset is cached in its place
            if bad_rows:
                good = good.cache()
                good.count().execute()
                checked.release()
            return good
        if bad_rows:  # the valid rows are a real subset: keep them, let the rest go
            good = self.con.create_table(spec.name, good, overwrite=True)
            self.con.drop_table(f"_checked_{spec.name}", force=True)
            return good
        return self.con.create_view(spec.name, good, overwrite=True)

    def _as_stored(self, stage: _Staged, unchanged: set[str]) -> ibis.Table:
        """The valid rows of a rescannable source whose every row is valid, read from the source
        itself: the column as stored where typing it changes nothing, else typed again on each read."""
        table, columns = stage.raw.table, {n: stage.spec.column(n) for n in stage.mapping}
        values = {}
        for n, position in stage.mapping.items():
            stored = table[position]
            value = stored if n in unchanged else parsed_value(
                clean_value(stored, columns[n]), columns[n])
            values[n] = value.cast(stage.checked[f"_cf_v_{n}"].type())
        return table.select(**values, **{name: table[position] for name, position in stage.extras.items()})

    def _reject_rows(self, stage: _Staged, flagged: ibis.Table, checks: list[Check], bad_rows: int) -> None:
        """List the first bad rows with their file values, and write all of them when quarantining."""
        spec, result, raw = stage.spec, stage.result, stage.raw.table
        rule_columns = [f"_cf_rule{i}" for i in range(len(checks))]
        bad = flagged.filter(flagged._cf_bad).select(
            ROW, *rule_columns, **({"_cf_first": flagged["_cf_first"]} if "_cf_first" in flagged.columns else {}))
        # The file's own values of the bad rows: one more scan, only for files that have bad rows.
        rows = self._temporary(f"_rejected_{spec.name}", numbered(raw).inner_join(bad, ROW))
        listed = rows.order_by(ROW).limit(LISTED_PROBLEMS_PER_TABLE).execute()
        result.problems.extend(_problems_from_rows(spec.name, listed, checks, stage.mapping))
        result.problems.sort(key=lambda p: p.row or 0)
        if bad_rows > LISTED_PROBLEMS_PER_TABLE:
            result.notes.append(f"Only the first {LISTED_PROBLEMS_PER_TABLE:,} bad rows are listed one by one; "
                                "the counts cover all of them.")
        self._quarantine(spec.name, stage.raw, rows.mutate(_cf_reason=_reason_expression(rows, checks)),
                         bad_rows, result)
        self._release(f"_rejected_{spec.name}", rows)

    # -- tables kept for the load's later steps --------------------------------------------------

    def _temporary(self, name: str, table: ibis.Table) -> ibis.Table:
        """``table`` computed once and kept while loading: a temporary DuckDB table, or cached by Spark."""
        if self.on_spark:
            return table.cache()
        return self.con.create_table(name, table, temp=True, overwrite=True)

    def _release(self, name: str, table: ibis.Table) -> None:
        if self.on_spark:
            table.release()
        else:
            self.con.drop_table(name, force=True)

    # -- quarantine ------------------------------------------------------------------------------

    def _quarantine(self, name: str, raw: RawTable, rejected: ibis.Table, rows: int, result: TableLoad) -> None:
        if self.on_error != "quarantine" or not rows or self.rejected_dir is None:
            return
        path = self._rejected_path(f"{name}.csv")
        row_name, reason_name = _free_names(raw.columns, "_row", "_reason")
        named = {c: column_name(i) for i, c in enumerate(raw.columns) if c}
        self._write_csv(rejected.order_by(ROW).select(
            **{row_name: rejected[ROW]}, **{c: rejected[p] for c, p in named.items()},
            **{reason_name: rejected["_cf_reason"]}), path)
        result.rejected_path = str(path)

    def _unreadable(self, name: str, raw: RawTable, result: TableLoad) -> int:
        """List, count and quarantine the records the reader could not read; returns how many."""
        if raw.unreadable_table is not None:
            return self._unreadable_on_engine(name, raw.unreadable_table, result)
        for line in raw.unreadable:
            result.problems.append(Problem(name, line.row, None, line.text, line.reason))
            result.problem_counts[(None, line.reason.split(" (")[0])] += 1
        self._quarantine_unreadable(name, raw, result)
        return len(raw.unreadable)

    def _unreadable_on_engine(self, name: str, table: ibis.Table, result: TableLoad) -> int:
        """The same for records the reader kept on the engine (Spark's): counted there, the first listed."""
        reasons = table.group_by("_cf_reason").aggregate(rows=table.count()).execute()
        total = int(reasons["rows"].sum())
        if not total:
            return 0
        for reason, rows in zip(reasons["_cf_reason"], reasons["rows"], strict=True):
            result.problem_counts[(None, reason.split(" (")[0])] += int(rows)
        first = table.order_by(ROW).limit(LISTED_PROBLEMS_PER_TABLE).execute()
        result.problems.extend(Problem(name, int(r[ROW]), None, r["_cf_line"], r["_cf_reason"])
                               for r in first.to_dict("records"))
        if self.on_error == "quarantine" and self.rejected_dir is not None:
            path = self._rejected_path(f"{name}.unreadable.csv")
            self._write_csv(table.order_by(ROW).select(_row=table[ROW], _reason=table["_cf_reason"],
                                                       line=table["_cf_line"]), path)
            result.notes.append(f"Unreadable lines are in {path}.")
        return total

    def _write_csv(self, table: ibis.Table, path) -> None:
        if self.on_spark:
            write_csv(self.con, table, spark_location(path))
        else:
            table.to_csv(path)

    def _quarantine_unreadable(self, name: str, raw: RawTable, result: TableLoad) -> None:
        if self.on_error != "quarantine" or not raw.unreadable or self.rejected_dir is None:
            return
        path = self._rejected_path(f"{name}.unreadable.csv")
        # surrogateescape writes each line's bytes back exactly as they were in the file.
        with path.open("w", encoding="utf-8", errors="surrogateescape", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["_row", "_reason", "line"])
            for line in raw.unreadable:
                writer.writerow([line.row, line.reason, line.original.decode("utf-8", "surrogateescape")])
        result.notes.append(f"Unreadable lines, with their original bytes, are in {path}.")

    def _rejected_path(self, file_name: str) -> Path | str:
        if not isinstance(self.rejected_dir, Path):  # a URL Spark writes to; Spark makes the folders
            return f"{self.rejected_dir.rstrip('/')}/{file_name}"
        try:
            self.rejected_dir.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise InputError(f"Cannot write the rejected rows to {self.rejected_dir}: {err.strerror or err}.") from None
        return self.rejected_dir / file_name

    def _remove_old_rejections(self) -> None:
        """Files this run would write, left by an earlier run: they describe data that has changed."""
        if self.on_spark and self.rejected_dir is not None:
            old = [f"{name}.csv" for name in TABLES] + [f"{name}.unreadable.csv" for name in TABLES]
            remove_files(self.con._session, spark_location(self.rejected_dir), old)
            return
        if self.rejected_dir is None or not self.rejected_dir.is_dir():
            return
        for name in TABLES:
            for file_name in (f"{name}.csv", f"{name}.unreadable.csv"):
                (self.rejected_dir / file_name).unlink(missing_ok=True)
        if not any(self.rejected_dir.iterdir()):
            self.rejected_dir.rmdir()


def _folder(source) -> Path | None:
    if isinstance(source, dict) or "://" in str(source) or catalog_database(source) is not None:
        return None
    folder = Path(source)
    try:
        if not folder.is_dir():
            folder.stat()  # raises for a missing path or a symlink loop, with the system's reason
            raise InputError(f"'{folder}' is a file; give the folder that holds the company's tables.")
    except FileNotFoundError:
        raise InputError(f"There is no folder '{folder}'.") from None
    except OSError as err:
        raise InputError(f"The folder '{folder}' cannot be opened: {err.strerror or err}.") from None
    return folder


def _default_rejected_dir(source, folder: Path | None) -> Path | None:
    if isinstance(source, dict):
        return None
    if folder is not None:
        return folder / "rejected"
    if is_filesystem_url(source):
        return str(source).rstrip("/") + "/rejected"
    parts = urlsplit(str(source))
    if parts.scheme == "duckdb" and parts.path not in ("", "/:memory:"):
        return Path(str(source).removeprefix("duckdb://")).parent / "rejected"
    return Path.cwd() / "rejected"


def _whole_table_problem(result: TableLoad, message: str) -> TableLoad:
    result.skipped_reason = "; ".join(filter(None, [result.skipped_reason, message]))
    result.problems.append(Problem(result.table, None, None, None, message))
    result.problem_counts[(None, message)] += 1
    return result


def _stop_without_usable_tables(report: LoadReport, tables: dict) -> None:
    """Quarantine sets bad rows aside; it cannot stand in for a table that has no usable rows."""
    if "transactions" not in tables or report.tables["transactions"].used == 0:
        t = report.tables["transactions"]
        if t.read == 0 and t.skipped_reason:
            raise InputError(f"Cannot go on without transactions: {t.skipped_reason}.")
        first = "; ".join(p.sentence() for p in t.problems[:3])
        raise InputError(f"Cannot go on without transactions: all {t.read:,} row(s) were rejected "
                         f"({t.skipped_reason or first}).")
    unreadable = [t for t in report.tables.values() if t.skipped_reason and t.read == 0]
    if unreadable:
        raise InputError("Cannot go on: " + "; ".join(f"{t.table}: {t.skipped_reason}" for t in unreadable) + ".")


def _is_engine_error(err: Exception) -> bool:
    import duckdb

    return isinstance(err, duckdb.Error)


def _cleaned(stored: ibis.Value, column) -> bool:
    """Whether typing a stored column is text cleaning only (trimmed, missing tokens, lower case)."""
    return stored.type().is_string() and column.type in ("id", "text", "category")


def _vouched(stage: _Staged, customers: _Staged | None) -> bool:
    """Whether the table's customer ids must be those of the customers table (when it can be used)."""
    return (stage.spec.needs_known_customer and "customer_id" in stage.mapping
            and customers is not None and customers.checked is not None)


def _values(checked: ibis.Table, stage: _Staged) -> ibis.Table:
    """The typed values of ``checked`` under the contract's names, and the file's other columns."""
    return checked.select(**{n: checked[f"_cf_v_{n}"] for n in stage.mapping},
                          **{name: checked[position] for name, position in stage.extras.items()})


def _changed(stored: ibis.Value, cleaned: ibis.Value) -> ibis.BooleanValue:
    return stored.notnull() & (cleaned.isnull() | (cleaned != stored))


def _free_names(taken: list[str], *wanted: str) -> list[str]:
    names = []
    for name in wanted:
        while name in taken or name in names:
            name = "_" + name
        names.append(name)
    return names


def _reason_expression(table: ibis.Table, checks: list[Check]) -> ibis.StringValue:
    parts = [ibis.ifelse(table[f"_cf_rule{i}"], ibis.literal(f"{c.column} {c.message}"), ibis.null("string"))
             for i, c in enumerate(checks)]
    return ibis.literal("; ").join(parts)


def _problems_from_rows(table: str, rows: pd.DataFrame, checks: list[Check], mapping: dict[str, str]) -> list[Problem]:
    problems = []
    for record in rows.to_dict("records"):
        for i, check in enumerate(checks):
            if not record[f"_cf_rule{i}"]:
                continue
            value = record.get(mapping.get(check.column, ""))
            message = check.message
            if check.kind == "duplicate":
                message = f"{message} (row {int(record['_cf_first'])})"
            problems.append(Problem(table, int(record[ROW]), check.column,
                                    None if _is_missing(value) else str(value), message))
    return problems


def _is_missing(value) -> bool:
    return value is None or (isinstance(value, float) and value != value) or value is pd.NaT
