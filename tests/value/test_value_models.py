"""Buy-till-you-die models: published CDNOW estimates, parameter recovery, gradients, weights,
extreme inputs, predictions and CLV."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, clone

from custfocus.value.fitters import (
    BGBB,
    BGNBD,
    MBGNBD,
    ConvergenceWarning,
    GammaGamma,
    ParetoNBD,
    customer_lifetime_value,
    merge_equal_rows,
)
from custfocus.value.simulate import (
    simulate_bgnbd,
    simulate_gamma_gamma,
    simulate_mbgnbd,
    simulate_pareto_nbd,
)

DATA = Path(__file__).parent / "data" / "cdnow_summary.csv"


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    d = pd.read_csv(DATA)
    return d.rename(columns={"x": "frequency", "t_x": "recency", "zbar": "monetary"})


@pytest.fixture(scope="module")
def bg(cdnow):
    return BGNBD().fit_frame(cdnow)


@pytest.fixture(scope="module")
def pnbd(cdnow):
    return ParetoNBD().fit_frame(cdnow)


@pytest.fixture(scope="module")
def mbg(cdnow):
    return MBGNBD().fit_frame(cdnow)


@pytest.fixture(scope="module")
def gg(cdnow):
    return GammaGamma().fit_frame(cdnow)


def _rft(frame):
    return frame["frequency"].to_numpy(), frame["recency"].to_numpy(), frame["T"].to_numpy()


# ---------------------------------------------------------------------------------------------
# Published estimates on the CDNOW sample (2,357 customers, weeks)
# ---------------------------------------------------------------------------------------------


def test_bgnbd_reproduces_fader_hardie_lee_2005(bg):
    # Fader, Hardie & Lee (2005), "Counting your customers the easy way", Marketing Science:
    # r = 0.243, alpha = 4.414, a = 0.793, b = 2.426, LL = -9582.4.
    p = bg.params_
    assert round(p["r"], 3) == 0.243
    assert round(p["alpha"], 3) == 4.414
    assert round(p["a"], 3) == 0.793
    assert round(p["b"], 3) == 2.426
    assert round(bg.log_likelihood_, 1) == -9582.4
    assert bg.converged_
    # The paper's worked example: customer 1 (x = 2, t_x = 30.43, T = 38.86) is expected to make
    # 1.226 purchases in the next 39 weeks.
    assert round(float(bg.expected_purchases(39, 2, 30.43, 38.86)), 3) == 1.226


def test_pareto_nbd_reproduces_published_estimates(pnbd):
    # Pareto/NBD on the same data (Fader, Hardie & Lee 2005, "RFM and CLV", and Fader & Hardie's
    # Pareto/NBD notes): r = 0.553, alpha = 10.578, s = 0.606, beta = 11.669, LL = -9595.0.
    p = pnbd.params_
    assert round(p["r"], 3) == 0.553
    assert round(p["alpha"], 3) == 10.578
    assert round(p["s"], 3) == 0.606
    # The exact maximum is at beta = 11.6679 (gradient ~1e-12 there); the published 11.669 is
    # 1e-4 relative away on a very flat ridge (its standard error is 6.2): the log-likelihood
    # at the published values is lower by 8e-5.
    assert p["beta"] == pytest.approx(11.669, abs=2e-3)
    assert round(pnbd.log_likelihood_, 1) == -9595.0
    published = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}
    cdnow_rft = pd.read_csv(DATA)
    ll_pub = pnbd.log_likelihood(cdnow_rft["x"], cdnow_rft["t_x"], cdnow_rft["T"],
                                 params=published)
    assert pnbd.log_likelihood_ >= ll_pub
    assert pnbd.converged_


def test_gamma_gamma_reproduces_published_estimates(gg, cdnow):
    # Fader, Hardie & Lee (2005) / Fader & Hardie (2013), 946 CDNOW customers with repeat
    # purchases: p = 6.25, q = 3.74, gamma = 15.44.
    p = gg.params_
    assert gg.n_customers_ == 946
    assert round(p["p"], 2) == 6.25
    assert round(p["q"], 2) == 3.74
    # The maximum of this copy of the data is gamma = 15.4477 (lifetimes finds the same to 8
    # digits); the likelihood is flat there (standard error 4.2).
    assert p["gamma"] == pytest.approx(15.44, abs=0.01)
    assert gg.converged_


def test_mbgnbd_matches_lifetimes_on_cdnow(mbg):
    # lifetimes 0.11.3 ModifiedBetaGeoFitter on the same data.
    ref = {"r": 0.5248377, "alpha": 6.1829885, "a": 0.8913563, "b": 1.6140000}
    for k, v in ref.items():
        assert mbg.params_[k] == pytest.approx(v, rel=1e-5)


XS = np.array([0, 1, 2, 5, 10, 29])
TXS = np.array([0, 5.0, 30.43, 20, 35, 38])
TS = np.array([38.86, 38.0, 38.86, 30, 36, 38.5])


def test_predictions_match_lifetimes(bg, mbg, pnbd):
    # lifetimes 0.11.3 predictions with the same parameters (moderate inputs, where its scipy
    # hypergeometric is still accurate).
    np.testing.assert_allclose(bg.expected_purchases(39, XS, TXS, TS), [
        0.19478085, 0.31216575, 1.22591045, 2.62498246, 7.0564384, 19.77464077], rtol=1e-7)
    np.testing.assert_allclose(bg.probability_alive(XS, TXS, TS), [
        1.0, 0.32032443, 0.72660915, 0.57261857, 0.91768588, 0.96458797], rtol=1e-7)
    np.testing.assert_allclose(bg.expected_purchases_new([1, 10, 39, 78]), [
        0.05318474, 0.43176102, 1.1950163, 1.85797178], rtol=1e-7)
    np.testing.assert_allclose(bg.probability_of_n_purchases(39, np.arange(4)), [
        0.57430729, 0.19919304, 0.08532241, 0.04579719], rtol=1e-7)
    np.testing.assert_allclose(mbg.expected_purchases(39, XS, TXS, TS), [
        0.15395365, 0.29793196, 1.26267079, 2.49060585, 6.74460582, 18.69084644], rtol=1e-6)
    np.testing.assert_allclose(mbg.probability_alive(XS, TXS, TS), [
        0.38971631, 0.26519256, 0.70612625, 0.55404551, 0.91008827, 0.96099296], rtol=1e-6)
    np.testing.assert_allclose(mbg.expected_purchases_new([1, 10, 39, 78]), [
        0.05306062, 0.43325282, 1.1822837, 1.80363609], rtol=1e-6)
    np.testing.assert_allclose(mbg.probability_of_n_purchases(39, np.arange(4)), [
        0.58260555, 0.18276339, 0.0868706, 0.04855072], rtol=1e-6)
    np.testing.assert_allclose(pnbd.expected_purchases(39, XS, TXS, TS), [
        0.10705979, 0.27199129, 1.45511296, 2.97142455, 7.17568415, 19.36225074], rtol=1e-6)
    np.testing.assert_allclose(pnbd.probability_alive(XS, TXS, TS), [
        0.29509716, 0.26307883, 0.86911872, 0.69062617, 0.985668, 0.99293651], rtol=1e-6)
    np.testing.assert_allclose(pnbd.expected_purchases_new([1, 10, 39, 78]), [
        0.05100655, 0.42779406, 1.21340806, 1.90988077], rtol=1e-6)


# ---------------------------------------------------------------------------------------------
# Gradients and Hessians
# ---------------------------------------------------------------------------------------------

MODELS = [
    (BGNBD, {"r": 0.3, "alpha": 5.0, "a": 0.7, "b": 2.0}),
    (MBGNBD, {"r": 0.5, "alpha": 6.0, "a": 0.9, "b": 1.5}),
    (ParetoNBD, {"r": 0.5, "alpha": 9.0, "s": 0.7, "beta": 13.0}),
]


def _data_for(model, frame):
    if isinstance(model, BGBB):  # discrete opportunities: the donations of Fader, Hardie & Shang
        from lifetimes.datasets import load_donations

        d = load_donations()
        return model._prepare(*(d[c].to_numpy(float) for c in ("frequency", "recency", "periods")),
                              weights=d["weights"].to_numpy(float))
    if isinstance(model, GammaGamma):
        rep = frame[frame["frequency"] > 0]
        return model._prepare(rep["frequency"].to_numpy(float), rep["monetary"].to_numpy(float),
                              weights=np.ones(len(rep)))
    x, t, T = _rft(frame)
    return model._prepare(x.astype(float), t, T, weights=np.ones(x.size))


@pytest.mark.parametrize("cls,params", MODELS + [
    (GammaGamma, {"p": 5.0, "q": 3.0, "gamma": 12.0}),
    (BGBB, {"alpha": 1.5, "beta": 0.6, "gamma": 0.8, "delta": 2.0})])
def test_analytic_gradient_matches_finite_differences(cls, params, cdnow):
    model = cls()
    data = _data_for(model, cdnow)
    theta = np.array(list(params.values()))
    _, g, _ = model._loglik(theta, data, 1)
    for j in range(theta.size):
        h = 1e-6 * theta[j]
        up, dn = theta.copy(), theta.copy()
        up[j] += h
        dn[j] -= h
        fd = (model._loglik(up, data, 0)[0] - model._loglik(dn, data, 0)[0]) / (2 * h)
        assert g[j] == pytest.approx(fd, rel=1e-6, abs=1e-4)


@pytest.mark.parametrize("cls,params", [MODELS[0], MODELS[1],
                                        (GammaGamma, {"p": 5.0, "q": 3.0, "gamma": 12.0})])
def test_analytic_hessian_matches_gradient_differences(cls, params, cdnow):
    model = cls()
    data = _data_for(model, cdnow)
    theta = np.array(list(params.values()))
    _, _, H = model._loglik(theta, data, 2)
    for j in range(theta.size):
        h = 1e-6 * theta[j]
        up, dn = theta.copy(), theta.copy()
        up[j] += h
        dn[j] -= h
        fd = (model._loglik(up, data, 1)[1] - model._loglik(dn, data, 1)[1]) / (2 * h)
        np.testing.assert_allclose(H[:, j], fd, rtol=1e-5, atol=1e-3)


def test_standard_errors_match_lifetimes_on_cdnow(bg):
    # lifetimes 0.11.3 (BetaGeoFitter.summary, se(coef)) on CDNOW.
    ref = {"r": 0.012557, "alpha": 0.378221, "a": 0.185719, "b": 0.705345}
    for k, v in ref.items():
        assert bg.standard_errors_[k] == pytest.approx(v, rel=2e-3)


# ---------------------------------------------------------------------------------------------
# Weights and merging
# ---------------------------------------------------------------------------------------------


def test_merge_equal_rows_groups_and_counts():
    x = np.array([0, 1, 1, 0, 2, 1])
    t = np.array([0, 3.0, 3.0, 0, 5.0, 4.0])
    T = np.array([10, 10, 10, 10, 10, 10.0])
    fx, ft, fT, w = merge_equal_rows(x, t, T)
    rows = sorted(zip(fx, ft, fT, w))
    assert rows == [(0, 0, 10, 2), (1, 3, 10, 2), (1, 4, 10, 1), (2, 5, 10, 1)]
    _, _, _, m, w2 = merge_equal_rows(x, t, T, monetary=[0, 5, 6, 0, 7, 5], weights=np.full(6, 2))
    assert sorted(w2) == [2, 2, 2, 2, 4]
    assert w2.sum() == 12


@pytest.mark.parametrize("cls", [BGNBD, MBGNBD, ParetoNBD])
def test_fitting_merged_rows_equals_fitting_raw_rows(cls, cdnow):
    x, t, T = _rft(cdnow)
    raw = cls(merge=False).fit(x, t, T)
    fx, ft, fT, w = merge_equal_rows(x, t, T)
    assert fx.size < x.size  # CDNOW has many identical rows
    merged = cls(merge=False).fit(fx, ft, fT, weights=w)
    assert merged.n_customers_ == raw.n_customers_ == x.size
    assert merged.log_likelihood_ == pytest.approx(raw.log_likelihood_, rel=1e-12)
    for k in raw.params_.index:
        assert merged.params_[k] == pytest.approx(raw.params_[k], rel=1e-7)
        assert merged.standard_errors_[k] == pytest.approx(raw.standard_errors_[k], rel=1e-5)


def test_gamma_gamma_weights_equal_repeated_rows(cdnow):
    rep = cdnow[cdnow["frequency"] > 0]
    doubled = GammaGamma(merge=False).fit(np.r_[rep["frequency"], rep["frequency"]],
                                          np.r_[rep["monetary"], rep["monetary"]])
    weighted = GammaGamma(merge=False).fit(rep["frequency"], rep["monetary"],
                                           weights=np.full(len(rep), 2.0))
    for k in doubled.params_.index:
        assert weighted.params_[k] == pytest.approx(doubled.params_[k], rel=1e-7)
    assert weighted.log_likelihood_ == pytest.approx(doubled.log_likelihood_, rel=1e-12)


@pytest.mark.parametrize("cls", [BGNBD, ParetoNBD, MBGNBD])
def test_population_of_millions_through_weights(cls, cdnow):
    # CDNOW scaled up to 2,357,000 customers: same estimates, standard errors / sqrt(1000),
    # finite log-likelihood 1000 times larger.
    x, t, T = _rft(cdnow)
    base = cls().fit(x, t, T)
    big = cls().fit(x, t, T, weights=np.full(x.size, 1000.0))
    assert big.n_customers_ == 2_357_000
    assert np.isfinite(big.log_likelihood_)
    assert big.log_likelihood_ == pytest.approx(1000 * base.log_likelihood_, rel=1e-9)
    for k in base.params_.index:
        assert big.params_[k] == pytest.approx(base.params_[k], rel=1e-6)
        assert big.standard_errors_[k] == pytest.approx(base.standard_errors_[k] / 1000**0.5,
                                                        rel=1e-4)


# ---------------------------------------------------------------------------------------------
# Extreme inputs
# ---------------------------------------------------------------------------------------------

EXTREME_X = np.array([0, 0, 1, 5000, 5000, 300, 2, 1000])
EXTREME_T = np.array([1e-6, 500.0, 40.0, 40.0, 40.0, 1e-3, 40.0, 400.0])
EXTREME_TX = np.array([0, 0, 40.0, 40.0, 39.999999, 1e-3, 1e-9, 399.99])


@pytest.mark.parametrize("model", ["bg", "mbg", "pnbd"])
def test_extreme_inputs_stay_finite(model, request):
    m = request.getfixturevalue(model)
    x, t, T = EXTREME_X, EXTREME_TX, EXTREME_T
    ll = m.log_likelihood(x, t, T)
    assert np.isfinite(ll)
    pa = m.probability_alive(x, t, T)
    assert np.all((pa >= 0) & (pa <= 1))
    for horizon in (1e-3, 39.0, 1e4, 1e7):
        e = m.expected_purchases(horizon, x, t, T)
        assert np.all(np.isfinite(e)) and np.all(e >= 0)
    # more time can only bring more purchases
    e1 = m.expected_purchases(10.0, x, t, T)
    e2 = m.expected_purchases(100.0, x, t, T)
    assert np.all(e2 >= e1)
    # recency == T: the customer just bought; a later last purchase never lowers P(alive)
    earlier = m.probability_alive(x[2:4], 0.5 * t[2:4], T[2:4])
    assert np.all(pa[2:4] >= earlier)
    assert pa[3] > 0.99


def test_fit_with_frequencies_in_the_thousands():
    d = simulate_pareto_nbd(3000, r=5.0, alpha=0.5, s=0.6, beta=11.0, T=40.0, seed=3)
    assert d["frequency"].max() > 1000
    for cls in (ParetoNBD, BGNBD, MBGNBD):
        m = cls().fit_frame(d)
        assert np.isfinite(m.log_likelihood_)
        assert all(np.isfinite(v) and v > 0 for v in m.params_.to_numpy())


def test_input_validation():
    with pytest.raises(ValueError, match="recency must be <= T"):
        BGNBD().fit([1, 2], [5.0, 50.0], [40.0, 40.0])
    with pytest.raises(ValueError, match="frequency must be >= 0"):
        BGNBD().fit([-1], [0.0], [40.0])
    with pytest.raises(ValueError, match="T must be > 0"):
        ParetoNBD().fit([0], [0.0], [0.0])
    with pytest.raises(ValueError, match="missing"):
        BGNBD().fit([np.nan], [0.0], [1.0])
    with pytest.raises(RuntimeError, match="not fitted"):
        BGNBD().summary()
    with pytest.raises(ValueError, match="monetary must be > 0"):
        GammaGamma().fit([1, 2], [0.0, 3.0])


# ---------------------------------------------------------------------------------------------
# Predictions
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("model", ["bg", "mbg"])
def test_probability_of_n_purchases_is_a_distribution(model, request):
    m = request.getfixturevalue(model)
    n = np.arange(0, 400)
    for t in (1.0, 39.0, 200.0):
        p = m.probability_of_n_purchases(t, n)
        assert np.all(p >= 0)
        assert p.sum() == pytest.approx(1.0, abs=1e-6)
        assert (n * p).sum() == pytest.approx(float(m.expected_purchases_new(t)), rel=1e-4)


def test_summary_frame(bg):
    s = bg.summary()
    assert list(s.index) == ["r", "alpha", "a", "b"]
    assert list(s.columns) == ["estimate", "std_error", "lower_95", "upper_95"]
    assert np.all(s["lower_95"] < s["estimate"]) and np.all(s["estimate"] < s["upper_95"])
    assert s.attrs["log_likelihood"] == bg.log_likelihood_
    assert s.attrs["n_customers"] == 2357
    assert bg.covariance_.shape == (4, 4)
    assert "BGNBD" in repr(bg)


def test_expected_spend(gg):
    p, q, gam = gg.params_[["p", "q", "gamma"]]
    assert gg.expected_spend(0, 0) == pytest.approx(p * gam / (q - 1))
    assert gg.population_mean_spend() == pytest.approx(p * gam / (q - 1))
    # shrinks the customer's own mean towards the population mean, more so with few purchases
    own = 100.0
    e1, e10 = gg.expected_spend([1, 10], [own, own])
    assert gg.population_mean_spend() < e1 < e10 < own


def test_customer_lifetime_value(bg, gg, cdnow):
    x, t, T = _rft(cdnow)
    m = cdnow["monetary"].to_numpy()
    clv = customer_lifetime_value(bg, gg, x, t, T, m, horizon=12, discount_rate=0.01,
                                  time_unit_per_period=4.345)
    assert clv.shape == (x.size,) and np.all(np.isfinite(clv)) and np.all(clv >= 0)
    # by hand for customer 1
    times = 4.345 * np.arange(0, 13)
    cum = bg.expected_purchases(times, x[0], t[0], T[0])
    by_hand = np.sum(np.diff(cum) / 1.01 ** np.arange(1, 13)) * gg.expected_spend(x[0], m[0])
    assert clv[0] == pytest.approx(by_hand, rel=1e-12)
    # no discounting: expected purchases over the horizon times expected spend
    flat = customer_lifetime_value(bg, gg, x[:5], t[:5], T[:5], m[:5], horizon=3,
                                   discount_rate=0.0, time_unit_per_period=13.0)
    np.testing.assert_allclose(
        flat, bg.expected_purchases(39.0, x[:5], t[:5], T[:5]) * gg.expected_spend(x[:5], m[:5]),
        rtol=1e-12)
    # a longer horizon is worth more
    longer = customer_lifetime_value(bg, gg, x, t, T, m, horizon=24, discount_rate=0.01,
                                     time_unit_per_period=4.345)
    assert np.all(longer >= clv)


# ---------------------------------------------------------------------------------------------
# Recovery of known parameters from simulations
# ---------------------------------------------------------------------------------------------


def _assert_recovered(model, truth, n_se=4.0):
    for k, v in truth.items():
        se = model.standard_errors_[k]
        assert abs(model.params_[k] - v) < n_se * se, (k, model.params_[k], v, se)
        assert se < 0.25 * v  # and the estimate is informative


def _ages(k, rng):
    return rng.uniform(20.0, 78.0, k)


def test_recovers_bgnbd_parameters():
    truth = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    d = simulate_bgnbd(200_000, **truth, T=_ages, seed=11)
    _assert_recovered(BGNBD().fit_frame(d), truth)


def test_recovers_mbgnbd_parameters():
    truth = {"r": 0.525, "alpha": 6.183, "a": 0.891, "b": 1.614}
    d = simulate_mbgnbd(200_000, **truth, T=_ages, seed=12)
    _assert_recovered(MBGNBD().fit_frame(d), truth)


def test_recovers_gamma_gamma_parameters():
    truth = {"p": 6.25, "q": 3.74, "gamma": 15.44}
    x = np.random.default_rng(13).poisson(2.0, 200_000) + 1
    m = simulate_gamma_gamma(x, **truth, seed=14)
    _assert_recovered(GammaGamma().fit(x, m), truth)


def test_recovers_pareto_nbd_parameters_small():
    truth = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}
    d = simulate_pareto_nbd(20_000, **truth, T=lambda k, rng: rng.uniform(20, 78, k).round(1),
                            seed=15)
    m = ParetoNBD().fit_frame(d)
    for k, v in truth.items():
        assert abs(m.params_[k] - v) < 4 * m.standard_errors_[k]


@pytest.mark.slow
def test_recovers_pareto_nbd_parameters_200k():
    truth = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}
    d = simulate_pareto_nbd(200_000, **truth, T=lambda k, rng: rng.uniform(20, 78, k), seed=16)
    _assert_recovered(ParetoNBD().fit_frame(d), truth)


@pytest.mark.parametrize("model", ["pnbd", "mbg"])
def test_customer_lifetime_value_with_other_transaction_models(model, request, gg, cdnow):
    m = request.getfixturevalue(model)
    x, t, T = _rft(cdnow.iloc[:50])
    clv = customer_lifetime_value(m, gg, x, t, T, cdnow["monetary"].to_numpy()[:50], horizon=6,
                                  discount_rate=0.02, time_unit_per_period=4.345)
    assert np.all(np.isfinite(clv)) and np.all(clv >= 0)


def test_pareto_nbd_probability_of_n_purchases_against_its_mean_and_a_simulation():
    """P(X(t) = n) sums to one, its mean is the closed-form E[X(t)], and it matches a simulation
    of the model's story (lambda, mu drawn, death at an exponential time, Poisson purchases)."""
    r, alpha, s, beta, t = 0.55, 10.6, 0.61, 11.7, 39.0
    model = ParetoNBD()
    model.params_ = {"r": r, "alpha": alpha, "s": s, "beta": beta}
    n = np.arange(0, 400)
    pmf = model.probability_of_n_purchases(t, n)
    assert pmf.sum() == pytest.approx(1.0, abs=1e-8)
    assert (n * pmf).sum() == pytest.approx(float(model.expected_purchases_new(t)), rel=1e-7)

    rng = np.random.default_rng(3)
    size = 400_000
    lam = rng.gamma(r, 1.0 / alpha, size)
    lifetime = rng.exponential(1.0 / rng.gamma(s, 1.0 / beta, size))
    counts = rng.poisson(lam * np.minimum(lifetime, t))
    for k in range(6):
        observed = np.mean(counts == k)
        assert observed == pytest.approx(pmf[k], abs=4 * math.sqrt(pmf[k] * (1 - pmf[k]) / size))


# ---------------------------------------------------------------------------------------------
# scikit-learn conventions and convergence
# ---------------------------------------------------------------------------------------------

# Forty customers who each buy exactly every 120 days (the report test's shop): the purchase rate
# does not vary across customers, which the BG/NBD reaches only as r and alpha run to infinity.
REGULAR = pd.DataFrame({"frequency": [0] * 20 + [1] * 20,
                        "recency": [0.0] * 20 + [120 / 7] * 20,
                        "T": np.r_[np.arange(64, 124, 3), np.arange(124, 184, 3)] / 7})


@pytest.mark.parametrize("cls", [BGNBD, MBGNBD, ParetoNBD, GammaGamma, BGBB])
def test_models_are_scikit_learn_estimators(cls):
    model = cls(penalizer=0.5, tol=1e-8)
    assert model.get_params()["penalizer"] == 0.5
    twin = clone(model)
    assert twin is not model and twin.get_params() == model.get_params()
    # The settings as scikit-learn's own introspection finds them in the constructor.
    assert sorted(model.get_params()) == BaseEstimator._get_param_names.__func__(cls)
    assert model.set_params(tol=1e-6) is model and model.tol == 1e-6
    with pytest.raises(ValueError, match="Invalid parameter 'learning_rate'"):
        model.set_params(learning_rate=0.1)


def test_fit_returns_self_with_series_of_parameters(bg, cdnow):
    assert isinstance(bg.params_, pd.Series) and list(bg.params_.index) == ["r", "alpha", "a", "b"]
    assert isinstance(bg.standard_errors_, pd.Series)
    model = BGNBD()
    assert model.fit(*_rft(cdnow)) is model
    assert model.converged_ and model.convergence_problem_ is None


def test_a_fit_that_does_not_converge_warns_and_says_why():
    with pytest.warns(ConvergenceWarning, match="BGNBD did not converge") as caught:
        model = BGNBD().fit_frame(REGULAR)
    assert issubclass(caught[0].category, UserWarning)
    assert not model.converged_
    assert "r ran off to" in model.convergence_problem_
    assert "NOT CONVERGED" in repr(model)
