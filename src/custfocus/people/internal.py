"""The internal-customer matrix: how each department rates the departments it depends on.

* **Cells** (rater department, supplier department): answers, mean score, share of poor ratings.
  A cell is shown only when at least ``min_group_size`` people stand behind it. internal_responses
  carry no employee id, so people are counted as the most answers the cell got in one survey wave
  (one answer per person and wave), and never more than the rater department's headcount in
  employee_responses. Hidden cells are left out of every figure, so no total allows a subtraction.
  Departments with fewer people than the minimum are left out altogether and never named.
* **Leniency**: some departments rate everyone high. The cell means are fitted by the additive model
  ``score = overall + leniency(rater) + quality(supplier)`` (least squares weighted by answers,
  effects summing to zero), so a supplier's adjusted score does not depend on who happens to rate
  it. Where the raters and suppliers do not form one connected design the model is not identified,
  and each rater's scores are centred on the overall mean instead (``method`` says which).
* **Poor rating**: 0-6, the NPS scale's detractor range, judged after removing the rater's leniency.
* **Bottleneck**: the supplier whose poor service reaches the most customers. Each rating department
  passes its supplier's service on to the customers it serves, so the supplier's reach is
  ``sum over its raters of customers served by the rater x the rater's share of poor ratings``.
  How sure: the ratings are resampled within every cell (bootstrap, the model refitted each time);
  the share of resamples naming the same supplier, and a percentile interval of its reach.
* **Asymmetric pairs**: A rates B clearly lower than B rates A (leniency removed), by Welch's t on
  the two cells (:func:`custfocus.stats.welch`), Bonferroni over the pairs tested.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from custfocus.people.employee import survey_waves
from custfocus.pulse import stats
from custfocus.stats import Estimate, welch

POOR_MAX = stats.DETRACTOR_MAX  # 0-6 is a poor rating
SCALE = np.arange(11)
RESAMPLES = 400
ASYMMETRY_MIN_POINTS = 1.0


@dataclass
class InternalService:
    min_group_size: int
    method: str  # "additive model" or "centred per rater"
    weights_from: str  # where the customers served per department came from
    cells: pd.DataFrame  # rater, supplier, n, people, mean, adjusted_mean, poor_share (shown cells)
    raters: pd.DataFrame  # rater, n, leniency, customers_served
    suppliers: pd.DataFrame  # supplier, n, raters, raw_mean, adjusted, customers_reached, low, high
    asymmetric: pd.DataFrame  # department_a, department_b, a_rates_b, b_rates_a, difference, ...
    bottleneck: dict | None
    hidden_cells: int
    self_ratings: int  # answers of a department about itself, left out


def internal_service(answers: pd.DataFrame, customers_served: pd.Series | None = None,
                     min_group_size: int = 5, headcount: pd.Series | None = None,
                     small_departments=frozenset(), seed: int = 2024) -> InternalService:
    """The matrix, leniency, asymmetric pairs and the bottleneck from internal_responses rows.

    ``customers_served``: distinct customers per department (None: every rater weighs 1);
    ``headcount``: people per department known from employee_responses (caps the people count);
    ``small_departments``: departments never to show (fewer people than the minimum).
    """
    answers = answers.dropna(subset=["from_department", "to_department", "score"])
    own = answers["from_department"] == answers["to_department"]
    answers = answers[~own & ~answers["from_department"].isin(small_departments)
                      & ~answers["to_department"].isin(small_departments)].copy()
    answers["wave"] = survey_waves(answers["date"])
    answers["score"] = answers["score"].astype(int)
    pair = ["from_department", "to_department"]
    per_wave = answers.groupby([*pair, "wave"]).size().groupby(level=[0, 1]).max()
    histogram = (answers.groupby(pair)["score"].value_counts().unstack(fill_value=0)
                 .reindex(columns=SCALE, fill_value=0))
    cells = histogram.index.to_frame(index=False).rename(columns={"from_department": "rater",
                                                                  "to_department": "supplier"})
    people = per_wave.reindex(histogram.index).to_numpy()
    if headcount is not None:
        people = np.minimum(people, headcount.reindex(cells["rater"]).fillna(np.inf).to_numpy())
    shown = people >= min_group_size
    cells["people"] = people.astype(int)
    cells, counts = cells[shown].reset_index(drop=True), histogram.to_numpy()[shown]

    weights_from = "customers served" if customers_served is not None else "none: every rater weighs 1"
    fit = _fit(cells, counts)
    raters = _raters(cells, counts, fit, customers_served)
    weight = raters.set_index("rater")["customers_served"].reindex(cells["rater"]).to_numpy(float)
    cells["n"] = counts.sum(axis=1)
    cells["mean"] = counts @ SCALE / cells["n"]
    cells["adjusted_mean"] = cells["mean"] - fit.leniency_of(cells["rater"])
    cells["poor_share"] = _poor_shares(counts, fit.leniency_of(cells["rater"]))
    suppliers = _suppliers(cells, fit, weight)
    bottleneck = None
    if len(suppliers) and suppliers["customers_reached"].max() > 0:
        bottleneck = _bottleneck(cells, counts, suppliers, weight, customers_served, seed)
        low_high = bottleneck.pop("_reach_intervals")
        suppliers["low"] = suppliers["supplier"].map(lambda s: low_high[s][0])
        suppliers["high"] = suppliers["supplier"].map(lambda s: low_high[s][1])
    return InternalService(
        min_group_size=min_group_size, method=fit.method, weights_from=weights_from,
        cells=cells[["rater", "supplier", "n", "people", "mean", "adjusted_mean", "poor_share"]],
        raters=raters, suppliers=suppliers.sort_values("customers_reached", ascending=False).reset_index(drop=True),
        asymmetric=_asymmetric(cells, counts, fit), bottleneck=bottleneck,
        hidden_cells=int((~shown).sum()), self_ratings=int(own.sum()),
    )


@dataclass(frozen=True)
class _Fit:
    method: str
    overall: float
    leniency: dict  # rater -> effect
    quality: dict  # supplier -> effect

    def leniency_of(self, raters) -> np.ndarray:
        return np.array([self.leniency.get(r, 0.0) for r in raters], dtype=float)


def additive_fit(raters, suppliers, means, n) -> tuple[float, dict, dict] | None:
    """Weighted least squares of cell means on rater + supplier effects (each summing to zero).

    None when the design is not connected (effects not identified)."""
    rater_names, supplier_names = sorted(set(raters), key=str), sorted(set(suppliers), key=str)
    design = np.zeros((len(means), 1 + len(rater_names) - 1 + len(supplier_names) - 1))
    design[:, 0] = 1
    for row, (r, s) in enumerate(zip(raters, suppliers, strict=True)):
        _effect_code(design[row], 1, rater_names.index(r), len(rater_names))
        _effect_code(design[row], len(rater_names), supplier_names.index(s), len(supplier_names))
    root = np.sqrt(np.asarray(n, dtype=float))
    weighted = design * root[:, None]
    if np.linalg.matrix_rank(weighted) < design.shape[1]:
        return None
    beta = np.linalg.lstsq(weighted, np.asarray(means, dtype=float) * root, rcond=None)[0]
    a = np.append(beta[1:len(rater_names)], -beta[1:len(rater_names)].sum())
    b = np.append(beta[len(rater_names):], -beta[len(rater_names):].sum())
    return float(beta[0]), dict(zip(rater_names, a, strict=True)), dict(zip(supplier_names, b, strict=True))


def _effect_code(row: np.ndarray, start: int, index: int, levels: int) -> None:
    if levels == 1:
        return
    if index == levels - 1:
        row[start:start + levels - 1] = -1
    else:
        row[start + index] = 1


def _fit(cells: pd.DataFrame, counts: np.ndarray) -> _Fit:
    n = counts.sum(axis=1)
    if len(cells) == 0:
        return _Fit("additive model", float("nan"), {}, {})
    means = counts @ SCALE / n
    fitted = additive_fit(cells["rater"], cells["supplier"], means, n)
    if fitted is not None:
        return _Fit("additive model", *fitted)
    overall = float((means * n).sum() / n.sum())
    by_rater = pd.DataFrame({"r": cells["rater"], "sum": means * n, "n": n}).groupby("r").sum()
    leniency = (by_rater["sum"] / by_rater["n"] - overall).to_dict()
    centred = means - np.array([leniency[r] for r in cells["rater"]])
    by_supplier = pd.DataFrame({"s": cells["supplier"], "sum": centred * n, "n": n}).groupby("s").sum()
    return _Fit("centred per rater", overall, leniency, (by_supplier["sum"] / by_supplier["n"] - overall).to_dict())


def _poor_shares(counts: np.ndarray, leniency: np.ndarray) -> np.ndarray:
    """Share of each cell's ratings that are poor (0-6) once the rater's leniency is taken off."""
    poor = SCALE[None, :] - leniency[:, None] < POOR_MAX + 0.5
    return (counts * poor).sum(axis=1) / counts.sum(axis=1)


def _raters(cells, counts, fit: _Fit, customers_served) -> pd.DataFrame:
    frame = pd.DataFrame({"rater": cells["rater"], "n": counts.sum(axis=1)}).groupby("rater", as_index=False).sum()
    frame["leniency"] = fit.leniency_of(frame["rater"])
    served = (customers_served.reindex(frame["rater"]).fillna(0).to_numpy()
              if customers_served is not None else np.ones(len(frame)))
    frame["customers_served"] = served.astype(int)
    return frame


def _reach(cells: pd.DataFrame, poor_share: np.ndarray, weight: np.ndarray) -> pd.Series:
    return pd.Series(poor_share * weight).groupby(cells["supplier"].to_numpy()).sum()


def _suppliers(cells: pd.DataFrame, fit: _Fit, weight: np.ndarray) -> pd.DataFrame:
    grouped = cells.assign(total=cells["mean"] * cells["n"]).groupby("supplier")
    frame = pd.DataFrame({"n": grouped["n"].sum(), "raters": grouped.size(),
                          "raw_mean": grouped["total"].sum() / grouped["n"].sum()})
    frame["adjusted"] = [fit.overall + fit.quality.get(s, 0.0) for s in frame.index]
    frame["customers_reached"] = _reach(cells, cells["poor_share"].to_numpy(), weight).reindex(frame.index)
    frame["low"] = frame["high"] = np.nan
    return frame.rename_axis("supplier").reset_index()


def _bottleneck(cells, counts, suppliers, weight, customers_served, seed) -> dict:
    rng = np.random.default_rng(seed)
    n = counts.sum(axis=1)
    named, reaches = [], []
    for _ in range(RESAMPLES):
        drawn = np.array([rng.multinomial(total, row / total) for total, row in zip(n, counts, strict=True)])
        fit = _fit(cells, drawn)
        reach = _reach(cells, _poor_shares(drawn, fit.leniency_of(cells["rater"])), weight)
        named.append(reach.idxmax())
        reaches.append(reach.reindex(suppliers["supplier"]).to_numpy())
    reaches = np.array(reaches)
    best = suppliers.loc[suppliers["customers_reached"].idxmax()]
    row = suppliers.index.get_loc(best.name)
    ranked = suppliers.sort_values("customers_reached", ascending=False)
    share = float(np.mean(np.array(named) == best["supplier"]))
    sure = "clearly" if share >= 0.95 else "probably" if share >= 0.7 else "not clearly"
    return {
        "supplier": best["supplier"],
        "customers_reached": Estimate(float(best["customers_reached"]), *np.percentile(reaches[:, row], [2.5, 97.5]),
                                      int(best["n"])).to_dict(),
        "share_of_resamples": share,
        "sentence": (f"{best['supplier']} is {sure} the bottleneck internal supplier: its poor service reaches "
                     f"about {best['customers_reached']:,.0f} customers through the departments it serves "
                     f"(named in {share:.0%} of {RESAMPLES} resamples)."),
        "resamples": RESAMPLES,
        "runner_up": ranked["supplier"].iloc[1] if len(ranked) > 1 else None,
        "weighted_by": "customers served by each rating department" if customers_served is not None
        else "each rating department equally (no customers per department known)",
        "_reach_intervals": {s: tuple(np.percentile(reaches[:, i], [2.5, 97.5]))
                             for i, s in enumerate(suppliers["supplier"])},
    }


def _asymmetric(cells: pd.DataFrame, counts: np.ndarray, fit: _Fit) -> pd.DataFrame:
    columns = ["department_a", "department_b", "a_rates_b", "b_rates_a", "difference", "low", "high",
               "n_a", "n_b", "p_value_adjusted", "significant"]
    index = {(r, s): i for i, (r, s) in enumerate(zip(cells["rater"], cells["supplier"], strict=True))}
    pairs = [(a, b) for (a, b) in index if (b, a) in index and str(a) < str(b)]
    rows = []
    for a, b in pairs:
        ab, ba = _summary(counts[index[a, b]], fit.leniency[a]), _summary(counts[index[b, a]], fit.leniency[b])
        change = welch(*ab, *ba)  # b's view of a minus a's view of b
        adjusted = min(1.0, change.p_value * len(pairs)) if change.p_value == change.p_value else float("nan")
        rows.append({"department_a": a, "department_b": b, "a_rates_b": ab[0], "b_rates_a": ba[0],
                     "difference": change.estimate, "low": change.low, "high": change.high,
                     "n_a": ab[2], "n_b": ba[2], "p_value_adjusted": adjusted,
                     "significant": bool(adjusted < 0.05 and abs(change.estimate) >= ASYMMETRY_MIN_POINTS)})
    frame = pd.DataFrame(rows, columns=columns)
    return frame.reindex(frame["difference"].abs().sort_values(ascending=False).index).reset_index(drop=True)


def _summary(histogram: np.ndarray, leniency: float) -> tuple[float, float, int]:
    """(mean with the rater's leniency removed, sample variance, n) of a cell's scores."""
    n = int(histogram.sum())
    mean = float(histogram @ SCALE / n)
    variance = float((histogram * (SCALE - mean) ** 2).sum() / (n - 1)) if n > 1 else float("nan")
    return mean - leniency, variance, n
