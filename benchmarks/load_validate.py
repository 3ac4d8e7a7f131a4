"""Loading and validating a company, as a user runs it, against the floor: DuckDB merely reading the
same files.

Both sides are whole processes run alternately in the same run (imports and start-up included):

* ours: ``custfocus validate DATA`` (read, type and check every rule of every table);
* floor: a Python process that imports DuckDB and counts the values of every column of every file,
  CSV columns read as text, Parquet columns as stored. The count has a filter because DuckDB answers
  a bare ``count(*)`` and ``count(column)`` of a Parquet file from its footer's statistics, reading no
  value (unfiltered, the Parquet floor measured little more than a process starting).

Prints the median wall time of each, their ratio, and each one's peak memory (its own ru_maxrss),
for the demo company written as CSV and as Parquet (generated once, under ``benchmarks/data/``).

    python benchmarks/load_validate.py [--customers 1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import textwrap
import time
from pathlib import Path

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


def run(command: list[str]) -> tuple[float, float, str]:
    """Wall seconds, peak resident MB and standard output of one whole process."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(command)} failed with exit {os.waitstatus_to_exitcode(status)}")
    return elapsed, usage.ru_maxrss / 1024, output


def compare(folder: Path, repeat: int, label: str) -> None:
    ours_command = [sys.executable, "-m", "custfocus", "validate", str(folder), "--json"]
    floor_command = [sys.executable, "-c", FLOOR, str(folder)]
    ours, floor = [], []
    for _ in range(repeat):
        floor.append(run(floor_command))
        ours.append(run(ours_command))
    rows = int(floor[-1][2])
    import json

    report = json.loads(ours[-1][2])
    used = sum(t["used"] for t in report["tables"].values())
    assert used == rows, (used, rows)
    ours_time, floor_time = statistics.median(t for t, _, _ in ours), statistics.median(t for t, _, _ in floor)
    print(f"{label}: {rows:,} rows in {len(report['tables'])} tables, median of {repeat}")
    print(f"  bare DuckDB scan (floor):        {floor_time:6.2f} s   peak {max(m for _, m, _ in floor):6.0f} MB")
    print(f"  custfocus validate DATA:         {ours_time:6.2f} s   peak {max(m for _, m, _ in ours):6.0f} MB")
    print(f"  ratio validate/floor:            {ours_time / floor_time:6.2f}x")


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
