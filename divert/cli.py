"""Command-line tasks: ``flask --app divert <command>``."""

from __future__ import annotations

import click
from flask import Flask, current_app
from sqlalchemy import Engine, select

from . import migrate
from .extensions import db
from .models import Organisation
from .pathways.errors import OperationError
from .pathways.users import create_user
from .seeding import load_reference_data


def _engine() -> Engine:
    if db.engine is None:
        raise click.ClickException("The database is not configured.")
    return db.engine


def register_commands(app: Flask) -> None:
    @app.cli.command("init-db")
    def init_db() -> None:
        """Bring the schema to the latest migration and load reference data. Safe to run again."""
        migrate.upgrade(_engine())
        session = db.session
        counts = load_reference_data(session)
        session.commit()
        click.echo(f"Database at {migrate.current_revision(_engine())}; reference data: {counts}")

    @app.cli.command("seed-demo")
    @click.option("--seed", type=int, default=None, help="Random seed (default from seeds/demo.yaml).")
    def seed_demo_command(seed: int | None) -> None:
        """Create demo users and synthetic people and encounters (local use only). Idempotent."""
        from .demo import seed_demo

        if current_app.config["ENV_NAME"] == "production":
            raise click.ClickException("Demo data is never loaded in production.")
        result = seed_demo(db.session, seed=seed)
        db.session.commit()
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
    @click.option("--role", required=True)
    @click.option("--organisation", "organisation_code", required=True, help="Organisation code, e.g. tvp.")
    @click.option("--organisation-name", default=None, help="Creates the organisation if it does not exist.")
    @click.option("--organisation-kind", default="police_force")
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
        """Create a user (and, with --organisation-name, their organisation)."""
        session = db.session
        org = session.scalar(select(Organisation).where(Organisation.code == organisation_code))
        if org is None:
            if not organisation_name:
                raise click.ClickException(
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

    @app.cli.group("db")
    def db_group() -> None:
        """Schema migrations (Alembic) on the app's database."""

    @db_group.command("upgrade")
    @click.argument("revision", default="head")
    def db_upgrade(revision: str) -> None:
        migrate.upgrade(_engine(), revision)

    @db_group.command("downgrade")
    @click.argument("revision")
    def db_downgrade(revision: str) -> None:
        migrate.downgrade(_engine(), revision)

    @db_group.command("revision")
    @click.option("-m", "--message", required=True)
    def db_revision(message: str) -> None:
        """Autogenerate a migration from the models (review it before committing)."""
        migrate.revision(_engine(), message)
