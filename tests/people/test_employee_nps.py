"""Employee NPS against an independent computation, and anonymity: small groups hidden, no subtraction."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pandas as pd
import pytest

from custfocus import people
from custfocus.data.loading import load
from custfocus.errors import InputError
from custfocus.people.anonymity import suppress
from custfocus.people.employee import COMPANY, POOLED

from .conftest import HEADCOUNT, SHARES, SMALL


def plain_nps(scores: pd.Series) -> float:
    return 100 * ((scores >= 9).mean() - (scores <= 6).mean())


def rocks_interval(scores: pd.Series) -> tuple[float, float]:
    """Adjusted-Wald interval of Rocks (2016), written out here: add 3 answers, 3/4 to each tail."""
    n = len(scores) + 3
    p, d = ((scores >= 9).sum() + 0.75) / n, ((scores <= 6).sum() + 0.75) / n
    se = math.sqrt((p + d - (p - d) ** 2) / n)
    return 100 * max(-1, p - d - 1.959964 * se), 100 * min(1, p - d + 1.959964 * se)


def test_employee_nps_matches_an_independent_computation(acme, acme_tables):
    answers = acme_tables["employee_responses"]
    result = people.analyse(acme).employee
    assert result.counted_by == "employee_id"
    shown = result.departments.set_index("department")
    assert set(shown.index) <= set(HEADCOUNT) - {SMALL}
    for department, row in shown.iterrows():
        scores = answers.score[answers.department == department]
        assert row["nps"] == pytest.approx(plain_nps(scores))
        assert (row["low"], row["high"]) == pytest.approx(rocks_interval(scores), abs=1e-3)
        assert row["people"] == answers.employee_id[answers.department == department].nunique()
        assert row["n"] == len(scores)
    # The planted levels are recovered within their intervals' reach.
    delivery = shown.loc["Delivery"]
    planted = 100 * (SHARES["Delivery"][0] - SHARES["Delivery"][2])
    assert delivery["low"] - 10 < planted < delivery["high"] + 10
    # The company figure leaves out the department too small to show, so nothing reveals it.
    large = answers[answers.department != SMALL]
    company = result.company.iloc[0]
    assert company["nps"] == pytest.approx(plain_nps(large.score))
    assert (company["people"], company["n"]) == (large.employee_id.nunique(), len(large))
    for row in result.cells.itertuples():
        in_cell = answers[(answers.department == row.department)
                          & (pd.to_datetime(answers.date) >= pd.Timestamp(row.wave))
                          & (pd.to_datetime(answers.date) < pd.Timestamp(row.wave) + pd.Timedelta(days=20))]
        assert row.nps == pytest.approx(plain_nps(in_cell.score))
        assert row.people == in_cell.employee_id.nunique() >= 5


def test_waves_are_survey_rounds():
    dates = pd.Series(pd.to_datetime(["2024-01-08", "2024-01-12", "2024-01-20", "2024-04-08", "2024-04-09"]))
    assert list(people.survey_waves(dates)) == ["2024-01-08"] * 3 + ["2024-04-08"] * 2
    continuous = pd.Series(pd.date_range("2024-01-01", "2024-12-31", freq="5D"))
    assert sorted(set(people.survey_waves(continuous))) == ["2024-01-01", "2024-04-01", "2024-07-01", "2024-10-01"]


def test_changes_between_waves_compare_the_last_two_shown_waves(acme):
    changes = people.analyse(acme).employee.changes.set_index("department")
    assert "company" in changes.index and SMALL not in changes.index
    row = changes.loc["company"]
    assert (row["wave_a"], row["wave_b"]) == ("2024-07-08", "2024-10-07")
    assert row["estimate"] == pytest.approx(row["value_b"] - row["value_a"])
    assert row["low"] < row["estimate"] < row["high"]


def _derivable_groups(answers: pd.DataFrame, result, k: int) -> list[str]:
    """Departments under k people enter no figure; then every relation total = sum of parts with a
    shown total must hide >= 2 parts covering >= k people."""
    headcount = answers.groupby("department").employee_id.nunique()
    answers = answers[answers.department.isin(headcount.index[headcount >= k])]
    answers = answers.assign(wave=people.survey_waves(answers["date"]))
    shown = {(r.department, r.wave) for r in result.cells.itertuples()}
    shown |= {(d, POOLED) for d in result.departments["department"]}
    shown |= {(COMPANY, w) for w in result.waves["wave"]}
    if len(result.company):
        shown.add((COMPANY, POOLED))
    members = {}
    for (d, w), g in answers.groupby(["department", "wave"]):
        members[(d, w)] = set(g.employee_id)
    for d, g in answers.groupby("department"):
        members[(d, POOLED)] = set(g.employee_id)
    for w, g in answers.groupby("wave"):
        members[(COMPANY, w)] = set(g.employee_id)
    members[(COMPANY, POOLED)] = set(answers.employee_id)
    departments, waves = answers.department.unique(), answers.wave.unique()
    relations = [((d, POOLED), [(d, w) for w in waves]) for d in departments]
    relations += [((COMPANY, w), [(d, w) for d in departments]) for w in waves]
    relations += [((COMPANY, POOLED), [(d, POOLED) for d in departments])]
    problems = [f"{g} shown with {len(members[g])} people" for g in shown if len(members[g]) < k]
    if len(result.company) and result.company["n"].iloc[0] != len(answers):
        problems.append("the company figure counts answers of a department too small to show")
    for total, parts in relations:
        parts = [p for p in parts if p in members]
        hidden = [p for p in parts if p not in shown]
        if total in shown and hidden:
            together = set().union(*(members[p] for p in hidden))
            if len(hidden) < 2 or len(together) < k:
                problems.append(f"{hidden} derivable from {total}")
    return problems


def test_no_small_group_is_shown_or_derivable(acme, acme_tables):
    result = people.analyse(acme).employee
    assert _derivable_groups(acme_tables["employee_responses"], result, 5) == []
    assert result.hidden["small_departments"] == 1
    assert SMALL not in set(result.cells.department) | set(result.departments.department)
    # No large department is hidden for the small one: it is left out of the company figure instead.
    assert set(result.departments.department) == set(HEADCOUNT) - {SMALL}
    assert len(result.company) == 1


@pytest.mark.parametrize("seed", range(6))
def test_suppression_holds_on_random_companies(seed):
    rng = np.random.default_rng(seed)
    rows = []
    for d in range(rng.integers(3, 8)):
        size = int(rng.integers(1, 12))
        for person in range(size):
            for wave in range(4):
                if rng.random() < 0.7:
                    rows.append({"department": f"D{d}", "date": date(2024, 1 + 3 * wave, 1),
                                 "employee_id": f"D{d}-{person}", "score": int(rng.integers(0, 11))})
    answers = pd.DataFrame(rows)
    for k in (3, 5, 7):
        assert _derivable_groups(answers, people.employee_nps(answers, k), k) == []


def test_suppress_hides_a_second_part_or_the_total():
    people_in = {"A": frozenset("abc"), "B": frozenset("defgh"), "C": frozenset("ijklmn"),
                 "total": frozenset("abcdefghijklmn")}
    assert suppress(people_in, [("total", ["A", "B", "C"])], 5) == {
        "A": "fewer than 5 people", "B": "hidden so that a smaller group cannot be worked out by subtraction"}
    alone = {"A": frozenset("abc"), "total": frozenset("abc")}
    assert set(suppress(alone, [("total", ["A"])], 5)) == {"A", "total"}
    with pytest.raises(ValueError):
        suppress(people_in, [], 2)


def test_without_employee_ids_answers_per_wave_count_as_people(acme_tables):
    answers = acme_tables["employee_responses"].drop(columns="employee_id")
    result = people.employee_nps(answers, 5)
    assert result.counted_by == "answers per wave"
    pooled = result.departments.set_index("department")["people"]
    per_wave = answers.assign(wave=people.survey_waves(answers.date)).groupby(["department", "wave"]).size()
    for department, count in pooled.items():
        assert count == per_wave[department].max()  # the fewest people consistent with the counts
    assert SMALL not in pooled.index


def test_min_group_size_from_custfocus_toml(acme_folder, tmp_path):
    settings = acme_folder / "custfocus.toml"
    original = settings.read_text()
    try:
        settings.write_text(original + "\n[privacy]\nmin_group_size = 3\n")
        result = people.analyse(load(acme_folder)).employee
        assert result.min_group_size == 3 and SMALL in set(result.departments.department)
        settings.write_text(original + "\n[privacy]\nmin_group_size = 2\n")
        with pytest.raises(InputError, match=r"custfocus.toml: \[privacy\] min_group_size must be .* at least 3, got 2"):
            load(acme_folder)
    finally:
        settings.write_text(original)
