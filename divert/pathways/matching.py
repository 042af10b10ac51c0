"""Finding a person's earlier records, and records that might be theirs.

Two answers, kept apart on purpose. ``same_person_ids`` says which records ARE this person for
history (a merge someone confirmed, a shared PNC ID, an identical name and date of birth) and is
used without asking anyone. ``possible_matches`` only suggests: a typo, a swapped name or a
transposed date is shown to a person to confirm. Nothing here merges anything.

Both look only among the records held by the person's own organisation (``Person.organisation_id``):
another force's record of the same person is that force's, neither its history nor a match.
"""

from __future__ import annotations

import string
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, or_, select
from sqlalchemy.orm import Session, aliased

from divert.models import Encounter, Person
from divert.models.person import normalise_name

NameKey = tuple[str, str, date]  # (given name key, family name key, date of birth)

# ---- Pure rules ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Record:
    """The identity columns of one person record: all that the linking rule looks at."""

    id: int
    pnc_id: str | None
    name_key: NameKey | None
    merged_into_id: int | None = None


def linked_records(cluster: Collection[int], records: Mapping[int, Record]) -> set[int]:
    """The ids in ``records`` that join ``cluster`` without anyone being asked.

    - A shared PNC ID links records: it identifies a person nationally.
    - Records that both have a PNC ID are linked only by it. The same name and date of birth with
      different PNC IDs are two people (twins given the same name, namesakes), never one.
    - Otherwise an identical normalised name and exact date of birth links records, but only while
      that name and date of birth belongs to at most one PNC ID, and to no PNC ID other than the
      cluster's own. Once two PNC IDs share a name and date of birth, a record without a PNC ID
      could be either person, so it is left for someone to confirm as a possible match.

    ``records`` must hold every record with any of the cluster's name keys, so that the PNC IDs
    sharing a name and date of birth are all known.
    """
    members = [records[i] for i in cluster if i in records]
    own_pncs = {r.pnc_id for r in members if r.pnc_id}
    own_keys = {r.name_key for r in members if r.name_key}
    group_pncs: dict[NameKey, set[str]] = {key: set() for key in own_keys}
    for record in records.values():
        if record.name_key in group_pncs and record.pnc_id:
            group_pncs[record.name_key].add(record.pnc_id)
    if own_pncs:
        usable = {key for key, pncs in group_pncs.items() if pncs <= own_pncs}
    else:
        # A cluster without a PNC ID may take one on from its name groups, but not two different
        # ones (from one group or several): which of them it is would be a guess.
        adopted = set().union(*group_pncs.values())
        usable = {key for key, pncs in group_pncs.items() if len(adopted) <= 1 or not pncs}
    return {
        record.id
        for record in records.values()
        if record.id not in cluster
        and ((record.pnc_id is not None and record.pnc_id in own_pncs) or record.name_key in usable)
    }


def edit_distance(a: str, b: str) -> int:
    """Insertions, deletions, substitutions and swaps of two neighbouring characters, each one.

    (Optimal string alignment.) Counting a swap as one edit matters: "Smtih" is one slip of the
    fingers from "Smith", not two. Names and PNC IDs are short, so the quadratic cost is nothing.
    """
    before: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], before[j - 2] + 1)
        before, previous = previous, current
    return previous[-1]


def transposed(day: date) -> date | None:
    """The date with day and month swapped (3 May for 5 March), when that is a different date."""
    if day.day > 12 or day.day == day.month:
        return None
    return day.replace(month=day.day, day=day.month)


_PNC_CHARACTERS = string.ascii_uppercase + string.digits + "/"


def pnc_variants(pnc: str) -> set[str]:
    """Every string one character away from ``pnc``.

    Edit distance cannot use an index, but equality can: looking these up with ``IN`` on the
    indexed column finds one-character slips without reading every person.
    """
    out: set[str] = set()
    for i in range(len(pnc) + 1):
        out.update(pnc[:i] + ch + pnc[i:] for ch in _PNC_CHARACTERS)
        if i < len(pnc):
            out.add(pnc[:i] + pnc[i + 1 :])
            out.update(pnc[:i] + ch + pnc[i + 1 :] for ch in _PNC_CHARACTERS)
        if i + 1 < len(pnc):
            out.add(pnc[:i] + pnc[i + 1] + pnc[i] + pnc[i + 2 :])
    out.discard(pnc)
    return {v for v in out if 0 < len(v) <= 20}


@dataclass(frozen=True)
class Identity:
    """What a person record says about who someone is, as the match scoring sees it."""

    given_name: str
    family_name: str
    date_of_birth: date | None = None
    pnc_id: str | None = None

    @property
    def given_key(self) -> str:
        return normalise_name(self.given_name)

    @property
    def family_key(self) -> str:
        return normalise_name(self.family_name)

    @classmethod
    def of(cls, person: Person) -> Identity:
        return cls(person.given_name, person.family_name, person.date_of_birth, person.pnc_id)


def _likeness(a: str, b: str) -> str | None:
    """How two different name keys resemble each other, as words for the reasons; or None."""
    distance = edit_distance(a, b)
    # Two edits turn any two-letter name into any other, so short names get less slack.
    if distance == 1:
        return "differs by one letter"
    if distance == 2 and min(len(a), len(b)) >= 5:
        return "differs by two letters"
    if len(a) >= 3 and a[:3] == b[:3]:
        return "begins the same way"
    if min(len(a), len(b)) == 1 and a[0] == b[0]:
        return "matches an initial"
    return None


def _name_points(a: Identity, b: Identity) -> tuple[int, list[str]]:
    """Points and reasons for how alike two names are: 40 the same, 10-35 alike, 0 not alike."""
    if not (a.given_key and a.family_key and b.given_key and b.family_key):
        return 0, []  # a name of only symbols or emoji says nothing about who someone is
    given_same, family_same = a.given_key == b.given_key, a.family_key == b.family_key
    if given_same and family_same:
        return 40, ["Same name"]
    if a.given_key == b.family_key and a.family_key == b.given_key:
        return 35, [
            f"Forename and family name swapped ({a.given_name} {a.family_name} / "
            f"{b.given_name} {b.family_name})"
        ]
    given_like = None if given_same else _likeness(a.given_key, b.given_key)
    family_like = None if family_same else _likeness(a.family_key, b.family_key)
    given = f"forename {given_like} ({a.given_name} / {b.given_name})" if given_like else ""
    family = f"family name {family_like} ({a.family_name} / {b.family_name})" if family_like else ""
    if family_same and given:
        return 30, ["Same family name", given]
    if family and given_same:
        return 30, [family, "same forename"]
    if family and given:
        return 20, [family, given]
    # Alone, one alike name is weak evidence (a common surname, a sibling): same DOB needed too.
    if family_same:
        return 15, ["Same family name"]
    if family:
        return 10, [family]
    if given_same:
        return 10, ["Same forename"]
    return 0, []


def score_match(person: Identity, other: Identity) -> tuple[int, list[str]] | None:
    """How likely ``other`` is the same person as ``person``, with the reasons; None if not likely.

    A higher score is a likelier match. Different PNC IDs (beyond a one-character slip) mean the
    police have recorded two people, so those are never suggested.
    """
    points, reasons = 0, []
    dob = "missing"
    if person.date_of_birth and other.date_of_birth:
        if person.date_of_birth == other.date_of_birth:
            dob, points = "same", 40
            reasons.append("Same date of birth")
        elif transposed(person.date_of_birth) == other.date_of_birth:
            dob, points = "transposed", 25
            reasons.append(
                "Day and month of birth swapped "
                f"({person.date_of_birth:%d/%m/%Y} / {other.date_of_birth:%d/%m/%Y})"
            )
        else:
            dob = "different"
    name_points, name_reasons = _name_points(person, other)
    points += name_points
    reasons.extend(name_reasons)
    pnc_slip = False
    if person.pnc_id and other.pnc_id:
        if person.pnc_id == other.pnc_id:
            return points + 60, [_sentence_case(r) for r in ["Same PNC ID", *reasons]]
        if edit_distance(person.pnc_id, other.pnc_id) > 1:
            return None
        pnc_slip = True
        points += 45
        reasons.append(f"PNC IDs differ by one character ({person.pnc_id} / {other.pnc_id})")
    enough_name = {"same": 10, "transposed": 35, "missing": 35}.get(dob)
    if pnc_slip or (enough_name is not None and name_points >= enough_name):
        return points, [_sentence_case(r) for r in reasons]
    return None


def _sentence_case(text: str) -> str:
    return text[:1].upper() + text[1:]


@dataclass(frozen=True)
class PossibleMatch:
    """A record that might be the same person, for someone to confirm or dismiss."""

    person: Person
    score: int
    reasons: list[str]

    @property
    def summary(self) -> str:
        """The reasons as one line: "Same date of birth; family name differs by one letter (…)"."""
        rest = [r[:1].lower() + r[1:] if r[1:2].islower() else r for r in self.reasons[1:]]
        return "; ".join(self.reasons[:1] + rest)


# ---- Queries ---------------------------------------------------------------------------------

_IDENTITY_COLUMNS = (
    Person.id,
    Person.pnc_id,
    Person.given_name_key,
    Person.family_name_key,
    Person.date_of_birth,
    Person.merged_into_id,
)


def _load_records(session: Session, statement: Select[Any]) -> dict[int, Record]:
    return {row[0]: record_of(*row) for row in session.execute(statement)}


def _merge_components(session: Session, holder: int, ids: Iterable[int]) -> dict[int, Record]:
    """The given records with everything merged into them or they into, at any depth: one query.

    Only records ``holder`` holds: merges were only ever made within one organisation's records
    (until migration 0011 a merge could cross; what it joined is not followed across)."""
    linked = (
        select(Person.id, Person.merged_into_id)
        .where(Person.id.in_(list(ids)))
        .cte("merge_component", recursive=True)
    )
    other = aliased(Person)
    linked = linked.union(
        select(other.id, other.merged_into_id).join(
            linked, or_(other.merged_into_id == linked.c.id, other.id == linked.c.merged_into_id)
        )
    )
    return _load_records(
        session,
        select(*_IDENTITY_COLUMNS).where(
            Person.id.in_(select(linked.c.id)), Person.organisation_id == holder
        ),
    )


def _by_identity(
    session: Session, holder: int, pncs: Collection[str], keys: Collection[NameKey]
) -> dict[int, Record]:
    """Every record ``holder`` holds with one of these PNC IDs or names and dates of birth
    (indexed lookups). Another organisation's records of the same person are not this one's."""
    conditions: list[ColumnElement[bool]] = []
    if pncs:
        conditions.append(Person.pnc_id.in_(sorted(pncs)))
    conditions.extend(
        and_(Person.family_name_key == family, Person.date_of_birth == dob, Person.given_name_key == given)
        for given, family, dob in keys
    )
    return _load_records(
        session, select(*_IDENTITY_COLUMNS).where(or_(*conditions), Person.organisation_id == holder)
    )


@dataclass(frozen=True)
class Looked:
    """What a look-up by identity already read (``pathways.encounters.find_record``): every record
    the organisation holds with ``pnc_id`` or ``name_key``, merged or not, so ``same_person_ids``
    need not ask the same again. ``created``: the person's record was added after the look-up, so
    nothing can have been merged with it yet."""

    pnc_id: str | None
    name_key: NameKey | None
    records: dict[int, Record]
    created: bool = False


def record_of(
    id_: int, pnc: str | None, given: str | None, family: str | None, dob: date | None, merged: int | None
) -> Record:
    # An empty name key (a name of only symbols) links nothing: it would link every such name.
    key = (given, family, dob) if dob is not None and given and family else None
    return Record(id_, pnc, key, merged)


def same_person_ids(session: Session, person: Person, looked: Looked | None = None) -> set[int]:
    """Ids of the records that are this (saved) person for history purposes; see ``linked_records``.

    Links are followed to a fixed point: a record found by name brings its PNC ID, one found by
    PNC ID brings its name, and each brings whatever was merged with it. That is two queries for
    a person with no other records and four or five for most who have some, however many; with
    ``looked`` (what finding the record read), none for a new person whose identity links nothing.
    """
    holder = person.organisation_id
    asked_pncs: set[str] = set()
    asked_keys: set[NameKey] = set()
    records: dict[int, Record] = {}
    if looked is not None:
        records.update(looked.records)
        asked_pncs |= {looked.pnc_id} if looked.pnc_id else set()
        asked_keys |= {looked.name_key} if looked.name_key else set()
    if looked is not None and looked.created:
        component = {
            person.id: record_of(
                person.id,
                person.pnc_id,
                person.given_name_key,
                person.family_name_key,
                person.date_of_birth,
                person.merged_into_id,
            )
        }
    else:
        component = _merge_components(session, holder, [person.id])
    # After the look-up's records, so what this transaction filled in on the record wins.
    records.update(component)
    cluster = set(component) | {person.id}
    while True:
        members = [records[i] for i in cluster if i in records]
        pncs = {r.pnc_id for r in members if r.pnc_id} - asked_pncs
        keys = {r.name_key for r in members if r.name_key} - asked_keys
        if pncs or keys:
            records.update(_by_identity(session, holder, pncs, keys))
            asked_pncs |= pncs
            asked_keys |= keys
        new = linked_records(cluster, records)
        if not new:
            return cluster
        # Whatever a linked record was merged with comes too: a person already confirmed that.
        component = _merge_components(session, holder, new)
        records.update(component)
        cluster |= new | set(component)


def earlier_encounters(
    session: Session,
    person: Person,
    before: datetime,
    *,
    before_id: int | None = None,
    looked: Looked | None = None,
) -> list[Encounter]:
    """The encounters of every record of this person strictly before ``before``, oldest first.

    With ``before_id`` (the encounter being decided) the order is (time, id): officers record to the
    minute, so a repeat recorded in the same minute as the first is still the later of the two.
    """
    ids = same_person_ids(session, person, looked)
    if looked is not None and looked.created and ids == {person.id}:
        return []  # a record added in this transaction, linked to none: no earlier encounters
    earlier = Encounter.occurred_at < before
    if before_id is not None:
        earlier = or_(earlier, and_(Encounter.occurred_at == before, Encounter.id < before_id))
    statement = (
        select(Encounter)
        .where(Encounter.person_id.in_(sorted(ids)), earlier)
        .order_by(Encounter.occurred_at, Encounter.id)
    )
    return list(session.scalars(statement))


def possible_matches(session: Session, person: Person, limit: int = 10) -> list[PossibleMatch]:
    """Records that might be this person, likeliest first, for someone to confirm. Never merges.

    Only among the records the person's holding organisation holds: a match is offered to be
    merged, and another organisation's record is not this one's to merge or to show.
    """
    me = Identity.of(person)
    named = bool(me.given_key and me.family_key)
    same_name = and_(Person.family_name_key == me.family_key, Person.given_name_key == me.given_key)
    swapped = and_(Person.family_name_key == me.given_key, Person.given_name_key == me.family_key)
    # Each way in is an indexed lookup; scoring then decides which candidates are worth showing.
    ways_in: list[ColumnElement[bool]] = [swapped] if named else []
    if me.date_of_birth:
        dates = [me.date_of_birth, transposed(me.date_of_birth)]
        ways_in.append(Person.date_of_birth.in_([d for d in dates if d]))
        if named:
            ways_in.append(and_(same_name, Person.date_of_birth.is_(None)))
    elif named:
        ways_in.append(same_name)
    if me.pnc_id:
        ways_in.append(Person.pnc_id.in_(sorted(pnc_variants(me.pnc_id))))
    if not ways_in:
        return []
    known = same_person_ids(session, person)
    candidates = session.scalars(
        select(Person).where(
            or_(*ways_in),
            Person.organisation_id == person.organisation_id,
            Person.merged_into_id.is_(None),
            Person.id.not_in(sorted(known)),
        )
    )
    matches = []
    for candidate in candidates:
        scored = score_match(me, Identity.of(candidate))
        if scored is not None:
            matches.append(PossibleMatch(candidate, *scored))
    matches.sort(key=lambda m: (-m.score, m.person.id))
    return matches[:limit]
