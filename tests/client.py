"""A test client that checks every HTML page it receives, as a person's browser would need.

Every page must have a title and unique element ids (duplicated ids break labels and error
links). Forms are submitted with their CSRF token, taken from the page like a browser does.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from bs4 import BeautifulSoup
from flask.testing import FlaskClient
from werkzeug.test import TestResponse


def parse(response: TestResponse) -> BeautifulSoup:
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def check_page(response: TestResponse) -> None:
    if response.mimetype != "text/html":
        return
    page = parse(response)
    title = page.title.get_text(strip=True) if page.title else ""
    assert title, f"page {response.request.path} has no title"
    ids = Counter(tag["id"] for tag in page.find_all(id=True))
    duplicated = [i for i, n in ids.items() if n > 1]
    assert not duplicated, f"page {response.request.path} repeats ids {duplicated}"


def form_fields(form: Any) -> dict[str, Any]:
    """The values a browser would send for a form's text and hidden inputs (lists when repeated)."""
    values: dict[str, Any] = {}
    for field in form.select("input"):
        name = field.get("name")
        if not name or field.get("type") in {"radio", "checkbox", "submit"}:
            continue
        values.setdefault(name, []).append(field.get("value", ""))
    return {k: v[0] if len(v) == 1 else v for k, v in values.items()}


class PageClient(FlaskClient):
    def open(self, *args: Any, **kwargs: Any) -> TestResponse:
        response = super().open(*args, **kwargs)
        check_page(response)
        return response

    def csrf_token(self, path: str = "/home") -> str:
        page = parse(self.get(path))
        field = page.find("input", attrs={"name": "csrf_token"})
        assert field is not None, f"no CSRF token on {path}"
        return str(field["value"])

    def submit(
        self, path: str, data: dict[str, Any], token_from: str | None = None, **kwargs: Any
    ) -> TestResponse:
        """POST a form with the CSRF token a browser would have from the page."""
        token = self.csrf_token(token_from or path)
        return self.post(path, data={**data, "csrf_token": token}, **kwargs)

    def sign_in(self, email: str, password: str) -> TestResponse:
        return self.submit("/sign-in", {"email": email, "password": password})
