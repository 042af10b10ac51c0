from __future__ import annotations

from govuk_frontend_wtf.wtforms_widgets import (
    GovDateInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextInput,
)
from wtforms import RadioField, SelectField, StringField, SubmitField
from wtforms.validators import InputRequired, Length, Optional

from divert.rules import codes, limits
from divert.rules.limits import too_long
from divert.web.forms.base import GovForm, VersionField
from divert.web.forms.fields import Checked, GovDateField, NotInFuture, stripped


class PersonForm(GovForm):
    given_name = StringField(
        "First name",
        widget=GovTextInput(),
        validators=[
            InputRequired(message="Enter a first name"),
            Length(max=limits.NAME, message=too_long("First name", limits.NAME)),
        ],
    )
    family_name = StringField(
        "Last name",
        widget=GovTextInput(),
        validators=[
            InputRequired(message="Enter a last name"),
            Length(max=limits.NAME, message=too_long("Last name", limits.NAME)),
        ],
    )
    date_of_birth = GovDateField(
        "Date of birth",
        noun="date of birth",
        widget=GovDateInput(),
        validators=[Optional(), NotInFuture("date of birth")],
    )
    pnc_id = StringField(
        "PNC ID (if known)",
        widget=GovTextInput(),
        filters=[stripped],
        validators=[
            Optional(),
            Checked(codes.pnc_id),
            Length(max=limits.PNC_ID, message=too_long("PNC ID", limits.PNC_ID)),
        ],
    )
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
    postcode_district = StringField(
        "Postcode district",
        widget=GovTextInput(),
        filters=[stripped],
        validators=[
            Optional(),
            # The pattern's message first: it says what to enter, not only that it is too long.
            Checked(codes.postcode_district),
            Length(max=limits.DISTRICT, message=too_long("Postcode district", limits.DISTRICT)),
        ],
    )
    version_id = VersionField()
    submit = SubmitField("Save changes", widget=GovSubmitInput())
