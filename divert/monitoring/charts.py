"""Charts for the monitoring pages, rendered on the server to SVG by Vega-Lite (vl-convert).

No JavaScript runs in the browser and nothing is fetched from a CDN: the SVG is inline in the page.
Vega writes presentation attributes (``fill``, ``stroke``), never ``style=``, so the content security
policy (``style-src 'self'``) holds. Each chart is ``role="img"`` named by its ``<title>`` and
described by its ``<desc>``; the table beside it is the accessible alternative and carries every
figure. A value a chart cannot draw is never drawn as 0 nor silently dropped: a suppressed bar is a
marked gap ("[c] suppressed", as in the tables), a bar with no rate says "no rate", and a line
breaks at a suppressed period with a "[c]" marker there naming the group, so a reader sees that the
group is there and hidden.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import vl_convert
from markupsafe import Markup, escape

BLUE = "#1d70b8"  # GOV.UK blue
GAP = "#505a5f"  # GOV.UK secondary text
FONT = "arial, sans-serif"
WIDTH = 480


SUPPRESSED = "[c] suppressed"
NO_VALUE = "no rate"


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    value: float | None  # None: a marked gap (suppressed or not computable); the table says why
    suppressed: bool = False

    @property
    def gap(self) -> str:
        return SUPPRESSED if self.suppressed else NO_VALUE


@dataclass(frozen=True, slots=True)
class LinePoint:
    series: str
    period: str
    value: float | None
    suppressed: bool = False


def _config() -> dict[str, Any]:
    return {
        "font": FONT,
        "view": {"stroke": None},
        "axis": {"labelFontSize": 12, "titleFontSize": 12, "labelLimit": 200},
        "legend": {"labelFontSize": 12, "titleFontSize": 12},
        "background": "white",
    }


def bar_chart(chart_id: str, title: str, bars: Sequence[Bar], *, axis: str, percent: bool) -> Markup:
    """Horizontal bars, one per label, in the order given; a missing value is a labelled gap."""
    values = [{"label": b.label, "value": b.value, "gap": b.gap} for b in bars]
    y = {"field": "label", "type": "nominal", "sort": [b.label for b in bars], "title": None}
    x = {
        "field": "value",
        "type": "quantitative",
        "title": axis,
        "axis": {"format": ".0%" if percent else "~s"},
        **({"scale": {"domain": [0, 1]}} if percent else {}),
    }
    spec = {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "width": WIDTH,
        "height": {"step": 22},
        "data": {"values": values},
        "encoding": {"y": y},
        "layer": [
            {
                "transform": [{"filter": "datum.value != null"}],
                "mark": {"type": "bar", "color": BLUE},
                "encoding": {"x": x},
            },
            {
                # The gap is marked where the bar would start, in the tables' words.
                "transform": [{"filter": "datum.value == null"}],
                "mark": {"type": "text", "align": "left", "dx": 3, "color": GAP},
                "encoding": {"x": {"datum": 0, "type": "quantitative"}, "text": {"field": "gap"}},
            },
        ],
        "config": _config(),
    }
    described = ", ".join(f"{b.label}: {_words(b, percent)}" for b in bars)
    return _render(chart_id, title, f"{axis}. {described}.", spec)


def line_chart(chart_id: str, title: str, points: Sequence[LinePoint], *, axis: str) -> Markup:
    """A rate per series over periods (a line per group), periods in the order given.

    A missing value breaks its line (never joined across, never drawn as 0); a suppressed one is
    marked "White [c]" (its group, in its colour) at the foot of its period.
    """
    periods = list(dict.fromkeys(p.period for p in points))
    series = list(dict.fromkeys(p.series for p in points))
    colour = {"field": "s", "type": "nominal", "sort": series, "title": "Group"}
    x = {"field": "p", "type": "ordinal", "sort": periods, "title": "Period"}
    spec = {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "width": WIDTH,
        "height": 240,
        "data": {
            "values": [
                {
                    "s": p.series,
                    "p": p.period,
                    "v": p.value,
                    "c": p.suppressed,
                    "n": series.index(p.series),
                    "t": f"{p.series} [c]",
                }
                for p in points
            ]
        },
        # Shared by both layers, so the markers take their group's colour and one legend is drawn.
        "encoding": {
            "x": x,
            "color": colour,
            # Vega-Lite merges a colour and a shape legend only in a single-layer chart; the markers'
            # layer would split them, so the colour legend alone names the groups.
            "shape": {"field": "s", "type": "nominal", "sort": series, "legend": None},
        },
        "layer": [
            {
                "mark": {"type": "line", "point": True, "invalid": "break-paths-show-domains"},
                "encoding": {
                    "y": {"field": "v", "type": "quantitative", "title": axis, "axis": {"format": ".0%"}},
                },
            },
            {
                "transform": [{"filter": "datum.c"}],
                "mark": {"type": "text", "baseline": "bottom", "fontSize": 11},
                "encoding": {
                    "y": {"datum": 0, "type": "quantitative"},
                    # One above another when several groups are hidden in the same period.
                    "yOffset": {
                        "field": "n",
                        "type": "quantitative",
                        "scale": {"domain": [0, len(series)], "range": [0, -14 * len(series)]},
                    },
                    "text": {"field": "t"},
                },
            },
        ],
        "config": _config(),
    }
    hidden = sum(1 for p in points if p.suppressed)
    described = (
        f"{axis} for {len(series)} groups over {len(periods)} periods"
        + (f"; {hidden} values suppressed, marked [c]" if hidden else "")
        + "; the table below gives each value."
    )
    return _render(chart_id, title, described, spec)


def _words(bar: Bar, percent: bool) -> str:
    if bar.value is None:
        return bar.gap
    return f"{bar.value:.1%}" if percent else f"{bar.value:g}"


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
