"""Field helpers that speak GOV.UK: specific error messages, and choices from reference data."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from govuk_frontend_wtf.wtforms_widgets import GovTextInput
from wtforms import DateField, StringField
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from divert.app.clock import today
from divert.rules import codes, limits
from divert.rules.codes import InvalidValue
from divert.rules.limits import too_long


class GovDateField(DateField):
    """A day/month/year date whose errors say what is wrong, as the GOV.UK pattern asks."""

    def __init__(self, label: str, *, noun: str, **kwargs: Any) -> None:
        self.noun = noun
        super().__init__(label, format="%d %m %Y", **kwargs)

    def process_formdata(self, valuelist: list[Any]) -> None:
        # A browser always sends day, month and year; pad anything else so the widget can redraw it.
        parts = ([str(v).strip() for v in valuelist] + ["", "", ""])[:3]
        self.raw_data = parts
        if not any(parts):
            self.data = None
            return
        missing = [name for name, v in zip(("day", "month", "year"), parts, strict=False) if not v]
        if missing:
            self.data = None
            raise ValueError(f"{self.noun.capitalize()} must include a {' and '.join(missing)}")
        try:
            day, month, year = (int(p) for p in parts)
            self.data = date(year, month, day)
        except ValueError:
            self.data = None
            raise ValueError(f"{self.noun.capitalize()} must be a real date") from None
        if year < 1900:
            self.data = None
            raise ValueError(f"{self.noun.capitalize()} must be after 1900")


class NotInFuture:
    def __init__(self, noun: str) -> None:
        self.noun = noun

    def __call__(self, form: Any, field: Any) -> None:
        if field.data and field.data > today():
            raise ValidationError(f"{self.noun.capitalize()} must be today or in the past")


class Checked:
    """Runs one of the vocabulary's validators and keeps the value it normalises ("ox4" becomes OX4).

    Put it after ``Optional()`` for fields that may be blank; the vocabulary's message is the error.
    """

    def __init__(self, check: Callable[[str], object]) -> None:
        self.check = check

    def __call__(self, form: Any, field: Any) -> None:
        try:
            value = self.check(field.data or "")
        except InvalidValue as error:
            raise ValidationError(str(error)) from None
        # Times are parsed for the form's own use; the field keeps what was typed so it redraws as typed.
        if isinstance(value, str):
            field.data = value


def stripped(value: str | None) -> str | None:
    """A filter: spaces round a typed value are never part of it, and a blank field stays blank."""
    return value.strip() if value else value


# The person's fields as the encounter form and the person form both ask them.


def name_field(label: str, required: str) -> StringField:
    return StringField(
        label,
        widget=GovTextInput(),
        validators=[
            InputRequired(message=required),
            Length(max=limits.NAME, message=too_long(label, limits.NAME)),
        ],
    )


def pnc_id_field() -> StringField:
    return StringField(
        "PNC ID (if known)",
        widget=GovTextInput(),
        filters=[stripped],
        validators=[
            Optional(),
            # The pattern's message first: it says what to enter, not only that it is too long.
            Checked(codes.pnc_id),
            Length(max=limits.PNC_ID, message=too_long("PNC ID", limits.PNC_ID)),
        ],
    )


def district_field(label: str) -> StringField:
    return StringField(
        label,
        widget=GovTextInput(),
        filters=[stripped],
        validators=[
            Optional(),
            Checked(codes.postcode_district),
            Length(max=limits.DISTRICT, message=too_long("Postcode district", limits.DISTRICT)),
        ],
    )
