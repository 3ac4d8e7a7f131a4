"""Benchmark: the whole report at scale, against a bare DuckDB floor on the same files.

    python benchmarks/scale.py [--sizes 1M,20M,100M] [--tables all|transactions] [--repeat 3] [--memory-limit 6GB]
                               [--engine duckdb|spark|duckdb,spark]

For each size (transactions), a demo company with every table is generated once and cached as
Parquet under ``benchmarks/data/scale-<size>/`` (see ``companies.py``); ``--tables transactions``
runs on its transactions alone, as issue 10's table was measured. Then, each as a whole process, the median of
``--repeat`` runs:

- ``custfocus report DIR --json ...``: wall time and the peak memory of its process tree; the
  report's JSON carries each section's wall time and the process's peak memory after it
  (``run.sections``), printed per section;
- the floor: one bare DuckDB process computing on the same transactions file what the report's
  backbone needs, a per-customer summary (first and last purchase, purchase days, spend, revenue)
  and monthly cohorts (customers active per acquisition month and month), written to Parquet.

``--engine spark`` runs the report on a local Spark instead (which reads, validates and computes
everything itself), ``--engine duckdb,spark`` on both, each beside the same floor. It prints each beside
the other with their ratio, the targets of issue 10 (20M: at most 4x the floor
and under 4 GB; 100M: under 10 minutes and 8 GB) and, when the smallest and largest sizes both ran,
the growth exponent ``log(t_large / t_small) / log(n_large / n_small)`` (1 = linear).

DuckDB's memory limit for custfocus is ``--memory-limit`` (through ``CUSTFOCUS_MEMORY_LIMIT``), so a
benchmark does not starve a shared machine; the floor gets the same limit.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from companies import demo_company
from measure import Measured, custfocus, measure, python, source_env

ROWS_PER_CUSTOMER = 3.1  # the demo company's transactions per customer (refunds included)
SIZES = {"1M": 1_000_000, "20M": 20_000_000, "100M": 100_000_000}

FLOOR = """
import sys, duckdb
folder, limit, out = sys.argv[1], sys.argv[2], sys.argv[3]
con = duckdb.connect()
con.execute(f"SET memory_limit = '{limit}'")
tx = f"read_parquet('{folder}/transactions.parquet')"
con.execute(f'''COPY (
  SELECT customer_id, min(date) FILTER (WHERE amount > 0) AS first_purchase,
         max(date) FILTER (WHERE amount > 0) AS last_purchase,
         count(DISTINCT date) FILTER (WHERE amount > 0) AS purchase_days,
         sum(amount) FILTER (WHERE amount > 0) AS spend, sum(amount) AS revenue
  FROM {tx} GROUP BY customer_id) TO '{out}/summary.parquet' (FORMAT parquet)''')
con.execute(f'''COPY (
  WITH firsts AS (SELECT customer_id, date_trunc('month', min(date)) AS cohort FROM {tx}
                  WHERE amount > 0 GROUP BY customer_id),
       active AS (SELECT DISTINCT customer_id, date_trunc('month', date) AS month FROM {tx})
  SELECT cohort, month, count(*) AS customers FROM active JOIN firsts USING (customer_id)
  GROUP BY cohort, month) TO '{out}/cohorts.parquet' (FORMAT parquet)''')
"""


def company(size: str, tables: str = "all") -> Path:
    """The demo company with about ``SIZES[size]`` transactions, generated once: every table, or
    (``tables="transactions"``) a folder with its transactions alone, as issue 10 measured."""
    full = demo_company(f"scale-{size}", math.ceil(SIZES[size] / ROWS_PER_CUSTOMER))
    if tables == "all":
        return full
    alone = full.with_name(f"scale-{size}-transactions")
    if not alone.exists():
        alone.mkdir()
        (alone / "transactions.parquet").symlink_to(full / "transactions.parquet")
        (alone / "custfocus.toml").write_text((full / "custfocus.toml").read_text(), encoding="utf-8")
    return alone


def transactions_in(folder: Path) -> int:
    import pyarrow.parquet as pq

    return pq.ParquetFile(folder / "transactions.parquet").metadata.num_rows


def run_size(size: str, tables: str, repeat: int, memory_limit: str, timeout: float | None,
             engines: list[str]) -> dict:
    folder = company(size, tables)
    rows = transactions_in(folder)
    print(f"\n== {size}: {rows:,} transactions, {tables} tables ({folder}) ==", flush=True)
    work = Path(tempfile.mkdtemp(prefix=f"custfocus-scale-{size}-"))
    env = source_env() | {"CUSTFOCUS_MEMORY_LIMIT": memory_limit}
    floor = measure("floor (bare DuckDB: summary + cohorts)", python(FLOOR, folder, memory_limit, work),
                    repeat=repeat, timeout=timeout)
    print(floor.line(), flush=True)
    results = {"rows": rows, "floor": floor}
    for engine in engines:
        results[engine] = _report(size, folder, work / engine, engine, floor, repeat, env, timeout)
    return results


def _report(size: str, folder: Path, work: Path, engine: str, floor: Measured, repeat: int, env: dict,
            timeout: float | None) -> dict:
    work.mkdir()
    report = measure(f"custfocus report --engine {engine}",
                     custfocus("report", folder, "--engine", engine, "--out", work / "report.html",
                               "--json", work / "report.json"),
                     repeat=repeat, env=env, timeout=timeout)
    print(report.line(), flush=True)
    sections = _sections(work / "report.json") if report.ok else {}
    for key, facts in sections.items():
        print(f"  section {key:<24} {facts['seconds']:9.2f} s  process peak after it "
              f"{facts['peak_mb']:8.0f} MB", flush=True)
    if sections:
        rest = report.last.seconds - sum(f["seconds"] for f in sections.values())
        print(f"  start-up, loading, validation, writing {rest:7.2f} s (of the last run)")
    if report.ok and floor.ok:
        print(f"  report ({engine}) / floor: {report.seconds / floor.seconds:.2f}x wall; peak "
              f"{report.peak_mb:,.0f} MB (floor {floor.peak_mb:,.0f} MB)")
    if engine == "duckdb":
        _targets(size, report, floor)
    return {"report": report, "sections": sections}


def _sections(path: Path) -> dict:
    return json.loads(path.read_text())["run"]["sections"]


def _targets(size: str, report: Measured, floor: Measured) -> None:
    if size == "20M":
        verdict = report.ok and report.seconds <= 4 * floor.seconds and report.peak_mb < 4096
        print(f"  target (20M): <= 4x floor and < 4 GB: {'met' if verdict else 'NOT met'}")
    if size == "100M":
        verdict = report.ok and report.seconds < 600 and report.peak_mb < 8192
        print(f"  target (100M): < 10 min and < 8 GB: {'met' if verdict else 'NOT met'}")


def _growth(results: dict, engine: str) -> None:
    done = [(r["rows"], r) for r in results.values() if r[engine]["report"].ok and r["floor"].ok]
    if len(done) < 2:
        return
    (small_n, small), (large_n, large) = min(done, key=lambda d: d[0]), max(done, key=lambda d: d[0])
    span = math.log(large_n / small_n)
    print(f"\ngrowth exponent from {small_n:,} to {large_n:,} transactions (1 = linear), report on {engine}:")
    for name, a, b in (("report", small[engine]["report"], large[engine]["report"]),
                       ("floor", small["floor"], large["floor"])):
        print(f"  {name:<8} time {math.log(b.seconds / a.seconds) / span:5.2f}, "
              f"peak memory {math.log(b.peak_mb / a.peak_mb) / span:5.2f}")
    small_sections, large_sections = small[engine]["sections"], large[engine]["sections"]
    for key in large_sections:
        if key in small_sections and small_sections[key]["seconds"] > 0:
            ratio = large_sections[key]["seconds"] / small_sections[key]["seconds"]
            print(f"  section {key:<14} time {math.log(max(ratio, 1e-9)) / span:5.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1M,20M", help=f"comma-separated, of {', '.join(SIZES)}")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--tables", choices=("all", "transactions"), default="all",
                        help="every table of the demo company, or its transactions alone")
    parser.add_argument("--memory-limit", default="6GB", help="DuckDB's memory_limit for both contenders")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds before a run is stopped")
    parser.add_argument("--engine", default="duckdb",
                        help="comma-separated, of duckdb, spark: the engines the report runs on")
    parser.add_argument("--generate-only", action="store_true")
    args = parser.parse_args()
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    unknown = [s for s in sizes if s not in SIZES]
    if unknown:
        parser.error(f"unknown size(s) {', '.join(unknown)}; choose from {', '.join(SIZES)}")
    engines = [e.strip() for e in args.engine.split(",") if e.strip()]
    if not engines or set(engines) - {"duckdb", "spark"}:
        parser.error("--engine takes duckdb, spark or both (duckdb,spark)")
    if args.generate_only:
        for size in sizes:
            company(size, args.tables)
        return
    results = {size: run_size(size, args.tables, args.repeat, args.memory_limit, args.timeout, engines)
               for size in sizes}
    for engine in engines:
        _growth(results, engine)


if __name__ == "__main__":
    main()
