"""Per-customer outcomes of an experiment and what was known about each customer at assignment.

The table work is Ibis, run on the company's engine (DuckDB or Spark); what comes back is one row
per participant of one intervention: a few hundred thousand rows for a large experiment, which the
effect statistics (bootstrap) and the uplift models need customer by customer.

Definitions (also in ``docs/interventions.md``):

- Window: ``window_days`` days from each customer's assignment date, the assignment day included
  (dates ``d`` to ``d + window_days - 1``). By default it is the longest window every participant has
  before ``as_of``: ``as_of - last assignment date + 1`` days, the same length for both groups.
  Customers whose window would end after ``as_of`` (only when a longer window is asked for) are left
  out and counted.
- Orders: transaction rows with ``amount > 0`` in the window (``order_id`` is unique in the contract).
- Revenue: the sum of ``amount`` in the window, refunds (negative amounts) included.
- Gross profit: revenue minus ``cost`` (cost of goods); rows without a cost count at full margin, and
  how much revenue that concerns is returned so the report can say so.
- Treatment cost: with a :class:`CostPerUse` rule, its amount times the treated customer's uses (orders
  in the window, on the rule's channels when it names any); otherwise the interventions table's
  ``cost`` (missing = 0); without either, 0. Control customers cost nothing under a rule.
- Net profit: gross profit minus treatment cost.
- Known at assignment (features, before the assignment date): ``recency_days`` since the last purchase,
  ``frequency`` and ``spend`` (purchases and net revenue in the 365 days before), ``tenure_days`` since
  ``acquired_at`` (else the first purchase), ``last_nps`` (the latest NPS answer; the mean when a day
  has several), ``segment``, ``region`` and ``channel`` (acquisition channel) from ``customers``, and
  ``main_channel`` (the transaction channel with the most purchases; ties to the first name).
- Pre-period, for the balance check: ``pre_orders`` and ``pre_revenue`` in the ``window_days`` days
  before assignment.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

import ibis
import pandas as pd

from custfocus.data.company import Company
from custfocus.errors import InputError

OUTCOMES = ("orders", "revenue", "gross_profit", "treatment_cost", "net_profit")
PRE_PERIOD = ("pre_orders", "pre_revenue")
NUMERIC_FEATURES = ("recency_days", "frequency", "spend", "tenure_days", "last_nps")
CUSTOMER_CATEGORIES = ("segment", "region", "channel")
CATEGORICAL_FEATURES = (*CUSTOMER_CATEGORIES, "main_channel")
HISTORY_DAYS = 365  # frequency and spend look back one year


@dataclass(frozen=True)
class CostPerUse:
    """A treatment-cost rule: ``amount`` for each order a treated customer places in the window.

    ``channels`` limits the rule to orders on those transaction channels (free delivery costs
    nothing in a store); empty means every order.
    """

    amount: float
    channels: tuple[str, ...] = ()

    @classmethod
    def parse(cls, text: str) -> CostPerUse:
        """Read ``"6.90"`` (every order) or ``"6.90:web,app"`` (orders on those channels)."""
        amount_text, _, channel_text = str(text).partition(":")
        try:
            amount = float(amount_text)
        except ValueError:
            raise InputError(f"--cost-per-use '{text}' is not a cost: use an amount such as 6.90, "
                             "optionally followed by the channels it applies to, as in 6.90:web,app.") from None
        if not math.isfinite(amount) or amount < 0:
            raise InputError(f"--cost-per-use must be a cost of 0 or more, not '{amount_text}'.")
        channels = tuple(c.strip() for c in channel_text.split(",") if c.strip())
        return cls(amount, channels)

    def describe(self, currency: str) -> str:
        where = f" on {', '.join(self.channels)}" if self.channels else ""
        return f"{self.amount:,.2f} {currency} per order{where} of a treated customer"


@dataclass(frozen=True)
class Window:
    """The outcome window of one intervention and who fits in it."""

    days: int
    chosen: bool  # True when given by the user, False for the default (up to as_of)
    first_assignment: date
    last_assignment: date
    excluded_treated: int  # participants whose window ends after as_of
    excluded_control: int


def intervention_names(company: Company) -> list[str]:
    frame = company.table("interventions").select("intervention").distinct().to_pandas()
    return sorted(frame["intervention"].dropna().astype(str))


def outcome_window(company: Company, intervention: str, window_days: int | None = None) -> Window:
    """The window of ``intervention``: ``window_days`` if given, else up to as_of for everyone."""
    assigned = _assignments(company, intervention)
    span = assigned.agg(first=assigned.assigned.min(), last=assigned.assigned.max()).to_pandas().iloc[0]
    first, last = pd.Timestamp(span["first"]).date(), pd.Timestamp(span["last"]).date()
    longest = (company.as_of - last).days + 1
    if window_days is None:
        return Window(longest, False, first, last, 0, 0)
    if window_days < 1:
        raise InputError(f"--window must be at least 1 day, not {window_days}.")
    if window_days > (company.as_of - first).days + 1:
        raise InputError(f"--window {window_days} days runs past the data for every customer of "
                         f"'{intervention}': the first were assigned on {first:%d %b %Y} and the data end on "
                         f"{company.as_of:%d %b %Y}, {(company.as_of - first).days + 1} days including both.")
    latest_start = company.as_of - timedelta(days=window_days - 1)
    late = assigned.filter(assigned.assigned > latest_start).group_by("treated").agg(n=lambda t: t.count())
    late = late.to_pandas().set_index("treated")["n"]
    return Window(window_days, True, first, last, int(late.get(True, 0)), int(late.get(False, 0)))


def participant_outcomes(company: Company, intervention: str, window: Window,
                         cost_per_use: CostPerUse | None = None) -> pd.DataFrame:
    """One row per participant of ``intervention`` whose window ends by as_of (sorted by customer_id).

    Columns: ``customer_id``, ``treated`` (bool), ``assigned`` (date), the outcomes in
    :data:`OUTCOMES`, ``revenue_without_cost`` (window revenue of purchases without a cost of goods),
    ``uses`` (orders counted by the cost rule; all orders without one), :data:`PRE_PERIOD`,
    :data:`NUMERIC_FEATURES` and the categorical features present in the data.
    """
    tables = company.tables
    as_of_day = _epoch_day(company.as_of)
    assigned = _assignments(company, intervention)
    assigned = assigned.mutate(assigned_day=assigned.assigned.epoch_days())
    assigned = assigned.filter(assigned.assigned_day + window.days - 1 <= as_of_day)

    history = _customer_history(assigned, tables["transactions"], window.days, cost_per_use)
    rows = assigned.left_join(history, assigned.customer_id == history.h_customer_id)
    channels = _main_channels(assigned, tables["transactions"])
    rows = rows.left_join(channels, rows.customer_id == channels.m_customer_id)
    if "responses" in tables and {"customer_id", "kind"} <= set(tables["responses"].columns):
        nps = _last_nps(assigned, tables["responses"])
        rows = rows.left_join(nps, rows.customer_id == nps.n_customer_id)
    known = {}
    if "customers" in tables:
        customers = tables["customers"]
        present = [c for c in (*CUSTOMER_CATEGORIES, "acquired_at") if c in customers.columns]
        customers = customers.select(c_customer_id=customers.customer_id, **{f"c_{c}": customers[c] for c in present})
        rows = rows.left_join(customers, rows.customer_id == customers.c_customer_id)
        known = {c: rows[f"c_{c}"] for c in present}

    zero = ibis.literal(0)
    gross_profit = rows.gross_profit.fill_null(0.0)
    cost = _treatment_cost(rows, cost_per_use)
    first_day = rows.first_purchase_day
    if "acquired_at" in known:
        first_day = known["acquired_at"].epoch_days().coalesce(first_day)
    frame = rows.select(
        customer_id=rows.customer_id,
        treated=rows.treated,
        assigned=rows.assigned,
        orders=rows.orders.fill_null(zero).cast("int64"),
        revenue=rows.revenue.fill_null(0.0),
        gross_profit=gross_profit,
        treatment_cost=cost,
        net_profit=gross_profit - cost,
        revenue_without_cost=rows.revenue_without_cost.fill_null(0.0),
        uses=rows.uses.fill_null(zero).cast("int64"),
        pre_orders=rows.pre_orders.fill_null(zero).cast("int64"),
        pre_revenue=rows.pre_revenue.fill_null(0.0),
        recency_days=(rows.assigned_day - rows.last_purchase_day).cast("float64"),
        frequency=rows.frequency.fill_null(zero).cast("int64"),
        spend=rows.spend.fill_null(0.0),
        tenure_days=(rows.assigned_day - first_day).cast("float64"),
        last_nps=rows.last_nps.cast("float64") if "last_nps" in rows.columns else ibis.null("float64"),
        main_channel=rows.main_channel,
        **{c: known[c].cast("string") for c in CUSTOMER_CATEGORIES if c in known},
    ).to_pandas()
    # Engines sum in different orders; rounding away the last bits gives the models and the
    # bootstrap the same numbers on DuckDB and Spark, so every figure downstream is equal too.
    sums = frame.select_dtypes("float").columns
    frame[sums] = frame[sums].round(6)
    frame["treated"] = frame["treated"].astype(bool)
    frame["assigned"] = pd.to_datetime(frame["assigned"]).dt.date
    return frame.sort_values("customer_id", kind="stable").reset_index(drop=True)


# --- table work ----------------------------------------------------------------------------------


def _assignments(company: Company, intervention: str) -> ibis.Table:
    table = company.table("interventions")
    table = table.filter(table.intervention == intervention)
    day = table.date if table.date.type().is_date() else table.date.cast("date")
    listed = table.cost.cast("float64") if "cost" in table.columns else ibis.null("float64")
    return table.select(customer_id=table.customer_id, treated=table.group == "treatment", assigned=day,
                        listed_cost=listed)


def _purchase_rows(transactions: ibis.Table) -> ibis.Table:
    day = transactions.date if transactions.date.type().is_date() else transactions.date.cast("date")
    cost = transactions.cost.cast("float64") if "cost" in transactions.columns else ibis.null("float64")
    channel = transactions.channel.cast("string") if "channel" in transactions.columns else ibis.null("string")
    return transactions.select(t_customer_id=transactions.customer_id, day=day.epoch_days(),
                               amount=transactions.amount, cost=cost, channel=channel)


def _customer_history(assigned: ibis.Table, transactions: ibis.Table, window_days: int,
                      cost_per_use: CostPerUse | None) -> ibis.Table:
    """Per participant: window outcomes, pre-period sums and purchase history before assignment."""
    tx = _purchase_rows(transactions)
    joined = assigned.join(tx, assigned.customer_id == tx.t_customer_id)
    joined = joined.filter(joined.day < joined.assigned_day + window_days)
    offset = joined.day - joined.assigned_day
    purchase = joined.amount > 0
    in_window, before = offset >= 0, offset < 0
    pre_period = before & (offset >= -window_days)
    last_year = before & (offset >= -HISTORY_DAYS)
    used = in_window & purchase
    if cost_per_use is not None and cost_per_use.channels:
        used = used & joined.channel.isin(list(cost_per_use.channels)).fill_null(False)

    def total(condition, value):
        return ibis.ifelse(condition, value, 0.0).sum()

    def count(condition):
        return ibis.ifelse(condition, 1, 0).sum()

    return joined.group_by(h_customer_id=joined.customer_id).agg(
        orders=count(in_window & purchase),
        revenue=total(in_window, joined.amount),
        gross_profit=total(in_window, joined.amount - joined.cost.fill_null(0.0)),
        revenue_without_cost=total(in_window & purchase & joined.cost.isnull(), joined.amount),
        uses=count(used),
        pre_orders=count(pre_period & purchase),
        pre_revenue=total(pre_period, joined.amount),
        frequency=count(last_year & purchase),
        spend=total(last_year, joined.amount),
        last_purchase_day=ibis.ifelse(before & purchase, joined.day, ibis.null("int64")).max(),
        first_purchase_day=ibis.ifelse(before & purchase, joined.day, ibis.null("int64")).min(),
    )


def _main_channels(assigned: ibis.Table, transactions: ibis.Table) -> ibis.Table:
    """The channel of most purchases before assignment (ties go to the first name, for equal engines)."""
    tx = _purchase_rows(transactions)
    joined = assigned.join(tx, assigned.customer_id == tx.t_customer_id)
    joined = joined.filter((joined.day < joined.assigned_day) & (joined.amount > 0) & joined.channel.notnull())
    counts = joined.group_by([joined.customer_id, joined.channel]).agg(n=lambda t: t.count())
    order = ibis.window(group_by="customer_id", order_by=[ibis.desc("n"), "channel"])
    ranked = counts.mutate(rank=ibis.row_number().over(order))
    return ranked.filter(ranked["rank"] == 0).select(m_customer_id=ranked.customer_id, main_channel=ranked.channel)


def _last_nps(assigned: ibis.Table, responses: ibis.Table) -> ibis.Table:
    nps = responses.filter((responses.kind == "nps") & responses.customer_id.notnull())
    day = nps.date if nps.date.type().is_date() else nps.date.cast("date")
    nps = nps.select(r_customer_id=nps.customer_id, day=day.epoch_days(), score=nps.score.cast("float64"))
    joined = assigned.join(nps, assigned.customer_id == nps.r_customer_id)
    joined = joined.filter(joined.day < joined.assigned_day)
    latest = joined.day.max().over(ibis.window(group_by="customer_id"))
    joined = joined.mutate(latest=latest)
    joined = joined.filter(joined.day == joined.latest)
    return joined.group_by(n_customer_id=joined.customer_id).agg(last_nps=joined.score.mean())


def _treatment_cost(rows: ibis.Table, cost_per_use: CostPerUse | None) -> ibis.Value:
    if cost_per_use is not None:
        uses = rows.uses.fill_null(0).cast("float64")
        return ibis.ifelse(rows.treated, uses * cost_per_use.amount, 0.0)
    return rows.listed_cost.fill_null(0.0)


def _epoch_day(day: date) -> int:
    return (day - date(1970, 1, 1)).days
