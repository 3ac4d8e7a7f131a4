"""Maturity: where the company stands on the road from quality service to a customer service centre,
judged from the data and the self-assessment (``assessment.toml``), and the next steps.

>>> from custfocus import maturity
>>> print(maturity.template())                                   # an annotated blank assessment.toml
>>> result = maturity.judge(maturity.Evidence(sections, company), None)   # doctest: +SKIP
>>> result.verdict, result.next_step                              # doctest: +SKIP
"""

from custfocus.section import presented_by
from custfocus.maturity.assessment import Assessment, read_assessment, template
from custfocus.maturity.criteria import CRITERIA, LEVELS, Criterion, Evidence, Finding
from custfocus.maturity.verdict import Judgement, Maturity, judge

__all__ = [
    "CRITERIA",
    "LEVELS",
    "Assessment",
    "Criterion",
    "Evidence",
    "Finding",
    "Judgement",
    "Maturity",
    "judge",
    "read_assessment",
    "section",
    "template",
]


section = presented_by(__name__)
