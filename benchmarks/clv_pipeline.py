"""Benchmark: `custfocus clv DATA --out predictions.parquet` on 3M customers / 9M transactions,
against lifetimes and against a bare DuckDB per-customer GROUP BY, each as a user runs it.

    python benchmarks/clv_pipeline.py [--customers 3000000] [--repeat 3] [--lifetimes-limit 900]

The company is the demo company's transactions (customer_id, date, amount; about 3.1 rows per
customer, refunds included) as Parquet, generated once into ``benchmarks/data/`` with its
``custfocus.toml``. Each contender is a whole process (start-up, imports, reading, validation and
writing included), the median of ``--repeat`` runs, with the peak memory of its process tree:

- custfocus: ``custfocus clv DATA --out predictions.parquet --json`` (load and validate, the
  per-customer summary in DuckDB, BG/NBD and Gamma-Gamma on sufficient statistics, every
  customer's 12-month CLV written by the engine, totals with the CLV's interval);
- lifetimes: pandas reads the file, ``summary_data_from_transaction_data`` (purchase rows only,
  ``freq="D"``, weeks through ``freq_multiplier=7``, as custfocus), ``BetaGeoFitter``,
  ``GammaGammaFitter``, ``customer_lifetime_value`` (12 months, the same monthly discount rate),
  written with pandas. If it has not finished within ``--lifetimes-limit`` seconds it is stopped
  and run once on every tenth customer, its time multiplied by ten and labelled EXTRAPOLATED;
- floor: one bare DuckDB process computing the same per-customer summary (frequency, recency, T,
  monetary value, first purchase, revenue) from the same file and writing it to Parquet: the table
  work alone, without validation or any model.

Targets (issue 10): lifetimes / custfocus >= 10 and custfocus / floor <= 2.5 in wall time.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from companies import demo_company
from measure import custfocus, measure, python, source_env

LIFETIMES_SUBSAMPLE = 10
ANNUAL_DISCOUNT_RATE = 0.10

LIFETIMES = """
import sys
import pandas as pd
from lifetimes import BetaGeoFitter, GammaGammaFitter
from lifetimes.utils import summary_data_from_transaction_data
source, out, as_of, rate, every = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), int(sys.argv[5])
frame = pd.read_parquet(source)
if every > 1:
    frame = frame[frame["customer_id"].str[-1] == "0"]  # ids end in digits: every tenth customer
purchases = frame[frame["amount"] > 0]  # lifetimes counts every row as a purchase
summary = summary_data_from_transaction_data(purchases, "customer_id", "date", monetary_value_col="amount",
                                             observation_period_end=as_of, freq="D", freq_multiplier=7)
fitted = summary[summary["T"] > 0]
bgf = BetaGeoFitter().fit(fitted["frequency"], fitted["recency"], fitted["T"])
buyers = summary[summary["frequency"] > 0]
ggf = GammaGammaFitter().fit(buyers["frequency"], buyers["monetary_value"])
clv = ggf.customer_lifetime_value(bgf, summary["frequency"], summary["recency"], summary["T"],
                                  summary["monetary_value"], time=12, discount_rate=rate, freq="W")
summary.assign(clv=clv).to_parquet(out)
print(len(summary), float(clv.sum()))
"""

FLOOR = """
import sys, duckdb
source, out, as_of = sys.argv[1], sys.argv[2], sys.argv[3]
duckdb.connect().execute(f'''
COPY (
  WITH daily AS (
    SELECT customer_id, date, count(*) FILTER (WHERE amount > 0) AS purchases,
           sum(amount) FILTER (WHERE amount > 0) AS spend, sum(amount) AS net
    FROM read_parquet('{source}') WHERE date <= DATE '{as_of}'
    GROUP BY customer_id, date
  ), customers AS (
    SELECT customer_id,
           min(date) FILTER (WHERE purchases > 0) AS first_purchase,
           max(date) FILTER (WHERE purchases > 0) AS last_purchase,
           count(*) FILTER (WHERE purchases > 0) AS purchase_days, sum(spend) AS spend,
           arg_min(spend, date) FILTER (WHERE purchases > 0) AS first_spend,
           sum(net) AS revenue
    FROM daily GROUP BY customer_id
  )
  SELECT customer_id, purchase_days - 1 AS frequency,
         (last_purchase - first_purchase) / 7.0 AS recency,
         (DATE '{as_of}' - first_purchase) / 7.0 AS T,
         CASE WHEN purchase_days > 1 THEN (spend - first_spend) / (purchase_days - 1)
              ELSE 0.0 END AS monetary_value,
         first_purchase, revenue
  FROM customers WHERE purchase_days > 0
) TO '{out}' (FORMAT parquet)''')
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=3_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--lifetimes-limit", type=float, default=900.0)
    args = parser.parse_args()
    from custfocus.demo.planted import PLANTED
    from custfocus.value.clv import monthly_rate

    folder = demo_company(f"clv-{args.customers}", args.customers,
                          columns={"transactions": ["customer_id", "date", "amount"]})
    source = folder / "transactions.parquet"
    import pyarrow.parquet as pq

    rows = pq.ParquetFile(source).metadata.num_rows
    print(f"{rows:,} transactions of {args.customers:,} customers in {source}; "
          f"each contender the median of {args.repeat} whole-process runs")
    work = Path(tempfile.mkdtemp(prefix="custfocus-clv-bench-"))
    as_of = PLANTED.default_as_of.isoformat()
    floor = measure("floor (bare DuckDB GROUP BY)", python(FLOOR, source, work / "floor.parquet", as_of),
                    repeat=args.repeat)
    print(floor.line(), flush=True)
    ours = measure("custfocus clv", custfocus("clv", folder, "--out", work / "ours.parquet", "--json"),
                   repeat=args.repeat, env=source_env())
    print(ours.line(), flush=True)
    lifetimes = python(LIFETIMES, source, work / "theirs.parquet", as_of,
                       monthly_rate(ANNUAL_DISCOUNT_RATE))
    theirs = measure("lifetimes", [*lifetimes, "1"], repeat=args.repeat, timeout=args.lifetimes_limit)
    note = ""
    if not theirs.ok:
        sample = measure("lifetimes (every 10th customer)", [*lifetimes, str(LIFETIMES_SUBSAMPLE)], repeat=1)
        print(f"lifetimes did not finish within {args.lifetimes_limit:.0f} s; " + sample.line())
        theirs = sample
        note = f" [EXTRAPOLATED: {LIFETIMES_SUBSAMPLE}x the subsample's time]"
    else:
        print(theirs.line(), flush=True)
    scale = LIFETIMES_SUBSAMPLE if note else 1
    if ours.ok and theirs.ok:
        print(f"lifetimes / custfocus: {scale * theirs.seconds / ours.seconds:6.2f}x  (target >= 10){note}; "
              f"peak memory {ours.peak_mb:,.0f} MB vs {theirs.peak_mb:,.0f} MB")
    if ours.ok and floor.ok:
        print(f"custfocus / floor    : {ours.seconds / floor.seconds:6.2f}x  (target <= 2.5)")
    _agreement(work)


def _agreement(work: Path) -> None:
    """Customers and total CLV of both CLV contenders, read after the clocks stopped."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    for name in ("ours", "theirs"):
        path = work / f"{name}.parquet"
        if path.exists():
            table = pq.read_table(path, columns=["clv"])
            print(f"{'custfocus' if name == 'ours' else 'lifetimes'}: {table.num_rows:,} customers, "
                  f"total CLV {pc.sum(table['clv']).as_py():,.0f}")


if __name__ == "__main__":
    main()
