"""Helpers the browser tests share: the demo users, signing in, and checking what a page did."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from playwright.sync_api import ConsoleMessage, Error, Page

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
