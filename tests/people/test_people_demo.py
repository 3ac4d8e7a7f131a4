"""The demo's planted people truths: Warehouse serves Logistics poorly and the report names it."""

from __future__ import annotations

import json

import pytest

from custfocus import demo, people
from custfocus.data.loading import load
from custfocus.stats import to_jsonable


@pytest.fixture(scope="module")
def section(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo")
    demo.write(demo.generate(customers=20_000, seed=7), folder)
    return people.section(load(folder))


def test_the_report_names_warehouse_as_the_bottleneck_serving_logistics(section):
    planted = demo.PLANTED.people
    assert section.data["bottleneck"]["supplier"] == planted.poorly_serving_department
    assert section.data["bottleneck"]["share_of_resamples"] >= 0.95
    headline = next(h for h in section.headlines if h.label == "Bottleneck supplier")
    assert headline.value == planted.poorly_serving_department
    asymmetric = [c for c in section.tables if c.key == "asymmetric"][0].frame
    assert f"{planted.affected_department} / {planted.poorly_serving_department}" in set(asymmetric["pair"])
    assert all(chart.key in section.data for chart in section.charts)
    lowest = next(c for c in section.charts if c.key == "internal").finding
    assert f"{planted.affected_department} rates {planted.poorly_serving_department}" in lowest


def test_the_small_department_is_not_in_the_section(section):
    text = json.dumps(to_jsonable(section.data)) + section.summary + " ".join(section.caveats)
    text += " ".join(c.finding for c in section.charts)
    assert demo.PLANTED.people.small_department not in text
    assert section.data["employee_nps"]["hidden"]["small_departments"] == 1
