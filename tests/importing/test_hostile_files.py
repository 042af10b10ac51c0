"""Hostile import files: each is refused with a clear message, cheaply, before it is loaded.

The outside tester's files: a 0.3 MB workbook whose one shared string unpacks to 300 MB, a small
workbook of millions of rows, a billion-laughs workbook, plus the CSV equivalents (over-long values,
NUL characters) and files over the upload page's limits.
"""

from __future__ import annotations

import io
import time
import tracemalloc
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from divert.pathways.importing import COLUMNS, read_file
from divert.pathways.importing.parse import ENTITIES, MAX_COLUMNS, MAX_SHARED_STRINGS
from divert.pathways.programmes import sync_definitions

from ..client import parse
from .helpers import csv_to_xlsx, row, to_csv

MB = 1024 * 1024


def _workbook(parts: dict[str, Iterator[bytes] | bytes]) -> bytes:
    """A real workbook from openpyxl with some parts replaced, each written in chunks."""
    base = csv_to_xlsx(to_csv([row()]))
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(base)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        names = set(source.namelist()) | set(parts)
        for name in sorted(names):
            content = parts.get(name)
            if content is None:
                target.writestr(name, source.read(name))
                continue
            with target.open(name, "w") as part:
                for chunk in [content] if isinstance(content, bytes) else content:
                    part.write(chunk)
    return out.getvalue()


def _inline_row(number: int, values: list[str]) -> bytes:
    cells = "".join(
        f'<c r="{_column(i)}{number}" t="inlineStr"><is><t>{v}</t></is></c>' for i, v in enumerate(values)
    )
    return f'<row r="{number}">{cells}</row>'.encode()


def _column(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _sheet(header: list[str], rows: int, declared: bool = True) -> Iterator[bytes]:
    """A sheet of ``rows`` rows after the header; ``declared``: with its size, as Excel writes it."""
    dimension = f'<dimension ref="A1:{_column(len(header) - 1)}{rows + 1}"/>'.encode() if declared else b""
    yield (
        b'<?xml version="1.0" encoding="UTF-8"?>'
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        + dimension
        + b"<sheetData>"
    )
    yield _inline_row(1, header)
    batch = []
    for number in range(2, rows + 2):
        batch.append(_inline_row(number, [f"R-{number}"]))
        if len(batch) == 10_000:
            yield b"".join(batch)
            batch = []
    yield b"".join(batch) + b"</sheetData></worksheet>"


def _measured(data: bytes, name: str, **kwargs: Any) -> tuple[list[str], float, int]:
    tracemalloc.start()
    started = time.perf_counter()
    try:
        sheet = read_file(data, name, **kwargs)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return [str(p) for p in sheet.problems], time.perf_counter() - started, peak


def test_a_huge_shared_string_is_refused_before_it_is_unpacked() -> None:
    chunk = b"A" * MB
    size = MAX_SHARED_STRINGS // MB + 8

    def strings() -> Iterator[bytes]:
        yield b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1">'
        yield b"<si><t>"
        for _ in range(size):
            yield chunk
        yield b"</t></si></sst>"

    data = _workbook({"xl/sharedStrings.xml": strings()})
    assert len(data) < 2 * MB  # a small upload that unpacks to 40 MB of text
    problems, seconds, peak = _measured(data, "bomb.xlsx")
    assert problems == ["File: The workbook's text is larger than 32 MB; no import needs values that long"]
    assert peak < 8 * MB  # the string was never unpacked
    assert seconds < 2


def test_a_part_that_unpacks_far_beyond_its_packed_size_is_refused() -> None:
    padding = (b" " * MB for _ in range(60))
    data = _workbook({"xl/worksheets/sheet1.xml": padding})
    problems, _, peak = _measured(data, "ratio.xlsx")
    assert problems == [
        "File: The workbook unpacks to more than the import can read (xl/worksheets/sheet1.xml)"
    ]
    assert peak < 8 * MB


def test_a_workbook_of_many_rows_is_refused_at_the_limit_without_reading_the_rest() -> None:
    data = _workbook({"xl/worksheets/sheet1.xml": _sheet(list(COLUMNS), 40_000)})
    started = time.perf_counter()
    sheet = read_file(data, "rows.xlsx", max_rows=5_000)
    seconds = time.perf_counter() - started
    assert [str(p) for p in sheet.problems] == [
        "File: The file has more than 5,000 rows; split it into files of 5,000 rows or fewer"
    ]
    everything = time.perf_counter()
    assert read_file(data, "rows.xlsx").problems == []  # the same file, read whole under the command's limit
    assert seconds < (time.perf_counter() - everything) / 2  # stopped at the limit, not read to the end


@pytest.mark.parametrize("declared", [True, False])
def test_a_sheet_larger_than_its_row_limit_allows_is_refused_before_it_is_read(declared: bool) -> None:
    # Without a declared size openpyxl scans the whole sheet first; the size check comes before it.
    data = _workbook({"xl/worksheets/sheet1.xml": _sheet(list(COLUMNS), 200_000, declared)})
    assert len(data) < 2 * MB
    problems, seconds, peak = _measured(data, "rows.xlsx", max_rows=1_000)
    assert problems == [
        "File: The workbook holds more data than 1,000 rows would; split it into files of 1,000 rows or fewer"
    ]
    assert seconds < 1 and peak < 8 * MB


def test_a_billion_laughs_workbook_is_refused() -> None:
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        + b"".join(
            f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'.encode()
            for i in range(1, 10)
        )
        + b']><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        + b'<row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row></sheetData></worksheet>'
    )
    data = _workbook({"xl/worksheets/sheet1.xml": laughs})
    problems, seconds, peak = _measured(data, "laughs.xlsx")
    assert problems == [f"File: {ENTITIES}"]
    assert peak < 16 * MB and seconds < 2


def test_too_many_columns_are_refused() -> None:
    header = list(COLUMNS) + [f"extra{i}" for i in range(MAX_COLUMNS)]
    data = _workbook({"xl/worksheets/sheet1.xml": _sheet(header, 1)})
    problems, _, _ = _measured(data, "wide.xlsx")
    assert problems == [f"File: The file has more than {MAX_COLUMNS} columns; see seeds/import/README.md"]


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_over_long_values_and_nul_characters_are_row_problems(kind: str) -> None:
    data = to_csv(
        [row(encounter_ref="T-1", surname="S" * 2001), row(encounter_ref="T-2", forenames="Al\x00ex")]
    )
    if kind == "xlsx":
        data = _workbook(
            {
                "xl/worksheets/sheet1.xml": iter(
                    [
                        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>',
                        _inline_row(1, list(COLUMNS)),
                        _inline_row(2, ["T-1", "", "", "", "", "S" * 2001]),
                        b"</sheetData></worksheet>",
                    ]
                )
            }
        )
        expected = ["Row 2, surname: The value must be 2,000 characters or fewer"]
    else:
        expected = [
            "Row 2, surname: The value must be 2,000 characters or fewer",
            "Row 3, forenames: The value must not contain NUL characters",
        ]
    problems, _, _ = _measured(data, f"long.{kind}")
    assert problems == expected


def test_a_csv_value_beyond_the_csv_reader_is_a_file_problem() -> None:
    data = to_csv([row(surname="S" * 200_000)])
    problems, _, _ = _measured(data, "huge.csv")
    assert problems == [
        "File: The file could not be read as CSV: a value is far too long or the file is not CSV"
    ]


# --- The upload page --------------------------------------------------------------------------


def _upload(client: Any, data: bytes, name: str) -> Any:
    # Encoded here, in memory: the test client spools a body over 500 KB to a temporary file it never
    # closes, which the warnings-as-errors setting turns into a failure of a later test.
    fields = {
        "csrf_token": client.csrf_token("/admin/import"),
        "file": FileStorage(io.BytesIO(data), filename=name, content_type="application/octet-stream"),
    }
    boundary, body = encode_multipart(fields)
    return client.post("/admin/import", data=body, content_type=f"multipart/form-data; boundary={boundary}")


def _error(response: Any) -> str:
    summary = parse(response).select_one("[data-testid=error-summary]")
    return summary.get_text(" ", strip=True) if summary else ""


def test_more_than_2000_rows_go_to_the_background_import(
    client: Any, signed_in: Any, db_session: Session
) -> None:
    """Small in bytes but long in rows: not written within the request, but queued for the worker."""
    sync_definitions(db_session)
    signed_in("admin")
    data = to_csv([row(encounter_ref=f"T-{n}") for n in range(2_001)])
    assert len(data) < MB
    response = _upload(client, data, "many.csv")
    assert response.status_code == 302
    assert "/admin/import/jobs/" in response.headers["Location"]


def test_a_file_over_1_mb_goes_to_the_background_import(
    client: Any, signed_in: Any, db_session: Session
) -> None:
    signed_in("admin")
    data = to_csv([row(encounter_ref=f"T-{n}", not_offered_reason="x" * 400) for n in range(3_000)])
    assert len(data) > MB
    response = _upload(client, data, "big.csv")
    assert response.status_code == 302
    assert "/admin/import/jobs/" in response.headers["Location"]


@pytest.mark.parametrize("case", ["shared-strings", "laughs"])
def test_the_page_answers_hostile_workbooks_with_a_message_not_a_500(
    client: Any, signed_in: Any, db_session: Session, case: str
) -> None:
    signed_in("admin")
    if case == "laughs":
        data = _workbook(
            {
                "xl/workbook.xml": b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">'
                b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
                b'<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">&b;</workbook>'
            }
        )
    else:
        data = _workbook({"xl/sharedStrings.xml": (b"A" * MB for _ in range(40))})
    response = _upload(client, data, f"{case}.xlsx")
    assert response.status_code == 400
    table = parse(response).select_one("[data-testid=problems]")
    assert table is not None and "workbook" in table.get_text()


def test_a_huge_part_under_another_name_is_refused_too() -> None:
    # The relationships may name the shared strings anything; no part but a sheet may be large.
    data = _workbook({"xl/strings-by-another-name.xml": (b"A" * MB for _ in range(40))})
    problems, _, peak = _measured(data, "renamed.xlsx")
    assert problems == ["File: The workbook's text is larger than 32 MB; no import needs values that long"]
    assert peak < 8 * MB
