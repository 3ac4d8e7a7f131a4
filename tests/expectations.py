"""What the demo company's analyses should find, measured on 20 million simulated customers.

These are not planted parameters (those are :data:`custfocus.demo.PLANTED`): they are expectations
that the simulation implies but that have no closed form, so they were measured once on a very large
simulation (default ``as_of``) and are checked here against fresh, smaller simulations within their
standard errors.
"""

from types import SimpleNamespace

SPEND = SimpleNamespace(
    expected_fit=(5.78, 6.11, 106.5),
)

SERVICE = SimpleNamespace(
    expected_late_share_per_delivery={"North": 0.074, "South": 0.093, "East": 0.238, "West": 0.084, "all": 0.114},
)

VOICE = SimpleNamespace(
    expected_points_lost={"late delivery": 18.4, "product quality": 2.6, "price": 2.2, "app problems": 1.0, "friendly staff": -2.0, "fast delivery": -3.4},
    expected_late_mention_share={"detractor": 0.47, "promoter": 0.005},
    expected_nps=9.7,
    expected_csat_mean=3.49,
    expected_ces_mean=4.42,
)

PEOPLE = SimpleNamespace(
    expected_customer_nps={"Sales": 42.0, "Customer Service": 37.0, "Billing": 35.0, "IT": 15.0, "Logistics": -3.0},
)

EXPERIMENT = SimpleNamespace(
    expected_eligible_share=0.568,
    expected_control_orders=0.79,
    expected_extra_orders={"all": 0.129, "family": 0.712, "single": 0.034, "business": 0.017},
    expected_incremental_revenue={"all": 7.81, "family": 42.96, "single": 2.01, "business": 1.00},
    expected_incremental_gross_profit={"all": 2.95, "family": 16.22, "single": 0.76, "business": 0.38},
    expected_cost={"all": 5.01, "family": 9.00, "single": 4.34, "business": 4.25},
    expected_net_profit={"all": -2.06, "family": 7.22, "single": -3.59, "business": -3.87},
    net_profit_standard_error_at_1m={"all": 0.53, "family": 1.54, "single": 0.73, "business": 0.86},
)
