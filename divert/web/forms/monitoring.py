"""The monitoring filters: a GET form, so a page of figures is a link that can be shared or bookmarked.

The field names are the query string's (``from``, ``to``, ``published=yes`` ...), which links and
the exports already use. No CSRF token: it changes nothing, and a token would break every link.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from govuk_frontend_wtf.wtforms_widgets import GovSelect, GovSubmitInput, GovTextInput
from werkzeug.datastructures import MultiDict
from wtforms import Field, SelectField, StringField, SubmitField
from wtforms.validators import ValidationError

from divert.monitoring.page import PERIOD_LABELS, POINT_LABELS, Filters
from divert.monitoring.points import ALL_GROUPS, BY_NAME, DIMENSIONS
from divert.web.forms.base import GovForm

DEFAULTS = {"period": "quarter", "dimension": "ethnicity_group", "point": "offered"}


class _IsoDate(StringField):
    """A date typed as YYYY-MM-DD (what a browser's date input sends); empty means no limit."""

    def __init__(self, label: str, *, noun: str, **kwargs: Any) -> None:
        super().__init__(label, widget=GovTextInput(), **kwargs)
        self.noun = noun
        self.day: date | None = None

    def pre_validate(self, form: Any) -> None:
        raw = (self.data or "").strip()
        self.day = None
        if raw:
            try:
                self.day = date.fromisoformat(raw)
            except ValueError:
                raise ValidationError(f"The {self.noun} must be a real date, like 2026-01-31") from None


def _known(message: str) -> Any:
    def check(form: Any, field: Field) -> None:
        if field.data not in {value for value, _ in field.choices}:
            raise ValidationError(message)

    return check


class MonitoringFilters(GovForm):
    """Declared in the order errors are listed in the summary."""

    class Meta:
        csrf = False

    programme = SelectField("Programme", widget=GovSelect(), validate_choice=False)
    period = SelectField(
        "Trends by",
        widget=GovSelect(),
        choices=list(PERIOD_LABELS.items()),
        validate_choice=False,
        validators=[_known("Select month, quarter or year")],
    )
    dimension = SelectField(
        "Break down by",
        widget=GovSelect(),
        choices=[(key, d.label) for key, d in DIMENSIONS.items()],
        validate_choice=False,
        validators=[_known("Select what to break the figures down by")],
    )
    date_from = _IsoDate(
        "Encounters from", noun="start date", name="from", description="For example, 2026-01-01"
    )
    date_to = _IsoDate("Encounters to (inclusive)", noun="end date", name="to")
    point = SelectField(
        "Decision point for the charts and trends",
        widget=GovSelect(),
        choices=[(p.name, POINT_LABELS[p.name]) for p in BY_NAME.values() if p.base is not None],
        validate_choice=False,
        validators=[_known("Select a decision point")],
    )
    reference = StringField(
        "Reference group (optional)",
        widget=GovTextInput(),
        description="Rates are compared with this group. Leave blank for the usual one "
        "(White for ethnicity; otherwise the largest group).",
    )
    # A checkbox sends "yes" when ticked; anything else (or nothing) is unticked.
    published = StringField("Show as published")
    submit = SubmitField("Show figures", widget=GovSubmitInput())

    def __init__(self, args: MultiDict[str, str], programmes: Sequence[tuple[str, str]]) -> None:
        given = MultiDict(args)
        for name, value in DEFAULTS.items():
            if not given.get(name):
                given[name] = value
        super().__init__(formdata=given)
        self.programme.choices = [("", "All programmes"), *programmes]

    def validate_programme(self, field: Field) -> None:
        if field.data and field.data not in {code for code, _ in field.choices}:
            raise ValidationError("Select a programme from the list")

    def validate_date_to(self, field: Field) -> None:
        start, end = self.date_from.day, self.date_to.day
        if start and end and start > end:
            raise ValidationError("The end date must be the same as or after the start date")

    def validate_reference(self, field: Field) -> None:
        reference = (field.data or "").strip()
        dim = DIMENSIONS.get(self.dimension.data)
        if reference and dim is not None and (reference in dim.not_comparable or reference == ALL_GROUPS):
            raise ValidationError(f"'{reference}' cannot be the reference group: it is not compared")

    @property
    def messages(self) -> dict[str, str]:
        """The first problem with each field, keyed by its query-string name (the field's id)."""
        return {self[key].name: errors[0] for key, errors in self.errors.items() if errors}

    def filters(self, *, published_only: bool) -> Filters:
        """What was asked for; a field that is wrong falls back to its default.

        ``published_only``: analysts see published figures only, whatever the query string says.
        """
        wrong = set(self.errors)

        def pick(key: str, default: str | None) -> str | None:
            value = (self[key].data or "").strip() or None
            return default if key in wrong else (value or default)

        return Filters(
            pick("programme", None),
            pick("period", DEFAULTS["period"]) or DEFAULTS["period"],
            pick("dimension", DEFAULTS["dimension"]) or DEFAULTS["dimension"],
            self.date_from.day,
            None if "date_to" in wrong else self.date_to.day,
            pick("reference", None),
            pick("point", DEFAULTS["point"]) or DEFAULTS["point"],
            published_only or self.published.data == "yes",
        )
