"""Search → school page → LA overview in a real browser, on the real Camden demo data (`make run`)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import assert_accessible, assert_no_horizontal_scroll, make_user, sign_in_by_session

GOSPEL_OAK = 100025


def gospel_oak_ks2_rwm(data_dir: Path) -> dict[str, str]:
    """KS2 'Overall Meet Std' for Gospel Oak from the waiky8 CSP files, read independently of the importer.

    File year 2016 is 2015/16 (academic years are stored by their starting year). Verified by hand:
    54% (2015/16), 68% (2016/17), 72% (2017/18)."""
    out: dict[str, str] = {}
    for file_year in (2016, 2017, 2018):
        with (data_dir / "waiky8-schools-data" / f"ks2_perf_{file_year}.csv").open(newline="") as fh:
            for row in csv.DictReader(fh):
                if row["URN"] == str(GOSPEL_OAK):
                    start = file_year - 1
                    out[f"{start}/{(start + 1) % 100:02d}"] = (
                        f"{float(row['Overall Meet Std'].rstrip('%')):.1f}%"
                    )
    return out


@pytest.mark.browser
def test_search_to_school_page_on_real_camden_data(
    page: Any, live_server: Any, transactional_db: None, camden_demo: None, data_dir: Path
) -> None:
    make_user("dana", "director")
    sign_in_by_session(page, live_server, "dana", then="/")
    assert page.url.endswith("/schools/")
    assert_accessible(page)

    page.get_by_label("Search by school name, URN or postcode").fill("gospel")
    page.get_by_role("button", name="Search", exact=True).click()
    page.wait_for_load_state()
    assert "q=gospel" in page.url
    assert page.get_by_role("heading", name="1 school matches").is_visible()
    page.get_by_role("link", name="Gospel Oak Primary School").click()
    page.wait_for_load_state()
    assert page.url.endswith(f"/schools/{GOSPEL_OAK}/")
    assert page.get_by_role("heading", level=1).inner_text() == "Gospel Oak Primary School"

    # Real KS2 results: the table under the chart has the CSP figures, year by year.
    expected = gospel_oak_ks2_rwm(data_dir)
    assert expected == {"2015/16": "54.0%", "2016/17": "68.0%", "2017/18": "72.0%"}
    table = page.locator('table[data-measure="ks2_rwm_expected"]')
    for year, figure in expected.items():
        row = table.locator("tr", has=page.locator(f'th:text-is("{year}")'))
        assert row.locator("td").first.inner_text() == figure
    chart = page.locator('svg[aria-labelledby^="chart-ks2_rwm_expected"]')
    assert chart.get_attribute("role") == "img"
    desc = chart.locator("desc").text_content() or ""
    assert all(f"{y}: {v}" in desc for y, v in expected.items())

    # Real Ofsted report card (MI 2026 file, inspection 10428056, verified by hand): 13 January 2026,
    # safeguarding met, attendance and behaviour expected standard, the other areas strong standard.
    inspections = page.locator("#inspections").locator("xpath=..")
    text = inspections.inner_text()
    assert "Report card from the inspection that started on 13 January 2026" in text
    summary = inspections.locator(".govuk-summary-list").first
    assert (
        summary.locator(".govuk-summary-list__row", has_text="Safeguarding").locator("dd").inner_text()
        == "Met"
    )
    assert (
        summary.locator(".govuk-summary-list__row", has_text="Attendance and behaviour")
        .locator("dd")
        .inner_text()
        == "Expected standard"
    )
    assert summary.locator(".govuk-summary-list__row", has_text="Achievement").locator("dd").inner_text() == (
        "Strong standard"
    )
    assert_accessible(page)

    page.get_by_role("link", name="Local authority").first.click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() == "Camden"
    assert page.locator('tr[data-urn="100025"]').count() == 1
    assert_accessible(page)


@pytest.mark.browser
def test_school_pages_fit_a_phone(
    phone_page: Any, live_server: Any, transactional_db: None, camden_demo: None
) -> None:
    make_user("dana", "director")
    sign_in_by_session(phone_page, live_server, "dana")
    for path in ("/schools/", f"/schools/{GOSPEL_OAK}/", "/schools/local-authority/"):
        phone_page.goto(f"{live_server.url}{path}")
        assert_no_horizontal_scroll(phone_page)
        h1 = phone_page.get_by_role("heading", level=1)
        box = h1.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 320
        size = phone_page.evaluate(
            "() => parseFloat(getComputedStyle(document.querySelector('main .govuk-body, main .govuk-label')).fontSize)"
        )
        assert size >= 16  # body text stays at a readable size at 320px
        # Wide tables scroll inside their own focusable region, not the page
        for wrapper in phone_page.locator(".beacon-table-wrapper").all()[:5]:
            assert wrapper.get_attribute("tabindex") == "0" and wrapper.get_attribute("role") == "region"
    assert_accessible(phone_page)
