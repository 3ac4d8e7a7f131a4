"""Loading and validating a company against the floor: DuckDB merely reading the same CSV files.

Prints the time of ``custfocus.data.loading.load`` (read, type, check every rule, materialise the
valid rows) as a ratio of a bare DuckDB scan that reads every file with the same options and
counts its rows, both in this process, so machine noise hits both alike.

    python benchmarks/load_validate.py [--customers 1000000]
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import duckdb

from custfocus import demo
from custfocus.data.loading import load


def bare_scan(folder: Path) -> int:
    con = duckdb.connect()
    rows = 0
    for path in sorted(folder.glob("*.csv")):
        rows += con.execute(f"select count(*) from read_csv('{path}', all_varchar=true, header=true)").fetchone()[0]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="custfocus-bench-"))
    started = time.perf_counter()
    tables = demo.generate(customers=args.customers)
    demo.write(tables, folder)
    print(f"demo company: {args.customers:,} customers, {sum(t.num_rows for t in tables.values()):,} rows, "
          f"generated and written in {time.perf_counter() - started:.1f} s")
    floor, ours = [], []
    for _ in range(args.repeat):
        started = time.perf_counter()
        rows = bare_scan(folder)
        floor.append(time.perf_counter() - started)
        started = time.perf_counter()
        company = load(folder)
        ours.append(time.perf_counter() - started)
    used = sum(t.used for t in company.load_report.tables.values())
    assert used == rows, (used, rows)
    print(f"bare DuckDB scan (floor): {min(floor):.2f} s for {rows:,} rows")
    print(f"custfocus load + validate: {min(ours):.2f} s")
    print(f"ratio load/floor: {min(ours) / min(floor):.1f}x   (peak memory of this process: "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB)")


if __name__ == "__main__":
    main()
