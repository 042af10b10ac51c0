"""Signing in and out through the real form, for every role, in a real browser."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from .pages import HOME_HEADINGS, ConsoleWatch, LiveServer, sign_in

pytestmark = pytest.mark.browser

# GOV.UK Frontend adds this class to <body> once its JavaScript has run.
JS_SUPPORTED = re.compile(r"(^|\s)govuk-frontend-supported(\s|$)")


@pytest.mark.parametrize("role", list(HOME_HEADINGS))
def test_each_role_signs_in_sees_their_home_and_signs_out(
    page: Page, live_server: LiveServer, role: str
) -> None:
    user = live_server.users[role]
    sign_in(page, user)

    expect(page.get_by_role("heading", level=1)).to_have_text(HOME_HEADINGS[role])
    navigation = page.locator(".govuk-service-navigation")
    expect(navigation).to_contain_text(user.name)

    navigation.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/sign-in")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to divert")
    expect(page.get_by_text("You have signed out.")).to_be_visible()
    expect(navigation).not_to_contain_text(user.name)


def test_a_wrong_password_shows_the_error_summary_whose_link_focuses_the_field(
    page: Page, live_server: LiveServer
) -> None:
    page.goto("/sign-in")
    page.get_by_label("Email address").fill(live_server.users["officer"].email)
    page.get_by_label("Password", exact=True).fill("not-the-right-password")
    page.get_by_role("button", name="Sign in").click()

    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("There is a problem")
    expect(page).to_have_title("Error: Sign in – divert")
    # GOV.UK's JavaScript moves focus to the summary so screen readers announce it.
    expect(summary).to_be_focused()

    summary.get_by_role("link", name="Enter a correct email address and password").click()
    expect(page.get_by_label("Email address")).to_be_focused()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to divert")


def test_govuk_javascript_runs_without_console_errors_or_csp_violations(
    page: Page, live_server: LiveServer
) -> None:
    watch = ConsoleWatch(page)
    page.goto("/sign-in")
    expect(page.locator("body")).to_have_class(JS_SUPPORTED)
    watch.check()

    sign_in(page, live_server.users["officer"])
    person = live_server.person_id
    for path in ("/home", "/people", f"/people?q={live_server.person_family_name}", f"/people/{person}"):
        page.goto(path)
        expect(page.locator("body")).to_have_class(JS_SUPPORTED)
        watch.check()


def test_the_analyst_has_no_people_link_and_is_refused_the_people_pages(
    page: Page, live_server: LiveServer
) -> None:
    sign_in(page, live_server.users["analyst"])
    navigation = page.get_by_role("navigation", name="Menu")
    expect(navigation.get_by_role("link", name="Home")).to_be_visible()
    expect(navigation.get_by_role("link", name="People")).to_have_count(0)

    response = page.goto("/people")
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("You do not have permission to see this page")
