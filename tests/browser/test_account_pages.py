"""The change-password page in a real browser: reached from the header, accessible with and
without errors, and its error summary leading to the field. (A weak password is refused, so the
shared demo user's password stays as the other browser tests expect it.)"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, expect

from .pages import LiveServer, open_signed_in
from .test_accessibility_pages import Audit

pytestmark = pytest.mark.browser


def test_the_change_password_page_from_the_header(
    new_context: Callable[..., BrowserContext], live_server: LiveServer, axe_source: str
) -> None:
    audit = Audit(axe_source)
    user = live_server.users["coach"]
    page = open_signed_in(new_context, user)
    page.get_by_role("link", name="Change password").click()
    expect(page.locator("h1")).to_have_text("Change your password")
    audit(page, "change password form")

    page.get_by_label("Current password").fill(user.password)
    page.get_by_label("New password", exact=True).fill("password1234")
    page.get_by_label("Confirm new password").fill("password1234")
    page.get_by_role("button", name="Change password").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Password is a commonly used password")
    # The summary's link takes the keyboard to the field, as GOV.UK error summaries do.
    summary.get_by_role("link").click()
    expect(page.get_by_label("New password", exact=True)).to_be_focused()
    audit(page, "change password form with errors")
    audit.verify()
