"""The API's error bodies: one shape for every refusal, with every field problem listed."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Response, jsonify
from pydantic import ValidationError

from divert.rules.codes import phrase


@dataclass(frozen=True)
class FieldProblem:
    field: str
    message: str


class Invalid(Exception):
    """The request body broke one or more field rules; all of them are reported at once."""

    def __init__(self, problems: list[FieldProblem]) -> None:
        super().__init__("; ".join(f"{p.field}: {p.message}" for p in problems))
        self.problems = problems


def _field(location: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in location) or "body"


def _message(error: dict[str, object]) -> str:
    # pydantic's wording is technical; the commonest case gets the GOV.UK "Enter ..." phrasing.
    location: tuple[int | str, ...] = error["loc"]  # type: ignore[assignment]  # pydantic's error shape
    if error["type"] == "missing":
        return f"Enter {phrase(str(location[-1]))}" if location else "Enter the request body"
    if error["type"] == "extra_forbidden":
        return "This field is not part of the request; remove it"
    cause = (error.get("ctx") or {}).get("error")  # type: ignore[attr-defined]  # a dict when present
    if isinstance(cause, ValueError):
        # Our own validators already speak GOV.UK; pydantic would prefix "Value error, ".
        return str(cause)
    return str(error["msg"])


def problems_from(error: ValidationError) -> list[FieldProblem]:
    return [FieldProblem(_field(e["loc"]), _message(dict(e))) for e in error.errors()]


def error_response(
    status: int, code: str, message: str, problems: list[FieldProblem] | None = None
) -> tuple[Response, int]:
    body: dict[str, object] = {"code": code, "message": message}
    if problems is not None:
        body["fields"] = [{"field": p.field, "message": p.message} for p in problems]
    return jsonify(error=body), status
