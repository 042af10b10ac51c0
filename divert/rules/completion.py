"""Whether a case has what its programme needs for completion: pure, so the page and the step agree.

Completion records an outcome (Outcome 22 for most schemes) that says the activity was done; the
definition's ``completion`` section says what evidence that needs, and this module lists what is missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from divert.rules.definition import CompletionRequirements, ProgrammeDefinition


@dataclass(frozen=True, slots=True)
class CompletionEvidence:
    on: date
    attended: int = 0
    # Missed sessions whose reason the caseworker recorded as acceptable.
    acceptable_absences: int = 0
    # Current contract conditions: (description, met).
    conditions: tuple[tuple[str, bool], ...] = ()
    referred_on: date | None = None
    contract_end: date | None = None


@dataclass(frozen=True, slots=True)
class Unmet:
    requirement: str  # "sessions", "conditions" or "time"
    reason: str
    # Time can be waived by a role in ``early_by`` giving a reason; sessions and conditions cannot.
    waivable: bool = False


@dataclass(frozen=True, slots=True)
class SessionsProgress:
    counted: int
    needed: int

    @property
    def text(self) -> str:
        return f"{self.counted} of {self.needed}"


def sessions_progress(
    definition: ProgrammeDefinition, evidence: CompletionEvidence
) -> SessionsProgress | None:
    needs = definition.completion
    if needs is None or needs.sessions_attended is None:
        return None
    counted = evidence.attended + min(evidence.acceptable_absences, needs.acceptable_absences)
    return SessionsProgress(min(counted, needs.sessions_attended), needs.sessions_attended)


def unmet_requirements(definition: ProgrammeDefinition, evidence: CompletionEvidence) -> list[Unmet]:
    """Every requirement of the programme's completion section not yet met, each with its reason."""
    needs = definition.completion
    if needs is None:
        return []
    unmet: list[Unmet] = []
    progress = sessions_progress(definition, evidence)
    if progress is not None and progress.counted < progress.needed:
        unmet.append(Unmet("sessions", _sessions_reason(definition, needs, progress)))
    if needs.conditions_met:
        if not evidence.conditions:
            unmet.append(Unmet("conditions", "No contract has been signed."))
        open_ = [text for text, met in evidence.conditions if not met]
        if open_:
            unmet.append(Unmet("conditions", f"Contract conditions not yet met: {'; '.join(open_)}."))
    unmet.extend(_time(needs, evidence))
    return unmet


def _sessions_reason(
    definition: ProgrammeDefinition, needs: CompletionRequirements, progress: SessionsProgress
) -> str:
    noun = definition.sessions.label.lower() + "s" if definition.sessions else "sessions"
    more = progress.needed - progress.counted
    text = f"{progress.counted} of {progress.needed} {noun} attended; {more} more needed."
    if needs.acceptable_absences:
        text += f" Up to {needs.acceptable_absences} missed with an acceptable reason count as attended."
    return text


def _time(needs: CompletionRequirements, evidence: CompletionEvidence) -> list[Unmet]:
    unmet = []
    if needs.minimum_days is not None:
        if evidence.referred_on is None:
            unmet.append(Unmet("time", "The case has not been referred yet.", waivable=True))
        else:
            earliest = evidence.referred_on + timedelta(days=needs.minimum_days)
            if evidence.on < earliest:
                unmet.append(
                    Unmet(
                        "time",
                        f"The programme runs for at least {needs.minimum_days} days: "
                        f"completion from {_day(earliest)}.",
                        waivable=True,
                    )
                )
    if needs.until_contract_end:
        if evidence.contract_end is None:
            unmet.append(Unmet("time", "No contract has been signed.", waivable=False))
        elif evidence.on < evidence.contract_end:
            unmet.append(
                Unmet(
                    "time",
                    f"The contract runs until {_day(evidence.contract_end)}.",
                    waivable=True,
                )
            )
    return unmet


def _day(day: date) -> str:
    return f"{day.day} {day:%B %Y}"
