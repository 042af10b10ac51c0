"""The base of every form: no submitted value is stored unbounded or with a character no column holds.

Each free-text field also declares its own ``Length`` from ``divert.rules.limits`` with a GOV.UK
message; this catches what a field's own validators do not (a NUL typed into a name, a megabyte
pasted into a hidden field), for every form at once.
"""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import HiddenField
from wtforms.validators import ValidationError

from divert.app.ids import parse_version
from divert.rules.limits import ANY_TEXT, text_problem


class GovForm(FlaskForm):
    def validate(self, extra_validators: Any = None) -> bool:
        valid: bool = super().validate(extra_validators)
        for field in self:
            label = field.label.text if field.label and field.label.text else field.name
            for raw in field.raw_data or []:
                problem = text_problem(label, raw, ANY_TEXT) if isinstance(raw, str) else None
                if problem:
                    field.errors = [*field.errors, problem]
                    valid = False
                    break
        return valid


class VersionField(HiddenField):
    """The version of the record a form was drawn from, sent back to detect someone else's change.

    A browser only ever returns the number the page gave it; anything else is refused as a field
    error (a 400), never turned into a number by the view.
    """

    def pre_validate(self, form: Any) -> None:
        if self.data and parse_version(self.data) is None:
            raise ValidationError("Reload the page and try again: the version of the form is not valid")

    def version(self) -> int:
        """The validated version (0 when the form sent none)."""
        return parse_version(self.data) or 0
