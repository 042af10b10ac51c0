"""One table of API operations that both serves requests and writes the OpenAPI document.

Each handler is declared with ``operation(...)``: its path, ability, request model and response
model. The same declaration validates the request body, checks access (``requires``), shapes the
response and describes the operation in ``/api/v1/openapi.json``, so the document cannot drift
from what the handlers do.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any, cast

from flask import Blueprint, Response, jsonify, request
from pydantic import BaseModel, ValidationError
from werkzeug.exceptions import NotFound

from divert.api import idempotency
from divert.api.errors import FieldProblem, Invalid, error_response, problems_from
from divert.auth import requires
from divert.auth.policy import roles_with
from divert.pathways.errors import OperationError, StaleEdit
from divert.rules.limits import MAX_ID

# How deeply a request body may nest. The bodies we take nest three levels; Python's parser gives
# up (RecursionError, a 500) somewhere near a thousand.
MAX_DEPTH = 100
ERROR_TEXT = {
    401: "No token, or the token is unknown, revoked or expired",
    403: "The token's user may not do this",
    404: "Not found, or not visible to the token's organisation",
    409: "The record changed since the version the client sent",
    422: "The request broke one or more rules; every field problem is listed",
}
_PARAM = re.compile(r"<(?:(\w+):)?(\w+)>")


@dataclass(frozen=True)
class Operation:
    rule: str
    method: str
    name: str
    summary: str
    ability: str
    roles: frozenset[str]
    response: type[BaseModel]
    status: int
    body: type[BaseModel] | None
    errors: tuple[int, ...]
    idempotent: bool
    description: str = ""
    path_params: tuple[str, ...] = field(default=())


OPERATIONS: list[Operation] = []


def _depth(value: Any) -> int:
    """How deeply lists and objects nest in a parsed body, counted without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            if deepest > MAX_DEPTH:
                return deepest
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, level + 1) for child in children)
    return deepest


def read_json() -> tuple[Any, tuple[Response, int] | None]:
    """The request's JSON body (None if it is not JSON), or the 400 for a body nested too deeply.

    The size is bounded already (``MAX_CONTENT_LENGTH``: reading a larger body is a 413).
    """
    if not request.is_json:
        return None, None
    too_deep = error_response(
        400,
        "too_deep",
        f"The JSON body nests more than {MAX_DEPTH} levels deep",
        [FieldProblem("body", f"Send a JSON object nested at most {MAX_DEPTH} levels deep")],
    )
    try:
        payload = json.loads(request.get_data(cache=True))
    except RecursionError:
        return None, too_deep
    except ValueError:  # not JSON, not UTF-8, or a number with more digits than Python reads
        return None, None
    if _depth(payload) > MAX_DEPTH:
        return None, too_deep
    return payload, None


Handler = Callable[..., BaseModel]


def operation(
    bp: Blueprint,
    rule: str,
    *,
    summary: str,
    ability: str,
    response: type[BaseModel],
    method: str = "GET",
    status: int = 200,
    body: type[BaseModel] | None = None,
    errors: tuple[int, ...] = (),
    idempotent: bool = False,
) -> Callable[[Handler], Handler]:
    params = tuple(name for _, name in _PARAM.findall(rule))

    def decorate(handler: Handler) -> Handler:
        @wraps(handler)
        def view(**kwargs: Any) -> tuple[Response, int]:
            if any(isinstance(v, int) and v > MAX_ID for v in kwargs.values()):
                raise NotFound()
            payload: Any = None
            if body is not None:
                payload, refused = read_json()
                if refused is not None:
                    return refused
                if not isinstance(payload, dict):
                    return error_response(
                        422, "invalid", "Send a JSON object", [FieldProblem("body", "Send a JSON object")]
                    )
            if idempotent:
                earlier = idempotency.replay(payload)
                if earlier is not None:
                    return earlier
            try:
                if body is not None:
                    kwargs["body"] = body.model_validate(payload)
                result = handler(**kwargs)
            except ValidationError as error:
                return error_response(422, "invalid", "Check the request", problems_from(error))
            except Invalid as error:
                return error_response(422, "invalid", "Check the request", error.problems)
            except StaleEdit as error:
                return error_response(409, "conflict", str(error))
            except OperationError as error:
                # A refusal that says what is missing has its own code (``consent_required``).
                return error_response(422, getattr(error, "api_code", "refused"), str(error))
            out = result.model_dump(mode="json")
            if idempotent:
                conflict = idempotency.remember(payload, status, out)
                if conflict is not None:
                    return conflict
            return jsonify(out), status

        guarded = requires(ability)(view)
        bp.add_url_rule(rule, endpoint=handler.__name__, view_func=guarded, methods=[method])
        OPERATIONS.append(
            Operation(
                rule=rule,
                method=method.lower(),
                name=handler.__name__,
                summary=summary,
                description=(handler.__doc__ or "").strip(),
                ability=ability,
                roles=roles_with(ability),
                response=response,
                status=status,
                body=body,
                errors=tuple(
                    sorted({401, 403, *errors, *((422,) if body else ()), *((404,) if params else ())})
                ),
                idempotent=idempotent,
                path_params=params,
            )
        )
        return cast(Handler, guarded)

    return decorate
