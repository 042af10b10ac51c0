"""The monitoring filters: a GET form, so a page of figures is a link that can be shared or bookmarked.

The field names are the query string's (``from``, ``to``, ``published=yes`` ...), which links and
the exports already use. No CSRF token: it changes nothing, and a token would break every link.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from govuk_frontend_wtf.wtforms_widgets import GovDateInput, GovSelect, GovSubmitInput
from werkzeug.datastructures import MultiDict
from wtforms import Field, SelectField, StringField, SubmitField
from wtforms.validators import ValidationError

from divert.monitoring.page import PERIOD_LABELS, POINT_LABELS, Filters
from divert.monitoring.points import ALL_GROUPS, BY_NAME, DIMENSIONS
from divert.rules.codes import label
from divert.web.forms.base import GovForm
from divert.web.forms.fields import GovDateField

DEFAULTS = {"period": "quarter", "dimension": "ethnicity_group", "point": "offered"}


class _FilterDate(GovDateField):
    """A GOV.UK date input (day, month and year boxes); empty means no limit.

    The exports' links and bookmarks say ``from=2026-01-31``, one ISO value, and are read too: the
    boxes then show that date. Its id is the day box's, where the error summary must link.
    """

    def __init__(self, label: str, *, noun: str, name: str, **kwargs: Any) -> None:
        super().__init__(label, noun=noun, name=name, id=f"{name}-day", widget=GovDateInput(), **kwargs)

    def process_formdata(self, valuelist: list[Any]) -> None:
        if len(valuelist) == 1 and str(valuelist[0]).strip():
            try:
                day = date.fromisoformat(str(valuelist[0]).strip())
            except ValueError:
                # Back in the boxes as typed, so it can be corrected there.
                parts = str(valuelist[0]).strip().split("-")
                self.raw_data = [*reversed(parts), "", ""][:3] if len(parts) == 3 else [parts[0], "", ""]
                self.data = None
                raise ValueError(f"{self.noun.capitalize()} must be a real date") from None
            self.raw_data = [str(day.day), str(day.month), str(day.year)]
            self.data = day
            return
        super().process_formdata(valuelist)


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
    date_from = _FilterDate(
        "Encounters from", noun="the start date", name="from", description="For example, 1 4 2026"
    )
    date_to = _FilterDate(
        "Encounters to (inclusive)", noun="the end date", name="to", description="For example, 31 3 2027"
    )
    point = SelectField(
        "Decision point for the charts and trends",
        widget=GovSelect(),
        choices=[(p.name, POINT_LABELS[p.name]) for p in BY_NAME.values() if p.base is not None],
        validate_choice=False,
        validators=[_known("Select a decision point")],
    )
    # The groups in the figures, set once they are counted (``offer_references``): a group that is
    # not one of them is refused with a message, never looked up.
    reference = SelectField(
        "Reference group",
        widget=GovSelect(),
        validate_choice=False,
        description="Rates are compared with this group. The usual one is White for ethnicity; "
        "otherwise the largest group.",
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
        chosen = self.reference.data = (self.reference.data or "").strip()
        # Until the figures are counted, only what was asked for can be offered back.
        self.reference.choices = [("", "The usual group"), *([(chosen, chosen)] if chosen else [])]

    def offer_references(self, groups: Sequence[str], usual: str | None) -> None:
        """The reference group select lists the compared groups in these figures."""
        dim = DIMENSIONS[self.dimension.data if self.dimension.data in DIMENSIONS else DEFAULTS["dimension"]]
        compared = [g for g in groups if g not in dim.not_comparable and g != ALL_GROUPS]
        words = label if dim.name == "gender" else str
        usual_text = f"The usual group ({words(usual)})" if usual else "The usual group"
        self.reference.choices = [("", usual_text), *((g, words(g)) for g in compared)]

    def refuse_reference(self, groups: Sequence[str]) -> None:
        """The reference group asked for is not a group in these figures (``black``, say)."""
        self.offer_references(groups, None)
        self.reference.errors = ["Select a reference group from the list"]

    def validate_programme(self, field: Field) -> None:
        if field.data and field.data not in {code for code, _ in field.choices}:
            raise ValidationError("Select a programme from the list")

    def validate_date_to(self, field: Field) -> None:
        start, end = self.date_from.data, self.date_to.data
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
            None if "date_from" in wrong else self.date_from.data,
            None if "date_to" in wrong else self.date_to.data,
            pick("reference", None),
            pick("point", DEFAULTS["point"]) or DEFAULTS["point"],
            published_only or self.published.data == "yes",
        )
