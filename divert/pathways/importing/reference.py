"""The codes and programme versions a file is checked against, read once per import.

Checking 100,000 rows against the database row by row would be 100,000 queries; the reference
tables are small, so they are loaded whole and the checks stay pure.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from divert.models import EthnicityCode, OffenceCategory, OutcomeCode, Programme, ProgrammeVersion
from divert.models.programme import PUBLISHED, compiled
from divert.rules import ProgrammeDefinition


@dataclass(frozen=True)
class ProgrammeInfo:
    programme: Programme
    versions: tuple[ProgrammeVersion, ...]  # oldest first

    # Each day's answer, worked out once: a file's rows fall on a few hundred days.
    _by_day: dict[date, ProgrammeVersion | None] = field(default_factory=dict, compare=False, repr=False)

    def in_force(self, on: date) -> ProgrammeVersion | None:
        """As ``version_in_force``: the latest to take effect on or before ``on``."""
        if on in self._by_day:
            return self._by_day[on]
        eligible = [v for v in self.versions if v.effective_from <= on]
        found = max(eligible, key=lambda v: (v.effective_from, v.version)) if eligible else None
        self._by_day[on] = found
        return found


@dataclass(frozen=True)
class Reference:
    self_defined: frozenset[str]
    officer_defined: frozenset[str]
    outcome_codes: frozenset[int]
    offences: frozenset[str]
    programmes: dict[str, ProgrammeInfo]


def load_reference(session: Session) -> Reference:
    ethnicities = session.execute(select(EthnicityCode.code, EthnicityCode.scheme)).all()
    # Drafts never decide an encounter, imported or recorded.
    versions = session.scalars(
        select(ProgrammeVersion)
        .where(ProgrammeVersion.status == PUBLISHED)
        .order_by(ProgrammeVersion.version)
    ).all()
    programmes = {
        p.code: ProgrammeInfo(p, tuple(v for v in versions if v.programme_id == p.id))
        for p in session.scalars(select(Programme))
    }
    return Reference(
        self_defined=frozenset(code for code, scheme in ethnicities if scheme == "self_defined"),
        officer_defined=frozenset(code for code, scheme in ethnicities if scheme == "officer_defined"),
        outcome_codes=frozenset(session.scalars(select(OutcomeCode.code))),
        offences=frozenset(session.scalars(select(OffenceCategory.slug).where(OffenceCategory.active))),
        programmes=programmes,
    )


_routing_only: dict[tuple[int, str], ProgrammeDefinition] = {}


def routing_only(version: ProgrammeVersion) -> ProgrammeDefinition:
    """The definition without its eligibility rules, so ``decide`` returns only the route.

    A file can record someone as eligible whom the rules found not eligible; their case still needs
    the route the programme's routing rules give, which ``decide`` only works out for the eligible.
    """
    key = (version.id, version.content_hash)
    if key not in _routing_only:
        _routing_only[key] = replace(compiled(version), eligibility=())
    return _routing_only[key]
