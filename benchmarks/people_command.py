"""The people commands as a user runs them, against floors in the same run.

Each command runs as a whole process (imports, loading, validation included) in a child of a fresh
measuring process, which reports the child's wall time and peak memory:

- ``custfocus people DATA --json`` (employee NPS with anonymity, the internal matrix with its
  400-resample bootstrap, the chain) against ``custfocus nps DATA --by department --json``, the
  customer-NPS command on the same folder (same loading and validation, one aggregate);
- ``custfocus nps DATA --metric enps --by department --json`` against the same floor;
- a bare DuckDB process reading the four tables people needs and grouping them as the analysis
  does (the table work alone, without validation or statistics).

    python benchmarks/people_command.py [--customers 200000]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from custfocus import demo

MEASURE = """
import resource, subprocess, sys, time
started = time.perf_counter()
subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)
print(time.perf_counter() - started, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""

FLOOR = """
import duckdb, sys
folder = sys.argv[1]
con = duckdb.connect()
for name, keys in (("employee_responses", "department, employee_id"),
                   ("internal_responses", "from_department, to_department, date"),
                   ("responses", "department, kind"), ("service_events", "department, customer_id")):
    con.execute(f"select {keys}, count(*) from read_csv('{folder}/{name}.csv', header=true) group by all").fetchall()
"""


def measure(command: list[str]) -> tuple[float, float]:
    output = subprocess.run([sys.executable, "-c", MEASURE, *command], check=True, capture_output=True, text=True)
    seconds, kilobytes = output.stdout.split()
    return float(seconds), float(kilobytes) / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="custfocus-people-bench-"))
    started = time.perf_counter()
    tables = demo.generate(customers=args.customers)
    demo.write(tables, folder)
    print(f"demo company: {args.customers:,} customers, {tables['employee_responses'].num_rows:,} employee and "
          f"{tables['internal_responses'].num_rows:,} internal answers; written in {time.perf_counter() - started:.1f} s")
    cli = [sys.executable, "-m", "custfocus"]
    commands = {
        "people --json": [*cli, "people", str(folder), "--json"],
        "nps --metric enps --by department": [*cli, "nps", str(folder), "--metric", "enps", "--by", "department",
                                              "--json"],
        "floor: nps --by department": [*cli, "nps", str(folder), "--by", "department", "--json"],
        "floor: bare DuckDB group-bys": [sys.executable, "-c", FLOOR, str(folder)],
    }
    results = {name: min((measure(command) for _ in range(args.repeat)), key=lambda r: r[0])
               for name, command in commands.items()}
    floor = results["floor: nps --by department"][0]
    for name, (seconds, megabytes) in results.items():
        print(f"{name:36s} {seconds:7.2f} s  {seconds / floor:5.2f}x the nps floor  peak {megabytes:7.0f} MB")
    check = json.loads(subprocess.run(commands["people --json"], check=True, capture_output=True, text=True).stdout)
    print(f"bottleneck named: {check['bottleneck']['supplier']} "
          f"({check['bottleneck']['share_of_resamples']:.0%} of resamples)")


if __name__ == "__main__":
    main()
