"""What customers say: one call from a company to its comment themes, sentiment and key drivers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import ibis
import numpy as np
import pandas as pd

from custfocus.errors import CustfocusError
from custfocus.stats import Z95
from custfocus.voice import drivers as drv
from custfocus.voice.sentiment import Sentiment, sentiment
from custfocus.voice.themes import Themes, VoiceSettings, find_themes, read_settings

MIN_COMMENTS_FOR_DRIVERS = 50  # of one kind
# Beyond this many comments a random sample of about this size is analysed: theme shares and driver
# effects are averages, which a sample of this size estimates to a fraction of a point.
MAX_COMMENTS = 200_000
SAMPLE_BUCKETS = 1_000_000  # the sample keeps the rows whose hash falls in the first buckets
EXAMPLES_PER_THEME = 3
GROUP_COLUMNS = ("segment", "touchpoint", "department")
KIND_ORDER = ("nps", "csat", "ces")


@dataclass(frozen=True)
class VoiceResult:
    comments: pd.DataFrame  # one row per comment: id, date, kind, score, ..., sentiment, themes
    themes: Themes
    sentiment: Sentiment
    summary: pd.DataFrame  # one row per theme, drivers of the primary kind included
    drivers: dict[str, pd.DataFrame]  # by kind
    primary_kind: str | None
    by_month: pd.DataFrame  # theme, period, comments, mentions, share
    by_group: dict[str, pd.DataFrame]  # column -> theme, group, comments, mentions, share
    sentiment_by_month: pd.DataFrame  # period, n, mean, low, high
    examples: dict[str, list[str]]
    notes: list[str] = field(default_factory=list)

    @property
    def unit(self) -> str | None:
        return drv.METRICS[self.primary_kind].unit if self.primary_kind else None

    def biggest_root_cause(self) -> pd.Series | None:
        causes = self.summary[self.summary.role == "root cause"] if "role" in self.summary else self.summary[:0]
        return causes.sort_values("points_lost", ascending=False).iloc[0] if len(causes) else None


def comments_of(company, most: int | None = None) -> pd.DataFrame:
    """The responses with a comment, joined to their customer's segment when known, in a fixed order.

    Beyond ``most`` comments (default :data:`MAX_COMMENTS`), a random sample of about ``most`` of
    them, drawn by the engine, the same on every run; ``attrs["comments_in_data"]`` says how many
    there were.
    """
    most = MAX_COMMENTS if most is None else most
    responses = company.table("responses")
    if "comment" not in responses.columns:
        raise CustfocusError("The responses table has no comment column, so there is nothing to analyse.")
    wanted = [c for c in ("date", "kind", "score", "customer_id", "touchpoint", "department", "comment")
              if c in responses.columns]
    table = responses.select(*wanted).filter(responses.comment.notnull())
    total = int(table.count().execute())
    if total > most:
        # A hash of each row's values, not the engines' own sampling: Spark's takes no seed.
        row = ibis.literal("\x1f").join([table[c].cast("string").fill_null("") for c in wanted])
        table = table.filter((row.hash() % SAMPLE_BUCKETS).abs() < round(most / total * SAMPLE_BUCKETS))
    if company.has("customers") and "customer_id" in wanted and "segment" in company.table("customers").columns:
        customers = company.table("customers").select("customer_id", "segment")
        table = table.left_join(customers, "customer_id").select(*wanted, "segment")
    frame = table.execute()
    frame["comment"] = frame["comment"].astype(str).str.strip()
    frame = frame[frame.comment != ""]
    # A fixed order, so ids are the same on every engine and run.
    order = [c for c in ("date", "customer_id", "kind", "score", "comment") if c in frame.columns]
    frame = frame.sort_values(order, kind="stable").reset_index(drop=True)
    frame.insert(0, "id", np.arange(1, len(frame) + 1))
    frame["date"] = pd.to_datetime(frame["date"])
    frame.attrs["comments_in_data"] = total
    return frame


def analyse(company, settings: VoiceSettings | None = None, replicates: int = drv.BOOTSTRAP_REPLICATES,
            progress: Callable[[str], None] = lambda note: None) -> VoiceResult:
    """Themes, sentiment and key drivers of a company's comments (responses.comment)."""
    if not company.has("responses"):
        raise CustfocusError("voice needs the table responses (with a comment column), "
                             "which the company does not have.")
    if settings is None:
        settings = read_settings(company.settings.get("voice") or {}, company.settings.get("voice_source"))
    progress("voice: reading comments")
    comments = comments_of(company)
    if comments.empty:
        raise CustfocusError("No response has a comment, so there is nothing to analyse.")
    result = analyse_comments(comments, settings, replicates, progress)
    total = comments.attrs["comments_in_data"]
    if total > len(comments):
        result = replace(result, notes=[
            f"Themes, sentiment and drivers come from a random sample of {len(comments):,} of the {total:,} "
            "comments: shares and effects estimate those of all of them, with intervals for the sample.",
            *result.notes])
    return result


def analyse_comments(comments: pd.DataFrame, settings: VoiceSettings | None = None,
                     replicates: int = drv.BOOTSTRAP_REPLICATES,
                     progress: Callable[[str], None] = lambda note: None) -> VoiceResult:
    """The same on a frame with columns id, date, kind, score, comment (touchpoint, department, segment
    optional)."""
    progress(f"voice: finding themes in {len(comments):,} comments")
    themes = find_themes(comments.comment, settings or VoiceSettings())
    member = themes.dense()
    progress("voice: sentiment")
    felt = sentiment(comments.comment, comments.score.to_numpy(), comments.kind.to_numpy())
    comments = comments.assign(sentiment=felt.score, lexicon_sentiment=felt.lexicon,
                               themes=[" | ".join(np.asarray(themes.names, object)[row]) for row in member]
                               if themes.count else "")
    progress("voice: key drivers with bootstrap intervals")
    by_kind, notes = {}, [themes.discovery_note, felt.note]
    for kind in KIND_ORDER:
        rows = (comments.kind == kind).to_numpy()
        if rows.sum() >= MIN_COMMENTS_FOR_DRIVERS and themes.count:
            by_kind[kind] = drv.key_drivers(member[rows], comments.score.to_numpy()[rows], kind,
                                            themes.names, replicates)
        elif rows.any():
            notes.append(f"{kind.upper()}: {int(rows.sum()):,} comments, too few (under "
                         f"{MIN_COMMENTS_FOR_DRIVERS}) to estimate what each theme costs.")
    primary = "nps" if "nps" in by_kind else max(by_kind, key=lambda k: by_kind[k].n.iloc[0], default=None)
    if any(not d.converged.all() for d in by_kind.values()):
        notes.append("A driver model did not converge; its figures are not headlined.")
    progress("voice: themes over time and by group")
    summary = _summary(comments, themes, member, by_kind.get(primary))
    return VoiceResult(
        comments=comments, themes=themes, sentiment=felt, summary=summary, drivers=by_kind,
        primary_kind=primary, by_month=_shares_by(comments, member, themes, _month(comments.date), "period"),
        by_group={c: _shares_by(comments, member, themes, comments[c], "group")
                  for c in GROUP_COLUMNS if c in comments and comments[c].notna().any()},
        sentiment_by_month=_mean_by(comments.sentiment, _month(comments.date)),
        examples=_examples(comments, member, themes), notes=[n for n in notes if n])


def _month(dates: pd.Series) -> pd.Series:
    return dates.dt.strftime("%Y-%m")


def _summary(comments, themes, member, drivers) -> pd.DataFrame:
    n = len(comments)
    rows = []
    for k, name in enumerate(themes.names):
        felt = comments.sentiment.to_numpy()[member[:, k]]
        mean, low, high = _mean_interval(felt)
        rows.append({"label": name, "terms": list(themes.terms[k]), "pinned": themes.pinned[k],
                     "mentions": int(member[:, k].sum()), "share": member[:, k].sum() / n if n else np.nan,
                     "sentiment": mean, "sentiment_low": low, "sentiment_high": high})
    frame = pd.DataFrame(rows, columns=["label", "terms", "pinned", "mentions", "share", "sentiment",
                                        "sentiment_low", "sentiment_high"])
    if drivers is not None:
        keep = ["points_lost", "low", "high", "n", "naive_points_lost", "naive_low", "naive_high",
                "too_few_mentions", "role", "symptom_of", "converged"]
        frame = pd.concat([frame, drivers[keep].reset_index(drop=True)], axis=1)
        frame = frame.sort_values("points_lost", ascending=False, kind="stable").reset_index(drop=True)
    return frame


def _mean_interval(values: np.ndarray) -> tuple[float, float, float]:
    if len(values) == 0:
        return np.nan, np.nan, np.nan
    mean = float(values.mean())
    half = Z95 * float(values.std(ddof=1)) / np.sqrt(len(values)) if len(values) > 1 else np.nan
    return mean, mean - half, mean + half


def _mean_by(values: pd.Series, keys: pd.Series) -> pd.DataFrame:
    rows = []
    for key, group in values.groupby(keys.to_numpy(), sort=True):
        mean, low, high = _mean_interval(group.to_numpy())
        rows.append({"period": key, "n": len(group), "mean": mean, "low": low, "high": high})
    return pd.DataFrame(rows, columns=["period", "n", "mean", "low", "high"])


def _shares_by(comments, member, themes, keys: pd.Series, key_name: str) -> pd.DataFrame:
    if not themes.count:
        return pd.DataFrame(columns=["theme", key_name, "comments", "mentions", "share"])
    counts = pd.DataFrame(member.astype(int), columns=list(themes.names)).groupby(keys.to_numpy(), sort=True)
    mentions = counts.sum()
    sizes = counts.size()
    long = mentions.stack().rename("mentions").reset_index()
    long.columns = [key_name, "theme", "mentions"]
    long["comments"] = long[key_name].map(sizes)
    long["share"] = long.mentions / long.comments
    return long[["theme", key_name, "comments", "mentions", "share"]]


def _examples(comments, member, themes) -> dict[str, list[str]]:
    """Typical comments of each theme: those in the fewest other themes, of middling length."""
    length = comments.comment.str.len().to_numpy()
    theme_count = member.sum(axis=1)
    out = {}
    for k, name in enumerate(themes.names):
        rows = np.flatnonzero(member[:, k])
        if not len(rows):
            out[name] = []
            continue
        typical = np.median(length[rows])
        order = np.lexsort((comments.id.to_numpy()[rows], np.abs(length[rows] - typical), theme_count[rows]))
        picked, seen = [], set()
        for i in rows[order]:
            text = comments.comment.iat[i]
            if text.lower() not in seen:
                picked.append(text)
                seen.add(text.lower())
            if len(picked) == EXAMPLES_PER_THEME:
                break
        out[name] = picked
    return out


def headline(result: VoiceResult) -> str:
    """The biggest root cause in one sentence (or why none can be named)."""
    cause = result.biggest_root_cause()
    if result.primary_kind is None:
        return "There are too few scored comments of one kind to say which theme costs the most."
    if cause is None or not bool(cause.converged):
        return "No theme has a clear cost yet: the intervals of every theme include zero or the model did not converge."
    return (f"The biggest root cause is \"{cause.label}\": removing it would gain {cause.points_lost:.1f} "
            f"{result.unit} (95% interval {cause.low:.1f} to {cause.high:.1f}), mentioned in "
            f"{cause.share:.0%} of {result.primary_kind.upper()} comments.")


def to_dict(result: VoiceResult) -> dict:
    """The figures as JSON-ready data (see docs/report-json.md, key ``voice``)."""
    themes = []
    for row in result.summary.to_dict("records"):
        item = {"label": row["label"], "terms": row["terms"], "pinned": row["pinned"],
                "mentions": row["mentions"], "share": row["share"], "sentiment": row["sentiment"],
                "sentiment_low": row["sentiment_low"], "sentiment_high": row["sentiment_high"],
                "examples": result.examples.get(row["label"], [])}
        if "points_lost" in row:
            item.update({"points_lost": row["points_lost"], "low": row["low"], "high": row["high"],
                         "n": row["n"], "naive_points_lost": row["naive_points_lost"],
                         "role": row["role"], "symptom_of": row["symptom_of"],
                         "too_few_mentions": row["too_few_mentions"]})
        themes.append(item)
    return {
        "comments": len(result.comments),
        "metric": result.primary_kind, "unit": result.unit,
        "headline": headline(result),
        "themes": themes,
        "drivers_by_kind": {k: d.drop(columns=["converged"]).to_dict("records") for k, d in result.drivers.items()},
        "sentiment": {"method": result.sentiment.method, "mean": float(np.mean(result.sentiment.score)),
                      "by_month": result.sentiment_by_month},
        "themes_by_month": result.by_month,
        "themes_by_group": result.by_group,
        "notes": result.notes,
    }


def comments_table(result: VoiceResult) -> pd.DataFrame:
    """One row per comment for ``--out``: id, date, kind, score, sentiment, themes, comment."""
    columns = [c for c in ("id", "date", "customer_id", "kind", "score", "sentiment", "themes", "comment")
               if c in result.comments]
    return result.comments[columns]
