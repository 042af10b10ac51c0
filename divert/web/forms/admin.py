from __future__ import annotations

from govuk_frontend_wtf.wtforms_widgets import GovPasswordInput, GovSelect, GovSubmitInput, GovTextInput
from wtforms import EmailField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import Email, InputRequired, Length, ValidationError

from divert.auth.passwords import password_problem
from divert.models.user import ROLES
from divert.rules import limits
from divert.rules.codes import label
from divert.rules.limits import too_long
from divert.web.forms.base import GovForm


class UserForm(GovForm):
    name = StringField(
        "Full name",
        widget=GovTextInput(),
        validators=[
            InputRequired(message="Enter the user's full name"),
            Length(max=limits.USER_NAME, message=too_long("Full name", limits.USER_NAME)),
        ],
    )
    email = EmailField(
        "Email address",
        widget=GovTextInput(),
        validators=[
            InputRequired(message="Enter an email address"),
            Length(max=limits.EMAIL, message=too_long("Email address", limits.EMAIL)),
            Email(
                message="Enter an email address in the correct format, like name@example.org",
                check_deliverability=False,
            ),
        ],
    )
    role = SelectField(
        "Role",
        widget=GovSelect(),
        choices=[(r, label(r)) for r in ROLES],
        validators=[InputRequired(message="Select a role")],
    )
    password = PasswordField(
        "Temporary password",
        widget=GovPasswordInput(),
        validators=[InputRequired(message="Enter a temporary password")],
    )
    submit = SubmitField("Create user", widget=GovSubmitInput())

    def validate_password(self, field: PasswordField) -> None:
        problem = password_problem(
            field.data or "", email=self.email.data or "", name=self.name.data or "", own=False
        )
        if problem:
            raise ValidationError(problem)
