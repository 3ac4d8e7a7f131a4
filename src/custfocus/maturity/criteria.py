"""The criteria of the three levels of customer focus, and the evidence the data gives for each.

Levels are climbed in order (a level counts only when every lower one is met):

1. **Quality service**: the basics are measured and complaints are handled.
2. **Professional service**: the company knows what customers are worth and why they stay or leave,
   and acts on what detractors say.
3. **Customer service centre**: the whole company, internal customers included, is run on customer
   focus, and service investments are judged by the profit they bring.

Each criterion either has a data check (a function of the report's sections and the company that
says met / not met / no data, with the figure behind it) or can only be claimed in the
self-assessment (a written process, published standards). Sources: docs/maturity.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

LEVELS = {1: "quality service", 2: "professional service", 3: "customer service centre"}
MET, NOT_MET, NO_DATA = "met", "not met", "no data"
FOLLOW_UP_DAYS = 14
FOLLOW_UP_SHARE = 0.5  # at least half of the detractors contacted again
FOLLOW_UP_KINDS = ("call", "callback", "follow_up", "follow-up", "email", "visit", "ticket")


@dataclass(frozen=True)
class Finding:
    state: str  # MET, NOT_MET or NO_DATA
    detail: str  # the figure behind it, in words


@dataclass(frozen=True)
class Evidence:
    """What the data shows: the sections already built and the company's tables."""

    sections: dict  # key -> Section
    company: Any

    def data(self, key: str) -> dict | None:
        section = self.sections.get(key)
        return section.data if section is not None and section.available else None

    def reason(self, key: str, tables: str) -> str:
        section = self.sections.get(key)
        if section is None:
            return f"the {key} section was not built"
        return section.reason or f"needs {tables}"


@dataclass(frozen=True)
class Criterion:
    key: str  # also the key in assessment.toml
    level: int
    practice: str  # what a company at this level does, as a statement it can claim
    how: str  # the command or table that meets it
    check: Callable[[Evidence], Finding] | None = None  # None: only the self-assessment can show it


# --- data checks -----------------------------------------------------------------------------


def _nps(e: Evidence) -> Finding:
    pulse = e.data("pulse")
    if pulse is None or pulse.get("nps") is None:
        return Finding(NO_DATA, "no NPS answers: " + e.reason("pulse", "table responses"))
    nps = pulse["nps"]
    figure = f"NPS {nps['nps']:+.0f} (95% CI {nps['low']:+.0f} to {nps['high']:+.0f}, n = {nps['n']:,})"
    if nps["too_small"]:
        return Finding(NOT_MET, f"{figure}: too few answers to conclude")
    return Finding(MET, figure)


def _retention(e: Evidence) -> Finding:
    retention = e.data("retention")
    rate = (retention or {}).get("headlines", {}).get("retention")
    if not rate or rate.get("estimate") is None:
        return Finding(NO_DATA, "no retention rate: " + e.reason("retention", "table transactions"))
    return Finding(MET, f"monthly retention {rate['estimate']:.0%} (95% CI {rate['low']:.0%} to {rate['high']:.0%}, "
                        f"n = {rate['n']:,})")


def _service_events(e: Evidence) -> Finding:
    if not e.company.has("service_events"):
        return Finding(NO_DATA, "no table service_events")
    events = e.company.table("service_events")
    rows = int(events.count().to_pandas())
    if rows == 0:
        return Finding(NOT_MET, "table service_events is empty")
    return Finding(MET, f"{rows:,} service events recorded with their cost")


def _loyalty(e: Evidence) -> Finding:
    loyalty = e.data("loyalty")
    if loyalty is None:
        return Finding(NO_DATA, "loyalty vs retention not measured: " + e.reason("loyalty", "tables transactions, responses"))
    heads = loyalty.get("headlines", {})
    true, spurious = heads.get("true_loyalty") or {}, heads.get("spurious_loyalty") or {}
    if true.get("estimate") is None:
        return Finding(NOT_MET, "no customer has both an NPS answer and a purchase history")
    retained = spurious.get("estimate")
    return Finding(MET, f"{true['estimate']:.0%} truly loyal"
                        + (f", {retained:.0%} retained but not loyal" if retained is not None else ""))


def _value(e: Evidence) -> Finding:
    value = e.data("profitability")
    if value is None:
        return Finding(NO_DATA, "profit after cost to serve not measured: "
                       + e.reason("profitability", "table transactions"))
    if not value.get("cost_to_serve_known"):
        return Finding(NOT_MET, "customer value is known but not the cost to serve (service_events.cost)")
    totals = value.get("totals") or {}
    profit = totals.get("profit")
    currency = value.get("currency", "")
    if profit is None:
        return Finding(MET, "profit after cost to serve is measured")
    share = totals.get("cost_to_serve_share")  # None when there was no gross margin to divide by
    return Finding(MET, f"profit after cost to serve {profit:,.0f} {currency}"
                        + (f"; cost to serve {share:.0%} of gross margin" if share is not None else ""))


def _themes(e: Evidence) -> Finding:
    voice = e.data("voice")
    if voice is None:
        return Finding(NO_DATA, "comment themes not analysed: " + e.reason("voice", "comments in table responses"))
    summary = e.sections["voice"].summary
    return Finding(MET, summary or "themes of comments analysed")


def _follow_up(e: Evidence) -> Finding:
    """Share of detractor answers followed by a contact (a call, ticket, ...) within FOLLOW_UP_DAYS."""
    import ibis

    company = e.company
    if not company.has("responses", "service_events") or "customer_id" not in company.table("responses").columns:
        return Finding(NO_DATA, "needs tables responses (with customer_id) and service_events")
    responses, events = company.table("responses"), company.table("service_events")
    detractors = (responses.filter((responses.kind == "nps") & (responses.score <= 6) & responses.customer_id.notnull())
                  .select(customer=responses.customer_id, answered=responses.date).distinct())
    contacts = events.filter(events.kind.lower().isin(FOLLOW_UP_KINDS)).select(
        contact_customer=events.customer_id, contacted=events.date)
    followed = detractors.join(contacts, [
        detractors.customer == contacts.contact_customer, contacts.contacted >= detractors.answered,
        contacts.contacted <= detractors.answered + ibis.interval(days=FOLLOW_UP_DAYS),
    ]).select("customer", "answered").distinct()
    total, reached = int(detractors.count().to_pandas()), int(followed.count().to_pandas())
    if total == 0:
        return Finding(NO_DATA, "no detractor answers with a customer_id")
    share = reached / total
    figure = (f"{share:.0%} of {total:,} detractor answers were followed by a contact within {FOLLOW_UP_DAYS} days "
              f"(service_events of kind {', '.join(FOLLOW_UP_KINDS[:3])}, ...)")
    return Finding(MET if share >= FOLLOW_UP_SHARE else NOT_MET, figure)


def _people(e: Evidence, part: str) -> Finding:
    people = e.data("people")
    if people is None:
        return Finding(NO_DATA, e.reason("people", "tables employee_responses, internal_responses"))
    if part == "enps":
        employee = people.get("employee_nps")
        if employee is None:
            return Finding(NO_DATA, "no table employee_responses")
        company = employee.get("company")
        if company is None:
            return Finding(NOT_MET, "employee NPS cannot be shown: too few people answered")
        return Finding(MET, f"employee NPS {company['nps']:+.0f} (95% CI {company['low']:+.0f} to "
                            f"{company['high']:+.0f}, {company['people']:,} people)")
    if part == "internal":
        internal = people.get("internal")
        if internal is None:
            return Finding(NO_DATA, "no table internal_responses")
        if not internal["cells"]:
            return Finding(NOT_MET, "no pair of departments has enough ratings to show")
        bottleneck = people.get("bottleneck")
        named = f"; bottleneck supplier {bottleneck['supplier']}" if bottleneck else ""
        return Finding(MET, f"{len(internal['cells'])} internal customer-supplier pairs rated{named}")
    link = (people.get("chain") or {}).get("employee_nps")
    if not link or link.get("pearson") is None:
        return Finding(NO_DATA, "employee NPS and customer NPS by department are not both known "
                                "(responses.department and employee_responses)")
    return Finding(MET, link["verdict"])


def _interventions(e: Evidence) -> Finding:
    interventions = e.data("interventions")
    if interventions is None:
        return Finding(NO_DATA, "no service investment tested: " + e.reason("interventions", "table interventions"))
    results = interventions.get("interventions") or {}
    if not results:
        return Finding(NOT_MET, "the interventions table has no assignments")
    return Finding(MET, " ".join(r.get("sentence", "") for r in results.values()).strip())


CRITERIA = (
    Criterion("nps_measured", 1, "Customer NPS is measured and reported with its confidence interval, on enough "
              "answers to conclude.", "table responses (kind = nps); custfocus nps DATA", _nps),
    Criterion("retention_measured", 1, "Retention and churn are measured every period.",
              "table transactions; custfocus retention DATA", _retention),
    Criterion("complaints_recorded", 1, "Complaints and service contacts are recorded, with what they cost.",
              "table service_events (customer_id, date, kind, cost)", _service_events),
    Criterion("complaint_process", 1, "A written complaint-handling process exists, with an owner and response "
              "times (ISO 10002).", "write the process down and name its owner; then answer it in assessment.toml"),
    Criterion("loyalty_vs_retention", 2, "We know which customers are loyal and which are only retained.",
              "tables transactions and responses with customer_id; the report's loyalty section", _loyalty),
    Criterion("value_after_cost_to_serve", 2, "We know what each customer is worth after the cost of serving them.",
              "transactions.cost and service_events.cost; the report's profitability section", _value),
    Criterion("comment_themes", 2, "The themes of customers' comments are analysed and acted on.",
              "responses.comment; the report's voice section", _themes),
    Criterion("detractor_follow_up", 2, f"Detractors are contacted again within {FOLLOW_UP_DAYS} days of their answer.",
              f"a call or ticket in service_events within {FOLLOW_UP_DAYS} days of each detractor's answer "
              "(responses.customer_id)", _follow_up),
    Criterion("employee_nps", 3, "Employee NPS is measured by department, anonymously.",
              "table employee_responses (department, date, score, employee_id); custfocus people DATA",
              lambda e: _people(e, "enps")),
    Criterion("internal_service", 3, "Departments rate the internal service they receive, and the weakest "
              "internal supplier is known.",
              "table internal_responses (from_department, to_department, date, score); custfocus people DATA",
              lambda e: _people(e, "internal")),
    Criterion("service_profit_chain", 3, "The link between employee NPS and customer NPS is examined by department.",
              "responses.department and employee_responses; the report's people section",
              lambda e: _people(e, "chain")),
    Criterion("service_investment_profit", 3, "Service investments are tested against a control group for the "
              "profit they bring.", "table interventions (treatment/control); custfocus interventions DATA",
              _interventions),
    Criterion("service_standards", 3, "Service standards with targets are published for every customer-facing "
              "department and reviewed (CEN/TS 16880, Customer Service Excellence).",
              "publish the standards and review them yearly; then answer it in assessment.toml"),
)
