"""Benchmark: the whole CLV pipeline, from a Parquet file of transactions to a Parquet file with
the 12-month CLV of every customer, custfocus against lifetimes and against a bare DuckDB floor.

Run: ``python benchmarks/clv_pipeline.py [--customers 3000000] [--repeat 1]`` (lifetimes comes
with the ``bench`` extra). The data are the demo company's transactions (customer_id, date,
amount; about 3.1 rows per customer, refunds included), generated once into
``benchmarks/data/`` (git-ignored).

Contenders, each timed inside its own process from reading the file to writing its output:

- custfocus: ``customer_value`` (summary in DuckDB, BG/NBD and Gamma-Gamma fitted on sufficient
  statistics, predictions joined back in the engine) and ``write_predictions``;
- lifetimes: pandas reads the file, ``summary_data_from_transaction_data`` (purchase rows only,
  ``freq="D"``, weeks through ``freq_multiplier=7``, as custfocus), ``BetaGeoFitter``,
  ``GammaGammaFitter``, ``customer_lifetime_value`` (12 months, the same monthly discount rate),
  written with pandas. If it has not finished within ``--lifetimes-limit`` seconds (default 600)
  it is stopped and run again on every tenth customer; its time is then extrapolated linearly to
  all customers and labelled so (its memory is the subsample's);
- floor: one DuckDB SQL statement computing the same per-customer summary (frequency, recency,
  T, monetary value, first purchase, revenue) from the same file and writing it to Parquet: what
  the table work alone costs, without any model.

Peak memory: each contender runs in a child of a fresh measuring process, which reads
``getrusage(RUSAGE_CHILDREN).ru_maxrss`` once the child is done, so that peaks do not mix.

Targets (issue "Customer value and loyalty"): lifetimes / custfocus >= 10 and custfocus / floor
<= 2.5 in time.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

DATA = Path(__file__).parent / "data"
LIFETIMES_SUBSAMPLE = 10  # every tenth customer when lifetimes is too slow for all of them
ANNUAL_DISCOUNT_RATE = 0.10
HORIZON_MONTHS = 12


def transactions_path(customers: int) -> Path:
    return DATA / f"demo-transactions-{customers}.parquet"


def prepare(customers: int) -> Path:
    """The demo company's transactions as Parquet, generated once."""
    path = transactions_path(customers)
    if not path.exists():
        import pyarrow.parquet as pq

        from custfocus import demo

        print(f"generating the demo company's transactions for {customers:,} customers ...",
              flush=True)
        DATA.mkdir(parents=True, exist_ok=True)
        transactions = demo.generate(customers, seed=11)["transactions"]
        pq.write_table(transactions.select(["customer_id", "date", "amount"]), path)
    return path


def as_of():
    from custfocus import demo

    return demo.PLANTED.default_as_of


# --- contenders: each returns facts to print; run inside a worker process -----------------------


def run_custfocus(source: Path, out: Path, every: int) -> dict:
    from custfocus.engine import connect
    from custfocus.value.clv import customer_value, write_predictions

    transactions = connect("duckdb").con.read_parquet(str(source))
    value = customer_value(transactions, as_of=as_of(), horizon_months=HORIZON_MONTHS,
                           annual_discount_rate=ANNUAL_DISCOUNT_RATE)
    write_predictions(value, out)
    return {"params": value.transaction_model.params_.to_dict(), "spend": value.spend_model.params_.to_dict()}


def run_lifetimes(source: Path, out: Path, every: int) -> dict:
    import pandas as pd
    from lifetimes import BetaGeoFitter, GammaGammaFitter
    from lifetimes.utils import summary_data_from_transaction_data

    from custfocus.value.clv import monthly_rate

    frame = pd.read_parquet(source)
    if every > 1:
        frame = frame[frame["customer_id"].str[1:].astype("int64") % every == 0]
    purchases = frame[frame["amount"] > 0]  # lifetimes counts every row as a purchase
    summary = summary_data_from_transaction_data(
        purchases, "customer_id", "date", monetary_value_col="amount",
        observation_period_end=as_of(), freq="D", freq_multiplier=7)
    fitted = summary[summary["T"] > 0]
    bgf = BetaGeoFitter().fit(fitted["frequency"], fitted["recency"], fitted["T"])
    buyers = summary[summary["frequency"] > 0]
    ggf = GammaGammaFitter().fit(buyers["frequency"], buyers["monetary_value"])
    # freq="W": lifetimes steps months of 4.345 weeks (custfocus: 30.4375 / 7 = 4.348).
    clv = ggf.customer_lifetime_value(
        bgf, summary["frequency"], summary["recency"], summary["T"], summary["monetary_value"],
        time=HORIZON_MONTHS, discount_rate=monthly_rate(ANNUAL_DISCOUNT_RATE), freq="W")
    summary.assign(clv=clv).to_parquet(out)
    return {"params": {k: float(v) for k, v in bgf.params_.items()},
            "spend": {k: float(v) for k, v in ggf.params_.items()}}


FLOOR_SQL = """
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
) TO '{out}' (FORMAT parquet)
"""


def run_floor(source: Path, out: Path, every: int) -> dict:
    import duckdb

    duckdb.connect().execute(FLOOR_SQL.format(source=source, as_of=as_of().isoformat(), out=out))
    return {}


CONTENDERS = {"custfocus": run_custfocus, "lifetimes": run_lifetimes, "floor": run_floor}


def worker(name: str, source: Path, every: int) -> None:
    out = DATA / f"out-{name}.parquet"
    wall, cpu = time.perf_counter(), time.process_time()
    facts = CONTENDERS[name](source, out, every)
    facts.update(seconds=time.perf_counter() - wall, cpu_seconds=time.process_time() - cpu)
    # Checked after the clock: customers written and, for the CLV contenders, their total.
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    written = pq.read_table(out, columns=["clv"] if name != "floor" else ["frequency"])
    facts["customers"] = written.num_rows
    if name != "floor":
        facts["total_clv"] = pc.sum(written["clv"]).as_py()
    print(json.dumps(facts))


def measure(name: str, source: Path, every: int, limit: float | None) -> None:
    """Run one contender in a child process; report its facts and peak memory."""
    command = [sys.executable, __file__, "--worker", name, "--source", str(source),
               "--every", str(every)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=limit,
                              check=True)
    except subprocess.TimeoutExpired:
        print(json.dumps({"timeout": limit}))
        return
    except subprocess.CalledProcessError as err:
        print(json.dumps({"error": err.stderr.strip().splitlines()[-1:]}))
        return
    facts = json.loads(done.stdout.strip().splitlines()[-1])
    facts["peak_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps(facts))


def contend(name: str, source: Path, every: int = 1, limit: float | None = None) -> dict:
    command = [sys.executable, __file__, "--measure", name, "--source", str(source),
               "--every", str(every)]
    if limit:
        command += ["--limit", str(limit)]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def best_of(name: str, source: Path, repeat: int) -> dict:
    runs = [contend(name, source) for _ in range(repeat)]
    return min(runs, key=lambda facts: facts["seconds"])


def main(customers: int, repeat: int, lifetimes_limit: float) -> None:
    source = prepare(customers)
    import pyarrow.parquet as pq

    rows = pq.ParquetFile(source).metadata.num_rows
    print(f"{rows:,} transactions of {customers:,} customers in {source}")
    floor = best_of("floor", source, repeat)
    ours = best_of("custfocus", source, repeat)
    theirs, note = contend("lifetimes", source, limit=lifetimes_limit), ""
    if "timeout" in theirs:
        sample = contend("lifetimes", source, every=LIFETIMES_SUBSAMPLE)
        note = (f"  [EXTRAPOLATED: stopped after {lifetimes_limit:.0f} s on all customers; run on "
                f"every {LIFETIMES_SUBSAMPLE}th customer ({sample.get('customers', 0):,}) in "
                f"{sample.get('seconds', float('nan')):.1f} s, times x{LIFETIMES_SUBSAMPLE}; "
                "memory of the subsample]")
        theirs = sample | {"seconds": sample["seconds"] * LIFETIMES_SUBSAMPLE,
                           "cpu_seconds": sample["cpu_seconds"] * LIFETIMES_SUBSAMPLE}
    for name, facts in (("floor (DuckDB SQL)", floor), ("custfocus", ours),
                        ("lifetimes", theirs)):
        if "error" in facts:
            print(f"{name:20s}: failed: {facts['error']}")
            continue
        print(f"{name:20s}: {facts['seconds']:8.2f} s wall, {facts['cpu_seconds']:8.2f} s CPU, "
              f"peak {facts['peak_mb']:8.0f} MB, {facts['customers']:,} customers"
              + (note if name == "lifetimes" else ""))
    for name, facts in (("custfocus", ours), ("lifetimes", theirs)):
        if "params" in facts:
            fitted = facts["params"] | facts["spend"]
            params = ", ".join(f"{k} {v:.4g}" for k, v in fitted.items())
            print(f"{name:20s}: {params}; total CLV {facts['total_clv']:,.0f}")
    if "seconds" in theirs:
        print(f"lifetimes / custfocus: {theirs['seconds'] / ours['seconds']:6.1f}x wall "
              f"(target >= 10), {theirs['peak_mb'] / ours['peak_mb']:.1f}x peak memory")
    print(f"custfocus / floor    : {ours['seconds'] / floor['seconds']:6.2f}x wall "
          f"(target <= 2.5), {ours['peak_mb'] / floor['peak_mb']:.1f}x peak memory")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=3_000_000)
    parser.add_argument("--repeat", type=int, default=1, help="runs of custfocus and the floor "
                        "(the best is kept)")
    parser.add_argument("--lifetimes-limit", type=float, default=600.0)
    parser.add_argument("--worker", choices=CONTENDERS)
    parser.add_argument("--measure", choices=CONTENDERS)
    parser.add_argument("--source", type=Path)
    parser.add_argument("--every", type=int, default=1)
    parser.add_argument("--limit", type=float)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.source, args.every)
    elif args.measure:
        measure(args.measure, args.source, args.every, args.limit)
    else:
        main(args.customers, args.repeat, args.lifetimes_limit)
