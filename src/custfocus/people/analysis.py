"""People: employee NPS, the internal-customer matrix and the service-profit chain of one company.

:func:`analyse` reads the tables once and returns every result, already anonymised; :func:`to_dict`
is its JSON form (the command line's ``--json`` and the report section's ``data``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from custfocus.data.company import Company
from custfocus.people import anonymity, chain
from custfocus.people.employee import EmployeeNps, employee_nps
from custfocus.people.internal import InternalService, internal_service
from custfocus.pulse import stats
from custfocus.stats import to_jsonable

NEEDS_ANY = ("employee_responses", "internal_responses")


@dataclass
class People:
    min_group_size: int
    employee: EmployeeNps | None
    internal: InternalService | None
    chain: dict = field(default_factory=dict)  # employee_nps / internal_service / lead_lag results
    notes: list[str] = field(default_factory=list)

    @property
    def bottleneck(self) -> dict | None:
        return self.internal.bottleneck if self.internal is not None else None


def analyse(company: Company, progress: Callable[[str], None] | None = None) -> People:
    """Employee NPS, the internal-customer matrix and the chain, with the company's anonymity rule."""
    step = progress or (lambda note: None)
    k = anonymity.min_group_size(company)
    result = People(min_group_size=k, employee=None, internal=None)
    headcount = None
    if company.has("employee_responses"):
        step("people: employee NPS by department and wave")
        answers = _employee_answers(company)
        result.employee = employee_nps(answers, k)
        if result.employee.counted_by == "employee_id":
            headcount = answers.groupby("department")["employee_id"].nunique()
    else:
        result.notes.append("Employee NPS needs table employee_responses.")
    small = result.employee.small_departments if result.employee is not None else frozenset()
    if company.has("internal_responses"):
        step("people: internal-customer matrix and the bottleneck supplier")
        served = customers_served(company)
        if served is None:
            result.notes.append("No department column in responses or service_events: each rating department "
                                "weighs the same in the bottleneck, not by the customers it serves.")
        internal = company.table("internal_responses")
        answers = internal.select("from_department", "to_department", "date", "score").to_pandas()
        result.internal = internal_service(answers, served, k, headcount, small)
    else:
        result.notes.append("The internal-customer matrix needs table internal_responses.")
    if result.employee is not None and company.has("responses") and "department" in company.table("responses").columns:
        step("people: employee NPS against customer NPS")
        result.chain = _chain(company, result, small)
    return result


def company_employee_nps(company: Company) -> EmployeeNps:
    """Employee NPS of the company's employee_responses, with its anonymity rule (and nothing else)."""
    return employee_nps(_employee_answers(company), anonymity.min_group_size(company))


def _employee_answers(company: Company) -> pd.DataFrame:
    table = company.table("employee_responses")
    columns = [c for c in ("department", "date", "score", "employee_id") if c in table.columns]
    return table.select(*columns).to_pandas()


def customers_served(company: Company) -> pd.Series | None:
    """Distinct customers per department, from responses and service_events (None if neither says)."""
    parts = [company.table(name).select("customer_id", "department")
             for name in ("responses", "service_events")
             if company.has(name) and {"customer_id", "department"} <= set(company.table(name).columns)]
    if not parts:
        return None
    union = parts[0] if len(parts) == 1 else parts[0].union(parts[1])
    union = union.filter(union.department.notnull() & union.customer_id.notnull()).distinct()
    counts = union.group_by("department").agg(customers=union.customer_id.count()).to_pandas()
    return counts.set_index("department")["customers"].astype(int)


def _chain(company: Company, result: People, small) -> dict:
    responses = company.table("responses")
    nps_answers = responses.filter((responses.kind == "nps") & responses.department.notnull())
    answers = nps_answers.select("department", "date", "score").to_pandas()
    answers = answers[~answers["department"].isin(small)]
    customer = (answers.groupby("department")["score"].apply(lambda s: _nps(s))
                .rename("customer_nps").reset_index())
    employee = result.employee.departments[["department", "nps"]].rename(columns={"nps": "employee_nps"})
    units = employee.merge(customer, on="department")
    out = {"departments": units.to_dict("records"),
           "employee_nps": chain.correlation(units["employee_nps"], units["customer_nps"], units["department"],
                                             "employee NPS vs customer NPS")}
    if result.internal is not None and len(result.internal.cells):
        received = (result.internal.cells.assign(total=lambda f: f["adjusted_mean"] * f["n"])
                    .groupby("rater")[["total", "n"]].sum())
        received = (received["total"] / received["n"]).rename("internal_service_received").reset_index()
        both = received.rename(columns={"rater": "department"}).merge(customer, on="department")
        out["internal_service_departments"] = both.to_dict("records")
        out["internal_service"] = chain.correlation(both["internal_service_received"], both["customer_nps"],
                                                    both["department"], "internal service received vs customer NPS")
    cells = result.employee.cells
    waves = sorted(cells["wave"].unique())
    if len(waves) >= 3:
        starts = pd.to_datetime(pd.Series(waves))
        position = np.searchsorted(starts.to_numpy(), pd.to_datetime(answers["date"]).to_numpy(), side="right") - 1
        answers = answers.assign(wave=[waves[p] if p >= 0 else None for p in position]).dropna(subset=["wave"])
        by_wave = (answers.groupby(["department", "wave"])["score"].apply(_nps).rename("nps").reset_index())
        out["lead_lag"] = chain.lead_lag(cells[["department", "wave", "nps"]], by_wave)
    return out


def _nps(scores: pd.Series) -> float:
    return stats.nps_interval(stats.NpsCounts.from_scores(scores)).estimate


def to_dict(result: People) -> dict:
    """Every shown figure as plain JSON types; hidden groups appear only as counts, never by name."""
    k = result.min_group_size
    payload: dict = {"min_group_size": k, "anonymity_rule": anonymity.rule_sentence(k), "notes": result.notes,
                     "employee_nps": None, "employee_nps_by_wave": None, "internal": None,
                     "bottleneck": result.bottleneck, "chain": result.chain or None}
    if result.employee is not None:
        e = result.employee
        payload["employee_nps"] = {
            "counted_by": e.counted_by,
            "company": e.company.iloc[0].to_dict() if len(e.company) else None,
            "by_department": e.departments, "by_wave": e.waves, "changes": e.changes, "hidden": e.hidden,
        }
        payload["employee_nps_by_wave"] = e.cells
    if result.internal is not None:
        i = result.internal
        payload["internal"] = {"method": i.method, "weights_from": i.weights_from, "cells": i.cells,
                               "raters": i.raters, "suppliers": i.suppliers, "asymmetric": i.asymmetric,
                               "hidden_cells": i.hidden_cells, "self_ratings_left_out": i.self_ratings}
    return to_jsonable(payload)
