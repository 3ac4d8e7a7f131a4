"""The command line as a user meets it: clear sentences, exit codes, JSON, never a traceback."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from custfocus.cli import app
from custfocus.errors import InputError
from custfocus import demo

runner = CliRunner()


def run(*args: str):
    result = runner.invoke(app, [str(a) for a in args])
    assert "Traceback" not in result.output
    return result


@pytest.fixture(scope="module")
def demo_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("company")
    demo.write(demo.generate(customers=1_500, seed=11), folder)
    return folder


@pytest.fixture(scope="module")
def small_folder(tmp_path_factory) -> Path:
    """A 300-customer demo: enough for every command, quick to analyse."""
    folder = tmp_path_factory.mktemp("small")
    demo.write(demo.generate(customers=300, seed=12), folder)
    return folder


@pytest.fixture
def broken_folder(tmp_path: Path) -> Path:
    (tmp_path / "transactions.csv").write_text(
        "customer_id,date,amount\nC1,2024-01-05,10\nC2,2024-02-30,3\nC3,2024-03-01,ten\n")
    (tmp_path / "responses.csv").write_bytes(b"date,score,kind\n2024-01-01,12,nps\n2024-01-02,8,nps\xff\n")
    (tmp_path / "custfocus.toml").write_text('[company]\nas_of = "2024-06-30"\n')
    return tmp_path


def test_every_command_has_help():
    for command in ("demo", "validate", "report", "nps", "retention", "clv", "interventions", "voice", "people",
                    "maturity", "assess"):
        result = run(command, "--help")
        assert result.exit_code == 0, command
        assert "Usage" in result.output


def test_validate_lists_every_problem_and_exits_non_zero(broken_folder):
    result = run("validate", broken_folder)
    assert result.exit_code == 1
    assert "transactions, row 2, column date: value '2024-02-30': is not a date" in result.output
    assert "transactions, row 3, column amount: value 'ten': is not a number" in result.output
    assert "responses, row 1, column score: value '12': is outside 0–10" in result.output
    assert "responses, row 2: value" in result.output and "is not valid UTF-8" in result.output


def test_validate_json(broken_folder):
    result = run("validate", broken_folder, "--json")
    assert result.exit_code == 1
    payload = json.loads(result.stdout)
    counts = payload["tables"]["transactions"]
    assert (counts["read"], counts["used"], counts["rejected"]) == (3, 1, 2)
    assert len(payload["problems"]) == 4


def test_report_stops_on_bad_rows_and_shows_them(broken_folder, tmp_path):
    result = run("report", broken_folder, "--out", tmp_path / "r.html")
    assert result.exit_code == 1
    assert "Found 4 problem(s)" in result.output and "--on-error quarantine" in result.output
    # The problems themselves, as validate words them, not only their count.
    assert "transactions, row 2, column date: value '2024-02-30': is not a date" in result.output
    assert "responses, row 1, column score: value '12': is outside 0–10" in result.output
    assert "more problem(s)" not in result.output


def test_analysis_commands_show_the_first_ten_problems_and_count_the_rest(tmp_path):
    rows = [f"C{i},2024-01-{i % 28 + 1:02d},{'ten' if i < 25 else 10}" for i in range(40)]
    (tmp_path / "transactions.csv").write_text("customer_id,date,amount\n" + "\n".join(rows) + "\n")
    for command in ("retention", "clv", "nps"):
        result = run(command, tmp_path)
        assert result.exit_code == 1, command
        listed = [line for line in result.output.splitlines() if "column amount: value 'ten'" in line]
        assert len(listed) == 10, command
        assert "… and 15 more problem(s); in all, transactions: 25 × amount is not a number" in result.output
        assert "Found 25 problem(s) in transactions" in result.output


def test_report_with_quarantine_goes_on_and_counts_add_up(broken_folder, tmp_path):
    result = run("report", broken_folder, "--out", tmp_path / "r.html", "--json", tmp_path / "r.json",
                 "--on-error", "quarantine")
    assert result.exit_code == 0, result.output
    payload = json.loads((tmp_path / "r.json").read_text())
    for table in payload["sections"]["data"]["data"]["tables"].values():
        assert table["read"] == table["used"] + table["rejected"]
    assert (broken_folder / "rejected" / "transactions.csv").exists()
    assert "4 rejected row(s) left out (transactions: 2, responses: 2)" in result.output


def test_missing_folder_and_bad_arguments_are_sentences(tmp_path):
    result = run("report", tmp_path / "nowhere")
    assert result.exit_code == 1 and "There is no folder" in result.output
    result = run("report", tmp_path, "--as-of", "yesterday")
    assert result.exit_code == 1 and "--as-of 'yesterday' is not a date" in result.output
    result = run("report")
    assert result.exit_code == 1 and "Give either a company folder" in result.output


def test_nps_and_retention_json_on_the_demo(demo_folder):
    result = run("nps", demo_folder, "--period", "month", "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["rows"] and {"n", "nps", "low", "high", "too_small"} <= set(payload["rows"][0])
    result = run("nps", demo_folder, "--by", "segment")
    assert result.exit_code == 0, result.output
    result = run("retention", demo_folder, "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert 0 < payload["repeat_purchase_rate"]["estimate"] < 1


def test_nps_by_unknown_column(demo_folder):
    result = run("nps", demo_folder, "--by", "shoe_size")
    assert result.exit_code == 1 and "There is no column 'shoe_size'" in result.output


def test_demo_writes_tables_and_report(tmp_path):
    result = run("demo", "--out", tmp_path / "d", "--customers", 800, "--seed", 2)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "d" / "report.html").exists() and (tmp_path / "d" / "transactions.csv").exists()
    payload = json.loads((tmp_path / "d" / "report.json").read_text())
    assert payload["sections"]["pulse"]["available"] and payload["sections"]["retention"]["available"]


CDNOW = Path(__file__).parent / "value" / "data" / "cdnow_summary.csv"


def test_clv_from_a_summary_file_reproduces_cdnow(tmp_path):
    result = run("clv", "--summary", CDNOW, "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    params = {k: v["estimate"] for k, v in payload["transaction_model"]["parameters"].items()}
    # Fader, Hardie & Lee (2005), "Counting your customers the easy way": r, alpha, a, b and LL.
    assert params == pytest.approx({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}, abs=6e-4)
    assert payload["transaction_model"]["log_likelihood"] == pytest.approx(-9582.4, abs=0.05)
    assert payload["n_customers"] == 2357


def test_clv_on_a_company_writes_predictions(demo_folder, tmp_path):
    out = tmp_path / "predictions.csv"
    result = run("clv", demo_folder, "--model", "paretonbd", "--horizon", "6", "--out", out)
    assert result.exit_code == 0, result.output
    import pandas as pd

    frame = pd.read_csv(out)
    assert {"customer_id", "p_alive", "expected_purchases", "clv"} <= set(frame.columns)
    assert len(frame) == 1_500 and frame.clv.notna().all()


def test_clv_refuses_two_sources(demo_folder):
    result = run("clv", demo_folder, "--summary", CDNOW)
    assert result.exit_code == 1 and "not both" in result.output


def test_spark_sources_and_master_need_the_spark_engine(small_folder):
    result = run("nps", small_folder, "--spark-master", "spark://nowhere:7077")
    assert result.exit_code == 1 and "--spark-master needs --engine spark." in result.output
    for source in ("spark:acme", "hdfs://namenode/acme"):
        result = run("nps", "--source", source)
        assert result.exit_code == 1 and f"The source '{source}' is read by Spark: add --engine spark" in result.output


def test_interventions_on_the_demo(demo_folder):
    result = run("interventions", demo_folder, "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert "free_delivery" in json.dumps(payload)
    result = run("interventions", demo_folder)
    assert result.exit_code == 0 and "free_delivery:" in result.output
    result = run("interventions", demo_folder, "--cost-per-use", "lots")
    assert result.exit_code == 1 and "--cost-per-use 'lots' is not a cost" in result.output


# --- text from data and files is printed literally ---------------------------------------------------

MARKUP = "[{}] close[/x]"  # Rich would read [..] as a style and crash on the closing tag [/x]
NAMED_COLUMNS = {
    "transactions": ("customer_id", "channel", "product"),
    "customers": ("customer_id", "channel", "segment", "region"),
    "responses": ("customer_id", "touchpoint", "department", "comment"),
    "service_events": ("customer_id", "department"),
    "employee_responses": ("department",),
    "internal_responses": ("from_department", "to_department"),
    "interventions": ("customer_id", "intervention"),
}


@pytest.fixture(scope="module")
def bracketed_folder(tmp_path_factory) -> Path:
    """The demo with every name (company, ids, segments, channels, departments, interventions) bracketed."""
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    folder = tmp_path_factory.mktemp("bracketed")
    tables = demo.generate(customers=300, seed=4)
    for name, table in tables.items():
        for column in NAMED_COLUMNS[name]:
            values = [None if v is None else MARKUP.format(v) for v in table.column(column).to_pylist()]
            table = table.set_column(table.column_names.index(column), column, pa.array(values, pa.string()))
        pa_csv.write_csv(table, folder / f"{name}.csv")
    as_of = tables["transactions"].schema.metadata[b"custfocus.as_of"].decode()
    (folder / "custfocus.toml").write_text(
        f'[company]\nname = "[company] Shop close[/x]"\ncurrency = "EUR"\nas_of = "{as_of}"\n')
    return folder


@pytest.fixture
def wide_terminal(monkeypatch):
    """Rich would cut table cells to 80 columns; the tests read whole names."""
    monkeypatch.setenv("COLUMNS", "400")


def test_bracketed_names_are_printed_literally_by_every_command(bracketed_folder, tmp_path, wide_terminal):
    result = run("validate", bracketed_folder)
    assert result.exit_code == 0 and "All tables are valid." in result.output
    result = run("nps", bracketed_folder, "--by", "segment")
    assert result.exit_code == 0, result.output
    assert MARKUP.format("single") in result.output
    result = run("nps", bracketed_folder, "--metric", "enps", "--by", "department")
    assert result.exit_code == 0, result.output
    assert MARKUP.format("Customer Service") in result.output
    result = run("interventions", bracketed_folder)
    assert result.exit_code == 0, result.output
    assert f"{MARKUP.format('free_delivery')}: Whether {MARKUP.format('free_delivery')} pays" in result.output
    result = run("interventions", bracketed_folder, "--cost-per-use", f"6.90:{MARKUP.format('web')}")
    assert result.exit_code == 0, result.output
    for command in ("retention", "clv"):
        result = run(command, bracketed_folder)
        assert result.exit_code == 0, (command, result.output)
    result = run("report", bracketed_folder, "--out", tmp_path / "r.html", "--json", tmp_path / "r.json")
    assert result.exit_code == 0, result.output
    payload = json.loads((tmp_path / "r.json").read_text())
    assert payload["company"] == "[company] Shop close[/x]"
    assert "[company] Shop close[/x]" in (tmp_path / "r.html").read_text()


def test_bracketed_values_in_messages_are_printed_literally(bracketed_folder, tmp_path):
    result = run("nps", bracketed_folder, "--by", "close[/x]")
    assert result.exit_code == 1 and "There is no column 'close[/x]' in responses or customers" in result.output
    result = run("report", tmp_path / "[red]nowhere[/x]")
    assert result.exit_code == 1 and "[red]nowhere[/x]" in result.output
    result = run("interventions", bracketed_folder, "--cost-per-use", "6.90:[web]")
    assert result.exit_code == 1
    assert "--cost-per-use names channel(s) the transactions do not have: [web]; the channels are: " \
           f"{MARKUP.format('app')}" in result.output
    (tmp_path / "transactions.csv").write_text("customer_id,date,amount\n[b]C1[/b],2024-01-05,[bold]ten[/x]\n")
    result = run("validate", tmp_path)
    assert result.exit_code == 1 and "column amount: value '[bold]ten[/x]': is not a number" in result.output


def test_an_internal_error_is_one_literal_sentence_and_a_traceback_only_when_debugging(small_folder, monkeypatch):
    import custfocus.retention

    def broken(*args, **kwargs):
        raise RuntimeError("broken [bold]here[/x]")

    monkeypatch.setattr(custfocus.retention, "summary", broken)
    result = run("retention", small_folder)
    assert result.exit_code == 70
    assert "Unexpected error: RuntimeError: broken [bold]here[/x]. This is a bug in custfocus" in result.output
    assert "CUSTFOCUS_DEBUG=1" in result.output
    debugging = runner.invoke(app, ["retention", str(small_folder)], env={"CUSTFOCUS_DEBUG": "1"})
    assert isinstance(debugging.exception, RuntimeError)


def test_running_out_of_memory_says_how_to_give_the_engine_more(small_folder, monkeypatch):
    import duckdb

    import custfocus.retention

    def exhausted(*args, **kwargs):
        raise duckdb.OutOfMemoryException("Out of Memory Error: failed to allocate data of size 16.0 MiB")

    monkeypatch.setattr(custfocus.retention, "summary", exhausted)
    result = run("retention", small_folder)
    assert result.exit_code == 1 and "This is a bug" not in result.output
    assert "the engine ran out of memory (Out of Memory Error: failed to allocate" in result.output
    assert "--memory-limit" in result.output and "--temp-directory" in result.output


def test_running_out_of_memory_while_loading_is_not_blamed_on_the_file(small_folder, monkeypatch):
    # The option sets the engine's environment variable in this process: restored after the test,
    # or every later test would run DuckDB in 1 MB.
    monkeypatch.setenv("CUSTFOCUS_MEMORY_LIMIT", "")
    result = run("--memory-limit", "1MB", "validate", small_folder)
    assert result.exit_code == 1
    assert "the engine ran out of memory (Out of Memory Error" in result.output
    assert "cannot be read" not in result.output and "Possible solutions" not in result.output


def test_a_file_system_refusal_is_a_sentence(small_folder, tmp_path, monkeypatch):
    import custfocus.report

    def refused(company, html_path, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(html_path))

    monkeypatch.setattr(custfocus.report, "write_report", refused)
    result = run("report", small_folder, "--out", tmp_path / "[x] r.html")
    assert result.exit_code == 1
    assert f"Error: could not read or write {tmp_path / '[x] r.html'}: Permission denied." in result.output


# --- plausibility of every option ---------------------------------------------------------------------


@pytest.mark.parametrize("args, message", [
    (("demo", "--seed", "-1"), "Invalid value for '--seed'"),
    (("demo", "--customers", "5"), "Invalid value for '--customers'"),
    (("demo", "--customers", "100000000"), "Invalid value for '--customers'"),
    (("validate", "--limit", "-1"), "Invalid value for '--limit'"),
])
def test_implausible_options_are_refused_in_words(args, message, tmp_path):
    result = run(*args)
    assert result.exit_code in (1, 2) and message in result.output


def test_implausible_analysis_options_are_refused_in_words(small_folder):
    result = run("clv", small_folder, "--horizon", "0")
    assert result.exit_code == 1 and "The horizon must be at least 1 month" in result.output
    result = run("clv", small_folder, "--horizon", "100000000")
    assert result.exit_code == 1 and "The horizon must be at most 120 months (ten years)" in result.output
    result = run("clv", small_folder, "--discount-rate", "10")
    assert result.exit_code == 1
    assert "10 would be 1000% a year; give it as a fraction, e.g. 0.1 for 10%" in result.output
    for window in ("0", "100000"):
        result = run("interventions", small_folder, "--window", window)
        assert result.exit_code == 2 and "Invalid value for '--window'" in result.output
    result = run("interventions", small_folder, "--cost-per-use", "6.90:wbe")
    assert result.exit_code == 1
    assert "--cost-per-use names channel(s) the transactions do not have: wbe; the channels are: app" in result.output


def test_an_unwritable_out_is_a_sentence(small_folder, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = run("report", small_folder, "--out", blocker / "r.html")
    assert result.exit_code == 1 and f"'{blocker}' is a file, not a folder" in result.output
    result = run("report", small_folder, "--out", tmp_path)
    assert result.exit_code == 1 and "is a folder; give a file name" in result.output
    result = run("clv", small_folder, "--out", blocker / "p.csv")
    assert result.exit_code == 1 and "is a file, not a folder" in result.output


def test_demo_does_not_overwrite_a_company(tmp_path):
    company = tmp_path / "acme"
    company.mkdir()
    (company / "transactions.csv").write_text("customer_id,date,amount\nC1,2024-01-05,10\n")
    result = run("demo", "--out", company, "--customers", 100)
    assert result.exit_code == 1
    assert "already holds files the demo did not write (transactions.csv)" in result.output and "--force" in result.output
    assert (company / "transactions.csv").read_text().startswith("customer_id,date,amount\nC1,")
    # An earlier demo may be replaced.
    earlier = tmp_path / "earlier"
    demo.write(demo.generate(customers=100, seed=1), earlier)
    demo.check_target(earlier)
    demo.check_target(company, force=True)
    # ... but not once it holds something of the user's.
    (earlier / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="already holds files the demo did not write"):
        demo.check_target(earlier)


# --- unusual companies get sentences ------------------------------------------------------------------


def test_an_as_of_long_after_the_data_shows_no_nan(tmp_path):
    from datetime import date

    old_folder = tmp_path / "old"
    demo.write(demo.generate(customers=300, seed=12, as_of=date(2019, 6, 30)), old_folder)
    result = run("report", old_folder, "--as-of", "2025-01-01", "--out", tmp_path / "r.html",
                 "--json", tmp_path / "r.json")
    assert result.exit_code == 0, result.output
    text = (tmp_path / "r.json").read_text()
    assert not re.search(r"\b(nan|inf)\b", text, flags=re.I), re.findall(r".{60}\bnan\b.{20}", text, flags=re.I)
    for command in ("retention", "clv", "interventions", "nps"):
        result = run(command, old_folder, "--as-of", "2025-01-01")
        assert result.exit_code == 0, (command, result.output)
        assert not re.search(r"\bnan\b", result.output, flags=re.I), (command, result.output)


def test_everyone_treated_says_there_is_no_control_group(small_folder, tmp_path):
    import shutil

    folder = tmp_path / "all-treated"
    shutil.copytree(small_folder, folder)
    assignments = folder / "interventions.csv"
    assignments.write_text(assignments.read_text().replace('"control"', '"treatment"'))
    result = run("interventions", folder)
    assert result.exit_code == 0, result.output
    assert "cannot be measured: all" in result.output and "so there is no untreated group to compare with" in result.output
    assert "n/a" not in result.output


@pytest.fixture
def four_customers(tmp_path) -> Path:
    (tmp_path / "transactions.csv").write_text(
        "customer_id,date,amount\nA,2024-01-05,10\nB,2024-02-05,20\nC,2024-03-05,30\nD,2024-03-20,5\nA,2024-04-01,12\n")
    (tmp_path / "responses.csv").write_text("date,score,kind,customer_id\n2024-03-01,9,nps,A\n2024-03-02,3,nps,B\n")
    (tmp_path / "interventions.csv").write_text(
        "customer_id,intervention,group,date\nA,promo,treatment,2024-02-01\nB,promo,control,2024-02-01\n"
        "C,promo,treatment,2024-02-01\nD,promo,control,2024-02-01\n")
    return tmp_path


def test_a_four_customer_company_gets_sentences_not_errors(four_customers, tmp_path):
    for command in ("retention", "interventions", "nps"):
        result = run(command, four_customers)
        assert result.exit_code == 0, (command, result.output)
    result = run("clv", four_customers)  # four customers cannot pin the model down: a sentence says so
    assert result.exit_code == 1 and "could not be estimated from these 4 customers' purchases" in result.output
    result = run("report", four_customers, "--out", tmp_path / "r.html", "--json", tmp_path / "r.json")
    assert result.exit_code == 0, result.output


def test_all_purchases_on_one_day_is_a_caveat_not_a_model(tmp_path):
    rows = "\n".join(f"C{i},2024-05-01,{10 + i}" for i in range(200))
    (tmp_path / "transactions.csv").write_text(f"customer_id,date,amount\n{rows}\n")
    result = run("clv", tmp_path, "--as-of", "2024-09-30")
    assert result.exit_code == 1
    assert "None of the 200 customers bought on more than one day" in result.output
    result = run("report", tmp_path, "--as-of", "2024-09-30", "--out", tmp_path / "r.html", "--json", tmp_path / "r.json")
    assert result.exit_code == 0, result.output
    sections = json.loads((tmp_path / "r.json").read_text())["sections"]
    assert not sections["value"]["available"] and "bought on more than one day" in sections["value"]["reason"]
    retention = sections["retention"]
    assert [h["label"] for h in retention["headlines"]] == ["New customers", "Active customers", "Repeat-purchase rate"]
    assert any("purchase cycle cannot be measured" in c for c in retention["caveats"])


def test_clv_says_why_a_model_could_not_be_estimated(tmp_path):
    days = pd.date_range("2024-01-01", "2024-06-28", freq="3D")
    pd.DataFrame({"customer_id": [f"C{i % 40}" for i in range(len(days))], "date": days.date,
                  "amount": 20.0}).to_csv(tmp_path / "transactions.csv", index=False)
    result = run("clv", tmp_path, "--as-of", "2024-06-30")
    assert result.exit_code == 1
    assert "could not be estimated" in result.output and "did not converge" in result.output
    assert "RuntimeWarning" not in result.output and "CLV" not in result.output
