"""Working a case through its pages: each organisation's people signed in on their own browser.

A step is taken by posting the step form the case page offers to that person, and evidence (an
appointment and its attendance, a needs assessment, a contract, a condition met) through the forms on
the same page. So a role the definition gives a step to but the policy does not reach, a case the acting
organisation cannot see, or a form the page does not offer fails the walk. Every party has a twin
organisation of the same kind, with the same roles, that is not party to the case: its people must get a
404 (or 403) for the case and for each step, so a step never succeeds merely because anyone may take it.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask import session as flask_session
from sqlalchemy import select
from sqlalchemy.orm import Session

from divert.auth.session import start_session
from divert.models import CaseContact, Contract, Organisation, Programme, Referral, User
from divert.pathways.programmes import assign_operator, sync_definitions

from ..client import PageClient, form_fields, parse
from ..factories import PASSWORD, create_organisation, create_user
from .helpers import days_ago, open_case

# A party to a case and a role its organisation holds, e.g. ("police", "officer"), ("yot", "supervisor").
Who = tuple[str, str]


def error_text(response: Any) -> str:
    """The GOV.UK error summary of a refused form, or the status when there is none."""
    summary = parse(response).select_one(".govuk-error-summary")
    return summary.get_text(" ", strip=True) if summary is not None else f"status {response.status_code}"


class Parties:
    """A programme's force and receiving organisations with their staff, and a twin of each not party.

    ``receivers`` maps each receiving route to the kind of organisation that runs it and the roles its
    staff hold (the route's supervisor is always added).
    """

    def __init__(
        self,
        app: Flask,
        session: Session,
        code: str,
        receivers: dict[str, tuple[str, tuple[str, ...]]],
        police_roles: tuple[str, ...] = ("officer", "supervisor"),
    ) -> None:
        self.app, self.session, self.code = app, session, code
        sync_definitions(session)
        programme = session.scalars(select(Programme).where(Programme.code == code)).one()
        self.organisations: dict[str, Organisation] = {
            "police": create_organisation(session, kind="police_force")
        }
        self.people: dict[Who, User] = {
            ("police", role): create_user(session, role, self.organisations["police"])
            for role in police_roles
        }
        for route, (kind, roles) in receivers.items():
            organisation = create_organisation(session, kind=kind)
            assign_operator(session, programme, organisation.id, "receiving", route=route)
            self.organisations[route] = organisation
            for role in (*roles, "supervisor"):
                self.people[route, role] = create_user(session, role, organisation)
        self.twins: dict[Who, User] = {}
        self.browsers: dict[tuple[Who, bool], PageClient] = {}

    # --- browsers -----------------------------------------------------------------------------------------

    def _sign_in(self, user: User) -> PageClient:
        """A browser signed in as ``user``: through the sign-in form once per walk, then by the same session.

        Each sign-in by form verifies an argon2 hash (slow on purpose, about half a second here); the
        others are given the session that ``start_session`` makes, which the app checks on every request
        exactly as it checks one made by the form.
        """
        client: PageClient = self.app.test_client()  # type: ignore[assignment]
        if not self.browsers:
            response = client.sign_in(user.email, PASSWORD)
            assert response.status_code == 302, user.role
            return client
        with self.app.test_request_context():
            start_session(user)
            made = dict(flask_session)
        with client.session_transaction() as stored:
            stored.update(made)
            stored.permanent = True
        return client

    def browser(self, who: Who) -> PageClient:
        if (who, False) not in self.browsers:
            self.browsers[who, False] = self._sign_in(self.people[who])
        return self.browsers[who, False]

    def outsider(self, who: Who) -> PageClient:
        """The browser of someone with ``who``'s role at another organisation of the same kind."""
        if (who, True) not in self.browsers:
            party, role = who
            if who not in self.twins:
                kind = self.organisations[party].kind
                self.twins[who] = create_user(
                    self.session, role, create_organisation(self.session, kind=kind)
                )
            self.browsers[who, True] = self._sign_in(self.twins[who])
        return self.browsers[who, True]

    # --- the case page ------------------------------------------------------------------------------------

    def case(self, **fields: Any) -> Referral:
        return open_case(self.session, self.code, self.people["police", "officer"], **fields)

    def page(self, who: Who, case: Referral) -> Any:
        response = self.browser(who).get(f"/cases/{case.id}")
        assert response.status_code == 200, f"{who} cannot open the case in '{case.state}'"
        return parse(response)

    def offered(self, who: Who, case: Referral) -> list[str]:
        """The states the case page's step form offers ``who``."""
        form = self.page(who, case).select_one("[data-testid=step-form]")
        if form is None:
            return []
        return [
            o["value"]
            for o in form.select("select[name=step-to_state] option, input[name=step-to_state]")
            if o.get("value")
        ]

    def post(self, who: Who, case: Referral, selector: str, **values: Any) -> Any:
        form = self.page(who, case).select_one(selector)
        assert form is not None, f"{who} is not offered {selector} in '{case.state}'"
        response = self.browser(who).post(form["action"], data={**form_fields(form), **values})
        self.session.expire_all()
        return response

    def shut_out(self, who: Who, case: Referral, action: str, values: dict[str, Any]) -> None:
        """``who``'s twin elsewhere can neither open the case nor post the form to ``action``."""
        outsider = self.outsider(who)
        assert outsider.get(f"/cases/{case.id}").status_code == 404, f"{who}'s twin sees the case"
        posted = outsider.post(action, data={**values, "csrf_token": outsider.csrf_token()})
        assert posted.status_code in (403, 404), f"{who}'s twin posted {action}: {posted.status_code}"
        self.session.expire_all()

    # --- steps and their evidence -------------------------------------------------------------------------

    def step(self, who: Who, case: Referral, to_state: str, reason: str = "", exit_reason: str = "") -> None:
        values = {"step-to_state": to_state, "step-reason": reason}
        if exit_reason:
            values["step-exit_reason"] = exit_reason
        before = case.state
        self.shut_out(who, case, f"/cases/{case.id}/step", values)
        assert case.state == before, "a step by an outsider moved the case"
        response = self.post(who, case, "[data-testid=step-form]", **values)
        assert response.status_code == 302, error_text(response)
        assert case.state == to_state

    def refused_step(self, who: Who, case: Referral, to_state: str, reason: str = "") -> str:
        response = self.post(
            who, case, "[data-testid=step-form]", **{"step-to_state": to_state, "step-reason": reason}
        )
        assert response.status_code == 400
        return error_text(response)

    def take(self, who: Who, case: Referral) -> None:
        taken = self.post(who, case, "form[action$='/take']")
        assert taken.status_code == 302 and case.assigned_user_id == self.people[who].id

    def attend(self, who: Who, case: Referral, days: int, attendance: str = "attended", **extra: str) -> None:
        """Book a session ``days`` days ago on the case page and record how it went."""
        when = days_ago(days)
        booking = {
            "book-kind": "session",
            "book-day": [str(when.day), str(when.month), str(when.year)],
            "book-time": "10:00",
        }
        self.shut_out(who, case, f"/cases/{case.id}/contacts", booking)
        booked = self.post(who, case, "form[action$='/contacts']", **booking)
        assert booked.status_code == 302, error_text(booked)
        contact = self.session.scalars(
            select(CaseContact)
            .where(CaseContact.referral_id == case.id, CaseContact.attendance == "scheduled")
            .order_by(CaseContact.id.desc())
        ).first()
        assert contact is not None
        values = {
            f"c{contact.id}-attendance": attendance,
            **{f"c{contact.id}-{k}": v for k, v in extra.items()},
        }
        self.shut_out(who, case, f"/contacts/{contact.id}/attendance", values)
        recorded = self.post(who, case, f"form[action$='/contacts/{contact.id}/attendance']", **values)
        assert recorded.status_code == 302, error_text(recorded)

    def assess(self, who: Who, case: Referral, **needs: str) -> None:
        values = {f"need-{area}": level for area, level in needs.items()}
        saved = self.post(who, case, "form[action$='/needs']", **values)
        assert saved.status_code == 302, error_text(saved)

    def contract(self, who: Who, case: Referral, **groups: str) -> Contract:
        values = {f"group-{group}": value for group, value in groups.items()}
        self.shut_out(who, case, f"/cases/{case.id}/contract", values)
        drawn = self.post(who, case, "[data-testid=contract-form]", **values)
        assert drawn.status_code == 302, error_text(drawn)
        return self.session.scalars(select(Contract).where(Contract.referral_id == case.id)).one()

    def meet_conditions(self, who: Who, case: Referral, contract: Contract) -> None:
        for condition in contract.conditions:
            action = f"/conditions/{condition.id}/progress"
            self.shut_out(who, case, action, {"note": "Done", "met": "yes"})
            met = self.post(who, case, f"form[action$='{action}']", note="Done", met="yes")
            assert met.status_code == 302, error_text(met)
