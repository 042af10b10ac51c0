"""Property-style: whatever is sent to any API operation or any form, the answer is never a 5xx.

Each hostile value (markup, NUL and other control characters, very long text, CR/LF, lone
surrogates, huge and odd numbers, deep JSON) is put in turn into every field of a valid request to
every API operation and into every field of every form the pages offer, as the roles that use them.
The answers must be under 500, and none may be the database's own refusal (the 400 kept as a
backstop for a value that slipped past every check): each value is refused where it is checked.
The figures (requests, payloads) are printed for the run's record.
"""

from __future__ import annotations

import base64
import json
import random
from datetime import date
from typing import Any
from urllib.parse import quote, urlencode

from sqlalchemy import select
from sqlalchemy.orm import Session

from divert.api import tokens
from divert.api.spec import OPERATIONS
from divert.models import CaseContact, ContractCondition, Decision, Encounter
from divert.pathways.casework import record_needs_assessment, schedule_contact
from divert.pathways.contracts import draw_up_contract
from divert.rules.limits import MAX_ID

from .api.payloads import encounter_body
from .client import parse
from .factories import PASSWORD, create_encounter, create_organisation, create_person, create_user
from .pathways.helpers import days_ago, referred_case

BACKSTOP = ("A value you entered is too long or is not valid text", "A value is too large or not valid text")

STRINGS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "a\x00b",
    "\x00",
    "x" * 100_000,
    "line\r\nSet-Cookie: stolen=1",
    "\x1b[31m\x07\x7f",
    "😀 😀 \u202e\u200b",
    "' OR 1=1 --",
    "../../etc/passwd",
    "%s%n{0}{{7*7}}",
    "²",
    "   ",
    "",
]
NUMBERS: list[Any] = [MAX_ID + 1, -1, 10**40, 1.5, 1e308, True, None, [], {}]
# Values only raw JSON can carry: a lone surrogate, a number Python will not read, nesting.
RAW_BODIES = [
    '{"a": "\\ud800"}',
    "9" * 5000,
    "[" * 100_000,
    "[" * 500 + "]" * 500,
    '{"a":' * 200 + "1" + "}" * 200,
    "not json",
    "",
    "null",
    '"\\u0000"',
]


def _random_strings(count: int) -> list[str]:
    """Seeded noise from the whole of Unicode, control characters and surrogates included."""
    chooser = random.Random(20261201)  # noqa: S311 - reproducible test data, not a secret
    return [
        "".join(
            chr(
                chooser.choice(
                    [
                        chooser.randrange(0, 0x20),
                        chooser.randrange(0xD800, 0xE000),
                        chooser.randrange(0x20, 0x110000),
                    ]
                )
            )
            for _ in range(chooser.randrange(1, 40))
        )
        for _ in range(count)
    ]


class Tally:
    def __init__(self) -> None:
        self.requests = 0
        self.payloads: set[str] = set()
        self.failures: list[str] = []

    def check(self, response: Any, what: str, payload: Any) -> None:
        self.requests += 1
        self.payloads.add(repr(payload)[:200])
        text = response.get_data(as_text=True)
        if response.status_code >= 500 or any(message in text for message in BACKSTOP):
            self.failures.append(f"{response.status_code} {what} {repr(payload)[:80]}")


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, dict):
        return [leaf for key, child in value.items() for leaf in _leaves(child, (*path, key))] or [path]
    return [path]


def _replaced(body: Any, path: tuple[Any, ...], new: Any) -> Any:
    copy = json.loads(json.dumps(body))
    target = copy
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = new
    return copy


def test_no_api_operation_answers_a_hostile_value_with_a_5xx(client: Any, db_session: Session) -> None:
    force = create_organisation(db_session, kind="police_force")
    supervisor = create_user(db_session, "supervisor", force)
    navigator = create_user(db_session, "navigator", force)
    case = referred_case(db_session, "checkpoint", create_user(db_session, "officer", force))
    contact = schedule_contact(db_session, navigator, case, kind="contact", scheduled_at=days_ago(1))
    other = referred_case(
        db_session, "checkpoint", create_user(db_session, "officer", create_organisation(db_session))
    )
    as_supervisor = {
        "Authorization": f"Bearer {tokens.create(db_session, supervisor, 'fuzz', created_by=None).secret}"
    }
    admin = create_user(db_session, "admin", force)
    # Imports are an administrator's: their body is checked only for someone allowed to send one.
    as_admin = {"Authorization": f"Bearer {tokens.create(db_session, admin, 'fuzz', created_by=None).secret}"}
    # No job exists yet: its id slot is tried with the hostile ids like the others.
    ids = {
        "person_id": case.person_id,
        "referral_id": case.id,
        "contact_id": contact.id,
        "job_id": 1,
        "simulation_id": 1,
    }
    bodies: dict[str, Any] = {
        "record_encounter": encounter_body(),
        "take_referral_step": {
            "to_state": "engaged",
            "reason": "ok",
            "version": case.version_id,
            "exit_reason": "x",
        },
        "book_contact": {"kind": "contact", "scheduled_at": days_ago(0).isoformat()},
        "submit_import": {
            "filename": "a.csv",
            "content_base64": base64.b64encode(b"encounter_ref\n").decode(),
        },
        "start_simulation": {
            "programme_version_id": 1,
            "dimension": "ethnicity_group",
            "date_from": "2026-01-01",
            "date_to": "2026-03-31",
        },
        "record_contact_attendance": {
            "attendance": "missed",
            "missed_reason": "ill",
            "notes": "n",
            "reason_acceptable": True,
            "version": 0,
        },
    }
    hostile_values: list[Any] = [*STRINGS, *NUMBERS, *_random_strings(30)]
    tally = Tally()
    for op in OPERATIONS:
        # Imports and simulations are an administrator's (a supervisor's token is refused first).
        headers = (
            as_admin if op.name in {"submit_import", "start_simulation", "get_simulation"} else as_supervisor
        )
        bad_ids = [MAX_ID + 1, 10**30, -1, 0, "abc", "%00", other.id, other.person_id]
        for params in (
            [ids, *({name: bad for name in op.path_params} for bad in bad_ids)] if op.path_params else [{}]
        ):
            url = "/api/v1" + op.rule
            for name in op.path_params:
                url = url.replace(f"<int:{name}>", str(params[name]))
            if op.body is None:
                tally.check(client.open(url, method=op.method.upper(), headers=headers), url, params)
                continue
            body = bodies[op.name]
            if params is not ids:
                tally.check(client.open(url, method="POST", json=body, headers=headers), url, params)
                continue
            for path in _leaves(body):
                for value in hostile_values:
                    response = client.open(
                        url, method="POST", json=_replaced(body, path, value), headers=headers
                    )
                    tally.check(response, f"{url} {'.'.join(map(str, path))}", value)
            for raw in RAW_BODIES:
                response = client.open(
                    url, method="POST", data=raw, headers={**headers, "Content-Type": "application/json"}
                )
                tally.check(response, f"{url} raw", raw[:40])
    print(f"\nAPI: {tally.requests} requests, {len(tally.payloads)} payloads, {len(tally.failures)} 5xx")
    assert tally.failures == []


def _forms(page: Any) -> list[Any]:
    return [f for f in page.select("form[method=post]") if not (f.get("action") or "").endswith("/sign-out")]


def _base_values(form: Any) -> tuple[dict[str, Any], list[str]]:
    """What a person might send: the form's text and hidden values, the first choice of each
    radio group and select; and the names of every field to put a hostile value into."""
    values: dict[str, Any] = {}
    names: list[str] = []
    for field in form.select("input, select, textarea"):
        name = field.get("name")
        if not name or field.get("type") in {"submit", "file"}:
            continue
        if name not in names:
            names.append(name)
        if field.name == "select":
            option = field.find("option", value=True)
            values.setdefault(name, option["value"] if option else "")
        elif field.get("type") in {"radio", "checkbox"}:
            values.setdefault(name, field.get("value", ""))
        else:
            values.setdefault(name, field.get("value", "") or field.get_text())
    return values, [n for n in names if n != "csrf_token"]


def test_no_form_answers_a_hostile_value_with_a_5xx(client: Any, db_session: Session) -> None:
    force = create_organisation(db_session, kind="police_force")
    supervisor = create_user(db_session, "supervisor", force)
    navigator = create_user(db_session, "navigator", force)
    admin = create_user(db_session, "admin", force)
    officer = create_user(db_session, "officer", force)
    case = referred_case(db_session, "checkpoint", officer)
    record_needs_assessment(
        db_session,
        navigator,
        case,
        assessed_on=date.today(),
        needs=[{"area": "drugs", "level": "high"}],
        summary="",
    )
    draw_up_contract(
        db_session,
        navigator,
        case,
        starts_on=date.today(),
        conditions=[{"group": "pathway", "pathway": "drugs", "description": ""}],
        voluntary_hours=None,
    )
    schedule_contact(db_session, navigator, case, kind="contact", scheduled_at=days_ago(1))
    fresh = referred_case(db_session, "checkpoint", officer)
    person = create_person(db_session, family_name="Fuzzed")
    encounter = create_encounter(db_session, person, force, officer_id=supervisor.id)
    decision = db_session.scalar(select(Decision).where(Decision.encounter_id == fresh.encounter_id))
    assert decision is not None and db_session.get(Encounter, encounter.id) is not None
    assert db_session.scalar(select(ContractCondition)) is not None and db_session.scalar(select(CaseContact))

    pages = {
        None: ["/sign-in"],
        supervisor: [
            "/encounters/new",
            f"/encounters/{fresh.encounter_id}",
            f"/people/{person.id}/edit",
            f"/people/{person.id}/matches",
            f"/cases/{case.id}",
            f"/cases/{fresh.id}/correct",
            f"/decisions/{decision.id}/override",
            "/worklist?view=team",
        ],
        navigator: [f"/cases/{case.id}"],
        admin: ["/admin/users/new", "/admin/tokens/new", "/admin/import", "/monitoring/population"],
    }
    analyst = create_user(db_session, "analyst", force)
    queries = {
        analyst: ["/monitoring?programme={}&period={}&dimension={}&from={}&to={}&point={}&reference={}"],
        supervisor: [
            "/people?q={}",
            "/worklist?view={}&page={}&sort={}&order={}&programme={}",
            "/encounters/new?person={}",
            "/home?x={}",
        ],
        None: ["/sign-in?next={}"],
    }
    values = [*STRINGS[:12], str(MAX_ID + 1), "-1", "1e9999", *_random_strings(6)]
    tally = Tally()
    pages[analyst] = []
    for user, paths in pages.items():
        if user is not None:
            assert client.sign_in(user.email, PASSWORD).status_code == 302
        for path in paths:
            page = parse(client.get(path))
            for form in _forms(page):
                action = form.get("action") or path
                base, names = _base_values(form)
                for name in names:
                    for value in values:
                        response = _post(client, action, {**base, name: value})
                        tally.check(response, f"{action} {name}", value)
        for template in queries.get(user, []):
            for value in values:
                url = template.replace("{}", "%s") % tuple([_quoted(value)] * template.count("{}"))
                tally.check(client.get(url), template, value)
        if user is not None:
            client.post("/sign-out", data={"csrf_token": client.csrf_token("/home")})
    print(f"\nForms: {tally.requests} requests, {len(tally.payloads)} payloads, {len(tally.failures)} 5xx")
    assert tally.failures == []


def _post(client: Any, action: str, values: dict[str, Any]) -> Any:
    """A form post encoded by hand, so a lone surrogate goes as the invalid UTF-8 a hostile client sends."""
    pairs = [
        (key, item.encode("utf-8", "surrogatepass"))
        for key, value in values.items()
        for item in (value if isinstance(value, list) else [value])
    ]
    return client.post(action, data=urlencode(pairs), content_type="application/x-www-form-urlencoded")


def _quoted(value: str) -> str:
    return quote(value.encode("utf-8", "surrogatepass"), safe="")
