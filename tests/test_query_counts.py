"""How many SQL statements each page and API read makes: the same with few rows as with many.

Each test builds what a page lists at two sizes, signs in first (sign-in's own queries are not
counted), then counts the statements of exactly one request. The count must not grow with the rows
shown (a growing count is an N+1: one query per row), and must equal the number pinned in ``PINNED``,
so any new query on a page is a deliberate, reviewed change. When a test fails it prints every
statement, and those sent more than once.

If a page legitimately gains or loses a query, change its number in ``PINNED`` in the same commit.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from divert.api import tokens
from divert.models import (
    CaseContact,
    CaseFlag,
    Contract,
    ContractCondition,
    Decision,
    Encounter,
    NeedsAssessment,
    Organisation,
    Person,
    PersonMerge,
    PopulationBaseline,
    Programme,
    ProgrammeVersion,
    Referral,
    ReferralParty,
    User,
    utcnow,
)
from divert.models.programme import compiled
from divert.pathways.cases import record_encounter
from divert.pathways.casework import add_event
from divert.pathways.programmes import assign_operator, sync_definitions
from divert.queries.worklists import PAGE_SIZE

from .api.payloads import encounter_body
from .client import PageClient
from .factories import PASSWORD, create_encounter, create_organisation, create_person, create_user
from .pathways.helpers import open_case, refer
from .querycount import Queries, count_queries

FEW, MANY = 3, 30

# Statements per request, the same on SQLite and PostgreSQL (see querycount for what is left out).
# Sign-in is not counted, but every page loads the signed-in user and their organisation (named in
# the header), and most pages that show personal data write one audit entry.
PINNED: dict[str, int] = {
    # User, total, one page of cases (joined with person, programme, version and worker), which of
    # them are flagged, the audit entry naming the people listed, the programme filter,
    # organisation; "team" also lists colleagues. Every list of people writes one audit entry.
    "worklist mine": 7,
    "worklist new": 7,
    "worklist team": 9,  # + the cases' parties: which of them the supervisor's team may reallocate
    "worklist flagged": 7,
    "worklist overdue": 7,
    "worklist closed": 7,
    "home caseworker": 6,  # + the user's unread notices (issue 18)
    "home supervisor": 9,
    "home officer": 5,
    "home admin": 9,
    "case page": 17,  # + goals and placements, the person's earlier cases, reminder consent and messages
    "correct last step": 4,
    "person page": 8,
    "person search": 4,
    "encounter page": 11,  # with the audit of the possible matches shown
    "override decision": 6,
    "possible matches": 8,
    "admin users": 4,
    "admin tokens": 4,
    "admin programmes": 5,
    "admin reference": 7,
    "admin import": 2,
    # The published page, the first time after a change: it counts the whole linked release of
    # the scope (every breakdown, each with its reasons; monitoring/release.py), protects it as
    # one set and keeps it (monitoring/cache.py), then the attendance tables.
    "monitoring analyst": 37,
    # ... and read again with nothing changed: the kept release and odds ratios, no counting.
    "monitoring analyst again": 8,
    "monitoring supervisor": 9,
    # The CSV builds the report's tables alone: no reason tables, no population comparison.
    "monitoring CSV supervisor": 5,
    "population baselines": 3,
    # The API starts with the bearer token and its user, in one statement (a token is marked used
    # at most once a minute, and was here, see ``bearer``).
    "api referral": 11,  # + the parties: whether the reader is in the working team (notes withheld)
    "api person encounters": 6,
    # + the cases' parties (confidential notes withheld); + consent and shares with other forces (issue 17)
    "api subject access export": 20,
}

_names = itertools.count(1)


# ---- Measuring ------------------------------------------------------------------------------------


def measure(client: PageClient, path: str, headers: dict[str, str] | None = None) -> Queries:
    """The statements of one GET, which must succeed."""
    with count_queries() as queries:
        response = client.get(path, headers=headers)
    assert response.status_code == 200, f"GET {path}: {response.status_code}\n{response.get_data(True)[:800]}"
    return queries


def check(page: str, few: Queries, many: Queries) -> None:
    """The same number of statements at both sizes, and the number pinned for the page."""
    assert len(few) == len(many), (
        f"{page}: {len(few)} statements with few rows but {len(many)} with many: a query per row (N+1)?\n"
        f"--- with many rows ---\n{many.report()}\n--- with few rows ---\n{few.report()}"
    )
    pinned = PINNED[page]
    assert len(many) == pinned, (
        f"{page}: {len(many)} statements, but {pinned} are pinned. If the change is meant, update PINNED.\n"
        f"{many.report()}"
    )


def sign_in(client: PageClient, user: User) -> None:
    response = client.sign_in(user.email, PASSWORD)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]


# ---- Building what the pages list -----------------------------------------------------------------


def programme(session: Session, code: str) -> Programme:
    sync_definitions(session)
    return session.scalars(select(Programme).where(Programme.code == code)).one()


def latest(session: Session, code: str) -> ProgrammeVersion:
    found = programme(session, code)
    return found.versions[-1]


def bare_case(
    session: Session, person: Person, encounter: Encounter, version: ProgrammeVersion, police: Organisation
) -> Referral:
    """A case row written directly (no rules run), for pages that only list cases."""
    definition = compiled(version)
    referral = Referral(
        reference=f"Q{encounter.id}-{version.id}",
        person_id=person.id,
        encounter_id=encounter.id,
        programme_id=version.programme_id,
        programme_version_id=version.id,
        state=definition.on_decision["eligible"],
    )
    referral.parties = [ReferralParty(organisation_id=police.id, role="police")]
    session.add(referral)
    session.flush()
    return referral


def flag(session: Session, referral: Referral, kind: str = "non_engagement") -> CaseFlag:
    row = CaseFlag(
        referral_id=referral.id,
        kind=kind,
        key=f"{kind}-{next(_names)}",
        detail=f"A {kind.replace('_', ' ')} flag.",
        due_on=date.today(),
    )
    session.add(row)
    session.flush()
    return row


@dataclass
class Youth:
    """A force whose youth cases are referred to a YOT, with staff on both sides."""

    yot: Organisation
    officer: User
    caseworker: User
    supervisor: User


@pytest.fixture
def youth(db_session: Session, org: Organisation) -> Youth:
    yot = create_organisation(db_session, kind="yot")
    assign_operator(db_session, programme(db_session, "tvp-youth-drugs"), yot.id, "receiving", "yot")
    return Youth(
        yot,
        create_user(db_session, "officer", org),
        create_user(db_session, "yot_caseworker", yot),
        create_user(db_session, "supervisor", yot),
    )


def worklist_cases(session: Session, youth: Youth, view: str, count: int) -> None:
    """``count`` referred youth cases that belong on ``view``, each worked by a different person."""
    for _ in range(count):
        case = refer(session, youth.officer, open_case(session, "tvp-youth-drugs", youth.officer))
        if view == "mine":
            case.assigned_user_id = youth.caseworker.id
        elif view != "new":
            case.assigned_user_id = create_user(session, "yot_caseworker", youth.yot).id
        if view == "flagged":
            flag(session, case, "non_engagement")
        elif view == "overdue":
            flag(session, case, "first_contact_overdue")
        elif view == "closed":
            case.closed_at = utcnow()
        session.flush()


# ---- Worklists and home pages ---------------------------------------------------------------------

WORKLISTS = {
    "mine": "caseworker",
    "new": "caseworker",
    "team": "supervisor",
    "flagged": "caseworker",
    "overdue": "caseworker",
    "closed": "caseworker",
}


@pytest.mark.parametrize("view", list(WORKLISTS))
def test_worklist(client: PageClient, db_session: Session, youth: Youth, view: str) -> None:
    sign_in(client, getattr(youth, WORKLISTS[view]))
    path = f"/worklist?view={view}"
    worklist_cases(db_session, youth, view, FEW)
    few = measure(client, path)
    worklist_cases(db_session, youth, view, MANY - FEW)
    many = measure(client, path)
    page = client.get(path).get_data(as_text=True)
    assert f"{MANY} cases" in page and page.count('href="/cases/') >= PAGE_SIZE
    check(f"worklist {view}", few, many)


@pytest.mark.parametrize("role", ["caseworker", "supervisor"])
def test_caseworking_home(client: PageClient, db_session: Session, youth: Youth, role: str) -> None:
    sign_in(client, getattr(youth, role))
    worklist_cases(db_session, youth, "new", FEW)
    worklist_cases(db_session, youth, "mine", FEW)
    few = measure(client, "/home")
    worklist_cases(db_session, youth, "new", MANY // 2 - FEW)
    worklist_cases(db_session, youth, "mine", MANY // 2 - FEW)
    many = measure(client, "/home")
    check(f"home {role}", few, many)


def test_officer_home(client: PageClient, db_session: Session, org: Organisation) -> None:
    officer = create_user(db_session, "officer", org)
    sign_in(client, officer)

    def encounters(count: int) -> None:
        for _ in range(count):
            person = create_person(db_session, family_name=f"Home{next(_names)}")
            create_encounter(db_session, person, org, officer_id=officer.id)

    encounters(FEW)
    few = measure(client, "/home")
    encounters(MANY - FEW)
    many = measure(client, "/home")
    check("home officer", few, many)


# ---- Case, person and encounter pages -------------------------------------------------------------


def grow_case(session: Session, case: Referral, count: int) -> None:
    """Events, appointments, flags, contract conditions, overrides and parties, each by someone new."""
    organisation = session.get(Organisation, case.parties[0].organisation_id)
    contract = session.scalar(select(Contract).where(Contract.referral_id == case.id))
    if contract is None:
        contract = Contract(referral_id=case.id, starts_on=date.today(), ends_on=date.today() + timedelta(90))
        session.add(contract)
        session.flush()
    decision = session.scalars(
        select(Decision).where(Decision.encounter_id == case.encounter_id).order_by(Decision.id.desc())
    ).first()
    for _ in range(count):
        n = next(_names)
        colleague = create_user(session, "supervisor", organisation)
        add_event(session, colleague, case, "note", reason=f"Note {n}")
        session.add(
            CaseContact(
                referral_id=case.id,
                kind="session",
                scheduled_at=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=n),
                attendance="attended",
                recorded_by_id=colleague.id,
            )
        )
        session.add(
            ContractCondition(contract_id=contract.id, condition_group="pathway", description=f"C{n}")
        )
        flag(session, case, "non_engagement")
        session.add(
            ReferralParty(
                referral_id=case.id, organisation_id=create_organisation(session).id, role="provider"
            )
        )
        if decision is not None:
            override = Decision(
                encounter_id=decision.encounter_id,
                programme_version_id=decision.programme_version_id,
                eligible=True,
                route=decision.route,
                reasons=decision.reasons,
                facts=decision.facts,
                decided_by_id=create_user(session, "supervisor", organisation).id,
                overrides_id=decision.id,
                override_reason=f"Override {n}",
            )
            session.add(override)
            session.flush()
            decision = override
    session.flush()


def test_case_page(client: PageClient, db_session: Session, org: Organisation) -> None:
    officer = create_user(db_session, "officer", org)
    case = refer(db_session, officer, open_case(db_session, "checkpoint", officer))
    assert compiled(case.programme_version).contract is not None
    sign_in(client, create_user(db_session, "supervisor", org))
    grow_case(db_session, case, FEW)
    few = measure(client, f"/cases/{case.id}")
    grow_case(db_session, case, MANY - FEW)
    many = measure(client, f"/cases/{case.id}")
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert page.count("moj-timeline__item") > MANY and page.count('data-testid="decision"') > MANY
    check("case page", few, many)


def test_correct_last_step_page(client: PageClient, db_session: Session, org: Organisation) -> None:
    officer = create_user(db_session, "officer", org)
    case = refer(db_session, officer, open_case(db_session, "checkpoint", officer))
    sign_in(client, create_user(db_session, "supervisor", org))
    grow_case(db_session, case, FEW)
    few = measure(client, f"/cases/{case.id}/correct")
    grow_case(db_session, case, MANY - FEW)
    many = measure(client, f"/cases/{case.id}/correct")
    check("correct last step", few, many)


ADULT_PROGRAMMES = ("tvp-adult-drugs", "avon-somerset-dep", "checkpoint", "checkpoint-plus", "divert")


def test_person_page(client: PageClient, db_session: Session, org: Organisation) -> None:
    """Encounters, and cases on every programme (each programme and version is a row to load)."""
    versions = [latest(db_session, code) for code in ADULT_PROGRAMMES]
    person = create_person(db_session, family_name="Many", date_of_birth=date(1990, 1, 1))
    sign_in(client, create_user(db_session, "officer", org))

    def grow(start: int, count: int) -> None:
        for n in range(start, start + count):
            encounter = create_encounter(
                db_session, person, org, occurred_at=datetime(2025, 1, 1, tzinfo=UTC) + timedelta(days=n)
            )
            bare_case(db_session, person, encounter, versions[n % len(versions)], org)

    grow(0, FEW)
    few = measure(client, f"/people/{person.id}")
    grow(FEW, MANY - FEW)
    many = measure(client, f"/people/{person.id}")
    assert client.get(f"/people/{person.id}").get_data(as_text=True).count('href="/cases/') == MANY
    check("person page", few, many)


def test_person_search(client: PageClient, db_session: Session, org: Organisation) -> None:
    sign_in(client, create_user(db_session, "officer", org))

    def people(count: int) -> None:
        for _ in range(count):
            person = create_person(db_session, family_name=f"Findable{next(_names)}")
            create_encounter(db_session, person, org)

    people(FEW)
    few = measure(client, "/people?q=findable")
    people(MANY - FEW)
    many = measure(client, "/people?q=findable")
    assert f"{MANY} results" in client.get("/people?q=findable").get_data(as_text=True)
    check("person search", few, many)


def lookalikes(session: Session, person: Person, org: Organisation, count: int) -> None:
    """Records that might be ``person``: same date of birth, names a letter apart."""
    for _ in range(count):
        twin = create_person(
            session,
            given_name=person.given_name,
            family_name=person.family_name + "abcdefghijklmnopqrstuvwxyz"[next(_names) % 26],
            date_of_birth=person.date_of_birth,
        )
        create_encounter(session, twin, org)


def test_encounter_page(client: PageClient, db_session: Session, org: Organisation) -> None:
    """An encounter decided against a few programmes, then one decided against every programme."""
    officer = create_user(db_session, "officer", org)
    sign_in(client, officer)

    def recorded(codes: tuple[str, ...], matches: int) -> Encounter:
        for code in codes:
            assign_operator(db_session, programme(db_session, code), org.id, "police")
        person = create_person(db_session, family_name=f"Seen{next(_names)}", date_of_birth=date(1990, 1, 1))
        lookalikes(db_session, person, org, matches)
        encounter = create_encounter(
            db_session, person, org, officer_id=officer.id, offence_category="theft", drug_class=None
        )
        record_encounter(db_session, officer, encounter)
        return encounter

    few = measure(client, f"/encounters/{recorded(ADULT_PROGRAMMES[:2], FEW).id}")
    everything = recorded(ADULT_PROGRAMMES, 10)
    many = measure(client, f"/encounters/{everything.id}")
    page = client.get(f"/encounters/{everything.id}").get_data(as_text=True)
    assert page.count('data-testid="programme"') == len(ADULT_PROGRAMMES)
    check("encounter page", few, many)


def test_override_page(client: PageClient, db_session: Session, org: Organisation) -> None:
    officer = create_user(db_session, "officer", org)
    case = open_case(db_session, "checkpoint", officer)
    sign_in(client, create_user(db_session, "supervisor", org))
    assert case.decision_id is not None
    few = measure(client, f"/decisions/{case.decision_id}/override")
    grow_case(db_session, case, MANY)
    many = measure(client, f"/decisions/{case.decision_id}/override")
    check("override decision", few, many)


def test_possible_matches_page(client: PageClient, db_session: Session, org: Organisation) -> None:
    """Possible duplicates and earlier merges of a person, as a supervisor sees them."""
    supervisor = create_user(db_session, "supervisor", org)
    sign_in(client, supervisor)
    person = create_person(db_session, family_name="Twin", date_of_birth=date(1991, 2, 3))
    create_encounter(db_session, person, org)

    def grow(count: int) -> None:
        lookalikes(db_session, person, org, min(count, 10))
        for _ in range(count):
            gone = create_person(db_session, family_name=f"Gone{next(_names)}")
            db_session.add(
                PersonMerge(
                    survivor_id=person.id,
                    merged_id=gone.id,
                    reason="Same person",
                    moved={"encounters": [], "referrals": [], "filled": {}},
                    merged_by_id=supervisor.id,
                )
            )
        db_session.flush()

    grow(FEW)
    few = measure(client, f"/people/{person.id}/matches")
    grow(MANY - FEW)
    many = measure(client, f"/people/{person.id}/matches")
    page = client.get(f"/people/{person.id}/matches").get_data(as_text=True)
    assert page.count('data-testid="merge"') == MANY and page.count('name="duplicate_id"') == 10
    check("possible matches", few, many)


# ---- Administration and monitoring ----------------------------------------------------------------


def test_admin_home(client: PageClient, db_session: Session, org: Organisation) -> None:
    sign_in(client, create_user(db_session, "admin", org))
    roles = ("officer", "supervisor", "navigator", "coach", "analyst", "yot_caseworker")
    for n in range(FEW):
        create_user(db_session, roles[n], org)
    few = measure(client, "/home")
    for n in range(MANY - FEW):
        create_user(db_session, roles[n % len(roles)], org)
    many = measure(client, "/home")
    check("home admin", few, many)


def test_admin_users(client: PageClient, db_session: Session, org: Organisation) -> None:
    sign_in(client, create_user(db_session, "admin", org))
    for _ in range(FEW):
        create_user(db_session, "officer", org)
    few = measure(client, "/admin/users")
    for _ in range(MANY - FEW):
        create_user(db_session, "navigator", org)
    many = measure(client, "/admin/users")
    check("admin users", few, many)


def test_admin_tokens(client: PageClient, db_session: Session, org: Organisation) -> None:
    admin = create_user(db_session, "admin", org)
    sign_in(client, admin)

    def issue(count: int) -> None:
        for _ in range(count):
            tokens.create(db_session, create_user(db_session, "officer", org), "partner", created_by=admin)

    issue(FEW)
    few = measure(client, "/admin/tokens")
    issue(MANY - FEW)
    many = measure(client, "/admin/tokens")
    assert client.get("/admin/tokens").get_data(as_text=True).count("Revoke<span") == MANY
    check("admin tokens", few, many)


def extra_programmes(session: Session, count: int) -> None:
    """Programmes with a version each, as if more definitions had been loaded."""
    template = latest(session, "tvp-adult-drugs")
    for _ in range(count):
        n = next(_names)
        extra = Programme(code=f"extra-{n}", name=f"Extra programme {n}")
        extra.versions = [
            ProgrammeVersion(
                version=1,
                effective_from=date(2026, 1, 1),
                content_hash=f"{n:064d}",
                definition=template.definition,
            )
        ]
        session.add(extra)
    session.flush()


@pytest.mark.parametrize("path", ["/admin/programmes", "/admin/reference"])
def test_admin_programme_lists(client: PageClient, db_session: Session, org: Organisation, path: str) -> None:
    sign_in(client, create_user(db_session, "admin", org))
    extra_programmes(db_session, FEW)
    few = measure(client, path)
    extra_programmes(db_session, MANY - FEW)
    many = measure(client, path)
    check(f"admin {path.rsplit('/', 1)[-1]}", few, many)


def test_admin_import_page(client: PageClient, db_session: Session, org: Organisation) -> None:
    admin = create_user(db_session, "admin", org)
    sign_in(client, admin)
    people = [create_person(db_session, family_name=f"Imported{next(_names)}") for _ in range(MANY)]
    few = measure(client, "/admin/import")
    for person in people:
        create_encounter(db_session, person, org, officer_id=admin.id)
    many = measure(client, "/admin/import")
    check("admin import", few, many)


def monitored(session: Session, officer: User, count: int) -> None:
    """Encounters across ethnic groups and months, each decided (and some referred)."""
    codes = ("W1", "B1", "A1", "M1", "O2", "NS")
    for _ in range(count):
        n = next(_names)
        case = open_case(
            session,
            "tvp-youth-drugs",
            officer,
            person=create_person(
                session, family_name=f"Mon{n}", self_defined_ethnicity=codes[n % len(codes)]
            ),
            occurred_at=datetime(2025, 1 + n % 12, 1 + n % 27, 12, tzinfo=UTC),
        )
        if n % 2:
            refer(session, officer, case)


@pytest.mark.parametrize("role", ["analyst", "supervisor"])
def test_monitoring_page(client: PageClient, db_session: Session, org: Organisation, role: str) -> None:
    officer = create_user(db_session, "officer", org)
    sign_in(client, create_user(db_session, role, org))
    monitored(db_session, officer, FEW)
    few = measure(client, "/monitoring")
    monitored(db_session, officer, MANY - FEW)
    many = measure(client, "/monitoring")
    check(f"monitoring {role}", few, many)
    if role == "analyst":
        again = measure(client, "/monitoring")
        assert len(again) == PINNED["monitoring analyst again"], again.report()


def test_monitoring_csv_builds_only_the_table(
    client: PageClient, db_session: Session, org: Organisation
) -> None:
    officer = create_user(db_session, "officer", org)
    sign_in(client, create_user(db_session, "supervisor", org))
    monitored(db_session, officer, FEW)
    few = measure(client, "/monitoring/export.csv")
    monitored(db_session, officer, MANY - FEW)
    many = measure(client, "/monitoring/export.csv")
    check("monitoring CSV supervisor", few, many)
    assert not any("referral_events" in s for s in many), "the CSV counts no reasons"
    # The figures come from the journey rows, which carry what they are grouped by.
    assert not any(" people" in s for s in many if "monitoring_" in s), many.report()


def test_population_baselines(client: PageClient, db_session: Session, org: Organisation) -> None:
    """The administrator's list of uploaded population baselines, each by a different person."""
    sign_in(client, create_user(db_session, "admin", org))

    def upload(count: int) -> None:
        for _ in range(count):
            uploader = create_user(db_session, "admin", org)
            db_session.add(PopulationBaseline(name=f"Census {next(_names)}", uploaded_by_id=uploader.id))
        db_session.flush()

    upload(FEW)
    few = measure(client, "/monitoring/population")
    upload(MANY - FEW)
    many = measure(client, "/monitoring/population")
    check("population baselines", few, many)


# ---- The API --------------------------------------------------------------------------------------


def bearer(session: Session, user: User) -> dict[str, str]:
    issued = tokens.create(session, user, "partner", created_by=None)
    # As a partner's token in use: its last use written moments ago, so no request here writes it
    # again (tokens._record_use), and each is counted the same.
    issued.token.last_used_at = utcnow()
    session.flush()
    return {"Authorization": f"Bearer {issued.secret}"}


def test_api_referral(client: PageClient, db_session: Session, org: Organisation) -> None:
    officer = create_user(db_session, "officer", org)
    case = refer(db_session, officer, open_case(db_session, "checkpoint", officer))
    headers = bearer(db_session, create_user(db_session, "supervisor", org))
    grow_case(db_session, case, FEW)
    few = measure(client, f"/api/v1/referrals/{case.id}", headers)
    grow_case(db_session, case, MANY - FEW)
    many = measure(client, f"/api/v1/referrals/{case.id}", headers)
    body = client.get(f"/api/v1/referrals/{case.id}", headers=headers).json
    assert len(body["contacts"]) == MANY and len(body["events"]) > MANY
    check("api referral", few, many)


def test_api_person_encounters(client: PageClient, db_session: Session, org: Organisation) -> None:
    officer = create_user(db_session, "officer", org)
    for code in ADULT_PROGRAMMES:
        assign_operator(db_session, programme(db_session, code), org.id, "police")
    person = create_person(db_session, family_name="Often", date_of_birth=date(1990, 1, 1), gender="female")
    headers = bearer(db_session, create_user(db_session, "supervisor", org))

    def grow(start: int, count: int) -> None:
        for n in range(start, start + count):
            encounter = create_encounter(
                db_session,
                person,
                org,
                officer_id=officer.id,
                offence_category="theft",
                drug_class=None,
                occurred_at=datetime(2025, 1, 1, tzinfo=UTC) + timedelta(days=n),
            )
            record_encounter(db_session, officer, encounter)

    grow(0, FEW)
    few = measure(client, f"/api/v1/people/{person.id}/encounters", headers)
    grow(FEW, MANY - FEW)
    many = measure(client, f"/api/v1/people/{person.id}/encounters", headers)
    body = client.get(f"/api/v1/people/{person.id}/encounters", headers=headers).json
    assert len(body["encounters"]) == MANY
    assert sum(len(e["decisions"]) for e in body["encounters"]) == MANY * len(ADULT_PROGRAMMES)
    check("api person encounters", few, many)


def test_api_subject_access_export(client: PageClient, db_session: Session, org: Organisation) -> None:
    """Everything on a person with many cases, each with its timeline, appointments, needs and contract."""
    version = latest(db_session, "checkpoint")
    person = create_person(db_session, family_name="Asks", date_of_birth=date(1990, 1, 1))
    headers = bearer(db_session, create_user(db_session, "supervisor", org))

    def cases(start: int, count: int) -> None:
        for n in range(start, start + count):
            encounter = create_encounter(
                db_session, person, org, occurred_at=datetime(2025, 1, 1, tzinfo=UTC) + timedelta(days=n)
            )
            case = bare_case(db_session, person, encounter, version, org)
            db_session.add(
                NeedsAssessment(referral_id=case.id, assessed_on=date(2025, 2, 1), needs=[], summary="")
            )
            grow_case(db_session, case, 2)

    cases(0, FEW)
    few = measure(client, f"/api/v1/people/{person.id}/export", headers)
    cases(FEW, MANY - FEW)
    many = measure(client, f"/api/v1/people/{person.id}/export", headers)
    body = client.get(f"/api/v1/people/{person.id}/export", headers=headers).json
    assert len(body["referrals"]) == MANY
    assert all(len(case["contract"]["conditions"]) == 2 for case in body["referrals"])
    check("api subject access export", few, many)


# ---- Recording through the API (issue 19) ---------------------------------------------------------

# Statements of one POST /api/v1/encounters for a force running two programmes, one of which the
# person is eligible for. Not the same on both databases, unlike the pages: PostgreSQL takes the
# identity lock (one statement, pathways/identity.py), and inserts each table's rows in one
# statement (SQLAlchemy's insertmanyvalues), while SQLite cannot return the ids of a multi-row
# INSERT in order, so there the ORM sends the two decisions and the three audit entries a row each.
# Token and user; idempotency key; the codes sent; programmes and versions in force; [lock]; the
# person's records by PNC ID or name; person (new only), encounter, their history; decisions; the
# case, its police party, its history; audit entries; the case's timeline event; the idempotency
# row; the two monitoring journey rows; one note that monitoring's data changed (its kept releases,
# issue 13: once a transaction). A known person adds what the record lacked (here the
# postcode district), their open cases, their merged records, earlier encounters and those
# encounters' cases. Before issue 19: 34 and 32 on PostgreSQL, 31 and 29 on SQLite.
RECORDING: dict[str, dict[str, int]] = {
    "postgresql": {"new person": 19, "known person": 23},
    "sqlite": {"new person": 21, "known person": 24},
}


def test_api_recording(
    client: PageClient, db_session: Session, org: Organisation, no_default_agreements: None
) -> None:
    """Recording a new person, and known people with few or many earlier encounters: the count is
    the same whatever the history, and pinned."""
    for code in ("tvp-adult-drugs", "tvp-youth-drugs"):
        assign_operator(db_session, programme(db_session, code), org.id, "police")
    officer = create_user(db_session, "officer", org)
    headers = bearer(db_session, officer)
    keys = itertools.count(1)

    def known(family_name: str, pnc_id: str, encounters: int) -> dict[str, str]:
        """A person on record with ``encounters`` earlier thefts (no case: the drugs schemes only)."""
        born = date(1990, 1, 1)
        person = create_person(
            db_session, org, given_name="Known", family_name=family_name, date_of_birth=born, pnc_id=pnc_id
        )
        for n in range(encounters):
            encounter = create_encounter(
                db_session,
                person,
                org,
                officer_id=officer.id,
                offence_category="theft",
                drug_class=None,
                personal_use=None,
                occurred_at=datetime(2025, 1, 1, tzinfo=UTC) + timedelta(days=n),
            )
            record_encounter(db_session, officer, encounter)
        return {
            "given_name": "Known",
            "family_name": family_name,
            "date_of_birth": born.isoformat(),
            "pnc_id": pnc_id,
        }

    def record(**person_fields: str) -> Queries:
        body = encounter_body()
        body["person"] |= person_fields
        with count_queries() as queries:
            response = client.post(
                "/api/v1/encounters", json=body, headers={**headers, "Idempotency-Key": f"k{next(keys)}"}
            )
        assert response.status_code == 201, response.get_data(as_text=True)[:800]
        decisions = {d["programme"]: d for d in response.json["decisions"]}
        assert decisions["tvp-adult-drugs"]["case_id"] and decisions["tvp-youth-drugs"]["case_id"] is None
        return queries

    pinned = RECORDING[db_session.get_bind().dialect.name]
    # Once first, uncounted: a process reads each version's definition once, when it first decides.
    record(given_name="Warm", pnc_id="90/7654320A")
    first = record(given_name="First", pnc_id="90/7654321B")
    second = record(given_name="Second", pnc_id="90/7654322C")
    assert len(first) == len(second) == pinned["new person"], f"pinned {pinned}\n{second.report()}"
    few = record(**known("Seldom", "90/1234567A", FEW))
    many = record(**known("Often", "90/1234568B", MANY))
    assert len(few) == len(many), f"a query per earlier encounter?\n{few.report()}\n{many.report()}"
    assert len(many) == pinned["known person"], f"pinned {pinned}\n{many.report()}"
