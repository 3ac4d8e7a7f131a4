"""Loading and validating a company, as a user runs it, against the floor: DuckDB merely reading the
same files.

Both sides are whole processes run alternately in the same run (imports and start-up included):

* ours: ``custfocus validate DATA`` (read, type and check every rule of every table);
* floor: a Python process that imports DuckDB and counts the values of every column of every file,
  CSV columns read as text, Parquet columns as stored. The count has a filter because DuckDB answers
  a bare ``count(*)`` and ``count(column)`` of a Parquet file from its footer's statistics, reading no
  value (unfiltered, the Parquet floor measured little more than a process starting).

Prints the median wall time of each, their ratio, and each one's peak memory (polled, as every
benchmark here: a child's own ru_maxrss starts from this process's resident memory when it forked),
for the demo company written as CSV and as Parquet (generated once, under ``benchmarks/data/``).

    python benchmarks/load_validate.py [--customers 1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from measure import Measured, Run, custfocus, python, run, source_env

from custfocus import demo

DATA = Path(__file__).resolve().parent / "data"

FLOOR = textwrap.dedent("""
    import sys
    from pathlib import Path
    import duckdb
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")  # it would print to the output read here
    rows = 0
    for path in sorted(Path(sys.argv[1]).glob("*.csv")):
        rows += con.execute("select count(*), count(columns(*)) filter (where true) from read_csv(?, all_varchar=true, header=true)",
                            [str(path)]).fetchone()[0]
    for path in sorted(Path(sys.argv[1]).glob("*.parquet")):
        rows += con.execute("select count(*), count(columns(*)) filter (where true) from read_parquet(?)", [str(path)]).fetchone()[0]
    print(rows)
""")


def compare(folder: Path, repeat: int, label: str) -> None:
    ours_command = custfocus("validate", folder, "--json")
    floor_command = python(FLOOR, folder)
    ours, floor = [], []
    for _ in range(repeat):  # alternately, so that a change in the machine's load touches both
        floor.append(_succeeded(run(floor_command, env=source_env()), floor_command))
        ours.append(_succeeded(run(ours_command, env=source_env()), ours_command))
    ours, floor = Measured("custfocus validate DATA", tuple(ours)), Measured("bare DuckDB scan (floor)", tuple(floor))
    rows = int(floor.last.stdout)
    report = json.loads(ours.last.stdout)
    used = sum(t["used"] for t in report["tables"].values())
    assert used == rows, (used, rows)
    print(f"{label}: {rows:,} rows in {len(report['tables'])} tables, median of {repeat}")
    print(f"  {floor.line()}")
    print(f"  {ours.line()}")
    print(f"  ratio validate/floor: {ours.seconds / floor.seconds:6.2f}x")


def _succeeded(result: Run, command: list[str]) -> Run:
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(map(str, command))} failed with exit {result.returncode}: {result.stderr[-500:]}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--format", choices=["csv", "parquet", "both"], default="both")
    args = parser.parse_args()
    formats = ["csv", "parquet"] if args.format == "both" else [args.format]
    for fmt in formats:
        compare(company(args.customers, fmt), args.repeat, fmt.upper())


def company(customers: int, fmt: str) -> Path:
    """The demo company of ``customers`` customers as ``fmt`` files, written once."""
    folder = DATA / f"load-validate-{customers}" / fmt
    if not (folder / "custfocus.toml").exists():
        started = time.perf_counter()
        tables = demo.generate(customers=customers)
        partial = folder.with_name(fmt + ".partial")
        partial.mkdir(parents=True, exist_ok=True)
        demo.write(tables, partial, fmt)
        partial.rename(folder)
        print(f"demo company: {customers:,} customers, {sum(t.num_rows for t in tables.values()):,} rows, "
              f"generated as {fmt} in {time.perf_counter() - started:.1f} s")
    return folder


if __name__ == "__main__":
    main()
