"""Customer lifetime value for every customer (the models' calibration / holdout check is
:mod:`custfocus.value.holdout`).

The pipeline never holds one Python row per customer:

1. :func:`~custfocus.value.summary.customer_summary` builds the per-customer histories in the
   engine (and caches them there);
2. the transaction model (BG/NBD, Pareto/NBD or MBG/NBD) is fitted on the distinct
   ``(frequency, recency, T)`` rows with their counts as weights, the Gamma-Gamma spend model on
   the distinct ``(frequency, monetary_value)`` rows of repeat buyers;
3. P(alive), expected purchases and discounted expected purchases are computed in NumPy once per
   distinct ``(frequency, recency, T)`` row (their costly part once per distinct
   ``(frequency, T)``, see :class:`_Histories`), put on the engine as a table and joined back to
   the customers there; the expected spend is an engine expression (the Gamma-Gamma conditional
   mean is linear in the customer's mean spend).

The result is an Ibis table: pulling it, writing it (:func:`write_predictions`) or aggregating it
(:func:`clv_report`, :func:`clv_deciles`) is the caller's choice. :func:`total_clv` gives the value
of the whole base with a 95% interval for the parameters' uncertainty.

Conventions:

- The horizon is ``horizon_months`` months of 365.25 / 12 days. Purchases expected in month k
  are valued at the expected spend and discounted at the end of that month by ``(1 + m)^k``,
  where ``m = (1 + annual_discount_rate)^(1/12) - 1`` is the monthly rate equivalent to the annual
  one (10% a year -> 0.797% a month). This is lifetimes' ``customer_lifetime_value`` with
  ``discount_rate`` = m, except for the month: lifetimes' is 4.345 weeks (30.415 days) with
  ``freq="W"`` and 30 days with ``freq="D"``, so its 12 months fall 0.27 (resp. 5.25) days short
  of a year and its CLVs are smaller (by about 6e-4 in weeks, 1.4% in days).
- Spend: the Gamma-Gamma conditional expectation ``p (gamma + m x) / (p x + q - 1)`` (customers
  without repeat purchases get the population mean ``p gamma / (q - 1)``). With fewer than
  :data:`MIN_REPEAT_BUYERS` repeat buyers, or a fit with ``q <= 1`` (infinite mean spend), the
  model is not used: every customer is valued at the pooled mean spend per repeat purchase day,
  and :attr:`CustomerValue.caveats` says so.
- Customers first seen on the last day (T = 0) carry no information for the fits (their
  likelihood is 1) and are left out of them; they are valued like every other customer.
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path

import ibis
import numpy as np
import pandas as pd

from custfocus.data.company import Company
from custfocus.engine.ranking import RankedColumn
from custfocus.errors import InputError, ModelNotEstimated
from custfocus.section import Context
from custfocus.stats import Z95, Estimate, to_jsonable
from custfocus.value.fitters import (
    BGNBD,
    MBGNBD,
    ConvergenceWarning,
    GammaGamma,
    ParetoNBD,
)
from custfocus.value.fitters.mle import TransactionModel
from custfocus.value.summary import (
    COUNT_BY,
    DEFAULT_HOLDOUT_WEEKS,
    TIME_UNITS,
    customer_summaries,
    customer_summary,
    spend_statistics,
    sufficient_statistics,
    unit_days,
)

MODELS = {"bgnbd": BGNBD, "paretonbd": ParetoNBD, "mbgnbd": MBGNBD}
MODEL_NAMES = {"bgnbd": "BG/NBD", "paretonbd": "Pareto/NBD", "mbgnbd": "MBG/NBD"}
MIN_REPEAT_BUYERS = 50  # fewer make the Gamma-Gamma parameters too loose to value customers
DAYS_PER_MONTH = TIME_UNITS["months"]
_KEYS = ["frequency", "recency", "T"]
_SUMMARY_ALIASES = {  # column names of other tools' summary files -> ours
    "x": "frequency", "t_x": "recency", "t.x": "recency", "T_cal": "T", "T.cal": "T",
    "monetary": "monetary_value", "m_x": "monetary_value", "m.x": "monetary_value",
    "zbar": "monetary_value", "cust": "customer_id", "id": "customer_id",
}

Progress = Callable[[str], None]


@dataclass(frozen=True)
class CustomerValue:
    """Fitted models and the per-customer value table (an Ibis expression on the engine).

    ``table`` columns: customer_id, frequency, recency, T, monetary_value, revenue (NULL for a
    summary file without it), p_alive, expected_purchases (over the horizon), expected_spend (per
    purchase; NULL when no spend is known) and clv (discounted value over the horizon, in the
    currency of the amounts).
    """

    transaction_model: TransactionModel
    spend_model: GammaGamma | None
    time_unit: str
    horizon_months: int
    annual_discount_rate: float
    n_customers: int
    table: ibis.Table
    # sufficient statistics (frequency, recency, T, weight, monetary_sum, revenue_sum) and the
    # predictions of one customer with that history: p_alive, expected_purchases and
    # discounted_purchases (the CLV at a spend of 1 per purchase)
    histories: pd.DataFrame
    model: str = "bgnbd"
    as_of: date | None = None  # None for a summary file
    pooled_spend: float | None = None  # the spend of every purchase when spend_model is None
    caveats: tuple[str, ...] = ()

    @property
    def monthly_discount_rate(self) -> float:
        return monthly_rate(self.annual_discount_rate)


def monthly_rate(annual_discount_rate: float) -> float:
    """The monthly discount rate that compounds to ``annual_discount_rate`` over 12 months."""
    return (1.0 + annual_discount_rate) ** (1.0 / 12.0) - 1.0


def customer_value(source: Company | ibis.Table, *, as_of: date | None = None,
                   model: str = "bgnbd", time_unit: str = "weeks", horizon_months: int = 12,
                   annual_discount_rate: float = 0.10, count_by: str = "day",
                   progress: Progress | None = None, summary: ibis.Table | None = None) -> CustomerValue:
    """Fit the models on a company's transactions (or a transactions table) and value every
    customer over the next ``horizon_months`` (see the module doc for the conventions).

    ``as_of`` defaults to the company's as_of, or to the latest transaction date of a table;
    ``count_by`` ("day" or "order") says what one purchase is, see
    :func:`~custfocus.value.summary.customer_summary`. A caller that has that summary already,
    for the same as_of, time unit and count_by, passes it as ``summary``.
    """
    _check_settings(model, time_unit, horizon_months, annual_discount_rate, count_by)
    transactions, as_of = _transactions_and_as_of(source, as_of)
    step = progress or (lambda message: None)
    if summary is None:
        step("Customer value: summarising purchase histories")
        summary = customer_summary(transactions, as_of=as_of, time_unit=time_unit,
                                   count_by=count_by).cache()
    return _value(summary, model=model, time_unit=time_unit, horizon_months=horizon_months,
                  annual_discount_rate=annual_discount_rate, as_of=as_of, step=step)


def shared_value(company: Company, context: Context) -> CustomerValue:
    """The default customer-value fit of a report run, computed once and reused by every section."""
    return context.once("value.customer_value", lambda: customer_value(
        company, progress=context.progress, summary=shared_summaries(company, context).at_as_of))


@dataclass(frozen=True)
class Summaries:
    """A report's customer summaries at its as_of and at the end of the holdout check's
    calibration period (the default: :data:`DEFAULT_HOLDOUT_WEEKS` before as_of)."""

    at_as_of: ibis.Table
    at_calibration_end: ibis.Table
    calibration_end: date


def shared_summaries(company: Company, context: Context) -> Summaries:
    """The value fit's and the holdout check's customer summaries of a report run, from one pass
    over the transactions (:func:`~custfocus.value.summary.customer_summaries`), computed once."""
    def summarise() -> Summaries:
        context.progress("Customer value: summarising purchase histories")
        end = company.as_of - timedelta(weeks=DEFAULT_HOLDOUT_WEEKS)
        return Summaries(*customer_summaries(company.table("transactions"), as_of=company.as_of,
                                             calibration_end=end), end)

    return context.once("value.customer_summaries", summarise)


def clv_from_summary(summary: pd.DataFrame | ibis.Table, *, model: str = "bgnbd",
                     time_unit: str = "weeks", horizon_months: int = 12,
                     annual_discount_rate: float = 0.10,
                     progress: Progress | None = None) -> CustomerValue:
    """As :func:`customer_value`, from a per-customer summary that another tool produced.

    Columns: ``customer_id`` (else the row number is used), ``frequency``, ``recency`` and ``T``
    in ``time_unit``, optionally ``monetary_value`` (mean spend per repeat purchase) and
    ``revenue``. lifetimes' names are ours; BTYD's (``x``, ``t.x``, ``T.cal``, ``m.x``) and
    CDNOW's (``t_x``, ``zbar``) are accepted too. Without ``monetary_value`` nothing is known about
    spend: ``expected_spend`` and ``clv`` are NULL, the purchase predictions are still there.
    """
    _check_settings(model, time_unit, horizon_months, annual_discount_rate)
    table = summary if isinstance(summary, ibis.Table) else ibis.memtable(summary)
    table = _standard_summary(table)
    step = progress or (lambda message: None)
    return _value(table, model=model, time_unit=time_unit, horizon_months=horizon_months,
                  annual_discount_rate=annual_discount_rate, as_of=None, step=step)


def read_summary(path: str | Path, engine=None) -> ibis.Table:
    """Read a summary file (``.csv`` or ``.parquet``) on the engine (an
    :class:`~custfocus.engine.Engine`, DuckDB by default), for :func:`clv_from_summary`."""
    from custfocus.engine import connect

    path = Path(path)
    if not path.exists():
        raise InputError(f"The summary file {path} does not exist.")
    con = (engine or connect("duckdb")).con
    if path.suffix.lower() == ".parquet":
        return con.read_parquet(str(path))
    if path.suffix.lower() == ".csv":
        return con.read_csv(str(path))
    raise InputError(f"The summary file {path} must be a .csv or .parquet file.")


def write_predictions(value: CustomerValue, path: str | Path) -> Path:
    """Write the per-customer table to ``path`` (``.parquet`` or ``.csv``) from the engine.

    On DuckDB the file is written by the database; on Spark a Parquet path becomes a folder of
    part files (Spark's way), a CSV one is streamed to one file.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".parquet", ".csv"):
        raise InputError(f"Cannot write predictions to {path}: use a .parquet or .csv path.")
    write = value.table.to_parquet if suffix == ".parquet" else value.table.to_csv
    if "'" not in str(path) and '"' not in str(path):
        write(path)
        return path
    # The engine's COPY takes the path inside its SQL unescaped: a path with quotes is written
    # under a plain temporary name first, then moved.
    with tempfile.TemporaryDirectory(prefix="custfocus-out-") as folder:
        plain = Path(folder) / f"predictions{suffix}"
        write(plain)
        shutil.move(plain, path)
    return path


# --- the pipeline ----------------------------------------------------------------------------


def _value(summary: ibis.Table, *, model: str, time_unit: str, horizon_months: int,
           annual_discount_rate: float, as_of: date | None, step) -> CustomerValue:
    step(f"Customer value: fitting the {MODEL_NAMES.get(model, model)} and Gamma-Gamma models")
    stats = sufficient_statistics(summary, with_spend=True)
    # The engine merges the spends and the spend model is fitted in another thread while the
    # transaction model is fitted here: NumPy's single core leaves the other one free. Only this
    # thread changes the warning filters (they are global), and they hold for both.
    with warnings.catch_warnings(), ThreadPoolExecutor(1) as worker:
        # A spend fit that fails falls back to the pooled mean, with a caveat (_fit_spend).
        warnings.simplefilter("ignore", ConvergenceWarning)
        spending = worker.submit(lambda: _fit_spend(spend_statistics(summary)))
        transaction_model = fit_transaction_model(model, stats)
        spend_model, pooled_spend, caveat = spending.result()
    caveats = [caveat] if caveat else []
    if transaction_model.standard_errors_.isna().any():
        caveats.append(f"The {MODEL_NAMES[model]} model's likelihood is flat at its maximum, so its "
                       "standard errors, and the intervals of the values, cannot be computed.")
    step("Customer value: predicting every customer")
    value = CustomerValue(
        transaction_model=transaction_model, spend_model=spend_model, time_unit=time_unit,
        horizon_months=horizon_months, annual_discount_rate=annual_discount_rate,
        n_customers=int(stats["weight"].sum()), table=summary, histories=stats, model=model,
        as_of=as_of, pooled_spend=pooled_spend, caveats=tuple(caveats))
    histories = _Histories(stats)
    p_alive = histories.p_alive(transaction_model)
    monthly = _monthly_purchases(value, transaction_model, histories)
    stats = stats.assign(
        p_alive=p_alive,
        # the end of the horizon is the end of its last month
        expected_purchases=histories.for_every_history(p_alive, monthly[:, -1]),
        discounted_purchases=histories.for_every_history(p_alive, _discounted(value, monthly)),
    )
    predictions = stats[[*_KEYS, "p_alive", "expected_purchases", "discounted_purchases"]]
    return replace(value, histories=stats,
                   table=_value_table(summary, predictions, spend_model, pooled_spend))


_PAIRS_AT_ONCE = 100_000


def _monthly_purchases(value: CustomerValue, model: TransactionModel,
                       histories: _Histories) -> np.ndarray:
    """Per distinct (frequency, T) of a customer alive now, the expected purchases from now to
    the end of each month of the horizon (one column per month): what the expected purchases
    over the horizon and the CLV are both made of, so that the costly series is summed once."""
    month = DAYS_PER_MONTH / unit_days(value.time_unit)  # one month in model units
    ends = month * np.arange(1, value.horizon_months + 1)

    def predict(x, t_x, T):  # in slices of rows: the series' work arrays are rows x months
        return np.concatenate([
            model.expected_purchases(ends[None, :], x[rows, None], t_x[rows, None], T[rows, None])
            for rows in map(slice, range(0, x.size, _PAIRS_AT_ONCE),
                            range(_PAIRS_AT_ONCE, x.size + _PAIRS_AT_ONCE, _PAIRS_AT_ONCE))])

    return histories.per_pair(model, predict)


def _discounted(value: CustomerValue, monthly: np.ndarray) -> np.ndarray:
    """Each month's expected purchases discounted at its end, summed: the CLV at a spend of 1
    (the convention of :func:`~custfocus.value.fitters.customer_lifetime_value`)."""
    discount = (1.0 + value.monthly_discount_rate) ** -np.arange(1.0, value.horizon_months + 1)
    return np.diff(monthly, axis=1, prepend=0.0) @ discount


def _discounted_purchases(value: CustomerValue, model: TransactionModel,
                          histories: _Histories) -> np.ndarray:
    """Per history, the expected purchases of each month of the horizon discounted to today."""
    return histories.for_every_history(histories.p_alive(model),
                                       _discounted(value, _monthly_purchases(value, model, histories)))


class _Histories:
    """The distinct histories ``(frequency, recency, T)`` of sufficient statistics, predicted.

    Given that a customer is alive at T, the future depends on (frequency, T) only, not on
    recency: the purchase rate's posterior is Gamma(r + x, alpha + T), the BG/NBD's dropout
    probability's Beta(a, b + x), the Pareto/NBD's dropout rate's Gamma(s, beta + T). So every
    conditional expectation is P(alive | history) x E[... | alive, x, T]. The second, costly
    factor is evaluated once per distinct (x, T), as the prediction at recency = T divided by
    P(alive) there; real data have tens of times fewer distinct (x, T) than histories.
    """

    def __init__(self, stats: pd.DataFrame):
        self.x, self.t_x, self.T = (stats[k].to_numpy(dtype=float) for k in _KEYS)
        # Distinct (x, T) through one integer key (frequencies are whole numbers): much faster
        # than factorising pairs.
        ages, age_values = pd.factorize(self.T)
        self._codes, keys = pd.factorize(self.x.astype(np.int64) * age_values.size + ages)
        self._pair_x = (keys // age_values.size).astype(float)
        self._pair_T = age_values[keys % age_values.size]

    def p_alive(self, model: TransactionModel) -> np.ndarray:
        return model.probability_alive(self.x, self.t_x, self.T)

    def expected(self, model: TransactionModel, predict) -> np.ndarray:
        """``predict(frequency, recency, T)`` of ``model`` for every history, from one call per
        distinct (x, T)."""
        return self.for_every_history(self.p_alive(model), self.per_pair(model, predict))

    def per_pair(self, model: TransactionModel, predict) -> np.ndarray:
        """``predict(frequency, recency, T)`` of a customer alive now, per distinct (x, T) (its
        first axis)."""
        x, T = self._pair_x, self._pair_T
        alive = model.probability_alive(x, T, T)
        predicted = predict(x, T, T)
        return predicted / alive.reshape(alive.shape + (1,) * (predicted.ndim - 1))

    def for_every_history(self, p_alive: np.ndarray, per_pair: np.ndarray) -> np.ndarray:
        """A prediction per distinct (x, T) of a customer alive now, for every history."""
        return p_alive * per_pair[self._codes]


MAX_HORIZON_MONTHS = 120


def _check_settings(model: str = "bgnbd", time_unit: str = "weeks", horizon_months: int = 1,
                    annual_discount_rate: float = 0.0, count_by: str = "day") -> None:
    """Refuse unusable settings before any work, in words the command line can print."""
    if model not in MODELS:
        raise InputError(f"Unknown model '{model}': choose one of {', '.join(MODELS)}.")
    if time_unit not in TIME_UNITS:
        raise InputError(f"Unknown time unit '{time_unit}': choose one of "
                         f"{', '.join(TIME_UNITS)}.")
    if count_by not in COUNT_BY:
        raise InputError(f"Purchases are counted by {' or '.join(COUNT_BY)}, not '{count_by}'.")
    if horizon_months < 1:
        raise InputError(f"The horizon must be at least 1 month, not {horizon_months}.")
    if horizon_months > MAX_HORIZON_MONTHS:
        raise InputError(f"The horizon must be at most {MAX_HORIZON_MONTHS} months (ten years), not {horizon_months:,}: "
                         "purchase models say nothing credible further ahead.")
    if annual_discount_rate <= -1:
        raise InputError(f"The discount rate must be above -100%, not {annual_discount_rate:.0%}.")
    if annual_discount_rate > 1:
        raise InputError(f"An annual discount rate of {annual_discount_rate:g} would be {annual_discount_rate:.0%} a "
                         f"year; give it as a fraction, e.g. {annual_discount_rate / 100:g} for {annual_discount_rate:g}%.")


def fit_transaction_model(model: str, stats: pd.DataFrame) -> TransactionModel:
    """Fit the named model on sufficient statistics (``frequency, recency, T, weight``), leaving
    out the rows with ``T = 0``, which carry no information."""
    _check_settings(model=model)
    informative = stats[stats["T"] > 0]
    if informative.empty:
        raise InputError("No customer has any history yet (all were first seen on the last "
                         "day): there is nothing to fit.")
    if not (informative["frequency"] > 0).any():
        raise InputError(f"None of the {int(informative['weight'].sum()):,} customers bought on more than one day, "
                         "so the purchase models have no repeat purchases to learn from: no lifetime value "
                         "can be estimated until customers come back.")
    with warnings.catch_warnings():
        # Non-convergence becomes the error below; missing standard errors a caveat (_value).
        warnings.simplefilter("ignore", ConvergenceWarning)
        fitted = MODELS[model]().fit_frame(informative)
    if not fitted.converged_:
        raise ModelNotEstimated(
            f"The {MODEL_NAMES[model]} model could not be estimated from these "
            f"{fitted.n_customers_:,.0f} customers' purchases: its fit did not converge, because "
            f"{fitted.convergence_problem_}.", fitted)
    return fitted


def _fit_spend(spend: pd.DataFrame) -> tuple[GammaGamma | None, float | None, str | None]:
    """The Gamma-Gamma model (or None), the pooled mean spend per repeat purchase day (the
    fallback), and a caveat when the model is not used."""
    spend = spend[spend["monetary_value"].notna()]
    repeat_buyers = int(spend["weight"].sum())
    if repeat_buyers == 0:
        return None, None, ("No spend of a repeat purchase is known: purchases are predicted, "
                            "but not their value.")
    days = spend["frequency"] * spend["weight"]
    pooled = float((spend["monetary_value"] * days).sum() / days.sum())
    fallback = (f"every customer is valued at the mean spend per repeat purchase day, "
                f"{pooled:,.2f}")
    if repeat_buyers < MIN_REPEAT_BUYERS:
        return None, pooled, (f"Only {repeat_buyers} customers bought twice, too few for the "
                              f"Gamma-Gamma spend model: {fallback}.")
    model = GammaGamma().fit_frame(spend)  # its ConvergenceWarning is silenced by the caller
    if not model.converged_ or model.params_["q"] <= 1:
        return None, pooled, ("The Gamma-Gamma spend model does not fit these spends (its mean "
                              f"spend is not finite): {fallback}.")
    return model, None, None


def _value_table(summary: ibis.Table, predictions: pd.DataFrame, spend_model,
                 pooled_spend: float | None) -> ibis.Table:
    joined = summary.join(ibis.memtable(predictions), _KEYS)
    if spend_model is not None:
        p, q, gamma = (spend_model.params_[k] for k in ("p", "q", "gamma"))
        x = joined.frequency.cast("float64")
        spend = p * (gamma + joined.monetary_value * x) / (p * x + (q - 1.0))
    else:
        spend = ibis.literal(pooled_spend, "float64")  # NULL when nothing is known
    return joined.select(
        "customer_id", *_KEYS, "monetary_value", "revenue", "p_alive", "expected_purchases",
        expected_spend=spend, clv=spend * joined.discounted_purchases)


def _standard_summary(table: ibis.Table) -> ibis.Table:
    """A user's summary with our column names and types, checked."""
    renames = {ours: theirs for theirs, ours in _SUMMARY_ALIASES.items()
               if theirs in table.columns and ours not in table.columns}
    table = table.rename(renames)
    missing = [c for c in _KEYS if c not in table.columns]
    if missing:
        raise InputError(f"The summary lacks the column(s) {', '.join(missing)}; it needs "
                         "frequency, recency and T (and optionally customer_id, "
                         "monetary_value, revenue).")
    columns = {
        "customer_id": (table.customer_id.cast("string") if "customer_id" in table.columns
                        else (ibis.row_number() + 1).cast("string")),
        "frequency": table.frequency.cast("int64"),
        "recency": table.recency.cast("float64"),
        "T": table["T"].cast("float64"),
    }
    for optional in ("monetary_value", "revenue"):
        value = table[optional] if optional in table.columns else ibis.null()
        columns[optional] = value.cast("float64")
    # Materialised before the checks, so that the file is read once, not once per pass.
    table = table.select(**columns).cache()
    problems = table.agg(
        rows=table.count(),
        bad_frequency=(table.frequency.isnull() | (table.frequency < 0)).sum(),
        bad_times=(table.recency.isnull() | table["T"].isnull() | (table.recency < 0)
                   | (table.recency > table["T"])).sum(),
        bad_spend=((table.frequency > 0) & (table.monetary_value <= 0)).sum(),
    ).to_pandas().iloc[0].fillna(0)
    if int(problems["rows"]) == 0:
        raise InputError("The summary has no rows.")
    for column, rule in (("bad_frequency", "frequency must be a whole number >= 0"),
                         ("bad_times", "recency and T must be given with 0 <= recency <= T"),
                         ("bad_spend", "monetary_value must be > 0 where frequency > 0")):
        if int(problems[column]):
            raise InputError(f"{int(problems[column]):,} of {int(problems['rows']):,} rows of "
                             f"the summary break the rule: {rule}.")
    return table


def _transactions_and_as_of(source, as_of: date | None) -> tuple[ibis.Table, date]:
    if isinstance(source, Company):
        if not source.has("transactions"):
            raise InputError("Customer value needs the transactions table.")
        return source.table("transactions"), as_of or source.as_of
    if as_of is None:
        latest = source.date.max().to_pandas()
        if pd.isna(latest):
            raise InputError("The transactions table is empty: there is nothing to value.")
        as_of = pd.Timestamp(latest).date()
    return source, as_of


# --- reading the result ----------------------------------------------------------------------


def clv_deciles(value: CustomerValue) -> pd.DataFrame:
    """Customers in tenths by CLV (decile 1 = the most valuable), computed in the engine:
    ``decile``, ``customers``, ``clv`` (total), ``mean_clv``, ``min_clv``, ``share`` of the total
    CLV and ``cumulative_share``. Empty when no spend is known."""
    # Tenths as SQL's ntile(10) cuts them (the first n % 10 one larger), placed by aggregating
    # value bins rather than a window over all customers, which a cluster runs on one executor.
    ranked = RankedColumn(value.table, "clv")
    n = ranked.n
    sizes = np.array([n // 10 + (1 if i < n % 10 else 0) for i in range(10)])
    ends = np.cumsum(sizes)
    cumulative, kth = ranked.at(np.concatenate([[0], ends]))
    sums = np.diff(cumulative)
    with np.errstate(invalid="ignore", divide="ignore"):
        frame = pd.DataFrame({"decile": np.arange(1, 11), "customers": sizes, "clv": sums,
                              "mean_clv": sums / sizes, "min_clv": kth[1:]})
    frame = frame[frame["customers"] > 0].reset_index(drop=True)
    total = frame["clv"].sum()
    frame["share"] = frame["clv"] / total if total else np.nan
    frame["cumulative_share"] = frame["share"].cumsum()
    return frame.astype({"decile": "int64", "customers": "int64"})


def total_clv(value: CustomerValue) -> Estimate:
    """The CLV of all customers together, with a 95% interval for the uncertainty of the fitted
    parameters (delta method over both models, fitted independently) and n = customers. It comes
    from the compact histories, whose spend sums make it exact (the expected spend is linear in a
    customer's mean spend). NaN when no spend is known. The interval is about the expected value,
    not the spread of what customers will do.

    The gradient in log-parameters is a weighted sum over the histories: the spend model's part
    is analytic, the transaction model's part a forward difference of the discounted purchases
    (one evaluation per parameter, on the distinct (frequency, T) pairs, in parallel; the
    unperturbed one was computed with the predictions)."""
    n = value.n_customers
    spend = value.spend_model
    if spend is None and value.pooled_spend is None:
        return Estimate(math.nan, math.nan, math.nan, n)
    models = [value.transaction_model] + ([spend] if spend is not None else [])
    theta = np.concatenate([m._theta() for m in models])
    covariance = np.zeros((theta.size, theta.size))
    start = 0
    for m in models:
        k = len(m.params_)
        covariance[start:start + k, start:start + k] = m.covariance_.to_numpy()
        start += k

    histories = _Histories(value.histories)
    x, w, sums, discounted = (value.histories[k].to_numpy(dtype=float) for k in
                              ("frequency", "weight", "monetary_sum", "discounted_purchases"))
    # Per history: its customers' summed expected spend per purchase, and its derivatives in the
    # log-parameters of the spend model (p, q, gamma).
    if spend is None:
        spending, spend_slopes = w * value.pooled_spend, np.empty((0, x.size))
    else:
        p, q, gamma = (spend.params_[k] for k in ("p", "q", "gamma"))
        shape = p * x + q - 1.0
        spending = p * (gamma * w + x * sums) / shape
        spend_slopes = np.vstack([spending * (1.0 - p * x / shape), -spending * q / shape,
                                  p * gamma * w / shape])
    step = 1e-6
    log_theta = np.log(value.transaction_model._theta())

    def purchase_slope(direction: np.ndarray) -> float:
        """The derivative of the total in one transaction log-parameter: the histories'
        discounted purchases, differentiated, weighted by their spending."""
        perturbed = _with_params(value.transaction_model, np.exp(log_theta + step * direction))
        return (_discounted_purchases(value, perturbed, histories) - discounted) @ spending / step

    # One parameter per thread: NumPy's work releases the interpreter, so they share the cores.
    with ThreadPoolExecutor(min(log_theta.size, os.cpu_count() or 1)) as workers:
        purchase_gradient = list(workers.map(purchase_slope, np.eye(log_theta.size)))
    # Every gradient entry is a weighted sum over the histories.
    gradient = np.concatenate([purchase_gradient, spend_slopes @ discounted])
    estimate = float(discounted @ spending)
    half = Z95 * math.sqrt(max(gradient @ (covariance / np.outer(theta, theta)) @ gradient, 0.0))
    return Estimate(estimate, estimate - half, estimate + half, n)


def _with_params(model: TransactionModel, params: np.ndarray) -> TransactionModel:
    """A copy of a fitted transaction model with other parameter values (the first ones given)."""
    other = type(model)()
    other.params_ = dict(zip(model.params_.index, map(float, params)))
    return other


def clv_report(value: CustomerValue, write_to: str | Path | None = None) -> dict:
    """A JSON-ready summary for the command line: settings, both models (parameters with
    standard errors and 95% intervals, log-likelihood, customers fitted, convergence), totals
    over the customers (from the merged histories, without another pass over the customers;
    ``clv`` and ``mean_clv`` with estimate, low, high, n from :func:`total_clv`) and caveats.

    With ``write_to``, the per-customer table is also written there (:func:`write_predictions`),
    by the engine in another thread while the totals are computed here in NumPy."""
    if write_to is None:
        return _report(value)
    with ThreadPoolExecutor(1) as worker:
        written = worker.submit(write_predictions, value, write_to)
        report = _report(value)
        written.result()
    return report


def _report(value: CustomerValue) -> dict:
    h = value.histories
    weight = h["weight"].to_numpy(dtype=float)
    totals = {
        "repeat_buyers": int(h.loc[h["frequency"] > 0, "weight"].sum()),
        "expected_alive": float(weight @ h["p_alive"].to_numpy()),
        "expected_purchases": float(weight @ h["expected_purchases"].to_numpy()),
        "past_revenue": float(h["revenue_sum"].sum(min_count=1)),  # NaN when no revenue is known
    }
    clv = total_clv(value)
    n = max(clv.n, 1)
    totals["clv"] = clv.to_dict()
    totals["mean_clv"] = Estimate(clv.estimate / n, clv.low / n, clv.high / n, clv.n).to_dict()
    return to_jsonable({
        "model": MODEL_NAMES[value.model],
        "time_unit": value.time_unit,
        "as_of": value.as_of,
        "horizon_months": value.horizon_months,
        "annual_discount_rate": value.annual_discount_rate,
        "monthly_discount_rate": value.monthly_discount_rate,
        "n_customers": value.n_customers,
        "transaction_model": model_report(value.transaction_model),
        "spend_model": model_report(value.spend_model) if value.spend_model else None,
        "totals": totals,
        "caveats": list(value.caveats),
    })


def model_report(model) -> dict:
    """A fitted model's parameters (estimate, std_error, lower_95, upper_95), log-likelihood,
    customers fitted, distinct rows fitted and convergence, JSON-ready."""
    return to_jsonable({
        "parameters": model.summary().to_dict("index"),
        "log_likelihood": model.log_likelihood_,
        "n_customers": round(model.n_customers_),
        "n_rows": model.n_rows_,
        "converged": model.converged_,
    })
