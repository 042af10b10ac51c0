"""The officer's shortened encounter form on a phone (375 px): a youth first possession, timed and counted.

The form asks only what the programmes the force runs need for the offence (issue 14). These journeys count
the answers the officer had to give, measure the form's height in phone screens, and time the scripted
journey from opening the form to reading the decision; they print the figures for the closing note.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from .pages import PHONE, EncounterAnswers, LiveServer, fill_encounter, sign_in, submit_encounter

pytestmark = pytest.mark.browser

NewContext = Callable[..., BrowserContext]
TODAY = datetime.now(ZoneInfo("Europe/London")).date()
MOST_ANSWERS = 8
YOUTH = "Thames Valley drug diversion (youth)"


def _unique(name: str) -> str:
    return name + "".join(secrets.choice("bcdfghjklmnpqrstvwz") for _ in range(6))


def _fifteen() -> date:
    return date(TODAY.year - 15, TODAY.month, min(TODAY.day, 28)) - timedelta(days=40)


def _first_possession(family: str) -> EncounterAnswers:
    return EncounterAnswers(
        given_name="Kai",
        family_name=family,
        date_of_birth=_fifteen(),
        gender="Male",
        ethnicity="White – English/Welsh/Scottish/Northern Irish/British",
        setting="Street",
        offence="Possession of a controlled drug",
        personal_use="Yes",
        admission="Admitted the offence",
    )


def _form_screens(page: Page) -> float:
    """The form's height, from the page's top to the bottom of its button, in phone screens."""
    bottom = page.evaluate("document.querySelector('main form .govuk-button').getBoundingClientRect().bottom")
    top = page.evaluate("window.scrollY")
    return float(bottom + top) / PHONE["height"]


def _first_decision(page: Page) -> str:
    return page.get_by_test_id("programme").first.get_by_role("heading", level=2).inner_text()


def test_a_youth_first_possession_on_a_phone_in_at_most_eight_answers(
    new_context: NewContext, live_server: LiveServer
) -> None:
    page = new_context(viewport=PHONE).new_page()
    sign_in(page, live_server.users["officer"])
    family = _unique("Quill")
    started = time.perf_counter()
    page.goto("/encounters/new")
    expect(page.get_by_role("heading", level=1)).to_have_text("Record an encounter")
    # Nothing about drugs, admissions or other programmes' facts until the offence says they are needed.
    expect(page.get_by_role("group", name="Was it for personal use?")).to_be_hidden()
    expect(page.get_by_role("group", name="Admission")).to_have_count(0)
    answered = fill_encounter(page, _first_possession(family))
    expect(page.get_by_role("group", name="Was it for personal use?")).to_be_visible()
    screens = _form_screens(page)
    submit_encounter(page)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Eligibility for Kai {family}")
    seconds = time.perf_counter() - started

    assert _first_decision(page).startswith(YOUTH), "the programme that applies comes first"
    expect(page.get_by_test_id("programme").first.get_by_test_id("route")).to_have_text(
        "Referral to the Youth Offending Team"
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    print(
        f"\nyouth first possession at 375 px: {len(answered)} required answers ({', '.join(answered)}); "
        f"form {screens:.2f} phone screens ({PHONE['height']} px); scripted {seconds:.1f} s"
    )
    assert len(answered) <= MOST_ANSWERS, answered
    assert screens <= 1.5, f"the form is {screens:.2f} screens long"


def test_without_javascript_the_form_reveals_the_drug_questions_itself(
    new_context: NewContext, live_server: LiveServer
) -> None:
    page = new_context(viewport=PHONE, java_script_enabled=False).new_page()
    sign_in(page, live_server.users["officer"])
    family = _unique("Nojs")
    started = time.perf_counter()
    page.goto("/encounters/new")
    answers = _first_possession(family)
    answered = fill_encounter(page, answers)
    assert "Personal use" not in answered  # not on the page yet
    with page.expect_navigation():
        page.get_by_role("button", name="Continue").click()
    expect(page.locator(".govuk-error-summary")).to_have_count(0)
    expect(page.get_by_label("First name")).to_have_value("Kai")
    page.get_by_role("group", name="Was it for personal use?").get_by_label("Yes").check()
    answered.append("Personal use")
    submit_encounter(page)
    seconds = time.perf_counter() - started
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Eligibility for Kai {family}")
    assert _first_decision(page).startswith(YOUTH)
    print(f"\nwithout JavaScript: {len(answered)} required answers over two pages; scripted {seconds:.1f} s")
    assert len(answered) <= MOST_ANSWERS


def test_a_theft_asks_no_drug_questions_and_its_decision_does_not_mention_drugs(
    new_context: NewContext, live_server: LiveServer
) -> None:
    page = new_context(viewport=PHONE).new_page()
    sign_in(page, live_server.users["officer"])
    family = _unique("Thief")
    page.goto("/encounters/new")
    answers = _first_possession(family)
    answers.offence = "Theft"
    answered = fill_encounter(page, answers)
    assert "Personal use" not in answered
    expect(page.get_by_role("group", name="Was it for personal use?")).to_be_hidden()
    submit_encounter(page)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Eligibility for Kai {family}")
    assert _first_decision(page).startswith(YOUTH)
    expect(page.get_by_test_id("programme").first.get_by_test_id("reasons")).to_have_text(
        "The offence is theft, not drug possession, so the traditional pathway applies."
    )
    expect(page.get_by_text("personal use")).to_have_count(0)
