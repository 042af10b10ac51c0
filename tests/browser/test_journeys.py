"""Each role's main journey, end to end through the real pages, asserting on what the user sees.

Journeys 1 to 3 follow one young person and run in file order (pytest keeps it): the officer's first
record, the YOT's work on it, then a repeat possession that goes to the Youth Justice Unit. The others
make their own data (or take a demo case no other test takes), so they stand alone. The only shortcut
is the nightly sweep, a cron job, which is called directly against the live server's database.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import BrowserContext, Locator, Page, expect

from divert import session_factory
from divert.app.extensions import db
from divert.pathways.sweep import sweep
from divert.rules import BANK_HOLIDAYS

from .pages import (
    PHONE,
    EncounterAnswers,
    LiveServer,
    book_appointment,
    case_status,
    expand,
    fill_date,
    fill_encounter,
    follow_navigation,
    open_signed_in,
    open_worklist_case,
    record_attendance,
    record_offer,
    submit_encounter,
    summary_row,
    take_next_step,
    take_this_case,
)

pytestmark = pytest.mark.browser

NewContext = Callable[..., BrowserContext]
LONDON = ZoneInfo("Europe/London")
TODAY = datetime.now(LONDON).date()
REFERENCE = re.compile(r"^TYD-\d+$")

# What journeys 1 to 3 share: one young person and their first case.
youth: dict[str, str] = {}


def _unique(name: str) -> str:
    # Letters only, as names are; unique so that a search or a list finds this journey's person alone.
    return name + "".join(secrets.choice("bcdfghjklmnpqrstvwz") for _ in range(6))


def _years_ago(years: int, days: int = 0) -> date:
    return date(TODAY.year - years, TODAY.month, min(TODAY.day, 28)) - timedelta(days=days)


def _when(day: date, at: str) -> str:
    """An appointment time as the case page writes it, like '23 November 2026 at 16:00'."""
    return f"{day.day} {day:%B %Y} at {at}"


def _record_youth_possession(page: Page, answers: EncounterAnswers) -> str:
    """Officer: record a possession that the youth scheme accepts, and return the case reference."""
    page.goto("/encounters/new")
    fill_encounter(page, answers)
    submit_encounter(page)
    expect(page.get_by_test_id("route")).to_have_text("Referral to the Youth Offending Team")
    return record_offer(page)


# ---- 1. The officer, on a phone ------------------------------------------------------------------------


def test_1_officer_records_a_first_possession_on_a_phone_and_refers_it(
    new_context: NewContext, live_server: LiveServer
) -> None:
    page = open_signed_in(new_context, live_server.users["officer"], PHONE)
    page.get_by_role("link", name="Record an encounter").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Record an encounter")
    # The date and time are filled in already, folded away (most encounters are recorded as they happen);
    # only the supply question has a default answer.
    expect(page.get_by_text(re.compile(r"^When: today at \d{2}:\d{2} \(change\)$"))).to_be_visible()

    youth["given"], youth["family"] = "Tia", _unique("Marlow")
    answers = EncounterAnswers(
        given_name=youth["given"],
        family_name=youth["family"],
        date_of_birth=_years_ago(15, days=100),
        gender="Female",
        ethnicity="Black – Caribbean",
        setting="Street",
        offence="Possession of a controlled drug",
        personal_use="Yes",
        admission="Admitted the offence",
    )
    answered = fill_encounter(page, answers)
    # Journey 3 needs a later encounter, and the date cannot be in the future: this one was 3 days ago.
    # Changing a prefilled answer is not counted as one the officer had to fill.
    fill_date(page, "Date of the encounter", TODAY - timedelta(days=3))
    # A question is a field or a fieldset (the date of birth is one question in three boxes).
    assert len(answered) <= 10, f"The officer had to answer {len(answered)} questions: {answered}"
    submit_encounter(page)

    name = f"{youth['given']} {youth['family']}"
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Eligibility for {name}")
    programme = page.get_by_test_id("programme").filter(has_text="Thames Valley drug diversion (youth)")
    expect(programme.get_by_role("heading", level=2)).to_contain_text("Eligible")
    expect(programme.get_by_test_id("route")).to_have_text("Referral to the Youth Offending Team")
    expect(programme.get_by_test_id("reasons")).to_contain_text(
        "No earlier possession on record, so the Youth Offending Team receives the referral."
    )
    expect(programme.get_by_test_id("reasons")).to_contain_text("Aged 15 at the encounter")

    reference = record_offer(page, "Offered diversion, and the person accepted")
    assert REFERENCE.match(reference), reference
    panel = page.locator(".govuk-panel")
    expect(panel).to_contain_text("Referred to YOT")
    expect(panel.get_by_test_id("reference")).to_have_text(reference)
    expect(page.get_by_text("The receiving team has the referral now.")).to_be_visible()
    youth["first_case"] = reference


# ---- 2. The YOT caseworker ---------------------------------------------------------------------------


def test_2_yot_caseworker_takes_the_referral_runs_a_session_and_completes_it(
    new_context: NewContext, live_server: LiveServer
) -> None:
    reference = youth.get("first_case")
    if reference is None:
        pytest.skip("journey 1 did not create the case")
    page = open_signed_in(new_context, live_server.users["yot_caseworker"])
    open_worklist_case(page, "New referrals not yet taken", reference)
    expect(case_status(page)).to_have_text("Referred to YOT")

    take_this_case(page)
    expect(page.get_by_text(f"Case {reference} is now yours.")).to_be_visible()
    expect(summary_row(page, "Assigned to")).to_contain_text(live_server.users["yot_caseworker"].name)

    # Six drug awareness sessions on the six days before today (the definition's completion rule).
    days = [TODAY - timedelta(days=n) for n in range(6, 0, -1)]
    book_appointment(page, "Session", days[0], "16:00")
    expect(page.get_by_text("Appointment booked.")).to_be_visible()
    record_attendance(page, _when(days[0], "16:00"), "Attended")
    expect(page.get_by_text("Attendance saved.")).to_be_visible()
    expect(case_status(page)).to_have_text("Engaged with YOT")
    expect(page.get_by_test_id("contacts")).to_contain_text("Attended")

    # Completion needs the evidence: after one session it is refused, saying what is missing.
    take_next_step(page, "Completed drug education")
    expect(page.locator(".govuk-error-summary")).to_contain_text("1 of 6 drug awareness sessions attended")
    for day in days[1:]:
        book_appointment(page, "Session", day, "16:00")
        record_attendance(page, _when(day, "16:00"), "Attended")
        expect(page.get_by_text("Attendance saved.")).to_be_visible()
    take_next_step(page, "Completed drug education")
    expect(page.get_by_text("Step saved.")).to_be_visible()
    expect(case_status(page)).to_have_text("Completed drug education")
    closed = summary_row(page, "Closed")
    expect(closed).to_contain_text("Home Office outcome 22")
    expect(page.get_by_test_id("step-form")).to_have_count(0)


# ---- 3. Repeat possession: the Youth Justice Unit decides ---------------------------------------------


def test_3_a_repeat_possession_goes_to_the_yju_which_refers_to_the_yot_with_a_reason(
    new_context: NewContext, live_server: LiveServer
) -> None:
    if "first_case" not in youth:
        pytest.skip("journey 1 did not create the person")
    name = f"{youth['given']} {youth['family']}"
    officer = open_signed_in(new_context, live_server.users["officer"], PHONE)
    follow_navigation(officer, "People")
    officer.get_by_label("Name or PNC ID").fill(youth["family"])
    officer.get_by_role("button", name="Search").click()
    officer.get_by_role("link", name=name).click()
    expect(officer.get_by_role("heading", level=1)).to_have_text(name)
    officer.get_by_role("link", name=f"Record an encounter for {youth['given']}").click()
    expect(officer.locator(".govuk-inset-text")).to_contain_text(f"Recording for {name}")
    expect(officer.get_by_label("Last name")).to_have_value(youth["family"])

    # Today's date is prefilled, later than the first encounter; only the encounter's answers remain.
    fill_encounter(officer, EncounterAnswers())
    submit_encounter(officer)
    programme = officer.get_by_test_id("programme").filter(has_text="Thames Valley drug diversion (youth)")
    expect(programme.get_by_test_id("route")).to_have_text("Youth Justice Unit decision")
    expect(programme.get_by_test_id("reasons")).to_contain_text("An earlier possession is on record")
    reference = record_offer(officer)
    expect(officer.locator(".govuk-panel")).to_contain_text("Awaiting YJU decision")

    yju = open_signed_in(new_context, live_server.users["yju_decision_maker"])
    open_worklist_case(yju, "New referrals not yet taken", reference)
    expect(case_status(yju)).to_have_text("Awaiting YJU decision")

    take_next_step(yju, "Referred to YOT")  # no reason: the YJU must say why
    summary = yju.locator(".govuk-error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text("There is a problem")
    expect(summary.get_by_role("link")).to_have_text(
        "Enter a reason to move a case from 'Awaiting YJU decision' to 'Referred to YOT'."
    )
    expect(case_status(yju)).to_have_text("Awaiting YJU decision")

    reason = "Second possession in a month; engaged well with YOT last time, so divert again."
    take_next_step(yju, "Referred to YOT", reason)
    expect(case_status(yju)).to_have_text("Referred to YOT")
    newest = yju.get_by_test_id("timeline").locator(".moj-timeline__item").first
    expect(newest.locator(".moj-timeline__title")).to_have_text("Referred to YOT")
    expect(newest).to_contain_text(live_server.users["yju_decision_maker"].name)
    expect(newest.locator(".moj-timeline__description")).to_have_text(reason)


# ---- 4. Missed sessions, a flag, and a person's decision ----------------------------------------------


def test_4_missed_sessions_raise_a_flag_that_a_supervisor_decides_on(
    new_context: NewContext, live_server: LiveServer
) -> None:
    officer = open_signed_in(new_context, live_server.users["officer"])
    given, family = "Kai", _unique("Ashdown")
    reference = _record_youth_possession(
        officer,
        EncounterAnswers(
            given_name=given,
            family_name=family,
            date_of_birth=_years_ago(14, days=30),
            gender="Male",
            ethnicity="White – English/Welsh/Scottish/Northern Irish/British",
        ),
    )

    caseworker = open_signed_in(new_context, live_server.users["yot_caseworker"])
    open_worklist_case(caseworker, "New referrals not yet taken", reference)
    take_this_case(caseworker)
    missed = [TODAY - timedelta(days=2), TODAY - timedelta(days=1)]
    for day in missed:
        book_appointment(caseworker, "Session", day, "16:30")
    for day in missed:
        record_attendance(caseworker, _when(day, "16:30"), "Missed", "Did not turn up or reply", "No")
        expect(caseworker.get_by_text("Attendance saved.")).to_be_visible()
    expect(case_status(caseworker)).to_have_text("Referred to YOT")
    # The second unacceptable miss raises the flag as it is recorded, not at the nightly sweep.
    expect(caseworker.get_by_test_id("flags")).to_contain_text("Two or more sessions missed")

    # The nightly sweep, as of tomorrow, against the live server's database, raises it no second time.
    assert db.engine is not None
    with session_factory(db.engine)() as session:
        sweep(session, TODAY + timedelta(days=1), BANK_HOLIDAYS)
        session.commit()

    # Escalation is decided by a supervisor (tvp-youth-drugs-v2.yaml: escalation.decided_by); the demo
    # supervisor is in Thames Valley Police, the police party to the case.
    supervisor = open_signed_in(new_context, live_server.users["supervisor"])
    follow_navigation(supervisor, "Cases")
    supervisor.get_by_role("navigation", name="Worklists").get_by_role(
        "link", name="Flagged for review"
    ).click()
    row = supervisor.get_by_test_id("worklist").get_by_role("row").filter(has_text=reference)
    expect(row.locator(".govuk-tag--red")).to_have_text("Flag")
    row.get_by_role("link", name=reference).click()
    flags = supervisor.get_by_test_id("flags")
    expect(flags).to_contain_text("Two or more sessions missed without an acceptable reason.")
    expect(flags).to_contain_text("A person decides what happens next; nothing escalates by itself.")
    expect(case_status(supervisor)).to_have_text("Referred to YOT")  # the sweep moved nothing

    take_next_step(supervisor, "Non-engagement under review", "Two sessions missed; talking to Kai's family.")
    expect(case_status(supervisor)).to_have_text("Non-engagement under review")
    decision = "Kai's mother works late; sessions move to Saturday mornings. Continue with a revised plan."
    take_next_step(supervisor, "Engaged with YOT", decision)
    expect(case_status(supervisor)).to_have_text("Engaged with YOT")
    expect(supervisor.get_by_test_id("flags")).to_have_count(0)
    timeline = supervisor.get_by_test_id("timeline").locator(".moj-timeline__item")
    expect(timeline.first.locator(".moj-timeline__title")).to_have_text("Engaged with YOT")
    expect(timeline.first.locator(".moj-timeline__description")).to_have_text(decision)
    expect(timeline.nth(1).locator(".moj-timeline__title")).to_have_text("Non-engagement under review")

    follow_navigation(supervisor, "Cases")
    supervisor.get_by_role("navigation", name="Worklists").get_by_role(
        "link", name="Flagged for review"
    ).click()
    expect(supervisor.get_by_role("link", name=reference, exact=True)).to_have_count(0)


# ---- 5. Checkpoint: the navigator's needs assessment and contract --------------------------------------


def _take_first_new_case(page: Page, programme: str) -> str:
    """Cases → New referrals → the oldest case of this programme still untaken; take it."""
    follow_navigation(page, "Cases")
    page.get_by_role("navigation", name="Worklists").get_by_role(
        "link", name="New referrals not yet taken"
    ).click()
    row = page.get_by_test_id("worklist").get_by_role("row").filter(has_text=programme).first
    reference = row.get_by_role("link").first.inner_text().strip()
    row.get_by_role("link", name=reference).click()
    take_this_case(page)
    expect(page.get_by_text(f"Case {reference} is now yours.")).to_be_visible()
    return reference


def test_5_checkpoint_navigator_assesses_needs_draws_up_varies_and_completes_a_contract(
    new_context: NewContext, live_server: LiveServer
) -> None:
    page = open_signed_in(new_context, live_server.users["navigator"])
    _take_first_new_case(page, "Checkpoint (Durham deferred prosecution)")
    expect(case_status(page)).to_have_text("Needs assessment with a navigator")

    page.get_by_label("Drugs", exact=True).select_option("high")
    page.get_by_label("Housing", exact=True).select_option("medium")
    page.get_by_label("Summary").fill("Daily cannabis use; sofa-surfing since August.")
    page.get_by_role("button", name="Save needs assessment").click()
    expect(page.get_by_text("Needs assessment saved.")).to_be_visible()
    needs = page.get_by_test_id("needs")
    expect(needs.locator(".govuk-summary-list__row").filter(has_text="Drugs")).to_contain_text("High")
    expect(needs.locator(".govuk-summary-list__row").filter(has_text="Housing")).to_contain_text("Medium")

    contract = page.get_by_test_id("contract-form")
    pathways = contract.get_by_role("group", name=re.compile("^Pathway conditions"))
    pathways.get_by_label("Drugs", exact=True).check()
    pathways.get_by_label("Housing", exact=True).check()
    contract.get_by_label(re.compile("^Voluntary work: hours")).fill("24")
    contract.get_by_role("button", name="Draw up and sign the contract").click()
    expect(page.get_by_text("Contract drawn up and signed.")).to_be_visible()
    expect(case_status(page)).to_have_text("Contract signed and running")
    expect(page.get_by_text("with 24 hours of voluntary work")).to_be_visible()
    conditions = page.get_by_test_id("conditions")
    expect(conditions).to_contain_text("Drugs")
    expect(conditions).to_contain_text("Housing")

    vary = page.locator("details").filter(has_text="Vary the contract")
    expand(vary)
    vary.get_by_role("group", name="Remove conditions").get_by_label("Housing", exact=True).check()
    vary.get_by_label(re.compile("^Add a pathway conditions")).select_option(label="Mental health")
    reason = "Housed by the council in October; anxiety is now the bigger need."
    vary.get_by_label("Reason for the variation").fill(reason)
    vary.get_by_role("button", name="Vary contract").click()
    expect(page.get_by_text("Contract varied.")).to_be_visible()
    expect(conditions.locator("s")).to_have_text("Housing")
    expect(conditions.locator("li").filter(has=page.locator("s"))).to_contain_text(reason)
    expect(conditions.locator("li").filter(has_not=page.locator("s"))).to_contain_text(
        ["Drugs", "Mental health"]
    )

    take_next_step(page, "Contract completed (no further action)")
    expect(case_status(page)).to_have_text("Contract completed (no further action)")
    expect(summary_row(page, "Closed")).to_contain_text("Home Office outcome 22")


# ---- 6. DIVERT: the coach ----------------------------------------------------------------------------


def test_6_divert_coach_moves_a_case_from_custody_contact_to_closed_after_placement(
    new_context: NewContext, live_server: LiveServer
) -> None:
    page = open_signed_in(new_context, live_server.users["coach"])
    _take_first_new_case(page, "DIVERT (Metropolitan Police custody programme)")
    # The coaches see custody cases from "eligible" on, and make the offer themselves.
    if case_status(page).inner_text().strip() == "Eligible":
        take_next_step(page, "Offered")
        take_next_step(page, "Coach contact made")
    expect(case_status(page)).to_have_text("Coach contact made")
    for step, reason in (
        ("Met outside custody", "Met at the youth centre in Peckham."),
        ("Goals set (education, training, employment)", "Wants an electrical apprenticeship."),
        ("Placed in education, training, employment or a programme", "Started at Lambeth College."),
        ("Closed after placement", ""),
    ):
        take_next_step(page, step, reason)
        expect(page.get_by_text("Step saved.")).to_be_visible()
        expect(case_status(page)).to_have_text(step)
    titles = page.get_by_test_id("timeline").locator(".moj-timeline__title")
    expect(titles.first).to_have_text("Closed after placement")
    expect(page.get_by_test_id("step-form")).to_have_count(0)
    # DIVERT runs beside the criminal case: it records no Home Office outcome.
    expect(summary_row(page, "Closed")).not_to_contain_text("Home Office outcome")


def test_6b_divert_coach_takes_in_a_friends_referral_on_a_phone(
    new_context: NewContext, live_server: LiveServer
) -> None:
    page = open_signed_in(new_context, live_server.users["coach"], PHONE)
    follow_navigation(page, "Take someone in")
    expect(page.get_by_role("heading", level=1)).to_have_text("Take someone in")
    page.get_by_role("button", name="Take them in").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Select who referred them")
    family = _unique("Ade")
    page.get_by_label("A friend or family member").check()
    page.get_by_label("First name").fill("Tobi")
    page.get_by_label("Last name").fill(family)
    fill_date(page, "Date of birth", _years_ago(20))
    fill_date(page, "When you met them", TODAY)
    page.get_by_label("Time (optional)").fill("16:15")
    # Nothing on a 375 px screen needs scrolling sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    with page.expect_navigation():
        page.get_by_role("button", name="Take them in").click()
    expect(page.get_by_text(f"Tobi {family} has been taken in.", exact=False)).to_be_visible()
    expect(case_status(page)).to_have_text("Met outside custody")
    expect(page.get_by_test_id("timeline")).to_contain_text("Taken in directly: A friend or family member.")


# ---- 7. A form submitted twice records one encounter ----------------------------------------------------

# The encounter form on the page as it stands (CSRF token, submission key and all), as the browser sends it.
FORM_BODY = "new URLSearchParams(new FormData(document.querySelector('main form'))).toString()"
# Posts that body ``times`` times at once, as a double tap or a browser's retry on a flaky connection would,
# and says where each post ended up.
POST_AGAIN = """
async ([body, times]) => {
  const post = () => fetch("/encounters/new", {method: "POST", body: new URLSearchParams(body)})
    .then((r) => ({status: r.status, url: r.url}));
  return Promise.all(Array.from({length: times}, post));
}
"""


def _fill_theft(page: Page, given: str, family: str) -> None:
    page.goto("/encounters/new")
    fill_encounter(
        page,
        EncounterAnswers(
            given_name=given,
            family_name=family,
            date_of_birth=_years_ago(30),
            gender="Female",
            ethnicity="Asian – Indian",
            offence="Theft",
            personal_use=None,
        ),
    )


def _encounters_of(page: Page, name: str) -> Locator:
    follow_navigation(page, "Home")
    mine = page.get_by_role("row").filter(has_text=name)
    expect(mine).to_have_count(1)
    mine.get_by_role("link", name=name).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    history = page.locator("table").filter(has=page.get_by_role("columnheader", name="Admission"))
    return history.locator("tbody tr")


def test_7a_the_encounter_form_sent_again_after_it_was_recorded_records_nothing_new(
    new_context: NewContext, live_server: LiveServer
) -> None:
    page = open_signed_in(new_context, live_server.users["officer"])
    given, family = "Ruby", _unique("Twice")
    _fill_theft(page, given, family)
    body = page.evaluate(FORM_BODY)
    submit_encounter(page)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Eligibility for {given} {family}")
    first = page.url

    # Going back shows a fresh, empty form (the page is never cached), so nothing can be resent from it...
    page.go_back()
    expect(page.get_by_label("Last name")).to_have_value("")
    # ...but a browser's resend of the first post (a retry, 'Confirm form resubmission') is answered
    # with the encounter already recorded.
    [again] = page.evaluate(POST_AGAIN, [body, 1])
    assert again == {"status": 200, "url": first}, again
    page.goto(first)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Eligibility for {given} {family}")
    expect(_encounters_of(page, f"{given} {family}")).to_have_count(1)


def test_7b_a_double_tap_that_sends_the_encounter_form_twice_at_once_records_one_encounter(
    new_context: NewContext, live_server: LiveServer
) -> None:
    page = open_signed_in(new_context, live_server.users["officer"])
    given, family = "Zara", _unique("Double")
    _fill_theft(page, given, family)
    results = page.evaluate(POST_AGAIN, [page.evaluate(FORM_BODY), 2])
    assert [r["status"] for r in results] == [200, 200], results
    assert results[0]["url"] == results[1]["url"], results
    page.goto(results[0]["url"])
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Eligibility for {given} {family}")
    expect(_encounters_of(page, f"{given} {family}")).to_have_count(1)
