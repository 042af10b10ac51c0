"""``flask --app divert monitoring-export``: the monitoring report as CSV, for scheduled publication."""

from __future__ import annotations

from datetime import date, datetime

import click
from flask import Flask, current_app
from sqlalchemy import select

from divert.app.extensions import db
from divert.models import Organisation, Programme
from divert.monitoring.export import export, scope_line
from divert.monitoring.points import DIMENSIONS, PERIODS
from divert.monitoring.query import Scope, reach_of
from divert.monitoring.report import Options
from divert.monitoring.suppression import DEFAULT_THRESHOLD


def as_date(ctx: click.Context, param: click.Parameter, value: datetime | None) -> date | None:
    return value.date() if value is not None else None


def register_monitoring_commands(app: Flask) -> None:
    """Add ``flask monitoring-export``; safe to call twice (the second call does nothing)."""
    if "monitoring-export" in app.cli.commands:
        return

    @app.cli.command("monitoring-export")
    @click.option("--output", required=True, type=click.Path(dir_okay=False, writable=True))
    @click.option("--programme", default=None, help="Programme code; omit for all programmes and each.")
    @click.option("--from", "date_from", type=click.DateTime(["%Y-%m-%d"]), callback=as_date, default=None)
    @click.option("--to", "date_to", type=click.DateTime(["%Y-%m-%d"]), callback=as_date, default=None)
    @click.option("--period", type=click.Choice(PERIODS), default="quarter", show_default=True)
    @click.option(
        "--dimension", type=click.Choice(tuple(DIMENSIONS)), default="ethnicity_group", show_default=True
    )
    @click.option("--reference", default=None, help="Reference group for the RRI (default per dimension).")
    @click.option("--published", is_flag=True, help="Suppress small numbers, as for publication.")
    @click.option(
        "--organisation",
        "organisation_code",
        default=None,
        help="Organisation code: only the programmes it runs or receives, and its own encounters "
        "(what its analysts see). Omit for every organisation's figures.",
    )
    def monitoring_export(
        output: str,
        programme: str | None,
        date_from: date | None,
        date_to: date | None,
        period: str,
        dimension: str,
        reference: str | None,
        published: bool,
        organisation_code: str | None,
    ) -> None:
        """Export counts, rates and Relative Rate Indexes by decision point as CSV."""
        if date_from and date_to and date_from > date_to:
            raise click.BadParameter("--from must be on or before --to")
        threshold = int(current_app.config.get("MONITORING_SUPPRESSION_THRESHOLD", DEFAULT_THRESHOLD))
        session = db.session
        if (
            programme is not None
            and session.scalar(select(Programme.id).where(Programme.code == programme)) is None
        ):
            raise click.BadParameter(f"No programme with the code '{programme}'", param_hint="--programme")
        reach = None
        if organisation_code is not None:
            organisation = session.scalar(select(Organisation).where(Organisation.code == organisation_code))
            if organisation is None:
                raise click.BadParameter(
                    f"No organisation with the code '{organisation_code}'", param_hint="--organisation"
                )
            reach = reach_of(session, organisation)
            if programme is not None and programme not in {code for code, _ in reach.programmes}:
                raise click.BadParameter(
                    f"{organisation.name} neither runs nor receives '{programme}'", param_hint="--programme"
                )
        scope = Scope(dimension, period, programme, date_from, date_to, reach)
        try:
            with open(output, "w", newline="", encoding="utf-8") as out:
                notes = export(session, out, scope, Options(reference, published, threshold))
        except ValueError as error:
            raise click.ClickException(str(error)) from None
        except OSError as error:
            message = f"Cannot write {output}: {error.strerror}"
            raise click.BadParameter(message, param_hint="--output") from None
        click.echo(f"Wrote {output}{' (published: small numbers suppressed)' if published else ''}.")
        click.echo(scope_line(reach).removeprefix("# "))
        for note in notes:
            click.echo(f"Note: {note}")
