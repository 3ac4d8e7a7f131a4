"""Benchmark: `custfocus clv --summary` on a million customers against lifetimes, as users run them.

    python benchmarks/bgnbd_fit.py [--customers 1000000] [--repeat 3]

The summary file (customer_id, frequency, recency, T in weeks, monetary_value) is simulated once
from the BG/NBD with CDNOW's estimates and the Gamma-Gamma with Fader, Hardie & Lee's, at a day's
resolution as a summary of real transactions has it (recency and T are whole days / 7), and cached
under ``benchmarks/data/``. Each contender is a whole process doing the same work, timed with its
start-up and imports, the median of ``--repeat`` runs, with the peak memory of its process tree:

- custfocus: ``custfocus clv --summary FILE --json`` (BG/NBD and Gamma-Gamma by maximum
  likelihood, 12-month CLV of every customer, totals with the CLV's interval);
- lifetimes: reads the same file with pandas, ``BetaGeoFitter``, ``GammaGammaFitter`` on the
  repeat buyers, ``customer_lifetime_value`` of every customer (12 months, the same monthly
  discount rate), and the total.

It prints both, the speed-up (target of issue 10: at least 20x) and both sets of parameters with
the log-likelihood custfocus gives each, so that a difference is attributed to the optimiser that
stopped short.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from measure import custfocus, measure, python, ratio_line, source_env

DATA = Path(__file__).resolve().parent / "data"
TRUE = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}  # CDNOW, weeks
SPEND = {"p": 6.25, "q": 3.74, "gamma": 15.44}  # Fader, Hardie & Lee (2005), CDNOW spend
ANNUAL_DISCOUNT_RATE = 0.10

LIFETIMES = """
import json, sys
import pandas as pd
from lifetimes import BetaGeoFitter, GammaGammaFitter
summary = pd.read_csv(sys.argv[1])
rate = float(sys.argv[2])
bgf = BetaGeoFitter().fit(summary["frequency"], summary["recency"], summary["T"])
buyers = summary[summary["frequency"] > 0]
ggf = GammaGammaFitter().fit(buyers["frequency"], buyers["monetary_value"])
clv = ggf.customer_lifetime_value(bgf, summary["frequency"], summary["recency"], summary["T"],
                                  summary["monetary_value"], time=12, discount_rate=rate, freq="W")
print(json.dumps({"params": {k: float(v) for k, v in bgf.params_.items()},
                  "spend": {k: float(v) for k, v in ggf.params_.items()},
                  "total_clv": float(clv.sum())}))
"""


def summary_file(customers: int) -> Path:
    path = DATA / f"summary-{customers}.csv"
    if path.exists():
        return path
    import numpy as np

    from custfocus.value.simulate import simulate_bgnbd, simulate_gamma_gamma

    print(f"simulating {customers:,} customers into {path} ...", flush=True)
    DATA.mkdir(parents=True, exist_ok=True)
    frame = simulate_bgnbd(customers, **TRUE, T=lambda k, rng: rng.integers(7, 547, k) / 7.0,
                           seed=2024)
    frame["recency"] = np.minimum(np.round(frame["recency"] * 7.0) / 7.0, frame["T"])
    frame["monetary_value"] = np.round(simulate_gamma_gamma(frame["frequency"], **SPEND, seed=7), 2)
    frame.insert(0, "customer_id", [f"C{i}" for i in range(customers)])
    frame[["customer_id", "frequency", "recency", "T", "monetary_value"]].to_csv(path, index=False)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    path = summary_file(args.customers)
    print(f"{args.customers:,} customers in {path}; each contender the median of {args.repeat} "
          "whole-process runs")
    from custfocus.value.clv import monthly_rate

    ours = measure("custfocus clv --summary", custfocus("clv", "--summary", path, "--json"),
                   repeat=args.repeat, env=source_env())
    print(ours.line(), flush=True)
    theirs = measure("lifetimes", python(LIFETIMES, path, monthly_rate(ANNUAL_DISCOUNT_RATE)),
                     repeat=args.repeat)
    print(theirs.line(), flush=True)
    print(ratio_line("lifetimes / custfocus", ours, theirs, "target >= 20x"))
    if ours.ok and theirs.ok:
        _compare(json.loads(ours.last.stdout), json.loads(theirs.last.stdout.strip().splitlines()[-1]),
                 path)


def _compare(ours: dict, theirs: dict, path: Path) -> None:
    import pandas as pd

    from custfocus.value.fitters import BGNBD

    mine = {k: v["estimate"] for k, v in ours["transaction_model"]["parameters"].items()}
    spend = {k: v["estimate"] for k, v in ours["spend_model"]["parameters"].items()}
    print("custfocus: " + ", ".join(f"{k} {v:.5g}" for k, v in (mine | spend).items())
          + f"; total CLV {ours['totals']['clv']['estimate']:,.0f} "
            f"(95% CI {ours['totals']['clv']['low']:,.0f} to {ours['totals']['clv']['high']:,.0f})")
    print("lifetimes: " + ", ".join(f"{k} {v:.5g}" for k, v in (theirs["params"] | theirs["spend"]).items())
          + f"; total CLV {theirs['total_clv']:,.0f}")
    frame = pd.read_csv(path)
    x, t_x, T = (frame[k].to_numpy(dtype=float) for k in ("frequency", "recency", "T"))
    model = BGNBD()
    print(f"BG/NBD log-likelihood: custfocus {model.log_likelihood(x, t_x, T, params=mine):.3f}, "
          f"lifetimes {model.log_likelihood(x, t_x, T, params=theirs['params']):.3f}; "
          f"largest relative parameter difference "
          f"{max(abs(mine[k] - theirs['params'][k]) / abs(theirs['params'][k]) for k in mine):.1e}; "
          f"total CLV relative difference "
          f"{abs(ours['totals']['clv']['estimate'] / theirs['total_clv'] - 1):.1e} "
          "(lifetimes' month is 4.345 weeks, ours 365.25 / 12 days = 4.348 weeks)")


if __name__ == "__main__":
    main()
