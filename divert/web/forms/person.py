from __future__ import annotations

import re

from govuk_frontend_wtf.wtforms_widgets import (
    GovDateInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextInput,
)
from wtforms import RadioField, SelectField, StringField, SubmitField
from wtforms.validators import InputRequired, Length, Optional, Regexp

from divert.models.person import GENDERS
from divert.rules import limits
from divert.rules.limits import too_long
from divert.web.forms.base import GovForm, VersionField
from divert.web.forms.fields import GovDateField, NotInFuture

# PNC ID: two or four digit year, a slash, up to seven digits and a check letter (e.g. 12/345678A).
PNC_PATTERN = re.compile(r"^\d{2}(\d{2})?/\d{1,7}[A-Z]$")
DISTRICT_PATTERN = re.compile(r"^[A-Z]{1,2}\d[A-Z\d]?$")

GENDER_LABELS = {"male": "Male", "female": "Female", "other": "Other", "not_stated": "Not stated"}


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
        filters=[lambda v: v.strip().upper() if v else v],
        validators=[
            Optional(),
            Regexp(PNC_PATTERN, message="Enter a PNC ID in the correct format, like 12/345678A"),
        ],
    )
    gender = RadioField(
        "Gender",
        widget=GovRadioInput(),
        choices=[(g, GENDER_LABELS[g]) for g in GENDERS],
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
        filters=[lambda v: v.strip().upper() if v else v],
        validators=[
            Optional(),
            Regexp(DISTRICT_PATTERN, message="Enter the first half of a postcode, like OX4"),
        ],
    )
    version_id = VersionField()
    submit = SubmitField("Save changes", widget=GovSubmitInput())
