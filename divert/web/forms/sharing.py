"""Forms for information-sharing agreements (issue 17)."""

from __future__ import annotations

from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovDateInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import SelectField, SelectMultipleField, StringField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from divert.rules import limits
from divert.rules.limits import too_long
from divert.rules.sharing import CATEGORIES, CATEGORY_LABELS, LAWFUL_BASES
from divert.web.forms.base import GovForm, VersionField
from divert.web.forms.fields import GovDateField

_CATEGORY_CHOICES = [(c, CATEGORY_LABELS[c]) for c in CATEGORIES]


class AgreementForm(GovForm):
    name = StringField(
        "Name of the agreement",
        widget=GovTextInput(),
        validators=[
            InputRequired(message="Enter the agreement's name"),
            Length(max=limits.USER_NAME, message=too_long("Name", limits.USER_NAME)),
        ],
    )
    first_organisation = SelectField(
        "First organisation", widget=GovSelect(), coerce=int, validate_choice=True
    )
    second_organisation = SelectField(
        "Second organisation", widget=GovSelect(), coerce=int, validate_choice=True
    )
    to_second = SelectMultipleField(
        "What the first organisation shares with the second",
        widget=GovCheckboxesInput(),
        choices=_CATEGORY_CHOICES,
        validators=[Optional()],
    )
    to_first = SelectMultipleField(
        "What the second organisation shares with the first",
        widget=GovCheckboxesInput(),
        choices=_CATEGORY_CHOICES,
        validators=[Optional()],
    )
    programmes = SelectMultipleField(
        "Programmes it covers",
        widget=GovCheckboxesInput(),
        coerce=int,
        validators=[InputRequired(message="Select the programmes the agreement covers")],
    )
    lawful_basis = SelectField(
        "Lawful basis (Data Protection Act 2018 Part 3)",
        widget=GovSelect(),
        choices=[("", "Select a lawful basis"), *LAWFUL_BASES.items()],
        validators=[InputRequired(message="Select the lawful basis for the sharing")],
    )
    lawful_basis_text = TextAreaField(
        "The lawful basis in the agreement's own words (optional)",
        widget=GovTextArea(),
        validators=[Optional(), Length(max=limits.REASON, message=too_long("Lawful basis", limits.REASON))],
    )
    valid_from = GovDateField(
        "First day",
        noun="first day",
        widget=GovDateInput(),
        validators=[InputRequired(message="Enter the agreement's first day")],
    )
    valid_until = GovDateField(
        "Last day (leave blank while it runs)",
        noun="last day",
        widget=GovDateInput(),
        validators=[Optional()],
    )
    version_id = VersionField()
    submit = SubmitField("Save agreement", widget=GovSubmitInput())
