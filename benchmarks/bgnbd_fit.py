"""Benchmark: BG/NBD fit on 1,000,000 simulated customers, custfocus vs lifetimes.

Run: ``python benchmarks/bgnbd_fit.py [n_customers]`` (needs ``pip install lifetimes``, the
``bench`` extra). Both fits run in this process on the same data; the script prints the time of
each (best of a few runs for custfocus, CPU and wall clock), their ratio, the largest relative
difference between the two sets of parameters, and both log-likelihoods (evaluated by custfocus)
so that a difference can be attributed to whichever optimiser stopped short.

Target (issue "Customer value and loyalty"): at least 20x faster, parameters equal to 1e-3
relative.
"""

from __future__ import annotations

import sys
import time

import numpy as np

from custfocus.value.fitters import BGNBD
from custfocus.value.simulate import simulate_bgnbd

TRUE = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}  # CDNOW estimates, weeks


def timed(fn, repeat=1):
    best_wall, best_cpu, out = np.inf, np.inf, None
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        best_wall = min(best_wall, time.perf_counter() - w0)
        best_cpu = min(best_cpu, time.process_time() - c0)
    return out, best_wall, best_cpu


def main(n: int = 1_000_000) -> None:
    data = simulate_bgnbd(n, **TRUE, T=lambda k, rng: rng.uniform(1.0, 78.0, k), seed=2024)
    x = data["frequency"].to_numpy()
    t_x = data["recency"].to_numpy()
    T = data["T"].to_numpy()
    print(f"{n:,} simulated BG/NBD customers, {int((x > 0).sum()):,} with repeat purchases, "
          f"{int(x.sum()):,} repeat purchases")

    ours, wall, cpu = timed(lambda: BGNBD().fit(x, t_x, T), repeat=3)
    print(f"custfocus BGNBD      : {wall:7.3f} s wall, {cpu:7.3f} s CPU  {ours.params_.to_dict()}")

    try:
        from lifetimes import BetaGeoFitter
    except ImportError as exc:  # pragma: no cover - optional
        print(f"lifetimes not available ({exc}); install the bench extra")
        return
    theirs, lt_wall, lt_cpu = timed(
        lambda: BetaGeoFitter().fit(data["frequency"], data["recency"], data["T"]))
    lt_params = {k: float(theirs.params_[k]) for k in TRUE}
    print(f"lifetimes BetaGeoFitter: {lt_wall:7.3f} s wall, {lt_cpu:7.3f} s CPU  {lt_params}")

    rel = max(abs(ours.params_[k] - lt_params[k]) / abs(lt_params[k]) for k in TRUE)
    ll_lt = ours.log_likelihood(x, t_x, T, params=lt_params)
    print(f"speed-up (wall)      : {lt_wall / wall:6.1f}x")
    print(f"speed-up (CPU)       : {lt_cpu / cpu:6.1f}x")
    print(f"max relative parameter difference: {rel:.2e}")
    print(f"log-likelihood custfocus {ours.log_likelihood_:.4f}, lifetimes {ll_lt:.4f} "
          f"(difference {ours.log_likelihood_ - ll_lt:.2e})")
    rec = max(abs(ours.params_[k] - TRUE[k]) / ours.standard_errors_[k] for k in TRUE)
    print(f"largest |estimate - true| / standard error: {rec:.2f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
