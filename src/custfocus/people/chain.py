"""The service-profit chain, honest about few departments.

Across departments: Pearson's r between a department's employee NPS (or the internal service it
receives) and the NPS of the customers it serves, with the Fisher-z interval
``tanh(atanh(r) +/- 1.96 / sqrt(n - 3))``, Spearman's rank correlation, and leave-one-out influence
(r without each department in turn). Companies have 5 to 30 departments: below ``MIN_UNITS`` the
link is reported but never concluded on, and above it only when the interval excludes zero and no
single department flips the sign.

Within departments over waves (three or more): does employee NPS lead customer NPS (employee NPS in
one wave against customer NPS in the next) or the reverse? Each department's values are centred on
its own mean, so only changes over time count; the Fisher-z interval then uses ``pairs -
departments`` as the sample size (one mean estimated per department).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats as sps

from custfocus.stats import Z95

MIN_UNITS = 8  # fewer departments than this: too few to conclude on a correlation


def fisher_interval(r: float, n: int, z: float = Z95) -> tuple[float, float]:
    """The Fisher-z confidence interval of a correlation from n pairs (NaN when n <= 3)."""
    if n <= 3 or not math.isfinite(r):
        return math.nan, math.nan
    centre, spread = math.atanh(max(min(r, 1 - 1e-12), -1 + 1e-12)), z / math.sqrt(n - 3)
    return math.tanh(centre - spread), math.tanh(centre + spread)


def correlation(x, y, labels, what: str) -> dict:
    """Pearson with its Fisher-z interval, Spearman, leave-one-out influence and a verdict in words."""
    x, y, labels = np.asarray(x, float), np.asarray(y, float), list(labels)
    n = len(x)
    result = {"what": what, "n": n, "pearson": None, "low": None, "high": None, "spearman": None,
              "spearman_p_value": None, "leave_one_out": [], "most_influential": None, "conclusive": False}
    if n < 3 or np.std(x) == 0 or np.std(y) == 0:
        result["verdict"] = (f"Too few departments ({n}) with both figures to compute a correlation for {what}."
                             if n < 3 else f"No variation to correlate for {what}.")
        return result
    r = float(np.corrcoef(x, y)[0, 1])
    low, high = fisher_interval(r, n)
    rho, rho_p = sps.spearmanr(x, y)
    without = []
    for i, label in enumerate(labels):
        keep = np.arange(n) != i
        r_without = float(np.corrcoef(x[keep], y[keep])[0, 1]) if n > 3 else math.nan
        without.append({"department": label, "pearson_without": r_without, "change": r_without - r})
    influential = max(without, key=lambda w: abs(w["change"]) if math.isfinite(w["change"]) else -1)
    flips = any(math.isfinite(w["pearson_without"]) and np.sign(w["pearson_without"]) != np.sign(r)
                for w in without)
    result.update(pearson=r, low=low, high=high, spearman=float(rho), spearman_p_value=float(rho_p),
                  leave_one_out=without, most_influential=influential["department"])
    interval = f"r = {r:+.2f}" + (f" (95% CI {low:+.2f} to {high:+.2f})" if math.isfinite(low) else "")
    if n < MIN_UNITS:
        result["verdict"] = (f"Too few departments to conclude on {what}: {n} departments give {interval}; a "
                             f"correlation across departments needs at least {MIN_UNITS}, and even then a wide "
                             "interval.")
    elif low <= 0 <= high:
        result["verdict"] = f"No link shown for {what}: {interval} across {n} departments includes zero."
    elif flips:
        result["verdict"] = (f"Not conclusive for {what}: {interval} across {n} departments, but leaving out "
                             f"{influential['department']} changes its sign.")
    else:
        result["conclusive"] = True
        direction = "higher" if r > 0 else "lower"
        result["verdict"] = (f"Departments with a higher {what.split(' vs ')[0]} have {direction} customer NPS: "
                             f"{interval} across {n} departments.")
    return result


def lead_lag(employee: pd.DataFrame, customer: pd.DataFrame) -> dict:
    """Within-department lead and lag between employee NPS and customer NPS over waves.

    Both frames: department, wave (sortable), nps. Returns both directions with r, interval, pairs.
    """
    merged = employee.merge(customer, on=["department", "wave"], suffixes=("_employee", "_customer"))
    waves = merged["wave"].nunique()
    result = {"waves": int(waves), "departments": int(merged["department"].nunique()), "directions": {}}
    if waves < 3:
        result["verdict"] = f"Lead and lag need three or more waves with both figures; there are {waves}."
        return result
    verdicts = []
    for name, leader, follower in (("employee_leads", "nps_employee", "nps_customer"),
                                   ("customer_leads", "nps_customer", "nps_employee")):
        pairs = []
        for department, rows in merged.sort_values("wave").groupby("department"):
            if len(rows) < 3:
                continue
            lead, follow = rows[leader].to_numpy()[:-1], rows[follower].to_numpy()[1:]
            pairs.append((department, lead - lead.mean(), follow - follow.mean()))
        units = len(pairs)
        x = np.concatenate([p[1] for p in pairs]) if pairs else np.array([])
        y = np.concatenate([p[2] for p in pairs]) if pairs else np.array([])
        effective = len(x) - units
        r = float(np.corrcoef(x, y)[0, 1]) if effective > 3 and np.std(x) > 0 and np.std(y) > 0 else math.nan
        low, high = fisher_interval(r, effective)
        conclusive = math.isfinite(low) and not (low <= 0 <= high)
        result["directions"][name] = {"pearson": r, "low": low, "high": high, "pairs": int(len(x)),
                                      "departments": units, "conclusive": bool(conclusive)}
        label = "employee NPS leading customer NPS" if name == "employee_leads" else "customer NPS leading employee NPS"
        if not math.isfinite(r):
            verdicts.append(f"too few pairs to test {label}")
        elif conclusive:
            verdicts.append(f"{label}: r = {r:+.2f} (95% CI {low:+.2f} to {high:+.2f}, {len(x)} pairs)")
        else:
            verdicts.append(f"no evidence of {label} (r = {r:+.2f}, 95% CI {low:+.2f} to {high:+.2f}, "
                            f"{len(x)} pairs)")
    result["verdict"] = "Within departments over waves: " + "; ".join(verdicts) + "."
    return result
