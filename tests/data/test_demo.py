"""The demo company: contract-valid tables, reproducible, and the planted truths really are in the data.

Statistical checks compare the data with independent computations (closed forms, recounts from the
tables) and allow four standard errors, computed from the sample itself.
"""

from __future__ import annotations

import math
import re
import tomllib
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest
from scipy import special

import expectations
from custfocus import demo
from custfocus.data.contract import SCORE_RANGES, TABLES
from custfocus.demo import PLANTED

AS_OF = date(2026, 9, 30)
ARROW_TYPES = {"id": pa.string(), "text": pa.string(), "category": pa.string(), "date": pa.date32(),
               "number": pa.float64(), "integer": pa.int64()}
LATE_WORDS = re.compile(r"\b(?:late|delay\w*|on time|waited|waiting)\b", re.IGNORECASE)
PRICE_WORDS = re.compile(r"\b(?:price\w*|expensive|cheaper|pricey)\b", re.IGNORECASE)


def frames_of(tables: dict[str, pa.Table]) -> dict[str, pd.DataFrame]:
    return {name: table.to_pandas(date_as_object=False) for name, table in tables.items()}


@pytest.fixture(scope="module")
def tables() -> dict[str, pa.Table]:
    return demo.generate(customers=20_000, seed=7)


@pytest.fixture(scope="module")
def frames(tables) -> dict[str, pd.DataFrame]:
    return frames_of(tables)


@pytest.fixture(scope="module")
def large() -> dict[str, pd.DataFrame]:
    """Enough customers for the experiment and the staff surveys to have power (about 2 s)."""
    return frames_of(demo.generate(customers=200_000, seed=11))


def within(estimate: float, expected: float, standard_error: float, sigmas: float = 4.0) -> bool:
    return abs(estimate - expected) <= sigmas * standard_error


def nps_with_se(scores: pd.Series) -> tuple[float, float]:
    value = 100.0 * ((scores >= 9).astype(float) - (scores <= 6))
    return value.mean(), value.std() / math.sqrt(len(value))


def purchases(frames) -> pd.DataFrame:
    tx = frames["transactions"]
    return tx[tx.amount > 0]


def assignment_date(frames) -> pd.Timestamp:
    dates = frames["interventions"].date.unique()
    assert len(dates) == 1
    return pd.Timestamp(dates[0])


# -- the contract ------------------------------------------------------------------------------


def test_tables_and_column_types_follow_the_contract(tables):
    assert set(tables) == set(TABLES)
    for name, table in tables.items():
        contract = TABLES[name]
        assert set(table.column_names) <= set(contract.column_names), name
        assert set(contract.required) <= set(table.column_names), name
        for field in table.schema:
            assert field.type == ARROW_TYPES[contract.column(field.name).type], (name, field.name)
        for column in contract.required:
            assert table[column].null_count == 0, (name, column)


def test_values_respect_the_contract_rules(tables):
    first_day = AS_OF - timedelta(days=PLANTED.acquisition.history_days)
    for name, table in tables.items():
        for column in TABLES[name].columns:
            if column.name not in table.column_names:
                continue
            values = table[column.name].to_pandas().dropna()
            if column.min is not None:
                assert values.min() >= column.min, (name, column.name)
            if column.max is not None:
                assert values.max() <= column.max, (name, column.name)
            if column.choices:
                assert set(values) <= set(column.choices), (name, column.name)
            if column.type == "date":
                assert values.min() >= first_day and values.max() <= AS_OF, (name, column.name)
    responses = tables["responses"].to_pandas()
    for kind, (low, high) in SCORE_RANGES.items():
        scores = responses.score[responses.kind == kind]
        assert len(scores) > 0 and scores.between(low, high).all(), kind


def test_keys_are_unique_and_every_customer_is_known(frames):
    known = set(frames["customers"].customer_id)
    for name, contract in TABLES.items():
        frame = frames[name]
        if contract.unique_key:
            assert not frame.duplicated(list(contract.unique_key)).any(), name
        if contract.needs_known_customer:
            assert set(frame.customer_id.dropna()) <= known, name
    assert re.fullmatch(r"C\d{6}", frames["customers"].customer_id.iloc[0])


def test_the_same_seed_gives_the_same_company():
    first, again, other = (demo.generate(customers=3_000, seed=s) for s in (1, 1, 2))
    assert all(first[name].equals(again[name]) for name in first)
    assert not first["transactions"].equals(other["transactions"])


def test_as_of_moves_the_whole_history():
    as_of = date(2025, 1, 31)
    frames = frames_of(demo.generate(customers=2_000, as_of=as_of))
    latest = max(frame[column].max() for frame in frames.values()
                 for column in frame.columns if column in ("date", "acquired_at"))
    assert latest.date() <= as_of
    assert frames["customers"].acquired_at.min().date() >= as_of - timedelta(days=1095)
    assert assignment_date(frames).date() == as_of - timedelta(days=183)


def test_customers_scale_every_table(frames):
    small = demo.generate(customers=5_000, seed=7)
    for name, table in small.items():
        assert 3.4 <= len(frames[name]) / table.num_rows <= 4.6, name


def test_write_csv_and_parquet_read_back(tmp_path):
    tables = demo.generate(customers=1_000, seed=3)
    for fmt in ("csv", "parquet"):
        paths = demo.write(tables, tmp_path / fmt, fmt=fmt)
        settings = tomllib.loads(paths["settings"].read_text(encoding="utf-8"))
        assert settings == {"company": {"name": "Demo Retail", "currency": "EUR", "as_of": "2026-09-30"}}
        for name, table in tables.items():
            assert paths[name].name == f"{name}.{fmt}"
            types = {f.name: f.type for f in table.schema}
            options = pa_csv.ConvertOptions(column_types=types, strings_can_be_null=True)
            back = (pa_csv.read_csv(paths[name], convert_options=options)
                    if fmt == "csv" else pq.read_table(paths[name]))
            assert back.select(table.column_names).equals(table.replace_schema_metadata(None)), (fmt, name)
    with pytest.raises(ValueError):
        demo.write(tables, tmp_path / "x", fmt="xlsx")


def test_the_written_demo_passes_validation(tmp_path):
    from custfocus.data.loading import validate

    demo.write(demo.generate(customers=2_000, seed=5), tmp_path)
    report = validate(tmp_path)
    assert report.ok, [p.sentence() for p in report.problems[:5]]
    assert all(t.rejected == 0 and t.used == t.read for t in report.tables.values())


# -- 1. acquisition and BG/NBD purchasing -------------------------------------------------------


def test_acquisition_grows_and_peaks_in_late_autumn(frames):
    acquired = frames["customers"].acquired_at
    first_day = pd.Timestamp(AS_OF - timedelta(days=1095))
    day = (acquired - first_day).dt.days
    # Independent integral of the documented intake (1 + t/H)(1 + 0.3 cos(...)) over the years.
    grid = pd.date_range(first_day, periods=1096, freq="D")
    season = 1 + 0.3 * np.cos(2 * np.pi * (grid.day_of_year.to_numpy() - 330) / 365.25)
    intake = (1 + np.arange(1096) / 1095) * season
    expected = intake[-365:].sum() / intake[:365].sum()
    last, first = (day > 1095 - 365).sum(), (day < 365).sum()
    assert within(last / first, expected, expected * math.sqrt(1 / last + 1 / first))
    november = (acquired.dt.year == 2025) & (acquired.dt.month == 11)
    may = (acquired.dt.year == 2025) & (acquired.dt.month == 5)
    assert november.sum() > 1.4 * may.sum()


def bgnbd_expected_repeats(t: np.ndarray, r: float, alpha: float, a: float, b: float) -> np.ndarray:
    """E[X(t)], Fader, Hardie & Lee (2005), equation 7."""
    return ((a + b - 1) / (a - 1)) * (1 - (alpha / (alpha + t)) ** r
                                      * special.hyp2f1(r, b, a + b - 1, t / (alpha + t)))


def test_repeat_purchases_match_the_bgnbd_expected_count(large):
    """Counted before the assignment date (after it, treated customers buy extra), else to as_of."""
    frames = large
    customers = frames["customers"].set_index("customer_id")
    start = assignment_date(frames)
    early = customers.acquired_at < start
    horizon = pd.Series(pd.Timestamp(AS_OF), index=customers.index).mask(early, start)
    # Purchases dated before the assignment date count; for later customers, all up to as_of.
    end = horizon + pd.to_timedelta((~early).astype(int), unit="D")
    bought = purchases(frames)
    in_window = bought.date < end.loc[bought.customer_id].to_numpy()
    repeats = bought[in_window].groupby("customer_id").size().reindex(customers.index, fill_value=0) - 1
    weeks = (horizon - customers.acquired_at).dt.days.to_numpy() / 7
    p = PLANTED.purchasing
    expected = bgnbd_expected_repeats(weeks, p.r, p.alpha, p.a, p.b)
    assert (repeats >= 0).all()
    for group in (weeks >= 0, weeks < 52, weeks >= 104):
        observed = repeats[group]
        assert within(observed.mean(), expected[group].mean(), observed.std() / math.sqrt(len(observed)))


def test_first_purchases_follow_gamma_gamma_spend(frames):
    first = purchases(frames).sort_values("date").drop_duplicates("customer_id").amount
    s = PLANTED.spend
    mean = s.p * s.gamma / (s.q - 1)  # E[p / nu] with nu ~ Gamma(q, rate gamma)
    second_moment = s.p * (s.p + 1) * s.gamma**2 / ((s.q - 1) * (s.q - 2))
    assert mean == pytest.approx(120.0) and s.mean_order_value == pytest.approx(mean)
    assert within(first.mean(), mean, first.std() / math.sqrt(len(first)))
    assert within((first**2).mean(), second_moment, (first**2).std() / math.sqrt(len(first)))


# -- 3. cost of goods and refunds ---------------------------------------------------------------


def test_cost_of_goods_is_the_planted_share_of_revenue(frames):
    bought = purchases(frames)
    assert bought.cost.sum() / bought.amount.sum() == pytest.approx(PLANTED.spend.mean_cost_share, abs=0.01)
    assert (bought.cost <= bought.amount).all()
    assert set(bought.channel) == {"web", "app", "store"}


def test_refunds_reverse_an_earlier_order_and_log_a_return(frames):
    tx = frames["transactions"]
    refunds = tx[tx.amount < 0]
    assert (refunds.cost == 0).all() and refunds.order_id.str.endswith("-R").all()
    original = tx.set_index("order_id").loc[refunds.order_id.str.removesuffix("-R")]
    assert (original.customer_id.to_numpy() == refunds.customer_id.to_numpy()).all()
    assert (original.amount.to_numpy() == -refunds.amount.to_numpy()).all()
    assert (original.date.to_numpy() < refunds.date.to_numpy()).all()
    orders = (tx.amount > 0).sum()
    # 3% refunded; the few whose refund would fall after as_of are missing.
    assert 0.025 <= len(refunds) / orders <= 0.03 + 4 * math.sqrt(0.03 * 0.97 / orders)
    events = frames["service_events"]
    returns = events[events.kind == "return"]
    assert set(zip(refunds.customer_id, refunds.date)) == set(zip(returns.customer_id, returns.date))


# -- 2. late deliveries -------------------------------------------------------------------------


def test_late_deliveries_are_worst_in_the_east(frames):
    events = frames["service_events"]
    deliveries = events[events.kind == "delivery"].merge(frames["customers"][["customer_id", "region"]])
    late = (deliveries.resolution_hours > 72).groupby(deliveries.region).agg(["mean", "size"])
    expected = expectations.SERVICE.expected_late_share_per_delivery
    for region, row in late.iterrows():
        share = expected[region]
        assert within(row["mean"], share, math.sqrt(share * (1 - share) / row["size"])), region
    assert late["mean"].idxmax() == "East"
    assert (deliveries.department == "Logistics").all()
    web_or_app = purchases(frames).channel.isin(["web", "app"]).sum()
    assert len(deliveries) <= web_or_app


# -- 5. voice -----------------------------------------------------------------------------------


def nps_comments(frames) -> pd.DataFrame:
    responses = frames["responses"]
    return responses[(responses.kind == "nps") & responses.comment.notna()]


def test_comments_are_plain_sentences_on_a_share_of_nps_answers(frames):
    responses = frames["responses"]
    nps = responses[responses.kind == "nps"]
    assert responses.comment[responses.kind != "nps"].isna().all()
    share = nps.comment.notna().mean()
    assert within(share, PLANTED.voice.comment_rate, math.sqrt(0.4 * 0.6 / len(nps)))
    comments = nps.comment.dropna()
    assert comments.str.fullmatch(r"[A-Z][^\n]*[.!?]").all()
    assert not comments.str.contains("  ").any()
    assert comments.nunique() > 50


def test_late_delivery_is_the_theme_that_drives_detractors(frames):
    commented = nps_comments(frames)
    late = commented.comment.str.contains(LATE_WORDS)
    detractors, promoters = commented.score <= 6, commented.score >= 9
    assert late[detractors].mean() > 0.35 > 0.03 > late[promoters].mean()
    expected = expectations.VOICE.expected_late_mention_share
    assert within(late[detractors].mean(), expected["detractor"],
                  math.sqrt(0.25 / detractors.sum()))

    def points_lost(mentions: pd.Series) -> float:
        return mentions.mean() * (nps_with_se(commented.score[~mentions])[0]
                                  - nps_with_se(commented.score[mentions])[0])

    lost_to_late = points_lost(late)
    assert lost_to_late == pytest.approx(expectations.VOICE.expected_points_lost["late delivery"], abs=4)
    assert lost_to_late > 3 * points_lost(commented.comment.str.contains(PRICE_WORDS))


def test_logistics_customers_have_a_lower_nps(frames):
    nps = frames["responses"][frames["responses"].kind == "nps"]
    by_department = {d: nps_with_se(g.score) for d, g in nps.groupby("department")}
    assert set(by_department) == set(expectations.PEOPLE.expected_customer_nps)
    for department, (value, se) in by_department.items():
        assert within(value, expectations.PEOPLE.expected_customer_nps[department], se), department
    affected = nps.department == PLANTED.people.affected_department
    assert nps_with_se(nps.score[affected])[0] < nps_with_se(nps.score[~affected])[0] - 25
    overall, se = nps_with_se(nps.score)
    assert within(overall, expectations.VOICE.expected_nps, se)


def test_csat_and_ces_follow_service_events(frames):
    responses = frames["responses"]
    for kind, expected in (("csat", expectations.VOICE.expected_csat_mean),
                           ("ces", expectations.VOICE.expected_ces_mean)):
        scores = responses.score[responses.kind == kind]
        assert within(scores.mean(), expected, scores.std() / math.sqrt(len(scores))), kind
    assert set(responses.touchpoint[responses.kind == "ces"]) <= {"support ticket", "phone call", "return"}


# -- 6. people ----------------------------------------------------------------------------------


def test_employee_nps_by_department_is_the_planted_level(large):
    answers = large["employee_responses"]
    for department, group in answers.groupby("department"):
        value = 100.0 * ((group.score >= 9).astype(float) - (group.score <= 6))
        estimate = value.mean()
        # Repeated answers of one employee are correlated: cluster the standard error by employee.
        by_employee = (value - estimate).groupby(group.employee_id).sum()
        se = math.sqrt((by_employee**2).sum()) / len(value)
        assert within(estimate, PLANTED.people.enps[department], se), department
    assert answers.groupby("department").score.mean().idxmin() == "Warehouse"


def test_warehouse_serves_logistics_poorly(large):
    internal = large["internal_responses"]
    pairs = internal.groupby(["from_department", "to_department"]).score.agg(["mean", "std", "size"])
    assert set(pairs.index) == set(PLANTED.people.internal_mu)
    worst = pairs["mean"].idxmin()
    assert worst == ("Logistics", "Warehouse")
    row = pairs.loc[worst]
    expected = PLANTED.people.expected_internal_mean(*worst)
    assert within(row["mean"], expected, row["std"] / math.sqrt(row["size"]))
    assert internal.groupby("to_department").score.mean().idxmin() == "Warehouse"


def test_logistics_is_the_department_with_the_lowest_nps_and_enps_goes_with_nps(large):
    """Small departments (IT answers about 1 in 100 surveys) need the larger company."""
    nps = large["responses"][large["responses"].kind == "nps"]
    customer_nps = nps.groupby("department").score.apply(lambda s: nps_with_se(s)[0])
    assert customer_nps.idxmin() == PLANTED.people.affected_department
    enps = pd.Series(PLANTED.people.enps).loc[customer_nps.index]
    assert np.corrcoef(enps, customer_nps)[0, 1] > 0.8


# -- 7. the free-delivery experiment ------------------------------------------------------------


def test_experiment_assigns_a_fifth_of_active_customers_half_and_half(frames):
    start = assignment_date(frames)
    assert start.date() == AS_OF - timedelta(days=183)
    customers = frames["customers"].set_index("customer_id")
    bought = purchases(frames)
    recent = bought[(bought.date < start) & (bought.date >= start - pd.Timedelta(days=365))]
    eligible = set(recent.customer_id) & set(customers.index[customers.acquired_at < start])
    assigned = frames["interventions"]
    assert set(assigned.customer_id) <= eligible
    share = len(assigned) / len(eligible)
    assert within(share, 0.2, math.sqrt(0.2 * 0.8 / len(eligible)))
    assert within(len(eligible) / len(customers), expectations.EXPERIMENT.expected_eligible_share,
                  math.sqrt(0.25 / len(customers)))
    groups = assigned.group.value_counts()
    assert abs(groups["treatment"] - groups["control"]) <= 1
    assert (assigned.intervention == "free_delivery").all()


def test_experiment_cost_is_the_waived_fees(frames):
    start = assignment_date(frames)
    bought = purchases(frames)
    fees = bought[(bought.date >= start) & bought.channel.isin(["web", "app"])].groupby("customer_id").size()
    assigned = frames["interventions"].set_index("customer_id")
    treated = assigned.group == "treatment"
    expected = PLANTED.experiment.fee_per_order * fees.reindex(assigned.index, fill_value=0)
    assert np.allclose(assigned.cost[treated], expected[treated], atol=0.005)
    assert (assigned.cost[~treated] == 0).all()


def experiment_outcomes(frames) -> pd.DataFrame:
    """Per assigned customer: orders and gross profit (refunds included) from the assignment date."""
    start = assignment_date(frames)
    tx = frames["transactions"]
    after = tx[tx.date >= start]
    outcome = pd.DataFrame({
        "orders": (after.amount > 0).groupby(after.customer_id).sum(),
        "gross_profit": (after.amount - after.cost).groupby(after.customer_id).sum(),
    })
    assigned = frames["interventions"].merge(frames["customers"][["customer_id", "segment"]])
    return assigned.join(outcome, on="customer_id").fillna({"orders": 0, "gross_profit": 0})


def difference(outcomes: pd.DataFrame, column: str) -> tuple[float, float]:
    treated = outcomes[outcomes.group == "treatment"][column]
    control = outcomes[outcomes.group == "control"][column]
    return (treated.mean() - control.mean(),
            math.sqrt(treated.var() / len(treated) + control.var() / len(control)))


def test_free_delivery_raises_orders_most_for_families(large):
    outcomes = experiment_outcomes(large)
    expected = expectations.EXPERIMENT
    for segment, group in [("all", outcomes), *outcomes.groupby("segment")]:
        extra, se = difference(group, "orders")
        assert within(extra, expected.expected_extra_orders[segment], se), segment
        treated = group[group.group == "treatment"]
        net = difference(group, "gross_profit")[0] - treated.cost.mean()
        assert within(net, expected.expected_net_profit[segment], difference(group, "gross_profit")[1]), segment
    for segment in ("all", "family"):
        group = outcomes if segment == "all" else outcomes[outcomes.segment == segment]
        extra, se = difference(group, "orders")
        assert extra > 3 * se, segment


@pytest.mark.slow
def test_free_delivery_does_not_pay_overall_but_pays_for_families():
    outcomes = experiment_outcomes(frames_of(demo.generate(customers=1_000_000, seed=7)))
    verdict = {}
    for segment, group in [("all", outcomes), *outcomes.groupby("segment")]:
        gain, se = difference(group, "gross_profit")
        net = gain - group[group.group == "treatment"].cost.mean()
        verdict[segment] = "pays" if net - 1.96 * se > 0 else "loses" if net + 1.96 * se < 0 else "unknown"
    assert verdict["all"] == "loses" and verdict[PLANTED.experiment.pays_for] == "pays"
    assert verdict["single"] == verdict["business"] == "loses"
