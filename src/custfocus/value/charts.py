"""Figures and one-line findings for the value section of the report.

Each builder returns ``(figure, finding, data)``: a plotly figure (for :func:`parameter_table`, a
DataFrame formatted for reading), the finding in one sentence, and the JSON-ready figures behind
it, so that a :class:`~custfocus.section.Chart` or ``TableView`` can be made from them.
"""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go

from custfocus.stats import MIN_SAMPLE, to_jsonable
from custfocus.value.clv import MODEL_NAMES, CustomerValue, clv_deciles, model_report
from custfocus.value.holdout import HoldoutCheck
from custfocus.value.summary import unit_days

ACTUAL_COLOUR, PREDICTED_COLOUR = "rgb(31, 119, 180)", "rgb(255, 127, 14)"
MEANINGS = {
    "r": "shape of the purchase rate across customers",
    "alpha": "scale of the purchase rate (in the time unit)",
    "a": "dropout probability ~ Beta(a, b)",
    "b": "dropout probability ~ Beta(a, b)",
    "s": "shape of the dropout rate across customers",
    "beta": "scale of the dropout rate (in the time unit)",
    "p": "shape of the spend per purchase",
    "q": "shape of the spend rate across customers",
    "gamma": "scale of the spend rate across customers",
}


def holdout_frequency_chart(check: HoldoutCheck) -> tuple[go.Figure, str, dict]:
    """Mean holdout purchases by calibration frequency, actual (with 95% intervals) against
    predicted: Fader, Hardie & Lee (2005), fig. 4."""
    bins = check.by_frequency
    figure = go.Figure(
        [
            go.Bar(x=bins["frequency"], y=bins["actual_mean"], name="Actual",
                   marker_color=ACTUAL_COLOUR,
                   error_y={"type": "data", "symmetric": False,
                            "array": bins["actual_high"] - bins["actual_mean"],
                            "arrayminus": bins["actual_mean"] - bins["actual_low"]},
                   customdata=bins["customers"],
                   hovertemplate="%{y:.2f} (n = %{customdata:,})<extra></extra>"),
            go.Scatter(x=bins["frequency"], y=bins["predicted_mean"], name="Predicted",
                       mode="lines+markers", line_color=PREDICTED_COLOUR,
                       hovertemplate="%{y:.2f}<extra></extra>"),
        ],
        layout=go.Layout(xaxis_title="repeat purchases in the calibration period",
                         yaxis_title="mean purchases in the holdout", xaxis_type="category",
                         hovermode="x unified"),
    )
    weeks = _holdout_weeks(check)
    finding = (f"Fitted on purchases up to {check.calibration_end:%d %b %Y}, the "
               f"{check.model_name} model predicted {check.predicted:,.0f} repeat purchases in "
               f"the {weeks}-week holdout against {check.actual:,} made"
               + (f" ({check.relative_error:+.1%})." if math.isfinite(check.relative_error) else "."))
    judged = bins[bins["customers"] >= MIN_SAMPLE]
    outside = judged[(judged["predicted_mean"] < judged["actual_low"])
                     | (judged["predicted_mean"] > judged["actual_high"])]
    if len(judged):
        finding += (" The prediction is within the 95% interval of every group of past "
                    "frequency." if outside.empty else
                    f" It misses the 95% interval for past frequency "
                    f"{', '.join(outside['frequency'])}.")
    data = {
        "model": check.model_name, "time_unit": check.time_unit,
        "calibration_end": check.calibration_end, "as_of": check.as_of, "holdout_weeks": weeks,
        "n_customers": check.n_customers, "predicted": check.predicted, "actual": check.actual,
        "relative_error": check.relative_error, "by_frequency": bins,
    }
    return figure, finding, to_jsonable(data)


def holdout_tracking_chart(check: HoldoutCheck) -> tuple[go.Figure, str, dict]:
    """Cumulative repeat purchases week by week through the holdout, actual against the model's
    unconditional expectation: Fader, Hardie & Lee (2005), fig. 2."""
    track = check.tracking
    figure = go.Figure(
        [
            go.Scatter(x=track["week"], y=track["actual"], name="Actual", mode="lines",
                       line_color=ACTUAL_COLOUR),
            go.Scatter(x=track["week"], y=track["predicted"], name="Predicted", mode="lines",
                       line={"color": PREDICTED_COLOUR, "dash": "dash"}),
        ],
        layout=go.Layout(xaxis_title="week of the holdout",
                         yaxis_title="cumulative repeat purchases", hovermode="x unified"),
    )
    if track.empty:
        return figure, "The holdout is empty.", to_jsonable({"tracking": track})
    last = track.iloc[-1]
    gap = (track["predicted"] - track["actual"]).abs().max()
    finding = (f"Week by week, the {check.model_name} model's expected cumulative purchases "
               f"stay within {gap:,.0f} of the actual ones"
               + (f" ({gap / last['actual']:.1%} of the holdout's total)" if last["actual"] else "")
               + f"; by its end {last['predicted']:,.0f} were expected and "
               f"{int(last['actual']):,} made.")
    return figure, finding, to_jsonable({"model": check.model_name, "tracking": track})


def clv_distribution_chart(value: CustomerValue, currency: str = "",
                           deciles: pd.DataFrame | None = None) -> tuple[go.Figure, str, dict]:
    """Share of the total CLV held by each tenth of the customers, most valuable first, with the
    cumulative share. ``deciles`` defaults to :func:`~custfocus.value.clv.clv_deciles`."""
    deciles = clv_deciles(value) if deciles is None else deciles
    labels = [f"top {10 * d - 10}-{10 * d}%" for d in deciles["decile"]]
    figure = go.Figure(
        [
            go.Bar(x=labels, y=deciles["share"], name="Share of the total CLV",
                   marker_color=ACTUAL_COLOUR, customdata=deciles[["mean_clv", "customers"]],
                   hovertemplate="%{y:.1%}: mean %{customdata[0]:,.2f} over "
                                 "%{customdata[1]:,} customers<extra></extra>"),
            go.Scatter(x=labels, y=deciles["cumulative_share"], name="Cumulative share",
                       mode="lines+markers", line_color=PREDICTED_COLOUR,
                       hovertemplate="%{y:.1%}<extra></extra>"),
        ],
        layout=go.Layout(xaxis_title="customers ranked by CLV", yaxis_tickformat=".0%",
                         yaxis_title=f"share of the {value.horizon_months}-month CLV",
                         hovermode="x unified"),
    )
    data = {"horizon_months": value.horizon_months, "currency": currency, "deciles": deciles}
    if deciles.empty:
        return figure, "No spend is known, so customers cannot be valued.", to_jsonable(data)
    total = float(deciles["clv"].sum())
    top = deciles.iloc[0]
    half = float(deciles.loc[deciles["decile"] <= 5, "share"].sum())
    money = f"{currency} " if currency else ""
    finding = (f"The most valuable 10% of customers hold {top['share']:.0%} of the expected "
               f"{value.horizon_months}-month value ({money}{top['clv']:,.0f} of "
               f"{money}{total:,.0f}); the top half holds {half:.0%}.")
    return figure, finding, to_jsonable(data | {"total_clv": total})


def parameter_table(value: CustomerValue) -> tuple[pd.DataFrame, str, dict]:
    """The fitted parameters of both models with standard errors and 95% intervals, formatted,
    and what they mean for the business in one line."""
    models = [(MODEL_NAMES[value.model], value.transaction_model)]
    if value.spend_model is not None:
        models.append(("Gamma-Gamma", value.spend_model))
    rows = []
    for name, model in models:
        for parameter, row in model.summary().iterrows():
            rows.append({
                "Model": name, "Parameter": parameter, "Meaning": MEANINGS[parameter],
                "Estimate": f"{row['estimate']:.4g}", "Std. error": f"{row['std_error']:.2g}",
                "95% interval": f"{row['lower_95']:.4g} to {row['upper_95']:.4g}",
            })
    frame = pd.DataFrame(rows)
    finding = _parameter_finding(value)
    data = {"transaction_model": model_report(value.transaction_model),
            "spend_model": model_report(value.spend_model) if value.spend_model else None,
            "time_unit": value.time_unit}
    return frame, finding, to_jsonable(data)


def _parameter_finding(value: CustomerValue) -> str:
    params = value.transaction_model.params_
    per_year = 365.25 / unit_days(value.time_unit)
    rate = params["r"] / params["alpha"] * per_year
    text = f"While active, a customer buys {rate:.1f} times a year on average"
    if value.model == "paretonbd":
        s, beta = params["s"], params["beta"]
        text += (f" and stays active {beta / (s - 1) / per_year:.1f} years on average"
                 if s > 1 else "; the mean lifetime is unbounded (s <= 1)")
    else:
        dropout = params["a"] / (params["a"] + params["b"])
        text += f"; after each {'purchase' if value.model == 'mbgnbd' else 'repeat purchase'}"
        text += f" {dropout:.0%} of customers drop out"
    if value.spend_model is not None:
        text += (f"; a purchase is worth {value.spend_model.population_mean_spend():,.2f} on "
                 "average")
    return text + "."


def _holdout_weeks(check: HoldoutCheck) -> int:
    return round((check.as_of - check.calibration_end).days / 7)
