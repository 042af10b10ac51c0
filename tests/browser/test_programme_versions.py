"""A programme version in a real browser: uploaded with a mistake, corrected, compared and published.

Published from a year ahead, so the decisions the other browser tests make today are unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, expect

from divert.app.clock import today
from divert.pathways.programmes import PROGRAMMES_DIR

from .pages import LiveServer, fill_date, follow_navigation, open_signed_in
from .test_accessibility_pages import Audit

pytestmark = pytest.mark.browser

# The latest shipped version (3), and a draft 4 that takes fraud off the eligible offences.
V2 = (PROGRAMMES_DIR / "checkpoint-v3.yaml").read_text(encoding="utf-8")
V3 = V2.replace("version: 3\n", "version: 4\n").replace("'fraud', ", "")
BROKEN = V3.replace("stage: encounter", "stage: encountr", 1)


def test_a_version_is_uploaded_with_a_mistake_corrected_compared_and_published(
    new_context: Callable[..., BrowserContext], live_server: LiveServer, axe_source: str, tmp_path: Path
) -> None:
    audit = Audit(axe_source)
    page = open_signed_in(new_context, live_server.users["admin"])
    follow_navigation(page, "Programmes")
    page.get_by_role("link", name="Upload a new version").click()
    expect(page.locator("h1")).to_have_text("Upload a programme version")

    broken = tmp_path / "checkpoint-v3.yaml"
    broken.write_text(BROKEN, encoding="utf-8")
    page.get_by_label("Definition file").set_input_files(broken)
    page.get_by_role("button", name="Check and save as a draft").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("states[0].stage: unknown value 'encountr'")
    expect(page.get_by_test_id("definition-problems")).to_contain_text("states[0].stage")
    audit(page, "definition upload with a problem")

    fixed = tmp_path / "checkpoint-v3-fixed.yaml"
    fixed.write_text(V3, encoding="utf-8")
    page.get_by_label("Definition file").set_input_files(fixed)
    page.get_by_role("button", name="Check and save as a draft").click()
    expect(page.locator(".govuk-caption-l")).to_contain_text("Draft")
    change = page.get_by_test_id("change").filter(has_text="offence-on-list")
    expect(change).to_contain_text("Changed")
    expect(page.get_by_test_id("changes-section").filter(has_text="Eligibility rules")).to_contain_text(
        "'fraud'"
    )
    audit(page, "draft compared with the version in force")

    fill_date(page, "Date it takes effect", today() - timedelta(days=1))
    page.get_by_role("button", name="Publish").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("must be today or in the future")
    audit(page, "publish with a date in the past")

    takes_effect = today() + timedelta(days=365)
    fill_date(page, "Date it takes effect", takes_effect)
    page.get_by_role("button", name="Publish").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("is published")
    expect(page.locator(".govuk-caption-l")).to_contain_text(f"In force from {takes_effect.day} ")
    audit.verify()


def test_a_reference_label_is_changed_and_its_history_shown(
    new_context: Callable[..., BrowserContext], live_server: LiveServer, axe_source: str
) -> None:
    audit = Audit(axe_source)
    page = open_signed_in(new_context, live_server.users["admin"])
    follow_navigation(page, "Reference data")
    page.get_by_role("link", name="Change labels, add or stop offence categories").click()
    audit(page, "reference data to change")
    page.get_by_role("link", name="Change outcome 21").click()
    page.get_by_label("Label").fill("")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter a label")
    audit(page, "reference label with an error")
    page.get_by_label("Label").fill("Further investigation not in the public interest (relabelled)")
    page.get_by_role("button", name="Save").click()
    history = page.get_by_test_id("history")
    expect(history).to_contain_text("Further investigation not in the public interest (relabelled)")
    expect(history).to_contain_text(live_server.users["admin"].name)
    audit(page, "reference label history")
    audit.verify()
