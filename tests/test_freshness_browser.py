"""The data page (/imports/data/) in a real browser: reached from the navigation, axe-clean, on a phone too."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from beacon.imports.framework import run_import
from beacon.imports.models import RunStatus
from tests.conftest import (
    CAMDEN,
    assert_accessible,
    assert_no_horizontal_scroll,
    make_user,
    sign_in_by_session,
)


@pytest.mark.browser
def test_data_page_in_the_browser(
    page: Any,
    phone_page: Any,
    live_server: Any,
    transactional_db: None,
    camden_register: None,
    data_dir: Path,
) -> None:
    run = run_import("ks2_results", data_dir / "waiky8-schools-data/ks2_perf_2018.csv", la_code=CAMDEN)
    assert run.status == RunStatus.SUCCEEDED, run.message
    make_user("dana", "director")
    sign_in_by_session(page, live_server, "dana", then="/")
    page.get_by_role("link", name="Data held").click()
    page.wait_for_load_state()
    assert page.url.endswith("/imports/data/")
    assert page.get_by_role("heading", level=1).inner_text() == "Data held and how current it is"
    row = page.locator('tr[data-source="ks2_results"]')
    assert row.locator("td[data-period]").inner_text().startswith("2017/18")
    assert "ks2_perf_2018.csv" in row.inner_text()
    census = page.locator('tr[data-source="school_census"] td[data-period]').inner_text()
    assert census.startswith("2022/23")
    assert page.locator('tr[data-source="csp_absence"] td[data-period]').inner_text() == "Not imported"
    assert_accessible(page)

    sign_in_by_session(phone_page, live_server, "dana")
    phone_page.goto(f"{live_server.url}/imports/data/")
    assert_accessible(phone_page)
    assert_no_horizontal_scroll(phone_page)
