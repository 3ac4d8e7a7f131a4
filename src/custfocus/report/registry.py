"""The report's sections, in the order a manager reads them: a new analysis joins with one line.

Each entry names a package under ``custfocus`` that exports ``section(company, context)``. They are
built in this order, so a section may read the ones before it from ``context.sections``.
"""

SECTIONS = (
    "pulse",
    "retention",
    "loyalty",
    "value",
    "profitability",
    "interventions",
)
