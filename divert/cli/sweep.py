"""``flask --app divert sweep``: the nightly non-engagement sweep, run from cron."""

from __future__ import annotations

from datetime import datetime

import click
from flask import Flask

from divert.app.clock import today
from divert.app.extensions import db
from divert.pathways.sweep import sweep
from divert.rules import BANK_HOLIDAYS


def register_sweep_command(app: Flask) -> None:
    @app.cli.command("sweep")
    @click.option(
        "--as-of",
        "as_of",
        type=click.DateTime(formats=["%Y-%m-%d"]),
        default=None,
        help="Check as of this day (YYYY-MM-DD); default today in Europe/London.",
    )
    def sweep_command(as_of: datetime | None) -> None:
        """Flag open cases that meet a non-engagement criterion. Changes no case; safe to run again."""
        day = as_of.date() if as_of else today()
        report = sweep(db.session, day, BANK_HOLIDAYS)
        db.session.commit()
        kinds = ", ".join(f"{kind} {count}" for kind, count in report.by_kind.items()) or "none"
        click.echo(f"Open cases checked as of {day.isoformat()}: {report.cases_checked}")
        click.echo(f"Flags raised: {report.flags_raised} ({kinds}).")
