"""The service-profit chain: Fisher-z against R, no verdict from noise, lead and lag recovered."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from custfocus import people

# R's datasets::mtcars, mpg and wt; cor.test(mtcars$mpg, mtcars$wt) prints
# cor -0.8676594, 95 percent confidence interval -0.9338264 -0.7440872.
MPG = [21.0, 21.0, 22.8, 21.4, 18.7, 18.1, 14.3, 24.4, 22.8, 19.2, 17.8, 16.4, 17.3, 15.2, 10.4, 10.4,
       14.7, 32.4, 30.4, 33.9, 21.5, 15.5, 15.2, 13.3, 19.2, 27.3, 26.0, 30.4, 15.8, 19.7, 15.0, 21.4]
WT = [2.620, 2.875, 2.320, 3.215, 3.440, 3.460, 3.570, 3.190, 3.150, 3.440, 3.440, 4.070, 3.730, 3.780,
      5.250, 5.424, 5.345, 2.200, 1.615, 1.835, 2.465, 3.520, 3.435, 3.840, 3.845, 1.935, 2.140, 1.513,
      3.170, 2.770, 3.570, 2.780]


def test_fisher_interval_matches_r_cor_test():
    result = people.correlation(MPG, WT, [f"car {i}" for i in range(32)], "mpg vs weight")
    assert result["pearson"] == pytest.approx(-0.8676594, abs=1e-7)
    assert (result["low"], result["high"]) == pytest.approx((-0.9338264, -0.7440872), abs=1e-6)
    assert result["conclusive"]


def test_five_departments_are_too_few_to_conclude_even_when_r_is_high():
    result = people.correlation([-20, -5, 0, 10, 30], [-10, 5, 2, 20, 35], list("ABCDE"), "employee NPS vs customer NPS")
    assert result["pearson"] > 0.9
    assert not result["conclusive"]
    assert result["verdict"].startswith("Too few departments to conclude")
    assert len(result["leave_one_out"]) == 5


def test_noise_rarely_gives_a_verdict():
    rng = np.random.default_rng(1)
    verdicts = [people.correlation(rng.normal(size=20), rng.normal(size=20), range(20), "x vs y")["conclusive"]
                for _ in range(400)]
    assert np.mean(verdicts) < 0.08  # a 95% interval excludes zero about 5% of the time


def test_a_real_link_across_many_departments_is_found():
    rng = np.random.default_rng(2)
    employee = rng.normal(0, 20, 25)
    customer = 0.8 * employee + rng.normal(0, 8, 25)
    result = people.correlation(employee, customer, range(25), "employee NPS vs customer NPS")
    assert result["conclusive"] and result["low"] > 0.5


def test_one_department_driving_the_link_is_not_a_verdict():
    rng = np.random.default_rng(5)
    employee = np.append(rng.normal(0, 5, 11), 80.0)
    customer = np.append(-0.6 * employee[:11] + rng.normal(0, 2, 11), 90.0)
    result = people.correlation(employee, customer, [f"D{i}" for i in range(12)], "employee NPS vs customer NPS")
    assert result["pearson"] > 0 and not result["conclusive"]
    assert result["most_influential"] == "D11"


def test_lead_and_lag_within_departments():
    rng = np.random.default_rng(3)
    rows_employee, rows_customer = [], []
    for d in range(12):
        level = rng.normal(0, 20)
        employee = level + rng.normal(0, 10, 7)
        customer = np.empty(7)
        customer[0] = rng.normal(0, 10)
        customer[1:] = 0.9 * (employee[:-1] - level) + rng.normal(0, 4, 6) - level
        for w in range(7):
            rows_employee.append({"department": f"D{d}", "wave": f"2024-{w + 1:02d}", "nps": employee[w]})
            rows_customer.append({"department": f"D{d}", "wave": f"2024-{w + 1:02d}", "nps": customer[w]})
    result = people.lead_lag(pd.DataFrame(rows_employee), pd.DataFrame(rows_customer))
    leads, follows = result["directions"]["employee_leads"], result["directions"]["customer_leads"]
    assert leads["conclusive"] and leads["low"] > 0.5
    assert not follows["conclusive"]
    too_short = people.lead_lag(pd.DataFrame(rows_employee[:2]), pd.DataFrame(rows_customer[:2]))
    assert too_short["verdict"].startswith("Lead and lag need three or more waves")


def test_acme_chain_is_too_few_departments(acme):
    chain = people.analyse(acme).chain
    assert chain["employee_nps"]["n"] <= 4
    assert not chain["employee_nps"]["conclusive"]
    assert "Legal" not in str(chain)
