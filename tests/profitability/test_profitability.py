"""Profitability: a hand-worked company, a pandas oracle on random data, both engines, the demo's planted costs."""

from __future__ import annotations

import json
import math
import warnings
from datetime import date

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from custfocus import demo
from custfocus.data.company import Company
from custfocus.demo import PLANTED
from custfocus.data.loading import load_frames
from custfocus.stats import wilson_interval
from custfocus.profitability.analysis import (
    ABOVE,
    BELOW,
    CORE,
    DAYS_PER_MONTH,
    MIDDLE,
    TAIL,
    acquisition_by_channel,
    customer_profit,
    period_start,
    profit_tiers,
    profitability,
    profitability_by,
    whale_curve,
)
from custfocus.profitability.presentation import (
    profitability_charts,
    profitability_data,
    profitability_headlines,
)

HAND_AS_OF = date(2024, 6, 30)
RANDOM_AS_OF = date(2024, 12, 31)


def _frame(rows, columns, dates=("date",)) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=columns)
    for column in dates:
        frame[column] = pd.to_datetime(frame[column]).dt.date
    return frame


@pytest.fixture
def hand_frames() -> dict[str, pd.DataFrame]:
    """Five customers, as of 30 June 2024 (cost None = not given):

    A  10 Jan 100 (cost 60), 5 Mar 200 (cost 120); deliveries 12 Jan 5, 7 Mar 5
       revenue 300, cost of goods 180, gross margin 120, cost to serve 10, profit 110
    B  1 Feb 50 (cost 30), 20 Feb -50 (refund, cost 0); delivery 3 Feb 5, return 20 Feb 7
       revenue 0, cost of goods 30, gross margin -30, cost to serve 12, profit -42
    C  1 Apr 80 (no cost given); ticket 5 Apr 8, call 6 Apr 4
       revenue 80, cost of goods 0, gross margin 80, cost to serve 12, profit 68
    D  15 May 40 (cost 10): revenue 40, gross margin 30, no service, profit 30
    E  5 Jul 500 (after as_of: ignored, E is not a customer of the period)
    F  no purchase; ticket 1 Jun 20: profit -20
    Totals: 5 customers, revenue 420, cost of goods 220, gross margin 200, cost to serve 54, profit 146.
    """
    transactions = _frame([
        ("A", "2024-01-10", 100.0, 60.0), ("A", "2024-03-05", 200.0, 120.0),
        ("B", "2024-02-01", 50.0, 30.0), ("B", "2024-02-20", -50.0, 0.0),
        ("C", "2024-04-01", 80.0, None), ("D", "2024-05-15", 40.0, 10.0), ("E", "2024-07-05", 500.0, 100.0),
    ], ["customer_id", "date", "amount", "cost"])
    transactions["cost"] = transactions["cost"].astype("Float64")  # None stays missing on both engines
    service_events = _frame([
        ("A", "2024-01-12", "delivery", 5.0), ("A", "2024-03-07", "delivery", 5.0),
        ("B", "2024-02-03", "delivery", 5.0), ("B", "2024-02-20", "return", 7.0),
        ("C", "2024-04-05", "ticket", 8.0), ("C", "2024-04-06", "call", 4.0),
        ("F", "2024-06-01", "ticket", 20.0),
    ], ["customer_id", "date", "kind", "cost"])
    customers = _frame([
        ("A", "2024-01-10", "search", 100.0), ("B", "2024-02-01", "search", 10.0),
        ("C", "2024-04-01", "social", 0.0), ("D", "2024-05-15", "social", 50.0),
        ("E", "2024-07-05", "social", 10.0), ("F", "2024-06-01", "social", 5.0),
    ], ["customer_id", "acquired_at", "channel", "acquisition_cost"], dates=("acquired_at",))
    customers["region"] = ["North", "North", "East", "East", "East", None]
    return {"transactions": transactions, "service_events": service_events, "customers": customers}


def _company(engine, frames: dict[str, pd.DataFrame], as_of: date, prefix: str) -> Company:
    tables = {name: engine.from_frame(f"{prefix}_{name}", frame) for name, frame in frames.items()}
    return Company(tables=tables, as_of=as_of, currency="EUR")


@pytest.fixture
def hand(any_engine, hand_frames) -> Company:
    return _company(any_engine, hand_frames, HAND_AS_OF, "hand")


# --- hand-worked -------------------------------------------------------------------------------


def test_profit_per_customer_by_hand(hand):
    tables = hand.tables
    profit = customer_profit(tables["transactions"], tables["service_events"], as_of=HAND_AS_OF).to_pandas()
    profit = profit.set_index("customer_id").sort_index()
    assert list(profit.index) == ["A", "B", "C", "D", "F"]
    assert profit["revenue"].tolist() == [300, 0, 80, 40, 0]
    assert profit["cost_of_goods"].tolist() == [180, 30, 0, 10, 0]
    assert profit["gross_margin"].tolist() == [120, -30, 80, 30, 0]
    assert profit["cost_to_serve"].tolist() == [10, 12, 12, 0, 20]
    assert profit["profit"].tolist() == [110, -42, 68, 30, -20]
    assert profit["orders"].tolist() == [2, 1, 1, 1, 0]
    assert profit["service_events"].tolist() == [2, 2, 2, 0, 1]


def test_profit_in_a_period_by_hand(hand):
    # Four months to 30 June: 1 March to 30 June. B did nothing then; A keeps 5 Mar 200 - 120 - 5 = 75.
    since = period_start(HAND_AS_OF, 4)
    assert since == date(2024, 3, 1)
    tables = hand.tables
    profit = customer_profit(tables["transactions"], tables["service_events"], as_of=HAND_AS_OF, since=since)
    assert profit.to_pandas().set_index("customer_id")["profit"].sort_index().to_dict() == {
        "A": 75, "C": 68, "D": 30, "F": -20}


def test_whale_curve_by_hand(hand):
    tables = hand.tables
    whale = whale_curve(customer_profit(tables["transactions"], tables["service_events"], as_of=HAND_AS_OF))
    # Ranked: A 110, C 68, D 30, F -20, B -42; cumulative 110, 178, 208, 188, 146.
    assert whale.curve["customers"].tolist() == [0, 1, 2, 3, 4, 5]
    assert whale.curve["cumulative_profit"].tolist() == [0, 110, 178, 208, 188, 146]
    assert whale.curve["profit_share"].iloc[-1] == pytest.approx(1.0)
    assert (whale.customers, whale.total_profit) == (5, 146)
    assert (whale.peak_customers, whale.peak_profit) == (3, 208)
    assert whale.peak_customer_share == pytest.approx(0.6)
    assert whale.peak_profit_share == pytest.approx(208 / 146)  # 142%
    assert (whale.loss_customers, whale.loss) == (2, -62)
    # The top fifth: ceil(0.2 x 5) = 1 customer, A, with 110 of 146.
    assert (whale.top_fifth_customers, whale.top_fifth_profit) == (1, 110)


def test_tiers_by_hand(hand):
    tables = hand.tables
    profit = customer_profit(tables["transactions"], tables["service_events"], as_of=HAND_AS_OF)
    # Default band: 10% of the mean gross margin per customer, 200 / 5 = 40, so +-4.
    assert profit_tiers(profit).band == pytest.approx(4.0)
    # Band 35: core A (110), C (68); middle D (30), F (-20); tail B (-42).
    tiers = profit_tiers(profit, band=35).table.set_index("tier")
    assert tiers["customers"].tolist() == [2, 2, 1]
    assert tiers["revenue"].tolist() == [380, 40, 0]
    assert tiers["gross_margin"].tolist() == [200, 30, -30]
    assert tiers["cost_to_serve"].tolist() == [22, 20, 12]
    assert tiers["profit"].tolist() == [178, 10, -42]
    assert tiers.loc[CORE, "profit_from"] == 35 and tiers.loc[TAIL, "profit_to"] == -35
    assert tiers.loc[CORE, "profit_per_customer"] == pytest.approx(89)
    # Profit per customer in the core: 110 and 68, mean 89, sd 29.70, t(1) interval.
    half = sps.t.ppf(0.975, 1) * np.std([110, 68], ddof=1) / math.sqrt(2)
    assert tiers.loc[CORE, "profit_low"] == pytest.approx(89 - half)
    # Warranted by gross margin: the 54 of cost to serve shared as 200 : 30 : 0 (the tail's -30 counts 0).
    assert tiers["warranted_cost_to_serve"].tolist() == pytest.approx([54 * 200 / 230, 54 * 30 / 230, 0])
    assert tiers.loc[CORE, "service_ratio"] == pytest.approx(22 / (54 * 200 / 230))  # 0.47
    assert tiers["verdict"].tolist() == [BELOW, ABOVE, ABOVE]


def test_tiers_warranted_by_clv(hand, any_engine):
    tables = hand.tables
    profit = customer_profit(tables["transactions"], tables["service_events"], as_of=HAND_AS_OF)
    clv = any_engine.from_frame("hand_clv", pd.DataFrame({"customer_id": list("ABCDF"),
                                                          "clv": [500.0, 100.0, 0.0, 50.0, 0.0]}))
    tiers = profit_tiers(profit, clv=clv, band=35)
    table = tiers.table.set_index("tier")
    assert tiers.value_basis == "CLV"
    assert table["clv"].tolist() == [500, 50, 100]
    # 54 shared as 500 : 50 : 100.
    assert table["warranted_cost_to_serve"].tolist() == pytest.approx([54 * 500 / 650, 54 * 50 / 650, 54 * 100 / 650])
    assert table["service_ratio"].tolist() == pytest.approx([22 / 41.538461, 20 / 4.153846, 12 / 8.307692])
    assert table["verdict"].tolist() == [BELOW, ABOVE, ABOVE]


def test_acquisition_by_channel_by_hand(hand):
    """Contribution since acquisition (gross margin - cost to serve), day by day:

    A (cost 100): 10 Jan +40, 12 Jan -5 (35), 5 Mar +80 (115: paid back, 55 days = month 2), 7 Mar -5: 110
    B (cost 10): 1 Feb +20 (paid back on day 0), 3 Feb -5, 20 Feb -50 - 7: -42
    C (cost 0): paid back on acquisition; 80 - 8 - 4 = 68
    D (cost 50): 15 May +30; not paid back, 46 days old: censored after 1 full month
    E: acquired after as_of: not in it
    F (cost 5): 1 Jun -20; not paid back, 29 days old: censored at month 0
    """
    t = hand.tables
    channels = acquisition_by_channel(t["transactions"], t["customers"], t["service_events"], as_of=HAND_AS_OF,
                                      horizon_months=1).set_index("channel")
    assert channels["customers"].to_dict() == {"search": 2, "social": 3}
    assert channels.loc["search", "acquisition_cost"] == pytest.approx(55)
    assert channels.loc["search", "contribution_to_date"] == pytest.approx((110 - 42) / 2)
    assert channels.loc["social", "contribution_to_date"] == pytest.approx((68 + 30 - 20) / 3)
    # Kaplan-Meier. Search: month 0 B pays back of 2 at risk: S = 0.5, so the median is month 0.
    assert channels.loc["search", "payback_months"] == 0
    # Social: month 0, C pays back of 3 at risk (F censored): S = 2/3, then nobody: no median.
    assert math.isnan(channels.loc["social", "payback_months"])
    # Within one month (30.44 days), of customers at least that old: search A (55 days: no), B (0: yes);
    # social C (yes), D (no); F is only 29 days old.
    assert channels.loc["search", "paid_back_share"] == 0.5 and channels.loc["search", "paid_back_n"] == 2
    assert channels.loc["social", "paid_back_share"] == 0.5 and channels.loc["social", "paid_back_n"] == 2
    assert channels.loc["search", "paid_back_low"] == pytest.approx(wilson_interval(1, 2).low)
    # Value / CAC without CLV: mean contribution over mean acquisition cost.
    assert channels.loc["search", "value_to_cac"] == pytest.approx(34 / 55)
    assert channels.loc["social", "value_to_cac"] == pytest.approx(78 / 55)
    # Contribution rate: 146 contribution over 420 revenue of the acquired customers.
    assert channels.loc["search", "contribution_rate"] == pytest.approx(146 / 420)


def test_value_to_cac_with_clv_by_hand(hand, any_engine):
    t = hand.tables
    clv = any_engine.from_frame("hand_clv2", pd.DataFrame({"customer_id": list("ABCD"),
                                                           "clv": [500.0, 100.0, 0.0, 50.0]}))
    channels = acquisition_by_channel(t["transactions"], t["customers"], t["service_events"], as_of=HAND_AS_OF,
                                      clv=clv).set_index("channel")
    rate = 146 / 420
    assert channels.loc["search", "future_contribution"] == pytest.approx(600 * rate / 2)
    assert channels.loc["search", "value_to_cac"] == pytest.approx((68 + 600 * rate) / 110)
    assert channels.loc["social", "value_to_cac"] == pytest.approx((78 + 50 * rate) / 55)  # F has no CLV: 0


def test_breakdown_by_region_by_hand(hand):
    t = hand.tables
    profit = customer_profit(t["transactions"], t["service_events"], as_of=HAND_AS_OF)
    regions = profitability_by(profit, t["customers"], "region").set_index("region")
    # East: C and D (E bought after as_of); North: A and B; F has no region.
    assert regions["customers"].to_dict() == {"East": 2, "North": 2, "(not given)": 1}
    assert regions.loc["East", "profit"] == 98 and regions.loc["North", "profit"] == 68
    assert regions.loc["East", "gross_margin_rate"] == pytest.approx(110 / 120)
    assert regions.loc["North", "cost_to_serve_share"] == pytest.approx(22 / 90)
    assert list(regions.index) == ["East", "North", "(not given)"]  # most profit per customer first
    assert regions["too_small"].all()


# --- the whole analysis, missing tables, charts and JSON -----------------------------------------


def test_profitability_report_parts(hand):
    result = profitability(hand, period_months=None)
    assert result.totals["customers"] == 5 and result.totals["profit"] == 146
    assert result.totals["gross_margin_rate"] == pytest.approx(200 / 420)
    # Revenue with a cost: all rows but C's 80, of 50 + 50 + 80 + 200 + 100 + 40 = 520 in absolute amounts.
    assert result.totals["revenue_with_cost_share"] == pytest.approx(440 / 520)
    assert any("carries a cost of goods" in c for c in result.caveats)
    assert set(result.groups) == {"region", "channel"}
    charts = profitability_charts(result)
    assert [c.key for c in charts] == ["whale_curve", "tiers", "acquisition_by_channel"]
    assert charts[0].finding.startswith("The top 20% of customers make 75% of the profit; profit peaks at 142%")
    assert "the other 2 customers (40%) lose 62 EUR" in charts[0].finding
    data = profitability_data(result)
    json.dumps(data, allow_nan=False)
    assert {c.key for c in charts} <= set(data)
    assert data["whale_curve"]["peak"] == {"customers": 3, "customer_share": 0.6, "profit": 208.0,
                                           "profit_share": pytest.approx(208 / 146)}
    labels = [h.label for h in profitability_headlines(result)]
    assert labels == ["Profit after cost to serve", "Whale curve peak"]


def test_without_cost_service_events_or_customers(duckdb_engine, hand_frames):
    frames = {"transactions": hand_frames["transactions"].drop(columns="cost")}
    result = profitability(_company(duckdb_engine, frames, HAND_AS_OF, "bare"), period_months=None)
    assert result.totals["gross_margin"] == result.totals["revenue"] == 420
    assert result.totals["cost_to_serve"] == 0 and not result.cost_to_serve_known
    assert result.channels is None and result.groups == {}
    caveats = " ".join(result.caveats)
    assert "no cost column" in caveats and "no service_events table" in caveats and "no customers table" in caveats
    data = profitability_data(result)
    assert all(row["cost_to_serve"] is None and row["verdict"] is None for row in data["tiers"]["rows"])
    charts = profitability_charts(result)
    assert [c.key for c in charts] == ["whale_curve", "tiers"]
    assert "cannot be judged" in charts[1].finding


# --- pandas oracle on random data -----------------------------------------------------------------


@pytest.fixture(scope="module")
def random_frames() -> dict[str, pd.DataFrame]:
    """300 customers over 2023-2024, some purchases without cost, refunds, service events, and
    customers without an acquisition cost or a channel."""
    rng = np.random.default_rng(3)
    n = 300
    acquired = pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 700, n), unit="D")
    customers = pd.DataFrame({
        "customer_id": [f"c{i:03d}" for i in range(n)],
        "acquired_at": acquired.date,
        "channel": rng.choice(["search", "social", "store", None], n, p=[0.4, 0.3, 0.25, 0.05]),
        "acquisition_cost": np.where(rng.random(n) < 0.05, np.nan, np.round(rng.gamma(2, 15, n), 2)),
        "region": rng.choice(["North", "East"], n),
    })
    rows, events = [], []
    for i, start in enumerate(acquired):
        day = start
        while day <= pd.Timestamp("2025-01-15"):
            amount = round(float(rng.gamma(2, 40)), 2)
            cost = None if rng.random() < 0.1 else round(amount * rng.uniform(0.3, 0.9), 2)
            rows.append((f"c{i:03d}", day.date(), amount, cost))
            if rng.random() < 0.1:
                rows.append((f"c{i:03d}", (day + pd.Timedelta(days=5)).date(), -amount, 0.0))
            for _ in range(rng.poisson(0.8)):
                events.append((f"c{i:03d}", (day + pd.Timedelta(days=int(rng.integers(0, 10)))).date(),
                               "ticket", round(float(rng.gamma(2, 6)), 2)))
            day += pd.Timedelta(days=int(rng.geometric(1 / 60)))
    transactions = pd.DataFrame(rows, columns=["customer_id", "date", "amount", "cost"])
    transactions["cost"] = transactions["cost"].astype("Float64")
    return {"transactions": transactions, "customers": customers,
            "service_events": pd.DataFrame(events, columns=["customer_id", "date", "kind", "cost"])}


class Oracle:
    """The definitions of the module doc in plain pandas."""

    def __init__(self, frames: dict[str, pd.DataFrame], as_of: date, since: date | None):
        tx, events = frames["transactions"], frames["service_events"]
        tx = tx[tx["date"] <= as_of]
        events = events[events["date"] <= as_of]
        self.all_tx, self.all_events, self.customers, self.as_of = tx, events, frames["customers"], as_of
        if since is not None:
            tx, events = tx[tx["date"] >= since], events[events["date"] >= since]
        sales = pd.DataFrame({"revenue": tx.groupby("customer_id")["amount"].sum(),
                              "cost_of_goods": tx["cost"].fillna(0).groupby(tx["customer_id"]).sum()})
        profit = sales.join(events.groupby("customer_id")["cost"].sum().rename("cost_to_serve"), how="outer")
        profit = profit.fillna(0.0).astype(float)
        profit["gross_margin"] = profit["revenue"] - profit["cost_of_goods"]
        profit["profit"] = profit["gross_margin"] - profit["cost_to_serve"]
        self.profit = profit.sort_index()

    def cumulative(self) -> pd.Series:
        ranked = self.profit.reset_index().sort_values(["profit", "customer_id"], ascending=[False, True])
        return pd.Series(ranked["profit"].cumsum().to_numpy(), index=np.arange(1, len(ranked) + 1))

    def acquired(self) -> pd.DataFrame:
        """Per customer with an acquisition cost: channel, contribution, payback days, age in days."""
        rows = []
        flows = pd.concat([
            pd.DataFrame({"customer_id": self.all_tx["customer_id"], "date": self.all_tx["date"],
                          "net": self.all_tx["amount"] - self.all_tx["cost"].fillna(0).astype(float),
                          "revenue": self.all_tx["amount"]}),
            pd.DataFrame({"customer_id": self.all_events["customer_id"], "date": self.all_events["date"],
                          "net": -self.all_events["cost"], "revenue": 0.0})])
        for c in self.customers.dropna(subset=["acquisition_cost"]).itertuples():
            if c.acquired_at > self.as_of:
                continue
            mine = flows[(flows["customer_id"] == c.customer_id) & (flows["date"] >= c.acquired_at)]
            daily = mine.groupby("date")[["net", "revenue"]].sum().sort_index()
            reached = daily.index[daily["net"].cumsum() >= c.acquisition_cost]
            paid = 0 if c.acquisition_cost <= 0 else ((reached[0] - c.acquired_at).days if len(reached) else None)
            rows.append({"channel": c.channel if isinstance(c.channel, str) else "(no channel)",
                         "cost": c.acquisition_cost, "contribution": daily["net"].sum(),
                         "revenue": daily["revenue"].sum(), "paid": paid,
                         "age": (self.as_of - c.acquired_at).days})
        return pd.DataFrame(rows)


@pytest.mark.parametrize("months", [None, 12])
def test_profit_whale_and_tiers_against_pandas(any_engine, random_frames, months):
    company = _company(any_engine, random_frames, RANDOM_AS_OF, f"oracle{months}")
    since = None if months is None else period_start(RANDOM_AS_OF, months)
    oracle = Oracle(random_frames, RANDOM_AS_OF, since)
    result = profitability(company, period_months=months)
    mine = result.customers.to_pandas().set_index("customer_id").sort_index()
    expected = oracle.profit
    assert list(mine.index) == list(expected.index)
    for column in ("revenue", "cost_of_goods", "gross_margin", "cost_to_serve", "profit"):
        np.testing.assert_allclose(mine[column], expected[column], atol=1e-6, err_msg=column)

    cumulative = oracle.cumulative()
    whale = result.whale
    picked = whale.curve[whale.curve["customers"] > 0]
    np.testing.assert_allclose(picked["cumulative_profit"], cumulative.loc[picked["customers"]], atol=1e-6)
    assert whale.peak_customers == int(cumulative.idxmax()) == int((expected["profit"] > 0).sum())
    assert whale.peak_profit == pytest.approx(cumulative.max())
    assert len(picked) >= min(200, len(expected)) - 1

    band = 0.1 * expected["gross_margin"].mean()
    assert result.tiers.band == pytest.approx(band)
    tier = np.select([expected["profit"] > band, expected["profit"] < -band], [CORE, TAIL], MIDDLE)
    sums = expected.groupby(tier)[["revenue", "gross_margin", "cost_to_serve", "profit"]].sum()
    table = result.tiers.table.set_index("tier")
    for name in sums.index:
        np.testing.assert_allclose(table.loc[name, sums.columns].astype(float), sums.loc[name], atol=1e-6)
    np.testing.assert_allclose(table["warranted_cost_to_serve"].sum(), expected["cost_to_serve"].sum())


def test_acquisition_against_pandas(any_engine, random_frames):
    company = _company(any_engine, random_frames, RANDOM_AS_OF, "oracle_acq")
    t = company.tables
    channels = acquisition_by_channel(t["transactions"], t["customers"], t["service_events"], as_of=RANDOM_AS_OF,
                                      horizon_months=6).set_index("channel")
    acquired = Oracle(random_frames, RANDOM_AS_OF, None).acquired()
    rate = acquired["contribution"].sum() / acquired["revenue"].sum()
    horizon = 6 * DAYS_PER_MONTH
    for channel, group in acquired.groupby("channel"):
        row = channels.loc[channel]
        assert row["customers"] == len(group)
        assert row["contribution_to_date"] == pytest.approx(group["contribution"].mean())
        assert row["contribution_rate"] == pytest.approx(rate)
        old = group[group["age"] >= horizon]
        assert row["paid_back_n"] == len(old)
        assert row["paid_back_share"] == pytest.approx((old["paid"] <= horizon).mean())
        # Value / CAC: ratio of means with its delta-method interval, from the customers directly.
        v, c = group["contribution"].to_numpy(), group["cost"].to_numpy()
        ratio = v.mean() / c.mean()
        se = np.std(v - ratio * c, ddof=1) / (math.sqrt(len(v)) * c.mean())
        assert row["value_to_cac"] == pytest.approx(ratio)
        assert row["value_to_cac_high"] - ratio == pytest.approx(sps.t.ppf(0.975, len(v) - 1) * se)
        # Payback median: scipy's Kaplan-Meier on months (paid back in month ceil(days / month);
        # not yet paid back: censored after floor(age / month) full months).
        paid = group["paid"].notna()
        months = np.where(paid, np.ceil(group["paid"].fillna(0) / DAYS_PER_MONTH),
                          np.floor(group["age"] / DAYS_PER_MONTH))
        km = sps.ecdf(sps.CensoredData(uncensored=months[paid], right=months[~paid])).sf
        below = km.quantiles[km.probabilities <= 0.5]
        expected_median = below[0] if len(below) else math.nan
        assert row["payback_months"] == pytest.approx(expected_median, nan_ok=True)
        with warnings.catch_warnings():  # scipy warns where the band is undefined (S = 1)
            warnings.simplefilter("ignore", RuntimeWarning)
            band = km.confidence_interval(method="log-log")
        for bound, column in ((band.low, "payback_low"), (band.high, "payback_high")):
            crossed = bound.quantiles[np.nan_to_num(bound.probabilities, nan=1.0) <= 0.5 + 1e-12]
            assert row[column] == pytest.approx(crossed[0] if len(crossed) else math.nan, nan_ok=True), column


@pytest.mark.spark
@pytest.mark.parametrize("left_out", [(), ("service_events",)])
def test_same_figures_on_duckdb_and_spark(spark_engine, duckdb_engine, random_frames, left_out):
    # Without service_events the cost to serve is a constant, which Spark once summed as a Decimal.
    frames = {name: frame for name, frame in random_frames.items() if name not in left_out}
    on_duckdb, on_spark = (profitability(_company(engine, frames, RANDOM_AS_OF, f"same{len(left_out)}_{engine.name}"))
                           for engine in (duckdb_engine, spark_engine))
    same = {"check_exact": False, "rtol": 1e-9, "atol": 1e-9}
    pd.testing.assert_series_equal(pd.Series(on_spark.totals), pd.Series(on_duckdb.totals), **same)
    for part in ("customers", "whale", "tiers", "channels", *(f"groups.{k}" for k in on_duckdb.groups)):
        duck, spark = _frame_of(on_duckdb, part), _frame_of(on_spark, part)
        pd.testing.assert_frame_equal(spark, duck, check_dtype=False, obj=part, **same)


def _frame_of(result, part: str) -> pd.DataFrame:
    if part == "customers":
        return result.customers.to_pandas().sort_values("customer_id", ignore_index=True)
    if part.startswith("groups."):
        return result.groups[part.removeprefix("groups.")]
    return {"whale": result.whale.curve, "tiers": result.tiers.table, "channels": result.channels}[part]


# --- the demo company's planted costs --------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_result():
    company = load_frames(demo.generate(customers=20_000, seed=7), as_of=PLANTED.default_as_of)
    return profitability(company, period_months=None)


def test_demo_gross_margin_follows_the_planted_cost_shares(demo_result):
    # Cost of goods = amount x the product's cost share (mean 0.605); 3% of orders are refunded in full
    # with their goods written off, so per unit of sales revenue falls by 3% and gross margin by 3%.
    spend = PLANTED.spend
    expected = (1 - spend.mean_cost_share - spend.refund_rate) / (1 - spend.refund_rate)
    assert demo_result.totals["gross_margin_rate"] == pytest.approx(expected, abs=0.01)


def test_demo_east_costs_the_most_to_serve(demo_result):
    # East's distribution centre makes a quarter of deliveries late, and late deliveries bring tickets and calls.
    regions = demo_result.groups["region"].set_index("region")
    east = regions.loc["East", "cost_to_serve_share"]
    assert east == regions["cost_to_serve_share"].max()
    assert east > 1.05 * regions.drop(index="East")["cost_to_serve_share"].max()


def test_demo_loss_makers_are_the_refunded(demo_result):
    # A refund writes the goods off and adds a return: most loss-making customers had one.
    company_tx = demo_result.customers
    losers = company_tx.filter(company_tx.profit < 0).customer_id.to_pandas()
    tables = demo.generate(customers=20_000, seed=7)
    refunded = set(tables["transactions"].to_pandas().query("amount < 0")["customer_id"])
    assert len(losers) > 100
    assert losers.isin(refunded).mean() > 0.8
    assert demo_result.whale.peak_profit_share > 1


def test_demo_cheaper_channels_return_more_per_unit_of_acquisition_cost(demo_result):
    # Value is independent of the channel; the mean acquisition cost is planted at 32 / 22 / 12 / 6.
    channels = demo_result.channels.set_index("channel")
    assert list(channels["value_to_cac"].sort_values().index) == ["search", "social", "referral", "store"]
    assert (channels["value_to_cac_high"].sort_values().index == channels["value_to_cac"].sort_values().index).all()
    assert (channels["payback_months"] == 0).all()
