"""The officer's form asks only what the programmes their force runs need, as officers of two forces see it.

Thames Valley runs the youth and adult drug schemes; Durham runs Checkpoint; a third force runs a scheme
written as a file that declares facts of its own. Without JavaScript the form reveals the questions an
answer makes necessary on the next page; the tests post as such a browser does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from divert.models import Decision, Encounter, Programme
from divert.pathways.programmes import PROGRAMMES_DIR, assign_operator, sync_definitions

from .client import form_fields, parse
from .factories import create_organisation
from .rules.test_questions import CAUTION_FACTS, CAUTION_RULES


@pytest.fixture
def forces(db_session: Session, org: Any) -> dict[str, Any]:
    """``org`` is Thames Valley (youth and adult schemes); Durham runs Checkpoint."""
    sync_definitions(db_session)
    yot = create_organisation(db_session, kind="yot")
    durham = create_organisation(db_session, kind="police_force")
    for code in ("tvp-youth-drugs", "tvp-adult-drugs"):
        programme = db_session.scalars(select(Programme).where(Programme.code == code)).one()
        assign_operator(db_session, programme, org.id, "police")
        assign_operator(db_session, programme, yot.id, "receiving")
    checkpoint = db_session.scalars(select(Programme).where(Programme.code == "checkpoint")).one()
    assign_operator(db_session, checkpoint, durham.id, "police")
    return {"tvp": org, "durham": durham}


def _person(**changes: Any) -> dict[str, Any]:
    data = {
        "given_name": "Ava",
        "family_name": "Stone",
        "date_of_birth": ["3", "5", "2011"],  # 15 on the days these tests run
        "gender": "female",
        "self_defined_ethnicity": "W1",
        "setting": "street",
        "offence_category": "drug_possession",
    }
    data.update(changes)
    return data


def _page(response: Any) -> Any:
    return parse(response).select_one("main form")


def _questions(form: Any) -> list[str]:
    """The question inputs the page shows (not hidden), in order."""
    return [
        block["data-question"] for block in form.select("[data-question]") if not block.has_attr("hidden")
    ]


def _sent(form: Any) -> dict[str, Any]:
    """What a browser sends for the form as it stands: text and hidden inputs, ticked boxes, chosen options
    (questions hidden for JavaScript to show are sent too, as a browser does)."""
    values = {k: v if isinstance(v, list) else [v] for k, v in form_fields(form).items()}
    for box in form.select("input[type=radio][checked], input[type=checkbox][checked]"):
        values.setdefault(box["name"], []).append(box.get("value", "on"))
    for menu in form.select("select"):
        chosen = menu.select_one("option[selected]")
        if chosen is not None and chosen.get("value"):
            values[menu["name"]] = [chosen["value"]]
    return {k: v[0] if len(v) == 1 else v for k, v in values.items()}


def _post(client: Any, form: Any, answers: dict[str, Any]) -> Any:
    fields = {k: v for k, v in _sent(form).items() if k not in answers}
    return client.post("/encounters/new", data={**fields, **answers})


def test_a_thames_valley_officer_is_asked_no_drug_question_until_the_offence_is_given(
    client: Any, signed_in: Any, forces: Any
) -> None:
    signed_in("officer", organisation=forces["tvp"])
    form = _page(client.get("/encounters/new"))
    assert _questions(form) == []
    assert form.select_one("#admission") is None and form.select_one("[name=facts]") is None
    assert form.select_one("#offence_on") is None, "no Thames Valley rule uses the offence's age"
    assert form.select_one("button.govuk-button").text.strip() == "Continue"


def test_a_youth_first_possession_takes_eight_answers_and_shows_the_youth_scheme_first(
    client: Any, signed_in: Any, forces: Any, db_session: Session
) -> None:
    signed_in("officer", organisation=forces["tvp"])
    first = _post(client, _page(client.get("/encounters/new")), _person())
    assert first.status_code == 200, "the drug questions are revealed, not reported missing"
    page = parse(first)
    assert page.select_one(".govuk-error-summary") is None
    form = page.select_one("main form")
    assert _questions(form) == ["personal_use", "supply_suspected"]
    assert form.select_one("button.govuk-button").text.strip() == "Record and check eligibility"
    assert page.select_one("[data-testid=revealed]").text == "Your answers need this question too."
    assert db_session.scalar(select(func.count()).select_from(Encounter)) == 0

    done = _post(client, form, {"personal_use": "yes"})
    assert done.status_code == 302
    # Seven answers on the first page and one revealed: eight, the date and time and supply defaulted.
    assert len(_person()) + 1 == 8
    decision_page = parse(client.get(done.headers["Location"]))
    sections = decision_page.select("[data-testid=programme]")
    assert sections[0].h2.text.strip().startswith("Thames Valley drug diversion (youth)")
    assert "Eligible" in sections[0].h2.text
    encounter = db_session.scalars(select(Encounter)).one()
    assert encounter.personal_use is True and encounter.admission == "not_asked"


def test_a_revealed_question_left_blank_is_then_reported(client: Any, signed_in: Any, forces: Any) -> None:
    signed_in("officer", organisation=forces["tvp"])
    revealed = _page(_post(client, _page(client.get("/encounters/new")), _person()))
    again = _post(client, revealed, {})
    assert again.status_code == 400
    errors = [a.text.strip() for a in parse(again).select(".govuk-error-summary a")]
    assert errors == ["Select whether the drugs were for personal use"]


def test_a_theft_is_recorded_at_once_and_its_decisions_do_not_mention_drugs(
    client: Any, signed_in: Any, forces: Any, db_session: Session
) -> None:
    signed_in("officer", organisation=forces["tvp"])
    # A hand-made post with drug answers too: a theft stores none of them.
    done = _post(
        client,
        _page(client.get("/encounters/new")),
        _person(offence_category="theft", personal_use="no", drug_class="B", admission="denied"),
    )
    assert done.status_code == 302
    encounter = db_session.scalars(select(Encounter)).one()
    assert (encounter.personal_use, encounter.drug_class, encounter.admission) == (None, None, "not_asked")
    page = parse(client.get(done.headers["Location"]))
    sections = page.select("[data-testid=programme]")
    assert sections[0].h2.text.strip().startswith("Thames Valley drug diversion (youth)")
    assert "personal use" not in page.text
    youth = [li.text for li in sections[0].select("[data-testid=reasons] li")]
    assert youth == ["The offence is theft, not drug possession, so the traditional pathway applies."]
    stored = db_session.scalars(select(Decision).order_by(Decision.id)).all()
    assert any(r.get("asked") is False for d in stored for r in d.reasons)


def test_an_adult_possession_asks_the_adult_scheme_and_shows_it_first(
    client: Any, signed_in: Any, forces: Any
) -> None:
    signed_in("officer", organisation=forces["tvp"])
    revealed = _page(
        _post(client, _page(client.get("/encounters/new")), _person(date_of_birth=["3", "5", "1990"]))
    )
    assert _questions(revealed) == ["personal_use", "supply_suspected"]
    done = _post(client, revealed, {"personal_use": "yes"})
    sections = parse(client.get(done.headers["Location"])).select("[data-testid=programme]")
    assert sections[0].h2.text.strip().startswith("Thames Valley drug diversion (adult)")


def test_a_durham_officer_is_asked_checkpoints_questions_and_no_drug_question(
    client: Any, signed_in: Any, forces: Any, db_session: Session
) -> None:
    signed_in("officer", organisation=forces["durham"])
    form = _page(client.get("/encounters/new"))
    assert _questions(form) == ["facts", "offence_on", "admission"]
    boxes = [box["value"] for box in form.select("[name=facts]")]
    assert boxes == ["lives_in_area", "offended_in_area", "hate_crime", "on_court_order", "co_accused"]
    assert form.select_one("button.govuk-button").text.strip() == "Record and check eligibility"
    done = _post(
        client,
        form,
        _person(
            date_of_birth=["3", "5", "1990"],
            offence_category="theft",
            admission="admitted",
            facts=["lives_in_area", "offended_in_area"],
        ),
    )
    assert done.status_code == 302
    page = parse(client.get(done.headers["Location"]))
    assert "Eligible" in page.select_one("[data-testid=programme] h2").text
    # Thames Valley's questions are not Durham's: a 15-year-old's possession asks nothing about drugs there
    # (Checkpoint is for adults), so it is recorded at once.
    possession = _post(client, _page(client.get("/encounters/new")), _person(family_name="Rowe"))
    assert possession.status_code == 302


def test_without_an_admission_a_durham_officer_is_told_what_to_answer(
    client: Any, signed_in: Any, forces: Any
) -> None:
    signed_in("officer", organisation=forces["durham"])
    response = _post(client, _page(client.get("/encounters/new")), _person(date_of_birth=["3", "5", "1990"]))
    assert response.status_code == 400
    errors = [a.text.strip() for a in parse(response).select(".govuk-error-summary a")]
    assert errors == ["Select what the person said about the offence"]


# ---- a scheme written as a file, with facts of its own ---------------------------------------------------


@pytest.fixture
def caution_force(db_session: Session, tmp_path: Path) -> Any:
    document = yaml.safe_load((PROGRAMMES_DIR / "tvp-adult-drugs-v2.yaml").read_text())
    document.update(code="example-caution", name="Conditional caution (example)", version=1)
    document.update(effective_from="2020-01-01", facts=CAUTION_FACTS, eligibility=CAUTION_RULES)
    (tmp_path / "example-caution.yaml").write_text(yaml.safe_dump(document))
    sync_definitions(db_session, tmp_path)
    force = create_organisation(db_session, kind="police_force")
    programme = db_session.scalars(select(Programme).where(Programme.code == "example-caution")).one()
    assign_operator(db_session, programme, force.id, "police")
    return force


def test_a_declared_question_is_asked_for_the_offences_it_names_and_decides_the_case(
    client: Any, signed_in: Any, caution_force: Any, db_session: Session
) -> None:
    signed_in("officer", organisation=caution_force)
    form = _page(client.get("/encounters/new"))
    assert _questions(form) == ["fact_gravity_score", "facts"]
    assert [box["value"] for box in form.select("[name=facts]")] == ["on_bail"]
    # Shown with JavaScript when the offence is one the question is for.
    assert [b["data-question"] for b in form.select("[data-question][hidden]")] == ["fact_victim_consents"]
    adult = {"date_of_birth": ["3", "5", "1990"], "offence_category": "theft"}
    revealed = parse(_post(client, form, _person(**adult, fact_gravity_score="2")))
    assert revealed.select_one(".govuk-error-summary") is None
    form = revealed.select_one("main form")
    assert _questions(form)[0] == "fact_victim_consents"
    assert "Does the victim agree to a conditional caution?" in form.text
    assert "Ask the victim, or the officer in the case" in form.text
    done = _post(client, form, {"fact_victim_consents": "yes"})
    assert done.status_code == 302
    encounter = db_session.scalars(select(Encounter)).one()
    assert encounter.declared_facts == {"victim_consents": True, "gravity_score": 2, "on_bail": False}
    assert (
        "Eligible"
        in parse(client.get(done.headers["Location"])).select_one("[data-testid=programme] h2").text
    )


def test_a_declared_number_out_of_range_is_refused(client: Any, signed_in: Any, caution_force: Any) -> None:
    signed_in("officer", organisation=caution_force)
    response = _post(
        client,
        _page(client.get("/encounters/new")),
        _person(date_of_birth=["3", "5", "1990"], offence_category="fraud", fact_gravity_score="9"),
    )
    assert response.status_code == 400
    errors = [a.text.strip() for a in parse(response).select(".govuk-error-summary a")]
    assert errors == ["Enter a whole number from 1 to 5: Gravity score"]


def test_an_administrator_reads_the_questions_a_version_declares(
    client: Any, signed_in: Any, caution_force: Any, db_session: Session
) -> None:
    signed_in("admin")
    version = (
        db_session.scalars(select(Programme).where(Programme.code == "example-caution")).one().versions[0]
    )
    table = parse(client.get(f"/admin/programmes/versions/{version.id}")).select_one(
        "[data-testid=declared-facts]"
    )
    rows = [[cell.text.strip() for cell in row.select("td")] for row in table.select("tbody tr")]
    assert rows[0] == [
        "victim_consents",
        "Does the victim agree to a conditional caution? (Ask the victim, or the officer in the case)",
        "offence_category in ['theft', 'criminal_damage', 'common_assault']",
    ]
    assert rows[2][1] == "Not asked: counted from earlier encounters"
