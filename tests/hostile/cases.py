"""A generator of hostile inputs, by kind: each builder writes a small company folder that is broken
in one way, and says what a correct run must do with it.

Cases are produced from the data contract and from lists of ways to break a file, so a new table,
column or way of breaking adds cases without a new fixture file.
"""

from __future__ import annotations

import gzip
import os
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from custfocus.data.contract import TABLES
from custfocus.data.validation import MISSING_TOKENS

AS_OF = "2024-06-30"
CUSTOMERS = "customer_id,segment\nC1,a\nC2,b\nC3,c\n"
TRANSACTIONS_HEADER = "customer_id,date,amount,order_id"
TRANSACTIONS = f"{TRANSACTIONS_HEADER}\nC1,2024-01-05,10.5,O1\nC2,2024-02-01,3,O2\nC3,2024-03-01,5,O3\n"


@dataclass
class Case:
    kind: str
    name: str
    build: Callable[[Path], None]
    # "sentence": the run must stop (exit 1) with a sentence that contains every word of must_say.
    # "load": every table loads, counts add up; ``used``/``rejected`` pin the transactions' counts.
    expect: str
    must_say: tuple[str, ...] = ()
    used: int | None = None
    rejected: int | None = None
    extra_args: tuple[str, ...] = ()
    root_cannot_run: bool = False  # permission cases: run where root gives up reading every file
    checks: list[Callable[[Path], None]] = field(default_factory=list)

    @property
    def id(self) -> str:
        return f"{self.kind}:{self.name}"


def company(transactions: str | bytes = TRANSACTIONS, *, customers: str | None = CUSTOMERS,
            settings: str | None = f'[company]\nas_of = "{AS_OF}"\n', file_name: str = "transactions.csv",
            **other_tables: str | bytes) -> Callable[[Path], None]:
    def build(folder: Path) -> None:
        _write(folder / file_name, transactions)
        if customers is not None:
            _write(folder / "customers.csv", customers)
        if settings is not None:
            _write(folder / "custfocus.toml", settings)
        for name, text in other_tables.items():
            _write(folder / name, text)
    return build


def _write(path: Path, content: str | bytes) -> None:
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))


# -- kinds of breakage ---------------------------------------------------------------------------

RENAMED_FILES = {
    "zip": (b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + os.urandom(200), "ZIP archive"),
    "png": (b"\x89PNG\r\n\x1a\n" + os.urandom(200), "PNG image"),
    "pdf": (b"%PDF-1.7\n" + os.urandom(200), "PDF document"),
    "xls": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + os.urandom(200), "Office document"),
    "utf16": ("customer_id,date,amount\nC1,2024-01-05,3\n".encode("utf-16"), "UTF-16"),
    "binary": (b"\x00\x01\x02" * 100, "binary data"),
    "sqlite": (b"SQLite format 3\x00" + bytes(200), "SQLite database"),
}


def file_kind_cases() -> Iterator[Case]:
    """Files that are not what their name says: named for what they are, not 'not UTF-8'."""
    for label, (content, kind) in RENAMED_FILES.items():
        for table in ("transactions", "customers"):
            build = (company(content) if table == "transactions" else company(customers=content))
            yield Case("file kind", f"{label} as {table}.csv", build, "sentence", (f"{table}.csv", kind))
    yield Case("file kind", "parquet that is text", company(file_name="transactions.parquet"), "sentence",
               ("transactions.parquet", "not a Parquet file"))
    yield Case("file kind", "csv.gz that is plain text", company(file_name="transactions.csv.gz"), "sentence",
               ("transactions.csv.gz", "not gzip-compressed"))
    whole = gzip.compress(("\n".join([TRANSACTIONS_HEADER] + [f"C1,2024-01-05,{i},O{i}" for i in range(5000)])).encode())
    yield Case("file kind", "truncated csv.gz", company(whole[: len(whole) // 2], file_name="transactions.csv.gz"),
               "sentence", ("transactions.csv.gz", "truncated"))
    yield Case("file kind", "csv.gz of garbage", company(b"\x1f\x8b\x08\x00" + b"\xff" * 64, file_name="transactions.csv.gz"),
               "sentence", ("transactions.csv.gz",))
    yield Case("file kind", "gzip csv loads", company(gzip.compress(TRANSACTIONS.encode()), file_name="transactions.csv.gz"),
               "load", used=3, rejected=0)


LINE_ENDINGS = {"cr": "\r", "crlf": "\r\n", "lf": "\n"}


def structure_cases() -> Iterator[Case]:
    """The shape of a CSV: line endings, marks, quoting, fields, headers."""
    rows = TRANSACTIONS.strip("\n").split("\n")
    for label, end in LINE_ENDINGS.items():
        yield Case("structure", f"{label} line endings", company(end.join(rows) + end), "load", used=3, rejected=0)
    yield Case("structure", "utf-8 byte-order mark", company(b"\xef\xbb\xbf" + TRANSACTIONS.encode()), "load",
               used=3, rejected=0)
    for delimiter in (";", "\t", "|"):
        yield Case("structure", f"delimiter {delimiter!r}", company(TRANSACTIONS.replace(",", delimiter)), "load",
                   used=3, rejected=0)
    comment = "x" * (5 * 1024 * 1024)
    yield Case("structure", "5 MB comment", company(**{
        "responses.csv": f'date,score,kind,customer_id,comment\n2024-01-05,9,nps,C1,"{comment}"\n2024-01-06,7,nps,C2,ok\n'}),
        "load", used=3, rejected=0, checks=[_responses_counts(read=2, used=2, rejected=0)])
    multi = "".join(f'2024-01-0{i},9,nps,C1,"line one\nline two, with comma"\n' for i in range(1, 6))
    yield Case("structure", "multi-line quoted comments and one bad row", company(**{
        "responses.csv": f"date,score,kind,customer_id,comment\n{multi}2024-01-07,9,nps,C1,a,extra field\n"}),
        "sentence", ("responses", "row 6", "has 6 fields where the header has 5"),
        checks=[_responses_counts(read=6, used=5, rejected=1)])
    yield Case("structure", "ragged rows", company(TRANSACTIONS + "C1,2024-01-09\nC2,2024-01-10,1,O9,x\n"),
               "sentence", ("transactions", "row 4", "row 5", "fields where the header has 4"))
    yield Case("structure", "unclosed quote", company(TRANSACTIONS + 'C1,2024-01-09,"1,O9\nC2,2024-01-10,1,O10\n'),
               "sentence", ("transactions", "row 4"))
    yield Case("structure", "two trailing empty excel columns", company(
        "\n".join(r + ",," for r in rows) + "\n"), "load", used=3, rejected=0)
    for name in ("_row", "_reason", "_cf_row", "_cf_c0", "_cf_flag0"):
        yield Case("structure", f"a column named {name}", company(
            "\n".join([rows[0] + f",{name}"] + [r + ",zz" for r in rows[1:]]) + "\n"), "load", used=3, rejected=0)
    yield Case("structure", "header only", company(TRANSACTIONS_HEADER + "\n"), "sentence",
               ("transactions", "header but no rows"))
    yield Case("structure", "empty file", company(""), "sentence", ("transactions", "empty"))
    yield Case("structure", "repeated header", company("customer_id,date,amount,Amount\nC1,2024-01-05,1,2\n"),
               "sentence", ("transactions", "more than once"))
    yield Case("structure", "blank lines", company(TRANSACTIONS.replace("\n", "\n\n")), "load", used=3, rejected=0)
    yield Case("structure", "NUL byte in a row", company(TRANSACTIONS + "C1,2024-01-09,\x00,O9\n"), "sentence",
               ("transactions", "row 4"))


def _responses_counts(read: int, used: int, rejected: int):
    def check(folder: Path) -> None:
        from custfocus.data.loading import validate

        t = validate(folder).tables["responses"]
        assert (t.read, t.used, t.rejected) == (read, used, rejected)
    return check


def encoding_cases() -> Iterator[Case]:
    for label, raw in {"latin-1": "caf\xe9".encode("latin-1"), "lone continuation": b"\x80\x80",
                       "overlong": b"\xc0\xaf", "cp1252 quote": b"\x93x\x94"}.items():
        content = TRANSACTIONS.encode() + b"C1,2024-01-09,1,O" + raw + b"\n"
        yield Case("encoding", f"{label} in a row", company(content), "sentence",
                   ("transactions", "row 4", "not valid UTF-8"), checks=[_original_bytes_kept(raw)])
    yield Case("encoding", "latin-1 header", company(b"customer_id,date,amount,caf\xe9\nC1,2024-01-05,1,x\n"),
               "sentence", ("transactions.csv", "header", "not UTF-8"))


def _original_bytes_kept(raw: bytes):
    def check(folder: Path) -> None:
        from custfocus.data.loading import load

        load(folder, on_error="quarantine")
        assert raw in (folder / "rejected" / "transactions.unreadable.csv").read_bytes()
    return check


# "nan" is not here: exports write it for "no value", so it reads as missing.
IMPLAUSIBLE_NUMBERS = ("1e308", "-1e308", "1e400", "inf", "-Infinity", "1e10", "0x1A", "1,5", "12abc")
IMPOSSIBLE_DATES = ("20255-01-01", "2024-02-30", "2024-13-01", "0000-00-00", "1899-12-31", "99999999",
                    "2024-01-05T25:00:00", "+002024-01-01", "yesterday")


def value_cases(per_column: int = 2) -> Iterator[Case]:
    """Bad values in each typed column of each table, named by table, row, column and value. The values
    rotate over the columns, so that every one is tried without trying every pair (which takes long)."""
    turn = {"number": 0, "date": 0}
    for table in TABLES.values():
        for col in table.columns:
            if col.type not in ("number", "integer", "date"):
                continue
            family = "date" if col.type == "date" else "number"
            pool = IMPOSSIBLE_DATES if family == "date" else IMPLAUSIBLE_NUMBERS
            for _ in range(per_column):
                value = pool[turn[family] % len(pool)]
                turn[family] += 1
                yield Case("values", f"{table.name}.{col.name} = {value}", _one_row_with(table.name, col.name, value),
                           "sentence", (table.name, "row 1", f"column {col.name}", repr(value)))


def _one_row_with(table: str, column: str, value: str) -> Callable[[Path], None]:
    spec = TABLES[table]
    good = {"id": "C1", "text": "x", "date": "2024-01-05", "number": "1", "integer": "1"}
    names = [c.name for c in spec.columns]
    row = []
    for col in spec.columns:
        if col.name == column:
            row.append(value)
        elif col.choices:
            row.append(col.choices[0])
        else:
            row.append(good[col.type])
    text = ",".join(names) + "\n" + ",".join(f'"{v}"' for v in row) + "\n"
    if table == "transactions":
        return company(text)
    if table == "customers":
        return company(customers=text)
    return company(**{f"{table}.csv": text})


def id_cases() -> Iterator[Case]:
    """Export tokens for 'no value' are missing ids, never customers."""
    for shown in (*MISSING_TOKENS, "NULL", "N/A", " None "):
        if shown:
            yield Case("ids", f"customer_id {shown}", company(TRANSACTIONS + f"{shown},2024-01-09,1,O9\n", customers=None),
                       "sentence", ("transactions", "row 4", "customer_id", "missing"))


def settings_cases() -> Iterator[Case]:
    for label, text, words in (
        ("company is a string", 'company = "Acme"\n', ("custfocus.toml", "company", "section")),
        ("unknown key", '[company]\nname = "A"\nfiscal_year = 2024\n', ("custfocus.toml", "fiscal_year")),
        ("unknown section", '[compnay]\nname = "A"\n', ("custfocus.toml", "compnay")),
        ("datetime as_of", "[company]\nas_of = 2024-06-30T10:00:00\n", ("custfocus.toml", "as_of", "time of day")),
        ("as_of in the future", '[company]\nas_of = "2999-01-01"\n', ("custfocus.toml", "as_of", "2999-01-01")),
        ("as_of not a date", '[company]\nas_of = "soon"\n', ("custfocus.toml", "as_of", "soon")),
        ("as_of a number", "[company]\nas_of = 20240630\n", ("custfocus.toml", "as_of")),
        ("name a number", "[company]\nname = 5\n", ("custfocus.toml", "name")),
        ("bad time zone", '[company]\ntime_zone = "Mars/Olympus"\n', ("custfocus.toml", "Mars/Olympus")),
        ("columns not a table", 'columns = "x"\n', ("custfocus.toml", "columns")),
        ("columns of a table not a table", '[columns]\ntransactions = "x"\n', ("custfocus.toml", "transactions")),
        ("mapping to a number", "[columns.transactions]\namount = 3\n", ("custfocus.toml", "amount")),
        ("not toml", "[company\n", ("custfocus.toml", "not valid TOML")),
        ("latin-1", '[company]\nname = "caf\xe9"\n'.encode("latin-1"), ("custfocus.toml", "not UTF-8")),
    ):
        yield Case("settings", label, company(settings=text), "sentence", words)
    yield Case("settings", "byte-order mark", company(settings=b'\xef\xbb\xbf[company]\nas_of = "2024-06-30"\n'),
               "load", used=3, rejected=0)

    def settings_folder(folder: Path) -> None:
        company(settings=None)(folder)
        (folder / "custfocus.toml").mkdir()
    yield Case("settings", "settings is a folder", settings_folder, "sentence", ("custfocus.toml", "folder"))

    def settings_loop(folder: Path) -> None:
        company(settings=None)(folder)
        (folder / "custfocus.toml").symlink_to(folder / "custfocus.toml")
    yield Case("settings", "settings symlink loop", settings_loop, "sentence", ("custfocus.toml",))

    def settings_pipe(folder: Path) -> None:
        company(settings=None)(folder)
        os.mkfifo(folder / "custfocus.toml")  # reading it would wait for a writer for ever
    yield Case("settings", "settings is a pipe", settings_pipe, "sentence", ("custfocus.toml", "not a plain file"))


def filesystem_cases() -> Iterator[Case]:
    def table_loop(folder: Path) -> None:
        company()(folder)
        (folder / "responses.csv").symlink_to(folder / "responses.csv")
    yield Case("filesystem", "table symlink loop", table_loop, "sentence", ("responses.csv", "cannot be read"))

    def table_folder(folder: Path) -> None:
        company()(folder)
        (folder / "responses.csv").mkdir()
    yield Case("filesystem", "table is a folder", table_folder, "sentence", ("responses.csv", "folder"))

    def table_socket(folder: Path) -> None:
        company()(folder)
        server = socket.socket(socket.AF_UNIX)
        server.bind(str(folder / "responses.csv"))
        server.close()
    yield Case("filesystem", "table is a socket", table_socket, "sentence", ("responses", "responses.csv"))

    def unreadable_file(folder: Path) -> None:
        company()(folder)
        (folder / "transactions.csv").chmod(0)
    yield Case("filesystem", "unreadable file", unreadable_file, "sentence", ("transactions.csv", "Permission denied"),
               root_cannot_run=True)

    def rejected_fed_back(folder: Path) -> None:
        from custfocus.data.loading import load

        company(TRANSACTIONS + "C1,2024-01-09,oops,O9\nC2,2024-13-01,1,O10\n")(folder)
        load(folder, on_error="quarantine")
        (folder / "transactions.csv").write_bytes((folder / "rejected" / "transactions.csv").read_bytes())
    yield Case("filesystem", "rejected file fed back in", rejected_fed_back, "sentence",
               ("transactions", "row 1", "oops"))

    def dataset_folder(folder: Path) -> None:
        import pandas as pd

        company()(folder)
        (folder / "transactions.csv").unlink()
        (folder / "transactions.parquet").mkdir()
        pd.read_csv(__import__("io").StringIO(TRANSACTIONS)).to_parquet(folder / "transactions.parquet" / "part-0.parquet")
    yield Case("filesystem", "parquet dataset folder", dataset_folder, "load", used=3, rejected=0)


def assessment_cases() -> Iterator[Case]:
    """The self-assessment beside the tables: validate checks it as the report will read it."""
    def with_assessment(content: str | bytes, **tables: str | bytes) -> Callable[[Path], None]:
        return company(**tables, **{"assessment.toml": content})

    for label, text, words in (
        ("misspelt practice", "[practices]\nnps_measurd = true\n", ("assessment.toml", "nps_measurd", "nps_measured")),
        ("answer in words", '[practices]\nnps_measured = "yes"\n', ("assessment.toml", "nps_measured = 'yes'", "true or false")),
        ("answer a number", "[practices]\nnps_measured = 2\n", ("assessment.toml", "nps_measured = 2", "true or false")),
        ("practices a value", "practices = true\n", ("assessment.toml", "practices = true", "section")),
        ("unknown section", "[practise]\nnps_measured = true\n", ("assessment.toml", "[practise]")),
        ("date not a date", '[assessment]\ndate = "last spring"\n', ("assessment.toml", "date = 'last spring'")),
        ("not toml", "[practices\nnps_measured = true\n", ("assessment.toml", "not valid TOML", "line 1")),
        ("nested too deeply", "a = " + "[" * 100_000, ("assessment.toml", "nest too deeply")),
        ("latin-1", '[assessment]\nby = "Ren\xe9"\n'.encode("latin-1"), ("assessment.toml", "not UTF-8", "0xE9")),
        ("huge", "# " + "x" * 2_000_000 + "\n", ("assessment.toml", "larger than 1 MB")),
        ("escape codes in a key", '[practices]\n"\\u001b[2J" = true\n', ("assessment.toml", "'\\x1b[2J'")),
    ):
        yield Case("assessment", label, with_assessment(text), "sentence", words)
    yield Case("assessment", "the template", with_assessment(_template()), "load", used=3, rejected=0)
    yield Case("assessment", "byte-order mark", with_assessment(b"\xef\xbb\xbf[practices]\nnps_measured = true\n"),
               "load", used=3, rejected=0)
    yield Case("assessment", "with a bad row", with_assessment(
        "[practices]\nnps_measured = 1\n", transactions=TRANSACTIONS + "C1,2024-13-45,1,O9\n"),
        "sentence", ("assessment.toml", "nps_measured = 1", "transactions", "row 4", "date"))

    def link_to(target: Callable[[Path], Path]) -> Callable[[Path], None]:
        def build(folder: Path) -> None:
            company()(folder)
            (folder / "assessment.toml").symlink_to(target(folder))
        return build
    def elsewhere(folder: Path) -> Path:
        (folder.parent / "shared.toml").write_text("[practices]\nnps_measured = true\n")
        return folder.parent / "shared.toml"
    yield Case("assessment", "link to a file elsewhere", link_to(elsewhere), "load", used=3, rejected=0)
    yield Case("assessment", "link to nowhere", link_to(lambda folder: folder / "gone.toml"), "sentence",
               ("assessment.toml", "cannot be read"))
    yield Case("assessment", "link loop", link_to(lambda folder: folder / "assessment.toml"), "sentence",
               ("assessment.toml", "cannot be read"))
    yield Case("assessment", "link to an endless device", link_to(lambda folder: Path("/dev/zero")), "sentence",
               ("assessment.toml", "not a plain file"))

    def folder_named(folder: Path) -> None:
        company()(folder)
        (folder / "assessment.toml").mkdir()
    yield Case("assessment", "a folder", folder_named, "sentence", ("assessment.toml", "folder"))

    def pipe(folder: Path) -> None:
        company()(folder)
        os.mkfifo(folder / "assessment.toml")
    yield Case("assessment", "a pipe", pipe, "sentence", ("assessment.toml", "not a plain file"))

    def unreadable(folder: Path) -> None:
        with_assessment("[practices]\nnps_measured = true\n")(folder)
        (folder / "assessment.toml").chmod(0)
    yield Case("assessment", "unreadable", unreadable, "sentence", ("assessment.toml", "Permission denied"),
               root_cannot_run=True)


def _template() -> str:
    from custfocus.maturity import template

    return template()


def all_cases() -> list[Case]:
    return [*file_kind_cases(), *structure_cases(), *encoding_cases(), *value_cases(), *id_cases(),
            *settings_cases(), *filesystem_cases(), *assessment_cases()]
