"""NPS, CSAT and CES over Ibis tables, by period and segment, as pandas DataFrames.

Customer answers only: employee NPS is :mod:`custfocus.people`'s, which shows no group of fewer than 5
people (nor one that subtraction would reveal); these tables show every group, however small.

Counting happens in the engine (one group_by/aggregate with conditional sums, the same expression on
DuckDB and Spark); only one row per group comes back, and the intervals are computed in NumPy.

Every table has the group keys first (``period`` as a pandas Period, then the ``by`` columns), then
``n``, the counts behind the metric, the metric, its 95% interval ``low``/``high`` and the
``too_small`` flag (see :mod:`custfocus.pulse.stats` for the rule). Rows are sorted by the keys,
with missing segment values last.
"""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd

from custfocus.errors import InputError
from custfocus.pulse import stats

# period name -> (Ibis truncation unit, pandas Period frequency); weeks start on Monday in both.
PERIODS = {"week": ("W", "W-SUN"), "month": ("M", "M"), "quarter": ("Q", "Q")}
METRICS = ("nps", "csat", "ces")
EMPLOYEE_NPS_ELSEWHERE = ("Employee NPS is computed by custfocus.people (people.company_employee_nps, "
                          "people.employee_nps; the command 'custfocus nps DATA --metric enps'), which hides "
                          "groups of employees too small to show (under 5 people by default); pulse shows every "
                          "group, so it takes customer answers only.")


def with_customer_attributes(responses: ibis.Table, customers: ibis.Table) -> ibis.Table:
    """Responses with the columns of their customer (segment, region, channel, ...) joined on.

    Responses without a known customer keep empty attributes. Columns the responses already have
    are not overwritten.
    """
    if "customer_id" not in responses.columns:
        raise ValueError("responses have no customer_id column, so they cannot be joined to customers")
    attributes = [c for c in customers.columns if c != "customer_id" and c not in responses.columns]
    joined = responses.left_join(customers.select("customer_id", *attributes), "customer_id")
    return joined.select(*responses.columns, *attributes)


def nps(responses: ibis.Table, by=None, period: str | None = None, confidence: float = 0.95) -> pd.DataFrame:
    """Net Promoter Score of the 'nps' responses, in points, with the adjusted-Wald interval.

    Columns: keys, n, promoters, passives, detractors, nps, low, high, too_small.
    """
    return _nps_table(_responses_of_kind(responses, "nps"), by, period, confidence)


def csat(responses: ibis.Table, by=None, period: str | None = None, confidence: float = 0.95) -> pd.DataFrame:
    """CSAT: percent of 'csat' responses rating 4 or 5 of 5, with the Wilson interval.

    Columns: keys, n, satisfied, csat, low, high, too_small.
    """
    table = _responses_of_kind(responses, "csat")
    satisfied = (table.score >= stats.SATISFIED_MIN).ifelse(1, 0)
    frame = _aggregate(table, by, period, counts={"n": table.score.count(), "satisfied": satisfied.sum()})
    frame["csat"], frame["low"], frame["high"] = stats.csat_intervals(frame["satisfied"], frame["n"], confidence)
    frame["too_small"] = stats.too_small(frame["n"], frame["low"], frame["high"], "csat")
    return frame


def ces(responses: ibis.Table, by=None, period: str | None = None, confidence: float = 0.95) -> pd.DataFrame:
    """CES: mean of the 'ces' responses on their 1-7 scale, with a t interval.

    Columns: keys, n, ces (the mean), sd, low, high, too_small.
    """
    table = _responses_of_kind(responses, "ces")
    frame = _aggregate(table, by, period, counts={"n": table.score.count()},
                       summaries={"ces": table.score.mean(), "sd": table.score.std(how="sample")})
    _, frame["low"], frame["high"] = stats.ces_intervals(frame["ces"], frame["sd"], frame["n"], confidence)
    frame["too_small"] = stats.too_small(frame["n"], frame["low"], frame["high"], "ces")
    return frame


def compare(responses: ibis.Table, a=None, b=None, *, metric: str = "nps", by: str | None = None,
            period: str | None = None, confidence: float = 0.95) -> pd.DataFrame:
    """Whether ``metric`` differs between two periods or two segments: one row, b minus a.

    Give either ``period`` (then ``a`` and ``b`` are periods such as '2024-08' or a date inside
    them; by default b is the latest period with responses and a the one before it) or ``by``
    (then ``a`` and ``b`` are two values of that column). ``metric`` is 'nps', 'csat' or 'ces'.

    Columns: metric, a, b, value_a, value_b, n_a, n_b, difference, low, high, p_value, significant.
    """
    if (by is None) == (period is None):
        raise ValueError("compare needs exactly one of period= (two periods) or by= (two segments)")
    _check_metric(metric)
    if period is not None:
        table = metric_table(responses, metric, period=period, confidence=confidence)
        frequency = PERIODS[period][1]
        if b is None:
            if table.empty:
                raise ValueError(f"no {metric} responses to compare")
            b = table["period"].iloc[-1]
        b = pd.Period(b, frequency)
        a = b - 1 if a is None else pd.Period(a, frequency)
        key = "period"
    else:
        if a is None or b is None:
            raise ValueError("comparing segments needs both a= and b=")
        table = metric_table(responses, metric, by=by, confidence=confidence)
        key = by
    return pd.DataFrame([difference_row(metric, table, key, a, b, confidence)])


def metric_table(table: ibis.Table, metric: str, by=None, period: str | None = None,
                 confidence: float = 0.95) -> pd.DataFrame:
    """The table of :func:`nps`, :func:`csat` or :func:`ces` by metric name."""
    _check_metric(metric)
    functions = {"nps": nps, "csat": csat, "ces": ces}
    return functions[metric](table, by=by, period=period, confidence=confidence)


def source_table(company, metric: str) -> ibis.Table:
    """The table ``metric`` is computed from: the responses, with their customer's attributes
    (segment, region, ...) joined on when the company has customers.
    """
    _check_metric(metric, InputError)
    if not company.has("responses"):
        raise InputError(f"{metric} needs the table responses, which the company does not have.")
    table = company.table("responses")
    if company.has("customers") and "customer_id" in table.columns:
        table = with_customer_attributes(table, company.table("customers"))
    return table


def metric_table_for(company, metric: str, by: str | None = None, period: str | None = None,
                     confidence: float = 0.95) -> pd.DataFrame:
    """:func:`metric_table` of a company: the right table, customers' columns available to ``by``."""
    table = source_table(company, metric)
    if by is not None and by not in table.columns:
        raise InputError(f"There is no column '{by}' in responses or customers; "
                         f"the columns are: {', '.join(table.columns)}.")
    if period is not None and period not in PERIODS:
        raise InputError(f"Unknown period '{period}': choose one of {', '.join(PERIODS)}.")
    return metric_table(table, metric, by=by, period=period, confidence=confidence)


def difference_row(metric: str, table: pd.DataFrame, key: str, a, b, confidence: float = 0.95) -> dict:
    """Compare rows ``key == a`` and ``key == b`` of a metric table (an absent row counts as n = 0)."""
    row_a, row_b = _row(table, key, a), _row(table, key, b)
    _check_metric(metric)
    if metric == "nps":
        difference = stats.nps_difference(_nps_counts(row_a), _nps_counts(row_b), confidence)
    elif metric == "csat":
        difference = stats.csat_difference(
            stats.SatisfiedCounts(int(row_a.get("satisfied", 0)), int(row_a.get("n", 0))),
            stats.SatisfiedCounts(int(row_b.get("satisfied", 0)), int(row_b.get("n", 0))),
            confidence,
        )
    else:
        difference = stats.ces_difference(_score_summary(row_a), _score_summary(row_b), confidence)
    return {
        "metric": metric,
        "a": a,
        "b": b,
        "value_a": row_a.get(metric, np.nan),
        "value_b": row_b.get(metric, np.nan),
        "n_a": difference.n_a,
        "n_b": difference.n_b,
        "difference": difference.estimate,
        "low": difference.low,
        "high": difference.high,
        "p_value": difference.p_value,
        "significant": difference.significant,
    }


def responses_needed(margin: float = 5.0, metric: str = "nps", responses: ibis.Table | None = None,
                     confidence: float = 0.95) -> int:
    """Responses for a ± ``margin`` interval (NPS points, CSAT percentage points, CES points).

    With ``responses`` the observed shares (or spread) are assumed, otherwise the worst case (for
    an employee survey too: ``responses_needed(margin)`` with no answers).
    """
    _check_metric(metric)
    overall = None if responses is None else metric_table(responses, metric, confidence=confidence).iloc[0]
    observed = overall is not None and overall["n"] > 0
    if metric == "nps":
        if not observed:
            return stats.nps_responses_needed(margin, confidence=confidence)
        return stats.nps_responses_needed(margin, overall["promoters"] / overall["n"],
                                          overall["detractors"] / overall["n"], confidence)
    if metric == "csat":
        share = overall["satisfied"] / overall["n"] if observed else 0.5
        return stats.proportion_responses_needed(margin, share, confidence)
    sd = overall["sd"] if observed and np.isfinite(overall["sd"]) else stats.WORST_CASE_CES_SD
    return stats.mean_responses_needed(margin, sd, confidence)


# --- helpers ---------------------------------------------------------------------------------


def _check_metric(metric: str, error: type[Exception] = ValueError) -> None:
    if metric == "enps":
        raise error(EMPLOYEE_NPS_ELSEWHERE)
    if metric not in METRICS:
        raise error(f"Unknown metric '{metric}': choose one of {', '.join(METRICS)}.")


def _responses_of_kind(responses: ibis.Table, kind: str) -> ibis.Table:
    return responses.filter(responses.kind == kind)


def _nps_table(table: ibis.Table, by, period, confidence) -> pd.DataFrame:
    score = table.score
    frame = _aggregate(table, by, period, counts={
        "n": score.count(),
        "promoters": (score >= stats.PROMOTER_MIN).ifelse(1, 0).sum(),
        "passives": ((score > stats.DETRACTOR_MAX) & (score < stats.PROMOTER_MIN)).ifelse(1, 0).sum(),
        "detractors": (score <= stats.DETRACTOR_MAX).ifelse(1, 0).sum(),
    })
    frame["nps"], frame["low"], frame["high"] = stats.nps_intervals(
        frame["promoters"], frame["detractors"], frame["n"], confidence
    )
    frame["too_small"] = stats.too_small(frame["n"], frame["low"], frame["high"], "nps")
    return frame


def _aggregate(table: ibis.Table, by, period: str | None, counts: dict,
               summaries: dict | None = None) -> pd.DataFrame:
    """Group by period and ``by`` in the engine and bring back one row per group.

    ``counts`` and ``summaries`` map output names to Ibis reductions; counts come back as int64.
    """
    by = [by] if isinstance(by, str) else list(by or [])
    unknown = [c for c in by if c not in table.columns]
    if unknown:
        raise ValueError(f"cannot group by {', '.join(unknown)}: the table has {', '.join(table.columns)}")
    keys = list(by)
    if period is not None:
        if period not in PERIODS:
            raise ValueError(f"Unknown period '{period}': choose one of {', '.join(PERIODS)}.")
        table = table.mutate(period=table.date.truncate(PERIODS[period][0]))
        keys.insert(0, "period")
    aggregates = {**counts, **(summaries or {})}
    grouped = table.group_by(keys).agg(**aggregates) if keys else table.agg(**aggregates)
    frame = grouped.to_pandas()
    # Sums over no rows come back as NULL: they are zero counts.
    frame[list(counts)] = frame[list(counts)].fillna(0).astype("int64")
    frame[list(summaries or {})] = frame[list(summaries or {})].astype(float)
    if period is not None:
        frame["period"] = pd.to_datetime(frame["period"]).dt.to_period(PERIODS[period][1])
    return frame.sort_values(keys, na_position="last").reset_index(drop=True) if keys else frame


def _row(table: pd.DataFrame, key: str, value) -> pd.Series:
    match = table[table[key] == value]
    return match.iloc[0] if len(match) else pd.Series({"n": 0}, dtype=object)


def _nps_counts(row: pd.Series) -> stats.NpsCounts:
    return stats.NpsCounts(*(int(row.get(name, 0)) for name in ("promoters", "passives", "detractors")))


def _score_summary(row: pd.Series) -> stats.ScoreSummary:
    return stats.ScoreSummary(float(row.get("ces", np.nan)), float(row.get("sd", np.nan)), int(row.get("n", 0)))
