"""Anonymity of employee answers: which groups may be shown.

Two rules, applied to every figure built from employee answers (HTML, JSON and command line):

1. *Small groups*: a group answered by fewer than ``min_group_size`` distinct people (5 unless
   ``[privacy] min_group_size`` in custfocus.toml says otherwise, never below 3) is not shown.
2. *Complementary suppression*: where a shown total is the sum of parts (a department's pooled
   figure is the sum of its waves; a wave's company figure the sum of its departments; the company
   figure the sum of the departments), the hidden parts could be worked out by subtraction. So in
   every such relation with a shown total and a hidden part, at least two parts are hidden and the
   hidden parts together cover at least ``min_group_size`` people; otherwise the smallest shown
   part is hidden too (or, with none left, the total). This repeats until nothing changes.

A department whose people over all waves are fewer than the minimum is left out of every figure,
totals included (see :mod:`custfocus.people.employee`), so that protecting it never costs a
large department. People are counted by ``employee_id`` where the answers carry one. Without it, each answer of a
group in one wave counts as one person (one answer per person per wave), and a group's answers in
several waves are taken to come from the same people (the fewest people consistent with the
counts), so the count never overstates a group.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable

from custfocus.data.settings import LOWEST_MIN_GROUP_SIZE, MIN_GROUP_SIZE

SMALL = "fewer than {k} people"
COMPLEMENT = "hidden so that a smaller group cannot be worked out by subtraction"


def min_group_size(company) -> int:
    """The company's smallest group shown (custfocus.toml ``[privacy] min_group_size``, default 5)."""
    size = int(company.settings.get("min_group_size", MIN_GROUP_SIZE))
    return max(size, LOWEST_MIN_GROUP_SIZE)


def rule_sentence(k: int) -> str:
    return (f"Employee answers are shown only for groups of at least {k} people; where a small group "
            "could be worked out by subtracting the groups shown from a total, a second group (or the "
            "total) is hidden as well. Hidden groups are not named.")


def suppress(people: dict[Hashable, frozenset], relations: Iterable[tuple[Hashable, list[Hashable]]],
             k: int) -> dict[Hashable, str]:
    """The hidden groups and why: ``{group: reason}``.

    ``people`` maps each group to the set of people who answered in it; ``relations`` lists
    ``(total, parts)`` where the total's answers are exactly the parts' answers together.
    """
    if k < LOWEST_MIN_GROUP_SIZE:
        raise ValueError(f"the smallest group shown must be at least {LOWEST_MIN_GROUP_SIZE}, got {k}")
    relations = [(total, [p for p in parts if p in people]) for total, parts in relations]
    hidden = {group: SMALL.format(k=k) for group, members in people.items() if len(members) < k}
    changed = True
    while changed:
        changed = False
        for total, parts in relations:
            if total in hidden:
                continue
            hidden_parts = [p for p in parts if p in hidden]
            if not hidden_parts:
                continue
            together = frozenset().union(*(people[p] for p in hidden_parts))
            if len(hidden_parts) >= 2 and len(together) >= k:
                continue
            shown = sorted((p for p in parts if p not in hidden), key=lambda p: (len(people[p]), str(p)))
            hidden[shown[0] if shown else total] = COMPLEMENT
            changed = True
    return hidden
