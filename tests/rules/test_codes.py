"""The vocabulary: one label for each code, and one validator for each kind of typed-in value."""

from __future__ import annotations

from datetime import time

import pytest

from divert.rules import ROLES, codes
from divert.rules.codes import InvalidValue, label, listed, phrase, pnc_id, postcode_district, time_of_day


def test_known_codes_have_their_own_labels() -> None:
    assert label("yju_decision_maker") == "Youth Justice Unit decision maker"
    assert label("yot_caseworker") == "YOT caseworker"
    assert label("mental_health") == "Mental health"
    assert label("no_comment") == "No comment"
    assert label("late") == "Attended late"
    assert label("pnc_id") == "PNC ID"


def test_unknown_codes_are_written_out() -> None:
    assert label("moved_away") == "Moved away"
    assert label("did-not-attend") == "Did not attend"
    assert label(None) == label("") == "Not recorded"


def test_mid_sentence_labels_keep_names_and_acronyms() -> None:
    assert phrase("mental_health") == "mental health"
    assert phrase("yju_decision_maker") == "Youth Justice Unit decision maker"
    assert phrase("yot_caseworker") == "YOT caseworker"
    assert phrase("pnc_id") == "PNC ID"
    assert listed(("low", "medium", "high")) == "low, medium or high"
    assert listed(("housing",)) == "housing"


def test_every_code_set_has_a_label_for_each_code() -> None:
    for values, labels in (
        (codes.GENDERS, codes.GENDER_LABELS),
        (codes.SETTINGS, codes.SETTING_LABELS),
        (codes.ADMISSIONS, codes.ADMISSION_LABELS),
        (codes.FACTS, codes.FACT_LABELS),
        (codes.VULNERABILITIES, codes.VULNERABILITY_LABELS),
        (codes.ATTENDANCE, codes.ATTENDANCE_LABELS),
        (ROLES, codes.ROLE_LABELS),
    ):
        assert set(values) == set(labels)
        assert all(label(value) == labels[value] for value in values)
    # Single letters mean nothing outside the drug question, so their labels are kept to its choices.
    assert set(codes.DRUG_CLASS_LABELS) == set(codes.DRUG_CLASSES) and label("A") == "A"
    assert set(codes.RECORDED_ATTENDANCE) == set(codes.ATTENDANCE) - {"scheduled"}


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("12/345678A", "12/345678A"), (" 12/345678a ", "12/345678A"), ("2012/1Z", "2012/1Z")],
)
def test_a_pnc_id_is_normalised(typed: str, stored: str) -> None:
    assert pnc_id(typed) == stored


@pytest.mark.parametrize("typed", ["", "12345678A", "123/45678A", "12/345678", "12/12345678A", "ABC-123"])
def test_a_pnc_id_in_another_shape_is_refused(typed: str) -> None:
    with pytest.raises(InvalidValue, match=r"^Enter a PNC ID in the correct format, like 12/345678A$"):
        pnc_id(typed)


@pytest.mark.parametrize(
    ("typed", "stored"), [("OX4", "OX4"), ("ox 4", "OX4"), ("sw1a", "SW1A"), ("M1", "M1")]
)
def test_a_postcode_district_is_normalised(typed: str, stored: str) -> None:
    assert postcode_district(typed) == stored


@pytest.mark.parametrize("typed", ["OX4 1AB", "4OX", "OXFORD", "", "O"])
def test_anything_but_a_postcode_district_is_refused(typed: str) -> None:
    with pytest.raises(InvalidValue, match=r"^Enter the first half of a postcode, like OX4$"):
        postcode_district(typed)


@pytest.mark.parametrize(
    ("typed", "parsed"), [("14:30", time(14, 30)), ("9.05", time(9, 5)), (" 00:00 ", time(0))]
)
def test_a_time_of_day(typed: str, parsed: time) -> None:
    assert time_of_day(typed) == parsed


@pytest.mark.parametrize("typed", ["24:00", "2pm", "14:60", "1430", ""])
def test_anything_but_a_24_hour_time_is_refused(typed: str) -> None:
    with pytest.raises(InvalidValue, match=r"^Enter a time in the 24-hour clock, like 14:30$"):
        time_of_day(typed)
