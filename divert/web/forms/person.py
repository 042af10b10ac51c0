from __future__ import annotations

from govuk_frontend_wtf.wtforms_widgets import (
    GovDateInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
)
from wtforms import RadioField, SelectField, SubmitField
from wtforms.validators import InputRequired, Optional

from divert.rules import codes
from divert.web.forms.base import GovForm, VersionField
from divert.web.forms.fields import (
    GovDateField,
    NotInFuture,
    district_field,
    name_field,
    pnc_id_field,
)


class PersonForm(GovForm):
    given_name = name_field("First name", "Enter a first name")
    family_name = name_field("Last name", "Enter a last name")
    date_of_birth = GovDateField(
        "Date of birth",
        noun="date of birth",
        widget=GovDateInput(),
        validators=[Optional(), NotInFuture("date of birth")],
    )
    pnc_id = pnc_id_field()
    gender = RadioField(
        "Gender",
        widget=GovRadioInput(),
        choices=[(g, codes.label(g)) for g in codes.GENDERS],
        validators=[InputRequired(message="Select a gender, or 'Not stated'")],
    )
    self_defined_ethnicity = SelectField(
        "Ethnicity (self-defined)",
        widget=GovSelect(),
        validators=[InputRequired(message="Select an ethnicity, or 'Not stated'")],
    )
    officer_defined_ethnicity = SelectField(
        "Ethnicity (officer-defined)", widget=GovSelect(), validators=[Optional()]
    )
    postcode_district = district_field("Postcode district")
    version_id = VersionField()
    submit = SubmitField("Save changes", widget=GovSubmitInput())
