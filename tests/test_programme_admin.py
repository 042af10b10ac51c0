"""Programme versions in the browser: upload, see problems by field, compare, publish or discard."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from divert.app.clock import today
from divert.models import AuditEntry, Programme, ProgrammeVersion
from divert.pathways.cases import record_encounter
from divert.pathways.importing.reference import load_reference
from divert.pathways.programmes import PROGRAMMES_DIR, assign_operator, sync_definitions, version_in_force

from .client import parse
from .factories import create_encounter, create_organisation, create_person, create_user

V2 = (PROGRAMMES_DIR / "tvp-youth-drugs-v3.yaml").read_text(encoding="utf-8")  # the latest shipped
# Version 4 narrows the youth scheme to 10 to 15: a 16-year-old is eligible under version 3 only.
V3 = V2.replace("version: 3\n", "version: 4\n").replace("age >= 10 and age < 18", "age >= 10 and age < 16")
BROKEN = V3.replace("age >= 10 and age < 16", "age >= 10 and age <<< 16")


@pytest.fixture
def youth(db_session: Session, org: Any, tmp_path: Path) -> Programme:
    # These tests draft over version 3 as the latest stored; the shipped version 4 (from April 2027,
    # with the population) would make every draft a 5, so it is left out of what they load.
    shipped = tmp_path / "programmes"
    shipped.mkdir()
    for file in PROGRAMMES_DIR.glob("*.yaml"):
        if file.name != "tvp-youth-drugs-v4.yaml":
            (shipped / file.name).write_text(file.read_text(encoding="utf-8"), encoding="utf-8")
    sync_definitions(db_session, shipped)
    programme = db_session.scalars(select(Programme).where(Programme.code == "tvp-youth-drugs")).one()
    assign_operator(db_session, programme, org.id, "police")
    return programme


def _versions(db_session: Session, programme: Programme) -> int:
    return (
        db_session.scalar(
            select(func.count())
            .select_from(ProgrammeVersion)
            .where(ProgrammeVersion.programme_id == programme.id)
        )
        or 0
    )


def _upload(client: Any, text: str) -> Any:
    return client.submit("/admin/programmes/upload", {"text": text})


def _date_fields(day: date) -> dict[str, str]:
    return {"effective_from": [str(day.day), str(day.month), str(day.year)]}  # type: ignore[dict-item]


def _sixteen_year_old_today(db_session: Session, org: Any) -> Any:
    now = datetime.now(UTC)
    born = date(today().year - 16, 1, 1) if today().month > 1 else date(today().year - 17, 2, 1)
    person = create_person(db_session, org, date_of_birth=born)
    officer = create_user(db_session, "officer", org)
    encounter = create_encounter(db_session, person, org, occurred_at=now)
    return record_encounter(db_session, officer, encounter)


def test_an_upload_with_a_problem_names_the_field_and_stores_nothing(
    client: Any, signed_in: Any, youth: Programme, db_session: Session
) -> None:
    signed_in("admin")
    before = _versions(db_session, youth)
    response = _upload(client, BROKEN)
    assert response.status_code == 400
    page = parse(response)
    summary = page.select_one(".govuk-error-summary")
    assert summary is not None and "eligibility[0].when" in summary.text
    rows = [
        [c.text.strip() for c in r.select("td")]
        for r in page.select("[data-testid=definition-problems] tbody tr")
    ]
    assert [path for path, _ in rows] == ["eligibility[0].when"]
    assert page.title is not None and page.title.text.startswith("Error:")
    assert _versions(db_session, youth) == before


def test_an_upload_that_reuses_a_version_number_is_refused_by_field(
    client: Any, signed_in: Any, youth: Programme, db_session: Session
) -> None:
    signed_in("admin")
    response = _upload(client, V2.replace("age < 18", "age < 17"))
    assert response.status_code == 400
    assert "version: must be more than 3" in parse(response).select_one(".govuk-error-summary").text
    nothing = client.submit("/admin/programmes/upload", {"text": "  "})
    assert "Select a definition file or paste the definition" in parse(nothing).text


def test_a_corrected_upload_is_a_draft_that_shows_the_changed_rule_and_decides_nothing(
    client: Any, signed_in: Any, youth: Programme, org: Any, db_session: Session
) -> None:
    signed_in("admin")
    assert _upload(client, BROKEN).status_code == 400
    response = client.post(
        "/admin/programmes/upload",
        data={
            "file": (__import__("io").BytesIO(V3.encode()), "youth-v3.yaml"),
            "csrf_token": client.csrf_token("/admin/programmes/upload"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    page = parse(client.get(response.headers["Location"]))
    assert "Draft" in page.select_one(".govuk-caption-l").text
    change = next(c for c in page.select("[data-testid=change]") if "age-under-18" in c.text)
    assert "Changed" in change.text
    cells = [td.text for td in change.find_next("table").select("tbody td")]
    assert cells == ["age >= 10 and age < 18", "age >= 10 and age < 16"]

    draft = db_session.scalars(
        select(ProgrammeVersion).where(
            ProgrammeVersion.programme_id == youth.id, ProgrammeVersion.version == 4
        )
    ).one()
    assert draft.status == "draft" and draft.uploaded_by_id is not None
    # Drafts never decide: today's encounter is decided with version 3, the version in force.
    assert version_in_force(db_session, youth, today()).version == 3
    (outcome,) = _sixteen_year_old_today(db_session, org)
    assert outcome.decision.programme_version.version == 3 and outcome.decision.eligible
    # Nor does a bulk import see it.
    info = load_reference(db_session).programmes["tvp-youth-drugs"]
    assert [v.version for v in info.versions] == [1, 2, 3]
    listed = parse(client.get("/admin/programmes"))
    card = next(c for c in listed.select("[data-testid=programme-card]") if "(tvp-youth-drugs)" in c.text)
    assert "Draft" in card.text


def test_publishing_needs_a_date_not_in_the_past_then_decides_from_it(
    client: Any, signed_in: Any, youth: Programme, org: Any, db_session: Session
) -> None:
    admin = signed_in("admin")
    location = _upload(client, V3).headers["Location"]
    version_id = int(location.rstrip("/").split("/")[-1])
    publish = f"/admin/programmes/drafts/{version_id}/publish"
    past = client.submit(publish, _date_fields(today() - timedelta(days=1)), token_from=location)
    assert past.status_code == 400
    assert "must be today or in the future" in parse(past).select_one(".govuk-error-summary").text
    assert version_in_force(db_session, youth, today() + timedelta(days=30)).version == 3

    done = client.submit(publish, _date_fields(today()), token_from=location)
    assert done.status_code == 302
    shown = parse(client.get(done.headers["Location"]))
    assert "In force from" in shown.select_one(".govuk-caption-l").text
    assert version_in_force(db_session, youth, today()).version == 4
    assert version_in_force(db_session, youth, today() - timedelta(days=1)).version == 3
    (outcome,) = _sixteen_year_old_today(db_session, org)
    assert outcome.decision.programme_version.version == 4 and not outcome.decision.eligible

    # Published: it cannot be published again or discarded, only superseded.
    again = client.submit(publish, _date_fields(today()), token_from="/admin/programmes")
    assert again.status_code == 302
    assert "cannot be changed" in parse(client.get(again.headers["Location"])).text
    discard = client.submit(
        f"/admin/programmes/drafts/{version_id}/discard", {}, token_from="/admin/programmes"
    )
    assert "only superseded" not in discard.get_data(as_text=True)
    assert "upload a new version to supersede it" in parse(client.get(discard.headers["Location"])).text
    assert db_session.get(ProgrammeVersion, version_id).status == "published"
    actions = db_session.scalars(
        select(AuditEntry.detail).where(
            AuditEntry.object_type == "programme_version",
            AuditEntry.object_id == str(version_id),
            AuditEntry.user_id == admin.id,
        )
    ).all()
    assert any(a.startswith("draft tvp-youth-drugs@4") for a in actions)
    assert any(a.startswith("published tvp-youth-drugs@4") for a in actions)


def test_a_draft_can_be_discarded_and_the_date_cannot_precede_the_latest_version(
    client: Any, signed_in: Any, youth: Programme, db_session: Session
) -> None:
    signed_in("admin")
    first = _upload(client, V3).headers["Location"]
    first_id = int(first.split("/")[-1])
    later = today() + timedelta(days=20)
    assert (
        client.submit(
            f"/admin/programmes/drafts/{first_id}/publish", _date_fields(later), token_from=first
        ).status_code
        == 302
    )
    second = _upload(client, V3.replace("version: 4\n", "version: 5\n")).headers["Location"]
    second_id = int(second.split("/")[-1])
    early = client.submit(
        f"/admin/programmes/drafts/{second_id}/publish", _date_fields(today()), token_from=second
    )
    assert early.status_code == 400
    assert "on or after" in parse(early).select_one(".govuk-error-summary").text
    gone = client.submit(f"/admin/programmes/drafts/{second_id}/discard", {}, token_from=second)
    assert gone.status_code == 302
    assert "discarded" in parse(client.get(gone.headers["Location"])).text
    assert db_session.get(ProgrammeVersion, second_id) is None


def test_definitions_are_the_services_not_one_organisations(
    client: Any, signed_in: Any, youth: Programme, db_session: Session
) -> None:
    # Programme definitions are shared by every organisation that runs them (``manage_programmes``
    # has scope "any"), so another organisation's administrator sees the draft; an officer does not.
    signed_in("admin")
    location = _upload(client, V3).headers["Location"]
    client.post("/sign-out", data={"csrf_token": client.csrf_token()})
    other = create_organisation(db_session, code="wmp", name="West Midlands Police")
    officer = create_user(db_session, "officer", other)
    client.sign_in(officer.email, "correct-horse-battery")
    assert client.get(location).status_code == 403
    assert client.get("/admin/programmes/upload").status_code == 403
    client.post("/sign-out", data={"csrf_token": client.csrf_token()})
    admin = create_user(db_session, "admin", other)
    client.sign_in(admin.email, "correct-horse-battery")
    assert "age >= 10 and age < 16" in parse(client.get(location)).text


def test_the_shipped_versions_differ_where_their_files_do() -> None:
    from divert.rules import load_definition
    from divert.rules.diff import compare_definitions

    def load(name: str) -> Any:
        return load_definition(Path(PROGRAMMES_DIR) / f"{name}.yaml")

    checkpoint = compare_definitions(load("checkpoint-v1"), load("checkpoint-v2"))
    assert [s.title for s in checkpoint] == ["Eligibility rules"]
    (rule,) = checkpoint[0].items
    assert (rule.kind, rule.item, rule.changes[0].field) == ("changed", "offence-on-list", "Condition")
    assert "'burglary'" in rule.changes[0].before and "'burglary'" not in rule.changes[0].after
    assert "'cyber'" in rule.changes[0].after

    youth = {
        s.title: s.items for s in compare_definitions(load("tvp-youth-drugs-v1"), load("tvp-youth-drugs-v2"))
    }
    assert sorted((i.kind, i.item) for i in youth["States"]) == [
        ("added", "charged"),
        ("added", "youth_caution"),
        ("removed", "formal_outcome"),
    ]
    added = {i.item: dict(i.fields) for i in youth["Transitions (who may move a case)"] if i.kind == "added"}
    assert added["Awaiting YJU decision to Charged by YJU decision"]["Who may move the case"] == (
        "Youth Justice Unit decision maker"
    )
    charged = next(i for i in youth["States"] if i.item == "charged")
    assert dict(charged.fields)["Home Office outcome code"] == "1"
    assert compare_definitions(load("checkpoint-v2"), load("checkpoint-v2")) == ()
