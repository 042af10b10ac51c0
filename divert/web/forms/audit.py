from __future__ import annotations

from govuk_frontend_wtf.wtforms_widgets import GovDateInput, GovSelect, GovSubmitInput, GovTextInput
from wtforms import SelectField, StringField, SubmitField
from wtforms.validators import Optional, ValidationError

from divert.web.forms.base import GovForm
from divert.web.forms.fields import GovDateField


class AuditSearchForm(GovForm):
    """The audit search: sent as a query string (GET), so a search is a link that can be shared."""

    class Meta:
        csrf = False  # a GET search changes nothing

    person = StringField("Person record number", widget=GovTextInput(), validators=[Optional()])
    user = SelectField("User", widget=GovSelect(), validators=[Optional()])
    organisation = SelectField("Organisation of the user", widget=GovSelect(), validators=[Optional()])
    action = SelectField("Action", widget=GovSelect(), validators=[Optional()])
    from_day = GovDateField("From", noun="from date", widget=GovDateInput(), validators=[Optional()])
    to_day = GovDateField("To", noun="to date", widget=GovDateInput(), validators=[Optional()])
    submit = SubmitField("Search", widget=GovSubmitInput())

    def validate_to_day(self, field: GovDateField) -> None:
        if field.data and self.from_day.data and field.data < self.from_day.data:
            raise ValidationError("The to date must be the same as or after the from date")

    def validate_person(self, field: StringField) -> None:
        if not (field.data or "").strip().isdigit():
            raise ValidationError("Enter a person record number using digits only, like 1234")
