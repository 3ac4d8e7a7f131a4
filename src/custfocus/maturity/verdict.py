"""Where the company stands: each criterion judged, the confirmed and claimed levels, the next steps.

A criterion's status:

* ``verified``: the data shows the practice (whatever the self-assessment says);
* ``contradicted``: the self-assessment claims it, the data shows otherwise (data overrides claims);
* ``claimed only``: claimed, and the data needed to check it is absent;
* ``claimed``: claimed, and only a self-assessment can show it (a written process);
* ``not met``: neither claimed nor shown by the data;
* ``not assessed``: no self-assessment, and only one could show it.

A criterion is *met* when verified, or claimed where only a claim can show it. The confirmed level is
the highest level met together with every level below it (levels are not skipped). Without an
assessment, the criteria only a claim can show are left out of the gate, and the verdict says the
level is judged from data alone. The claimed level is the highest level whose criteria, and those
of every level below, are all claimed. The next steps are the unmet criteria of the lowest level not
yet confirmed, in the order of the criteria.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from custfocus.maturity.assessment import Assessment
from custfocus.maturity.criteria import CRITERIA, LEVELS, MET, NO_DATA, Criterion, Evidence

VERIFIED, CONTRADICTED, CLAIMED_ONLY, CLAIMED = "verified", "contradicted", "claimed only", "claimed"
NOT_MET, NOT_ASSESSED = "not met", "not assessed"


@dataclass(frozen=True)
class Judgement:
    criterion: Criterion
    status: str
    evidence: str  # what the data shows, or why it cannot
    claimed: bool | None  # None: no assessment

    @property
    def met(self) -> bool:
        return self.status in (VERIFIED, CLAIMED)

    @property
    def gates(self) -> bool:
        return self.status != NOT_ASSESSED


@dataclass
class Maturity:
    judgements: list[Judgement]
    confirmed_level: int  # 0: not even level 1
    claimed_level: int | None  # None without an assessment
    from_data_only: bool
    next_steps: list[Judgement] = field(default_factory=list)
    assessment_source: str | None = None

    @property
    def verdict(self) -> str:
        return verdict_sentence(self)

    @property
    def next_step(self) -> str | None:
        return step_sentence(self.next_steps[0]) if self.next_steps else None


def judge(evidence: Evidence, assessment: Assessment | None,
          criteria: tuple[Criterion, ...] = CRITERIA) -> Maturity:
    """Judge every criterion (in order), then the levels; ``criteria`` defaults to :data:`CRITERIA`."""
    judgements = [_judge(c, evidence, assessment) for c in criteria]
    confirmed = 0
    for level in LEVELS:
        gating = [j for j in judgements if j.criterion.level == level and j.gates]
        if gating and all(j.met for j in gating):
            confirmed = level
        else:
            break
    claimed_level = None
    if assessment is not None:
        claimed_level = 0
        for level in LEVELS:
            if all(assessment.claims.get(c.key, False) for c in criteria if c.level == level):
                claimed_level = level
            else:
                break
    next_level = confirmed + 1
    steps = [j for j in judgements if j.criterion.level == next_level and j.gates and not j.met]
    return Maturity(judgements, confirmed, claimed_level, assessment is None, steps,
                    assessment.source if assessment else None)


def _judge(criterion: Criterion, evidence: Evidence, assessment: Assessment | None) -> Judgement:
    claimed = None if assessment is None else assessment.claims.get(criterion.key, False)
    if criterion.check is None:
        if claimed is None:
            return Judgement(criterion, NOT_ASSESSED, "only the self-assessment can show this", None)
        return Judgement(criterion, CLAIMED if claimed else NOT_MET, "only the self-assessment can show this", claimed)
    finding = criterion.check(evidence)
    if finding.state == MET:
        status = VERIFIED
    elif finding.state == NO_DATA:
        status = CLAIMED_ONLY if claimed else NOT_MET
    else:
        status = CONTRADICTED if claimed else NOT_MET
    return Judgement(criterion, status, finding.detail, claimed)


def level_name(level: int) -> str:
    return f"level {level} of 3 ({LEVELS[level]})" if level else "no level yet (level 1 is quality service)"


def verdict_sentence(maturity: Maturity) -> str:
    confirmed = level_name(maturity.confirmed_level)
    if maturity.from_data_only:
        basis = "judged from the data alone (there is no assessment.toml)"
    elif maturity.claimed_level is not None and maturity.claimed_level != maturity.confirmed_level:
        basis = f"the self-assessment claims {level_name(maturity.claimed_level)}"
    else:
        basis = "as the self-assessment claims"
    contradicted = [j for j in maturity.judgements if j.status == CONTRADICTED]
    against = (f"; the data contradicts {len(contradicted)} claimed practice{'s' if len(contradicted) > 1 else ''}"
               if contradicted else "")
    if maturity.confirmed_level == 0:
        return f"Customer focus is not yet confirmed at level 1 of 3 ({LEVELS[1]}); {basis}{against}."
    return f"Customer focus is confirmed at {confirmed}; {basis}{against}."


def step_sentence(judgement: Judgement) -> str:
    return f"{judgement.criterion.practice} How: {judgement.criterion.how}."
