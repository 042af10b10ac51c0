"""Information-sharing agreements and consent, as rules (issue 17): what may flow, and on what basis.

An agreement between two organisations says which categories of a case's data flow each way, for
which programmes, on what lawful basis (Data Protection Act 2018 Part 3) and from and until when.
Pure: the access rule in ``auth/sharing.py`` asks these functions with rows it has loaded.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

# What a case holds, in the categories an agreement names: who the person is (names, date of
# birth, PNC ID), the offence (the encounter), the needs assessment, the notes, and the outcome
# (status, Home Office outcome, exit reason).
CATEGORIES = ("identity", "offence", "needs", "notes", "outcome")
CATEGORY_LABELS = {
    "identity": "Identity (name, date of birth, PNC ID)",
    "offence": "Offence (the encounter)",
    "needs": "Needs assessment",
    "notes": "Notes",
    "outcome": "Outcome",
}

# DPA 2018 Part 3: the conditions in s.35 (and, for sensitive processing, Schedule 8) that an
# agreement's sharing rests on. A force may say more in the agreement's own words.
LAWFUL_BASES = {
    "s35_2_b": "s.35(2)(b): necessary for a law enforcement task of a competent authority",
    "s35_2_a": "s.35(2)(a): the data subject has consented for that purpose",
    "sch8_1": "s.35(5) and Schedule 8 para 1: statutory purposes (sensitive processing)",
    "sch8_4": "s.35(5) and Schedule 8 para 4: safeguarding of children and individuals at risk",
    "sch8_3": "s.35(5) and Schedule 8 para 3: protecting an individual's vital interests",
}

# What consent is to: the referral itself, or sharing with one organisation.
CONSENT_KINDS = ("referral", "sharing")


def categories_from_text(text: str | None) -> frozenset[str]:
    """The categories stored as ``identity,offence``: kept as text so the field history shows them."""
    return frozenset(c for c in (text or "").split(",") if c in CATEGORIES)


def categories_text(categories: Iterable[str]) -> str:
    chosen = set(categories)
    return ",".join(c for c in CATEGORIES if c in chosen)


def in_force(valid_from: date, valid_until: date | None, on: date) -> bool:
    """Whether an agreement runs on ``on``: from its first day to its last, both included."""
    return valid_from <= on and (valid_until is None or on <= valid_until)


@dataclass(frozen=True)
class Flow:
    """One agreement's flow from one organisation to another, for its programmes."""

    from_organisation: int
    to_organisation: int
    categories: frozenset[str]
    programmes: frozenset[int]
    valid_from: date
    valid_until: date | None


def shared_categories(
    flows: Iterable[Flow], owner: int, recipient: int, programme: int, on: date
) -> frozenset[str]:
    """What ``owner``'s case of ``programme`` shows ``recipient`` on ``on``: the union of every
    agreement in force that day, covering the programme, flowing from the owner to it."""
    shown: set[str] = set()
    for flow in flows:
        if (
            flow.from_organisation == owner
            and flow.to_organisation == recipient
            and programme in flow.programmes
            and in_force(flow.valid_from, flow.valid_until, on)
        ):
            shown |= flow.categories
    return frozenset(shown)
