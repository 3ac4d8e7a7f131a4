"""Finding and reading a company's tables, before any rule of the contract is checked.

Every table comes out as a lazy Ibis relation on the loader's DuckDB whose columns are the file's, by
position (``_cf_c0``, ``_cf_c1``, ... so that no name in a file can collide with ours); a file read
record by record also has ``_cf_row``, the data row counted from 1 after the header (the others are
numbered by :func:`numbered`, or by their order once loaded). Nothing is read twice when the file is
clean: DuckDB's strict CSV reader is the fast path; only a file it refuses goes through the
record-by-record reader, which sets each unreadable record aside with its original bytes.
A file that cannot be read at all becomes a ``failure`` sentence; it is never skipped.
"""

from __future__ import annotations

import csv
import gzip
import io
import sys
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import ibis

from custfocus.data.contract import TABLE_ORDER, TABLES
from custfocus.data.settings import ASSESSMENT_FILE, SETTINGS_FILE, VOICE_FILE
from custfocus.data.validation import MISSING_STRINGS, normalise_name, suggest_table
from custfocus.engine import sql_literal
from custfocus.errors import InputError, first_line_of, is_out_of_memory

CSV_SUFFIXES = (".csv", ".csv.gz")
TABLE_SUFFIXES = (*CSV_SUFFIXES, ".parquet")
ROW = "_cf_row"
PARQUET_ROW = "file_row_number"  # DuckDB's name for a Parquet row's place in its file, from 0
DELIMITERS = (",", ";", "\t", "|")
# DuckDB's limit is 2 MB a line, and raising it enlarges every read buffer, which costs the reading its
# parallelism; a file with a longer line (a long free-text comment) is read record by record instead.
DUCKDB_LINE_BYTES = 2 * 1024 * 1024
HEAD_BYTES = 1024 * 1024

# What a file really is, from its first bytes, so that a renamed file is named for what it is.
MAGIC = (
    (b"PK\x03\x04", "a ZIP archive (an Excel .xlsx workbook is one)"),
    (b"\xd0\xcf\x11\xe0", "an old-style Office document (an Excel .xls workbook is one)"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"PAR1", "a Parquet file"),
    (b"\x1f\x8b", "a gzip-compressed file"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"DUCK", "a DuckDB database"),
    (b"\xff\xfe", "UTF-16 text"),
    (b"\xfe\xff", "UTF-16 text"),
)


def column_name(position: int) -> str:
    return f"_cf_c{position}"


@dataclass
class Unreadable:
    """A record that could not be read, with the bytes it had in the file."""

    row: int
    original: bytes
    reason: str

    @property
    def text(self) -> str:
        return self.original.decode("utf-8", "replace")


@dataclass
class RawTable:
    name: str
    source: str
    columns: list[str] = field(default_factory=list)  # the file's names, for positions _cf_c0, ...
    table: ibis.Table | None = None
    unreadable: list[Unreadable] = field(default_factory=list)
    failure: str | None = None  # the whole table could not be read
    # The slower reader to use when the fast one meets a record it cannot read.
    fallback: Callable[[], RawTable] | None = None
    # Records the reader could not read, kept on the engine rather than listed (Spark's reader):
    # columns _cf_row, _cf_reason and _cf_line (the record's text).
    unreadable_table: ibis.Table | None = None
    tokens_read_as_missing: bool = False  # the reader turned MISSING_STRINGS into missing values
    # Scanning the source again costs less than keeping a checked copy (Parquet's typed columns):
    # the loader checks it in one aggregating pass and the analyses read the file itself.
    rescannable: bool = False


class Reader:
    """Reads tables onto ``con`` (an Ibis DuckDB backend); ``scratch`` holds the record-by-record
    reader's clean copies until they are loaded."""

    def __init__(self, con, scratch: Path, progress: Callable[[str], None]):
        self.con = con
        self.scratch = scratch
        self.progress = progress
        self.notes: list[str] = []

    # -- folders ---------------------------------------------------------------------------------

    def folder(self, folder: Path) -> dict[str, RawTable]:
        try:
            entries = sorted(folder.iterdir())
        except OSError as err:
            raise InputError(f"The folder {folder} cannot be read: {err.strerror or err}.") from None
        found: dict[str, RawTable] = {}
        for path in entries:
            if path.name.startswith(".") or path.name in (SETTINGS_FILE, ASSESSMENT_FILE, VOICE_FILE):
                continue
            stem, suffix = split_suffix(path.name)
            if stem in TABLES and suffix in TABLE_SUFFIXES:
                if stem in found:
                    found[stem] = RawTable(stem, str(path), failure=(
                        f"the folder has more than one file for {stem} ({Path(found[stem].source).name} and "
                        f"{path.name}); keep one of them"))
                    continue
                self.progress(f"Reading {path.name}")
                found[stem] = self.file(stem, path, suffix)
            elif stem in TABLES and not _is_dir(path):
                self.notes.append(f"{path.name} was not read: tables are read from {', '.join(TABLE_SUFFIXES)} "
                                  f"files; export it as {stem}.csv.")
            elif suffix in TABLE_SUFFIXES:
                guess = suggest_table(stem, TABLES)
                hint = f" Did you mean {guess}{suffix}?" if guess else ""
                self.notes.append(f"{path.name} is not a table of the data contract and was not read.{hint}")
        return found

    def file(self, name: str, path: Path, suffix: str) -> RawTable:
        try:
            if path.is_dir():
                if suffix == ".parquet":
                    return self._parquet(name, path, f"{path}/**/*.parquet")
                return RawTable(name, str(path), failure=f"{path.name} is a folder, not a file")
            if path.stat().st_size == 0:
                return RawTable(name, str(path), failure=f"{path.name} is empty (0 bytes)")
            with path.open("rb") as f:
                head = f.read(HEAD_BYTES)
        except OSError as err:
            return RawTable(name, str(path), failure=f"{path.name} cannot be read: {err.strerror or err}")
        if suffix == ".parquet":
            if not head.startswith(b"PAR1"):
                return RawTable(name, str(path), failure=f"{path.name} is not a Parquet file: it is {_kind(head)}")
            return self._parquet(name, path, str(path))
        compressed = suffix == ".csv.gz"
        if compressed:
            if not head.startswith(b"\x1f\x8b"):
                return RawTable(name, str(path), failure=f"{path.name} is not gzip-compressed: it is {_kind(head)}")
            try:
                with gzip.open(path, "rb") as f:
                    head = f.read(HEAD_BYTES)
            except (OSError, EOFError, zlib.error) as err:
                return RawTable(name, str(path), failure=_gzip_failure(path, err))
        return self._csv(name, path, head, compressed)

    # -- CSV -------------------------------------------------------------------------------------

    def _csv(self, name: str, path: Path, head: bytes, compressed: bool) -> RawTable:
        binary = _binary_kind(head)
        if binary:
            return RawTable(name, str(path), failure=f"{path.name} is not a CSV file: it is {binary}")
        line = _first_line(head)
        try:
            text = line.decode("utf-8-sig")
        except UnicodeDecodeError as err:
            return RawTable(name, str(path), failure=(
                f"the header line of {path.name} is not UTF-8 text (byte 0x{line[err.start]:02X} at position "
                f"{err.start + 1}); save the file with UTF-8 encoding"))
        delimiter = _sniff_delimiter(text)
        header = next(csv.reader([text], delimiter=delimiter), [])
        columns = [h.strip() for h in header]
        failure = header_failure(columns, path)
        if failure:
            return RawTable(name, str(path), failure=failure)
        self._note_unnamed(path, columns)
        return self._csv_rows(name, path, columns, delimiter, compressed)

    def _csv_rows(self, name: str, path: Path, columns: list[str], delimiter: str, compressed: bool) -> RawTable:
        """The rows of a CSV file whose header has been read and checked."""

        def record_by_record() -> RawTable:
            return self._csv_record_by_record(name, path, columns, delimiter, compressed)

        try:
            table = _read_csv(self.con, path, [column_name(i) for i in range(len(columns))], delimiter,
                              compression="gzip" if compressed else "none")
        except Exception:  # DuckDB refuses files it cannot bind: read them record by record
            return record_by_record()
        return RawTable(name, str(path), columns, named_only(table, columns), fallback=record_by_record,
                        tokens_read_as_missing=True)

    def _csv_record_by_record(self, name: str, path: Path, columns: list[str], delimiter: str,
                              compressed: bool) -> RawTable:
        """Python's csv module over the bytes as they are: a record DuckDB refuses costs that record
        only, multi-line quoted fields stay whole, and an unreadable record keeps its original bytes."""
        self.progress(f"Reading {path.name} record by record")
        clean = self.scratch / f"{name}.csv"
        unreadable: list[Unreadable] = []
        csv.field_size_limit(sys.maxsize)
        try:
            with _open_binary(path, compressed) as binary, clean.open("w", encoding="utf-8", newline="") as target:
                # surrogateescape keeps every byte: invalid UTF-8 comes back out exactly as it went in.
                text = io.TextIOWrapper(binary, encoding="utf-8", errors="surrogateescape", newline="")
                lines = _RecordedLines(text)
                reader = csv.reader(lines, delimiter=delimiter, quotechar='"', doublequote=True, strict=False)
                writer = csv.writer(target)
                _skip_header(reader)
                writer.writerow([ROW, *[column_name(i) for i in range(len(columns))]])
                row, longest = 0, 0
                while True:
                    lines.start_record()
                    try:
                        record = next(reader)
                    except StopIteration:
                        break
                    except csv.Error as err:
                        row += 1
                        unreadable.append(Unreadable(row, lines.original(), f"cannot be read as CSV ({err})"))
                        continue
                    if not record:
                        continue  # a blank line is not a row (DuckDB skips them too)
                    row += 1
                    reason = _record_problem(record, len(columns))
                    if reason:
                        unreadable.append(Unreadable(row, lines.original(), reason))
                        continue
                    writer.writerow([row, *record])
                    longest = max(longest, sum(len(v) for v in record))
        except (OSError, EOFError, zlib.error) as err:
            if compressed:
                return RawTable(name, str(path), failure=_gzip_failure(path, err))
            return RawTable(name, str(path), failure=f"{path.name} cannot be read: {getattr(err, 'strerror', None) or err}")
        try:
            # Room for the longest record as written (4 bytes a character at most, quotes and commas).
            table = _read_csv(self.con, clean, [ROW, *[column_name(i) for i in range(len(columns))]], ",",
                              max_line_size=max(DUCKDB_LINE_BYTES, 4 * longest + 64 * (len(columns) + 2)))
            table = table.mutate(**{ROW: table[ROW].cast("int64")})
            # Loaded now, so that the scratch copy can go at once.
            table = self.con.create_table(f"_raw_{name}", named_only(table, columns, ROW), temp=True, overwrite=True)
        except Exception as err:
            if is_out_of_memory(err):
                raise
            return RawTable(name, str(path), failure=f"{path.name} cannot be read as CSV ({first_line_of(err)})")
        finally:
            clean.unlink(missing_ok=True)
        return RawTable(name, str(path), columns, table, unreadable, tokens_read_as_missing=True)

    def _note_unnamed(self, path: Path, columns: list[str]) -> None:
        unnamed = [str(i + 1) for i, c in enumerate(columns) if not c]
        if unnamed:
            self.notes.append(f"{path.name}: column(s) {', '.join(unnamed)} have no name in the header and were "
                              "not read (spreadsheets often add empty columns at the end).")

    # -- Parquet ---------------------------------------------------------------------------------

    def _parquet(self, name: str, path: Path, pattern: str) -> RawTable:
        try:
            table = self._read_parquet(path, pattern)
            columns = list(table.columns)
            failure = header_failure(columns, path)
            if failure:
                return RawTable(name, str(path), failure=failure)
            return self._parquet_rows(name, path, pattern, table, columns)
        except Exception as err:
            if is_out_of_memory(err):
                raise
            return RawTable(name, str(path), failure=f"{path.name} cannot be read as Parquet ({first_line_of(err)})")

    def _read_parquet(self, path: Path, pattern: str) -> ibis.Table:
        return self.con.read_parquet(pattern)

    def _parquet_rows(self, name: str, path: Path, pattern: str, table: ibis.Table, columns: list[str]) -> RawTable:
        # One file's rows are numbered by DuckDB as it reads them (a folder's files each from 0).
        numbered_by_reader = pattern == str(path) and PARQUET_ROW not in columns
        if numbered_by_reader:
            table = self.con.read_parquet(pattern, file_row_number=True)
        row = {ROW: table[PARQUET_ROW] + 1} if numbered_by_reader else {}
        table = table.select(**row, **{column_name(i): table[c] for i, c in enumerate(columns)})
        return RawTable(name, str(path), columns, table, rescannable=numbered_by_reader)

    def _positional(self, name: str, table: ibis.Table, columns: list[str]) -> ibis.Table:
        """``table`` with its columns named by position (``_cf_c0``, ...)."""
        return table.select(**{column_name(i): table[c] for i, c in enumerate(columns)})

    # -- databases -------------------------------------------------------------------------------

    def database(self, url: str) -> dict[str, RawTable]:
        """Tables of a database: DuckDB files are attached read-only; other backends go through Ibis."""
        parts = urlsplit(url)
        if parts.scheme == "duckdb":
            if parts.query or parts.fragment:
                raise InputError(f"The database URL '{url}' has options after '?' or '#'; give only the file, "
                                 "as duckdb:///path/company.duckdb.")
            file = Path(url.removeprefix("duckdb://"))
            if not file.is_file():
                raise InputError(f"There is no database file '{file}' (from --source '{url}').")
            try:
                with file.open("rb") as f:
                    head = f.read(16)
                self.con.raw_sql(f"ATTACH {sql_literal(str(file))} AS _cf_source (READ_ONLY)")
                names = set(self.con.list_tables(database=("_cf_source", "main")))
            except Exception as err:
                raise InputError(f"Cannot open the database '{file}' ({_kind(head) if 'head' in locals() else 'unreadable'}): "
                                 f"{first_line_of(err)}.") from None

            def fetch(n):
                return self.con.table(n, database=("_cf_source", "main"))
        else:
            try:
                remote = _connect_url(url)
                names = set(remote.list_tables())
            except Exception as err:
                raise InputError(f"Cannot open the database '{url}': {first_line_of(err)}.") from None

            def fetch(n):
                return self.con.create_table(f"_copy_{n}", remote.table(n).to_pyarrow(), temp=True, overwrite=True)
        return self.tables(names, fetch, url, "database")

    def tables(self, names: set[str], fetch: Callable[[str], ibis.Table], where: str, kind: str) -> dict[str, RawTable]:
        """The contract's tables among a database's ``names`` (``fetch`` opens one), and a note for
        each other table whose name is close to one of the contract's."""
        found = {}
        for name in TABLE_ORDER:
            if name not in names:
                continue
            self.progress(f"Reading {name} from the {kind}")
            source = f"{where} table {name}"
            try:
                table = fetch(name)
                columns = list(table.columns)
                failure = header_failure(columns, Path(name))
                if failure:
                    found[name] = RawTable(name, source, failure=failure)
                    continue
                found[name] = RawTable(name, source, columns, self._positional(name, table, columns))
            except Exception as err:
                found[name] = RawTable(name, source, failure=f"table {name} cannot be read ({first_line_of(err)})")
        for other in sorted(names - set(found)):
            guess = suggest_table(other, TABLES)
            if guess:
                self.notes.append(f"{kind.capitalize()} table {other} is not a table of the data contract. "
                                  f"Did you mean {guess}?")
        return found

    def frames(self, frames: dict) -> dict[str, RawTable]:
        found = {}
        for name, frame in frames.items():
            table = self.con.create_table(f"_raw_{name}", frame, temp=True, overwrite=True)
            columns = list(table.columns)
            found[name] = RawTable(name, "data frame", columns, self._positional(name, table, columns))
        return found


class _RecordedLines:
    """Feeds lines to csv.reader and remembers those of the current record, to quarantine it as it was."""

    def __init__(self, text: io.TextIOBase):
        self._lines: Iterator[str] = iter(text)
        self._record: list[str] = []

    def __iter__(self):
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        self._record.append(line)
        return line

    def start_record(self) -> None:
        self._record = []

    def original(self) -> bytes:
        return "".join(self._record).rstrip("\r\n").encode("utf-8", "surrogateescape")


def _read_csv(con, path: Path, names: list[str], delimiter: str, **options) -> ibis.Table:
    """DuckDB's strict reader, every column as text, nothing guessed: a record it cannot read raises."""
    return con.read_csv(str(path), header=True, delim=delimiter, quote='"', escape='"', strict_mode=True,
                        auto_detect=False, columns=dict.fromkeys(names, "VARCHAR"), nullstr=MISSING_STRINGS,
                        **options)


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


def _skip_header(reader) -> None:
    next(reader, None)


def _record_problem(record: list[str], expected: int) -> str | None:
    for position, value in enumerate(record):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as err:
            byte = value[err.start].encode("utf-8", "surrogateescape")[0]
            return (f"is not valid UTF-8 (byte 0x{byte:02X} in field {position + 1}); save the file with UTF-8 "
                    "encoding")
    if len(record) != expected:
        unclosed = any("\n" in v or "\r" in v for v in record)
        hint = " (a quote that opens a field and is never closed joins the lines after it)" if unclosed else ""
        return f"has {len(record)} fields where the header has {expected}{hint}"
    return None


def named_only(table: ibis.Table, columns: list[str], *keep: str) -> ibis.Table:
    """Drop the columns the header leaves unnamed (an export's empty trailing columns)."""
    return table.select(*keep, *[column_name(i) for i, c in enumerate(columns) if c])


def numbered(table: ibis.Table) -> ibis.Table:
    """``table`` with its rows numbered from 1, unless the reader numbered them already. DuckDB keeps
    the file's order (preserve_insertion_order) and streams this window, on one thread: the loader
    numbers a clean file's rows by their place in the table it loads them into instead."""
    if ROW in table.columns:
        return table
    return table.mutate(**{ROW: ibis.row_number().cast("int64") + 1})


def header_failure(columns: list[str], path: Path) -> str | None:
    names = [normalise_name(c) for c in columns if c.strip()]
    if not names:
        return f"{path.name} has no column names in its first line"
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        return f"the header of {path.name} names column {', '.join(repr(n) for n in repeated)} more than once"
    return None


def _open_binary(path: Path, compressed: bool):
    return gzip.open(path, "rb") if compressed else path.open("rb")


def _gzip_failure(path: Path, err: BaseException) -> str:
    if isinstance(err, EOFError):
        return f"{path.name} is a truncated gzip file: it ends before its last row (copy or download it again)"
    return f"{path.name} is a damaged gzip file ({err})"


def _first_line(head: bytes) -> bytes:
    ends = [i for i in (head.find(b"\n"), head.find(b"\r")) if i >= 0]
    return head[: min(ends)] if ends else head


def _kind(head: bytes) -> str:
    return _binary_kind(head) or "text"


def _binary_kind(head: bytes) -> str | None:
    for magic, kind in MAGIC:
        if head.startswith(magic):
            return kind
    sample = head[:4096]
    # Text has the odd stray control byte; binary data is full of them.
    controls = sum(1 for b in sample if b < 9 or 13 < b < 32)
    if sample and controls > len(sample) // 100:
        return "binary data (not text)"
    return None


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError:
        return False


def _sniff_delimiter(header: str) -> str:
    counts = {d: header.count(d) for d in DELIMITERS}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def split_suffix(file_name: str) -> tuple[str, str]:
    """'transactions.csv.gz' -> ('transactions', '.csv.gz')."""
    lower = file_name.lower()
    for suffix in TABLE_SUFFIXES:
        if lower.endswith(suffix):
            return file_name[: -len(suffix)], suffix
    stem, _, suffix = file_name.partition(".")
    return stem, "." + suffix.lower() if suffix else ""
