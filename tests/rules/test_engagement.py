from datetime import date

import pytest

from divert.rules import CaseFacts, SessionRecord, Signal, contract_end, non_engagement_signals

from .builders import programme

YOUTH = programme("tvp-youth-drugs")
CHECKPOINT = programme("checkpoint")
DIVERT = programme("divert")
REFERRED = date(2024, 6, 10)  # a Monday; 10 working days later is Monday 24 June


def kinds(signals: list[Signal]) -> list[str]:
    return [signal.criterion_id for signal in signals]


@pytest.mark.parametrize(
    ("first_contact_on", "as_of", "flagged"),
    [
        (None, date(2024, 6, 24), False),  # the deadline day itself is still in time
        (None, date(2024, 6, 25), True),
        (date(2024, 6, 20), date(2024, 7, 1), False),
        (date(2024, 7, 1), date(2024, 6, 28), True),  # contact recorded later than "as of" is not yet known
    ],
)
def test_no_first_contact_by_the_deadline(first_contact_on: date | None, as_of: date, flagged: bool) -> None:
    case = CaseFacts(referred_on=REFERRED, first_contact_on=first_contact_on)
    signals = non_engagement_signals(YOUTH, case, as_of)
    assert ("no-first-contact" in kinds(signals)) is flagged
    if flagged:
        assert signals[0].since == date(2024, 6, 25)
        assert signals[0].text == "The YOT has not made contact within 10 working days of the referral."


def test_bank_holidays_move_the_deadline() -> None:
    case = CaseFacts(referred_on=REFERRED)
    assert kinds(non_engagement_signals(YOUTH, case, date(2024, 6, 25), holidays={date(2024, 6, 17)})) == []


@pytest.mark.parametrize(
    ("sessions", "flagged"),
    [
        ((SessionRecord(date(2024, 6, 20), "missed"),), False),
        ((SessionRecord(date(2024, 6, 20), "missed"), SessionRecord(date(2024, 6, 27), "missed")), True),
        (
            (SessionRecord(date(2024, 6, 20), "missed", True), SessionRecord(date(2024, 6, 27), "missed")),
            False,
        ),
        ((SessionRecord(date(2024, 6, 20), "late"), SessionRecord(date(2024, 6, 27), "late")), False),
        ((SessionRecord(date(2024, 6, 20), "missed"), SessionRecord(date(2024, 7, 20), "missed")), False),
    ],
)
def test_missed_sessions_without_acceptable_reason(
    sessions: tuple[SessionRecord, ...], flagged: bool
) -> None:
    case = CaseFacts(referred_on=REFERRED, first_contact_on=date(2024, 6, 12), sessions=sessions)
    signals = non_engagement_signals(YOUTH, case, date(2024, 7, 1))
    assert kinds(signals) == (["missed-sessions"] if flagged else [])
    if flagged:
        assert signals[0].since == date(2024, 6, 27)


def test_contract_expiry_uses_the_programmes_length() -> None:
    case = CaseFacts(
        referred_on=date(2024, 1, 10), first_contact_on=date(2024, 1, 12), contract_start=date(2024, 1, 15)
    )
    assert contract_end(CHECKPOINT, case) == date(2024, 5, 15)
    assert kinds(non_engagement_signals(CHECKPOINT, case, date(2024, 5, 15))) == []
    assert kinds(non_engagement_signals(CHECKPOINT, case, date(2024, 5, 16))) == ["contract-expired"]


def test_completed_cases_raise_nothing() -> None:
    case = CaseFacts(referred_on=REFERRED, contract_start=date(2024, 1, 1), completed=True)
    assert non_engagement_signals(CHECKPOINT, case, date(2025, 1, 1)) == []


def test_divert_meeting_outside_custody_within_7_days() -> None:
    case = CaseFacts(custody_contact_on=date(2024, 6, 10))
    assert kinds(non_engagement_signals(DIVERT, case, date(2024, 6, 17))) == []
    assert kinds(non_engagement_signals(DIVERT, case, date(2024, 6, 18))) == ["no-meeting-outside"]
