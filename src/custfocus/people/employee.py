"""Employee NPS by department and survey wave, pooled, and its change between waves, anonymised.

A *wave* is one round of the employee survey: answers whose dates follow each other with gaps of
at most ``WAVE_GAP_DAYS`` days; a longer silence starts the next wave. A wave is named by its
first day. A continuous survey (a "wave" longer than a quarter) is cut into calendar quarters. The intervals are the adjusted-Wald NPS intervals of :mod:`custfocus.pulse.stats`. Pooled
figures count every answer; one person's answers in different waves are not independent, so a
pooled interval is somewhat too narrow (the per-wave ones are not affected).

Every figure passes :mod:`custfocus.people.anonymity`: the tables hold only groups that may be
shown, plus a count of what was hidden. A department with fewer people than the minimum over all
waves is left out of every figure, the company's included (so the company figure is that of the
departments large enough to show); the complementary suppression then protects the small
department-wave cells of the others.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from custfocus.people import anonymity
from custfocus.pulse import stats

WAVE_GAP_DAYS = 21
MAX_WAVE_DAYS = 92  # a longer "wave" is a continuous survey: its waves are calendar quarters
COMPANY = "company"
POOLED = "all waves"
NPS_COLUMNS = ["people", "n", "promoters", "passives", "detractors", "nps", "low", "high", "too_small"]


def survey_waves(dates: pd.Series) -> pd.Series:
    """The wave of each answer, as its first day (an ISO date string).

    A company that surveys continuously has no silences between rounds: when a wave found by the
    gaps would span more than a quarter, the waves are the calendar quarters instead (named by the
    quarter's first day)."""
    days = pd.to_datetime(dates).dt.normalize()
    distinct = np.sort(days.dropna().unique())
    if len(distinct) == 0:
        return pd.Series([], dtype=object, index=dates.index)
    starts_new = np.concatenate([[True], np.diff(distinct).astype("timedelta64[D]").astype(int) > WAVE_GAP_DAYS])
    first_day = pd.Series(distinct[np.maximum.accumulate(np.where(starts_new, np.arange(len(distinct)), 0))],
                          index=distinct)
    if (pd.Series(distinct, index=distinct) - first_day).max() > pd.Timedelta(days=MAX_WAVE_DAYS):
        return days.dt.to_period("Q").dt.start_time.dt.strftime("%Y-%m-%d")
    return days.map(first_day).dt.strftime("%Y-%m-%d")


@dataclass
class EmployeeNps:
    """What may be shown of employee NPS (every frame holds shown groups only).

    ``cells``: department, wave and the NPS columns; ``departments``: pooled over waves;
    ``waves``: the company per wave; ``company``: one row or none; ``changes``: per department
    (and ``company``) the latest shown wave against the shown wave before it.
    """

    min_group_size: int
    counted_by: str  # "employee_id" or "answers per wave"
    cells: pd.DataFrame
    departments: pd.DataFrame
    waves: pd.DataFrame
    company: pd.DataFrame
    changes: pd.DataFrame
    hidden: dict = field(default_factory=dict)  # {"departments": n, "cells": n, "small": n, ...}
    small_departments: frozenset = frozenset()  # fewer people than the minimum: never named anywhere

    @property
    def shown_departments(self) -> list[str]:
        return list(self.departments["department"])


def employee_nps(answers: pd.DataFrame, min_group_size: int = anonymity.MIN_GROUP_SIZE) -> EmployeeNps:
    """Employee NPS from employee_responses rows (department, date, score [, employee_id])."""
    answers = answers.dropna(subset=["department", "score"]).copy()
    answers["wave"] = survey_waves(answers["date"])
    has_ids = "employee_id" in answers.columns and answers["employee_id"].notna().all()
    if not has_ids:
        # Without ids, the i-th answer of a department in a wave stands for person i of it.
        answers["employee_id"] = (answers["department"].astype(str) + "#"
                                  + answers.groupby(["department", "wave"]).cumcount().astype(str))
    headcount = answers.groupby("department")["employee_id"].nunique()
    small = frozenset(headcount.index[headcount < min_group_size])
    # A department too small to show is left out of every figure, the company's included: then no
    # total minus the departments shown reveals it, and no large department has to be hidden for it.
    answers = answers[~answers["department"].isin(small)].copy()
    answers["wave"] = survey_waves(answers["date"])
    people: dict = {}
    counts: dict = {}
    for keys, group in _groupings(answers):
        people[keys] = frozenset(group["employee_id"])
        counts[keys] = stats.NpsCounts.from_scores(group["score"])
    departments = sorted(answers["department"].unique(), key=str)
    waves = sorted(answers["wave"].unique())
    relations = [((d, POOLED), [(d, w) for w in waves]) for d in departments]
    relations += [((COMPANY, w), [(d, w) for d in departments]) for w in waves]
    relations += [((COMPANY, POOLED), [(d, POOLED) for d in departments]),
                  ((COMPANY, POOLED), [(COMPANY, w) for w in waves])]
    hidden = anonymity.suppress(people, relations, min_group_size)

    rows = [{"department": d, "wave": w, **_nps_row(counts[(d, w)], len(people[(d, w)]))}
            for (d, w) in people if (d, w) not in hidden]
    table = pd.DataFrame(rows, columns=["department", "wave", *NPS_COLUMNS])
    is_company, is_pooled = table["department"] == COMPANY, table["wave"] == POOLED
    hidden_departments = frozenset(d for d in departments if (d, POOLED) in hidden)
    result = EmployeeNps(
        min_group_size=min_group_size,
        counted_by="employee_id" if has_ids else "answers per wave",
        cells=_sorted(table[~is_company & ~is_pooled]),
        departments=table[~is_company & is_pooled].drop(columns="wave").sort_values("nps", ascending=False)
        .reset_index(drop=True),
        waves=_sorted(table[is_company & ~is_pooled]).drop(columns="department"),
        company=table[is_company & is_pooled].drop(columns=["department", "wave"]).reset_index(drop=True),
        changes=_changes(table[~is_pooled], counts),
        hidden={
            "departments": len(hidden_departments) + len(small),
            "small_departments": len(small),
            "department_waves": sum(1 for d, w in hidden if d != COMPANY and w != POOLED),
            "company_waves": sum(1 for d, w in hidden if d == COMPANY and w != POOLED),
            "company": (COMPANY, POOLED) in hidden,
        },
        small_departments=small,
    )
    return result


def _groupings(answers: pd.DataFrame):
    for (d, w), group in answers.groupby(["department", "wave"]):
        yield (d, w), group
    for d, group in answers.groupby("department"):
        yield (d, POOLED), group
    for w, group in answers.groupby("wave"):
        yield (COMPANY, w), group
    yield (COMPANY, POOLED), answers


def _nps_row(counts: stats.NpsCounts, people: int) -> dict:
    interval = stats.nps_interval(counts)
    return {"people": people, "n": counts.n, "promoters": counts.promoters, "passives": counts.passives,
            "detractors": counts.detractors, "nps": interval.estimate, "low": interval.low,
            "high": interval.high,
            "too_small": bool(stats.too_small(counts.n, interval.low, interval.high, "nps"))}


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values([c for c in ("department", "wave") if c in frame]).reset_index(drop=True)


def _changes(by_wave: pd.DataFrame, counts: dict) -> pd.DataFrame:
    """Per department (and the company): its latest shown wave against the shown wave before it."""
    rows = []
    for department, shown in by_wave.groupby("department", sort=True):
        shown = shown.sort_values("wave")
        if len(shown) < 2:
            continue
        before, after = shown["wave"].iloc[-2], shown["wave"].iloc[-1]
        change = stats.nps_difference(counts[(department, before)], counts[(department, after)])
        rows.append({"department": department, "wave_a": before, "wave_b": after,
                     "value_a": shown["nps"].iloc[-2], "value_b": shown["nps"].iloc[-1],
                     **change.to_dict()})
    columns = ["department", "wave_a", "wave_b", "value_a", "value_b", "estimate", "low", "high", "n_a",
               "n_b", "p_value", "significant"]
    return pd.DataFrame(rows, columns=columns)
