"""Profitability after the cost of serving each customer: the whale curve, tiers, acquisition payback.

Definitions (also in ``docs/profitability.md``); amounts are in the company's currency:

- *Revenue*: the sum of ``amount`` (refunds are negative, so revenue is net of refunds).
- *Gross margin*: revenue minus the cost of goods (``transactions.cost``). Rows without a cost count
  at a gross margin equal to their amount; without a ``cost`` column gross margin equals revenue.
- *Cost to serve*: the sum of ``service_events.cost`` (deliveries, tickets, returns, calls, ...).
- *Profit*: gross margin minus cost to serve. Acquisition cost is not in it: it is spent once, and is
  weighed against what the customer brings in the acquisition analysis.
- The period: by default the 12 months up to ``as_of`` (``period_months``; None for the whole
  history); the customers are those with a transaction or a service event in it.
- *Whale curve*: cumulative profit against customers ranked from the most to the least profitable
  (ties broken by customer_id), as a share of total profit. Its *peak* is where the loss-making
  customers begin: the share of customers with a positive profit and their profit as a share of the
  total (above 100% when some customers lose money).
- *Tiers*: the *profitable core* makes more than the break-even band, the *loss-making tail* loses
  more than it, the *break-even middle* lies within it. The band is +- ``BREAK_EVEN_SHARE`` (10%) of
  the mean gross margin per customer, unless given.
- *Warranted service*: if service followed value, each tier would get the company's current cost
  to serve in proportion to its value: CLV when given, otherwise gross margin (negative values count
  as 0). A tier costing more than (1 + ``SERVICE_TOLERANCE``) times its warranted spend is *served
  above its worth*, less than its warranted spend / (1 + tolerance) *served below its worth*.
- *Payback*: the first day on which the customer's cumulative contribution since acquisition
  (gross margin minus cost to serve) reaches their acquisition cost. The median payback by channel
  is a Kaplan-Meier median (customers not yet paid back are censored at their age), with a
  log-log Greenwood interval; the share paid back within ``horizon_months`` counts customers
  acquired at least that long ago (Wilson interval).
- *Value / CAC*: per channel, mean value over mean acquisition cost (a ratio of means), where value
  is the contribution to date plus, when a CLV table is given, the CLV converted to contribution at
  the acquired customers' contribution rate (contribution / revenue). 95% interval by the delta
  method (linearised ratio estimator) with Student t quantiles.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import ibis
import numpy as np
import pandas as pd
from scipy import stats as sps

from custfocus.data.company import Company
from custfocus.engine.ranking import RankedColumn
from custfocus.stats import (
    MIN_SAMPLE,
    Z95,
    Estimate,
    t_intervals,
    wilson_interval,
)

DAYS_PER_MONTH = 365.25 / 12
CURVE_POINTS = 200  # whale curve points pulled from the engine, plus the peak and the top fifth
TOP_SHARE = 0.2  # the "top 20% of customers" quoted in findings
BREAK_EVEN_SHARE = 0.10  # break-even band: +- this share of the mean gross margin per customer
SERVICE_TOLERANCE = 0.25  # spending within 25% of the warranted level counts as in line
CORE, MIDDLE, TAIL = "profitable core", "break-even middle", "loss-making tail"
TIERS = (CORE, MIDDLE, TAIL)
ABOVE, IN_LINE, BELOW = "served above its worth", "in line", "served below its worth"
NO_CHANNEL = "(no channel)"
GROUP_COLUMNS = ("region", "segment", "channel")  # customers' attributes profitability is broken down by


@dataclass(frozen=True)
class WhaleCurve:
    """Cumulative profit against customers ranked by profit, most profitable first.

    ``curve``: ``customers`` (the top k), ``customer_share``, ``cumulative_profit`` and
    ``profit_share`` (cumulative profit / total profit; NaN when total profit is not positive),
    starting at (0, 0) and including the peak and the top fifth exactly.
    """

    curve: pd.DataFrame
    customers: int
    total_profit: float
    peak_customers: int  # customers with a positive profit: the curve's highest point
    peak_profit: float
    loss_customers: int
    loss: float  # summed profit of the loss-making customers (negative or 0)
    top_fifth_customers: int
    top_fifth_profit: float

    @property
    def peak_customer_share(self) -> float:
        return self.peak_customers / self.customers if self.customers else math.nan

    @property
    def peak_profit_share(self) -> float:
        return self.peak_profit / self.total_profit if self.total_profit > 0 else math.nan

    @property
    def top_fifth_profit_share(self) -> float:
        return self.top_fifth_profit / self.total_profit if self.total_profit > 0 else math.nan


@dataclass(frozen=True)
class ProfitTiers:
    """Tiers by profit per customer and the service each one's value warrants.

    ``table``: one row per tier: ``tier``, ``profit_from``/``profit_to`` (the thresholds per customer;
    None where open), ``customers``, ``customer_share``, ``revenue``, ``cost_of_goods``,
    ``gross_margin``, ``cost_to_serve``, ``profit``, ``profit_share``, ``profit_per_customer`` with its
    t interval ``profit_low``/``profit_high``, ``clv`` (sum; NaN without CLV), ``value`` (the basis
    of the warranted service), ``cost_to_serve_per_customer``, ``warranted_cost_to_serve``,
    ``warranted_per_customer``, ``service_ratio`` (actual / warranted) and ``verdict``.
    """

    table: pd.DataFrame
    band: float
    value_basis: str  # "CLV" or "gross margin"
    tolerance: float


@dataclass(frozen=True)
class Profitability:
    """Everything :func:`profitability` measured; its charts and JSON are in
    :mod:`custfocus.profitability.presentation`."""

    customers: ibis.Table  # per customer, see customer_profit, plus ``tier``
    as_of: date
    period_start: date | None
    currency: str
    totals: dict
    whale: WhaleCurve
    tiers: ProfitTiers
    groups: dict[str, pd.DataFrame]  # by region / segment / channel, see profitability_by
    channels: pd.DataFrame | None  # see acquisition_by_channel
    horizon_months: int  # of the share paid back
    cost_known: bool
    cost_to_serve_known: bool
    caveats: tuple[str, ...]


# --- the analysis --------------------------------------------------------------------------------


def profitability(company: Company, *, clv: ibis.Table | None = None, period_months: int | None = 12,
                  horizon_months: int = 12, progress: Callable[[str], None] | None = None) -> Profitability:
    """Profit per customer after cost to serve, the whale curve, tiers and acquisition by channel.

    ``clv``: an optional table (customer_id, clv), for example ``customer_value(company).table``; it
    sets the tiers' warranted service and the value side of value / CAC.
    """
    step = progress or (lambda message: None)
    transactions = company.table("transactions")
    service_events = company.tables.get("service_events")
    customers = company.tables.get("customers")
    as_of = company.as_of
    start = None if period_months is None else period_start(as_of, period_months)
    cost_known = "cost" in transactions.columns
    caveats = []

    step("Profitability: profit per customer")
    # Cached: the whale curve, tiers and breakdowns all read it.
    profit = customer_profit(transactions, service_events, as_of=as_of, since=start).cache()
    totals = _totals(profit, transactions, as_of, start)
    if not cost_known:
        caveats.append("The transactions have no cost column: gross margin is taken as revenue, so margins "
                       "and profits are overstated by the cost of goods.")
    elif totals["revenue_with_cost_share"] < 0.99:
        caveats.append(f"Only {totals['revenue_with_cost_share']:.0%} of revenue carries a cost of goods; "
                       "the rest counts at a gross margin equal to its revenue.")
    if service_events is None:
        caveats.append("There is no service_events table: the cost to serve is unknown, profit is gross "
                       "margin and the service levels of the tiers cannot be judged.")

    step("Profitability: whale curve and tiers")
    whale = whale_curve(profit)
    tiers = profit_tiers(profit, clv=clv)
    groups = {}
    channels = None
    if customers is None:
        caveats.append("There is no customers table: no breakdown by region, segment or acquisition channel, "
                       "and no acquisition payback.")
    else:
        step("Profitability: by customer group and acquisition channel")
        groups = {c: profitability_by(profit, customers, c) for c in GROUP_COLUMNS if c in customers.columns}
        if "acquisition_cost" in customers.columns:
            channels = acquisition_by_channel(transactions, customers, service_events, as_of=as_of, clv=clv,
                                              horizon_months=horizon_months)
            if (channels["customers"] < MIN_SAMPLE).any():
                caveats.append(f"Channels with fewer than {MIN_SAMPLE} customers are marked too small: their "
                               "payback and value / CAC are imprecise.")
        else:
            caveats.append("The customers table has no acquisition_cost: no acquisition payback or value / CAC.")
    if 0 < whale.customers < MIN_SAMPLE:
        caveats.append(f"Only {whale.customers} customer{'' if whale.customers == 1 else 's'} in the period: "
                       "the whale curve and tiers are fragile.")
    return Profitability(
        customers=profit.mutate(tier=_tier_expression(profit.profit, tiers.band)),
        as_of=as_of, period_start=start, currency=company.currency, totals=totals, whale=whale, tiers=tiers,
        groups=groups, channels=channels, horizon_months=horizon_months, cost_known=cost_known,
        cost_to_serve_known=service_events is not None, caveats=tuple(caveats),
    )


def period_start(as_of: date, months: int) -> date:
    """The first day of the ``months`` months that end on ``as_of`` (30 Sep 2026, 12 -> 1 Oct 2025)."""
    return (pd.Timestamp(as_of) - pd.DateOffset(months=months) + pd.Timedelta(days=1)).date()


def customer_profit(transactions: ibis.Table, service_events: ibis.Table | None = None, *, as_of: date,
                    since: date | None = None) -> ibis.Table:
    """One row per customer with a transaction or a service event dated ``since`` to ``as_of``.

    Columns: customer_id, orders (rows with a positive amount), revenue, cost_of_goods, gross_margin,
    service_events, cost_to_serve, profit (all 0 where nothing happened; cost to serve is 0 without a
    service_events table).
    """
    tx = _dated(transactions, as_of, since)
    # Spark reads a bare 0.0 as DECIMAL(1,1), and its sums then come back as Decimal: cast an integer.
    zero, none = ibis.literal(0, "int64").cast("float64"), ibis.literal(0, "int64")
    rows = tx.select(
        "customer_id", orders=(tx.amount > 0).ifelse(1, 0).cast("int64"), revenue=tx.amount.cast("float64"),
        cost_of_goods=tx.cost.fill_null(0.0).cast("float64") if "cost" in tx.columns else zero,
        service_events=none, cost_to_serve=zero)
    if service_events is not None:
        events = _dated(service_events, as_of, since)
        rows = rows.union(events.select("customer_id", orders=none, revenue=zero, cost_of_goods=zero,
                                        service_events=ibis.literal(1, "int64"),
                                        cost_to_serve=events.cost.cast("float64")))
    sums = rows.group_by("customer_id").agg(
        orders=rows.orders.sum(), revenue=rows.revenue.sum(), cost_of_goods=rows.cost_of_goods.sum(),
        service_events=rows.service_events.sum(), cost_to_serve=rows.cost_to_serve.sum())
    return sums.select(
        "customer_id", "orders", "revenue", "cost_of_goods", gross_margin=sums.revenue - sums.cost_of_goods,
        service_events=sums.service_events, cost_to_serve=sums.cost_to_serve,
        profit=sums.revenue - sums.cost_of_goods - sums.cost_to_serve)


def whale_curve(profit: ibis.Table, points: int = CURVE_POINTS) -> WhaleCurve:
    """The whale curve of a :func:`customer_profit` table, computed in the engine.

    The cumulative profit of the top k customers comes from profit bins aggregated in the engine
    (:class:`~custfocus.engine.ranking.RankedColumn`, no window over all customers), at about
    ``points`` evenly spaced ranks plus the peak and the top fifth.
    """
    stats = profit.agg(
        customers=profit.count(),
        total=profit.profit.sum(),
        peak_customers=(profit.profit > 0).ifelse(1, 0).sum(),
        peak_profit=(profit.profit > 0).ifelse(profit.profit, 0.0).sum(),
        loss_customers=(profit.profit < 0).ifelse(1, 0).sum(),
        loss=(profit.profit < 0).ifelse(profit.profit, 0.0).sum(),
    ).to_pandas().iloc[0]
    n = int(stats["customers"])
    if n == 0:
        empty = pd.DataFrame({"customers": [0], "customer_share": [0.0], "cumulative_profit": [0.0],
                              "profit_share": [math.nan]})
        return WhaleCurve(empty, 0, 0.0, 0, 0.0, 0, 0.0, 0, 0.0)
    total = float(stats["total"])
    top_fifth = max(1, math.ceil(TOP_SHARE * n))
    ranks = set(np.unique(np.rint(np.linspace(1, n, min(points, n))).astype(int)).tolist())
    ranks |= {top_fifth} | ({int(stats["peak_customers"])} - {0})
    picked = np.array([0, *sorted(ranks)], dtype=np.int64)
    curve = pd.DataFrame({"customers": picked,
                          "cumulative_profit": RankedColumn(profit, "profit").cumulative(picked)})
    curve.insert(1, "customer_share", curve["customers"] / n)
    curve["profit_share"] = curve["cumulative_profit"] / total if total > 0 else math.nan
    top = float(curve.loc[curve["customers"] == top_fifth, "cumulative_profit"].iloc[0])
    return WhaleCurve(curve, n, total, int(stats["peak_customers"]), float(stats["peak_profit"]),
                      int(stats["loss_customers"]), float(stats["loss"]), top_fifth, top)


def profit_tiers(profit: ibis.Table, *, clv: ibis.Table | None = None, band: float | None = None,
                 tolerance: float = SERVICE_TOLERANCE) -> ProfitTiers:
    """Profitable core, break-even middle and loss-making tail, and the service each warrants.

    ``band`` is the break-even band's half-width per customer (default: ``BREAK_EVEN_SHARE`` of the
    mean gross margin per customer, or of the mean revenue when gross margin is not positive).
    """
    if band is None:
        means = profit.agg(margin=profit.gross_margin.mean(), revenue=profit.revenue.mean()).to_pandas().iloc[0]
        typical = next((float(v) for v in (means["margin"], means["revenue"]) if pd.notna(v) and v > 0), 0.0)
        band = BREAK_EVEN_SHARE * typical
    table = profit.mutate(tier=_tier_expression(profit.profit, band))
    if clv is not None:
        table = table.left_join(clv.select("customer_id", clv_value=clv.clv), "customer_id").drop("customer_id_right")
    sums = _group_sums(table, "tier", clv="clv_value" if clv is not None else None)
    frame = pd.DataFrame({"tier": list(TIERS)}).merge(sums, on="tier", how="left")
    frame = frame.fillna({c: 0 for c in frame.columns if c not in ("tier", "clv", "profit_per_customer",
                                                                    "profit_low", "profit_high")})
    frame["customers"] = frame["customers"].astype("int64")
    frame.insert(1, "profit_from", [band, -band, None])
    frame.insert(2, "profit_to", [None, band, -band])
    frame.insert(4, "customer_share", _share(frame["customers"]))
    frame.insert(frame.columns.get_loc("profit") + 1, "profit_share", _share(frame["profit"]))
    basis = "CLV" if clv is not None else "gross margin"
    frame["value"] = frame["clv" if clv is not None else "gross_margin"].clip(lower=0)
    frame["cost_to_serve_per_customer"] = _per(frame["cost_to_serve"], frame["customers"])
    frame["warranted_cost_to_serve"] = frame["cost_to_serve"].sum() * _share(frame["value"])
    frame["warranted_per_customer"] = _per(frame["warranted_cost_to_serve"], frame["customers"])
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = frame["cost_to_serve"] / frame["warranted_cost_to_serve"]
    frame["service_ratio"] = ratio.where(frame["customers"] > 0)
    frame["verdict"] = [_verdict(r, tolerance) for r in frame["service_ratio"]]
    return ProfitTiers(frame, float(band), basis, tolerance)


def profitability_by(profit: ibis.Table, customers: ibis.Table, column: str) -> pd.DataFrame:
    """Profitability by a customers' attribute (region, segment, channel, ...), most profit per customer first.

    Columns: the attribute (missing values as "(not given)"), customers, the sums of
    :func:`customer_profit`, ``profit_per_customer`` with its t interval, ``gross_margin_rate``
    (gross margin / revenue), ``cost_to_serve_share`` (cost to serve / gross margin) and
    ``too_small`` (fewer than ``MIN_SAMPLE`` customers).
    """
    attributes = customers.select("customer_id", group=customers[column].cast("string").fill_null("(not given)"))
    joined = profit.left_join(attributes, "customer_id").drop("customer_id_right")
    joined = joined.mutate(group=joined.group.fill_null("(not given)"))
    frame = _group_sums(joined, "group", clv=None).drop(columns="clv")
    with np.errstate(divide="ignore", invalid="ignore"):
        frame["gross_margin_rate"] = frame["gross_margin"] / frame["revenue"].where(frame["revenue"] > 0)
        frame["cost_to_serve_share"] = frame["cost_to_serve"] / frame["gross_margin"].where(frame["gross_margin"] > 0)
    frame["too_small"] = frame["customers"] < MIN_SAMPLE
    frame = frame.rename(columns={"group": column})
    return frame.sort_values(["profit_per_customer", column], ascending=[False, True], ignore_index=True)


def acquisition_by_channel(transactions: ibis.Table, customers: ibis.Table,
                           service_events: ibis.Table | None = None, *, as_of: date,
                           clv: ibis.Table | None = None, horizon_months: int = 12) -> pd.DataFrame:
    """Acquisition cost payback and value / CAC by acquisition channel (see the module doc).

    One row per channel (customers without a channel under "(no channel)"; customers without an
    acquisition cost are left out): ``channel``, ``customers``, ``acquisition_cost`` (mean),
    ``contribution_to_date`` (mean since acquisition), ``future_contribution`` (mean CLV converted to
    contribution; NaN without CLV), ``payback_months`` (Kaplan-Meier median, NaN when fewer than half
    have paid back) with ``payback_low``/``payback_high``, ``paid_back_share`` within ``horizon_months``
    with ``paid_back_low``/``paid_back_high`` and ``paid_back_n`` (customers acquired at least that
    long ago), ``value_to_cac`` with ``value_to_cac_low``/``value_to_cac_high``, ``contribution_rate``
    (the company-wide rate CLV was converted at) and ``too_small``.
    """
    acquired = _acquired_customers(transactions, customers, service_events, as_of).cache()
    rate_row = acquired.agg(contribution=acquired.contribution.sum(), revenue=acquired.revenue.sum()).to_pandas()
    revenue = float(rate_row["revenue"].iloc[0] or 0.0)
    rate = float(rate_row["contribution"].iloc[0]) / revenue if revenue > 0 else 0.0
    if clv is not None:
        acquired = acquired.left_join(clv.select("customer_id", clv_value=clv.clv), "customer_id").drop(
            "customer_id_right")
        future = acquired.clv_value.fill_null(0.0) * rate
    else:
        future = ibis.literal(0.0)
    acquired = acquired.mutate(future=future).mutate(value=lambda t: t.contribution + t.future)
    horizon_days = horizon_months * DAYS_PER_MONTH
    moments = acquired.group_by("channel").agg(
        customers=acquired.count(),
        acquisition_cost=acquired.acquisition_cost.mean(),
        contribution_to_date=acquired.contribution.mean(),
        future_contribution=acquired.future.mean(),
        value=acquired.value.mean(),
        value_var=acquired.value.var(),
        cost_var=acquired.acquisition_cost.var(),
        covariance=acquired.value.cov(acquired.acquisition_cost),
        paid_back_n=(acquired.age_days >= horizon_days).ifelse(1, 0).sum(),
        paid_back=((acquired.age_days >= horizon_days) & (acquired.payback_days <= horizon_days)).ifelse(1, 0).sum(),
    ).to_pandas()
    months = _payback_months(acquired).to_pandas()
    rows = []
    for row in moments.sort_values("channel").itertuples(index=False):
        median = _kaplan_meier_median(months[months["channel"] == row.channel])
        share = wilson_interval(row.paid_back, row.paid_back_n)
        ratio = _ratio_of_means(row.value, row.acquisition_cost, row.value_var, row.cost_var, row.covariance,
                                int(row.customers))
        rows.append({
            "channel": row.channel, "customers": int(row.customers), "acquisition_cost": row.acquisition_cost,
            "contribution_to_date": row.contribution_to_date,
            "future_contribution": row.future_contribution if clv is not None else math.nan,
            "payback_months": median.estimate, "payback_low": median.low, "payback_high": median.high,
            "paid_back_share": share.estimate, "paid_back_low": share.low, "paid_back_high": share.high,
            "paid_back_n": share.n, "value_to_cac": ratio.estimate, "value_to_cac_low": ratio.low,
            "value_to_cac_high": ratio.high, "contribution_rate": rate,
            "too_small": int(row.customers) < MIN_SAMPLE,
        })
    return pd.DataFrame(rows, columns=["channel", "customers", "acquisition_cost", "contribution_to_date",
                                       "future_contribution", "payback_months", "payback_low", "payback_high",
                                       "paid_back_share", "paid_back_low", "paid_back_high", "paid_back_n",
                                       "value_to_cac", "value_to_cac_low", "value_to_cac_high",
                                       "contribution_rate", "too_small"])


# --- table work (Ibis) ---------------------------------------------------------------------------


def _dated(table: ibis.Table, as_of: date, since: date | None) -> ibis.Table:
    kept = table.filter(table.date <= as_of)
    return kept if since is None else kept.filter(kept.date >= since)


def _tier_expression(profit: ibis.Value, band: float) -> ibis.Value:
    return ibis.cases((profit > band, CORE), (profit < -band, TAIL), else_=MIDDLE)


def _group_sums(table: ibis.Table, key: str, clv: str | None) -> pd.DataFrame:
    """Per group: customers, the sums of the profit columns, mean profit with its t interval, CLV sum."""
    frame = table.group_by(key).agg(
        customers=table.count(),
        revenue=table.revenue.sum(),
        cost_of_goods=table.cost_of_goods.sum(),
        gross_margin=table.gross_margin.sum(),
        cost_to_serve=table.cost_to_serve.sum(),
        profit=table.profit.sum(),
        profit_per_customer=table.profit.mean(),
        profit_sd=table.profit.std(),
        **({"clv": table[clv].sum()} if clv else {}),
    ).to_pandas()
    if not clv:
        frame["clv"] = math.nan
    # Student t interval of a mean: the statistic pulse uses for CES.
    _, frame["profit_low"], frame["profit_high"] = t_intervals(
        frame["profit_per_customer"], frame["profit_sd"], frame["customers"])
    return frame.drop(columns="profit_sd")


def _totals(profit: ibis.Table, transactions: ibis.Table, as_of: date, since: date | None) -> dict:
    sums = profit.agg(
        customers=profit.count(), revenue=profit.revenue.sum(), cost_of_goods=profit.cost_of_goods.sum(),
        gross_margin=profit.gross_margin.sum(), cost_to_serve=profit.cost_to_serve.sum(),
        profit=profit.profit.sum(),
    ).to_pandas().iloc[0]
    # SUM over no rows is NULL (NaN here): no transactions in the period means zero, not unknown.
    totals = {k: 0 if pd.isna(v) else int(v) if k == "customers" else float(v) for k, v in sums.items()}
    totals["gross_margin_rate"] = _ratio(totals["gross_margin"], totals["revenue"])
    totals["cost_to_serve_share"] = _ratio(totals["cost_to_serve"], totals["gross_margin"])
    totals["profit_rate"] = _ratio(totals["profit"], totals["revenue"])
    tx = _dated(transactions, as_of, since)
    if "cost" in tx.columns:
        covered = tx.agg(all=tx.amount.abs().sum(), costed=tx.cost.notnull().ifelse(tx.amount.abs(), 0.0).sum())
        row = covered.to_pandas().iloc[0]
        share = _ratio(float(row["costed"] or 0.0), float(row["all"] or 0.0))
        totals["revenue_with_cost_share"] = 1.0 if share is None else share
    else:
        totals["revenue_with_cost_share"] = 0.0
    return totals


def _acquired_customers(transactions: ibis.Table, customers: ibis.Table, service_events: ibis.Table | None,
                        as_of: date) -> ibis.Table:
    """One row per customer with an acquisition cost: channel, acquisition_cost, age_days, revenue,
    contribution (since acquisition, to as_of) and payback_days (NaN until paid back)."""
    tx = transactions.filter(transactions.date <= as_of)
    cost = tx.cost.fill_null(0.0) if "cost" in tx.columns else ibis.literal(0.0)
    flows = tx.select("customer_id", "date", revenue=tx.amount, net=tx.amount - cost)
    if service_events is not None:
        events = service_events.filter(service_events.date <= as_of)
        flows = flows.union(events.select("customer_id", "date", revenue=ibis.literal(0.0), net=-events.cost))
    firsts = tx.filter(tx.amount > 0).group_by("customer_id").agg(first_purchase=tx.date.min())
    people = customers.filter(customers.acquisition_cost.notnull()).left_join(firsts, "customer_id")
    acquired_at = people.first_purchase
    if "acquired_at" in customers.columns:
        acquired_at = people.acquired_at.coalesce(people.first_purchase)
    channel = people.channel.fill_null(NO_CHANNEL) if "channel" in customers.columns else ibis.literal(NO_CHANNEL)
    people = people.select("customer_id", channel=channel, acquisition_cost=people.acquisition_cost,
                           acquired_day=acquired_at.epoch_days())
    as_of_day = (as_of - date(1970, 1, 1)).days
    # Kept apart: joined to the flows inline, their hash table and the running sum's rows ran DuckDB
    # out of memory at 100M transactions.
    people = people.filter(people.acquired_day.notnull() & (people.acquired_day <= as_of_day)).cache()
    history = flows.join(people.select("customer_id", "acquisition_cost", "acquired_day"), "customer_id")
    history = history.mutate(day=history.date.epoch_days())
    history = history.filter(history.day >= history.acquired_day)
    # A range frame sums each day's flows whole (a day's later service cost counts on that day): the
    # contribution at the end of each day, without first aggregating the flows by day.
    cumulative = history.net.sum().over(ibis.window(group_by=history.customer_id, order_by=history.day,
                                                    range=(None, 0)))
    history = history.mutate(cumulative=cumulative)
    reached = (history.cumulative >= history.acquisition_cost).ifelse(history.day, ibis.null("int64"))
    per_customer = history.group_by("customer_id").agg(
        revenue=history.revenue.sum(), contribution=history.net.sum(), paid_back_day=reached.min())
    joined = people.left_join(per_customer, "customer_id").drop("customer_id_right")
    # Customers whose acquisition cost nothing paid it back on the day they came.
    paid_back_day = (joined.acquisition_cost <= 0).ifelse(joined.acquired_day, joined.paid_back_day)
    return joined.select(
        "customer_id", "channel", "acquisition_cost",
        age_days=(as_of_day - joined.acquired_day).cast("int64"),
        revenue=joined.revenue.fill_null(0.0),
        contribution=joined.contribution.fill_null(0.0),
        payback_days=(paid_back_day - joined.acquired_day).cast("int64"),
    )


def _payback_months(acquired: ibis.Table) -> ibis.Table:
    """Counts for Kaplan-Meier per channel: paid back in month k (k = ceil(days / month), 0 on the day
    of acquisition) or censored after k full months of history."""
    paid = acquired.payback_days.notnull()
    month = paid.ifelse((acquired.payback_days / DAYS_PER_MONTH).ceil(),
                        (acquired.age_days / DAYS_PER_MONTH).floor()).cast("int64")
    marked = acquired.select("channel", month=month, paid=paid.ifelse(1, 0))
    return marked.group_by(["channel", "month"]).agg(
        paid_back=marked.paid.sum(), censored=(1 - marked.paid).sum())


# --- statistics (Python, on compact results) ------------------------------------------------------


def _kaplan_meier_median(months: pd.DataFrame) -> Estimate:
    """Median months to payback with a 95% interval from the log-log Greenwood band of S(t).

    ``months``: rows (month, paid_back, censored). Censored customers are at risk through their month.
    """
    n = int(months["paid_back"].sum() + months["censored"].sum())
    if n == 0:
        return Estimate(math.nan, math.nan, math.nan, 0)
    by_month = months.groupby("month")[["paid_back", "censored"]].sum().sort_index()
    at_risk = n - (by_month["paid_back"] + by_month["censored"]).cumsum().shift(fill_value=0)
    events = by_month["paid_back"]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        survival = np.cumprod(1 - events / at_risk)
        greenwood = np.cumsum(events / (at_risk * (at_risk - events)))
        spread = Z95 * np.sqrt(greenwood) / np.abs(np.log(survival))
        low_band = np.where(survival > 0, survival ** np.exp(spread), 0.0)
        high_band = np.where(survival > 0, survival ** np.exp(-spread), 0.0)

    def first_month_at_or_below_half(values) -> float:
        # A product of fractions that is exactly one half can come out a hair above it.
        below = np.flatnonzero(np.nan_to_num(np.asarray(values, dtype=float), nan=1.0) <= 0.5 + 1e-12)
        return float(by_month.index[below[0]]) if len(below) else math.nan

    return Estimate(first_month_at_or_below_half(survival), first_month_at_or_below_half(low_band),
                    first_month_at_or_below_half(high_band), n)


def _ratio_of_means(value: float, cost: float, value_var: float, cost_var: float, covariance: float,
                    n: int) -> Estimate:
    """mean(value) / mean(cost) with a delta-method t interval."""
    if n < 1 or not cost > 0:
        return Estimate(math.nan, math.nan, math.nan, n)
    ratio = value / cost
    if n < 2:
        return Estimate(ratio, math.nan, math.nan, n)
    variance = (value_var - 2 * ratio * covariance + ratio**2 * cost_var) / (n * cost**2)
    spread = float(sps.t.ppf(0.975, n - 1)) * math.sqrt(max(variance, 0.0))
    return Estimate(ratio, ratio - spread, ratio + spread, n)


def _verdict(ratio: float, tolerance: float) -> str | None:
    if ratio is None or (isinstance(ratio, float) and math.isnan(ratio)):
        return None
    if ratio > 1 + tolerance:
        return ABOVE
    if ratio < 1 / (1 + tolerance):
        return BELOW
    return IN_LINE


def _share(values: pd.Series) -> pd.Series:
    total = values.sum()
    return values / total if total > 0 else values * math.nan


def _per(values: pd.Series, customers: pd.Series) -> pd.Series:
    return values / customers.where(customers > 0)


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator > 0 else None
