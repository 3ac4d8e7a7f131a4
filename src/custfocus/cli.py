"""The command line: parses arguments, calls the library, prints. No analysis lives here."""

from __future__ import annotations

import functools
import json
import os
import sys
import time
import warnings
from collections.abc import Callable
from contextlib import contextmanager
from datetime import date
from enum import Enum
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from custfocus.errors import CustfocusError, ValidationFailed

app = typer.Typer(
    add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False, rich_markup_mode="rich",
    help="custfocus: is the company customer focused? Loyalty vs retention, value, pulse surveys, one report.",
)
# Soft wrap: a problem's sentence stays on one line, so it can be grepped and copied.
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


class EngineName(str, Enum):
    duckdb = "duckdb"
    spark = "spark"


class OnError(str, Enum):
    stop = "stop"
    quarantine = "quarantine"


class Period(str, Enum):
    week = "week"
    month = "month"
    quarter = "quarter"


DataArg = Annotated[Path | None, typer.Argument(help="Company folder of CSV/Parquet tables.", show_default=False)]
SourceOpt = Annotated[str | None, typer.Option("--source", help="Ibis connection URL instead of a folder, e.g. duckdb:///company.duckdb.")]
EngineOpt = Annotated[EngineName, typer.Option("--engine", help="Where table work runs.")]
OnErrorOpt = Annotated[OnError, typer.Option("--on-error", help="stop on bad rows, or quarantine them under rejected/ and go on.")]
AsOfOpt = Annotated[str | None, typer.Option("--as-of", help="Analysis date YYYY-MM-DD (default: custfocus.toml, else the last transaction date).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")]


def handles_errors(command: Callable) -> Callable:
    """Turn every expected error into one clear sentence and a non-zero exit code."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            with warnings.catch_warnings():
                # Numerical warnings reach users as the results' caveats, not as code lines.
                warnings.simplefilter("ignore", RuntimeWarning)
                return command(*args, **kwargs)
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise
        except ValidationFailed as failure:
            err.print(f"[red]Error:[/red] {failure}")
            raise typer.Exit(1) from None
        except CustfocusError as failure:
            err.print(f"[red]Error:[/red] {failure}")
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            err.print("Interrupted.")
            raise typer.Exit(130) from None
        except Exception as failure:  # a bug: say so plainly, keep the traceback for --debug users
            if os.environ.get("CUSTFOCUS_DEBUG"):
                raise
            err.print(f"[red]Unexpected error:[/red] {type(failure).__name__}: {failure}. "
                      "This is a bug in custfocus; set CUSTFOCUS_DEBUG=1 to see the traceback and report it.")
            raise typer.Exit(70) from None

    return wrapper


@contextmanager
def progress_status(message: str, quiet: bool = False):
    """A Rich spinner on stderr whose text the library updates through its progress callback."""
    if quiet or not err.is_terminal:
        yield lambda text: None
        return
    with err.status(message) as status:
        yield lambda text: status.update(text)


def _parse_date(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CustfocusError(f"{option} '{text}' is not a date; use YYYY-MM-DD.") from None


def _source(data: Path | None, source: str | None):
    if (data is None) == (source is None):
        raise CustfocusError("Give either a company folder (DATA) or --source URL, not both and not neither.")
    return str(source) if source else data


def _load(data, source, engine, on_error, as_of, progress):
    from custfocus.data.loading import load

    return load(_source(data, source), engine=engine.value, on_error=on_error.value,
                as_of=_parse_date(as_of, "--as-of"), progress=progress)


def _print_json(payload) -> None:
    from custfocus.stats import to_jsonable

    sys.stdout.write(json.dumps(to_jsonable(payload), indent=2, ensure_ascii=False) + "\n")


def _print_load_summary(company) -> None:
    report = company.load_report
    rejected = sum(t.rejected for t in report.tables.values())
    if rejected:
        err.print(f"[yellow]{rejected:,} rejected row(s) left out[/yellow] "
                  f"({', '.join(f'{t.table}: {t.rejected:,}' for t in report.tables.values() if t.rejected)}).")


@app.command()
@handles_errors
def demo(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the demo company's tables and report.")] = Path("demo-company"),
    customers: Annotated[int, typer.Option("--customers", min=100, help="Number of customers.")] = 20_000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same company).")] = 7,
    file_format: Annotated[str, typer.Option("--format", help="csv or parquet.")] = "csv",
    engine: EngineOpt = EngineName.duckdb,
):
    """Generate a demo company with planted truths, write its tables and its report."""
    from custfocus import demo as demo_company
    from custfocus.data.loading import load
    from custfocus.report.build import build_report
    from custfocus.report.html import write_html
    from custfocus.report.json import write_json

    if file_format not in ("csv", "parquet"):
        raise CustfocusError(f"--format must be csv or parquet, not '{file_format}'.")
    started = time.perf_counter()
    with progress_status(f"Generating {customers:,} customers") as progress:
        tables = demo_company.generate(customers=customers, seed=seed)
        progress("Writing the tables")
        demo_company.write(tables, out_dir, fmt=file_format)
        company = load(out_dir, engine=engine.value, progress=progress)
        report = build_report(company, progress=progress)
        progress("Writing the report")
        html = write_html(report, out_dir / "report.html")
        write_json(report, out_dir / "report.json")
    rows = sum(t.num_rows for t in tables.values())
    out.print(f"Demo company with {customers:,} customers ({rows:,} rows) written to {out_dir}/ "
              f"in {time.perf_counter() - started:.1f} s.")
    out.print(f"Report: {html.resolve()}")
    out.print(f"JSON:   {(out_dir / 'report.json').resolve()}")


@app.command()
@handles_errors
def validate(
    data: DataArg = None,
    source: SourceOpt = None,
    as_of: AsOfOpt = None,
    limit: Annotated[int, typer.Option("--limit", help="Problems listed per table (0 = all).")] = 50,
    as_json: JsonOpt = False,
):
    """Check every table against the data contract and list every problem (exit 1 if any)."""
    from custfocus.data.loading import validate as run_validation

    with progress_status("Validating") as progress:
        report = run_validation(_source(data, source), as_of=_parse_date(as_of, "--as-of"), progress=progress)
    if as_json:
        _print_json(report.to_dict())
    else:
        _print_validation(report, limit)
    if not report.ok:
        raise typer.Exit(1)


def _print_validation(report, limit: int) -> None:
    summary = Table(title=f"Tables checked (as_of {report.as_of})", title_justify="left")
    for column in ("table", "read", "used", "rejected", "problems"):
        summary.add_column(column, justify="left" if column == "table" else "right")
    for t in report.tables.values():
        summary.add_row(t.table, f"{t.read:,}", f"{t.used:,}", f"{t.rejected:,}", f"{t.problem_total:,}")
    out.print(summary)
    for note in report.notes:
        out.print(f"[yellow]Note:[/yellow] {note}")
    for t in report.tables.values():
        shown = t.problems if limit == 0 else t.problems[:limit]
        for problem in shown:
            out.print(problem.sentence(), markup=False, highlight=False)
        if t.problem_total > len(shown):
            out.print(f"… and {t.problem_total - len(shown):,} more problem(s) in {t.table}: "
                      + ", ".join(f"{n:,} × {c or 'file'} {k}" for (c, k), n in t.problem_counts.items())
                      + ". Use --limit 0 to list them all.")
        for note in t.notes:
            out.print(f"[yellow]Note:[/yellow] {note}")
    if report.ok:
        out.print("[green]All tables are valid.[/green]")
    else:
        out.print(f"[red]{report.problem_total:,} problem(s).[/red] Fix them, or run with --on-error quarantine "
                  "to set the bad rows aside (written under rejected/).")


@app.command()
@handles_errors
def report(
    data: DataArg = None,
    source: SourceOpt = None,
    out_path: Annotated[Path, typer.Option("--out", help="The HTML report to write.")] = Path("report.html"),
    json_path: Annotated[Path | None, typer.Option("--json", help="Also write the figures as JSON here.")] = None,
    engine: EngineOpt = EngineName.duckdb,
    on_error: OnErrorOpt = OnError.stop,
    as_of: AsOfOpt = None,
):
    """Write the customer-focus briefing: one self-contained HTML file (and JSON)."""
    from custfocus.report.build import build_report
    from custfocus.report.html import write_html
    from custfocus.report.json import write_json

    with progress_status("Loading") as progress:
        company = _load(data, source, engine, on_error, as_of, progress)
        result = build_report(company, progress=progress)
        html = write_html(result, out_path)
        if json_path:
            write_json(result, json_path)
    _print_load_summary(company)
    out.print(f"Report: {html.resolve()}")
    if json_path:
        out.print(f"JSON:   {json_path.resolve()}")


class Metric(str, Enum):
    nps = "nps"
    csat = "csat"
    ces = "ces"
    enps = "enps"


def _print_frame(frame, title: str, percent: tuple[str, ...] = ()) -> None:
    """Print a result table; columns in ``percent`` are shares shown as percentages."""
    frame = frame.assign(**{c: (frame[c] * 100).map(lambda v: f"{v:.1f}%" if v == v else "–")
                            for c in percent if c in frame})
    table = Table(title=title, title_justify="left")
    for column in frame.columns:
        table.add_column(str(column), justify="left" if frame[column].dtype == object else "right")
    for row in frame.itertuples(index=False):
        table.add_row(*[_cell(v) for v in row])
    out.print(table)


def _cell(value) -> str:
    if isinstance(value, pd.Timestamp):
        return f"{value:%Y-%m-%d}"
    if isinstance(value, float):
        return "–" if value != value else f"{value:,.1f}" if abs(value) >= 1 or value == 0 else f"{value:.3f}"
    if isinstance(value, bool):
        return "yes" if value else ""
    return str(value)


@app.command()
@handles_errors
def nps(
    data: DataArg = None,
    source: SourceOpt = None,
    metric: Annotated[Metric, typer.Option("--metric", help="nps, csat, ces, or enps (employee NPS).")] = Metric.nps,
    by: Annotated[str | None, typer.Option("--by", help="A column to break down by (responses' or the customer's, e.g. segment).")] = None,
    period: Annotated[Period | None, typer.Option("--period", help="Break down by week, month or quarter.")] = None,
    engine: EngineOpt = EngineName.duckdb,
    on_error: OnErrorOpt = OnError.stop,
    as_of: AsOfOpt = None,
    as_json: JsonOpt = False,
):
    """NPS (or CSAT, CES, employee NPS) with 95% intervals, overall or by period and segment."""
    from custfocus import pulse
    from custfocus.pulse.metrics import metric_table

    with progress_status("Loading") as progress:
        company = _load(data, source, engine, on_error, as_of, progress)
        table_name = "employee_responses" if metric == Metric.enps else "responses"
        if not company.has(table_name):
            raise CustfocusError(f"{metric.value} needs the table {table_name}, which the company does not have.")
        table = company.tables[table_name]
        if by and by not in table.columns:
            if table_name == "responses" and company.has("customers") and by in company.tables["customers"].columns:
                table = pulse.with_customer_attributes(table, company.tables["customers"])
            else:
                raise CustfocusError(f"There is no column '{by}' in {table_name}"
                                     + (" or customers" if table_name == "responses" else "") + ".")
        progress(f"Computing {metric.value}")
        frame = metric_table(table, metric.value, by=by, period=period.value if period else None)
        needed = pulse.responses_needed(5, metric.value, table)
    _print_load_summary(company)
    if as_json:
        _print_json({"metric": metric.value, "by": by, "period": period.value if period else None,
                     "as_of": company.as_of, "rows": frame.assign(
                         **({"period": frame["period"].astype(str)} if "period" in frame else {})),
                     "responses_needed_for_5_points": needed})
        return
    _print_frame(frame, f"{metric.value.upper()} with 95% intervals (as_of {company.as_of})")
    out.print(f"A ±5-point interval needs about {needed:,} responses. Rows marked too_small are too thin to conclude.")


@app.command()
@handles_errors
def retention(
    data: DataArg = None,
    source: SourceOpt = None,
    period: Annotated[Period, typer.Option("--period", help="week, month or quarter.")] = Period.month,
    engine: EngineOpt = EngineName.duckdb,
    on_error: OnErrorOpt = OnError.stop,
    as_of: AsOfOpt = None,
    as_json: JsonOpt = False,
):
    """Acquisition flow, active customers, retention and churn, repeat purchase and revenue retention."""
    from custfocus import retention as ret

    with progress_status("Loading") as progress:
        company = _load(data, source, engine, on_error, as_of, progress)
        progress("Computing retention")
        tx = company.tables["transactions"]
        rates = ret.retention_rates(tx, as_of=company.as_of, period=period.value)
        flow = ret.acquisition(tx, as_of=company.as_of, period=period.value)
        base = ret.active(tx, as_of=company.as_of, period=period.value)
        revenue = ret.revenue_retention(tx, as_of=company.as_of, period=period.value)
        repeat = ret.repeat_purchase_rate(tx, as_of=company.as_of)
    _print_load_summary(company)
    if as_json:
        _print_json({"period": period.value, "as_of": company.as_of, "retention": rates, "acquisition": flow,
                     "active": base, "revenue_retention": revenue, "repeat_purchase_rate": repeat.to_dict()})
        return
    _print_frame(rates, f"Retention by {period.value} (as_of {company.as_of}; rate = share of last period's active customers active again)",
                 percent=("rate", "low", "high", "churn"))
    _print_frame(flow.merge(base, on=[c for c in flow.columns if c in base.columns and c not in ("new_customers", "active_customers")]),
                 "New and active customers")
    out.print(f"Repeat-purchase rate: {repeat.estimate:.1%} (95% CI {repeat.low:.1%}–{repeat.high:.1%}, n = {repeat.n:,}).")


class Model(str, Enum):
    bgnbd = "bgnbd"
    paretonbd = "paretonbd"
    mbgnbd = "mbgnbd"


class TimeUnit(str, Enum):
    days = "days"
    weeks = "weeks"
    months = "months"


@app.command()
@handles_errors
def clv(
    data: DataArg = None,
    source: SourceOpt = None,
    summary: Annotated[Path | None, typer.Option("--summary", help="A CSV/Parquet of customer_id, frequency, recency, T [, monetary_value] instead of transactions.")] = None,
    model: Annotated[Model, typer.Option("--model", help="The purchase model.")] = Model.bgnbd,
    horizon: Annotated[int, typer.Option("--horizon", min=1, help="Months of future value.")] = 12,
    discount_rate: Annotated[float, typer.Option("--discount-rate", min=0.0, help="Annual discount rate, e.g. 0.10.")] = 0.10,
    time_unit: Annotated[TimeUnit, typer.Option("--time-unit", help="Unit of frequency/recency/T.")] = TimeUnit.weeks,
    predictions: Annotated[Path | None, typer.Option("--out", help="Write per-customer predictions (.csv or .parquet).")] = None,
    engine: EngineOpt = EngineName.duckdb,
    on_error: OnErrorOpt = OnError.stop,
    as_of: AsOfOpt = None,
    as_json: JsonOpt = False,
):
    """Customer lifetime value: BG/NBD (or Pareto/NBD, MBG/NBD) with Gamma-Gamma, by exact maximum likelihood."""
    from custfocus.engine import connect
    from custfocus.value import clv as value_clv

    settings = {"model": model.value, "time_unit": time_unit.value, "horizon_months": horizon,
                "annual_discount_rate": discount_rate}
    with progress_status("Loading") as progress:
        if summary is not None:
            if data is not None or source is not None:
                raise CustfocusError("Give either --summary FILE or a company (DATA / --source), not both.")
            table = value_clv.read_summary(summary, connect(engine.value))
            value = value_clv.clv_from_summary(table, progress=progress, **settings)
        else:
            company = _load(data, source, engine, on_error, as_of, progress)
            _print_load_summary(company)
            value = value_clv.customer_value(company, progress=progress, **settings)
        payload = value_clv.clv_report(value)
        if predictions is not None:
            value_clv.write_predictions(value, predictions)
    if as_json:
        _print_json(payload)
    else:
        _print_clv(payload)
    if predictions is not None:
        err.print(f"Per-customer predictions: {predictions.resolve()}")


def _print_clv(payload: dict) -> None:
    for role in ("transaction_model", "spend_model"):
        fitted = payload[role]
        if fitted is None:
            continue
        name = payload["model"] if role == "transaction_model" else "Gamma-Gamma"
        table = Table(title=f"{name}: log-likelihood {fitted['log_likelihood']:,.2f}, "
                            f"{fitted['n_customers']:,} customers", title_justify="left")
        for column in ("parameter", "estimate", "std. error", "95% interval"):
            table.add_column(column, justify="left" if column == "parameter" else "right")
        for name, p in fitted["parameters"].items():
            table.add_row(name, _number(p["estimate"]), _number(p["std_error"]),
                          f"{_number(p['lower_95'])} to {_number(p['upper_95'])}")
        out.print(table)
    totals = payload["totals"]
    out.print(f"{payload['n_customers']:,} customers; expected alive {totals['expected_alive']:,.0f}; "
              f"expected purchases over {payload['horizon_months']} months {totals['expected_purchases']:,.0f}"
              + (f"; CLV {totals['clv']['estimate']:,.2f} in total (95% CI {totals['clv']['low']:,.2f} to "
                 f"{totals['clv']['high']:,.2f}), {totals['mean_clv']['estimate']:,.2f} per customer."
                 if (totals.get("clv") or {}).get("estimate") is not None else "; no spend known, so no CLV."))
    for caveat in payload["caveats"]:
        out.print(f"[yellow]Caveat:[/yellow] {caveat}")


def _number(value) -> str:
    return "–" if value is None else f"{value:.4g}"


@app.command()
@handles_errors
def interventions(
    data: DataArg = None,
    source: SourceOpt = None,
    window: Annotated[int | None, typer.Option("--window", min=1, help="Outcome window in days from each assignment (default: up to as_of, the same length for everyone).")] = None,
    cost_per_use: Annotated[str | None, typer.Option("--cost-per-use", help="Treatment cost per order instead of the table's cost, e.g. 6.90 or 6.90:web,app.")] = None,
    engine: EngineOpt = EngineName.duckdb,
    on_error: OnErrorOpt = OnError.stop,
    as_of: AsOfOpt = None,
    as_json: JsonOpt = False,
):
    """Does each intervention bring additional profit, and for whom should it be switched on?"""
    from custfocus import interventions as iv
    from custfocus.interventions.presentation import targeting_sentence, verdict_sentence

    with progress_status("Loading") as progress:
        company = _load(data, source, engine, on_error, as_of, progress)
        results = iv.analyse(company, window=window, cost_per_use=cost_per_use, progress=progress)
    _print_load_summary(company)
    if as_json:
        _print_json(iv.to_dict(results))
        return
    for result in results:
        out.print(f"[bold]{result.intervention}[/bold]: {verdict_sentence(result)}")
        out.print(f"  {targeting_sentence(result)}")
    out.print("Effects with intervals, the split check and the targeting curves: --json, or the report.")


@app.command()
@handles_errors
def voice(
    data: DataArg = None,
    source: SourceOpt = None,
    comments_out: Annotated[Path | None, typer.Option("--out", help="Write one row per comment (id, score, sentiment, themes) to this CSV.")] = None,
    engine: EngineOpt = EngineName.duckdb,
    on_error: OnErrorOpt = OnError.stop,
    as_of: AsOfOpt = None,
    as_json: JsonOpt = False,
):
    """What customers say: comment themes, their sentiment, and the points of NPS (or CSAT, CES) each costs."""
    from custfocus import voice as vc

    with progress_status("Loading") as progress:
        company = _load(data, source, engine, on_error, as_of, progress)
        result = vc.analyse(company, progress=progress)
        if comments_out is not None:
            vc.comments_table(result).to_csv(comments_out, index=False)
    _print_load_summary(company)
    if as_json:
        _print_json(vc.to_dict(result))
    else:
        _print_voice(result)
    if comments_out is not None:
        err.print(f"Comments with their sentiment and themes: {comments_out.resolve()}", markup=False)


def _print_voice(result) -> None:
    from custfocus.voice import headline

    table = Table(title=f"Themes of {len(result.comments):,} comments"
                        + (f" (points lost in {result.unit}, 95% intervals)" if result.unit else ""),
                  title_justify="left")
    columns = ["theme", "share", "sentiment"] + (["points lost", "95% interval", "role"] if result.unit else [])
    for column in columns:
        table.add_column(column, justify="left" if column in ("theme", "role") else "right")
    for row in result.summary.itertuples(index=False):
        cells = [escape(row.label), f"{row.share:.1%}", f"{row.sentiment:+.2f}"]
        if result.unit:
            role = row.role + (f" of {row.symptom_of}" if row.symptom_of else "")
            cells += [f"{row.points_lost:+.1f}", f"{row.low:+.1f} to {row.high:+.1f}", escape(role)]
        table.add_row(*cells)
    out.print(table)
    out.print(headline(result), markup=False, highlight=False)
    for note in result.notes:
        out.print(f"Note: {note}", markup=False, highlight=False)
