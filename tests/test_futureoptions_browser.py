"""Future options in a real browser (Chromium + axe): the map with its list alternative, contextual
layers and keyboard use; the partner suggestions page; every other new page type; 320px phones."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from beacon.futureoptions import selectors, services
from beacon.imports.framework import run_import
from beacon.imports.models import RunStatus
from beacon.schools.models import School
from tests.conftest import (
    CAMDEN,
    assert_accessible,
    assert_no_horizontal_scroll,
    make_user,
    sign_in_by_session,
)
from tests.replay import load_once

ADMISSIONS = "clarelgibson-england-school-admissions"
BRECKNOCK = 100010


@pytest.fixture
def fo_browser_data(transactional_db: None, camden_register: None, data_dir: Path) -> None:
    def load() -> None:
        for source, rel, year in (
            ("csp_census", "kspdeveloper-csp-2018-19/england_census.csv", 2018),
            ("gias_roll_capacity", f"{ADMISSIONS}/fct_school.csv", 2021),
            ("admissions_offers", f"{ADMISSIONS}/fct_school_year.csv", None),
            ("school_coords", "calvinchankf-csp-2024-25/england_school_coords.csv", None),
        ):
            run = run_import(source, data_dir / rel, year=year, la_code=CAMDEN)
            assert run.status == RunStatus.SUCCEEDED, run.message

    load_once("futureoptions_browser:fo_browser_data", load)


def _in_scope() -> Any:
    return School.objects.filter(la_code=CAMDEN, is_open=True, is_state_funded=True)


def _schools_on_map(page: Any) -> int:
    return sum(len((u or "").split()) for u in page.locator(".beacon-fo-marker").evaluate_all(
        "els => els.map(e => e.getAttribute('data-urns'))"))  # fmt: skip


@pytest.mark.browser
def test_map_with_layers_keyboard_and_list_alternative(
    page: Any, phone_page: Any, live_server: Any, fo_browser_data: None
) -> None:
    make_user("fo-map", "director")
    sign_in_by_session(page, live_server, "fo-map")
    page.goto(f"{live_server.url}/future-options/map/")
    page.wait_for_selector("#fo-map[data-ready]")
    located = len(selectors.positions(_in_scope()))
    # 50 Camden schools have a GIAS 2022 grid reference; the 2024/25 school list places the special schools.
    assert located > 50
    assert page.locator("#fo-map").get_attribute("data-ready") == str(located)
    assert _schools_on_map(page) == located
    # The list alternative on the same page: every school in scope, with its flags.
    assert page.locator("#map-list tbody tr").count() == _in_scope().count()
    row = page.locator(f'#map-list tr[data-urn="{BRECKNOCK}"]')
    assert "Falling roll" in row.inner_text() and "Surplus places" in row.inner_text()
    assert_accessible(page)

    # Keyboard: a marker takes focus and Enter opens its details, focus moving to the school's link.
    # (Schools closer on screen than a 24px touch target share one marker that lists them.)
    marker = page.locator(f'.beacon-fo-marker[data-urns~="{BRECKNOCK}"]')
    assert marker.get_attribute("role") == "button"
    assert "Brecknock Primary School" in marker.get_attribute("aria-label")
    marker.focus()
    page.keyboard.press("Enter")
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    text = popup.inner_text()
    assert "Brecknock Primary School" in text and "338 pupils, 42% surplus places" in text
    assert "Flags: Falling roll, Surplus places" in text
    link = popup.get_by_role("link", name="Brecknock Primary School")
    assert link.get_attribute("href") == f"/future-options/schools/{BRECKNOCK}/"
    assert page.evaluate("() => document.activeElement.closest('.leaflet-popup') !== null")
    # Escape closes the popup (focus back on the marker); Space opens it again.
    page.keyboard.press("Escape")
    popup.wait_for(state="detached")
    assert page.evaluate("() => document.activeElement.classList.contains('beacon-fo-marker')")
    page.keyboard.press("Space")
    popup.wait_for()
    assert "Brecknock Primary School" in popup.inner_text()
    page.keyboard.press("Escape")
    popup.wait_for(state="detached")
    # The map's controls come before its markers in tab order.
    assert page.evaluate(
        """() => {
          const map = document.getElementById('fo-map');
          const focusable = [...map.querySelectorAll('a[href], input, [tabindex="0"], [role="button"]')];
          const firstMarker = focusable.findIndex(e => e.classList.contains('beacon-fo-marker'));
          const lastControl = focusable.map(e => !!e.closest('.leaflet-control-container')).lastIndexOf(true);
          return firstMarker > -1 && lastControl > -1 && lastControl < firstMarker;
        }"""
    )
    # Special schools have a layer of their own.
    specials = sum(1 for s in _in_scope().filter(phase="special") if s.pk in selectors.positions(_in_scope()))
    assert specials >= 3 and page.get_by_label(f"Special schools ({specials})").is_checked()

    # Contextual layers: turning off the primary layer (keyboard: focus + Space) removes its schools;
    # each flag is a ring layer of its own.
    primaries = _in_scope().filter(pk__in=selectors.positions(_in_scope()), phase="primary").count()
    rings = page.locator(".beacon-fo-ring").count()
    assert rings >= 1
    layer = page.get_by_label(f"Primary schools ({primaries})")
    layer.focus()
    page.keyboard.press("Space")
    assert _schools_on_map(page) == located - primaries
    falling = page.get_by_label("Flag: Falling roll", exact=False)
    assert falling.is_checked()

    # Filters apply to the map and the list alike.
    page.goto(f"{live_server.url}/future-options/map/?phase=secondary")
    page.wait_for_selector("#fo-map[data-ready]")
    secondaries = _in_scope().filter(phase="secondary")
    assert page.locator("#map-list tbody tr").count() == secondaries.count()
    assert _schools_on_map(page) == len(selectors.positions(secondaries)) >= 5

    sign_in_by_session(phone_page, live_server, "fo-map")
    phone_page.goto(f"{live_server.url}/future-options/map/")
    phone_page.wait_for_selector("#fo-map[data-ready]")
    # On a phone the layer list is collapsed behind its button (it covered half the map).
    layers = phone_page.locator(".leaflet-control-layers")
    assert "leaflet-control-layers-expanded" not in (layers.get_attribute("class") or "")
    assert phone_page.locator(".leaflet-control-layers-list").is_hidden()
    assert_no_horizontal_scroll(phone_page)
    assert_accessible(phone_page)


@pytest.mark.browser
def test_partner_suggestions_page(
    page: Any, phone_page: Any, live_server: Any, fo_browser_data: None
) -> None:
    make_user("fo-partners", "ceo")
    sign_in_by_session(page, live_server, "fo-partners")
    page.goto(f"{live_server.url}/future-options/schools/{BRECKNOCK}/")
    page.get_by_role("link", name="Possible partners").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() == "Possible partners"
    rows = page.locator("#suggestions tbody tr")
    assert rows.count() == 10
    first = rows.first.inner_text()
    assert "km away (straight line)" in first and "Same phase and kind (primary)" in first
    scores = [int(t) for t in page.locator("#suggestions tbody td:nth-child(2)").all_inner_texts()]
    assert scores == sorted(scores, reverse=True)
    page.get_by_text("How the score is made").click()
    assert page.get_by_text("falling in a straight line from the school to none at 4 km").is_visible()
    assert_accessible(page)

    sign_in_by_session(phone_page, live_server, "fo-partners")
    phone_page.goto(f"{live_server.url}/future-options/schools/{BRECKNOCK}/partners/")
    assert_no_horizontal_scroll(phone_page)
    assert_accessible(phone_page)


@pytest.mark.browser
def test_every_future_options_page_is_accessible_and_fits_a_phone(
    page: Any, phone_page: Any, live_server: Any, fo_browser_data: None
) -> None:
    user = make_user("fo-pages", "director")
    brecknock = School.objects.get(urn=BRECKNOCK)
    services.save_summary(brecknock, user=user, expected_version=0, place_planning="Reduce PAN to 45.")
    p = services.create_partnership(
        user=user, schools=_in_scope()[:2], name="North Federation", kind="federation"
    )
    services.record_interest(user=user, school=brecknock, headteacher="Ms B Head", interests=["mentoring"])
    paths = [
        "/future-options/",
        f"/future-options/schools/{BRECKNOCK}/",
        f"/future-options/schools/{BRECKNOCK}/summary/",
        "/future-options/partnerships/",
        "/future-options/partnerships/new/",
        f"/future-options/partnerships/{p.pk}/",
        "/future-options/system-leaders/",
        "/future-options/toolkit/",
    ]
    sign_in_by_session(page, live_server, "fo-pages")
    for path in paths:
        page.goto(f"{live_server.url}{path}")
        assert_accessible(page)
    # The summary form by keyboard, and its error-free save.
    page.goto(f"{live_server.url}/future-options/schools/{BRECKNOCK}/summary/")
    page.get_by_label("Leadership succession (optional)").focus()
    page.keyboard.type("Deputy ready for headship in 2026.")
    page.get_by_role("button", name="Save summary").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith(f"/future-options/schools/{BRECKNOCK}/")
    assert page.get_by_text("Deputy ready for headship in 2026.").is_visible()
    # An empty partnership form shows the GOV.UK error summary, and stays accessible.
    page.goto(f"{live_server.url}/future-options/partnerships/new/")
    with page.expect_navigation():
        page.get_by_role("button", name="Save partnership").click()
    assert page.get_by_role("heading", name="There is a problem").is_visible()
    assert_accessible(page)

    sign_in_by_session(phone_page, live_server, "fo-pages")
    for path in paths:
        phone_page.goto(f"{live_server.url}{path}")
        assert_no_horizontal_scroll(phone_page)
