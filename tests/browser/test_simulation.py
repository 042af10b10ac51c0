"""Policy simulation in a real browser, as the two people who do it: an administrator uploads a
draft that narrows the youth scheme's age range; an analyst runs it against the demo's history,
watches it finish in the worker, reads who it affects and downloads the annex."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, expect

from divert.pathways.programmes import PROGRAMMES_DIR

from .pages import LiveServer, follow_navigation, open_signed_in
from .test_accessibility_pages import Audit
from .test_background_import import worker  # noqa: F401  # the real worker beside the live server

pytestmark = pytest.mark.browser

IN_FORCE = (PROGRAMMES_DIR / "tvp-youth-drugs-v3.yaml").read_text(encoding="utf-8")
# Version 9, so no other browser test's upload of this programme collides with it.
DRAFT = IN_FORCE.replace("version: 3\n", "version: 9\n", 1).replace("age < 18", "age < 17", 1)


def test_an_administrator_uploads_a_draft_and_an_analyst_simulates_it(
    new_context: Callable[..., BrowserContext],
    live_server: LiveServer,
    worker: None,  # noqa: F811
    axe_source: str,
    tmp_path: Path,
) -> None:
    audit = Audit(axe_source)
    admin = open_signed_in(new_context, live_server.users["admin"])
    follow_navigation(admin, "Programmes")
    admin.get_by_role("link", name="Upload a new version").click()
    draft = tmp_path / "youth-v9.yaml"
    draft.write_text(DRAFT, encoding="utf-8")
    admin.get_by_label("Definition file").set_input_files(draft)
    admin.get_by_role("button", name="Check and save as a draft").click()
    expect(admin.locator(".govuk-caption-l")).to_contain_text("Draft")
    expect(admin.get_by_test_id("simulate-draft")).to_be_visible()

    analyst = open_signed_in(new_context, live_server.users["analyst"])
    follow_navigation(analyst, "Monitoring")
    analyst.get_by_role("link", name="Simulate a rule change").click()
    expect(analyst.locator("h1")).to_have_text("Policy simulation")
    audit(analyst, "simulation form")
    choice = analyst.locator("option", has_text="(youth), version 9 (draft)").get_attribute("value")
    assert choice
    analyst.get_by_label("Version to simulate").select_option(choice)
    analyst.get_by_role("button", name="Run the simulation").click()
    analyst.wait_for_url("**/monitoring/simulations/*")
    # The page follows the worker (reloading itself) until the replay is done.
    expect(analyst.get_by_test_id("simulation-state")).to_have_text("Finished", timeout=120_000)
    expect(analyst.get_by_test_id("point-eligible")).to_be_visible()
    expect(analyst.get_by_test_id("changes-section").filter(has_text="Eligibility rules")).to_contain_text(
        "age < 17"
    )
    audit(analyst, "simulation result")
    with analyst.expect_download() as download:
        analyst.get_by_role("link", name="Equality Impact Assessment annex (PDF)").click()
    assert download.value.suggested_filename.endswith("-tvp-youth-drugs-v9.pdf")
    saved = tmp_path / "annex.pdf"
    download.value.save_as(saved)
    assert saved.read_bytes().startswith(b"%PDF")
    audit.verify()
