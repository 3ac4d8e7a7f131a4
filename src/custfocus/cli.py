"""The command line: parses arguments, calls the library once, prints. No analysis lives here.

Adding a command that reads a company (see also docs/architecture.md):

    @company_command()
    def churn(options: CompanyOptions, horizon: Annotated[int, typer.Option(min=1, max=24)] = 6):
        \"\"\"One line of help.\"\"\"
        from custfocus import churn as library

        options.run(lambda company, progress: library.compute(company, horizon, progress=progress),
                    print_text=_print_churn, needs=("transactions",))

The decorator adds DATA, --source, --engine, --spark-master, --on-error, --as-of and --json (declared once, in
``CompanyOptions``), turns errors into sentences and registers the command. ``options.run`` loads the
company behind a spinner, makes the one library call, says how many rows were rejected, and prints
the result: as JSON with --json (``to_dict()`` or the value itself, through ``stats.to_jsonable``),
otherwise with ``print_text``. A command that reads no company uses ``@command`` instead. Text
from data or files is never read as Rich markup: both consoles print literally.
"""

from __future__ import annotations

import functools
import inspect
import json
import os
import sys
import time
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import date
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, get_type_hints

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from custfocus.errors import CustfocusError, InputError, ValidationFailed, first_line_of, is_out_of_memory

if TYPE_CHECKING:  # pandas loads on first use: `custfocus --help` starts without it
    import pandas as pd

app = typer.Typer(
    add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False, rich_markup_mode=None,
    help="custfocus: is the company customer focused? Loyalty vs retention, value, pulse surveys, one report.",
)
# Literal consoles: data can hold '[x]', which Rich would read as markup. Soft wrap keeps a problem's
# sentence on one line, so it can be grepped and copied.
out = Console(soft_wrap=True, markup=False, highlight=False)
err = Console(stderr=True, soft_wrap=True, markup=False, highlight=False)
PROBLEMS_SHOWN = 10  # problems listed when a command stops on bad rows
DEBUG_VARIABLE = "CUSTFOCUS_DEBUG"


def say(console: Console, label: str, style: str, message: str) -> None:
    """Print a coloured label and a literal message."""
    console.print(Text.assemble((label, style), " ", message))


# --- shared options, declared once -----------------------------------------------------------------


@app.callback()
def main(
    memory_limit: Annotated[str | None, typer.Option(
        "--memory-limit", help="DuckDB's memory limit, e.g. 6GB (default: half the machine's memory); "
        "what does not fit spills to disk.")] = None,
    temp_directory: Annotated[Path | None, typer.Option(
        "--temp-directory", help="Where DuckDB spills (default: a fresh folder in the system's temp directory).")] = None,
):
    """custfocus: is the company customer focused? Loyalty vs retention, value, pulse surveys, one report."""
    # Through the environment, so every engine this run starts (the loader's too) gets them; the
    # engine module (and Ibis with it) is imported only when they are given.
    if memory_limit or temp_directory:
        from custfocus.engine import MEMORY_LIMIT_ENV, TEMP_DIRECTORY_ENV

        os.environ.update({MEMORY_LIMIT_ENV: memory_limit} if memory_limit else {})
        os.environ.update({TEMP_DIRECTORY_ENV: str(temp_directory)} if temp_directory else {})


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
SourceOpt = Annotated[str | None, typer.Option("--source", help=(
    "Instead of a folder: a database URL (duckdb:///company.duckdb), or with --engine spark a folder URL "
    "Spark reads (hdfs://..., s3a://...) or a database of the Spark catalog (spark:DBNAME)."))]
EngineOpt = Annotated[EngineName, typer.Option("--engine", help="Where table work runs.")]
SparkMasterOpt = Annotated[str | None, typer.Option("--spark-master", help=(
    "With --engine spark: the cluster to run on (spark://host:7077, yarn, local[4]); default: a local "
    "Spark, or spark-submit's master."))]
OnErrorOpt = Annotated[OnError, typer.Option("--on-error", help="stop on bad rows, or quarantine them under rejected/ and go on.")]
AsOfOpt = Annotated[str | None, typer.Option("--as-of", help="Analysis date YYYY-MM-DD (default: custfocus.toml, else the latest date in the data).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")]


@dataclass(frozen=True)
class CompanyOptions:
    """The options of every command that reads a company; the field annotations are the CLI's."""

    data: DataArg = None
    source: SourceOpt = None
    engine: EngineOpt = EngineName.duckdb
    spark_master: SparkMasterOpt = None
    on_error: OnErrorOpt = OnError.stop
    as_of: AsOfOpt = None
    as_json: JsonOpt = False

    def load(self, progress: Callable[[str], None] = lambda note: None):
        from custfocus.data.loading import load

        engine = self.engine.value
        if self.spark_master is not None:
            if engine != "spark":
                raise InputError("--spark-master needs --engine spark.")
            from custfocus.engine import connect

            engine = connect("spark", spark_master=self.spark_master)
        return load(self.location(), engine=engine, on_error=self.on_error.value,
                    as_of=parse_date(self.as_of, "--as-of"), progress=progress)

    def location(self):
        if (self.data is None) == (self.source is None):
            raise InputError("Give either a company folder (DATA) or --source URL, not both and not neither.")
        return str(self.source) if self.source else self.data

    def run(self, compute: Callable[[Any, Callable[[str], None]], Any], print_text: Callable[[Any], None],
            needs: Iterable[str] = (), to_json: Callable[[Any], Any] | None = None) -> Any:
        """Load the company, ``compute(company, progress)`` (one library call), print the result.

        With --json the result is printed through ``to_json`` (default: its ``to_dict()``, or itself).
        """
        with progress_status("Loading") as progress:
            company = self.load(progress)
            missing = company.missing(*needs)
            if missing:
                raise InputError(f"This command needs the table(s) {', '.join(missing)}, which the company "
                                 "does not have.")
            result = compute(company, progress)
        print_load_summary(company)
        emit(result, self.as_json, print_text, to_json)
        return result


def command(function: Callable) -> Callable:
    """Register a command that reads no company: errors become sentences."""
    return app.command()(handles_errors(function))


def company_command(omit: Iterable[str] = ()) -> Callable[[Callable], Callable]:
    """Register ``function(options: CompanyOptions, ...own options)`` with the shared options added.

    ``omit`` names shared options the command has no use for (e.g. ``("as_json",)`` when --json
    means something else); they keep their defaults.
    """
    shared = [f for f in fields(CompanyOptions) if f.name not in set(omit)]
    hints = get_type_hints(CompanyOptions, include_extras=True)

    def register(function: Callable) -> Callable:
        own = list(inspect.signature(function, eval_str=True).parameters.values())[1:]
        added = [inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=f.default,
                                   annotation=hints[f.name]) for f in shared]
        own = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in own]

        @functools.wraps(function)
        def wrapper(**kwargs):
            options = CompanyOptions(**{f.name: kwargs.pop(f.name) for f in shared})
            return function(options, **kwargs)

        # DATA first (it is the positional argument), then the command's own options, then the rest.
        parameters = added[:1] + own + added[1:] if shared and shared[0].name == "data" else own + added
        wrapper.__signature__ = inspect.Signature(parameters)
        wrapper.__annotations__ = {p.name: p.annotation for p in parameters}
        return command(wrapper)

    return register


# --- errors, progress and printing -----------------------------------------------------------------


def handles_errors(function: Callable) -> Callable:
    """Turn every expected error into clear sentences and a non-zero exit code.

    A traceback is shown only with CUSTFOCUS_DEBUG=1; every message is printed literally.
    """

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except (typer.Exit, typer.Abort, typer.BadParameter):
            raise
        except ValidationFailed as failure:
            print_problems(failure.report, PROBLEMS_SHOWN, console=err)
            say(err, "Error:", "red", str(failure))
            raise typer.Exit(1) from None
        except CustfocusError as failure:
            say(err, "Error:", "red", str(failure))
            raise typer.Exit(1) from None
        except OSError as failure:
            if os.environ.get(DEBUG_VARIABLE) == "1":
                raise
            where = f" {failure.filename}" if failure.filename else ""
            say(err, "Error:", "red", f"could not read or write{where}: {failure.strerror or failure}.")
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            err.print("Interrupted.")
            raise typer.Exit(130) from None
        except Exception as failure:  # a bug: say so plainly, keep the traceback for debugging
            if os.environ.get(DEBUG_VARIABLE) == "1":
                raise
            if is_out_of_memory(failure):
                say(err, "Error:", "red", f"the engine ran out of memory ({first_line_of(failure)}). Give DuckDB more with "
                    "'custfocus --memory-limit 12GB ...' (default: half the machine's memory) and room to spill "
                    "with --temp-directory, or run on a cluster with --engine spark.")
                raise typer.Exit(1) from None
            say(err, "Unexpected error:", "red", f"{type(failure).__name__}: {failure}. This is a bug in "
                f"custfocus; set {DEBUG_VARIABLE}=1 to see the traceback and report it.")
            raise typer.Exit(70) from None

    return wrapper


@contextmanager
def progress_status(message: str):
    """Progress on stderr: each step the library announces through its progress callback, with
    its elapsed time and, while the engine runs a query, a bar and the time left (DuckDB's own
    estimate of how much of the query is done)."""
    if not err.is_terminal:
        yield lambda text: None
        return
    import threading

    from rich.progress import (
        BarColumn,
        Progress,
        SpinnerColumn,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    # Step texts can name a user's file: shown literally, never read as markup.
    columns = (SpinnerColumn(), TextColumn("{task.description}", markup=False), BarColumn(), TaskProgressColumn(),
               TextColumn("elapsed"), TimeElapsedColumn(), TextColumn("left"), TimeRemainingColumn())
    with Progress(*columns, console=err, transient=True) as bar:
        step = [bar.add_task(message, total=None)]
        stop = threading.Event()

        def announce(text: str) -> None:
            bar.remove_task(step[0])
            step[0] = bar.add_task(text, total=None)

        def follow_queries() -> None:
            from custfocus.engine import query_progress

            while not stop.wait(0.25):
                done, task = query_progress(), step[0]
                if done is None:
                    continue
                try:
                    if next(t for t in bar.tasks if t.id == task).completed > done:  # a new query
                        bar.reset(task, total=100)
                    bar.update(task, total=100, completed=done)
                except (StopIteration, KeyError):  # the step ended meanwhile
                    continue

        follower = threading.Thread(target=follow_queries, daemon=True)
        follower.start()
        try:
            yield announce
        finally:
            stop.set()
            follower.join()


def parse_date(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{option} '{text}' is not a date; use YYYY-MM-DD.") from None


def writable_file(path: Path | None, option: str) -> Path | None:
    """Refuse an output path that cannot be written, before any work is done."""
    if path is None:
        return None
    if path.is_dir():
        raise InputError(f"{option} '{path}' is a folder; give a file name.")
    parent = path.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise InputError(f"{option} '{path}' cannot be written: '{parent}' is a file, not a folder.")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(f"{option} '{path}' cannot be written: no permission to write in '{parent}'.")
    return path


def emit(result: Any, as_json: bool, print_text: Callable[[Any], None],
         to_json: Callable[[Any], Any] | None = None) -> None:
    if as_json:
        print_json(to_json(result) if to_json else result.to_dict() if hasattr(result, "to_dict") else result)
    else:
        print_text(result)


def print_json(payload) -> None:
    from custfocus.stats import to_jsonable

    sys.stdout.write(json.dumps(to_jsonable(payload), indent=2, ensure_ascii=False) + "\n")


def print_load_summary(company) -> None:
    report = company.load_report
    rejected = sum(t.rejected for t in report.tables.values())
    if rejected:
        say(err, f"{rejected:,} rejected row(s) left out", "yellow",
            f"({', '.join(f'{t.table}: {t.rejected:,}' for t in report.tables.values() if t.rejected)}).")


def print_problems(report, limit: int, console: Console = out) -> None:
    """The problems as ``validate`` lists them: the first ``limit`` (0 = all), then how many more."""
    problems = report.problems
    shown = problems if limit == 0 else problems[:limit]
    for problem in shown:
        console.print(problem.sentence())
    more = report.table_problem_total - len(shown)
    if more > 0:
        counts = "; ".join(f"{t.table}: " + ", ".join(f"{n:,} × {c or 'file'} {k}" for (c, k), n in t.problem_counts.items())
                           for t in report.tables.values() if t.problem_total)
        console.print(f"… and {more:,} more problem(s); in all, {counts}. "
                      "'custfocus validate --limit 0' lists them all.")


def print_frame(frame: pd.DataFrame | list[dict], title: str, percent: tuple[str, ...] = (),
                columns: list[str] | None = None) -> None:
    """Print a result table (a frame, or JSON-style rows); columns in ``percent`` are shares shown as
    percentages; ``columns`` picks and orders the columns shown."""
    import pandas as pd

    frame = pd.DataFrame(frame)
    if columns is not None:
        frame = frame[columns]
    frame = frame.assign(**{c: (frame[c] * 100).map(lambda v: f"{v:.1f}%" if v == v else "–")
                            for c in percent if c in frame})
    table = Table(title=title, title_justify="left")
    for column in frame.columns:
        table.add_column(str(column), justify="left" if frame[column].dtype == object else "right")
    for row in frame.itertuples(index=False):
        table.add_row(*[_cell(v) for v in row])
    out.print(table)


def _cell(value) -> str:
    import pandas as pd

    if isinstance(value, pd.Timestamp):
        return f"{value:%Y-%m-%d}"
    if isinstance(value, float):
        return "–" if value != value else f"{value:,.1f}" if abs(value) >= 1 or value == 0 else f"{value:.3f}"
    if isinstance(value, bool):
        return "yes" if value else ""
    return str(value)


# --- commands --------------------------------------------------------------------------------------


class FileFormat(str, Enum):
    csv = "csv"
    parquet = "parquet"


@command
def demo(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the demo company's tables and report.")] = Path("demo-company"),
    customers: Annotated[int, typer.Option("--customers", min=100, max=2_000_000, help="Number of customers.")] = 20_000,
    seed: Annotated[int, typer.Option("--seed", min=0, max=2**32 - 1, help="Random seed (same seed, same company).")] = 7,
    file_format: Annotated[FileFormat, typer.Option("--format", help="csv or parquet.")] = FileFormat.csv,
    force: Annotated[bool, typer.Option("--force", help="Overwrite --out even if it holds files the demo did not write.")] = False,
    engine: EngineOpt = EngineName.duckdb,
    service_db: Annotated[str | None, typer.Option("--service-db", help="Also fill this service database (custfocus serve) with the demo, its dates ending today, e.g. sqlite:///custfocus.db.")] = None,
):
    """Generate a demo company with planted truths, write its tables and its report."""
    from custfocus import demo as demo_company
    from custfocus.report import write_report

    demo_company.check_target(out_dir, force=force)
    started = time.perf_counter()
    with progress_status(f"Generating {customers:,} customers") as progress:
        # For the service's dashboard the demo ends today, so that today, this week and this month have answers.
        tables = demo_company.generate(customers=customers, seed=seed,
                                       **({"as_of": date.today()} if service_db else {}))
        progress("Writing the tables")
        demo_company.write(tables, out_dir, fmt=file_format.value, force=force)
        html, json_path = write_report(CompanyOptions(data=out_dir, engine=engine).load(progress),
                                       out_dir / "report.html", out_dir / "report.json", progress=progress)
    rows = sum(t.num_rows for t in tables.values())
    out.print(f"Demo company with {customers:,} customers ({rows:,} rows) written to {out_dir}/ "
              f"in {time.perf_counter() - started:.1f} s.")
    out.print(f"Report: {html.resolve()}")
    out.print(f"JSON:   {json_path.resolve()}")
    if service_db:
        from custfocus.service import fill_from_demo

        with progress_status("Filling the service database") as progress:
            filled = fill_from_demo(service_db, tables, progress=progress)
        out.print(f"Service database {service_db}: {filled['responses']:,} answers, {filled['cases']:,} "
                  "open cases, and the company's other tables.")


@company_command(omit=("engine", "spark_master", "on_error"))
def validate(
    options: CompanyOptions,
    limit: Annotated[int, typer.Option("--limit", min=0, help="Problems listed (0 = all).")] = 50,
):
    """Check every table against the data contract, and assessment.toml, and list every problem (exit 1 if any)."""
    from custfocus.report.inputs import validate_inputs

    with progress_status("Validating") as progress:
        report = validate_inputs(options.location(), as_of=parse_date(options.as_of, "--as-of"), progress=progress)
    emit(report, options.as_json, functools.partial(_print_validation, limit=limit))
    if not report.ok:
        raise typer.Exit(1)


def _print_validation(report, limit: int) -> None:
    summary = Table(title=f"Tables checked (as_of {report.as_of})", title_justify="left")
    for column in ("table", "read", "used", "rejected", "problems"):
        summary.add_column(column, justify="left" if column == "table" else "right")
    for t in report.tables.values():
        summary.add_row(t.table, f"{t.read:,}", f"{t.used:,}", f"{t.rejected:,}", f"{t.problem_total:,}")
    out.print(summary)
    for note in [*report.notes, *(note for t in report.tables.values() for note in t.notes)]:
        say(out, "Note:", "yellow", note)
    for problem in report.files:
        out.print(problem.sentence())
    print_problems(report, limit)
    if report.ok:
        files = " and ".join(Path(file).name for file in report.checked_files)
        say(out, f"All tables are valid{f', and so is {files}' if files else ''}.", "green", "")
    elif report.table_problem_total:
        say(out, f"{report.problem_total:,} problem(s).", "red", "Fix them, or run with --on-error quarantine "
            "to set the bad rows aside (written under rejected/).")
    else:
        say(out, f"{report.problem_total:,} problem(s).", "red", "Fix them in the file(s) named above.")


@company_command(omit=("as_json",))
def report(
    options: CompanyOptions,
    out_path: Annotated[Path, typer.Option("--out", help="The HTML report to write.")] = Path("report.html"),
    json_path: Annotated[Path | None, typer.Option("--json", help="Also write the figures as JSON here.")] = None,
):
    """Write the customer-focus briefing: one self-contained HTML file (and JSON)."""
    from custfocus.report import write_report

    writable_file(out_path, "--out")
    writable_file(json_path, "--json")

    def print_paths(paths):
        out.print(f"Report: {paths[0].resolve()}")
        if paths[1]:
            out.print(f"JSON:   {paths[1].resolve()}")

    options.run(lambda company, progress: write_report(company, out_path, json_path, progress=progress), print_paths)


class Metric(str, Enum):
    nps = "nps"
    csat = "csat"
    ces = "ces"
    enps = "enps"


@company_command()
def nps(
    options: CompanyOptions,
    metric: Annotated[Metric, typer.Option("--metric", help="nps, csat, ces, or enps (employee NPS: overall or --by department, groups under 5 people hidden).")] = Metric.nps,
    by: Annotated[str | None, typer.Option("--by", help="A column to break down by (responses' or the customer's, e.g. segment).")] = None,
    period: Annotated[Period | None, typer.Option("--period", help="Break down by week, month or quarter.")] = None,
):
    """NPS (or CSAT, CES, employee NPS) with 95% intervals, overall or by period and segment."""
    from custfocus import pulse

    if metric == Metric.enps:
        _employee_nps(options, by, period)
        return

    def compute(company, progress):
        progress(f"Computing {metric.value}")
        return {"metric": metric.value, "by": by, "period": period.value if period else None, "as_of": company.as_of,
                "rows": pulse.metric_table_for(company, metric.value, by=by, period=period.value if period else None),
                "responses_needed_for_5_points": pulse.responses_needed(
                    5, metric.value, pulse.source_table(company, metric.value))}

    options.run(compute, _print_metric)


def _print_metric(result: dict) -> None:
    print_frame(result["rows"], f"{result['metric'].upper()} with 95% intervals (as_of {result['as_of']})")
    out.print(f"A ±5-point interval needs about {result['responses_needed_for_5_points']:,} responses. "
              "Rows marked too_small are too thin to conclude.")


def _employee_nps(options: CompanyOptions, by: str | None, period: Period | None) -> None:
    """Employee NPS through the people module's anonymity rule: overall, or by department."""
    from custfocus import people

    if period is not None or by not in (None, "department"):
        raise InputError("Employee NPS is shown only by department (--by department) and by survey wave "
                         "('custfocus people DATA'), so that no small group of employees can be worked out.")

    def compute(company, progress):
        progress("Computing employee NPS")
        result = people.company_employee_nps(company)
        rows = [{"department": "company", **row} for row in result.company.to_dict("records")]
        if by == "department":
            rows = [*result.departments.to_dict("records"), *rows]
        return {"metric": "enps", "by": by, "as_of": company.as_of, "min_group_size": result.min_group_size,
                "rows": rows, "hidden": result.hidden,
                "anonymity_rule": people.anonymity.rule_sentence(result.min_group_size)}

    options.run(compute, _print_employee_nps, needs=("employee_responses",))


def _print_employee_nps(result: dict) -> None:
    if result["rows"]:
        print_frame(result["rows"], f"Employee NPS with 95% intervals (as_of {result['as_of']})")
    else:
        out.print("No employee NPS can be shown: every group is too small.")
    out.print(result["anonymity_rule"])


@company_command()
def people(options: CompanyOptions):
    """Employee NPS by department and wave (anonymised), internal customers, the bottleneck supplier, the chain."""
    from custfocus import people as library

    def compute(company, progress):
        if not any(company.has(name) for name in library.analysis.NEEDS_ANY):
            raise InputError("people needs the table employee_responses or internal_responses.")
        return library.to_dict(library.analyse(company, progress=progress))

    options.run(compute, _print_people)


def _print_people(payload: dict) -> None:
    employee = payload["employee_nps"]
    if employee is not None:
        company = employee["company"]
        if company:
            out.print(f"Employee NPS {company['nps']:+.0f} (95% CI {company['low']:+.0f} to {company['high']:+.0f}, "
                      f"{company['people']:,} people, {company['n']:,} answers).")
        if employee["by_department"]:
            print_frame(employee["by_department"], "Employee NPS by department, all waves",
                        columns=["department", "people", "n", "nps", "low", "high"])
        if employee["changes"]:
            print_frame(employee["changes"], "Latest change per department (b minus a)",
                        columns=["department", "wave_a", "wave_b", "estimate", "low", "high", "significant"])
        hidden = employee["hidden"]
        if hidden["departments"]:
            out.print(f"{hidden['departments']} department(s) not shown ({hidden['small_departments']} too small).")
    internal = payload["internal"]
    if internal is not None and internal["suppliers"]:
        print_frame(internal["suppliers"], f"Internal suppliers (adjusted by the {internal['method']})",
                    columns=[c for c in internal["suppliers"][0] if c != "n"])
    if payload["bottleneck"]:
        out.print(payload["bottleneck"]["sentence"])
    for pair in (internal or {}).get("asymmetric", []):
        if pair["significant"]:
            out.print(f"Asymmetric: {pair['department_a']} rates {pair['department_b']} {pair['a_rates_b']:.1f}, "
                      f"{pair['department_b']} rates {pair['department_a']} {pair['b_rates_a']:.1f}.")
    for key in ("employee_nps", "internal_service", "lead_lag"):
        if (payload["chain"] or {}).get(key):
            out.print(payload["chain"][key]["verdict"])
    for note in payload["notes"]:
        out.print(f"Note: {note}")
    out.print(payload["anonymity_rule"])


@company_command()
def maturity(options: CompanyOptions):
    """Where customer focus stands (level 1-3, from the data and assessment.toml) and the next steps."""
    from custfocus.report.build import build_report

    options.run(lambda company, progress: build_report(company, progress=progress).section("maturity").data,
                _print_maturity)


def _print_maturity(data: dict) -> None:
    out.print(data["verdict"])
    print_frame(data["criteria"], "Criteria (data overrides claims)", columns=["level", "key", "status", "evidence"])
    for number, step in enumerate(data["next_steps"], start=1):
        out.print(f"Next step {number}: {step['practice']} How: {step['how']}.")


@command
def assess(
    write_template: Annotated[bool, typer.Option("--template", help="Write an annotated blank assessment.toml.")] = False,
    out_file: Annotated[Path | None, typer.Option("--out", help="Where to write it (default: print it).")] = None,
):
    """The customer-focus self-assessment: --template writes a blank assessment.toml to fill in."""
    from custfocus.maturity import template

    if not write_template:
        raise InputError("Use --template to write a blank assessment.toml; put the filled-in file in the "
                         "company folder and run 'custfocus maturity DATA'.")
    text = template()
    if out_file is None:
        sys.stdout.write(text)
        return
    writable_file(out_file, "--out")
    if out_file.exists():
        raise InputError(f"{out_file} exists already; give another --out or remove it first.")
    out_file.write_text(text, encoding="utf-8")
    out.print(f"Self-assessment template: {out_file.resolve()}")


@company_command()
def retention(
    options: CompanyOptions,
    period: Annotated[Period, typer.Option("--period", help="week, month or quarter.")] = Period.month,
):
    """Retention over the purchase cycle, then acquisition, active customers, retention and churn by period."""
    from custfocus import retention as library

    options.run(lambda company, progress: library.summary(company.table("transactions"), company.as_of, period.value),
                _print_retention, needs=("transactions",))


def _print_retention(result) -> None:
    if result.cycle_measured:
        out.print(f"Retention over {result.cycle.window_name}: {result.cycle_sentence()}")
    else:
        out.print(result.cycle_sentence())
    print_frame(result.rates, f"Retention by {result.period} (as_of {result.as_of}; rate = share of last "
                f"{result.period}'s active customers active again)", percent=("rate", "low", "high", "churn"))
    print_frame(result.flow, "New and active customers")
    repeat = result.repeat
    if repeat.n:
        out.print(f"Repeat-purchase rate: {repeat.estimate:.1%} (95% CI {repeat.low:.1%}–{repeat.high:.1%}, "
                  f"n = {repeat.n:,} customers acquired by {result.repeat_cutoff}).")


class Model(str, Enum):
    bgnbd = "bgnbd"
    paretonbd = "paretonbd"
    mbgnbd = "mbgnbd"


class TimeUnit(str, Enum):
    days = "days"
    weeks = "weeks"
    months = "months"


@company_command()
def clv(
    options: CompanyOptions,
    summary: Annotated[Path | None, typer.Option("--summary", help="A CSV/Parquet of customer_id, frequency, recency, T [, monetary_value] instead of transactions.")] = None,
    model: Annotated[Model, typer.Option("--model", help="The purchase model.")] = Model.bgnbd,
    horizon: Annotated[int, typer.Option("--horizon", help="Months of future value (1 to 120).")] = 12,
    discount_rate: Annotated[float, typer.Option("--discount-rate", min=0.0, help="Annual discount rate as a fraction, e.g. 0.10 for 10%.")] = 0.10,
    time_unit: Annotated[TimeUnit, typer.Option("--time-unit", help="Unit of frequency/recency/T.")] = TimeUnit.weeks,
    predictions: Annotated[Path | None, typer.Option("--out", help="Write per-customer predictions (.csv or .parquet).")] = None,
):
    """Customer lifetime value: BG/NBD (or Pareto/NBD, MBG/NBD) with Gamma-Gamma, by exact maximum likelihood."""
    from custfocus.value import clv as library

    writable_file(predictions, "--out")
    settings = {"model": model.value, "time_unit": time_unit.value, "horizon_months": horizon,
                "annual_discount_rate": discount_rate}

    def compute(company, progress):
        value = library.customer_value(company, progress=progress, **settings)
        return library.clv_report(value, write_to=predictions)

    if summary is None:
        options.run(compute, _print_clv)
    else:
        if options.data is not None or options.source is not None:
            raise InputError("Give either --summary FILE or a company (DATA / --source), not both.")
        from custfocus.engine import connect

        with progress_status("Fitting") as progress:
            value = library.clv_from_summary(library.read_summary(summary, connect(options.engine.value)),
                                             progress=progress, **settings)
            report = library.clv_report(value, write_to=predictions)
        emit(report, options.as_json, _print_clv)
    if predictions is not None:
        err.print(f"Per-customer predictions: {predictions.resolve()}")


def _print_clv(payload: dict) -> None:
    for role in ("transaction_model", "spend_model"):
        fitted = payload[role]
        if fitted is None:
            continue
        name = payload["model"] if role == "transaction_model" else "Gamma-Gamma"
        table = Table(title=f"{name}: log-likelihood {_number(fitted['log_likelihood'])}, "
                            f"{fitted['n_customers']:,} customers"
                            + ("" if fitted.get("converged", True) else "; the fit did not converge"),
                      title_justify="left")
        for column in ("parameter", "estimate", "std. error", "95% interval"):
            table.add_column(column, justify="left" if column == "parameter" else "right")
        for name, p in fitted["parameters"].items():
            table.add_row(name, _number(p["estimate"]), _number(p["std_error"]),
                          f"{_number(p['lower_95'])} to {_number(p['upper_95'])}")
        out.print(table)
    totals, clv = payload["totals"], payload["totals"].get("clv") or {}
    if clv.get("estimate") is None:
        value = "; no spend known, so no CLV."
    else:
        interval = (f"95% CI {clv['low']:,.2f} to {clv['high']:,.2f}" if clv.get("low") is not None
                    else "no interval: the models' uncertainty could not be estimated")
        value = (f"; CLV {clv['estimate']:,.2f} in total ({interval}), "
                 f"{totals['mean_clv']['estimate']:,.2f} per customer.")
    out.print(f"{payload['n_customers']:,} customers; expected alive {totals['expected_alive']:,.0f}; "
              f"expected purchases over {payload['horizon_months']} months {totals['expected_purchases']:,.0f}{value}")
    for caveat in payload["caveats"]:
        say(out, "Caveat:", "yellow", caveat)


def _number(value) -> str:
    return "–" if value is None else f"{value:.4g}"


@company_command()
def interventions(
    options: CompanyOptions,
    window: Annotated[int | None, typer.Option("--window", min=1, max=3650, help="Outcome window in days from each assignment (default: up to as_of, the same length for everyone).")] = None,
    cost_per_use: Annotated[str | None, typer.Option("--cost-per-use", help="Treatment cost per order instead of the table's cost, e.g. 6.90 or 6.90:web,app.")] = None,
):
    """Does each intervention bring additional profit, and for whom should it be switched on?"""
    from custfocus import interventions as library

    options.run(lambda company, progress: library.analyse(company, window=window, cost_per_use=cost_per_use,
                                                          progress=progress),
                _print_interventions, to_json=library.to_dict)


def _print_interventions(results) -> None:
    from custfocus.interventions.presentation import (
        targeting_sentence,
        verdict_sentence,
    )

    for result in results:
        out.print(Text.assemble((result.intervention, "bold"), f": {verdict_sentence(result)}"))
        out.print(f"  {targeting_sentence(result)}")
    out.print("Effects with intervals, the split check and the targeting curves: --json, or the report.")


@company_command()
def voice(
    options: CompanyOptions,
    comments_out: Annotated[Path | None, typer.Option("--out", help="Write one row per comment (id, date, score, sentiment, themes) to this CSV.")] = None,
):
    """What customers say: comment themes, their sentiment, and the points of NPS (or CSAT, CES) each costs."""
    from custfocus import voice as library

    writable_file(comments_out, "--out")

    def compute(company, progress):
        result = library.analyse(company, progress=progress)
        if comments_out is not None:
            library.comments_table(result).to_csv(comments_out, index=False)
        return result

    options.run(compute, _print_voice, needs=("responses",), to_json=library.to_dict)
    if comments_out is not None:
        err.print(f"Comments with their sentiment and themes: {comments_out.resolve()}")


def _print_voice(result) -> None:
    from custfocus.voice import headline

    table = Table(title=f"Themes of {len(result.comments):,} comments"
                        + (f" (points lost in {result.unit}, 95% intervals)" if result.unit else ""),
                  title_justify="left")
    columns = ["theme", "share", "sentiment"] + (["points lost", "95% interval", "role"] if result.unit else [])
    for column in columns:
        table.add_column(column, justify="left" if column in ("theme", "role") else "right")
    for row in result.summary.itertuples(index=False):
        cells = [Text(row.label), f"{row.share:.1%}", f"{row.sentiment:+.2f}"]
        if result.unit:
            role = row.role + (f" of {row.symptom_of}" if row.symptom_of else "")
            cells += [f"{row.points_lost:+.1f}", f"{row.low:+.1f} to {row.high:+.1f}", Text(role)]
        table.add_row(*cells)
    out.print(table)
    out.print(headline(result))
    for note in result.notes:
        out.print(f"Note: {note}")


# --- the service -------------------------------------------------------------------------------------

DbOpt = Annotated[str, typer.Option("--db", envvar="CUSTFOCUS_DB", help="Database URL: sqlite:///custfocus.db or postgresql+psycopg://user@host/db.")]


@command
def serve(
    db: DbOpt = "sqlite:///custfocus.db",
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port to listen on.")] = 8000,
    data: Annotated[Path | None, typer.Option("--data", help="Company folder: passives who are valuable and at risk get cases too.")] = None,
    webhook_url: Annotated[str | None, typer.Option("--webhook-url", help="POST every new case here (signed with CUSTFOCUS_WEBHOOK_SECRET).")] = None,
):
    """Collect survey answers over HTTP, open follow-up cases, serve the live dashboard at /."""
    from custfocus.service import read_settings
    from custfocus.service import serve as run_service

    settings = read_settings(db=db, data=data, webhook_url=webhook_url)
    run_service(settings, host=host, port=port, progress=err.print)


keys = typer.Typer(help="API keys of the service.", no_args_is_help=True)
app.add_typer(keys, name="keys")


@keys.command("create")
@handles_errors
def keys_create(
    scope: Annotated[list[str], typer.Option("--scope", help="submit, read or admin; repeat for several.")],
    name: Annotated[str | None, typer.Option("--name", help="Who the key is for (shown in case histories).")] = None,
    db: DbOpt = "sqlite:///custfocus.db",
):
    """Create an API key and print it alone on stdout (only its hash is stored: keep it now)."""
    from custfocus.service import create_key

    sys.stdout.write(create_key(db, scope, name) + "\n")
