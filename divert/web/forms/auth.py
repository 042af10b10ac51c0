from __future__ import annotations

from govuk_frontend_wtf.wtforms_widgets import GovPasswordInput, GovSubmitInput, GovTextInput
from wtforms import EmailField, PasswordField, SubmitField
from wtforms.validators import InputRequired, Length

from divert.rules import limits
from divert.rules.limits import too_long
from divert.web.forms.base import GovForm


class SignInForm(GovForm):
    email = EmailField(
        "Email address",
        widget=GovTextInput(),
        validators=[
            InputRequired(message="Enter your email address"),
            Length(max=limits.EMAIL, message=too_long("Email address", limits.EMAIL)),
        ],
    )
    password = PasswordField(
        "Password",
        widget=GovPasswordInput(),
        validators=[InputRequired(message="Enter your password"), Length(max=limits.PASSWORD)],
    )
    submit = SubmitField("Sign in", widget=GovSubmitInput())
