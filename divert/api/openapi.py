"""The OpenAPI 3.1 document, assembled from the operation table the handlers are declared in.

Served to signed-in API users rather than publicly: it names no personal data, but the service's
only public pages are sign-in and health, and partners fetch it with the token they already hold.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from typing import Any

from flask import Response, jsonify
from pydantic.json_schema import models_json_schema

from divert.api import bp
from divert.api.idempotency import HEADER, MAX_KEY
from divert.api.spec import ERROR_TEXT, OPERATIONS, Operation
from divert.auth import requires
from divert.rules.limits import MAX_ID

REF = "#/components/schemas/{model}"
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "fields": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["field", "message"],
                        "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
                    },
                },
            },
        }
    },
}


def _path(rule: str) -> str:
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule)


def _operation(op: Operation, refs: Mapping[Any, Any]) -> dict[str, Any]:
    responses: dict[str, Any] = {
        str(op.status): {
            "description": op.summary,
            "content": {"application/json": {"schema": refs[(op.response, "serialization")]}},
        }
    }
    for status in op.errors:
        responses[str(status)] = {
            "description": ERROR_TEXT[status],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
    parameters: list[dict[str, Any]] = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
        }
        for name in op.path_params
    ]
    if op.idempotent:
        parameters.append(
            {
                "name": HEADER,
                "in": "header",
                "required": False,
                "description": "A retry with the same key gets the first response, not a second record.",
                "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY, "pattern": "^[!-~]+$"},
            }
        )
    document: dict[str, Any] = {
        "operationId": op.name,
        "summary": op.summary,
        "description": f"{op.description}\n\nRoles: {', '.join(sorted(op.roles))}.".strip(),
        "parameters": parameters,
        "responses": responses,
    }
    if op.body is not None:
        document["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": refs[(op.body, "validation")]}},
        }
    return document


@cache
def document() -> dict[str, Any]:
    models = {(op.response, "serialization") for op in OPERATIONS}
    models |= {(op.body, "validation") for op in OPERATIONS if op.body is not None}
    ordered = sorted(models, key=lambda pair: (pair[0].__name__, pair[1]))
    refs, definitions = models_json_schema(ordered, ref_template=REF)  # type: ignore[arg-type]
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        paths.setdefault(_path(bp.url_prefix + op.rule if bp.url_prefix else op.rule), {})[op.method] = (
            _operation(op, refs)
        )
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "divert API",
            "version": "1",
            "description": "Diversion case management for partner systems. Send a bearer token.",
        },
        "paths": paths,
        "components": {
            "schemas": {**definitions.get("$defs", {}), "Error": ERROR_SCHEMA},
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
    }


@bp.route("/openapi.json")
@requires("use_service")
def openapi_json() -> Response:
    return jsonify(document())
