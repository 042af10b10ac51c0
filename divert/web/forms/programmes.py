"""Forms for programme versions uploaded in the browser and the reference codes administrators keep."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxInput,
    GovDateInput,
    GovFileInput,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import BooleanField, StringField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length

from divert.web.forms.base import GovForm
from divert.web.forms.fields import GovDateField, stripped


# A pasted definition runs to thousands of characters, past GovForm's limit for any one field; YAML
# with a NUL in it fails to parse and is reported by field like any other problem.
class UploadVersionForm(FlaskForm):
    file = FileField("Definition file", widget=GovFileInput())
    text = TextAreaField("Or paste the definition", widget=GovTextArea())
    submit = SubmitField("Check and save as a draft", widget=GovSubmitInput())


class PublishForm(GovForm):
    effective_from = GovDateField(
        "Date it takes effect",
        noun="the date it takes effect",
        widget=GovDateInput(),
        validators=[InputRequired(message="Enter the date it takes effect")],
    )
    submit = SubmitField("Publish", widget=GovSubmitInput())


class DiscardForm(GovForm):
    """Only the CSRF token: the page draws its button beside the publish form's."""


class LabelForm(GovForm):
    label = StringField(
        "Label",
        widget=GovTextInput(),
        filters=[stripped],
        validators=[
            InputRequired(message="Enter a label"),
            Length(max=200, message="Label must be 200 characters or fewer"),
        ],
    )
    active = BooleanField("In use: officers can choose it on new records", widget=GovCheckboxInput())
    submit = SubmitField("Save", widget=GovSubmitInput())


class OffenceForm(GovForm):
    slug = StringField(
        "Slug",
        widget=GovTextInput(),
        filters=[stripped],
        validators=[InputRequired(message="Enter a slug")],
    )
    label = StringField(
        "Label",
        widget=GovTextInput(),
        filters=[stripped],
        validators=[
            InputRequired(message="Enter a label"),
            Length(max=120, message="Label must be 120 characters or fewer"),
        ],
    )
    submit = SubmitField("Add offence category", widget=GovSubmitInput())
