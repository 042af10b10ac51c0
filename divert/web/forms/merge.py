from __future__ import annotations

from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextArea
from wtforms import HiddenField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length

from divert.rules import limits
from divert.rules.limits import too_long
from divert.web.forms.base import GovForm


class MergeForm(GovForm):
    duplicate_id = HiddenField(validators=[InputRequired(message="Select the record to merge")])
    reason = TextAreaField(
        "Why are these the same person?",
        widget=GovTextArea(),
        validators=[
            InputRequired(message="Enter a reason for merging these records"),
            Length(max=limits.REASON, message=too_long("Reason", limits.REASON)),
        ],
    )
    submit = SubmitField("Merge into this record", widget=GovSubmitInput())


class UndoMergeForm(GovForm):
    reason = TextAreaField(
        "Why undo this merge?",
        widget=GovTextArea(),
        validators=[
            InputRequired(message="Enter a reason for undoing this merge"),
            Length(max=limits.REASON, message=too_long("Reason", limits.REASON)),
        ],
    )
    submit = SubmitField("Undo merge", widget=GovSubmitInput(), render_kw={"class": "govuk-button--warning"})
