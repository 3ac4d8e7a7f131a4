"""The report section: availability, the verdict first, every figure in JSON-serialisable data."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from conftest import company_on

from custfocus import demo
from custfocus.demo import PLANTED
from custfocus.interventions import analyse, section, to_dict
from custfocus.interventions.presentation import verdict_sentence


@pytest.fixture(scope="module")
def demo_company():
    from custfocus.engine import connect

    return company_on(connect("duckdb"), demo.generate(customers=20_000, seed=7), PLANTED.default_as_of)


@pytest.fixture(scope="module")
def built(demo_company):
    return section(demo_company)


def test_unavailable_without_interventions_or_transactions(duckdb_engine, hand_frames):
    without = {k: v for k, v in hand_frames.items() if k != "interventions"}
    result = section(company_on(duckdb_engine, without))
    assert not result.available and "interventions" in result.reason


def test_the_section_opens_with_the_verdict_and_holds_every_figure(built):
    assert built.available and built.key == "interventions"
    figures = built.data["interventions"][PLANTED.experiment.name]
    assert built.summary == figures["sentence"]
    # 20,000 demo customers are far too few to tell whether free delivery pays (see the demo's doc).
    assert figures["verdict"] == "not yet known"
    assert built.summary.startswith("Whether free_delivery pays is not yet known")
    assert "conclusive answer needs about" in built.summary
    assert figures["customers_needed"] > figures["n_treated"] + figures["n_control"]
    json.dumps(built.data, allow_nan=False)  # plain JSON, no NaN
    assert built.tables[0].key == "free_delivery.effects"
    effects = built.tables[0].frame
    assert list(effects[""])[:5] == ["Orders", "Revenue", "Gross profit", "Treatment cost", "Net profit"]
    keys = [chart.key for chart in built.charts]
    assert keys == ["free_delivery.profit_curve", "free_delivery.qini_curve", "free_delivery.subgroups"]
    assert len(figures["targeting"]["profit_curve"]["value"]) == len(figures["targeting"]["shares"])
    assert built.headlines[0].value.endswith("EUR")


def test_to_dict_matches_the_sections_figures(demo_company, built):
    figures = to_dict(analyse(demo_company))["interventions"][PLANTED.experiment.name]
    shown = built.data["interventions"][PLANTED.experiment.name]
    assert figures["verdict"] == shown["verdict"]
    for outcome, effect in figures["effects"].items():  # the engine may sum in another order
        assert effect == {k: pytest.approx(v, rel=1e-9) if isinstance(v, float) else v
                          for k, v in shown["effects"][outcome].items()}, outcome


def test_an_experiment_without_a_control_group_says_so(duckdb_engine, hand_frames):
    frames = dict(hand_frames, interventions=hand_frames["interventions"].assign(group="treatment"))
    built = section(company_on(duckdb_engine, frames))
    figures = built.data["interventions"]["call"]
    assert figures["verdict"] == "not yet known" and figures["n_control"] == 0
    assert figures["effects"]["net_profit"]["standard_error"] is None
    assert any("no untreated group to compare with" in caveat for caveat in built.caveats)
    json.dumps(to_dict(analyse(company_on(duckdb_engine, frames))), allow_nan=False)


def test_a_paying_intervention_reads_as_such(duckdb_engine):
    """Nine in ten treated customers buy one 100 EUR basket more at 40% margin; treating costs 10."""
    ids = [f"C{i:04d}" for i in range(400)]
    treated = [i % 2 == 0 for i in range(400)]
    extra = [t and i % 20 != 0 for i, t in enumerate(treated)]
    tx = pd.DataFrame({"customer_id": ids + [c for c, e in zip(ids, extra) if e],
                       "amount": [50.0 + i % 7 for i in range(400)] + [100.0] * sum(extra)})
    tx["date"], tx["cost"] = pd.Timestamp("2024-02-01").date(), 0.6 * tx["amount"]
    assignments = pd.DataFrame({"customer_id": ids, "intervention": "vip call",
                                "group": ["treatment" if t else "control" for t in treated],
                                "date": pd.Timestamp("2024-01-15").date(), "cost": [10.0 if t else 0.0 for t in treated]})
    company = company_on(duckdb_engine, {"transactions": tx, "interventions": assignments},
                         pd.Timestamp("2024-03-01").date())
    result, = analyse(company)
    assert result.verdict == "pays"
    assert result.net_profit.estimate == pytest.approx(0.9 * 40.0 - 10.0, abs=0.5)
    assert verdict_sentence(result).startswith("vip call pays: it raises orders by 0.900 per treated customer")
