"""The targets dashboard, a target's page, editing and the group gaps in a real browser (axe WCAG 2.2 AA),
on the real LAIT rows for Camden."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import (
    CAMDEN,
    assert_accessible,
    assert_no_horizontal_scroll,
    make_user,
    sign_in_by_session,
)


def _load(data_dir: Path) -> None:
    from beacon.imports.framework import run_import
    from beacon.imports.models import RunStatus
    from beacon.reporting.models import SystemTarget
    from beacon.reporting.seeds import seed_targets

    seed_targets(SystemTarget)  # a transactional test starts from flushed tables
    for source, rel, year in (
        ("lait_benchmarks", "dfe-lait/bds_long_0.parquet", None),
        ("statistical_neighbours", "dfe-lait/sn_may_2025.xlsx", 2025),
        ("lait_group_breakdowns", "dfe-lait/bds_long_0.parquet", None),
    ):
        run = run_import(source, data_dir / rel, year=year, la_code=CAMDEN)
        assert run.status == RunStatus.SUCCEEDED, run.message


@pytest.mark.browser
def test_targets_dashboard_target_and_gaps(
    page: Any, phone_page: Any, live_server: Any, transactional_db: None, data_dir: Path
) -> None:
    _load(data_dir)
    make_user("dana", "director")
    sign_in_by_session(page, live_server, "dana", then="/")
    page.get_by_role("link", name="Targets").first.click()
    page.wait_for_load_state()
    assert page.url.endswith("/reporting/")
    assert page.get_by_role("heading", level=1).inner_text() == "System targets"
    row = page.locator('tr[data-ref="CLC-04"]')
    assert "8 of 32" in row.inner_text() and row.locator("[data-status]").inner_text() == "Met"
    assert page.locator('tr[data-ref="CLC-06"] [data-status]').inner_text() == "Not met"
    assert page.locator('tr[data-ref="CLC-22"] [data-status]').inner_text() == "No data"
    assert_accessible(page)

    page.get_by_role("link", name="CLC-06: Attainment 8 above the London average").click()
    page.wait_for_load_state()
    chart = page.locator('svg[aria-labelledby^="target-chart"]')
    assert chart.get_attribute("role") == "img"
    latest = page.locator('#target-years tr[data-year="2024"]')
    assert latest.locator("td").first.inner_text() == "46.9"
    assert_accessible(page)

    page.get_by_role("link", name="Edit this target").click()
    page.wait_for_load_state()
    assert_accessible(page)
    page.get_by_label("Reason for the change").fill("Checked against the commission")
    page.get_by_role("button", name="Save changes").click()
    page.wait_for_load_state()
    assert page.url.endswith("/reporting/targets/CLC-06/")
    assert "Checked against the commission" in page.locator("#target-history").inner_text()

    page.goto(f"{live_server.url}/reporting/gaps/")
    assert page.locator("[data-trend]").count() >= 8
    assert page.locator('table[data-gap="GAP-03"] tr[data-year="2024"] td').nth(2).inner_text() == "17.0"
    assert_accessible(page)

    sign_in_by_session(phone_page, live_server, "dana")
    phone_page.goto(f"{live_server.url}/reporting/")
    assert_no_horizontal_scroll(phone_page)
