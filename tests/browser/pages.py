"""Helpers the browser tests share: the demo users, signing in, and checking what a page did."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from playwright.sync_api import BrowserContext, ConsoleMessage, Error, Locator, Page, ViewportSize, expect

# The heading each role's home page starts with.
HOME_HEADINGS = {
    "officer": "Your encounters",
    "yot_caseworker": "Your cases",
    "yju_decision_maker": "Your cases",
    "navigator": "Your cases",
    "coach": "Your cases",
    "supervisor": "Caseload overview",
    "analyst": "Overview",
    "admin": "Administration",
}

# Records CSP violations the page reports to itself; Playwright's init scripts are not subject to CSP.
RECORD_CSP_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} blocked ${event.blockedURI || "inline code"}`);
});
"""

RUN_AXE = """
async () => {
  const results = await axe.run(document, {resultTypes: ["violations"]});
  return results.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    helpUrl: v.helpUrl,
    nodes: v.nodes.map((n) => `${n.target.join(" ")}: ${n.failureSummary}`),
  }));
}
"""

SERIOUS = {"serious", "critical"}


@dataclass
class DemoUser:
    role: str
    name: str
    email: str
    password: str


@dataclass
class LiveServer:
    url: str
    users: dict[str, DemoUser] = field(default_factory=dict)
    # A person the demo officer's force has dealt with, for the people pages.
    person_id: int = 0
    person_name: str = ""
    person_family_name: str = ""
    person_district: str | None = None


def sign_in(page: Page, user: DemoUser) -> None:
    """Sign in through the real form, as a person would."""
    page.goto("/sign-in")
    page.get_by_label("Email address").fill(user.email)
    page.get_by_label("Password", exact=True).fill(user.password)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    if not page.url.endswith("/home"):
        # Say why at once, rather than time out waiting for a home page that will not come.
        summary = page.locator(".govuk-error-summary")
        problem = summary.inner_text() if summary.count() else page.locator("h1").inner_text()
        raise AssertionError(f"Signing in as {user.email} did not reach the home page: {problem!r}")


class ConsoleWatch:
    """Collects console errors, uncaught exceptions and CSP violations from a page."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.problems: list[str] = []
        page.add_init_script(RECORD_CSP_VIOLATIONS)
        page.on("console", self._console)
        page.on("pageerror", self._page_error)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.problems.append(f"console error on {self.page.url}: {message.text}")

    def _page_error(self, error: Error) -> None:
        self.problems.append(f"uncaught exception on {self.page.url}: {error.message}")

    def check(self) -> None:
        """Fail if the page now loaded, or any before it, reported a problem."""
        violations = self.page.evaluate("window.__cspViolations")
        self.problems += [f"CSP violation on {self.page.url}: {v}" for v in violations]
        assert not self.problems, "\n".join(self.problems)


def serious_accessibility_violations(page: Page, axe_source: str) -> list[dict[str, Any]]:
    # add_script_tag would be blocked by the CSP nonce; evaluating the source is not.
    page.evaluate(axe_source)
    violations: list[dict[str, Any]] = page.evaluate(RUN_AXE)
    return [v for v in violations if v["impact"] in SERIOUS]


def describe(violations: list[dict[str, Any]], where: str) -> str:
    lines = [f"{len(violations)} serious or critical accessibility violation(s) on {where}:"]
    for v in violations:
        lines.append(f"- {v['id']} ({v['impact']}): {v['help']} <{v['helpUrl']}>")
        lines += [f"    {node}" for node in v["nodes"]]
    return "\n".join(lines)


def assert_accessible(page: Page, axe_source: str) -> None:
    violations = serious_accessibility_violations(page, axe_source)
    assert not violations, describe(violations, page.url)


# ---- Journeys and WCAG checks (added for test_journeys.py and test_accessibility_pages.py) -------------

# WCAG 2.2 A and AA, as axe-core tags them; every impact counts, not only serious and critical.
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

RUN_AXE_WCAG = """
async (tags) => {
  const results = await axe.run(document, {
    runOnly: {type: "tag", values: tags},
    resultTypes: ["violations"],
  });
  return results.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    helpUrl: v.helpUrl,
    nodes: v.nodes.map((n) => `${n.target.join(" ")}: ${n.failureSummary}`),
  }));
}
"""

# GOV.UK details components hide forms; axe skips hidden content, so open them to check what is inside.
OPEN_DETAILS = "document.querySelectorAll('details').forEach((d) => { d.open = true; })"

DESKTOP: ViewportSize = {"width": 1280, "height": 900}
PHONE: ViewportSize = {"width": 375, "height": 812}


def wcag_violations(page: Page, axe_source: str) -> list[dict[str, Any]]:
    """Every WCAG 2.2 A/AA violation axe-core finds on the page as it is now."""
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.evaluate(axe_source)  # add_script_tag would be blocked by the CSP nonce
    violations: list[dict[str, Any]] = page.evaluate(RUN_AXE_WCAG, WCAG_TAGS)
    return violations


def fill_date(page: Page, legend: str, day: date, *, within: Locator | None = None) -> None:
    """Fill a GOV.UK date input (three boxes) found by its fieldset legend."""
    group = (within or page).get_by_role("group", name=legend, exact=True)
    if not group.is_visible():
        # Prefilled answers that are rarely changed sit in a closed details component (the encounter's date).
        # (Role queries skip hidden elements, so the details is found by its legend's text.)
        expand((within or page).locator("details", has=page.locator("legend", has_text=legend)))
    group.get_by_label("Day").fill(str(day.day))
    group.get_by_label("Month").fill(str(day.month))
    group.get_by_label("Year").fill(str(day.year))


@dataclass
class EncounterAnswers:
    """What an officer types into the one-screen encounter form. ``None`` leaves a question as it is."""

    given_name: str | None = None
    family_name: str | None = None
    date_of_birth: date | None = None
    gender: str | None = None
    ethnicity: str | None = None
    setting: str | None = "Street"
    offence: str | None = "Possession of a controlled drug"
    personal_use: str | None = "Yes"
    admission: str | None = "Admitted the offence"
    occurred_on: date | None = None
    drug_class: str | None = None
    drug: str | None = None


def fill_encounter(page: Page, answers: EncounterAnswers) -> list[str]:
    """Fill the encounter form; return the questions answered (each fieldset or field counts once)."""
    answered: list[str] = []
    if answers.given_name is not None:
        page.get_by_label("First name").fill(answers.given_name)
        answered.append("First name")
    if answers.family_name is not None:
        page.get_by_label("Last name").fill(answers.family_name)
        answered.append("Last name")
    if answers.date_of_birth is not None:
        fill_date(page, "Date of birth", answers.date_of_birth)
        answered.append("Date of birth")
    for legend, value in (("Gender", answers.gender), ("Setting", answers.setting)):
        if value is not None:
            page.get_by_role("group", name=legend).get_by_label(value, exact=True).check()
            answered.append(legend)
    if answers.ethnicity is not None:
        page.get_by_label("Ethnicity, as the person describes it").select_option(label=answers.ethnicity)
        answered.append("Ethnicity")
    if answers.occurred_on is not None:
        fill_date(page, "Date of the encounter", answers.occurred_on)
        answered.append("Date of the encounter")
    if answers.offence is not None:
        page.get_by_label("Offence", exact=True).select_option(label=answers.offence)
        answered.append("Offence")
    # The form asks only what the programmes in scope need for this offence (issue 14): a question the
    # officer is not shown is not answered, nor counted.
    if answers.drug_class is not None and _shown(group := page.get_by_role("group", name="Drug class")):
        group.get_by_label(answers.drug_class).check()
        answered.append("Drug class")
    if answers.drug is not None and _shown(drug := page.get_by_label("Drug (optional)")):
        drug.fill(answers.drug)
        answered.append("Drug")
    if answers.personal_use is not None and _shown(
        group := page.get_by_role("group", name="Was it for personal use?")
    ):
        group.get_by_label(answers.personal_use).check()
        answered.append("Personal use")
    if answers.admission is not None and _shown(group := page.get_by_role("group", name="Admission")):
        group.get_by_label(answers.admission).check()
        answered.append("Admission")
    return answered


def _shown(locator: Locator) -> bool:
    return locator.count() == 1 and locator.is_visible()


def submit_encounter(page: Page) -> None:
    # "Continue" while an answer not given yet (the offence, before one is chosen) could reveal a question.
    with page.expect_navigation():
        page.get_by_role("button", name=re.compile(r"^(Record and check eligibility|Continue)$")).click()


def record_offer(page: Page, answer: str = "Offered diversion, and the person accepted") -> str:
    """On the decision page, record the offer and answer; return the case reference the panel shows."""
    page.get_by_label(answer).check()
    with page.expect_navigation():
        page.get_by_role("button", name="Save").click()
    reference = page.get_by_test_id("reference")
    return reference.inner_text().strip()


def case_status(page: Page) -> Locator:
    return page.get_by_test_id("status")


def open_worklist_case(page: Page, view: str, reference: str) -> None:
    """Cases → a worklist view → newest first → the case with this reference."""
    follow_navigation(page, "Cases")
    page.get_by_role("navigation", name="Worklists").get_by_role("link", name=view).click()
    # Sorted oldest first by default; the newest referral may be pages away.
    page.get_by_role("columnheader", name="Opened").get_by_role("link").click()
    expect(page.get_by_role("columnheader", name="Opened")).to_have_attribute("aria-sort", "descending")
    page.get_by_role("link", name=reference, exact=True).click()
    page.get_by_role("heading", level=1, name=f"Case {reference}").wait_for()


def take_this_case(page: Page) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name="Take this case").click()


def take_next_step(page: Page, step: str, reason: str = "", exit_reason: str | None = None) -> None:
    form = page.get_by_test_id("step-form")
    form.get_by_role("group", name="What happens next?").get_by_label(step, exact=True).check()
    form.get_by_label("Reason", exact=True).fill(reason)
    if exit_reason is not None:
        form.get_by_label("If the case is ending: why").select_option(label=exit_reason)
    with page.expect_navigation():
        form.get_by_role("button", name="Save the step").click()


def book_appointment(page: Page, kind: str, day: date, at: str) -> None:
    details = page.locator("details").filter(has_text="Book an appointment")
    expand(details)
    details.get_by_role("group", name="Kind of appointment").get_by_label(kind, exact=True).check()
    fill_date(page, "Date", day, within=details)
    details.get_by_label("Time", exact=True).fill(at)
    with page.expect_navigation():
        details.get_by_role("button", name="Book appointment").click()


def record_attendance(
    page: Page, when: str, attendance: str, missed_reason: str = "", acceptable: str | None = None
) -> None:
    """Open 'Record attendance for <when>' and save what happened."""
    details = page.locator("details").filter(has_text=f"Record attendance for {when}")
    expand(details)
    details.get_by_role("group", name="Did the person attend?").get_by_label(attendance, exact=True).check()
    if missed_reason:
        details.get_by_label("If missed: why").fill(missed_reason)
    if acceptable is not None:
        details.get_by_role("group", name="If missed: is the reason acceptable?").get_by_label(
            acceptable, exact=True
        ).check()
    with page.expect_navigation():
        details.get_by_role("button", name="Save attendance").click()


def open_signed_in(
    new_context: Callable[..., BrowserContext], user: DemoUser, viewport: ViewportSize = DESKTOP
) -> Page:
    """A browser context of the user's own (their own cookies), signed in through the form."""
    page = new_context(viewport=viewport).new_page()
    page.set_default_timeout(10_000)
    sign_in(page, user)
    return page


def follow_navigation(page: Page, link: str) -> None:
    """Follow a service navigation link; on a phone the links sit behind the 'Menu' button."""
    # Decided by the width, not by what is visible now: GOV.UK's script shows and hides the links a
    # moment after the viewport changes. 641 px is GOV.UK Frontend's tablet breakpoint.
    size = page.viewport_size
    if size and size["width"] < 641:
        toggle = page.locator(".govuk-service-navigation__toggle")
        expect(toggle).to_be_visible()
        if toggle.get_attribute("aria-expanded") != "true":
            toggle.click()
    page.get_by_role("navigation", name="Menu").get_by_role("link", name=link, exact=True).click()


def summary_row(page: Page, key: str) -> Locator:
    """The summary-list row whose key is exactly ``key``."""
    return page.locator(".govuk-summary-list__row").filter(
        has=page.locator(".govuk-summary-list__key").get_by_text(key, exact=True)
    )


def expand(details: Locator) -> None:
    """Open a GOV.UK details component by its summary, as a person would, unless it is open already."""
    if details.get_attribute("open") is None:
        details.locator("summary").click()
