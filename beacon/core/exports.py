"""Table exports: CSV and XLSX from the same headers + rows a page shows (`?format=csv|xlsx`).

Cells that a spreadsheet would run as a formula (text starting with = + - @, or a tab / carriage return)
are prefixed with a single quote (OWASP CSV injection guidance), in both formats. Numbers stay numbers.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable, Sequence
from typing import Any

from django.http import HttpRequest, HttpResponse

FORMATS = ("csv", "xlsx")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def requested_format(request: HttpRequest) -> str | None:
    """'csv' or 'xlsx' when the request asks for an export (?format=...), else None."""
    fmt = (request.GET.get("format") or "").lower()
    return fmt if fmt in FORMATS else None


def safe_cell(value: Any) -> Any:
    """A cell value safe to open in a spreadsheet: formula-like text gets a leading quote."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, int | float | dt.date | dt.datetime):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def _filename(name: str, fmt: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-") or "export"
    return f"{slug}.{fmt}"


def export_response(
    fmt: str, filename: str, headers: Sequence[str], rows: Iterable[Sequence[Any]], *, sheet_title: str = ""
) -> HttpResponse:
    """An attachment response with `headers` then `rows`, as CSV (UTF-8 with BOM, for Excel) or XLSX."""
    if fmt not in FORMATS:
        raise ValueError(f"Unknown export format {fmt!r}")
    safe_rows = [[safe_cell(c) for c in row] for row in rows]
    safe_headers = [safe_cell(h) for h in headers]
    if fmt == "csv":
        buf = io.StringIO()
        buf.write("\ufeff")
        writer = csv.writer(buf, lineterminator="\r\n")
        writer.writerow(safe_headers)
        for row in safe_rows:
            writer.writerow(
                ["" if c is None else (c.isoformat() if isinstance(c, dt.date) else c) for c in row]
            )
        body: bytes = buf.getvalue().encode("utf-8")
    else:
        from openpyxl import Workbook
        from openpyxl.styles import Font

        wb = Workbook(write_only=False)
        ws = wb.active
        assert ws is not None
        ws.title = (re.sub(r"[\[\]:*?/\\]", " ", sheet_title or "Export").strip() or "Export")[:31]
        ws.append(safe_headers)
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for row in safe_rows:
            ws.append(row)
        # openpyxl would store a leading '=' as a formula: our quoted text is stored as a plain string.
        for row_cells in ws.iter_rows(min_row=1):
            for cell in row_cells:
                if isinstance(cell.value, str):
                    cell.data_type = "s"
        ws.freeze_panes = "A2"
        out = io.BytesIO()
        wb.save(out)
        body = out.getvalue()
    response = HttpResponse(body, content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{_filename(filename, fmt)}"'
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def export_links(request: HttpRequest) -> dict[str, str]:
    """{'csv': '?...&format=csv', 'xlsx': ...}: the current query (filters kept) with the format set."""
    links = {}
    for fmt in FORMATS:
        params = request.GET.copy()
        params.pop("page", None)
        params["format"] = fmt
        links[fmt] = "?" + params.urlencode()
    return links
