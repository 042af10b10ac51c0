"""Field helpers that speak GOV.UK: specific error messages, and choices from reference data."""

from __future__ import annotations

from datetime import date
from typing import Any

from wtforms import DateField
from wtforms.validators import ValidationError


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
        if field.data and field.data > date.today():
            raise ValidationError(f"{self.noun.capitalize()} must be today or in the past")
