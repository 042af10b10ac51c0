"""The Equality Impact Assessment annex of a simulation: what a scrutiny panel reads.

The change proposed (the readable difference between the version in force and the draft), who it
affects by protected characteristic, the method and its limits. The page, the PDF and the XLSX are
made from the one context built here, so they say the same thing.
"""

from __future__ import annotations

from collections import defaultdict
from typing import IO, Any

# openpyxl ships no type information (types-openpyxl would add it).
from openpyxl import Workbook  # type: ignore[import-untyped]
from openpyxl.styles import Font  # type: ignore[import-untyped]

from divert.models import Simulation
from divert.models.programme import compiled
from divert.monitoring.points import DIMENSIONS
from divert.rules.diff import compare_definitions

POINT_NAMES = {"eligible": "Found eligible"}

METHOD = (
    "Every stored rules decision of the programme for encounters in the period (the latest one per "
    "encounter, before any supervisor's override) was decided again from the facts stored beside it, "
    "twice: under the version in force today and under the draft. The two outcomes are compared per "
    "encounter and counted by group, at the eligibility point (base: every encounter decided) and at "
    "each route (base: the encounters found eligible under that version). The Relative Rate Index "
    "(RRI) is a group's rate divided by the reference group's. The interval for the change in "
    "disparity is a 95% interval for the draft's RRI divided by the current RRI, from 2,000 paired "
    "bootstrap resamples of each group's encounters (the same people are decided under both "
    "versions, so the two RRIs are not independent); an interval that excludes 1 is a change beyond "
    "chance. Small numbers are suppressed as every published figure is: counts from 1 to the "
    "threshold less one are hidden, and further counts are hidden until no hidden count can be worked "
    "out, or narrowed below the threshold, from the rest."
)

LIMITATIONS = (
    "The replay sees only the facts recorded at the time. Where a version asks something older "
    "records never captured, those encounters are counted as 'cannot tell' and left out of both "
    "sides, never guessed.",
    "Only the rules' decision is replayed. What people decided afterwards (a supervisor's override, "
    "an offer, whether the person accepted, engagement and completion) is held as it was and not "
    "modelled, so the simulation says who would be found eligible and routed where, not who would "
    "complete.",
    "Encounters are counted, not people: a person met twice is counted twice.",
    "The figures are those of the organisation that ran the simulation (its monitoring reach).",
)


def point_label(point: str, route_names: dict[str, str]) -> str:
    if point.startswith("route:"):
        route = point.removeprefix("route:")
        return f"Routed: {route_names.get(route, route)}"
    return POINT_NAMES.get(point, point)


def annex_context(simulation: Simulation) -> dict[str, Any]:
    draft = compiled(simulation.draft_version)
    baseline = compiled(simulation.baseline_version) if simulation.baseline_version else None
    route_names = {r.id: r.name for r in (*(baseline.routes if baseline else ()), *draft.routes)}
    # A rule named with its condition under the draft (or the version in force, if the draft drops it).
    rule_text: dict[str, str] = {}
    for definition in (baseline, draft):
        if definition is not None:
            for rule in definition.eligibility:
                rule_text[rule.id] = f"{rule.id} ({rule.condition.text})"
            for route_rule in definition.routing:
                rule_text[route_rule.id] = f"{route_rule.id} ({route_rule.condition.text})"
    result = simulation.result or {}
    by_point: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in result.get("rows", []):
        by_point[row["point"]].append(row)
    tables = [
        {"point": point, "label": point_label(point, route_names), "rows": rows}
        for point, rows in by_point.items()
    ]
    return {
        "programme": draft.name,
        "draft": draft,
        "baseline": baseline,
        "changes": compare_definitions(baseline, draft) if baseline else (),
        "dimension_label": DIMENSIONS[simulation.dimension].label,
        "reference": result.get("reference"),
        "result": result,
        "tables": tables,
        "changed_by": [(rule_text.get(rule, rule), n) for rule, n in result.get("changed_by", [])],
        "method": METHOD,
        "limitations": LIMITATIONS,
        "simulation": simulation,
    }


COLUMNS = (
    ("group", "Group", None),
    ("base_current", "Base now", "0"),
    ("current_count", "Reached now", "0"),
    ("rate_current", "Rate now", "0.0%"),
    ("rri_current", "RRI now", "0.00"),
    ("base_draft", "Base under the draft", "0"),
    ("draft_count", "Reached under the draft", "0"),
    ("rate_draft", "Rate under the draft", "0.0%"),
    ("rri_draft", "RRI under the draft", "0.00"),
    ("change_low", "Change in RRI, 95% interval from", "0.00"),
    ("change_high", "Change in RRI, 95% interval to", "0.00"),
    ("changed_in", "Brought in", "0"),
    ("changed_out", "Taken out", "0"),
    ("cannot_tell", "Cannot tell", "0"),
)


def write_annex_xlsx(context: dict[str, Any], out: IO[bytes]) -> None:
    """The annex as a workbook: a contents sheet, the summary, the change, one sheet per point, the
    method. Numbers are numbers (rates formatted as percentages); a hidden count is an empty cell
    with "suppressed" beside the table's note."""
    book = Workbook()
    contents = book.active
    assert contents is not None
    contents.title = "Contents"
    bold = Font(bold=True)
    simulation: Simulation = context["simulation"]
    result = context["result"]
    contents.append([f"Equality Impact Assessment annex: {context['programme']}"])
    contents["A1"].font = bold
    contents.append([])
    contents.append(["Sheet", "What it holds"])
    sheets: list[tuple[str, str]] = [("Summary", "Who ran the simulation, on which data, and what changed")]
    sheets.append(("Change proposed", "The difference between the version in force and the draft"))
    for n, table in enumerate(context["tables"], 1):
        sheets.append((f"Point {n}", f"{table['label']}, by {context['dimension_label'].lower()}"))
    sheets.append(("Method", "How the figures were worked out, and their limitations"))
    for name, what in sheets:
        contents.append([name, what])

    summary = book.create_sheet("Summary")
    draft, baseline = context["draft"], context["baseline"]
    for label, value in (
        ("Programme", context["programme"]),
        ("Draft", f"version {draft.version}, from {draft.effective_from:%d %B %Y}"),
        ("Compared with", f"version {baseline.version} (in force)" if baseline else "none"),
        ("Breakdown", context["dimension_label"]),
        ("Reference group", context["reference"] or "none"),
        ("Encounters from", simulation.date_from or "every stored encounter"),
        ("Encounters until", simulation.date_to or "every stored encounter"),
        ("Run", simulation.created_at.strftime("%d %B %Y %H:%M UTC")),
        ("Decisions replayed", result.get("decisions")),
        ("Decisions that would change", result.get("changed")),
        ("Cannot tell", result.get("cannot_tell")),
        ("Suppression threshold", simulation.threshold),
    ):
        summary.append([label, "suppressed" if value is None else value])
    summary.append([])
    summary.append(["Rules that changed decisions", "Decisions"])
    for rule, n in context["changed_by"]:
        summary.append([rule, n])

    change = book.create_sheet("Change proposed")
    change.append(["Section", "Item", "Change", "Field", "Before", "After"])
    for section in context["changes"]:
        for item in section.items:
            if item.changes:
                for field in item.changes:
                    change.append(
                        [section.title, item.item, item.kind, field.field, field.before, field.after]
                    )
            else:
                for name, value in item.fields or (("", ""),):
                    change.append([section.title, item.item, item.kind, name, "", value])

    for n, table in enumerate(context["tables"], 1):
        sheet = book.create_sheet(f"Point {n}")
        sheet.append([table["label"]])
        sheet["A1"].font = bold
        sheet.append([label for _, label, _ in COLUMNS])
        for row in table["rows"]:
            sheet.append([row.get(key) for key, _, _ in COLUMNS])
            for col, (_, _, fmt) in enumerate(COLUMNS, 1):
                if fmt:
                    sheet.cell(row=sheet.max_row, column=col).number_format = fmt
        sheet.append([])
        sheet.append(
            ["An empty cell is suppressed (a small number, or one that would give a small number back)."]
        )

    method = book.create_sheet("Method")
    method.append(["Method"])
    method.append([context["method"]])
    method.append([])
    method.append(["Limitations"])
    for line in context["limitations"]:
        method.append([line])
    book.save(out)
