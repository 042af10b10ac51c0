"""Why people left the journey, by group: reasons for "not offered", reasons for drop-out, overrides.

Counted per case (encounter × programme), cohort by the encounter's period, grouped in the database.
For all programmes together a case on each programme counts once: these are reasons given on cases,
not people. The published table is two-way (groups × reasons) with both margins and a grand total,
so suppression here protects rows and columns at once (see suppression.py).

- not_offered: cases now in a programme's not-offered state (a terminal state of the "offer" stage),
  by the reason code of the latest step into that state (so a corrected step is not counted).
- declined: cases now in a declined state (a terminal state of the "acceptance" stage), the same way.
- drop_out: cases that ended without completion, by their exit reason where it is a code.
- override: decisions that set another aside, by direction (e.g. "not eligible → eligible") and code.

Free text never reaches these tables. An officer's typed reason can name the person, their PNC ID
or their address, and these tables go to analysts and into published files. Reasons are codes from
the programme definitions (``reason_codes``), shown by their labels; "other", words given without a
code (everything recorded before codes existed), and any code no definition lists are counted in
one "Other (free text)" row. The words stay on the case.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Select, SQLColumnExpression, case, func, literal, select, union_all
from sqlalchemy.orm import Session, aliased

from divert.models import Decision, ProgrammeVersion, Referral, ReferralEvent
from divert.models.programme import compiled
from divert.monitoring.points import ALL_GROUPS, DIMENSIONS
from divert.monitoring.query import (
    Scope,
    frame_by_encounter,
    label_group,
    month_period,
    programme_id,
    reach_programme_ids,
    tune,
)
from divert.monitoring.suppression import DEFAULT_THRESHOLD, Margin, suppress
from divert.rules.definition import IMPORTED_OVERRIDE, IMPORTED_OVERRIDE_LABEL, OTHER_REASON, REASON_KINDS

KINDS = ("not_offered", "declined", "drop_out", "override")
ALL_REASONS = "All reasons"
NO_REASON = "No reason recorded"
FREE_TEXT = "Other (free text)"
# Set by the pathways when a person turns the offer down (pathways/cases.py respond, the import).
DECLINED = "declined"


@dataclass(frozen=True, slots=True)
class ReasonCount:
    period: str
    group: str
    reason: str
    count: int


@dataclass(frozen=True, slots=True)
class ReasonRow:
    programme: str
    period: str
    dimension: str
    kind: str
    group: str
    reason: str
    count: int | None
    suppressed: bool


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """What the programme definitions say: configuration, so read from them, not the cases."""

    not_offered_states: frozenset[str]
    exit_codes: frozenset[str]  # exit reasons that are codes, not someone's words
    declined_states: frozenset[str] = frozenset()
    # Per kind, each code's label (the first version to label a code names it everywhere).
    labels: dict[str, dict[str, str]] = field(default_factory=dict)


def vocabulary(session: Session) -> Vocabulary:
    states: set[str] = set()
    declined: set[str] = set()
    codes = {DECLINED}
    labels: dict[str, dict[str, str]] = {kind: {} for kind in REASON_KINDS}
    labels["override"][IMPORTED_OVERRIDE] = IMPORTED_OVERRIDE_LABEL
    for version in session.scalars(select(ProgrammeVersion).order_by(ProgrammeVersion.id)):
        definition = compiled(version)
        states.update(s.id for s in definition.states if s.stage == "offer" and s.terminal)
        declined.update(s.id for s in definition.states if s.stage == "acceptance" and s.terminal)
        for kind in REASON_KINDS:
            for choice in definition.reasons.get(kind, ()):
                labels[kind].setdefault(choice.code, choice.label)
        codes.update(definition.drop_out_reasons)
        if definition.escalation is not None:
            # An escalation decision that ends a case records its option as the exit reason.
            codes.update(option.id for option in definition.escalation.options)
    return Vocabulary(frozenset(states), frozenset(codes), frozenset(declined), labels)


def not_offered_states(session: Session) -> set[str]:
    """Every programme version's not-offered states."""
    return set(vocabulary(session).not_offered_states)


def _coded(text: SQLColumnExpression[str | None], codes: frozenset[str]) -> ColumnElement[str | None]:
    """The text where it is a code, NULL (no reason) where blank, else the free-text bucket."""
    blank = (func.coalesce(func.trim(text), "") == "", None)
    if not codes:
        return case(blank, else_=literal(FREE_TEXT))
    return case(blank, (text.in_(sorted(codes)), text), else_=literal(FREE_TEXT))


def _code_of(code: Any, words: Any) -> ColumnElement[str | None]:
    """A step's reason code; words with no code (recorded before codes existed) are "other"."""
    typed = func.coalesce(func.trim(words), "") != ""
    return func.coalesce(code, case((typed, literal(OTHER_REASON)), else_=None))


_DIRECTIONS = {
    "same": "Eligibility unchanged (route)",
    "in": "Not eligible → eligible",
    "out": "Eligible → not eligible",
}


def _label(kind: str, raw: str | None, words: Vocabulary) -> str:
    """What a grouped reason is called: a definition's label for its code. "other", and any code no
    definition labels, are the free-text bucket, so nothing but a definition's own label can become
    a heading. Labelled here, after grouping, so the database groups short codes."""
    if kind == "drop_out":
        # Already a code or the free-text bucket (_coded); a definition's label where it gives one.
        code = raw.strip() if raw else ""
        return words.labels["drop_out"].get(code, code) if code else NO_REASON
    if kind == "override":
        direction, _, code = (raw or "").partition("|")
        return f"{_DIRECTIONS.get(direction, _DIRECTIONS['same'])}: {_code_label(words, kind, code)}"
    return _code_label(words, kind, raw)


def _code_label(words: Vocabulary, kind: str, code: str | None) -> str:
    if not code:
        return NO_REASON
    return words.labels.get(kind, {}).get(code, FREE_TEXT)


def _source(session: Session, scope: Scope, kind: str, words: Vocabulary) -> tuple[Any, Any]:
    """The rows to count (one per case or override) with their reason, and their encounter id."""
    stmt: Select[Any]
    if kind == "override":
        d = aliased(Decision, name="d")
        old = aliased(Decision, name="old")
        pv = aliased(ProgrammeVersion, name="pv")
        direction: ColumnElement[str] = case(
            (old.eligible == d.eligible, "same"), (d.eligible.is_(True), "in"), else_="out"
        )
        code = func.coalesce(_code_of(d.override_reason_code, d.override_reason), "")
        stmt = (
            select((direction + literal("|") + code).label("reason"))
            .select_from(d)
            .join(old, old.id == d.overrides_id)
            .join(pv, pv.id == d.programme_version_id)
            # Implied by the join, but said so the planner uses the column's null fraction: it
            # then expects 1% of decisions, not 40%, and looks each one up instead of merging
            # with every decision.
            .where(d.overrides_id.is_not(None))
        )
        return _of_programme(session, scope, stmt, pv.programme_id), d.encounter_id
    r = aliased(Referral, name="r")
    if kind in ("not_offered", "declined"):
        ev = aliased(ReferralEvent, name="ev")
        latest = (
            select(_code_of(ev.reason_code, ev.reason))
            .where(ev.referral_id == r.id, ev.to_state == r.state)
            .order_by(ev.id.desc())
            .limit(1)
            .correlate(r)
            .scalar_subquery()
        )
        ending = words.not_offered_states if kind == "not_offered" else words.declined_states
        stmt = select(latest.label("reason")).select_from(r).where(r.state.in_(sorted(ending)))
    elif kind == "drop_out":
        stmt = (
            select(_coded(r.exit_reason, words.exit_codes).label("reason"))
            .select_from(r)
            .where(r.exit_reason.is_not(None), r.completed_at.is_(None))
        )
    else:
        raise ValueError(f"Unknown breakdown '{kind}'; choose one of {', '.join(KINDS)}")
    return _of_programme(session, scope, stmt, r.programme_id), r.encounter_id


def _of_programme(session: Session, scope: Scope, stmt: Select[Any], column: Any) -> Select[Any]:
    """Cases of the report's programme, or of every programme in its reach."""
    if scope.programme is not None:
        return stmt.where(column == programme_id(session, scope.programme))
    reachable = reach_programme_ids(scope)
    return stmt if reachable is None else stmt.where(column.in_(reachable))


def count_reasons(session: Session, scope: Scope, kind: str) -> list[ReasonCount]:
    return count_all_reasons(session, scope, (kind,))[kind]


def count_all_reasons(
    session: Session,
    scope: Scope,
    kinds: Sequence[str] = KINDS,
    *,
    whole_range: str | None = None,
    words: Vocabulary | None = None,
) -> dict[str, list[ReasonCount]]:
    """Every kind's reasons by period and group in one query: one pass over the journeys and people.

    With ``whole_range`` (the label of the report's range), reasons are counted over the whole
    range in the database instead of per period: what the page shows, in far fewer rows.
    """
    tune(session)
    words = words or vocabulary(session)  # given by a caller counting many scopes (release.py)
    parts = []
    for kind in kinds:
        stmt, encounter_id = _source(session, scope, kind, words)
        parts.append(stmt.add_columns(literal(kind).label("kind"), encounter_id.label("encounter_id")))
    source = union_all(*parts).subquery("src")
    framed = frame_by_encounter(
        session, scope, select(source.c.kind, source.c.reason).select_from(source), source.c.encounter_id
    ).subquery("b")
    reason = framed.c.reason
    # Over the whole range, or per month as well.
    months = [framed.c.ym] if whole_range is None else []
    grouped = select(
        framed.c.kind, framed.c.grp, reason.label("reason"), *months, func.count().label("n")
    ).group_by(framed.c.kind, framed.c.grp, reason, *months)
    totals: dict[tuple[str, str, str, str], int] = defaultdict(int)
    for row in session.execute(grouped):
        period = whole_range if whole_range is not None else month_period(int(row.ym), scope.period)
        why = _label(str(row.kind), row.reason, words)
        totals[(str(row.kind), period, label_group(scope.dimension, row.grp), why)] += int(row.n)
    found: dict[str, list[ReasonCount]] = {kind: [] for kind in kinds}
    for (kind, period, group, why), n in sorted(totals.items()):
        found[kind].append(ReasonCount(period, group, why, n))
    return found


def reason_rows(
    scope: Scope,
    kind: str,
    counts: Sequence[ReasonCount],
    groups: Sequence[str],
    *,
    published: bool = False,
    threshold: int = DEFAULT_THRESHOLD,
    hidden_in_release: Callable[[str, str], bool] | None = None,
) -> list[ReasonRow]:
    """Groups × reasons per period, with "All" and "All reasons" margins; suppressed when published.

    ``hidden_in_release(group, reason)`` says which cells the linked release hides (release.py);
    without it the table is suppressed on its own (for tests of the table alone).
    """
    reasons = sorted({c.reason for c in counts})
    periods = sorted({c.period for c in counts})
    programme = scope.programme or "all"
    rows: list[ReasonRow] = []
    for period in periods:
        table: dict[tuple[str, str], int] = {}
        for group in groups:
            for reason in reasons:
                table[group, reason] = 0
        for c in counts:
            if c.period == period:
                table[c.group, c.reason] = c.count
        groups_here = [*groups, *sorted({g for g, _ in table} - set(groups))]
        for group in groups_here:
            table[group, ALL_REASONS] = sum(table.get((group, r), 0) for r in reasons)
        for reason in [*reasons, ALL_REASONS]:
            table[ALL_GROUPS, reason] = sum(table.get((g, reason), 0) for g in groups_here)
        margins = [
            Margin((g, ALL_REASONS), tuple((g, r) for r in reasons)) for g in [*groups_here, ALL_GROUPS]
        ]
        margins += [
            Margin((ALL_GROUPS, r), tuple((g, r) for g in groups_here)) for r in [*reasons, ALL_REASONS]
        ]
        hidden: frozenset[tuple[str, str]] = frozenset()
        if published and hidden_in_release is not None:
            hidden = frozenset(c for c, n in table.items() if hidden_in_release(*c) or 0 < n < threshold)
        elif published:
            hidden = suppress(table, margins, threshold)
        for group in [*groups_here, ALL_GROUPS]:
            for reason in [*reasons, ALL_REASONS]:
                value = table.get((group, reason), 0)
                shown = (group, reason) not in hidden
                rows.append(
                    ReasonRow(
                        programme,
                        period,
                        DIMENSIONS[scope.dimension].name,
                        kind,
                        group,
                        reason,
                        value if shown else None,
                        not shown,
                    )
                )
    return rows
