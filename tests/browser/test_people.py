"""An officer finds a person, corrects their record, and sees the change in its history."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from .pages import LiveServer, sign_in

pytestmark = pytest.mark.browser

WHEN = re.compile(r"\d{1,2} \w+ \d{4} at \d{2}:\d{2}")  # as the history table shows times


def test_an_officer_finds_a_person_and_corrects_their_postcode_district(
    page: Page, live_server: LiveServer
) -> None:
    sign_in(page, live_server.users["officer"])
    page.get_by_role("link", name="People", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Find a person")

    page.get_by_label("Name or PNC ID").fill(live_server.person_family_name)
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("heading", name=f"for ‘{live_server.person_family_name}’")).to_be_visible()
    page.locator(f'a[href="/people/{live_server.person_id}"]').click()
    expect(page.get_by_role("heading", level=1)).to_have_text(live_server.person_name)

    page.get_by_role("link", name="Change details").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Change details for {live_server.person_name}")
    district = page.get_by_label("Postcode district")

    district.fill("NOT A POSTCODE")
    page.get_by_role("button", name="Save changes").click()
    message = "Enter the first half of a postcode, like OX4"
    expect(page.locator(".govuk-error-summary")).to_contain_text(message)
    expect(page.locator("#postcode_district-error")).to_contain_text(message)
    expect(page).to_have_title(f"Error: Change details for {live_server.person_name} – divert")

    old = live_server.person_district
    new = "OX1" if old != "OX1" else "OX4"
    district.fill(new.lower())  # the form accepts any case and stores capitals
    page.get_by_role("button", name="Save changes").click()
    page.wait_for_url(f"**/people/{live_server.person_id}")
    expect(page.get_by_text("Changes saved.")).to_be_visible()
    expect(page.locator(".govuk-summary-list")).to_contain_text(new)

    history = page.locator("table").filter(has=page.get_by_role("columnheader", name="Was"))
    newest = history.locator("tbody tr").first
    expect(newest.get_by_role("cell")).to_have_text([WHEN, "Postcode district", old or "–", new])
