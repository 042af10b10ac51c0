"""The officer's encounter form: the fewest inputs that decide the case, on one phone screen.

Only the questions the programmes in scope need are asked (``rules.questions`` chooses them from what has
been answered so far); the view sets ``selection`` before validating, and the template shows only those.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovCheckboxInput,
    GovDateInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextInput,
)
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from divert.app.clock import at_uk_time
from divert.rules import codes, limits
from divert.rules.codes import DRUG_OFFENCES
from divert.rules.declared import DeclaredFact
from divert.rules.definition import ProgrammeDefinition, reason_codes
from divert.rules.limits import too_long
from divert.rules.questions import FLAG_INPUT, Question, Selection
from divert.web.forms.base import GovForm, VersionField
from divert.web.forms.fields import (
    Checked,
    GovDateField,
    NotInFuture,
    district_field,
    name_field,
    pnc_id_field,
)

YES_NO = [("yes", "Yes"), ("no", "No")]


def _choices(values: tuple[str, ...]) -> list[tuple[str, str]]:
    return [(value, codes.label(value)) for value in values]


class EncounterForm(GovForm):
    # The person
    given_name = name_field("First name", "Enter a first name")
    family_name = name_field("Last name", "Enter a last name")
    date_of_birth = GovDateField(
        "Date of birth",
        noun="date of birth",
        widget=GovDateInput(),
        validators=[InputRequired(message="Enter a date of birth"), NotInFuture("date of birth")],
    )
    pnc_id = pnc_id_field()
    gender = RadioField(
        "Gender",
        widget=GovRadioInput(),
        choices=_choices(codes.GENDERS),
        validators=[InputRequired(message="Select a gender, or 'Not stated'")],
    )
    self_defined_ethnicity = SelectField(
        "Ethnicity, as the person describes it",
        widget=GovSelect(),
        validators=[InputRequired(message="Select the person's ethnicity, or 'Not stated'")],
    )
    officer_defined_ethnicity = SelectField(
        "Ethnicity, as you see it (optional)", widget=GovSelect(), validators=[Optional()]
    )
    postcode_district = district_field("Home postcode district (optional)")
    # The encounter
    occurred_on = GovDateField(
        "Date of the encounter",
        noun="date of the encounter",
        widget=GovDateInput(),
        validators=[
            InputRequired(message="Enter the date of the encounter"),
            NotInFuture("date of the encounter"),
        ],
    )
    # Only shown where a programme in scope decides by the offence's age (Checkpoint: under 3 months).
    offence_on = GovDateField(
        "Date of the offence",
        noun="date of the offence",
        widget=GovDateInput(),
        validators=[Optional(), NotInFuture("date of the offence")],
    )
    occurred_time = StringField(
        "Time",
        widget=GovTextInput(),
        validators=[
            InputRequired(message="Enter the time of the encounter"),
            Length(max=limits.TIME, message="Enter a time in the 24-hour clock, like 14:30"),
            Checked(codes.time_of_day),
        ],
    )
    area = district_field("Where it happened: postcode district")
    setting = RadioField(
        "Setting",
        widget=GovRadioInput(),
        choices=_choices(codes.SETTINGS),
        validators=[InputRequired(message="Select where the encounter happened")],
    )
    offence_category = SelectField(
        "Offence",
        widget=GovSelect(),
        validators=[InputRequired(message="Select the offence")],
    )
    drug_class = RadioField(
        "Drug class",
        widget=GovRadioInput(),
        choices=list(codes.DRUG_CLASS_LABELS.items()),
        validators=[Optional()],
    )
    drug_type = StringField(
        "Drug (optional)",
        widget=GovTextInput(),
        validators=[Optional(), Length(max=limits.DRUG_TYPE, message=too_long("Drug", limits.DRUG_TYPE))],
    )
    personal_use = RadioField(
        "Was it for personal use?", widget=GovRadioInput(), choices=YES_NO, validators=[Optional()]
    )
    supply_suspected = RadioField(
        "Is supply suspected?",
        widget=GovRadioInput(),
        choices=YES_NO,
        default="no",
        validators=[Optional()],
    )
    admission = RadioField(
        "Admission",
        widget=GovRadioInput(),
        choices=_choices(codes.ADMISSIONS),
        validators=[Optional()],
    )
    facts = SelectMultipleField(
        "Other facts (select all that apply)",
        widget=GovCheckboxesInput(),
        choices=_choices(codes.FACTS),
        validators=[Optional()],
    )
    vulnerabilities = SelectMultipleField(
        "Needs the person told you about (select all that apply)",
        widget=GovCheckboxesInput(),
        choices=_choices(codes.VULNERABILITIES),
        validators=[Optional()],
    )
    submission_key = HiddenField()
    # The inputs the page showed, so a question an answer has just revealed is asked, not called missing.
    asked = HiddenField()
    submit = SubmitField("Record and check eligibility", widget=GovSubmitInput())

    # Set by the view from the answers posted so far; None asks nothing beyond the core questions.
    selection: Selection | None = None
    # The facts the programmes in scope declare, each with its field ``fact_<name>`` (``encounter_form``).
    declared: tuple[DeclaredFact, ...] = ()

    def validate(self, extra_validators: Any = None) -> bool:
        # Questions that depend on the answers: optional fields stop their own validators when
        # empty, so the checks for the questions asked live here.
        valid: bool = super().validate(extra_validators)
        shown = set((self.asked.data or "").split())
        for question in self.unanswered():
            # A question just revealed is asked on the next page, unless the page goes back anyway.
            if question.input in shown or not valid:
                field = self[question.input]
                field.errors = [*field.errors, _missing_message(question)]
        if any(self[q.input].errors for q in self.unanswered()):
            valid = False
        # An answer to a question the offence does not ask (a drug class left on a hidden question when the
        # offence changed) is not an error: ``encounter_details`` stores questions not asked as not asked.
        return valid

    def validate_offence_on(self, field: GovDateField) -> None:
        if field.data and self.occurred_on.data and field.data > self.occurred_on.data:
            raise ValidationError("The date of the offence must be on or before the day of the encounter")

    def occurred_at(self) -> datetime:
        day: date | None = self.occurred_on.data
        if day is None:
            raise ValueError("occurred_at() needs a validated date and time")
        return at_uk_time(day, codes.time_of_day(self.occurred_time.data))

    def validate_occurred_time(self, field: StringField) -> None:
        if not (self.occurred_on.data and field.data):
            return
        try:
            moment = self.occurred_at()
        except codes.InvalidValue:
            return  # the field's own validator has said what is wrong with the time
        if moment > datetime.now(UTC):
            raise ValidationError("The time of the encounter must be now or in the past")

    def unanswered(self) -> list[Question]:
        """Required questions the selection asks that have no answer yet."""
        if self.selection is None:
            return []
        return [q for q in self.selection.questions if q.required and self[q.input].data in (None, "")]

    def revealed(self) -> list[Question]:
        """Required questions the answers have revealed since the page was shown, still to be answered."""
        shown = set((self.asked.data or "").split())
        return [q for q in self.unanswered() if q.input not in shown]

    def answers(self) -> dict[str, object]:
        """What has been answered so far, for ``rules.questions.answered_values``."""
        shown = set((self.asked.data or "").split())
        chosen = set(self.facts.data or [])
        answers: dict[str, object] = {
            "occurred_on": self.occurred_on.data,
            "date_of_birth": self.date_of_birth.data,
            "offence_date": self.offence_on.data,
            "gender": self.gender.data,
            "setting": self.setting.data,
            "offence_category": self.offence_category.data,
            "drug_class": self.drug_class.data,
            "personal_use": _yes_no(self.personal_use.data),
            "supply_suspected": _yes_no(self.supply_suspected.data),
            "admission": self.admission.data,
        }
        if FLAG_INPUT in shown or chosen:
            for flag in (*codes.FACTS, *(d.name for d in self.declared if d.kind == "flag")):
                # An unticked "lives in the area" is not recorded, not "no" (the rules say which it must be).
                ticked = flag in chosen
                answers[flag] = ticked if ticked or flag not in _UNRECORDED_UNLESS_TICKED else None
        if "vulnerabilities" in shown:
            answers["vulnerabilities"] = frozenset(self.vulnerabilities.data or [])
        for fact in self.declared:
            if fact.kind != "flag" and fact.asked:
                answers[fact.name] = _declared_answer(fact, self[f"fact_{fact.name}"].data)
        return answers

    def declared_answers(self) -> dict[str, int | str | bool]:
        """The answers to declared questions that were asked, as stored on the encounter."""
        asked = self.selection.questions if self.selection else ()
        stored: dict[str, int | str | bool] = {}
        chosen = set(self.facts.data or [])
        for question in asked:
            fact = question.declared
            if fact is None:
                continue
            if fact.kind == "flag":
                stored[fact.name] = fact.name in chosen
            elif (value := _declared_answer(fact, self[question.input].data)) is not None:
                stored[fact.name] = value
        return stored

    def person_details(self) -> dict[str, Any]:
        return {
            "given_name": self.given_name.data.strip(),
            "family_name": self.family_name.data.strip(),
            "date_of_birth": self.date_of_birth.data,
            "pnc_id": self.pnc_id.data or None,
            "gender": self.gender.data,
            "self_defined_ethnicity": self.self_defined_ethnicity.data,
            "officer_defined_ethnicity": self.officer_defined_ethnicity.data or None,
            "postcode_district": self.postcode_district.data or None,
        }

    def encounter_details(self) -> dict[str, Any]:
        # A question the form did not ask is stored as not asked, whatever a hand-made post sent.
        asks = self.selection.asks if self.selection else (lambda fact: True)
        drugs = self.offence_category.data in DRUG_OFFENCES
        chosen = {fact for fact in self.facts.data or [] if asks(fact)}
        return {
            "occurred_at": self.occurred_at(),
            # Asked separately where a programme's rules use it; otherwise the encounter's day.
            "offence_date": self.offence_on.data or self.occurred_on.data,
            "area": self.area.data or self.postcode_district.data or None,
            "setting": self.setting.data,
            "offence_category": self.offence_category.data,
            "drug_class": (self.drug_class.data or None) if drugs and asks("drug_class") else None,
            "drug_type": (self.drug_type.data or None) if drugs else None,
            "personal_use": _yes_no(self.personal_use.data) if drugs and asks("personal_use") else None,
            "supply_suspected": self.supply_suspected.data == "yes" and asks("supply_suspected"),
            "admission": (self.admission.data or "not_asked") if asks("admission") else "not_asked",
            "lives_in_area": True if "lives_in_area" in chosen else None,
            "offended_in_area": True if "offended_in_area" in chosen else None,
            "on_court_order": "on_court_order" in chosen,
            "co_accused": "co_accused" in chosen,
            "hate_crime": "hate_crime" in chosen,
            "domestic_abuse": "domestic_abuse" in chosen,
            "vulnerabilities": sorted(self.vulnerabilities.data or []) if asks("vulnerabilities") else [],
            "declared_facts": self.declared_answers(),
        }


# Flags whose "no" a rule must not assume: unticked, they are not recorded.
_UNRECORDED_UNLESS_TICKED = frozenset({"lives_in_area", "offended_in_area"})

_MISSING = {
    "personal_use": "Select whether the drugs were for personal use",
    "admission": "Select what the person said about the offence",
    "supply_suspected": "Select whether supply is suspected",
}


def _missing_message(question: Question) -> str:
    if question.input in _MISSING:
        return _MISSING[question.input]
    fact = question.declared
    if fact is not None and fact.kind == "number":
        return f"Enter a number: {fact.question}"
    return f"Select an answer: {fact.question if fact else question.fact}"


def _yes_no(value: str | None) -> bool | None:
    return {"yes": True, "no": False}.get(value or "")


def _declared_answer(fact: DeclaredFact, value: object) -> int | str | bool | None:
    if value in (None, ""):
        return None
    if fact.kind == "yes_no":
        return _yes_no(str(value))
    if fact.kind == "number":
        return value if isinstance(value, int) else None
    return str(value)


def encounter_form(declared: Iterable[DeclaredFact]) -> EncounterForm:
    """The encounter form with a field for each fact the programmes in scope declare (``fact_<name>``)."""
    facts = tuple({fact.name: fact for fact in declared}.values())  # the first programme's wins a name
    fields: dict[str, Any] = {}
    for fact in facts:
        if fact.kind == "yes_no":
            fields[f"fact_{fact.name}"] = RadioField(
                fact.question, widget=GovRadioInput(), choices=YES_NO, validators=[Optional()]
            )
        elif fact.kind == "choice":
            fields[f"fact_{fact.name}"] = RadioField(
                fact.question, widget=GovRadioInput(), choices=list(fact.choices), validators=[Optional()]
            )
        elif fact.kind == "number":
            fields[f"fact_{fact.name}"] = IntegerField(
                fact.question,
                widget=GovTextInput(),
                validators=[
                    Optional(),
                    NumberRange(
                        min=fact.minimum,
                        max=fact.maximum,
                        message=f"Enter a whole number{_range(fact)}: {fact.question}",
                    ),
                ],
            )
    form_class: type[EncounterForm] = (
        type("DeclaredEncounterForm", (EncounterForm,), fields) if fields else EncounterForm
    )
    form = form_class()
    form.declared = facts
    return form


def _range(fact: DeclaredFact) -> str:
    if fact.minimum is not None and fact.maximum is not None:
        return f" from {fact.minimum} to {fact.maximum}"
    if fact.minimum is not None:
        return f" of at least {fact.minimum}"
    if fact.maximum is not None:
        return f" of at most {fact.maximum}"
    return ""


class OfferForm(GovForm):
    """The officer's record of the offer and the person's answer, in one step."""

    response = RadioField(
        "What happened?",
        widget=GovRadioInput(),
        choices=[
            ("accepted", "Offered diversion, and the person accepted"),
            ("declined", "Offered diversion, and the person declined"),
            ("not_offered", "Diversion not offered"),
        ],
        validators=[InputRequired(message="Select what happened")],
    )
    # The programme's reason codes (set_reasons): what monitoring counts. The words below stay on
    # the case; given without a code they are counted as "Other (free text)", never shown.
    not_offered_code = SelectField(
        "If not offered: why", widget=GovSelect(), validators=[Optional()], validate_choice=True
    )
    declined_code = SelectField(
        "If declined: why", widget=GovSelect(), validators=[Optional()], validate_choice=True
    )
    reason = StringField(
        "More about the reason (optional if you chose one above)",
        widget=GovTextInput(),
        validators=[
            Optional(),
            Length(max=limits.SHORT_REASON, message=too_long("Reason", limits.SHORT_REASON)),
        ],
    )
    # Shown where the programme asks for consent (issue 17): given with the acceptance, it records
    # consent to the referral and to sharing it with each organisation it goes to.
    consent = BooleanField(
        "The person was given the notice and consents to the referral and to its sharing",
        widget=GovCheckboxInput(),
    )
    version_id = VersionField()
    submit = SubmitField("Save", widget=GovSubmitInput())

    def set_reasons(self, definition: ProgrammeDefinition) -> None:
        for field, kind in ((self.not_offered_code, "not_offered"), (self.declined_code, "declined")):
            field.choices = [("", "Select a reason")] + [
                (c.code, c.label) for c in reason_codes(definition, kind)
            ]

    def reason_code(self) -> str | None:
        """The code for the answer given: not offered, or declined."""
        chosen = {"not_offered": self.not_offered_code.data, "declined": self.declined_code.data}
        return chosen.get(self.response.data) or None

    def validate(self, extra_validators: Any = None) -> bool:
        valid: bool = super().validate(extra_validators)
        if (
            self.response.data in {"declined", "not_offered"}
            and not self.reason_code()
            and not (self.reason.data or "").strip()
        ):
            field = self.not_offered_code if self.response.data == "not_offered" else self.declined_code
            field.errors = [
                *field.errors,
                "Enter the reason diversion was declined or not offered, or select one",
            ]
            valid = False
        return valid
