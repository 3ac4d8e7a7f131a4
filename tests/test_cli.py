"""The command line as a user meets it: clear sentences, exit codes, JSON, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from custfocus.cli import app
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


@pytest.fixture
def broken_folder(tmp_path: Path) -> Path:
    (tmp_path / "transactions.csv").write_text(
        "customer_id,date,amount\nC1,2024-01-05,10\nC2,2024-02-30,3\nC3,2024-03-01,ten\n")
    (tmp_path / "responses.csv").write_bytes(b"date,score,kind\n2024-01-01,12,nps\n2024-01-02,8,nps\xff\n")
    (tmp_path / "custfocus.toml").write_text('[company]\nas_of = "2024-06-30"\n')
    return tmp_path


def test_every_command_has_help():
    for command in ("demo", "validate", "report", "nps", "retention"):
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


def test_report_stops_on_bad_rows_with_one_sentence(broken_folder, tmp_path):
    result = run("report", broken_folder, "--out", tmp_path / "r.html")
    assert result.exit_code == 1
    assert "Found 4 problem(s)" in result.output and "--on-error quarantine" in result.output


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


def test_interventions_on_the_demo(demo_folder):
    result = run("interventions", demo_folder, "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert "free_delivery" in json.dumps(payload)
    result = run("interventions", demo_folder)
    assert result.exit_code == 0 and "free_delivery:" in result.output
    result = run("interventions", demo_folder, "--cost-per-use", "lots")
    assert result.exit_code == 1 and "--cost-per-use 'lots' is not a cost" in result.output


def test_clv_says_why_a_model_could_not_be_estimated(tmp_path):
    days = pd.date_range("2024-01-01", "2024-06-28", freq="3D")
    pd.DataFrame({"customer_id": [f"C{i % 40}" for i in range(len(days))], "date": days.date,
                  "amount": 20.0}).to_csv(tmp_path / "transactions.csv", index=False)
    result = run("clv", tmp_path, "--as-of", "2024-06-30")
    assert result.exit_code == 1
    assert "could not be estimated" in result.output and "did not converge" in result.output
    assert "RuntimeWarning" not in result.output and "CLV" not in result.output
