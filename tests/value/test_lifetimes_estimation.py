"""lifetimes' own estimation tests (tests/test_estimation.py of CamDavidsonPilon/lifetimes, the last
commit of the archived repository), ported to custfocus.lifetimes: values from Hardie's papers and
spreadsheets, R's BTYD and BTYDplus.

Left out, with their reason: saving and loading (``save_model``/``load_model`` use dill; our
fitters pickle as scikit-learn estimators), the ``BaseFitter`` class (not offered), and lifetimes'
private internals (``_scale``, ``_log_A_0``, ``_negative_log_likelihood``): the properties those
tests protect (no overflow, additivity of the likelihood, invariance to the time scale) are
checked through the public ``log_likelihood`` and predictions instead. The random subsets of the
Pareto/NBD probability tests are evaluated in one vectorised call rather than cell by cell.
The data sets ship with lifetimes (a test dependency).
"""

from __future__ import annotations

import pickle

import numpy as np
import numpy.testing as npt
import pandas as pd
import pytest
from lifetimes import utils
from lifetimes.datasets import (
    load_cdnow_summary,
    load_cdnow_summary_data_with_monetary_value,
    load_donations,
    load_transaction_data,
)
from sklearn.base import clone

import custfocus.lifetimes as lt


@pytest.fixture(scope="module")
def cdnow_customers():
    return load_cdnow_summary()


@pytest.fixture(scope="module")
def donations():
    return load_donations()


@pytest.fixture(scope="module")
def cdnow_customers_with_monetary_value():
    return load_cdnow_summary_data_with_monetary_value()


def _fit_rft(cls, data, **settings):
    return cls(**settings).fit(data["frequency"], data["recency"], data["T"])


def _alive_chances_are_probabilities(model, frequencies, step=10.0):
    for freq in np.arange(0, 100, step) if frequencies is None else frequencies:
        for recency in np.arange(0, 100, step):
            for age in np.arange(recency, 100, step):
                assert 0.0 <= model.conditional_probability_alive(freq, recency, age) <= 1.0


def _alive_matrix_matches_single_calls(model):
    Z = model.conditional_probability_alive_matrix()
    max_t = int(model.data["T"].max())
    for t_x in range(Z.shape[0]):
        for x in range(Z.shape[1]):
            assert Z[t_x][x] == model.conditional_probability_alive(x, t_x, max_t)
    return Z


def _fit_keeps_the_index(cls, data, *columns):
    index = range(len(data), 0, -1)
    fitted = cls().fit(*(data[c] for c in columns), index=index)
    assert (fitted.data.index == np.asarray(index)).all()
    fitted = cls().fit(*(data[c] for c in columns), index=None)
    assert not (fitted.data.index == np.asarray(index)).all()


# ---------------------------------------------------------------------------------------------
# BetaGeoBetaBinomFitter (Fader, Hardie & Shang 2010, donations data)
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bbtf(donations):
    return lt.BetaGeoBetaBinomFitter().fit(donations["frequency"], donations["recency"],
                                           donations["periods"], donations["weights"])


class TestBetaGeoBetaBinomFitter:
    def test_model_has_standard_error_variance_matrix_and_confidence_intervals_(self, bbtf):
        assert hasattr(bbtf, "standard_errors_")
        assert hasattr(bbtf, "variance_matrix_")
        assert hasattr(bbtf, "confidence_intervals_")

    def test_params_out_is_close_to_Hardie_paper(self, bbtf):
        expected = np.array([1.204, 0.750, 0.657, 2.783])
        npt.assert_array_almost_equal(
            expected, np.array(bbtf._unload_params("alpha", "beta", "gamma", "delta")), decimal=2)

    def test_prob_alive_is_close_to_Hardie_paper_table_6(self, bbtf, donations):
        """Table 6: P(Alive in 2002) as a Function of Recency and Frequency"""
        prob_alive = bbtf.conditional_probability_alive(
            1, donations["frequency"], donations["recency"], donations["periods"])
        data = donations.assign(prob_alive=prob_alive)
        # Expected probabilities for last year 1995-0 repeat, 1999-2 repeat, 2001-6 repeat
        expected = np.array([0.11, 0.59, 0.93])
        prob_list = np.array([
            data.loc[(data["frequency"] == x) & (data["recency"] == t_x), "prob_alive"].item()
            for x, t_x in ((0, 0), (2, 4), (6, 6))])
        npt.assert_array_almost_equal(expected, prob_list, decimal=2)

    def test_conditional_expectation_returns_same_value_as_Hardie_excel_sheet(self, bbtf,
                                                                                donations):
        """Total from Hardie's Conditional Expectations (II) sheet.
        http://brucehardie.com/notes/010/BGBB_2011-01-20_XLSX.zip"""
        pred_purchases = bbtf.conditional_expected_number_of_purchases_up_to_time(
            5, donations["frequency"], donations["recency"], donations["periods"]
        ) * donations["weights"]
        expected = 12884.2  # Sum of column F Exp Tot
        npt.assert_almost_equal(expected, pred_purchases.sum(), decimal=0)

    def test_expected_purchases_in_n_periods_returns_same_value_as_Hardie_excel_sheet(self, bbtf):
        """Total expected from Hardie's In-Sample Fit sheet."""
        expected = np.array([3454.9, 1253.1])  # Cells C18 and C24
        estimated = bbtf.expected_number_of_transactions_in_first_n_periods(6).loc[[0, 6]].values.flatten()
        npt.assert_almost_equal(expected, estimated, decimal=0)

    def test_fit_with_index(self, donations):
        _fit_keeps_the_index(lt.BetaGeoBetaBinomFitter, donations, "frequency", "recency", "periods",
                             "weights")

    def test_fit_with_and_without_weights(self, bbtf, donations):
        exploded_dataset = donations.loc[donations.index.repeat(donations["weights"]),
                                         ["frequency", "recency", "periods"]].astype(np.int64)
        assert exploded_dataset.shape[0] == donations["weights"].sum()
        bbtf_noweights = lt.BetaGeoBetaBinomFitter().fit(
            exploded_dataset["frequency"], exploded_dataset["recency"], exploded_dataset["periods"])
        npt.assert_array_almost_equal(
            np.array(bbtf_noweights._unload_params("alpha", "beta", "gamma", "delta")),
            np.array(bbtf._unload_params("alpha", "beta", "gamma", "delta")),
            decimal=4,
        )


# ---------------------------------------------------------------------------------------------
# GammaGammaFitter
# ---------------------------------------------------------------------------------------------


def _returning(customers):
    return customers[customers["frequency"] > 0]


class TestGammaGammaFitter:
    def test_params_out_is_close_to_Hardie_paper(self, cdnow_customers_with_monetary_value):
        returning = _returning(cdnow_customers_with_monetary_value)
        ggf = lt.GammaGammaFitter().fit(returning["frequency"], returning["monetary_value"])
        expected = np.array([6.25, 3.74, 15.44])
        npt.assert_array_almost_equal(expected, np.array(ggf._unload_params("p", "q", "v")), decimal=2)

    def test_conditional_expected_average_profit(self, cdnow_customers_with_monetary_value):
        ggf = lt.GammaGammaFitter()
        ggf.params_ = pd.Series({"p": 6.25, "q": 3.74, "v": 15.44})
        summary = cdnow_customers_with_monetary_value.head(10)
        estimates = ggf.conditional_expected_average_profit(summary["frequency"], summary["monetary_value"])
        expected = np.array(
            [24.65, 18.91, 35.17, 35.17, 35.17, 71.46, 18.91, 35.17, 27.28, 35.17]
        )  # from Hardie spreadsheet http://brucehardie.com/notes/025/
        npt.assert_allclose(estimates.values, expected, atol=0.1)

    @pytest.mark.parametrize("freq", ["D", "H"])
    def test_customer_lifetime_value_with_bgf(self, cdnow_customers_with_monetary_value, freq):
        """Against lifetimes' own CLV function (lifetimes.utils._customer_lifetime_value), given
        our fitted BG/NBD: it only calls the model's ``predict``."""
        data = cdnow_customers_with_monetary_value
        ggf = lt.GammaGammaFitter()
        ggf.params_ = pd.Series({"p": 6.25, "q": 3.74, "v": 15.44})
        bgf = _fit_rft(lt.BetaGeoFitter, data)
        ggf_clv = ggf.customer_lifetime_value(bgf, data["frequency"], data["recency"], data["T"],
                                              data["monetary_value"], freq=freq)
        utils_clv = utils._customer_lifetime_value(
            bgf, data["frequency"], data["recency"], data["T"],
            ggf.conditional_expected_average_profit(data["frequency"], data["monetary_value"]),
            freq=freq)
        # lifetimes sums 12 differences of cumulative predictions, we difference a vector of them.
        npt.assert_allclose(ggf_clv.values, utils_clv.values, rtol=1e-12)

    def test_fit_with_index(self, cdnow_customers_with_monetary_value):
        _fit_keeps_the_index(lt.GammaGammaFitter, _returning(cdnow_customers_with_monetary_value),
                             "frequency", "monetary_value")

    def test_params_out_is_close_to_Hardie_paper_with_q_constraint(self, cdnow_customers_with_monetary_value):
        returning = _returning(cdnow_customers_with_monetary_value)
        ggf = lt.GammaGammaFitter(penalizer_coef=0.0).fit(
            returning["frequency"], returning["monetary_value"], q_constraint=True)
        expected = np.array([6.25, 3.74, 15.44])
        npt.assert_array_almost_equal(expected, np.array(ggf._unload_params("p", "q", "v")), decimal=2)

    def test_using_weights_col_gives_correct_results(self, cdnow_customers_with_monetary_value):
        returning = _returning(cdnow_customers_with_monetary_value)
        weighted = (returning.assign(weights=1.0).groupby(["frequency", "monetary_value"])["weights"]
                    .sum().reset_index())
        assert (weighted["weights"] > 1).any()
        gg_weights = lt.GammaGammaFitter(penalizer_coef=0.0).fit(
            weighted["frequency"], weighted["monetary_value"], weights=weighted["weights"])
        gg_no_weights = lt.GammaGammaFitter(penalizer_coef=0.0).fit(
            returning["frequency"], returning["monetary_value"])
        npt.assert_almost_equal(
            np.array(gg_no_weights._unload_params("p", "q", "v")),
            np.array(gg_weights._unload_params("p", "q", "v")),
            decimal=3,
        )


# ---------------------------------------------------------------------------------------------
# ParetoNBDFitter
# ---------------------------------------------------------------------------------------------

OVERFLOW_PARAMS = {"r": 10.465, "alpha": 7.98565181e-03, "s": 3.0516, "beta": 2.820}


@pytest.fixture(scope="module")
def ptf(cdnow_customers):
    return _fit_rft(lt.ParetoNBDFitter, cdnow_customers)


class TestParetoNBDFitter:
    def test_overflow_error(self):
        """lifetimes checked its private log A_0 term (negative and finite); here each row's
        log-likelihood at the same extreme parameters and histories is finite (it is a density in
        the recency, so it may be positive)."""
        ptf = lt.ParetoNBDFitter()
        freq = np.array([400.0, 500.0, 500.0])
        rec = np.array([5.0, 1.0, 4.0])
        age = np.array([6.0, 37.0, 37.0])
        rows = [ptf.log_likelihood(f, r, a, params=OVERFLOW_PARAMS) for f, r, a in zip(freq, rec, age)]
        assert all(not np.isinf(r) and not pd.isnull(r) for r in rows)

    def test_sum_of_scalar_inputs_to_negative_log_likelihood_is_equal_to_array(self):
        ptf = lt.ParetoNBDFitter()
        x, t_x, t = np.array([1, 3]), np.array([2, 2]), np.array([5, 6])
        params = {"r": 1, "alpha": 1, "s": 1, "beta": 1}
        single = [ptf.log_likelihood([x[i]], [t_x[i]], [t[i]], params=params) for i in range(2)]
        assert sum(single) == pytest.approx(ptf.log_likelihood(x, t_x, t, params=params), rel=1e-15)

    def test_params_out_is_close_to_Hardie_paper(self, cdnow_customers):
        ptf = lt.ParetoNBDFitter().fit(cdnow_customers["frequency"], cdnow_customers["recency"],
                                       cdnow_customers["T"], iterative_fitting=3)
        expected = np.array([0.553, 10.578, 0.606, 11.669])
        npt.assert_array_almost_equal(expected, np.array(ptf._unload_params("r", "alpha", "s", "beta")), decimal=2)

    def test_expectation_returns_same_value_as_R_BTYD(self, ptf):
        """ From https://cran.r-project.org/web/packages/BTYD/BTYD.pdf """
        expected = np.array([0.00000000, 0.05077821, 0.09916088, 0.14542507, 0.18979930,
                             0.23247466, 0.27361274, 0.31335159, 0.35181024, 0.38909211])
        actual = ptf.expected_number_of_purchases_up_to_time(range(10))
        npt.assert_allclose(expected, actual, atol=0.01)

    def test_conditional_expectation_returns_same_value_as_R_BTYD(self, ptf):
        """ From https://cran.r-project.org/web/packages/BTYD/vignettes/BTYD-walkthrough.pdf """
        actual = ptf.conditional_expected_number_of_purchases_up_to_time(52, 26.00, 30.86, 31)
        assert abs(25.46 - actual) < 0.01

    def test_conditional_expectation_underflow(self):
        """For a small change in the input, the result shouldn't change dramatically."""
        ptf = lt.ParetoNBDFitter()
        ptf.params_ = pd.Series({"alpha": 10.58, "beta": 11.67, "r": 0.55, "s": 0.61})
        left = ptf.conditional_expected_number_of_purchases_up_to_time(10, 132, 200, 200)
        right = ptf.conditional_expected_number_of_purchases_up_to_time(10, 133, 200, 200)
        assert abs(left - right) < 0.05

    def test_conditional_probability_alive_is_between_0_and_1(self, ptf):
        _alive_chances_are_probabilities(ptf, None)

    def test_conditional_probability_alive(self):
        """Target taken from page 8,
        https://cran.r-project.org/web/packages/BTYD/vignettes/BTYD-walkthrough.pdf"""
        ptf = lt.ParetoNBDFitter()
        ptf.params_ = pd.Series([0.5534, 10.5802, 0.6061, 11.6562], ["r", "alpha", "s", "beta"])
        p_alive = ptf.conditional_probability_alive(26.00, 30.86, 31.00)
        assert abs(p_alive - 0.9979) < 0.001

    def test_conditional_probability_alive_overflow_error(self):
        ptf = lt.ParetoNBDFitter()
        ptf.params_ = pd.Series(OVERFLOW_PARAMS)
        freq = np.array([40.0, 50.0, 50.0])
        rec = np.array([5.0, 1.0, 4.0])
        age = np.array([6.0, 37.0, 37.0])
        assert all(0 <= r <= 1 and not np.isinf(r) and not pd.isnull(r)
                   for r in ptf.conditional_probability_alive(freq, rec, age))

    def test_conditional_probability_alive_matrix(self, ptf):
        _alive_matrix_matches_single_calls(ptf)

    def test_fit_with_index(self, cdnow_customers):
        _fit_keeps_the_index(lt.ParetoNBDFitter, cdnow_customers, "frequency", "recency", "T")

    def test_conditional_probability_of_n_purchases_up_to_time_is_between_0_and_1(self, ptf):
        """A random subset of the parameter space, as in lifetimes (5 values of each input)."""
        rng = np.random.default_rng(0)
        freq, recency, extra, t, n = (rng.choice(100, 5), rng.choice(100, 5), rng.choice(100, 5),
                                      rng.choice(100, 5), rng.choice(10, 5))
        grid = np.meshgrid(freq, recency, extra, t, n, indexing="ij")
        f, r, e, tt, nn = (g.ravel().astype(float) for g in grid)
        probabilities = ptf.conditional_probability_of_n_purchases_up_to_time(nn, tt, f, r, r + e)
        assert np.all((probabilities >= 0.0) & (probabilities <= 1.0))

    def test_conditional_probability_of_n_purchases_up_to_time_adds_up_to_1(self, ptf):
        rng = np.random.default_rng(1)
        for freq in rng.choice(10, 5):
            for recency in rng.choice(9, 5):
                for age in rng.choice(np.arange(recency, 10, 1), 5):
                    t = 1 + rng.choice(9, 5)
                    n = np.arange(0, 20, 1)
                    total = ptf.conditional_probability_of_n_purchases_up_to_time(
                        n[None, :], t[:, None].astype(float), freq, recency, max(age, 1e-9)
                    ).sum(axis=1)
                    npt.assert_almost_equal(total, 1.0, decimal=2)

    def test_fit_with_and_without_weights(self, ptf, cdnow_customers):
        weighted = cdnow_customers.groupby(["frequency", "recency", "T"]).size().rename("weights").reset_index()
        pnbd = lt.ParetoNBDFitter().fit(weighted["frequency"], weighted["recency"], weighted["T"],
                                        weighted["weights"])
        npt.assert_array_almost_equal(
            np.array(ptf._unload_params("r", "alpha", "s", "beta")),
            np.array(pnbd._unload_params("r", "alpha", "s", "beta")),
            decimal=2,
        )


# ---------------------------------------------------------------------------------------------
# BetaGeoFitter
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bgf(cdnow_customers):
    return _fit_rft(lt.BetaGeoFitter, cdnow_customers)


def _scalar_likelihoods_add_up(model):
    x, t_x, t = np.array([1, 3]), np.array([2, 2]), np.array([5, 6])
    params = dict(zip(model._param_names, [1, 1, 1, 1]))
    single = [model.log_likelihood([x[i]], [t_x[i]], [t[i]], params=params) for i in range(2)]
    assert sum(single) == pytest.approx(model.log_likelihood(x, t_x, t, params=params), rel=1e-15)


class TestBetaGeoFitter:
    def test_sum_of_scalar_inputs_to_negative_log_likelihood_is_equal_to_array(self):
        _scalar_likelihoods_add_up(lt.BetaGeoFitter())

    def test_params_out_is_close_to_Hardie_paper(self, bgf):
        expected = np.array([0.243, 4.414, 0.793, 2.426])
        npt.assert_array_almost_equal(expected, np.array(bgf._unload_params("r", "alpha", "a", "b")), decimal=2)

    def test_conditional_expectation_returns_same_value_as_Hardie_excel_sheet(self, bgf):
        actual = bgf.conditional_expected_number_of_purchases_up_to_time(39, 2, 30.43, 38.86)
        assert abs(1.226 - actual) < 0.001

    def test_expectation_returns_same_value_Hardie_excel_sheet(self, bgf):
        times = np.array([0.1429, 1.0, 3.00, 31.8571, 32.00, 78.00])
        expected = np.array([0.0078, 0.0532, 0.1506, 1.0405, 1.0437, 1.8576])
        actual = bgf.expected_number_of_purchases_up_to_time(times)
        npt.assert_array_almost_equal(actual, expected, decimal=3)

    def test_conditional_probability_alive_returns_1_if_no_repeat_purchases(self, bgf):
        assert bgf.conditional_probability_alive(0, 1, 1) == 1.0

    def test_conditional_probability_alive_is_between_0_and_1(self, bgf):
        _alive_chances_are_probabilities(bgf, range(0, 100, 10))

    def test_penalizer_term_will_shrink_coefs_to_0(self, bgf, cdnow_customers):
        params_1 = bgf.params_
        params_2 = _fit_rft(lt.BetaGeoFitter, cdnow_customers, penalizer_coef=0.1).params_
        assert np.all(params_2 < params_1)
        params_3 = _fit_rft(lt.BetaGeoFitter, cdnow_customers, penalizer_coef=10).params_
        assert np.all(params_3 < params_2)

    def test_conditional_probability_alive_matrix(self, bgf):
        assert _alive_matrix_matches_single_calls(bgf)[0][0] == 1

    def test_probability_of_n_purchases_up_to_time_same_as_R_BTYD(self):
        """ See https://cran.r-project.org/web/packages/BTYD/BTYD.pdf """
        bgf = lt.BetaGeoFitter()
        bgf.params_ = pd.Series({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426})
        # 10 repeat transactions in (0, 2]
        assert abs(1.07869e-07 - bgf.probability_of_n_purchases_up_to_time(2, 10)) < 10e-5
        # no repeat transactions in (0, 39]
        assert abs(0.5737864 - bgf.probability_of_n_purchases_up_to_time(39, 0)) < 10e-5
        expected = np.array([0.0019995214, 0.0015170236, 0.0011633150, 0.0009003148, 0.0007023638,
                             0.0005517902, 0.0004361913, 0.0003467171, 0.0002769613, 0.0002222260])
        actual = np.array([bgf.probability_of_n_purchases_up_to_time(30, n) for n in range(11, 21)])
        npt.assert_array_almost_equal(expected, actual, decimal=5)

    def test_scaling_inputs_gives_same_or_similar_results(self, bgf, cdnow_customers):
        scale = 10
        bgf_with_large_inputs = lt.BetaGeoFitter().fit(
            cdnow_customers["frequency"], scale * cdnow_customers["recency"], scale * cdnow_customers["T"])
        for recency, age in ((1, 2), (2, 10)):
            assert abs(bgf_with_large_inputs.conditional_probability_alive(1, scale * recency, scale * age)
                       - bgf.conditional_probability_alive(1, recency, age)) < 10e-5

    def test_fit_with_index(self, cdnow_customers):
        _fit_keeps_the_index(lt.BetaGeoFitter, cdnow_customers, "frequency", "recency", "T")

    def test_no_runtime_warnings_high_frequency(self, cdnow_customers):
        old_settings = np.seterr(all="raise")
        try:
            bgf = lt.BetaGeoFitter(penalizer_coef=0.0).fit(
                cdnow_customers["frequency"], cdnow_customers["recency"], cdnow_customers["T"], index=None)
            p_alive = bgf.conditional_probability_alive(frequency=1000, recency=10, T=100)
        finally:
            np.seterr(**old_settings)
        assert p_alive == 0.0

    def test_using_weights_col_gives_correct_results(self, bgf, cdnow_customers):
        weighted = (cdnow_customers.assign(weights=1.0).groupby(["frequency", "recency", "T"])["weights"]
                    .sum().reset_index())
        assert (weighted["weights"] > 1).any()
        bgf_weights = lt.BetaGeoFitter(penalizer_coef=0.0).fit(
            weighted["frequency"], weighted["recency"], weighted["T"], weights=weighted["weights"])
        npt.assert_almost_equal(
            np.array(bgf._unload_params("r", "alpha", "a", "b")),
            np.array(bgf_weights._unload_params("r", "alpha", "a", "b")),
            decimal=3,
        )


# ---------------------------------------------------------------------------------------------
# ModifiedBetaGeoFitter
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mbgf(cdnow_customers):
    return _fit_rft(lt.ModifiedBetaGeoFitter, cdnow_customers)


class TestModifiedBetaGammaFitter:
    def test_sum_of_scalar_inputs_to_negative_log_likelihood_is_equal_to_array(self):
        _scalar_likelihoods_add_up(lt.ModifiedBetaGeoFitter())

    def test_params_out_is_close_to_BTYDplus(self, mbgf):
        """ See https://github.com/mplatzer/BTYDplus """
        expected = np.array([0.525, 6.183, 0.891, 1.614])
        npt.assert_array_almost_equal(expected, np.array(mbgf._unload_params("r", "alpha", "a", "b")), decimal=3)

    def test_conditional_expectation_returns_same_value_as_Hardie_excel_sheet(self, mbgf):
        actual = mbgf.conditional_expected_number_of_purchases_up_to_time(39, 2, 30.43, 38.86)
        assert abs(1.226 - actual) < 0.05

    def test_expectation_returns_same_value_Hardie_excel_sheet(self, mbgf):
        times = np.array([0.1429, 1.0, 3.00, 31.8571, 32.00, 78.00])
        expected = np.array([0.0078, 0.0532, 0.1506, 1.0405, 1.0437, 1.8576])
        actual = mbgf.expected_number_of_purchases_up_to_time(times)
        npt.assert_allclose(actual, expected, rtol=0.05)

    def test_conditional_probability_alive_returns_lessthan_1_if_no_repeat_purchases(self, mbgf):
        assert mbgf.conditional_probability_alive(0, 1, 1) < 1.0

    def test_conditional_probability_alive_is_between_0_and_1(self, mbgf):
        _alive_chances_are_probabilities(mbgf, range(0, 100, 10))

    def test_penalizer_term_will_shrink_coefs_to_0(self, mbgf, cdnow_customers):
        params_1 = mbgf.params_
        params_2 = _fit_rft(lt.ModifiedBetaGeoFitter, cdnow_customers, penalizer_coef=0.1).params_
        assert params_2.sum() < params_1.sum()
        params_3 = _fit_rft(lt.ModifiedBetaGeoFitter, cdnow_customers, penalizer_coef=1.0).params_
        assert params_3.sum() < params_2.sum()

    def test_conditional_probability_alive_matrix(self, mbgf):
        _alive_matrix_matches_single_calls(mbgf)

    def test_probability_of_n_purchases_up_to_time_same_as_R_BTYD(self):
        """ See https://cran.r-project.org/web/packages/BTYD/BTYD.pdf """
        mbgf = lt.ModifiedBetaGeoFitter()
        mbgf.params_ = pd.Series({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426})
        assert abs(1.07869e-07 - mbgf.probability_of_n_purchases_up_to_time(2, 10)) < 10e-5
        expected = np.array([0.0019995214, 0.0015170236, 0.0011633150, 0.0009003148, 0.0007023638,
                             0.0005517902, 0.0004361913, 0.0003467171, 0.0002769613, 0.0002222260])
        actual = np.array([mbgf.probability_of_n_purchases_up_to_time(30, n) for n in range(11, 21)])
        npt.assert_allclose(expected, actual, rtol=0.5)

    def test_scaling_inputs_gives_same_or_similar_results(self, mbgf, cdnow_customers):
        scale = 10.0
        mbgf_with_large_inputs = lt.ModifiedBetaGeoFitter().fit(
            cdnow_customers["frequency"], scale * cdnow_customers["recency"], scale * cdnow_customers["T"])
        for recency, age in ((1, 2), (2, 10)):
            assert abs(mbgf_with_large_inputs.conditional_probability_alive(1, scale * recency, scale * age)
                       - mbgf.conditional_probability_alive(1, recency, age)) < 10e-2

    def test_purchase_predictions_do_not_differ_much_if_looking_at_hourly_or_daily_frequencies(self):
        transaction_data = load_transaction_data(parse_dates=["date"])
        end = max(transaction_data.date)
        daily_summary = utils.summary_data_from_transaction_data(
            transaction_data, "id", "date", observation_period_end=end, freq="D")
        hourly_summary = utils.summary_data_from_transaction_data(
            transaction_data, "id", "date", observation_period_end=end, freq="h")
        thirty_days, hours_in_day = 30, 24
        mbfg = lt.ModifiedBetaGeoFitter()
        mbfg.fit(daily_summary["frequency"], daily_summary["recency"], daily_summary["T"])
        thirty_day_prediction_from_daily_data = mbfg.expected_number_of_purchases_up_to_time(thirty_days)
        mbfg.fit(hourly_summary["frequency"], hourly_summary["recency"], hourly_summary["T"])
        thirty_day_prediction_from_hourly_data = mbfg.expected_number_of_purchases_up_to_time(
            thirty_days * hours_in_day)
        npt.assert_almost_equal(thirty_day_prediction_from_daily_data, thirty_day_prediction_from_hourly_data)

    def test_fit_with_index(self, cdnow_customers):
        _fit_keeps_the_index(lt.ModifiedBetaGeoFitter, cdnow_customers, "frequency", "recency", "T")


# ---------------------------------------------------------------------------------------------
# What a migrating user also relies on
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", [lt.BetaGeoFitter, lt.ModifiedBetaGeoFitter, lt.ParetoNBDFitter,
                                 lt.BetaGeoBetaBinomFitter, lt.GammaGammaFitter])
def test_scikit_learn_conventions_and_pickling(cls, bgf):
    model = cls(penalizer_coef=0.25)
    assert model.get_params() == {"penalizer_coef": 0.25}
    assert clone(model).get_params() == {"penalizer_coef": 0.25}
    restored = pickle.loads(pickle.dumps(bgf))
    assert restored.params_.equals(bgf.params_)
    assert restored.predict(1, 1, 2, 5) == bgf.predict(1, 1, 2, 5)
