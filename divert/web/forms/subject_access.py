from __future__ import annotations

from govuk_frontend_wtf.wtforms_widgets import GovRadioInput, GovSubmitInput, GovTextArea, GovTextInput
from wtforms import RadioField, StringField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, ValidationError

from divert.web.forms.base import GovForm


class SubjectAccessForm(GovForm):
    person = StringField(
        "Person record number",
        widget=GovTextInput(),
        validators=[InputRequired(message="Enter the person record number")],
    )
    reason = TextAreaField(
        "Why is this export being made?",
        widget=GovTextArea(),
        validators=[
            InputRequired(message="Enter why this export is being made"),
            Length(max=1000, message="The reason must be 1000 characters or fewer"),
        ],
    )
    format = RadioField(
        "Format",
        widget=GovRadioInput(),
        choices=[("pdf", "PDF, to read or send to the person"), ("json", "JSON, every stored field")],
        validators=[InputRequired(message="Select a format")],
    )
    submit = SubmitField("Download the export", widget=GovSubmitInput())

    def validate_person(self, field: StringField) -> None:
        if not (field.data or "").strip().isdigit():
            raise ValidationError("Enter a person record number using digits only, like 1234")

    def validate_reason(self, field: TextAreaField) -> None:
        if not (field.data or "").strip():
            raise ValidationError("Enter why this export is being made")
