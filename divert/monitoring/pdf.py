"""The printable monitoring report for a scrutiny panel, as PDF (WeasyPrint).

WeasyPrint lays out HTML and CSS itself (with Pango), so the report is the same HTML as the page's
tables, with its own print stylesheet inline. Nothing is fetched: the charts are inline SVG and any
other URL is refused, so rendering never calls back into the app or out to the network.
"""

from __future__ import annotations

from typing import Any, NoReturn

# WeasyPrint ships no type information.
from weasyprint import HTML  # type: ignore[import-untyped]


def _refuse(url: str, *args: Any, **kwargs: Any) -> NoReturn:
    raise ValueError(f"The monitoring report fetches nothing; refused {url}")


def render_pdf(html: str) -> bytes:
    pdf: bytes = HTML(string=html, url_fetcher=_refuse).write_pdf()
    return pdf
