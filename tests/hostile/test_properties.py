"""Properties of the loader over generated files: any bytes named transactions.csv either load with
read = used + rejected for every table, or are refused with an InputError sentence; never an internal
error. Example counts stay modest: each example is a whole load."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from custfocus.data.loading import load, validate
from custfocus.errors import InputError, ValidationFailed

HEADER = b"customer_id,date,amount,order_id\n"
# Pieces a CSV is made of, including the ones that break it.
PIECES = st.sampled_from([
    b",", b";", b'"', b'""', b"\n", b"\r", b"\r\n", b"C1", b"C2", b"2024-01-05", b"20255-01-01", b"1e308",
    b"12.5", b"-3", b"NULL", b"N/A", b"-", b"O1", b" ", b"\xff", b"\xe9", b"\x00", b"\t", b"caf\xc3\xa9",
])
ROWS = st.lists(PIECES, max_size=40).map(b"".join)
FUZZ = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _check(content: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "transactions.csv").write_bytes(content)
        (folder / "custfocus.toml").write_text('[company]\nas_of = "2024-06-30"\n')
        try:
            report = validate(folder)
        except InputError as err:
            assert str(err).strip() and "Traceback" not in str(err)
            return
        for table in report.tables.values():
            assert table.read == table.used + table.rejected, table
            assert table.problem_total >= (1 if table.rejected else 0)
        for problem in report.problems:
            assert problem.sentence().startswith(problem.table)
        try:
            company = load(folder, on_error="quarantine")
        except InputError:
            assert report.tables["transactions"].used == 0
            return
        t = company.load_report.tables["transactions"]
        assert t.read == t.used + t.rejected
        assert int(company.tables["transactions"].count().execute()) == t.used
        try:
            load(folder)
        except ValidationFailed:
            assert not report.ok


@FUZZ
@given(st.binary(max_size=300))
def test_any_bytes_load_or_are_refused_with_a_sentence(content):
    _check(content)


@FUZZ
@given(ROWS)
def test_any_rows_under_a_valid_header_load_or_are_refused_with_a_sentence(rows):
    _check(HEADER + rows)
