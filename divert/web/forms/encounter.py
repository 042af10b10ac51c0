"""The officer's encounter form: the fewest inputs that decide the case, on one phone screen."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovDateInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextInput,
)
from wtforms import HiddenField, RadioField, SelectField, SelectMultipleField, StringField, SubmitField
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from divert.app.clock import at_uk_time
from divert.rules import codes, limits
from divert.rules.codes import DRUG_OFFENCES
from divert.rules.definition import ProgrammeDefinition, reason_codes
from divert.rules.limits import too_long
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
        "Drug class (drug offences)",
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
        validators=[InputRequired(message="Select whether supply is suspected")],
    )
    admission = RadioField(
        "Admission",
        widget=GovRadioInput(),
        choices=_choices(codes.ADMISSIONS),
        validators=[InputRequired(message="Select what the person said about the offence")],
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
    submit = SubmitField("Record and check eligibility", widget=GovSubmitInput())

    def validate(self, extra_validators: Any = None) -> bool:
        # Questions that depend on the offence: optional fields stop their own validators when
        # empty, so the cross-field checks live here.
        valid: bool = super().validate(extra_validators)
        drugs = self.offence_category.data in DRUG_OFFENCES
        if drugs and not self.personal_use.data:
            self.personal_use.errors = [
                *self.personal_use.errors,
                "Select whether the drugs were for personal use",
            ]
            valid = False
        if self.drug_class.data and not drugs:
            self.drug_class.errors = [*self.drug_class.errors, "Only give a drug class for a drug offence"]
            valid = False
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
        drugs = self.offence_category.data in DRUG_OFFENCES
        chosen = set(self.facts.data or [])
        return {
            "occurred_at": self.occurred_at(),
            # Asked separately where a programme's rules use it; otherwise the encounter's day.
            "offence_date": self.offence_on.data or self.occurred_on.data,
            "area": self.area.data or self.postcode_district.data or None,
            "setting": self.setting.data,
            "offence_category": self.offence_category.data,
            "drug_class": self.drug_class.data or None if drugs else None,
            "drug_type": (self.drug_type.data or None) if drugs else None,
            "personal_use": (self.personal_use.data == "yes") if drugs else None,
            "supply_suspected": self.supply_suspected.data == "yes",
            "admission": self.admission.data,
            "lives_in_area": True if "lives_in_area" in chosen else None,
            "offended_in_area": True if "offended_in_area" in chosen else None,
            "on_court_order": "on_court_order" in chosen,
            "co_accused": "co_accused" in chosen,
            "hate_crime": "hate_crime" in chosen,
            "domestic_abuse": "domestic_abuse" in chosen,
            "vulnerabilities": sorted(self.vulnerabilities.data or []),
        }


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
