"""``flask --app divert import FILE``: the command-line way in, for files too big for a browser upload."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from flask import Flask
from sqlalchemy import select

from divert.app.extensions import db
from divert.models import Organisation, User, audit
from divert.pathways.importing.operation import ImportFailed, import_file

SHOWN = 50  # problems printed; the rest are counted, since a bad export can have thousands


class _Bars:
    """One click progress bar per stage of the import, opened as each stage starts."""

    def __init__(self) -> None:
        self.stage = ""
        self.bar: Any = None

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage != self.stage:
            self.close()
            self.stage = stage
            self.bar = click.progressbar(range(total), label=f"{stage:<8}", file=sys.stderr)
            self.bar.__enter__()
        self.bar.update(done)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


def register_import_command(app: Flask) -> None:
    @app.cli.command("import")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--user", "email", default=None, help="The importing user's email.")
    @click.option("--organisation", "code", default=None, help="Organisation code, when no user is named.")
    def import_command(file: Path, email: str | None, code: str | None) -> None:
        """Import encounters from a CSV or XLSX file (columns: seeds/import/README.md). All or nothing."""
        session = db.session
        user = organisation = None
        if email:
            user = session.scalar(select(User).where(User.email == email.strip().lower()))
            if user is None:
                raise click.ClickException(f"No user with email {email!r}.")
            organisation = user.organisation
        if code:
            named = session.scalar(select(Organisation).where(Organisation.code == code))
            if named is None:
                raise click.ClickException(f"No organisation with code {code!r}.")
            if organisation is not None and named.id != organisation.id:
                raise click.ClickException(f"{email} is not in organisation {code}.")
            organisation = named
        if organisation is None:
            raise click.ClickException("Name the importing user (--user) or organisation (--organisation).")
        audit.act_as(session, user.id if user else None)
        bars = _Bars()
        try:
            result = import_file(
                session,
                file.read_bytes(),
                file.name,
                organisation_id=organisation.id,
                actor=user,
                progress=bars,
            )
        except ImportFailed as failed:
            bars.close()
            session.rollback()
            for problem in failed.problems[:SHOWN]:
                click.echo(str(problem), err=True)
            more = len(failed.problems) - SHOWN
            if more > 0:
                click.echo(f"... and {more} more.", err=True)
            raise click.ClickException(
                f"{len(failed.problems)} problem(s) found; nothing was imported. "
                "Correct the file and import it again."
            ) from None
        bars.close()
        session.commit()
        db.refresh_statistics()
        click.echo(f"Imported {file.name} into {organisation.name}.")
        click.echo(result.summary())
