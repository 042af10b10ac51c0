from __future__ import annotations

from typing import Any

from govuk_frontend_wtf.wtforms_widgets import GovRadioInput, GovSubmitInput, GovTextArea
from wtforms import RadioField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length

from divert.rules import limits
from divert.rules.limits import too_long
from divert.web.forms.base import GovForm, VersionField


class OverrideForm(GovForm):
    outcome = RadioField(
        "What should the decision be?",
        widget=GovRadioInput(),
        validators=[InputRequired(message="Select the decision")],
    )
    reason = TextAreaField(
        "Why are you overriding the rules?",
        widget=GovTextArea(),
        validators=[
            InputRequired(message="Enter a reason for overriding the decision"),
            Length(max=limits.REASON, message=too_long("Reason", limits.REASON)),
        ],
    )
    submit = SubmitField("Override decision", widget=GovSubmitInput())

    def set_routes(self, routes: list[tuple[str, str]]) -> None:
        """Choices: each route means 'eligible, by this route'; or not eligible."""
        self.outcome.choices = [(f"route:{rid}", f"Eligible: {name}") for rid, name in routes] + [
            ("not_eligible", "Not eligible")
        ]

    def decision(self) -> dict[str, Any]:
        value: str = self.outcome.data
        if value.startswith("route:"):
            return {"eligible": True, "route": value.removeprefix("route:")}
        return {"eligible": False, "route": None}


class CorrectionForm(GovForm):
    reason = TextAreaField(
        "Why is the last step a mistake?",
        widget=GovTextArea(),
        validators=[
            InputRequired(message="Enter a reason for the correction"),
            Length(max=limits.REASON, message=too_long("Reason", limits.REASON)),
        ],
    )
    version_id = VersionField()
    submit = SubmitField("Correct the last step", widget=GovSubmitInput())
