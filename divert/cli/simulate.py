"""``flask --app divert simulate``: what a draft definition would have decided, as CSV, for
scheduled or scripted use (an Equality Impact Assessment, a scrutiny panel's pack)."""

from __future__ import annotations

import csv
import sys
from datetime import date, datetime
from pathlib import Path

import click
from flask import Flask, current_app

from divert.app.db import reading_only
from divert.app.extensions import db
from divert.background.simulations import SimulationRefused, simulate
from divert.cli.monitoring import as_date
from divert.monitoring.points import DIMENSIONS
from divert.monitoring.query import Scope
from divert.monitoring.simulation import COLUMNS, result_rows
from divert.monitoring.suppression import DEFAULT_THRESHOLD
from divert.pathways.errors import OperationError
from divert.rules.definition import DefinitionError
from divert.rules.loader import parse_definition


def register_simulate_command(app: Flask) -> None:
    if "simulate" in app.cli.commands:
        return

    @app.cli.command("simulate")
    @click.option("--programme", required=True, help="The programme's code; the draft must be of it.")
    @click.option("--draft", "draft_path", required=True, type=click.Path(exists=True, dir_okay=False))
    @click.option("--from", "date_from", type=click.DateTime(["%Y-%m-%d"]), callback=as_date, default=None)
    @click.option("--to", "date_to", type=click.DateTime(["%Y-%m-%d"]), callback=as_date, default=None)
    @click.option(
        "--dimension", type=click.Choice(tuple(DIMENSIONS)), default="ethnicity_group", show_default=True
    )
    @click.option("--reference", default=None, help="Reference group for the RRI (default per dimension).")
    @click.option("--published", is_flag=True, help="Suppress small numbers, as for publication.")
    @click.option("--output", required=True, type=click.Path(dir_okay=False, writable=True))
    def simulate_command(
        programme: str,
        draft_path: str,
        date_from: date | None,
        date_to: date | None,
        dimension: str,
        reference: str | None,
        published: bool,
        output: str,
    ) -> None:
        """Replay the programme's stored decisions under the draft and the version in force.

        One row per group and point: group, point, current_count, draft_count, base_current,
        base_draft, rate_current, rate_draft, rri_current, rri_draft, changed_in, changed_out,
        cannot_tell. Nothing in the database changes."""
        if date_from and date_to and date_from > date_to:
            raise click.BadParameter("--from must be on or before --to")
        try:
            draft = parse_definition(Path(draft_path).read_text(encoding="utf-8"), draft_path)
        except DefinitionError as error:
            raise click.ClickException(f"The draft is not a valid definition: {error}") from None
        except UnicodeDecodeError:
            raise click.BadParameter("The draft must be a UTF-8 YAML file", param_hint="--draft") from None
        if draft.code != programme:
            raise click.BadParameter(
                f"The draft is of '{draft.code}', not '{programme}'", param_hint="--draft"
            )
        threshold = (
            int(current_app.config.get("MONITORING_SUPPRESSION_THRESHOLD", DEFAULT_THRESHOLD))
            if published
            else 1
        )
        scope = Scope(dimension=dimension, programme=programme, date_from=date_from, date_to=date_to)
        last = [0.0]

        def progress(done: int) -> None:
            now = datetime.now().timestamp()
            if now - last[0] >= 1:
                last[0] = now
                click.echo(f"\r{done:,} decisions replayed", nl=False, err=True)

        try:
            with reading_only():
                result = simulate(
                    db.session, draft, scope, reference=reference, threshold=threshold, progress=progress
                )
                db.session.rollback()
        except (SimulationRefused, OperationError) as error:
            raise click.ClickException(str(error)) from None
        click.echo("", err=True)
        with open(output, "w", newline="", encoding="utf-8") as out:
            writer = csv.DictWriter(out, fieldnames=COLUMNS)
            writer.writeheader()
            for row in result_rows(result):
                writer.writerow({k: "" if v is None else v for k, v in row.items()})
        changed = "some" if result.shown_changed is None else f"{result.shown_changed:,}"
        click.echo(
            f"Replayed {result.decisions:,} decisions of {programme}: {changed} would change"
            f"{'' if not result.cannot_tell else f', {result.cannot_tell:,} cannot tell'}; wrote {output}",
            file=sys.stdout,
        )
