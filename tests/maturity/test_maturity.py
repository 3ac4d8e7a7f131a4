"""Maturity: the gate (levels are not skipped), data over claims, the assessment file and template."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from custfocus import maturity
from custfocus.cli import app
from custfocus.errors import InputError
from custfocus.maturity import Assessment, Criterion, Evidence, Finding, judge
from custfocus.maturity.criteria import MET, NO_DATA, NOT_MET


def fixed(state: str):
    return lambda evidence: Finding(state, f"the data says {state}")


def criteria(**states) -> tuple[Criterion, ...]:
    """Criteria named <level>_<name>; a state of None makes a claim-only criterion."""
    return tuple(Criterion(key, int(key[1]), f"practice {key}.", f"do {key}", None if state is None else fixed(state))
                 for key, state in states.items())


NOTHING = Evidence(sections={}, company=None)


def test_a_level_is_confirmed_only_with_every_level_below():
    rules = criteria(L1_nps=MET, L1_retention=NOT_MET, L2_loyalty=MET, L3_people=MET)
    result = judge(NOTHING, None, rules)
    assert result.confirmed_level == 0
    assert [j.criterion.key for j in result.next_steps] == ["L1_retention"]
    result = judge(NOTHING, None, criteria(L1_nps=MET, L1_retention=MET, L2_loyalty=MET, L2_value=NOT_MET,
                                           L3_people=MET))
    assert result.confirmed_level == 1
    assert [j.criterion.key for j in result.next_steps] == ["L2_value"]


def test_data_overrides_claims():
    rules = criteria(L1_nps=MET, L1_process=None, L2_follow_up=NOT_MET, L2_themes=NO_DATA, L2_value=MET)
    claims = Assessment("assessment.toml", {"L1_nps": True, "L1_process": True, "L2_follow_up": True, "L2_themes": True,
                                            "L2_value": False})
    result = judge(NOTHING, claims, rules)
    status = {j.criterion.key: j.status for j in result.judgements}
    assert status == {"L1_nps": "verified", "L1_process": "claimed", "L2_follow_up": "contradicted",
                      "L2_themes": "claimed only", "L2_value": "verified"}
    assert result.confirmed_level == 1
    assert result.claimed_level == 1  # L2_value is not claimed, even though the data shows it
    assert [j.criterion.key for j in result.next_steps] == ["L2_follow_up", "L2_themes"]
    assert "contradicts 1 claimed practice" in result.verdict


def test_claimed_level_above_confirmed_is_shown_beside_it():
    rules = criteria(L1_nps=MET, L2_follow_up=NOT_MET, L3_people=MET)
    result = judge(NOTHING, Assessment("a.toml", {k.key: True for k in rules}), rules)
    assert (result.confirmed_level, result.claimed_level) == (1, 3)
    assert "confirmed at level 1 of 3 (quality service)" in result.verdict
    assert "claims level 3 of 3 (customer service centre)" in result.verdict


def test_without_an_assessment_claim_only_practices_do_not_gate_and_it_says_so():
    rules = criteria(L1_nps=MET, L1_process=None, L2_value=MET)
    result = judge(NOTHING, None, rules)
    assert result.confirmed_level == 2 and result.claimed_level is None and result.from_data_only
    assert [j.status for j in result.judgements] == ["verified", "not assessed", "verified"]
    assert "judged from the data alone" in result.verdict
    with_claims = judge(NOTHING, Assessment("a.toml", {}), rules)
    assert with_claims.confirmed_level == 0  # the process is now answered: not claimed, not met


def test_template_round_trips_and_explains_every_practice(tmp_path):
    claims = {c.key: i % 2 == 0 for i, c in enumerate(maturity.CRITERIA)}
    path = tmp_path / "assessment.toml"
    path.write_text(maturity.template(claims, by='Ann "QA" Lee', date="2026-01-31"))
    read = maturity.read_assessment(path)
    assert read.claims == claims and read.by == 'Ann "QA" Lee' and read.date == "2026-01-31"
    blank = maturity.template()
    for criterion in maturity.CRITERIA:
        assert f"{criterion.key} = false" in blank and criterion.practice in blank


@pytest.mark.parametrize(("text", "message"), [
    ("[practices]\nnps_measured = \"yes\"\n", r"\[practices\] nps_measured = 'yes' must be true or false"),
    ("[practices]\nwe_are_great = true\n", r"\[practices\] we_are_great = true is not a practice custfocus knows"),
    ("[practise]\n", r"\[practise\] is not a section of the assessment"),
    ("[practices\n", r"is not valid TOML: .* \(at line 1, column 11\)"),
    # These were tracebacks (a section given as a single value) or read without a word.
    ("practices = 3\n", r"practices = 3 must be a section"),
    ("assessment = \"me\"\n", r"assessment = 'me' must be a section"),
    ("[assessment]\nby = \"Ann\"\nwhen = 2026-01-01\n", r"\[assessment\] when = 2026-01-01 is not a key of"),
    ("[assessment]\ndate = \"2026-02-30\"\n", r"\[assessment\] date = '2026-02-30' is not a date"),
    ("[assessment]\ndate = 2999-01-01\n", r"\[assessment\] date = 2999-01-01 is not plausible; it must lie between 1900-01-01 and today"),
    ("nps_measured = true\n", r"nps_measured = true is outside the sections .* goes under \[practices\]"),
])
def test_bad_assessment_is_one_sentence_naming_file_and_key(tmp_path, text, message):
    path = tmp_path / "assessment.toml"
    path.write_text(text)
    with pytest.raises(InputError, match=message) as raised:
        maturity.read_assessment(path)
    assert str(path) in str(raised.value)


def test_assess_template_command(tmp_path):
    runner = CliRunner()
    target = tmp_path / "assessment.toml"
    result = runner.invoke(app, ["assess", "--template", "--out", str(target)])
    assert result.exit_code == 0 and target.exists()
    assert maturity.read_assessment(target).claims == {c.key: False for c in maturity.CRITERIA}
    again = runner.invoke(app, ["assess", "--template", "--out", str(target)])
    assert again.exit_code == 1 and "exists already" in again.output
    assert runner.invoke(app, ["assess"]).exit_code == 1


def test_the_demo_assessment_names_every_practice(tmp_path):
    from custfocus.demo.assessment import CLAIMS, assessment_toml

    path = tmp_path / "assessment.toml"
    path.write_text(assessment_toml("2026-09-30"))
    assert maturity.read_assessment(path).claims == CLAIMS
    assert set(CLAIMS) == {c.key for c in maturity.CRITERIA}
