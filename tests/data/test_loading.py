"""Loading and validation: every problem named by table, row, column and value; counts add up."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from custfocus.data.loading import load, load_frames, validate
from custfocus.errors import InputError, ValidationFailed

AS_OF = date(2024, 6, 30)


def write(folder: Path, name: str, text: str | bytes) -> Path:
    path = folder / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return path


@pytest.fixture
def company_dir(tmp_path: Path) -> Path:
    write(tmp_path, "customers.csv", "customer_id,segment\nC1,a\nC2,b\nC3,c\n")
    write(tmp_path, "transactions.csv",
          "customer_id,date,amount,order_id\nC1,2024-01-05,10.5,O1\nC2,2024-02-01,3,O2\nC3,2024-03-01,5,O3\n")
    return tmp_path


def sentences(report) -> list[str]:
    return [p.sentence() for p in report.problems]


def test_clean_company_loads_with_counts(company_dir):
    company = load(company_dir, as_of=AS_OF)
    assert company.load_report.ok
    tx = company.tables["transactions"].execute()
    assert list(tx.customer_id) == ["C1", "C2", "C3"]
    assert tx.amount.tolist() == [10.5, 3.0, 5.0]
    load_t = company.load_report.tables["transactions"]
    assert (load_t.read, load_t.used, load_t.rejected) == (3, 3, 0)
    assert company.tables["customers"].execute().segment.tolist() == ["a", "b", "c"]


def test_each_bad_value_is_named_with_table_row_column_and_value(company_dir):
    write(company_dir, "transactions.csv",
          "customer_id,date,amount,order_id\n"
          "C1,2024-01-05,10.5,O1\n"
          "C2,notadate,3,O2\n"
          "C1,2024-02-01,x,O3\n"
          "C3,2030-01-01,5,O4\n"
          "C1,2024-03-01,7,O1\n"
          ",2024-03-02,7,O6\n"
          "C9,2024-03-02,7,O7\n")
    report = validate(company_dir, as_of=AS_OF)
    assert sentences(report) == [
        "transactions, row 2, column date: value 'notadate': is not a date (expected YYYY-MM-DD or an ISO timestamp, from 1900 to 2199)",
        "transactions, row 3, column amount: value 'x': is not a number (or is implausibly large, beyond ±1,000,000,000)",
        "transactions, row 4, column date: value '2030-01-01': is after the analysis date as_of 2024-06-30",
        "transactions, row 5, column order_id: value 'O1': repeats the order_id of an earlier row (row 1)",
        "transactions, row 6, column customer_id: is missing (the column is required)",
        "transactions, row 7, column customer_id: value 'C9': is not a customer_id in the customers table",
    ]
    t = report.tables["transactions"]
    assert (t.read, t.used, t.rejected) == (7, 1, 6)


def test_stop_mode_raises_with_a_sentence(company_dir):
    write(company_dir, "transactions.csv", "customer_id,date,amount\nC1,2024-01-05,abc\n")
    with pytest.raises(ValidationFailed, match="1 problem"):
        load(company_dir, as_of=AS_OF)


def test_quarantine_writes_rejected_rows_with_reasons_and_counts_add_up(company_dir):
    write(company_dir, "transactions.csv",
          "customer_id,date,amount\nC1,2024-01-05,1\nC2,2024-13-01,2\nC3,2024-01-07,-4\nC3,2024-01-08,zz\n")
    company = load(company_dir, as_of=AS_OF, on_error="quarantine")
    t = company.load_report.tables["transactions"]
    assert (t.read, t.used, t.rejected) == (4, 2, 2)  # a refund (-4) is valid
    rejected = pd.read_csv(t.rejected_path)
    assert rejected["_row"].tolist() == [2, 4]
    assert "date is not a date" in rejected["_reason"][0]
    assert "amount is not a number (or is implausibly large, beyond ±1,000,000,000)" in rejected["_reason"][1]
    assert company.tables["transactions"].count().execute() == 2


def test_scores_are_checked_against_their_kind(company_dir):
    write(company_dir, "responses.csv",
          "date,score,kind\n2024-01-01,9,nps\n2024-01-02,11,nps\n2024-01-03,4.5,csat\n"
          "2024-01-04,3,xyz\n2024-01-05,6,csat\n2024-01-06,7,CES\n")
    report = validate(company_dir, as_of=AS_OF)
    assert sentences(report) == [
        "responses, row 2, column score: value '11': is outside 0–10, the range of NPS scores",
        "responses, row 3, column score: value '4.5': is not a whole number (or is implausibly large, beyond ±1,000,000,000)",
        "responses, row 4, column kind: value 'xyz': is not one of nps, csat, ces",
        "responses, row 5, column score: value '6': is outside 1–5, the range of CSAT scores",
    ]


def test_missing_and_misnamed_columns_suggest_a_mapping(company_dir):
    write(company_dir, "transactions.csv", "CustID,date,amount\nC1,2024-01-05,1\n")
    report = validate(company_dir, as_of=AS_OF)
    [problem] = report.problems
    assert problem.row is None and problem.table == "transactions"
    assert "required column 'customer_id' is missing" in problem.message
    assert 'customer_id = "CustID"' in problem.message


def test_column_mapping_from_settings(company_dir):
    write(company_dir, "transactions.csv", "CustID,Order Date,Amount\nC1,2024-01-05,1\n")
    write(company_dir, "custfocus.toml",
          '[company]\nas_of = "2024-06-30"\ncurrency = "USD"\n[columns.transactions]\ncustomer_id = "CustID"\ndate = "Order Date"\n')
    company = load(company_dir)
    assert company.currency == "USD" and company.as_of == AS_OF
    tx = company.tables["transactions"].execute()
    assert tx.columns.tolist() == ["customer_id", "date", "amount"]  # 'Amount' matched ignoring case
    assert str(tx.date[0]).startswith("2024-01-05")


def test_empty_files_and_header_only_files(company_dir):
    write(company_dir, "responses.csv", "")
    write(company_dir, "service_events.csv", "customer_id,date,kind,cost\n")
    report = validate(company_dir, as_of=AS_OF)
    assert sentences(report) == [
        "responses: responses.csv is empty (0 bytes)",
        "service_events: the file has a header but no rows",
    ]


def test_non_utf8_and_ragged_lines_are_found_one_by_one(company_dir):
    write(company_dir, "transactions.csv",
          b"customer_id,date,amount\nC1,2024-01-05,1\nC2,2024-01-06,2,extra\nC3,2024-01-07,caf\xe9\nC3,2024-01-08,4\n")
    report = validate(company_dir, as_of=AS_OF)
    assert sentences(report) == [
        "transactions, row 2: value 'C2,2024-01-06,2,extra': has 4 fields where the header has 3",
        "transactions, row 3: value 'C3,2024-01-07,caf\ufffd': is not valid UTF-8 (byte 0xE9 in field 3); "
        "save the file with UTF-8 encoding",
    ]
    t = report.tables["transactions"]
    assert (t.read, t.used, t.rejected) == (4, 2, 2)


def test_quarantine_of_unreadable_lines(company_dir):
    write(company_dir, "transactions.csv", b"customer_id,date,amount\nC1,2024-01-05,1\nC2,2024-01-06,\xff\xfe\n")
    company = load(company_dir, as_of=AS_OF, on_error="quarantine")
    t = company.load_report.tables["transactions"]
    assert (t.read, t.used, t.rejected) == (2, 1, 1)
    assert (company_dir / "rejected" / "transactions.unreadable.csv").exists()


def test_as_of_defaults_to_the_latest_date_in_any_table(company_dir):
    company = load(company_dir)
    assert company.as_of == date(2024, 3, 1)
    assert any("2024-03-01, the latest date in any table (table transactions, column date)" in n
               for n in company.load_report.notes)
    # Survey answers a week after the last purchase are not "after as_of": they move it.
    write(company_dir, "responses.csv", "date,score,kind,customer_id\n2024-03-08,9,nps,C1\n")
    company = load(company_dir)
    assert company.as_of == date(2024, 3, 8)
    assert company.load_report.ok
    assert any("(table responses, column date)" in n for n in company.load_report.notes)


def test_future_dates_relative_to_today_without_as_of(company_dir):
    write(company_dir, "transactions.csv", "customer_id,date,amount\nC1,2024-01-05,1\nC2,2999-01-01,1\n")
    report = validate(company_dir)
    assert [p.row for p in report.problems] == [2]
    assert report.as_of == date(2024, 1, 5)


def test_misnamed_table_file_gets_a_note(company_dir):
    write(company_dir, "transaction.csv", "customer_id,date,amount\n")
    report = validate(company_dir, as_of=AS_OF)
    assert report.notes == ["transaction.csv is not a table of the data contract and was not read. "
                            "Did you mean transactions.csv?"]


def test_missing_transactions_is_a_problem(tmp_path):
    write(tmp_path, "customers.csv", "customer_id\nC1\n")
    report = validate(tmp_path, as_of=AS_OF)
    assert "transactions" in report.problems[0].sentence() and "is required" in report.problems[0].message
    with pytest.raises(InputError, match="Cannot go on without transactions"):
        load(tmp_path, as_of=AS_OF, on_error="quarantine")


def test_semicolon_delimited_and_timestamps(tmp_path):
    write(tmp_path, "transactions.csv",
          "customer_id;date;amount\nC1;2024-01-05 23:30:00;1.5\nC2;2024-01-06T01:00:00+02:00;2\n")
    company = load(tmp_path, as_of=AS_OF)
    tx = company.tables["transactions"].execute()
    assert [str(d)[:10] for d in tx.date] == ["2024-01-05", "2024-01-05"]  # +02:00 is 23:00 UTC


def test_parquet_table_with_row_numbers(tmp_path):
    frame = pd.DataFrame({"customer_id": ["C1", "C2", None], "date": pd.to_datetime(["2024-01-01"] * 3),
                          "amount": [1.0, 2.0, 3.0]})
    frame.to_parquet(tmp_path / "transactions.parquet")
    report = validate(tmp_path, as_of=AS_OF)
    assert sentences(report) == ["transactions, row 3, column customer_id: is missing (the column is required)"]


def test_a_valid_parquet_file_is_read_in_place_with_the_same_values_as_csv(tmp_path):
    # Ids with spaces at their edges and export tokens: cleaned on every read of the file, exactly as
    # the CSV reader's typed copy has them; a column that needs no cleaning is read as stored.
    frame = pd.DataFrame({"customer_id": [" C1", "C2 ", "C3", "C4"], "order_id": ["o1", "o2", "o3", "o4"],
                          "date": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"]).date,
                          "amount": [1.0, 2.5, -1.0, 4.0], "channel": ["web", "N/A", " shop ", "web"]})
    parquet, csv = tmp_path / "parquet", tmp_path / "csv"
    parquet.mkdir(), csv.mkdir()
    frame.to_parquet(parquet / "transactions.parquet")
    frame.to_csv(csv / "transactions.csv", index=False)
    companies = {kind: load(folder, as_of=AS_OF) for kind, folder in (("parquet", parquet), ("csv", csv))}
    copies = {kind: [t for t in c.backend.con.list_tables() if t.startswith("_checked_")]
              for kind, c in companies.items()}
    assert copies == {"parquet": [], "csv": ["_checked_transactions"]}
    got = {kind: c.tables["transactions"].execute().sort_values("order_id", ignore_index=True)
           for kind, c in companies.items()}
    pd.testing.assert_frame_equal(got["parquet"], got["csv"], check_dtype=False)
    assert got["parquet"]["customer_id"].tolist() == ["C1", "C2", "C3", "C4"]
    assert got["parquet"]["channel"].tolist()[2] == "shop" and pd.isna(got["parquet"]["channel"][1])


def test_duckdb_database_as_source(tmp_path):
    path = tmp_path / "company.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create table transactions as select 'C' || i::varchar as customer_id, "
                    "date '2024-01-01' + i::integer as date, i * 1.5 as amount from range(1, 11) t(i)")
        con.execute("create table customers as select 'C' || i::varchar as customer_id from range(1, 10) t(i)")
    report = validate(f"duckdb://{path}", as_of=AS_OF)
    assert sentences(report) == [
        "transactions, row 10, column customer_id: value 'C10': is not a customer_id in the customers table"]
    company = load(f"duckdb://{path}", as_of=AS_OF, on_error="quarantine")
    assert company.tables["transactions"].count().execute() == 9


def test_load_frames_goes_through_validation():
    frames = {"transactions": pd.DataFrame({"customer_id": ["a", "b"], "date": ["2024-01-01", "bad"],
                                            "amount": [1, 2]})}
    with pytest.raises(ValidationFailed):
        load_frames(frames, as_of=AS_OF)
    company = load_frames(frames, as_of=AS_OF, on_error="quarantine")
    assert company.tables["transactions"].count().execute() == 1


def test_bad_settings_are_one_sentence(company_dir):
    write(company_dir, "custfocus.toml", "[company\nname=1")
    with pytest.raises(InputError, match="not valid TOML"):
        load(company_dir)
    write(company_dir, "custfocus.toml", '[columns.transactions]\ncustomer = "x"\n')
    with pytest.raises(InputError, match="'customer', which is not a column of transactions"):
        load(company_dir)


@pytest.mark.spark
def test_spark_engine_gets_the_same_valid_rows(company_dir, spark_engine):
    company = load(company_dir, as_of=AS_OF, engine=spark_engine)
    assert company.backend.name == "spark"
    tx = company.tables["transactions"].order_by("customer_id").execute()
    assert tx.amount.tolist() == [10.5, 3.0, 5.0]


def test_gzipped_csv_is_read(tmp_path):
    import gzip

    with gzip.open(tmp_path / "transactions.csv.gz", "wt") as f:
        f.write("customer_id,date,amount\nC1,2024-01-05,10\nC2,2024-01-06,oops\n")
    report = validate(tmp_path, as_of=AS_OF)
    assert sentences(report) == ["transactions, row 2, column amount: value 'oops': is not a number (or is implausibly large, beyond ±1,000,000,000)"]


def test_repeated_header_and_other_formats_are_named(company_dir):
    write(company_dir, "transactions.csv", "customer_id,date,amount,Amount\nC1,2024-01-05,10,11\n")
    write(company_dir, "responses.xlsx", "not a spreadsheet really")
    report = validate(company_dir, as_of=AS_OF)
    assert sentences(report) == ["transactions: the header of transactions.csv names column 'amount' more than once"]
    assert report.notes == ["responses.xlsx was not read: tables are read from .csv, .csv.gz, .parquet files; "
                            "export it as responses.csv."]


def test_the_cheap_test_lets_every_value_cleaning_changes_through():
    """clean_value runs its dearer tests only where may_change is true: every token and every value
    with blanks at its edges must be among them, else a token would pass as a value."""
    import ibis

    from custfocus.data.validation import MISSING_STRINGS, may_change

    changed = [*MISSING_STRINGS, " C1", "C1 ", "\tC1", "C1\t", " 12", "12 "]
    unchanged = ["C000001", "O1", "2024-01-05", "12.5", "web", "Fashion"]
    table = ibis.memtable({"value": changed + unchanged})
    flags = ibis.duckdb.connect().execute(table.select(flag=may_change(table.value)))["flag"]
    assert list(flags[: len(changed)]) == [True] * len(changed)
    assert list(flags[len(changed):]) == [False] * len(unchanged)  # the test is cheap only if these pass


def test_a_customer_rejected_by_the_analysis_date_does_not_vouch_for_other_rows(tmp_path):
    """Each table is first checked in one scan against the customers as read; a customer that the
    analysis date (known only after every scan) rejects must still make its transactions unknown."""
    write(tmp_path, "customers.csv", "customer_id,acquired_at\nC1,2024-01-01\nC2,2024-09-01\n")
    write(tmp_path, "transactions.csv", "customer_id,date,amount,order_id\nC1,2024-02-01,10,O1\nC2,2024-03-01,5,O2\n")
    report = validate(tmp_path, as_of=AS_OF)
    assert sentences(report) == [
        "customers, row 2, column acquired_at: value '2024-09-01': is after the analysis date as_of 2024-06-30",
        "transactions, row 2, column customer_id: value 'C2': is not a customer_id in the customers table",
    ]
    assert (report.tables["transactions"].used, report.tables["transactions"].rejected) == (1, 1)


def test_tokens_and_blanks_are_missing_in_every_column_of_a_csv(tmp_path):
    """The CSV reader no longer makes the tokens missing itself: cleaning does, for numbers and dates too."""
    write(tmp_path, "customers.csv", "customer_id,acquisition_cost,acquired_at\nC1, 12 ,NA\nC2,n/a , 2024-01-02\nC3,-,\n")
    write(tmp_path, "transactions.csv", "customer_id,date,amount\nC1,2024-02-01, -5 \n")
    company = load(tmp_path, as_of=AS_OF)
    rows = company.tables["customers"].order_by("customer_id").execute()
    assert list(rows.acquisition_cost.fillna(-1)) == [12.0, -1, -1]
    assert [None if pd.isna(d) else str(d)[:10] for d in rows.acquired_at] == [None, "2024-01-02", None]
