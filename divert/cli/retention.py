"""``flask --app divert retention review|apply``: the retention review from the command line, for
a scheduled run. ``review`` changes nothing; ``apply --confirm`` carries out what is due."""

from __future__ import annotations

from datetime import date, datetime

import click
from flask import Flask, current_app
from sqlalchemy import select

from divert.app.clock import today
from divert.app.extensions import db
from divert.background.retention import carry_out, start_retention
from divert.models import Job, Organisation, User, audit
from divert.pathways.errors import OperationError
from divert.pathways.retention import Review, retention_from_settings, review


def _as_of(value: datetime | None) -> date:
    return value.date() if value is not None else today()


def _organisation_id(code: str | None) -> int | None:
    if code is None:
        return None
    found = db.session.scalar(select(Organisation.id).where(Organisation.code == code.strip()))
    if found is None:
        raise click.ClickException(f"No organisation with the code {code!r}.")
    return found


def _review(as_of: date, organisation_id: int | None) -> Review:
    try:
        rules = retention_from_settings(db.session, current_app.config)
    except OperationError as error:
        raise click.ClickException(str(error)) from None
    return review(db.session, rules, as_of, organisation_id)


def _print_counts(found: Review) -> None:
    click.echo(f"Due for review as of {found.as_of.isoformat()}: {len(found.people)} people")
    if not found.people:
        return
    click.echo(f"  {'Programme':<28} {'Kind':<16} {'Action':<10} People")
    for programme, kind, action, count in found.counts():
        click.echo(f"  {programme:<28} {kind:<16} {action:<10} {count}")


_AS_OF = click.option(
    "--as-of",
    "as_of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Review as of this day (YYYY-MM-DD); default today in Europe/London.",
)
_ORGANISATION = click.option(
    "--organisation", "code", default=None, help="Only the records this organisation holds (its code)."
)


def register_retention_commands(app: Flask) -> None:
    @app.cli.group("retention")
    def retention_group() -> None:
        """Retention review: what is due for anonymisation or erasure, and carrying it out."""

    @retention_group.command("review")
    @_AS_OF
    @_ORGANISATION
    @click.option("--names", is_flag=True, help="List each person due by name (the listing is audited).")
    def review_command(as_of: datetime | None, code: str | None, names: bool) -> None:
        """List what is due, as counts by programme and kind; names only with --names. Changes nothing."""
        found = _review(_as_of(as_of), _organisation_id(code))
        _print_counts(found)
        if names and found.people:
            click.echo("")
            for person in found.people:
                click.echo(
                    f"  {person.person_id:>8}  {person.name:<40} {person.due.action:<10} {person.due.reason}"
                )
            shown = ",".join(str(p.person_id) for p in found.people)
            audit.record(db.session, None, "view", "person", None, detail=f"retention review; shown: {shown}")
            db.session.commit()

    @retention_group.command("apply")
    @_AS_OF
    @_ORGANISATION
    @click.option("--confirm", is_flag=True, help="Required: carry out the anonymisation and erasure due.")
    @click.option(
        "--reason", default="Scheduled retention review", show_default=True, help="Kept in the audit trail."
    )
    @click.option(
        "--user", "email", default=None, help="The administrator this run acts for (default: the system)."
    )
    def apply_command(
        as_of: datetime | None, code: str | None, confirm: bool, reason: str, email: str | None
    ) -> None:
        """Anonymise (or erase, where a rule says so) everyone due, printing the counts."""
        if not confirm:
            raise click.ClickException("Nothing was changed: add --confirm to carry out what is due.")
        if not reason.strip():
            raise click.ClickException("Give a reason (--reason); it goes into the audit trail.")
        actor = None
        if email is not None:
            actor = db.session.scalar(select(User).where(User.email == email.strip().lower()))
            if actor is None:
                raise click.ClickException(f"No user with email {email!r}.")
        day = _as_of(as_of)
        organisation_id = _organisation_id(code)
        found = _review(day, organisation_id)
        _print_counts(found)
        audit.act_as(db.session, actor.id if actor else None)
        job = start_retention(db.session, actor, organisation_id, day, found.ids(), reason.strip())
        db.session.commit()
        carry_out(job.id)
        done = db.session.get(Job, job.id)
        assert done is not None
        result = done.result or {}
        click.echo(
            f"Anonymised: {result.get('anonymised', 0)}; erased: {result.get('erased', 0)}; "
            f"no longer due: {result.get('no_longer_due', 0)} (job {done.id}, {done.status})."
        )
