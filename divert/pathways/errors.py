"""Typed errors that operations raise and views turn into GOV.UK messages or JSON."""

from __future__ import annotations

from divert.rules.limits import text_problem


class OperationError(Exception):
    """A business rule refused the operation; the message is shown to the user."""

    code = "invalid"


def check_text(label: str, value: str | None, limit: int) -> None:
    """Refuse free text over its limit (``divert.rules.limits``) or holding a character no column stores.

    Operations check what they store, so a value that reached them without a form or a schema (a
    raw page field, a command) is bounded all the same.
    """
    problem = text_problem(label, value, limit)
    if problem:
        raise OperationError(problem)


class StaleEdit(OperationError):
    """Someone else changed the record since it was loaded."""

    code = "conflict"

    def __init__(self, what: str = "record", changed: str = "") -> None:
        # ``changed``: what the other change did, when the caller can say ("The case is now ...").
        message = (
            f"Someone else changed this {what} while you were editing it. "
            "Check the latest details below and make your change again."
        )
        super().__init__(f"{message} {changed}" if changed else message)
