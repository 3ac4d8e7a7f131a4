"""The loyalty section of the report: the loyalty matrix, the retained-but-not-loyal, a promoter's worth.

``Section.data`` keys (JSON; amounts in the company's currency; intervals 95%):

- ``definitions``: the attitude, behaviour, value-at-risk and promoter-value rules in words.
- ``customers``: customers valued (a purchase on or before as_of); ``surveyed``: those of them with
  an NPS answer; ``attitude_unknown``: those without.
- ``clv``: ``model``, ``time_unit``, ``horizon_months`` and ``annual_discount_rate`` of the CLV used.
- ``loyalty_matrix``: one row per (attitude, repeat) with the columns of
  :func:`custfocus.loyalty.loyalty_matrix`: ``attitude`` (high / low / unknown), ``repeat``
  (high / low), ``cell``, ``customers``, ``share`` (of all customers), ``share_of_surveyed``,
  ``revenue``, ``clv``, ``clv_mean``, ``clv_low``, ``clv_high``, ``p_alive_mean``,
  ``value_at_risk``, ``too_small``.
- ``by_category``: the same by ``nps_category`` (promoter, passive, detractor, unknown) and ``repeat``.
- ``headlines``: ``true_loyalty`` and ``spurious_loyalty``: share of surveyed customers
  (estimate, low, high by Wilson, n = surveyed); ``value_at_risk`` (CLV of the spurious customers),
  ``spurious_customers``, ``spurious_detractors``.
- ``retained_not_loyal``: ``customers``, ``value_at_risk`` and ``top``: the ``TOP_CUSTOMERS`` with
  the most value at risk (columns of :func:`custfocus.loyalty.retained_not_loyal`).
- ``promoter_value``: ``window_days``, ``answered_by`` (first answers up to this date count),
  ``too_recent``, ``spend`` (per category: ``nps_category``, ``customers``, ``mean``, ``low``,
  ``high``, ``sd``, ``total``, ``too_small``), ``spend_gap`` (promoter minus detractor, Welch:
  ``estimate``, ``low``, ``high``, ``n_a`` detractors, ``n_b`` promoters, ``p_value``,
  ``significant``; None when a side is empty), ``clv`` and ``clv_gap`` likewise for CLV by the
  latest answer.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from custfocus.data.company import Company
from custfocus.engine import keep
from custfocus.errors import CustfocusError
from custfocus.loyalty import matrix as m
from custfocus.loyalty.promoter_value import WINDOW_DAYS, PromoterValue, promoter_value
from custfocus.section import Chart, Context, Headline, Section, TableView
from custfocus.stats import MIN_SAMPLE, Estimate, to_jsonable, wilson_interval
from custfocus.value import shared_value

KEY = "loyalty"
TITLE = "Loyalty: loyal or merely retained?"
TOP_CUSTOMERS = 20
DEFINITIONS = {
    "attitude": ("The latest NPS answer: promoters (9-10) high; passives (7-8) and detractors (0-6) low; "
                 "customers without an answer unknown."),
    "behaviour": ("Repeat patronage is high when the customer's repeat purchase days are at least one and at "
                  "least what the fitted BG/NBD expects of a customer of the same age, E[X(T)]."),
    "value_at_risk": "The CLV over the horizon of the spurious-loyalty customers (P(alive) is already in it).",
    "promoter_value": (f"Net spend in the {WINDOW_DAYS} days after the customer's first NPS answer, for answers "
                       f"at least {WINDOW_DAYS} days before as_of; Student t intervals, Welch's t for the "
                       "promoter minus detractor gap."),
}
_COLOURS = {"spend": "#1f5fa8", "clv": "#ff7f0e"}


def section(company: Company, context: Context) -> Section:
    """Build the loyalty section on the value fit the run shares (:func:`custfocus.value.shared_value`)."""
    missing = company.missing("transactions", "responses")
    if missing:
        return Section.unavailable(KEY, TITLE, missing)
    step = context.progress
    responses = company.table("responses")
    if "customer_id" not in responses.columns:
        return _not_available("the responses have no customer_id, so answers cannot be linked to purchases.")
    if int(m.nps_answers(responses, company.as_of).count().to_pandas()) == 0:
        return _not_available("no NPS answer carries the customer_id of a customer.")
    try:
        value = shared_value(company, context)
    except CustfocusError as err:
        return _not_available(f"customers' value could not be estimated ({err}).")

    step("Loyalty: the loyalty matrix")
    # Kept: the matrix, the categories and the top customers each read it.
    table = keep(m.loyalty_table(value.table, responses, value.transaction_model, as_of=company.as_of))
    cells = m.loyalty_matrix(table)
    by_category = m.loyalty_by_category(table)
    top = m.retained_not_loyal(table).limit(TOP_CUSTOMERS).to_pandas()
    step("Loyalty: the value of a promoter")
    worth = promoter_value(company.table("transactions"), responses, as_of=company.as_of, clv=value.table)

    money = _money_formatter(company.currency)
    counts = _counts(cells, by_category)
    true_share, spurious_share = (_share_of_surveyed(cells, cell, counts["surveyed"])
                                  for cell in (m.TRUE_LOYALTY, m.SPURIOUS_LOYALTY))
    matrix_chart = _matrix_chart(cells, counts, true_share, spurious_share, money)
    charts = [matrix_chart, _promoter_chart(worth, money)]
    data = {
        "definitions": DEFINITIONS,
        "customers": counts["customers"], "surveyed": counts["surveyed"], "attitude_unknown": counts["unknown"],
        "clv": {"model": value.model, "time_unit": value.time_unit, "horizon_months": value.horizon_months,
                "annual_discount_rate": value.annual_discount_rate},
        "loyalty_matrix": cells,
        "by_category": by_category,
        "headlines": {"true_loyalty": true_share.to_dict(), "spurious_loyalty": spurious_share.to_dict(),
                      "value_at_risk": counts["value_at_risk"], "spurious_customers": counts["spurious"],
                      "spurious_detractors": counts["spurious_detractors"]},
        "retained_not_loyal": {"customers": counts["spurious"], "value_at_risk": counts["value_at_risk"],
                               "top": top},
        "promoter_value": _promoter_data(worth),
    }
    return Section(
        key=KEY, title=TITLE, summary=matrix_chart.finding,
        headlines=_headlines(true_share, spurious_share, counts, worth, money, value.horizon_months),
        charts=charts,
        tables=[_top_table(top, counts, money)],
        caveats=_caveats(cells, counts, worth, value),
        data=to_jsonable(data),
    )


def _not_available(why: str) -> Section:
    return Section(key=KEY, title=TITLE, available=False, reason=f"Not available: {why}")


# --- figures ---------------------------------------------------------------------------------


def _counts(cells: pd.DataFrame, by_category: pd.DataFrame) -> dict:
    surveyed = cells["attitude"] != m.UNKNOWN
    spurious = cells.set_index("cell").loc[m.SPURIOUS_LOYALTY]
    detractors = by_category.set_index(["nps_category", "repeat"]).loc[(m.DETRACTOR, m.HIGH), "customers"]
    return {
        "customers": int(cells["customers"].sum()),
        "surveyed": int(cells.loc[surveyed, "customers"].sum()),
        "unknown": int(cells.loc[~surveyed, "customers"].sum()),
        "spurious": int(spurious["customers"]),
        "spurious_detractors": int(detractors),
        "value_at_risk": float(spurious["value_at_risk"]),
    }


def _share_of_surveyed(cells: pd.DataFrame, cell: str, surveyed: int) -> Estimate:
    return wilson_interval(int(cells.set_index("cell").loc[cell, "customers"]), surveyed)


# --- headlines -------------------------------------------------------------------------------


def _headlines(true_share: Estimate, spurious_share: Estimate, counts: dict, worth: PromoterValue, money,
               horizon_months: int) -> list[Headline]:
    small = (f"only {_customers(counts['surveyed'])} with an NPS answer: too few to conclude"
             if counts["surveyed"] < MIN_SAMPLE else None)
    headlines = [
        Headline("Truly loyal", _pct(true_share.estimate),
                 f"95% CI {_pct(true_share.low)} to {_pct(true_share.high)}: promoters who buy at least as often "
                 f"as expected for their age, of the {_customers(counts['surveyed'])} with an NPS answer", small),
        Headline("Retained but not loyal", _pct(spurious_share.estimate),
                 f"95% CI {_pct(spurious_share.low)} to {_pct(spurious_share.high)}: {counts['spurious']:,} "
                 f"repeat buyers who are passives or detractors ({counts['spurious_detractors']:,} detractors), "
                 f"with {money(counts['value_at_risk'])} of CLV over the next {horizon_months} months at risk",
                 small),
    ]
    gap = worth.spend_gap
    if gap is not None:
        spend = worth.spend.set_index("nps_category")
        thin = bool(spend.loc[[m.PROMOTER, m.DETRACTOR], "too_small"].any())
        headlines.append(Headline(
            "A promoter's worth over a detractor", _signed_money(gap.estimate, money),
            f"spend in the {worth.window_days} days after the first NPS answer: promoters "
            f"{money(spend.loc[m.PROMOTER, 'mean'])}, detractors {money(spend.loc[m.DETRACTOR, 'mean'])}; "
            f"95% CI of the gap {_signed_money(gap.low, money)} to {_signed_money(gap.high, money)}, "
            f"n = {gap.n_b:,} and {gap.n_a:,}",
            "too few promoters or detractors to conclude" if thin else None))
    return headlines


# --- charts ----------------------------------------------------------------------------------


def _matrix_chart(cells: pd.DataFrame, counts: dict, true_share: Estimate, spurious_share: Estimate,
                  money) -> Chart:
    known = cells[cells["attitude"] != m.UNKNOWN].set_index(["attitude", "repeat"])
    attitudes, repeats = [m.HIGH, m.LOW], [m.LOW, m.HIGH]
    z, text = [], []
    for attitude in attitudes:
        row_z, row_text = [], []
        for repeat in repeats:
            cell = known.loc[(attitude, repeat)]
            row_z.append(cell["share_of_surveyed"])
            mean = money(cell["clv_mean"]) if pd.notna(cell["clv_mean"]) else "n/a"
            row_text.append(f"<b>{cell['cell']}</b><br>{cell['customers']:,} customers "
                            f"({_pct(cell['share_of_surveyed'])})<br>mean CLV {mean}")
        z.append(row_z)
        text.append(row_text)
    figure = go.Figure(go.Heatmap(
        z=z, x=["low repeat patronage", "high repeat patronage"],
        y=["high attitude (promoters)", "low attitude (passives, detractors)"],
        text=text, texttemplate="%{text}", colorscale="Blues", zmin=0, showscale=False,
        hovertemplate="%{text}<extra></extra>"))
    figure.update_layout(yaxis_autorange="reversed", xaxis_title="behaviour: repeat purchases against the "
                         "model's expectation for the customer's age", yaxis_title="attitude: latest NPS answer")
    if counts["surveyed"] == 0:
        finding = "No customer with an NPS answer could be placed in the matrix."
    else:
        finding = (f"{_pct(true_share.estimate)} of customers with an NPS answer are truly loyal; "
                   f"{_pct(spurious_share.estimate)} are retained but not loyal, holding "
                   f"{money(counts['value_at_risk'])} of CLV at risk.")
    small = known[known["too_small"]]
    caveat = (f"Cells with fewer than {MIN_SAMPLE} customers ({', '.join(small['cell'])}) are too small to "
              "conclude on." if len(small) else None)
    return Chart("loyalty_matrix", "The loyalty matrix (Dick & Basu): attitude against repeat patronage",
                 finding, figure, caveat)


def _promoter_chart(worth: PromoterValue, money) -> Chart:
    figure = go.Figure()
    series = [("spend", worth.spend, f"Spend in the {worth.window_days} days after the first answer")]
    if worth.clv is not None:
        series.append(("clv", worth.clv, "CLV (by the latest answer)"))
    for key, frame, name in series:
        figure.add_trace(go.Bar(
            x=frame["nps_category"], y=frame["mean"], name=name, marker_color=_COLOURS[key],
            error_y={"type": "data", "symmetric": False, "array": (frame["high"] - frame["mean"]).fillna(0),
                     "arrayminus": (frame["mean"] - frame["low"]).fillna(0)},
            customdata=frame["customers"], hovertemplate="%{x}: %{y:,.0f} (n = %{customdata:,})<extra></extra>"))
    figure.update_layout(barmode="group", yaxis_title="mean per customer, with 95% interval",
                         xaxis_title="NPS category")
    caveat = None
    if worth.too_recent:
        caveat = (f"{worth.too_recent:,} customers first answered after {worth.answered_by:%d %b %Y}, too recently "
                  f"to follow for {worth.window_days} days: they are not in the spend bars.")
    return Chart("promoter_value", "What a promoter is worth: spend after answering, and CLV, by NPS category",
                 _promoter_finding(worth, money), figure, caveat)


def _promoter_finding(worth: PromoterValue, money) -> str:
    gap = worth.spend_gap
    if gap is None:
        return (f"Too few customers answered at least {worth.window_days} days ago to compare promoters "
                "with detractors.")
    direction = "more" if gap.estimate >= 0 else "less"
    text = (f"Promoters spent {money(abs(gap.estimate))} {direction} than detractors in the {worth.window_days} "
            f"days after their first answer (95% CI {_signed_money(gap.low, money)} to "
            f"{_signed_money(gap.high, money)})")
    if not gap.significant:
        return text + "; the difference is within the noise."
    if worth.clv_gap is not None and worth.clv_gap.significant:
        higher = "higher" if worth.clv_gap.estimate >= 0 else "lower"
        return text + f", and their CLV is {money(abs(worth.clv_gap.estimate))} {higher}."
    return text + "."


def _top_table(top: pd.DataFrame, counts: dict, money) -> TableView:
    shown = pd.DataFrame({
        "Customer": top["customer_id"],
        "Latest NPS": [f"{s} ({c})" for s, c in zip(top["nps_score"], top["nps_category"], strict=True)],
        "Repeat purchase days": top["frequency"],
        "Expected for their age": top["expected_repeat"].round(1),
        "Revenue to date": top["revenue"].map(money),
        "P(alive)": top["p_alive"].map(_pct),
        "Value at risk (CLV)": top["value_at_risk"].map(money),
    })
    finding = (f"The {len(top)} of the {counts['spurious']:,} retained-but-not-loyal customers with the most "
               "value at risk: candidates for a follow-up call." if len(top) else
               "No repeat buyer is a passive or a detractor.")
    return TableView("retained_not_loyal", "Retained but not loyal: the most value at risk", shown, finding)


# --- caveats and JSON ------------------------------------------------------------------------


def _caveats(cells: pd.DataFrame, counts: dict, worth: PromoterValue, value) -> list[str]:
    caveats = [f"{counts['unknown']:,} of {counts['customers']:,} customers "
               f"({counts['unknown'] / max(counts['customers'], 1):.0%}) have no NPS answer: their attitude is "
               "unknown and they are shown apart from the matrix.",
               "Customers are surveyed after buying, so those with an answer buy more than the rest: the matrix "
               "describes surveyed customers, not the whole base."]
    spend = worth.spend.set_index("nps_category")
    if spend.loc[[m.PROMOTER, m.DETRACTOR], "too_small"].any():
        caveats.append(f"Fewer than {MIN_SAMPLE} promoters or detractors answered at least {worth.window_days} "
                       "days ago: their spend gap is too uncertain to act on.")
    caveats.extend(value.caveats)
    return caveats


def _promoter_data(worth: PromoterValue) -> dict:
    return {
        "window_days": worth.window_days, "answered_by": worth.answered_by, "too_recent": worth.too_recent,
        "spend": worth.spend, "spend_gap": worth.spend_gap.to_dict() if worth.spend_gap else None,
        "clv": worth.clv, "clv_gap": worth.clv_gap.to_dict() if worth.clv_gap else None,
    }


def _money_formatter(currency: str):
    return lambda value: f"{value:,.0f} {currency}" if value is not None and math.isfinite(value) else "n/a"


def _signed_money(value: float, money) -> str:
    return money(value) if value is None or not np.isfinite(value) or value < 0 else "+" + money(value)


def _customers(n: int) -> str:
    return f"{n:,} customer{'' if n == 1 else 's'}"


def _pct(value) -> str:
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.0%}"
