"""``flask --app divert sweep``: the non-engagement sweep by hand. The worker runs it nightly."""

from __future__ import annotations

from datetime import datetime

import click
from flask import Flask

from divert.background.sweep import run_sweep


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
        """Flag open cases that meet a non-engagement criterion. Changes no case; safe to run again.

        Takes the same lock as the worker's nightly sweep, so the two never run at once."""
        report = run_sweep(as_of.date() if as_of else None)
        if report is None:
            raise click.ClickException("A sweep is already running; nothing was done.")
        kinds = ", ".join(f"{kind} {count}" for kind, count in report.by_kind.items()) or "none"
        click.echo(f"Open cases checked as of {report.as_of.isoformat()}: {report.cases_checked}")
        click.echo(f"Flags raised: {report.flags_raised} ({kinds}).")

    @app.cli.command("worker")
    @click.option("--workers", default=2, show_default=True, help="Tasks run at once (threads).")
    def worker_command(workers: int) -> None:
        """Run the background worker: queued imports, and the sweep every night at SWEEP_AT."""
        import logging

        from divert.app.jobs import huey

        # Huey says what it runs and what fails; without a handler it would say nothing.
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
        huey.immediate = False
        consumer = huey.create_consumer(workers=workers, worker_type="thread", periodic=True)
        click.echo(
            f"Worker started ({workers} threads); the sweep runs daily at {app.config['SWEEP_AT']} UK time."
        )
        consumer.run()
