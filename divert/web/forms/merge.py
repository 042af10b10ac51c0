from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextArea
from wtforms import HiddenField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length


class MergeForm(FlaskForm):
    duplicate_id = HiddenField(validators=[InputRequired(message="Select the record to merge")])
    reason = TextAreaField(
        "Why are these the same person?",
        widget=GovTextArea(),
        validators=[
            InputRequired(message="Enter a reason for merging these records"),
            Length(max=1000, message="Reason must be 1000 characters or fewer"),
        ],
    )
    submit = SubmitField("Merge into this record", widget=GovSubmitInput())


class UndoMergeForm(FlaskForm):
    reason = TextAreaField(
        "Why undo this merge?",
        widget=GovTextArea(),
        validators=[
            InputRequired(message="Enter a reason for undoing this merge"),
            Length(max=1000, message="Reason must be 1000 characters or fewer"),
        ],
    )
    submit = SubmitField("Undo merge", widget=GovSubmitInput(), render_kw={"class": "govuk-button--warning"})
