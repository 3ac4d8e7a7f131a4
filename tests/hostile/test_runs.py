"""What a whole run guarantees, whatever the input: nothing from the user is executed as SQL, nothing is
left in the temporary directory, no table disappears, and quarantine writes every rejected row."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest

from custfocus.data.loading import load, validate
from custfocus.errors import InputError, ValidationFailed
from hostile.cases import CUSTOMERS, TRANSACTIONS, company

SRC = str(Path(__file__).resolve().parents[2] / "src")


def database(path: Path, transactions: str = TRANSACTIONS) -> Path:
    con = duckdb.connect(str(path))
    for name, text in (("customers", CUSTOMERS), ("transactions", transactions)):
        csv_path = path.parent / f"{name}-source.csv"
        csv_path.write_text(text)
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM read_csv(?, all_varchar=true)", [str(csv_path)])
    con.close()
    return path


@pytest.mark.parametrize("suffix", [
    "' AS s; COPY (SELECT 42) TO '{marker}'; --",
    "\" ; COPY (SELECT 42) TO '{marker}'; --",
    "?threads=1'; COPY (SELECT 42) TO '{marker}'; --",
])
def test_a_crafted_source_url_runs_no_sql(tmp_path, suffix):
    marker = tmp_path / "written-by-sql.csv"
    url = "duckdb:///" + str(tmp_path / "company.duckdb") + suffix.format(marker=marker)
    with pytest.raises(InputError):
        validate(url, as_of=None)
    assert not marker.exists()


def test_a_database_path_with_an_apostrophe_loads(tmp_path):
    folder = tmp_path / "o'brien's data"
    folder.mkdir()
    company_db = database(folder / "company's.duckdb")
    loaded = load(f"duckdb://{company_db}")
    assert loaded.load_report.tables["transactions"].used == 3


def test_quarantine_from_a_database_writes_the_rejected_rows(tmp_path):
    bad = TRANSACTIONS + "C1,2024-01-09,oops,O9\n"
    company_db = database(tmp_path / "company.duckdb", bad)
    loaded = load(f"duckdb://{company_db}", on_error="quarantine")
    t = loaded.load_report.tables["transactions"]
    assert (t.read, t.used, t.rejected) == (4, 3, 1)
    rows = list(csv.DictReader((tmp_path / "rejected" / "transactions.csv").open()))
    assert [(r["_row"], r["amount"]) for r in rows] == [("4", "oops")]
    assert "amount is not a number" in rows[0]["_reason"]


def test_stale_rejected_files_go_on_a_clean_run(tmp_path):
    company(TRANSACTIONS + "C1,2024-01-09,oops,O9\n")(tmp_path)
    load(tmp_path, on_error="quarantine")
    assert (tmp_path / "rejected" / "transactions.csv").exists()
    company()(tmp_path)
    load(tmp_path, on_error="quarantine")
    assert not (tmp_path / "rejected").exists()
    # A user's own file in rejected/ is never touched.
    company(TRANSACTIONS + "C1,2024-01-09,oops,O9\n")(tmp_path)
    load(tmp_path, on_error="quarantine")
    (tmp_path / "rejected" / "my-notes.txt").write_text("mine")
    company()(tmp_path)
    load(tmp_path)
    assert [p.name for p in (tmp_path / "rejected").iterdir()] == ["my-notes.txt"]


def test_a_table_that_cannot_be_read_stops_quarantine_and_is_counted(tmp_path):
    company(**{"responses.csv": b"PK\x03\x04" + bytes(100)})(tmp_path)
    with pytest.raises(InputError, match="responses: responses.csv is not a CSV file: it is a ZIP archive"):
        load(tmp_path, on_error="quarantine")
    with pytest.raises(ValidationFailed):
        load(tmp_path)
    report = validate(tmp_path)
    assert not report.ok and report.tables["responses"].problem_total == 1


def test_all_transactions_rejected_is_a_failure_not_a_report(tmp_path):
    company("customer_id,date,amount\nC1,2024-13-01,1\nC2,2024-01-01,x\n")(tmp_path)
    with pytest.raises(InputError, match="all 2 row\\(s\\) were rejected"):
        load(tmp_path, on_error="quarantine")


def test_quarantined_records_keep_multi_line_fields_whole(tmp_path):
    text = ('date,score,kind,customer_id,comment\n2024-01-01,9,nps,C1,"two\nlines"\n'
            '2024-01-02,9,nps,C1,"x",surplus\n2024-01-03,8,nps,C2,fine\n')
    company(**{"responses.csv": text})(tmp_path)
    loaded = load(tmp_path, on_error="quarantine")
    t = loaded.load_report.tables["responses"]
    assert (t.read, t.used, t.rejected) == (3, 2, 1)
    comments = loaded.tables["responses"].order_by("date").comment.execute().tolist()
    assert comments == ["two\nlines", "fine"]
    assert b'2024-01-02,9,nps,C1,""x"",surplus' in (tmp_path / "rejected" / "responses.unreadable.csv").read_bytes()


SCRATCH_SCRIPT = textwrap.dedent("""
    import sys, time
    from custfocus.data.loading import load
    from custfocus.engine import connect
    engine = connect("duckdb")
    engine._scratch_path("t")  # the engine's own scratch folder, as adopt and from_frame make it
    company = load(sys.argv[1], engine=engine, on_error="quarantine")
    print("loaded", flush=True)
    if sys.argv[2] == "raise":
        raise RuntimeError("boom")
    if sys.argv[2] == "wait":
        time.sleep(60)
""")


def _leftovers(tmp: Path) -> list[str]:
    return sorted(p.name for p in tmp.iterdir() if p.name.startswith("custfocus"))


@pytest.mark.parametrize("ending", ["normal", "raise", "sigterm"])
def test_no_scratch_folder_outlives_the_process(tmp_path, ending):
    data = tmp_path / "company"
    data.mkdir()
    # Ragged rows send the file through the record-by-record reader, which uses load scratch.
    company(TRANSACTIONS + "C1,2024-01-09\n")(data)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {**os.environ, "TMPDIR": str(tmp), "PYTHONPATH": SRC}
    process = subprocess.Popen([sys.executable, "-c", SCRATCH_SCRIPT, str(data), "wait" if ending == "sigterm" else ending],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if ending == "sigterm":
        assert process.stdout.readline().strip() == "loaded"
        assert _leftovers(tmp), "the engine's scratch exists while the process runs"
        process.send_signal(signal.SIGTERM)
    process.communicate(timeout=120)
    time.sleep(0.1)
    assert _leftovers(tmp) == []
