"""``custfocus voice`` as a user runs it, on 10,000, 100,000 and 1,000,000 comments.

Each size is a company folder (generated once, cached under ``benchmarks/data/voice-<n>/``): NPS
answers that all carry a comment written by the demo's comment composer, with the demo's six themes
planted (late delivery, product quality, app problems, price, friendly staff, fast delivery; the late
deliveries bring support calls, so themes are mentioned together) and the demo's ``voice.toml``.
For each size the script runs, as whole processes (imports, loading, validation included):

- the baseline ``custfocus nps DATA --json`` (loads and validates the same tables, computes NPS),
- ``custfocus voice DATA --json`` (themes, sentiment, key drivers with bootstrap intervals),

and prints wall time, the CPU time of the voice process (the machine is shared: on a loaded machine
wall time says more about the neighbours), peak memory (of that process), the ratio to the baseline,
and how time and memory grow from one size to the next (10x more comments: 10 is linear growth).

    python benchmarks/voice.py [--sizes 10000 100000 1000000]

Target (issue 12): 100,000 comments in under two minutes on the 2-core machine, time growing no
faster than linearly.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv

from custfocus.demo.comments import compose
from custfocus.demo.planted import PLANTED, THEMES
from custfocus.demo.tables import DEMO_PINNED_THEMES

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).parents[1]
AS_OF = date(2026, 9, 30)


def company(n: int) -> Path:
    """A folder with ``n`` commented NPS answers (made once)."""
    folder = DATA / f"voice-{n}"
    if (folder / "responses.csv").exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(n)
    late = rng.random(n) < 0.12
    themes = np.column_stack([
        late,
        rng.random(n) < 0.05,  # product quality
        rng.random(n) < 0.06,  # app problems
        rng.random(n) < 0.12,  # price
        np.where(late, rng.random(n) < 0.3, rng.random(n) < 0.15),  # friendly staff (support calls)
        ~late & (rng.random(n) < 0.2),  # fast delivery
    ])
    effects = np.array([PLANTED.voice.theme_effects[t] for t in THEMES])
    score = np.clip(np.rint(8.2 + themes @ effects + rng.normal(0, 1.9, n)), 0, 10).astype(np.int64)
    mentioned = themes & (rng.random(themes.shape) < PLANTED.voice.theme_mention_rate)
    comments = compose(rng, mentioned, score, np.ones(n, bool))
    days = rng.integers(0, 365, n)
    pa_csv.write_csv(pa.table({
        "date": pa.array([AS_OF - timedelta(days=int(d)) for d in days], pa.date32()),
        "score": score, "kind": pa.array(["nps"] * n), "comment": comments,
    }), folder / "responses.csv")
    pa_csv.write_csv(pa.table({"customer_id": ["C1"], "date": pa.array([AS_OF], pa.date32()), "amount": [10.0]}),
                     folder / "transactions.csv")
    (folder / "custfocus.toml").write_text(f'[company]\nas_of = "{AS_OF.isoformat()}"\n', encoding="utf-8")
    (folder / "voice.toml").write_text(DEMO_PINNED_THEMES, encoding="utf-8")
    return folder


def run(*args: str) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and peak resident memory (MB) of one ``custfocus`` process."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "custfocus", *args], stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"custfocus {' '.join(args)} failed: {process.stderr.read().decode()}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    sizes = parser.parse_args().sizes
    print(f"{'comments':>10} {'nps s':>7} {'voice s':>8} {'ratio':>6} {'voice CPU s':>12} {'nps MB':>7} {'voice MB':>9} "
          f"{'time growth':>12} {'memory growth':>14} {'load avg':>9}")
    previous = None
    for n in sizes:
        started = time.perf_counter()
        folder = company(n)
        made = time.perf_counter() - started
        base_wall, _, base_mb = run("nps", str(folder), "--json")
        wall, cpu, mb = run("voice", str(folder), "--json")
        growth = (f"{wall / previous[1]:>11.1f}x {mb / previous[2]:>13.1f}x" if previous
                  else f"{'':>12} {'':>14}")
        note = f"   (data made in {made:.0f} s)" if made > 1 else ""
        # The machine is shared: its load average says how much of the two cores the run had.
        print(f"{n:>10,} {base_wall:>7.1f} {wall:>8.1f} {wall / base_wall:>5.1f}x {cpu:>12.1f} {base_mb:>7.0f} {mb:>9.0f} "
              f"{growth} {os.getloadavg()[0]:>9.1f}{note}", flush=True)
        previous = (n, wall, mb)


if __name__ == "__main__":
    main()
