"""Sentiment of comments: VADER's general lexicon as a prior, then the company's own language.

The lexicon (VADER, Hutto & Gilbert 2014, shipped in the ``vaderSentiment`` package) gives every
comment a compound score in [-1, 1]. Where comments come with survey scores, a ridge regression of
the score (rescaled to [-1, 1] within its kind, so 0-10, 1-5 and 1-7 share one scale, higher is
better for all three) on the comment's words and the lexicon score learns what the company's
customers mean ("late", "still waiting", "charged twice" are not in a general lexicon). It is
*cross-fitted*: the comments are split into folds and each is scored by a model fitted on the other
folds, so no comment is scored by a model that saw its own score.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

FOLDS = 5
MIN_SCORED_TO_LEARN = 200  # below this the lexicon alone is used: too few to learn words from
RIDGE_ALPHA = 1.0
MAX_WORD_FEATURES = 50_000  # the most frequent words and pairs; rarer ones are mostly names and typos
LEXICON_WEIGHT = 3.0  # the lexicon column's scale against l2-normalised word features
SCORE_RANGES = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}


@dataclass(frozen=True)
class Sentiment:
    """Per-comment sentiment in [-1, 1] and how it was obtained."""

    lexicon: np.ndarray  # VADER compound
    score: np.ndarray  # the sentiment reported: learned (cross-fitted) where possible, else lexicon
    method: str  # "learned, cross-fitted in 5 folds" or "lexicon (VADER)"
    note: str


def lexicon_scores(comments: pd.Series) -> np.ndarray:
    """VADER compound score per comment, computed once per distinct text."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    codes, distinct = pd.factorize(comments.astype(str))
    values = np.fromiter((analyzer.polarity_scores(t)["compound"] for t in distinct), float, len(distinct))
    return values[codes]


def scaled_score(score: np.ndarray, kind: np.ndarray) -> np.ndarray:
    """Each score placed on [-1, 1] within its kind's range (NaN for an unknown kind)."""
    score = np.asarray(score, float)
    kind = np.asarray(kind, object)
    out = np.full(len(score), np.nan)
    for name, (low, high) in SCORE_RANGES.items():
        rows = kind == name
        out[rows] = 2 * (score[rows] - low) / (high - low) - 1
    return out


def fold_of(n: int) -> np.ndarray:
    """A fixed assignment of rows to folds (same data, same folds, on any machine)."""
    return np.random.default_rng(5_550_123).permutation(n) % FOLDS


def word_features(comments: pd.Series) -> sparse.csr_matrix:
    """TF-IDF of words and word pairs (fitted without scores, so every fold may share it)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(lowercase=True, token_pattern=r"(?u)\b\w[\w']*\b", ngram_range=(1, 2),
                                 min_df=2, max_df=0.9, sublinear_tf=True, max_features=MAX_WORD_FEATURES,
                                 dtype=np.float32)
    return vectorizer.fit_transform(comments.astype(str))


def cross_fitted(words: sparse.csr_matrix, lexicon: np.ndarray, target: np.ndarray,
                 folds: np.ndarray) -> np.ndarray:
    """Ridge predictions of ``target`` where each row's model never saw that row (NaN targets are
    scored but not learned from)."""
    from sklearn.linear_model import Ridge

    design = sparse.hstack([words, sparse.csr_matrix(LEXICON_WEIGHT * lexicon[:, None])], format="csr")
    known = ~np.isnan(target)
    predicted = np.full(len(target), np.nan)
    for fold in range(FOLDS):
        train = known & (folds != fold)
        model = Ridge(alpha=RIDGE_ALPHA, solver="sparse_cg", tol=1e-3)
        model.fit(design[train], target[train])
        rows = folds == fold
        predicted[rows] = model.predict(design[rows])
    return np.clip(predicted, -1.0, 1.0)


def sentiment(comments: pd.Series, score=None, kind=None) -> Sentiment:
    """Sentiment per comment: learned and cross-fitted where enough comments have scores."""
    comments = comments.astype(str).reset_index(drop=True)
    lexicon = lexicon_scores(comments)
    target = (scaled_score(score, kind) if score is not None and kind is not None
              else np.full(len(comments), np.nan))
    scored = int((~np.isnan(target)).sum())
    if scored < MIN_SCORED_TO_LEARN:
        return Sentiment(lexicon, lexicon, "lexicon (VADER)",
                         f"Only {scored:,} comments have a score ({MIN_SCORED_TO_LEARN} needed to learn "
                         "the company's own words), so sentiment is VADER's general lexicon.")
    learned = cross_fitted(word_features(comments), lexicon, target, fold_of(len(comments)))
    return Sentiment(lexicon, learned, f"learned, cross-fitted in {FOLDS} folds",
                     f"Learned from {scored:,} scored comments (ridge regression on words and word pairs "
                     f"with VADER's lexicon score as a prior feature), cross-fitted in {FOLDS} folds: "
                     "no comment is scored by a model that saw its own score.")
