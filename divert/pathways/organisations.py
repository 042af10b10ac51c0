"""Creating organisations: a system administrator's work (``manage_organisations``)."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from divert.auth.policy import check
from divert.models import Organisation, User, audit
from divert.pathways.errors import OperationError
from divert.rules.codes import ORGANISATION_KINDS, label

CODE = re.compile(r"^[a-z0-9][a-z0-9-]{1,39}$")


def create_organisation(session: Session, *, code: str, name: str, kind: str, actor: User) -> Organisation:
    check(actor, "manage_organisations")
    code = code.strip().lower()
    if not CODE.match(code):
        raise OperationError(
            "Enter a code of 2 to 40 lower-case letters, digits and hyphens, starting with a letter or digit"
        )
    if kind not in ORGANISATION_KINDS:
        raise OperationError(f"Kind must be one of: {', '.join(label(k) for k in ORGANISATION_KINDS)}")
    if session.scalar(select(Organisation.id).where(Organisation.code == code)) is not None:
        raise OperationError(f"An organisation with the code {code} already exists")
    organisation = Organisation(code=code, name=name.strip(), kind=kind)
    session.add(organisation)
    session.flush()
    audit.record(session, actor, "create", "organisation", organisation.id, detail=f"{code} {kind}")
    return organisation
