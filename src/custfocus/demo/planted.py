"""The demo company's planted truths: "Demo Retail", a simulated omni-channel retailer.

Every table follows :mod:`custfocus.data.contract`. The truths below are what the analyses must
recover; they are also available as numbers in :data:`PLANTED` (the generator reads its parameters
from there, so docstring, constants and data cannot drift apart). Numbers called *expected* were
measured on 20 million simulated customers (default ``as_of``) and live with the tests that use them
(``tests/expectations.py``); :data:`PLANTED` holds only the exact parameters.

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

from dataclasses import dataclass
from datetime import date

import numpy as np
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


@dataclass(frozen=True)
class People:
    headcount_per_20k_customers: dict[str, int]
    enps: dict[str, float]  # exact expected eNPS
    internal_mu: dict[tuple[str, str], float]  # (from, to) -> latent mean score
    internal_noise: float
    customer_shift_per_enps_point: float
    poorly_serving_department: str
    affected_department: str

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
        cost_share_noise=0.03, refund_rate=0.03,
        home_channel_loyalty=0.8,
    ),
    satisfaction=Satisfaction(rho_late_satisfaction=0.35, rho_satisfaction_dropout=0.5,
                              rho_satisfaction_spend=0.25),
    service=Service(
        late_rate_by_region={"North": 0.08, "South": 0.10, "East": 0.25, "West": 0.09},
        late_propensity_loading=1.0, late_threshold_hours=72.0,
        late_ticket_rate=0.40, late_call_rate=0.25, ticket_rate=0.04, call_rate=0.02,
    ),
    voice=Voice(
        nps_survey_rate_per_order=0.06, nps_survey_rate_per_contact=0.15,
        nps_base=8.2, nps_satisfaction_loading=1.5, nps_noise=1.2,
        theme_effects={"late delivery": -3.5, "product quality": -2.0, "app problems": -1.0,
                       "price": -0.7, "friendly staff": 0.8, "fast delivery": 0.6},
        comment_rate=0.4, theme_mention_rate=0.9, detractor_driver="late delivery",
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
    ),
    experiment=Experiment(
        name="free_delivery", days_before_as_of=183, eligibility_days=365, share_assigned=0.2,
        fee_per_order=6.90, uplift_by_segment={"family": 0.85, "single": 0.04, "business": 0.02},
        extra_basket_factor=0.5,
        pays_for="family",
    ),
)


def _rounded_normal_mean(mu: float, sd: float, low: int, high: int) -> float:
    """E[clip(round(X), low, high)] for X ~ N(mu, sd^2)."""
    cut = (np.arange(low, high) + 0.5 - mu) / sd  # P(score > k) = 1 - Phi(cut_k)
    return float(low + np.sum(special.ndtr(-cut)))


def _mean_for_enps(enps: float, sd: float) -> float:
    """The latent mean whose rounded N(mu, sd^2) score has this expected eNPS."""
    def expected(mu):  # promoters round to 9-10, detractors to 0-6
        return 100 * (special.ndtr((mu - 8.5) / sd) - special.ndtr((6.5 - mu) / sd))
    return optimize.brentq(lambda mu: expected(mu) - enps, -10, 20)
