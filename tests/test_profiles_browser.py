"""The public school profile in a real browser: anonymous search → profile → detail pages on a 320px
phone (keyboard only, axe clean, no sideways scrolling), and the narrative from the headteacher's draft to
the director's publication to the public page."""

from __future__ import annotations

from typing import Any

import pytest

from beacon.profiles.selectors import GROUPS
from tests.conftest import assert_accessible, assert_no_horizontal_scroll, make_user, sign_in_by_session

ACLAND = 100053
GOSPEL_OAK = 100025
SWISS_COTTAGE = 100096  # Swiss Cottage School - Development & Research Centre


def check(page: Any) -> None:
    assert_accessible(page)
    assert_no_horizontal_scroll(page)


@pytest.mark.browser
def test_search_to_profile_on_a_phone_with_the_keyboard(
    phone_page: Any, live_server: Any, transactional_db: None, camden_demo: None
) -> None:
    page = phone_page
    # The home page sends anonymous visitors to sign in; the public profiles are linked from there.
    page.goto(f"{live_server.url}/")
    assert "/account/sign-in/" in page.url
    page.get_by_role("link", name="Find a school (public school profiles)").click()
    page.wait_for_load_state()
    assert page.url.endswith("/find-a-school/")
    assert page.get_by_role("heading", level=1).inner_text() == "Find a school in Camden"
    check(page)

    # Keyboard only: the skip link comes first, then the search form is filled and sent with Enter.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent").strip() == "Skip to main content"
    page.get_by_label("School name").focus()
    page.keyboard.type("burghley")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "name=burghley" in page.url
    assert page.get_by_role("heading", name="1 school found").is_visible()
    check(page)
    page.get_by_role("link", name="Acland Burghley School").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith(f"/find-a-school/{ACLAND}/")
    assert page.get_by_role("heading", level=1).inner_text() == "Acland Burghley School"
    # A comparison with its year, from the real 2024/25 KS4 results (CSP final, charleskk6: ATT8SCR 49.9).
    table = page.locator('table[data-measure="ks4_attainment8"]')
    assert "2024/25" in table.locator("caption").inner_text()
    assert table.locator("tbody tr").first.locator("td").inner_text() == "49.9"
    check(page)

    for group in GROUPS:
        page.get_by_role("link", name=group.title, exact=True).first.click()
        page.wait_for_load_state()
        assert page.url.endswith(f"/find-a-school/{ACLAND}/{group.slug}/")
        assert page.get_by_role("heading", level=1).inner_text() == group.title
        check(page)
        page.go_back()
        page.wait_for_load_state()

    # The longest name and the widest tables (KS2, KS4 and destinations of a special school) still fit.
    page.goto(f"{live_server.url}/find-a-school/{SWISS_COTTAGE}/achievement-and-destinations/")
    assert page.get_by_role("heading", level=1).inner_text() == "Achievement and destinations"
    check(page)

    # Search by area and phase on the phone too.
    page.goto(f"{live_server.url}/find-a-school/")
    page.get_by_label("Postcode or area").fill("NW5")
    page.get_by_label("Secondary").check()
    page.get_by_role("button", name="Search").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="5 schools found").is_visible()
    check(page)


@pytest.mark.browser
def test_headteacher_submits_director_publishes_public_sees_it(
    browser: Any, page: Any, phone_page: Any, live_server: Any, transactional_db: None, camden_register: None
) -> None:
    make_user("head", "headteacher", schools=(GOSPEL_OAK,))
    make_user("dana", "director")
    words = "Gospel Oak is a friendly school where every child is known."

    # Nothing yet on the public page.
    phone_page.goto(f"{live_server.url}/find-a-school/{GOSPEL_OAK}/")
    assert "has not yet written its introduction" in phone_page.content()

    # The headteacher writes and submits.
    sign_in_by_session(page, live_server, "head", then="/")
    page.get_by_role("link", name="School profiles").click()
    page.wait_for_load_state()
    check(page)
    page.get_by_role("link", name="Edit the profile of Gospel Oak Primary School").click()
    page.wait_for_load_state()
    check(page)
    page.get_by_label("About our school").fill(words)
    page.get_by_label("Pupil support (optional)").fill("Our inclusion team works with every family.")
    page.get_by_role("button", name="Submit for review").click()
    page.wait_for_load_state()
    assert page.locator("#narrative-status").inner_text() == "Submitted for review"
    check(page)

    # Submitted is not published.
    phone_page.reload()
    assert words not in phone_page.content()

    # The director reviews and publishes (in a browser of their own).
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    director = context.new_page()
    try:
        sign_in_by_session(director, live_server, "dana")
        director.goto(f"{live_server.url}/find-a-school/manage/")
        check(director)
        director.get_by_role("link", name="Review Gospel Oak Primary School").click()
        director.wait_for_load_state()
        assert words in director.locator('[data-section="atmosphere"]').inner_text()
        check(director)
        director.get_by_role("button", name="Publish").click()
        director.wait_for_load_state()
        assert director.locator("#narrative-status").inner_text() == "Published"
        assert (
            "Published"
            in director.get_by_role("heading", name="History")
            .locator("xpath=following-sibling::ul[1]")
            .inner_text()
        )
    finally:
        context.close()

    # The public sees it, on a phone, without signing in.
    phone_page.reload()
    assert phone_page.locator('[data-narrative="atmosphere"]').inner_text().strip() == words
    check(phone_page)
    phone_page.get_by_role("link", name="Pupil support", exact=True).click()
    phone_page.wait_for_load_state()
    assert (
        "Our inclusion team works with every family."
        in phone_page.locator('[data-narrative="support"]').inner_text()
    )
    check(phone_page)
