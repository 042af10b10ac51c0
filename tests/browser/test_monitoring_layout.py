"""The monitoring page laid out in a real browser: nothing wider than a 375 px phone, charts never
over their tables on a desktop, and every wide table scrollable inside its own box."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import BrowserContext, Page

from .pages import DESKTOP, PHONE, LiveServer, open_signed_in

NewContext = Callable[..., BrowserContext]
PAGE = "/monitoring?period=quarter&point=offered"


def _page_overflow(page: Page) -> int:
    """How many pixels the page is wider than the window (0: no sideways scrolling)."""
    return int(
        page.evaluate(
            "() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
            " - document.documentElement.clientWidth"
        )
    )


def _outside_the_window(page: Page) -> list[str]:
    """Charts and table boxes whose right edge is beyond the window."""
    return list(
        page.evaluate(
            """() => [...document.querySelectorAll('svg.divert-chart, .divert-scroll')]
                .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)
                .map(e => e.getAttribute('aria-labelledby') || e.getAttribute('aria-label'))"""
        )
    )


def test_the_monitoring_page_fits_a_375px_phone(new_context: NewContext, live_server: LiveServer) -> None:
    for role in ("analyst", "supervisor"):
        page = open_signed_in(new_context, live_server.users[role], viewport=PHONE)
        page.goto(PAGE)
        assert page.locator("svg.divert-chart").count() >= 3, "the charts are drawn"
        assert page.locator(".divert-scroll table").count() >= 9, "every table is in its own box"
        assert _page_overflow(page) == 0, f"the page scrolls sideways on a phone, as {role}"
        assert _outside_the_window(page) == [], role
        # A wide table is reached by scrolling its own box, from the keyboard too.
        box = page.locator(".divert-scroll").filter(has=page.locator("[data-testid='groups-offered']"))
        assert box.get_attribute("tabindex") == "0"
        assert box.evaluate("e => e.scrollWidth > e.clientWidth"), "the group table is wider than a phone"
        box.evaluate("e => { e.scrollLeft = e.scrollWidth; }")
        assert box.evaluate("e => e.scrollLeft") > 0
        page.context.close()


def test_charts_do_not_overlap_the_tables_on_a_desktop(
    new_context: NewContext, live_server: LiveServer
) -> None:
    page = open_signed_in(new_context, live_server.users["supervisor"], viewport=DESKTOP)
    page.goto(PAGE)
    assert _page_overflow(page) == 0
    assert _outside_the_window(page) == []
    overlaps = page.evaluate(
        """() => {
            const boxes = [...document.querySelectorAll('svg.divert-chart, .divert-scroll')]
                .map(e => [e.getAttribute('aria-labelledby') || e.getAttribute('aria-label'),
                           e.getBoundingClientRect()]);
            const hit = [];
            for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
                const [a, p] = boxes[i], [b, q] = boxes[j];
                const across = p.left < q.right - 0.5 && q.left < p.right - 0.5;
                if (across && p.top < q.bottom - 0.5 && q.top < p.bottom - 0.5) hit.push(a + ' / ' + b);
            }
            return hit;
        }"""
    )
    assert overlaps == []
    # The funnel chart sits within the main column, above its table.
    chart = page.locator("svg[aria-labelledby='chart-funnel-title']").bounding_box()
    table = page.locator("[data-testid='funnel']").bounding_box()
    assert chart is not None and table is not None and chart["y"] + chart["height"] <= table["y"]
