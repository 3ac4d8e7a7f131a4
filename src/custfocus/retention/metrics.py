"""Retention metrics over the ``transactions`` table: acquisition, active base, retention, cohorts.

Every function takes the transactions Ibis table, ``as_of`` (the last day of data to use; default the
latest transaction date) and ``period`` (``'month'``, ``'quarter'`` or ``'week'``, weeks start on
Monday). Table work is Ibis running on the engine; only per-period results come back, as pandas.

Definitions (also in ``docs/retention.md``):

- A *purchase* is a transaction row with ``amount > 0``. Refunds (negative amounts) and zero rows
  never make a customer new or active: a customer whose only contact in a month was returning goods
  was not retained that month. Refunds do count in revenue.
- A customer is *acquired* in the period of their first purchase on or before ``as_of``. The data
  cannot see purchases before it begins, so the first periods of the data count long-standing
  customers as new.
- A customer is *active* in a period when they made at least one purchase in it.
- Rows dated after ``as_of`` are ignored.
- A period is *complete* when ``as_of`` is on or after its last day. The period containing ``as_of``
  usually is not: its figures are returned with ``complete = False`` and must be kept out of headline
  rates, because customers have not yet had the whole period to come back.

Periods are identified in results by their first day (``period`` column, a pandas Timestamp). Every
period from the first purchase to ``as_of`` has a row, with zeros where nothing happened.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

import ibis
import pandas as pd

from custfocus.stats import Estimate, wilson_interval, wilson_intervals

PERIODS = ("month", "quarter", "week")

# Headline windows: the purchase cycle is rounded up to the first of these calendar lengths (days).
CYCLE_WINDOWS = ((7, "a week"), (14, "two weeks"), (30, "a month"), (61, "two months"), (91, "three months"),
                 (182, "six months"), (365, "a year"), (730, "two years"))

# Weeks are counted from Monday 5 January 1970, so that a week index maps to a Monday.
_FIRST_MONDAY = date(1970, 1, 5)
_EPOCH = date(1970, 1, 1)
_FIRST_MONDAY_EPOCH_DAYS = (_FIRST_MONDAY - _EPOCH).days


@dataclass(frozen=True)
class CohortMatrix:
    """Cohorts by period of first purchase and the share of each still active later on.

    ``long``: one row per cohort and ``periods_after`` (0 = the acquisition period itself, always
    share 1), with ``cohort_size``, ``active`` (cohort members with a purchase in that period),
    ``share`` = active / cohort_size, its Wilson 95% interval ``low``/``high`` and ``complete``.
    ``wide``: shares with one row per cohort and one column per ``periods_after``, complete cells
    only (NaN elsewhere). ``sizes``: the cohort sizes, indexed by cohort.
    """

    long: pd.DataFrame
    wide: pd.DataFrame
    sizes: pd.Series


@dataclass(frozen=True)
class PurchaseCycle:
    """How long customers take to buy again, measured from the data, and the window that fits it.

    ``typical_days``: the median, over customers who bought on two or more days, of each one's mean
    days between purchase days (None when nobody bought twice); ``n``: those customers. ``window_days``
    and ``window_name``: the typical interval rounded up to a calendar length (``CYCLE_WINDOWS``), the
    window over which retention is headlined.
    """

    typical_days: float | None
    n: int
    window_days: int | None
    window_name: str | None

    def to_dict(self) -> dict:
        return {"typical_days": self.typical_days, "n": self.n, "window_days": self.window_days,
                "window_name": self.window_name}


@dataclass(frozen=True)
class WindowRetention:
    """Of the customers who bought in the window before the last one, the share who bought in the last.

    The windows are ``days`` long and end on ``as_of``: ``base_start``..``base_end`` and
    ``base_end`` + 1 day..``as_of`` (both inclusive). ``retention.n`` is the base.
    """

    days: int
    base_start: date
    base_end: date
    as_of: date
    retention: Estimate
    retained: int

    @property
    def churn(self) -> Estimate:
        rate = self.retention
        return Estimate(1 - rate.estimate, 1 - rate.high, 1 - rate.low, rate.n)

    def to_dict(self) -> dict:
        return {"days": self.days, "base_start": self.base_start, "base_end": self.base_end,
                "as_of": self.as_of, "retained": self.retained, "retention": self.retention.to_dict(),
                "churn": self.churn.to_dict()}


@dataclass(frozen=True)
class RetentionSummary:
    """Every retention figure the report and the command line show, computed once.

    ``flow``: per period, ``new_customers`` and ``active_customers``; ``rates``: period-on-period
    retention (:func:`retention_rates`); ``revenue``: :func:`revenue_retention`; ``repeat``: the
    repeat-purchase rate among customers acquired by ``repeat_cutoff``; ``cycle``: the purchase cycle;
    ``cycle_retention``: retention over the cycle's window (None when the data are shorter than two
    windows, or nobody bought twice).
    """

    as_of: date
    period: str
    flow: pd.DataFrame
    rates: pd.DataFrame
    revenue: pd.DataFrame
    repeat: Estimate
    repeat_cutoff: date
    cycle: PurchaseCycle
    cycle_retention: WindowRetention | None
    cohorts: CohortMatrix | None = None  # when asked for

    @property
    def cycle_measured(self) -> bool:
        """Whether retention over the purchase cycle could be measured (and so is the headline)."""
        return self.cycle_retention is not None and self.cycle_retention.retention.n > 0

    def cycle_sentence(self) -> str:
        """Retention over the purchase cycle in words, or why it cannot be measured."""
        cycle, window = self.cycle, self.cycle_retention
        if cycle.window_days is None:
            return ("No customer has bought on two different days yet, so the purchase cycle cannot be measured "
                    "and retention is shown month on month only.")
        if window is None:
            return (f"Customers typically buy again after {cycle.typical_days:,.0f} days, but the data do not cover "
                    f"two windows of {cycle.window_name} yet, so retention is shown month on month only.")
        span = f"{window.base_start:%d %b %Y} and {window.base_end:%d %b %Y}"
        if not self.cycle_measured:
            return f"No customer bought between {span}, so retention over {cycle.window_name} cannot be measured."
        rate = window.retention
        return (f"{window.retained:,} of the {rate.n:,} customers who bought between {span} bought again in the "
                f"{window.days} days to {window.as_of:%d %b %Y} ({rate.estimate:.0%}, 95% CI {rate.low:.0%} to "
                f"{rate.high:.0%}); measured over {cycle.window_name} because customers typically buy again after "
                f"{cycle.typical_days:,.0f} days (median of {cycle.n:,} repeat customers).")

    def to_dict(self) -> dict:
        return {"as_of": self.as_of, "period": self.period, "purchase_cycle": self.cycle.to_dict(),
                "cycle_retention": self.cycle_retention.to_dict() if self.cycle_retention else None,
                "flow": self.flow, "retention": self.rates, "revenue_retention": self.revenue,
                "repeat_purchase_rate": self.repeat.to_dict(), "repeat_purchase_cutoff": self.repeat_cutoff}


def summary(transactions: ibis.Table, as_of: date | None = None, period: str = "month",
            with_cohorts: bool = False) -> RetentionSummary:
    """Acquisition, active base, retention by period and over the purchase cycle, repeat purchases
    (and, ``with_cohorts``, the cohort matrix).

    The transactions are read once into one row per customer and period (kept by the engine while
    the figures are computed); every figure but the retention over the purchase cycle, which counts
    days, comes from that table.
    """
    as_of = _checked_as_of(transactions, as_of, period)
    with _customer_periods(transactions, as_of, period).cache() as periods, _purchasers(periods).cache() as customers:
        flow = _acquisition(customers, as_of, period).merge(
            _active(periods, as_of, period)[["period", "active_customers"]], on="period", how="outer")
        cycle = _purchase_cycle(customers)
        moves = _transitions(periods, as_of, period).to_pandas()
        return RetentionSummary(
            as_of=as_of, period=period, flow=flow,
            rates=_retention_rates(moves, as_of, period),
            revenue=_revenue_retention(moves, as_of, period),
            repeat=_repeat_purchase_rate(customers, as_of, period, established_only=True),
            repeat_cutoff=one_period_before(as_of, period),
            cycle=cycle,
            cycle_retention=(window_retention(transactions, cycle.window_days, as_of, first_purchase=_first_day(periods))
                             if cycle.window_days else None),
            cohorts=_cohort_matrix(periods, customers, as_of, period) if with_cohorts else None,
        )


def purchase_cycle(transactions: ibis.Table, as_of: date | None = None) -> PurchaseCycle:
    """The typical time between purchases and the headline window that fits it (see :class:`PurchaseCycle`).

    Each repeat customer counts once (their mean gap between distinct purchase days), so that a few
    weekly buyers do not make a shop of yearly buyers look weekly.
    """
    as_of = _checked_as_of(transactions, as_of, "month")
    return _purchase_cycle(_purchasers(_customer_periods(transactions, as_of, "month")))


def _purchase_cycle(customers: ibis.Table) -> PurchaseCycle:
    repeaters = customers.filter(customers.purchase_days >= 2)
    gaps = repeaters.select(gap=(repeaters["last"] - repeaters["first"]) / (repeaters.purchase_days - 1)).to_pandas()
    if gaps.empty:
        return PurchaseCycle(None, 0, None, None)
    typical = float(gaps["gap"].median())
    days, name = next(((d, n) for d, n in CYCLE_WINDOWS if d >= typical), CYCLE_WINDOWS[-1])
    return PurchaseCycle(typical, len(gaps), days, name)


def window_retention(transactions: ibis.Table, days: int, as_of: date | None = None, *,
                     first_purchase: date | None = None) -> WindowRetention | None:
    """Retention over ``days``: of the customers who bought in the ``days`` before the last ``days``
    up to ``as_of``, the share who bought again in the last ``days``, with a Wilson 95% interval.

    None when the first purchase (``first_purchase`` when the caller knows it) is later than the
    start of the earlier window (the data are too short to have seen a whole base window).
    """
    if days < 1:
        raise ValueError(f"A retention window must be at least one day, not {days}.")
    as_of = _checked_as_of(transactions, as_of, "month")
    base_end = as_of - timedelta(days=days)
    base_start = base_end - timedelta(days=days - 1)
    purchases = _purchases(transactions, as_of)
    if first_purchase is None:
        first = purchases.date.min().to_pandas()
        first_purchase = None if pd.isna(first) else pd.Timestamp(first).date()
    if first_purchase is None or first_purchase > base_start:
        return None
    recent = purchases.filter(purchases.date >= base_start)
    customers = recent.group_by("customer_id").agg(
        before=(recent.date <= base_end).ifelse(1, 0).max(), after=(recent.date > base_end).ifelse(1, 0).max())
    base = customers.filter(customers.before == 1)
    totals = base.agg(base=base.count(), retained=base.after.sum()).to_pandas()
    n = int(totals["base"].iloc[0])
    retained = 0 if n == 0 else int(totals["retained"].iloc[0])
    return WindowRetention(days, base_start, base_end, as_of, wilson_interval(retained, n), retained)


def acquisition(transactions: ibis.Table, as_of: date | None = None, period: str = "month") -> pd.DataFrame:
    """New customers per period: customers whose first purchase falls in the period.

    Columns: ``period``, ``complete``, ``new_customers``.
    """
    as_of = _checked_as_of(transactions, as_of, period)
    return _acquisition(_purchasers(_customer_periods(transactions, as_of, period)), as_of, period)


def _acquisition(customers: ibis.Table, as_of: date, period: str) -> pd.DataFrame:
    counts = customers.group_by("period_idx").agg(new_customers=customers.count()).to_pandas()
    return _per_period(counts, as_of, period, {"new_customers": 0})


def active(transactions: ibis.Table, as_of: date | None = None, period: str = "month") -> pd.DataFrame:
    """Active customers per period: customers with at least one purchase (amount > 0) in it.

    Columns: ``period``, ``complete``, ``active_customers``.
    """
    as_of = _checked_as_of(transactions, as_of, period)
    return _active(_customer_periods(transactions, as_of, period), as_of, period)


def _active(periods: ibis.Table, as_of: date, period: str) -> pd.DataFrame:
    activity = _activity(periods)
    counts = activity.group_by("period_idx").agg(active_customers=activity.count()).to_pandas()
    return _per_period(counts, as_of, period, {"active_customers": 0})


def retention_rates(transactions: ibis.Table, as_of: date | None = None, period: str = "month") -> pd.DataFrame:
    """Period-on-period retention: of the customers active in t-1, the share active again in t.

    Per period t (from the second period of the data on): ``base`` = customers active in t-1,
    ``retained`` = those of them also active in t, ``rate`` = retained / base with its Wilson 95%
    interval ``low``/``high``, and ``churn`` = 1 - rate. ``rate`` is NaN when nobody was active in
    t-1. ``complete`` refers to period t.
    """
    as_of = _checked_as_of(transactions, as_of, period)
    moves = _transitions(_customer_periods(transactions, as_of, period), as_of, period).to_pandas()
    return _retention_rates(moves, as_of, period)


def _retention_rates(moves: pd.DataFrame, as_of: date, period: str) -> pd.DataFrame:
    frame = _per_period(moves[["period_idx", "base", "retained"]], as_of, period, {"base": 0, "retained": 0})
    frame["rate"] = frame["retained"] / frame["base"].where(frame["base"] > 0)
    frame["low"], frame["high"] = wilson_intervals(frame["retained"], frame["base"])
    frame["churn"] = 1 - frame["rate"]
    return frame


def revenue_retention(transactions: ibis.Table, as_of: date | None = None, period: str = "month") -> pd.DataFrame:
    """Net revenue retention: what the customers active in t-1 spend in t, relative to t-1.

    Per period t: ``base`` = customers active in t-1, ``base_revenue`` = their net revenue in t-1,
    ``revenue`` = their net revenue in t (0 for those who did not come back), and
    ``revenue_retention`` = revenue / base_revenue (NaN when base_revenue is not positive). Net
    revenue is the sum of all amounts, refunds included, so a refund in t of a t-1 purchase lowers
    it. New customers of period t are not in it. Columns also ``period`` and ``complete``.
    """
    as_of = _checked_as_of(transactions, as_of, period)
    moves = _transitions(_customer_periods(transactions, as_of, period), as_of, period).to_pandas()
    return _revenue_retention(moves, as_of, period)


def _revenue_retention(moves: pd.DataFrame, as_of: date, period: str) -> pd.DataFrame:
    sums = moves[["period_idx", "base", "base_revenue", "revenue"]]
    frame = _per_period(sums, as_of, period, {"base": 0, "base_revenue": 0.0, "revenue": 0.0})
    frame["revenue_retention"] = frame["revenue"] / frame["base_revenue"].where(frame["base_revenue"] > 0)
    return frame


def cohort_matrix(transactions: ibis.Table, as_of: date | None = None, period: str = "month") -> CohortMatrix:
    """Cohorts by period of first purchase, and the share of each active k periods later.

    A cohort member counts as active in cohort period + k when they purchased in that period (they
    need not have purchased in between). See :class:`CohortMatrix` for the forms returned.
    """
    as_of = _checked_as_of(transactions, as_of, period)
    periods = _customer_periods(transactions, as_of, period)
    return _cohort_matrix(periods, _purchasers(periods), as_of, period)


def _cohort_matrix(periods: ibis.Table, customers: ibis.Table, as_of: date, period: str) -> CohortMatrix:
    firsts = customers.select("customer_id", cohort_idx=customers.period_idx)
    activity = _activity(periods)
    joined = activity.join(firsts, "customer_id")
    joined = joined.mutate(periods_after=joined.period_idx - joined.cohort_idx)
    cells = joined.group_by(["cohort_idx", "periods_after"]).agg(active=joined.count()).to_pandas()
    sizes = cells[cells["periods_after"] == 0].set_index("cohort_idx")["active"]
    last = _period_index(as_of, period)
    grid = pd.DataFrame(
        [(c, k) for c in sorted(sizes.index) for k in range(last - c + 1)],
        columns=["cohort_idx", "periods_after"],
    )
    long = grid.merge(cells, on=["cohort_idx", "periods_after"], how="left")
    long["active"] = long["active"].fillna(0).astype("int64")
    long["cohort_size"] = long["cohort_idx"].map(sizes).astype("int64")
    long["share"] = long["active"] / long["cohort_size"]
    long["low"], long["high"] = wilson_intervals(long["active"], long["cohort_size"])
    calendar_idx = long["cohort_idx"] + long["periods_after"]
    long["complete"] = calendar_idx.map(lambda i: _is_complete(i, as_of, period)).astype(bool)
    long.insert(0, "cohort", _period_starts(long["cohort_idx"], period))
    long = long.drop(columns="cohort_idx")[
        ["cohort", "periods_after", "cohort_size", "active", "share", "low", "high", "complete"]
    ]
    wide = long[long["complete"]].pivot(index="cohort", columns="periods_after", values="share")
    cohort_sizes = pd.Series(
        sizes.to_numpy(dtype="int64"), index=_period_starts(sizes.index, period), name="cohort_size"
    ).rename_axis("cohort")
    return CohortMatrix(long=long, wide=wide, sizes=cohort_sizes.sort_index())


def repeat_purchase_rate(
    transactions: ibis.Table,
    as_of: date | None = None,
    period: str = "month",
    established_only: bool = False,
) -> Estimate:
    """Share of customers who purchased on two or more distinct days, with a Wilson 95% interval.

    Purchases are counted by distinct day, not by row or order: several rows or orders on one day
    are one shopping occasion (a split basket or a forgotten item), and ``order_id`` is optional.
    With ``established_only`` the base is the customers whose first purchase was at least one
    ``period`` before ``as_of`` (first purchase on or before as_of minus one period), so that
    customers acquired in the last few days, who had no chance to come back yet, do not dilute the
    rate. ``n`` is the number of customers in the base.
    """
    as_of = _checked_as_of(transactions, as_of, period)
    customers = _purchasers(_customer_periods(transactions, as_of, period))
    return _repeat_purchase_rate(customers, as_of, period, established_only)


def _repeat_purchase_rate(customers: ibis.Table, as_of: date, period: str, established_only: bool) -> Estimate:
    if established_only:
        cutoff = (one_period_before(as_of, period) - _EPOCH).days
        customers = customers.filter(customers["first"] <= cutoff)
    totals = customers.agg(
        customers=customers.count(),
        repeaters=(customers.purchase_days >= 2).ifelse(1, 0).sum(),
    ).to_pandas()
    n = int(totals["customers"].iloc[0])
    repeaters = 0 if n == 0 else int(totals["repeaters"].iloc[0])
    return wilson_interval(repeaters, n)


def one_period_before(day: date, period: str = "month") -> date:
    """The same day one period earlier, clamped to the month's end (31 March -> 29 February).

    With ``as_of`` it gives the cut-off of :func:`repeat_purchase_rate`'s ``established_only``.
    """
    _check_period(period)
    if period == "week":
        return day - timedelta(weeks=1)
    year, month0 = divmod(day.year * 12 + day.month - 1 - (1 if period == "month" else 3), 12)
    return date(year, month0 + 1, min(day.day, calendar.monthrange(year, month0 + 1)[1]))


# --- table work (Ibis) ---------------------------------------------------------------------------


def _purchases(transactions: ibis.Table, as_of: date) -> ibis.Table:
    t = _with_date(transactions)
    return t.filter((t.date <= as_of) & (t.amount > 0))


def _customer_periods(transactions: ibis.Table, as_of: date, period: str) -> ibis.Table:
    """One row per customer and period with rows up to ``as_of``: ``revenue`` (net, refunds
    included), ``purchased`` (a purchase in it), ``first_day`` and ``last_day`` (epoch days of its
    first and last purchase) and ``purchase_days`` (distinct days with a purchase). Every figure
    but the day windows comes from this one pass over the transactions."""
    t = _with_date(transactions)
    t = t.filter(t.date <= as_of)
    # Days first, then periods: two plain aggregations hold less memory than a distinct count of
    # days in every customer's period.
    days = t.group_by(["customer_id", "date"]).agg(revenue=t.amount.sum(), bought=t.amount.max() > 0)
    day = days.date.epoch_days()
    return days.group_by(["customer_id", _period_expr(days.date, period).name("period_idx")]).agg(
        revenue=days.revenue.sum(), purchased=days.bought.any(),
        first_day=day.min(where=days.bought), last_day=day.max(where=days.bought),
        purchase_days=days.bought.ifelse(1, 0).sum())


def _activity(periods: ibis.Table) -> ibis.Table:
    """One row per customer and period with a purchase."""
    return periods.filter(periods.purchased).select("customer_id", "period_idx")


def _purchasers(periods: ibis.Table) -> ibis.Table:
    """One row per customer with a purchase: ``period_idx`` (the period of the first purchase, the
    customer's cohort), ``first`` and ``last`` purchase day (epoch days) and ``purchase_days``."""
    bought = periods.filter(periods.purchased)
    return bought.group_by("customer_id").agg(
        period_idx=bought.period_idx.min(), first=bought.first_day.min(), last=bought.last_day.max(),
        purchase_days=bought.purchase_days.sum())


def _first_day(periods: ibis.Table) -> date | None:
    first = periods.first_day.min().to_pandas()
    return None if pd.isna(first) else _EPOCH + timedelta(days=int(first))


def _transitions(periods: ibis.Table, as_of: date, period: str) -> ibis.Table:
    """Per period t, the customers active in t-1 and what became of them in t.

    Columns: period_idx (t), base, retained, base_revenue (their net revenue in t-1), revenue (their
    net revenue in t).
    """
    before = periods.filter(periods.purchased).select(
        "customer_id", period_idx=periods.period_idx + 1, base_revenue=periods.revenue
    )
    after = periods.select(
        next_customer=periods.customer_id,
        next_idx=periods.period_idx,
        next_revenue=periods.revenue,
        next_purchased=periods.purchased,
    )
    joined = before.left_join(after, [before.customer_id == after.next_customer, before.period_idx == after.next_idx])
    # Customers active in the as_of period would otherwise open a period beyond the data.
    joined = joined.filter(joined.period_idx <= _period_index(as_of, period))
    return joined.group_by("period_idx").agg(
        base=joined.count(),
        retained=joined.next_purchased.fill_null(False).ifelse(1, 0).sum(),
        base_revenue=joined.base_revenue.sum(),
        revenue=joined.next_revenue.fill_null(0.0).sum(),
    )


def _with_date(transactions: ibis.Table) -> ibis.Table:
    """The contract keeps ``date`` a date; a timestamp column is cut to its day."""
    if transactions.date.type().is_date():
        return transactions
    return transactions.mutate(date=transactions.date.cast("date"))


def _period_expr(day: ibis.Value, period: str) -> ibis.Value:
    """Integer index of the period containing ``day``; consecutive periods differ by 1.

    Integer arithmetic on year, month and epoch days behaves the same on DuckDB and Spark, unlike
    date truncation and interval arithmetic.
    """
    if period == "month":
        index = day.year() * 12 + day.month() - 1
    elif period == "quarter":
        index = day.year() * 4 + day.quarter() - 1
    else:
        index = (day.epoch_days() - _FIRST_MONDAY_EPOCH_DAYS) // 7
    return index.cast("int64")


def _checked_as_of(transactions: ibis.Table, as_of: date | None, period: str) -> date:
    """Refuse an unknown period, and resolve a missing as_of to the latest transaction date."""
    _check_period(period)
    if as_of is not None:
        return as_of
    latest = _with_date(transactions).date.max().to_pandas()
    if pd.isna(latest):
        raise ValueError("The transactions table is empty: pass as_of to measure it.")
    return pd.Timestamp(latest).date()


# --- periods (Python) ----------------------------------------------------------------------------


def _check_period(period: str) -> None:
    if period not in PERIODS:
        raise ValueError(f"Unknown period '{period}': choose one of {', '.join(PERIODS)}.")


def _period_index(day: date, period: str) -> int:
    """The Python twin of :func:`_period_expr`."""
    if period == "month":
        return day.year * 12 + day.month - 1
    if period == "quarter":
        return day.year * 4 + (day.month - 1) // 3
    return (day - _FIRST_MONDAY).days // 7


def _period_start(index: int, period: str) -> date:
    if period == "month":
        return date(index // 12, index % 12 + 1, 1)
    if period == "quarter":
        return date(index // 4, 3 * (index % 4) + 1, 1)
    return _FIRST_MONDAY + timedelta(weeks=index)


def _period_starts(indexes, period: str) -> pd.DatetimeIndex:
    return pd.DatetimeIndex([pd.Timestamp(_period_start(int(i), period)) for i in indexes])


def _is_complete(index: int, as_of: date, period: str) -> bool:
    return _period_start(index + 1, period) - timedelta(days=1) <= as_of


def _per_period(counts: pd.DataFrame, as_of: date, period: str, fill: dict) -> pd.DataFrame:
    """Spread per-period results (keyed by ``period_idx``) over every period up to ``as_of``.

    The range starts at the earliest period in ``counts``, which is the first period of the data
    for every metric here (or the one after it, for metrics about period t-1 to t).
    """
    columns = ["period", "complete", *fill]
    if counts.empty:
        dtypes = {"period": "datetime64[ns]", "complete": bool} | {c: type(v) for c, v in fill.items()}
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in dtypes.items()})
    indexes = range(int(counts["period_idx"].min()), _period_index(as_of, period) + 1)
    frame = counts.set_index("period_idx").reindex(indexes).fillna(fill)
    for column, default in fill.items():
        frame[column] = frame[column].astype(type(default))
    frame.insert(0, "period", _period_starts(indexes, period))
    frame.insert(1, "complete", [_is_complete(i, as_of, period) for i in indexes])
    return frame.reset_index(drop=True)[columns]
