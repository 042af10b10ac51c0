"""Monitoring that can be published (issue 13): populations, coded reasons, UK dates.

- ``decisions.in_population``: whether the encounter is one the programme is for (the definition's
  ``population``); only those are in a programme's monitoring base. Versions written before
  populations existed have none, so every decision already stored is in (true).
- ``referral_events.reason_code`` and ``decisions.override_reason_code``: the coded reason for not
  offered, declined and overrides, which monitoring groups by. Reasons recorded before codes
  existed were typed words: they become "other" (monitoring's "Other (free text)"), the words stay
  where they were; an import's override ("Imported record") becomes "imported".
- ``referrals.decision_route_at``, ``diverted_again_at``, ``formal_outcome_at``: the route to a
  decision maker (the Youth Justice Unit), its decision to divert again, and a formal outcome by the
  definition's rule (an outcome code of 1-3, an escalation, a decision maker's formal ending such as
  version 1's "formal outcome pursued by YJU"), filled from each case's timeline; and the journey
  rows' matching points (``decision_route``, ``diverted_again``, ``decision_formal``).
- The journey rows are rebuilt: each encounter's cohort day is now its UK date, not its UTC date.

Revision ID: 0018
Revises: 0019
Create Date: 2026-12-01 12:45:00.000000
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("in_population", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
        batch_op.add_column(sa.Column("override_reason_code", sa.String(length=40), nullable=True))
    with op.batch_alter_table("referral_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reason_code", sa.String(length=40), nullable=True))
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        for name in _MILESTONES:
            batch_op.add_column(sa.Column(name, sa.DateTime(timezone=True), nullable=True))
    for table in ("monitoring_journeys", "monitoring_encounters"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for point in _POINTS:
                batch_op.add_column(
                    sa.Column(point, sa.SmallInteger(), server_default=sa.text("0"), nullable=False)
                )
    _code_existing_reasons()
    _reach_milestones()
    _rebuild_journeys()


_MILESTONES = ("decision_route_at", "diverted_again_at", "formal_outcome_at")
_POINTS = ("decision_route", "diverted_again", "decision_formal")


def _document(document: Any) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(document) if isinstance(document, str) else document
    return loaded


def _graph(definition: dict[str, Any]) -> tuple[list[str], list[str], list[str]]:
    """Decision-route entries, the other routes' entries, and formal endings, as
    rules.definition (decision_route_entries, is_formal_outcome) works them out at this revision."""
    states = {s["id"]: s for s in definition.get("states", [])}
    moves = [(t["from"], t["to"]) for t in definition.get("transitions", [])]
    entries = {r["enters"] for r in definition.get("routes", [])}
    deciding = {
        e
        for e in entries
        if not states.get(e, {}).get("terminal") and {b for a, b in moves if a == e} & (entries - {e})
    }

    def formal(state: dict[str, Any]) -> bool:
        if not state.get("terminal"):
            return False
        if state.get("formal_outcome") is not None:
            return bool(state["formal_outcome"])
        if state.get("outcome_code") in (1, 2, 3) or state.get("result") == "escalated":
            return True
        return state.get("stage") == "route" and any(a in deciding and b == state["id"] for a, b in moves)

    return sorted(deciding), sorted(entries - deciding), sorted(i for i, s in states.items() if formal(s))


def _reach_milestones() -> None:
    bind = op.get_bind()
    first = (
        "(SELECT MIN(ev.occurred_at) FROM referral_events ev WHERE ev.referral_id = referrals.id "
        "AND ev.kind <> 'correction' AND {where})"
    )
    for version_id, document in bind.execute(sa.text("SELECT id, definition FROM programme_versions")).all():
        deciding, others, formal = _graph(_document(document))
        updates = []
        if deciding:
            updates.append(("decision_route_at", first.format(where="ev.to_state IN :deciding")))
            if others:
                where = "ev.from_state IN :deciding AND ev.to_state IN :others"
                updates.append(("diverted_again_at", first.format(where=where)))
        if formal:
            updates.append(("formal_outcome_at", "CASE WHEN state IN :formal THEN closed_at END"))
        for column, value in updates:
            # The column and expression are this file's constants; the state ids are bound.
            sql = f"UPDATE referrals SET {column} = {value} WHERE programme_version_id = :version"  # noqa: S608
            statement = sa.text(sql).bindparams(
                *(
                    sa.bindparam(n, expanding=True)
                    for n in ("deciding", "others", "formal")
                    if f":{n}" in value
                )
            )
            params = {"version": version_id, "deciding": deciding, "others": others, "formal": formal}
            bind.execute(statement, {k: v for k, v in params.items() if k == "version" or f":{k}" in value})


def _states_giving_reasons(document: Any) -> list[str]:
    """A version's not-offered and declined states (terminal states of the offer and acceptance
    stages), read from its stored document as this revision knows documents."""
    definition = _document(document)
    return [
        state["id"]
        for state in definition.get("states", [])
        if state.get("terminal") and state.get("stage") in ("offer", "acceptance")
    ]


def _code_existing_reasons() -> None:
    bind = op.get_bind()
    for version_id, document in bind.execute(sa.text("SELECT id, definition FROM programme_versions")).all():
        states = _states_giving_reasons(document)
        if not states:
            continue
        bind.execute(
            sa.text(
                "UPDATE referral_events SET reason_code = 'other' "
                "WHERE reason_code IS NULL AND TRIM(COALESCE(reason, '')) <> '' AND to_state IN :states "
                "AND referral_id IN (SELECT id FROM referrals WHERE programme_version_id = :version)"
            ).bindparams(sa.bindparam("states", expanding=True)),
            {"states": states, "version": version_id},
        )
    op.execute(
        "UPDATE decisions SET override_reason_code = CASE WHEN override_reason = 'Imported record' "
        "THEN 'imported' ELSE 'other' END WHERE overrides_id IS NOT NULL AND override_reason_code IS NULL"
    )


# Written out rather than imported from divert.monitoring.journeys, so that this revision keeps doing
# what it did when later code changes (as 0009). The rules of that code at this revision: the
# effective decision per programme, in the programme's population, a point only when its base point
# was reached, a formal outcome by the case's milestone or outcome code 1-3, the cohort day the UK date.
_PROGRAMME_ROWS = """
INSERT INTO monitoring_journeys (encounter_id, programme_id, person_id, encounter_day, area,
    organisation_id, eligible, offered, accepted, engaged, completed, escalated, formal_outcome,
    decision_route, diverted_again, decision_formal)
SELECT d.encounter_id, pv.programme_id, e.person_id, {day}, e.area, e.organisation_id,
    MAX(CASE WHEN d.eligible THEN 1 ELSE 0 END),
    MAX(CASE WHEN d.eligible AND r.offered_at IS NOT NULL THEN 1 ELSE 0 END),
    MAX(CASE WHEN d.eligible AND r.offered_at IS NOT NULL AND r.accepted_at IS NOT NULL THEN 1 ELSE 0 END),
    MAX(CASE WHEN d.eligible AND r.offered_at IS NOT NULL AND r.accepted_at IS NOT NULL
        AND r.engaged_at IS NOT NULL THEN 1 ELSE 0 END),
    MAX(CASE WHEN d.eligible AND r.offered_at IS NOT NULL AND r.accepted_at IS NOT NULL
        AND r.engaged_at IS NOT NULL AND r.completed_at IS NOT NULL THEN 1 ELSE 0 END),
    MAX(CASE WHEN d.eligible AND r.offered_at IS NOT NULL AND r.accepted_at IS NOT NULL
        AND r.escalated_at IS NOT NULL THEN 1 ELSE 0 END),
    MAX(CASE WHEN r.formal_outcome_at IS NOT NULL OR r.outcome_code IN (1, 2, 3) THEN 1 ELSE 0 END),
    MAX(CASE WHEN d.eligible AND r.offered_at IS NOT NULL AND r.accepted_at IS NOT NULL
        AND r.decision_route_at IS NOT NULL THEN 1 ELSE 0 END),
    MAX(CASE WHEN d.eligible AND r.offered_at IS NOT NULL AND r.accepted_at IS NOT NULL
        AND r.decision_route_at IS NOT NULL AND r.diverted_again_at IS NOT NULL THEN 1 ELSE 0 END),
    MAX(CASE WHEN d.eligible AND r.offered_at IS NOT NULL AND r.accepted_at IS NOT NULL
        AND r.decision_route_at IS NOT NULL AND r.diverted_again_at IS NULL
        AND r.formal_outcome_at IS NOT NULL THEN 1 ELSE 0 END)
FROM decisions d
JOIN programme_versions pv ON pv.id = d.programme_version_id
JOIN encounters e ON e.id = d.encounter_id
LEFT JOIN referrals r ON r.encounter_id = d.encounter_id AND r.programme_id = pv.programme_id
WHERE NOT EXISTS (SELECT 1 FROM decisions later WHERE later.overrides_id = d.id) AND d.in_population
GROUP BY d.encounter_id, pv.programme_id, e.person_id, e.occurred_at, e.area, e.organisation_id
"""

_ENCOUNTER_ROWS = """
INSERT INTO monitoring_encounters (encounter_id, person_id, encounter_day, area, organisation_id,
    eligible, offered, accepted, engaged, completed, escalated, formal_outcome,
    decision_route, diverted_again, decision_formal)
SELECT encounter_id, person_id, encounter_day, area, organisation_id, MAX(eligible), MAX(offered),
    MAX(accepted), MAX(engaged), MAX(completed), MAX(escalated), MAX(formal_outcome),
    MAX(decision_route), MAX(diverted_again), MAX(decision_formal)
FROM monitoring_journeys
GROUP BY encounter_id, person_id, encounter_day, area, organisation_id
"""


def _rebuild_journeys() -> None:
    if op.get_bind().dialect.name == "postgresql":
        day = "CAST(to_char(e.occurred_at AT TIME ZONE 'Europe/London', 'YYYYMMDD') AS INTEGER)"
    else:
        # SQLite keeps timestamps as naive UTC text and has no time zones: divert/app/db.py registers
        # uk_day (clock.uk_day_number) on every connection, this one included.
        day = "CAST(uk_day(e.occurred_at) AS INTEGER)"
    op.execute("DELETE FROM monitoring_encounters")
    op.execute("DELETE FROM monitoring_journeys")
    op.execute(_PROGRAMME_ROWS.format(day=day))
    op.execute(_ENCOUNTER_ROWS)


def downgrade() -> None:
    for table in ("monitoring_encounters", "monitoring_journeys"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for point in reversed(_POINTS):
                batch_op.drop_column(point)
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        for name in reversed(_MILESTONES):
            batch_op.drop_column(name)
    with op.batch_alter_table("referral_events", schema=None) as batch_op:
        batch_op.drop_column("reason_code")
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.drop_column("override_reason_code")
        batch_op.drop_column("in_population")
    # The journey rows keep UK days: `flask monitoring-rebuild` with the code of 0016 writes UTC ones.
