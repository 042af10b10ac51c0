"""axe-core finds no serious or critical accessibility problem on the pages people use most."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from .pages import HOME_HEADINGS, LiveServer, assert_accessible, sign_in

pytestmark = pytest.mark.browser


def test_sign_in_page(page: Page, axe_source: str, live_server: LiveServer) -> None:
    page.goto("/sign-in")
    assert_accessible(page, axe_source)


def test_sign_in_page_with_errors(page: Page, axe_source: str, live_server: LiveServer) -> None:
    page.goto("/sign-in")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    assert_accessible(page, axe_source)


@pytest.mark.parametrize("role", list(HOME_HEADINGS))
def test_home_page(page: Page, axe_source: str, live_server: LiveServer, role: str) -> None:
    sign_in(page, live_server.users[role])
    assert_accessible(page, axe_source)


def test_people_pages_and_the_edit_form(page: Page, axe_source: str, live_server: LiveServer) -> None:
    sign_in(page, live_server.users["officer"])
    for path in (
        "/people",
        f"/people?q={live_server.person_family_name}",
        f"/people/{live_server.person_id}",
        f"/people/{live_server.person_id}/edit",
    ):
        page.goto(path)
        assert_accessible(page, axe_source)

    page.get_by_label("Postcode district").fill("NOT A POSTCODE")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    assert_accessible(page, axe_source)
