"""People: employee NPS by department and wave (anonymised), the internal-customer matrix with the
bottleneck supplier, and the service-profit chain between employee and customer NPS.

>>> from custfocus import people
>>> result = people.analyse(company)          # doctest: +SKIP
>>> result.bottleneck["supplier"]             # doctest: +SKIP
>>> people.to_dict(result)                    # every shown figure, JSON-ready
"""

from custfocus.section import presented_by
from custfocus.people.analysis import People, analyse, company_employee_nps, customers_served, to_dict
from custfocus.people.anonymity import min_group_size, suppress
from custfocus.people.chain import correlation, fisher_interval, lead_lag
from custfocus.people.employee import EmployeeNps, employee_nps, survey_waves
from custfocus.people.internal import InternalService, additive_fit, internal_service

__all__ = [
    "EmployeeNps",
    "InternalService",
    "People",
    "additive_fit",
    "analyse",
    "company_employee_nps",
    "correlation",
    "customers_served",
    "employee_nps",
    "fisher_interval",
    "internal_service",
    "lead_lag",
    "min_group_size",
    "section",
    "suppress",
    "survey_waves",
    "to_dict",
]


section = presented_by(__name__)
