"""The loyalty matrix: hand-worked cells, a pandas oracle on random data, on both engines."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pytest
from scipy import stats as sps

from custfocus import loyalty

HAND_AS_OF = RANDOM_AS_OF = date(2024, 12, 31)


@pytest.fixture
def hand_table(any_engine, hand_value, hand_responses, linear_model):
    value = any_engine.from_frame("loyalty_hand_value", hand_value)
    responses = any_engine.from_frame("loyalty_hand_responses", hand_responses)
    return loyalty.loyalty_table(value, responses, linear_model, as_of=HAND_AS_OF)


def test_cells_by_hand(hand_table):
    table = hand_table.to_pandas().set_index("customer_id").sort_index()
    true, latent, spurious = loyalty.TRUE_LOYALTY, loyalty.LATENT_LOYALTY, loyalty.SPURIOUS_LOYALTY
    unknown, none = loyalty.ATTITUDE_UNKNOWN, loyalty.NO_LOYALTY
    assert table["cell"].to_dict() == {"P1": true, "P2": latent, "D1": spurious, "S1": spurious, "D2": none,
                                       "N1": unknown, "N2": unknown, "T1": spurious}
    assert table["repeat"].to_dict() == {"P1": "high", "P2": "low", "D1": "high", "S1": "high", "D2": "low",
                                         "N1": "high", "N2": "low", "T1": "high"}
    assert table["expected_repeat"].to_dict() == {"P1": 2, "P2": 2, "D1": 3, "S1": 2, "D2": 0, "N1": 0.5,
                                                  "N2": 5, "T1": 1}
    # Latest answer; T1's two answers on 1 Nov give the lower (6); N2 answered after as_of.
    assert table["nps_score"].dropna().astype(int).to_dict() == {"D1": 4, "D2": 0, "P1": 10, "P2": 9, "S1": 8,
                                                                 "T1": 6}
    assert table.loc["S1", "nps_category"] == "passive" and table.loc["S1", "attitude"] == "low"
    assert table.loc["N2", "attitude"] == "unknown"
    # Value at risk: the CLV of the spurious customers only.
    assert table["value_at_risk"].to_dict() == {"D1": 300, "D2": 0, "N1": 0, "N2": 0, "P1": 0, "P2": 0,
                                                "S1": 500, "T1": 100}


def test_matrix_by_hand(hand_table):
    matrix = loyalty.loyalty_matrix(hand_table)
    assert matrix["cell"].tolist() == [loyalty.TRUE_LOYALTY, loyalty.LATENT_LOYALTY, loyalty.SPURIOUS_LOYALTY,
                                       loyalty.NO_LOYALTY, loyalty.ATTITUDE_UNKNOWN, loyalty.ATTITUDE_UNKNOWN]
    assert matrix["customers"].tolist() == [1, 1, 3, 1, 1, 1]
    assert matrix["share"].tolist() == pytest.approx([1 / 8, 1 / 8, 3 / 8, 1 / 8, 1 / 8, 1 / 8])
    # Six customers have an NPS answer.
    assert matrix["share_of_surveyed"].iloc[:4].tolist() == pytest.approx([1 / 6, 1 / 6, 3 / 6, 1 / 6])
    assert matrix["share_of_surveyed"].iloc[4:].isna().all()
    spurious = matrix.set_index("cell").loc[loyalty.SPURIOUS_LOYALTY]
    # D1, S1, T1: revenue 900 + 600 + 300, CLV 300, 500, 100 (mean 300, sd 200), P(alive) 0.7, 0.95, 0.6.
    assert spurious["revenue"] == 1800 and spurious["clv"] == 900 and spurious["value_at_risk"] == 900
    assert spurious["clv_mean"] == pytest.approx(300)
    assert spurious["clv_high"] == pytest.approx(300 + sps.t.ppf(0.975, 2) * 200 / math.sqrt(3))
    assert spurious["p_alive_mean"] == pytest.approx(0.75)
    assert matrix["too_small"].all()


def test_by_category_by_hand(hand_table):
    detail = loyalty.loyalty_by_category(hand_table).set_index(["nps_category", "repeat"])["customers"]
    assert detail.to_dict() == {
        ("promoter", "high"): 1, ("promoter", "low"): 1, ("passive", "high"): 1, ("passive", "low"): 0,
        ("detractor", "high"): 2, ("detractor", "low"): 1, ("unknown", "high"): 1, ("unknown", "low"): 1,
    }


def test_retained_not_loyal_ranked_by_value_at_risk(hand_table):
    ranked = loyalty.retained_not_loyal(hand_table).to_pandas()
    assert ranked["customer_id"].tolist() == ["S1", "D1", "T1"]
    assert ranked["nps_category"].tolist() == ["passive", "detractor", "detractor"]
    assert loyalty.retained_not_loyal(hand_table).limit(1).to_pandas()["value_at_risk"].tolist() == [500]


def test_first_answer(any_engine, hand_responses):
    responses = any_engine.from_frame("loyalty_first", hand_responses)
    first = loyalty.first_or_latest_nps(responses, as_of=HAND_AS_OF, latest=False).to_pandas().set_index("customer_id")
    assert first.loc["P1", "nps_score"] == 3 and first.loc["P1", "nps_category"] == "detractor"
    assert "N2" not in first.index and "N1" not in first.index


def test_matrix_against_pandas(any_engine, random_loyalty_frames, linear_model):
    frames = random_loyalty_frames
    value = any_engine.from_frame("loyalty_random_value", frames["value"])
    responses = any_engine.from_frame("loyalty_random_responses", frames["responses"])
    table = loyalty.loyalty_table(value, responses, linear_model, as_of=RANDOM_AS_OF)
    mine = table.to_pandas().set_index("customer_id").sort_index()

    # The oracle: latest NPS answer per customer by sorting, lowest score first on a tie.
    answers = frames["responses"]
    answers = answers[(answers["kind"] == "nps") & answers["customer_id"].notna()
                      & (answers["date"] <= RANDOM_AS_OF)]
    latest = answers.sort_values(["customer_id", "date", "score"], ascending=[True, False, True]).groupby(
        "customer_id").head(1).set_index("customer_id")["score"]
    expected = frames["value"].set_index("customer_id").sort_index()
    score = latest.reindex(expected.index)
    attitude = np.where(score.isna(), "unknown", np.where(score >= 9, "high", "low"))
    repeat = np.where((expected["frequency"] >= 1) & (expected["frequency"] >= expected["T"] / 10), "high", "low")
    assert (mine["attitude"] == attitude).all() and (mine["repeat"] == repeat).all()
    assert mine["nps_score"].equals(score.astype(mine["nps_score"].dtype).rename("nps_score"))

    matrix = loyalty.loyalty_matrix(table).set_index(["attitude", "repeat"])
    frame = expected.assign(attitude=attitude, repeat=repeat)
    for (a, r), group in frame.groupby(["attitude", "repeat"]):
        row = matrix.loc[(a, r)]
        assert row["customers"] == len(group)
        assert row["revenue"] == pytest.approx(group["revenue"].sum())
        assert row["clv_mean"] == pytest.approx(group["clv"].mean())
        half = sps.t.ppf(0.975, len(group) - 1) * group["clv"].std() / math.sqrt(len(group))
        assert row["clv_high"] - row["clv_mean"] == pytest.approx(half)
        assert row["p_alive_mean"] == pytest.approx(group["p_alive"].mean())

    spurious = frame[(frame["attitude"] == "low") & (frame["repeat"] == "high")]
    ranked = loyalty.retained_not_loyal(table).to_pandas()
    expected_order = spurious.reset_index().sort_values(["clv", "customer_id"], ascending=[False, True])
    assert ranked["customer_id"].tolist() == expected_order["customer_id"].tolist()
    assert ranked["value_at_risk"].to_numpy() == pytest.approx(expected_order["clv"].to_numpy())
