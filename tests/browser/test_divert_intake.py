"""DIVERT, as a coach does it on a phone: someone refers themselves after release, with no offence
to record, and the coach sets them a goal in training and sees them start it."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import BrowserContext, expect

from .pages import PHONE, LiveServer, case_status, fill_date, follow_navigation, open_signed_in

pytestmark = pytest.mark.browser

NewContext = Callable[..., BrowserContext]
TODAY = datetime.now(ZoneInfo("Europe/London")).date()


def test_a_coach_takes_in_a_self_referral_without_an_offence_and_sets_a_goal(
    new_context: NewContext, live_server: LiveServer
) -> None:
    page = open_signed_in(new_context, live_server.users["coach"], PHONE)
    follow_navigation(page, "Take someone in")
    expect(page.get_by_role("heading", level=1)).to_have_text("Take someone in")
    # Nothing asks for an offence: the person came forward themselves.
    expect(page.get_by_label("Offence")).to_have_count(0)
    family = "Okafor" + "".join(secrets.choice("bcdfghjklmnpqrstvwz") for _ in range(6))
    page.get_by_label("Self-referral").check()
    page.get_by_label("First name").fill("Chidi")
    page.get_by_label("Last name").fill(family)
    fill_date(page, "Date of birth", date(TODAY.year - 22, TODAY.month, min(TODAY.day, 28)))
    fill_date(page, "When you met them", TODAY)
    page.get_by_label("Time (optional)").fill("11:30")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    with page.expect_navigation():
        page.get_by_role("button", name="Take them in").click()
    expect(page.get_by_text(f"Chidi {family} has been taken in.", exact=False)).to_be_visible()
    expect(case_status(page)).to_have_text("Met outside custody")
    expect(page.get_by_test_id("timeline")).to_contain_text("Taken in directly: Self-referral.")

    # The goal: a training course, with the placement and its start date.
    starts = TODAY + timedelta(days=14)
    goal = page.get_by_test_id("goal-form")
    goal.get_by_label("Goal").select_option(label="Training")
    goal.get_by_label("Provider, course or employer").fill("Lambeth College electrical installation")
    goal.get_by_label("Start date").fill(starts.isoformat())
    with page.expect_navigation():
        goal.get_by_role("button", name="Add goal").click()
    goals = page.get_by_test_id("goals")
    expect(goals).to_contain_text("Lambeth College electrical installation")
    expect(goals).to_contain_text(f"{starts.day} {starts:%B %Y}")
    expect(page.get_by_test_id("into-eet")).to_have_count(0)
    # The course starts: that is the "into education, training or employment" DIVERT reports.
    goals.get_by_label("Status of Lambeth College electrical installation").select_option(label="Started")
    with page.expect_navigation():
        goals.get_by_role("button", name="Update Lambeth College electrical installation").click()
    expect(page.get_by_test_id("into-eet")).to_contain_text("Into education, training or employment on")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375


def test_a_supervisor_finds_a_not_eligible_encounter_and_opens_its_override(
    new_context: NewContext, live_server: LiveServer, axe_source: str
) -> None:
    from .test_accessibility_pages import Audit

    audit = Audit(axe_source)
    page = open_signed_in(new_context, live_server.users["supervisor"], PHONE)
    page.get_by_role("link", name="Encounters found not eligible").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Encounters found not eligible")
    audit(page, "not-eligible encounters")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    rows = page.get_by_test_id("not-eligible").locator("> li")
    expect(rows.first).to_be_visible()
    rows.first.get_by_role("link", name="Override").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Override")
    audit.verify()
