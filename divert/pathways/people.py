"""Finding a person, and changing their record: optimistic locking, field history, audit."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import ColumnElement, String, literal, select, union
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import QueryableAttribute, Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.sqltypes import NullType
from sqlalchemy.sql.type_api import TypeEngine
from sqlalchemy.sql.visitors import InternalTraversal, _TraverseInternalsType

from divert.auth.visibility import ways_to_see_person
from divert.models import Person, User, audit
from divert.models.person import normalise_name
from divert.pathways.errors import OperationError, StaleEdit

SEARCH_LIMIT = 50

EDITABLE = (
    "given_name",
    "family_name",
    "date_of_birth",
    "pnc_id",
    "gender",
    "self_defined_ethnicity",
    "officer_defined_ethnicity",
    "postcode_district",
)


def update_person(
    session: Session, actor: User, person: Person, changes: dict[str, Any], seen_version: int
) -> list[str]:
    """Apply ``changes`` if nobody has edited the person since ``seen_version``.

    Returns the fields that changed. The version check here gives a friendly message; the
    mapper's version column still guards the race between this check and the flush.
    """
    if person.version_id != seen_version:
        raise StaleEdit("person's record")
    check_pnc_free(session, person, changes.get("pnc_id", person.pnc_id))
    changed = []
    for field in EDITABLE:
        if field in changes and getattr(person, field) != changes[field]:
            setattr(person, field, changes[field])
            changed.append(field)
    if changed:
        session.flush()
        audit.record(session, actor, "update", "person", person.id, detail="changed " + ", ".join(changed))
    return changed


def check_pnc_free(session: Session, person: Person, pnc_id: str | None) -> None:
    """Refuse a PNC ID that another live record of the same organisation holds: one PNC ID is one
    person, so those records are one person to merge, not two to keep."""
    pnc = (pnc_id or "").strip().upper()
    if not pnc or pnc == person.pnc_id:
        return
    other = session.scalar(
        select(Person).where(
            Person.organisation_id == person.organisation_id,
            Person.pnc_id == pnc,
            Person.merged_into_id.is_(None),
            Person.id != person.id,
        )
    )
    if other is not None:
        raise OperationError(
            f"Another record your organisation holds ({other.full_name}) has PNC ID {pnc} – "
            "if they are the same person, merge the records instead"
        )


class _ByteOrder(ColumnElement[str]):
    """Sort a name key byte by byte, as the ``text_pattern_ops`` indexes hold it (models/person.py).

    On PostgreSQL ``key USING ~<~``, so one index both finds a prefix and gives the order; SQLite's
    default (BINARY) order is already byte order. Byte and code point order are the same for UTF-8,
    and the same as the database's C.UTF-8 collation.
    """

    inherit_cache = True
    _traverse_internals: _TraverseInternalsType = [("name", InternalTraversal.dp_clauseelement)]  # noqa: RUF012

    def __init__(self, name: ColumnElement[str] | QueryableAttribute[str]) -> None:
        self.name = name.expression if isinstance(name, QueryableAttribute) else name
        self.type = self.name.type


@compiles(_ByteOrder)
def _byte_order(element: _ByteOrder, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.name, **kw)


@compiles(_ByteOrder, "postgresql")
def _byte_order_postgresql(element: _ByteOrder, compiler: SQLCompiler, **kw: Any) -> str:
    return f"{compiler.process(element.name, **kw)} USING ~<~"


class _StartsWith(ColumnElement[bool]):
    """``column`` begins with ``prefix``, written so that each database reads it as an index range.

    PostgreSQL: ``LIKE 'x%'`` (a range on the ``text_pattern_ops`` indexes). SQLite's LIKE ignores
    case, so it uses an index only on a NOCASE column and otherwise reads every row: there
    ``GLOB 'x*'``, which is case-sensitive and so a range on a plain index. The prefix must hold no
    pattern characters (``%_*?[``); normalised name keys hold letters, digits and spaces only.
    """

    inherit_cache = True
    # Not Boolean: SQLite (no native booleans) would compare a Boolean expression with 1, and
    # "key GLOB ? = 1" is no longer a range an index can read.
    type = cast("TypeEngine[bool]", NullType())
    _traverse_internals: _TraverseInternalsType = [  # noqa: RUF012
        ("column", InternalTraversal.dp_clauseelement),
        ("like_pattern", InternalTraversal.dp_clauseelement),
        ("glob_pattern", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, key: QueryableAttribute[str], prefix: str) -> None:
        self.column = key.expression
        self.like_pattern = literal(f"{prefix}%", String())
        self.glob_pattern = literal(f"{prefix}*", String())


@compiles(_StartsWith)
def _starts_with(element: _StartsWith, compiler: SQLCompiler, **kw: Any) -> str:
    return f"{compiler.process(element.column, **kw)} LIKE {compiler.process(element.like_pattern, **kw)}"


@compiles(_StartsWith, "sqlite")
def _starts_with_sqlite(element: _StartsWith, compiler: SQLCompiler, **kw: Any) -> str:
    return f"{compiler.process(element.column, **kw)} GLOB {compiler.process(element.glob_pattern, **kw)}"


def search_people(session: Session, user: User, query: str, limit: int = SEARCH_LIMIT) -> list[Person]:
    """People ``user`` may see whose PNC ID is ``query``, or whose family or given name starts with it.

    The first ``limit`` by family name, then given name. An OR of the three matches and the two
    ways of being seen can use no index, so PostgreSQL would check every person the organisation
    may see. Instead each match (an index range: ``LIKE 'x%'`` can use a btree under the database's
    C.UTF-8 collation only with ``text_pattern_ops``) with each way of being seen (a single EXISTS,
    which PostgreSQL plans as a semi-join for this organisation: a probe per person read, or from
    the organisation's rows when it has few) gives its first ``limit``, read in order from the
    index until it has enough; one statement combines the six.
    """
    key = normalise_name(query)
    # Normalised keys hold letters, digits and spaces only, so the pattern needs no escaping. A
    # query with no letters or digits ("!!!") has an empty key, which would match every name.
    matches: list[ColumnElement[bool]] = [Person.pnc_id == query.upper()]
    if key:
        matches += [_StartsWith(Person.family_name_key, key), _StartsWith(Person.given_name_key, key)]
    order = (_ByteOrder(Person.family_name_key), _ByteOrder(Person.given_name_key), Person.id)
    # Each part is a subquery because SQLite allows no ORDER BY or LIMIT on a UNION's members.
    found = union(
        *(
            select(select(Person.id).where(match, seen).order_by(*order).limit(limit).subquery().c.id)
            for match in matches
            for seen in ways_to_see_person(user)
        )
    )
    return list(session.scalars(select(Person).where(Person.id.in_(found)).order_by(*order).limit(limit)))
