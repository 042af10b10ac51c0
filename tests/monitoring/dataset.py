"""A small, hand-countable dataset: every expected figure in the tests is worked out from this file.

Programme P is ``tvp-youth-drugs``; all encounters are in 2026-Q1 unless stated. A journey is the
furthest point reached ("enc" encountered only, "elig" eligible, "off" offered, "acc" accepted,
"eng" engaged, "comp" completed); ``esc`` marks an escalation after acceptance and ``code`` the
referral's Home Office outcome code (1, 2, 3 count as a formal outcome).

    group  code   journeys (P)                                  enc/elig/off/acc/eng/comp/esc/formal
    White  W1     3 comp (one at 23:30 UK time on 31 March, 22:30 UTC, completed in April),
                  1 eng+esc code 1, 1 acc code 2, 1 off, 2 elig,
                  2 enc (one decided eligible, then overridden to not eligible)   10/8/6/5/4/3/1/2
    Black  B1/B2  1 eng+esc code 1, 1 acc code 2, 1 off code 3,
                  3 elig (one decided not eligible, then overridden to eligible),
                  4 enc (one of them eligible and offered for ``divert``)           10/6/3/2/1/0/1/3
    Asian  A1     3 comp                                                            3/3/3/3/3/3/0/0
    NS     NS     1 comp, 1 enc                                                     2/1/1/1/1/1/0/0
    Q2:    W1     1 enc on 1 April 00:30 UTC                                        1/0/0/0/0/0/0/0
"""

from __future__ import annotations

import csv
import io
import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from divert.models import Decision, Organisation, Programme, ProgrammeVersion, Referral
from divert.monitoring.journeys import sync
from divert.pathways.programmes import assign_operator, sync_definitions
from tests.factories import create_encounter, create_organisation, create_person

P = "tvp-youth-drugs"
OTHER = "divert"
ORDER = ("elig", "off", "acc", "eng", "comp")
MILESTONES = {"off": "offered_at", "acc": "accepted_at", "eng": "engaged_at", "comp": "completed_at"}
_ref = itertools.count(1)


@dataclass(frozen=True)
class Journey:
    code: str
    reached: str
    esc: bool = False
    outcome: int | None = None
    when: datetime = datetime(2026, 2, 10, 12, 0, tzinfo=UTC)
    override_from: bool | None = None  # the overridden decision's eligibility, if overridden
    other_programme: str | None = None  # reached for ``divert`` too


def journeys() -> list[Journey]:
    white = [
        Journey("W1", "comp", when=datetime(2026, 3, 31, 22, 30, tzinfo=UTC)),
        Journey("W1", "comp"),
        Journey("W1", "comp"),
        Journey("W1", "eng", esc=True, outcome=1),
        Journey("W1", "acc", outcome=2),
        Journey("W1", "off"),
        Journey("W1", "elig"),
        Journey("W1", "elig"),
        Journey("W1", "enc", override_from=True),
        Journey("W1", "enc"),
    ]
    black = [
        Journey("B1", "eng", esc=True, outcome=1),
        Journey("B1", "acc", outcome=2),
        Journey("B1", "off", outcome=3),
        Journey("B1", "elig", override_from=False),
        Journey("B2", "elig"),
        Journey("B2", "elig"),
        Journey("B1", "enc", other_programme="off"),
        Journey("B1", "enc"),
        Journey("B1", "enc"),
        Journey("B2", "enc"),
    ]
    asian = [Journey("A1", "comp") for _ in range(3)]
    not_stated = [Journey("NS", "comp"), Journey("NS", "enc")]
    q2 = [Journey("W1", "enc", when=datetime(2026, 4, 1, 0, 30, tzinfo=UTC))]
    return white + black + asian + not_stated + q2


def _version(session: Session, code: str) -> ProgrammeVersion:
    version = session.scalar(
        select(ProgrammeVersion).join(Programme).where(Programme.code == code).order_by(ProgrammeVersion.id)
    )
    assert version is not None
    return version


def _decide(
    session: Session, encounter_id: int, version: ProgrammeVersion, eligible: bool, **kw: Any
) -> Decision:
    decision = Decision(
        encounter_id=encounter_id,
        programme_version_id=version.id,
        eligible=eligible,
        route="yot" if eligible else None,
        reasons=[],
        facts={},
        **kw,
    )
    session.add(decision)
    session.flush()
    return decision


def record(
    session: Session, org: Organisation, journey: Journey, programme: str, reached: str, **person: Any
) -> None:
    """Insert one encounter's decision (and override, and case) for ``programme``, milestones as given."""
    version = _version(session, programme)
    who = create_person(session, self_defined_ethnicity=journey.code, **person)
    encounter = create_encounter(session, who, org, occurred_at=journey.when)
    _journey_rows(session, encounter.id, who.id, version, journey, reached)


def _journey_rows(
    session: Session,
    encounter_id: int,
    person_id: int,
    version: ProgrammeVersion,
    journey: Journey,
    reached: str,
) -> Decision:
    eligible = reached != "enc"
    if journey.override_from is not None:
        first = _decide(session, encounter_id, version, journey.override_from)
        decision = _decide(
            session, encounter_id, version, eligible, overrides_id=first.id, override_reason="test"
        )
    else:
        decision = _decide(session, encounter_id, version, eligible)
    if not eligible and journey.override_from is not True:
        return decision
    after = journey.when.replace(day=1, month=5) if journey.when.month == 3 else journey.when
    steps = ORDER[: ORDER.index(reached) + 1] if eligible else ()
    referral = Referral(
        reference=f"MON-{next(_ref):07d}",
        person_id=person_id,
        encounter_id=encounter_id,
        programme_id=version.programme_id,
        programme_version_id=version.id,
        state="eligible" if eligible else "not_eligible",
        outcome_code=journey.outcome,
        escalated_at=after if journey.esc else None,
        **{MILESTONES[s]: after for s in steps if s in MILESTONES},
    )
    session.add(referral)
    session.flush()
    return decision


def load(session: Session, org: Organisation | None = None) -> Organisation:
    """The journeys, recorded by ``org`` (a new police force if None), which runs both programmes:
    so its analysts see exactly these figures, and another organisation's see none of them."""
    sync_definitions(session)
    org = org or create_organisation(session)
    for code in (P, OTHER):
        programme = session.scalars(select(Programme).where(Programme.code == code)).one()
        assign_operator(session, programme, org.id, "police")
    for journey in journeys():
        who = create_person(session, self_defined_ethnicity=journey.code)
        encounter = create_encounter(session, who, org, occurred_at=journey.when)
        _journey_rows(session, encounter.id, who.id, _version(session, P), journey, journey.reached)
        if journey.other_programme:
            _journey_rows(
                session, encounter.id, who.id, _version(session, OTHER), journey, journey.other_programme
            )
    # The monitoring rows are written at commit, and tests never commit: write them now, so that
    # requests reading in their own sessions see them.
    sync(session)
    return org


# Date-of-birth cases for the age band at the encounter (exact at birthdays).
AGE_CASES: list[tuple[date | None, datetime, str]] = [
    (date(2008, 3, 15), datetime(2026, 3, 15, 0, 10, tzinfo=UTC), "18–20"),  # 18th birthday
    (date(2008, 3, 15), datetime(2026, 3, 14, 23, 59, tzinfo=UTC), "15–17"),  # the day before
    (date(2008, 2, 29), datetime(2026, 2, 28, 12, 0, tzinfo=UTC), "15–17"),  # leapling: not yet 18
    (date(2008, 2, 29), datetime(2026, 3, 1, 12, 0, tzinfo=UTC), "18–20"),  # 18 on 1 March
    (date(1990, 3, 1), datetime(2026, 3, 1, 9, 0, tzinfo=UTC), "36+"),
    (date(1990, 3, 2), datetime(2026, 3, 1, 9, 0, tzinfo=UTC), "26–35"),
    (date(2016, 1, 1), datetime(2026, 1, 1, 9, 0, tzinfo=UTC), "10–14"),
    (date(2017, 6, 1), datetime(2026, 1, 1, 9, 0, tzinfo=UTC), "Under 10"),
    (None, datetime(2026, 1, 1, 9, 0, tzinfo=UTC), "Not known"),
    (date(2026, 6, 1), datetime(2026, 1, 1, 9, 0, tzinfo=UTC), "Not known"),  # born after: an error
]


def csv_rows(text: str) -> list[dict[str, str]]:
    """The rows of a monitoring CSV, after its first line: the comment saying whose figures they are."""
    first, _, rest = text.partition("\n")
    assert first.startswith("# Scope: "), first
    return list(csv.DictReader(io.StringIO(rest)))
