from __future__ import annotations

from govuk_frontend_wtf.wtforms_widgets import GovCheckboxInput, GovSubmitInput, GovTextArea
from wtforms import BooleanField, HiddenField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, ValidationError

from divert.rules import limits
from divert.web.forms.base import GovForm


class RetentionForm(GovForm):
    as_of = HiddenField()
    reason = TextAreaField(
        "Why are these records being anonymised?",
        widget=GovTextArea(),
        validators=[
            InputRequired(message="Enter why these records are being anonymised"),
            Length(max=limits.REASON, message=f"The reason must be {limits.REASON} characters or fewer"),
        ],
    )
    confirm = BooleanField(
        "I have checked the list: carry out the anonymisation and erasure shown",
        widget=GovCheckboxInput(),
        validators=[InputRequired(message="Confirm that you have checked the list")],
    )
    submit = SubmitField("Anonymise these records", widget=GovSubmitInput())

    def validate_reason(self, field: TextAreaField) -> None:
        if not (field.data or "").strip():
            raise ValidationError("Enter why these records are being anonymised")


class RestrictionForm(GovForm):
    version = HiddenField()
    reason = TextAreaField(
        "Why?",
        widget=GovTextArea(),
        validators=[
            InputRequired(message="Enter why"),
            Length(max=limits.REASON, message=f"The reason must be {limits.REASON} characters or fewer"),
        ],
    )
    submit = SubmitField("Save", widget=GovSubmitInput())

    def validate_reason(self, field: TextAreaField) -> None:
        if not (field.data or "").strip():
            raise ValidationError("Enter why")
