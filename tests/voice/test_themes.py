"""Themes: pinned keywords first, discovered themes on real text, settings checked with the file named."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from custfocus.data.settings import read_settings as read_company_settings
from custfocus.errors import InputError
from custfocus.voice.themes import PinnedTheme, VoiceSettings, find_themes, read_settings

DATA = Path(__file__).parent / "data"

COMMENTS = pd.Series([
    "My parcel was DELAYED again and nobody called.",
    "The app crashed at checkout.",
    "Late delivery, and the app froze when I paid.",
    "Charged twice for one order!",
    "Lovely staff.",
    "It arrived too late for the party",
    "Chocolate was fine.",  # 'late' inside a word is not a mention
])


def test_pinned_themes_match_words_prefixes_and_phrases_and_count_comments_in_both():
    settings = VoiceSettings(pinned=(PinnedTheme("late delivery", ("late", "delay*")),
                                     PinnedTheme("app", ("app",)),
                                     PinnedTheme("billing", ("charged twice",))), discover=0)
    themes = find_themes(COMMENTS, settings)
    member = themes.dense()
    assert themes.names == ("late delivery", "app", "billing")
    assert member[:, 0].tolist() == [True, False, True, False, False, True, False]
    assert member[:, 1].tolist() == [False, True, True, False, False, False, False]
    assert member[:, 2].tolist() == [False, False, False, True, False, False, False]
    assert member[4].sum() == 0  # a comment may belong to no theme: there is no leftovers bin


def amazon_snippets() -> pd.Series:
    return pd.read_csv(DATA / "amazon_review_snippets.tsv.gz", sep="\t", header=None, quoting=3)[2]


@pytest.fixture(scope="module")
def real_themes():
    return find_themes(amazon_snippets())


def test_discovered_themes_on_real_reviews_name_the_products_reviewed(real_themes):
    """The snippets review a DVD player, a digital camera and a phone, among others."""
    print("\n", real_themes.discovery_note, "\n", list(zip(real_themes.names, real_themes.terms, strict=True)))
    words = {w for terms in real_themes.terms for t in terms[:3] for w in t.split()}
    assert {"dvd", "camera", "phone"} <= words
    member = real_themes.dense()
    # Members say the theme: each has one of its top terms.
    text = amazon_snippets().str.lower()
    for k, terms in enumerate(real_themes.terms):
        said = text[member[:, k]].apply(lambda t, terms=terms: any(term in t for term in terms))
        assert said.all(), real_themes.names[k]


def test_discovery_is_deterministic(real_themes):
    again = find_themes(amazon_snippets())
    assert again.names == real_themes.names and again.terms == real_themes.terms
    assert (again.membership != real_themes.membership).nnz == 0


def test_pinned_words_are_left_out_of_discovery():
    text = amazon_snippets()
    themes = find_themes(text, VoiceSettings(pinned=(PinnedTheme("dvd players", ("dvd*", "player*")),)))
    discovered = [t for t, pinned in zip(themes.terms, themes.pinned, strict=True) if not pinned]
    assert not any("dvd" in term or "player" in term for terms in discovered for term in terms)
    assert np.asarray(themes.membership[:, 0].sum()) > 300


def test_too_few_comments_to_discover_says_so():
    themes = find_themes(COMMENTS)
    assert themes.count == 0 and "Too few comments" in themes.discovery_note


def test_bad_settings_name_the_file(tmp_path):
    with pytest.raises(InputError, match="voice.toml: theme 'late' needs a list"):
        read_settings({"themes": {"late": 3}}, "voice.toml")
    with pytest.raises(InputError, match="discover must be"):
        read_settings({"discover": "many"}, "voice.toml")
    (tmp_path / "voice.toml").write_text('discover = 4\n[themes]\n"late delivery" = ["late", "delay*"]\n')
    settings = read_company_settings(tmp_path)
    assert settings.voice_source.endswith("voice.toml")
    parsed = read_settings(settings.voice, settings.voice_source)
    assert parsed.pinned == (PinnedTheme("late delivery", ("late", "delay*")),) and parsed.discover == 4
    (tmp_path / "custfocus.toml").write_text('[voice.themes]\nx = ["y"]\n')
    with pytest.raises(InputError, match="keep one of them"):
        read_company_settings(tmp_path)
    (tmp_path / "voice.toml").unlink()
    assert read_company_settings(tmp_path).voice == {"themes": {"x": ["y"]}}
