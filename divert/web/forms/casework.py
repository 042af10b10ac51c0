"""Forms for working a case: the next step, appointments and attendance."""

from __future__ import annotations

from datetime import date, datetime
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
from wtforms.validators import InputRequired, Length, Optional

from divert.app.clock import at_uk_time
from divert.rules import codes, limits
from divert.rules.limits import too_long
from divert.web.forms.base import GovForm, VersionField
from divert.web.forms.fields import Checked, GovDateField


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
        choices=[(kind, codes.label(kind)) for kind in codes.CONTACT_KINDS],
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
            Checked(codes.time_of_day),
        ],
    )
    submit = SubmitField("Book appointment", widget=GovSubmitInput())

    def scheduled_at(self) -> datetime:
        day: date | None = self.day.data
        if day is None:
            raise ValueError("scheduled_at() needs a validated date and time")
        return at_uk_time(day, codes.time_of_day(self.time.data))


class AttendanceForm(GovForm):
    attendance = RadioField(
        "Did the person attend?",
        widget=GovRadioInput(),
        choices=[(a, codes.label(a)) for a in codes.RECORDED_ATTENDANCE],
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
    visibility = RadioField(
        "Who may read the note",
        widget=GovRadioInput(),
        choices=[(v, codes.label(v)) for v in codes.VISIBILITIES],
        default="team",
        # Left unset, a note stays with the working team: sharing is the choice that must be made.
        validators=[Optional()],
    )
    submit = SubmitField("Add note", widget=GovSubmitInput())
