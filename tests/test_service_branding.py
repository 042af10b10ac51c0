"""A force's own service: its name, organisation and logo from settings; no crown, royal arms or
Open Government Licence mark anywhere; the MIT licence stated plainly."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from .client import parse

GOVERNMENT_MARKS = (
    "govuk-logo",
    "<svg",  # the only SVG GOV.UK's header and footer inline are the crown and the OGL mark
    "govuk-header__logotype",  # the crown SVG
    "govuk-footer__licence-logo",
    "govuk-footer__copyright-logo",
    "Crown copyright",
    "Open Government Licence",
    "govuk-icon",
    "favicon",
)


@pytest.fixture
def branded(app: Flask, tmp_path: Path) -> Iterator[Path]:
    logo = tmp_path / "force.svg"
    logo.write_text('<svg xmlns="http://www.w3.org/2000/svg"><title>Force badge</title></svg>')
    before = {key: app.config[key] for key in ("SERVICE_NAME", "SERVICE_ORGANISATION", "SERVICE_LOGO")}
    app.config.update(
        SERVICE_NAME="Diversion casework", SERVICE_ORGANISATION="Thames Valley Police", SERVICE_LOGO=str(logo)
    )
    yield logo
    app.config.update(before)


def test_pages_carry_no_government_marks_and_state_the_licence(client: Any, signed_in: Any) -> None:
    signed_in("officer")
    for url in ("/sign-in", "/home"):
        response = client.get(url, follow_redirects=True)
        html = response.get_data(as_text=True)
        for mark in GOVERNMENT_MARKS:
            assert mark not in html, (url, mark)
        footer = parse(response).find(attrs={"data-testid": "service-footer"})
        assert footer is not None and "released under the MIT licence" in footer.get_text()


def test_the_name_organisation_and_logo_come_from_settings(client: Any, branded: Path) -> None:
    page = parse(client.get("/sign-in"))
    assert page.title is not None and page.title.get_text().endswith("– Diversion casework")
    header = page.find(attrs={"data-testid": "service-header"})
    assert header is not None and "Thames Valley Police" in header.get_text()
    assert "Thames Valley Police" in page.find(attrs={"data-testid": "service-footer"}).get_text()
    with client.get("/logo") as logo:
        assert logo.status_code == 200 and b"Force badge" in logo.get_data()


def test_the_default_logo_is_divert_s_plain_mark(client: Any) -> None:
    with client.get("/logo") as logo:
        assert logo.status_code == 200 and logo.mimetype == "image/svg+xml"
        assert b"No crown" in logo.get_data()
