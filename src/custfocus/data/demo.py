"""The demo company: "Demo Retail", a simulated omni-channel retailer with planted truths.

Every table follows :mod:`custfocus.data.contract`. The truths below are what the analyses must
recover; they are also available as numbers in :data:`PLANTED` (the generator reads its parameters
from there, so docstring, constants and data cannot drift apart). Numbers called *expected* were
measured on 20 million simulated customers (default ``as_of``); the others are exact parameters.

Time: ``as_of`` (default 2026-09-30) closes a history of 1,095 days (3 years); day 0 is
``as_of - 1095 days``. Weeks are 7 days. All dates are <= as_of.

1. Acquisition and purchases (BG/NBD, in weeks)
   Customers are acquired over the 3 years: the daily intake rises linearly to 2x its first-day
   level, times a seasonal factor ``1 + 0.3 cos(2 pi (day_of_year - 330) / 365.25)`` (peak late
   November); the last year brings 1.58x the customers of the first. ``acquired_at`` is the first
   purchase date; customer ids are numbered in acquisition order. Repeat purchases follow BG/NBD
   (Fader, Hardie & Lee 2005) with ``r = 0.55, alpha = 10.0`` (purchase rate lambda_i ~ Gamma(shape
   r, rate alpha): mean 0.055 a week, 2.9 a year) and ``a = 0.8, b = 2.6`` (dropout p_i ~ Beta(a, b),
   mean 0.235): repeat purchases form a Poisson(lambda_i) process from the first purchase; after each
   repeat purchase the customer drops out for good with probability p_i. A customer aged T weeks is
   observed over [0, T) with T = (as_of - acquired_at) / 7, the convention of ``lifetimes``. The
   marginals of lambda and p are exactly Gamma(r, alpha) and Beta(a, b) and lambda is independent
   of p, so a BG/NBD fit recovers (r, alpha, a, b) (on 1M customers, purchases before the assignment
   date: r 0.547, alpha 9.9, a 0.81, b 2.65). Conventions: a purchase at time t weeks is dated
   ``acquired_at + floor(7 t)``, so two purchases of one customer can share a day (a repeat can even
   fall on the acquisition day: count rows, not distinct days, to get the BG/NBD count) and the only
   purchases dated as_of are first purchases. The BG/NBD truth holds exactly for every purchase dated
   before the experiment's assignment date (item 7) and for every purchase of customers outside its
   treatment group; treated customers get extra orders after that date. Refund rows (amount < 0)
   are not purchases.

2. Satisfaction (Gaussian copula) and late deliveries
   Each customer has a late-delivery propensity u_i ~ N(0, 1) and a latent satisfaction
   ``s_i = -0.35 u_i + sqrt(1 - 0.35^2) e_i`` (so s_i ~ N(0, 1)). Satisfaction lowers dropout and
   raises spend through a Gaussian copula realised by rank matching: an iid Beta(a, b) sample of p is
   handed out to customers in the order of the score ``-0.5 s_i + sqrt(1 - 0.5^2) e'_i`` (low score,
   low p), an iid Gamma(q, gamma) sample of nu in the order of ``-0.25 s_i + sqrt(1 - 0.25^2) e''_i``
   (satisfied: low nu, high spend). The marginals stay exact; the price is a mild violation of
   Gamma-Gamma's independence of spend and purchasing (item 3). Satisfaction drives the survey
   scores (item 5). Every web/app order is delivered; a delivery is late with probability
   ``Phi(c_region + u_i)``, whose average over customers is North 8%, South 10%, West 9% and East 25%
   (the East distribution centre). Deliveries take 12-72 hours; late ones more than 72
   (``resolution_hours > 72`` <=> late). Late-prone customers are less satisfied and drop out sooner,
   so per delivery the expected late share is a little lower: North 7.4%, South 9.3%, West 8.4%,
   East 23.8%, all 11.4%. 40% of late deliveries bring a "where is my order" ticket and 25% a call,
   four days after ordering, answered by Logistics.

3. Spend (Gamma-Gamma, Fader, Hardie & Lee 2005 "RFM and CLV")
   nu_i ~ Gamma(shape q = 6, rate gamma = 100); each order's amount ~ Gamma(shape p = 6, rate nu_i),
   rounded to cents: the mean order value over customers is p gamma / (q - 1) = 120 EUR exactly for
   first purchases (one per customer); per transaction it is a little higher, as satisfied customers
   both spend more and stay longer. Because of that link a Gamma-Gamma fit on repeat purchases gives
   about p 5.78, q 6.11, gamma 106.5 (the mean spend, 120, is still recovered). Extra orders caused by
   the experiment are half-size baskets (0.5 x). ``cost`` (cost of goods) = amount x a cost share:
   the product's (Groceries 0.72, Home 0.55, Electronics 0.78, Fashion 0.45, Beauty 0.50, Toys 0.58,
   chosen with shares 25/20/15/20/10/10%, mean 0.605) plus N(0, 0.03), clipped to [0.05, 0.95].
   3% of orders are refunded in full 2-21 days after arrival, when that is before as_of: a row with
   the negative amount, cost 0 and order_id = the order's id + "-R" (the goods' cost is lost: returns
   are written off), and a "return" service event (Warehouse) the same day. order_id ("O" + number,
   numbered in date order) is unique. An order uses the customer's home channel 80% of the time
   (store-acquired customers: web/app/store 20/10/70%, others 55/35/10%), otherwise any channel.

4. Customers
   segment family 15% / single 50% / business 35%; region North 30% / South 25% / East 20% /
   West 25%; acquisition channel search 35% / social 25% / referral 20% / store 20% with mean
   acquisition_cost 32 / 22 / 12 / 6 EUR (Gamma, shape 4). Segment, region and channel are
   independent of lambda, p and nu.

5. Surveys and comments (voice)
   6% of orders get an NPS survey after arrival (touchpoint "delivery", department Logistics, for
   web/app orders; "store", Sales, for store orders), and 15% of tickets and calls one after the
   contact (touchpoint "support ticket"/"phone call", the contact's department). The latent score is
   ``8.2 + 1.5 s_i + 0.01 x eNPS(department) + sum of theme effects + N(0, 1.2)``, rounded and clipped
   to 0-10. Themes (what happened; where and how often; effect on the latent score): late delivery
   (every late delivery and every contact it caused; -3.5), product quality (5% of all; -2.0), app
   problems (15% of app orders, 50% of IT tickets; -1.0), price (12% of all; -0.7), friendly staff
   (35% of store visits, 25% of contacts; +0.8), fast delivery (60% of deliveries under 30 hours;
   +0.6). 40% of NPS answers carry a comment, which mentions each theme that happened with
   probability 0.9 (several plain-English phrasings each) or else is a generic sentence matching the
   score. Late delivery is the theme that drives detractors. Expected, over commented NPS answers:
   NPS points lost to a theme (share mentioning it x (NPS without - NPS with)): late delivery 18.4,
   product quality 2.6, price 2.2, app problems 1.0 (friendly staff and fast delivery gain 2.0 and
   3.4); late delivery is mentioned by 47% of detractors and 0.5% of promoters. Expected NPS +9.7.
   CSAT (1-5) follows 3% of deliveries and 20% of tickets, calls and returns:
   ``3.9 + 0.6 s_i - 1.5 late + N(0, 0.8)`` (expected mean 3.49); CES (1-7, 7 = very easy, the CES 2.0
   agreement scale) follows 12% of tickets, calls and returns: ``5.2 + 0.5 s_i - 1.0 late - 0.02
   min(hours, 48) + N(0, 1.0)`` (expected mean 4.42). CSAT and CES carry no comment. Survey dates are
   0-4 days after the experience.

6. Departments (people)
   Sales, Customer Service, Logistics, Warehouse, Billing, IT, with 40/60/50/70/15/25 employees per
   20,000 customers (at least 5). Employees answer a quarterly eNPS pulse (12 waves, 75% respond):
   ``mu_department + N(0, 1) per employee + N(0, 1.2)`` rounded to 0-10, mu set so that the expected
   eNPS is exactly Sales +25, Customer Service +15, Logistics -15, Warehouse -40, Billing +10, IT 0.
   Internal customers rate the departments they depend on each wave (30% of the rating department's
   employees per pair): ``round(mu_pair + N(0, 1.5))`` in 0-10. Logistics rates Warehouse mu 3.5
   (expected mean score 3.50), Customer Service rates Warehouse 5.0; every other pair 7.0-8.0 (see
   ``PLANTED.people.internal_mu``; ``expected_internal_mean`` gives the exact expected scores).
   Warehouse's poor service to Logistics is why deliveries are late: the customers Logistics serves
   (NPS touchpoint "delivery" and the late-delivery contacts) carry the late-delivery theme, and the
   department shift 0.01 x eNPS links each department's eNPS to its customers' NPS. Expected
   customer NPS by department: Sales +42, Customer Service +37, Billing +35, IT +15, Logistics -3 (in
   the order of the departments' eNPS).

7. Experiment "free_delivery" (interventions)
   On the assignment date, as_of - 183 days (2026-03-31 by default), customers acquired before it
   with a purchase in the 365 days before it are eligible (expected 56.8% of customers); 20% of them
   are drawn and split exactly 50/50 into treatment and control; ``date`` = the assignment date.
   Treated customers pay no delivery fee: ``cost`` = 6.90 EUR x their web/app orders dated on or after
   the assignment date; control rows have cost 0. (At a 4.90 fee the loss would be too small to
   detect even at a million customers.) While alive (before dropout) and until as_of, a treated
   customer also places extra web/app orders, a Poisson stream at uplift x lambda_i with uplift
   family 0.85, single 0.04, business 0.02, in half-size baskets. Expected per treated customer over
   the 183 days, all / family / single / business (gross profit = amount - cost, refunds included):
   extra orders 0.129 / 0.712 / 0.034 / 0.017 (control customers place 0.79 orders in the window);
   incremental revenue 7.81 / 42.96 / 2.01 / 1.00 EUR; incremental gross profit 2.95 / 16.22 / 0.76 /
   0.38 EUR; cost 5.01 / 9.00 / 4.34 / 4.25 EUR; net incremental profit -2.06 / +7.22 / -3.59 /
   -3.87 EUR. Free delivery raises orders but does not pay overall; it pays for family customers.
   The standard error of a difference-in-means estimate of the net profit at 1,000,000 customers is
   0.53 / 1.54 / 0.73 / 0.86 EUR (it scales with 1 / sqrt(customers)): the verdicts need about a
   million customers; at 20,000 they are "not yet known".

8. Scale and reproducibility
   ``customers`` scales every table (employees too) and the same seed gives the same tables. Expected
   rows per customer: transactions 3.10 (refunds included), service events 2.71, responses 0.44.
   Optional contract columns not generated: responses.employee_id, service_events.employee_id,
   employee_responses.comment, internal_responses.comment.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
from scipy import optimize, special

TABLE_NAMES = ("transactions", "customers", "responses", "service_events", "employee_responses",
               "internal_responses", "interventions")
AS_OF_METADATA_KEY = b"custfocus.as_of"

SEGMENTS = ("family", "single", "business")
REGIONS = ("North", "South", "East", "West")
ACQUISITION_CHANNELS = ("search", "social", "referral", "store")
ORDER_CHANNELS = ("web", "app", "store")
WEB, APP, STORE = range(3)
PRODUCTS = ("Groceries", "Home", "Electronics", "Fashion", "Beauty", "Toys")
DEPARTMENTS = ("Sales", "Customer Service", "Logistics", "Warehouse", "Billing", "IT")
SALES, CUSTOMER_SERVICE, LOGISTICS, WAREHOUSE, BILLING, IT = range(6)
THEMES = ("late delivery", "product quality", "app problems", "price", "friendly staff",
          "fast delivery")
THEME = {name: column for column, name in enumerate(THEMES)}
EVENT_KINDS = ("delivery", "ticket", "call", "return")
DELIVERY, TICKET, CALL, RETURN = range(4)
TOUCHPOINTS = ("delivery", "store", "support ticket", "phone call", "return")


# ---------------------------------------------------------------------------------------------
# Planted truths


@dataclass(frozen=True)
class Acquisition:
    history_days: int
    growth: float  # the daily intake rises linearly to (1 + growth) x its first-day level
    seasonal_amplitude: float
    seasonal_peak_day_of_year: int
    segment_shares: dict[str, float]
    region_shares: dict[str, float]
    channel_shares: dict[str, float]
    mean_acquisition_cost: dict[str, float]  # EUR, Gamma with shape 4


@dataclass(frozen=True)
class Purchasing:
    """BG/NBD in weeks: lambda ~ Gamma(shape r, rate alpha), p ~ Beta(a, b)."""

    r: float
    alpha: float
    a: float
    b: float


@dataclass(frozen=True)
class Spend:
    """Gamma-Gamma: nu ~ Gamma(shape q, rate gamma), amount ~ Gamma(shape p, rate nu)."""

    p: float
    q: float
    gamma: float
    product_shares: dict[str, float]
    product_cost_share: dict[str, float]
    cost_share_noise: float
    expected_fit: tuple[float, float, float]  # Gamma-Gamma (p, q, gamma) fitted on repeat purchases
    refund_rate: float
    home_channel_loyalty: float  # share of orders on the customer's home channel

    @property
    def mean_order_value(self) -> float:
        return self.p * self.gamma / (self.q - 1)

    @property
    def mean_cost_share(self) -> float:
        return sum(self.product_shares[k] * self.product_cost_share[k] for k in self.product_shares)


@dataclass(frozen=True)
class Satisfaction:
    rho_late_satisfaction: float  # s = -rho u + sqrt(1 - rho^2) e
    rho_satisfaction_dropout: float
    rho_satisfaction_spend: float


@dataclass(frozen=True)
class Service:
    late_rate_by_region: dict[str, float]  # average over customers of Phi(c_region + loading u)
    late_propensity_loading: float
    late_threshold_hours: float
    # Measured: late-prone customers drop out sooner, so they have fewer deliveries.
    expected_late_share_per_delivery: dict[str, float]
    late_ticket_rate: float
    late_call_rate: float
    ticket_rate: float  # unprompted tickets per order
    call_rate: float


@dataclass(frozen=True)
class Voice:
    nps_survey_rate_per_order: float
    nps_survey_rate_per_contact: float
    nps_base: float
    nps_satisfaction_loading: float
    nps_noise: float
    theme_effects: dict[str, float]  # points on the latent 0-10 score
    comment_rate: float
    theme_mention_rate: float
    detractor_driver: str
    # Measured over commented NPS answers: share mentioning the theme x (NPS without - NPS with).
    expected_points_lost: dict[str, float]
    expected_late_mention_share: dict[str, float]  # among comments of detractors / promoters
    expected_nps: float
    expected_csat_mean: float
    expected_ces_mean: float


@dataclass(frozen=True)
class People:
    headcount_per_20k_customers: dict[str, int]
    enps: dict[str, float]  # exact expected eNPS
    internal_mu: dict[tuple[str, str], float]  # (from, to) -> latent mean score
    internal_noise: float
    customer_shift_per_enps_point: float
    poorly_serving_department: str
    affected_department: str
    expected_customer_nps: dict[str, float]  # NPS of responses by department (measured)

    def expected_internal_mean(self, from_department: str, to_department: str) -> float:
        """Exact expected 0-10 score of a pair (a rounded, clipped normal)."""
        return _rounded_normal_mean(self.internal_mu[from_department, to_department],
                                    self.internal_noise, 0, 10)


@dataclass(frozen=True)
class Experiment:
    name: str
    days_before_as_of: int
    eligibility_days: int  # eligible: a purchase in this many days before assignment
    share_assigned: float
    fee_per_order: float
    uplift_by_segment: dict[str, float]
    extra_basket_factor: float
    expected_eligible_share: float  # of all customers
    expected_control_orders: float  # orders per control customer from the assignment date on
    # Expected per treated customer over the window, keyed by segment and "all" (measured).
    expected_extra_orders: dict[str, float]
    expected_incremental_revenue: dict[str, float]
    expected_incremental_gross_profit: dict[str, float]
    expected_cost: dict[str, float]
    expected_net_profit: dict[str, float]
    net_profit_standard_error_at_1m: dict[str, float]  # of a difference in means
    pays_for: str


@dataclass(frozen=True)
class Planted:
    acquisition: Acquisition
    purchasing: Purchasing
    spend: Spend
    satisfaction: Satisfaction
    service: Service
    voice: Voice
    people: People
    experiment: Experiment
    company_name: str = "Demo Retail"
    currency: str = "EUR"
    default_as_of: date = date(2026, 9, 30)


PLANTED = Planted(
    acquisition=Acquisition(
        history_days=3 * 365, growth=1.0, seasonal_amplitude=0.3, seasonal_peak_day_of_year=330,
        segment_shares={"family": 0.15, "single": 0.50, "business": 0.35},
        region_shares={"North": 0.30, "South": 0.25, "East": 0.20, "West": 0.25},
        channel_shares={"search": 0.35, "social": 0.25, "referral": 0.20, "store": 0.20},
        mean_acquisition_cost={"search": 32.0, "social": 22.0, "referral": 12.0, "store": 6.0},
    ),
    purchasing=Purchasing(r=0.55, alpha=10.0, a=0.8, b=2.6),
    spend=Spend(
        p=6.0, q=6.0, gamma=100.0,
        product_shares={"Groceries": 0.25, "Home": 0.20, "Electronics": 0.15, "Fashion": 0.20,
                        "Beauty": 0.10, "Toys": 0.10},
        product_cost_share={"Groceries": 0.72, "Home": 0.55, "Electronics": 0.78, "Fashion": 0.45,
                            "Beauty": 0.50, "Toys": 0.58},
        cost_share_noise=0.03, expected_fit=(5.78, 6.11, 106.5), refund_rate=0.03,
        home_channel_loyalty=0.8,
    ),
    satisfaction=Satisfaction(rho_late_satisfaction=0.35, rho_satisfaction_dropout=0.5,
                              rho_satisfaction_spend=0.25),
    service=Service(
        late_rate_by_region={"North": 0.08, "South": 0.10, "East": 0.25, "West": 0.09},
        late_propensity_loading=1.0, late_threshold_hours=72.0,
        expected_late_share_per_delivery={"North": 0.074, "South": 0.093, "East": 0.238,
                                          "West": 0.084, "all": 0.114},
        late_ticket_rate=0.40, late_call_rate=0.25, ticket_rate=0.04, call_rate=0.02,
    ),
    voice=Voice(
        nps_survey_rate_per_order=0.06, nps_survey_rate_per_contact=0.15,
        nps_base=8.2, nps_satisfaction_loading=1.5, nps_noise=1.2,
        theme_effects={"late delivery": -3.5, "product quality": -2.0, "app problems": -1.0,
                       "price": -0.7, "friendly staff": 0.8, "fast delivery": 0.6},
        comment_rate=0.4, theme_mention_rate=0.9, detractor_driver="late delivery",
        expected_points_lost={"late delivery": 18.4, "product quality": 2.6, "price": 2.2,
                              "app problems": 1.0, "friendly staff": -2.0, "fast delivery": -3.4},
        expected_late_mention_share={"detractor": 0.47, "promoter": 0.005},
        expected_nps=9.7, expected_csat_mean=3.49, expected_ces_mean=4.42,
    ),
    people=People(
        headcount_per_20k_customers={"Sales": 40, "Customer Service": 60, "Logistics": 50,
                                     "Warehouse": 70, "Billing": 15, "IT": 25},
        enps={"Sales": 25.0, "Customer Service": 15.0, "Logistics": -15.0, "Warehouse": -40.0,
              "Billing": 10.0, "IT": 0.0},
        internal_mu={
            ("Logistics", "Warehouse"): 3.5, ("Customer Service", "Warehouse"): 5.0,
            ("Sales", "IT"): 7.5, ("Sales", "Billing"): 7.0, ("Sales", "Logistics"): 7.0,
            ("Customer Service", "Logistics"): 7.0, ("Customer Service", "Billing"): 7.5,
            ("Customer Service", "IT"): 7.0, ("Logistics", "IT"): 7.5, ("Warehouse", "IT"): 7.0,
            ("Warehouse", "Logistics"): 7.0, ("Billing", "Sales"): 7.5, ("Billing", "IT"): 8.0,
            ("IT", "Sales"): 7.0,
        },
        internal_noise=1.5, customer_shift_per_enps_point=0.01,
        poorly_serving_department="Warehouse", affected_department="Logistics",
        expected_customer_nps={"Sales": 42.0, "Customer Service": 37.0, "Billing": 35.0,
                               "IT": 15.0, "Logistics": -3.0},
    ),
    experiment=Experiment(
        name="free_delivery", days_before_as_of=183, eligibility_days=365, share_assigned=0.2,
        fee_per_order=6.90, uplift_by_segment={"family": 0.85, "single": 0.04, "business": 0.02},
        extra_basket_factor=0.5,
        expected_eligible_share=0.568, expected_control_orders=0.79,
        expected_extra_orders={"all": 0.129, "family": 0.712, "single": 0.034, "business": 0.017},
        expected_incremental_revenue={"all": 7.81, "family": 42.96, "single": 2.01,
                                      "business": 1.00},
        expected_incremental_gross_profit={"all": 2.95, "family": 16.22, "single": 0.76,
                                           "business": 0.38},
        expected_cost={"all": 5.01, "family": 9.00, "single": 4.34, "business": 4.25},
        expected_net_profit={"all": -2.06, "family": 7.22, "single": -3.59, "business": -3.87},
        net_profit_standard_error_at_1m={"all": 0.53, "family": 1.54, "single": 0.73,
                                         "business": 0.86},
        pays_for="family",
    ),
)


# ---------------------------------------------------------------------------------------------
# Public API


def generate(customers: int = 20_000, seed: int = 7,
             as_of: date = PLANTED.default_as_of) -> dict[str, pa.Table]:
    """Simulate the demo company: the seven contract tables as Arrow tables (see the module doc)."""
    if customers < 1:
        raise ValueError(f"customers must be at least 1, got {customers}")
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(7)]
    calendar = _Calendar(as_of, PLANTED.acquisition.history_days)
    people = _draw_customers(streams[0], customers, calendar)
    base = _draw_purchases(streams[1], people, calendar)
    experiment = _run_experiment(streams[2], people, base, calendar)
    orders = _draw_orders(streams[3], people, base, experiment)
    service = _draw_service(streams[4], people, orders, calendar)
    surveys = _draw_surveys(streams[5], people, orders, service, calendar)
    tables = {
        "transactions": _transactions_table(orders, service, calendar, customers),
        "customers": _customers_table(people, calendar),
        "responses": surveys,
        "service_events": _service_table(service, calendar, customers),
        "interventions": _interventions_table(experiment, orders, calendar, customers),
    }
    tables["employee_responses"], tables["internal_responses"] = _draw_staff_surveys(
        streams[6], customers, calendar)
    stamp = {AS_OF_METADATA_KEY: as_of.isoformat().encode()}
    return {name: tables[name].replace_schema_metadata(stamp) for name in TABLE_NAMES}


def write(tables: dict[str, pa.Table], out_dir: Path, fmt: str = "csv") -> dict[str, Path]:
    """Write each table as ``<name>.csv`` or ``<name>.parquet`` plus ``custfocus.toml``.

    Returns the written paths by table name, and ``"settings"`` for the TOML file. The as_of date
    comes from the tables' metadata (set by :func:`generate`).
    """
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"fmt must be 'csv' or 'parquet', got {fmt!r}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for name, table in tables.items():
        path = out_dir / f"{name}.{fmt}"
        if fmt == "csv":
            pa_csv.write_csv(table, path)
        else:
            pq.write_table(table, path)
        paths[name] = path
    as_of = _as_of_of(tables)
    settings = out_dir / "custfocus.toml"
    settings.write_text(
        f'[company]\nname = "{PLANTED.company_name}"\ncurrency = "{PLANTED.currency}"\n'
        f'as_of = "{as_of.isoformat()}"\n', encoding="utf-8")
    paths["settings"] = settings
    return paths


# ---------------------------------------------------------------------------------------------
# Simulation. Days are integers from the first day of the history (day 0) to as_of (history_days).


@dataclass(frozen=True)
class _Calendar:
    as_of: date
    history_days: int

    @property
    def first_day(self) -> date:
        return self.as_of - timedelta(days=self.history_days)

    @property
    def assignment_day(self) -> int:
        return self.history_days - PLANTED.experiment.days_before_as_of

    def dates(self, days: np.ndarray) -> pa.Array:
        epoch = (self.first_day - date(1970, 1, 1)).days
        return pa.array(np.asarray(days, dtype=np.int32) + np.int32(epoch), type=pa.date32())

    def days_of_year(self) -> np.ndarray:
        days = np.datetime64(self.first_day, "D") + np.arange(self.history_days + 1)
        return (days - days.astype("datetime64[Y]")).astype(np.int64) + 1


@dataclass
class _Customers:
    acquired: np.ndarray  # day of the first purchase
    segment: np.ndarray  # codes into SEGMENTS
    region: np.ndarray
    channel: np.ndarray  # acquisition channel, codes into ACQUISITION_CHANNELS
    acquisition_cost: np.ndarray
    home_channel: np.ndarray  # codes into ORDER_CHANNELS
    late_propensity: np.ndarray
    satisfaction: np.ndarray
    purchase_rate: np.ndarray  # lambda, per week
    dropout: np.ndarray  # p
    spend_rate: np.ndarray  # nu

    @property
    def count(self) -> int:
        return len(self.acquired)


@dataclass
class _BasePurchases:
    owner: np.ndarray  # customer index of each repeat purchase
    day: np.ndarray
    dropout_day: np.ndarray  # per customer, continuous; inf when still alive at as_of


@dataclass
class _Experiment:
    treated: np.ndarray  # customer indices
    control: np.ndarray
    extra_owner: np.ndarray  # one entry per extra order caused by the treatment
    extra_day: np.ndarray


@dataclass
class _Orders:
    customer: np.ndarray  # sorted by (day, customer); the position is the order number
    day: np.ndarray
    extra: np.ndarray  # caused by the experiment
    channel: np.ndarray
    product: np.ndarray
    amount: np.ndarray
    cost: np.ndarray


@dataclass
class _Events:
    """Service events, or a slice of them; ``late`` marks a late delivery or a contact it caused."""

    customer: np.ndarray
    day: np.ndarray
    kind: np.ndarray  # codes into EVENT_KINDS
    cost: np.ndarray
    hours: np.ndarray
    department: np.ndarray
    late: np.ndarray

    @staticmethod
    def concat(parts: list[_Events]) -> _Events:
        return _Events(*(np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(_Events)))

    def take(self, index: np.ndarray) -> _Events:
        return _Events(*(getattr(self, f.name)[index] for f in fields(_Events)))



def _codes(rng: np.random.Generator, shares: dict[str, float], size: int) -> np.ndarray:
    return rng.choice(len(shares), size=size, p=np.fromiter(shares.values(), float))


def _rank_matched(sample: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Hand an iid sample out in the order of ``score``: the marginal stays exactly the sample's."""
    matched = np.empty_like(sample)
    matched[np.argsort(score)] = np.sort(sample)
    return matched


def _correlated(rng: np.random.Generator, driver: np.ndarray, rho: float) -> np.ndarray:
    """A standard normal with correlation ``rho`` to the standard normal ``driver``."""
    return rho * driver + math.sqrt(1 - rho * rho) * rng.standard_normal(len(driver))


def _draw_customers(rng: np.random.Generator, n: int, calendar: _Calendar) -> _Customers:
    acq = PLANTED.acquisition
    day = np.arange(calendar.history_days + 1)
    season = 1 + acq.seasonal_amplitude * np.cos(
        2 * np.pi * (calendar.days_of_year() - acq.seasonal_peak_day_of_year) / 365.25)
    intake = (1 + acq.growth * day / calendar.history_days) * season
    cumulative = np.cumsum(intake) / intake.sum()
    acquired = np.sort(np.minimum(np.searchsorted(cumulative, rng.random(n), side="right"),
                                  calendar.history_days))

    channel = _codes(rng, acq.channel_shares, n)
    mean_cost = np.fromiter(acq.mean_acquisition_cost.values(), float)[channel]
    # Store-acquired customers mostly keep buying in store; the others mostly online.
    home_shares = np.where((channel == ACQUISITION_CHANNELS.index("store"))[:, None],
                           [0.2, 0.1, 0.7], [0.55, 0.35, 0.10])
    home_channel = (rng.random(n)[:, None] > np.cumsum(home_shares, axis=1)[:, :2]).sum(axis=1)

    sat = PLANTED.satisfaction
    late_propensity = rng.standard_normal(n)
    satisfaction = _correlated(rng, late_propensity, -sat.rho_late_satisfaction)
    bg, spend = PLANTED.purchasing, PLANTED.spend
    return _Customers(
        acquired=acquired,
        segment=_codes(rng, acq.segment_shares, n),
        region=_codes(rng, acq.region_shares, n),
        channel=channel,
        acquisition_cost=np.round(rng.gamma(4.0, mean_cost / 4.0), 2),
        home_channel=home_channel,
        late_propensity=late_propensity,
        satisfaction=satisfaction,
        purchase_rate=rng.gamma(bg.r, 1 / bg.alpha, n),
        # Tiny floor: a p of exactly 0 is not a valid geometric parameter.
        dropout=np.maximum(_rank_matched(rng.beta(bg.a, bg.b, n),
                                         _correlated(rng, satisfaction, -sat.rho_satisfaction_dropout)),
                           1e-12),
        spend_rate=_rank_matched(rng.gamma(spend.q, 1 / spend.gamma, n),
                                 _correlated(rng, satisfaction, -sat.rho_satisfaction_spend)),
    )


def _draw_purchases(rng: np.random.Generator, people: _Customers, calendar: _Calendar) -> _BasePurchases:
    """BG/NBD repeat purchases over [0, age) days since each first purchase.

    Given N ~ Poisson(lambda age) events, their times are the order statistics of N uniforms; the
    customer drops out at the K-th, K ~ Geometric(p), so the first min(N, K) are kept. The first M of
    N sorted uniforms are S_k / (S_M + R), with S_k cumulative sums of M exponentials and
    R ~ Gamma(N - M + 1) standing in for the remaining spacings: no sort, no unused draws.
    """
    age_days = (calendar.history_days - people.acquired).astype(float)
    events = rng.poisson(people.purchase_rate * age_days / 7)
    kept = np.minimum(events, rng.geometric(people.dropout))
    dropped_out = kept < events
    owner = np.repeat(np.arange(people.count), kept)
    first = np.cumsum(kept) - kept
    sums = np.concatenate(([0.0], np.cumsum(rng.standard_exponential(kept.sum()))))
    partial = sums[1:] - sums[np.repeat(first, kept)]
    total = sums[first + kept] - sums[first] + rng.gamma(events - kept + 1.0)
    time = age_days[owner] * partial / total[owner]
    day = people.acquired[owner] + np.floor(time).astype(np.int64)
    dropout_day = np.full(people.count, np.inf)
    # K <= N: the customer is gone right after the last kept purchase.
    last = first + kept - 1
    dropout_day[dropped_out] = people.acquired[dropped_out] + time[last[dropped_out]]
    return _BasePurchases(owner=owner, day=day, dropout_day=dropout_day)


def _run_experiment(rng: np.random.Generator, people: _Customers, base: _BasePurchases,
                    calendar: _Calendar) -> _Experiment:
    plan = PLANTED.experiment
    start = calendar.assignment_day
    last_purchase = people.acquired.copy()
    before = base.day < start
    np.maximum.at(last_purchase, base.owner[before], base.day[before])
    eligible = (people.acquired < start) & (last_purchase >= start - plan.eligibility_days)
    drawn = rng.permutation(np.flatnonzero(eligible & (rng.random(people.count) < plan.share_assigned)))
    treated, control = np.sort(drawn[: len(drawn) // 2]), np.sort(drawn[len(drawn) // 2:])

    # Extra orders: a Poisson stream at uplift x lambda while alive, from assignment to as_of.
    exposure_days = np.clip(np.minimum(base.dropout_day[treated], calendar.history_days) - start,
                            0, None)
    uplift = np.fromiter(plan.uplift_by_segment.values(), float)[people.segment[treated]]
    extra = rng.poisson(uplift * people.purchase_rate[treated] * exposure_days / 7)
    extra_owner = np.repeat(treated, extra)
    extra_day = start + np.floor(np.repeat(exposure_days, extra) * rng.random(extra.sum()))
    return _Experiment(treated=treated, control=control, extra_owner=extra_owner,
                       extra_day=extra_day.astype(np.int64))


def _draw_orders(rng: np.random.Generator, people: _Customers, base: _BasePurchases,
                 experiment: _Experiment) -> _Orders:
    customer = np.concatenate([np.arange(people.count), base.owner, experiment.extra_owner])
    day = np.concatenate([people.acquired, base.day, experiment.extra_day])
    extra = np.repeat([False, True], [people.count + len(base.owner), len(experiment.extra_owner)])
    in_date_order = np.lexsort((customer, day))
    customer, day, extra = customer[in_date_order], day[in_date_order], extra[in_date_order]
    n = len(customer)

    spend = PLANTED.spend
    home = people.home_channel[customer]
    channel = np.where(rng.random(n) < spend.home_channel_loyalty, home, rng.integers(0, 3, n))
    # Free delivery only brings delivered orders.
    channel = np.where(extra, np.where(home == APP, APP, WEB), channel)
    product = _codes(rng, spend.product_shares, n)
    basket = np.where(extra, PLANTED.experiment.extra_basket_factor, 1.0)
    amount = np.maximum(np.round(rng.gamma(spend.p, 1 / people.spend_rate[customer]) * basket, 2), 0.01)
    cost_share = np.clip(np.fromiter(spend.product_cost_share.values(), float)[product]
                         + rng.normal(0, spend.cost_share_noise, n), 0.05, 0.95)
    return _Orders(customer=customer, day=day, extra=extra, channel=channel, product=product,
                   amount=amount, cost=np.round(amount * cost_share, 2))


@dataclass
class _Service:
    events: _Events
    order_late: np.ndarray  # per order: delivered late
    order_hours: np.ndarray  # per order: delivery hours, NaN in store
    order_arrival: np.ndarray  # per order: day the customer has the goods
    refund_order: np.ndarray  # index of each refunded order
    refund_day: np.ndarray


def _draw_service(rng: np.random.Generator, people: _Customers, orders: _Orders,
                  calendar: _Calendar) -> _Service:
    svc = PLANTED.service
    last_day = calendar.history_days
    n = len(orders.customer)
    delivered = orders.channel != STORE
    loading = svc.late_propensity_loading
    # Phi(c + loading u) with u ~ N(0, 1) averages to Phi(c / sqrt(1 + loading^2)).
    late_rates = np.fromiter(svc.late_rate_by_region.values(), float)
    threshold = special.ndtri(late_rates) * math.hypot(1, loading)
    late_probability = special.ndtr(threshold[people.region[orders.customer]]
                                    + loading * people.late_propensity[orders.customer])
    late = delivered & (rng.random(n) < late_probability)
    hours = np.round(np.where(late, svc.late_threshold_hours + 1 + rng.gamma(2.0, 30.0, n),
                              12 + 60 * rng.beta(2.0, 3.0, n)), 1)
    hours[~delivered] = np.nan
    arrival = orders.day + np.where(delivered, np.ceil(np.nan_to_num(hours) / 24), 0).astype(np.int64)

    def events(order_index, day, kind, cost, duration, department, late_flag):
        size = len(order_index)
        return _Events(orders.customer[order_index], day, np.full(size, kind), np.round(cost, 2),
                       np.round(duration, 2), np.broadcast_to(department, size).copy(),
                       np.broadcast_to(late_flag, size).copy())

    def lognormal(mean, size):  # exp(-0.02 + 0.2^2 / 2) = 1: the mean is kept
        return mean * rng.lognormal(-0.02, 0.2, size)

    parts = []
    shipped = np.flatnonzero(delivered)
    parts.append(events(shipped, arrival[shipped], DELIVERY,
                        np.clip(rng.normal(5.5, 0.4, len(shipped)), 3.0, None), hours[shipped],
                        LOGISTICS, late[shipped]))

    refunded = np.flatnonzero(rng.random(n) < PLANTED.spend.refund_rate)
    refund_day = arrival[refunded] + rng.integers(2, 22, len(refunded))
    parts.append(events(refunded, refund_day, RETURN, lognormal(7.0, len(refunded)),
                        24 + rng.gamma(2.0, 24.0, len(refunded)), WAREHOUSE, False))

    # "Where is my order?": the customer chases a late delivery four days after ordering; the
    # Logistics delivery desk answers.
    late_orders = np.flatnonzero(late)
    chased = late_orders[rng.random(len(late_orders)) < svc.late_ticket_rate]
    parts.append(events(chased, orders.day[chased] + 4, TICKET, lognormal(8.0, len(chased)),
                        rng.gamma(2.0, 10.0, len(chased)), LOGISTICS, True))
    called = late_orders[rng.random(len(late_orders)) < svc.late_call_rate]
    parts.append(events(called, orders.day[called] + 4, CALL, lognormal(4.0, len(called)),
                        rng.gamma(3.0, 0.05, len(called)), LOGISTICS, True))

    ticketed = np.flatnonzero(rng.random(n) < svc.ticket_rate)
    # App users' tickets are often about the app (IT); the rest about bills or general questions.
    topic_draw = rng.random(len(ticketed))
    on_app = orders.channel[ticketed] == APP
    department = np.where(on_app & (topic_draw < 0.5), IT,
                          np.where(topic_draw < np.where(on_app, 0.7, 0.35), BILLING, CUSTOMER_SERVICE))
    ticket_cost = np.select([department == IT, department == BILLING], [12.0, 10.0], 8.0)
    parts.append(events(ticketed, orders.day[ticketed] + rng.integers(1, 16, len(ticketed)), TICKET,
                        lognormal(ticket_cost, len(ticketed)), rng.gamma(2.0, 10.0, len(ticketed)),
                        department, False))
    phoned = np.flatnonzero(rng.random(n) < svc.call_rate)
    parts.append(events(phoned, orders.day[phoned] + rng.integers(0, 11, len(phoned)), CALL,
                        lognormal(4.0, len(phoned)), rng.gamma(3.0, 0.05, len(phoned)),
                        CUSTOMER_SERVICE, False))

    all_events = _Events.concat(parts)
    all_events = all_events.take(np.flatnonzero(all_events.day <= last_day))
    all_events = all_events.take(np.lexsort((all_events.customer, all_events.day)))
    in_window = refund_day <= last_day
    return _Service(events=all_events, order_late=late, order_hours=hours, order_arrival=arrival,
                    refund_order=refunded[in_window], refund_day=refund_day[in_window])


PHRASES = {
    "late delivery": (
        "My parcel arrived three days late.",
        "The delivery was delayed and nobody told me why.",
        "Package didn't arrive on time.",
        "I waited over a week for my order to be delivered.",
        "Delivery came much later than promised.",
        "The order showed up late again.",
        "Still waiting on a delayed delivery, very frustrating.",
        "The gift came after the birthday because the delivery was late.",
    ),
    "product quality": (
        "The product broke after a week.",
        "Poor quality, the item looked cheap.",
        "The material felt flimsy.",
        "Quality has gone down, it stopped working quickly.",
        "Not the quality I expected.",
    ),
    "app problems": (
        "The app keeps crashing at checkout.",
        "I couldn't log in to the app.",
        "The app is slow and the payment failed twice.",
        "The app froze when I tried to pay.",
        "Annoying bugs in the app.",
    ),
    "price": (
        "Prices are higher than elsewhere.",
        "A bit too expensive for what you get.",
        "I found the same items cheaper at another shop.",
        "The prices went up again.",
        "Too pricey compared to competitors.",
    ),
    "friendly staff": (
        "The staff were friendly and helpful.",
        "Lovely people, very kind.",
        "The assistant went out of her way to help me.",
        "Friendly service, they answered all my questions.",
        "Great, helpful staff.",
    ),
    "fast delivery": (
        "Fast delivery, it arrived the next day.",
        "Delivery was quick.",
        "My order arrived sooner than expected.",
        "Super fast shipping.",
        "Quick delivery and well packed.",
    ),
}
GENERIC_PHRASES = {
    "detractor": ("Not happy with this order.", "Disappointing.", "I expected better.",
                  "I will think twice before ordering again."),
    "passive": ("It was okay.", "Nothing special.", "Fine, but could be better.", "Average experience."),
    "promoter": ("Great shop, I will buy again.", "Very happy overall.",
                 "Everything was fine, thank you.", "Always a good experience."),
}


@dataclass
class _Experiences:
    """What a surveyed customer went through: one row per survey answer."""

    customer: np.ndarray
    day: np.ndarray
    touchpoint: np.ndarray
    department: np.ndarray
    themes: np.ndarray  # bool, (rows, len(THEMES))

    @staticmethod
    def concat(parts: list[_Experiences]) -> _Experiences:
        return _Experiences(*(np.concatenate([getattr(p, f.name) for p in parts])
                              for f in fields(_Experiences)))


def _draw_surveys(rng: np.random.Generator, people: _Customers, orders: _Orders, service: _Service,
                  calendar: _Calendar) -> pa.Table:
    voice = PLANTED.voice
    last_day = calendar.history_days
    events = service.events

    # NPS after an order has arrived.
    surveyed = np.flatnonzero(rng.random(len(orders.customer)) < voice.nps_survey_rate_per_order)
    surveyed = surveyed[service.order_arrival[surveyed] <= last_day]
    size = len(surveyed)
    in_store = orders.channel[surveyed] == STORE
    late = service.order_late[surveyed]
    # Which themes happened, with the chances of the module doc (item 5).
    themes = np.zeros((size, len(THEMES)), dtype=bool)
    themes[:, THEME["late delivery"]] = late
    themes[:, THEME["product quality"]] = rng.random(size) < 0.05
    themes[:, THEME["app problems"]] = (orders.channel[surveyed] == APP) & (rng.random(size) < 0.15)
    themes[:, THEME["price"]] = rng.random(size) < 0.12
    themes[:, THEME["friendly staff"]] = in_store & (rng.random(size) < 0.35)
    themes[:, THEME["fast delivery"]] = (~in_store & ~late & (service.order_hours[surveyed] < 30)
                                         & (rng.random(size) < 0.6))
    after_orders = _Experiences(
        customer=orders.customer[surveyed], day=service.order_arrival[surveyed],
        touchpoint=np.where(in_store, TOUCHPOINTS.index("store"), TOUCHPOINTS.index("delivery")),
        department=np.where(in_store, SALES, LOGISTICS), themes=themes)

    # NPS after a ticket or a call.
    contacts = np.flatnonzero((events.kind == TICKET) | (events.kind == CALL))
    asked = contacts[rng.random(len(contacts)) < voice.nps_survey_rate_per_contact]
    size = len(asked)
    themes = np.zeros((size, len(THEMES)), dtype=bool)
    themes[:, THEME["late delivery"]] = events.late[asked]
    themes[:, THEME["product quality"]] = rng.random(size) < 0.05
    themes[:, THEME["app problems"]] = (events.department[asked] == IT) & (rng.random(size) < 0.5)
    themes[:, THEME["price"]] = rng.random(size) < 0.12
    themes[:, THEME["friendly staff"]] = rng.random(size) < 0.25
    after_contacts = _Experiences(
        customer=events.customer[asked], day=events.day[asked],
        touchpoint=np.where(events.kind[asked] == TICKET, TOUCHPOINTS.index("support ticket"),
                            TOUCHPOINTS.index("phone call")),
        department=events.department[asked], themes=themes)

    nps = _Experiences.concat([after_orders, after_contacts])
    enps = np.fromiter((PLANTED.people.enps[d] for d in DEPARTMENTS), float)
    latent = (voice.nps_base + voice.nps_satisfaction_loading * people.satisfaction[nps.customer]
              + PLANTED.people.customer_shift_per_enps_point * enps[nps.department]
              + nps.themes @ np.array([voice.theme_effects[t] for t in THEMES])
              + rng.normal(0, voice.nps_noise, len(nps.customer)))
    nps_score = np.clip(np.rint(latent), 0, 10).astype(np.int64)
    comments = _comments(rng, nps.themes, nps_score)

    # CSAT after deliveries and contacts; CES after contacts and returns.
    kind = events.kind
    csat_rate = np.where(kind == DELIVERY, 0.03, 0.20)
    csat = np.flatnonzero(rng.random(len(kind)) < csat_rate)
    csat_score = np.clip(np.rint(3.9 + 0.6 * people.satisfaction[events.customer[csat]]
                                 - 1.5 * events.late[csat] + rng.normal(0, 0.8, len(csat))), 1, 5)
    ces = np.flatnonzero((kind != DELIVERY) & (rng.random(len(kind)) < 0.12))
    ces_score = np.clip(np.rint(5.2 + 0.5 * people.satisfaction[events.customer[ces]]
                                - 1.0 * events.late[ces] - 0.02 * np.minimum(events.hours[ces], 48)
                                + rng.normal(0, 1.0, len(ces))), 1, 7)
    event_touchpoint = np.array([TOUCHPOINTS.index(t) for t in
                                 ("delivery", "support ticket", "phone call", "return")])[kind]

    customer = np.concatenate([nps.customer, events.customer[csat], events.customer[ces]])
    day = np.concatenate([nps.day, events.day[csat], events.day[ces]])
    day = day + rng.integers(0, 5, len(day))
    score = np.concatenate([nps_score, csat_score, ces_score]).astype(np.int64)
    survey_kind = np.repeat([0, 1, 2], [len(nps_score), len(csat), len(ces)])
    touchpoint = np.concatenate([nps.touchpoint, event_touchpoint[csat], event_touchpoint[ces]])
    department = np.concatenate([nps.department, events.department[csat], events.department[ces]])
    comment = pa.concat_arrays([comments, pa.nulls(len(csat) + len(ces), pa.string())])

    keep = np.flatnonzero(day <= last_day)
    keep = keep[np.lexsort((customer[keep], day[keep]))]
    return pa.table({
        "date": calendar.dates(day[keep]),
        "score": pa.array(score[keep], pa.int64()),
        "kind": _labels(("nps", "csat", "ces"), survey_kind[keep]),
        "customer_id": _customer_ids(customer[keep], people.count),
        "comment": comment.take(pa.array(keep)),
        "touchpoint": _labels(TOUCHPOINTS, touchpoint[keep]),
        "department": _labels(DEPARTMENTS, department[keep]),
    })


def _comments(rng: np.random.Generator, themes: np.ndarray, score: np.ndarray) -> pa.Array:
    """Plain-English comments: one sentence per mentioned theme, or a generic one matching the score."""
    voice = PLANTED.voice
    rows = len(score)
    commented = rng.random(rows) < voice.comment_rate
    mentioned = themes & commented[:, None] & (rng.random(themes.shape) < voice.theme_mention_rate)
    sentences = [_pick(rng, PHRASES[theme], mentioned[:, i]) for i, theme in enumerate(THEMES)]
    band = np.where(score <= 6, 0, np.where(score <= 8, 1, 2))
    generic = np.concatenate(list(GENERIC_PHRASES.values()))
    per_band = len(GENERIC_PHRASES["promoter"])
    generic_choice = band * per_band + rng.integers(0, per_band, rows)
    sentences.append(pa.array(generic).take(
        pa.array(generic_choice, mask=~(commented & ~mentioned.any(axis=1)))))
    joined = pc.binary_join_element_wise(*(pc.fill_null(s, "") for s in sentences), " ")
    joined = pc.replace_substring_regex(pc.utf8_trim_whitespace(joined), " {2,}", " ")
    return pc.if_else(pa.array(commented), joined, pa.scalar(None, pa.string()))


def _pick(rng: np.random.Generator, phrases: tuple[str, ...], where: np.ndarray) -> pa.Array:
    choice = rng.integers(0, len(phrases), len(where))
    return pa.array(phrases).take(pa.array(choice, mask=~where))


def _draw_staff_surveys(rng: np.random.Generator, customers: int,
                        calendar: _Calendar) -> tuple[pa.Table, pa.Table]:
    people = PLANTED.people
    headcount = np.array([max(5, round(people.headcount_per_20k_customers[d] * customers / 20_000))
                          for d in DEPARTMENTS])
    department = np.repeat(np.arange(len(DEPARTMENTS)), headcount)
    staff = len(department)
    waves = np.arange(45, calendar.history_days + 1, 91)  # quarterly pulses
    noise = 1.2
    employee_effect = rng.standard_normal(staff)
    mu = np.array([_mean_for_enps(people.enps[d], math.hypot(1.0, noise)) for d in DEPARTMENTS])

    wave, employee = (a.ravel() for a in np.meshgrid(waves, np.arange(staff), indexing="ij"))
    answered = rng.random(len(wave)) < 0.75
    wave, employee = wave[answered], employee[answered]
    day = wave + rng.integers(0, 14, len(wave))
    score = np.clip(np.rint(mu[department[employee]] + employee_effect[employee]
                            + rng.normal(0, noise, len(wave))), 0, 10).astype(np.int64)
    keep = np.flatnonzero(day <= calendar.history_days)
    keep = keep[np.lexsort((employee[keep], day[keep]))]
    employee_responses = pa.table({
        "department": _labels(DEPARTMENTS, department[employee[keep]]),
        "date": calendar.dates(day[keep]),
        "score": pa.array(score[keep], pa.int64()),
        "employee_id": _ids("E", employee[keep], max(5, len(str(staff - 1)))),
    })

    pairs = [(DEPARTMENTS.index(f), DEPARTMENTS.index(t), mu_pair)
             for (f, t), mu_pair in people.internal_mu.items()]
    from_dept, to_dept, pair_mu = (np.array(col) for col in zip(*pairs))
    # Every employee of the rating department is asked about each department it depends on.
    pair_of, rater_wave = [], []
    for pair, rater_department in enumerate(from_dept):
        raters = np.flatnonzero(department == rater_department)
        grid = np.repeat(waves, len(raters))
        pair_of.append(np.full(len(grid), pair))
        rater_wave.append(grid)
    pair_of, rater_wave = np.concatenate(pair_of), np.concatenate(rater_wave)
    answered = rng.random(len(pair_of)) < 0.3
    pair_of, rater_wave = pair_of[answered], rater_wave[answered]
    day = rater_wave + rng.integers(0, 14, len(rater_wave))
    score = np.clip(np.rint(pair_mu[pair_of] + rng.normal(0, people.internal_noise, len(pair_of))),
                    0, 10).astype(np.int64)
    keep = np.flatnonzero(day <= calendar.history_days)
    keep = keep[np.lexsort((pair_of[keep], day[keep]))]
    internal_responses = pa.table({
        "from_department": _labels(DEPARTMENTS, from_dept[pair_of[keep]]),
        "to_department": _labels(DEPARTMENTS, to_dept[pair_of[keep]]),
        "date": calendar.dates(day[keep]),
        "score": pa.array(score[keep], pa.int64()),
    })
    return employee_responses, internal_responses


def _rounded_normal_mean(mu: float, sd: float, low: int, high: int) -> float:
    """E[clip(round(X), low, high)] for X ~ N(mu, sd^2)."""
    cut = (np.arange(low, high) + 0.5 - mu) / sd  # P(score > k) = 1 - Phi(cut_k)
    return float(low + np.sum(special.ndtr(-cut)))


def _mean_for_enps(enps: float, sd: float) -> float:
    """The latent mean whose rounded N(mu, sd^2) score has this expected eNPS."""
    def expected(mu):  # promoters round to 9-10, detractors to 0-6
        return 100 * (special.ndtr((mu - 8.5) / sd) - special.ndtr((6.5 - mu) / sd))
    return optimize.brentq(lambda mu: expected(mu) - enps, -10, 20)


# ---------------------------------------------------------------------------------------------
# Tables


def _ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """Fixed-width ids such as C000123, built as one byte buffer (fast for millions)."""
    size, length = len(numbers), len(prefix) + width
    chars = np.empty((size, length), dtype=np.uint8)
    chars[:, : len(prefix)] = np.frombuffer(prefix.encode(), dtype=np.uint8)
    rest = np.asarray(numbers, dtype=np.int64)
    for column in range(length - 1, len(prefix) - 1, -1):
        rest, digit = np.divmod(rest, 10)
        chars[:, column] = digit + ord("0")
    offsets = np.arange(0, (size + 1) * length, length, dtype=np.int32)
    return pa.StringArray.from_buffers(size, pa.py_buffer(offsets), pa.py_buffer(chars))


def _customer_ids(index: np.ndarray, customers: int) -> pa.Array:
    return _ids("C", index, max(6, len(str(customers - 1))))


def _labels(names: tuple[str, ...], codes: np.ndarray) -> pa.Array:
    return pa.array(names).take(pa.array(np.asarray(codes, dtype=np.int64)))


def _transactions_table(orders: _Orders, service: _Service, calendar: _Calendar,
                        customers: int) -> pa.Table:
    order_ids = _ids("O", np.arange(len(orders.customer)), max(8, len(str(len(orders.customer)))))
    refunded = service.refund_order
    refund_ids = pc.binary_join_element_wise(order_ids.take(pa.array(refunded)), "-R", "")
    customer = np.concatenate([orders.customer, orders.customer[refunded]])
    day = np.concatenate([orders.day, service.refund_day])
    rows = np.lexsort((customer, day))
    return pa.table({
        "customer_id": _customer_ids(customer[rows], customers),
        "date": calendar.dates(day[rows]),
        "amount": np.concatenate([orders.amount, -orders.amount[refunded]])[rows],
        "order_id": pa.concat_arrays([order_ids, refund_ids]).take(pa.array(rows)),
        "cost": np.concatenate([orders.cost, np.zeros(len(refunded))])[rows],
        "channel": _labels(ORDER_CHANNELS, np.concatenate([orders.channel,
                                                           orders.channel[refunded]])[rows]),
        "product": _labels(PRODUCTS, np.concatenate([orders.product, orders.product[refunded]])[rows]),
    })


def _customers_table(people: _Customers, calendar: _Calendar) -> pa.Table:
    return pa.table({
        "customer_id": _customer_ids(np.arange(people.count), people.count),
        "acquired_at": calendar.dates(people.acquired),
        "channel": _labels(ACQUISITION_CHANNELS, people.channel),
        "acquisition_cost": people.acquisition_cost,
        "segment": _labels(SEGMENTS, people.segment),
        "region": _labels(REGIONS, people.region),
    })


def _service_table(service: _Service, calendar: _Calendar, customers: int) -> pa.Table:
    events = service.events
    return pa.table({
        "customer_id": _customer_ids(events.customer, customers),
        "date": calendar.dates(events.day),
        "kind": _labels(EVENT_KINDS, events.kind),
        "cost": events.cost,
        "resolution_hours": events.hours,
        "department": _labels(DEPARTMENTS, events.department),
    })


def _interventions_table(experiment: _Experiment, orders: _Orders, calendar: _Calendar,
                         customers: int) -> pa.Table:
    plan = PLANTED.experiment
    start = calendar.assignment_day
    fee_orders = (orders.day >= start) & (orders.channel != STORE)
    fees = np.bincount(orders.customer[fee_orders], minlength=customers)
    assigned = np.concatenate([experiment.treated, experiment.control])
    treated = np.repeat([True, False], [len(experiment.treated), len(experiment.control)])
    rows = np.argsort(assigned)
    assigned, treated = assigned[rows], treated[rows]
    return pa.table({
        "customer_id": _customer_ids(assigned, customers),
        "intervention": pa.array(np.full(len(assigned), plan.name)),
        "group": _labels(("treatment", "control"), np.where(treated, 0, 1)),
        "date": calendar.dates(np.full(len(assigned), start)),
        "cost": np.where(treated, np.round(plan.fee_per_order * fees[assigned], 2), 0.0),
    })


def _as_of_of(tables: dict[str, pa.Table]) -> date:
    for table in tables.values():
        stamp = (table.schema.metadata or {}).get(AS_OF_METADATA_KEY)
        if stamp:
            return date.fromisoformat(stamp.decode())
    raise ValueError("the tables carry no as_of date; pass tables made by generate()")
