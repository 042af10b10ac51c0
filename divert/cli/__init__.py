"""Command-line tasks: ``flask --app divert <command>``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import click
from alembic.util import CommandError
from flask import Flask, current_app
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import OperationalError

from divert.app import migrate
from divert.app.extensions import db
from divert.cli.api import register_token_command
from divert.cli.importing import register_import_command
from divert.cli.monitoring import as_date, register_monitoring_commands
from divert.cli.retention import register_retention_commands
from divert.cli.simulate import register_simulate_command
from divert.cli.sweep import register_sweep_command
from divert.models import ROLES, EncounterJourney, Organisation, Programme, ProgrammeVersion
from divert.monitoring import cache, journeys
from divert.pathways.errors import OperationError
from divert.pathways.programmes import PROGRAMMES_DIR, assign_operator, sync_definitions
from divert.pathways.users import create_user
from divert.rules import DefinitionError, load_definition, load_directory
from divert.rules.codes import ORGANISATION_KINDS
from divert.seeding.reference import load_reference_data


def _engine() -> Engine:
    if db.engine is None:
        raise click.ClickException("The database is not configured.")
    return db.engine


@contextmanager
def _database_errors() -> Iterator[None]:
    """A database that cannot be reached, or a revision Alembic does not know, is a message."""
    try:
        yield
    except OperationalError as error:
        raise click.ClickException(
            f"Cannot use the database ({str(error.orig).strip().splitlines()[0]}). "
            "Check DATABASE_URL and that the server is running."
        ) from None
    except CommandError as error:
        raise click.ClickException(str(error)) from None


def _one_of(choices: tuple[str, ...], what: str) -> Callable[[click.Context, click.Parameter, str], str]:
    """A check that names every accepted value, as ``Role must be one of: ...``."""

    def check(ctx: click.Context, param: click.Parameter, value: str) -> str:
        if value not in choices:
            raise click.BadParameter(f"{what} must be one of: {', '.join(choices)} (not {value!r})")
        return value

    return check


def register_commands(app: Flask) -> None:
    register_sweep_command(app)
    register_monitoring_commands(app)
    register_simulate_command(app)
    register_token_command(app)
    register_import_command(app)
    register_retention_commands(app)

    @app.cli.command("init-db")
    def init_db() -> None:
        """Bring the schema to the latest migration and load reference data. Safe to run again."""
        with _database_errors():
            migrate.upgrade(_engine())
        session = db.session
        counts = load_reference_data(session)
        try:
            programmes = sync_definitions(session)
        except (OperationError, DefinitionError) as error:
            session.rollback()
            raise click.ClickException(str(error)) from None
        session.commit()
        added = sum(1 for r in programmes if r.status == "added")
        click.echo(f"Database at {migrate.current_revision(_engine())}; reference data: {counts}")
        click.echo(f"Programme definitions: {len(programmes)} versions ({added} newly loaded)")

    @app.cli.command("monitoring-rebuild")
    def monitoring_rebuild() -> None:
        """Work every encounter's monitoring journey out again from its decisions and cases.

        The rows are kept up to date by the app itself; this is for after changing data outside
        it (a restore, a hand-made correction in SQL) or loading rows in bulk with COPY.
        """
        session = db.session
        journeys.rebuild_all(session.connection())
        # Data changed outside the app changed the figures without a note: kept releases go.
        cache.note_change(session)
        session.commit()
        count = session.scalar(select(func.count()).select_from(EncounterJourney))
        click.echo(f"Rebuilt the monitoring journeys of {count} encounters.")

    @app.cli.command("seed-demo")
    @click.option("--seed", type=int, default=None, help="Random seed (default from seeds/demo.yaml).")
    def seed_demo_command(seed: int | None) -> None:
        """Create demo users and synthetic people and encounters (local use only). Idempotent."""
        from divert.seeding.demo import seed_demo

        if current_app.config["ENV_NAME"] == "production":
            raise click.ClickException("Demo data is never loaded in production.")
        result = seed_demo(db.session, seed=seed)
        db.session.commit()
        db.refresh_statistics()
        click.echo(
            f"{'Created' if result.created else 'Already present'}: {result.organisations} organisations, "
            f"{result.people} people, {result.encounters} encounters."
        )
        click.echo("Demo sign-ins (local use only):")
        for role, email, password in result.users:
            click.echo(f"  {role:<20} {email:<40} {password}")

    @app.cli.command("create-user")
    @click.option("--email", required=True)
    @click.option("--name", required=True)
    @click.option(
        "--role",
        required=True,
        # Checked when the user is made: a programme definition may declare roles for the
        # organisation's kind beyond the built-in ones (issue 14).
        help=f"One of: {', '.join(ROLES)}, or a role a programme definition declares.",
    )
    @click.option("--organisation", "organisation_code", required=True, help="Organisation code, e.g. tvp.")
    @click.option("--organisation-name", default=None, help="Creates the organisation if it does not exist.")
    @click.option(
        "--organisation-kind",
        default="police_force",
        show_default=True,
        callback=_one_of(ORGANISATION_KINDS, "Organisation kind"),
        help="For a new organisation. 'service' is the installation's operator: its administrators "
        "are the system administrators, who create organisations in the browser.",
    )
    @click.password_option()
    def create_user_command(
        email: str,
        name: str,
        role: str,
        organisation_code: str,
        organisation_name: str | None,
        organisation_kind: str,
        password: str,
    ) -> None:
        """Create a user (and, with --organisation-name, their organisation).

        The first system administrator: ``--role admin --organisation-kind service``.
        """
        if "@" not in email.strip(" @"):
            raise click.BadParameter(f"{email!r} is not an email address", param_hint="--email")
        if not name.strip():
            raise click.BadParameter("Enter the user's full name", param_hint="--name")
        session = db.session
        with _database_errors():
            org = session.scalar(select(Organisation).where(Organisation.code == organisation_code))
        if org is None:
            if not organisation_name:
                raise click.UsageError(
                    f"No organisation with code {organisation_code!r}; pass --organisation-name to create it."
                )
            org = Organisation(code=organisation_code, name=organisation_name, kind=organisation_kind)
            session.add(org)
        try:
            user = create_user(
                session, email=email, name=name, role=role, password=password, organisation=org
            )
        except OperationError as error:
            session.rollback()
            raise click.ClickException(str(error)) from None
        session.commit()
        click.echo(f"Created {user.role} {user.email} in {org.name}.")

    @app.cli.group("programmes")
    def programmes_group() -> None:
        """Programme definitions: validate the files, load them, list what is stored."""

    @programmes_group.command("validate")
    @click.argument(
        "directory", type=click.Path(exists=True, file_okay=False, path_type=Path), default=PROGRAMMES_DIR
    )
    def programmes_validate(directory: Path) -> None:
        """Check every definition file; errors name the file, the field and what is wrong."""
        failures = 0
        for path in sorted(directory.glob("*.y*ml")):
            try:
                definition = load_definition(path)
            except DefinitionError as error:
                failures += 1
                click.echo(str(error), err=True)
            else:
                click.echo(f"ok  {path.name}: {definition.code} version {definition.version}")
        if failures:
            raise click.ClickException(f"{failures} definition file(s) have errors")
        try:
            load_directory(directory)
        except DefinitionError as error:
            raise click.ClickException(str(error)) from None

    @programmes_group.command("load")
    def programmes_load() -> None:
        """Store new definition versions from seeds/programmes (done by init-db too)."""
        try:
            results = sync_definitions(db.session)
        except (OperationError, DefinitionError) as error:
            raise click.ClickException(str(error)) from None
        db.session.commit()
        for result in results:
            click.echo(f"{result.status:<10} {result.code} version {result.version}")

    @programmes_group.command("list")
    def programmes_list() -> None:
        """Every stored programme version, with when it takes effect."""
        rows = db.session.execute(
            select(
                Programme.code,
                ProgrammeVersion.version,
                ProgrammeVersion.effective_from,
                ProgrammeVersion.content_hash,
                ProgrammeVersion.status,
            )
            .join(ProgrammeVersion, ProgrammeVersion.programme_id == Programme.id)
            .order_by(Programme.code, ProgrammeVersion.version)
        ).all()
        if not rows:
            click.echo("No programme definitions loaded; run `flask --app divert init-db`.")
        for code, version, effective_from, digest, status in rows:
            # A draft's date is only the one its file proposed: it takes effect when published.
            when = "draft, not in force" if status == "draft" else f"from {effective_from.isoformat()}"
            click.echo(f"{code:<20} v{version:<3} {when}  {digest[:12]}")

    @programmes_group.command("assign")
    @click.option("--programme", "code", required=True)
    @click.option("--organisation", "organisation_code", required=True)
    @click.option("--role", type=click.Choice(["police", "receiving", "oversight"]), required=True)
    @click.option("--route", default=None, help="For receiving organisations: the route they receive.")
    @click.option(
        "--from",
        "effective_from",
        type=click.DateTime(["%Y-%m-%d"]),
        callback=as_date,
        default=None,
        help="For encounters on or after this day (YYYY-MM-DD); default no start.",
    )
    @click.option(
        "--to",
        "effective_to",
        type=click.DateTime(["%Y-%m-%d"]),
        callback=as_date,
        default=None,
        help="For encounters on or before this day (YYYY-MM-DD); default no end.",
    )
    def programmes_assign(
        code: str,
        organisation_code: str,
        role: str,
        route: str | None,
        effective_from: date | None,
        effective_to: date | None,
    ) -> None:
        """Say which organisation records encounters under, or receives referrals from, a programme."""
        if effective_from and effective_to and effective_to < effective_from:
            raise click.BadParameter("--to must be on or after --from", param_hint="--to")
        programme = db.session.scalar(select(Programme).where(Programme.code == code))
        if programme is None or not programme.versions:
            known = ", ".join(db.session.scalars(select(Programme.code).order_by(Programme.code))) or "none"
            raise click.BadParameter(
                f"No programme with the code {code!r} (stored: {known}; `programmes load` stores them)",
                param_hint="--programme",
            )
        org = db.session.scalar(select(Organisation).where(Organisation.code == organisation_code))
        if org is None:
            raise click.BadParameter(
                f"No organisation with the code {organisation_code!r}", param_hint="--organisation"
            )
        try:
            assign_operator(
                db.session,
                programme,
                org.id,
                role,
                route,
                effective_from=effective_from,
                effective_to=effective_to,
            )
        except OperationError as error:
            raise click.BadParameter(str(error), param_hint="--route") from None
        db.session.commit()
        click.echo(f"{org.name} is now a {role} organisation for {programme.name}.")

    @app.cli.group("db")
    def db_group() -> None:
        """Schema migrations (Alembic) on the app's database."""

    @db_group.command("upgrade")
    @click.argument("revision", default="head")
    def db_upgrade(revision: str) -> None:
        with _database_errors():
            migrate.upgrade(_engine(), revision)

    @db_group.command("downgrade")
    @click.argument("revision")
    def db_downgrade(revision: str) -> None:
        with _database_errors():
            migrate.downgrade(_engine(), revision)

    @db_group.command("revision")
    @click.option("-m", "--message", required=True)
    def db_revision(message: str) -> None:
        """Autogenerate a migration from the models (review it before committing)."""
        with _database_errors():
            migrate.revision(_engine(), message)
