"""The demo shows the work: a supervisor everywhere, each force's own officers, case dates that
follow their encounters, and flags already raised."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from divert.models import CaseFlag, Encounter, Organisation, Referral, ReferralEvent, User


def test_the_demo_looks_like_a_service_in_use(app: Flask, db_session: Session) -> None:
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    organisations = db_session.scalars(select(Organisation)).all()
    supervised = set(db_session.scalars(select(User.organisation_id).where(User.role == "supervisor")))
    assert {org.id for org in organisations} <= supervised

    # Every encounter was recorded by an officer of the force it belongs to.
    recorded = db_session.execute(
        select(Encounter.organisation_id, User.organisation_id).join(User, User.id == Encounter.officer_id)
    ).all()
    unrecorded = db_session.scalar(select(func.count()).where(Encounter.officer_id.is_(None)))
    assert unrecorded == 0 and recorded and all(force == own for force, own in recorded)
    forces = {force for force, _ in recorded}
    assert len(forces) == 4

    # Cases open after their encounter, and every step follows the one before.
    rows = db_session.execute(
        select(Referral.id, Referral.opened_at, Encounter.occurred_at).join(Encounter)
    ).all()
    assert rows and all(encounter < opened for _, opened, encounter in rows)
    days = {opened.date() for _, opened, _ in rows}
    assert len(days) > 50  # not all on the day the seed ran
    events = db_session.execute(
        select(ReferralEvent.referral_id, ReferralEvent.occurred_at)
        .where(ReferralEvent.kind != "flag_raised")
        .order_by(ReferralEvent.referral_id, ReferralEvent.id)
    ).all()
    opened = {referral_id: at for referral_id, at, _ in rows}
    for referral_id, at in events:
        assert at >= opened[referral_id]

    # The sweep ran at the end: open cases with no first contact are flagged.
    assert (db_session.scalar(select(func.count()).select_from(CaseFlag)) or 0) > 0

    # On SQLite the planner has figures for what was just loaded (db.refresh_statistics), not the
    # empty tables the migrations saw. (PostgreSQL's own autovacuum keeps them there.)
    if db_session.get_bind().dialect.name == "sqlite":
        analyzed = set(db_session.scalars(text("SELECT DISTINCT tbl FROM sqlite_stat1")))
        assert {"people", "encounters", "referrals"} <= analyzed
