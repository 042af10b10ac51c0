"""Administration in a real browser: a system administrator creates an organisation and a user,
the user signs in and changes their password, and disabling them ends their open session."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, expect

from divert.app.extensions import db

from ..factories import PASSWORD, create_organisation, create_user
from .pages import DemoUser, LiveServer, open_signed_in
from .test_accessibility_pages import Audit

pytestmark = pytest.mark.browser

TEMPORARY = "temporary-kestrel-meadow"
CHOSEN = "chosen-harbour-violet"


def _system_administrator() -> DemoUser:
    # The demo has no operator organisation; one is made in the live server's database.
    with db.factory() as session:
        operator = create_organisation(session, kind="service", name="Divert service desk")
        user = create_user(session, "admin", operator, name="Sam System")
        session.commit()
        return DemoUser(role="admin", name=user.name, email=user.email, password=PASSWORD)


def test_an_administrator_makes_an_organisation_and_a_user_then_disables_them(
    new_context: Callable[..., BrowserContext], live_server: LiveServer, axe_source: str
) -> None:
    audit = Audit(axe_source)
    admin = open_signed_in(new_context, _system_administrator())
    admin.get_by_role("link", name="Organisations").first.click()
    expect(admin.locator("h1")).to_have_text("Organisations")
    admin.get_by_role("link", name="Create an organisation").click()
    audit(admin, "create an organisation")
    code = f"kent-{secrets.token_hex(3)}"
    admin.get_by_label("Name").fill("Kent Police")
    admin.get_by_label("Code").fill(code)
    admin.get_by_label("Kind of organisation").select_option("police_force")
    admin.get_by_role("button", name="Create organisation").click()
    expect(admin.locator("h1")).to_have_text("Kent Police")
    audit(admin, "an organisation's page")

    admin.get_by_role("link", name="Create a user in Kent Police").click()
    email = f"kit.{code}@kent.example"
    admin.get_by_label("Full name").fill("Kit Kentish")
    admin.get_by_label("Email address").fill(email)
    admin.get_by_label("Role").select_option("officer")
    admin.get_by_label("Temporary password").fill(TEMPORARY)
    admin.get_by_role("button", name="Create user").click()
    expect(admin.locator("#organisation-users")).to_contain_text("Kit Kentish")

    kit = open_signed_in(
        new_context, DemoUser(role="officer", name="Kit Kentish", email=email, password=TEMPORARY)
    )
    kit.get_by_role("link", name="Change password").click()
    kit.get_by_label("Current password").fill(TEMPORARY)
    kit.get_by_label("New password", exact=True).fill(CHOSEN)
    kit.get_by_label("Confirm new password").fill(CHOSEN)
    kit.get_by_role("button", name="Change password").click()
    expect(kit.locator(".govuk-notification-banner")).to_contain_text("Your password has been changed")

    admin.get_by_role("link", name="Kit Kentish").click()
    expect(admin.locator("#last-signed-in")).not_to_have_text("Never")
    audit(admin, "a user's page")
    admin.get_by_role("button", name="Disable Kit Kentish").click()
    expect(admin.locator(".govuk-notification-banner")).to_contain_text("disabled and signed out everywhere")
    expect(admin.locator("#user-status")).to_have_text("Disabled")

    # Kit's open session has ended: the next page is the sign-in page, and the new password is refused.
    kit.goto("/home")
    expect(kit).to_have_url(re.compile(r"/sign-in"))
    kit.get_by_label("Email address").fill(email)
    kit.get_by_label("Password", exact=True).fill(CHOSEN)
    kit.get_by_role("button", name="Sign in").click()
    expect(kit.locator(".govuk-error-summary")).to_contain_text("Enter a correct email address and password")
    audit.verify()
