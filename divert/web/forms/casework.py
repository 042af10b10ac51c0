"""Forms for working a case: the next step, appointments and attendance."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

from govuk_frontend_wtf.wtforms_widgets import (
    GovDateInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import RadioField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional, Regexp

from divert.app.clock import LONDON
from divert.rules import limits
from divert.rules.limits import too_long
from divert.web.forms.base import GovForm, VersionField
from divert.web.forms.fields import GovDateField

TIME = re.compile(r"^([01]?\d|2[0-3])[:.]([0-5]\d)$")


class StepForm(GovForm):
    to_state = RadioField(
        "What happens next?",
        widget=GovRadioInput(),
        validators=[InputRequired(message="Select the next step")],
    )
    reason = TextAreaField(
        "Reason",
        widget=GovTextArea(),
        validators=[Optional(), Length(max=limits.REASON, message=too_long("Reason", limits.REASON))],
    )
    exit_reason = SelectField("If the case is ending: why", widget=GovSelect(), validators=[Optional()])
    version_id = VersionField()
    submit = SubmitField("Save the step", widget=GovSubmitInput())


class ContactForm(GovForm):
    kind = RadioField(
        "Kind of appointment",
        widget=GovRadioInput(),
        choices=[("contact", "Contact"), ("session", "Session"), ("meeting", "Meeting")],
        validators=[InputRequired(message="Select the kind of appointment")],
    )
    day = GovDateField(
        "Date", noun="date", widget=GovDateInput(), validators=[InputRequired(message="Enter the date")]
    )
    time = StringField(
        "Time",
        widget=GovTextInput(),
        validators=[
            InputRequired(message="Enter the time"),
            Length(max=10, message="Enter a time in the 24-hour clock, like 14:30"),
            Regexp(TIME, message="Enter a time in the 24-hour clock, like 14:30"),
        ],
    )
    submit = SubmitField("Book appointment", widget=GovSubmitInput())

    def scheduled_at(self) -> datetime:
        match = TIME.match(self.time.data.strip())
        day: date | None = self.day.data
        if match is None or day is None:
            raise ValueError("scheduled_at() needs a validated date and time")
        local = datetime(
            day.year, day.month, day.day, int(match.group(1)), int(match.group(2)), tzinfo=LONDON
        )
        return local.astimezone(UTC)


class AttendanceForm(GovForm):
    attendance = RadioField(
        "Did the person attend?",
        widget=GovRadioInput(),
        choices=[
            ("attended", "Attended"),
            ("late", "Attended late"),
            ("missed", "Missed"),
            ("cancelled", "Cancelled"),
        ],
        validators=[InputRequired(message="Select whether the person attended")],
    )
    missed_reason = StringField(
        "If missed: why",
        widget=GovTextInput(),
        validators=[
            Optional(),
            Length(max=limits.SHORT_REASON, message=too_long("Why it was missed", limits.SHORT_REASON)),
        ],
    )
    reason_acceptable = RadioField(
        "If missed: is the reason acceptable?",
        widget=GovRadioInput(),
        choices=[("yes", "Yes"), ("no", "No")],
        validators=[Optional()],
    )
    notes = TextAreaField(
        "Notes",
        widget=GovTextArea(),
        validators=[Optional(), Length(max=limits.NOTES, message=too_long("Notes", limits.NOTES))],
    )
    version_id = VersionField()
    submit = SubmitField("Save attendance", widget=GovSubmitInput())

    def acceptable(self) -> bool | None:
        value: Any = self.reason_acceptable.data
        return None if not value else value == "yes"


class NoteForm(GovForm):
    text = TextAreaField(
        "Add a note",
        widget=GovTextArea(),
        validators=[
            InputRequired(message="Enter the note"),
            Length(max=limits.NOTE, message=too_long("A note", limits.NOTE)),
        ],
    )
    submit = SubmitField("Add note", widget=GovSubmitInput())
