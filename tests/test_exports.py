"""CSV / XLSX exports (beacon.core.exports) and their use on the school list and the risk register:
the same filters and the same scoping as the page, formula injection neutralised. SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from django.test import Client, RequestFactory
from openpyxl import load_workbook

from beacon.core import exports
from tests.conftest import CAMDEN, make_user

NASTY = ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "plain", "a=b"]


def read_csv(response: Any) -> list[list[str]]:
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def read_xlsx(response: Any) -> list[tuple[Any, ...]]:
    assert response["Content-Type"] == exports.CONTENT_TYPES["xlsx"]
    ws = load_workbook(io.BytesIO(response.content)).active
    assert ws is not None
    return list(ws.iter_rows(values_only=True))


def test_safe_cell_neutralises_formulas_and_keeps_numbers() -> None:
    assert [exports.safe_cell(v) for v in NASTY] == [
        '\'=HYPERLINK("http://x","y")',
        "'+1+1",
        "'-2+3",
        "'@SUM(A1)",
        "'\tcmd",
        "plain",
        "a=b",
    ]
    assert exports.safe_cell(-2.5) == -2.5 and exports.safe_cell(7) == 7
    assert exports.safe_cell(None) == "" and exports.safe_cell(True) == "Yes"


def test_csv_and_xlsx_round_trip_without_formulas() -> None:
    headers = ["Name", "Value"]
    rows = [[n, i] for i, n in enumerate(NASTY)]
    r = exports.export_response("csv", "test export", headers, rows)
    assert r["Content-Disposition"] == 'attachment; filename="test-export.csv"'
    got = read_csv(r)
    assert got[0] == headers and got[1] == ['\'=HYPERLINK("http://x","y")', "0"]
    assert [row[0][0] for row in got[1:6]] == ["'"] * 5

    r = exports.export_response("xlsx", "test", headers, rows, sheet_title="A/B: test")
    wb = load_workbook(io.BytesIO(r.content))
    ws = wb.active
    assert ws is not None and ws.title == "A B  test"
    assert ws["A2"].value == '\'=HYPERLINK("http://x","y")' and ws["A2"].data_type == "s"
    assert ws["B3"].value == 1 and ws["A1"].font.bold
    assert not any(c.data_type == "f" for row in ws.iter_rows() for c in row)


def test_export_links_keep_filters() -> None:
    request = RequestFactory().get("/schools/", {"phase": ["primary", "secondary"], "page": "3", "q": "x"})
    links = exports.export_links(request)
    assert links["csv"] == "?phase=primary&phase=secondary&q=x&format=csv"
    assert links["xlsx"].endswith("format=xlsx") and "page=" not in links["xlsx"]
    assert exports.requested_format(RequestFactory().get("/", {"format": "XLSX"})) == "xlsx"
    assert exports.requested_format(RequestFactory().get("/", {"format": "pdf"})) is None


def test_school_list_export_honours_filters_and_scoping(camden_register: None) -> None:
    from beacon.schools.models import School

    client = Client()
    client.force_login(make_user("dir", "director"))
    page = client.get("/schools/", {"phase": "secondary"}).content.decode()
    count = int(re.search(r"(\d+) schools? match", page).group(1))  # type: ignore[union-attr]
    expected = set(
        School.objects.filter(
            la_code=CAMDEN, phase="secondary", is_open=True, is_state_funded=True
        ).values_list("urn", flat=True)
    )
    assert count == len(expected) > 5
    assert "format=csv" in page and "format=xlsx" in page
    rows = read_csv(client.get("/schools/", {"phase": "secondary", "format": "csv"}))
    assert rows[0][:3] == ["URN", "School", "Phase"]
    assert {int(r[0]) for r in rows[1:]} == expected  # every match, not just the first page
    assert {r[2] for r in rows[1:]} == {"Secondary"}
    acland = next(r for r in rows[1:] if r[0] == "100053")
    assert acland[1] == "Acland Burghley School"

    xrows = read_xlsx(client.get("/schools/", {"phase": "secondary", "format": "xlsx"}))
    assert {r[0] for r in xrows[1:]} == expected

    adviser = make_user("adv", "adviser", schools=(100008, 100053))
    client.force_login(adviser)
    rows = read_csv(client.get("/schools/", {"format": "csv"}))
    assert sorted(int(r[0]) for r in rows[1:]) == [100008, 100053]


def test_risk_register_export_honours_filters_and_scoping(camden_register: None) -> None:
    from beacon.assessments.services import create_term

    create_term("autumn", 2025)  # terms are created by staff; the register reads (decision 0018)
    client = Client()
    client.force_login(make_user("dir", "director"))
    page = client.get("/risk/", {"phase": "primary"}).content.decode()
    urns = {int(u) for u in re.findall(r'<tr class="govuk-table__row" data-urn="(\d+)"', page)}
    assert len(urns) > 10 and "format=xlsx" in page
    rows = read_csv(client.get("/risk/", {"phase": "primary", "format": "csv"}))
    assert rows[0][:4] == ["URN", "School", "Phase", "Risk score"]
    assert {int(r[0]) for r in rows[1:]} == urns
    assert {r[2] for r in rows[1:]} == {"Primary"}
    xrows = read_xlsx(client.get("/risk/", {"phase": "primary", "format": "xlsx"}))
    assert {r[0] for r in xrows[1:]} == urns

    client.force_login(make_user("adv", "adviser", schools=(100008,)))
    rows = read_csv(client.get("/risk/", {"format": "csv"}))
    assert [int(r[0]) for r in rows[1:]] == [100008]

    client.force_login(make_user("head", "headteacher", schools=(100008,)))
    assert client.get("/risk/", {"format": "csv"}).status_code == 403
