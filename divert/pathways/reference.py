"""Reference codes an administrator keeps: labels, and the offence categories a force adds.

Codes are never deleted or renamed, because stored records point at them; an offence category
that no longer applies is deactivated. Every change writes field history (the models opt in to
``models/guards.py``) and an audit entry.
"""

from __future__ import annotations

import re

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from divert.models import EthnicityCode, OffenceCategory, OutcomeCode, User, audit
from divert.pathways.errors import OperationError

SLUG = re.compile(r"^[a-z0-9]+(_[a-z0-9]+)*$")
LABEL_LIMIT = 120


def _label(label: str, limit: int = LABEL_LIMIT) -> str:
    label = label.strip()
    if not label:
        raise OperationError("Enter a label")
    if len(label) > limit:
        raise OperationError(f"Label must be {limit} characters or fewer")
    return label


def relabel_offence(session: Session, category: OffenceCategory, label: str, actor: User) -> None:
    old, category.label = category.label, _label(label)
    session.flush()
    audit.record(
        session,
        actor,
        "update",
        "offence_category",
        category.slug,
        detail=f"label: {old} -> {category.label}",
    )


def relabel_ethnicity(session: Session, code: EthnicityCode, label: str, actor: User) -> None:
    old, code.label = code.label, _label(label)
    session.flush()
    audit.record(
        session, actor, "update", "ethnicity_code", code.code, detail=f"label: {old} -> {code.label}"
    )


def relabel_outcome(session: Session, code: OutcomeCode, label: str, actor: User) -> None:
    old, code.label = code.label, _label(label, 200)
    session.flush()
    audit.record(session, actor, "update", "outcome_code", code.code, detail=f"label: {old} -> {code.label}")


def add_offence(session: Session, slug: str, label: str, actor: User) -> OffenceCategory:
    slug = slug.strip()
    if not SLUG.match(slug) or len(slug) > 60:
        raise OperationError(
            "Slug must be lower-case letters and digits joined by underscores, 60 characters or fewer"
        )
    if session.get(OffenceCategory, slug) is not None:
        raise OperationError(f"An offence category with the slug '{slug}' already exists")
    last = session.scalar(select(func.max(OffenceCategory.sort_order))) or 0
    category = OffenceCategory(slug=slug, label=_label(label), active=True, sort_order=last + 1)
    session.add(category)
    session.flush()
    audit.record(session, actor, "create", "offence_category", slug, detail=category.label)
    return category


def set_offence_active(session: Session, category: OffenceCategory, active: bool, actor: User) -> None:
    """Deactivated categories stay on the records that use them; new records cannot choose them."""
    if category.active == active:
        return
    category.active = active
    session.flush()
    audit.record(
        session,
        actor,
        "update",
        "offence_category",
        category.slug,
        detail="reactivated" if active else "deactivated",
    )
