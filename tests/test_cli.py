from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from divert.auth.passwords import verify_password
from divert.models import Encounter, EncounterJourney, EthnicityCode, OutcomeCode, Person, User
from divert.seeding.demo import demo_password


def _count(session: Session, model: Any) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_init_db_is_safe_to_run_again_and_loads_no_people(app: Flask, empty_database: Session) -> None:
    runner = app.test_cli_runner()
    for _ in range(2):
        result = runner.invoke(args=["init-db"])
        assert result.exit_code == 0, result.output
        assert "'ethnicity_codes': 26" in result.output
    assert _count(empty_database, EthnicityCode) == 26
    assert _count(empty_database, OutcomeCode) == 23
    assert _count(empty_database, Person) == 0


def test_seed_demo_is_deterministic_and_idempotent(app: Flask, db_session: Session) -> None:
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    assert "officer@demo.divert.example" in first.output and demo_password("officer") in first.output
    people, encounters = _count(db_session, Person), _count(db_session, Encounter)
    assert people == 300 and encounters > people
    names = db_session.scalars(select(Person.family_name).order_by(Person.id).limit(5)).all()

    again = runner.invoke(args=["seed-demo"])
    assert again.exit_code == 0 and "Already present" in again.output
    assert (_count(db_session, Person), _count(db_session, Encounter)) == (people, encounters)
    assert db_session.scalars(select(Person.family_name).order_by(Person.id).limit(5)).all() == names
    roles = set(db_session.scalars(select(User.role)))
    assert len(roles) == 8


def test_create_user(app: Flask, db_session: Session) -> None:
    runner = app.test_cli_runner()
    args = [
        "create-user",
        "--email",
        "New.Person@Example.org",
        "--name",
        "New Person",
        "--role",
        "navigator",
        "--organisation",
        "durham",
        "--organisation-name",
        "Durham Constabulary",
    ]
    result = runner.invoke(args=args, input="a-long-enough-password\na-long-enough-password\n")
    assert result.exit_code == 0, result.output
    user = db_session.scalars(select(User).where(User.email == "new.person@example.org")).one()
    assert user.role == "navigator" and user.organisation.code == "durham"
    assert user.password_hash.startswith("$argon2id$")
    assert verify_password(user.password_hash, "a-long-enough-password")

    again = runner.invoke(args=args, input="a-long-enough-password\na-long-enough-password\n")
    assert again.exit_code != 0 and "already exists" in again.output

    weak = runner.invoke(args=[*args[:2], "x@example.org", *args[3:]], input="short\nshort\n")
    assert weak.exit_code != 0 and "12 characters" in weak.output
    bad_role = runner.invoke(
        args=[*args[:6], "superhero", *args[7:]], input="a-long-enough-password\na-long-enough-password\n"
    )
    assert bad_role.exit_code != 0 and "Role must be one of" in bad_role.output


def test_monitoring_rebuild_restores_journeys_changed_outside_the_app(
    app: Flask, db_session: Session
) -> None:
    runner = app.test_cli_runner()
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    kept = db_session.execute(
        select(EncounterJourney.encounter_id, EncounterJourney.eligible).order_by(
            EncounterJourney.encounter_id
        )
    ).all()
    db_session.execute(update(EncounterJourney).values(eligible=1 - EncounterJourney.eligible))
    result = runner.invoke(args=["monitoring-rebuild"])
    assert result.exit_code == 0, result.output
    assert f"of {len(kept)} encounters" in result.output
    db_session.expire_all()
    assert (
        db_session.execute(
            select(EncounterJourney.encounter_id, EncounterJourney.eligible).order_by(
                EncounterJourney.encounter_id
            )
        ).all()
        == kept
    )


def test_monitoring_rebuild_fills_the_person_columns(app: Flask, db_session: Session) -> None:
    """After a load that left them empty (a COPY, a restore from before migration 0025)."""
    runner = app.test_cli_runner()
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    columns = (
        EncounterJourney.encounter_id,
        EncounterJourney.self_defined_ethnicity,
        EncounterJourney.gender,
        EncounterJourney.age,
    )
    kept = db_session.execute(select(*columns).order_by(EncounterJourney.encounter_id)).all()
    assert kept and all(row.self_defined_ethnicity and row.gender for row in kept)
    db_session.execute(update(EncounterJourney).values(self_defined_ethnicity=None, gender=None, age=None))
    result = runner.invoke(args=["monitoring-rebuild"])
    assert result.exit_code == 0, result.output
    db_session.expire_all()
    assert db_session.execute(select(*columns).order_by(EncounterJourney.encounter_id)).all() == kept


def test_create_user_mistakes_are_messages_not_tracebacks(app: Flask, db_session: Session) -> None:
    runner = app.test_cli_runner()
    base = ["create-user", "--email", "kim@example.org", "--name", "Kim", "--role", "admin"]
    typed = "a-long-enough-password\na-long-enough-password\n"
    cases = {
        "Organisation kind must be one of: police_force, yot, yju, provider, pcc, scrutiny, service": [
            "--organisation",
            "kent",
            "--organisation-name",
            "Kent Police",
            "--organisation-kind",
            "police",
        ],
        "No organisation with code 'nowhere'; pass --organisation-name to create it": [
            "--organisation",
            "nowhere",
        ],
    }
    for message, extra in cases.items():
        result = runner.invoke(args=[*base, *extra], input=typed)
        assert result.exit_code == 2, result.output
        assert message in result.output and "Traceback" not in result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)
    not_email = runner.invoke(
        args=["create-user", "--email", "kim", *base[3:], "--organisation", "x"], input=typed
    )
    assert not_email.exit_code == 2 and "'kim' is not an email address" in not_email.output
    assert db_session.scalar(select(User).where(User.email == "kim@example.org")) is None


def test_the_first_system_administrator_is_made_on_the_command_line(app: Flask, db_session: Session) -> None:
    runner = app.test_cli_runner()
    args = ["create-user", "--email", "ops@example.org", "--name", "Ops", "--role", "admin"]
    result = runner.invoke(
        args=[
            *args,
            "--organisation",
            "ops",
            "--organisation-name",
            "Divert service",
            "--organisation-kind",
            "service",
        ],
        input="a-long-enough-password\na-long-enough-password\n",
    )
    assert result.exit_code == 0, result.output
    user = db_session.scalars(select(User).where(User.email == "ops@example.org")).one()
    assert user.organisation.kind == "service"


def test_programmes_assign_mistakes_name_the_option(app: Flask, db_session: Session) -> None:
    runner = app.test_cli_runner()
    assert runner.invoke(args=["programmes", "load"]).exit_code == 0
    unknown = runner.invoke(
        args=["programmes", "assign", "--programme", "nope", "--organisation", "x", "--role", "police"]
    )
    assert unknown.exit_code == 2 and "No programme with the code 'nope'" in unknown.output
    assert "--programme" in unknown.output
    no_org = runner.invoke(
        args=["programmes", "assign", "--programme", "divert", "--organisation", "x", "--role", "police"]
    )
    assert no_org.exit_code == 2 and "No organisation with the code 'x'" in no_org.output
    backwards = runner.invoke(
        args=[
            "programmes",
            "assign",
            *("--programme", "divert", "--organisation", "x", "--role", "police"),
            *("--from", "2026-06-01", "--to", "2026-05-01"),
        ]
    )
    assert backwards.exit_code == 2 and "--to must be on or after --from" in backwards.output
    bad_date = runner.invoke(
        args=[
            "programmes",
            "assign",
            "--programme",
            "divert",
            "--organisation",
            "x",
            "--role",
            "police",
            "--from",
            "June",
        ]
    )
    assert bad_date.exit_code == 2 and "'June' does not match the format '%Y-%m-%d'" in bad_date.output


def test_downgrading_to_an_unknown_revision_is_a_message(app: Flask, empty_database: Session) -> None:
    result = app.test_cli_runner().invoke(args=["db", "downgrade", "no-such-revision"])
    assert result.exit_code == 1 and "no-such-revision" in result.output
    assert "Traceback" not in result.output
