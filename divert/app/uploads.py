"""How large a request body may be: small everywhere, whole files on the pages that take them.

Werkzeug refuses a body over ``max_content_length`` (413) the moment anything reads the form,
and the CSRF check reads it before any view or blueprint hook runs; so the limit is decided on
the request itself, from the view it is routed to.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Request, current_app

F = TypeVar("F", bound=Callable[..., Any])
TAKES_FILES = "takes_files"


def takes_files(view: F) -> F:
    """Mark a view that receives whole files (an import): its file may be up to IMPORT_MAX_MB."""
    setattr(view, TAKES_FILES, True)
    return view


class DivertRequest(Request):
    @property
    def max_content_length(self) -> int | None:
        if self._max_content_length is not None:  # set on this request by code, as Flask allows
            return self._max_content_length
        view = current_app.view_functions.get(self.endpoint) if self.endpoint else None
        if getattr(view, TAKES_FILES, False):
            # Room for the file itself (the view checks its size) sent base64-encoded in JSON,
            # which is a third larger, or in a multipart form.
            return largest_file() * 4 // 3 + 1024 * 1024
        limit = current_app.config.get("MAX_CONTENT_LENGTH")
        return None if limit is None else int(limit)

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value


def largest_file() -> int:
    """The largest file, in bytes, an import page or the API takes."""
    return int(current_app.config["IMPORT_MAX_MB"]) * 1024 * 1024
