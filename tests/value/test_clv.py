"""Customer value: the merged-row pipeline against a direct per-customer computation, recovery of
planted and simulated parameters, summary files, writing, reports and charts."""

from __future__ import annotations

import json
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from custfocus import demo
from custfocus.data.company import Company
from custfocus.errors import InputError, ModelNotEstimated
from custfocus.value import charts
from custfocus.value.clv import (
    DAYS_PER_MONTH,
    MIN_REPEAT_BUYERS,
    clv_deciles,
    clv_from_summary,
    clv_report,
    customer_value,
    monthly_rate,
    read_summary,
    total_clv,
    write_predictions,
)
from custfocus.value.fitters import BGNBD, GammaGamma, customer_lifetime_value
from custfocus.value.simulate import simulate_bgnbd, simulate_gamma_gamma

AS_OF = demo.PLANTED.default_as_of
COLUMNS = ["customer_id", "frequency", "recency", "T", "monetary_value", "revenue", "p_alive",
           "expected_purchases", "expected_spend", "clv"]


def demo_transactions(customers: int, seed: int = 7) -> pa.Table:
    return demo.generate(customers, seed=seed)["transactions"].select(
        ["customer_id", "date", "amount"])


@pytest.fixture(scope="module")
def small_demo() -> pa.Table:
    return demo_transactions(3_000)


def company_on(engine, transactions: pa.Table) -> Company:
    return Company(tables={"transactions": engine.from_frame("transactions", transactions)},
                   as_of=AS_OF)


def pulled(value) -> pd.DataFrame:
    return value.table.to_pandas().sort_values("customer_id", ignore_index=True)


def direct_clv(model, spend_model, frame: pd.DataFrame, months: int, annual_rate: float,
               time_unit_days: float) -> np.ndarray:
    """CLV customer by customer: month k's expected purchases, discounted at its end."""
    x, t_x, T = (frame[k].to_numpy(dtype=float) for k in ("frequency", "recency", "T"))
    month = DAYS_PER_MONTH / time_unit_days
    monthly = (1 + annual_rate) ** (1 / 12) - 1
    value = np.zeros(len(frame))
    before = np.zeros(len(frame))
    for k in range(1, months + 1):
        after = model.expected_purchases(k * month, x, t_x, T)
        value += (after - before) / (1 + monthly) ** k
        before = after
    return value * spend_model.expected_spend(x, frame["monetary_value"].to_numpy())


def test_value_equals_direct_per_customer_computation(any_engine, small_demo):
    value = customer_value(company_on(any_engine, small_demo), horizon_months=12,
                           annual_discount_rate=0.10)
    got = pulled(value)
    assert list(got.columns) == COLUMNS
    assert len(got) == value.n_customers == value.transaction_model.n_customers_ + (
        got["T"] == 0).sum()
    model, spend = value.transaction_model, value.spend_model
    x, t_x, T = (got[k].to_numpy(dtype=float) for k in ("frequency", "recency", "T"))
    np.testing.assert_allclose(got["p_alive"], model.probability_alive(x, t_x, T), rtol=1e-12)
    np.testing.assert_allclose(got["expected_purchases"],
                               model.expected_purchases(12 * DAYS_PER_MONTH / 7, x, t_x, T),
                               rtol=1e-10)
    np.testing.assert_allclose(got["expected_spend"],
                               spend.expected_spend(x, got["monetary_value"]), rtol=1e-12)
    np.testing.assert_allclose(got["clv"], direct_clv(model, spend, got, 12, 0.10, 7.0),
                               rtol=1e-10)

    # The fits on merged rows are the fits on one row per customer.
    fitted = got[got["T"] > 0]
    direct = BGNBD(merge=False).fit(fitted["frequency"], fitted["recency"], fitted["T"])
    for name, estimate in direct.params_.items():
        assert model.params_[name] == pytest.approx(estimate, rel=1e-6)
    buyers = got[got["frequency"] > 0]
    direct_spend = GammaGamma(merge=False).fit(buyers["frequency"], buyers["monetary_value"])
    for name, estimate in direct_spend.params_.items():
        assert spend.params_[name] == pytest.approx(estimate, rel=1e-6)


def test_summary_file_gives_the_same_values(duckdb_engine, small_demo, tmp_path):
    value = customer_value(company_on(duckdb_engine, small_demo), model="mbgnbd",
                           time_unit="days", horizon_months=6, annual_discount_rate=0.2)
    got = pulled(value)
    path = tmp_path / "summary.csv"
    got[["customer_id", "frequency", "recency", "T", "monetary_value"]].to_csv(path, index=False)
    again = clv_from_summary(read_summary(path, duckdb_engine), model="mbgnbd",
                             time_unit="days", horizon_months=6, annual_discount_rate=0.2)
    assert again.transaction_model.params_.to_dict() == pytest.approx(
        value.transaction_model.params_.to_dict(), rel=1e-9)
    redone = pulled(again)
    assert redone["revenue"].isna().all()
    for column in ("p_alive", "expected_purchases", "expected_spend", "clv"):
        np.testing.assert_allclose(redone[column], got[column], rtol=1e-9)


def test_other_tools_column_names_and_missing_spend(duckdb_engine):
    frame = simulate_bgnbd(2_000, r=0.5, alpha=8, a=0.8, b=2.5, T=52.0, seed=3)
    btyd = frame.rename(columns={"frequency": "x", "recency": "t.x", "T": "T.cal"})
    value = clv_from_summary(btyd)
    got = pulled(value)
    assert len(got) == 2_000 and set(got["customer_id"]) == {str(i) for i in range(1, 2_001)}
    assert got["clv"].isna().all() and got["expected_spend"].isna().all()
    assert got["expected_purchases"].notna().all()
    assert value.spend_model is None and "not their value" in value.caveats[0]


@pytest.mark.parametrize("broken, message", [
    (lambda f: f.drop(columns="T"), "lacks the column"),
    (lambda f: f.assign(recency=f["T"] + 1), "recency <= T"),
    (lambda f: f.assign(frequency=-1), "frequency must be"),
    (lambda f: f.assign(monetary_value=0.0), "monetary_value must be > 0"),
])
def test_bad_summary_is_refused(broken, message):
    frame = simulate_bgnbd(50, r=0.5, alpha=8, a=0.8, b=2.5, T=52.0, seed=4)
    frame = frame[frame["frequency"] > 0].assign(monetary_value=10.0)
    with pytest.raises(InputError, match=message):
        clv_from_summary(broken(frame))


def test_too_few_repeat_buyers_fall_back_to_the_pooled_mean_spend(duckdb_engine):
    frame = simulate_bgnbd(200, r=0.5, alpha=8, a=0.8, b=2.5, T=5.0, seed=5)
    frame["monetary_value"] = simulate_gamma_gamma(frame["frequency"], p=6, q=6, gamma=100, seed=6)
    assert 0 < (frame["frequency"] > 0).sum() < MIN_REPEAT_BUYERS
    value = clv_from_summary(frame)
    assert value.spend_model is None and "too few" in value.caveats[0]
    buyers = frame[frame["frequency"] > 0]
    pooled = (buyers["monetary_value"] * buyers["frequency"]).sum() / buyers["frequency"].sum()
    got = pulled(value)
    np.testing.assert_allclose(got["expected_spend"], pooled, rtol=1e-12)


def test_total_clv_interval_equals_the_delta_method_customer_by_customer(duckdb_engine, small_demo):
    """The one-pass gradient (analytic for spend, forward differences on the merged histories)
    against central differences of the total computed customer by customer."""
    value = customer_value(company_on(duckdb_engine, small_demo))
    got = pulled(value)
    fitted = (value.transaction_model, value.spend_model)
    names = [(m, k) for m in fitted for k in m.params_.index]
    theta = np.array([m.params_[k] for m, k in names])

    def total(log_theta):
        models = []
        for m in fitted:
            other = type(m)()
            other.params_ = {k: float(np.exp(log_theta[names.index((m, k))])) for k in m.params_.index}
            models.append(other)
        return direct_clv(*models, got, 12, 0.10, 7.0).sum()

    step = 1e-5
    gradient = np.array([(total(np.log(theta) + step * e) - total(np.log(theta) - step * e))
                         / (2 * step) for e in np.eye(theta.size)])
    covariance = np.zeros((theta.size, theta.size))
    covariance[:4, :4] = fitted[0].covariance_.to_numpy()
    covariance[4:, 4:] = fitted[1].covariance_.to_numpy()
    half = 1.959964 * np.sqrt(gradient @ (covariance / np.outer(theta, theta)) @ gradient)
    got_total = total_clv(value)
    assert got_total.high - got_total.estimate == pytest.approx(half, rel=1e-4)


def test_total_clv_interval_matches_drawn_parameters(duckdb_engine, small_demo):
    """The delta-method interval of the total CLV against totals computed customer by customer
    for parameters drawn from the fits' asymptotic normal distributions."""
    value = customer_value(company_on(duckdb_engine, small_demo))
    got = pulled(value)
    total = total_clv(value)
    assert total.estimate == pytest.approx(got["clv"].sum(), rel=1e-9)
    assert total.n == len(got)
    rng = np.random.default_rng(8)
    draws = []
    for _ in range(100):
        models = []
        for fitted in (value.transaction_model, value.spend_model):
            drawn = type(fitted)()
            drawn.params_ = pd.Series(rng.multivariate_normal(
                fitted.params_.to_numpy(), fitted.covariance_.to_numpy()), index=fitted.params_.index)
            models.append(drawn)
        draws.append(direct_clv(*models, got, 12, 0.10, 7.0).sum())
    delta_sd = (total.high - total.low) / (2 * 1.959964)
    assert np.std(draws) == pytest.approx(delta_sd, rel=0.25)


def _clv_at_50_digits(r, alpha, a, b, p, q, gamma, x, t_x, T, m, month, monthly_rate_):
    """One customer's CLV straight from the published formulas at 50 digits (mpmath): FHL (2005)
    eq. 10 for E[X(t) | x, t_x, T] with mpmath's 2F1, the Gamma-Gamma conditional mean spend, and
    month k's purchases discounted at its end."""
    import mpmath as mp

    with mp.workdps(50):
        r, alpha, a, b, p, q, gamma, x, t_x, T, m, month, rate = (
            mp.mpf(v) for v in (r, alpha, a, b, p, q, gamma, x, t_x, T, m, month, monthly_rate_))

        def expected(t):
            hyp = mp.hyp2f1(r + x, b + x, a + b + x - 1, t / (alpha + T + t))
            value = (a + b + x - 1) / (a - 1) * (1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp)
            odds = a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x) if x > 0 else 0
            return value / (1 + odds)

        spend = p * (gamma + m * x) / (p * x + q - 1)
        return float(spend * mp.fsum((expected(k * month) - expected((k - 1) * month)) / (1 + rate) ** k
                                     for k in range(1, 13)))


def test_twelve_months_are_a_year_of_days_not_lifetimes_4345_weeks(duckdb_engine):
    """The 12-month CLV of a summary against the formulas at 50 digits, months being 365.25 / 12
    days. lifetimes' ``customer_lifetime_value(freq="W")`` takes a month as 4.345 weeks (30.415
    days): same models, same parameters, 12 months 0.27 days shorter, which makes its CLVs
    4e-4 to 7e-4 smaller (the 5.8e-4 of the 1M-customer benchmark); our values at 4.345 weeks
    per month are lifetimes' to 1e-12."""
    frame = simulate_bgnbd(4_000, r=0.243, alpha=4.414, a=0.793, b=2.426,
                           T=lambda k, rng: rng.integers(7, 547, k) / 7.0, seed=5)
    frame["monetary_value"] = simulate_gamma_gamma(frame["frequency"], p=6.25, q=3.74, gamma=15.44,
                                                   seed=6)
    frame.insert(0, "customer_id", [f"C{i}" for i in range(len(frame))])
    value = clv_from_summary(frame, annual_discount_rate=0.10)
    got = pulled(value).set_index("customer_id")
    model, spend = value.transaction_model, value.spend_model
    # no purchase yet, recent and old; a few repeat buyers; the heaviest buyer
    picked = pd.concat([got[got["frequency"] == 0].sort_values("T").iloc[[0, -1]],
                        got[got["frequency"].between(1, 5)].iloc[:3],
                        got.nlargest(1, "frequency")])
    rate = value.monthly_discount_rate
    reference = [_clv_at_50_digits(*model.params_[["r", "alpha", "a", "b"]],
                                   *spend.params_[["p", "q", "gamma"]], row.frequency, row.recency,
                                   row.T, row.monetary_value, 365.25 / 12 / 7, rate)
                 for row in picked.itertuples()]
    np.testing.assert_allclose(picked["clv"], reference, rtol=1e-10)

    lifetimes = pytest.importorskip("lifetimes")
    bgf = lifetimes.BetaGeoFitter()
    bgf.params_ = model.params_[["r", "alpha", "a", "b"]]
    bgf.predict = bgf.conditional_expected_number_of_purchases_up_to_time
    ggf = lifetimes.GammaGammaFitter()
    ggf.params_ = pd.Series({"p": spend.params_["p"], "q": spend.params_["q"], "v": spend.params_["gamma"]})
    theirs = ggf.customer_lifetime_value(bgf, got["frequency"], got["recency"], got["T"],
                                         got["monetary_value"].fillna(0.0), time=12,
                                         discount_rate=rate, freq="W")
    shortfall = got["clv"] / theirs - 1
    assert shortfall.between(3e-4, 8e-4).all()
    x, t_x, T = (got[k].to_numpy(dtype=float) for k in ("frequency", "recency", "T"))
    at_4345 = customer_lifetime_value(model, spend, x, t_x, T, got["monetary_value"].fillna(0.0).to_numpy(),
                                      horizon=12, discount_rate=rate, time_unit_per_period=4.345)
    np.testing.assert_allclose(at_4345, theirs, rtol=1e-12)


def test_monthly_discount_compounds_to_the_annual_rate():
    assert (1 + monthly_rate(0.10)) ** 12 == pytest.approx(1.10, rel=1e-12)


@pytest.mark.parametrize("setting, message", [
    ({"model": "nbd"}, "Unknown model"),
    ({"time_unit": "fortnights"}, "Unknown time unit"),
    ({"count_by": "basket"}, "counted by day or order"),
    ({"horizon_months": 0}, "at least 1 month"),
    ({"horizon_months": 100_000_000}, "at most 120 months"),
    ({"annual_discount_rate": 10}, "would be 1000% a year; give it as a fraction, e.g. 0.1 for 10%"),
    ({"annual_discount_rate": -1.0}, "above -100%"),
])
def test_unusable_settings_are_refused_in_words(duckdb_engine, small_demo, setting, message):
    with pytest.raises(InputError, match=message):
        customer_value(company_on(duckdb_engine, small_demo), **setting)


def test_report_deciles_writing_and_charts(duckdb_engine, small_demo, tmp_path):
    value = customer_value(company_on(duckdb_engine, small_demo))
    got = pulled(value)

    report = json.loads(json.dumps(clv_report(value)))
    assert report["n_customers"] == len(got)
    assert report["totals"]["clv"]["estimate"] == pytest.approx(got["clv"].sum(), rel=1e-9)
    assert report["totals"]["mean_clv"]["n"] == len(got)
    for total, column in (("expected_alive", "p_alive"), ("expected_purchases", "expected_purchases"),
                          ("past_revenue", "revenue")):
        assert report["totals"][total] == pytest.approx(got[column].sum(), rel=1e-9), total
    assert report["totals"]["repeat_buyers"] == (got["frequency"] > 0).sum()
    assert report["transaction_model"]["parameters"]["r"]["estimate"] == pytest.approx(
        value.transaction_model.params_["r"])
    assert report["spend_model"]["n_customers"] == (got["frequency"] > 0).sum()

    deciles = clv_deciles(value)
    ranked = np.sort(got["clv"].to_numpy())[::-1]
    sizes = [len(part) for part in np.array_split(ranked, 10)]  # as SQL's ntile: larger first
    totals = [part.sum() for part in np.split(ranked, np.cumsum(sizes)[:-1])]
    assert deciles["customers"].tolist() == sizes
    np.testing.assert_allclose(deciles["clv"], totals, rtol=1e-9)
    assert deciles["cumulative_share"].iloc[-1] == pytest.approx(1.0)

    quoted = tmp_path / "O'Brien's \"team\""
    quoted.mkdir()
    for suffix, folder in ((".parquet", tmp_path), (".csv", tmp_path), (".parquet", quoted)):
        path = write_predictions(value, folder / f"clv{suffix}")
        assert path.parent == folder
        written = (pd.read_parquet(path) if suffix == ".parquet" else pd.read_csv(path))
        written = written.sort_values("customer_id", ignore_index=True)
        np.testing.assert_allclose(written["clv"], got["clv"], rtol=1e-12)
    with pytest.raises(InputError, match="parquet or .csv"):
        write_predictions(value, tmp_path / "clv.xlsx")

    figure, finding, data = charts.clv_distribution_chart(value, "EUR", deciles)
    assert f"{deciles['share'].iloc[0]:.0%}" in finding and json.dumps(data)
    frame, finding, data = charts.parameter_table(value)
    assert len(frame) == 7 and "times a year" in finding and json.dumps(data)


def test_demo_company_gives_back_its_planted_parameters(duckdb_engine):
    """Purchases before the experiment's assignment date follow the planted BG/NBD exactly, one
    row per order (demo docstring, item 1): counted by order they give the truth back."""
    assignment = AS_OF - timedelta(days=demo.PLANTED.experiment.days_before_as_of)
    transactions = demo_transactions(50_000)
    before = transactions.filter(pc.less(transactions["date"], pa.scalar(assignment)))
    value = customer_value(duckdb_engine.from_frame("transactions", before), as_of=assignment,
                           count_by="order")
    model, truth = value.transaction_model, demo.PLANTED.purchasing
    for name in ("r", "alpha", "a", "b"):
        error = (model.params_[name] - getattr(truth, name)) / model.standard_errors_[name]
        assert abs(error) < 3, (name, model.params_[name], error)
    # Spend is linked to loyalty in the demo, but the mean spend is still the planted 120.
    assert value.spend_model.population_mean_spend() == pytest.approx(
        demo.PLANTED.spend.mean_order_value, rel=0.03)


def test_large_simulation_recovers_its_truth():
    """400,000 simulated customers given as a summary: both models' parameters come back."""
    truth = {"r": 0.55, "alpha": 10.0, "a": 0.8, "b": 2.6}
    spend_truth = {"p": 6.0, "q": 6.0, "gamma": 100.0}
    frame = simulate_bgnbd(400_000, **truth, T=lambda n, rng: rng.uniform(1, 150, n), seed=11)
    frame["monetary_value"] = simulate_gamma_gamma(frame["frequency"], **spend_truth, seed=12)
    frame["customer_id"] = np.arange(len(frame))
    value = clv_from_summary(frame, horizon_months=12)
    for model, expected in ((value.transaction_model, truth), (value.spend_model, spend_truth)):
        for name, true_value in expected.items():
            error = (model.params_[name] - true_value) / model.standard_errors_[name]
            assert abs(error) < 3, (name, model.params_[name], error)


@pytest.mark.spark
def test_duckdb_and_spark_give_the_same_values(duckdb_engine, spark_engine, small_demo):
    values = [customer_value(company_on(engine, small_demo))
              for engine in (duckdb_engine, spark_engine)]
    pd.testing.assert_frame_equal(*(pulled(v) for v in values), check_dtype=False, rtol=1e-9)
    pd.testing.assert_frame_equal(*(clv_deciles(v) for v in values), check_dtype=False,
                                  rtol=1e-9)
    totals = [clv_report(v)["totals"] for v in values]
    for key in ("clv", "mean_clv"):
        assert totals[0].pop(key) == pytest.approx(totals[1].pop(key), rel=1e-9)
    assert totals[0] == pytest.approx(totals[1], rel=1e-9)


def test_a_model_that_does_not_converge_is_refused_with_the_reason(duckdb_engine):
    """Forty customers buying exactly every 120 days: the BG/NBD runs off to r -> infinity. No
    value may come from that fit; the error says which model, on how many customers, and why."""
    days = pd.date_range("2024-01-01", "2024-06-28", freq="3D")
    frame = pd.DataFrame({"customer_id": [f"C{i % 40}" for i in range(len(days))],
                          "date": days.date, "amount": 20.0})
    with pytest.raises(ModelNotEstimated, match=r"BG/NBD model could not be estimated from these "
                                                r"40 customers.*did not converge.*r ran off") as failure:
        customer_value(duckdb_engine.from_frame("transactions", frame), as_of=date(2024, 6, 30))
    assert failure.value.model is not None and not failure.value.model.converged_
