from __future__ import annotations

from typing import Any

from govuk_frontend_wtf.wtforms_widgets import GovRadioInput, GovSelect, GovSubmitInput, GovTextArea
from wtforms import RadioField, SelectField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from divert.rules import limits
from divert.rules.definition import ProgrammeDefinition, reason_codes
from divert.rules.limits import too_long
from divert.web.forms.base import GovForm, VersionField


class OverrideForm(GovForm):
    outcome = RadioField(
        "What should the decision be?",
        widget=GovRadioInput(),
        validators=[InputRequired(message="Select the decision")],
    )
    # The programme's override codes (set_reasons): what monitoring counts; the words stay on the
    # decision. Words without a code are counted as "Other (free text)", never shown.
    reason_code = SelectField(
        "Why are you overriding the rules?", widget=GovSelect(), validators=[Optional()], validate_choice=True
    )
    reason = TextAreaField(
        "More about the reason (optional if you chose one above)",
        widget=GovTextArea(),
        validators=[
            Optional(),
            Length(max=limits.REASON, message=too_long("Reason", limits.REASON)),
        ],
    )
    submit = SubmitField("Override decision", widget=GovSubmitInput())

    def set_reasons(self, definition: ProgrammeDefinition) -> None:
        choices = reason_codes(definition, "override")
        self.reason_code.choices = [("", "Select a reason")] + [(c.code, c.label) for c in choices]

    def validate(self, extra_validators: Any = None) -> bool:
        valid: bool = super().validate(extra_validators)
        if not self.reason_code.data and not (self.reason.data or "").strip():
            self.reason_code.errors = [
                *self.reason_code.errors,
                "Enter a reason for overriding the decision, or select one",
            ]
            valid = False
        return valid

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
