"""A pinned, hand-countable history for policy simulation: youth drug diversion, one force.

Every encounter is on 10 February 2026 at noon and decided by the real rules (v2 then in force),
so the stored facts are exactly what recording stores. People (self-defined ethnicity, age on the
day, offence):

    White (W1)  15 possession · 17 possession · 17 possession · 16 theft · 16 possession with an
                earlier possession (June 2025, outside the period) → routed to the YJU
    Black (B1)  17 possession · 17 possession · 14 possession · 12 possession · 16 theft
    Asian (A1)  13 possession · 17 possession

Under the version in force: White 4 of 5 eligible (3 YOT, 1 YJU), Black 4 of 5 (4 YOT), Asian 2 of
2 (2 YOT); the earlier possession is decided too but falls outside the period.
Theft encounters record personal use as "no" (nothing was found), so a draft that lets theft in
can be decided for them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from divert.models import Organisation, Programme
from divert.monitoring.journeys import sync
from divert.pathways.cases import decide_for
from divert.pathways.programmes import assign_operator, sync_definitions
from tests.factories import create_encounter, create_organisation, create_person

P = "tvp-youth-drugs"
ON = datetime(2026, 2, 10, 12, 0, tzinfo=UTC)
PERIOD = (date(2026, 2, 1), date(2026, 3, 31))

PEOPLE = (
    ("W1", 15, "drug_possession"),
    ("W1", 17, "drug_possession"),
    ("W1", 17, "drug_possession"),
    ("W1", 16, "theft"),
    ("W1", 16, "repeat"),
    ("B1", 17, "drug_possession"),
    ("B1", 17, "drug_possession"),
    ("B1", 14, "drug_possession"),
    ("B1", 12, "drug_possession"),
    ("B1", 16, "theft"),
    ("A1", 13, "drug_possession"),
    ("A1", 17, "drug_possession"),
)


def build(session: Session) -> Organisation:
    sync_definitions(session)
    force = create_organisation(session, kind="police_force", code="simforce", name="Simulation Police")
    programme = session.scalars(select(Programme).where(Programme.code == P)).one()
    assign_operator(session, programme, force.id, "police")
    for n, (ethnicity, age, offence) in enumerate(PEOPLE):
        person = create_person(
            session,
            force,
            family_name=f"Simulated{n}",
            self_defined_ethnicity=ethnicity,
            date_of_birth=date(2026 - age, 1, 1),
        )
        if offence == "repeat":
            earlier = create_encounter(
                session, person, force, occurred_at=datetime(2025, 6, 1, 12, tzinfo=UTC)
            )
            decide_for(session, None, earlier, programme)
            offence = "drug_possession"
        theft = offence == "theft"
        encounter = create_encounter(
            session,
            person,
            force,
            occurred_at=ON,
            offence_category=offence,
            drug_class=None if theft else "B",
            personal_use=not theft,
        )
        decide_for(session, None, encounter, programme)
    session.flush()
    sync(session)
    return force
