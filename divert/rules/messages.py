"""Messages to participants and staff: what is sent, when, and the words, as plain data.

Reminders cut missed appointments, and missed appointments are what raise non-engagement flags.
The words are short and plain, never name the offence (a text can be read over a shoulder), and
come in English and Welsh. A template may only use the placeholders below, so no edit can pull
the offence, an ethnicity or a note into a message.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, time

CHANNELS = ("sms", "email")
LANGUAGES = ("en", "cy")
# 'sending': claimed by one worker; nobody else sends it meanwhile (see background/outbox.py).
STATUSES = ("queued", "sending", "sent", "delivered", "failed", "cancelled")
REMINDER_KINDS = ("reminder_booked", "reminder_moved", "reminder_before")
STAFF_KINDS = ("new_referral", "flag_raised", "escalation_waiting", "case_reallocated")
MESSAGE_KINDS = REMINDER_KINDS + STAFF_KINDS
# What a participant's message may say. Nothing about why they are on the programme.
PARTICIPANT_FIELDS = ("name", "day", "time", "what", "service")
# What a staff message may say: the case's reference, never the person's name (email leaves the service).
STAFF_FIELDS = ("reference", "detail", "service")
PLACEHOLDER = re.compile(r"\(\(([a-z_]+)\)\)")
BODY_LENGTH = 900  # an SMS of six fragments; Notify charges by the fragment
SUBJECT_LENGTH = 120


@dataclass(frozen=True, slots=True)
class BeforeReminder:
    """A reminder some time before an appointment: ``days`` before at a UK wall-clock time, or
    ``hours`` before the appointment itself."""

    id: str
    days: int | None = None
    at: time | None = None
    hours: int | None = None


@dataclass(frozen=True, slots=True)
class ReminderTimings:
    on_booking: bool = True
    on_move: bool = True
    before: tuple[BeforeReminder, ...] = (
        BeforeReminder("day_before", days=1, at=time(10, 0)),
        BeforeReminder("two_hours_before", hours=2),
    )


DEFAULT_TIMINGS = ReminderTimings()


@dataclass(frozen=True, slots=True)
class Words:
    subject: str
    body: str


# The shipped wording; an administrator's edit (models.notify.MessageTemplate) takes its place.
DEFAULT_WORDS: Mapping[tuple[str, str], Words] = {
    ("reminder_booked", "en"): Words(
        "Your appointment", "Hello ((name)), your ((what)) with ((service)) is on ((day)) at ((time))."
    ),
    ("reminder_booked", "cy"): Words(
        "Eich apwyntiad", "Helo ((name)), mae eich ((what)) gyda ((service)) ar ((day)) am ((time))."
    ),
    ("reminder_moved", "en"): Words(
        "Your appointment has moved",
        "Hello ((name)), your ((what)) with ((service)) has moved to ((day)) at ((time)).",
    ),
    ("reminder_moved", "cy"): Words(
        "Mae eich apwyntiad wedi symud",
        "Helo ((name)), mae eich ((what)) gyda ((service)) wedi symud i ((day)) am ((time)).",
    ),
    ("reminder_before", "en"): Words(
        "Reminder: your appointment",
        "Hello ((name)), a reminder: your ((what)) with ((service)) is on ((day)) at ((time)). "
        "If you cannot come, please tell us.",
    ),
    ("reminder_before", "cy"): Words(
        "Nodyn atgoffa: eich apwyntiad",
        "Helo ((name)), nodyn atgoffa: mae eich ((what)) gyda ((service)) ar ((day)) am ((time)). "
        "Os na allwch ddod, rhowch wybod i ni.",
    ),
    ("new_referral", "en"): Words(
        "New referral ((reference))", "A new case, ((reference)), was referred to ((service))."
    ),
    ("flag_raised", "en"): Words(
        "Flag on ((reference))", "A flag was raised on your case ((reference)): ((detail))"
    ),
    ("escalation_waiting", "en"): Words(
        "Decision needed on ((reference))", "Case ((reference)) is waiting for a non-engagement decision."
    ),
    ("case_reallocated", "en"): Words("Case ((reference)) given to you", "Case ((reference)) is now yours."),
}


def fields_for(kind: str) -> tuple[str, ...]:
    return PARTICIPANT_FIELDS if kind in REMINDER_KINDS else STAFF_FIELDS


def template_problem(kind: str, text: str, limit: int) -> str | None:
    """Why ``text`` cannot be a template for ``kind`` (None if it can)."""
    if not text.strip():
        return "Enter the words"
    if len(text) > limit:
        return f"Use {limit} characters or fewer"
    allowed = fields_for(kind)
    unknown = sorted(set(PLACEHOLDER.findall(text)) - set(allowed))
    if unknown:
        named = ", ".join(f"(({name}))" for name in unknown)
        return f"Unknown placeholder {named}; use only " + ", ".join(f"(({name}))" for name in allowed)
    return None


def render(text: str, personalisation: Mapping[str, str], kind: str) -> str:
    """The words with their placeholders filled; a field not allowed for ``kind`` is never filled."""
    allowed = set(fields_for(kind))
    return PLACEHOLDER.sub(
        lambda m: str(personalisation.get(m.group(1), "")) if m.group(1) in allowed else "", text
    )


def words_for(kind: str, language: str, *edited: Mapping[tuple[str, str], Words]) -> Words:
    """The first of ``edited`` (a programme's own words, then every programme's) that has words for
    this kind and language, else the shipped ones; Welsh falls back to English where none exist."""
    for lang in (language, "en"):
        for layer in (*edited, DEFAULT_WORDS):
            found = layer.get((kind, lang))
            if found is not None:
                return found
    raise KeyError(kind)


# --- How a participant's message says when and what: plain words, in their language ------------------

_DAYS = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "cy": ("Dydd Llun", "Dydd Mawrth", "Dydd Mercher", "Dydd Iau", "Dydd Gwener", "Dydd Sadwrn", "Dydd Sul"),
}
_MONTHS = {
    "en": (
        "January", "February", "March", "April", "May", "June",
        "July", "August", "September", "October", "November", "December",
    ),
    "cy": (
        "Ionawr", "Chwefror", "Mawrth", "Ebrill", "Mai", "Mehefin",
        "Gorffennaf", "Awst", "Medi", "Hydref", "Tachwedd", "Rhagfyr",
    ),
}  # fmt: skip
# What the appointment is, without saying what it is for.
_WHAT = {
    "en": {"contact": "appointment", "session": "session", "meeting": "meeting"},
    "cy": {"contact": "apwyntiad", "session": "sesiwn", "meeting": "cyfarfod"},
}


def spoken_day(day: date, language: str) -> str:
    lang = language if language in _DAYS else "en"
    return f"{_DAYS[lang][day.weekday()]} {day.day} {_MONTHS[lang][day.month - 1]}"


def spoken_time(clock: time) -> str:
    """2:30pm, 10am, 12pm: the GOV.UK style for times."""
    hour = clock.hour % 12 or 12
    suffix = "am" if clock.hour < 12 else "pm"
    return f"{hour}{suffix}" if clock.minute == 0 else f"{hour}:{clock.minute:02d}{suffix}"


def spoken_what(kind: str, language: str) -> str:
    return _WHAT.get(language, _WHAT["en"]).get(kind, _WHAT["en"]["contact"])
