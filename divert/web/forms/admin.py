from __future__ import annotations

from govuk_frontend_wtf.wtforms_widgets import (
    GovDateInput,
    GovPasswordInput,
    GovSelect,
    GovSubmitInput,
    GovTextInput,
)
from wtforms import EmailField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import Email, InputRequired, Length, Optional, ValidationError

from divert.auth.passwords import password_problem
from divert.models.user import ROLES
from divert.rules import limits
from divert.rules.codes import ORGANISATION_KINDS, label
from divert.rules.limits import too_long
from divert.web.forms.base import GovForm
from divert.web.forms.fields import GovDateField


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


class RoleForm(GovForm):
    role = SelectField(
        "Role",
        widget=GovSelect(),
        choices=[(r, label(r)) for r in ROLES],
        validators=[InputRequired(message="Select a role")],
    )
    submit = SubmitField("Change role", widget=GovSubmitInput())


class ResetPasswordForm(GovForm):
    """Setting a new password through a one-time link (the user is not signed in)."""

    new_password = PasswordField(
        "New password",
        widget=GovPasswordInput(),
        validators=[InputRequired(message="Enter a new password")],
    )
    confirm_password = PasswordField(
        "Confirm new password",
        widget=GovPasswordInput(),
        validators=[InputRequired(message="Enter your new password again")],
    )
    submit = SubmitField("Set password", widget=GovSubmitInput())

    def validate_confirm_password(self, field: PasswordField) -> None:
        if self.new_password.data and field.data != self.new_password.data:
            raise ValidationError("Enter the same new password twice")


class OrganisationForm(GovForm):
    name = StringField(
        "Name",
        widget=GovTextInput(),
        validators=[InputRequired(message="Enter the organisation's name"), Length(max=200)],
    )
    code = StringField(
        "Code",
        widget=GovTextInput(),
        validators=[InputRequired(message="Enter a short code for the organisation"), Length(max=40)],
    )
    kind = SelectField(
        "Kind of organisation",
        widget=GovSelect(),
        choices=[(k, label(k)) for k in ORGANISATION_KINDS],
        validators=[InputRequired(message="Select the kind of organisation")],
    )
    submit = SubmitField("Create organisation", widget=GovSubmitInput())


class AssignmentForm(GovForm):
    programme = SelectField(
        "Programme", widget=GovSelect(), validators=[InputRequired(message="Select a programme")]
    )
    role = SelectField(
        "What the organisation does",
        widget=GovSelect(),
        choices=[
            ("police", "Records encounters"),
            ("receiving", "Receives referrals"),
            ("oversight", "Oversees it (monitoring figures only)"),
        ],
        validators=[InputRequired(message="Select what the organisation does")],
    )
    route = StringField(
        "Route (receiving organisations only; blank for every route)",
        widget=GovTextInput(),
        validators=[Optional(), Length(max=40)],
    )
    effective_from = GovDateField("From", noun="start date", widget=GovDateInput(), validators=[Optional()])
    effective_to = GovDateField("Until", noun="end date", widget=GovDateInput(), validators=[Optional()])
    submit = SubmitField("Save assignment", widget=GovSubmitInput())

    def validate_effective_to(self, field: GovDateField) -> None:
        if field.data and self.effective_from.data and field.data < self.effective_from.data:
            raise ValidationError("The end date must be the same as or after the start date")
