"""Per-customer outcomes from the engine, against the hand-worked company of conftest.py."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from conftest import company_on

from custfocus import demo
from custfocus.errors import InputError
from custfocus.interventions.outcomes import CostPerUse, outcome_window, participant_outcomes


def by_customer(frame: pd.DataFrame) -> dict:
    return frame.set_index("customer_id").to_dict("index")


def test_default_window_runs_from_each_assignment_to_as_of_for_the_latest(any_engine, hand_frames):
    company = company_on(any_engine, hand_frames)
    window = outcome_window(company, "call")
    # D was assigned last, on 20 June: 20 to 30 June is 11 days, and every window has that length.
    assert window.days == 11 and not window.chosen
    assert (window.excluded_treated, window.excluded_control) == (0, 0)


def test_outcomes_pre_period_and_features_are_the_hand_worked_ones(any_engine, hand_frames):
    company = company_on(any_engine, hand_frames)
    rows = by_customer(participant_outcomes(company, "call", outcome_window(company, "call"),
                                            CostPerUse(5.0, ("web", "app"))))
    assert list(rows) == ["A", "B", "C", "D"]
    a, b, c, d = (rows[k] for k in "ABCD")
    # A: window 1-11 June: +80 (cost 50), the -80 refund (cost 0), +40 without cost; 12 June is out.
    assert (a["orders"], a["revenue"], a["gross_profit"]) == (2, 40.0, -10.0)
    assert (a["revenue_without_cost"], a["uses"], a["treatment_cost"], a["net_profit"]) == (40.0, 2, 10.0, -20.0)
    assert (a["pre_orders"], a["pre_revenue"], a["frequency"], a["spend"]) == (1, 50.0, 2, 150.0)
    assert (a["recency_days"], a["tenure_days"], a["last_nps"]) == (7.0, 183.0, 3.0)
    assert a["main_channel"] == "app"  # one web and one app purchase before: the tie goes to the first name
    assert (a["segment"], a["region"], a["channel"], a["treated"]) == ("family", "North", "search", True)
    # B: a control customer costs nothing under the rule; the 2023 purchase is older than a year.
    assert (b["orders"], b["revenue"], b["gross_profit"], b["treatment_cost"], b["net_profit"]) == (1, 20.0, 15.0, 0.0, 15.0)
    assert (b["frequency"], b["spend"], b["recency_days"], b["tenure_days"]) == (0, 0.0, 517.0, 517.0)
    assert math.isnan(b["last_nps"]) and b["main_channel"] == "store"
    # C never bought: zeros, unknown recency, tenure from acquired_at.
    assert (c["orders"], c["revenue"], c["net_profit"], c["tenure_days"]) == (0, 0.0, 0.0, 1.0)
    assert math.isnan(c["recency_days"]) and pd.isna(c["main_channel"])
    # D: assigned 20 June, window 20-30 June; two NPS answers on the last day average to 7.
    assert (d["orders"], d["revenue"], d["gross_profit"], d["pre_orders"], d["pre_revenue"]) == (1, 70.0, 40.0, 1, 10.0)
    assert (d["recency_days"], d["tenure_days"], d["last_nps"]) == (1.0, 171.0, 7.0)


def test_without_a_rule_the_cost_is_the_interventions_tables(any_engine, hand_frames):
    company = company_on(any_engine, hand_frames)
    rows = by_customer(participant_outcomes(company, "call", outcome_window(company, "call")))
    assert [rows[k]["treatment_cost"] for k in "ABCD"] == [12.5, 0.0, 0.0, 0.0]  # B's missing cost is 0
    assert rows["A"]["net_profit"] == -22.5
    assert rows["A"]["uses"] == 2  # without a rule every order in the window counts as a use


def test_a_longer_window_leaves_out_customers_it_would_run_past_as_of_for(any_engine, hand_frames):
    company = company_on(any_engine, hand_frames)
    window = outcome_window(company, "call", 30)
    assert (window.days, window.chosen, window.excluded_treated, window.excluded_control) == (30, True, 0, 1)
    rows = by_customer(participant_outcomes(company, "call", window))
    assert list(rows) == ["A", "B", "C"]
    assert rows["A"]["revenue"] == 40.0 + 999.0 and rows["A"]["orders"] == 3
    with pytest.raises(InputError, match="runs past the data"):
        outcome_window(company, "call", 31)


def test_cost_per_use_parses_amount_and_channels():
    assert CostPerUse.parse("6.90") == CostPerUse(6.9, ())
    assert CostPerUse.parse("6.90: web, app") == CostPerUse(6.9, ("web", "app"))
    for bad in ("free", "-1", "nan"):
        with pytest.raises(InputError):
            CostPerUse.parse(bad)


def test_the_rule_reproduces_the_demo_companys_waived_fees(duckdb_engine):
    tables = demo.generate(customers=3_000, seed=3)
    company = company_on(duckdb_engine, tables, demo.PLANTED.default_as_of)
    window = outcome_window(company, "free_delivery")
    listed = participant_outcomes(company, "free_delivery", window)
    ruled = participant_outcomes(company, "free_delivery", window,
                                 CostPerUse(demo.PLANTED.experiment.fee_per_order, ("web", "app")))
    assert window.days == demo.PLANTED.experiment.days_before_as_of + 1
    assert np.allclose(listed["treatment_cost"], ruled["treatment_cost"], atol=0.005)
    assert listed["treatment_cost"].sum() > 0


@pytest.mark.spark
def test_outcomes_are_equal_on_duckdb_and_spark(duckdb_engine, spark_engine):
    tables = demo.generate(customers=2_000, seed=5)
    frames = []
    for engine in (duckdb_engine, spark_engine):
        company = company_on(engine, tables, demo.PLANTED.default_as_of)
        frames.append(participant_outcomes(company, "free_delivery", outcome_window(company, "free_delivery"),
                                           CostPerUse(6.9, ("web", "app"))))
    on_duckdb, on_spark = frames
    assert len(on_duckdb) > 100
    pd.testing.assert_frame_equal(on_spark, on_duckdb, check_dtype=False, check_exact=True)
