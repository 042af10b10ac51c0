"""Starting a policy simulation: which version to replay, over which period, broken down by what."""

from __future__ import annotations

from govuk_frontend_wtf.wtforms_widgets import GovDateInput, GovSelect, GovSubmitInput
from wtforms import SelectField, SubmitField
from wtforms.validators import InputRequired, Optional, ValidationError

from divert.monitoring.points import DIMENSIONS
from divert.web.forms.base import GovForm
from divert.web.forms.fields import GovDateField


class SimulationForm(GovForm):
    version = SelectField(
        "Version to simulate",
        widget=GovSelect(),
        validate_choice=False,  # validate_version says what is wrong instead of "Not a valid choice"
        validators=[InputRequired("Select the version to simulate")],
        description=(
            "A draft uploaded but not yet in force, or any stored version. "
            "It is compared with the version in force today."
        ),
    )
    dimension = SelectField(
        "Break down by",
        widget=GovSelect(),
        choices=[(name, d.label) for name, d in DIMENSIONS.items()],
        default="ethnicity_group",
        validators=[InputRequired("Select what to break the figures down by")],
    )
    date_from = GovDateField(
        "Encounters from", noun="start date", widget=GovDateInput(), validators=[Optional()],
        description="For example, 1 4 2026. Leave empty for every stored encounter.",
    )  # fmt: skip
    date_to = GovDateField(
        "Encounters until", noun="end date", widget=GovDateInput(), validators=[Optional()]
    )
    submit = SubmitField("Run the simulation", widget=GovSubmitInput())

    def validate_version(self, field: SelectField) -> None:
        if field.data not in {value for value, _ in field.choices or ()}:
            raise ValidationError("Select a version of a programme in your organisation's figures")

    def validate_date_to(self, field: GovDateField) -> None:
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError("The end date must be on or after the start date")
