"""``flask --app divert create-token``: a token for a user, printed once."""

from __future__ import annotations

import click
from flask import Flask
from sqlalchemy import func, select

from divert.api import tokens
from divert.app.extensions import db
from divert.models import User
from divert.pathways.errors import OperationError


def register_token_command(app: Flask) -> None:
    @app.cli.command("create-token")
    @click.option("--email", required=True, help="The user the token acts as.")
    @click.option("--name", required=True, help="What the token is for, e.g. the partner system.")
    @click.option("--days", type=click.IntRange(min=1), default=None, help="Expire after this many days.")
    def create_token(email: str, name: str, days: int | None) -> None:
        """Create an API token for a user and print it. It is stored hashed and never shown again."""
        session = db.session
        user = session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
        if user is None:
            raise click.ClickException(f"No user with the email address {email}")
        try:
            issued = tokens.create(session, user, name, created_by=None, days=days)
        except OperationError as error:
            session.rollback()
            raise click.ClickException(str(error)) from None
        session.commit()
        click.echo(f"Token for {user.email} ({user.role}), named {issued.token.name!r}:")
        click.echo(issued.secret)
        click.echo("Copy it now: it is stored hashed and cannot be shown again.")
