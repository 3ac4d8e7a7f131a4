"""The maturity section: the verdict in one sentence, the next step, and every criterion judged.

``Section.data`` (see :func:`to_dict`): ``verdict`` and ``next_step`` (sentences), ``confirmed_level``,
``claimed_level`` (null without an assessment), ``from_data_only``, ``assessment`` (its path or null),
``levels`` ({number: name}), ``criteria`` (one per criterion, in order: ``key``, ``level``,
``practice``, ``status``, ``claimed``, ``evidence``, ``how``) and ``next_steps`` (the same fields).
"""

from __future__ import annotations

import pandas as pd

from custfocus.data.company import Company
from custfocus.maturity.assessment import read_assessment
from custfocus.maturity.criteria import LEVELS, Evidence
from custfocus.maturity.verdict import CONTRADICTED, Judgement, Maturity, judge, level_name
from custfocus.section import Context, Headline, Section, TableView
from custfocus.stats import to_jsonable

KEY = "maturity"
TITLE = "Maturity: where customer focus stands and the next step"


def assess(company: Company, context: Context) -> Maturity:
    """Judge the company from the sections already in ``context`` and its assessment.toml, if any."""
    path = company.settings.get("assessment_path")
    assessment = read_assessment(path) if path else None
    return judge(Evidence(context.sections, company), assessment)


def section(company: Company, context: Context) -> Section:
    context.progress("maturity: judging each criterion")
    result = assess(company, context)
    out = Section(KEY, TITLE, summary=result.verdict + (f" Next step: {result.next_step}" if result.next_step else ""),
                  data=to_dict(result))
    claimed = ("" if result.claimed_level is None else
               f"; claimed: {level_name(result.claimed_level)}")
    out.headlines.append(Headline(
        "Customer-focus level", f"{result.confirmed_level} of 3",
        f"confirmed: {level_name(result.confirmed_level)}{claimed}",
        "judged from the data alone: no assessment.toml" if result.from_data_only else None))
    if not context.sections:
        out.caveats.append("No other section was built, so nothing could be verified from the data; build the "
                           "whole report (custfocus maturity DATA or custfocus report) to judge from the data.")
    contradicted = [j for j in result.judgements if j.status == CONTRADICTED]
    for j in contradicted:
        out.caveats.append(f"Claimed but contradicted by the data: {j.criterion.practice} ({j.evidence}).")
    out.tables.append(TableView("criteria", "Every criterion, level by level", _view(result.judgements),
                                finding="Verified by data, claimed only, or contradicted by data (data overrides claims)."))
    if result.next_steps:
        out.tables.append(TableView("next_steps", f"Next steps to {level_name(result.confirmed_level + 1)}",
                                    _view(result.next_steps, with_how=True),
                                    finding="The unmet criteria of the lowest level not yet confirmed, in order."))
    return out


def to_dict(result: Maturity) -> dict:
    return to_jsonable({
        "verdict": result.verdict, "next_step": result.next_step,
        "confirmed_level": result.confirmed_level, "claimed_level": result.claimed_level,
        "from_data_only": result.from_data_only, "assessment": result.assessment_source,
        "levels": LEVELS, "criteria": [_record(j) for j in result.judgements],
        "next_steps": [_record(j) for j in result.next_steps],
    })


def _record(j: Judgement) -> dict:
    return {"key": j.criterion.key, "level": j.criterion.level, "practice": j.criterion.practice,
            "status": j.status, "claimed": j.claimed, "evidence": j.evidence, "how": j.criterion.how}


def _view(judgements: list[Judgement], with_how: bool = False) -> pd.DataFrame:
    frame = pd.DataFrame({
        "level": [j.criterion.level for j in judgements],
        "practice": [j.criterion.practice for j in judgements],
        "status": [j.status for j in judgements],
        "what the data shows": [j.evidence for j in judgements],
    })
    if with_how:
        frame["how to meet it"] = [j.criterion.how for j in judgements]
    return frame
