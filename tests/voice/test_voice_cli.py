"""custfocus voice as a user runs it, and the report section: JSON keys, --out, escaping of customer text."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from custfocus import demo
from custfocus.cli import app

runner = CliRunner()
HOSTILE = "<script>alert(1)</script> [red]late[/red] delivery & more"


@pytest.fixture(scope="module")
def company(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("voice_company")
    demo.write(demo.generate(customers=5_000, seed=5), folder)
    responses = pd.read_csv(folder / "responses.csv")
    first = responses.index[responses.comment.notna()][0]
    responses.loc[first, "comment"] = HOSTILE
    responses.to_csv(folder / "responses.csv", index=False)
    return folder


def test_json_lists_themes_with_points_lost_and_intervals(company, tmp_path):
    out = tmp_path / "comments.csv"
    result = runner.invoke(app, ["voice", str(company), "--json", "--out", str(out)])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["metric"] == "nps" and payload["themes"]
    for theme in payload["themes"]:
        assert {"label", "terms", "share", "sentiment", "points_lost", "low", "high", "n"} <= theme.keys()
        assert theme["low"] <= theme["points_lost"] <= theme["high"]
    labels = [t["label"] for t in payload["themes"]]
    assert "late delivery" in labels  # pinned in the demo's voice.toml
    assert payload["headline"].startswith('The biggest root cause is "late delivery"')
    written = pd.read_csv(out)
    assert list(written.columns[:3]) == ["id", "date", "customer_id"]
    assert {"score", "sentiment", "themes", "comment"} <= set(written.columns)
    assert len(written) == payload["comments"] and written.id.is_unique
    assert HOSTILE in written.comment.tolist()  # customer text is kept as written in data files


def test_console_output_prints_customer_text_literally(company):
    result = runner.invoke(app, ["voice", str(company)])
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    assert "biggest root cause" in result.output


def test_report_section_is_built_with_the_drivers_chart_first(company):
    from custfocus.data.loading import load
    from custfocus.report.build import build_report

    voice = build_report(load(company)).section("voice")
    assert voice.available and voice.charts[0].key == "drivers"
    # The report's card shows the first headline: the cause, not the number of comments.
    assert voice.headlines[0].label == "Biggest root cause" and voice.headlines[0].value == "late delivery"
    assert voice.summary.startswith("The biggest root cause")
    assert voice.data["themes"][0]["examples"]


def test_customer_text_is_escaped_in_the_html(tmp_path):
    """A theme whose every comment is hostile: its examples, labels and hover text reach the page."""
    from custfocus.report.build import Report
    from custfocus.report.html import write_html
    from custfocus.section import Section
    from custfocus.voice import analyse_comments, presentation
    from custfocus.voice.themes import PinnedTheme, VoiceSettings

    rng = np.random.default_rng(0)
    n = 400
    hostile = rng.random(n) < 0.3
    frame = pd.DataFrame({
        "id": np.arange(1, n + 1), "date": pd.Timestamp("2026-01-01") + pd.to_timedelta(rng.integers(0, 90, n), "D"),
        "kind": "nps", "score": np.where(hostile, rng.integers(0, 7, n), rng.integers(7, 11, n)),
        "comment": np.where(hostile, HOSTILE, "Fine, thanks."),
    })
    result = analyse_comments(frame, VoiceSettings((PinnedTheme("<b>late</b>", ("late",)),), discover=0),
                              replicates=20)
    section = Section("voice", "Voice")
    section.charts.append(presentation._drivers_chart(result))
    section.tables.append(presentation._themes_table(result))
    report = Report("c", "2026-04-01", "EUR", "now", "duckdb", [section])
    page = write_html(report, tmp_path / "report.html").read_text(encoding="utf-8")
    assert HOSTILE not in page and "<script>alert(1)</script>" not in page and "<b>late</b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # the example is shown, escaped


def test_no_comments_is_a_sentence(tmp_path):
    (tmp_path / "transactions.csv").write_text("customer_id,date,amount\nC1,2024-01-05,10\n")
    (tmp_path / "responses.csv").write_text("date,score,kind\n2024-01-05,9,nps\n")
    result = runner.invoke(app, ["voice", str(tmp_path), "--as-of", "2024-02-01"])
    assert result.exit_code == 1
    assert "no comment column" in result.output and "Traceback" not in result.output
