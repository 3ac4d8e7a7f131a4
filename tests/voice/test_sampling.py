"""Voice at scale: beyond a size, a random sample of the comments is analysed, and the user is told."""

from __future__ import annotations

import math

import pytest

from custfocus import demo
from custfocus.data.loading import load_frames
from custfocus.demo.planted import PLANTED
from custfocus.voice import analysis


@pytest.fixture(scope="module")
def company():
    return load_frames(demo.generate(customers=20_000, seed=4), as_of=PLANTED.default_as_of)


def test_a_random_sample_beyond_the_limit_the_same_every_run(company):
    everything = analysis.comments_of(company)
    sample = analysis.comments_of(company, most=600)
    total = len(everything)
    assert sample.attrs["comments_in_data"] == everything.attrs["comments_in_data"] == total > 1_000
    # Bernoulli sampling at 600 / total: the size within four standard deviations of 600.
    assert abs(len(sample) - 600) < 4 * math.sqrt(600 * (1 - 600 / total))
    assert analysis.comments_of(company, most=600).equals(sample)
    assert set(sample.comment) <= set(everything.comment)
    # A random sample, not the first rows: its mean score estimates the mean of all comments.
    spread = everything.score.std() / math.sqrt(len(sample))
    assert abs(sample.score.mean() - everything.score.mean()) < 4 * spread


def test_the_analysis_says_when_it_read_a_sample(company, monkeypatch):
    monkeypatch.setattr(analysis, "MAX_COMMENTS", 800)
    result = analysis.analyse(company, replicates=50)
    assert result.notes[0].startswith(f"Themes, sentiment and drivers come from a random sample of "
                                      f"{len(result.comments):,} of the ")
