"""Policy simulations: a draft version replayed against the real history, in the background.

``simulate`` is the one way a simulation is run (the worker's task, the command line and the
tests call it); it reads and never writes. The task stores the result on its own row
(``models.simulation``), so a simulation changes no case, decision or published figure.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from divert.app.clock import today
from divert.models import Programme
from divert.models.programme import compiled
from divert.monitoring.query import Scope
from divert.monitoring.simulation import SimulationResult, replay, stored_rows, summarise
from divert.monitoring.suppression import DEFAULT_THRESHOLD
from divert.pathways.programmes import version_in_force
from divert.rules.definition import ProgrammeDefinition


class SimulationRefused(ValueError):
    """A simulation that cannot be run as asked, with the reason in words."""


def simulate(
    session: Session,
    draft: ProgrammeDefinition,
    scope: Scope,
    *,
    reference: str | None = None,
    threshold: int = DEFAULT_THRESHOLD,
    progress: Callable[[int], None] | None = None,
) -> SimulationResult:
    """Every stored rules decision of the draft's programme in ``scope``, decided again under the
    version in force today and under ``draft``, tallied by the scope's dimension."""
    programme = session.scalar(select(Programme).where(Programme.code == draft.code))
    if programme is None:
        raise SimulationRefused(
            f"No programme has the code '{draft.code}': a draft replays its own programme's history"
        )
    baseline = compiled(version_in_force(session, programme, today()))
    scope = Scope(
        dimension=scope.dimension,
        period=scope.period,
        programme=programme.code,
        date_from=scope.date_from,
        date_to=scope.date_to,
        reach=scope.reach,
    )
    tally = replay(stored_rows(session, programme.code, scope), baseline, draft, progress)
    return summarise(tally, scope.dimension, reference, threshold)
