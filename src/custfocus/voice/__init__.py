"""Voice: what customers say in comments, its sentiment, and which themes cost the survey's metric.

>>> from custfocus import voice
>>> result = voice.analyse(company)                    # doctest: +SKIP
>>> result.summary                                     # one row per theme: share, sentiment, points lost
>>> voice.key_drivers(themes, scores, "nps")           # on any boolean theme matrix
"""

from custfocus.section import presented_by
from custfocus.voice.analysis import (
    VoiceResult,
    analyse,
    analyse_comments,
    comments_of,
    comments_table,
    headline,
    to_dict,
)
from custfocus.voice.drivers import key_drivers
from custfocus.voice.sentiment import Sentiment, lexicon_scores, sentiment
from custfocus.voice.themes import PinnedTheme, Themes, VoiceSettings, find_themes, read_settings

__all__ = [
    "PinnedTheme",
    "Sentiment",
    "Themes",
    "VoiceResult",
    "VoiceSettings",
    "analyse",
    "analyse_comments",
    "comments_of",
    "comments_table",
    "find_themes",
    "headline",
    "key_drivers",
    "lexicon_scores",
    "read_settings",
    "section",
    "sentiment",
    "to_dict",
]


section = presented_by(__name__)
