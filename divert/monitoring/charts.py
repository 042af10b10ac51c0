"""Charts for the monitoring pages, rendered on the server to SVG by Vega-Lite (vl-convert).

No JavaScript runs in the browser and nothing is fetched from a CDN: the SVG is inline in the page.
Vega writes presentation attributes (``fill``, ``stroke``), never ``style=``, so the content security
policy (``style-src 'self'``) holds. Each chart is ``role="img"`` named by its ``<title>`` and
described by its ``<desc>``; the table beside it is the accessible alternative and carries every
figure, including those a chart cannot draw (suppressed or not computable values are left out of the
chart, not drawn as 0).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import vl_convert
from markupsafe import Markup, escape

BLUE = "#1d70b8"  # GOV.UK blue
FONT = "arial, sans-serif"
WIDTH = 480


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    value: float | None  # None: not drawn (suppressed or not computable); the table says why


@dataclass(frozen=True, slots=True)
class LinePoint:
    series: str
    period: str
    value: float | None


def _config() -> dict[str, Any]:
    return {
        "font": FONT,
        "view": {"stroke": None},
        "axis": {"labelFontSize": 12, "titleFontSize": 12, "labelLimit": 200},
        "legend": {"labelFontSize": 12, "titleFontSize": 12},
        "background": "white",
    }


def bar_chart(chart_id: str, title: str, bars: Sequence[Bar], *, axis: str, percent: bool) -> Markup:
    """Horizontal bars, one per label, in the order given."""
    values = [{"label": b.label, "value": b.value} for b in bars if b.value is not None]
    spec = {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "width": WIDTH,
        "height": {"step": 22},
        "data": {"values": values},
        "mark": {"type": "bar", "color": BLUE},
        "encoding": {
            "y": {"field": "label", "type": "nominal", "sort": [b.label for b in bars], "title": None},
            "x": {
                "field": "value",
                "type": "quantitative",
                "title": axis,
                "axis": {"format": ".0%" if percent else "~s"},
                **({"scale": {"domain": [0, 1]}} if percent else {}),
            },
        },
        "config": _config(),
    }
    described = ", ".join(f"{b.label}: {_words(b.value, percent)}" for b in bars)
    return _render(chart_id, title, f"{axis}. {described}.", spec)


def line_chart(chart_id: str, title: str, points: Sequence[LinePoint], *, axis: str) -> Markup:
    """A rate per series over periods (a line per group), periods in the order given."""
    periods = list(dict.fromkeys(p.period for p in points))
    series = list(dict.fromkeys(p.series for p in points))
    spec = {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "width": WIDTH,
        "height": 240,
        "data": {
            "values": [{"s": p.series, "p": p.period, "v": p.value} for p in points if p.value is not None]
        },
        "mark": {"type": "line", "point": True},
        "encoding": {
            "x": {"field": "p", "type": "ordinal", "sort": periods, "title": "Period"},
            "y": {"field": "v", "type": "quantitative", "title": axis, "axis": {"format": ".0%"}},
            "color": {"field": "s", "type": "nominal", "sort": series, "title": "Group"},
            "shape": {"field": "s", "type": "nominal", "sort": series, "title": "Group"},
        },
        "config": _config(),
    }
    described = (
        f"{axis} for {len(series)} groups over {len(periods)} periods; the table below gives each value."
    )
    return _render(chart_id, title, described, spec)


def _words(value: float | None, percent: bool) -> str:
    if value is None:
        return "not shown"
    return f"{value:.1%}" if percent else f"{value:g}"


_ROOT = re.compile(r"<svg\b([^>]*)>")


def _render(chart_id: str, title: str, description: str, spec: dict[str, Any]) -> Markup:
    svg = vl_convert.vegalite_to_svg(spec)
    title_id, desc_id = f"{chart_id}-title", f"{chart_id}-desc"
    match = _ROOT.search(svg)
    if match is None:  # pragma: no cover - Vega always writes one root element
        raise RuntimeError("vl-convert returned no <svg> element")
    # The whole chart is one image to assistive technology: its parts are not read out one by one.
    attributes = re.sub(r'\s(?:class|role|aria-[a-z]+)="[^"]*"', "", match.group(1))
    head = (
        f'<svg{attributes} class="divert-chart" role="img" focusable="false" '
        f'aria-labelledby="{title_id}" aria-describedby="{desc_id}">'
        f'<title id="{title_id}">{escape(title)}</title><desc id="{desc_id}">{escape(description)}</desc>'
    )
    body = svg[match.end() :]
    body = re.sub(r'\s(?:role|aria-roledescription|aria-label)="[^"]*"', "", body)
    return Markup(head + body)  # noqa: S704 - Vega escapes the data it draws; title and desc are escaped above
